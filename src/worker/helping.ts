/**
 * A worker with nothing of its own to run helps with the jobs other workers hold, where their type
 * cuts them into pieces anybody may claim (for transcode, the segments of a long encode): the
 * worker knows no pieces, it asks each running job's type to take one.
 *
 * @module
 */
import type { Job } from "../queue/job.ts";
import type { HelpOutcome, JobRunner } from "../queue/job_type.ts";
import type { VpoHome } from "../queue/layout.ts";
import type { JobQueue } from "../queue/store.ts";
import type { WorkerReporter } from "./reporter.ts";

/** What a worker loop offers the jobs it helps with. */
export interface Helper {
  queue: JobQueue;
  home: VpoHome;
  /** The runner of `job`'s type in this worker loop; undefined when the type is unknown here. */
  runnerOf(job: Job): JobRunner | undefined;
  reporter: WorkerReporter;
  /** Aborted when the worker must stop. */
  signal: AbortSignal;
  deadline: Date | null;
  /** Names this worker loop in the names of its logs (`<id>.<name>.log`). */
  name: string;
}

/**
 * Offers help to each running job in turn until one takes it: "helped" when a piece was done,
 * "busy" when pieces are left that others are doing, "none" when there is nothing to help with.
 */
export async function helpWithRunningJobs(helper: Helper): Promise<HelpOutcome> {
  let busy = false;
  for (const job of helper.queue.list({ status: "running" }).jobs) {
    if (helper.signal.aborted) return "none";
    const runner = helper.runnerOf(job);
    if (!runner?.help) continue;
    const file = job.file ?? "";
    const outcome = await runner.help(job, {
      signal: helper.signal,
      deadline: helper.deadline,
      live: helper.queue.readLive(job),
      logPath: helper.home.helperLogPath(job.id, helper.name),
      progress: (p) =>
        helper.reporter.progress(job.id, file, {
          percent: p.percent,
          fps: p.fps,
          speed: p.speed,
          etaSec: p.eta_sec,
        }),
      event: (detail) => helper.reporter.event("helping", job.id, job.file, detail),
      warn: (text) => helper.reporter.event("warning", job.id, null, text),
    });
    if (outcome === "helped") return "helped";
    if (outcome === "busy") busy = true;
  }
  return busy ? "busy" : "none";
}
