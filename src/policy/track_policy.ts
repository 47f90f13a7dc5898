/**
 * The track policy keys of a policy file (the original vpo's `track_order`, language
 * preferences, commentary patterns, default flags, filters and container), read and checked like
 * every other key: a bad value is reported with its file, line, column and key.
 *
 * ```yaml
 * audio_language_preference: [jpn, eng]
 * audio_filter:
 *   languages: [jpn, eng]
 *   fallback: { mode: keep_first }
 * default_flags:
 *   set_preferred_subtitle_default: true
 * ```
 *
 * @module
 */
import {
  boolean,
  choice,
  integer,
  list,
  parsed,
  type Reader,
  type Section,
  section,
} from "../config/yaml_schema.ts";
import { isKnownTwoLetterCode } from "../util/languages.ts";
import type {
  AudioFallback,
  AudioFilter,
  ContainerTarget,
  DefaultFlags,
  IncompatibleCodecMode,
  SubtitleFilter,
  TrackClass,
  TrackPolicy,
} from "./track_types.ts";

/** Track classes in the original vpo's default order, which is also `track_order`'s default. */
export const TRACK_CLASSES: readonly TrackClass[] = [
  "video",
  "audio_main",
  "audio_alternate",
  "subtitle_main",
  "subtitle_forced",
  "audio_commentary",
  "subtitle_commentary",
  "attachment",
];

/** `audio_filter.fallback.mode` values. */
export const AUDIO_FALLBACKS: readonly AudioFallback[] = [
  "content_language",
  "keep_all",
  "keep_first",
  "error",
];

/** `container.on_incompatible_codec` values. */
export const INCOMPATIBLE_CODEC_MODES: readonly IncompatibleCodecMode[] = [
  "error",
  "skip",
  "transcode",
  "drop",
];

/** The defaults a track policy's missing keys take (the original vpo's). */
export function defaultTrackPolicy(): TrackPolicy {
  return {
    trackOrder: [...TRACK_CLASSES],
    audioLanguagePreference: ["eng", "und"],
    subtitleLanguagePreference: ["eng", "und"],
    commentaryPatterns: ["commentary", "director"],
    defaultFlags: {
      setFirstVideoDefault: true,
      setPreferredAudioDefault: true,
      setPreferredSubtitleDefault: false,
      clearOtherDefaults: true,
    },
    audioFilter: null,
    subtitleFilter: null,
    removeAttachments: false,
    container: null,
  };
}

/** Reads a language code: ISO 639-2 (three letters) or a known ISO 639-1 code, in lower case. */
export const languageCode: Reader<string> = parsed("a language code such as eng", (value) => {
  const code = String(value).trim().toLowerCase();
  if (!/^[a-z]{2,3}$/.test(code)) {
    throw new Error(`"${value}" is not a language code (ISO 639-2, such as eng, jpn, und)`);
  }
  if (code.length === 2 && !isKnownTwoLetterCode(code)) {
    throw new Error(`"${value}" is not an ISO 639-1 code (write the ISO 639-2 code, such as eng)`);
  }
  return code;
});

/** Reads a commentary pattern: a regular expression, matched case-insensitively. */
export const commentaryPattern: Reader<string> = parsed("a regular expression", (value) => {
  const pattern = String(value);
  try {
    new RegExp(pattern, "i");
  } catch (err) {
    throw new Error(`not a valid regular expression: ${(err as Error).message}`);
  }
  return pattern;
});

/** A list that must not be empty: `what` says why in the message. */
function nonEmpty<T>(item: Reader<T>, what: string): Reader<T[]> {
  const read = list(item);
  return (field) => {
    const values = read(field);
    if (values.length === 0) field.fail(`must not be empty (${what})`);
    return values;
  };
}

/** Reads `track_order`: each class at most once. */
export const trackOrder: Reader<TrackClass[]> = (field) => {
  const classes = nonEmpty(choice("a track class", TRACK_CLASSES), "list the track classes")(
    field,
  );
  const twice = classes.find((name, i) => classes.indexOf(name) !== i);
  if (twice) field.fail(`"${twice}" is listed twice`);
  return classes;
};

/** Reads a language preference list. */
export const languagePreference: Reader<string[]> = nonEmpty(
  languageCode,
  "list at least one language, e.g. [eng, und]",
);

const DEFAULT_FLAGS_SPEC = {
  set_first_video_default: boolean(),
  set_preferred_audio_default: boolean(),
  set_preferred_subtitle_default: boolean(),
  clear_other_defaults: boolean(),
};

const defaultFlags: Reader<DefaultFlags> = (field) => {
  const v = section(DEFAULT_FLAGS_SPEC)(field).values;
  const d = defaultTrackPolicy().defaultFlags;
  return {
    setFirstVideoDefault: v.set_first_video_default ?? d.setFirstVideoDefault,
    setPreferredAudioDefault: v.set_preferred_audio_default ?? d.setPreferredAudioDefault,
    setPreferredSubtitleDefault: v.set_preferred_subtitle_default ??
      d.setPreferredSubtitleDefault,
    clearOtherDefaults: v.clear_other_defaults ?? d.clearOtherDefaults,
  };
};

/** The value of a key a section must have, or a "missing required key" error at the section. */
function required<S extends Record<string, Reader<unknown>>, K extends keyof S & string>(
  read: Section<S>,
  key: K,
  what: string,
): NonNullable<ReturnType<S[K]>> {
  const value = read.values[key];
  if (value === undefined || value === null) {
    return read.at(key).fail(`missing required key (${what})`);
  }
  return value as NonNullable<ReturnType<S[K]>>;
}

const FALLBACK_SPEC = { mode: choice("a fallback mode", AUDIO_FALLBACKS) };

const audioFilter: Reader<AudioFilter> = (field) => {
  const read = section({
    languages: nonEmpty(languageCode, "the languages whose audio tracks are kept"),
    minimum: integer({ min: 1, max: 64 }),
    fallback: section(FALLBACK_SPEC),
  })(field);
  const fallback = read.values.fallback;
  return {
    languages: required(read, "languages", "the languages whose audio tracks are kept"),
    minimum: read.values.minimum ?? 1,
    fallback: fallback ? required(fallback, "mode", AUDIO_FALLBACKS.join(", ")) : "error",
  };
};

const subtitleFilter: Reader<SubtitleFilter> = (field) => {
  const v = section({
    languages: list(languageCode),
    preserve_forced: boolean(),
    remove_all: boolean(),
  })(field).values;
  return {
    languages: v.languages ?? null,
    preserveForced: v.preserve_forced ?? false,
    removeAll: v.remove_all ?? false,
  };
};

const attachmentFilter: Reader<boolean> = (field) =>
  section({ remove_all: boolean() })(field).values.remove_all ?? false;

const container: Reader<ContainerTarget> = (field) => {
  const read = section({
    target: choice("a container", ["mkv", "mp4"] as const),
    on_incompatible_codec: choice("an on_incompatible_codec mode", INCOMPATIBLE_CODEC_MODES),
  })(field);
  return {
    target: required(read, "target", "mkv or mp4"),
    onIncompatibleCodec: read.values.on_incompatible_codec ?? "error",
  };
};

/** The top-level keys of a policy file that make up its track policy, with their readers. */
export const TRACK_POLICY_SPEC = {
  track_order: trackOrder,
  audio_language_preference: languagePreference,
  subtitle_language_preference: languagePreference,
  commentary_patterns: list(commentaryPattern),
  default_flags: defaultFlags,
  audio_filter: audioFilter,
  subtitle_filter: subtitleFilter,
  attachment_filter: attachmentFilter,
  container,
};

/**
 * The track policy a policy file's top level holds, its missing keys defaulted; null when it
 * holds none of {@link TRACK_POLICY_SPEC}'s keys (a transcode-only policy never touches tracks).
 */
export function readTrackPolicy(top: Section<typeof TRACK_POLICY_SPEC>): TrackPolicy | null {
  const v = top.values;
  if (!Object.keys(TRACK_POLICY_SPEC).some((key) => Object.hasOwn(v, key))) return null;
  const d = defaultTrackPolicy();
  return {
    trackOrder: v.track_order ?? d.trackOrder,
    audioLanguagePreference: v.audio_language_preference ?? d.audioLanguagePreference,
    subtitleLanguagePreference: v.subtitle_language_preference ?? d.subtitleLanguagePreference,
    commentaryPatterns: v.commentary_patterns ?? d.commentaryPatterns,
    defaultFlags: v.default_flags ?? d.defaultFlags,
    audioFilter: v.audio_filter ?? null,
    subtitleFilter: v.subtitle_filter ?? null,
    removeAttachments: v.attachment_filter ?? false,
    container: v.container ?? null,
  };
}
