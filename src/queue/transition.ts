/**
 * Enqueue (E1-E3) and transition (T2-T5) of the queue protocol (`protocol.ts`), and setting an
 * older copy aside (R1). Every change of state but a claim goes through {@link transition}.
 *
 * @module
 */
import { basename, join } from "node:path";
import { LostJobError } from "../errors.ts";
import { crashPoint } from "../util/crash_point.ts";
import { exists, publishNoClobber, syncDir, writeTempFile } from "../util/durable_fs.ts";
import {
  FINISHED_STATES,
  type Job,
  type JobRecord,
  type JobState,
  newJobRecord,
  serializeJob,
  STATES,
} from "./job.ts";
import { newJobId, newToken } from "../util/ids.ts";
import { nextCreatedAt } from "./claim_order.ts";
import type { QueueLayout } from "./layout.ts";
import {
  checkTransition,
  IllegalTransitionError,
  stateOfPath,
  type TransitionEvent,
} from "./protocol.ts";
import { isProblem, jobNamesOf, readJobFile } from "./scan.ts";

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
    | "priority"
  >
>;

/** Input of {@link enqueue}. */
export interface EnqueueInput {
  /** Job type (e.g. "transcode"). */
  type: string;
  /** Absolute path of the file the job works on; omitted or null for none. */
  file?: string | null;
  /** Type-specific input (its job type's payload shape); defaults to `{}`. */
  payload?: object;
  /** Lower runs first; defaults to 100. */
  priority?: number;
}

/** True when `err` says the file is gone. */
export function isGone(err: unknown): boolean {
  return err instanceof Deno.errors.NotFound;
}

/**
 * True for a rename the file system refused for now: an SMB server will not rename a file
 * another client has open (EBUSY), as when another host reads a queued job while this one claims
 * it. Nothing moved; the job is left for a later pass.
 */
export function isBusy(err: unknown): boolean {
  return err instanceof Deno.errors.Busy || (err as { code?: string }).code === "EBUSY";
}

function withChanges(
  record: JobRecord,
  changes: RecordChanges,
  event: TransitionEvent,
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

/** Adds a job to queued/ and returns it. The file is durable when this resolves. */
export async function enqueue(layout: QueueLayout, input: EnqueueInput): Promise<Job> {
  const record = newJobRecord(newJobId(), input, nextCreatedAt());
  const dest = layout.publishPath("queued", record);
  const tmp = await writeTempFile(layout.tmpDir, serializeJob(record)); // E1
  crashPoint("enqueue:written");
  if (!await publishNoClobber(tmp, dest)) { // E2
    await Deno.remove(tmp);
    throw new Error(`job id collision on ${record.id}`);
  }
  crashPoint("enqueue:published");
  await syncDir(layout.stateDir("queued")); // E3
  return { ...record, state: "queued", path: dest };
}

/**
 * Moves a job this caller holds at `heldPath` (T1 done) to `to` with `changes`, recording `event`.
 * Throws {@link LostJobError} when somebody else moved the held file meanwhile, and
 * {@link IllegalTransitionError} for a move the protocol's `TRANSITIONS` table does not list.
 */
export async function transition(
  layout: QueueLayout,
  heldPath: string,
  record: JobRecord,
  to: JobState,
  changes: RecordChanges,
  event: TransitionEvent,
  detail?: string,
): Promise<Job> {
  const from = stateOfPath(layout, heldPath);
  if (from === null) throw new IllegalTransitionError(`${heldPath} is in no state directory`);
  checkTransition(from, to, event);
  const next = withChanges(record, changes, event, detail);
  const tmp = await writeTempFile(layout.tmpDir, serializeJob(next)); // T2
  crashPoint("transition:written");
  let dest = layout.publishPath(to, next);
  if (!await publishNoClobber(tmp, dest)) { // T3
    // A copy of this id already sits there (a hand `cp`, or an old run): keep both, never
    // clobber; listings show the newest rev.
    dest = layout.jobPath(to, record.id, newToken());
    if (!await publishNoClobber(tmp, dest)) throw new Error(`cannot publish ${dest}`);
  }
  crashPoint("transition:published");
  try {
    await Deno.remove(heldPath); // T4
  } catch (err) {
    // Gone because recovery set it aside as older than the copy just published: the move
    // stands. Gone for any other reason (taken over, claimed): undo the publish.
    const marker = layout.supersededPath(basename(heldPath));
    if (isGone(err) && await exists(marker)) {
      await Deno.remove(marker).catch(() => {});
    } else {
      await Deno.remove(dest).catch(() => {});
      if (isGone(err)) throw new LostJobError(record.id);
      throw err;
    }
  }
  crashPoint("transition:removed");
  await syncDir(layout.stateDir(to)); // T5
  return { ...next, state: to, path: dest };
}

/**
 * Sets aside an older copy of a job (a newer one exists elsewhere; R1, R4). Renamed, not deleted:
 * a process that still holds it finds the marker and knows its own newer copy is the job.
 */
export async function supersede(layout: QueueLayout, path: string): Promise<void> {
  try {
    await Deno.rename(path, layout.supersededPath(basename(path)));
  } catch (err) {
    if (!isGone(err)) throw err;
  }
}

/**
 * Every other copy of job `id` in every state, under any name (`<id>.json`, `<id>.<token>.json`,
 * `<id>.<anything>.json`): a crash mid-transition, a hand `cp`, or a claim of another copy.
 */
function otherCopies(
  layout: QueueLayout,
  id: string,
  exceptPath: string,
  states: readonly JobState[] = STATES,
): Job[] {
  const copies: Job[] = [];
  for (const state of states) {
    const dir = layout.stateDir(state);
    for (const name of jobNamesOf(dir, id)) {
      const path = join(dir, name.name);
      if (path === exceptPath) continue;
      const other = readJobFile(path, name.id, state);
      if (other && !isProblem(other)) copies.push(other);
    }
  }
  return copies;
}

/**
 * True when `record` (at `record.path`) is not the copy of its job to act on: another copy has a
 * higher rev, or (with `running`) another copy of at least the same rev is already claimed.
 * States listed in `among` are searched; all by default.
 */
export function isSuperseded(
  layout: QueueLayout,
  record: Job,
  options: { among?: readonly JobState[]; running?: boolean } = {},
): boolean {
  return otherCopies(layout, record.id, record.path, options.among).some((other) =>
    other.rev > record.rev ||
    (options.running === true && other.state === "running" && other.rev >= record.rev)
  );
}

/**
 * True when a copy of `record` with a higher rev sits under its published name in one of
 * `states`: the cheap look (no listing) for the common crash leftover.
 */
function hasNewerPublishedCopy(
  layout: QueueLayout,
  record: JobRecord,
  states: readonly JobState[],
): boolean {
  return states.some((state) => {
    const other = readJobFile(layout.publishPath(state, record), record.id, state);
    return other !== null && !isProblem(other) && other.rev > record.rev;
  });
}

/**
 * C1 and C3: true when the claim of `record` (picked in queued/, or just renamed into running/)
 * must not go ahead. Another copy in running/ under any name, whatever its rev, or a copy with a
 * higher rev under its published name in a finished state. Not a listing of every state: running/
 * is small, queued/ copies are compared by the caller's own listing, and the finished states are
 * looked up by the one name the protocol publishes there, so a claim costs the same at 100,000
 * finished jobs as at none, also on sshfs or SMB. What it does not see, and why that is enough,
 * is stated under C3 in `protocol.ts`.
 */
export function claimConflict(layout: QueueLayout, record: Job): boolean {
  return otherCopies(layout, record.id, record.path, ["running"]).length > 0 ||
    hasNewerPublishedCopy(layout, record, FINISHED_STATES);
}

/** Of several copies of one job (a crash mid-transition), the one with the highest rev. */
export function newestCopy(copies: Job[]): Job {
  return copies.reduce((a, b) => (b.rev > a.rev ? b : a));
}
