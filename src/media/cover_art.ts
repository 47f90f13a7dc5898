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
import { PrivateDir } from "../util/safe_open.ts";
import { fileArg, firstLine, runCaptured } from "./exec.ts";
import type { CoverArtPlan, EncodePlan } from "./plan.ts";

/** The streams of a plan: a transcode's, or a track plan's covers. */
type WithStreams = Pick<EncodePlan, "streams">;

/** Covers of a plan that must be extracted and attached again. */
export function coversToReattach(plan: WithStreams): CoverArtPlan[] {
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
 * The ffmpeg arguments that copy each of `covers` into its file in `dir` (packets of an attached
 * picture are the image file itself).
 */
function coverArtExtractArgs(covers: CoverArtPlan[], input: string, dir: string): string[] {
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
 * Extracts the covers of `plan` into a private directory made at `dir` (in one of the home's
 * directories; nothing may be there yet) and returns it: pass its `pathForChild` to
 * buildFfmpegArgs as `coverArtDir`, and dispose of it (which removes it) after the encode. Null
 * when the plan has no covers to reattach. ffmpeg writes and later reads the covers through the
 * directory's descriptor, never through its name, which others who may write the home could
 * have swapped for a link by then (util/safe_open.ts, {@link PrivateDir}).
 *
 * @throws FfmpegError with ffmpeg's first error line.
 */
export async function extractCoverArt(
  plan: WithStreams,
  input: string,
  dir: string,
  opts: ExtractCoverArtOptions = {},
): Promise<PrivateDir | null> {
  const wanted = coversToReattach(plan);
  if (wanted.length === 0) return null;
  const covers = PrivateDir.create(dir);
  try {
    const args = coverArtExtractArgs(wanted, input, covers.pathForChild);
    const run = await runCaptured(opts.ffmpeg ?? "ffmpeg", args, opts.signal);
    if (run.code !== 0) {
      throw new FfmpegError(
        `cannot extract cover art: ${firstLine(run.stderr) || `exit ${run.code}`}`,
      );
    }
    return covers;
  } catch (err) {
    covers[Symbol.dispose]();
    throw err;
  }
}
