/**
 * What a scan of the library decides for each file it is given: the words `vpo transcode` prints
 * one line in, `vpo serve`'s "queue a folder" counts by, and the closing summary line sums up.
 *
 * @module
 */

/** How a file was decided. */
export type DecisionStatus =
  | "queued"
  | "skipped"
  | "remembered"
  | "waiting"
  | "unreadable"
  | "error";

/** The decision for one input path. */
export interface FileDecision {
  /** The file the decision is about (absolute once probed). */
  path: string;
  /**
   * Queued (or, on a dry run, would be); skipped; remembered from an earlier run; waiting (still
   * being written); unreadable (not media ffprobe can read); or an error (no such path, no
   * permission).
   */
  status: DecisionStatus;
  /** For skipped and remembered files: the kind of reason ("compliant", "failed", ...). */
  reason?: string;
  /** Job id when queued. */
  jobId?: string;
  /** One line: what will happen, or why not. */
  detail: string;
  /** The exact ffmpeg command (dry runs). */
  command?: string;
  /** Dropped or converted streams and other warnings of the plan. */
  notes?: string[];
}
