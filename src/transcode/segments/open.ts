/**
 * Planning a job's segmented encode, or resuming the one its journal records.
 *
 * @module
 */
import { join } from "node:path";
import type { EncodePlan } from "../../media/plan.ts";
import { planSegments, readPacketTimes, segmentableVideo } from "../../media/segments.ts";
import type { ClaimedJob } from "../../queue/claimed_job.ts";
import type { Fingerprint } from "../fingerprint.ts";
import { hashFile } from "./hashing.ts";
import {
  JOURNAL_FORMAT,
  readJournal,
  sameSource,
  type SegmentJournal,
  settingsHash,
  writeJournal,
} from "./journal.ts";
import { clearOwnFiles, ensureOwnDir, segmentName } from "./segment_dir.ts";

/** Whether a job of `durationSec` would be encoded in segments of `segmentSec`. */
export function wantsSegments(durationSec: number, segmentSec: number | null): boolean {
  return segmentSec !== null && segmentSec > 0 && durationSec >= 2 * segmentSec;
}

/** What {@link openSegments} needs from the job. */
export interface OpenSegmentsOptions {
  claimed: ClaimedJob;
  plan: EncodePlan;
  source: string;
  /** The job's segment directory ({@link segmentDirPath}). */
  dir: string;
  signal: AbortSignal;
  /** The source as the job knows it; a journal made for another source is discarded. */
  fingerprint: Fingerprint;
  /** Target seconds of media per segment. */
  segmentSec: number;
}

/**
 * Plans (or resumes) the segmented encode of a job; null when the video cannot be cut by
 * timestamps (the caller encodes in one pass). The segment directory is made here.
 */
export async function openSegments(opts: OpenSegmentsOptions): Promise<SegmentJournal | null> {
  const video = segmentableVideo(opts.plan);
  if (video === null) return null;
  await ensureOwnDir(opts.dir);
  const settings = await settingsHash(opts.plan, opts.segmentSec);
  const old = readJournal(opts.dir, opts.claimed.id);
  if (old && old.settings === settings && sameSource(old.fingerprint, opts.fingerprint)) {
    await dropDamagedSegments(opts.dir, old);
    return old;
  }
  await clearOwnFiles(opts.dir);
  const times = await readPacketTimes(opts.source, video.inputIndex, { signal: opts.signal });
  if (times === null) return null;
  const journal: SegmentJournal = {
    vpo_segments: JOURNAL_FORMAT,
    job_id: opts.claimed.id,
    fingerprint: opts.fingerprint,
    settings,
    time_base: times.timeBase,
    file_start_sec: times.fileStartSec,
    segments: planSegments(times, opts.segmentSec),
    done: {},
  };
  await writeJournal(opts.dir, journal);
  return journal;
}

/** Forgets finished segments whose file is missing or differs from what the journal says. */
async function dropDamagedSegments(dir: string, journal: SegmentJournal): Promise<void> {
  let dropped = false;
  for (const [key, d] of Object.entries(journal.done)) {
    const path = join(dir, segmentName(Number(key)));
    const ok = await hashFile(path).then(
      (h) => h.size === d.size && h.sha256 === d.sha256,
      () => false,
    );
    if (!ok) {
      delete journal.done[key];
      await Deno.remove(path).catch(() => {});
      dropped = true;
    }
  }
  if (dropped) await writeJournal(dir, journal);
}
