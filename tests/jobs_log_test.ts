/**
 * `vpo jobs log`: prints the job's ffmpeg log; `--follow` runs alongside a real worker and ends by
 * itself when the job ends.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeClip } from "./helpers/clips.ts";
import {
  findPartials,
  longClip,
  onlyJob,
  slowPolicy,
  waitUntil,
  withMediaHome,
  WorkerProcess,
} from "./helpers/worker.ts";
import { CLI, type TempHome } from "./helpers/vpo.ts";
import { CLI_PERMISSIONS } from "../scripts/permissions.ts";
import { VpoHome } from "../src/queue/layout.ts";
import { withTempDir } from "./helpers/temp.ts";
import { LOG_MAX_BYTES, runFfmpeg } from "../src/media/ffmpeg_runner.ts";

function spawnVpo(home: TempHome, args: string[]) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", ...CLI_PERMISSIONS, CLI, ...args],
    env: { VPO_HOME: home.vpoHome, NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let exited = false;
  const output = child.output().then((out) => {
    exited = true;
    const dec = new TextDecoder();
    return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
  });
  return {
    output,
    get exited() {
      return exited;
    },
    kill: () => {
      try {
        child.kill("SIGKILL");
      } catch {
        // Already exited.
      }
    },
  };
}

Deno.test("jobs log --follow tails a running encode and ends when the job ends", async () => {
  await withMediaHome(undefined, async (home, media) => {
    const source = await longClip(join(media, "long.mkv"), { duration: 10, audio: [] });
    const policy = await slowPolicy(home.dir);
    assert.equal((await home.run(["transcode", "--policy", policy, source])).code, 0);
    const { id } = await onlyJob(home);
    const worker = WorkerProcess.start(home, ["--cpu-cores", "1"]);
    const follow = spawnVpo(home, ["jobs", "log", id.slice(0, 6), "--follow"]);
    try {
      await waitUntil("the temp output", () => findPartials(media).length === 1);
      // It keeps following while the job runs: the log file exists and the job is running.
      const logPath = new VpoHome(home.vpoHome).logPath(id);
      await waitUntil("the log file", () => Deno.stat(logPath).then(() => true, () => false));
      assert.equal(follow.exited, false);
      assert.equal((await home.run(["jobs", "cancel", "--running", id])).code, 0);
      await worker.waitForLine(/cancelled /, 15_000);
      const out = await follow.output;
      assert.equal(out.code, 0, out.stderr);
      assert.equal(out.stderr, "");
      // The whole log, from the header line naming the ffmpeg command.
      assert.match(out.stdout, /^# \d{4}-\d\d-\d\d \d\d:\d\d:\d\d .*ffmpeg .*-nostdin/);
      assert.equal(out.stdout, await Deno.readTextFile(logPath));
      // Without --follow: the same bytes, at once.
      const once = await home.run(["jobs", "log", id]);
      assert.equal(once.code, 0);
      assert.equal(once.stdout, out.stdout);
      assert.equal((await worker.exit()).code, 0);
    } finally {
      follow.kill();
      await follow.output.catch(() => {});
      await worker.dispose();
    }
  });
});

Deno.test("jobs log of a job ffmpeg never ran for, and of no job, is a one-line error", async () => {
  await withMediaHome(undefined, async (home, media) => {
    const clip = await makeClip(join(media, "a.mkv"));
    assert.equal((await home.run(["transcode", clip])).code, 0);
    const { id } = await onlyJob(home);
    const r = await home.run(["jobs", "log", id]);
    assert.deepEqual([r.code, r.stdout, r.stderr], [
      1,
      "",
      `vpo: job ${id.slice(0, 8)} has no ffmpeg log (queued; ffmpeg has not run for it)\n`,
    ]);
    const none = await home.run(["jobs", "log", "ffff0000"]);
    assert.deepEqual([none.code, none.stderr], [1, `vpo: no job matches "ffff0000"\n`]);
  });
});

Deno.test("the per-job log keeps the first 8 MiB of a run; the tail still has the last lines", async () => {
  await withTempDir(async (dir) => {
    // A stand-in for an ffmpeg that warns on every frame of a damaged source: about 10 MiB of lines.
    const noisy = join(dir, "noisy-ffmpeg");
    await Deno.writeTextFile(
      noisy,
      `#!/bin/sh\nyes 'frame damaged, concealing errors' | head -n 300000 >&2\necho 'last words' >&2\nexit 1\n`,
    );
    await Deno.chmod(noisy, 0o755);
    const logPath = join(dir, "job.log");
    const run = await runFfmpeg({ args: [], logPath, ffmpeg: noisy, nice: null });
    assert.equal(run.success, false);
    assert.equal(run.tail.at(-1), "last words");
    const size = (await Deno.stat(logPath)).size;
    assert.ok(size >= LOG_MAX_BYTES && size < LOG_MAX_BYTES + 128 * 1024, String(size));
    const text = await Deno.readTextFile(logPath);
    assert.match(text.slice(-200), new RegExp(`# log cut at ${LOG_MAX_BYTES} bytes\\n$`));
  });
});

Deno.test("jobs log refuses a FIFO or a link at the log's name in one line, never waits or follows", async () => {
  await withMediaHome(undefined, async (home, media) => {
    const clip = await makeClip(join(media, "a.mkv"));
    assert.equal((await home.run(["transcode", clip])).code, 0);
    const { id } = await onlyJob(home);
    const logPath = new VpoHome(home.vpoHome).logPath(id);
    await Deno.mkdir(join(logPath, ".."), { recursive: true });
    const secret = join(media, "secret.txt");
    await Deno.writeTextFile(secret, "not for the log\n");
    const cases: [string, () => Promise<void>, RegExp][] = [
      ["FIFO", async () => {
        const mk = await new Deno.Command("mkfifo", { args: [logPath] }).output();
        assert.ok(mk.success);
      }, /a FIFO, not a regular file/],
      ["link", () => Deno.symlink(secret, logPath), /a symbolic link, not a regular file/],
    ];
    for (const [what, plant, message] of cases) {
      await Deno.remove(logPath).catch(() => {});
      await plant();
      // A reader that opened the FIFO blocking would hang here; the spawned CLI is killed after 20 s.
      const run = spawnVpo(home, ["jobs", "log", id]);
      const timer = setTimeout(run.kill, 20_000);
      const out = await run.output;
      clearTimeout(timer);
      assert.equal(out.code, 1, `${what}: ${out.stderr}`);
      assert.equal(out.stdout, "", what);
      assert.match(out.stderr, message, what);
      assert.equal(out.stderr.trim().split("\n").length, 1, what);
    }
  });
});

Deno.test("a link planted at a job's log name is never written through; the job fails, the original stays", async () => {
  await withMediaHome(undefined, async (home, media) => {
    const clip = await makeClip(join(media, "a.mkv"));
    const before = await Deno.readFile(clip);
    assert.equal((await home.run(["transcode", clip])).code, 0);
    const { id } = await onlyJob(home);
    const logPath = new VpoHome(home.vpoHome).logPath(id);
    await Deno.mkdir(join(logPath, ".."), { recursive: true });
    const secret = join(media, "secret.txt");
    await Deno.writeTextFile(secret, "the worker must not append here\n");
    await Deno.symlink(secret, logPath);
    const worker = WorkerProcess.start(home);
    try {
      const done = await worker.exit();
      assert.equal(done.code, 3, done.stdout + done.stderr); // ran, and a job failed
    } finally {
      await worker.dispose();
    }
    assert.equal(await Deno.readTextFile(secret), "the worker must not append here\n");
    assert.ok((await Deno.lstat(logPath)).isSymlink, "the planted link is left alone");
    const job = await onlyJob(home);
    assert.equal(job.status, "failed");
    assert.match(job.error ?? "", /cannot write ffmpeg's log: .*a symbolic link/);
    assert.deepEqual(await Deno.readFile(clip), before);
  });
});
