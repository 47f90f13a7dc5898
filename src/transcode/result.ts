/**
 * What a finished transcode job's `result` holds: one shape per outcome.
 *
 * @module
 */
import type { Job, JsonObject } from "../queue/job.ts";
import type { JobFigures, MadeFiles } from "../queue/job_type.ts";
import { ownedBackups, REPLACED_FILES_SHAPE, type ReplacedFiles } from "../replace/backups.ts";
import { fileJobFigures } from "../replace/figures.ts";
import {
  amount,
  jsonList,
  jsonObject,
  readJson,
  readOutcome,
  text,
} from "../config/json_fields.ts";
import { integer, nullable, number, type Reader } from "../config/yaml_schema.ts";
import type { TranscodePayload } from "./payload.ts";
import type { QualityMetric, QualityRule } from "../policy/types.ts";

const count = integer({ min: 0 });

/** Sizes and timing of an encode that ran to its end. */
export type EncodeFigures = {
  /** Bytes of the source. */
  source_size: number;
  /** Bytes of the verified output. */
  output_size: number;
  /** The ffmpeg encoder used (e.g. "libx265"). */
  encoder: string;
  /** Wall seconds of the encode. */
  wall_sec: number;
};

/** The source needed no transcode when the job ran (compliant, or matched by skip_if). */
export type SkippedResult = {
  outcome: "skipped";
  outcome_detail: string;
  /** Why, as the plan said it. */
  reason: string;
};

/**
 * What a job whose policy has a quality target (docs/quality.md) keeps of it: the CRF and the
 * score predicted on samples, the score measured over the whole output, the search's cost.
 */
export type QualityFigures = {
  metric: QualityMetric;
  rule: QualityRule;
  min: number;
  /** The CRF of the output (the retry's, after a retry); null when no CRF was found. */
  crf: number | null;
  /** What the samples predicted at that CRF: score, and the output's bytes. */
  predicted_score: number | null;
  predicted_size: number | null;
  /** The score measured over the whole output; null when nothing was encoded. */
  achieved_score: number | null;
  /** The CRF first encoded, when its output measured below the minimum and was retried. */
  retried_from: number | null;
  /** CRFs the search tried, the sample encodes it ran (0: all remembered), its wall seconds. */
  probes: number;
  sample_encodes: number;
  search_sec: number;
};

/**
 * The original was kept: the output was not smaller, or missed the quality target (then
 * `output_size` is absent when nothing was encoded: no CRF could reach it).
 */
export type KeptOriginalResult = Omit<EncodeFigures, "output_size"> & {
  outcome: "kept_original";
  outcome_detail: string;
  /** Bytes of the output that was dropped; absent when none was made. */
  output_size?: number;
  /** The plan's notes (dropped or converted streams). */
  notes: string[];
  quality?: QualityFigures;
};

/** The output replaced the original, by the worker or, after it died, by recovery. */
export type ReplacedResult = ReplacedFiles & Partial<EncodeFigures> & {
  outcome: "replaced";
  outcome_detail: string;
  /** Bytes saved (source minus output); absent when recovery finished the replace. */
  saved_bytes?: number;
  /** The plan's notes; absent when recovery finished the replace. */
  notes?: string[];
  /** With a quality target; absent when recovery finished the replace. */
  quality?: QualityFigures;
};

/** The result of a transcode job. */
export type TranscodeResult = SkippedResult | KeptOriginalResult | ReplacedResult;

const FIGURES = { source_size: count, output_size: count, encoder: text, wall_sec: amount };
const score = nullable(number(-Infinity));
const QUALITY: Reader<Record<string, unknown>> = (f) =>
  jsonObject(f, {
    metric: text,
    rule: text,
    min: number(-Infinity),
    crf: nullable(count),
    predicted_score: score,
    predicted_size: nullable(count),
    achieved_score: score,
    retried_from: nullable(count),
    probes: count,
    sample_encodes: count,
    search_sec: amount,
  });

/** One reader per outcome: everything a reader of that outcome may rely on. */
const SHAPES: Record<TranscodeResult["outcome"], Reader<Record<string, unknown>>> = {
  skipped: (f) => jsonObject(f, { outcome_detail: text, reason: text }),
  kept_original: (f) => {
    const { output_size, ...figures } = FIGURES;
    return jsonObject(f, { outcome_detail: text, ...figures, notes: jsonList(text) }, {
      // Absent when the quality target kept the original before anything was encoded.
      output_size,
      quality: QUALITY,
    });
  },
  replaced: (f) =>
    jsonObject(f, { outcome_detail: text, ...REPLACED_FILES_SHAPE }, {
      // Absent when recovery finished the replace.
      ...FIGURES,
      // Negative when the policy keeps a larger output.
      saved_bytes: number(-Infinity),
      notes: jsonList(text),
      quality: QUALITY,
    }),
};

/**
 * A job's `result` as a transcode result, checked whole for its outcome, or the first problem
 * as one line; null when there is none (a job not finished yet).
 */
export function readResult(result: JsonObject | null): TranscodeResult | string | null {
  return readOutcome<TranscodeResult>(result, SHAPES);
}

/**
 * What a finished transcode job adds to `vpo stats`: counted under its target codec (see
 * fileJobFigures).
 */
export function transcodeFigures(job: Job): JobFigures {
  const policy = (job.payload as Partial<TranscodePayload>).policy;
  const codec = policy?.targetVideoCodec;
  const figures = fileJobFigures(job, typeof codec === "string" ? codec : "other");
  const quality = qualityOf(job.result?.quality);
  return {
    ...figures,
    // A quality target's search is time the machine spent too.
    wall_sec: figures.wall_sec +
      (figures.outcome === "replaced" || figures.outcome === "kept_original"
        ? quality.searchSec
        : 0),
    ...(quality.figures ? { quality: quality.figures } : {}),
  };
}

/**
 * A result's quality figures as `vpo stats` counts them (its search time, and the score measured
 * when there is one), read on its own: a hand-edited one that is not well formed counts nothing.
 */
function qualityOf(raw: unknown): { figures?: JobFigures["quality"]; searchSec: number } {
  const q = readJson(QUALITY, raw, "quality");
  if (raw === undefined || typeof q === "string") return { searchSec: 0 };
  const searchSec = typeof q.search_sec === "number" ? q.search_sec : 0;
  if (typeof q.achieved_score !== "number") return { searchSec };
  const predicted = q.predicted_score;
  const figures = {
    metric: String(q.metric),
    achieved: q.achieved_score,
    predicted: typeof predicted === "number" ? predicted : null,
    min: Number(q.min),
  };
  return { figures, searchSec };
}

/** The backup a transcode job's result names, when vpo made it for the job. */
export function ownedTranscodeBackups(job: Job): MadeFiles {
  return ownedBackups(job, readResult);
}
