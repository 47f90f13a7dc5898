/**
 * A quality target in the worker (`vpo jobs start`): the search is the job's first phase, the
 * output is measured over its whole length and kept only when it reaches the minimum and the
 * size limit; a retried job encodes no sample again; a worker killed mid-search leaves samples
 * that the resumed run removes; a file no CRF can serve keeps its original, remembered.
 */
import assert from "node:assert/strict";
import { hostname } from "node:os";
import { join } from "node:path";
import {
  type Difficulty,
  makeDifficultyClip,
  makeMisleadingClip,
  qualityPolicy,
} from "./helpers/quality_clips.ts";
import {
  FAST_RECOVERY,
  type JobJson,
  listJobs,
  namesIn,
  onlyJob,
  processesMentioning,
  sleep,
  waitUntil,
  withMediaHome,
  WorkerProcess,
} from "./helpers/worker.ts";
import type { TempHome } from "./helpers/vpo.ts";
import { makeClip } from "./helpers/clips.ts";
import { countingFfmpeg } from "./helpers/segments.ts";

async function queue(home: TempHome, policy: string, paths: string[], recursive = false) {
  const file = join(home.dir, "quality.yaml");
  await Deno.writeTextFile(file, policy);
  const out = await home.run([
    "transcode",
    ...(recursive ? ["-r"] : []),
    "--policy",
    file,
    ...paths,
  ]);
  assert.equal(out.code, 0, out.stdout + out.stderr);
  return out.stdout;
}

/** The quality figures of a finished job's result. */
const qualityOf = (job: JobJson) => job.result?.quality as Record<string, number | null>;

/**
 * An `ffmpeg` first on PATH that logs its arguments and runs the real one; with `pause`, it
 * waits that long before the encode of the whole file (its input is a file of `media`, where
 * samples are read through /proc, and it encodes video), so a test can act while it runs.
 */
async function wrappedFfmpeg(dir: string, media: string, pause = 0) {
  const full = `-i file:${media}/`;
  const wait = pause > 0 ? `case "$*" in *"${full}"*"-c:v:0"*) sleep ${pause};; esac\n` : "";
  const counting = await countingFfmpeg(dir, wait);
  const calls = join(dir, "ffmpeg-calls");
  return {
    env: { PATH: counting.path },
    /** Cuts and encodes of samples: what a remembered search never runs. */
    sampleWork: () =>
      counting.calls().filter((l) => /-c copy -an -sn -dn|-fps_mode:v:0 passthrough/.test(l)),
    fullEncodes: () => counting.calls().filter((l) => l.includes(full) && l.includes("-c:v:0")),
    reset: () => Deno.removeSync(calls),
  };
}

/** vpo's quality temps (cuts, encoded samples, score logs) in `dir`. */
const qualityTemps = (dir: string) => namesIn(dir).filter((n) => /^\.vpo-.*\.quality-/.test(n));

Deno.test("worker: easy, detailed and grainy files get CRFs in that order, each measured at the minimum", async () => {
  await withMediaHome(undefined, async (home, media) => {
    const names: Difficulty[] = ["flat", "detail", "grain"];
    for (const name of names) {
      await Deno.mkdir(join(media, name));
      await makeDifficultyClip(join(media, name), name, 3);
    }
    await queue(home, qualityPolicy(0.95), [media], true);
    const run = await home.run(["jobs", "start"]);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /note .*searching crf \d+: ssim 0\.\d{4}, 1 of ~\d/);
    const jobs = await listJobs(home);
    const crf: Record<string, number> = {};
    for (const job of jobs) {
      const name = job.file!.split("/").at(-2)!;
      const q = qualityOf(job);
      assert.equal(job.status, "completed", `${name}: ${job.error}`);
      assert.equal(job.result?.outcome, "replaced", `${name}: ${job.result?.outcome_detail}`);
      // Within the tolerance below the minimum, as the check accepts it.
      assert.ok(q.achieved_score! >= 0.95 - 0.002, `${name}: ${JSON.stringify(q)}`);
      crf[name] = q.crf!;
      assert.deepEqual(qualityTemps(join(media, name)), []);
    }
    assert.ok(crf.flat > crf.detail && crf.detail > crf.grain, JSON.stringify(crf));
    const show = await home.run(["jobs", "show", jobs[0].id]);
    assert.match(
      show.stdout,
      /^Quality +ssim 0\.\d+ over the whole output, predicted 0\.\d+, min 0\.95, at crf \d+; \d+ CRFs tried/m,
    );
    const stats = await home.run(["stats"]);
    assert.match(stats.stdout, /^ssim +3 +0\.9\d{3}/m);
  });
});

Deno.test("worker: a job cancelled during its encode and retried runs no sample encode again", async () => {
  await withMediaHome(undefined, async (home, media) => {
    await makeDifficultyClip(media, "detail", 3);
    await queue(home, qualityPolicy(0.95), [join(media, "detail.mkv")]);
    const ffmpeg = await wrappedFfmpeg(home.dir, media, 5);
    const worker = WorkerProcess.start(home, [], ffmpeg.env);
    try {
      await waitUntil("the full encode", () => ffmpeg.fullEncodes().length > 0, 60_000);
      assert.ok(ffmpeg.sampleWork().length > 0, "the first run searched");
      const id = (await onlyJob(home)).id;
      const cancel = await home.run(["jobs", "cancel", "--running", id]);
      assert.equal(cancel.code, 0, cancel.stderr);
      await worker.exit();
    } finally {
      await worker.dispose();
    }
    const cancelled = await onlyJob(home);
    assert.equal(cancelled.status, "cancelled");
    assert.deepEqual(namesIn(media), ["detail.mkv"]);

    ffmpeg.reset();
    assert.equal((await home.run(["jobs", "retry", cancelled.id])).code, 0);
    const again = await home.run(["jobs", "start"], { env: ffmpeg.env });
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.deepEqual(ffmpeg.sampleWork(), [], "a sample was cut or encoded again");
    assert.match(again.stdout, /searching crf \d+: .*\(remembered\)/);
    const job = await onlyJob(home);
    assert.equal(job.status, "completed");
    assert.equal(qualityOf(job).sample_encodes, 0);
  });
});

/**
 * Queues `grain.mkv` (3 s) and SIGKILLs its worker in the middle of the search's second CRF; once
 * its orphaned ffmpeg is gone and the job is stale, returns the counting ffmpeg (reset).
 */
async function killDuringSearch(home: TempHome, media: string) {
  await makeDifficultyClip(media, "grain", 3);
  await queue(home, qualityPolicy(0.95), [join(media, "grain.mkv")]);
  const ffmpeg = await wrappedFfmpeg(home.dir, media);
  const worker = WorkerProcess.start(home, [], ffmpeg.env);
  try {
    // The second CRF: the first one's scores are remembered by now.
    await worker.waitForLine(/searching crf \d+: .*1 of/, 60_000);
    await waitUntil(
      "a sample encode of the second CRF",
      () => ffmpeg.sampleWork().filter((l) => /passthrough/.test(l)).length > 3,
    );
    worker.kill("SIGKILL");
    assert.equal((await worker.exit()).signal, "SIGKILL");
  } finally {
    await worker.dispose();
  }
  assert.ok(qualityTemps(media).length > 0, "the killed worker left its samples");
  await waitUntil(
    "the orphaned ffmpeg to exit",
    async () => (await processesMentioning(media)).length === 0,
  );
  await sleep(2200);
  ffmpeg.reset();
  return ffmpeg;
}

Deno.test("worker: kill -9 during the search; the next run recovers, resumes, and leaves no sample", async () => {
  await withMediaHome(FAST_RECOVERY, async (home, media) => {
    const ffmpeg = await killDuringSearch(home, media);
    const again = await home.run(["jobs", "start"], { env: ffmpeg.env });
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.match(again.stdout, /recovered/);
    assert.match(again.stdout, /searching crf \d+: .*1 of ~\d \(remembered\)/);
    const job = await onlyJob(home);
    assert.equal(job.status, "completed", job.error ?? "");
    assert.deepEqual(qualityTemps(media), []);
    assert.deepEqual(namesIn(media), ["grain.mkv", "grain.mkv.original"]);
  });
});

Deno.test("worker: kill -9 during the search, then the source changes: the job fails and leaves no sample", async () => {
  await withMediaHome(FAST_RECOVERY, async (home, media) => {
    const ffmpeg = await killDuringSearch(home, media);
    // Replaced by another file before the next run: it fails without searching again.
    const source = join(media, "grain.mkv");
    await Deno.writeFile(source, new Uint8Array(1000), { append: true });
    const again = await home.run(["jobs", "start"], { env: ffmpeg.env });
    assert.equal(again.code, 3, again.stdout + again.stderr); // a job failed
    assert.match(again.stdout, /recovered/);
    const job = await onlyJob(home);
    assert.equal(job.status, "failed");
    assert.match(job.error ?? "", /changed/);
    assert.deepEqual(qualityTemps(media), []);
    assert.deepEqual(namesIn(media), ["grain.mkv"]);
  });
});

Deno.test("worker: a file no CRF serves within the size limit keeps its original, remembered", async () => {
  await withMediaHome(undefined, async (home, media) => {
    const source = await makeDifficultyClip(media, "grain", 2);
    const policy = qualityPolicy(0.99, "    max_encoded_percent: 30\n");
    await queue(home, policy, [source]);
    const run = await home.run(["jobs", "start"]);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    const job = await onlyJob(home);
    assert.equal(job.result?.outcome, "kept_original");
    assert.match(
      String(job.result?.outcome_detail),
      /^kept the original: no CRF in 10-46 reaches ssim 0\.99 within 30 % of the source: /,
    );
    assert.equal(job.result?.output_size, undefined, "nothing was encoded");
    assert.deepEqual(namesIn(media), ["grain.mkv"]);
    const rescan = await queue(home, policy, [source]);
    assert.match(rescan, /1 remembered/);
    const verbose = await home.run([
      "transcode",
      "-v",
      "--policy",
      join(home.dir, "quality.yaml"),
      source,
    ]);
    assert.match(verbose.stdout, /remembered .*kept original: kept the original: no CRF/);
  });
});

Deno.test("worker: an output larger than max_encoded_percent keeps its original", async () => {
  await withMediaHome(undefined, async (home, media) => {
    // Noise as quiet AAC, converted to FLAC by the policy: the samples (video alone) predict a
    // small output, and the real one, with its FLAC, is not.
    const source = join(media, "loud.mkv");
    const out = await new Deno.Command("ffmpeg", {
      args: [
        ...["-nostdin", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25"],
        ...["-f", "lavfi", "-i", "anoisesrc=sample_rate=48000", "-t", "3"],
        ...["-c:v", "mpeg2video", "-q:v", "2", "-c:a", "aac", "-b:a", "32k", source],
      ],
    }).output();
    assert.ok(out.success);
    const then = new Date(Date.now() - 3600_000);
    await Deno.utime(source, then, then);
    const policy = qualityPolicy(0.95, "    max_encoded_percent: 40\n") +
      "  audio_preserve_codecs: []\n  audio_transcode_to: flac\n";
    await queue(home, policy, [source]);
    const run = await home.run(["jobs", "start"]);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    const job = await onlyJob(home);
    assert.equal(job.result?.outcome, "kept_original", String(job.result?.outcome_detail));
    assert.match(
      String(job.result?.outcome_detail),
      /^kept the original: output .* is \d+\.\d % of the source \(max_encoded_percent 40\)$/,
    );
    const q = qualityOf(job);
    assert.ok(q.predicted_size! < 0.4 * (job.result?.source_size as number), JSON.stringify(q));
    assert.deepEqual(namesIn(media), ["loud.mkv"]);
  });
});

Deno.test("worker: a deadline stops the search; the next run resumes with what it measured", async () => {
  await withMediaHome(undefined, async (home, media) => {
    await makeDifficultyClip(media, "grain", 4);
    await queue(home, qualityPolicy(0.95), [join(media, "grain.mkv")]);
    // The first CRF's two samples encode at once; every later sample encode is held back past
    // the deadline (a sleep in ffmpeg's place, which the stop's SIGTERM ends), which stops the
    // run in the middle of the second CRF.
    const calls = join(home.dir, "ffmpeg-calls");
    const hold = `case "$*" in *passthrough*) [ "$(grep -c passthrough '${calls}')" -gt 2 ] && ` +
      "exec sleep 120;; esac\n";
    const ffmpeg = await countingFfmpeg(home.dir, hold);
    const env = { PATH: ffmpeg.path };
    const first = await home.run(["jobs", "start", "--max-duration", "20"], { env });
    assert.equal(first.code, 0, first.stdout + first.stderr);
    assert.match(first.stdout, /searching crf \d+: ssim 0\.\d+, 1 of/);
    assert.match(first.stdout, /requeued .*deadline/);
    const waiting = await onlyJob(home);
    assert.equal(waiting.status, "queued");
    assert.equal(waiting.attempts, 0, "a deadline is no attempt");
    assert.deepEqual(qualityTemps(media), []);

    const second = await home.run(["jobs", "start"]);
    assert.equal(second.code, 0, second.stdout + second.stderr);
    assert.match(second.stdout, /searching crf \d+: ssim 0\.\d+, 1 of ~\d \(remembered\)/);
    assert.equal((await onlyJob(home)).status, "completed");
  });
});

Deno.test("worker: an output below the minimum is encoded once more, lower", async () => {
  await withMediaHome(undefined, async (home, media) => {
    const source = await makeMisleadingClip(media);
    const policy = qualityPolicy(0.95, "    max_encoded_percent: 100\n")
      .replace("sample_every: 2", "sample_every: 8");
    await queue(home, policy, [source]);
    const run = await home.run(["jobs", "start"]);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    const checks = run.stdout.split("\n").filter((l) => /checked: ssim/.test(l));
    assert.equal(checks.length, 2, run.stdout);
    const job = await onlyJob(home);
    const q = qualityOf(job);
    assert.ok(q.retried_from !== null && q.crf! < q.retried_from!, JSON.stringify(q));
    if (job.result?.outcome === "replaced") {
      assert.ok(q.achieved_score! >= 0.95 - 0.002, JSON.stringify(q));
    } else {
      assert.match(String(job.result?.outcome_detail), /after a retry from crf/);
    }
  });
});

/**
 * With `speeds` as this host's measured speeds (media seconds per wall second, by codec and
 * core cap), runs `vpo jobs start ...args --max-duration 120` on a 30 s clip whose one 1 s sample
 * fits the deadline (3 s of work with the search's overhead) and whose encode must not: the run
 * searches, then puts the job back in the queue without encoding.
 */
async function encodeDeclinedAtDeadline(speeds: Record<string, number>, args: string[]) {
  await withMediaHome(undefined, async (home, media) => {
    const stats = join(home.vpoHome, "stats");
    await Deno.mkdir(stats, { recursive: true });
    const history = Object.fromEntries(
      Object.entries(speeds).map(([key, speed]) => [key, { speed, samples: 5 }]),
    );
    await Deno.writeTextFile(join(stats, `speed-${hostname()}.json`), JSON.stringify(history));
    const source = await makeDifficultyClip(media, "detail", 30);
    await queue(home, qualityPolicy(0.95).replace("sample_every: 2", "sample_every: 30"), [source]);
    const run = await home.run(["jobs", "start", ...args, "--max-duration", "120"]);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /searching crf \d+/);
    assert.match(run.stdout, /requeued .*deadline: the encode at crf \d+ .*cannot finish/);
    assert.doesNotMatch(run.stdout, /checked: ssim/, "the encode started");
    const job = await onlyJob(home);
    assert.equal(job.status, "queued");
    assert.deepEqual(namesIn(media), ["detail.mkv"]);
  });
}

Deno.test("worker: a one-core worker judges the encode after the search at its own measured speed", async () => {
  // The machine encodes fast, one core at 0.1: the encode needs about 5 minutes there.
  await encodeDeclinedAtDeadline({ hevc: 1000, "hevc@1": 0.1 }, ["--cpu-cores", "1"]);
});

Deno.test("worker: the encode after the search must leave time for the check of its output", async () => {
  // About 105 s of encoding fit the 2 minutes; with its check (up to 30 % more) it does not.
  await encodeDeclinedAtDeadline({ hevc: 0.33 }, []);
});

/** A line of the quality memory, as far as the tests change it. */
type MemoryLine = { kind: string; crf: number; ref_bytes: number };

/** Rewrites every line of the quality memory through `change`: false lines. */
function rewriteMemory(home: TempHome, change: (entry: MemoryLine) => object): void {
  const dir = join(home.vpoHome, "library", "quality");
  for (const name of namesIn(dir)) {
    const path = join(dir, name);
    const lines = Deno.readTextFileSync(path).split("\n").filter((l) => l.trim() !== "");
    const changed = lines.map((l) => JSON.stringify(change(JSON.parse(l))));
    Deno.writeTextFileSync(path, changed.join("\n") + "\n");
  }
}

/** Forecasts `grain.mkv` (3 s) for SSIM 0.95, so its samples are remembered; returns its CRF. */
async function rememberGrain(home: TempHome, media: string): Promise<number> {
  const source = await makeDifficultyClip(media, "grain", 3);
  const policy = join(home.dir, "forecast.yaml");
  await Deno.writeTextFile(policy, qualityPolicy(0.95));
  const forecast = await home.run(["forecast", "--policy", policy, "--json", source]);
  assert.equal(forecast.code, 0, forecast.stderr);
  return JSON.parse(forecast.stdout).searched[0].crf as number;
}

Deno.test("worker: false scores in the quality memory cost encodes, never a worse output", async () => {
  await withMediaHome(undefined, async (home, media) => {
    const found = await rememberGrain(home, media);
    // The memory now says a CRF 12 steps higher reaches the minimum: the search believes it.
    rewriteMemory(home, (entry) => ({ ...entry, crf: entry.crf + 12 }));
    await queue(home, qualityPolicy(0.95), [join(media, "grain.mkv")]);
    const run = await home.run(["jobs", "start"]);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.match(run.stdout, new RegExp(`searching crf ${found + 12}: .*\\(remembered\\)`));
    // The whole output measured at that CRF is far below; so is the retry's: the original stays.
    assert.equal(run.stdout.split("\n").filter((l) => /checked: ssim/.test(l)).length, 2);
    const job = await onlyJob(home);
    assert.equal(job.result?.outcome, "kept_original", String(job.result?.outcome_detail));
    assert.match(String(job.result?.outcome_detail), /below the minimum .*after a retry from crf/);
    assert.deepEqual(namesIn(media), ["grain.mkv"]);
  });
});

/** SSIM (All) of `output`'s video against `source`'s scaled to `size`, measured here. */
async function ssimAgainstScaled(output: string, source: string, size: string): Promise<number> {
  const same = "format=yuv420p,setpts=PTS-STARTPTS";
  const graph = `[0:v:0]${same}[d];[1:v:0]scale=${size.replace("x", ":")},${same}[r];[d][r]ssim`;
  const out = await new Deno.Command("ffmpeg", {
    args: [
      "-nostdin",
      "-hide_banner",
      "-i",
      output,
      "-i",
      source,
      "-lavfi",
      graph,
      "-f",
      "null",
      "-",
    ],
    stderr: "piped",
  }).output();
  const all = new TextDecoder().decode(out.stderr).match(/SSIM .* All:([0-9.]+)/);
  assert.ok(out.success && all, "ffmpeg measured no ssim");
  return Number(all[1]);
}

Deno.test("worker: a policy that scales is scored at the output's size, samples and whole output alike", async () => {
  await withMediaHome(undefined, async (home, media) => {
    const source = await makeClip(join(media, "wide.mkv"), { duration: 3, size: "640x360" });
    const original = join(home.dir, "wide.mkv");
    await Deno.copyFile(source, original);
    await queue(home, qualityPolicy(0.95) + "  max_width: 320\n", [source]);
    const run = await home.run(["jobs", "start"]);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    const job = await onlyJob(home);
    assert.equal(job.result?.outcome, "replaced", String(job.result?.outcome_detail));
    const q = qualityOf(job);
    // What the encoder lost, not the resolution the policy dropped: the output against the
    // source brought to its size, as measured here; and the samples predicted as much.
    const measured = await ssimAgainstScaled(source, original, "320x180");
    assert.ok(Math.abs(q.achieved_score! - measured) < 0.0005, `${measured}: ${JSON.stringify(q)}`);
    assert.ok(Math.abs(q.predicted_score! - q.achieved_score!) < 0.01, JSON.stringify(q));
  });
});

Deno.test("worker: a 'no CRF' verdict resting on remembered scores is measured again before it keeps the original", async () => {
  await withMediaHome(undefined, async (home, media) => {
    await rememberGrain(home, media);
    // Every remembered sample now encodes three times larger than its cut: no CRF would do.
    rewriteMemory(home, (e) => e.kind === "sample" ? { ...e, out_bytes: e.ref_bytes * 3 } : e);
    await queue(home, qualityPolicy(0.95), [join(media, "grain.mkv")]);
    const run = await home.run(["jobs", "start"]);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /searching crf \d+: .*\(remembered\)/);
    const job = await onlyJob(home);
    assert.equal(job.result?.outcome, "replaced", String(job.result?.outcome_detail));
  });
});
