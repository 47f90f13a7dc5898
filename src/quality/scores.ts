/**
 * Per-frame quality scores, folded into what is kept of them: the frame count, the mean, and a
 * table of percentiles. From tables of several samples a file's score is had under any rule (the
 * mean, or a low percentile of all their frames pooled), so a remembered sample serves a later
 * search with another rule or minimum without being encoded again.
 *
 * @module
 */
import type { QualityMetric, QualityRule } from "../policy/types.ts";
import { rulePercentile } from "../policy/target_quality.ts";

/** The percentiles a summary keeps: dense where the low-percentile rules look. */
export const QUANTILE_POINTS: readonly number[] = [
  0,
  1,
  2,
  3,
  4,
  5,
  7.5,
  10,
  15,
  20,
  25,
  30,
  40,
  50,
  60,
  70,
  80,
  90,
  100,
];

/** What is kept of the per-frame scores of one comparison. */
export interface ScoreSummary {
  /** Frames scored. */
  frames: number;
  /** Mean of the per-frame scores. */
  mean: number;
  /** The score at each of {@link QUANTILE_POINTS}, ascending. */
  q: number[];
}

/** Scores are kept to 6 decimals: SSIM's own print precision, far finer than PSNR's or VMAF's. */
const round6 = (n: number) => Math.round(n * 1e6) / 1e6;

/**
 * The summary of per-frame scores; null when there are none.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const s = summarize([0.9, 1, 0.95])!;
 * assert.equal(s.frames, 3);
 * assert.equal(s.mean, 0.95);
 * assert.equal(s.q[0], 0.9);
 * assert.equal(s.q.at(-1), 1);
 * ```
 */
export function summarize(scores: ArrayLike<number>): ScoreSummary | null {
  const n = scores.length;
  if (n === 0) return null;
  const sorted = Float64Array.from(scores).sort();
  let sum = 0;
  for (const s of sorted) sum += s;
  const at = (p: number) => {
    const pos = (p / 100) * (n - 1);
    const low = Math.floor(pos);
    const high = Math.min(n - 1, low + 1);
    return sorted[low] + (sorted[high] - sorted[low]) * (pos - low);
  };
  return { frames: n, mean: round6(sum / n), q: QUANTILE_POINTS.map((p) => round6(at(p))) };
}

/** True when `value` is a summary as {@link summarize} makes them (a memory line may be edited). */
export function isSummary(value: unknown): value is ScoreSummary {
  const s = value as Partial<ScoreSummary>;
  return typeof s === "object" && s !== null && Number.isSafeInteger(s.frames) &&
    s.frames! > 0 && Number.isFinite(s.mean) && Array.isArray(s.q) &&
    s.q.length === QUANTILE_POINTS.length && s.q.every(Number.isFinite) &&
    s.q.every((v, i) => i === 0 || v >= s.q![i - 1]);
}

/**
 * The score of several summaries together under `rule`: the mean of all their frames, or the
 * percentile of all their frames pooled (each summary's frames spread along its table).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const a = summarize([0.90, 0.91, 0.92, 0.93])!;
 * const b = summarize([0.97, 0.98, 0.99, 1.00])!;
 * assert.equal(scoreOf([a, b], "mean"), 0.95);
 * assert.ok(scoreOf([a, b], "p10") < 0.92);
 * ```
 */
export function scoreOf(summaries: readonly ScoreSummary[], rule: QualityRule): number {
  const frames = summaries.reduce((n, s) => n + s.frames, 0);
  const p = rulePercentile(rule);
  if (p === null) return round6(summaries.reduce((sum, s) => sum + s.mean * s.frames, 0) / frames);
  // The pooled distribution's share of frames below x, from each table as a piecewise-linear
  // distribution; solved for the percentile by bisection (it only grows with x).
  const below = (x: number) =>
    summaries.reduce((sum, s) => sum + s.frames * shareBelow(s.q, x), 0) / frames;
  let low = Math.min(...summaries.map((s) => s.q[0]));
  let high = Math.max(...summaries.map((s) => s.q.at(-1)!));
  for (let i = 0; i < 50 && high - low > 1e-9; i++) {
    const mid = (low + high) / 2;
    if (below(mid) < p / 100) low = mid;
    else high = mid;
  }
  return round6((low + high) / 2);
}

/** Share (0-1) of a table's frames scoring below `x`. */
function shareBelow(q: readonly number[], x: number): number {
  if (x <= q[0]) return 0;
  if (x >= q[q.length - 1]) return 1;
  for (let i = 1; i < q.length; i++) {
    if (x <= q[i]) {
      const span = q[i] - q[i - 1];
      const t = span > 0 ? (x - q[i - 1]) / span : 1;
      return (QUANTILE_POINTS[i - 1] + t * (QUANTILE_POINTS[i] - QUANTILE_POINTS[i - 1])) / 100;
    }
  }
  return 1;
}

/** PSNR of identical frames is infinite; counted as this many dB (no encode gets near it). */
const PSNR_CAP = 100;

/**
 * Reads one per-frame score from a line of ffmpeg's statistics for `metric` (the `ssim` and
 * `psnr` filters' `stats_file` lines; for `vmaf`, a row of libvmaf's CSV log, whose column is
 * found from its header, given as `vmafColumn`). Null for any other line.
 */
export function frameScore(metric: QualityMetric, line: string, vmafColumn = -1): number | null {
  if (metric === "vmaf") {
    const value = Number(line.split(",")[vmafColumn]);
    return vmafColumn >= 0 && line.trim() !== "" && Number.isFinite(value) ? value : null;
  }
  const key = metric === "ssim" ? " All:" : " psnr_avg:";
  const at = line.indexOf(key);
  if (!line.startsWith("n:") || at < 0) return null;
  const text = line.slice(at + key.length).split(" ")[0];
  if (text === "inf") return PSNR_CAP;
  const value = Number(text);
  return Number.isFinite(value) ? Math.min(value, PSNR_CAP) : null;
}

/** The column of libvmaf's CSV log holding the VMAF score, from its header line; -1 if none. */
export function vmafColumnOf(header: string): number {
  return header.trim().split(",").indexOf("vmaf");
}
