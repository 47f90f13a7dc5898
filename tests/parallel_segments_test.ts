/**
 * Several workers on one film (issue 19), on one host, with real ffmpeg and real processes: the
 * segments of a running job are claimed by whichever worker is free, each encoded exactly once and
 * joined once, frame for frame; a worker killed by SIGKILL in the middle of a segment loses only
 * that segment, which another worker takes over after stale_after, whether the dead one was
 * helping or held the job. Segment encodes are slowed by a wrapper (a sleep, no CPU) so that the
 * workers meet on a small clip. The multi-host version is tests/multihost/multihost_test.ts.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeClip } from "./helpers/clips.ts";
import {
  digest,
  findPartials,
  namesIn,
  onlyJob,
  waitUntil,
  withMediaHome,
  WorkerProcess,
  writePolicy,
} from "./helpers/worker.ts";
import {
  assertSameMedia,
  countingFfmpeg,
  plantRunningFilm,
  segmentDelay,
  segmentDirsIn,
  SEGMENTS_CONFIG,
  segmentStarts,
} from "./helpers/segments.ts";
import type { TempHome } from "./helpers/vpo.ts";

/** Four 10 s segments; beats every 0.2 s, a claim stale after 1 s. */
const CONFIG = `${SEGMENTS_CONFIG}worker:\n  heartbeat_interval: 0.2\n  stale_after: 1\n`;

/** Queues a 40 s clip (4 segments); returns the source and a copy of its original bytes. */
async function queueFilm(home: TempHome, media: string) {
  const source = await makeClip(join(media, "film.mkv"), { duration: 40, audio: ["aac"] });
  const original = join(home.dir, "film.original-copy.mkv");
  await Deno.copyFile(source, original);
  const policy = await writePolicy(home.dir, "fast.yaml", {
    target_video_codec: "hevc",
    preset: "ultrafast",
  });
  const out = await home.run(["transcode", "--policy", policy, source]);
  assert.match(out.stdout, /1 queued/, out.stdout + out.stderr);
  return { source, original };
}

/** The film was replaced by its frame-exact encode; the original is byte-identical beside it. */
async function assertFilmDone(home: TempHome, source: string, original: string) {
  const job = await onlyJob(home);
  assert.equal(job.status, "completed", JSON.stringify(job, null, 1));
  assert.equal(job.result?.outcome, "replaced");
  await assertSameMedia(original, source);
  assert.deepEqual(await digest(`${source}.original`), await digest(original));
  assert.deepEqual(segmentDirsIn(join(home.dir, "media")), [], "segments removed once joined");
  assert.deepEqual(findPartials(home.dir), []);
}

/** How many times each segment start was encoded, by start time. */
function encodesPerSegment(calls: string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const start of segmentStarts(calls)) counts.set(start, (counts.get(start) ?? 0) + 1);
  return counts;
}

/** The segment directory's finished-segment records, once some worker made `n` of them. */
function recordsIn(media: string): string[] {
  const [dir] = segmentDirsIn(media);
  return dir ? namesIn(dir).filter((n) => /^seg-\d{4}\.json$/.test(n)) : [];
}

Deno.test("two workers of one command share a film: each segment encoded once, one join", async () => {
  await withMediaHome(CONFIG, async (home, media) => {
    const { source, original } = await queueFilm(home, media);
    const ffmpeg = await countingFfmpeg(home.dir, segmentDelay(1));
    const run = await home.run(["jobs", "start", "--workers", "2"], {
      env: { PATH: ffmpeg.path },
    });
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /cpu +worker 1: ffmpeg pinned to core \d/);
    assert.match(run.stdout, /cpu +worker 2: ffmpeg pinned to core \d/);
    assert.match(run.stdout, /helping +[0-9a-f]{8} film\.mkv: segment \d\/4/, run.stdout);
    const calls = ffmpeg.calls();
    assert.deepEqual([...encodesPerSegment(calls).values()], [1, 1, 1, 1], calls.join("\n"));
    assert.equal(calls.filter((c) => c.includes(" -f concat ")).length, 1, "joined once");
    await assertFilmDone(home, source, original);
  });
});

Deno.test("a helper killed mid-segment: the worker holding the film takes it over and finishes", async () => {
  await withMediaHome(CONFIG, async (home, media) => {
    const { source, original } = await queueFilm(home, media);
    const ffmpeg = await countingFfmpeg(home.dir, segmentDelay(1));
    const holder = WorkerProcess.start(home, ["--cpu-cores", "1"], { PATH: ffmpeg.path });
    try {
      await waitUntil("the first finished segment", () => recordsIn(media).length > 0);
      const helper = WorkerProcess.start(home, ["--cpu-cores", "1"], {
        PATH: ffmpeg.path,
        VPO_CRASH_AT: "segments:encoding",
      });
      const killed = await helper.exit();
      assert.equal(killed.signal, "SIGKILL", killed.stdout + killed.stderr);
      assert.match(killed.stdout, /helping +[0-9a-f]{8} film\.mkv: segment (\d)\/4/);
      const done = await holder.exit();
      assert.equal(done.code, 0, done.stdout + done.stderr);
      // The killed segment was encoded twice (the second time by the holder), every other once.
      const counts = [...encodesPerSegment(ffmpeg.calls()).values()].sort();
      assert.deepEqual(counts, [1, 1, 1, 2], ffmpeg.calls().join("\n"));
      const job = await onlyJob(home);
      assert.deepEqual(job.history.map((h) => h.event), ["queued", "completed"]);
      await assertFilmDone(home, source, original);
    } finally {
      await holder.dispose();
    }
  });
});

Deno.test("the worker holding a film killed mid-segment: the helper finishes the film", async () => {
  await withMediaHome(CONFIG, async (home, media) => {
    const { source, original } = await queueFilm(home, media);
    const ffmpeg = await countingFfmpeg(home.dir, segmentDelay(1));
    // Dies in its second segment, once the first one is recorded.
    const holder = WorkerProcess.start(home, ["--cpu-cores", "1"], {
      PATH: ffmpeg.path,
      VPO_CRASH_AT: "segments:encoding",
    });
    let helper: WorkerProcess | null = null;
    try {
      await waitUntil("the film claimed", () => namesIn(join(home.jobsDir, "running")).length);
      helper = WorkerProcess.start(home, ["--cpu-cores", "1"], { PATH: ffmpeg.path });
      const killed = await holder.exit();
      assert.equal(killed.signal, "SIGKILL", killed.stdout + killed.stderr);
      const done = await helper.exit();
      assert.equal(done.code, 0, done.stdout + done.stderr);
      assert.match(done.stdout, /helping +[0-9a-f]{8} film\.mkv: segment \d\/4/);
      assert.match(done.stdout, /recovered +[0-9a-f]{8}: -> queued \(heartbeat \d+ s old/);
      const counts = [...encodesPerSegment(ffmpeg.calls()).values()].sort();
      assert.deepEqual(counts, [1, 1, 1, 2], ffmpeg.calls().join("\n"));
      const job = await onlyJob(home);
      assert.deepEqual(job.history.map((h) => h.event), ["queued", "recovered", "completed"]);
      assert.equal(job.attempts, 2);
      await assertFilmDone(home, source, original);
    } finally {
      await holder.dispose();
      await helper?.dispose();
    }
  });
});

/** A `countingFfmpeg` of its own for one worker, in `<home>/<name>/bin`. */
async function ffmpegOf(home: TempHome, name: string, prelude = "") {
  await Deno.mkdir(join(home.dir, name));
  return await countingFfmpeg(join(home.dir, name), prelude);
}

/**
 * A worker that holds the film and whose segment encodes wait until `finish()` lets them go,
 * started and waited for until its first segment is under way. `dispose()` kills it.
 */
async function startHeldBackHolder(home: TempHome) {
  const go = join(home.dir, "go");
  const ffmpeg = await ffmpegOf(
    home,
    "holder",
    `case "$*" in *" -copyts "*) while [ ! -e '${go}' ]; do sleep 0.1; done;; esac\n`,
  );
  const worker = WorkerProcess.start(home, ["--cpu-cores", "1"], { PATH: ffmpeg.path });
  const release = () => Deno.writeTextFile(go, "");
  const dispose = async () => {
    await release();
    await worker.dispose();
  };
  /** Lets the holder go on, and checks that it finished the film. */
  const finish = async (source: string, original: string) => {
    await release();
    const done = await worker.exit();
    assert.equal(done.code, 0, done.stdout + done.stderr);
    await assertFilmDone(home, source, original);
  };
  await waitUntil("the holder's first segment", () => segmentStarts(ffmpeg.calls()).length)
    .catch(async (err) => {
      await dispose();
      throw err;
    });
  return { finish, dispose };
}

Deno.test("the film's progress counts a helper's segments while the holder encodes its own", async () => {
  await withMediaHome(CONFIG, async (home, media) => {
    const { source, original } = await queueFilm(home, media);
    const holder = await startHeldBackHolder(home);
    const fast = await ffmpegOf(home, "helper");
    const helper = WorkerProcess.start(home, ["--cpu-cores", "1"], { PATH: fast.path });
    try {
      await waitUntil("the helper's three segments", () => recordsIn(media).length === 3, 60_000);
      const segments = await waitUntil("the live file to count them", async () => {
        const json = JSON.parse((await home.run(["jobs", "list", "--json"])).stdout);
        const live = json[0].live?.segments;
        return live?.done === 3 ? live : null;
      });
      assert.deepEqual(segments.running.map((r: { segment: number }) => r.segment), [1]);
      await holder.finish(source, original);
    } finally {
      await holder.dispose();
      await helper.dispose();
    }
  });
});

Deno.test("a host with another ffmpeg build says once why it does not help, and leaves the film be", async () => {
  await withMediaHome(CONFIG, async (home, media) => {
    const { source, original } = await queueFilm(home, media);
    const holder = await startHeldBackHolder(home);
    try {
      const other = await ffmpegOf(
        home,
        "other",
        `case "$*" in *-version*) echo "ffmpeg version 9.9-other"; exit 0;; esac\n`,
      );
      const helper = WorkerProcess.start(home, ["--cpu-cores", "1"], { PATH: other.path });
      const ended = await helper.exit();
      assert.equal(ended.code, 0, ended.stdout + ended.stderr);
      const why = ended.stdout.split("\n").filter((l) => /cannot help with/.test(l));
      assert.equal(why.length, 1, ended.stdout);
      assert.match(why[0], /another ffmpeg build than this host's; left to the worker holding it/);
      assert.deepEqual(segmentStarts(other.calls()), [], "the other build encoded nothing");
      await holder.finish(source, original);
    } finally {
      await holder.dispose();
    }
  });
});

Deno.test("jobs list and show say which segments run where, with one ETA for the film", async () => {
  await withMediaHome(undefined, async (home, media) => {
    await plantRunningFilm(home, media);
    const line = "3/8 done, 2 running (4 on nas 51%, 5 on desktop 12%), 37.5 % of the media, " +
      "ETA 2h10m at 1.90x";
    const list = await home.run(["jobs", "list"]);
    assert.equal(list.code, 0, list.stderr);
    const rows = list.stdout.split("\n");
    const row = rows.findIndex((l) => l.startsWith("f11f11f1"));
    assert.match(rows[row], /running +transcode +Film\.mkv +45%/);
    assert.equal(rows[row + 1], `           segments ${line}`);
    const show = await home.run(["jobs", "show", "f11f"]);
    assert.match(show.stdout, new RegExp(`^Segments {4}${line.replace(/[().]/g, "\\$&")}$`, "m"));
    const json = JSON.parse((await home.run(["jobs", "list", "--json"])).stdout);
    assert.equal(json[0].live.segments.running[1].host, "desktop");
  });
});
