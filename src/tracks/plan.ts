/**
 * The decision for one file under a track policy: it already complies, or the tracks its output
 * must have (which ones, in which order, with which flags, languages and names, in which
 * container), or why it cannot comply. Pure: from a probe and a policy, nothing else. The output
 * is made by stream copy (apply_args.ts) and checked against the same plan (verify.ts).
 *
 * @module
 */
import { extname } from "node:path";
import {
  chooseContainer,
  isMp4Family,
  needsStrict,
  type OutputFormat,
} from "../media/containers.ts";
import { type CoverArtPlan, planCoverArt } from "../media/plan.ts";
import type { MediaInfo, StreamInfo } from "../media/probe.ts";
import type { TrackClass, TrackPolicy } from "../policy/track_types.ts";
import { UNDETERMINED } from "../util/languages.ts";
import { classify, CommentaryMatcher, preferenceRank, preferredTrack } from "./classify.ts";
import { type ContainerFit, fitContainer } from "./container_fit.ts";
import { selectTracks } from "./filters.ts";

type Fits = Extract<ContainerFit, { action: "fits" }>;

/**
 * Flags that say whom a track is for (ffprobe's names), which Matroska (FlagHearingImpaired,
 * FlagVisualImpaired, FlagCommentary) and MP4 both hold: a track policy never changes them, so a
 * rewritten file keeps them as the source had them.
 */
export const KEPT_FLAGS: readonly string[] = ["hearing_impaired", "visual_impaired", "comment"];

/** Kind of a planned track: "cover" is a cover picture (an attachment in Matroska). */
export type PlannedTrackType = "video" | "audio" | "subtitle" | "attachment" | "cover";

/** One track of the output. */
export interface PlannedTrack {
  /** Index of the source stream (ffmpeg's `0:N`). */
  inputIndex: number;
  /** Kind of track. */
  type: PlannedTrackType;
  /** What the policy takes it for. */
  role: TrackClass;
  /** Codec in the output: the source's, or the subtitle format it is converted to. */
  codec: string;
  /** Converted (a text subtitle into the output container's format) rather than copied. */
  convert: boolean;
  /** Language tag of the output: the source's, {@link UNDETERMINED} when it had none. */
  language: string;
  /** Track name (the source's); absent when it has none. */
  title?: string;
  /** Default flag of the output. */
  default: boolean;
  /** Forced flag of the output (the source's: a policy never changes it). */
  forced: boolean;
  /** The source's {@link KEPT_FLAGS} the track has, which its output must have too. */
  flags: string[];
  /** A video track with a Dolby Vision configuration record, which its output must keep. */
  dolbyVision: boolean;
  /** For a cover picture: how it is carried (see planCoverArt). */
  cover?: CoverArtPlan;
}

/** A source stream the output leaves out. */
export interface DroppedTrack {
  /** Index of the source stream. */
  inputIndex: number;
  /** Kind of stream ("data" included). */
  type: StreamInfo["type"];
  /** Why, in a few words ("language fra not in audio_filter.languages"). */
  reason: string;
}

/** A plan to rewrite a file's tracks by stream copy. */
export interface TrackPlan {
  /** Output muxer. */
  format: OutputFormat;
  /** Output file extension with its dot; the source's own when its container is kept. */
  extension: string;
  /** The output's tracks in output order (in Matroska, attachments and covers last). */
  tracks: PlannedTrack[];
  /** Source streams left out, in source order. */
  dropped: DroppedTrack[];
  /** ffmpeg needs `-strict -2` (FLAC or TrueHD into MP4). */
  strict: boolean;
  /** What changes, one line each, for people. */
  changes: string[];
  /** The changes in one line ("audio 3 -> 1, reordered, default flags, matroska -> mp4"). */
  summary: string;
  /** Conversions, drops by the container and other things worth telling. */
  notes: string[];
}

/** The decision for one file under a track policy. */
export type TrackDecision =
  | { action: "compliant"; reason: string }
  | { action: "apply"; plan: TrackPlan }
  | { action: "refuse"; reason: string };

/**
 * Decides what `policy` asks of the tracks of `media` (a probe with dispositions, see
 * `withDispositions` in media/probe.ts).
 *
 * @example Japanese audio first and default, the French dropped
 * ```ts
 * import assert from "node:assert/strict";
 * import { defaultTrackPolicy } from "../policy/track_policy.ts";
 * import type { MediaInfo } from "../media/probe.ts";
 * const base = { isCoverArt: false, dolbyVision: false, isForced: false };
 * const film: MediaInfo = {
 *   path: "/library/film.mkv",
 *   formatName: "matroska,webm",
 *   duration: 5400,
 *   size: 8e9,
 *   bitRate: 11e6,
 *   streams: [
 *     { ...base, index: 0, type: "video", codec: "h264", isDefault: true },
 *     { ...base, index: 1, type: "audio", codec: "ac3", language: "fre", isDefault: true },
 *     { ...base, index: 2, type: "audio", codec: "ac3", language: "jpn", isDefault: false },
 *   ],
 * };
 * const policy = {
 *   ...defaultTrackPolicy(),
 *   audioLanguagePreference: ["jpn"],
 *   audioFilter: { languages: ["jpn"], minimum: 1, fallback: "error" as const },
 * };
 * const decision = planTracks(policy, film);
 * assert.equal(decision.action, "apply");
 * if (decision.action === "apply") {
 *   assert.deepEqual(decision.plan.tracks.map((t) => [t.inputIndex, t.default]), [[0, true], [2, true]]);
 * }
 * ```
 */
export function planTracks(policy: TrackPolicy, media: MediaInfo): TrackDecision {
  if (media.duration <= 0) {
    return { action: "refuse", reason: "unknown duration (the output could not be verified)" };
  }
  const selection = selectTracks(media.streams, policy);
  if (!selection.ok) return { action: "refuse", reason: selection.reason };
  const dropped = new Map(selection.dropped);
  const notes: string[] = [];
  const output = outputContainer(policy, media, dropped, notes);
  if ("refuse" in output) return { action: "refuse", reason: output.refuse };
  const { container, fit } = output;

  const commentary = new CommentaryMatcher(policy.commentaryPatterns);
  const covers = media.streams.filter((stream) => stream.isCoverArt);
  const tracks: PlannedTrack[] = [];
  for (const stream of media.streams) {
    const role = classify(stream, policy, commentary);
    if (role === null) dropData(stream, media, dropped, notes);
    if (role === null || dropped.has(stream.index)) continue;
    const track: PlannedTrack = {
      inputIndex: stream.index,
      type: stream.isCoverArt ? "cover" : stream.type as PlannedTrackType,
      role,
      codec: fit.convert.get(stream.index) ?? stream.codec,
      convert: fit.convert.has(stream.index),
      language: stream.language ?? UNDETERMINED,
      default: stream.isDefault ?? false,
      forced: stream.isForced ?? false,
      flags: (stream.flags ?? []).filter((flag) => KEPT_FLAGS.includes(flag)),
      dolbyVision: stream.type === "video" && stream.dolbyVision,
    };
    if (stream.title !== undefined) track.title = stream.title;
    if (stream.isCoverArt) {
      track.cover = planCoverArt(stream, container.format, covers, notes);
      if (track.cover.action === "drop") {
        dropped.set(stream.index, `${container.format} cannot hold a ${stream.codec} cover`);
        continue;
      }
    }
    tracks.push(track);
  }
  const ordered = order(tracks, policy, container.format);
  setDefaults(ordered, policy);
  if (container.format === "mp4") markMp4Defaults(ordered, notes);
  const plan: TrackPlan = {
    format: container.format,
    extension: container.extension,
    tracks: ordered,
    dropped: [...dropped].sort(([a], [b]) => a - b).map(([inputIndex, reason]) => ({
      inputIndex,
      type: streamAt(media, inputIndex).type,
      reason,
    })),
    strict: needsStrict(
      container.format,
      ordered.filter((t) => t.type === "audio").map((t) => t.codec),
    ),
    changes: [],
    summary: "",
    notes,
  };
  // Without container.target, a file in another container (AVI, TS) is rewritten as Matroska
  // only when its tracks change: that alone is no change a track policy asked for.
  describeChanges(plan, media, policy.container !== null);
  if (plan.changes.length === 0) {
    const count = (type: PlannedTrackType) => ordered.filter((t) => t.type === type).length;
    return {
      action: "compliant",
      reason: `tracks already comply (${count("video")} video, ${count("audio")} audio, ` +
        `${count("subtitle")} subtitle)`,
    };
  }
  return { action: "apply", plan };
}

/**
 * Leaves a data stream out (ffmpeg cannot copy most of them into a file, as a transcode cannot),
 * saying so: a timecode or telemetry track is lost. An MP4's chapter text track is not worth a
 * note: the chapters are written again (and verified).
 */
function dropData(
  stream: StreamInfo,
  media: MediaInfo,
  dropped: Map<number, string>,
  notes: string[],
): void {
  dropped.set(stream.index, "data stream");
  const chapterTrack = stream.codec === "bin_data" && (media.chapters?.length ?? 0) > 0;
  if (!chapterTrack) notes.push(`data stream 0:${stream.index} (${stream.codec}) dropped`);
}

/**
 * The container of the output (the source's unless `container.target` names another) and how
 * the kept streams go into it; the kept streams it cannot hold are added to `dropped`.
 */
function outputContainer(
  policy: TrackPolicy,
  media: MediaInfo,
  dropped: Map<number, string>,
  notes: string[],
): { container: { format: OutputFormat; extension: string }; fit: Fits } | { refuse: string } {
  const own = chooseContainer("keep", media, notes);
  const target = policy.container;
  let container = own;
  if (target && (target.target === "mp4") !== (own.format === "mp4")) {
    container = chooseContainer(target.target, media, []);
  }
  let fit = fitContainer(media, container.format, target?.onIncompatibleCodec ?? "error", dropped);
  if (fit.action === "keep_container") {
    notes.push(fit.reason);
    container = own;
    fit = fitContainer(media, own.format, "error", dropped);
  }
  if (fit.action !== "fits") return { refuse: fit.reason };
  for (const [index, reason] of fit.dropped) dropped.set(index, reason);
  notes.push(...fit.notes);
  return { container, fit };
}

/**
 * The tracks in `track_order`, main audio and subtitles by language preference, otherwise in
 * source order; in Matroska the attachments (then the covers, which ffmpeg attaches after every
 * mapped stream) come last, since Matroska keeps them apart from the tracks.
 */
function order(
  tracks: PlannedTrack[],
  policy: TrackPolicy,
  format: OutputFormat,
): PlannedTrack[] {
  const classRank = (role: TrackClass) => {
    const rank = policy.trackOrder.indexOf(role);
    return rank < 0 ? policy.trackOrder.length : rank;
  };
  const languageRank = (track: PlannedTrack) => {
    const preference = track.role === "audio_main"
      ? policy.audioLanguagePreference
      : track.role === "subtitle_main"
      ? policy.subtitleLanguagePreference
      : [];
    return preferenceRank(track.language, preference) ?? preference.length;
  };
  const placement = (track: PlannedTrack) =>
    format === "matroska" ? ["attachment", "cover"].indexOf(track.type) + 1 : 0;
  const key = (track: PlannedTrack) => [
    placement(track),
    classRank(track.role),
    languageRank(track),
    track.inputIndex,
  ];
  return [...tracks].sort((a, b) => {
    const [ka, kb] = [key(a), key(b)];
    const at = ka.findIndex((value, i) => value !== kb[i]);
    return at < 0 ? 0 : ka[at] - kb[at];
  });
}

/** Sets the default flags `default_flags` asks for, over the tracks kept, in output order. */
function setDefaults(tracks: PlannedTrack[], policy: TrackPolicy): void {
  const flags = policy.defaultFlags;
  const ofType = (type: PlannedTrackType) => tracks.filter((track) => track.type === type);
  const mark = (kind: PlannedTrack[], chosen: PlannedTrack | undefined) => {
    if (chosen) chosen.default = true;
    if (flags.clearOtherDefaults) {
      for (const track of kind) if (track !== chosen) track.default = false;
    }
  };
  const videos = ofType("video");
  if (flags.setFirstVideoDefault && videos.length > 0) mark(videos, videos[0]);
  const audio = ofType("audio");
  if (flags.setPreferredAudioDefault && audio.length > 0) {
    mark(audio, preferredTrack(audio, policy.audioLanguagePreference, true));
  }
  const subtitles = ofType("subtitle");
  if (flags.setPreferredSubtitleDefault) {
    // No fallback: a subtitle in a language nobody asked for is not turned on.
    mark(subtitles, preferredTrack(subtitles, policy.subtitleLanguagePreference, false));
  } else if (flags.clearOtherDefaults) {
    mark(subtitles, undefined);
  }
}

/**
 * ffmpeg's MP4 muxer marks the first track of each kind enabled (read back as default) when none
 * is: the plan says so, so that the output passes verification and is compliant the next time.
 */
function markMp4Defaults(tracks: PlannedTrack[], notes: string[]): void {
  const kinds: [string, PlannedTrackType[]][] = [
    ["video", ["video", "cover"]],
    ["audio", ["audio"]],
    ["subtitle", ["subtitle"]],
  ];
  for (const [kind, types] of kinds) {
    const ofKind = tracks.filter((track) => types.includes(track.type));
    if (ofKind.length === 0 || ofKind.some((track) => track.default)) continue;
    ofKind[0].default = true;
    if (kind !== "video") {
      notes.push(
        `mp4 marks the first ${kind} track (0:${ofKind[0].inputIndex}) as default: it cannot ` +
          `mark none`,
      );
    }
  }
}

/**
 * Fills in `changes` and `summary`: empty when the output would be the source again. A change of
 * container counts only when `containerAsked` (else it is a note).
 */
function describeChanges(plan: TrackPlan, media: MediaInfo, containerAsked: boolean): void {
  const { changes } = plan;
  const parts: string[] = [];
  const label = (stream: StreamInfo) =>
    `${stream.isCoverArt ? "cover" : stream.type} 0:${stream.index}` +
    (stream.type === "audio" || stream.type === "subtitle"
      ? ` (${stream.language ?? UNDETERMINED}${stream.title ? ` "${stream.title}"` : ""})`
      : "");
  for (const drop of plan.dropped) {
    if (drop.type === "data") continue;
    changes.push(`drop ${label(streamAt(media, drop.inputIndex))}: ${drop.reason}`);
  }
  for (const type of ["audio", "subtitle", "attachment"] as const) {
    const before = media.streams.filter((s) => s.type === type && !s.isCoverArt).length;
    const after = plan.tracks.filter((t) => t.type === type).length;
    if (after !== before) parts.push(`${type} ${before} -> ${after}`);
  }
  // Matroska keeps attachments apart from the tracks: their order is not the tracks' order.
  const ordered = (type: PlannedTrackType) =>
    plan.format === "mp4" || (type !== "attachment" && type !== "cover");
  const keptSourceOrder = media.streams
    .filter((s) => plan.tracks.some((t) => t.inputIndex === s.index))
    .filter((s) => ordered(s.isCoverArt ? "cover" : s.type as PlannedTrackType))
    .map((s) => s.index);
  const newOrder = plan.tracks.filter((t) => ordered(t.type)).map((t) => t.inputIndex);
  if (newOrder.join() !== keptSourceOrder.join()) {
    changes.push(`order ${newOrder.map((i) => `0:${i}`).join(" ")}`);
    parts.push("reordered");
  }
  let flagged = false;
  for (const track of plan.tracks) {
    const source = streamAt(media, track.inputIndex);
    if (track.type === "attachment" || track.type === "cover") continue;
    if (track.default !== (source.isDefault ?? false)) {
      changes.push(`default ${track.default ? "on" : "off"}: ${label(source)}`);
      flagged = true;
    }
  }
  if (flagged) parts.push("default flags");
  const converted = plan.tracks.filter((t) => t.convert);
  for (const track of converted) {
    const source = streamAt(media, track.inputIndex);
    changes.push(`convert ${label(source)}: ${source.codec} -> ${track.codec}`);
  }
  if (converted.length > 0) parts.push(`${converted.length} subtitle(s) to ${converted[0].codec}`);
  const sourceFormat = isMp4Family(media.formatName) ? "mp4" : "matroska";
  const moved = plan.extension !== extname(media.path) || plan.format !== sourceFormat;
  if (containerAsked && moved) {
    // ffprobe names every MP4 "mov,mp4,...": people know it as mp4.
    const from = sourceFormat === "mp4" ? "mp4" : media.formatName.split(",")[0];
    changes.push(`container ${from} -> ${plan.format} (${plan.extension})`);
    parts.push(`${from} -> ${plan.format}`);
  }
  plan.summary = parts.length > 0 ? parts.join(", ") : changes.length > 0 ? "tracks changed" : "";
}

/** The stream of `media` whose index is `index` (ffprobe numbers them from 0, in order). */
function streamAt(media: MediaInfo, index: number): StreamInfo {
  return media.streams.find((stream) => stream.index === index)!;
}
