/**
 * One claimed job's life in the worker, whatever its type: heartbeats, cancel requests, stops
 * (deadline, signal, lost), progress, and the one transition that ends the run.
 *
 * @module
 */
import { JobFailure, LostJobError } from "../errors.ts";
import type { ClaimedJob } from "../queue/claimed_job.ts";
import type { JobRunner, JobType, LiveProgress } from "../queue/job_type.ts";
import type { RecordChanges } from "../queue/transition.ts";
import type { WorkerReporter } from "./reporter.ts";

/** Why a running job was told to stop. */
export type StopReason = "deadline" | "signal" | "cancel" | "lost";

/** How a job ended, for the worker's counts. */
export type JobOutcome = "completed" | "failed" | "cancelled" | "requeued" | "lost";

/**
 * Why work was aborted (the reason of an AbortSignal): the job goes back to the queue, or to
 * cancelled/, or is simply let go when it was lost.
 */
export class Stopped extends Error {
  /** `reason` decides where the job goes; `why` is the line recorded and reported. */
  constructor(readonly reason: StopReason, readonly why: string) {
    super(why);
  }
}

/** What the worker gives each run. */
export interface RunJobOptions {
  /** The job's type and its runner in this worker; undefined when the type is unknown here. */
  type: { type: JobType; runner: JobRunner } | undefined;
  /** Receives event lines and progress. */
  reporter: WorkerReporter;
  /** Seconds between heartbeats. */
  heartbeatIntervalSec: number;
  /** Aborted (with a {@link Stopped} reason) when the worker must stop. */
  stop: AbortSignal;
  /** When the worker must stop; null when it has no deadline. */
  deadline: Date | null;
  /** Seconds from the worker's start to its deadline; null without one. */
  windowSec: number | null;
}

/** Seconds between progress writes to the job's live file. */
const PROGRESS_WRITE_SEC = 2;

/** Runs `claimed` to its end and returns how it ended. Never throws for the job's own faults. */
export async function runJob(claimed: ClaimedJob, opts: RunJobOptions): Promise<JobOutcome> {
  const { reporter } = opts;
  const job = claimed.record;
  const file = job.file ?? "-";
  const stopper = new AbortController();
  const stop = (reason: StopReason, why: string) => {
    if (!stopper.signal.aborted) stopper.abort(new Stopped(reason, why));
  };
  const onWorkerStop = () => {
    const r = opts.stop.reason as Stopped;
    stop(r.reason, r.why);
  };
  if (opts.stop.aborted) onWorkerStop();
  opts.stop.addEventListener("abort", onWorkerStop);
  // Heartbeats run on their own timer, independent of the job's own work; a cancel request is a
  // cheap local stat, checked every second so `jobs cancel --running` acts within seconds.
  const beat = setInterval(() => {
    claimed.heartbeat().catch((err) => {
      if (err instanceof LostJobError) stop("lost", err.message);
    });
  }, opts.heartbeatIntervalSec * 1000);
  const cancelPoll = setInterval(() => {
    claimed.cancelRequested().then((asked) => {
      if (asked) stop("cancel", "cancelled by vpo jobs cancel --running");
    }, () => {});
  }, 1000);
  const base: RecordChanges = {
    started_at: claimed.live.claimed_at,
    worker: claimed.live.worker,
  };
  // What the job type keeps (requeued) or drops (ended) of its own; a failure here fails no job.
  const ending = (requeued: boolean, failure: JobFailure | null = null): Promise<RecordChanges> =>
    opts.type?.runner.ending?.(claimed, requeued, failure).catch(() => ({})) ??
      Promise.resolve({});
  try {
    reporter.event("started", job.id, job.file, opts.type?.type.summary(job) ?? "");
    if (!opts.type) throw new JobFailure(`unknown job type "${job.type}"`);
    const result = await opts.type.runner.run(claimed, {
      signal: stopper.signal,
      progress: progressWriter(claimed, reporter),
      deadline: opts.deadline,
      windowSec: opts.windowSec,
      outOfTime(why) {
        stop("deadline", why);
        throw stopper.signal.reason;
      },
      warn: (text) => reporter.event("warning", job.id, null, text),
      note: (text) => reporter.event("note", job.id, job.file, text),
    });
    const changes = {
      ...base,
      ...await ending(false),
      attempts: job.attempts + 1,
      finished_at: now(),
      error: null,
    };
    await claimed.finish(
      "completed",
      { ...changes, progress: 100, result },
      "completed",
      result.outcome_detail,
    );
    reporter.event("completed", job.id, job.file, result.outcome_detail);
    return "completed";
  } catch (err) {
    const stopped = stopper.signal.aborted ? stopper.signal.reason as Stopped : null;
    if (err instanceof LostJobError || stopped?.reason === "lost") {
      reporter.event(
        "lost",
        job.id,
        job.file,
        "the job was recovered by another process; stopped without touching it",
      );
      return "lost";
    }
    try {
      if (stopped?.reason === "cancel") {
        await claimed.finish(
          "cancelled",
          { ...base, ...await ending(false), finished_at: now() },
          "cancelled",
          stopped.why,
        );
        reporter.event("cancelled", job.id, job.file, stopped.why);
        return "cancelled";
      }
      if (stopped) {
        // Stopped by the deadline or a signal: back to the queue, and it does not count as an attempt.
        const kept = await ending(true);
        await claimed.finish("queued", { progress: null, ...kept }, "requeued", stopped.why);
        reporter.event("requeued", job.id, job.file, stopped.why);
        return "requeued";
      }
      const failure = err instanceof JobFailure
        ? err
        : new JobFailure(err instanceof Error ? err.message : String(err));
      const error = [failure.message, ...failure.detail].join("\n");
      await claimed.finish(
        "failed",
        {
          ...base,
          ...await ending(false, failure),
          attempts: job.attempts + 1,
          finished_at: now(),
          error,
        },
        "failed",
        failure.message,
      );
      reporter.event("failed", job.id, file, failure.message);
      return "failed";
    } catch (finishErr) {
      if (finishErr instanceof LostJobError) {
        reporter.event("lost", job.id, job.file, "the job was recovered by another process");
        return "lost";
      }
      throw finishErr;
    }
  } finally {
    clearInterval(beat);
    clearInterval(cancelPoll);
    opts.stop.removeEventListener("abort", onWorkerStop);
  }
}

const now = () => new Date().toISOString();

/** Reports progress to the terminal and, every few seconds, to the job's live file. */
function progressWriter(
  claimed: ClaimedJob,
  reporter: WorkerReporter,
): (p: LiveProgress, done: boolean) => void {
  let lastWrite = -Infinity;
  return (p, done) => {
    reporter.progress(claimed.id, claimed.record.file ?? "", {
      percent: p.percent,
      fps: p.fps,
      speed: p.speed,
      etaSec: p.eta_sec,
    });
    const t = performance.now();
    if (t - lastWrite < PROGRESS_WRITE_SEC * 1000 && !done) return;
    lastWrite = t;
    claimed.updateLive({ progress: p }).catch(() => {
      // A lost job is noticed by the heartbeat timer, which stops the work.
    });
  };
}
