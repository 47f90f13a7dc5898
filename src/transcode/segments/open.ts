/**
 * Planning a job's segmented encode, or resuming the one its journal records, and offering its
 * segments to every worker (S1 of `src/queue/protocol.ts`).
 *
 * @module
 */
import { join } from "node:path";
import { ffmpegBuild } from "../../media/ffmpeg_build.ts";
import type { EncodePlan } from "../../media/plan.ts";
import { planSegments, readPacketTimes, segmentableVideo } from "../../media/segments.ts";
import type { ClaimedJob } from "../../queue/claimed_job.ts";
import { randomHex } from "../../util/ids.ts";
import type { Fingerprint } from "../../replace/fingerprint.ts";
import { hashFile } from "./hashing.ts";
import {
  JOURNAL_FORMAT,
  readJournal,
  sameSource,
  type SegmentJournal,
  settingsHash,
  writeJournal,
} from "./journal.ts";
import { SegmentBoard } from "./segment_board.ts";
import { clearOwnFiles, ensureOwnDir, holdOwnDir } from "./segment_dir.ts";
import type { HeldFolder } from "../../util/safe_open.ts";

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

/** A job's segmented encode, planned or resumed. */
export interface OpenedSegments {
  journal: SegmentJournal;
  /**
   * The segment directory, held open from here to the end of the run (dispose it): the join
   * reads the segments through it ({@link holdOwnDir}).
   */
  held: HeldFolder;
}

/**
 * Plans (or resumes) the segmented encode of a job; null when the video cannot be cut by
 * timestamps (the caller encodes in one pass). The segment directory is made here. A plan made
 * with other settings, for another version of the source or by another ffmpeg build is
 * discarded with its segments.
 */
export async function openSegments(opts: OpenSegmentsOptions): Promise<OpenedSegments | null> {
  const video = segmentableVideo(opts.plan);
  if (video === null) return null;
  await ensureOwnDir(opts.dir);
  const held = holdOwnDir(opts.dir);
  let journal: SegmentJournal | null = null;
  try {
    journal = await planOrResume(opts, video.inputIndex);
    return journal && { journal, held };
  } finally {
    if (journal === null) held[Symbol.dispose]();
  }
}

async function planOrResume(
  opts: OpenSegmentsOptions,
  inputIndex: number,
): Promise<SegmentJournal | null> {
  const build = await ffmpegBuild();
  const old = readJournal(opts.dir, opts.claimed.id);
  // The plan keeps the segment length it was cut with: a new jobs.segment_length applies to new
  // plans only.
  if (
    old && old.settings === await settingsHash(opts.plan, old.segment_sec) &&
    sameSource(old.fingerprint, opts.fingerprint) && old.ffmpeg_build === build
  ) {
    await dropDamagedSegments(opts.dir, old);
    return old;
  }
  await clearOwnFiles(opts.dir);
  const times = await readPacketTimes(opts.source, inputIndex, { signal: opts.signal });
  if (times === null) return null;
  const journal: SegmentJournal = {
    vpo_segments: JOURNAL_FORMAT,
    job_id: opts.claimed.id,
    plan_id: randomHex(6),
    fingerprint: opts.fingerprint,
    settings: await settingsHash(opts.plan, opts.segmentSec),
    segment_sec: opts.segmentSec,
    ffmpeg_build: build,
    crf: opts.plan.video.crf,
    time_base: times.timeBase,
    file_start_sec: times.fileStartSec,
    segments: planSegments(times, opts.segmentSec),
  };
  // S1: the plan first, then the offers; nobody claims a segment of a plan not written.
  await writeJournal(opts.dir, journal);
  const board = new SegmentBoard(journal, opts.dir);
  for (const seg of journal.segments) await board.offer(seg.index);
  return journal;
}

/** Takes back finished segments whose file is missing or differs from what its record says. */
async function dropDamagedSegments(dir: string, journal: SegmentJournal): Promise<void> {
  const board = new SegmentBoard(journal, dir);
  const view = await board.look();
  for (const [index, record] of view.records) {
    const ok = await hashFile(join(dir, record.file)).then(
      (h) => h.size === record.size && h.sha256 === record.sha256,
      () => false,
    );
    if (!ok) await board.reopen(index);
  }
}
