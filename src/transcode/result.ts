/**
 * What a finished transcode job's `result` holds: one shape per outcome.
 *
 * @module
 */
import type { Job } from "../queue/job.ts";
import type { MadeFiles } from "../queue/job_type.ts";
import { isBackupPathOf } from "../replace/journal_trust.ts";

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

/** Where the new file and the kept original are after a replace. */
export type ReplacedFiles = {
  /** Where the new file is. */
  output_path: string;
  /** Where the original was kept (`<source>.original[.N]`); null when backups are off. */
  backup_path: string | null;
  /** Bytes of the backup when it was made: `jobs cleanup` removes it only while it still has them. */
  backup_size: number | null;
  /** Inode of the backup (the original's): `jobs cleanup` removes it only while it still is. */
  backup_ino: number | null;
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

const OUTCOMES: readonly string[] = ["skipped", "kept_original", "replaced"];

/**
 * A job's `result` as a transcode result, or null when it is none (not finished, or edited by hand
 * into another outcome). Only the outcome is checked: figures in a hand-edited file may still not
 * be numbers, so readers that add them up check each.
 */
export function readResult(result: Record<string, unknown> | null): TranscodeResult | null {
  return typeof result?.outcome === "string" && OUTCOMES.includes(result.outcome)
    ? result as TranscodeResult
    : null;
}

/**
 * The backup a job's result names, when it is one vpo made for that job: `<file>.original[.N]`
 * of the job's file, a regular file (not a link) with the inode and size vpo recorded. A backup
 * named but not acted on (moved or replaced since, a hand edit, or a network file system whose
 * inode numbers change per mount) is listed in `left` with the reason.
 */
export function ownedBackups(job: Job): MadeFiles {
  const none: MadeFiles = { made: [], left: [] };
  const backup = job.result?.backup_path;
  if (backup === undefined || backup === null) return none;
  const path = String(backup);
  const left = (reason: string): MadeFiles => ({ made: [], left: [{ path, reason }] });
  if (!job.file || !isBackupPathOf(job.file, backup)) {
    return left(`not <file>.original[.N] of the job's file ${job.file}`);
  }
  const { backup_ino: ino, backup_size: size } = job.result ?? {};
  if (typeof ino !== "number" || typeof size !== "number") {
    return left("no inode or size recorded for it");
  }
  let info: Deno.FileInfo;
  try {
    info = Deno.lstatSync(backup);
  } catch {
    return none;
  }
  if (!info.isFile) return left("not a regular file");
  if (info.ino !== ino || info.size !== size) {
    return left("not the file vpo recorded (inode or size differ)");
  }
  return { made: [{ path: backup, ino, size }], left: [] };
}
