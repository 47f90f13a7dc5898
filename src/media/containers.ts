/**
 * What each output container holds, as ffmpeg 5.1 writes it and players read it: which audio and
 * subtitle codecs go in as they are, which text subtitles are converted, which cover pictures
 * MP4 takes, and which container an output is written in. Shared by the transcode plan and the
 * track plan, so that both treat a container alike.
 *
 * @module
 */

import { extname } from "node:path";
import type { ContainerChoice } from "../policy/types.ts";
import type { MediaInfo } from "./probe.ts";

/** Muxer of the output (ffmpeg `-f`). */
export type OutputFormat = "matroska" | "mp4";

/** ffprobe format names of the MP4 family ("mov,mp4,m4a,3gp,3g2,mj2"). */
const MP4_FAMILY = /(^|,)(mov|mp4)(,|$)/;

const MP4_EXTENSIONS: ReadonlySet<string> = new Set([".mp4", ".m4v", ".mov"]);

/** Whether ffprobe's format name is of the MP4 family. */
export function isMp4Family(formatName: string): boolean {
  return MP4_FAMILY.test(formatName);
}

/**
 * The container an output is written in: the one `choice` names, or for "keep" the source's when
 * it is Matroska (.mkv) or MP4 (.mp4, .m4v, .mov); anything else is written as mkv, with a note.
 */
export function chooseContainer(
  choice: ContainerChoice,
  media: MediaInfo,
  notes: string[],
): { format: OutputFormat; extension: string } {
  if (choice === "mp4") return { format: "mp4", extension: ".mp4" };
  if (choice === "mkv") return { format: "matroska", extension: ".mkv" };
  const extension = extname(media.path);
  const lower = extension.toLowerCase();
  const families = media.formatName.split(",");
  if (families.includes("matroska") && lower === ".mkv") return { format: "matroska", extension };
  if (families.includes("mp4") && MP4_EXTENSIONS.has(lower)) return { format: "mp4", extension };
  notes.push(`container ${media.formatName} (${extension || "no extension"}) is written as mkv`);
  return { format: "matroska", extension: ".mkv" };
}

/** Audio codecs each muxer takes as they are (MP4's vorbis works in ffmpeg but not in players). */
const AUDIO_ALLOWED: Record<OutputFormat, ReadonlySet<string>> = {
  mp4: new Set(["aac", "mp3", "mp2", "ac3", "eac3", "dts", "opus", "alac", "flac", "truehd"]),
  matroska: new Set([
    "aac",
    "mp3",
    "mp2",
    "ac3",
    "eac3",
    "dts",
    "truehd",
    "mlp",
    "opus",
    "vorbis",
    "flac",
    "alac",
    "wavpack",
    "tta",
    "pcm_s16le",
    "pcm_s24le",
    "pcm_s32le",
    "pcm_f32le",
    "pcm_s16be",
    "pcm_s24be",
    "pcm_u8",
  ]),
};

/** Whether `format` takes audio in `codec` as it is. */
export function audioFits(format: OutputFormat, codec: string): boolean {
  return AUDIO_ALLOWED[format].has(codec);
}

/** Codecs the MP4 muxer of ffmpeg 5.1 writes only with `-strict -2`. */
const MP4_EXPERIMENTAL: ReadonlySet<string> = new Set(["flac", "truehd"]);

/** Whether writing audio in `codecs` into `format` needs ffmpeg's `-strict -2`. */
export function needsStrict(format: OutputFormat, codecs: readonly string[]): boolean {
  return format === "mp4" && codecs.some((codec) => MP4_EXPERIMENTAL.has(codec));
}

/**
 * Video codecs MP4 takes by stream copy (Matroska takes any). A track policy never re-encodes
 * video, so a source in another codec cannot become MP4.
 */
const MP4_VIDEO_COPY: ReadonlySet<string> = new Set([
  "h264",
  "hevc",
  "av1",
  "vp9",
  "mpeg4",
  "mpeg2video",
  "mpeg1video",
]);

/** Whether `format` takes video in `codec` by stream copy. */
export function videoFits(format: OutputFormat, codec: string): boolean {
  return format === "matroska" || MP4_VIDEO_COPY.has(codec);
}

/**
 * Subtitle codecs copied as they are. MP4 players read only mov_text; image subtitles (PGS, and
 * VobSub, which the muxer would take) are dropped from MP4 with a note.
 */
const SUBTITLES_ALLOWED: Record<OutputFormat, ReadonlySet<string>> = {
  mp4: new Set(["mov_text"]),
  matroska: new Set([
    "subrip",
    "ass",
    "ssa",
    "webvtt",
    "hdmv_pgs_subtitle",
    "dvd_subtitle",
    "dvb_subtitle",
  ]),
};

/** Whether `format` takes subtitles in `codec` as they are. */
export function subtitleFits(format: OutputFormat, codec: string): boolean {
  return SUBTITLES_ALLOWED[format].has(codec);
}

/** Text subtitle formats ffmpeg can decode and re-encode as another text format. */
const TEXT_SUBTITLES: ReadonlySet<string> = new Set([
  "subrip",
  "ass",
  "ssa",
  "webvtt",
  "mov_text",
  "text",
  "microdvd",
  "subviewer",
  "subviewer1",
  "sami",
  "realtext",
  "mpl2",
  "pjs",
  "vplayer",
  "jacosub",
  "stl",
]);

const TEXT_SUBTITLE_TARGET: Record<OutputFormat, string> = { mp4: "mov_text", matroska: "subrip" };

/**
 * The text format subtitles in `codec` are converted to for `format` (mov_text for MP4, SubRip
 * for Matroska), or null when they are not text (image subtitles cannot be converted).
 */
export function textSubtitleTarget(format: OutputFormat, codec: string): string | null {
  return TEXT_SUBTITLES.has(codec) ? TEXT_SUBTITLE_TARGET[format] : null;
}

const MP4_COVER_CODECS: ReadonlySet<string> = new Set(["mjpeg", "png", "bmp"]);

/** Whether `format` takes a cover picture in `codec` (MP4: jpeg, png, bmp; Matroska: any). */
export function coverFits(format: OutputFormat, codec: string): boolean {
  return format === "matroska" || MP4_COVER_CODECS.has(codec);
}

const IMAGE_MIME_TYPES: Readonly<Record<string, string>> = {
  mjpeg: "image/jpeg",
  png: "image/png",
  bmp: "image/bmp",
  gif: "image/gif",
  webp: "image/webp",
};

/** The MIME type of a picture in `codec`, or undefined when it cannot be told. */
export function imageMimeType(codec: string): string | undefined {
  return IMAGE_MIME_TYPES[codec];
}
