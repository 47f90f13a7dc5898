/**
 * The transcode job's recovery hook: the queue takes each stale job over, then this module
 * finishes or undoes an interrupted file replace from the steps the job recorded, so the
 * original is never lost and the job ends in exactly one state.
 *
 * @module
 */
import type { RecoveryDecision, StaleJob } from "../queue/recovery.ts";
import { readPayload } from "./payload.ts";
import { checkSteps } from "../replace/journal_trust.ts";
import { resumeReplace } from "../replace/replace_journal.ts";
import type { ReplacedResult } from "./result.ts";

/**
 * Decides where a stale transcode job goes after repairing its files. The journal is acted on
 * only when every path in it is one vpo would have made for the job (see {@link checkSteps});
 * `tempDirectory` is the configured `jobs.temp_directory`.
 */
export async function decideRecovery(
  stale: StaleJob,
  tempDirectory: string | null,
): Promise<RecoveryDecision> {
  const raw = stale.live?.steps;
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
  if (raw === undefined || raw === null) return requeue;
  const steps = checkSteps(raw, stale.job, tempDirectory);
  if (typeof steps === "string") {
    // Nothing it names is touched. Requeued, the job starts over and the files it left (the
    // original included) are where they were; a run that finds its temp name taken fails.
    return { ...requeue, detail: `journal not acted on: ${steps}` };
  }
  const { verdict, left: kept } = await resumeReplace(steps);
  const left = kept.length ? `; left in place: ${kept.join(", ")}` : "";
  if (verdict === "rolled_back") {
    return { ...requeue, detail: `partial output removed, original intact${left}` };
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
    detail: `the output was already in place; replace finished${left}`,
  };
}
