/**
 * The job queue: a directory of directories, changed only by atomic renames and no-clobber links.
 *
 * Every change of state follows one protocol, so that a crash between any two steps leaves the
 * job in one state (or, for an instant, in two copies that {@link JobQueue.recover} resolves by
 * `rev`), and a process that lost a job can never resurrect it:
 *
 * 1. acquire: rename the job file to a name only this caller knows (`<id>.<token>.json`); a
 *    running job is already held under such a name by its worker;
 * 2. write the new record to a temp file and fsync it;
 * 3. publish it in the destination directory with a hard link (never clobbers);
 * 4. remove the acquired name; if it is gone, somebody took the job meanwhile, so undo step 3.
 *
 * @module
 */
import { hostname } from "node:os";
import { join } from "node:path";
import {
  AmbiguousJobIdError,
  JobNotFoundError,
  JobStateError,
  LostJobError,
  UsageError,
} from "../errors.ts";
import {
  exists,
  fileSystemNow,
  publishNoClobber,
  syncDir,
  writeFileAtomic,
  writeTempFile,
} from "../util/durable_fs.ts";
import {
  FINISHED_STATES,
  type Job,
  type JobRecord,
  type JobState,
  newJobRecord,
  serializeJob,
  STATES,
  type WorkerInfo,
} from "./job.ts";
import { crashPoint } from "../util/crash_point.ts";
import { type JobFileName, newJobId, newToken, parseJobFileName, QueueLayout } from "./layout.ts";
import {
  compareClaimOrder,
  isProblem,
  listJobNames,
  type Problem,
  QueuedIndex,
  readJobFile,
} from "./scan.ts";

/** What a transition changes in a record besides rev, updated_at and history. */
export type RecordChanges = Partial<
  Pick<
    JobRecord,
    | "attempts"
    | "error"
    | "result"
    | "progress"
    | "started_at"
    | "finished_at"
    | "worker"
    | "payload"
  >
>;

/** Input of {@link JobQueue.enqueue}. */
export interface EnqueueInput {
  /** Job type (e.g. "transcode"). */
  type: string;
  /** Absolute path of the file the job works on; omitted or null for none. */
  file?: string | null;
  /** Type-specific input; defaults to `{}`. */
  payload?: Record<string, unknown>;
  /** Lower runs first; defaults to 100. */
  priority?: number;
}

/** Options of {@link JobQueue.list}. */
export interface ListOptions {
  /** Only jobs in this state; all states when omitted. */
  status?: JobState;
  /** At most this many jobs; unlimited when omitted. */
  limit?: number;
}

/** Result of {@link JobQueue.list}: jobs in display order and files that could not be read. */
export interface ListResult {
  /** Running, then queued in claim order, then finished newest first. */
  jobs: Job[];
  /** Files in the state directories that are not readable jobs. */
  problems: Problem[];
}

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
}

/** A running job as {@link JobQueue.recover} found it, for the caller to roll back or forward. */
export interface StaleJob {
  /** The job, already taken over under a new token. */
  job: Job;
  /** Its live file as the dead worker left it; null when missing or unreadable. */
  live: LiveInfo | null;
  /** Seconds since the last heartbeat, on the file system's clock. */
  ageSec: number;
}

/** Where a recovered job goes and what changes; the default requeues it. */
export interface RecoveryDecision {
  /** State to move the job to. */
  state: JobState;
  /** Record fields to change (progress is cleared regardless). */
  changes?: RecordChanges;
  /** Appended to the "recovered" history entry's detail. */
  detail?: string;
}

/** Options of {@link JobQueue.recover}. */
export interface RecoverOptions {
  /** A running job whose heartbeat is older than this many seconds is stale. */
  staleAfterSec: number;
  /** Decides what happens to each stale job (e.g. finish an interrupted file replace). */
  onStale?: (stale: StaleJob) => Promise<RecoveryDecision | null>;
}

/** One job moved by {@link JobQueue.recover}. */
export interface RecoveredJob {
  /** The job's id. */
  id: string;
  /** The state it was moved to. */
  to: JobState;
  /** Why it was judged stale: heartbeat age and, when known, the worker. */
  detail: string;
}

/** Per-state job counts. */
export type JobCounts = Record<JobState, number>;

/** Options of {@link JobQueue.cleanup}. */
export interface CleanupOptions {
  /** Select finished jobs that finished more than this many days ago. */
  olderThanDays: number;
  /** Only report what would be removed. */
  dryRun?: boolean;
  /** Also select `.original` backups that a selected job's result says vpo made. */
  includeBackups?: boolean;
}

/** What {@link JobQueue.cleanup} removed (or would remove, on a dry run). */
export interface CleanupReport {
  /** The selected jobs. */
  jobs: Job[];
  /** Paths of the selected `.original` backups. */
  backups: string[];
  /** Unreadable files met in the finished-state directories (left in place). */
  problems: Problem[];
}

const DAY_MS = 86_400_000;
/**
 * How long a superseded copy is kept: a worker frozen this long after its last step would, on
 * waking, no longer find the marker and undo its publish.
 */
const SUPERSEDED_KEEP_MS = 30 * DAY_MS;

/** This process, as recorded in the jobs it runs. */
export const thisWorker = (): WorkerInfo => ({ host: hostname(), pid: Deno.pid });

function withChanges(
  record: JobRecord,
  changes: RecordChanges,
  event: string,
  detail?: string,
): JobRecord {
  const at = new Date().toISOString();
  const { state: _s, path: _p, ...plain } = record as Job;
  return {
    ...plain,
    ...changes,
    rev: record.rev + 1,
    updated_at: at,
    history: [...record.history, detail ? { at, event, detail } : { at, event }],
  };
}

function errorCode(err: unknown): "gone" | "other" {
  return err instanceof Deno.errors.NotFound ? "gone" : "other";
}

/**
 * A job queue rooted at a directory (normally `$VPO_HOME/jobs`). Several processes on one or
 * several hosts may share it; none of them holds state that the directories do not.
 */
export class JobQueue {
  /** Paths of the queue's directories and files. */
  readonly layout: QueueLayout;
  readonly #queued: QueuedIndex;

  private constructor(readonly root: string) {
    this.layout = new QueueLayout(root);
    this.#queued = new QueuedIndex(
      this.layout.stateDir("queued"),
      join(root, ".cache", "queued-order.tsv"),
    );
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
  async enqueue(input: EnqueueInput): Promise<Job> {
    const record = newJobRecord(newJobId(), input);
    const dest = this.layout.jobPath("queued", record.id);
    const tmp = await writeTempFile(this.layout.tmpDir, serializeJob(record));
    crashPoint("enqueue:written");
    if (!await publishNoClobber(tmp, dest)) {
      await Deno.remove(tmp);
      throw new Error(`job id collision on ${record.id}`);
    }
    crashPoint("enqueue:published");
    await syncDir(this.layout.stateDir("queued"));
    return { ...record, state: "queued", path: dest };
  }

  /**
   * Claims the next job in claim order that `accept` (if given) accepts, or returns null when
   * there is none. Exactly one caller wins each job: the claim is a rename of the queued file to
   * a token name in running/.
   */
  async claim(
    options: { worker?: WorkerInfo; accept?: (job: Job) => boolean } = {},
  ): Promise<ClaimedJob | null> {
    const worker = options.worker ?? thisWorker();
    // Leftover older copies of finished jobs are passed over untouched (recover() removes them
    // once stale; touching them would keep them looking fresh).
    const leftovers = new Set<string>();
    for (let round = 0; round < 50; round++) {
      let { jobs } = this.#queued.refresh();
      jobs = jobs.filter((j) => !leftovers.has(j.path) && (options.accept?.(j) ?? true));
      if (jobs.length === 0) return null;
      // The first job on the first try keeps strict order for a lone worker; after losing a race,
      // pick among the next few so that workers scanning the same order do not starve each other.
      const pick = round === 0
        ? jobs[0]
        : jobs[Math.floor(Math.random() * Math.min(16, jobs.length))];
      if (this.#hasNewerCopy(pick)) {
        leftovers.add(pick.path);
        continue;
      }
      const claimed = await this.#tryClaim(pick, worker);
      if (claimed) return claimed;
    }
    return null;
  }

  async #tryClaim(job: Job, worker: WorkerInfo): Promise<ClaimedJob | null> {
    const token = newToken();
    const dest = this.layout.jobPath("running", job.id, token);
    const name = job.path.slice(job.path.lastIndexOf("/") + 1);
    this.#queued.forget(name);
    // A cancel request can only be for a running job: one left from an earlier run of this job
    // must not cancel the run starting now.
    await Deno.remove(this.layout.cancelRequestPath(job.id)).catch(() => {});
    try {
      await Deno.rename(job.path, dest);
    } catch (err) {
      if (errorCode(err) === "gone") return null;
      throw err;
    }
    crashPoint("claim:renamed");
    await syncDir(this.layout.stateDir("running"));
    const now = new Date();
    await Deno.utime(dest, now, now);
    const found = readJobFile(dest, { name, id: job.id, token }, "running");
    if (found === null) return null;
    if (isProblem(found)) {
      // Edited into garbage between scan and claim: give it back untouched, it will be reported.
      await Deno.rename(dest, job.path).catch(() => {});
      return null;
    }
    if (this.#hasNewerCopy(found)) {
      // The finished copy wins, but this one goes back untouched: a live cancel between its
      // publish and remove must find it there, or it would undo its publish and the job would
      // vanish. A crash leftover is dropped by recover() once stale.
      await Deno.rename(dest, job.path).catch(() => {});
      return null;
    }
    const live: LiveInfo = { worker, claimed_at: now.toISOString() };
    // Who runs the job is informational; it needs no fsync (the steps of a replace do).
    await writeFileAtomic(this.layout.livePath(job.id, token), JSON.stringify(live), {
      durable: false,
    });
    crashPoint("claim:live-written");
    return new ClaimedJob(this, found, token, live);
  }

  #hasNewerCopy(record: JobRecord, states = FINISHED_STATES): boolean {
    for (const state of states) {
      const path = this.layout.jobPath(state, record.id);
      const other = readJobFile(
        path,
        { name: `${record.id}.json`, id: record.id, token: null },
        state,
      );
      if (other && !isProblem(other) && other.rev > record.rev) return true;
    }
    return false;
  }

  /**
   * Moves a job this caller holds at `heldPath` (step 1 done) to `to` with `changes`. Throws
   * {@link LostJobError} when somebody else moved the held file meanwhile.
   */
  async transition(
    heldPath: string,
    record: JobRecord,
    to: JobState,
    changes: RecordChanges,
    event: string,
    detail?: string,
  ): Promise<Job> {
    const next = withChanges(record, changes, event, detail);
    const tmp = await writeTempFile(this.layout.tmpDir, serializeJob(next));
    crashPoint("transition:written");
    let dest = this.layout.jobPath(to, record.id);
    if (!await publishNoClobber(tmp, dest)) {
      // A copy of this id already sits there (a hand `cp`, or an old run): keep both, never
      // clobber; listings show the newest rev.
      dest = this.layout.jobPath(to, record.id, newToken());
      if (!await publishNoClobber(tmp, dest)) throw new Error(`cannot publish ${dest}`);
    }
    crashPoint("transition:published");
    try {
      await Deno.remove(heldPath);
    } catch (err) {
      // Gone because recovery set it aside as older than the copy just published: the move
      // stands. Gone for any other reason (taken over, claimed): undo the publish.
      const marker = this.#supersededPath(heldPath);
      if (errorCode(err) === "gone" && await exists(marker)) {
        await Deno.remove(marker).catch(() => {});
      } else {
        await Deno.remove(dest).catch(() => {});
        if (errorCode(err) === "gone") throw new LostJobError(record.id);
        throw err;
      }
    }
    crashPoint("transition:removed");
    await syncDir(this.layout.stateDir(to));
    return { ...next, state: to, path: dest };
  }

  #supersededPath(path: string): string {
    return join(this.layout.tmpDir, `${path.slice(path.lastIndexOf("/") + 1)}.superseded`);
  }

  /**
   * Sets aside an older copy of a job (a newer one exists elsewhere). Renamed, not deleted: a
   * process that still holds it finds the marker and knows its own newer copy is the job.
   */
  async #supersede(path: string): Promise<void> {
    try {
      await Deno.rename(path, this.#supersededPath(path));
    } catch (err) {
      if (errorCode(err) !== "gone") throw err;
    }
  }

  /** Finds one job by full id or unique prefix (at least 4 characters). */
  find(idOrPrefix: string): Job {
    const prefix = idOrPrefix.toLowerCase();
    if (!/^[0-9a-f]{4,64}$/.test(prefix)) {
      throw new UsageError(`invalid job id "${idOrPrefix}": use at least 4 hex characters`);
    }
    const matches = new Map<string, { state: JobState; name: JobFileName }[]>();
    for (const state of STATES) {
      for (const name of listJobNames(this.layout.stateDir(state))) {
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
        `job id "${idOrPrefix}" is ambiguous: ${shown.join(", ")}${
          matches.size > 10 ? ", ..." : ""
        }`,
      );
    }
    const [[, places]] = [...matches];
    const copies: Job[] = [];
    const problems: Problem[] = [];
    for (const { state, name } of places) {
      const found = readJobFile(join(this.layout.stateDir(state), name.name), name, state);
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
  readLive(job: Job): LiveInfo | null {
    const name = parseJobFileName(job.path.slice(job.path.lastIndexOf("/") + 1));
    if (job.state !== "running" || !name?.token) return null;
    return readLiveFile(this.layout.livePath(job.id, name.token));
  }

  /** Per-state counts from file names alone: no job file is read. */
  counts(): JobCounts {
    const counts = {} as JobCounts;
    for (const state of STATES) {
      counts[state] = new Set(listJobNames(this.layout.stateDir(state)).map((n) => n.id)).size;
    }
    return counts;
  }

  /**
   * Jobs in display order: running, then queued in claim order, then finished newest first.
   * With a limit, finished jobs are ordered by file mtime and only those shown are read.
   */
  list(options: ListOptions = {}): ListResult {
    const limit = options.limit ?? Infinity;
    const wanted = options.status ? [options.status] : STATES;
    const jobs: Job[] = [];
    const problems: Problem[] = [];
    const take = (found: Job | Problem | null) => {
      if (found === null) return;
      if (isProblem(found)) problems.push(found);
      else jobs.push(found);
    };
    if (wanted.includes("running")) {
      const dir = this.layout.stateDir("running");
      const running: Job[] = [];
      for (const name of listJobNames(dir)) {
        const found = readJobFile(join(dir, name.name), name, "running");
        if (found && isProblem(found)) problems.push(found);
        else if (found) running.push(found);
      }
      running.sort(compareClaimOrder);
      jobs.push(...running);
    }
    if (wanted.includes("queued") && jobs.length < limit) {
      const scan = (limit !== Infinity ? this.#queued.head(limit - jobs.length) : null) ??
        this.#queued.scanAndSnapshot();
      jobs.push(...scan.jobs.slice(0, limit - jobs.length));
      problems.push(...scan.problems);
    }
    const finished = FINISHED_STATES.filter((s) => wanted.includes(s));
    if (finished.length && jobs.length < limit) {
      const files: { path: string; name: JobFileName; state: JobState; mtime: number }[] = [];
      for (const state of finished) {
        const dir = this.layout.stateDir(state);
        for (const name of listJobNames(dir)) {
          const path = join(dir, name.name);
          try {
            files.push({ path, name, state, mtime: Deno.statSync(path).mtime?.getTime() ?? 0 });
          } catch (err) {
            if (errorCode(err) !== "gone") throw err;
          }
        }
      }
      files.sort((a, b) => b.mtime - a.mtime);
      for (const f of files) {
        if (jobs.length >= limit) break;
        take(readJobFile(f.path, f.name, f.state));
      }
    }
    return { jobs: dedupeById(jobs), problems };
  }

  /**
   * Cancels a queued job. A running job is refused unless `running` is set, in which case a
   * cancel request is left for its worker, which stops ffmpeg and ends the job in cancelled/.
   */
  async cancel(idOrPrefix: string, options: { running?: boolean } = {}): Promise<Job> {
    const job = this.find(idOrPrefix);
    if (job.state === "running") {
      if (!options.running) {
        throw new JobStateError(
          `job ${job.id.slice(0, 8)} is running; only queued jobs can be cancelled ` +
            `(use --running to stop it)`,
        );
      }
      await writeFileAtomic(this.layout.cancelRequestPath(job.id), new Date().toISOString());
      return job;
    }
    if (job.state !== "queued") {
      throw new JobStateError(
        `job ${job.id.slice(0, 8)} is ${job.state}; only queued jobs can be cancelled`,
      );
    }
    return await this.#moveByUser(
      job,
      "cancelled",
      { finished_at: new Date().toISOString() },
      "cancelled",
    );
  }

  /** Puts a failed or cancelled job back in the queue. */
  async retry(idOrPrefix: string): Promise<Job> {
    const job = this.find(idOrPrefix);
    if (job.state !== "failed" && job.state !== "cancelled") {
      throw new JobStateError(
        `job ${job.id.slice(0, 8)} is ${job.state}; only failed or cancelled jobs can be retried`,
      );
    }
    return await this.#moveByUser(job, "queued", {
      error: null,
      result: null,
      progress: null,
      started_at: null,
      finished_at: null,
    }, "retried");
  }

  async #moveByUser(job: Job, to: JobState, changes: RecordChanges, event: string): Promise<Job> {
    const held = this.layout.jobPath(job.state, job.id, newToken());
    try {
      await Deno.rename(job.path, held);
    } catch (err) {
      if (errorCode(err) === "gone") {
        throw new JobStateError(`job ${job.id.slice(0, 8)} changed state meanwhile; try again`);
      }
      throw err;
    }
    try {
      return await this.transition(held, job, to, changes, event);
    } catch (err) {
      if (err instanceof LostJobError) {
        throw new JobStateError(`job ${job.id.slice(0, 8)} changed state meanwhile; try again`);
      }
      throw err;
    }
  }

  /**
   * Returns stale running jobs (no heartbeat for `staleAfterSec` on the file system's clock) to
   * the queue, or wherever `onStale` decides, recording why. Also drops stale older copies that
   * a crash mid-transition left beside the newest, the live files and cancel requests of jobs
   * that are no longer running, and temp files older than a day.
   */
  async recover(
    options: RecoverOptions,
  ): Promise<{ recovered: RecoveredJob[]; problems: Problem[] }> {
    const fsNow = await fileSystemNow(this.layout.tmpDir);
    const runningDir = this.layout.stateDir("running");
    const recovered: RecoveredJob[] = [];
    const problems: Problem[] = [];
    for (const name of listJobNames(runningDir)) {
      const path = join(runningDir, name.name);
      const ageSec = heartbeatAgeSec(path, fsNow);
      if (ageSec === null || ageSec <= options.staleAfterSec) continue;
      const current = readJobFile(path, name, "running");
      if (current === null) continue;
      if (isProblem(current)) {
        problems.push(current);
        continue;
      }
      // Queued too: a recovery that died after publishing its requeued copy left this one behind.
      if (this.#hasNewerCopy(current, ["queued", ...FINISHED_STATES])) {
        // Its worker published the newer copy and then died or froze before removing this one.
        // Set aside, not deleted: if that worker wakes up, the marker tells it its move stands.
        await this.#supersede(path);
        if (name.token) {
          await Deno.remove(this.layout.livePath(name.id, name.token)).catch(() => {});
        }
        continue;
      }
      // Take the job over under a new token: the old worker's next heartbeat or finish then
      // fails, so it can never finish or resurrect the job after this point.
      const held = this.layout.jobPath("running", name.id, newToken());
      try {
        await Deno.rename(path, held);
      } catch (err) {
        if (errorCode(err) === "gone") continue;
        throw err;
      }
      const found = readJobFile(held, name, "running");
      if (found === null) continue;
      if (isProblem(found)) {
        await Deno.rename(held, path).catch(() => {});
        problems.push(found);
        continue;
      }
      const live = name.token ? readLiveFile(this.layout.livePath(name.id, name.token)) : null;
      const who = live ? ` (worker ${live.worker.host}:${live.worker.pid})` : "";
      const detail = `heartbeat ${Math.round(ageSec)} s old${who}`;
      const decision = (await options.onStale?.({ job: found, live, ageSec })) ??
        { state: "queued", changes: { attempts: found.attempts + 1 } };
      await this.transition(
        held,
        found,
        decision.state,
        { progress: null, ...decision.changes },
        "recovered",
        decision.detail ? `${detail}; ${decision.detail}` : detail,
      );
      recovered.push({ id: found.id, to: decision.state, detail });
      if (name.token) await Deno.remove(this.layout.livePath(name.id, name.token)).catch(() => {});
    }
    await this.#dropStaleOlderCopies(fsNow, options.staleAfterSec);
    this.#sweepHelpers(fsNow);
    return { recovered, problems };
  }

  /**
   * A cancel or retry that died between publishing its new copy and removing the held one left
   * two copies outside running/; the newest rev is the job. An older copy is dropped only once it
   * is stale (the held name's ctime is the moment it was taken), so a live command mid-move is
   * never raced. Copies of equal rev (a hand `cp`) are left alone.
   */
  async #dropStaleOlderCopies(fsNow: number, staleAfterSec: number): Promise<void> {
    const copies = new Map<string, { state: JobState; name: JobFileName }[]>();
    for (const state of STATES) {
      if (state === "running") continue;
      for (const name of listJobNames(this.layout.stateDir(state))) {
        copies.set(name.id, [...copies.get(name.id) ?? [], { state, name }]);
      }
    }
    for (const places of copies.values()) {
      if (places.length < 2) continue;
      const jobs: Job[] = [];
      for (const { state, name } of places) {
        const found = readJobFile(join(this.layout.stateDir(state), name.name), name, state);
        if (found && !isProblem(found)) jobs.push(found);
      }
      if (jobs.length < 2) continue;
      const newest = newestCopy(jobs);
      for (const job of jobs) {
        if (job.rev >= newest.rev) continue;
        const ageSec = heartbeatAgeSec(job.path, fsNow);
        if (ageSec === null || ageSec <= staleAfterSec) continue;
        await this.#supersede(job.path);
      }
    }
  }

  /** Removes live files and cancel requests of jobs no longer running, and old temp files. */
  #sweepHelpers(fsNow: number): void {
    const runningTokens = this.runningClaims();
    const runningIds = new Set([...runningTokens].map((claim) => claim.split(".")[0]));
    const sweep = (dir: string, keep: (name: string) => boolean, minAgeMs: number) => {
      for (const entry of Deno.readDirSync(dir)) {
        if (keep(entry.name)) continue;
        const path = join(dir, entry.name);
        try {
          // ctime: when it was renamed here (a moved file keeps its old mtime).
          const info = Deno.statSync(path);
          const since = info.ctime?.getTime() ?? info.mtime?.getTime() ?? 0;
          const min = entry.name.endsWith(".superseded") ? SUPERSEDED_KEEP_MS : minAgeMs;
          if (fsNow - since >= min) Deno.removeSync(path);
        } catch {
          // Already gone, or not ours to judge: leave it.
        }
      }
    };
    sweep(this.layout.liveDir, (n) => runningTokens.has(n.replace(/\.json$/, "")), 60_000);
    sweep(this.layout.requestsDir, (n) => runningIds.has(n.replace(/\.cancel$/, "")), 60_000);
    sweep(this.layout.tmpDir, () => false, DAY_MS);
  }

  /**
   * Removes finished jobs in `states`. Unreadable files are left where they are and reported:
   * vpo never deletes a file it cannot identify as its own.
   */
  async clear(states: readonly JobState[]): Promise<{ removed: number; problems: Problem[] }> {
    let removed = 0;
    const problems: Problem[] = [];
    for (const state of states) {
      const dir = this.layout.stateDir(state);
      for (const name of listJobNames(dir)) {
        const found = readJobFile(join(dir, name.name), name, state);
        if (found === null) continue;
        if (isProblem(found)) {
          problems.push(found);
          continue;
        }
        await Deno.remove(found.path).catch((err) => {
          if (errorCode(err) !== "gone") throw err;
        });
        removed++;
      }
      await syncDir(dir);
    }
    return { removed, problems };
  }

  /**
   * Finished jobs older than `olderThanDays` (by finish time), removed unless `dryRun`; with
   * `includeBackups`, also the `.original` backups their results name, if the backup still has
   * the size vpo recorded (so a file the user put there is never touched).
   */
  async cleanup(options: CleanupOptions): Promise<CleanupReport> {
    const cutoff = Date.now() - options.olderThanDays * DAY_MS;
    const report: CleanupReport = { jobs: [], backups: [], problems: [] };
    for (const state of FINISHED_STATES) {
      const dir = this.layout.stateDir(state);
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
        const found = readJobFile(path, name, state);
        if (found === null) continue;
        if (isProblem(found)) {
          report.problems.push(found);
          continue;
        }
        const finishedAt = Date.parse(found.finished_at ?? found.updated_at);
        if (finishedAt > cutoff) continue;
        report.jobs.push(found);
        const backup = options.includeBackups ? ownedBackup(found) : null;
        if (backup) report.backups.push(backup);
        if (options.dryRun) continue;
        if (backup) await Deno.remove(backup).catch(() => {});
        await Deno.remove(path).catch(() => {});
      }
    }
    return report;
  }

  /** Removes finished jobs past `retentionDays`; what `jobs start` does unless `--no-purge`. */
  async purge(retentionDays: number): Promise<number> {
    return (await this.cleanup({ olderThanDays: retentionDays })).jobs.length;
  }

  /** The running claims as "<id>.<token>" (for deciding which temp files are still owned). */
  runningClaims(): Set<string> {
    return new Set(
      listJobNames(this.layout.stateDir("running")).map((n) => `${n.id}.${n.token}`),
    );
  }
}

/** A backup path from a job's result, if the file is there with the size vpo recorded. */
function ownedBackup(job: Job): string | null {
  const backup = job.result?.backup_path;
  const size = job.result?.backup_size;
  if (typeof backup !== "string" || typeof size !== "number") return null;
  try {
    const info = Deno.statSync(backup);
    return info.isFile && info.size === size ? backup : null;
  } catch {
    return null;
  }
}

function readLiveFile(path: string): LiveInfo | null {
  try {
    return JSON.parse(Deno.readTextFileSync(path));
  } catch {
    return null;
  }
}

/**
 * Seconds since the last heartbeat of the job file at `path`, judged on the file system's clock
 * alone: its ctime, which the file system itself sets on every touch and rename, so a worker
 * whose clock is wrong cannot make its job look fresh or stale. (mtime, set by the worker, is
 * the fallback where ctime is not reported.)
 */
function heartbeatAgeSec(path: string, fsNow: number): number | null {
  try {
    const info = Deno.statSync(path);
    const last = info.ctime?.getTime() ?? info.mtime?.getTime() ?? 0;
    return (fsNow - last) / 1000;
  } catch {
    return null;
  }
}

/** Of several copies of one job (a crash mid-transition), the one with the highest rev. */
function newestCopy(copies: Job[]): Job {
  return copies.reduce((a, b) => (b.rev > a.rev ? b : a));
}

function dedupeById(jobs: Job[]): Job[] {
  const best = new Map<string, Job>();
  for (const job of jobs) {
    const seen = best.get(job.id);
    if (!seen || job.rev > seen.rev) best.set(job.id, job);
  }
  return jobs.filter((j) => best.get(j.id) === j);
}

/** A job held by this worker. Every method first proves the job is still this worker's. */
export class ClaimedJob {
  readonly #queue: JobQueue;
  /** Path of the job file in running/, under this claim's token. */
  readonly path: string;
  #live: LiveInfo;

  /** Used by {@link JobQueue.claim}; `token` is the claim's token, `live` its first live info. */
  constructor(queue: JobQueue, readonly record: Job, readonly token: string, live: LiveInfo) {
    this.#queue = queue;
    this.path = queue.layout.jobPath("running", record.id, token);
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
   * Touches the job file's mtime. Throws {@link LostJobError} when the file is gone, meaning the
   * job was recovered by someone else: the caller must stop work on it at once.
   */
  async heartbeat(): Promise<void> {
    const now = new Date();
    try {
      await Deno.utime(this.path, now, now);
    } catch (err) {
      if (errorCode(err) === "gone") throw new LostJobError(this.id);
      throw err;
    }
  }

  /**
   * Records progress or replace steps (after proving ownership). `durable` for records that a
   * crash must not lose: the steps of a replace; progress needs none.
   */
  async updateLive(changes: Partial<LiveInfo>, options: { durable?: boolean } = {}): Promise<void> {
    await this.heartbeat();
    this.#live = { ...this.#live, ...changes };
    await writeFileAtomic(
      this.#queue.layout.livePath(this.id, this.token),
      JSON.stringify(this.#live),
      { durable: options.durable ?? false },
    );
  }

  /** True when `vpo jobs cancel --running` asked for this job to stop. */
  async cancelRequested(): Promise<boolean> {
    return await exists(this.#queue.layout.cancelRequestPath(this.id));
  }

  /** Ends the run: moves the job to `to` with `changes`. Throws LostJobError if it was taken. */
  async finish(to: JobState, changes: RecordChanges, event: string, detail?: string): Promise<Job> {
    await this.heartbeat();
    const job = await this.#queue.transition(this.path, this.record, to, changes, event, detail);
    await Deno.remove(this.#queue.layout.livePath(this.id, this.token)).catch(() => {});
    await Deno.remove(this.#queue.layout.cancelRequestPath(this.id)).catch(() => {});
    return job;
  }
}
