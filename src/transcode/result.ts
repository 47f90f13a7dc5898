/**
 * What a finished transcode job's `result` holds: one shape per outcome.
 *
 * @module
 */

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
 * The backup a job's result names, if the file is there with the size vpo recorded (so a file
 * someone else put at that path is never touched); else none.
 */
export function ownedBackups(result: Record<string, unknown> | null): string[] {
  const backup = result?.backup_path;
  const size = result?.backup_size;
  if (typeof backup !== "string" || typeof size !== "number") return [];
  try {
    const info = Deno.statSync(backup);
    return info.isFile && info.size === size ? [backup] : [];
  } catch {
    return [];
  }
}
