/**
 * The transcode job's recovery hook: the queue takes each stale job over, then this module
 * finishes or undoes an interrupted file replace from the steps the job recorded, so the
 * original is never lost and the job ends in exactly one state.
 *
 * @module
 */
import type { RecoveryDecision, StaleJob } from "../queue/recovery.ts";
import { readPayload } from "./payload.ts";
import { type ReplaceSteps, resumeReplace } from "./replace_journal.ts";
import type { ReplacedResult } from "./result.ts";

/** Decides where a stale transcode job goes after repairing its files. */
export async function decideRecovery(stale: StaleJob): Promise<RecoveryDecision> {
  const steps = stale.live?.steps as ReplaceSteps | undefined;
  // segments: a requeued segmented job shows the progress its finished segments keep (as its
  // live file last recorded it; the next run reads the segments' journal).
  const segments = stale.live?.segments;
  const requeue: RecoveryDecision = {
    state: "queued",
    changes: {
      attempts: stale.job.attempts + 1,
      ...(segments
        ? {
          progress: typeof segments.percent === "number" ? segments.percent : null,
          payload: { ...stale.job.payload, segment_progress: segments },
        }
        : {}),
    },
  };
  if (!steps?.phase) return requeue;
  if (await resumeReplace(steps) === "rolled_back") {
    return { ...requeue, detail: "partial output removed, original intact" };
  }
  // The backup is the original, which was the file fingerprinted at queue time: the replace
  // only starts once the source is checked to be unchanged since.
  const payload = readPayload(stale.job.payload);
  const result: ReplacedResult = {
    outcome: "replaced",
    outcome_detail: "replace finished by recovery after the worker died",
    output_path: steps.final,
    backup_path: steps.backup,
    backup_size: steps.backup && typeof payload !== "string" ? payload.fingerprint.size : null,
  };
  return {
    state: "completed",
    changes: {
      attempts: stale.job.attempts + 1,
      finished_at: new Date().toISOString(),
      progress: 100,
      result,
    },
    detail: "the output was already in place; replace finished",
  };
}
