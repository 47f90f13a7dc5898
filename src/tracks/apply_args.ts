/**
 * The ffmpeg command line that writes a track plan's output by stream copy: one `-map` per
 * planned track in output order, and for each its flags, language and name set explicitly
 * (`-disposition`, `-metadata:s`), so that nothing is left to what the muxer infers.
 *
 * @module
 */
import { coverArtFile } from "../media/cover_art.ts";
import { fileArg } from "../media/exec.ts";
import { labelArgs } from "../media/ffmpeg_args.ts";
import type { CoverArtPlan, StreamLabel } from "../media/plan.ts";
import type { PlannedTrack, TrackPlan } from "./plan.ts";

/** Options of {@link buildApplyArgs}. */
export interface ApplyArgsOptions {
  /** Directory holding the covers extracted by extractCoverArt; required when a cover is
   * reattached (see {@link coversToExtract}). */
  coverArtDir?: string;
}

/** The covers of `plan` that are extracted and attached again (into Matroska). */
export function coversToExtract(plan: TrackPlan): CoverArtPlan[] {
  return plan.tracks.flatMap((track) => track.cover?.action === "reattach" ? [track.cover] : []);
}

/**
 * Arguments (without the program name) that copy `input` into `output` as `plan` says,
 * printing progress on stdout (`-progress pipe:1`).
 *
 * @throws Error when the plan reattaches covers and no coverArtDir is given.
 */
export function buildApplyArgs(
  plan: TrackPlan,
  input: string,
  output: string,
  opts: ApplyArgsOptions = {},
): string[] {
  const covers = coversToExtract(plan);
  if (covers.length > 0 && opts.coverArtDir === undefined) {
    throw new Error("the plan reattaches cover art: extract it and pass coverArtDir");
  }
  const args = ["-nostdin", "-hide_banner", "-y", "-i", fileArg(input)];
  for (const cover of covers) args.push("-attach", fileArg(coverArtFile(opts.coverArtDir!, cover)));
  const mapped = plan.tracks.filter((track) => track.cover?.action !== "reattach");
  for (const track of mapped) args.push("-map", `0:${track.inputIndex}`);
  args.push("-c", "copy");
  mapped.forEach((track, out) => args.push(...trackArgs(plan, track, out)));
  // -attach streams come after every mapped stream, so they follow the copied attachments.
  let attachment = mapped.filter((track) => track.type === "attachment").length;
  for (const cover of covers) {
    const spec = `-metadata:s:t:${attachment++}`;
    args.push(spec, `mimetype=${cover.mimeType}`, spec, `filename=${cover.fileName}`);
  }
  args.push("-max_muxing_queue_size", "9999");
  if (plan.strict) args.push("-strict", "-2");
  // Matroska: each track's default flag exactly as given, none inferred.
  if (plan.format === "matroska") args.push("-default_mode", "passthrough");
  if (plan.format === "mp4") args.push("-movflags", "+faststart");
  args.push("-progress", "pipe:1", "-nostats", "-f", plan.format, fileArg(output));
  return args;
}

/** The options of output stream `out`: conversion, flags, language, name, MP4 tag. */
function trackArgs(plan: TrackPlan, track: PlannedTrack, out: number): string[] {
  const args: string[] = [];
  if (track.convert) args.push(`-c:${out}`, track.codec === "subrip" ? "srt" : track.codec);
  if (track.type === "attachment") return args;
  if (track.type === "cover") return [...args, `-disposition:${out}`, "attached_pic"];
  args.push(...labelArgs(plan.format, out, labelOf(track)));
  // HEVC in MP4 is tagged hvc1, which Apple's players require (ffmpeg's default is hev1).
  if (plan.format === "mp4" && track.type === "video" && track.codec === "hevc") {
    args.push(`-tag:${out}`, "hvc1");
  }
  return args;
}

/** How a planned track is marked in the output. */
export function labelOf(track: PlannedTrack): StreamLabel {
  const label: StreamLabel = {
    default: track.default,
    forced: track.forced,
    language: track.language,
  };
  if (track.title !== undefined) label.title = track.title;
  return label;
}
