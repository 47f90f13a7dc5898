/**
 * The JSON API under `/api/`: read endpoints that mirror the CLI's `--json`, and the actions,
 * each a call of the same library function the CLI command makes.
 *
 * @module
 */
import { basename } from "node:path";
import {
  AmbiguousJobIdError,
  JobNotFoundError,
  JobStateError,
  UsageError,
  VpoError,
} from "../errors.ts";
import type { Config } from "../config/types.ts";
import type { VpoHome } from "../queue/layout.ts";
import { type JobState, STATES } from "../queue/job.ts";
import type { ListOptions } from "../queue/listing.ts";
import type { JobQueue } from "../queue/store.ts";
import { jobToJson } from "../queue/job_json.ts";
import type { JobTypes } from "../queue/job_type.ts";
import { StatsCollector } from "../stats/stats.ts";
import type { DecisionStatus, FileDecision } from "../library/file_decision.ts";
import { readLogTail } from "./log_tail.ts";
import { listWorkers } from "./workers.ts";

/**
 * Decides and queues every video under one of `serve.folders` with one of `serve.policies`, as
 * `vpo transcode --recursive --policy P F` does: the CLI supplies it, since what a folder is
 * queued as is the job types' business.
 */
export type QueueFolder = (
  folder: string,
  policyFile: string,
) => Promise<{ decisions: FileDecision[]; warnings: string[] }>;

/** What the handlers share: one queue, its config, and caches that live as long as the server. */
export class ApiContext {
  readonly stats: StatsCollector;

  constructor(
    readonly home: VpoHome,
    readonly config: Config,
    readonly queue: JobQueue,
    /** Actions are allowed only when the server has a token. */
    readonly actionsEnabled: boolean,
    types: JobTypes,
    readonly queueFolder: QueueFolder,
  ) {
    this.stats = new StatsCollector(queue.layout, types);
  }
}

/** An error a handler returns as `{"error": message}` with an HTTP status. */
export class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** The HTTP status for an error the library threw. */
export function statusOf(err: unknown): number {
  if (err instanceof HttpError) return err.status;
  if (err instanceof JobNotFoundError) return 404;
  if (err instanceof AmbiguousJobIdError || err instanceof JobStateError) return 409;
  if (err instanceof UsageError) return 400;
  if (err instanceof VpoError) return 422;
  return 500;
}

function intParam(url: URL, name: string, fallback: number, min: number, max: number): number {
  const raw = url.searchParams.get(name);
  if (raw === null || raw === "") return fallback;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < min || n > max) {
    throw new HttpError(400, `${name} must be a whole number from ${min} to ${max}`);
  }
  return n;
}

/** Most jobs one `/api/jobs` page returns; the default is {@link DEFAULT_PAGE}. */
const MAX_PAGE = 1000;
/** Jobs per page when `limit` is not given. */
const DEFAULT_PAGE = 100;

/** `GET /api/status`: as `vpo jobs status --json`. */
export function getStatus(ctx: ApiContext): Record<string, number> {
  const counts = ctx.queue.counts();
  return { ...counts, total: STATES.reduce((sum, state) => sum + counts[state], 0) };
}

/** `GET /api/jobs?status=&limit=&offset=`: as `vpo jobs list --json`, one page of it. */
export function getJobs(ctx: ApiContext, url: URL): Record<string, unknown>[] {
  const status = url.searchParams.get("status") || undefined;
  if (status !== undefined && status !== "finished" && !STATES.includes(status as JobState)) {
    throw new HttpError(400, `status must be one of ${STATES.join(", ")}, finished`);
  }
  const limit = intParam(url, "limit", DEFAULT_PAGE, 1, MAX_PAGE);
  const offset = intParam(url, "offset", 0, 0, Number.MAX_SAFE_INTEGER);
  const { jobs } = ctx.queue.list({ status: status as ListOptions["status"], limit, offset });
  return jobs.map((job) => jobToJson(job, ctx.queue.readLive(job)));
}

/** `GET /api/jobs/ID`: as `vpo jobs show ID --json`. */
export function getJob(ctx: ApiContext, id: string): Record<string, unknown> {
  const job = ctx.queue.find(id);
  return jobToJson(job, ctx.queue.readLive(job));
}

/** `GET /api/jobs/ID/log`: the tail of the job's ffmpeg log (or its error, without a log). */
export function getJobLog(ctx: ApiContext, id: string): Record<string, unknown> {
  const job = ctx.queue.find(id);
  return { id: job.id, ...readLogTail(ctx.home, job) };
}

/** `GET /api/stats?days=N`: as `vpo stats --json`. */
export function getStats(ctx: ApiContext, url: URL): unknown {
  const days = url.searchParams.has("days") ? intParam(url, "days", 1, 1, 100_000) : undefined;
  return ctx.stats.collect({ days });
}

/** `GET /api/workers`: workers holding running jobs, with their last heartbeat. */
export function getWorkers(ctx: ApiContext): unknown {
  return listWorkers(ctx.queue, ctx.config.worker.staleAfter);
}

/** `GET /api/config`: what the page needs to know to offer actions. */
export function getPageConfig(ctx: ApiContext): unknown {
  return {
    actions: ctx.actionsEnabled,
    policies: ctx.actionsEnabled ? ctx.config.serve.policies : [],
    folders: ctx.actionsEnabled ? ctx.config.serve.folders : [],
  };
}

/** What the live feed pushes: counts, running jobs with progress, workers. */
export function liveSnapshot(ctx: ApiContext): unknown {
  const running = ctx.queue.list({ status: "running" }).jobs;
  return {
    counts: getStatus(ctx),
    running: running.map((job) => jobToJson(job, ctx.queue.readLive(job))),
    workers: getWorkers(ctx),
  };
}

type Body = Record<string, unknown>;

/** `POST /api/jobs/ID/cancel` `{"running": bool}`: as `vpo jobs cancel ID [--running]`. */
export async function postCancel(ctx: ApiContext, id: string, body: Body): Promise<unknown> {
  const job = await ctx.queue.cancel(id, { running: body.running === true });
  return { id: job.id, status: job.state, stop_requested: job.state === "running" };
}

/** `POST /api/jobs/ID/retry`: as `vpo jobs retry ID`. */
export async function postRetry(ctx: ApiContext, id: string): Promise<unknown> {
  const job = await ctx.queue.retry(id);
  return { id: job.id, status: job.state };
}

/** `POST /api/jobs/ID/priority` `{"priority": N}`: as `vpo jobs priority ID N`. */
export async function postPriority(ctx: ApiContext, id: string, body: Body): Promise<unknown> {
  if (typeof body.priority !== "number") throw new HttpError(400, `"priority" must be a number`);
  const job = await ctx.queue.setPriority(id, body.priority);
  return { id: job.id, status: job.state, priority: job.priority };
}

/**
 * `POST /api/queue` `{"folder": F, "policy": P}`: as `vpo transcode --recursive --policy P F`.
 * Both must be entries of `serve.folders` and `serve.policies`: the configured string is used,
 * never a path from the request.
 */
export async function postQueueFolder(ctx: ApiContext, body: Body): Promise<unknown> {
  const folder = ctx.config.serve.folders.find((f) => f === body.folder);
  if (folder === undefined) {
    throw new HttpError(400, `"folder" must be one of serve.folders in config.yaml`);
  }
  const policyFile = ctx.config.serve.policies.find((p) => p === body.policy);
  if (policyFile === undefined) {
    throw new HttpError(400, `"policy" must be one of serve.policies in config.yaml`);
  }
  const { decisions, warnings } = await ctx.queueFolder(folder, policyFile);
  const counts: Record<DecisionStatus, number> = {
    queued: 0,
    skipped: 0,
    remembered: 0,
    waiting: 0,
    unreadable: 0,
    error: 0,
  };
  for (const d of decisions) counts[d.status]++;
  return {
    folder,
    policy: basename(policyFile),
    ...counts,
    decisions: decisions.map((d) => ({
      path: d.path,
      status: d.status,
      job_id: d.jobId ?? null,
      detail: d.detail,
    })),
    warnings,
  };
}
