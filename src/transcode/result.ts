/**
 * What a finished transcode job's `result` holds: one shape per outcome.
 *
 * @module
 */
import type { Job, JsonObject } from "../queue/job.ts";
import type { JobFigures, MadeFiles } from "../queue/job_type.ts";
import { ownedBackups, REPLACED_FILES_SHAPE, type ReplacedFiles } from "../replace/backups.ts";
import { fileJobFigures } from "../replace/figures.ts";
import { amount, jsonList, jsonObject, readOutcome, text } from "../config/json_fields.ts";
import { integer, number, type Reader } from "../config/yaml_schema.ts";
import type { TranscodePayload } from "./payload.ts";

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

/** The output was not smaller, so it was dropped and the original kept. */
export type KeptOriginalResult = EncodeFigures & {
  outcome: "kept_original";
  outcome_detail: string;
  /** The plan's notes (dropped or converted streams). */
  notes: string[];
};

/** The output replaced the original, by the worker or, after it died, by recovery. */
export type ReplacedResult = ReplacedFiles & Partial<EncodeFigures> & {
  outcome: "replaced";
  outcome_detail: string;
  /** Bytes saved (source minus output); absent when recovery finished the replace. */
  saved_bytes?: number;
  /** The plan's notes; absent when recovery finished the replace. */
  notes?: string[];
};

/** The result of a transcode job. */
export type TranscodeResult = SkippedResult | KeptOriginalResult | ReplacedResult;

const FIGURES = { source_size: count, output_size: count, encoder: text, wall_sec: amount };

/** One reader per outcome: everything a reader of that outcome may rely on. */
const SHAPES: Record<TranscodeResult["outcome"], Reader<Record<string, unknown>>> = {
  skipped: (f) => jsonObject(f, { outcome_detail: text, reason: text }),
  kept_original: (f) => jsonObject(f, { outcome_detail: text, ...FIGURES, notes: jsonList(text) }),
  replaced: (f) =>
    jsonObject(f, { outcome_detail: text, ...REPLACED_FILES_SHAPE }, {
      // Absent when recovery finished the replace.
      ...FIGURES,
      // Negative when the policy keeps a larger output.
      saved_bytes: number(-Infinity),
      notes: jsonList(text),
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
  return fileJobFigures(job, typeof codec === "string" ? codec : "other");
}

/** The backup a transcode job's result names, when vpo made it for the job. */
export function ownedTranscodeBackups(job: Job): MadeFiles {
  return ownedBackups(job, readResult);
}
