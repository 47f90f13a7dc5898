/**
 * How far a segmented job is, across runs and workers, as its journal and the segments' records
 * say: what `jobs show` prints between runs, and what the free-space check and the requeued record
 * use.
 *
 * @module
 */
import { readJournal, type SegmentJournal } from "./journal.ts";
import type { SegmentRecord } from "./records.ts";
import { SegmentBoard } from "./segment_board.ts";

/** Progress of a segmented job across runs, kept in the job record between runs. */
export interface SegmentProgress {
  done: number;
  total: number;
  /** Percent of the media encoded. */
  percent: number;
  media_done_sec: number;
  media_total_sec: number;
  /** Wall seconds spent encoding the finished segments (all workers together). */
  encode_sec: number;
  /** Length of the last run's window (worker start to deadline); null without a deadline. */
  window_sec: number | null;
}

/** Fraction (0-1) of the media of `journal` still to encode, as its directory `dir` says. */
export async function remainingFraction(journal: SegmentJournal, dir: string): Promise<number> {
  const view = await new SegmentBoard(journal, dir).look();
  const p = progressOf(journal, view.records, null);
  return p.media_total_sec > 0 ? 1 - p.media_done_sec / p.media_total_sec : 1;
}

/** Progress as the finished segments' records say, with the window the current run has. */
export function progressOf(
  journal: SegmentJournal,
  records: ReadonlyMap<number, SegmentRecord>,
  windowSec: number | null,
): SegmentProgress {
  let mediaDone = 0;
  let mediaTotal = 0;
  let encodeSec = 0;
  for (const seg of journal.segments) {
    mediaTotal += seg.mediaSec;
    const record = records.get(seg.index);
    if (record) {
      mediaDone += seg.mediaSec;
      encodeSec += record.wall_sec;
    }
  }
  return {
    done: records.size,
    total: journal.segments.length,
    percent: mediaTotal > 0 ? Math.round(mediaDone / mediaTotal * 1000) / 10 : 0,
    media_done_sec: round(mediaDone),
    media_total_sec: round(mediaTotal),
    encode_sec: round(encodeSec),
    window_sec: windowSec === null ? null : Math.round(windowSec),
  };
}

/** Reads a job's segment progress from its directory; null when there is none. */
export async function readSegmentProgress(
  dir: string,
  id: string,
  windowSec: number | null,
): Promise<SegmentProgress | null> {
  const journal = readJournal(dir, id);
  if (!journal) return null;
  const view = await new SegmentBoard(journal, dir).look();
  return progressOf(journal, view.records, windowSec);
}

/** Rounded to a tenth (seconds in records and progress). */
export const round = (n: number) => Math.round(n * 10) / 10;
