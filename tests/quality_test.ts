/**
 * The CRF search on real encodes of generated clips: a flat slide, testsrc2 and heavy grain get
 * CRFs in that order (easiest highest); every score is remembered, so searching again encodes
 * nothing; the temps are never left behind; `vpo forecast` projects a library and queues nothing;
 * a policy asking for vmaf where ffmpeg has no libvmaf is refused in one line.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { probe } from "../src/media/probe.ts";
import { type EncodePlan, planTranscode } from "../src/media/plan.ts";
import { parsePolicy } from "../src/policy/policy.ts";
import { searchCrf, type SearchResult } from "../src/quality/crf_search.ts";
import { QualityMemory } from "../src/quality/memory.ts";
import { QualityTemps } from "../src/quality/temps.ts";
import { VpoHome } from "../src/queue/layout.ts";
import { type Difficulty, makeDifficultyClip, qualityPolicy } from "./helpers/quality_clips.ts";
import { withTempDir } from "./helpers/temp.ts";
import { CLI, TempHome } from "./helpers/vpo.ts";
import { namesIn, processesMentioning, waitUntil } from "./helpers/worker.ts";
import { CLI_PERMISSIONS } from "../scripts/permissions.ts";
import { metricProblem } from "../src/quality/compare.ts";

const CLAIM = { id: "c".repeat(32), token: "d".repeat(12) };

/** Searches `source` under `policyText` with the memory of `home`. */
async function search(home: string, source: string, policyText: string): Promise<SearchResult> {
  const policy = parsePolicy(policyText, "test.yaml");
  const media = await probe(source);
  const plan = planTranscode(policy, media) as EncodePlan;
  await Deno.mkdir(home, { recursive: true });
  const memory = new QualityMemory(new VpoHome(home).library, (w) => assert.fail(w));
  try {
    return await searchCrf({
      source,
      media,
      plan,
      target: policy.targetQuality!,
      memory,
      temps: new QualityTemps(join(source, ".."), CLAIM),
      run: {
        logPath: join(home, "ffmpeg.log"),
        cpuCores: null,
        cpuSet: null,
        signal: new AbortController().signal,
      },
    });
  } finally {
    memory.close();
  }
}

/** Names of vpo's temps in `dir`. */
const tempsIn = (dir: string) =>
  [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n.startsWith(".vpo-"));

Deno.test("quality: flat, detailed and grainy clips get CRFs in that order, remembered", async () => {
  await withTempDir(async (dir) => {
    const home = join(dir, "home");
    const found: Record<string, number> = {};
    const clips: Record<string, string> = {};
    for (const name of ["flat", "detail", "grain"] as Difficulty[]) {
      // Each in its own folder: a folder's CRF would seed the next search there.
      const folder = join(dir, name);
      await Deno.mkdir(folder);
      clips[name] = await makeDifficultyClip(folder, name);
      const result = await search(home, clips[name], qualityPolicy());
      assert.ok(result.found, `${name}: ${!result.found && result.reason}`);
      if (!result.found) continue;
      assert.ok(result.best.score >= 0.95, `${name}: ${result.best.score}`);
      assert.ok(result.encodes > 0);
      found[name] = result.best.crf;
      assert.deepEqual(tempsIn(folder), [], `${name}: temps left`);
    }
    assert.ok(found.flat > found.detail, JSON.stringify(found));
    assert.ok(found.detail > found.grain, JSON.stringify(found));

    // Again, as a retried job would: every score is remembered, nothing is encoded.
    for (const name of ["flat", "detail", "grain"]) {
      const again = await search(home, clips[name], qualityPolicy());
      assert.equal(again.encodes, 0, `${name} encoded again`);
      assert.ok(again.found && again.best.crf === found[name]);
    }
    // A new minimum starts where the folder's CRF was: that CRF's samples are remembered.
    const stricter = await search(home, clips.detail, qualityPolicy(0.96));
    assert.ok(stricter.found && stricter.best.crf < found.detail);
    assert.ok(stricter.probes[0].remembered, "the folder's CRF was encoded again");
  });
});

Deno.test("quality: no CRF reaches an impossible quality within the size limit", async () => {
  await withTempDir(async (dir) => {
    const clip = await makeDifficultyClip(dir, "grain", 2);
    const policy = qualityPolicy(0.99, "    max_encoded_percent: 30\n");
    const result = await search(join(dir, "home"), clip, policy);
    assert.equal(result.found, false);
    assert.match(!result.found ? result.reason : "", /max_encoded_percent 30/);
    assert.deepEqual(tempsIn(dir), []);
  });
});

Deno.test("quality: a search stopped midway leaves no temp, and resumes from what it measured", async () => {
  await withTempDir(async (dir) => {
    const home = join(dir, "home");
    await Deno.mkdir(home);
    const clip = await makeDifficultyClip(dir, "detail");
    const policy = parsePolicy(qualityPolicy(), "test.yaml");
    const media = await probe(clip);
    const plan = planTranscode(policy, media) as EncodePlan;
    const memory = new QualityMemory(new VpoHome(home).library, () => {});
    const stop = new AbortController();
    let seen = 0;
    await assert.rejects(
      searchCrf({
        source: clip,
        media,
        plan,
        target: policy.targetQuality!,
        memory,
        temps: new QualityTemps(dir, CLAIM),
        run: { logPath: join(home, "log"), cpuCores: null, cpuSet: null, signal: stop.signal },
        // The deadline's check: the second CRF cannot start.
        beforeEncodes: () => {
          if (++seen === 2) throw new Error("deadline");
        },
      }),
      /deadline/,
    );
    memory.close();
    assert.deepEqual(tempsIn(dir), []);
    const resumed = await search(home, clip, qualityPolicy());
    assert.ok(resumed.found);
    assert.ok(resumed.probes[0].remembered, "the first CRF's samples were encoded again");
  });
});

Deno.test("quality: vpo forecast projects a library, queues nothing, remembers its samples", async () => {
  await using home = await TempHome.create();
  const lib = join(home.dir, "lib");
  for (const [folder, kind] of [["Show", "detail"], ["Slides", "flat"]] as const) {
    await Deno.mkdir(join(lib, folder), { recursive: true });
    const clip = await makeDifficultyClip(join(lib, folder), kind, 3);
    await Deno.copyFile(clip, join(lib, folder, "second.mkv"));
  }
  const policy = join(home.dir, "q.yaml");
  await Deno.writeTextFile(policy, qualityPolicy());
  const run = await home.run(["forecast", "--policy", policy, "-r", "--files", "3", "--json", lib]);
  assert.equal(run.code, 0, run.stderr);
  const report = JSON.parse(run.stdout);
  assert.equal(report.toConvert, 4);
  assert.equal(report.searched.length, 3);
  assert.ok(report.total.savedBytes.value > 0);
  assert.ok(report.total.savedBytes.low <= report.total.savedBytes.value);
  assert.ok(report.total.savedBytes.high >= report.total.savedBytes.value);
  // Ranked by bytes saved per encode hour: the slides' tiny files save little.
  const folders = report.folders as { folder: string; bytesPerHour: number }[];
  assert.deepEqual(folders.map((f) => f.folder), [join(lib, "Show"), join(lib, "Slides")]);
  assert.ok(folders[0].bytesPerHour >= folders[1].bytesPerHour);
  const status = await home.run(["jobs", "status", "--json"]);
  assert.equal(JSON.parse(status.stdout).queued, 0);
  // The real run (here a second forecast) finds every sample remembered.
  const again = await home.run(["forecast", "--policy", policy, "-r", "--json", lib]);
  const searched = JSON.parse(again.stdout).searched as { encodes: number }[];
  assert.deepEqual(searched.map((f) => f.encodes), [0, 0, 0, 0]);
  const text = await home.run(["forecast", "--policy", policy, "-r", lib]);
  assert.match(text.stdout, /nothing was queued/);
  assert.match(text.stdout, /^FOLDER +FILES +SIZE +SAVED/m);
});

Deno.test("quality: vmaf without libvmaf is refused at load, in one line; doctor says so", async () => {
  if (await metricProblem("vmaf") === null) return; // this ffmpeg has libvmaf
  await using home = await TempHome.create();
  const policy = join(home.dir, "vmaf.yaml");
  await Deno.writeTextFile(
    policy,
    "transcode:\n  target_video_codec: hevc\n  target_quality:\n    metric: vmaf\n    min: 95\n",
  );
  for (
    const args of [["transcode", "--policy", policy, home.dir], [
      "forecast",
      "--policy",
      policy,
      home.dir,
    ]]
  ) {
    const run = await home.run(args);
    assert.equal(run.code, 1, args[0]);
    assert.equal(
      run.stderr,
      `vpo: ${policy}:4:13: transcode.target_quality.metric: vmaf needs an ffmpeg built with ` +
        "libvmaf, and this one has none: use ssim or psnr, or install an ffmpeg with libvmaf\n",
    );
  }
  const doctor = await home.run(["doctor", "--policy", policy]);
  assert.match(doctor.stdout, /FAIL +encoders for vmaf\.yaml: .*vmaf needs an ffmpeg built/);
  assert.match(doctor.stdout, /ok +quality metrics: ssim, psnr measurable; vmaf needs/);
});

Deno.test("quality: vpo forecast refuses a path it cannot read, in one line, before searching", async () => {
  await using home = await TempHome.create();
  const policy = join(home.dir, "q.yaml");
  await Deno.writeTextFile(policy, qualityPolicy());
  const missing = join(home.dir, "Shwo");
  const run = await home.run(["forecast", "--policy", policy, "-r", missing]);
  assert.equal(run.code, 1, run.stdout);
  assert.equal(run.stderr, `vpo: ${missing}: no such file or directory\n`);
  assert.equal(run.stdout, "");
});

Deno.test("quality: vpo forecast stopped by SIGTERM stops its ffmpeg and leaves no sample", async () => {
  await using home = await TempHome.create();
  const lib = join(home.dir, "lib");
  await Deno.mkdir(lib);
  await makeDifficultyClip(lib, "grain", 12);
  const policy = join(home.dir, "q.yaml");
  await Deno.writeTextFile(policy, qualityPolicy().replace("ultrafast", "medium"));
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", ...CLI_PERMISSIONS, CLI, "forecast", "--policy", policy, lib],
    env: { VPO_HOME: home.vpoHome, NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const temps = join(home.vpoHome, "jobs", ".tmp");
  const samples = () => {
    try {
      return namesIn(temps).filter((n) => n.includes(".quality-"));
    } catch {
      return []; // not made yet
    }
  };
  const ended = child.output();
  try {
    await waitUntil("the first samples", () => samples().length > 0);
  } finally {
    child.kill("SIGTERM");
  }
  const out = await ended;
  assert.equal(out.code, 2, new TextDecoder().decode(out.stderr));
  assert.equal(new TextDecoder().decode(out.stderr), "vpo: interrupted; nothing was queued\n");
  assert.deepEqual(samples(), []);
  assert.deepEqual(await processesMentioning(lib), [], "an ffmpeg still runs");
});

Deno.test("quality: a sample starts at the keyframe within its stretch, however far the one before it is", async () => {
  await using home = await TempHome.create();
  // Keyframes at 0 s and 6 s only; the one 1 s sample of this 12 s file is placed at 5.5 s.
  const clip = join(home.dir, "sparse.mkv");
  const made = await new Deno.Command("ffmpeg", {
    args: [
      ...["-nostdin", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25"],
      ...["-t", "12", "-c:v", "libx264", "-preset", "ultrafast", "-crf", "10"],
      ...["-g", "150", "-keyint_min", "150", "-sc_threshold", "0", clip],
    ],
  }).output();
  assert.ok(made.success);
  const policy = join(home.dir, "q.yaml");
  await Deno.writeTextFile(policy, qualityPolicy().replace("sample_every: 2", "sample_every: 12"));
  const run = await home.run(["forecast", "--policy", policy, "--json", clip]);
  assert.equal(run.code, 0, run.stderr);
  const dir = join(home.vpoHome, "library", "quality");
  const samples = namesIn(dir).flatMap((name) =>
    Deno.readTextFileSync(join(dir, name)).split("\n").filter((l) => l.includes('"sample"'))
      .map((l) => JSON.parse(l) as { sample: string; media_sec: number })
  );
  assert.ok(samples.length > 0);
  // From the keyframe at 6 s, one second; not the 6.5 s from the keyframe at 0.
  for (const s of samples) assert.ok(s.media_sec < 1.5, JSON.stringify(s));
});
