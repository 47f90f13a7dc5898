/**
 * Which CRF to try next, from the CRFs tried so far: the search's decisions, without ffmpeg.
 *
 * Taken from ab-av1's `crf-search`: start in the middle of the range (vpo: at the folder's last
 * CRF when there is one), jump towards the edge that must hold the answer, then interpolate
 * linearly between the two CRFs that bracket the minimum; stop at a CRF whose score is at or
 * above the minimum by less than the tolerance, or at the highest passing CRF when the next one
 * up fails. Scores fall and sizes shrink as the CRF rises; a CRF that fails the minimum while its
 * output is already too large proves no CRF can do both. Unlike ab-av1, CRFs are whole numbers
 * (as the policy's `target_crf`), the interpolation aims at the middle of the tolerance band,
 * and a one-sided step uses the score's slope when one is known (from the folder's last search,
 * or two CRFs tried) instead of jumping to the range's edge.
 *
 * @module
 */
import type { QualityMetric } from "../policy/types.ts";

/**
 * Scales on which each metric falls about linearly with the CRF. SSIM flattens towards 1, so it
 * is taken in decibels, -10 log10(1 - SSIM), as ffmpeg prints it; PSNR already is, and VMAF
 * is near enough.
 */
export const LINEAR: Readonly<Record<QualityMetric, (score: number) => number>> = {
  ssim: (s) => -10 * Math.log10(Math.max(1e-10, 1 - s)),
  psnr: (s) => s,
  vmaf: (s) => s,
};

/** A CRF tried: its score (by the policy's rule) and its predicted output size. */
export interface Probe {
  crf: number;
  score: number;
  /** Predicted output size, percent of the source's. */
  percent: number;
}

/** What the search is after. */
export interface SearchGoal {
  min: number;
  tolerance: number;
  maxPercent: number;
  crfMin: number;
  crfMax: number;
  /**
   * A scale on which the score falls about linearly with the CRF, for interpolating (SSIM in
   * dB: near 1 SSIM flattens out); identity when absent. It must rise with the score.
   */
  linear?: (score: number) => number;
}

/** Where to start: a CRF found before (or a mere start), and how fast the score fell there. */
export interface SearchSeed {
  crf: number;
  /** Score lost per CRF step, on the goal's linear scale; null when unknown. */
  slope: number | null;
  /** True when `crf` was found for a file like this one: the answer is likely next to it. */
  found: boolean;
}

/** The next step of a search. */
export type SearchStep =
  | { kind: "probe"; crf: number }
  | { kind: "found"; probe: Probe }
  | { kind: "none"; reason: string };

/** A search that has not ended by then takes the best CRF it has (or none). */
export const MAX_PROBES = 10;

/**
 * The next step after `probes` (in the order tried).
 *
 * @example A seeded search whose first CRF lands inside the tolerance ends at once
 * ```ts
 * import assert from "node:assert/strict";
 * const goal = { min: 0.95, tolerance: 0.002, maxPercent: 80, crfMin: 10, crfMax: 46 };
 * assert.deepEqual(nextStep([], goal, { crf: 27, slope: null, found: true }), {
 *   kind: "probe",
 *   crf: 27,
 * });
 * const probe = { crf: 27, score: 0.951, percent: 40 };
 * assert.deepEqual(nextStep([probe], goal), { kind: "found", probe });
 * ```
 */
export function nextStep(
  probes: readonly Probe[],
  goal: SearchGoal,
  seed: SearchSeed | null = null,
): SearchStep {
  const { min, tolerance, maxPercent, crfMin: lo, crfMax: hi } = goal;
  const clamp = (crf: number, from: number, to: number) =>
    Math.min(to, Math.max(from, Math.round(crf)));
  if (probes.length === 0) return { kind: "probe", crf: clamp(seed?.crf ?? (lo + hi) / 2, lo, hi) };
  const passes = (p: Probe) => p.score >= min;
  const small = (p: Probe) => p.percent <= maxPercent;
  // The highest CRF reaching the minimum, and the lowest one above it that does not.
  const best = maxBy(probes.filter(passes), (p) => p.crf);
  const above = minBy(
    probes.filter((p) => !passes(p) && p.crf > (best?.crf ?? -Infinity)),
    (p) => p.crf,
  );
  // Failing and too large already: every lower CRF is larger still (a failing CRF below the
  // best passing one is noise in the scores, and proves nothing).
  const tooBigFail = probes.find((p) =>
    !passes(p) && !small(p) && p.crf > (best?.crf ?? -Infinity)
  );
  if (tooBigFail) {
    return {
      kind: "none",
      reason: `crf ${tooBigFail.crf} scores ${tooBigFail.score} (below ${min}) and is already ` +
        `${round1(tooBigFail.percent)} % of the source (max_encoded_percent ${maxPercent}): ` +
        "lower CRFs only grow",
    };
  }
  const settle = (p: Probe): SearchStep =>
    small(p) ? { kind: "found", probe: p } : {
      kind: "none",
      reason: `crf ${p.crf} is the highest to reach ${min} (${p.score}), and its output would be ` +
        `${round1(p.percent)} % of the source (max_encoded_percent ${maxPercent})`,
    };
  if (best && best.score < min + tolerance && small(best)) return { kind: "found", probe: best };
  if (best && (best.crf === hi || above?.crf === best.crf + 1)) return settle(best);
  if (!best && above!.crf === lo) {
    return {
      kind: "none",
      reason: `even crf ${lo}, the lowest of the range, scores only ${above!.score} (min ${min})`,
    };
  }
  if (probes.length >= MAX_PROBES) {
    return best ? settle(best) : { kind: "none", reason: `no CRF found in ${MAX_PROBES} tries` };
  }
  const linear = goal.linear ?? ((score: number) => score);
  const aim = linear(min + tolerance / 2);
  const slope = slopeOf(probes, linear) ?? seed?.slope ?? null;
  let next: number;
  if (best && above) {
    // Linear between the bracketing pair, strictly inside it.
    const [b, a] = [linear(best.score), linear(above.score)];
    next = clamp(
      best.crf + (b - aim) / (b - a) * (above.crf - best.crf),
      best.crf + 1,
      above.crf - 1,
    );
  } else if (best) {
    // Without a slope: next to a seed (the answer is likely near it), else ab-av1's jump.
    const jump = seed?.found ? best.crf + 1 : probes.length === 1 ? 0.4 * best.crf + 0.6 * hi : hi;
    next = clamp(slope ? best.crf + (linear(best.score) - aim) / slope : jump, best.crf + 1, hi);
  } else {
    const worst = above!;
    const jump = seed?.found
      ? worst.crf - 1
      : probes.length === 1
      ? 0.4 * worst.crf + 0.6 * lo
      : lo;
    next = clamp(
      slope ? worst.crf - (aim - linear(worst.score)) / slope : jump,
      lo,
      worst.crf - 1,
    );
  }
  return { kind: "probe", crf: untried(probes, next, best?.crf ?? lo - 1, above?.crf ?? hi + 1) };
}

/**
 * Score lost per CRF step (on the `linear` scale) between the two probes nearest each other;
 * null with fewer than two distinct CRFs or when the scores do not fall.
 */
export function slopeOf(
  probes: readonly Probe[],
  linear: (score: number) => number = (score) => score,
): number | null {
  const sorted = [...probes].sort((a, b) => a.crf - b.crf);
  let best: number | null = null;
  let span = Infinity;
  for (let i = 1; i < sorted.length; i++) {
    const [a, b] = [sorted[i - 1], sorted[i]];
    const width = b.crf - a.crf;
    if (width > 0 && width < span && a.score > b.score) {
      span = width;
      best = (linear(a.score) - linear(b.score)) / width;
    }
  }
  return best;
}

/** `crf` if not tried yet, else the untried CRF in (low, high) nearest to it. */
function untried(probes: readonly Probe[], crf: number, low: number, high: number): number {
  const tried = new Set(probes.map((p) => p.crf));
  for (let d = 0; d <= high - low; d++) {
    for (const c of [crf + d, crf - d]) if (c > low && c < high && !tried.has(c)) return c;
  }
  return crf;
}

const round1 = (n: number) => Math.round(n * 10) / 10;

function maxBy<T>(items: readonly T[], key: (item: T) => number): T | undefined {
  return items.reduce<T | undefined>(
    (m, x) => (m === undefined || key(x) > key(m) ? x : m),
    undefined,
  );
}

function minBy<T>(items: readonly T[], key: (item: T) => number): T | undefined {
  return maxBy(items, (x) => -key(x));
}
