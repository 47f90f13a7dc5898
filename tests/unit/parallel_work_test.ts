/**
 * The pure parts of several workers at once (issue 19): how many `--workers auto` runs, how the
 * cores are shared out, the speed history per CPU cap and what it measured of one encode, and
 * the film's one progress and ETA while several workers encode its segments.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { segmentLine } from "../../src/transcode/segment_progress.ts";
import { usageOf } from "../../src/media/ffmpeg_runner.ts";
import type { LiveInfo } from "../../src/queue/claimed_job.ts";
import type { Job } from "../../src/queue/job.ts";
import type { LiveProgress } from "../../src/queue/job_type.ts";
import { FilmProgress, type LiveSegments } from "../../src/transcode/segments/film_progress.ts";
import type { SegmentJournal } from "../../src/transcode/segments/journal.ts";
import type { SegmentRecord } from "../../src/transcode/segments/records.ts";
import type { BoardView } from "../../src/transcode/segments/segment_board.ts";
import { SpeedHistory } from "../../src/transcode/speed_history.ts";
import { chooseWorkers } from "../../src/worker/auto_workers.ts";
import { coresPerLoop } from "../../src/worker/worker.ts";

const GiB = 1024 ** 3;

Deno.test("auto: encodes that leave cores idle get company, bounded by cores and memory", () => {
  const use = (cores: number, memoryBytes = 0.2 * GiB) => ({ cores, memoryBytes });
  const choose = (cores: number, measured: ReturnType<typeof use> | null, memory = 16 * GiB) =>
    chooseWorkers({ cores, availableMemory: memory, use: measured }).workers;
  assert.equal(choose(2, use(1.52)), 2, "x265 at 640x360 on two cores");
  assert.equal(choose(8, use(3)), 3);
  assert.equal(choose(8, use(0.5)), 8, "never more than one per core");
  assert.equal(choose(8, use(7.3)), 1, "an encode that fills 90 % runs alone");
  assert.equal(choose(8, use(2, 3 * GiB), 8 * GiB), 2, "80 % of 8 GiB holds two of 3 GiB");
  assert.equal(choose(8, use(2, 12 * GiB), 8 * GiB), 1, "at least one, whatever it needs");
  assert.equal(choose(8, null), 4, "unmeasured: one per two cores");
  assert.equal(choose(1, null), 1);
  assert.equal(choose(8, null, 4 * GiB), 1, "unmeasured encodes count 2 GiB each");
  const why = chooseWorkers({ cores: 2, availableMemory: 16 * GiB, use: use(1.52) }).why;
  assert.equal(why, "2 cores, one encode keeps 1.52 busy, 204.8 MiB each of 16.0 GiB available");
  assert.equal(
    chooseWorkers({ cores: 4, availableMemory: null, use: null }).why,
    "4 cores, no encode measured yet: one worker per 2",
  );
});

Deno.test("the cores of several workers: the total shared out, at least one each", () => {
  assert.equal(coresPerLoop(null, 1), null, "one worker keeps no limit");
  assert.equal(coresPerLoop(3, 1), 3);
  assert.equal(coresPerLoop(4, 2), 2);
  assert.equal(coresPerLoop(3, 2), 1);
  assert.equal(coresPerLoop(1, 3), 1, "more workers than cores share them");
  assert.equal(coresPerLoop(null, navigator.hardwareConcurrency), 1);
});

Deno.test("ffmpeg's -benchmark lines give its cores and peak memory", () => {
  const tail = [
    "video:49kB audio:0kB",
    "bench: utime=3.000s stime=0.040s rtime=2.000s",
    "bench: maxrss=75172kB",
  ];
  assert.deepEqual(usageOf(tail), { cores: 1.52, rssBytes: 75172 * 1024 });
  assert.equal(usageOf(tail.slice(0, 2)), null, "no memory line: nothing");
  assert.equal(usageOf(["bench: utime=1s stime=0s rtime=0.000s", tail[2]]), null);
});

Deno.test("the speed history keeps speeds per CPU cap, and what an uncapped encode used", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "stats", "speed-test.json");
    const history = await SpeedHistory.load(path);
    assert.equal(history.machineUse(), null);
    await history.record("hevc", 100, 50, null, { cores: 1.5, rssBytes: 100 });
    await history.record("hevc", 100, 100, 1, { cores: 1, rssBytes: 80 });
    // 2x uncapped, 1x on one core; a cap never measured falls back to the uncapped speed.
    assert.equal(history.estimateSec("hevc", 10), 10 / 2 * 1.15);
    assert.equal(history.estimateSec("hevc", 10, 1), 10 / 1 * 1.15);
    assert.equal(history.estimateSec("hevc", 10, 3), 10 / 2 * 1.15);
    assert.equal(history.estimateSec("av1", 10), null);
    assert.deepEqual(history.machineUse(), { cores: 1.5, memoryBytes: 100 });
    // Another worker's record in between is kept: each write reads the file first.
    const other = await SpeedHistory.load(path);
    await other.record("av1", 10, 100);
    await history.record("hevc", 100, 50);
    const again = await SpeedHistory.load(path);
    assert.notEqual(again.estimateSec("av1", 10), null);
    assert.deepEqual(again.machineUse(), { cores: 1.5, memoryBytes: 100 }, "kept when unmeasured");
    const fits = (deadline: Date | null) => history.fits("hevc", 100, deadline, null);
    assert.equal(fits(null), true);
    assert.equal(fits(new Date(Date.now() + 10_000)), false);
    assert.equal(fits(new Date(Date.now() + 100_000)), true);
    assert.ok(Deno.readTextFileSync(history.path).includes('"hevc@1"'));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** A plan of four 10 s segments. */
const JOURNAL = {
  plan_id: "0123456789ab",
  segments: [0, 1, 2, 3].map((index) => ({
    index,
    start: index * 10_000,
    end: index < 3 ? (index + 1) * 10_000 : null,
    frames: 250,
    mediaSec: 10,
  })),
} as unknown as SegmentJournal;

function view(done: number[], running: { index: number; host: string; age: number }[]): BoardView {
  const records = new Map(
    done.map((i) => [i, { index: i, wall_sec: 20 } as unknown as SegmentRecord]),
  );
  const claims = new Map(running.map((r) => [r.index, [{
    token: "aaaaaaaaaaaa",
    ageSec: r.age,
    beat: { worker: { host: r.host, pid: 1 }, percent: 50, speed: 0.5 },
  }]]));
  return { records, free: [], claims, badRecords: [], unseen: [] };
}

Deno.test("one progress for the film: finished, own and helpers' segments, one ETA", async () => {
  const reports: LiveProgress[] = [];
  let written: LiveSegments | null = null;
  const film = new FilmProgress(JOURNAL, {
    windowSec: null,
    staleAfterSec: 5,
    report: (p) => reports.push(p),
    write: (s) => Promise.resolve(void (written = s)),
  });
  // Segment 1 done; 3 on another host, half done at 0.5x; 4 with a dead worker (stale beat).
  await film.saw(view([0], [{ index: 2, host: "desktop", age: 1 }, {
    index: 3,
    host: "gone",
    age: 60,
  }]));
  // This worker is a quarter into segment 2 at 0.5x.
  film.own(1, "nas", { percent: 25, mediaSec: 2.5, speed: 0.5, fps: 12 });
  const last = reports.at(-1)!;
  // 10 + 2.5 + 5 of 40 s encoded; 22.5 s left at 0.5x + 0.5x.
  assert.equal(last.out_time_sec, 17.5);
  assert.equal(last.percent, 43.75);
  assert.equal(last.speed, 1);
  assert.equal(last.eta_sec, 22.5);
  assert.equal(last.fps, 12);
  assert.deepEqual(written!.running, [{ segment: 3, host: "desktop", percent: 50 }]);
  assert.deepEqual(film.segments().running, [
    { segment: 2, host: "nas", percent: 25 },
    { segment: 3, host: "desktop", percent: 50 },
  ]);
  assert.equal(written!.done, 1);
  assert.equal(written!.plan_id, "0123456789ab");

  const job = { payload: {} } as unknown as Job;
  const live = { segments: { ...film.segments() }, progress: last } as unknown as LiveInfo;
  assert.equal(
    segmentLine(job, live),
    "1/4 done, 2 running (2 on nas 25%, 3 on desktop 50%), 25.0 % of the media, ETA 23s at 1.00x",
  );
  // Recovered into the record (no live file): what ran then is not shown as running.
  const queued = { payload: { segment_progress: film.segments() } } as unknown as Job;
  assert.equal(segmentLine(queued, null), "1/4 done, 25.0 % of the media, ETA 1m00s at 0.50x");
});
