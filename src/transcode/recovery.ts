/**
 * The transcode job's recovery hook: the queue takes each stale job over, then the replace's
 * recovery (`src/replace/recovery.ts`) finishes or undoes an interrupted file replace, and this
 * module says where the job goes, so the original is never lost and the job ends in exactly one
 * state.
 *
 * @module
 */
import type { RecoveryDecision, StaleJob } from "../queue/recovery.ts";
import { replaceRecoveryDecision } from "../replace/recovery.ts";
import { readPayload } from "./payload.ts";
import type { ReplacedResult } from "./result.ts";
import { segmentProgressOf } from "./segment_progress.ts";

/**
 * Decides where a stale transcode job goes after repairing its files; `tempDirectory` is the
 * configured `jobs.temp_directory`.
 */
export function decideRecovery(
  stale: StaleJob,
  tempDirectory: string | null,
): Promise<RecoveryDecision> {
  // segments: a requeued segmented job shows the progress its finished segments keep (as its
  // live file last recorded it; the next run reads the segments' records). What was running then
  // (and where) is not running any more.
  const { running: _, plan_id: __, ...kept } = stale.live?.segments ?? {};
  const segments = stale.live?.segments ? segmentProgressOf(kept) : null;
  const payload = readPayload(stale.job.payload);
  return replaceRecoveryDecision(stale, {
    tempDirectory,
    requeue: segments
      ? {
        progress: segments.percent,
        payload: { ...stale.job.payload, segment_progress: segments },
      }
      : {},
    source: typeof payload === "string" ? null : payload.fingerprint,
    replaced: (files): ReplacedResult => ({
      outcome: "replaced",
      outcome_detail: "replace finished by recovery after the worker died",
      ...files,
    }),
  });
}
