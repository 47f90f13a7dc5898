/**
 * The track policy: which audio, subtitle and attached tracks a file keeps, in which order, with
 * which default flags, in which container. The keys are the original Python vpo's (schema 2 and
 * 3); docs/track-policy.md says what each does.
 *
 * @module
 */

/** What a track is for, as `track_order` names it. */
export type TrackClass =
  | "video"
  | "audio_main"
  | "audio_alternate"
  | "audio_commentary"
  | "subtitle_main"
  | "subtitle_forced"
  | "subtitle_commentary"
  | "attachment";

/** What `audio_filter` does when fewer than `minimum` audio tracks are in its languages. */
export type AudioFallback = "content_language" | "keep_all" | "keep_first" | "error";

/**
 * What a conversion to MP4 does with a track MP4 cannot hold: refuse the file, leave the
 * container as it is, convert text subtitles to mov_text (dropping image subtitles), or drop
 * such subtitles. Audio and video MP4 cannot hold are never re-encoded by a track policy.
 */
export type IncompatibleCodecMode = "error" | "skip" | "transcode" | "drop";

/** `default_flags`. */
export interface DefaultFlags {
  /** The first video track is the default one. */
  setFirstVideoDefault: boolean;
  /** The preferred audio track (by language, not commentary) is the default one. */
  setPreferredAudioDefault: boolean;
  /** The preferred subtitle track (by language, not commentary) is the default one. */
  setPreferredSubtitleDefault: boolean;
  /** Tracks of a kind whose default is set lose their default flag; with no subtitle default
   * set, every subtitle loses it. */
  clearOtherDefaults: boolean;
}

/** `audio_filter`: audio tracks kept by language. */
export interface AudioFilter {
  /** Languages whose audio tracks are kept (any ISO 639 form). */
  languages: string[];
  /** Audio tracks that must remain (at least 1). */
  minimum: number;
  /** What happens when fewer than `minimum` are in `languages`. */
  fallback: AudioFallback;
}

/** `subtitle_filter`: subtitle tracks kept by language. */
export interface SubtitleFilter {
  /** Languages whose subtitles are kept; null keeps every language. */
  languages: string[] | null;
  /** Forced subtitles are kept whatever their language. */
  preserveForced: boolean;
  /** Every subtitle track is dropped (overrides the rest). */
  removeAll: boolean;
}

/** `container`: the container every output is in. */
export interface ContainerTarget {
  /** mkv or mp4. */
  target: "mkv" | "mp4";
  /** What happens to tracks MP4 cannot hold (see {@link IncompatibleCodecMode}). */
  onIncompatibleCodec: IncompatibleCodecMode;
}

/** A validated, fully defaulted track policy. Stored in each job as a snapshot. */
export interface TrackPolicy {
  /** Track classes in output order; classes not listed come after, in source order. */
  trackOrder: TrackClass[];
  /** Audio languages in order of preference: the main audio, the default one. */
  audioLanguagePreference: string[];
  /** Subtitle languages in order of preference. */
  subtitleLanguagePreference: string[];
  /** Regular expressions (case-insensitive) that mark a track whose title matches as commentary. */
  commentaryPatterns: string[];
  /** Which tracks are marked default. */
  defaultFlags: DefaultFlags;
  /** Audio tracks kept by language; null keeps every audio track. */
  audioFilter: AudioFilter | null;
  /** Subtitle tracks kept by language; null keeps every subtitle track. */
  subtitleFilter: SubtitleFilter | null;
  /** Drop every attachment (fonts, cover art); false keeps them. */
  removeAttachments: boolean;
  /** The container outputs are in; null keeps the source's. */
  container: ContainerTarget | null;
}
