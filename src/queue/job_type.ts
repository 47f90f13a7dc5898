/**
 * What the queue, the worker and the services over them (`vpo stats`, notifications, `vpo
 * doctor`, `vpo jobs show`) need from a kind of job, so that none of them knows any one kind: how
 * to run it, how to repair it after its worker died, which files it made, and what it did. Each
 * job type (one today: transcode) implements {@link JobType} in its own folder; the CLI hands the
 * list to the rest (docs/design.md, "Adding a job type").
 *
 * @module
 */
import type { JobFailure } from "../errors.ts";
import type { Config } from "../config/types.ts";
import type { ClaimedJob, LiveInfo } from "./claimed_job.ts";
import type { Job } from "./job.ts";
import type { RecordChanges } from "./transition.ts";
import type { VpoHome } from "./layout.ts";
import type { RecoveryDecision, StaleJob } from "./recovery.ts";

/** A running job's progress, as the live file holds it. */
export type LiveProgress = NonNullable<LiveInfo["progress"]>;

/** The fields every job type's result has; each type adds its own. (A type, not an interface,
 * so that it fits the job record's plain-object `result`.) */
export type JobResult = {
  /** What happened, in one word (for transcode: "replaced", "kept_original", "skipped"). */
  outcome: string;
  /** What happened, in one line for people. */
  outcome_detail: string;
};

/**
 * What a completed job did to its file, in the words every job type shares: `vpo stats` counts
 * by them, a worker run's notification sums the bytes replaced jobs saved, the library remembers.
 */
export type FileOutcome = "replaced" | "kept_original" | "skipped";

/**
 * What a finished job adds to `vpo stats` and to the bytes saved that a worker run's
 * notification reports. Read leniently: a figure edited by hand into something that is not a
 * number counts 0, so one bad file cannot make the totals unreadable.
 */
export interface JobFigures {
  /** The row of `vpo stats`'s per-codec table it counts in (transcode: the target codec). */
  group: string;
  /** What a completed job did; null when its result does not say (counted as skipped). */
  outcome: FileOutcome | null;
  /** Bytes of the original that a replaced job replaced; 0 otherwise. */
  source_bytes: number;
  /** Bytes of the file that replaced it; 0 otherwise. */
  output_bytes: number;
  /** Wall seconds the work took, for a completed job; 0 when unknown. */
  wall_sec: number;
  /**
   * The quality a completed job measured over its output, with what was predicted and the
   * minimum it had to reach (a policy's quality target); absent when nothing was measured.
   */
  quality?: { metric: string; achieved: number; predicted: number | null; min: number };
}

/** A line `vpo jobs show` adds about a job: "Segments  7/24 done, ...". */
export interface DetailLine {
  label: string;
  text: string;
}

/** A file a job made, as vpo recorded it: removed only while it is still that inode and size. */
export interface MadeFile {
  path: string;
  ino: number;
  size: number;
}

/** What {@link JobType.madeFiles} found: files to remove, and ones named but left, with why. */
export interface MadeFiles {
  made: MadeFile[];
  left: { path: string; reason: string }[];
}

/** What a worker run offers every job it runs. */
export interface WorkerEnv {
  /** Effective configuration. */
  config: Config;
  /** The vpo home: logs, stats, the queue's temp directory. */
  home: VpoHome;
  /** CPU cores the job may use; null for no limit. */
  cpuCores: number | null;
  /** The cores this worker claimed (see `src/worker/cpu_claim.ts`); null: the first `cpuCores`. */
  cpuSet: readonly number[] | null;
  /** Check outputs by decoding them whole (slower, catches damage a probe cannot see). */
  fullDecodeCheck: boolean;
}

/** What one run of one job gets from the worker. */
export interface RunContext {
  /** Aborted when the run must stop (deadline, signal, cancel, lost); throw its reason. */
  signal: AbortSignal;
  /** Reports progress: the worker shows it, and records it in the live file every few seconds. */
  progress(sample: LiveProgress, done: boolean): void;
  /** When the worker must stop; null when it has no deadline. */
  deadline: Date | null;
  /** Seconds from the worker's start to its deadline (its nightly window); null without one. */
  windowSec: number | null;
  /**
   * Stops this run because its next piece of work cannot finish before the deadline: aborts
   * `signal` as the deadline would, so the job goes back to the queue, and this worker does not
   * claim it again. For jobs that keep finished pieces across runs (segmented encodes).
   */
  outOfTime(why: string): never;
  /** Reports a problem that changes nothing about the job's outcome (a cache it could not write). */
  warn(text: string): void;
  /** Reports a step worth a line in the worker's log (`searching crf 27: ssim 0.9843, 3 of ~6`). */
  note(text: string): void;
}

/** How helping with a job another worker holds went (see {@link JobRunner.help}). */
export type HelpOutcome =
  /** A piece was done (or lost to a faster worker): look again. */
  | "helped"
  /** Every piece left is being done by others; one may free up or go stale: look again later. */
  | "busy"
  /** Nothing here for this worker (no pieces, none fits, or it cannot do them). */
  | "none";

/** What a worker gives a job type when it helps with a job another worker holds. */
export interface HelpContext {
  /** Aborted when the worker must stop (deadline, signal); throw its reason. */
  signal: AbortSignal;
  /** When the worker must stop; null when it has no deadline. Only pieces that fit are taken. */
  deadline: Date | null;
  /** The job's live file as its holder last wrote it; null when there is none. */
  live: LiveInfo | null;
  /** Where this worker logs the tools it runs for jobs it helps with. */
  logPath: string;
  /** Reports the piece's progress (the worker shows it). */
  progress(sample: LiveProgress): void;
  /** Says in one line what this worker takes on ("segment 4/12"). */
  event(detail: string): void;
  /** Reports a problem that changes nothing about the job's outcome. */
  warn(text: string): void;
}

/** A job type ready to run jobs in one worker process. */
export interface JobRunner {
  /**
   * Wall seconds `job` needs on this machine before a stop loses none of its work (the whole
   * job, or its first piece when it resumes where it stopped), or null when unknown. The worker
   * claims a job only when this fits before its deadline.
   */
  estimateSec(job: Job): number | null;
  /**
   * Runs the claimed job to its result. Throws {@link JobFailure} (or any error) when the job
   * fails, the signal's reason when stopped; leaves nothing of its own behind either way.
   */
  run(claimed: ClaimedJob, ctx: RunContext): Promise<JobResult>;
  /**
   * Called once as a run ends, before the job moves (not when the job was lost): `requeued` when
   * it goes back to the queue (deadline, signal), when it may keep what it has done for the next
   * run; else it completed, failed (`failure` says why, for a type that keeps its work on some
   * failures, as a segmented transcode does on a full disk) or was cancelled, and what it kept is
   * dropped. Returns changes to the job's record besides the lifecycle's own. Absent: nothing is
   * kept between runs.
   */
  ending?(
    claimed: ClaimedJob,
    requeued: boolean,
    failure: JobFailure | null,
  ): Promise<RecordChanges>;
  /**
   * Helps with `job`, which another worker holds, where the type cuts a running job into pieces
   * any worker may claim (`src/queue/pieces.ts`; for transcode, the segments of a long encode):
   * takes one piece that fits this worker's deadline, does it with this worker's cores and
   * publishes it. Never throws for the job's own faults (a piece it cannot do is given back, and
   * the job's holder meets the fault itself). Absent: the type's jobs have no such pieces.
   */
  help?(job: Job, ctx: HelpContext): Promise<HelpOutcome>;
  /**
   * How much work `job` is, comparable between jobs of this type (for transcode, seconds of
   * media); null when unknown. When workers outnumber the jobs left, the largest starts first.
   */
  size?(job: Job): number | null;
}

/** What one job of a type, free to use every core, was measured to use of this machine. */
export interface MachineUse {
  /** Cores it keeps busy (CPU seconds per wall second). */
  cores: number;
  /** Its peak memory in bytes. */
  memoryBytes: number;
}

/** One kind of job. */
export interface JobType {
  /** The `type` field of its job files. */
  readonly name: string;
  /** One line about the job for the worker's "started" event; "" when there is nothing to say. */
  summary(job: Job): string;
  /**
   * Repairs what a dead worker left of `stale` and says where the job goes (null: requeue);
   * `config` says where the job's files may be (the temp directory).
   */
  recover(stale: StaleJob, config: Config): Promise<RecoveryDecision | null>;
  /**
   * Files this job made that outlive it (for transcode: the `.original` backup), each only at a
   * path vpo would have made for the job and while it is still the inode and size vpo recorded,
   * so that `jobs cleanup` never removes a file someone else put there.
   */
  madeFiles(job: Job): MadeFiles;
  /** Prepares runs in one worker (e.g. loads this machine's measured speeds). */
  runner(env: WorkerEnv): Promise<JobRunner>;
  /** What the finished `job` adds to `vpo stats` and to a worker run's bytes saved. */
  figures(job: Job): JobFigures;
  /**
   * Bytes of free space the queued `job` needs where its output is written (`vpo doctor`
   * checks each folder against its largest job); null when it cannot say.
   */
  spaceNeeded(job: Job): number | null;
  /**
   * Lines `vpo jobs show` adds about `job`, from its live file while it runs (`live`) and from
   * its record between runs (for a segmented transcode: its segments and ETA in nights); while it
   * runs, `vpo jobs list` prints them under its row too.
   */
  details(job: Job, live: LiveInfo | null): DetailLine[];
  /**
   * What one of its jobs was measured to use of this machine (`vpo jobs start --workers auto`
   * runs as many at once as fill it); null when never measured. Absent: not measured.
   */
  machineUse?(home: VpoHome): Promise<MachineUse | null>;
}

/** The job types a process knows, by name. */
export class JobTypes {
  readonly #byName: ReadonlyMap<string, JobType>;
  /** `types` must have distinct names. */
  constructor(types: readonly JobType[]) {
    this.#byName = new Map(types.map((t) => [t.name, t]));
  }
  /** The type of `job`, or undefined when this process does not know it. */
  of(job: Job): JobType | undefined {
    return this.#byName.get(job.type);
  }
  /** Every known type. */
  all(): JobType[] {
    return [...this.#byName.values()];
  }
  /** What `job` adds to `vpo stats`; a job of a type this process does not know adds its count. */
  figures(job: Job): JobFigures {
    return this.of(job)?.figures(job) ?? UNKNOWN_FIGURES;
  }
}

const UNKNOWN_FIGURES: JobFigures = {
  group: "other",
  outcome: null,
  source_bytes: 0,
  output_bytes: 0,
  wall_sec: 0,
};
