/**
 * The `target_quality` block of a transcode policy: a quality each file must reach, its CRF
 * searched per file on samples (src/quality/), instead of one CRF for every file.
 *
 * ```yaml
 * transcode:
 *   target_video_codec: hevc
 *   target_quality:
 *     metric: ssim          # ssim (default), psnr, or vmaf where ffmpeg has libvmaf
 *     min: 0.98             # on the metric's scale
 *     rule: mean            # or p5: the 5th percentile of per-frame scores
 *     max_encoded_percent: 80
 * ```
 *
 * The defaults, and why, are in docs/quality.md.
 *
 * @module
 */
import {
  choice,
  type Field,
  integer,
  list,
  number,
  parsed,
  type Reader,
  type Section,
} from "../config/yaml_schema.ts";
import type { QualityMetric, QualityRule, TargetQuality, VideoCodec } from "./types.ts";

/** The metrics a policy may name, the default first. */
export const QUALITY_METRICS: readonly QualityMetric[] = ["ssim", "psnr", "vmaf"];

/** Each metric's scale: its best score, the default tolerance, and a typical minimum. */
export const METRIC_SCALES: Readonly<
  Record<QualityMetric, { best: number; tolerance: number; typical: number; unit: string }>
> = {
  // SSIM moves about 0.002-0.005 per CRF step around 0.95-0.98 (measured on x265).
  ssim: { best: 1, tolerance: 0.002, typical: 0.98, unit: "0-1" },
  // PSNR in dB; ffmpeg reports identical frames as inf, counted as 100.
  psnr: { best: 100, tolerance: 0.5, typical: 40, unit: "dB" },
  // ab-av1's default minimum is VMAF 95.
  vmaf: { best: 100, tolerance: 1, typical: 95, unit: "0-100" },
};

/** CRF range searched when a policy names none: ab-av1's defaults for these encoders. */
export const DEFAULT_CRF_RANGES: Readonly<Record<VideoCodec, readonly [number, number]>> = {
  hevc: [10, 46],
  h264: [10, 46],
  vp9: [10, 55],
  av1: [10, 55],
};

/**
 * Defaults of the keys that have one. ab-av1's 80 %; its 20 s per 12 minutes of samples becomes
 * 10 s per 5 minutes: about the same seconds encoded per CRF on a long film, in twice as many
 * places (a film's scenes differ more than one sample's frames do).
 */
export const QUALITY_DEFAULTS = {
  rule: "mean" as QualityRule,
  maxEncodedPercent: 80,
  sampleSeconds: 10,
  sampleEvery: 300,
};

/** Lowest percentile a rule may name: below it a handful of frames decide a film's score. */
const MAX_PERCENTILE = 50;

/** Reads `mean` or `pN` (N from 1 to 50). */
export function parseRule(value: string | number): QualityRule {
  const text = String(value).trim().toLowerCase();
  if (text === "mean") return "mean";
  const m = /^p(\d+)$/.exec(text);
  const n = m ? Number(m[1]) : NaN;
  if (n >= 1 && n <= MAX_PERCENTILE) return `p${n}`;
  throw new Error(
    `"${value}" is not a rule (mean, or p1-p${MAX_PERCENTILE}: a low percentile of per-frame ` +
      "scores)",
  );
}

/** The percentile a rule names, or null for the mean. */
export function rulePercentile(rule: QualityRule): number | null {
  return rule === "mean" ? null : Number(rule.slice(1));
}

const metric = choice("a quality metric", QUALITY_METRICS);
const rule = parsed("a rule such as mean or p5", parseRule);
const percent = number(0, 100);
const seconds = number(0, 3600);

/** The keys of `target_quality:` in a policy file. */
export const TARGET_QUALITY_SPEC = {
  metric,
  min: number(0),
  rule,
  max_encoded_percent: percent,
  crf_range: list(integer()),
  sample_seconds: seconds,
  sample_every: number(0, 86_400),
  tolerance: number(0),
};

/** The readers of a job's snapshot of the block (its camelCase keys, every one present). */
export const TARGET_QUALITY_SNAPSHOT: { [K in keyof TargetQuality]: Reader<TargetQuality[K]> } = {
  metric,
  min: number(0),
  rule: (field) => {
    if (typeof field.value !== "string") field.fail("expected a rule such as mean or p5");
    return rule(field);
  },
  maxEncodedPercent: percent,
  crfMin: integer(),
  crfMax: integer(),
  sampleSeconds: seconds,
  sampleEvery: number(0, 86_400),
  tolerance: number(0),
};

/** The key of a policy file each field of {@link TargetQuality} is written at. */
const YAML_KEYS: Readonly<Record<keyof TargetQuality, keyof typeof TARGET_QUALITY_SPEC>> = {
  metric: "metric",
  min: "min",
  rule: "rule",
  maxEncodedPercent: "max_encoded_percent",
  crfMin: "crf_range",
  crfMax: "crf_range",
  sampleSeconds: "sample_seconds",
  sampleEvery: "sample_every",
  tolerance: "tolerance",
};

/** Options of {@link readTargetQuality}. */
export interface QualityReadOptions {
  /** Metrics this host cannot measure, with why (vmaf without libvmaf): refused at the key. */
  unavailable?: ReadonlyMap<QualityMetric, string>;
}

/**
 * The block as written in a policy file, with its defaults, checked against the codec's CRF
 * range (`crfRange`) and the metric's scale; problems are reported at the key.
 */
export function readTargetQuality(
  block: Section<typeof TARGET_QUALITY_SPEC>,
  codec: VideoCodec,
  crfRange: { min: number; max: number },
  opts: QualityReadOptions = {},
): TargetQuality {
  const v = block.values;
  const chosen = v.metric ?? QUALITY_METRICS[0];
  const why = opts.unavailable?.get(chosen);
  if (why) block.at("metric").fail(why);
  if (v.min === undefined) {
    const s = METRIC_SCALES[chosen];
    return block.at("min").fail(
      `missing required key: the lowest ${chosen} score to accept (${s.unit}, e.g. ${s.typical})`,
    );
  }
  const range = v.crf_range ?? DEFAULT_CRF_RANGES[codec];
  if (range.length !== 2) block.at("crf_range").fail("expected two CRFs, [lowest, highest]");
  const quality: TargetQuality = {
    metric: chosen,
    min: v.min,
    rule: v.rule ?? QUALITY_DEFAULTS.rule,
    maxEncodedPercent: v.max_encoded_percent ?? QUALITY_DEFAULTS.maxEncodedPercent,
    crfMin: range[0],
    crfMax: range[1],
    sampleSeconds: v.sample_seconds ?? QUALITY_DEFAULTS.sampleSeconds,
    sampleEvery: v.sample_every ?? QUALITY_DEFAULTS.sampleEvery,
    tolerance: v.tolerance ?? METRIC_SCALES[chosen].tolerance,
  };
  const at = (key: keyof TargetQuality) => block.at(YAML_KEYS[key]);
  return checkTargetQuality(quality, at, crfRange);
}

/**
 * The rules between keys, for a policy file's block and a job's snapshot alike: `min` and
 * `tolerance` within the metric's scale, a CRF range inside the codec's, samples no further apart
 * than they are long. `at` gives the field each key is reported at.
 */
export function checkTargetQuality(
  q: TargetQuality,
  at: (key: keyof TargetQuality) => Field,
  crfRange: { min: number; max: number },
): TargetQuality {
  const scale = METRIC_SCALES[q.metric];
  if (q.min > scale.best) {
    at("min").fail(`${q.min} is above the best ${q.metric} score (${scale.best})`);
  }
  if (q.tolerance > scale.best / 10) {
    at("tolerance").fail(`${q.tolerance} is too wide for ${q.metric} (at most ${scale.best / 10})`);
  }
  if (q.crfMin < crfRange.min || q.crfMax > crfRange.max || q.crfMin >= q.crfMax) {
    at("crfMin").fail(
      `[${q.crfMin}, ${q.crfMax}] is not a CRF range within ${crfRange.min}-${crfRange.max} ` +
        "(two CRFs, the lower first)",
    );
  }
  if (q.sampleEvery < q.sampleSeconds) {
    at("sampleEvery").fail(
      `${q.sampleEvery} is shorter than sample_seconds (${q.sampleSeconds}): samples would overlap`,
    );
  }
  return q;
}
