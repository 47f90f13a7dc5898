/**
 * The queue protocol, stated once. Every other description (README, docs/) links here; the code
 * that does each step names it in a comment (`E2`, `T4`, ...). Paths are those of
 * {@link QueueLayout}; `[name]` marks a crash point (`VPO_CRASH_AT=name` makes the process die
 * there by SIGKILL), and `crash:` says what a process killed there leaves behind and who mends it.
 *
 * The rules everything rests on: the directory a job file sits in is its state; a file moves only
 * by `rename` (exactly one mover wins) or by a no-clobber hard link (never overwrites; where hard
 * links are refused, a check then a rename, see T3); a record
 * is rewritten only as a new file with `rev + 1`, so of two copies of a job the higher `rev` is
 * the job; whoever holds a job holds it under a name only it knows (`<id>.<token>.json`), and
 * loses it the moment that name is gone.
 *
 * ## Enqueue (`vpo transcode`)
 *
 * - E1 Write the record (`rev` 1, `created_at` later than any this process made) to a temp file in
 *   `.tmp/` and fsync it. `[enqueue:written]` crash: an orphan temp file, swept after a day.
 * - E2 Link it to `queued/<id>.q<priority>-<created>.json` (no clobber), remove the temp name.
 *   `[enqueue:published]` crash: the job is queued (only a power loss before E3 could drop it).
 * - E3 Fsync `queued/`.
 *
 * ## Claim (`vpo jobs start`)
 *
 * - C1 Pick the first queued job in claim order (priority, created, id) that the worker accepts;
 *   after losing a race, one of the next 16 at random. (A worker running several loops may
 *   reorder the jobs it picks from when they are no more than its loops: the largest first within
 *   a priority, so that no long job starts last. The order decides nothing else.) Remove any cancel request left for it.
 *   Choose a new token and write its first heartbeat, `live/<id>.<token>.beat` (H), so that nobody
 *   ever sees the claimed file without one and judges it by the queued file's old times.
 * - C2 Rename it to `running/<id>.<token>.json`: the claim. Of any number of workers on any number
 *   of hosts, exactly one rename succeeds; the others remove their beat and pick again (so does
 *   one whose rename an SMB server refuses with EBUSY because another host has the file open).
 *   `[claim:renamed]` crash: a running job without a live file; R recovers it once stale.
 * - C3 Fsync `running/`, read it back. Garbage, another copy of the job in `running/` under any
 *   name and of any `rev`, or a copy with a higher `rev` under its published name `<id>.json` in a
 *   finished state: rename it back untouched, remove the beat and pick again. C1 passes over such
 *   a job already, and over one with a newer copy in the `queued/` listing it just made. No state
 *   directory but `running/` (small) is listed, so a claim costs the same beside 100,000 finished
 *   jobs (one listing of a large directory is many round trips on sshfs or SMB). Why that is
 *   enough, by the names a copy can have:
 *   - Two claims of two copies at once both see each other in `running/`: at most one runs, and a
 *     job never runs while any other copy of it runs, not even an older one (so a newer copy that
 *     appeared after this check, a retry racing the claim of a crash leftover, waits).
 *   - A finished copy the protocol published (T3) is `<id>.json`, checked by that name.
 *   - `<state>/<id>.<token>.json` in a finished state is held by a command (T1) or was published
 *     by T3 beside a leftover `<id>.json`. A held copy is on its way to `queued/` (the only move
 *     out of a finished state: retry), where C1 sees it, or was left by a command that died, and
 *     a queued copy older than it needs a second crash (a cancel killed between T3 and T4) before
 *     any recovery ran: R4 sets that older copy aside at the next worker start or `stale_after`.
 *   - Any other name (`completed/<id>.<anything>.json`) is made by a person's `mv` or `cp`;
 *     `vpo jobs list` shows the highest `rev` and R1/R4 set the older copies aside. A claim does
 *     not look for such names.
 *   A stale older running copy (a requeue killed between T3 and T4) holds the job back until R1
 *   sets it aside; a delay of at most `stale_after`, never a second run.
 * - C4 Write `live/<id>.<token>.json` (worker, claim time). `[claim:live-written]` crash: R.
 *
 * ## Run
 *
 * - H Every `heartbeat_interval` the worker checks that its running file is still there and
 *   rewrites `live/<id>.<token>.beat` (`src/queue/heartbeat.ts`). A heartbeat's age is the mtime of
 *   a probe file written in `.tmp/` at the moment of judging minus the beat's mtime, read through
 *   an open handle: both stamped by the file server on a write, never by a worker's clock (ctime
 *   is not the server's clock on sshfs or smbnetfs; a job file without a beat, moved in by hand, is
 *   judged by its ctime). A check that finds the running file gone means the job was taken (R2, or
 *   by hand): the worker stops at once and touches nothing more of that job.
 * - L Progress goes to the live file (not fsynced; where a rename cannot replace a file, SFTP
 *   without posix-rename, the old live file is removed before the new one is renamed in, so a crash
 *   there loses it: recovery then acts on less, never on a wrong record); a job type's steps that must survive a crash
 *   (for transcode, the replace journal, `src/replace/replace_journal.ts`) go there durably
 *   before each irreversible step, after a heartbeat proves the job is still held.
 * - X `vpo jobs cancel --running` writes `requests/<id>.cancel`; the worker checks every second
 *   and ends the job in cancelled/ (T).
 *
 * ## Transition (finish, requeue, cancel, retry, recover, new priority): {@link TRANSITIONS} lists the legal ones
 *
 * - T1 Hold: the worker holds `running/<id>.<token>.json` already; a command renames the job's
 *   file to `<state>/<id>.<new token>.json`; recovery renames the stale file to a new token
 *   (which fences the old worker: its next heartbeat or T4 fails).
 * - T2 Write the new record (`rev + 1`, a history entry) to `.tmp/` and fsync it.
 *   `[transition:written]` crash: the held name stays; a held running file is recovered (R), a
 *   held finished or queued copy is still the job, and `vpo jobs list` and claims see it.
 * - T3 Link it into the destination (`queued/` under its order name, else `<id>.json`; no
 *   clobber: if a copy already has that name, under a token name instead). Where hard links are
 *   refused (SMB), check that the name is free, then rename: it could clobber only a name created
 *   in between, and only the holder of the job (T1) publishes under its names, so that can only be
 *   another copy of the same job, left by a crash, which the higher `rev` already settles.
 *   `[transition:published]` crash: two copies; the higher `rev` is the job everywhere it is read,
 *   and R4 sets the older aside once stale.
 * - T4 Remove the held name. Gone already: if `.tmp/<held name>.superseded` exists, recovery set
 *   it aside as older than the copy just published and the move stands; otherwise somebody took
 *   the job meanwhile, so undo T3 and give up (`LostJobError`).
 *   `[transition:removed]` crash: done, only the fsync of T5 is missing.
 * - T5 Fsync the destination; a worker also removes its live and beat files and any cancel
 *   request.
 *
 * ## Recover (`vpo jobs recover`; every worker at start, and between jobs once per `stale_after`)
 *
 * - R1 For each running file whose heartbeat (H) is older than `stale_after`: if a copy with a
 *   higher `rev` exists in any state under any name (its mover died between T3 and T4), set this
 *   one aside: rename it to `.tmp/<name>.superseded`, which tells a mover that wakes up that its
 *   move stands.
 * - R2 Otherwise take it over: copy its live file (the journal) to a new token's name, durably,
 *   and write that token's beat (so that another recoverer does not judge the held file by its old
 *   times while this one repairs the job) `[recover:journal-copied]`; then rename it to that token
 *   (T1) `[recover:taken-over]`; the beat goes once the job has moved on (T5). A crash at either
 *   point leaves a stale running file whose journal is under its current name, which the next R
 *   takes over again.
 * - R3 Ask its job type's recovery hook, which repairs what the dead worker left from the live
 *   file's steps and says where the job goes (default: back to queued/ with `attempts + 1`); then
 *   T2-T5. A crash anywhere in R leaves a stale held name that the next R takes over again.
 * - R4 Set aside stale older copies outside running/ (a command that died between T3 and T4);
 *   remove live and beat files and cancel requests of jobs no longer running after a minute (a
 *   beat written in C1 or R2 whose rename lost, by a process that died), temp files
 *   after a day, superseded markers after 30 days.
 *
 * ## Pieces of a running job (`src/queue/pieces.ts`; for transcode, the segments of a long encode)
 *
 * A job type may cut a running job into pieces that any worker claims, on this host or any other
 * that reaches the piece directory (the type's own: for transcode the job's segment directory,
 * beside the source or in `jobs.temp_directory`, see docs/multihost.md). Its names for a piece
 * `<p>` are `<p>.free`, `<p>.<token>.claim`, `<p>.<token>.beat` and the record `<p>.json`;
 * whatever a claimer writes besides carries its token, so no two claimers ever write one file.
 * The job itself stays held by one worker (C), which alone plans the pieces, takes back the
 * damaged ones and puts the job together; the others only claim pieces.
 *
 * - S1 Offer: the holder writes the plan (durably), then `<p>.free` for each piece not recorded
 *   (exclusive create: one already there stays). A crash between the two leaves pieces in no
 *   state, which S7 offers.
 * - S2 Claim: write `<p>.<token>.beat` (exclusively, as C1), then rename `<p>.free` to
 *   `<p>.<token>.claim`. Exactly one renamer wins; the others remove their beat and pick another.
 *   `[piece:claimed]` crash: a claim whose beat goes stale; S5 takes it over.
 * - S3 Work: every `heartbeat_interval` the claimer checks that its claim is still under its
 *   token and rewrites its beat, which also says who works on the piece and how far (H). A claim
 *   found gone means the piece was taken over (S5) or the job ended: the claimer stops and touches
 *   nothing more of it.
 * - S4 Publish: the piece's output is in place under its token's name; the record is written to
 *   a temp file and fsynced, the claim checked again, and the record linked to `<p>.json` (no
 *   clobber, as T3; where hard links are refused, check then rename: two publishers of one piece
 *   need a takeover between one's check and its link, and either record names a whole output).
 *   The first link wins: a second finisher (one that woke up after a takeover) removes its output.
 *   `[piece:recorded]` crash: a done piece whose claim goes stale; S5 finds the record and only
 *   drops the claim. Then the claim and beat are removed.
 * - S5 Take over: a claim whose beat is older than `stale_after` on the file server's clock (the
 *   age of R1, judged against a probe file written in the piece directory) is taken by writing a
 *   new token's beat, then renaming `<p>.<old>.claim` to `<p>.<new>.claim`: exactly one taker wins,
 *   and the old claimer is fenced (its next S3 or S4 finds its name gone). The taker removes the
 *   old token's beat and files; if the piece is recorded, it drops its claim: done.
 *   `[piece:taken-over]` crash: a stale claim under the new token, taken over again.
 * - S6 Release (a deadline, a signal, a failure): rename `<p>.<token>.claim` back to `<p>.free`,
 *   remove the beat. A claim taken meanwhile is not there to rename: nothing happens.
 * - S7 Put together: the holder finds every piece recorded (each record checked against its
 *   output; a damaged one is removed and its piece offered again), then finishes the job (T). A
 *   piece found in no state in two listings some seconds apart (a listing can miss a name renamed
 *   while it runs) is offered again; if it was only hidden, two workers may do it, and S4 keeps
 *   one. Ending the job (completed, failed, cancelled: not requeued) removes the piece directory,
 *   which fences every claimer; a requeued job keeps it, and its helpers go on.
 *
 * ## Reorder
 *
 * - O Whoever reads a queued file whose name does not carry its record's order (a priority edited
 *   in place, a file moved in by hand) renames it to its order name in one rename, never over an
 *   existing name and never a name with a token (held by T1). A claim or command racing it finds
 *   the old name gone and picks again, exactly as after losing a claim. `vpo jobs priority` does
 *   not edit in place: it is a transition queued -> queued (T1-T5), whose T3 publishes the new
 *   record under its new order name.
 *
 * @module
 */
import { type JobState, STATES } from "./job.ts";
import type { QueueLayout } from "./layout.ts";

/** The history events a transition records. */
export type TransitionEvent =
  | "completed"
  | "failed"
  | "cancelled"
  | "requeued"
  | "retried"
  | "recovered"
  | "priority";

/**
 * Every legal transition: from a state, to a state, with the events that may move a job so.
 * (A claim, queued to running, is a rename (C2), not a transition.)
 */
export const TRANSITIONS: {
  readonly [from in JobState]: { readonly [to in JobState]?: readonly TransitionEvent[] };
} = {
  // A new priority is a new record under a new name (T3 publishes it under its order name).
  queued: { cancelled: ["cancelled"], queued: ["priority"] },
  running: {
    completed: ["completed", "recovered"],
    failed: ["failed", "recovered"],
    cancelled: ["cancelled", "recovered"],
    queued: ["requeued", "recovered"],
  },
  completed: {},
  failed: { queued: ["retried"] },
  cancelled: { queued: ["retried"] },
};

/** A transition {@link TRANSITIONS} does not list: a fault of the code, never of the input. */
export class IllegalTransitionError extends Error {}

/**
 * Throws {@link IllegalTransitionError} unless `from -> to` by `event` is in the table.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * checkTransition("failed", "queued", "retried");
 * assert.throws(() => checkTransition("completed", "queued", "retried"), IllegalTransitionError);
 * ```
 */
export function checkTransition(from: JobState, to: JobState, event: TransitionEvent): void {
  if (!TRANSITIONS[from][to]?.includes(event)) {
    throw new IllegalTransitionError(`illegal transition ${from} -> ${to} (${event})`);
  }
}

/** Every crash point of the queue protocol, in protocol order. */
export const QUEUE_CRASH_POINTS = [
  "enqueue:written",
  "enqueue:published",
  "claim:renamed",
  "claim:live-written",
  "transition:written",
  "transition:published",
  "transition:removed",
  "recover:journal-copied",
  "recover:taken-over",
] as const;

/** Every crash point of the piece claims (S), in protocol order. */
export const PIECE_CRASH_POINTS = ["piece:claimed", "piece:recorded", "piece:taken-over"] as const;

/** The state a held or published job file is in: the name of its directory. */
export function stateOfPath(layout: QueueLayout, path: string): JobState | null {
  const dir = path.slice(0, path.lastIndexOf("/"));
  return STATES.find((s) => layout.stateDir(s) === dir) ?? null;
}
