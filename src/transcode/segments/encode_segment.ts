/**
 * Encoding one claimed segment, by the worker holding the job or by one helping with it: into a
 * file made exclusively without following a link (0600) and handed to ffmpeg as
 * `/proc/<pid>/fd/<n>`, so a link planted at its name receives nothing; its claim kept alive
 * while ffmpeg runs (S3) and the encode stopped the moment the claim is lost; its frames counted
 * and its codec headers compared with the segments already done; then moved to its token's name
 * and published (S4), which only one worker can do for a segment.
 *
 * @module
 */
import { dirname, join } from "node:path";
import { hostname } from "node:os";
import { LostPieceError } from "../../errors.ts";
import { type FfmpegUsage, noSpaceReason, runFfmpeg } from "../../media/ffmpeg_runner.ts";
import type { EncodePlan } from "../../media/plan.ts";
import { probeSegment, segmentEncodeArgs, toSeconds } from "../../media/segments.ts";
import type { PieceClaim } from "../../queue/pieces.ts";
import { isBusy } from "../../queue/transition.ts";
import { crashPoint } from "../../util/crash_point.ts";
import { syncDir } from "../../util/durable_fs.ts";
import { OwnedFile, removeIfOwned } from "../../util/owned_file.ts";
import { type FileHash, hashFile, hashOwned } from "./hashing.ts";
import type { SegmentJournal } from "./journal.ts";
import { round } from "./progress.ts";
import { recordText, type SegmentRecord } from "./records.ts";
import { partialName, SegmentError, segmentFileName } from "./segment_dir.ts";

/**
 * Crash points of a segmented encode (`VPO_CRASH_AT`): in the middle of a segment after an
 * earlier one was recorded. (The record itself is the piece protocol's: `piece:recorded`.)
 */
export const SEGMENT_CRASH_POINTS = ["segments:encoding"] as const;

/** Progress of one segment's encode. */
export interface SegmentProgressSample {
  /** Percent of the segment encoded. */
  percent: number;
  /** Media seconds of the segment encoded. */
  mediaSec: number;
  /** ffmpeg's speed (media seconds per wall second); null when unknown. */
  speed: number | null;
  fps: number | null;
}

/** What encoding a segment needs besides its claim. */
export interface SegmentWork {
  journal: SegmentJournal;
  /** The segment directory. */
  dir: string;
  plan: EncodePlan;
  source: string;
  cpuCores: number | null;
  cpuSet: readonly number[] | null;
  /** ffmpeg's log of this worker's encodes of the job. */
  logPath: string;
  signal: AbortSignal;
  heartbeatIntervalSec: number;
  /** Codec headers (extradata hash) of a segment already done, which this one must match. */
  reference: () => SegmentRecord | null;
  /** Whether an earlier segment is recorded (for the crash point in the middle of a segment). */
  earlierDone: boolean;
  onProgress: (sample: SegmentProgressSample) => void;
}

/** A published segment and how long its encode took. */
export interface EncodedSegment {
  record: SegmentRecord;
  /** False when another worker published the segment first (this one's output is removed). */
  won: boolean;
  /** What ffmpeg used of the machine, when it said. */
  usage: FfmpegUsage | null;
}

/**
 * Encodes segment `index` under `claim` and publishes it.
 *
 * @throws SegmentError when ffmpeg fails or the segment is not what it must be (the caller
 *   releases the claim); LostPieceError when the claim was taken; the signal's reason when
 *   stopped.
 */
export async function encodeSegment(
  claim: PieceClaim,
  index: number,
  work: SegmentWork,
): Promise<EncodedSegment> {
  const { journal } = work;
  const seg = journal.segments[index];
  const total = journal.segments.length;
  const times = { timeBase: journal.time_base };
  const partial = join(work.dir, partialName(index, claim.token));
  const startSec = toSeconds(times, seg.start);
  const started = performance.now();
  // Stops ffmpeg when the worker stops or the claim is lost (S3).
  const stop = new AbortController();
  const signal = AbortSignal.any([work.signal, stop.signal]);
  let last = null as SegmentProgressSample | null;
  const beat = setInterval(() => {
    claim.heartbeat(last?.percent ?? null, last?.speed ?? null).catch((err) => {
      if (err instanceof LostPieceError) stop.abort(err);
    });
  }, work.heartbeatIntervalSec * 1000);
  using out = await OwnedFile.create(partial).catch((err) => {
    clearInterval(beat);
    throw new SegmentError(`cannot create segment ${index + 1}/${total}: ${err.message}`);
  });
  try {
    const run = await runFfmpeg({
      args: segmentEncodeArgs(work.plan, times, seg, work.source, out.pathForChild, {
        cpuCores: work.cpuCores,
      }),
      measure: true,
      logPath: work.logPath,
      signal,
      durationSec: seg.mediaSec,
      cpuCores: work.cpuCores,
      cpuSet: work.cpuSet,
      killGraceMs: 1000,
      onProgress: (u) => {
        // For tests: a kill in the middle of a segment after an earlier one was recorded.
        if (work.earlierDone) crashPoint("segments:encoding");
        // With -copyts ffmpeg reports the output time on the source's timeline.
        const mediaSec = Math.min(seg.mediaSec, Math.max(0, u.outTimeSec - startSec));
        last = {
          percent: seg.mediaSec > 0 ? mediaSec / seg.mediaSec * 100 : 0,
          mediaSec,
          speed: u.speed,
          fps: u.fps,
        };
        work.onProgress(last);
      },
    });
    signal.throwIfAborted();
    // Named by the directory the segments are in, the one a person can free space on.
    if (run.noSpace) {
      throw new SegmentError(`${noSpaceReason(dirname(work.dir))}; original kept`);
    }
    if (!run.success) {
      const why = run.signal ? `killed by ${run.signal}` : `exited with code ${run.code}`;
      throw new SegmentError(
        `ffmpeg ${why} encoding segment ${index + 1}/${total}: ${run.tail.at(-1) ?? ""}`,
        [`log: ${work.logPath}`, ...run.tail.slice(-8)],
      );
    }
    const wallSec = (performance.now() - started) / 1000;
    const probed = await probeSegment(out.pathForChild, { signal });
    if (probed.frames !== seg.frames) {
      throw new SegmentError(
        `segment ${index + 1}/${total} has ${probed.frames} frames, the source ` +
          `${seg.frames} there; original kept`,
      );
    }
    const reference = work.reference();
    if (
      reference && (reference.codec !== probed.codec || reference.extradata !== probed.extradata)
    ) {
      throw new SegmentError(
        `segment ${index + 1}/${total} came out with other codec headers than segment ` +
          `${reference.index + 1} (another encoder build?); it cannot be joined with it`,
      );
    }
    const { size, sha256 } = await hashOwned(out);
    if (!await out.stillAtPath()) {
      throw new SegmentError(
        `segment ${index + 1}/${total}: ${partial} was replaced while it was written ` +
          `(a link or another file); nothing was written through it; original kept`,
      );
    }
    // Fencing (S3): a worker that lost the segment must not put a file in; its token's name is
    // its own, so even a late one never touches the file of the worker that has it now.
    await claim.heartbeat(100, last?.speed ?? null);
    const file = segmentFileName(index, claim.token);
    await publishFile(out, join(work.dir, file), { size, sha256 }, `segment ${index + 1}/${total}`);
    const record: SegmentRecord = {
      plan_id: journal.plan_id,
      index,
      file,
      size,
      sha256,
      ...probed,
      wall_sec: round(wallSec),
      host: hostname(),
    };
    const won = await claim.publish(recordText(record));
    if (!won) await Deno.remove(join(work.dir, file)).catch(() => {});
    return { record, won, usage: run.usage };
  } finally {
    clearInterval(beat);
    // Only the file vpo made: a link or file put at its name is not vpo's to remove.
    await removeIfOwned(partial, out.ino).catch(() => {});
  }
}

/**
 * Renames the segment vpo made (still open as `out`) to `to`. An SMB server refuses to rename an
 * open file (EBUSY): there it is closed first, and what arrived at `to` must then hash as the
 * file did through its descriptor, or something swapped the name in between.
 */
async function publishFile(out: OwnedFile, to: string, made: FileHash, what: string) {
  const dir = dirname(to);
  try {
    await Deno.rename(out.path, to);
  } catch (err) {
    if (!isBusy(err)) throw err;
    out.close();
    await Deno.rename(out.path, to);
    const arrived = await hashFile(to).catch(() => null);
    if (arrived?.size !== made.size || arrived.sha256 !== made.sha256) {
      await Deno.remove(to).catch(() => {});
      throw new SegmentError(
        `${what}: ${out.path} was replaced before it was published (a link or another file); ` +
          "original kept",
      );
    }
  }
  await syncDir(dir);
}
