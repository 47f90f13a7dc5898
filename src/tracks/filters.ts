/**
 * Which tracks a track policy's filters keep: audio by language (with the minimum and the
 * fallback when too few are left), subtitles by language (forced ones kept where asked),
 * attachments all or none. Video is always kept.
 *
 * @module
 */
import type { StreamInfo } from "../media/probe.ts";
import type { AudioFilter, SubtitleFilter, TrackPolicy } from "../policy/track_types.ts";
import { sameLanguage, UNDETERMINED } from "../util/languages.ts";

/** What the filters decided: why each dropped stream goes, or why the file cannot comply. */
export type Selection =
  | { ok: true; dropped: ReadonlyMap<number, string> }
  | { ok: false; reason: string };

/**
 * Applies `policy`'s filters to the streams of a file. A refusal comes only from
 * `audio_filter` with `fallback: error` (or none) when too few audio tracks are in its languages.
 */
export function selectTracks(streams: readonly StreamInfo[], policy: TrackPolicy): Selection {
  const dropped = new Map<number, string>();
  const audio = streams.filter((stream) => stream.type === "audio");
  if (policy.audioFilter && audio.length > 0) {
    const outcome = filterAudio(audio, policy.audioFilter);
    if (typeof outcome === "string") return { ok: false, reason: outcome };
    for (const [index, why] of outcome) dropped.set(index, why);
  }
  const subtitleFilter = policy.subtitleFilter;
  for (const stream of streams) {
    if (stream.type === "subtitle" && subtitleFilter) {
      const why = subtitleDropReason(stream, subtitleFilter);
      if (why !== null) dropped.set(stream.index, why);
    }
    const attached = stream.type === "attachment" || stream.isCoverArt;
    if (attached && policy.removeAttachments) {
      dropped.set(stream.index, "attachment_filter.remove_all");
    }
  }
  return { ok: true, dropped };
}

/** The audio streams dropped, with why, or why the file cannot comply. */
function filterAudio(audio: StreamInfo[], filter: AudioFilter): Map<number, string> | string {
  const wanted = (stream: StreamInfo) =>
    filter.languages.some((language) => sameLanguage(stream.language, language));
  const kept = new Set(audio.filter(wanted));
  // Too few in the wanted languages, while dropped tracks could make up for it.
  if (kept.size < filter.minimum && kept.size < audio.length) {
    const languages = audio.map((stream) => stream.language ?? UNDETERMINED).join(", ");
    switch (filter.fallback) {
      case "error":
        return `audio_filter keeps ${kept.size} of ${audio.length} audio tracks (${languages}; ` +
          `minimum ${filter.minimum}, fallback error)`;
      case "keep_all":
        return new Map();
      case "content_language": {
        // The first audio track is taken as the film's own language.
        const content = audio[0].language;
        for (const stream of audio) {
          if (sameLanguage(stream.language, content)) kept.add(stream);
        }
        break;
      }
      case "keep_first":
        break;
    }
    // keep_first, and content_language when the film's language still leaves too few.
    for (const stream of audio) {
      if (kept.size >= filter.minimum) break;
      kept.add(stream);
    }
  }
  const why = (stream: StreamInfo) =>
    `language ${stream.language ?? UNDETERMINED} not in audio_filter.languages`;
  return new Map(audio.filter((s) => !kept.has(s)).map((stream) => [stream.index, why(stream)]));
}

function subtitleDropReason(stream: StreamInfo, filter: SubtitleFilter): string | null {
  if (filter.removeAll) return "subtitle_filter.remove_all";
  if (filter.preserveForced && stream.isForced) return null;
  if (filter.languages === null) return null;
  if (filter.languages.some((language) => sameLanguage(stream.language, language))) return null;
  return `language ${stream.language ?? UNDETERMINED} not in subtitle_filter.languages`;
}
