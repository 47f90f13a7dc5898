/**
 * How far a segmented job is, across runs, as its journal says: what `jobs show` prints between
 * runs and what the free-space check and the requeued record use.
 *
 * @module
 */
import { readJournal, type SegmentJournal } from "./journal.ts";

/** Progress of a segmented job across runs, kept in the job record between runs. */
export interface SegmentProgress {
  done: number;
  total: number;
  /** Percent of the media encoded. */
  percent: number;
  media_done_sec: number;
  media_total_sec: number;
  /** Wall seconds spent encoding the finished segments. */
  encode_sec: number;
  /** Length of the last run's window (worker start to deadline); null without a deadline. */
  window_sec: number | null;
}

/** Fraction (0-1) of the media still to encode. */
export function remainingFraction(journal: SegmentJournal): number {
  const p = progressOf(journal, null);
  return p.media_total_sec > 0 ? 1 - p.media_done_sec / p.media_total_sec : 1;
}

/** Progress across runs as the journal says, with the window the current run has. */
export function progressOf(journal: SegmentJournal, windowSec: number | null): SegmentProgress {
  let mediaDone = 0;
  let mediaTotal = 0;
  let encodeSec = 0;
  let done = 0;
  for (const seg of journal.segments) {
    mediaTotal += seg.mediaSec;
    const d = journal.done[String(seg.index)];
    if (d) {
      done++;
      mediaDone += seg.mediaSec;
      encodeSec += d.wall_sec;
    }
  }
  return {
    done,
    total: journal.segments.length,
    percent: mediaTotal > 0 ? Math.round(mediaDone / mediaTotal * 1000) / 10 : 0,
    media_done_sec: round(mediaDone),
    media_total_sec: round(mediaTotal),
    encode_sec: round(encodeSec),
    window_sec: windowSec === null ? null : Math.round(windowSec),
  };
}

/** Reads a job's segment progress from its directory; null when there is none. */
export function readSegmentProgress(
  dir: string,
  id: string,
  windowSec: number | null,
): SegmentProgress | null {
  const journal = readJournal(dir, id);
  return journal ? progressOf(journal, windowSec) : null;
}

/** Rounded to a tenth (seconds in records and progress). */
export const round = (n: number) => Math.round(n * 10) / 10;
