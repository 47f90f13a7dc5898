/**
 * What a finished apply job's `result` holds: one shape per outcome, read back whole.
 *
 * @module
 */
import { amount, jsonList, jsonObject, readOutcome, text } from "../config/json_fields.ts";
import { integer, type Reader } from "../config/yaml_schema.ts";
import type { Job, JsonObject } from "../queue/job.ts";
import type { JobFigures, MadeFiles } from "../queue/job_type.ts";
import { ownedBackups, REPLACED_FILES_SHAPE, type ReplacedFiles } from "../replace/backups.ts";
import { fileJobFigures } from "../replace/figures.ts";

const count = integer({ min: 0 });

/** The tracks already complied when the job ran. */
export type ApplySkippedResult = {
  outcome: "skipped";
  outcome_detail: string;
  /** Why, as the plan said it. */
  reason: string;
};

/** Sizes and timing of a copy that ran to its end. */
export type CopyFigures = {
  /** Bytes of the source. */
  source_size: number;
  /** Bytes of the verified output. */
  output_size: number;
  /** Wall seconds of the copy. */
  wall_sec: number;
};

/** The output replaced the original, by the worker or, after it died, by recovery. */
export type ApplyReplacedResult = ReplacedFiles & Partial<CopyFigures> & {
  outcome: "replaced";
  outcome_detail: string;
  /** What changed, one line each (absent when recovery finished the replace). */
  changes?: string[];
  /** The readers that checked the output: ffprobe, and mkvmerge for Matroska. */
  checked_with?: string[];
  /** The plan's notes. */
  notes?: string[];
};

/** The result of an apply job. */
export type ApplyResult = ApplySkippedResult | ApplyReplacedResult;

const SHAPES: Record<ApplyResult["outcome"], Reader<Record<string, unknown>>> = {
  skipped: (f) => jsonObject(f, { outcome_detail: text, reason: text }),
  replaced: (f) =>
    jsonObject(f, { outcome_detail: text, ...REPLACED_FILES_SHAPE }, {
      // Absent when recovery finished the replace.
      source_size: count,
      output_size: count,
      wall_sec: amount,
      changes: jsonList(text),
      checked_with: jsonList(text),
      notes: jsonList(text),
    }),
};

/**
 * A job's `result` as an apply result, checked whole for its outcome, or the first problem as
 * one line; null when there is none (a job not finished yet).
 */
export function readApplyResult(result: JsonObject | null): ApplyResult | string | null {
  return readOutcome<ApplyResult>(result, SHAPES);
}

/** What a finished apply job adds to `vpo stats`: a row "tracks" of its own. */
export function applyFigures(job: Job): JobFigures {
  return fileJobFigures(job, "tracks");
}

/** The backup an apply job's result names, when vpo made it for the job. */
export function ownedApplyBackups(job: Job): MadeFiles {
  return ownedBackups(job, readApplyResult);
}
