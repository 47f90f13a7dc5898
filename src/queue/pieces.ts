/**
 * Pieces of a running job that any worker may claim, on this host or another one sharing the
 * directory (S1-S7 of `protocol.ts`): the segments of a long encode. A piece is claimed as a job
 * is, by a rename exactly one process wins to a name carrying a fencing token, kept alive by a beat
 * file judged on the file server's clock (`heartbeat.ts`), and taken over once that beat is older
 * than `stale_after`. Its result is published by creating its record exclusively, so of two
 * workers that finish one piece (one woke up after a takeover) exactly one publishes, and no two
 * writers ever share a file: whatever a claimer writes carries its token.
 *
 * The directory is the job type's (for transcode, the job's segment directory) and must already
 * exist; every name here is `<piece>` followed by `.free`, `.<token>.claim`, `.<token>.beat` or
 * `.json`.
 *
 * @module
 */
import { join } from "node:path";
import { LostPieceError } from "../errors.ts";
import { crashPoint } from "../util/crash_point.ts";
import {
  fileSystemNow,
  publishNoClobber,
  retryTransient,
  syncDir,
  writeTempFile,
} from "../util/durable_fs.ts";
import { newToken } from "../util/ids.ts";
import { createFileSync, readRegularFileSync } from "../util/safe_open.ts";
import { beatTime, heartbeatAgeSec, writeBeat } from "./heartbeat.ts";
import type { WorkerInfo } from "./job.ts";
import { isBusy, isGone } from "./transition.ts";

/** What a claimer's beat file says besides its mtime: who works on the piece, and how far. */
export interface PieceBeat {
  /** The worker that holds the claim. */
  worker: WorkerInfo;
  /** Percent of the piece done, 0-100; null before the first report. */
  percent: number | null;
  /** Speed of the work (for an encode, media seconds per wall second); null when unknown. */
  speed: number | null;
}

/** One piece as a listing of its directory found it. */
export interface PieceState {
  /** `<piece>.free` is there: anybody may claim it. */
  free: boolean;
  /** Tokens of the claims of the piece (more than one only while a takeover runs). */
  claims: string[];
  /** `<piece>.json` is there: the piece is done. */
  recorded: boolean;
}

/** A claim as a reader sees it: how old its beat is, and what the beat says. */
export interface ClaimInfo {
  /** The claim's fencing token. */
  token: string;
  /** Seconds since its last beat, on the file server's clock; null when the claim is gone. */
  ageSec: number | null;
  /** The beat's content; null when missing or not readable as one. */
  beat: PieceBeat | null;
}

const NAME_RE = /^([a-z0-9-]+)\.(?:(free)|([0-9a-z]+)\.(claim|beat)|(json))$/;

/** The pieces of one running job, in the directory `dir`. */
export class PieceBoard {
  /** `dir` is the piece directory; it must exist. */
  constructor(readonly dir: string) {}

  /** The free marker of `piece`. */
  freePath(piece: string): string {
    return join(this.dir, `${piece}.free`);
  }
  /** The claim of `piece` under `token`. */
  claimPath(piece: string, token: string): string {
    return join(this.dir, `${piece}.${token}.claim`);
  }
  /** The beat file of that claim. */
  beatPath(piece: string, token: string): string {
    return join(this.dir, `${piece}.${token}.beat`);
  }
  /** The record that says `piece` is done. */
  recordPath(piece: string): string {
    return join(this.dir, `${piece}.json`);
  }

  /**
   * S1: offers `piece` to every worker. A marker already there stays (exclusive create), so an
   * offer never makes a second marker of one piece.
   */
  offer(piece: string): Promise<void> {
    return new Promise((resolve) => {
      try {
        createFileSync(this.freePath(piece), { rule: "folder" }).close();
      } catch (err) {
        if (!(err instanceof Deno.errors.AlreadyExists)) throw err;
      }
      resolve();
    });
  }

  /**
   * The state of each of `pieces`, from one listing of the directory. A rename during the listing
   * may hide a name from it: a piece found in no state is looked at again before anything acts on
   * that (see S7).
   */
  scan(pieces: readonly string[]): Map<string, PieceState> {
    const states = new Map<string, PieceState>(
      pieces.map((p) => [p, { free: false, claims: [], recorded: false }]),
    );
    for (const entry of Deno.readDirSync(this.dir)) {
      const m = NAME_RE.exec(entry.name);
      const state = m ? states.get(m[1]) : undefined;
      if (!state || !entry.isFile) continue;
      if (m![2]) state.free = true;
      else if (m![4] === "claim") state.claims.push(m![3]);
      else if (m![5]) state.recorded = true;
    }
    return states;
  }

  /** The file server's clock, by a file written in the directory (see heartbeat.ts). */
  now(): number {
    return fileSystemNow(this.dir, "folder");
  }

  /** How old the claim `token` of `piece` is at `fsNow`, and what its beat says. */
  async claimInfo(piece: string, token: string, fsNow: number): Promise<ClaimInfo> {
    const beatPath = this.beatPath(piece, token);
    const ageSec = await heartbeatAgeSec(this.claimPath(piece, token), beatPath, fsNow);
    return { token, ageSec, beat: readBeat(beatPath) };
  }

  /**
   * S2: claims `piece` for `worker`; null when another worker was faster (or the piece is not
   * free).
   */
  async claim(piece: string, worker: WorkerInfo): Promise<PieceClaim | null> {
    const token = newToken();
    const claim = new PieceClaim(this, piece, token, worker);
    // The beat comes first, as in C1: nobody may see the claim without one.
    await writeBeat(claim.beatPath, true, beatText(worker, null, null), "folder");
    try {
      await Deno.rename(this.freePath(piece), claim.path);
    } catch (err) {
      await claim.dropBeat();
      if (isGone(err) || isBusy(err)) return null;
      throw err;
    }
    crashPoint("piece:claimed");
    return claim;
  }

  /**
   * S5: takes over the claim `oldToken` of `piece`, whose beat the caller found older than
   * `stale_after`; null when another worker took it first (or its claimer finished it). The old
   * claimer's own files (named with its token) are the caller's to remove; when the piece is
   * recorded already, the caller drops its claim ({@link PieceClaim.drop}).
   */
  async takeOver(piece: string, oldToken: string, worker: WorkerInfo): Promise<PieceClaim | null> {
    const token = newToken();
    const claim = new PieceClaim(this, piece, token, worker);
    await writeBeat(claim.beatPath, true, beatText(worker, null, null), "folder");
    try {
      await Deno.rename(this.claimPath(piece, oldToken), claim.path);
    } catch (err) {
      await claim.dropBeat();
      if (isGone(err) || isBusy(err)) return null;
      throw err;
    }
    await Deno.remove(this.beatPath(piece, oldToken)).catch(() => {});
    crashPoint("piece:taken-over");
    return claim;
  }

  /** The record of `piece` as its publisher wrote it, or null when there is none. */
  readRecord(piece: string): string | null {
    try {
      return readRegularFileSync(this.recordPath(piece));
    } catch {
      return null;
    }
  }

  /** S7: forgets the record of `piece` (its output is damaged or gone) and offers it again. */
  async dropRecord(piece: string): Promise<void> {
    await Deno.remove(this.recordPath(piece)).catch(() => {});
    await this.offer(piece);
  }
}

/** A piece held by this worker. Every step first proves the claim is still this worker's. */
export class PieceClaim {
  /** Made by {@link PieceBoard.claim} and {@link PieceBoard.takeOver}. */
  constructor(
    readonly board: PieceBoard,
    readonly piece: string,
    readonly token: string,
    readonly worker: WorkerInfo,
  ) {}

  /** The claim file. */
  get path(): string {
    return this.board.claimPath(this.piece, this.token);
  }
  /** Its beat file. */
  get beatPath(): string {
    return this.board.beatPath(this.piece, this.token);
  }

  /**
   * S3: rewrites the beat, saying how far the work is, after checking the claim is still under
   * this token. Throws {@link LostPieceError} when it is gone (taken over, or the job ended).
   */
  async heartbeat(percent: number | null = null, speed: number | null = null): Promise<void> {
    await this.#prove();
    const text = beatText(this.worker, percent, speed);
    await retryTransient(() => writeBeat(this.beatPath, false, text, "folder"));
    // Taken over while the beat was written (this worker froze in between): the taker removed
    // the old beat already, and the one just written is this worker's to remove.
    await this.#prove().catch(async (err) => {
      if (err instanceof LostPieceError) await this.dropBeat();
      throw err;
    });
  }

  /**
   * S4: publishes the piece's record (its output, named with this token, is in place already).
   * Returns false when another worker recorded the piece first: the caller removes its output.
   * Either way the claim is over. Throws {@link LostPieceError} when the claim was taken.
   */
  async publish(record: string): Promise<boolean> {
    // Written whole and fsynced first, then linked in: a reader never sees half a record.
    const tmp = await writeTempFile(this.board.dir, record, { rule: "folder" });
    await this.#prove();
    const won = await publishNoClobber(tmp, this.board.recordPath(this.piece));
    if (!won) await Deno.remove(tmp).catch(() => {});
    await syncDir(this.board.dir);
    crashPoint("piece:recorded");
    await this.drop();
    return won;
  }

  /** S6: gives the piece back to the others (deadline, signal, failure); nothing if it was taken. */
  async release(): Promise<void> {
    try {
      await Deno.rename(this.path, this.board.freePath(this.piece));
    } catch (err) {
      if (!isGone(err)) throw err;
    }
    await this.dropBeat();
  }

  /** Ends the claim without offering the piece again (it is recorded). */
  async drop(): Promise<void> {
    await Deno.remove(this.path).catch(() => {});
    await this.dropBeat();
  }

  /** Removes this claim's beat. */
  async dropBeat(): Promise<void> {
    await Deno.remove(this.beatPath).catch(() => {});
  }

  async #prove(): Promise<void> {
    try {
      await retryTransient(() => Deno.stat(this.path));
    } catch (err) {
      if (isGone(err)) throw new LostPieceError(this.piece);
      throw err;
    }
  }
}

function beatText(worker: WorkerInfo, percent: number | null, speed: number | null): string {
  return JSON.stringify({ worker, percent, speed, at: new Date().toISOString() }) + "\n";
}

/** The beat at `path` if it is one (it may be hand-edited: only its shape is trusted). */
function readBeat(path: string): PieceBeat | null {
  if (beatTime(path) === null) return null;
  try {
    const data = JSON.parse(readRegularFileSync(path, 64 * 1024));
    const w = data?.worker;
    const num = (v: unknown) => typeof v === "number" && Number.isFinite(v) ? v : null;
    if (typeof w?.host !== "string" || typeof w.pid !== "number") return null;
    return { worker: w, percent: num(data.percent), speed: num(data.speed) };
  } catch {
    return null;
  }
}
