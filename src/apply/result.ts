/**
 * What a finished apply job's `result` holds: one shape per outcome, read back whole.
 *
 * @module
 */
import { amount, jsonList, jsonObject, readJson, text } from "../config/json_fields.ts";
import { integer, nullable, type Reader } from "../config/yaml_schema.ts";
import type { Job, JsonObject } from "../queue/job.ts";
import type { JobFigures, MadeFiles } from "../queue/job_type.ts";
import { ownedBackup, type ReplacedFiles } from "../replace/backups.ts";
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
    jsonObject(f, {
      outcome_detail: text,
      output_path: text,
      backup_path: nullable(text),
      backup_size: nullable(count),
      backup_ino: nullable(count),
    }, {
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
  if (result === null) return null;
  const outcome = result.outcome;
  if (typeof outcome !== "string" || !Object.hasOwn(SHAPES, outcome)) {
    return `result.outcome: expected one of ${Object.keys(SHAPES).join(", ")}, got ${
      JSON.stringify(outcome) ?? "nothing"
    }`;
  }
  const read = readJson(SHAPES[outcome as ApplyResult["outcome"]], result, "result");
  return typeof read === "string" ? read : read as ApplyResult;
}

/** What a finished apply job adds to `vpo stats`: a row "tracks" of its own. */
export function applyFigures(job: Job): JobFigures {
  return fileJobFigures(job, "tracks");
}

/** The backup an apply job's result names, when vpo made it for the job (see ownedBackup). */
export function ownedApplyBackups(job: Job): MadeFiles {
  const result = readApplyResult(job.result);
  const files = typeof result === "string"
    ? result
    : result?.outcome === "replaced"
    ? result
    : null;
  return ownedBackup(job.file, job.result?.backup_path, files);
}
