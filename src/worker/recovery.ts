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
import { decideRecovery } from "../transcode/recovery.ts";

/** Recovers stale running jobs of `queue` as `config.worker.staleAfter` defines them. */
export async function recoverStale(
  queue: JobQueue,
  config: Config,
): Promise<{ recovered: RecoveredJob[]; problems: Problem[] }> {
  return await queue.recover({ staleAfterSec: config.worker.staleAfter, onStale: decideRecovery });
}
