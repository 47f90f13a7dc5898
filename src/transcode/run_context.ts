/**
 * What the steps of one transcode run share (see `run.ts`): the job, its checked payload, the
 * worker's offer, and the replace journal; and where its output goes once chosen.
 *
 * @module
 */
import type { ClaimedJob } from "../queue/claimed_job.ts";
import type { RunContext, WorkerEnv } from "../queue/job_type.ts";
import type { ReplaceJournal } from "../replace/replace_journal.ts";
import type { TranscodePayload } from "./payload.ts";
import type { OpenedSegments } from "./segments/open.ts";
import type { SpeedHistory } from "./speed_history.ts";

/** What every step of one run shares. */
export interface TranscodeRun {
  claimed: ClaimedJob;
  /** The job's file. */
  source: string;
  payload: TranscodePayload;
  env: WorkerEnv;
  speed: SpeedHistory;
  ctx: RunContext;
  /** The replace journal, kept in the job's live file (see `src/replace/replace_journal.ts`). */
  journal: ReplaceJournal;
}

/** Where the output goes, decided before anything is written. */
export interface Target {
  /** The temp output, made exclusively (P1). */
  temp: string;
  /** Where the new file goes (the source's path, or its stem with the new extension). */
  final: string;
  /**
   * The segments' directory (its path, and the directory held open) and journal when the source
   * is encoded segment by segment.
   */
  segments: ({ dir: string } & OpenedSegments) | null;
}

/** Throws the stop's reason once the run was told to stop (deadline, signal, cancel, lost). */
export function throwIfStopped(signal: AbortSignal): void {
  if (signal.aborted) throw signal.reason;
}
