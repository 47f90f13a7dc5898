/**
 * Samples of a source: where they are taken, how they are cut, and how one is encoded at a CRF.
 *
 * As ab-av1 does: samples of `sample_seconds`, one per `sample_every` seconds of media (at least
 * one), evenly spaced with equal gaps before, between and after them; when they would cover 85 %
 * of the file or more, the whole video is the one sample. A sample is cut losslessly (stream
 * copy of the video alone into Matroska, from the keyframe at or before its start, so it decodes
 * on its own) into a temp vpo made ({@link QualityTemps}); each candidate CRF encodes that cut
 * with exactly the settings of the real encode (`videoStreamArgs`: encoder, preset, scaling,
 * pixel format, colour, codec parameters) and is scored against it.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { FfmpegError } from "../errors.ts";
import { DEFAULT_VAAPI_DEVICE, encoderKind } from "../media/encoders.ts";
import { fileArg, runCaptured } from "../media/exec.ts";
import { probe } from "../media/probe.ts";
import { videoStreamArgs } from "../media/ffmpeg_args.ts";
import type { EncodePlan, VideoStreamPlan } from "../media/plan.ts";
import type { ProgressUpdate } from "../media/progress.ts";
import type { QualityMetric, TargetQuality } from "../policy/types.ts";
import type { OwnedFile } from "../util/owned_file.ts";
import type { QualityTemps } from "./temps.ts";
import { runStep, type SampleRun } from "./ffmpeg_step.ts";

export type { SampleRun } from "./ffmpeg_step.ts";

/** Where a sample is taken, in seconds of the source (nominal: the cut starts at a keyframe). */
export interface SampleSpan {
  start: number;
  seconds: number;
}

/** The samples of a file: a few spans, or the whole video as one. */
export interface SamplePlan {
  whole: boolean;
  spans: SampleSpan[];
}

/** Samples covering this share of a file or more: the whole file is encoded instead. */
const WHOLE_FILE_SHARE = 0.85;

/**
 * Where the samples of a file of `durationSec` are taken.
 *
 * @example Three 20 s samples of a 30-minute episode, the gaps between them equal
 * ```ts
 * import assert from "node:assert/strict";
 * const plan = planSamples(1800, { sampleSeconds: 20, sampleEvery: 720 });
 * assert.deepEqual(plan.spans.map((s) => s.start), [435, 890, 1345]);
 * assert.equal(planSamples(23, { sampleSeconds: 20, sampleEvery: 720 }).whole, true);
 * ```
 */
export function planSamples(
  durationSec: number,
  target: Pick<TargetQuality, "sampleSeconds" | "sampleEvery">,
): SamplePlan {
  const count = Math.max(1, Math.ceil(durationSec / target.sampleEvery));
  const seconds = target.sampleSeconds;
  if (count * seconds >= durationSec * WHOLE_FILE_SHARE) {
    return { whole: true, spans: [{ start: 0, seconds: durationSec }] };
  }
  const gap = (durationSec - count * seconds) / (count + 1);
  const spans = Array.from({ length: count }, (_, i) => ({
    start: Math.round((gap * (i + 1) + seconds * i) * 1000) / 1000,
    seconds,
  }));
  return { whole: false, spans };
}

/** A sample's name in the memory: its nominal start and length, or `whole`. */
export function sampleKey(plan: SamplePlan, span: SampleSpan): string {
  return plan.whole ? "whole" : `${span.start.toFixed(3)}+${span.seconds.toFixed(3)}`;
}

/** The video stream the plan encodes (the first; a plan always has one). */
export function encodedVideo(plan: EncodePlan): VideoStreamPlan {
  return plan.streams.find((s): s is VideoStreamPlan => s.type === "video")!;
}

/** A lossless cut of the source's video, as a temp. */
export interface CutSample {
  file: OwnedFile;
  bytes: number;
  /** Seconds of media it holds (from its keyframe to its end). */
  mediaSec: number;
}

/**
 * Cuts `span` of the plan's video stream of `source` without re-encoding.
 *
 * @throws FfmpegError when ffmpeg fails or the cut holds nothing; the signal's reason when stopped.
 */
export async function cutSample(
  source: string,
  plan: EncodePlan,
  samples: SamplePlan,
  span: SampleSpan,
  name: string,
  temps: QualityTemps,
  run: SampleRun,
): Promise<CutSample> {
  const video = encodedVideo(plan).inputIndex;
  const start = samples.whole
    ? null
    : await keyframeFrom(source, video, span, run.signal) ?? span.start;
  const file = await temps.create(`${name}.mkv`);
  try {
    // A hair past the keyframe: the seek lands on the keyframe at or before it, this one.
    const seek = start === null ? [] : ["-ss", (start + 0.0005).toFixed(4)];
    const length = start === null ? [] : ["-t", span.seconds.toFixed(3)];
    await runStep(run, `cutting the sample at ${span.start.toFixed(1)} s`, [
      ...["-nostdin", "-hide_banner", "-y", ...seek, "-i", fileArg(source), ...length],
      ...["-map", `0:${video}`, "-c", "copy", "-an", "-sn", "-dn"],
      ...["-map_metadata", "-1", "-map_chapters", "-1", "-avoid_negative_ts", "make_zero"],
      ...["-progress", "pipe:1", "-nostats", "-f", "matroska", file.pathForChild],
    ]);
    const bytes = file.stat().size;
    // ffmpeg may "succeed" in copying nothing (a seek past the last keyframe).
    if (bytes <= 1024) {
      throw new FfmpegError(`the sample at ${span.start.toFixed(1)} s holds no video`);
    }
    const cut = await probe(file.pathForChild, { signal: run.signal });
    return { file, bytes, mediaSec: cut.duration > 0 ? cut.duration : span.seconds };
  } catch (err) {
    await temps.remove(file);
    throw err;
  }
}

/**
 * Where a sample's cut starts, in seconds from the source's start: the first keyframe of its
 * video stream at or after the sample's place (found by reading that stretch's packets, not the
 * whole file), so that each sample holds its `seconds` and no more. Null when the stretch has no
 * keyframe: the cut then starts at the one before its place, where ffmpeg's seek lands.
 */
async function keyframeFrom(
  source: string,
  stream: number,
  span: SampleSpan,
  signal: AbortSignal,
): Promise<number | null> {
  const run = await runCaptured("ffprobe", [
    ...["-v", "error", "-select_streams", `${stream}`],
    // The end as a time, not `%+seconds`: ffprobe counts that from where its seek lands, the
    // keyframe before the place, and so saw no keyframe of the stretch when keyframes are further
    // apart than a sample is long (the cut then held everything from the one before).
    ...["-read_intervals", `${span.start.toFixed(3)}%${(span.start + span.seconds).toFixed(3)}`],
    ...["-show_entries", "format=start_time:packet=pts_time,flags", "-of", "csv=p=0"],
    fileArg(source),
  ], signal);
  if (run.code !== 0) return null;
  let fileStart = 0;
  const keyframes: number[] = [];
  for (const line of run.stdout.split("\n")) {
    const [time, flags] = line.trim().split(",");
    const sec = Number(time);
    if (time === "" || !Number.isFinite(sec)) continue;
    // The format's start time is the one line without flags.
    if (flags === undefined) fileStart = sec;
    else if (flags.startsWith("K")) keyframes.push(sec);
  }
  const after = keyframes.filter((k) => k >= span.start + fileStart - 0.001);
  const first = after.length ? Math.min(...after) : null;
  return first === null ? null : Math.max(0, first - fileStart);
}

/** The plan at `crf`, writing Matroska (a sample's container whatever the output's). */
function planAt(plan: EncodePlan, crf: number): EncodePlan {
  return { ...plan, format: "matroska", video: { ...plan.video, crf, bitrate: null } };
}

/**
 * ffmpeg arguments encoding the cut sample `input` at `crf` into `output` with the settings of
 * the real encode (its first video stream's), keeping every frame's timestamp.
 */
export function sampleEncodeArgs(
  plan: EncodePlan,
  crf: number,
  input: string,
  output: string,
  cores: number | null,
): string[] {
  const threads = cores === null ? [] : ["-threads", `${cores}`];
  const vaapi = encoderKind(plan.video.encoder) === "vaapi"
    ? ["-vaapi_device", DEFAULT_VAAPI_DEVICE]
    : [];
  return [
    ...["-nostdin", "-hide_banner", "-y", ...threads, ...vaapi, "-i", fileArg(input)],
    ...["-map", "0:v:0", ...videoStreamArgs(planAt(plan, crf), encodedVideo(plan), 0, cores)],
    ...["-fps_mode:v:0", "passthrough", "-an", "-sn", "-dn", "-map_metadata", "-1"],
    ...[...threads, "-max_muxing_queue_size", "9999", "-progress", "pipe:1", "-nostats"],
    ...["-f", "matroska", output],
  ];
}

/** Version of how samples are cut, encoded and scored: a change makes old scores useless. */
const SAMPLE_FORMAT = 1;

/**
 * What decides a sample's score besides its CRF, as 16 hex digits: the encoder settings (without
 * thread caps, which change nothing worth a new encode) and the metric.
 */
export function settingsKey(plan: EncodePlan, metric: QualityMetric): string {
  // The CRF is left out: each score is kept with its own.
  const args = videoStreamArgs(planAt(plan, 0), encodedVideo(plan), 0, null);
  const text = JSON.stringify({ v: SAMPLE_FORMAT, args, metric });
  return createHash("sha256").update(text).digest("hex").slice(0, 16);
}

/** Encodes one cut sample at `crf`; returns the encoded temp and the encode's wall seconds. */
export async function encodeSample(
  plan: EncodePlan,
  crf: number,
  cut: CutSample,
  name: string,
  temps: QualityTemps,
  run: SampleRun,
  onProgress?: (u: ProgressUpdate) => void,
): Promise<{ file: OwnedFile; wallSec: number }> {
  const file = await temps.create(`${name}-crf${crf}.mkv`);
  try {
    const started = performance.now();
    await runStep(
      run,
      `encoding a sample at crf ${crf}`,
      sampleEncodeArgs(plan, crf, cut.file.pathForChild, file.pathForChild, run.cpuCores),
      { durationSec: cut.mediaSec, onProgress },
    );
    return { file, wallSec: (performance.now() - started) / 1000 };
  } catch (err) {
    await temps.remove(file);
    throw err;
  }
}
