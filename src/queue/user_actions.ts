/**
 * What people do to jobs through the CLI: cancel, retry, reprioritise, clear, clean up and purge.
 *
 * @module
 */
import { join } from "node:path";
import { JobStateError, LostJobError, UsageError } from "../errors.ts";
import { syncDir, writeFileAtomic } from "../util/durable_fs.ts";
import { FINISHED_STATES, type Job, type JobState } from "./job.ts";
import { newToken, shortId } from "../util/ids.ts";
import type { QueueLayout } from "./layout.ts";
import { findJob } from "./listing.ts";
import { isProblem, listJobNames, type Problem, readJobFile } from "./scan.ts";
import type { TransitionEvent } from "./protocol.ts";
import { isGone, type RecordChanges, transition } from "./transition.ts";
import { removeIfOwned } from "../util/owned_file.ts";
import type { MadeFiles } from "./job_type.ts";

/** Options of {@link cleanup}. */
export interface CleanupOptions {
  /** Select finished jobs that finished more than this many days ago. */
  olderThanDays: number;
  /** Only report what would be removed. */
  dryRun?: boolean;
  /**
   * Also select the files each selected job made (its job type's `madeFiles`:
   * for transcode, the `.original` backup while it still has the size vpo recorded).
   */
  madeFiles?: (job: Job) => MadeFiles;
}

/** What {@link cleanup} removed (or would remove, on a dry run). */
export interface CleanupReport {
  /** The selected jobs. */
  jobs: Job[];
  /** Paths of the selected files the jobs made. */
  files: string[];
  /** Files a selected job names as its own that were left in place, each with why. */
  leftFiles: { path: string; reason: string }[];
  /** Unreadable files met in the finished-state directories (left in place). */
  problems: Problem[];
}

const DAY_MS = 86_400_000;

/**
 * Cancels a queued job. A running job is refused unless `running` is set, in which case a
 * cancel request is left for its worker, which stops ffmpeg and ends the job in cancelled/.
 */
export async function cancel(
  layout: QueueLayout,
  idOrPrefix: string,
  options: { running?: boolean } = {},
): Promise<Job> {
  const job = findJob(layout, idOrPrefix);
  if (job.state === "running") {
    if (!options.running) {
      throw new JobStateError(
        `job ${shortId(job.id)} is running; only queued jobs can be cancelled ` +
          `(use --running to stop it)`,
      );
    }
    await writeFileAtomic(layout.cancelRequestPath(job.id), new Date().toISOString());
    return job;
  }
  if (job.state !== "queued") {
    throw new JobStateError(
      `job ${shortId(job.id)} is ${job.state}; only queued jobs can be cancelled`,
    );
  }
  return await moveByUser(
    layout,
    job,
    "cancelled",
    { finished_at: new Date().toISOString() },
    "cancelled",
  );
}

/** Puts a failed or cancelled job back in the queue. */
export async function retry(layout: QueueLayout, idOrPrefix: string): Promise<Job> {
  const job = findJob(layout, idOrPrefix);
  if (job.state !== "failed" && job.state !== "cancelled") {
    throw new JobStateError(
      `job ${shortId(job.id)} is ${job.state}; only failed or cancelled jobs can be retried`,
    );
  }
  return await moveByUser(layout, job, "queued", {
    error: null,
    result: null,
    progress: null,
    started_at: null,
    finished_at: null,
  }, "retried");
}

/**
 * Changes a queued job's priority (lower runs first): a transition queued -> queued, so the job
 * is published under the name that carries its new claim order and the history records
 * `old -> new`.
 */
export async function setPriority(
  layout: QueueLayout,
  idOrPrefix: string,
  priority: number,
): Promise<Job> {
  if (!Number.isSafeInteger(priority) || priority < 0) {
    throw new UsageError(`invalid priority ${priority}: use a whole number >= 0`);
  }
  const job = findJob(layout, idOrPrefix);
  if (job.state !== "queued") {
    throw new JobStateError(
      `job ${shortId(job.id)} is ${job.state}; only a queued job's priority can be changed`,
    );
  }
  return await moveByUser(
    layout,
    job,
    "queued",
    { priority },
    "priority",
    `${job.priority} -> ${priority}`,
  );
}

async function moveByUser(
  layout: QueueLayout,
  job: Job,
  to: JobState,
  changes: RecordChanges,
  event: TransitionEvent,
  detail?: string,
): Promise<Job> {
  const held = layout.jobPath(job.state, job.id, newToken()); // T1
  try {
    await Deno.rename(job.path, held);
  } catch (err) {
    if (isGone(err)) {
      throw new JobStateError(`job ${shortId(job.id)} changed state meanwhile; try again`);
    }
    throw err;
  }
  try {
    return await transition(layout, held, job, to, changes, event, detail);
  } catch (err) {
    if (err instanceof LostJobError) {
      throw new JobStateError(`job ${shortId(job.id)} changed state meanwhile; try again`);
    }
    throw err;
  }
}

/**
 * Removes finished jobs in `states`. Unreadable files are left where they are and reported:
 * vpo never deletes a file it cannot identify as its own.
 */
export async function clear(
  layout: QueueLayout,
  states: readonly JobState[],
): Promise<{ removed: number; problems: Problem[] }> {
  let removed = 0;
  const problems: Problem[] = [];
  for (const state of states) {
    const dir = layout.stateDir(state);
    for (const name of listJobNames(dir)) {
      const found = readJobFile(join(dir, name.name), name.id, state);
      if (found === null) continue;
      if (isProblem(found)) {
        problems.push(found);
        continue;
      }
      await Deno.remove(found.path).catch((err) => {
        if (!isGone(err)) throw err;
      });
      removed++;
    }
    await syncDir(dir);
  }
  return { removed, problems };
}

/**
 * Finished jobs older than `olderThanDays` (by finish time), removed unless `dryRun`; with
 * `madeFiles`, also the files those jobs made.
 */
export async function cleanup(
  layout: QueueLayout,
  options: CleanupOptions,
): Promise<CleanupReport> {
  const cutoff = Date.now() - options.olderThanDays * DAY_MS;
  const report: CleanupReport = { jobs: [], files: [], leftFiles: [], problems: [] };
  for (const state of FINISHED_STATES) {
    const dir = layout.stateDir(state);
    for (const name of listJobNames(dir)) {
      const path = join(dir, name.name);
      let mtime: number;
      try {
        mtime = Deno.statSync(path).mtime?.getTime() ?? 0;
      } catch {
        continue;
      }
      // A file is rewritten when it finishes, so mtime >= finish time: a young file is skipped
      // without reading it.
      if (mtime > cutoff) continue;
      const found = readJobFile(path, name.id, state);
      if (found === null) continue;
      if (isProblem(found)) {
        report.problems.push(found);
        continue;
      }
      const finishedAt = Date.parse(found.finished_at ?? found.updated_at);
      if (finishedAt > cutoff) continue;
      report.jobs.push(found);
      const made = options.madeFiles?.(found) ?? { made: [], left: [] };
      report.leftFiles.push(...made.left);
      if (options.dryRun) {
        report.files.push(...made.made.map((f) => f.path));
        continue;
      }
      for (const file of made.made) {
        // Checked again right before: the listing may be minutes old (a confirmation prompt).
        if (await removeIfOwned(file.path, file.ino, file.size) === "not-ours") {
          report.leftFiles.push({ path: file.path, reason: "changed since it was checked" });
        } else report.files.push(file.path);
      }
      await Deno.remove(path).catch(() => {});
    }
  }
  return report;
}
