/**
 * The worker loop of `vpo jobs start`: purge, recover, then claim and run jobs until the queue is
 * empty, a limit is reached, or it is told to stop.
 *
 * @module
 */
import type { Config } from "../config/types.ts";
import type { Job } from "../queue/job.ts";
import { coreListText } from "../media/ffmpeg_runner.ts";
import { checkQueueFileSystem, describeFileSystem } from "../queue/fs_check.ts";
import type { JobRunner, JobType, JobTypes } from "../queue/job_type.ts";
import type { VpoHome } from "../queue/layout.ts";
import type { JobQueue } from "../queue/store.ts";
import { formatDuration, plural } from "../util/format.ts";
import type { WorkerLimits } from "./limits.ts";
import { claimCores } from "./cpu_claim.ts";
import { recoverStale } from "./recovery.ts";
import type { WorkerReporter } from "./reporter.ts";
import { type JobOutcome, runJob, Stopped } from "./run_job.ts";

/** Options of {@link runWorker}. */
export interface WorkerOptions {
  /** The queue to take jobs from. */
  queue: JobQueue;
  /** The job types this worker runs; a job of another type fails. */
  types: JobTypes;
  /** Effective configuration (purge, heartbeat and staleness, temp directory, backups). */
  config: Config;
  /** The vpo home: logs, measured speeds. */
  home: VpoHome;
  /** When to stop: file count and deadline. */
  limits: WorkerLimits;
  /** CPU cores ffmpeg may use; null for no limit. */
  cpuCores: number | null;
  /** Skip the purge of old finished jobs at start. */
  noPurge: boolean;
  /** Receives the worker's event lines and progress. */
  reporter: WorkerReporter;
  /** Aborting it (SIGTERM, SIGINT) stops the running job, requeues it and ends the loop. */
  signal?: AbortSignal;
  /** Decode the whole output before replacing (slower, catches damage a probe cannot see). */
  fullDecodeCheck?: boolean;
}

/** What a worker run did. */
export interface WorkerSummary {
  /** Number of jobs that ended with each outcome. */
  counts: Record<JobOutcome, number>;
  /** Why the loop ended, in one line ("queue empty", "--max-files 3 reached", ...). */
  stopReason: string;
}

/** Runs the worker loop; resolves when the worker should exit. */
export async function runWorker(opts: WorkerOptions): Promise<WorkerSummary> {
  const { queue, config, reporter, limits } = opts;
  const counts: Record<JobOutcome, number> = {
    completed: 0,
    failed: 0,
    cancelled: 0,
    requeued: 0,
    lost: 0,
  };
  const fsReport = await checkQueueFileSystem(queue.root, {
    heartbeatIntervalSec: config.worker.heartbeatInterval,
    staleAfterSec: config.worker.staleAfter,
  });
  reporter.event("filesystem", null, null, describeFileSystem(fsReport));
  for (const advice of fsReport.advice) reporter.event("note", null, null, advice);
  if (config.jobs.autoPurge && !opts.noPurge) {
    const purged = await queue.purge(config.jobs.retentionDays);
    if (purged) {
      reporter.event(
        "purged",
        null,
        null,
        `${purged} finished jobs older than ${config.jobs.retentionDays} days`,
      );
    }
  }
  // At start, and between jobs at most once per stale_after: a worker that runs all night also
  // brings back the job of a host that died meanwhile, not only the next worker to start.
  let lastRecovery = -Infinity;
  const recover = async () => {
    if (performance.now() - lastRecovery < config.worker.staleAfter * 1000) return;
    lastRecovery = performance.now();
    const { recovered, problems } = await recoverStale(queue, config, opts.types);
    for (const r of recovered) reporter.event("recovered", r.id, null, `-> ${r.to} (${r.detail})`);
    for (const p of problems) reporter.event("warning", null, null, p.message);
  };
  await recover();
  // Between jobs, a failed recovery (a network share hiccup) is reported, not fatal: the next
  // worker start, or the next round, tries again.
  const recoverBetweenJobs = () =>
    recover().catch((err) =>
      reporter.event("warning", null, null, `recovery failed: ${(err as Error).message}`)
    );

  const stop = new AbortController();
  const onSignal = () => stop.abort(new Stopped("signal", "worker stopped by signal"));
  if (opts.signal?.aborted) onSignal();
  opts.signal?.addEventListener("abort", onSignal);
  let deadlineTimer: ReturnType<typeof setTimeout> | undefined;
  const armDeadline = () => {
    if (!limits.deadline) return;
    const ms = limits.deadline.getTime() - Date.now();
    if (ms <= 0) {
      return stop.abort(new Stopped("deadline", `deadline reached (${limits.deadlineSource})`));
    }
    // setTimeout holds at most ~24.8 days; re-arm for longer waits.
    deadlineTimer = setTimeout(armDeadline, Math.min(ms, 2 ** 31 - 1));
  };
  armDeadline();

  const cpu = opts.cpuCores !== null && opts.cpuCores < navigator.hardwareConcurrency
    ? await claimCores(opts.home, opts.cpuCores)
    : null;
  if (cpu) {
    const shared = cpu.shared ? ` (${cpu.shared} shared with other workers: too few free)` : "";
    const cores = `${cpu.cores.length === 1 ? "core" : "cores"} ${coreListText(cpu.cores)}`;
    reporter.event("cpu", null, null, `ffmpeg pinned to ${cores}${shared}`);
  } else if (opts.cpuCores !== null) {
    // Said, so that `--cpu-cores 4` on a 4-core NAS is not taken for headroom it does not leave.
    const all = navigator.hardwareConcurrency;
    reporter.event(
      "cpu",
      null,
      null,
      `${opts.cpuCores} cores allowed and this host has ${all}: ffmpeg may use them all (not pinned)`,
    );
  }
  const env = {
    config,
    home: opts.home,
    cpuCores: opts.cpuCores,
    cpuSet: cpu?.cores ?? null,
    fullDecodeCheck: opts.fullDecodeCheck ?? false,
  };
  const runners = new Map<JobType, JobRunner>();
  for (const type of opts.types.all()) runners.set(type, await type.runner(env));
  const typeOf = (job: Job) => {
    const type = opts.types.of(job);
    return type && { type, runner: runners.get(type)! };
  };
  const windowSec = limits.deadline ? (limits.deadline.getTime() - Date.now()) / 1000 : null;
  const declined = new Set<string>();
  // Jobs that stopped themselves in this run because their next piece would not fit the time
  // left: claiming them again would only stop them again.
  const outOfTime = new Set<string>();
  const fits = (job: Job): boolean => {
    if (!limits.deadline) return true;
    if (outOfTime.has(job.id)) {
      declined.add(job.id);
      return false;
    }
    const need = typeOf(job)?.runner.estimateSec(job) ?? null;
    if (need === null || Date.now() + need * 1000 <= limits.deadline.getTime()) return true;
    declined.add(job.id);
    return false;
  };

  let stopReasonText = "queue empty";
  try {
    while (true) {
      if (stop.signal.aborted) {
        stopReasonText = (stop.signal.reason as Error).message;
        break;
      }
      const finished = counts.completed + counts.failed;
      if (limits.maxFiles !== null && finished >= limits.maxFiles) {
        stopReasonText = `--max-files ${limits.maxFiles} reached`;
        break;
      }
      await recoverBetweenJobs();
      declined.clear();
      const claimed = await queue.claim({ accept: fits });
      if (!claimed) {
        if (declined.size > 0) {
          const left = formatDuration((limits.deadline!.getTime() - Date.now()) / 1000);
          stopReasonText = `${plural(declined.size, "queued job")} cannot finish in the ${left} ` +
            `left before the deadline (${limits.deadlineSource}) at this machine's measured speed`;
        }
        break;
      }
      const outcome = await runJob(claimed, {
        type: typeOf(claimed.record),
        reporter,
        heartbeatIntervalSec: config.worker.heartbeatInterval,
        stop: stop.signal,
        deadline: limits.deadline,
        windowSec,
      });
      // Requeued while the worker goes on: the job stopped itself (see RunContext.outOfTime).
      if (outcome === "requeued" && !stop.signal.aborted) outOfTime.add(claimed.id);
      counts[outcome]++;
    }
  } finally {
    clearTimeout(deadlineTimer);
    cpu?.release();
    opts.signal?.removeEventListener("abort", onSignal);
  }
  return { counts, stopReason: stopReasonText };
}
