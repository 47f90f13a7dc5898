/**
 * Writing a track plan's output: the covers Matroska needs attached again are extracted, then
 * one ffmpeg run copies the planned tracks into the output. Nothing here replaces anything: the
 * caller verifies the output (verify.ts) and swaps it in.
 *
 * @module
 */
import { extractCoverArt } from "../media/cover_art.ts";
import { runFfmpeg, type RunFfmpegResult } from "../media/ffmpeg_runner.ts";
import type { ProgressUpdate } from "../media/progress.ts";
import { buildApplyArgs, coversToExtract } from "./apply_args.ts";
import type { TrackPlan } from "./plan.ts";

/** Options of {@link remuxTracks}. */
export interface RemuxOptions {
  /** File ffmpeg's whole log is appended to. */
  logPath: string;
  /** Where the extracted covers' private directory is made (nothing may be there yet); it is
   * removed when the copy ends. */
  coverDir: string;
  /** The source's probed duration, for progress. */
  durationSec: number;
  /** Stops the copy (ffmpeg gets SIGTERM, then SIGKILL). */
  signal?: AbortSignal;
  /** Progress of the copy. */
  onProgress?: (update: ProgressUpdate) => void;
}

/**
 * Copies `source` into `output` (a path, or a `/proc/<pid>/fd/<n>` of a file the caller holds)
 * as `plan` says.
 *
 * @throws FfmpegError when ffmpeg cannot be started or a cover cannot be extracted.
 */
export async function remuxTracks(
  plan: TrackPlan,
  source: string,
  output: string,
  opts: RemuxOptions,
): Promise<RunFfmpegResult> {
  using covers = await extractCoverArt(
    { streams: coversToExtract(plan) },
    source,
    opts.coverDir,
    { signal: opts.signal },
  );
  return await runFfmpeg({
    args: buildApplyArgs(plan, source, output, { coverArtDir: covers?.pathForChild }),
    logPath: opts.logPath,
    signal: opts.signal,
    onProgress: opts.onProgress,
    durationSec: opts.durationSec,
    // A stream copy is mostly I/O: a stopped copy's output is deleted, no flush is awaited.
    killGraceMs: 1000,
  });
}
