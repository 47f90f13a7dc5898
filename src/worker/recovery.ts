/**
 * Recovery of jobs whose worker died: the queue takes each stale job over, then this module
 * finishes or undoes an interrupted file replace from the steps the job recorded, so the
 * original is never lost and the job ends in exactly one state.
 *
 * @module
 */
import type { Config } from "../config/types.ts";
import type { Problem } from "../queue/scan.ts";
import type { JobQueue, RecoveredJob, RecoveryDecision, StaleJob } from "../queue/store.ts";
import { type ReplaceSteps, resumeReplace } from "./replace.ts";

/** Decides where a stale transcode job goes after repairing its files. */
export async function decideRecovery(stale: StaleJob): Promise<RecoveryDecision> {
  const steps = stale.live?.steps as ReplaceSteps | undefined;
  const requeue: RecoveryDecision = {
    state: "queued",
    changes: { attempts: stale.job.attempts + 1 },
  };
  if (!steps?.phase) return requeue;
  if (await resumeReplace(steps) === "rolled_back") {
    return { ...requeue, detail: "partial output removed, original intact" };
  }
  return {
    state: "completed",
    changes: {
      attempts: stale.job.attempts + 1,
      finished_at: new Date().toISOString(),
      progress: 100,
      result: {
        outcome: "replaced",
        outcome_detail: "replace finished by recovery after the worker died",
        output_path: steps.final,
        backup_path: steps.backup,
      },
    },
    detail: "the output was already in place; replace finished",
  };
}

/** Recovers stale running jobs of `queue` as `config.worker.staleAfter` defines them. */
export async function recoverStale(
  queue: JobQueue,
  config: Config,
): Promise<{ recovered: RecoveredJob[]; problems: Problem[] }> {
  return await queue.recover({ staleAfterSec: config.worker.staleAfter, onStale: decideRecovery });
}
