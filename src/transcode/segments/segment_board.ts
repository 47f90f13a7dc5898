/**
 * The segments of one plan as pieces any worker may claim (`src/queue/pieces.ts`): what the
 * segment directory says of each at one moment, which one a worker should take next, and taking
 * it. Used alike by the worker holding the job and by the workers helping with it.
 *
 * @module
 */
import { join } from "node:path";
import type { WorkerInfo } from "../../queue/job.ts";
import { type ClaimInfo, PieceBoard, type PieceClaim } from "../../queue/pieces.ts";
import type { SegmentJournal } from "./journal.ts";
import { parseRecord, type SegmentRecord } from "./records.ts";
import { partialName, pieceName, segmentFileName } from "./segment_dir.ts";

/** What the segment directory said at one look. */
export interface BoardView {
  /** Finished segments by index (records checked for shape and plan). */
  records: Map<number, SegmentRecord>;
  /** Segments anybody may claim. */
  free: number[];
  /** Claims of unfinished segments, with their age and what their beat says. */
  claims: Map<number, ClaimInfo[]>;
  /** Records that are not records of this plan (damaged, or hand-made). */
  badRecords: number[];
  /** Unfinished segments found neither free nor claimed (see S7). */
  unseen: number[];
}

/** What a worker should take next: a free segment, or a stale claim to take over. */
export interface Pick {
  index: number;
  /** The claim to take over; null for a free segment. */
  stale: ClaimInfo | null;
}

/** The segments of `journal` in the segment directory `dir`. */
export class SegmentBoard {
  readonly pieces: PieceBoard;
  readonly #names: string[];
  /** Records read so far: a record never changes once linked, so each is read once. */
  readonly #records = new Map<number, SegmentRecord>();

  constructor(readonly journal: SegmentJournal, readonly dir: string) {
    this.pieces = new PieceBoard(dir);
    this.#names = journal.segments.map((s) => pieceName(s.index));
  }

  /** The state of every segment now; claims' ages on the file server's clock. */
  async look(): Promise<BoardView> {
    const states = this.pieces.scan(this.#names);
    const fsNow = this.pieces.now();
    const view: BoardView = {
      records: new Map(),
      free: [],
      claims: new Map(),
      badRecords: [],
      unseen: [],
    };
    for (const [i, name] of this.#names.entries()) {
      const state = states.get(name)!;
      if (state.recorded) {
        const record = this.#records.get(i) ??
          parseRecord(this.pieces.readRecord(name), this.journal, i);
        if (record) {
          this.#records.set(i, record);
          view.records.set(i, record);
          continue;
        }
        view.badRecords.push(i);
      } else this.#records.delete(i);
      if (state.free) view.free.push(i);
      if (state.claims.length) {
        view.claims.set(
          i,
          await Promise.all(state.claims.map((t) => this.pieces.claimInfo(name, t, fsNow))),
        );
      }
      if (!state.free && !state.claims.length && !state.recorded) view.unseen.push(i);
    }
    return view;
  }

  /**
   * The segment to take next: free ones and claims stale for over `staleAfterSec`, the longest
   * first (so that the last segments to finish are short ones), the first for which `fits` (the
   * worker's deadline) says yes; null when there is none.
   */
  pick(view: BoardView, staleAfterSec: number, fits: (mediaSec: number) => boolean): Pick | null {
    return this.candidates(view, staleAfterSec).find((p) => fits(this.mediaSec(p.index))) ?? null;
  }

  /** Every segment a worker could take now, longest first; see {@link pick}. */
  candidates(view: BoardView, staleAfterSec: number): Pick[] {
    const picks: Pick[] = view.free.map((index) => ({ index, stale: null }));
    for (const [index, claims] of view.claims) {
      const stale = claims.find((c) => c.ageSec !== null && c.ageSec > staleAfterSec);
      if (stale && !view.free.includes(index)) picks.push({ index, stale });
    }
    return picks.sort((a, b) =>
      this.mediaSec(b.index) - this.mediaSec(a.index) || a.index - b.index
    );
  }

  /** Seconds of media of segment `index`. */
  mediaSec(index: number): number {
    return this.journal.segments[index].mediaSec;
  }

  /**
   * Claims the picked segment (S2), or takes over its stale claim (S5) and removes what the old
   * claimer left; null when another worker was faster.
   */
  async take(pick: Pick, worker: WorkerInfo): Promise<PieceClaim | null> {
    const name = pieceName(pick.index);
    if (pick.stale === null) return await this.pieces.claim(name, worker);
    const old = pick.stale.token;
    const claim = await this.pieces.takeOver(name, old, worker);
    if (claim === null) return null;
    // The old claimer is fenced now: its files are nobody's. A file it published is the one its
    // record names, if it got that far; then the segment is done.
    await Deno.remove(join(this.dir, partialName(pick.index, old))).catch(() => {});
    const record = parseRecord(this.pieces.readRecord(name), this.journal, pick.index);
    if (record) {
      await claim.drop();
      return null;
    }
    await Deno.remove(join(this.dir, segmentFileName(pick.index, old))).catch(() => {});
    return claim;
  }

  /** S7: forgets segment `index`'s record and file and offers it again. */
  async reopen(index: number): Promise<void> {
    const record = this.#records.get(index);
    this.#records.delete(index);
    if (record) await Deno.remove(join(this.dir, record.file)).catch(() => {});
    await this.pieces.dropRecord(pieceName(index));
  }

  /** "segment 4/12", and whose claim it takes over, for the worker's log. */
  describe(pick: Pick): string {
    const what = `segment ${pick.index + 1}/${this.journal.segments.length}`;
    if (pick.stale === null) return what;
    const w = pick.stale.beat?.worker;
    const who = w ? ` of ${w.host}:${w.pid}` : "";
    return `${what}, taken over: its claim${who} had no heartbeat for ${
      Math.round(pick.stale.ageSec ?? 0)
    } s`;
  }

  /** S1: offers segment `index` to every worker (a marker already there stays). */
  offer(index: number): Promise<void> {
    return this.pieces.offer(pieceName(index));
  }
}
