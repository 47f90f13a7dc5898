/**
 * A job as `vpo jobs list --json` and `vpo jobs show --json` print it and `vpo serve`'s API
 * returns it: one shape for every reader of the queue.
 *
 * @module
 */
import type { LiveInfo } from "./claimed_job.ts";
import type { Job } from "./job.ts";

/** A job as `--json` prints it: the record with `status`, its path, and live progress if any. */
export function jobToJson(job: Job, live: LiveInfo | null): Record<string, unknown> {
  const { state, path, ...record } = job;
  return { status: state, ...record, path, live };
}
