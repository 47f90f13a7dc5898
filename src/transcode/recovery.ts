/**
 * The transcode job's recovery hook: the queue takes each stale job over, then the replace's
 * recovery (`src/replace/recovery.ts`) finishes or undoes an interrupted file replace, and this
 * module says where the job goes, so the original is never lost and the job ends in exactly one
 * state.
 *
 * @module
 */
import type { RecoveryDecision, StaleJob } from "../queue/recovery.ts";
import { recoverReplace } from "../replace/recovery.ts";
import { readPayload } from "./payload.ts";
import type { ReplacedResult } from "./result.ts";
import { segmentProgressOf } from "./segment_progress.ts";

/**
 * Decides where a stale transcode job goes after repairing its files; `tempDirectory` is the
 * configured `jobs.temp_directory`.
 */
export async function decideRecovery(
  stale: StaleJob,
  tempDirectory: string | null,
): Promise<RecoveryDecision> {
  // segments: a requeued segmented job shows the progress its finished segments keep (as its
  // live file last recorded it; the next run reads the segments' journal).
  const segments = segmentProgressOf(stale.live?.segments);
  const requeue: RecoveryDecision = {
    state: "queued",
    changes: {
      attempts: stale.job.attempts + 1,
      ...(segments
        ? {
          progress: segments.percent,
          payload: { ...stale.job.payload, segment_progress: segments },
        }
        : {}),
    },
  };
  const { verdict, steps, detail } = await recoverReplace(stale, tempDirectory);
  if (verdict !== "completed" || steps === null) {
    return detail === undefined ? requeue : { ...requeue, detail };
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
    backup_ino: steps.backup && typeof payload !== "string" ? payload.fingerprint.ino : null,
  };
  return {
    state: "completed",
    changes: {
      attempts: stale.job.attempts + 1,
      finished_at: new Date().toISOString(),
      progress: 100,
      result,
    },
    detail,
  };
}
