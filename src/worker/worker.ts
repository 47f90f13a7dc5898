/**
 * `vpo jobs start`: purge, recover, then run worker loops (one, or `--workers N` on disjoint
 * cores) that claim and run jobs, and help with the pieces of jobs other workers hold, until the
 * queue is empty, a limit is reached, or they are told to stop.
 *
 * @module
 */
import type { Config } from "../config/types.ts";
import type { Job } from "../queue/job.ts";
import { coreListText } from "../media/ffmpeg_runner.ts";
import { checkQueueFileSystem, describeFileSystem } from "../queue/fs_check.ts";
import type { JobRunner, JobTypes } from "../queue/job_type.ts";
import type { VpoHome } from "../queue/layout.ts";
import type { JobQueue } from "../queue/store.ts";
import { formatDuration, plural } from "../util/format.ts";
import { sleep } from "../util/sleep.ts";
import type { WorkerLimits } from "./limits.ts";
import { claimCores, type CoreClaim } from "./cpu_claim.ts";
import { helpWithRunningJobs } from "./helping.ts";
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
  /** CPU cores ffmpeg may use, all workers together; null for no limit. */
  cpuCores: number | null;
  /** Worker loops to run at once, each on its own cores (default 1). */
  workers?: number;
  /** Help with the pieces of running jobs before claiming queued jobs. */
  preferHelping?: boolean;
  /** Skip the purge of old finished jobs at start. */
  noPurge: boolean;
  /** Receives the worker's event lines and progress. */
  reporter: WorkerReporter;
  /** Aborting it (SIGTERM, SIGINT) stops the running jobs, requeues them and ends the loops. */
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

/** How long a worker whose every piece of work is held by others waits before it looks again. */
const BUSY_WAIT_MS = 2000;

/** Runs the worker loops; resolves when the worker should exit. */
export async function runWorker(opts: WorkerOptions): Promise<WorkerSummary> {
  const { queue, config, reporter, limits } = opts;
  const loops = opts.workers ?? 1;
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
  const recover = async (force = false): Promise<number> => {
    if (!force && performance.now() - lastRecovery < config.worker.staleAfter * 1000) return 0;
    lastRecovery = performance.now();
    const { recovered, problems } = await recoverStale(queue, config, opts.types);
    for (const r of recovered) reporter.event("recovered", r.id, null, `-> ${r.to} (${r.detail})`);
    for (const p of problems) reporter.event("warning", null, null, p.message);
    return recovered.length;
  };
  await recover();

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

  const shared: Shared = {
    opts,
    counts,
    stop: stop.signal,
    windowSec: limits.deadline ? (limits.deadline.getTime() - Date.now()) / 1000 : null,
    outOfTime: new Set(),
    running: 0,
    // Between jobs, a failed recovery (a network share hiccup) is reported, not fatal: the next
    // worker start, or the next round, tries again.
    recover: (force) =>
      recover(force).catch((err) => {
        reporter.event("warning", null, null, `recovery failed: ${(err as Error).message}`);
        return 0;
      }),
  };
  const cores = coresPerLoop(opts.cpuCores, loops);
  const claims: CoreClaim[] = [];
  try {
    const ends = await Promise.all(
      Array.from({ length: loops }, async (_, i) => {
        const cpu = cores !== null && cores < navigator.hardwareConcurrency
          ? await claimCores(opts.home, cores)
          : null;
        if (cpu) {
          claims.push(cpu);
          const shared = cpu.shared
            ? ` (${cpu.shared} shared with other workers: too few free)`
            : "";
          const who = loops > 1 ? `worker ${i + 1}: ` : "";
          const list = `${cpu.cores.length === 1 ? "core" : "cores"} ${coreListText(cpu.cores)}`;
          reporter.event("cpu", null, null, `${who}ffmpeg pinned to ${list}${shared}`);
        } else if (cores !== null) {
          // Said, so that `--cpu-cores 4` on a 4-core NAS is not taken for headroom it does not
          // leave.
          const all = navigator.hardwareConcurrency;
          reporter.event(
            "cpu",
            null,
            null,
            `${cores} cores allowed and this host has ${all}: ffmpeg may use them all (not pinned)`,
          );
        }
        return await runLoop(shared, i, cores, cpu?.cores ?? null);
      }),
    );
    const stopped = stop.signal.aborted ? (stop.signal.reason as Error).message : null;
    return { counts, stopReason: stopped ?? ends.find((e) => e !== QUEUE_EMPTY) ?? QUEUE_EMPTY };
  } finally {
    clearTimeout(deadlineTimer);
    for (const claim of claims) claim.release();
    opts.signal?.removeEventListener("abort", onSignal);
  }
}

const QUEUE_EMPTY = "queue empty";

/**
 * Cores each of `loops` worker loops pins ffmpeg to: one loop keeps `--cpu-cores` as it is (null:
 * no pinning); several share it (or every core of the host) out, at least one each.
 */
export function coresPerLoop(cpuCores: number | null, loops: number): number | null {
  if (loops === 1) return cpuCores;
  return Math.max(1, Math.floor((cpuCores ?? navigator.hardwareConcurrency) / loops));
}

/** What the loops of one worker run share. */
interface Shared {
  opts: WorkerOptions;
  counts: Record<JobOutcome, number>;
  stop: AbortSignal;
  windowSec: number | null;
  /**
   * Jobs that stopped themselves in this run because their next piece would not fit the time
   * left: claiming them again would only stop them again.
   */
  outOfTime: Set<string>;
  /** Jobs the loops are running now (for --max-files). */
  running: number;
  /** Recovers stale jobs (at most once per stale_after unless forced); returns how many. */
  recover: (force?: boolean) => Promise<number>;
}

/** One worker loop; resolves to why it ended. */
async function runLoop(
  shared: Shared,
  index: number,
  cpuCores: number | null,
  cpuSet: readonly number[] | null,
): Promise<string> {
  const { opts, counts, stop } = shared;
  const { queue, limits, reporter, config } = opts;
  const env = {
    config,
    home: opts.home,
    cpuCores,
    cpuSet,
    fullDecodeCheck: opts.fullDecodeCheck ?? false,
  };
  const runners = new Map<string, JobRunner>();
  for (const type of opts.types.all()) runners.set(type.name, await type.runner(env));
  const runnerOf = (job: Job) => opts.types.of(job) && runners.get(job.type);
  const loops = opts.workers ?? 1;
  const declined = new Set<string>();
  const fits = (job: Job): boolean => {
    if (!limits.deadline) return true;
    if (shared.outOfTime.has(job.id)) {
      declined.add(job.id);
      return false;
    }
    const need = runnerOf(job)?.estimateSec(job) ?? null;
    if (need === null || Date.now() + need * 1000 <= limits.deadline.getTime()) return true;
    declined.add(job.id);
    return false;
  };
  // When the loops outnumber the jobs left, the largest starts first, so that the last to end is
  // not a long one started late (Av1an orders its chunks so for the same reason).
  const largestFirst = (jobs: readonly Job[]): readonly Job[] => {
    if (jobs.length > loops) return jobs;
    const size = (job: Job) => runnerOf(job)?.size?.(job) ?? 0;
    return [...jobs].sort((a, b) => a.priority - b.priority || size(b) - size(a));
  };
  const help = () =>
    helpWithRunningJobs({
      queue,
      home: opts.home,
      runnerOf,
      reporter,
      signal: stop,
      deadline: limits.deadline,
      name: `${Deno.pid}-${index + 1}`,
    });

  while (true) {
    if (stop.aborted) return (stop.reason as Error).message;
    if (
      limits.maxFiles !== null &&
      counts.completed + counts.failed + shared.running >= limits.maxFiles
    ) {
      return `--max-files ${limits.maxFiles} reached`;
    }
    await shared.recover();
    if (opts.preferHelping && await help() === "helped") continue;
    declined.clear();
    shared.running++;
    try {
      const claimed = await queue.claim({ accept: fits, order: largestFirst });
      if (claimed) {
        const type = opts.types.of(claimed.record);
        const outcome = await runJob(claimed, {
          type: type && { type, runner: runners.get(type.name)! },
          reporter,
          heartbeatIntervalSec: config.worker.heartbeatInterval,
          stop,
          deadline: limits.deadline,
          windowSec: shared.windowSec,
        });
        // Requeued while the worker goes on: the job stopped itself (see RunContext.outOfTime).
        if (outcome === "requeued" && !stop.aborted) shared.outOfTime.add(claimed.id);
        counts[outcome]++;
        continue;
      }
    } finally {
      shared.running--;
    }
    const helped = await help();
    if (helped === "helped") continue;
    if (helped === "busy") {
      await sleep(BUSY_WAIT_MS, stop);
      continue;
    }
    // Before leaving, a job whose worker died may be waiting for a recovery to be taken up.
    if (await shared.recover(true) > 0) continue;
    if (declined.size > 0) {
      const left = formatDuration((limits.deadline!.getTime() - Date.now()) / 1000);
      return `${plural(declined.size, "queued job")} cannot finish in the ${left} ` +
        `left before the deadline (${limits.deadlineSource}) at this machine's measured speed`;
    }
    return QUEUE_EMPTY;
  }
}
