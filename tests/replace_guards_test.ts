/**
 * Three guards of a run that replaces a library file, for both job types that do (transcode and
 * apply): the temp directory must have room for the source before any output is written, the temp
 * output must still be at its name before it is verified, and the file's queue mark goes when its
 * job ends. Review r17 found that removing any of the three failed no test.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeClip } from "./helpers/clips.ts";
import { ToolCounter } from "./helpers/tool_counter.ts";
import { FILM, makeTrackClip, ORIGINAL_POLICY } from "./helpers/track_clips.ts";
import type { TempHome } from "./helpers/vpo.ts";
import {
  digest,
  findPartials,
  listJobs,
  mountTmpfs,
  namesIn,
  onlyJob,
  unmount,
  waitUntil,
  withMediaHome,
  WorkerProcess,
} from "./helpers/worker.ts";

/** A job type: the clip it is queued for and the policy that queues it as that type. */
interface Kind {
  type: "transcode" | "apply";
  clip: (path: string, seconds: number) => Promise<string>;
  policy: string;
}

const KINDS: Kind[] = [
  {
    type: "transcode",
    clip: (path, seconds) => makeClip(path, { size: "320x180", duration: seconds }),
    policy: "schema_version: 1\ntranscode:\n  target_video_codec: hevc\n  preset: ultrafast\n" +
      "  keep_larger_output: true\n",
  },
  {
    type: "apply",
    clip: (path, seconds) => makeTrackClip(path, { ...FILM, duration: seconds }),
    policy: ORIGINAL_POLICY,
  },
];

/** Queues `source` under the kind's policy; checks that it was queued as that type. */
async function queue(home: TempHome, kind: Kind, source: string): Promise<void> {
  const policy = join(home.dir, `${kind.type}.yaml`);
  await Deno.writeTextFile(policy, kind.policy);
  const out = await home.run(["transcode", "--policy", policy, source]);
  assert.equal(out.code, 0, out.stdout + out.stderr);
  assert.ok(
    (await listJobs(home)).some((job) => job.type === kind.type && job.file === source),
    `${source} queued as ${kind.type}:\n${out.stdout}`,
  );
}

/** The queue marks in the home: one per file version that has a job. */
const marks = (home: TempHome) => namesIn(join(home.vpoHome, "library", "queued"));

Deno.test("a temp directory without room for the source fails the job before anything is written", async (t) => {
  for (const kind of KINDS) {
    await t.step(kind.type, async () => {
      await withMediaHome(undefined, async (home, media) => {
        const tmpfs = join(home.dir, "tmpfs");
        await Deno.mkdir(tmpfs);
        await mountTmpfs(tmpfs, "64k");
        try {
          await home.writeConfig(`jobs:\n  temp_directory: ${tmpfs}\n`);
          const source = await kind.clip(join(media, "film.mkv"), 3);
          const before = await digest(source);
          assert.ok(before.size > 64 * 1024, `the source (${before.size} B) must not fit`);
          await queue(home, kind, source);
          const tools = await ToolCounter.create(home.dir);
          const run = await home.run(["jobs", "start"], { env: tools.env });
          assert.equal(run.code, 3, run.stdout + run.stderr);
          const job = await onlyJob(home);
          assert.equal(job.status, "failed");
          assert.match(job.error ?? "", new RegExp(`^not enough free space in ${tmpfs}: `));
          // Said before the copy or encode began: ffmpeg never ran.
          assert.equal((await tools.take()).ffmpeg, 0);
          assert.deepEqual(await digest(source), before);
          assert.deepEqual(namesIn(tmpfs), []);
          assert.deepEqual(marks(home), [], "the failed job's mark is gone");
        } finally {
          await unmount(tmpfs);
        }
      });
    });
  }
});

Deno.test("a temp output renamed away and replaced while written fails its job before it is verified", async (t) => {
  for (const kind of KINDS) {
    await t.step(kind.type, async () => {
      await withMediaHome(undefined, async (home, media) => {
        const source = await kind.clip(join(media, "film.mkv"), 4);
        const before = await digest(source);
        await queue(home, kind, source);
        // ffmpeg reads in real time (-re), so the output is written for seconds.
        const tools = await ToolCounter.create(home.dir, { ffmpegPrefix: ["-re"] });
        const worker = WorkerProcess.start(home, [], tools.env);
        let end;
        let partial = "";
        try {
          partial = await waitUntil("the temp output", () => findPartials(media)[0]);
          // Someone who may write the folder moves the output aside and puts a file of theirs at
          // its name, hoping it is taken for the output.
          await Deno.rename(partial, `${partial}.aside`);
          await Deno.writeTextFile(partial, "planted\n");
          end = await worker.exit();
        } finally {
          await worker.dispose();
        }
        assert.equal(end.code, 3, end.stdout + end.stderr);
        const job = await onlyJob(home);
        assert.equal(job.status, "failed");
        const said = `the temp output ${partial} was replaced by another file; original kept`;
        assert.ok(job.error?.startsWith(said), `${job.error} does not start with: ${said}`);
        assert.deepEqual(await digest(source), before);
        assert.equal(await Deno.readTextFile(partial), "planted\n", "the planted file is theirs");
        assert.deepEqual(marks(home), [], "the failed job's mark is gone");
      });
    });
  }
});

Deno.test("the queue marks of jobs that complete are gone", async () => {
  await withMediaHome(undefined, async (home, media) => {
    for (const kind of KINDS) {
      await queue(home, kind, await kind.clip(join(media, `${kind.type}.mkv`), 1));
    }
    assert.equal(marks(home).length, 2, "a mark per queued file");
    const run = await home.run(["jobs", "start"]);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.deepEqual((await listJobs(home)).map((job) => job.status), ["completed", "completed"]);
    assert.deepEqual(marks(home), []);
  });
});
