/**
 * What a finished job that rewrote a library file adds to `vpo stats` and to the bytes saved a
 * worker run reports, for any job type whose result names its sizes and time the same way
 * (`source_size`, `output_size`, `wall_sec`).
 *
 * @module
 */
import type { Job } from "../queue/job.ts";
import type { FileOutcome, JobFigures } from "../queue/job_type.ts";

const num = (v: unknown): number => (typeof v === "number" && Number.isFinite(v) ? v : 0);
const OUTCOMES: readonly FileOutcome[] = ["replaced", "kept_original", "skipped"];

/**
 * The figures of `job`, counted in the row `group` of `vpo stats`'s table. Only the fields
 * counted are read, each on its own, so a job whose result misses other fields still counts.
 */
export function fileJobFigures(job: Job, group: string): JobFigures {
  const outcome = job.result?.outcome;
  const replaced = outcome === "replaced";
  return {
    group,
    outcome: OUTCOMES.find((o) => o === outcome) ?? null,
    source_bytes: replaced ? num(job.result?.source_size) : 0,
    output_bytes: replaced ? num(job.result?.output_size) : 0,
    wall_sec: outcome === "replaced" || outcome === "kept_original" ? num(job.result?.wall_sec) : 0,
  };
}
