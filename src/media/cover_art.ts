/**
 * Cover pictures bound for a Matroska output. ffmpeg 5.1 reads a Matroska cover (an image
 * attachment) as an attached-picture video stream, but its Matroska muxer writes such a stream
 * back as a plain video track, and `-c:V` does not protect it from the video encoder either
 * (both measured). So a cover is extracted byte for byte first and attached again with `-attach`.
 *
 * @module
 */

import { join } from "node:path";
import { FfmpegError } from "../errors.ts";
import { fileArg, firstLine, runCaptured } from "./exec.ts";
import type { CoverArtPlan, EncodePlan } from "./plan.ts";

/** Covers of a plan that must be extracted and attached again. */
export function coversToReattach(plan: EncodePlan): CoverArtPlan[] {
  return plan.streams.filter((stream): stream is CoverArtPlan =>
    stream.type === "cover" && stream.action === "reattach"
  );
}

/** Where the extracted picture of `cover` lives inside `dir`. */
export function coverArtFile(dir: string, cover: CoverArtPlan): string {
  const extension = { "image/jpeg": ".jpg", "image/png": ".png" }[cover.mimeType] ?? ".img";
  return join(dir, `cover_${cover.inputIndex}${extension}`);
}

/**
 * The ffmpeg arguments that copy each cover to be reattached into its file in `dir` (packets of
 * an attached picture are the image file itself); null when the plan has none.
 */
function coverArtExtractArgs(plan: EncodePlan, input: string, dir: string): string[] | null {
  const covers = coversToReattach(plan);
  if (covers.length === 0) return null;
  return [
    ...["-nostdin", "-hide_banner", "-v", "error", "-y", "-i", fileArg(input)],
    ...covers.flatMap((cover) => [
      ...["-map", `0:${cover.inputIndex}`, "-c", "copy", "-f", "data"],
      fileArg(coverArtFile(dir, cover)),
    ]),
  ];
}

/** Options of {@link extractCoverArt}. */
export interface ExtractCoverArtOptions {
  /** ffmpeg binary; default "ffmpeg". */
  ffmpeg?: string;
  signal?: AbortSignal;
}

/**
 * Extracts the covers of `plan` into `dir` (created if missing) so that buildFfmpegArgs can
 * attach them; does nothing when there are none. The caller removes `dir` afterwards.
 *
 * @throws FfmpegError with ffmpeg's first error line.
 */
export async function extractCoverArt(
  plan: EncodePlan,
  input: string,
  dir: string,
  opts: ExtractCoverArtOptions = {},
): Promise<void> {
  const args = coverArtExtractArgs(plan, input, dir);
  if (args === null) return;
  await Deno.mkdir(dir, { recursive: true });
  const run = await runCaptured(opts.ffmpeg ?? "ffmpeg", args, opts.signal);
  if (run.code !== 0) {
    throw new FfmpegError(
      `cannot extract cover art: ${firstLine(run.stderr) || `exit ${run.code}`}`,
    );
  }
}
