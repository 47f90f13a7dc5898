/**
 * The journal of one job's segmented encode, `journal.json` in its segment directory: the cuts it
 * was planned with, and the source, settings and ffmpeg build they are valid for. It is written
 * to an exclusive temp in the directory and renamed over its name, which replaces a link planted
 * there instead of writing through it, and read without following one.
 *
 * @module
 */
import { join } from "node:path";
import type { EncodePlan } from "../../media/plan.ts";
import { type Segment, segmentableVideo } from "../../media/segments.ts";
import { writeFileAtomic } from "../../util/durable_fs.ts";
import { readRegularFileSync } from "../../util/safe_open.ts";
import type { Fingerprint } from "../../replace/fingerprint.ts";

/**
 * Journal format marker and version. Version 1 also listed the finished segments; now each has a
 * record of its own (records.ts), which any worker may add. A version 1 journal is discarded.
 */
export const JOURNAL_FORMAT = 2;
const JOURNAL = "journal.json";

/**
 * The plan of one job's segmented encode (`journal.json` in its segment directory), written
 * once by the worker holding the job and only read after that, by it and by helpers.
 */
export interface SegmentJournal {
  vpo_segments: number;
  job_id: string;
  /** Made anew with each plan: a helper finds it in the holder's live file too (reachability). */
  plan_id: string;
  /** The source as it was when the segments were planned. */
  fingerprint: Fingerprint;
  /** Hash of the encode settings; different settings make the finished segments useless. */
  settings: string;
  /** The segment length the plan was cut with (`jobs.segment_length` then). */
  segment_sec: number;
  /** The ffmpeg build that planned it (media/ffmpeg_build.ts); helpers must run the same. */
  ffmpeg_build: string;
  /**
   * The CRF the segments are encoded at: a quality target's search chose it on the holder, and a
   * helper encodes at it too (null: a bitrate).
   */
  crf: number | null;
  time_base: [number, number];
  file_start_sec: number;
  segments: Segment[];
}

/** Hash of what decides the bitstream of a segment: encoder settings and the cut length. */
export async function settingsHash(plan: EncodePlan, segmentSec: number): Promise<string> {
  const video = segmentableVideo(plan)!;
  // Not paths or thread caps: those change nothing a join cares about.
  const key = JSON.stringify({ video: plan.video, stream: video, segmentSec, v: JOURNAL_FORMAT });
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(key));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Whether two fingerprints name the same version of the source. */
export function sameSource(a: Fingerprint, b: Fingerprint): boolean {
  return a.size === b.size && a.mtime_ms === b.mtime_ms && a.ino === b.ino;
}

/** Writes the journal durably (atomic rename over its name). */
export async function writeJournal(dir: string, journal: SegmentJournal): Promise<void> {
  await writeFileAtomic(join(dir, JOURNAL), JSON.stringify(journal, null, 1) + "\n", {
    rule: "folder",
  });
}

/**
 * The journal of job `id` in `dir`, or null when there is none, it is not a regular file, or it
 * is not a journal of that job in this format (then it is ignored and rewritten).
 */
export function readJournal(dir: string, id: string): SegmentJournal | null {
  const path = join(dir, JOURNAL);
  try {
    const data = JSON.parse(readRegularFileSync(path, 64 * 1024 * 1024));
    return isJournal(data, id) ? data : null;
  } catch {
    return null;
  }
}

function isJournal(data: unknown, id: string): data is SegmentJournal {
  if (typeof data !== "object" || data === null) return false;
  const j = data as Partial<SegmentJournal>;
  const int = (v: unknown) => Number.isSafeInteger(v);
  return j.vpo_segments === JOURNAL_FORMAT && j.job_id === id &&
    typeof j.plan_id === "string" && /^[0-9a-f]{12}$/.test(j.plan_id) &&
    typeof j.segment_sec === "number" && typeof j.ffmpeg_build === "string" &&
    (j.crf === null || typeof j.crf === "number") &&
    typeof j.settings === "string" && typeof j.fingerprint === "object" &&
    Array.isArray(j.time_base) && j.time_base.length === 2 && j.time_base.every(int) &&
    typeof j.file_start_sec === "number" && Array.isArray(j.segments) &&
    j.segments.length > 0 &&
    j.segments.every((s, i) =>
      s?.index === i && int(s.start) && (s.end === null || int(s.end)) && int(s.frames) &&
      typeof s.mediaSec === "number"
    );
}
