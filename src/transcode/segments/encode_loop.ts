/**
 * Segmented encoding of one job, resumable across runs: the video is encoded segment by segment
 * (see media/segments.ts) into the job's segment directory, each finished segment is recorded in
 * the journal with its size, SHA-256 and frame count, and once all are done they are joined. A
 * deadline, signal or crash loses at most the segment being encoded.
 *
 * A segment is written as the rest of the transcode temps are: created exclusively without
 * following a link (0600), and handed to ffmpeg as `/proc/<pid>/fd/<n>`, so a link planted at its
 * name receives nothing; it is published under its final name only while that name still holds
 * the inode vpo made.
 *
 * @module
 */
import { join } from "node:path";
import { runFfmpeg } from "../../media/ffmpeg_runner.ts";
import type { EncodePlan } from "../../media/plan.ts";
import type { ProgressUpdate } from "../../media/progress.ts";
import { probeSegment, segmentEncodeArgs, toSeconds } from "../../media/segments.ts";
import type { ClaimedJob } from "../../queue/claimed_job.ts";
import { crashPoint } from "../../util/crash_point.ts";
import { syncDir } from "../../util/durable_fs.ts";
import { OwnedFile, removeIfOwned } from "../../util/owned_file.ts";
import { hashOwned } from "./hashing.ts";
import { type SegmentJournal, writeJournal } from "./journal.ts";
import { type JoinOptions, joinSegments } from "./join.ts";
import { round } from "./progress.ts";
import { partialName, removeStalePartials, SegmentError, segmentName } from "./segment_dir.ts";

/**
 * Crash points of a segmented encode (`VPO_CRASH_AT`): in the middle of a segment after an
 * earlier one was recorded, and right after a segment was recorded.
 */
export const SEGMENT_CRASH_POINTS = ["segments:encoding", "segments:recorded"] as const;

/** What {@link encodeSegmented} needs from the job. */
export interface SegmentedEncodeOptions extends JoinOptions {
  claimed: ClaimedJob;
  plan: EncodePlan;
  source: string;
  /** Progress of the whole job (percent of all segments), for the live file and terminal. */
  onProgress: (update: ProgressUpdate) => void;
  /** Called before each segment is started; throws to stop (e.g. it cannot finish in time). */
  beforeSegment: (mediaSec: number) => void;
  /** Called after each finished segment, e.g. to record the measured speed. */
  afterSegment: (mediaSec: number, wallSec: number) => Promise<void>;
}

/**
 * Encodes the segments not yet done, then joins them. Returns the wall seconds all runs spent on
 * the job's segments and the join.
 *
 * @throws SegmentError when a segment or the join fails; the signal's reason when stopped.
 */
export async function encodeSegmented(
  journal: SegmentJournal,
  opts: SegmentedEncodeOptions,
): Promise<{ wallSec: number }> {
  const times = { timeBase: journal.time_base };
  const total = journal.segments.length;
  const mediaTotal = journal.segments.reduce((sum, s) => sum + s.mediaSec, 0);
  await removeStalePartials(opts.dir);
  for (const seg of journal.segments) {
    if (journal.done[String(seg.index)]) continue;
    opts.signal.throwIfAborted();
    opts.beforeSegment(seg.mediaSec);
    const file = join(opts.dir, segmentName(seg.index));
    const partial = join(opts.dir, partialName(seg.index, opts.claimed.token));
    const mediaBefore = journal.segments
      .filter((s) => journal.done[String(s.index)])
      .reduce((sum, s) => sum + s.mediaSec, 0);
    const startSec = toSeconds(times, seg.start);
    const started = performance.now();
    using out = await OwnedFile.create(partial).catch((err) => {
      throw new SegmentError(`cannot create segment ${seg.index + 1}/${total}: ${err.message}`);
    });
    try {
      const run = await runFfmpeg({
        args: segmentEncodeArgs(opts.plan, times, seg, opts.source, out.pathForChild, {
          cpuCores: opts.cpuCores,
        }),
        logPath: opts.logPath,
        signal: opts.signal,
        durationSec: seg.mediaSec,
        cpuCores: opts.cpuCores,
        cpuSet: opts.cpuSet,
        killGraceMs: 1000,
        onProgress: (u) => {
          // For tests: a kill in the middle of a segment after an earlier one was recorded.
          if (mediaBefore > 0) crashPoint("segments:encoding");
          // With -copyts ffmpeg reports the output time on the source's timeline.
          const inSegment = Math.min(seg.mediaSec, Math.max(0, u.outTimeSec - startSec));
          const encoded = mediaBefore + inSegment;
          opts.onProgress({
            ...u,
            percent: mediaTotal > 0 ? Math.min(100, encoded / mediaTotal * 100) : 0,
            outTimeSec: encoded,
            etaSec: u.speed ? (mediaTotal - encoded) / u.speed : null,
            done: false,
          });
        },
      });
      opts.signal.throwIfAborted();
      if (!run.success) {
        const why = run.signal ? `killed by ${run.signal}` : `exited with code ${run.code}`;
        throw new SegmentError(
          `ffmpeg ${why} encoding segment ${seg.index + 1}/${total}: ${run.tail.at(-1) ?? ""}`,
          [`log: ${opts.logPath}`, ...run.tail.slice(-8)],
        );
      }
      const wallSec = (performance.now() - started) / 1000;
      const probed = await probeSegment(out.pathForChild, { signal: opts.signal });
      if (probed.frames !== seg.frames) {
        throw new SegmentError(
          `segment ${seg.index + 1}/${total} has ${probed.frames} frames, the source ` +
            `${seg.frames} there; original kept`,
        );
      }
      const { size, sha256 } = hashOwned(out);
      // Fencing: a worker that lost the job must not publish into the new owner's journal.
      await opts.claimed.heartbeat();
      if (!await out.stillAtPath()) {
        throw new SegmentError(
          `segment ${seg.index + 1}/${total}: ${partial} was replaced while it was written ` +
            `(a link or another file); nothing was written through it; original kept`,
        );
      }
      await Deno.rename(partial, file);
      await syncDir(opts.dir);
      journal.done[String(seg.index)] = {
        size,
        sha256,
        frames: probed.frames,
        codec: probed.codec,
        extradata: probed.extradata,
        wall_sec: round(wallSec),
      };
      await writeJournal(opts.dir, journal);
      crashPoint("segments:recorded");
      await opts.afterSegment(seg.mediaSec, wallSec);
    } finally {
      // Only the file vpo made: a link or file put at its name is not vpo's to remove.
      await removeIfOwned(partial, out.ino).catch(() => {});
    }
  }
  return { wallSec: await joinSegments(journal, opts) };
}
