/**
 * Recovery of jobs whose worker died: the queue takes each stale job over, and the job type's
 * hook repairs what the dead worker left (for a transcode, an interrupted file replace).
 *
 * @module
 */
import type { Config } from "../config/types.ts";
import type { Problem } from "../queue/scan.ts";
import type { RecoveredJob } from "../queue/recovery.ts";
import type { JobQueue } from "../queue/store.ts";
import type { JobTypes } from "../queue/job_type.ts";

/**
 * Recovers stale running jobs of `queue` as `config.worker.staleAfter` defines them, each
 * repaired by its job type's hook (a job of a type unknown here is requeued).
 */
export async function recoverStale(
  queue: JobQueue,
  config: Config,
  types: JobTypes,
): Promise<{ recovered: RecoveredJob[]; problems: Problem[] }> {
  return await queue.recover({
    staleAfterSec: config.worker.staleAfter,
    onStale: async (stale) => (await types.of(stale.job)?.recover(stale, config)) ?? null,
  });
}
