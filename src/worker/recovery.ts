/**
 * Recovery of jobs whose worker died: the queue takes the job over, then this module decides
 * where it goes.
 *
 * @module
 */
import type { Config } from "../config/types.ts";
import type { JobQueue, RecoveredJob } from "../queue/store.ts";
import type { Problem } from "../queue/scan.ts";

/** Recovers stale running jobs of `queue` as `config.worker.staleAfter` defines them. */
export async function recoverStale(
  queue: JobQueue,
  config: Config,
): Promise<{ recovered: RecoveredJob[]; problems: Problem[] }> {
  return await queue.recover({ staleAfterSec: config.worker.staleAfter });
}
