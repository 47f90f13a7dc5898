/**
 * Step 4 of a transcode run: the encode into the temp output, in one pass or segment by segment
 * (resumable across runs), with progress reported to the worker.
 *
 * @module
 */
import { dirname } from "node:path";
import { JobFailure } from "../errors.ts";
import { extractCoverArt } from "../media/cover_art.ts";
import { buildFfmpegArgs } from "../media/ffmpeg_args.ts";
import { type FfmpegUsage, noSpaceReason, runFailure, runFfmpeg } from "../media/ffmpeg_runner.ts";
import type { EncodePlan } from "../media/plan.ts";
import { liveProgress, type ProgressUpdate } from "../media/progress.ts";
import type { MediaInfo } from "../media/probe.ts";
import type { OwnedFile } from "../util/owned_file.ts";
import { type Target, throwIfStopped, type TranscodeRun } from "./run_context.ts";
import { encodeSegmented } from "./segments/encode_loop.ts";

/** Lines of ffmpeg's log kept in a failed job's error. */
const ERROR_TAIL_LINES = 8;

/** How the encode went: its wall time, and ffmpeg's last lines for a rejected output. */
export interface Encoded {
  wallSec: number;
  logTail: string[];
  /** What a one-pass encode used of the machine, when ffmpeg said (segments record their own). */
  usage: FfmpegUsage | null;
}

/** Encodes the source into `out` as `plan` says, in one pass or segment by segment. */
export async function encode(
  run: TranscodeRun,
  media: MediaInfo,
  plan: EncodePlan,
  target: Target,
  out: OwnedFile,
): Promise<Encoded> {
  const { claimed, source, env, ctx } = run;
  const signal = ctx.signal;
  const coverDir = env.home.jobs.coverDir(claimed.id, claimed.token);
  const logPath = env.home.logPath(claimed.id);
  const wallStart = performance.now();
  const onProgress = (u: ProgressUpdate) => ctx.progress(liveProgress(u), u.done);
  try {
    using covers = await extractCoverArt(plan, source, coverDir, { signal });
    const argsOptions = { cpuCores: env.cpuCores, coverArtDir: covers?.pathForChild };
    if (target.segments) {
      const wallSec = await encodeInSegments(
        run,
        plan,
        target,
        logPath,
        (video) =>
          buildFfmpegArgs(plan, source, out.pathForChild, { ...argsOptions, encodedVideo: video }),
      );
      return { wallSec, logTail: [], usage: null };
    }
    const result = await runFfmpeg({
      args: buildFfmpegArgs(plan, source, out.pathForChild, argsOptions),
      measure: true,
      logPath,
      signal,
      onProgress,
      durationSec: media.duration,
      cpuCores: env.cpuCores,
      cpuSet: env.cpuSet,
      // A stopped encode's output is deleted anyway: no point waiting while ffmpeg flushes the
      // frames its encoder holds (slow presets take seconds), which would overrun a deadline.
      killGraceMs: 1000,
    });
    throwIfStopped(signal);
    // ffmpeg's last lines explain a rejected output too (decode errors in a damaged source).
    const logTail = [`log: ${logPath}`, ...result.tail.slice(-ERROR_TAIL_LINES)];
    if (result.noSpace || !result.success) {
      throw new JobFailure(runFailure(result, dirname(target.temp)), logTail);
    }
    return { wallSec: (performance.now() - wallStart) / 1000, logTail, usage: result.usage };
  } catch (err) {
    // vpo's own writes beside the output (a segment's journal) may be the ones that hit it.
    if ((err as { code?: string }).code === "ENOSPC") {
      throw new JobFailure(`${noSpaceReason(dirname(target.temp))}; original kept`);
    }
    throw err;
  }
}

/**
 * Encodes the segments not yet done, with whoever helps, and joins them into the temp output,
 * starting each segment only when the measured speed says it ends before the deadline. Returns
 * the wall seconds all workers and runs spent on the job's segments.
 */
async function encodeInSegments(
  run: TranscodeRun,
  plan: EncodePlan,
  target: Target,
  logPath: string,
  muxArgs: (encodedVideo: { concatList: string; offsetSec: number }) => string[],
): Promise<number> {
  const { claimed, ctx, speed, env } = run;
  const { dir, held, journal } = target.segments!;
  // Speeds are measured per target codec and CPU cap.
  const codec = run.payload.policy.targetVideoCodec;
  const cores = env.cpuCores;
  const { wallSec } = await encodeSegmented(journal, {
    claimed,
    plan,
    source: run.source,
    output: target.temp,
    dir,
    held,
    cpuCores: cores,
    cpuSet: env.cpuSet,
    logPath,
    signal: ctx.signal,
    heartbeatIntervalSec: env.config.worker.heartbeatInterval,
    staleAfterSec: env.config.worker.staleAfter,
    windowSec: ctx.windowSec,
    progress: (p) => ctx.progress(p, false),
    fits: (mediaSec) => speed.fits(codec, mediaSec, ctx.deadline, cores),
    outOfTime: ctx.outOfTime,
    warn: ctx.warn,
    afterSegment: (mediaSec, wallSec, usage) =>
      speed.record(codec, mediaSec, wallSec, cores, usage),
    muxArgs,
  });
  return wallSec;
}
