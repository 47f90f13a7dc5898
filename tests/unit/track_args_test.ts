import assert from "node:assert/strict";
import { buildFfmpegArgs } from "../../src/media/ffmpeg_args.ts";
import { type EncodePlan, planTranscode } from "../../src/media/plan.ts";
import type { StreamInfo } from "../../src/media/probe.ts";
import { defaultTrackPolicy } from "../../src/policy/track_policy.ts";
import { buildApplyArgs, coversToExtract } from "../../src/tracks/apply_args.ts";
import { planTracksInEncode } from "../../src/tracks/in_encode.ts";
import { planTracks, type TrackPlan } from "../../src/tracks/plan.ts";
import { media, stream, TEST_POLICY, video } from "../helpers/media_info.ts";

const flags = { isDefault: false, isForced: false };
const STREAMS: StreamInfo[] = [
  video({ codec: "hevc", ...flags }),
  stream(1, "audio", "truehd", { ...flags, language: "fre", isDefault: true }),
  stream(2, "audio", "ac3", { ...flags, language: "eng", title: "Main" }),
  stream(3, "subtitle", "subrip", { ...flags, language: "eng", isForced: true }),
  stream(4, "attachment", "ttf", { ...flags, fileName: "f.ttf" }),
  stream(5, "video", "png", { ...flags, isCoverArt: true, fileName: "c.png" }),
];

function plan(target: "mkv" | "mp4" | null): TrackPlan {
  const container = target && { target, onIncompatibleCodec: "transcode" as const };
  const decision = planTracks({ ...defaultTrackPolicy(), container }, media(STREAMS));
  assert.equal(decision.action, "apply");
  return (decision as { plan: TrackPlan }).plan;
}

Deno.test("apply args: Matroska, every track mapped in order with its flags, language and name", () => {
  const mkv = plan(null);
  assert.deepEqual(coversToExtract(mkv).map((c) => c.inputIndex), [5]);
  assert.deepEqual(buildApplyArgs(mkv, "/in/a.mkv", "/out/.a.mkv", { coverArtDir: "/c" }), [
    ...["-nostdin", "-hide_banner", "-y", "-i", "file:/in/a.mkv", "-attach", "file:/c/cover_5.png"],
    ...["-map", "0:0", "-map", "0:2", "-map", "0:1", "-map", "0:3", "-map", "0:4", "-c", "copy"],
    ...["-disposition:0", "+default-forced", "-metadata:s:0", "language=und"],
    ...[
      "-disposition:1",
      "+default-forced",
      "-metadata:s:1",
      "language=eng",
      "-metadata:s:1",
      "title=Main",
    ],
    ...["-disposition:2", "-default-forced", "-metadata:s:2", "language=fre"],
    ...["-disposition:3", "-default+forced", "-metadata:s:3", "language=eng"],
    ...["-metadata:s:t:1", "mimetype=image/png", "-metadata:s:t:1", "filename=c.png"],
    ...["-max_muxing_queue_size", "9999", "-default_mode", "passthrough"],
    ...["-progress", "pipe:1", "-nostats", "-f", "matroska", "file:/out/.a.mkv"],
  ]);
  assert.throws(() => buildApplyArgs(mkv, "/in/a.mkv", "/out/.a.mkv"), /coverArtDir/);
});

Deno.test("apply args: MP4, names as handler names, subtitles converted, hvc1, strict, faststart", () => {
  const mp4 = plan("mp4");
  assert.deepEqual(coversToExtract(mp4), []);
  assert.deepEqual(buildApplyArgs(mp4, "/in/a.mkv", "/out/.a.mp4"), [
    ...["-nostdin", "-hide_banner", "-y", "-i", "file:/in/a.mkv"],
    ...["-map", "0:0", "-map", "0:2", "-map", "0:1", "-map", "0:3", "-map", "0:5", "-c", "copy"],
    ...["-disposition:0", "+default-forced", "-metadata:s:0", "language=und", "-tag:0", "hvc1"],
    ...["-disposition:1", "+default-forced", "-metadata:s:1", "language=eng"],
    ...["-metadata:s:1", "handler_name=Main"],
    ...["-disposition:2", "-default-forced", "-metadata:s:2", "language=fre"],
    // MP4 cannot mark no subtitle default: the plan says what the muxer will write.
    ...["-c:3", "mov_text", "-disposition:3", "+default+forced", "-metadata:s:3", "language=eng"],
    ...["-disposition:4", "attached_pic"],
    ...["-max_muxing_queue_size", "9999", "-strict", "-2", "-movflags", "+faststart"],
    ...["-progress", "pipe:1", "-nostats", "-f", "mp4", "file:/out/.a.mp4"],
  ]);
});

Deno.test("transcode args take the track plan: its order, drops and labels, in one pass", () => {
  const film = media([
    video({ ...flags, isDefault: true }),
    stream(1, "audio", "ac3", { ...flags, language: "fre", isDefault: true }),
    stream(2, "audio", "aac", { ...flags, language: "eng", title: "Main" }),
    stream(3, "audio", "aac", { ...flags, language: "spa" }),
  ]);
  const encode = planTranscode(TEST_POLICY, film) as EncodePlan;
  const tracks = {
    ...defaultTrackPolicy(),
    audioFilter: { languages: ["eng", "fre"], minimum: 1, fallback: "error" as const },
  };
  const merged = planTracksInEncode(tracks, film, encode);
  assert.equal(merged.action, "labelled");
  const plan = (merged as { plan: EncodePlan }).plan;
  assert.deepEqual(plan.expectedStreams, {
    video: 1,
    audio: 2,
    subtitle: 0,
    attachment: 0,
    coverArt: 0,
  });
  const args = buildFfmpegArgs(plan, "/in/a.mkv", "/out/.a.mkv");
  const after = (option: string) => args[args.indexOf(option) + 1];
  assert.deepEqual(args.slice(args.indexOf("-i") + 2, args.indexOf("-c")), [
    ...["-map", "0:0", "-map", "0:2", "-map", "0:1"],
  ]);
  assert.equal(after("-c:v:0"), "libx265");
  // The fre track is not aac: transcoded, as the second audio track of the output.
  assert.equal(after("-c:a:1"), "aac");
  // Relative to the source's flags: a hearing_impaired or comment flag stays.
  assert.equal(after("-disposition:1"), "+default-forced");
  assert.equal(after("-disposition:2"), "-default-forced");
  assert.deepEqual(args.filter((a) => a.startsWith("title=") || a.startsWith("language=")), [
    "language=und",
    "language=eng",
    "title=Main",
    "language=fre",
  ]);
  assert.equal(after("-default_mode"), "passthrough");
  // Without a track policy the transcode maps the whole source, as before.
  assert.deepEqual(buildFfmpegArgs(encode, "/in/a.mkv", "/out/.a.mkv").slice(5, 7), [
    "-map",
    "0",
  ]);
});
