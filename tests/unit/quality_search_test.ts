/**
 * The quality engine's pure parts: the CRF search's steps against curves whose answer is known,
 * the score summaries and rules, sample placement, and the policy's `target_quality` block.
 */
import assert from "node:assert/strict";
import { MAX_PROBES, nextStep, type Probe, type SearchGoal } from "../../src/quality/search.ts";
import { frameScore, scoreOf, summarize, vmafColumnOf } from "../../src/quality/scores.ts";
import { planSamples, sampleKey, settingsKey } from "../../src/quality/samples.ts";
import { type EncodePlan, planTranscode } from "../../src/media/plan.ts";
import type { TranscodePolicy } from "../../src/policy/types.ts";
import { media, TEST_POLICY, video } from "../helpers/media_info.ts";
import { parsePolicy } from "../../src/policy/policy.ts";
import { checkPolicySnapshot } from "../../src/policy/snapshot.ts";

const GOAL: SearchGoal = { min: 0.95, tolerance: 0.002, maxPercent: 80, crfMin: 10, crfMax: 46 };

/** Runs a search against `curve` (score and percent per CRF); returns the end and the CRFs tried. */
function runSearch(
  curve: (crf: number) => { score: number; percent: number },
  goal: SearchGoal = GOAL,
  seed: { crf: number; slope: number | null; found: boolean } | null = null,
) {
  const probes: Probe[] = [];
  for (;;) {
    const step = nextStep(probes, goal, seed);
    if (step.kind !== "probe") return { step, tried: probes.map((p) => p.crf) };
    assert.ok(!probes.some((p) => p.crf === step.crf), `crf ${step.crf} tried twice`);
    assert.ok(step.crf >= goal.crfMin && step.crf <= goal.crfMax, `crf ${step.crf} out of range`);
    probes.push({ crf: step.crf, ...curve(step.crf) });
  }
}

/** A smooth SSIM-like curve falling from ~1 at crf 0, with `k` setting how hard the content is. */
const ssimCurve = (k: number) => (crf: number) => ({
  score: 1 - Math.exp((crf - 60) / k) * 0.5,
  percent: 120 * Math.exp(-crf / 12),
});

/** The answer by brute force: the highest CRF passing and small enough, or null. */
function truth(curve: ReturnType<typeof ssimCurve>, goal = GOAL): number | null {
  let best: number | null = null;
  for (let c = goal.crfMin; c <= goal.crfMax; c++) {
    const p = curve(c);
    if (p.score >= goal.min) best = c;
  }
  return best !== null && curve(best).percent <= goal.maxPercent ? best : null;
}

Deno.test("search: finds the highest CRF reaching the minimum, on curves of every difficulty", () => {
  for (const k of [4, 6, 8, 10, 14, 20]) {
    const curve = ssimCurve(k);
    const { step, tried } = runSearch(curve);
    const want = truth(curve);
    if (want === null) {
      assert.equal(step.kind, "none", `k ${k}`);
      continue;
    }
    assert.equal(step.kind, "found", `k ${k}: ${JSON.stringify(step)}`);
    if (step.kind !== "found") continue;
    // Within the tolerance band a lower CRF may be taken; never one below the minimum.
    assert.ok(step.probe.score >= GOAL.min, `k ${k}`);
    assert.ok(step.probe.crf === want || step.probe.score < GOAL.min + GOAL.tolerance, `k ${k}`);
    assert.ok(tried.length <= MAX_PROBES, `k ${k}: ${tried}`);
  }
});

Deno.test("search: starts mid-range, or at the seed; a good seed needs fewer CRFs", () => {
  assert.deepEqual(nextStep([], GOAL), { kind: "probe", crf: 28 });
  const start = { crf: 60, slope: null, found: false };
  assert.deepEqual(nextStep([], GOAL, start), { kind: "probe", crf: 46 });
  const curve = ssimCurve(10);
  const fresh = runSearch(curve);
  assert.equal(fresh.step.kind, "found");
  const found = fresh.step.kind === "found" ? fresh.step.probe.crf : 0;
  const seeded = runSearch(curve, GOAL, { crf: found, slope: null, found: true });
  assert.ok(seeded.tried.length <= 2, `seeded: ${seeded.tried}`);
  assert.ok(seeded.tried.length < fresh.tried.length, `${seeded.tried} vs ${fresh.tried}`);
});

Deno.test("search: none when even the lowest CRF fails, or the quality needs too many bytes", () => {
  const hopeless = (crf: number) => ({ score: 0.9 - crf / 1000, percent: 50 });
  const low = runSearch(hopeless);
  assert.equal(low.step.kind, "none");
  assert.match(low.step.kind === "none" ? low.step.reason : "", /even crf 10, the lowest/);
  // Reaching 0.95 needs crf <= 20, where the output is 90 % of the source.
  const big = (crf: number) => ({ score: 1 - crf / 400, percent: 110 - crf });
  const heavy = runSearch(big);
  assert.equal(heavy.step.kind, "none");
  assert.match(heavy.step.kind === "none" ? heavy.step.reason : "", /max_encoded_percent 80/);
});

Deno.test("search: a failing CRF already too large ends it at once", () => {
  const probes = [{ crf: 28, score: 0.9, percent: 95 }];
  const step = nextStep(probes, GOAL);
  assert.equal(step.kind, "none");
});

Deno.test("scores: pooled percentiles match the percentile of the frames themselves", () => {
  const frames = (n: number, from: number, to: number) =>
    Array.from({ length: n }, (_, i) => from + (to - from) * i / (n - 1));
  const a = frames(500, 0.90, 0.99);
  const b = frames(300, 0.95, 1.0);
  const sa = summarize(a)!;
  const sb = summarize(b)!;
  const all = [...a, ...b].sort((x, y) => x - y);
  for (const p of [1, 5, 10, 25, 50]) {
    const exact = all[Math.round((p / 100) * (all.length - 1))];
    assert.ok(Math.abs(scoreOf([sa, sb], `p${p}`) - exact) < 0.002, `p${p}`);
  }
  const mean = all.reduce((x, y) => x + y, 0) / all.length;
  assert.ok(Math.abs(scoreOf([sa, sb], "mean") - mean) < 1e-6);
});

Deno.test("scores: ffmpeg's ssim and psnr statistics lines and libvmaf's CSV log", () => {
  assert.equal(
    frameScore("ssim", "n:7 Y:0.987654 U:0.99 V:0.99 All:0.988123 (19.245)"),
    0.988123,
  );
  assert.equal(frameScore("psnr", "n:1 mse_avg:0.00 psnr_avg:inf psnr_y:inf"), 100);
  assert.equal(frameScore("psnr", "n:2 mse_avg:1.2 mse_y:1 psnr_avg:47.31 psnr_y:47"), 47.31);
  assert.equal(frameScore("ssim", "frame=12"), null);
  const column = vmafColumnOf("Frame,integer_adm2,integer_motion,vmaf");
  assert.equal(column, 3);
  assert.equal(frameScore("vmaf", "4,0.98,1.2,93.5", column), 93.5);
  assert.equal(frameScore("vmaf", "", column), null);
});

Deno.test("samples: one per sample_every seconds, evenly spaced; the whole file when short", () => {
  const target = { sampleSeconds: 20, sampleEvery: 720 };
  assert.equal(planSamples(600, target).spans.length, 1);
  const film = planSamples(7200, target);
  assert.equal(film.spans.length, 10);
  const gaps = film.spans.map((s, i) => s.start - (i ? film.spans[i - 1].start + 20 : 0));
  assert.ok(gaps.every((g) => Math.abs(g - gaps[0]) < 0.01), `${gaps}`);
  const short = planSamples(22, target);
  assert.equal(short.whole, true);
  assert.equal(sampleKey(short, short.spans[0]), "whole");
  assert.equal(sampleKey(film, film.spans[0]), "636.364+20.000");
});

const POLICY = "transcode:\n  target_video_codec: hevc\n  target_quality:\n";

Deno.test("policy: target_quality's defaults, and each key checked where it is written", () => {
  const q = parsePolicy(`${POLICY}    min: 0.97\n    rule: P5\n`, "p.yaml").targetQuality!;
  assert.deepEqual(q, {
    metric: "ssim",
    min: 0.97,
    rule: "p5",
    maxEncodedPercent: 80,
    crfMin: 10,
    crfMax: 46,
    sampleSeconds: 10,
    sampleEvery: 300,
    tolerance: 0.002,
  });
  const bad: [string, RegExp][] = [
    ["    metric: ssim\n", /p\.yaml:4:5: transcode\.target_quality\.min: missing required key/],
    ["    min: 1.2\n", /4:10: transcode\.target_quality\.min: 1\.2 is above the best ssim/],
    ["    min: 0.9\n    rule: p80\n", /5:11: .*rule: "p80" is not a rule/],
    ["    min: 0.9\n    crf_range: [40, 20]\n", /crf_range: \[40, 20\] is not a CRF range/],
    ["    min: 0.9\n    metric: vmf\n", /did you mean "vmaf"/],
  ];
  for (const [block, message] of bad) {
    assert.throws(() => parsePolicy(POLICY + block, "p.yaml"), message);
  }
  assert.throws(
    () => parsePolicy(`${POLICY}    min: 0.9\n  target_bitrate: 5M\n`, "p.yaml"),
    /target_bitrate: target_quality searches a CRF for each file/,
  );
  assert.throws(
    () =>
      parsePolicy(`${POLICY}    metric: vmaf\n    min: 95\n`, "p.yaml", {
        unavailableMetrics: new Map([["vmaf", "no libvmaf here"]]),
      }),
    /p\.yaml:4:13: transcode\.target_quality\.metric: no libvmaf here/,
  );
});

Deno.test("policy: a job's snapshot keeps the block, checked key by key; old jobs have none", () => {
  const policy = parsePolicy(`${POLICY}    min: 0.97\n`, "p.yaml");
  const snap = JSON.parse(JSON.stringify(policy));
  assert.deepEqual(checkPolicySnapshot(snap, "job: payload.policy"), policy);
  const { targetQuality: _, ...old } = snap;
  assert.equal(checkPolicySnapshot(old, "job: payload.policy").targetQuality, undefined);
  assert.throws(
    () =>
      checkPolicySnapshot(
        { ...snap, targetQuality: { ...snap.targetQuality, min: 3 } },
        "job: payload.policy",
      ),
    /job: payload\.policy\.targetQuality\.min: 3 is above the best ssim score/,
  );
});

Deno.test("memory: a sample's score is kept under every encoder setting that changes it, no other", () => {
  const planOf = (policy: Partial<TranscodePolicy>, encoder = "libx265") => {
    const info = media([video({ width: 3840, height: 1600 })], { duration: 60, size: 1e9 });
    const plan = planTranscode({ ...TEST_POLICY, ...policy }, info, { encoder });
    assert.equal(plan.action, "transcode");
    return plan as EncodePlan;
  };
  const base = settingsKey(planOf({}), "ssim");
  // The CRF is kept beside the score.
  assert.equal(settingsKey(planOf({ targetCrf: 20 }), "ssim"), base);
  for (
    const [what, key] of [
      ["preset", settingsKey(planOf({ preset: "medium" }), "ssim")],
      ["scaling", settingsKey(planOf({ maxWidth: 1280, maxHeight: 720 }), "ssim")],
      ["encoder", settingsKey(planOf({}, "hevc_nvenc"), "ssim")],
      ["codec", settingsKey(planOf({ targetVideoCodec: "av1" }, "libsvtav1"), "ssim")],
      ["metric", settingsKey(planOf({}), "psnr")],
    ] as const
  ) assert.notEqual(key, base, `${what} changed, the key did not`);
});
