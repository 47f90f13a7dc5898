/**
 * Proof that a track plan's output is what it planned before it may replace its source: as long
 * as the source, with its chapters, and its tracks in the planned order with the planned codecs,
 * languages, names and flags, as ffprobe reads them and, for Matroska, as mkvmerge (an
 * independent reader, the one Matroska's own tools use) reads them too.
 *
 * @module
 */
import { identify, type MkvmergeProperties } from "../media/mkvmerge.ts";
import type { MediaInfo, StreamInfo } from "../media/probe.ts";
import {
  chapterProblem,
  durationProblem,
  probeOutput,
  type VerifyOptions,
} from "../media/verify.ts";
import { findOnPath } from "../util/find_on_path.ts";
import { languageKey } from "../util/languages.ts";
import { KEPT_FLAGS, type PlannedTrack, type PlannedTrackType, type TrackPlan } from "./plan.ts";

/** Options of {@link verifyTracks}. */
export interface TrackVerifyOptions extends VerifyOptions {
  /** mkvmerge binary; default "mkvmerge" from PATH. Without one, Matroska is read by ffprobe
   * alone (the verdict says so). */
  mkvmerge?: string;
}

/** Verdict on an output: its probe and the tools that read it, or one line saying what is wrong. */
export type TrackVerdict =
  | { ok: true; info: MediaInfo; checkedWith: string[] }
  | { ok: false; reason: string };

/**
 * Checks `outputPath` against the plan that produced it from `source`.
 *
 * @throws FfmpegError only when ffprobe itself is missing; a bad output is a verdict.
 */
export async function verifyTracks(
  source: MediaInfo,
  outputPath: string,
  plan: TrackPlan,
  opts: TrackVerifyOptions = {},
): Promise<TrackVerdict> {
  const probed = await probeOutput(source, outputPath, opts);
  if (!probed.ok) return probed;
  const info = probed.info;
  const reason = durationProblem("duration", source.duration, info.duration) ??
    durationProblem("content", source.duration, info.contentEnd ?? 0) ??
    chapterProblem(source, info);
  if (reason !== null) return { ok: false, reason };
  return await checkTracks(plan, outputPath, info, opts);
}

/**
 * Checks the tracks of an output whose probe is `info` against `plan`: ffprobe's reading and,
 * for Matroska, mkvmerge's. Exposed for the transcode that carries out a track plan in the same
 * pass (its length and video are checked by its own verification).
 */
export async function checkTracks(
  plan: TrackPlan,
  outputPath: string,
  info: MediaInfo,
  opts: TrackVerifyOptions = {},
): Promise<TrackVerdict> {
  const problem = trackProblem(plan, info);
  if (problem !== null) return { ok: false, reason: problem };
  const checkedWith = ["ffprobe"];
  if (plan.format === "matroska") {
    const mkvmerge = findOnPath(opts.mkvmerge ?? "mkvmerge");
    if (mkvmerge !== null) {
      const problem = await mkvmergeProblem(mkvmerge, outputPath, plan, opts.signal);
      if (problem !== null) return { ok: false, reason: `mkvmerge: ${problem}` };
      checkedWith.push("mkvmerge");
    }
  }
  return { ok: true, info, checkedWith };
}

/** A stream's kind as a plan names it. */
function kindOf(stream: StreamInfo): PlannedTrackType | "data" {
  return stream.isCoverArt ? "cover" : stream.type;
}

const flagged = (type: PlannedTrackType) =>
  type === "video" || type === "audio" || type === "subtitle";

/**
 * Why the streams ffprobe read from an output are not the planned tracks, or null. Data streams
 * are not counted (a muxer may add a chapter or timecode track).
 */
function trackProblem(plan: TrackPlan, info: MediaInfo): string | null {
  const got = info.streams.filter((stream) => stream.type !== "data");
  const kinds = (list: string[]) => list.join(" ");
  if (got.length !== plan.tracks.length) {
    return `${got.length} tracks (${kinds(got.map(kindOf))}), planned ${plan.tracks.length} ` +
      `(${kinds(plan.tracks.map((t) => t.type))})`;
  }
  for (const [i, want] of plan.tracks.entries()) {
    const problem = streamProblem(want, got[i]);
    if (problem !== null) return `track ${i} (from 0:${want.inputIndex}): ${problem}`;
  }
  return null;
}

function streamProblem(want: PlannedTrack, got: StreamInfo): string | null {
  const kind = kindOf(got);
  if (kind !== want.type) return `is ${kind}, planned ${want.type}`;
  if (want.type !== "attachment" && got.codec !== want.codec) {
    return `is ${got.codec}, planned ${want.codec}`;
  }
  if (!flagged(want.type)) return null;
  return differs("Dolby Vision", got.dolbyVision, want.dolbyVision) ??
    differs("language", languageKey(got.language), languageKey(want.language)) ??
    differs("default flag", got.isDefault ?? false, want.default) ??
    differs("forced flag", got.isForced ?? false, want.forced) ??
    differs("flags", flagList((flag) => got.flags?.includes(flag) ?? false), plannedFlags(want)) ??
    differs("name", got.title ?? "", want.title ?? "");
}

/** The {@link KEPT_FLAGS} a track `has`, as one word ("hearing_impaired+comment", or "none"). */
function flagList(has: (flag: string) => boolean): string {
  return KEPT_FLAGS.filter(has).join("+") || "none";
}

/** The flags `want` must have, as {@link flagList} says them. */
const plannedFlags = (want: PlannedTrack) => flagList((flag) => want.flags.includes(flag));

function differs<T>(what: string, got: T, want: T): string | null {
  return got === want ? null : `${what} is ${JSON.stringify(got)}, planned ${JSON.stringify(want)}`;
}

/** mkvmerge's property for each of {@link KEPT_FLAGS}. */
const MKVMERGE_FLAGS: Readonly<Record<string, keyof MkvmergeProperties>> = {
  hearing_impaired: "flag_hearing_impaired",
  visual_impaired: "flag_visual_impaired",
  comment: "flag_commentary",
};

const MKVMERGE_TYPES: Readonly<Record<string, PlannedTrackType>> = {
  video: "video",
  audio: "audio",
  subtitles: "subtitle",
};

/** Why mkvmerge's reading of a Matroska output differs from the plan, or null. */
async function mkvmergeProblem(
  mkvmerge: string,
  path: string,
  plan: TrackPlan,
  signal?: AbortSignal,
): Promise<string | null> {
  const identity = await identify(mkvmerge, path, signal);
  if (typeof identity === "string") return identity;
  const tracks = identity.tracks ?? [];
  const planned = plan.tracks.filter((track) => flagged(track.type));
  if (tracks.length !== planned.length) {
    return `${tracks.length} tracks, planned ${planned.length}`;
  }
  for (const [i, want] of planned.entries()) {
    const got = tracks[i];
    const p = got.properties ?? {};
    const problem = differs("type", MKVMERGE_TYPES[got.type ?? ""] ?? got.type, want.type) ??
      // The ISO 639-2 code, as ffprobe reads the source for the plan; the IETF tag is checked
      // against the source's own where the rewrite restored it (media/language_tags.ts).
      differs("language", languageKey(p.language), languageKey(want.language)) ??
      differs("default flag", p.default_track ?? false, want.default) ??
      differs("forced flag", p.forced_track ?? false, want.forced) ??
      differs("flags", flagList((flag) => p[MKVMERGE_FLAGS[flag]] === true), plannedFlags(want)) ??
      differs("name", p.track_name ?? "", want.title ?? "");
    if (problem !== null) return `track ${i}: ${problem}`;
  }
  const attached = plan.tracks.length - planned.length;
  const attachments = identity.attachments?.length ?? 0;
  return attachments === attached ? null : `${attachments} attachments, planned ${attached}`;
}
