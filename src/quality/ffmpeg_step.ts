/**
 * One ffmpeg run of a quality search or check (a cut, a sample encode, a comparison): in the
 * job's log, on its cores, stopped by its signal, and failing with one line that says which.
 *
 * @module
 */
import { FfmpegError } from "../errors.ts";
import { runFfmpeg } from "../media/ffmpeg_runner.ts";
import type { ProgressUpdate } from "../media/progress.ts";

/** How ffmpeg is run for a search: the job's log, its cores, its stop signal. */
export interface SampleRun {
  logPath: string;
  cpuCores: number | null;
  cpuSet: readonly number[] | null;
  signal: AbortSignal;
}

/**
 * Runs ffmpeg with `args` (which print progress on `pipe:1`); `what` names the step in the error
 * ("encoding a sample at crf 27").
 *
 * @throws FfmpegError when ffmpeg fails; the signal's reason when stopped.
 */
export async function runStep(
  run: SampleRun,
  what: string,
  args: string[],
  progress: { durationSec?: number; onProgress?: (u: ProgressUpdate) => void } = {},
): Promise<void> {
  const result = await runFfmpeg({
    args,
    logPath: run.logPath,
    signal: run.signal,
    ...progress,
    cpuCores: run.cpuCores,
    cpuSet: run.cpuSet,
    // Whatever a stopped step made is thrown away: no point waiting for ffmpeg to flush it.
    killGraceMs: 1000,
  });
  run.signal.throwIfAborted();
  if (!result.success) {
    throw new FfmpegError(
      `ffmpeg exited with code ${result.code} ${what}: ${result.tail.at(-1) ?? ""}`,
    );
  }
}
