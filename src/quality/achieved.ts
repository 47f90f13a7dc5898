/**
 * The quality an encode achieved, measured over the whole output against the source after the
 * encode (every frame: the check costs a fraction of the encode, measured in docs/benchmarks.md),
 * and what to do about an output below the minimum: one retry at a CRF lowered by the shortfall.
 *
 * @module
 */
import type { EncodePlan } from "../media/plan.ts";
import type { ProgressUpdate } from "../media/progress.ts";
import type { TargetQuality } from "../policy/types.ts";
import { compareVideos } from "./compare.ts";
import type { SampleRun } from "./ffmpeg_step.ts";
import { encodedVideo } from "./samples.ts";
import { scoreOf, type ScoreSummary } from "./scores.ts";
import { LINEAR } from "./search.ts";
import type { QualityTemps } from "./temps.ts";

/** What {@link measureAchieved} compares. */
export interface AchievedOptions {
  /** The encoded output (a path ffmpeg can open: the temp's `/proc/<pid>/fd/<n>`). */
  output: string;
  source: string;
  plan: EncodePlan;
  target: TargetQuality;
  durationSec: number;
  temps: QualityTemps;
  run: SampleRun;
  onProgress?: (update: ProgressUpdate) => void;
}

/** The output's score under the policy's rule, and the summary it came from. */
export async function measureAchieved(
  opts: AchievedOptions,
): Promise<{ score: number; summary: ScoreSummary }> {
  const video = encodedVideo(opts.plan);
  const summary = await compareVideos({
    metric: opts.target.metric,
    distorted: opts.output,
    reference: opts.source,
    referenceStream: `${video.inputIndex}`,
    width: video.width,
    height: video.height,
    scale: video.scale,
    pixFmt: video.pixFmt,
    durationSec: opts.durationSec,
    temps: opts.temps,
    onProgress: opts.onProgress,
    ...opts.run,
  });
  return { score: scoreOf([summary], opts.target.rule), summary };
}

/** True when `score` reaches the target's minimum, give or take its tolerance. */
export const reaches = (target: TargetQuality, score: number): boolean =>
  score >= target.min - target.tolerance;

/**
 * The CRF to retry at when an encode at `crf` measured `achieved` below the minimum: lower by the
 * shortfall (to the middle of the tolerance band above the minimum) at `slope` (score lost per
 * CRF step on the metric's linear scale, from the search), at least one step and at most to the
 * range's lowest CRF; null when `crf` is that already.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const target = { metric: "psnr", min: 40, tolerance: 0.5, crfMin: 10 } as const;
 * assert.equal(retryCrf(30, 38.5, target, 0.5), 26);
 * assert.equal(retryCrf(30, 39.9, target, null), 29);
 * assert.equal(retryCrf(12, 30, target, 0.5), 10);
 * assert.equal(retryCrf(10, 39, target, 1), null);
 * ```
 */
export function retryCrf(
  crf: number,
  achieved: number,
  target: Pick<TargetQuality, "metric" | "min" | "tolerance" | "crfMin">,
  slope: number | null,
): number | null {
  const linear = LINEAR[target.metric];
  const short = linear(target.min + target.tolerance / 2) - linear(achieved);
  const steps = slope && slope > 0 ? Math.max(1, Math.ceil(short / slope)) : 1;
  return crf > target.crfMin ? Math.max(target.crfMin, crf - steps) : null;
}
