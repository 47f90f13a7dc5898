/**
 * The record of a finished segment, `seg-NNNN.json` in the segment directory: the piece record of
 * S4 (`src/queue/pieces.ts`), created once by whichever worker encoded the segment, on any host.
 * It names the segment's file and what it must hold; the worker holding the job reads them all to
 * show progress and to join. A record may have been edited by hand: only one whose every field has
 * its shape, for this plan and this segment, is taken.
 *
 * @module
 */
import type { SegmentProbe } from "../../media/segments.ts";
import type { SegmentJournal } from "./journal.ts";
import { pieceName } from "./segment_dir.ts";

/** A finished segment (`seg-NNNN.json`). */
export interface SegmentRecord extends SegmentProbe {
  /** The plan it belongs to (the journal's `plan_id`). */
  plan_id: string;
  /** 0-based segment index. */
  index: number;
  /** Its file in the segment directory, `seg-NNNN.<token>.mkv`. */
  file: string;
  size: number;
  sha256: string;
  /** Wall seconds its encode took. */
  wall_sec: number;
  /** The host that encoded it. */
  host: string;
}

/** The record of segment `index` of `journal` in `text`, or null when it is not one. */
export function parseRecord(
  text: string | null,
  journal: SegmentJournal,
  index: number,
): SegmentRecord | null {
  if (text === null) return null;
  let data: Partial<SegmentRecord>;
  try {
    data = JSON.parse(text);
  } catch {
    return null;
  }
  const int = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0;
  const fileRe = new RegExp(`^${pieceName(index)}\\.[0-9a-f]{12}\\.mkv$`);
  const ok = typeof data === "object" && data !== null && data.plan_id === journal.plan_id &&
    data.index === index && typeof data.file === "string" && fileRe.test(data.file) &&
    int(data.size) && typeof data.sha256 === "string" && /^[0-9a-f]{64}$/.test(data.sha256) &&
    data.frames === journal.segments[index].frames && typeof data.codec === "string" &&
    typeof data.extradata === "string" && typeof data.wall_sec === "number" &&
    typeof data.host === "string";
  return ok ? data as SegmentRecord : null;
}

/** The record's text as it is published. */
export function recordText(record: SegmentRecord): string {
  return JSON.stringify(record, null, 1) + "\n";
}
