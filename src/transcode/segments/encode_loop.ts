/**
 * The segmented encode of one job by the worker holding it: it offers the segments to every
 * worker (`src/queue/pieces.ts`), encodes those nobody else took, the longest first, waits for
 * the ones others are encoding (taking over any whose worker died), and once every segment is
 * recorded joins them. A deadline, signal or crash loses at most the segments being encoded.
 *
 * @module
 */
import { join } from "node:path";
import { hostname } from "node:os";
import { LostPieceError } from "../../errors.ts";
import type { EncodePlan } from "../../media/plan.ts";
import type { ClaimedJob } from "../../queue/claimed_job.ts";
import { thisWorker } from "../../queue/claimed_job.ts";
import type { LiveProgress } from "../../queue/job_type.ts";
import type { PieceClaim } from "../../queue/pieces.ts";
import { sleep } from "../../util/sleep.ts";
import { encodeSegment } from "./encode_segment.ts";
import type { FfmpegUsage } from "../../media/ffmpeg_runner.ts";
import { FilmProgress } from "./film_progress.ts";
import type { SegmentJournal } from "./journal.ts";
import { type JoinOptions, joinSegments } from "./join.ts";
import type { SegmentRecord } from "./records.ts";
import { type BoardView, SegmentBoard } from "./segment_board.ts";
import { checkStillHeld } from "./segment_dir.ts";
import type { HeldFolder } from "../../util/safe_open.ts";

/** How often the holder looks at the segment directory while others encode. */
const LOOK_MS = 2000;

/** What {@link encodeSegmented} needs from the job. */
export interface SegmentedEncodeOptions extends JoinOptions {
  claimed: ClaimedJob;
  plan: EncodePlan;
  source: string;
  heartbeatIntervalSec: number;
  staleAfterSec: number;
  /** Length of this run's window (start to deadline), for the progress; null without one. */
  windowSec: number | null;
  /** The film's progress (percent of all its media), for the live file and terminal. */
  progress: (p: LiveProgress) => void;
  /** Whether a segment of this many media seconds can finish before the deadline. */
  fits: (mediaSec: number) => boolean;
  /** Stops the run because no segment left fits before the deadline (RunContext.outOfTime). */
  outOfTime: (why: string) => never;
  /** Reports a segment taken over from a worker that died (RunContext.warn). */
  warn: (text: string) => void;
  /** Called after each segment this worker encoded, e.g. to record the measured speed. */
  afterSegment: (mediaSec: number, wallSec: number, usage: FfmpegUsage | null) => Promise<void>;
}

/**
 * Encodes the segments not yet done, with whoever helps, then joins them. Returns the wall
 * seconds all workers and runs spent on the job's segments, and the join.
 *
 * @throws SegmentError when a segment or the join fails; the signal's reason when stopped.
 */
export async function encodeSegmented(
  journal: SegmentJournal,
  opts: SegmentedEncodeOptions,
): Promise<{ wallSec: number }> {
  const board = new SegmentBoard(journal, opts.dir);
  const host = hostname();
  const film = new FilmProgress(journal, {
    windowSec: opts.windowSec,
    staleAfterSec: opts.staleAfterSec,
    report: opts.progress,
    write: (segments) =>
      opts.claimed.updateLive({ segments: { ...segments } }).catch(() => {
        // A lost job is noticed by the heartbeat timer, which stops the encode.
      }),
  });
  const worker = thisWorker();
  let unseenBefore = new Set<number>();
  while (true) {
    opts.signal.throwIfAborted();
    const view = await board.look();
    await film.saw(view);
    for (const index of view.badRecords) await board.reopen(index);
    // S7: a segment in no state in two looks in a row is offered again.
    for (const index of view.unseen) if (unseenBefore.has(index)) await board.offer(index);
    unseenBefore = new Set(view.unseen);
    if (view.records.size === journal.segments.length && await allInPlace(board, view, opts.held)) {
      return { wallSec: await joinSegments(journal, view.records, opts) };
    }
    const pick = board.pick(view, opts.staleAfterSec, opts.fits);
    if (pick) {
      const claim = await board.take(pick, worker);
      if (claim && pick.stale) opts.warn(board.describe(pick));
      if (claim) await encodeOwn(claim, pick.index, view);
      continue;
    }
    if (board.candidates(view, opts.staleAfterSec).length > 0) {
      opts.outOfTime("deadline: the next segment cannot finish before it");
    }
    // Every segment left is being encoded by another worker: wait for them.
    await sleep(LOOK_MS, opts.signal);
  }

  async function encodeOwn(claim: PieceClaim, index: number, view: BoardView): Promise<void> {
    // A segment may take hours: the film's progress keeps counting the others' meanwhile.
    const watch = watchBoard(board, film);
    try {
      const done = await encodeSegment(claim, index, {
        journal,
        dir: opts.dir,
        plan: opts.plan,
        source: opts.source,
        cpuCores: opts.cpuCores,
        cpuSet: opts.cpuSet,
        logPath: opts.logPath,
        signal: opts.signal,
        heartbeatIntervalSec: opts.heartbeatIntervalSec,
        reference: () => firstRecord(view.records),
        earlierDone: view.records.size > 0,
        onProgress: (sample) => film.own(index, host, sample),
      });
      if (done.won) {
        await opts.afterSegment(board.mediaSec(index), done.record.wall_sec, done.usage);
      }
    } catch (err) {
      // Taken over (this worker stalled past stale_after): the segment is another's now.
      if (err instanceof LostPieceError) return;
      await claim.release().catch(() => {});
      throw err;
    } finally {
      await watch.stop();
      film.own(index, host, null);
    }
  }
}

/**
 * Looks at the board every {@link LOOK_MS} for the film's progress (one look at a time) until
 * stopped; what it saw only informs the progress, never a decision.
 */
function watchBoard(board: SegmentBoard, film: FilmProgress): { stop: () => Promise<void> } {
  let looking: Promise<void> | null = null;
  const timer = setInterval(() => {
    looking ??= board.look().then((view) => film.saw(view)).catch(() => {
      // A look that failed (the directory briefly unreachable) is tried at the next tick.
    }).finally(() => looking = null);
  }, LOOK_MS);
  return {
    stop: async () => {
      clearInterval(timer);
      await looking;
    },
  };
}

/** The record of the first finished segment, which every other one must match. */
export function firstRecord(records: ReadonlyMap<number, SegmentRecord>): SegmentRecord | null {
  const first = Math.min(...records.keys());
  return records.get(first) ?? null;
}

/**
 * Whether every record's file is, in the segment directory held open (what the join reads), a
 * regular file with its recorded size; the others are offered again (S7). The files were hashed
 * through their descriptor as they were made, and again when a run resumes; only a person could
 * change one in between.
 */
async function allInPlace(
  board: SegmentBoard,
  view: BoardView,
  held: HeldFolder,
): Promise<boolean> {
  await checkStillHeld(board.dir, held);
  let ok = true;
  for (const [index, record] of view.records) {
    const size = await Deno.lstat(held.reach(join(board.dir, record.file))).then(
      (info) => info.isFile ? info.size : -1,
      () => -1,
    );
    if (size !== record.size) {
      await board.reopen(index);
      ok = false;
    }
  }
  return ok;
}
