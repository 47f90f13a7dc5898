/**
 * Recovery's part in the replace: a dead worker's journal (the `steps` of its live file) is
 * finished or undone, so that the original is never lost, whichever job type was replacing.
 *
 * @module
 */
import type { JsonObject } from "../queue/job.ts";
import type { RecoveryDecision, StaleJob } from "../queue/recovery.ts";
import type { RecordChanges } from "../queue/transition.ts";
import { type ReplacedFiles, replacedFiles } from "./backups.ts";
import type { Fingerprint } from "./fingerprint.ts";
import { checkSteps } from "./journal_trust.ts";
import { type ReplaceSteps, resumeReplace, type ResumeVerdict } from "./replace_journal.ts";

/** What recovery did with a dead worker's replace. */
export interface ReplaceRecovery {
  /**
   * "completed": the new file is in place; "rolled_back": the original is, and no output is
   * left; null: nothing to do (no journal) or nothing done (a journal not trusted).
   */
  verdict: ResumeVerdict | null;
  /** The steps acted on (where the new file and the backup are); null when none were. */
  steps: ReplaceSteps | null;
  /** One line for the job's history; absent without a journal. */
  detail?: string;
}

/**
 * Finishes or undoes the replace `stale` journaled, acting only when every path in the journal
 * is one vpo would have made for the job (see {@link checkSteps}); `tempDirectory` is the
 * configured `jobs.temp_directory`.
 */
export async function recoverReplace(
  stale: StaleJob,
  tempDirectory: string | null,
): Promise<ReplaceRecovery> {
  const raw = stale.live?.steps;
  if (raw === undefined || raw === null) return { verdict: null, steps: null };
  const steps = checkSteps(raw, stale.job, tempDirectory);
  if (typeof steps === "string") {
    // Nothing it names is touched. Requeued, the job starts over and the files it left (the
    // original included) are where they were; a run that finds its temp name taken fails.
    return { verdict: null, steps: null, detail: `journal not acted on: ${steps}` };
  }
  const { verdict, left: kept } = await resumeReplace(steps);
  const left = kept.length ? `; left in place: ${kept.join(", ")}` : "";
  return {
    verdict,
    steps,
    detail: verdict === "rolled_back"
      ? `partial output removed, original intact${left}`
      : `the output was already in place; replace finished${left}`,
  };
}

/** What {@link replaceRecoveryDecision} needs from a job type. */
export interface ReplaceRecoveryOptions {
  /** The configured `jobs.temp_directory`. */
  tempDirectory: string | null;
  /** Changes to the record when the job goes back to the queue, besides one attempt more. */
  requeue?: RecordChanges;
  /** The source's fingerprint at queue time (null when the payload cannot be read). */
  source: Fingerprint | null;
  /** The job's result when recovery finished its replace, from where the files are. */
  replaced: (files: ReplacedFiles) => JsonObject;
}

/**
 * Where a stale job that rewrites a library file goes once {@link recoverReplace} repaired its
 * files: completed with `replaced`'s result when the new file was already in place, else back to
 * the queue with one attempt more.
 */
export async function replaceRecoveryDecision(
  stale: StaleJob,
  o: ReplaceRecoveryOptions,
): Promise<RecoveryDecision> {
  const attempts = stale.job.attempts + 1;
  const requeue: RecoveryDecision = { state: "queued", changes: { attempts, ...o.requeue } };
  const { verdict, steps, detail } = await recoverReplace(stale, o.tempDirectory);
  if (verdict !== "completed" || steps === null) {
    return detail === undefined ? requeue : { ...requeue, detail };
  }
  return {
    state: "completed",
    changes: {
      attempts,
      finished_at: new Date().toISOString(),
      progress: 100,
      result: o.replaced(replacedFiles(steps, o.source)),
    },
    detail,
  };
}
