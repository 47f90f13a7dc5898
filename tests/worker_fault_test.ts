/**
 * Faults during `vpo jobs start`: a full temp disk, SIGKILL, SIGTERM, a deadline, a crash between
 * any two steps of the replace and of the job's transitions, and a deadline the measured speed
 * cannot meet. Whatever happens, the original's bytes must stay reachable and each job must end
 * in exactly one state.
 */
import assert from "node:assert/strict";
import { hostname } from "node:os";
import { join } from "node:path";
import { makeClip } from "./helpers/clips.ts";
import { makeKeyframedClip } from "./helpers/segments.ts";
import { QUEUE_CRASH_POINTS } from "../src/queue/protocol.ts";
import { REPLACE_CRASH_POINTS } from "../src/replace/replace_journal.ts";
import type { TempHome } from "./helpers/vpo.ts";
import {
  digest,
  disposeHome,
  eachLimited,
  exists,
  FAST_RECOVERY,
  ffprobe,
  findPartials,
  jobFiles,
  type JobJson,
  livePercent,
  longClip,
  makeMediaHome,
  mountTmpfs,
  namesIn,
  onlyJob,
  processesMentioning,
  sleep,
  slowPolicy,
  STALE_WAIT_MS,
  unmount,
  waitUntil,
  withMediaHome,
  WorkerProcess,
  writePolicy,
} from "./helpers/worker.ts";

async function queue(home: TempHome, args: string[]): Promise<void> {
  const out = await home.run(["transcode", ...args]);
  assert.equal(out.code, 0, `transcode failed:\n${out.stdout}\n${out.stderr}`);
  assert.match(out.stdout, /1 queued/);
}

const videoCodec = async (path: string) =>
  (await ffprobe(path)).streams.find((s) => s.codec_type === "video")?.codec_name;

const events = (job: JobJson, name: string) => job.history.filter((e) => e.event === name);

Deno.test("ENOSPC in temp_directory fails the job; the original stays, the temp file goes", async () => {
  await withMediaHome(undefined, async (home, media) => {
    const tmpfs = join(home.dir, "tmpfs");
    await Deno.mkdir(tmpfs);
    await mountTmpfs(tmpfs, "2m");
    try {
      await home.writeConfig(`jobs:\n  temp_directory: ${tmpfs}\n`);
      // Near-lossless output of a source under 2 MB: several MB, so ffmpeg hits ENOSPC.
      const policy = await writePolicy(home.dir, "huge.yaml", {
        target_video_codec: "hevc",
        target_crf: 0,
        preset: "ultrafast",
        keep_larger_output: true,
      });
      const source = await makeClip(join(media, "fits.mkv"), {
        size: "640x360",
        duration: 6,
        audio: [],
      });
      const before = await digest(source);
      assert.ok(before.size < 1.8 * 1024 * 1024, `source ${before.size} B must fit the tmpfs`);
      await queue(home, ["--policy", policy, source]);

      const run = await home.run(["jobs", "start"]);
      assert.equal(run.code, 3, run.stdout + run.stderr);
      const job = await onlyJob(home);
      assert.equal(job.status, "failed");
      assert.match(job.error ?? "", /no space left on device/i);
      assert.deepEqual(await digest(source), before);
      assert.deepEqual(namesIn(media), ["fits.mkv"]);
      assert.deepEqual(namesIn(tmpfs), []);
    } finally {
      await unmount(tmpfs);
    }
  });
});

Deno.test("a full temp disk during a segmented encode names the disk, not the input", async () => {
  await withMediaHome(undefined, async (home, media) => {
    const tmpfs = join(home.dir, "tmpfs");
    await Deno.mkdir(tmpfs);
    await mountTmpfs(tmpfs, "3m");
    try {
      await home.writeConfig(`jobs:\n  temp_directory: ${tmpfs}\n  segment_length: 2\n`);
      const policy = await writePolicy(home.dir, "huge.yaml", {
        target_video_codec: "hevc",
        target_crf: 0,
        preset: "ultrafast",
        keep_larger_output: true,
      });
      // Three segments, each far larger than its source part.
      const source = await makeKeyframedClip(join(media, "film.mkv"), "640x360");
      const before = await digest(source);
      await queue(home, ["--policy", policy, source]);

      const run = await home.run(["jobs", "start"]);
      assert.equal(run.code, 3, run.stdout + run.stderr);
      const job = await onlyJob(home);
      assert.equal(job.status, "failed");
      assert.match(job.error ?? "", new RegExp(`^no space left on ${tmpfs} \\(`));
      assert.deepEqual(await digest(source), before);
    } finally {
      await unmount(tmpfs);
    }
  });
});

Deno.test("SIGKILL mid-encode: recovery requeues the job, which then completes exactly once", async () => {
  await withMediaHome(FAST_RECOVERY, async (home, media) => {
    const source = await longClip(join(media, "killed.mkv"));
    const before = await digest(source);
    await queue(home, [source]);

    const worker = WorkerProcess.start(home, ["--cpu-cores", "1"]);
    try {
      // Live progress (written every 2 s) proves the encode is under way.
      await waitUntil("live progress", () => (livePercent(home) ?? 0) > 0);
      worker.kill("SIGKILL");
      assert.equal((await worker.exit()).signal, "SIGKILL");
    } finally {
      await worker.dispose();
    }
    assert.deepEqual(await digest(source), before);
    assert.equal(findPartials(media).length, 1, "the dead worker left its partial output");
    // The dead worker's ffmpeg must not go on encoding (it loses its progress pipe).
    await waitUntil(
      "the orphaned ffmpeg to exit",
      async () => (await processesMentioning(media)).length === 0,
    );

    await sleep(STALE_WAIT_MS);
    const recover = await home.run(["jobs", "recover"]);
    assert.match(recover.stdout, /1 stale job recovered/, recover.stdout + recover.stderr);
    const requeued = await onlyJob(home);
    assert.equal(requeued.status, "queued");
    assert.equal(requeued.attempts, 1, "a death counts as an attempt");
    assert.deepEqual(findPartials(home.dir), [], "recovery removes the partial output");
    assert.deepEqual(await digest(source), before);

    const again = await home.run(["jobs", "start"]);
    assert.equal(again.code, 0, again.stdout + again.stderr);
    const job = await onlyJob(home);
    assert.equal(job.status, "completed");
    assert.equal(events(job, "completed").length, 1);
    assert.deepEqual(jobFiles(home), [`completed:${job.id}`]);
    assert.deepEqual(namesIn(media), ["killed.mkv", "killed.mkv.original"]);
    assert.deepEqual(await digest(`${source}.original`), before);
    assert.equal(await videoCodec(source), "hevc");
    assert.deepEqual(findPartials(home.dir), []);
  });
});

Deno.test("SIGTERM or a deadline mid-encode requeues the job untouched and exits 0", async (t) => {
  const cases: {
    name: string;
    args: string[];
    interrupt: (worker: WorkerProcess, media: string) => Promise<void>;
    why: RegExp;
  }[] = [
    {
      name: "SIGTERM",
      args: [],
      interrupt: async (worker, media) => {
        await waitUntil("the temp output", () => findPartials(media).length === 1);
        worker.kill("SIGTERM");
      },
      why: /worker stopped by signal/,
    },
    {
      name: "--max-duration 2",
      args: ["--max-duration", "2"],
      interrupt: async () => {},
      why: /deadline reached \(--max-duration 2\)/,
    },
  ];
  for (const c of cases) {
    await t.step(c.name, async () => {
      await withMediaHome(undefined, async (home, media) => {
        const source = await longClip(join(media, "stopped.mkv"));
        const before = await digest(source);
        await queue(home, ["--policy", await slowPolicy(home.dir), source]);
        const worker = WorkerProcess.start(home, ["--cpu-cores", "1", ...c.args]);
        let end;
        try {
          await c.interrupt(worker, media);
          end = await worker.exit();
        } finally {
          await worker.dispose();
        }
        assert.equal(end.code, 0, end.stdout + end.stderr);
        assert.match(end.stdout, c.why);
        const job = await onlyJob(home);
        assert.equal(job.status, "queued");
        assert.equal(job.attempts, 0, "a stop is not an attempt");
        assert.equal(job.history.at(-1)?.event, "requeued");
        assert.match(job.history.at(-1)?.detail ?? "", c.why);
        // ffmpeg had started: its log exists. So the stop really came mid-encode.
        assert.ok(exists(join(home.vpoHome, "logs", `${job.id}.log`)));
        assert.deepEqual(findPartials(home.dir), []);
        assert.deepEqual(await digest(source), before);
        assert.deepEqual(namesIn(media), ["stopped.mkv"]);
        assert.deepEqual(await processesMentioning(media), [], "ffmpeg was stopped too");
      });
    });
  }
});

Deno.test("a second Ctrl-C exits at once (130); recovery leaves the job queued, original intact", async () => {
  const fast = "worker:\n  heartbeat_interval: 0.2\n  stale_after: 1\n";
  await withMediaHome(fast, async (home, media) => {
    const source = await longClip(join(media, "interrupted.mkv"));
    const before = await digest(source);
    await queue(home, ["--policy", await slowPolicy(home.dir), source]);
    const worker = WorkerProcess.start(home, ["--cpu-cores", "1"]);
    let end;
    try {
      // The temp file is made before ffmpeg starts: wait for ffmpeg's first progress report,
      // so that the encoder holds frames it would flush on SIGTERM.
      await waitUntil("the encode's progress", () => livePercent(home) !== null);
      worker.kill("SIGINT");
      await worker.waitForLine(/stopping/);
      worker.kill("SIGINT");
      end = await worker.exit();
    } finally {
      await worker.dispose();
    }
    assert.equal(end.code, 130, end.stdout + end.stderr);
    // The first SIGINT sent ffmpeg SIGTERM; it ends on its own. Then recovery tidies up, whether
    // the worker had requeued the job before the second SIGINT or not.
    await waitUntil("ffmpeg to end", async () => (await processesMentioning(media)).length === 0);
    await sleep(2200);
    const recovered = await home.run(["jobs", "recover"]);
    assert.equal(recovered.code, 0, recovered.stderr);
    const job = await onlyJob(home);
    assert.equal(job.status, "queued");
    assert.deepEqual(findPartials(home.dir), []);
    assert.deepEqual(await digest(source), before);
    assert.deepEqual(namesIn(media), ["interrupted.mkv"]);
  });
});

Deno.test("a file appearing at the new name during the encode is never clobbered", async (t) => {
  for (const tempElsewhere of [false, true]) {
    const name = tempElsewhere ? "temp_directory on another file system" : "temp beside the source";
    await t.step(name, async () => {
      await withMediaHome(undefined, async (home, media) => {
        // On another file system the output is first copied beside the source, then linked.
        const tmpfs = join(home.dir, "tmpfs");
        if (tempElsewhere) {
          await Deno.mkdir(tmpfs);
          await mountTmpfs(tmpfs, "64m");
          await home.writeConfig(`jobs:\n  temp_directory: ${tmpfs}\n`);
        }
        try {
          const source = await longClip(join(media, "clip.mp4"), { duration: 6, audio: [] });
          const before = await digest(source);
          const policy = await writePolicy(home.dir, "mkv.yaml", {
            target_video_codec: "hevc",
            container: "mkv",
          });
          await queue(home, ["--policy", policy, source]);
          const worker = WorkerProcess.start(home, ["--cpu-cores", "1"]);
          let end;
          try {
            await waitUntil("the temp output", () => findPartials(home.dir).length === 1);
            // The user saves a file under the name the new file was going to take.
            await Deno.writeTextFile(join(media, "clip.mkv"), "the user's own file\n");
            end = await worker.exit();
          } finally {
            await worker.dispose();
          }
          assert.equal(end.code, 3, end.stdout + end.stderr);
          const job = await onlyJob(home);
          assert.equal(job.status, "failed");
          assert.match(job.error ?? "", /original, which is intact/);
          assert.equal(await Deno.readTextFile(join(media, "clip.mkv")), "the user's own file\n");
          assert.deepEqual(await digest(source), before);
          // Neither a stray backup link nor the output copied beside the source is left.
          assert.deepEqual(namesIn(media), ["clip.mkv", "clip.mp4"]);
          assert.deepEqual(findPartials(home.dir), []);
        } finally {
          if (tempElsewhere) await unmount(tmpfs);
        }
      });
    });
  }
});

interface CrashCase {
  point: string;
  /** An MP4 source under a `container: mkv` policy: the new file gets a new name. */
  rename?: boolean;
  /** Whether the new file is in place at the crash, so recovery completes the job. */
  swapped: boolean;
}

const CRASHES: CrashCase[] = [
  { point: "claim:renamed", swapped: false },
  { point: "claim:live-written", swapped: false },
  { point: "replace:recorded", swapped: false },
  { point: "replace:backed-up", swapped: false },
  { point: "replace:backed-up", rename: true, swapped: false },
  { point: "replace:linked", rename: true, swapped: true },
  { point: "replace:swapped", swapped: true },
  { point: "replace:swapped", rename: true, swapped: true },
  { point: "transition:written", swapped: true },
  { point: "transition:published", swapped: true },
  { point: "transition:removed", swapped: true },
];

Deno.test("the crash cases cover every replace crash point, and the claim and finish of a job", () => {
  const covered = new Set(CRASHES.map((c) => c.point));
  // A swap that must remove the source first happens only where a rename cannot replace a file
  // (SFTP without posix-rename): the multi-host suite kills workers there.
  const multihost = Deno.readTextFileSync(
    new URL("./multihost/multihost_test.ts", import.meta.url),
  );
  for (const point of REPLACE_CRASH_POINTS) {
    assert.ok(covered.has(point) || multihost.includes(`"${point}"`), point);
  }
  // A worker does not enqueue, and recovery's own points are hit by a worker only when it finds a
  // stale job at start: queue_crash_test and trust_test cover those.
  const workerPoints = QUEUE_CRASH_POINTS.filter((p) =>
    !p.startsWith("enqueue:") && !p.startsWith("recover:")
  );
  for (const point of workerPoints) {
    assert.ok(covered.has(point), point);
  }
});

Deno.test("a crash at any step of a job leaves the original reachable and one state after recovery", async () => {
  const label = (c: CrashCase) => `${c.point}${c.rename ? " (new name)" : ""}`;
  const runs: { c: CrashCase; home: TempHome; media: string; source: string; sha: string }[] = [];
  try {
    for (const c of CRASHES) {
      const { home, media } = await makeMediaHome(FAST_RECOVERY);
      runs.push({
        c,
        home,
        media,
        source: join(media, c.rename ? "clip.mp4" : "clip.mkv"),
        sha: "",
      });
    }
    // Every case crashes first; then all wait out stale_after once; then each is recovered.
    await eachLimited(runs, 2, async (run) => {
      const { c, home, source } = run;
      await makeClip(source);
      run.sha = (await digest(source)).sha256;
      const policy = c.rename
        ? [
          "--policy",
          await writePolicy(home.dir, "mkv.yaml", { target_video_codec: "hevc", container: "mkv" }),
        ]
        : [];
      await queue(home, [...policy, source]);
      const crashed = await home.run(["jobs", "start"], { env: { VPO_CRASH_AT: c.point } });
      assert.equal(crashed.code, 137, `${label(c)}: the worker must die there:\n${crashed.stdout}`);
      await assertOriginalReachable(label(c), source, run.sha);
      if (!c.swapped) {
        assert.equal((await digest(source)).sha256, run.sha, `${label(c)}: source replaced early`);
      }
    });
    await sleep(STALE_WAIT_MS);
    await eachLimited(runs, 2, async ({ c, home, media, source, sha }) => {
      const recover = await home.run(["jobs", "recover"]);
      assert.equal(recover.code, 0, `${label(c)}: ${recover.stderr}`);
      const files = jobFiles(home);
      assert.equal(files.length, 1, `${label(c)}: one job file after recovery: ${files}`);
      assert.match(files[0], c.swapped ? /^completed:/ : /^queued:/, label(c));
      await assertOriginalReachable(label(c), source, sha);
      if (c.swapped) {
        // Recovery's result names the backup with its size, so `jobs cleanup` can remove it.
        const { result } = await onlyJob(home);
        const backup = join(media, c.rename ? "clip.mp4.original" : "clip.mkv.original");
        assert.equal(result?.backup_path, backup, label(c));
        assert.equal(result?.backup_size, (await Deno.stat(backup)).size, label(c));
      }
      assert.ok(backups(media).length <= 1, `${label(c)}: ${namesIn(media)}`);

      // The next worker runs what recovery requeued, and leaves a completed job alone.
      const rerun = await home.run(["jobs", "start"]);
      assert.equal(rerun.code, 0, `${label(c)}: ${rerun.stdout}${rerun.stderr}`);
      const job = await onlyJob(home);
      assert.equal(job.status, "completed", label(c));
      assert.deepEqual(jobFiles(home), [`completed:${job.id}`], label(c));
      const original = c.rename ? "clip.mp4.original" : "clip.mkv.original";
      assert.deepEqual(namesIn(media), ["clip.mkv", original], label(c));
      assert.equal((await digest(join(media, original))).sha256, sha, label(c));
      assert.equal(await videoCodec(join(media, "clip.mkv")), "hevc", label(c));
      assert.deepEqual(findPartials(home.dir), [], label(c));
    });
  } finally {
    for (const { home } of runs) await disposeHome(home);
  }
});

function backups(media: string): string[] {
  return namesIn(media).filter((n) => n.includes(".original"));
}

/** The original's bytes are at the source path or at its one backup. */
async function assertOriginalReachable(label: string, source: string, sha256: string) {
  const places = [source, `${source}.original`].filter(exists);
  const hashes = await Promise.all(places.map(async (p) => (await digest(p)).sha256));
  assert.ok(hashes.includes(sha256), `${label}: the original's bytes are gone (${places})`);
}

Deno.test("a deadline the measured speed cannot meet starts no job", async () => {
  await withMediaHome(undefined, async (home, media) => {
    // 0.001 media seconds per wall second: a 1 s clip would need about 20 minutes.
    const stats = join(home.vpoHome, "stats");
    await Deno.mkdir(stats, { recursive: true });
    await Deno.writeTextFile(
      join(stats, `speed-${hostname()}.json`),
      JSON.stringify({ hevc: { speed: 0.001, samples: 5 } }),
    );
    const source = await makeClip(join(media, "later.mkv"));
    const before = await digest(source);
    await queue(home, [source]);

    const run = await home.run(["jobs", "start", "--max-duration", "60"]);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /1 queued job cannot finish in the .* left before the deadline/);
    assert.doesNotMatch(run.stdout, /started/);
    const job = await onlyJob(home);
    assert.equal(job.status, "queued");
    assert.deepEqual(job.history.map((e) => e.event), ["queued"]);
    assert.deepEqual(await digest(source), before);
    assert.deepEqual(namesIn(media), ["later.mkv"]);
  });
});
