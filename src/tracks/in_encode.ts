/**
 * A track policy carried out by a transcode, in the same ffmpeg pass: the transcode plan decides
 * what each stream becomes (video encoded, audio copied or converted, what its container takes);
 * the track plan, made over the output the transcode would write, decides which tracks stay, in
 * which order, with which flags. The result is the transcode plan with the track plan's drops,
 * order and labels, and the track plan to verify the output against.
 *
 * @module
 */
import { extname } from "node:path";
import { needsStrict } from "../media/containers.ts";
import type { EncodePlan, StreamPlan } from "../media/plan.ts";
import type { MediaInfo, StreamInfo } from "../media/probe.ts";
import type { TrackPolicy } from "../policy/track_types.ts";
import { labelOf } from "./apply_args.ts";
import { planTracks, type TrackPlan } from "./plan.ts";

/** What a track policy adds to a transcode. */
export type TracksInEncode =
  | { action: "unchanged" }
  | { action: "labelled"; plan: EncodePlan; tracks: TrackPlan }
  | { action: "refuse"; reason: string };

/**
 * Merges what `policy` asks of the tracks of `media` into `encode`, a plan to transcode it:
 * "unchanged" when the transcode's output already has the tracks the policy asks for,
 * "refuse" when the policy cannot be met (an audio_filter with fallback error).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { defaultPolicy } from "../policy/policy.ts";
 * import { defaultTrackPolicy } from "../policy/track_policy.ts";
 * import { planTranscode, type EncodePlan } from "../media/plan.ts";
 * import type { MediaInfo } from "../media/probe.ts";
 * const base = { isCoverArt: false, dolbyVision: false, isDefault: false, isForced: false };
 * const film: MediaInfo = {
 *   path: "/library/film.mkv",
 *   formatName: "matroska,webm",
 *   duration: 5400,
 *   size: 8e9,
 *   bitRate: 11e6,
 *   streams: [
 *     { ...base, index: 0, type: "video", codec: "h264", width: 1920, height: 1080 },
 *     { ...base, index: 1, type: "audio", codec: "ac3", language: "fre" },
 *     { ...base, index: 2, type: "audio", codec: "ac3", language: "eng" },
 *   ],
 * };
 * const encode = planTranscode(defaultPolicy(), film) as EncodePlan;
 * const merged = planTracksInEncode(defaultTrackPolicy(), film, encode);
 * assert.equal(merged.action, "labelled");
 * if (merged.action === "labelled") {
 *   assert.deepEqual(merged.plan.streams.map((s) => s.inputIndex), [0, 2, 1]);
 * }
 * ```
 */
export function planTracksInEncode(
  policy: TrackPolicy,
  media: MediaInfo,
  encode: EncodePlan,
): TracksInEncode {
  // The container is the transcode's: the track plan is made within it.
  const decision = planTracks({ ...policy, container: null }, outputView(media, encode));
  if (decision.action === "compliant") return { action: "unchanged" };
  if (decision.action === "refuse") return decision;
  const tracks = decision.plan;
  const byIndex = new Map(encode.streams.map((stream) => [stream.inputIndex, stream]));
  const kept: StreamPlan[] = tracks.tracks.map((track) => {
    const stream = byIndex.get(track.inputIndex)!;
    const flagged = stream.type === "video" || stream.type === "audio" ||
      stream.type === "subtitle";
    return flagged ? { ...stream, label: labelOf(track) } : stream;
  });
  const keptIndexes = new Set(kept.map((stream) => stream.inputIndex));
  // A track policy never drops video; whatever else it leaves out is dropped.
  const dropped = encode.streams
    .filter((stream) => !keptIndexes.has(stream.inputIndex))
    .map((stream): StreamPlan => stream.type === "video" ? stream : { ...stream, action: "drop" });
  const streams = [...kept, ...dropped];
  const count = (type: StreamPlan["type"]) => kept.filter((s) => s.type === type).length;
  return {
    action: "labelled",
    plan: {
      ...encode,
      streams,
      expectedStreams: {
        video: count("video"),
        audio: count("audio"),
        subtitle: count("subtitle"),
        attachment: count("attachment"),
        coverArt: count("cover"),
      },
      strict: needsStrict(encode.format, kept.flatMap((s) => s.type === "audio" ? [s.codec] : [])),
      notes: [...encode.notes, ...tracks.changes.map((change) => `tracks: ${change}`)],
    },
    tracks,
  };
}

/** What the transcode would write, as a probe of it would read: its streams, codecs, container. */
function outputView(media: MediaInfo, encode: EncodePlan): MediaInfo {
  const source = new Map(media.streams.map((stream) => [stream.index, stream]));
  const streams: StreamInfo[] = [];
  for (const plan of encode.streams) {
    if (plan.action === "drop") continue;
    const stream = source.get(plan.inputIndex)!;
    const codec = plan.type === "video"
      ? encode.video.codec
      : plan.type === "audio" || plan.type === "subtitle"
      ? plan.codec
      : stream.codec;
    streams.push({ ...stream, codec });
  }
  return {
    ...media,
    path: media.path.slice(0, media.path.length - extname(media.path).length) + encode.extension,
    formatName: encode.format === "mp4" ? "mov,mp4,m4a,3gp,3g2,mj2" : "matroska,webm",
    streams,
  };
}
