/**
 * A job held by a worker, and the live file in which the worker reports on it.
 *
 * @module
 */
import { hostname } from "node:os";
import { LostJobError } from "../errors.ts";
import { exists, retryTransient, writeFileAtomic } from "../util/durable_fs.ts";
import { randomHex } from "../util/ids.ts";
import { readRegularFileSync } from "../util/safe_open.ts";
import { writeBeat } from "./heartbeat.ts";
import type { Job, JobState, WorkerInfo } from "./job.ts";
import type { QueueLayout } from "./layout.ts";
import type { TransitionEvent } from "./protocol.ts";
import { isGone, type RecordChanges, transition } from "./transition.ts";

/** What the running state of a job holds while a worker has it (the live file). */
export interface LiveInfo {
  /** The worker that claimed the job. */
  worker: WorkerInfo;
  /** When the job was claimed (ISO 8601, UTC). */
  claimed_at: string;
  /** Latest encode progress, written every few seconds; absent before the first report. */
  progress?: {
    /** Percent done, 0-100. */
    percent: number | null;
    /** Encoded frames per second; null when unknown. */
    fps: number | null;
    /** Encoding speed as a multiple of real time; null when unknown. */
    speed: number | null;
    /** Estimated seconds left; null while unknown. */
    eta_sec: number | null;
    /** Seconds of output written so far. */
    out_time_sec: number | null;
  };
  /** Free-form, type-specific state the worker records before each irreversible step. */
  steps?: Record<string, unknown>;
  /** A segmented encode's progress across runs (segments done of total, media seconds); free-form. */
  segments?: Record<string, unknown>;
  /** A quality phase's last status line (`searching crf 27: ...`), for people; free-form. */
  quality?: Record<string, unknown>;
}

const INSTANCE = randomHex(12);

/** This process, as recorded in the jobs it runs. */
export const thisWorker = (): WorkerInfo => ({
  host: hostname(),
  pid: Deno.pid,
  instance: INSTANCE,
});

/**
 * The live file at `path`, or null when missing, unreadable, or not shaped like one (it may be
 * hand-edited: recovery and `jobs show` read its worker).
 */
export function readLiveFile(path: string): LiveInfo | null {
  try {
    const live = JSON.parse(readRegularFileSync(path));
    const worker = live?.worker;
    if (typeof worker?.host !== "string" || typeof worker.pid !== "number") return null;
    return { ...live, progress: progressOf(live.progress) };
  } catch {
    return null;
  }
}

const PROGRESS_FIELDS = ["percent", "fps", "speed", "eta_sec", "out_time_sec"] as const;

/**
 * A live file's progress with each field a number or null (missing ones null), or undefined when
 * it is not one: a hand-made one is printed with number formatting, which must not fail.
 */
function progressOf(value: unknown): LiveInfo["progress"] {
  if (typeof value !== "object" || value === null) return undefined;
  const p = value as Record<string, unknown>;
  const ok = PROGRESS_FIELDS.every((key) => p[key] == null || Number.isFinite(p[key]));
  return ok
    ? Object.fromEntries(
      PROGRESS_FIELDS.map((key) => [key, p[key] ?? null]),
    ) as LiveInfo["progress"]
    : undefined;
}

/** A job held by this worker. Every method first proves the job is still this worker's. */
export class ClaimedJob {
  readonly #layout: QueueLayout;
  /** Path of the job file in running/, under this claim's token. */
  readonly path: string;
  #live: LiveInfo;

  /** Made by a claim; `token` is the claim's token, `live` its first live info. */
  constructor(layout: QueueLayout, readonly record: Job, readonly token: string, live: LiveInfo) {
    this.#layout = layout;
    this.path = layout.jobPath("running", record.id, token);
    this.#live = live;
  }

  /** The job's id. */
  get id(): string {
    return this.record.id;
  }

  /** The live information last written. */
  get live(): LiveInfo {
    return this.#live;
  }

  /**
   * Rewrites the job's beat file (H, see heartbeat.ts) after checking that the job file is still
   * under this claim's name. Throws {@link LostJobError} when it is gone, meaning the job was
   * recovered by someone else: the caller must stop work on it at once.
   */
  async heartbeat(): Promise<void> {
    try {
      await retryTransient(() => Deno.stat(this.path));
    } catch (err) {
      if (isGone(err)) throw new LostJobError(this.id);
      throw err;
    }
    await retryTransient(() => writeBeat(this.#layout.beatPath(this.id, this.token)));
  }

  /**
   * Records progress or replace steps (after proving ownership). `durable` for records that a
   * crash must not lose: the steps of a replace; progress needs none.
   */
  async updateLive(changes: Partial<LiveInfo>, options: { durable?: boolean } = {}): Promise<void> {
    await this.heartbeat();
    this.#live = { ...this.#live, ...changes };
    await writeFileAtomic(
      this.#layout.livePath(this.id, this.token),
      JSON.stringify(this.#live),
      { durable: options.durable ?? false },
    );
  }

  /** True when `vpo jobs cancel --running` asked for this job to stop. */
  async cancelRequested(): Promise<boolean> {
    return await exists(this.#layout.cancelRequestPath(this.id));
  }

  /** Ends the run: moves the job to `to` with `changes`. Throws LostJobError if it was taken. */
  async finish(
    to: JobState,
    changes: RecordChanges,
    event: TransitionEvent,
    detail?: string,
  ): Promise<Job> {
    await this.heartbeat();
    const job = await transition(this.#layout, this.path, this.record, to, changes, event, detail);
    await dropLiveFiles(this.#layout, this.id, this.token);
    await Deno.remove(this.#layout.cancelRequestPath(this.id)).catch(() => {});
    return job;
  }
}

/** Removes the live and beat files of a claim that is over. */
export async function dropLiveFiles(layout: QueueLayout, id: string, token: string): Promise<void> {
  await Deno.remove(layout.livePath(id, token)).catch(() => {});
  await Deno.remove(layout.beatPath(id, token)).catch(() => {});
}
