/**
 * The job queue: a directory of directories, changed only by atomic renames and no-clobber links.
 * {@link JobQueue} is the one object callers hold; each of its jobs is done by its own module
 * (transition, claim, listing, user actions, recovery), following the protocol in `protocol.ts`.
 *
 * @module
 */
import type { Job, JobState } from "./job.ts";
import { QueueLayout } from "./layout.ts";
import type { ClaimedJob, LiveInfo } from "./claimed_job.ts";
import { claim, type ClaimOptions } from "./claim.ts";
import { type JobCounts, surveyQueue } from "./counts.ts";
import { FinishedIndex } from "./finished_index.ts";
import {
  findJob,
  listJobs,
  type ListOptions,
  type ListResult,
  readLive,
  runningClaims,
} from "./listing.ts";
import { recover, type RecoveredJob, type RecoverOptions } from "./recovery.ts";
import { type Problem, QueuedIndex } from "./scan.ts";
import { enqueue, type EnqueueInput } from "./transition.ts";
import {
  cancel,
  cleanup,
  type CleanupOptions,
  type CleanupReport,
  clear,
  retry,
  setPriority,
} from "./user_actions.ts";

/**
 * A job queue rooted at a directory (normally `$VPO_HOME/jobs`). Several processes on one or
 * several hosts may share it; none of them holds state that the directories do not.
 *
 * @example Queue a job, claim it, finish it
 * ```ts
 * import assert from "node:assert/strict";
 * const root = await Deno.makeTempDir();
 * const queue = await JobQueue.open(root);
 * const queued = await queue.enqueue({ type: "demo", file: "/videos/a.mkv", priority: 10 });
 * const job = await queue.claim();
 * assert.equal(job?.id, queued.id);
 * await job!.finish("completed", { finished_at: new Date().toISOString() }, "completed");
 * assert.equal(queue.counts().completed, 1);
 * assert.equal(queue.find(queued.id.slice(0, 8)).state, "completed");
 * await Deno.remove(root, { recursive: true });
 * ```
 */
export class JobQueue {
  /** Paths of the queue's directories and files. */
  readonly layout: QueueLayout;
  readonly #queued: QueuedIndex;
  readonly #finished: FinishedIndex;

  private constructor(readonly root: string) {
    this.layout = new QueueLayout(root);
    this.#queued = new QueuedIndex(this.layout.stateDir("queued"));
    this.#finished = new FinishedIndex((state) => this.layout.stateDir(state), this.layout.tmpDir);
  }

  /** Opens (creating, private to the user) the queue at `root`. */
  static async open(root: string): Promise<JobQueue> {
    const queue = new JobQueue(root);
    for (const dir of [root, ...queue.layout.allDirs()]) {
      await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
    }
    return queue;
  }

  /** Adds a job to queued/ and returns it. The file is durable when this resolves. */
  enqueue(input: EnqueueInput): Promise<Job> {
    return enqueue(this.layout, input);
  }

  /**
   * Claims the next job in claim order that `accept` (if given) accepts, or returns null when
   * there is none. Exactly one caller wins each job: the claim is a rename of the queued file to
   * a token name in running/.
   */
  claim(options: ClaimOptions = {}): Promise<ClaimedJob | null> {
    return claim(this.layout, this.#queued, options);
  }

  /** Finds one job by full id or unique prefix (at least 4 characters). */
  find(idOrPrefix: string): Job {
    return findJob(this.layout, idOrPrefix);
  }

  /** Live information (worker, progress) of a running job, or null. */
  readLive(job: Job): LiveInfo | null {
    return readLive(this.layout, job);
  }

  /**
   * Per-state counts from file names alone: no job file is read.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * const root = await Deno.makeTempDir();
   * const queue = await JobQueue.open(root);
   * await queue.enqueue({ type: "demo" });
   * assert.deepEqual(queue.counts(), {
   *   queued: 1,
   *   running: 0,
   *   completed: 0,
   *   failed: 0,
   *   cancelled: 0,
   * });
   * await Deno.remove(root, { recursive: true });
   * ```
   */
  counts(): JobCounts {
    return surveyQueue(this.layout).counts;
  }

  /**
   * Jobs in display order: running, then queued in claim order, then finished newest first.
   * With a limit, finished jobs are ordered by file mtime and only those shown are read.
   *
   * @example The head of the queue: lower priority first, then first in, first out
   * ```ts
   * import assert from "node:assert/strict";
   * const root = await Deno.makeTempDir();
   * const queue = await JobQueue.open(root);
   * for (const file of ["/a.mkv", "/b.mkv"]) await queue.enqueue({ type: "demo", file });
   * await queue.enqueue({ type: "demo", file: "/urgent.mkv", priority: 1 });
   * const { jobs } = queue.list({ status: "queued", limit: 2 });
   * assert.deepEqual(jobs.map((j) => j.file), ["/urgent.mkv", "/a.mkv"]);
   * await Deno.remove(root, { recursive: true });
   * ```
   */
  list(options: ListOptions = {}): ListResult {
    return listJobs(this.layout, { queued: this.#queued, finished: this.#finished }, options);
  }

  /**
   * Cancels a queued job. A running job is refused unless `running` is set, in which case a
   * cancel request is left for its worker, which stops ffmpeg and ends the job in cancelled/.
   */
  cancel(idOrPrefix: string, options: { running?: boolean } = {}): Promise<Job> {
    return cancel(this.layout, idOrPrefix, options);
  }

  /** Puts a failed or cancelled job back in the queue. */
  retry(idOrPrefix: string): Promise<Job> {
    return retry(this.layout, idOrPrefix);
  }

  /** Changes a queued job's priority (lower runs first); the history records old and new. */
  setPriority(idOrPrefix: string, priority: number): Promise<Job> {
    return setPriority(this.layout, idOrPrefix, priority);
  }

  /**
   * Returns stale running jobs to the queue, or wherever `onStale` decides, and sweeps what
   * crashes left behind (see {@link recover}).
   */
  recover(options: RecoverOptions): Promise<{ recovered: RecoveredJob[]; problems: Problem[] }> {
    return recover(this.layout, options);
  }

  /**
   * Removes finished jobs in `states`. Unreadable files are left where they are and reported:
   * vpo never deletes a file it cannot identify as its own.
   */
  clear(states: readonly JobState[]): Promise<{ removed: number; problems: Problem[] }> {
    return clear(this.layout, states);
  }

  /** Finished jobs older than `olderThanDays`, removed unless `dryRun` (see {@link cleanup}). */
  cleanup(options: CleanupOptions): Promise<CleanupReport> {
    return cleanup(this.layout, options);
  }

  /** Removes finished jobs past `retentionDays`; what `jobs start` does unless `--no-purge`. */
  async purge(retentionDays: number): Promise<number> {
    return (await this.cleanup({ olderThanDays: retentionDays })).jobs.length;
  }

  /** The running claims as "<id>.<token>" (for deciding which temp files are still owned). */
  runningClaims(): Set<string> {
    return runningClaims(this.layout);
  }
}
