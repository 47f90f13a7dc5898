/**
 * What a track policy does with tracks the output container cannot take as they are. A file
 * that stays in its container family is copied as it is (but for Dolby Vision in MP4, below).
 * Into Matroska, text subtitles in another format (MP4's mov_text) are converted and other
 * subtitles dropped; attachments and cover pictures are kept. Into MP4, attachments are dropped
 * (it has none; fonts only serve the styled subtitles it cannot hold either) and
 * `container.on_incompatible_codec` says what becomes of the rest: refuse the file, keep its
 * container, convert text subtitles to mov_text (image subtitles dropped), or drop such
 * subtitles. Audio and video MP4 cannot take are never re-encoded: such a file is refused unless
 * the container is kept; so is Dolby Vision video, which ffmpeg cannot copy into MP4 whole, even
 * from MP4.
 *
 * @module
 */
import {
  audioFits,
  isMp4Family,
  type OutputFormat,
  subtitleFits,
  textSubtitleTarget,
  videoFits,
} from "../media/containers.ts";
import type { MediaInfo, StreamInfo } from "../media/probe.ts";
import type { IncompatibleCodecMode } from "../policy/track_types.ts";

/** What {@link fitContainer} decided. */
export type ContainerFit =
  | {
    action: "fits";
    /** Streams converted, to the codec they become. */
    convert: ReadonlyMap<number, string>;
    /** Streams the container cannot hold, with why. */
    dropped: ReadonlyMap<number, string>;
    /** What conversions cost (an ASS subtitle's styling), for people. */
    notes: string[];
  }
  | { action: "keep_container"; reason: string }
  | { action: "refuse"; reason: string };

/**
 * How the streams of `media` not in `dropped` go into `format` under `mode`
 * (`container.on_incompatible_codec`; only used for MP4).
 */
export function fitContainer(
  media: MediaInfo,
  format: OutputFormat,
  mode: IncompatibleCodecMode,
  dropped: ReadonlyMap<number, string>,
): ContainerFit {
  const convert = new Map<number, string>();
  const drop = new Map<number, string>();
  const notes: string[] = [];
  const family = format === "mp4"
    ? isMp4Family(media.formatName)
    : media.formatName.split(",").includes("matroska");
  const kept = media.streams.filter((stream) => !dropped.has(stream.index));
  const label = (stream: StreamInfo) => `0:${stream.index} (${stream.type} ${stream.codec})`;
  const mp4 = format === "mp4";
  // ffmpeg 5.1 keeps a Dolby Vision configuration record in Matroska, but cannot write one into
  // MP4: there, even a copy within MP4 would turn the film into plain HDR10 (or, for profile 5,
  // wrong colours).
  const dolbyVision = kept.filter((s) => mp4 && s.type === "video" && s.dolbyVision);
  if (dolbyVision.length > 0) {
    const lost = `ffmpeg cannot write the Dolby Vision of ${dolbyVision.map(label).join(", ")} ` +
      "into mp4";
    return mode === "skip" && !family
      ? {
        action: "keep_container",
        reason: `container kept: ${lost} (container.on_incompatible_codec: skip)`,
      }
      : { action: "refuse", reason: `${lost}: a copy would lose it (target mkv to keep it)` };
  }
  if (family) return { action: "fits", convert, dropped: drop, notes };
  const unfit = kept.filter((stream) =>
    mp4 && !stream.isCoverArt &&
    ((stream.type === "video" && !videoFits(format, stream.codec)) ||
      (stream.type === "audio" && !audioFits(format, stream.codec)))
  );
  const subtitles = kept.filter((s) => s.type === "subtitle" && !subtitleFits(format, s.codec));
  if (mp4 && mode === "skip" && (unfit.length > 0 || subtitles.length > 0)) {
    return {
      action: "keep_container",
      reason: `container kept: mp4 cannot hold ${[...unfit, ...subtitles].map(label).join(", ")} ` +
        "(container.on_incompatible_codec: skip)",
    };
  }
  if (mp4 && mode === "error" && (unfit.length > 0 || subtitles.length > 0)) {
    return {
      action: "refuse",
      reason: `mp4 cannot hold ${[...unfit, ...subtitles].map(label).join(", ")} ` +
        "(container.on_incompatible_codec: error)",
    };
  }
  if (unfit.length > 0) {
    return {
      action: "refuse",
      reason: `mp4 cannot hold ${unfit.map(label).join(", ")} without re-encoding, which a ` +
        "track policy never does (convert it with a transcode section, or target mkv)",
    };
  }
  for (const stream of subtitles) {
    const text = textSubtitleTarget(format, stream.codec);
    if (text !== null && (!mp4 || mode === "transcode")) {
      convert.set(stream.index, text);
      // The conversion itself is one of the plan's changes; what it costs is worth a note.
      if (stream.codec === "ass" || stream.codec === "ssa") {
        notes.push(`subtitle 0:${stream.index} loses its styling in ${text}`);
      }
    } else {
      const why = text === null
        ? "image subtitles cannot be converted"
        : "container.on_incompatible_codec: drop";
      drop.set(stream.index, `${format} cannot hold ${stream.codec} subtitles (${why})`);
    }
  }
  if (mp4) {
    for (const stream of kept.filter((s) => s.type === "attachment")) {
      drop.set(stream.index, "mp4 has no attachments");
    }
  }
  return { action: "fits", convert, dropped: drop, notes };
}
