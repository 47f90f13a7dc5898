/**
 * Reading the queue: finding a job by id prefix, counting, and listing in display order.
 *
 * @module
 */
import { join } from "node:path";
import { AmbiguousJobIdError, JobNotFoundError, JobStateError, UsageError } from "../errors.ts";
import { JOB_ID_PREFIX_RE } from "../util/ids.ts";
import { FINISHED_STATES, type Job, type JobState, STATES } from "./job.ts";
import { type JobFileName, parseJobFileName, type QueueLayout } from "./layout.ts";
import { type LiveInfo, readLiveFile } from "./claimed_job.ts";
import { compareClaimOrder } from "./claim_order.ts";
import type { FinishedIndex } from "./finished_index.ts";
import {
  countJobsIn,
  isProblem,
  listJobNames,
  type Problem,
  type QueuedIndex,
  readJobFile,
} from "./scan.ts";
import { newestCopy } from "./transition.ts";

/** Options of {@link listJobs}. */
export interface ListOptions {
  /** Only jobs in this state, or "finished" for completed, failed and cancelled; all if omitted. */
  status?: JobState | "finished";
  /** At most this many jobs; unlimited when omitted. */
  limit?: number;
  /** Skip this many jobs of the display order first (paging); only those shown are read. */
  offset?: number;
}

/** Result of {@link listJobs}: jobs in display order and files that could not be read. */
export interface ListResult {
  /** Running, then queued in claim order, then finished newest first. */
  jobs: Job[];
  /** Files in the state directories that are not readable jobs. */
  problems: Problem[];
}

/** Finds one job by full id or unique prefix (at least 4 characters). */
export function findJob(layout: QueueLayout, idOrPrefix: string): Job {
  const prefix = idOrPrefix.toLowerCase();
  if (!JOB_ID_PREFIX_RE.test(prefix)) {
    throw new UsageError(`invalid job id "${idOrPrefix}": use at least 4 hex characters`);
  }
  const matches = new Map<string, { state: JobState; name: JobFileName }[]>();
  for (const state of STATES) {
    for (const name of listJobNames(layout.stateDir(state))) {
      if (!name.id.startsWith(prefix)) continue;
      const list = matches.get(name.id) ?? [];
      list.push({ state, name });
      matches.set(name.id, list);
    }
  }
  if (matches.size === 0) throw new JobNotFoundError(`no job matches "${idOrPrefix}"`);
  if (matches.size > 1) {
    const shown = [...matches].slice(0, 10).map(([id, at]) =>
      `${id.slice(0, 12)} (${at[0].state})`
    );
    throw new AmbiguousJobIdError(
      `job id "${idOrPrefix}" is ambiguous: ${shown.join(", ")}${matches.size > 10 ? ", ..." : ""}`,
    );
  }
  const [[, places]] = [...matches];
  const copies: Job[] = [];
  const problems: Problem[] = [];
  for (const { state, name } of places) {
    const found = readJobFile(join(layout.stateDir(state), name.name), name.id, state);
    if (found === null) continue;
    if (isProblem(found)) problems.push(found);
    else copies.push(found);
  }
  if (copies.length === 0) {
    if (problems.length) throw new JobStateError(problems[0].message);
    throw new JobNotFoundError(`no job matches "${idOrPrefix}"`);
  }
  return newestCopy(copies);
}

/** Live information (worker, progress) of a running job, or null. */
export function readLive(layout: QueueLayout, job: Job): LiveInfo | null {
  const name = parseJobFileName(job.path.slice(job.path.lastIndexOf("/") + 1));
  if (job.state !== "running" || !name?.token) return null;
  return readLiveFile(layout.livePath(job.id, name.token));
}

/** The running claims as "<id>.<token>" (for deciding which temp files are still owned). */
export function runningClaims(layout: QueueLayout): Set<string> {
  return new Set(listJobNames(layout.stateDir("running")).map((n) => `${n.id}.${n.token}`));
}

/**
 * Jobs in display order: running, then queued in claim order, then finished newest first.
 * With a limit, queued jobs are placed by their names and finished jobs by file mtime, and only
 * those shown are read; an offset skips jobs by the same means, without reading them.
 */
export function listJobs(
  layout: QueueLayout,
  { queued, finished: finishedIndex }: { queued: QueuedIndex; finished: FinishedIndex },
  options: ListOptions = {},
): ListResult {
  const limit = options.limit ?? Infinity;
  let skip = options.offset ?? 0;
  const wanted: readonly JobState[] = options.status === "finished"
    ? FINISHED_STATES
    : options.status
    ? [options.status]
    : STATES;
  const jobs: Job[] = [];
  const problems: Problem[] = [];
  const take = (found: Job | Problem | null) => {
    if (found === null) return;
    if (isProblem(found)) problems.push(found);
    else jobs.push(found);
  };
  if (wanted.includes("running")) {
    const dir = layout.stateDir("running");
    const running: Job[] = [];
    for (const name of listJobNames(dir)) {
      const found = readJobFile(join(dir, name.name), name.id, "running");
      if (found && isProblem(found)) problems.push(found);
      else if (found) running.push(found);
    }
    running.sort(compareClaimOrder);
    jobs.push(...running.slice(skip, skip + limit));
    skip = Math.max(0, skip - running.length);
  }
  if (wanted.includes("queued") && jobs.length < limit) {
    const want = limit - jobs.length;
    if (want !== Infinity) {
      const head = queued.head(want, skip);
      jobs.push(...head.jobs);
      problems.push(...head.problems);
      // Past the end of the queue: the finished jobs' page starts after all queued ones.
      skip = head.jobs.length > 0 ? 0 : Math.max(0, skip - countJobsIn(queued.dir));
    } else {
      const scan = queued.refresh(true);
      jobs.push(...scan.jobs.slice(skip));
      problems.push(...scan.problems);
      skip = Math.max(0, skip - scan.jobs.length);
    }
  }
  const finished = FINISHED_STATES.filter((s) => wanted.includes(s));
  if (finished.length && jobs.length < limit) {
    const files = finishedIndex.newestFirst(finished);
    for (const f of files.slice(skip)) {
      if (jobs.length >= limit) break;
      take(readJobFile(f.path, f.name.id, f.state));
    }
  }
  return { jobs: dedupeById(jobs), problems };
}

function dedupeById(jobs: Job[]): Job[] {
  const best = new Map<string, Job>();
  for (const job of jobs) {
    const seen = best.get(job.id);
    if (!seen || job.rev > seen.rev) best.set(job.id, job);
  }
  return jobs.filter((j) => best.get(j.id) === j);
}
