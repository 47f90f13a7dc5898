/**
 * What a track is for, in the terms of a track policy: main, alternate or commentary audio,
 * main, forced or commentary subtitles (the classes `track_order` sorts by), and which track of a
 * kind a policy prefers (the one that gets the default flag).
 *
 * @module
 */
import type { StreamInfo } from "../media/probe.ts";
import type { TrackClass, TrackPolicy } from "../policy/track_types.ts";
import { sameLanguage } from "../util/languages.ts";

/** Tells commentary tracks by their title, with a policy's `commentary_patterns`. */
export class CommentaryMatcher {
  readonly #patterns: RegExp[];

  /** `patterns` are regular expressions, validated when the policy was read. */
  constructor(patterns: readonly string[]) {
    this.#patterns = patterns.map((pattern) => new RegExp(pattern, "i"));
  }

  /** Whether a track titled `title` is commentary (a track without a title never is). */
  matches(title: string | undefined): boolean {
    return title !== undefined && this.#patterns.some((pattern) => pattern.test(title));
  }
}

/** The class of `stream` under `policy`; null for data streams, which no policy keeps. */
export function classify(
  stream: StreamInfo,
  policy: TrackPolicy,
  commentary: CommentaryMatcher,
): TrackClass | null {
  switch (stream.type) {
    case "video":
      return stream.isCoverArt ? "attachment" : "video";
    case "audio":
      if (commentary.matches(stream.title)) return "audio_commentary";
      return preferenceRank(stream.language, policy.audioLanguagePreference) === null
        ? "audio_alternate"
        : "audio_main";
    case "subtitle":
      if (commentary.matches(stream.title)) return "subtitle_commentary";
      return stream.isForced ? "subtitle_forced" : "subtitle_main";
    case "attachment":
      return "attachment";
    case "data":
      return null;
  }
}

/** The position of `language` in `preference` (a missing tag counts as "und"), or null. */
export function preferenceRank(
  language: string | undefined,
  preference: readonly string[],
): number | null {
  const rank = preference.findIndex((wanted) => sameLanguage(language, wanted));
  return rank < 0 ? null : rank;
}

/** Whether a class is one of commentary. */
export function isCommentary(role: TrackClass): boolean {
  return role === "audio_commentary" || role === "subtitle_commentary";
}

/**
 * The track of one kind a policy prefers among `tracks` (in output order): the first one that is
 * not commentary in the first language of `preference` any of them has. Without a language match,
 * `fallback` picks the first track that is not commentary, or else the first track (audio must
 * play something); without it there is none.
 */
export function preferredTrack<T extends { language: string; role: TrackClass }>(
  tracks: readonly T[],
  preference: readonly string[],
  fallback: boolean,
): T | undefined {
  const candidates = tracks.filter((track) => !isCommentary(track.role));
  for (const language of preference) {
    const hit = candidates.find((track) => sameLanguage(track.language, language));
    if (hit) return hit;
  }
  return fallback ? candidates[0] ?? tracks[0] : undefined;
}
