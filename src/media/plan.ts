/**
 * The decision for one file: skip it, or how to transcode it. A plan says what happens to every
 * stream of the source, which container and size the output has and how many streams of each
 * kind it must contain, so that the output can be verified against it. A plan is made when a file
 * is queued (to decide and to show it) and again when its job runs, from a fresh probe: the job
 * stores the policy, not the plan.
 *
 * @module
 */

import type { TranscodePolicy, VideoCodec } from "../policy/types.ts";
import {
  audioFits,
  chooseContainer,
  coverFits,
  imageMimeType,
  isMp4Family,
  needsStrict,
  type OutputFormat,
  subtitleFits,
  textSubtitleTarget,
} from "./containers.ts";
import { softwareEncoder } from "./encoders.ts";
import type { ContentLight, MasteringDisplay, MediaInfo, StreamInfo } from "./probe.ts";
import { formatBytes } from "../util/format.ts";

export type { OutputFormat } from "./containers.ts";

/** Pixel formats outputs are encoded in: 4:2:0 for playability, 10-bit kept where it can be. */
export type TargetPixFmt = "yuv420p" | "yuv420p10le";

/**
 * How a kept stream is marked in the output when a track policy decided it (see src/tracks/):
 * the plan's streams are then in output order, and each stream is mapped and marked explicitly.
 */
export interface StreamLabel {
  /** Default flag. */
  default: boolean;
  /** Forced flag. */
  forced: boolean;
  /** Language tag ("und" for none). */
  language: string;
  /** Track name; absent for none. */
  title?: string;
}

/** A video track, always encoded. */
export interface VideoStreamPlan {
  /** Discriminant of {@link StreamPlan}. */
  type: "video";
  /** Index of the source stream (ffmpeg's `0:N`). */
  inputIndex: number;
  /** Video tracks are always re-encoded. */
  action: "encode";
  /** Output width in pixels (display orientation: ffmpeg applies the source's rotation first). */
  width: number;
  /** Output height in pixels (display orientation, like width). */
  height: number;
  /** True when the output size differs from the source's, i.e. a scale filter is needed. */
  scale: boolean;
  /** Output pixel format: 10-bit when the source is deeper than 8 bits (except for h264). */
  pixFmt: TargetPixFmt;
  /** Source colour primaries, carried to the output; absent when the source's are unknown. */
  colorPrimaries?: string;
  /** Source transfer characteristics, carried to the output; absent when unknown. */
  colorTransfer?: string;
  /** Source colour matrix, carried to the output; absent when unknown. */
  colorSpace?: string;
  /** Source HDR10 mastering display metadata, carried to the output. */
  masteringDisplay?: MasteringDisplay;
  /** Source HDR10 content light level, carried to the output. */
  contentLight?: ContentLight;
  /** Flags, language and name set by a track policy. */
  label?: StreamLabel;
}

/**
 * A cover picture. "copy" keeps it as an attached picture (MP4); "reattach" extracts it and
 * attaches the file again, because ffmpeg 5.1's Matroska muxer would otherwise turn it into a
 * plain video track; "drop" when the container cannot hold its image format.
 */
export interface CoverArtPlan {
  /** Discriminant of {@link StreamPlan}. */
  type: "cover";
  /** Index of the source stream (ffmpeg's `0:N`). */
  inputIndex: number;
  /** Keep as attached picture, extract and reattach, or drop (see {@link CoverArtPlan}). */
  action: "copy" | "reattach" | "drop";
  /** The picture's codec (ffprobe name, e.g. "mjpeg", "png"). */
  codec: string;
  /** Name for the extracted picture: the source's, else "cover.jpg", "cover_1.png", ... */
  fileName: string;
  /** MIME type of the picture; "application/octet-stream" when it cannot be told. */
  mimeType: string;
}

/**
 * An audio track: copied, or transcoded to `codec` at `bitrate` bits/s (null: lossless), or
 * dropped (by a track policy's filter).
 */
export interface AudioStreamPlan {
  /** Discriminant of {@link StreamPlan}. */
  type: "audio";
  /** Index of the source stream (ffmpeg's `0:N`). */
  inputIndex: number;
  /** Copy the track as it is, transcode it to `codec`, or drop it. */
  action: "copy" | "transcode" | "drop";
  /** Output codec (ffprobe name). */
  codec: string;
  /** Bits/s of the transcoded track; null when copied or transcoded to lossless FLAC. */
  bitrate: number | null;
  /** Flags, language and name set by a track policy. */
  label?: StreamLabel;
}

/** A subtitle track: copied, converted to another text format (`codec`), or dropped. */
export interface SubtitleStreamPlan {
  /** Discriminant of {@link StreamPlan}. */
  type: "subtitle";
  /** Index of the source stream (ffmpeg's `0:N`). */
  inputIndex: number;
  /** Copy as it is, convert to the text format `codec`, or drop. */
  action: "copy" | "convert" | "drop";
  /** Output codec (ffprobe name); the source codec when copied or dropped. */
  codec: string;
  /** Flags, language and name set by a track policy. */
  label?: StreamLabel;
}

/** An attached file (fonts for ASS subtitles and the like). */
export interface AttachmentPlan {
  /** Discriminant of {@link StreamPlan}. */
  type: "attachment";
  /** Index of the source stream (ffmpeg's `0:N`). */
  inputIndex: number;
  /** Copied into Matroska; dropped from MP4, which has no attachments. */
  action: "copy" | "drop";
}

/** A data stream (timecode, chapter text, telemetry): never kept. */
export interface DataStreamPlan {
  /** Discriminant of {@link StreamPlan}. */
  type: "data";
  /** Index of the source stream (ffmpeg's `0:N`). */
  inputIndex: number;
  /** Data streams are always dropped. */
  action: "drop";
}

/** What happens to one source stream. */
export type StreamPlan =
  | VideoStreamPlan
  | CoverArtPlan
  | AudioStreamPlan
  | SubtitleStreamPlan
  | AttachmentPlan
  | DataStreamPlan;

/** Streams of each kind the output must contain; `video` excludes cover art. */
export interface ExpectedStreams {
  /** Video tracks (cover art not included). */
  video: number;
  /** Audio tracks. */
  audio: number;
  /** Subtitle tracks. */
  subtitle: number;
  /** Attached files, cover art not included. */
  attachment: number;
  /** Cover pictures, copied or reattached. */
  coverArt: number;
}

/** Encoder settings shared by every video track of the output. */
export interface VideoSettings {
  /** Target codec, from the policy. */
  codec: VideoCodec;
  /** ffmpeg encoder name, e.g. libx265 or hevc_qsv. */
  encoder: string;
  /** Constant quality; null when a bitrate is used. */
  crf: number | null;
  /** Bits/s; null when CRF is used. */
  bitrate: number | null;
  /** Encoder preset from the policy; null for the encoder's default. */
  preset: string | null;
}

/** A plan to transcode. */
export interface EncodePlan {
  /** Discriminant of {@link TranscodePlan}. */
  action: "transcode";
  /** Output muxer. */
  format: OutputFormat;
  /** Output file extension with its dot; the source's own when its container is kept. */
  extension: string;
  /** Encoder settings of the video tracks. */
  video: VideoSettings;
  /**
   * One entry per source stream, in source order; in output order when a track policy labelled
   * them (see {@link StreamLabel}).
   */
  streams: StreamPlan[];
  /** Stream counts the output must have to pass verification. */
  expectedStreams: ExpectedStreams;
  /** ffmpeg needs `-strict -2` (FLAC or TrueHD into MP4 are "experimental" in ffmpeg 5.1). */
  strict: boolean;
  /** Everything dropped, converted or otherwise worth telling the user. */
  notes: string[];
}

/** A plan to leave the file alone. */
export interface SkipPlan {
  /** Discriminant of {@link TranscodePlan}. */
  action: "skip";
  /** Why the file is left alone, in one line (e.g. "already compliant (...)"). */
  reason: string;
  /** Which kind of reason, for counts and the library's memory. */
  kind: SkipKind;
}

/** Kinds of reasons to leave a file alone. */
export type SkipKind = "not_video" | "compliant" | "skip_if" | "dolby_vision";

/** The decision for one file. */
export type TranscodePlan = SkipPlan | EncodePlan;

/** Options of {@link planTranscode}. */
export interface PlanOptions {
  /** Transcode even when compliant or matched by skip_if (never without a video stream). */
  force?: boolean;
  /** Encoder chosen by detectEncoder; default the software encoder of the target codec. */
  encoder?: string;
}

/**
 * Decides whether and how to transcode `media` under `policy`.
 *
 * Always skips a file without a video stream, a still image, and a file whose duration or frame
 * size is unknown (the output could not be verified). Unless `force`, also skips when every video
 * track is already in the target codec within the size box, its codec is in skip_if.codec_in,
 * its bitrate or size is below the skip_if limits, or it carries Dolby Vision and
 * skip_if.dolby_vision is on.
 *
 * @example A 4K h264 film under the default policy: hevc, scaled into 1920x1080, audio kept
 * ```ts
 * import assert from "node:assert/strict";
 * import { defaultPolicy } from "../policy/policy.ts";
 * import type { MediaInfo } from "./probe.ts";
 * const base = { isCoverArt: false, dolbyVision: false };
 * const film: MediaInfo = {
 *   path: "/library/film.mkv",
 *   formatName: "matroska,webm",
 *   duration: 5400,
 *   size: 8e9,
 *   bitRate: 11e6,
 *   streams: [
 *     { ...base, index: 0, type: "video", codec: "h264", width: 3840, height: 2160, bitDepth: 8 },
 *     { ...base, index: 1, type: "audio", codec: "aac", channels: 2 },
 *   ],
 * };
 * const plan = planTranscode(defaultPolicy(), film);
 * assert.equal(plan.action, "transcode");
 * if (plan.action === "transcode") {
 *   assert.equal(plan.video.codec, "hevc");
 *   assert.equal(plan.expectedStreams.audio, 1);
 * }
 * ```
 */
export function planTranscode(
  policy: TranscodePolicy,
  media: MediaInfo,
  opts: PlanOptions = {},
): TranscodePlan {
  const videos = media.streams.filter((stream) => stream.type === "video" && !stream.isCoverArt);
  const unusable = unusableReason(media, videos);
  if (unusable !== null) return { action: "skip", reason: unusable, kind: "not_video" };
  const skip = findSkipReason(policy, media, videos);
  if (skip !== null && !opts.force) return { action: "skip", ...skip };

  const notes: string[] = [];
  if (skip !== null) notes.push(`forced despite: ${skip.reason}`);
  if (videos.some((stream) => stream.dolbyVision)) {
    notes.push("Dolby Vision metadata is lost: the output keeps only the HDR10/SDR base layer");
  }
  const { format, extension } = chooseContainer(policy.container, media, notes);
  const context: PlanContext = {
    policy,
    format,
    notes,
    covers: media.streams.filter((stream) => stream.isCoverArt),
  };
  const streams = media.streams.map((stream) => planStream(stream, context));
  return {
    action: "transcode",
    format,
    extension,
    video: {
      codec: policy.targetVideoCodec,
      encoder: opts.encoder ?? softwareEncoder(policy.targetVideoCodec),
      crf: policy.targetCrf,
      bitrate: policy.targetBitrate,
      preset: policy.preset,
    },
    streams,
    expectedStreams: countExpected(streams),
    strict: needsStrict(format, streams.filter((s) => s.type === "audio").map((s) => s.codec)),
    notes,
  };
}

/**
 * Size of a picture fitted into a box without upscaling, aspect kept, both sides even (4:2:0
 * needs even sizes). The box turns with the picture so that a portrait video is held to the same
 * long and short side as a landscape one. A null box side is unlimited.
 */
export function fitIntoBox(
  width: number,
  height: number,
  maxWidth: number | null,
  maxHeight: number | null,
): { width: number; height: number } {
  let [boxWidth, boxHeight] = [maxWidth, maxHeight];
  if (boxWidth !== null && boxHeight !== null && (height > width) !== (boxHeight > boxWidth)) {
    [boxWidth, boxHeight] = [boxHeight, boxWidth];
  }
  const factor = Math.min(
    1,
    boxWidth === null ? 1 : boxWidth / width,
    boxHeight === null ? 1 : boxHeight / height,
  );
  const side = (source: number, max: number | null) =>
    Math.max(
      2,
      Math.min(evenFloor(source), evenFloor(max ?? Infinity), evenRound(source * factor)),
    );
  return { width: side(width, boxWidth), height: side(height, boxHeight) };
}

function evenFloor(value: number): number {
  return Number.isFinite(value) ? Math.floor(value / 2) * 2 : Infinity;
}

function evenRound(value: number): number {
  return Math.round(value / 2) * 2;
}

/** Size as displayed: a 90° or 270° rotation swaps the sides, and ffmpeg rotates before scaling. */
function displaySize(stream: StreamInfo): { width: number; height: number } {
  const width = stream.width ?? 0;
  const height = stream.height ?? 0;
  return stream.rotation === 90 || stream.rotation === 270
    ? { width: height, height: width }
    : { width, height };
}

/** Why a file cannot be transcoded safely at all, whatever `force` says. */
function unusableReason(media: MediaInfo, videos: StreamInfo[]): string | null {
  if (videos.length === 0) return "no video stream";
  if (media.formatName === "image2" || media.formatName.endsWith("_pipe")) {
    return `still image (${media.formatName}), not a video`;
  }
  if (media.duration <= 0) return "unknown duration (the output could not be verified)";
  const sizeless = videos.find((stream) => !stream.width || !stream.height);
  if (sizeless) return `video stream 0:${sizeless.index} has no frame size`;
  return null;
}

function findSkipReason(
  policy: TranscodePolicy,
  media: MediaInfo,
  videos: StreamInfo[],
): { reason: string; kind: SkipKind } | null {
  const main = videos[0];
  const { width, height } = displaySize(main);
  const withinBox = videos.every((stream) => {
    const size = displaySize(stream);
    const fitted = fitIntoBox(size.width, size.height, policy.maxWidth, policy.maxHeight);
    return fitted.width === evenFloor(size.width) && fitted.height === evenFloor(size.height);
  });
  const containerOk = policy.container === "keep" ||
    (policy.container === "mp4") === isMp4Family(media.formatName);
  if (
    withinBox && containerOk && videos.every((stream) => stream.codec === policy.targetVideoCodec)
  ) {
    const box = policy.maxWidth === null && policy.maxHeight === null
      ? "no size limit"
      : `within ${policy.maxWidth ?? "any"}x${policy.maxHeight ?? "any"}`;
    return {
      kind: "compliant",
      reason: `already compliant (${main.codec} ${width}x${height} ${box})`,
    };
  }
  const { skipIf } = policy;
  const because = (reason: string) => ({ kind: "skip_if" as const, reason });
  if (skipIf.codecIn.includes(main.codec)) {
    return because(`skip_if.codec_in (source is ${main.codec})`);
  }
  if (skipIf.bitrateBelow !== null && media.bitRate > 0 && media.bitRate < skipIf.bitrateBelow) {
    return because(`bitrate below ${kbps(skipIf.bitrateBelow)} (source ${kbps(media.bitRate)})`);
  }
  if (skipIf.sizeBelow !== null && media.size < skipIf.sizeBelow) {
    return because(
      `smaller than ${formatBytes(skipIf.sizeBelow)} (source ${formatBytes(media.size)})`,
    );
  }
  if (skipIf.dolbyVision && videos.some((stream) => stream.dolbyVision)) {
    return { kind: "dolby_vision", reason: "Dolby Vision source (re-encode would lose it)" };
  }
  return null;
}

interface PlanContext {
  policy: TranscodePolicy;
  format: OutputFormat;
  notes: string[];
  /** Every cover picture of the source, to name extracted covers cover.jpg, cover_1.jpg... */
  covers: StreamInfo[];
}

function planStream(stream: StreamInfo, context: PlanContext): StreamPlan {
  const { format, notes } = context;
  const inputIndex = stream.index;
  const label = `stream 0:${inputIndex} (${stream.codec})`;
  const container = format === "mp4" ? "mp4" : "mkv";
  switch (stream.type) {
    case "video":
      return stream.isCoverArt
        ? planCoverArt(stream, format, context.covers, notes)
        : planVideo(stream, context, label);
    case "audio":
      return planAudio(stream, context, label);
    case "subtitle": {
      if (subtitleFits(format, stream.codec)) {
        return { type: "subtitle", inputIndex, action: "copy", codec: stream.codec };
      }
      const codec = textSubtitleTarget(format, stream.codec);
      if (codec !== null) {
        notes.push(`${label} converted to ${codec} for ${container}`);
        return { type: "subtitle", inputIndex, action: "convert", codec };
      }
      notes.push(`${label} dropped: ${container} cannot hold this subtitle format`);
      return { type: "subtitle", inputIndex, action: "drop", codec: stream.codec };
    }
    case "attachment":
      if (format === "matroska") return { type: "attachment", inputIndex, action: "copy" };
      notes.push(`${label} attachment${fileNameSuffix(stream)} dropped: mp4 has no attachments`);
      return { type: "attachment", inputIndex, action: "drop" };
    case "data":
      notes.push(`data stream 0:${inputIndex} dropped`);
      return { type: "data", inputIndex, action: "drop" };
  }
}

function planVideo(stream: StreamInfo, context: PlanContext, label: string): VideoStreamPlan {
  const { policy, notes } = context;
  const source = displaySize(stream);
  const size = fitIntoBox(source.width, source.height, policy.maxWidth, policy.maxHeight);
  const tenBit = (stream.bitDepth ?? 8) > 8;
  const h264 = policy.targetVideoCodec === "h264";
  if (tenBit && h264) {
    notes.push(
      `${label} is ${stream.bitDepth}-bit; h264 output is 8-bit (High 10 plays on few devices)`,
    );
  }
  const plan: VideoStreamPlan = {
    type: "video",
    inputIndex: stream.index,
    action: "encode",
    width: size.width,
    height: size.height,
    scale: size.width !== source.width || size.height !== source.height,
    pixFmt: tenBit && !h264 ? "yuv420p10le" : "yuv420p",
  };
  const carried = {
    colorPrimaries: stream.colorPrimaries,
    colorTransfer: stream.colorTransfer,
    colorSpace: stream.colorSpace,
    masteringDisplay: stream.masteringDisplay,
    contentLight: stream.contentLight,
  };
  for (const [key, value] of Object.entries(carried)) {
    if (value !== undefined) Object.assign(plan, { [key]: value });
  }
  return plan;
}

/**
 * What becomes of a cover picture in `format`: copied (MP4), extracted and attached again
 * (Matroska), or dropped with a note when MP4 cannot hold its image format. `covers` are all the
 * source's cover pictures, which name extracted covers cover.jpg, cover_1.jpg...
 */
export function planCoverArt(
  stream: StreamInfo,
  format: OutputFormat,
  covers: readonly StreamInfo[],
  notes: string[],
): CoverArtPlan {
  const mimeType = stream.mimeType ?? imageMimeType(stream.codec) ?? "application/octet-stream";
  const ordinal = covers.indexOf(stream);
  const fallbackName = `cover${ordinal === 0 ? "" : `_${ordinal}`}.${mimeType.split("/")[1]}`;
  const plan: CoverArtPlan = {
    type: "cover",
    inputIndex: stream.index,
    action: format === "matroska" ? "reattach" : "copy",
    codec: stream.codec,
    fileName: stream.fileName ?? fallbackName.replace("jpeg", "jpg"),
    mimeType,
  };
  if (!coverFits(format, stream.codec)) {
    notes.push(`cover art 0:${stream.index} (${stream.codec}) dropped: mp4 takes jpeg, png or bmp`);
    plan.action = "drop";
  }
  return plan;
}

function planAudio(stream: StreamInfo, context: PlanContext, label: string): AudioStreamPlan {
  const { policy, format, notes } = context;
  const inputIndex = stream.index;
  // Re-encoding a stream already in the target codec only loses quality.
  const keep = policy.audioPreserveCodecs.includes(stream.codec) ||
    stream.codec === policy.audioTranscodeTo;
  if (keep && audioFits(format, stream.codec)) {
    return { type: "audio", inputIndex, action: "copy", codec: stream.codec, bitrate: null };
  }
  let codec = policy.audioTranscodeTo;
  if (!audioFits(format, codec)) {
    const note = `audio_transcode_to ${codec} cannot go into ${format}; using aac`;
    if (!notes.includes(note)) notes.push(note);
    codec = "aac";
  }
  const bitrate = codec === "flac" ? null : policy.audioTranscodeBitrate;
  const why = keep ? ` (${format} cannot hold ${stream.codec})` : "";
  notes.push(
    `${label} transcoded to ${codec}${bitrate === null ? "" : ` at ${kbps(bitrate)}`}${why}`,
  );
  return { type: "audio", inputIndex, action: "transcode", codec, bitrate };
}

function countExpected(streams: StreamPlan[]): ExpectedStreams {
  const kept = streams.filter((stream) => stream.action !== "drop");
  const count = (type: StreamPlan["type"]) => kept.filter((stream) => stream.type === type).length;
  return {
    video: count("video"),
    audio: count("audio"),
    subtitle: count("subtitle"),
    attachment: count("attachment"),
    coverArt: count("cover"),
  };
}

function fileNameSuffix(stream: StreamInfo): string {
  return stream.fileName ? ` ${stream.fileName}` : "";
}

function kbps(bitsPerSecond: number): string {
  return `${Math.round(bitsPerSecond / 1000)} kb/s`;
}
