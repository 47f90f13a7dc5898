/**
 * Segmented encoding at the ffmpeg level: where a source's video can be cut (its keyframes, read
 * with ffprobe), the command that encodes one segment, the concat list that joins the encoded
 * segments without re-encoding, and the checks that prove a segment holds exactly the frames it
 * should.
 *
 * How a segment is cut: ffmpeg seeks (`-ss`, before `-i`) to the keyframe the segment starts at,
 * decodes from there and keeps the frames whose timestamps lie in [start, end) (`-t`), with
 * `-copyts` and `-enc_time_base -1` so every frame keeps the source's own timestamp (VFR survives,
 * and no rounding to a frame-rate time base moves a frame). Each segment is encoded on its own, so
 * it starts with an IDR frame and references nothing outside itself: the segments join cleanly
 * whatever GOP structure the encoder uses inside a segment, and a source with open GOPs is decoded
 * correctly too (its leading pictures before a cut are timestamped before it and belong to the
 * previous segment, which decodes them from its own keyframes).
 *
 * @module
 */

import { createHash } from "node:crypto";
import { ProbeError } from "../errors.ts";
import { encoderKind } from "./encoders.ts";
import { fileArg, firstLine, runCaptured } from "./exec.ts";
import { DEFAULT_VAAPI_DEVICE } from "./encoders.ts";
import { videoStreamArgs } from "./ffmpeg_args.ts";
import type { EncodePlan, VideoStreamPlan } from "./plan.ts";

/** Timestamps of one video stream's packets, in its own time base. */
export interface PacketTimes {
  /** The stream's time base as [numerator, denominator]. */
  timeBase: [number, number];
  /** Presentation timestamps of every packet, in presentation order. */
  pts: number[];
  /** Presentation timestamps of the keyframes, ascending. */
  keyframes: number[];
  /**
   * The file's start time in seconds (its earliest stream's): ffmpeg moves every input to start
   * at 0 by this much, so the joined video must be moved by its own start minus this.
   */
  fileStartSec: number;
}

/** One segment of a plan: frames with start <= pts < end (end null: to the end of the stream). */
export interface Segment {
  /** 0-based position. */
  index: number;
  /** First frame's pts (a keyframe), in the stream's time base. */
  start: number;
  /** The next segment's start; null for the last segment. */
  end: number | null;
  /** Frames the segment must hold. */
  frames: number;
  /** Seconds of media (the last segment's ends at the last frame's timestamp). */
  mediaSec: number;
}

/** Options of {@link readPacketTimes}. */
export interface PacketTimesOptions {
  /** ffprobe binary; default "ffprobe". */
  ffprobe?: string;
  /** Aborts the probe. */
  signal?: AbortSignal;
}

/**
 * Reads the timestamps and keyframe flags of every packet of stream `index` of `path` (a packet
 * scan: no decoding, seconds even for a film). Returns null when some packet has no timestamp, so
 * the stream cannot be cut by timestamps.
 *
 * @throws ProbeError when ffprobe fails.
 */
export async function readPacketTimes(
  path: string,
  index: number,
  opts: PacketTimesOptions = {},
): Promise<PacketTimes | null> {
  const run = await runCaptured(opts.ffprobe ?? "ffprobe", [
    ...["-v", "error", "-select_streams", `${index}`],
    ...[
      "-show_entries",
      "stream=time_base:format=start_time:packet=pts,flags",
      "-of",
      "csv=p=0",
      fileArg(path),
    ],
  ], opts.signal);
  if (run.code !== 0) {
    throw new ProbeError(`${path}: ${firstLine(run.stderr) || `ffprobe exited ${run.code}`}`);
  }
  const pts: number[] = [];
  const keyframes: number[] = [];
  let timeBase: [number, number] | null = null;
  let fileStartSec = 0;
  for (const line of run.stdout.split("\n")) {
    const fields = line.trim().split(",");
    if (fields[0] === "") continue;
    if (fields.length === 1) {
      // The stream's time base ("1/1000"), or the format's start time ("0.000000", "N/A").
      const tb = /^(\d+)\/(\d+)$/.exec(fields[0]);
      if (tb) timeBase = [Number(tb[1]), Number(tb[2])];
      else if (Number.isFinite(Number(fields[0]))) fileStartSec = Number(fields[0]);
      continue;
    }
    const value = Number(fields[0]);
    if (fields[0] === "N/A" || !Number.isSafeInteger(value)) return null;
    pts.push(value);
    if ((fields[1] ?? "").startsWith("K")) keyframes.push(value);
  }
  if (timeBase === null || timeBase[0] <= 0 || timeBase[1] <= 0 || pts.length === 0) return null;
  pts.sort((a, b) => a - b);
  keyframes.sort((a, b) => a - b);
  return { timeBase, pts, keyframes, fileStartSec };
}

/**
 * Cuts the stream into segments of about `targetSec` seconds, each starting at a keyframe: the
 * cut is the first keyframe at or after each multiple of `targetSec`. A cut before the first
 * displayed frame or closer than half a segment to the end is not made.
 */
export function planSegments(times: PacketTimes, targetSec: number): Segment[] {
  const { pts, keyframes } = times;
  const sec = (t: number) => toSeconds(times, t);
  // Compared in the stream's own ticks: 10.023 - 0.023 must be 10 s, not 9.999999.
  const target = targetSec * times.timeBase[1] / times.timeBase[0];
  const first = pts[0];
  const last = pts[pts.length - 1];
  const starts = [first];
  for (const key of keyframes) {
    const prev = starts[starts.length - 1];
    if (key - prev >= target && last - key >= target / 2) starts.push(key);
  }
  const segments: Segment[] = [];
  let i = 0;
  for (const [index, start] of starts.entries()) {
    const end = starts[index + 1] ?? null;
    let frames = 0;
    while (i < pts.length && (end === null || pts[i] < end)) {
      frames++;
      i++;
    }
    segments.push({ index, start, end, frames, mediaSec: sec(end ?? last) - sec(start) });
  }
  return segments;
}

/** Seconds of `pts` in the stream's time base. */
export function toSeconds(times: { timeBase: [number, number] }, pts: number): number {
  return pts * times.timeBase[0] / times.timeBase[1];
}

/**
 * A timestamp as ffmpeg's time options read it, rounded down to its microsecond: ffmpeg keeps
 * frames at or after the start and before the end, so rounding both bounds the same way keeps
 * the frame at a cut in exactly one segment (frames are far more than 1 µs apart).
 */
export function ffmpegTime(times: { timeBase: [number, number] }, pts: number): string {
  const [num, den] = times.timeBase;
  const micros = (BigInt(pts) * BigInt(num) * 1_000_000n) / BigInt(den);
  const negative = micros < 0n;
  const abs = negative ? -micros : micros;
  const text = `${abs / 1_000_000n}.${String(abs % 1_000_000n).padStart(6, "0")}`;
  return negative ? `-${text}` : text;
}

/** The one video stream a segmented encode cuts, or null when the plan has none or several. */
export function segmentableVideo(plan: EncodePlan): VideoStreamPlan | null {
  const videos = plan.streams.filter((s): s is VideoStreamPlan => s.type === "video");
  return videos.length === 1 ? videos[0] : null;
}

/** Options of {@link segmentEncodeArgs}. */
export interface SegmentArgsOptions {
  /** Cap threads at this many cores; null for no cap. */
  cpuCores: number | null;
  /** VAAPI render node for *_vaapi encoders. */
  vaapiDevice?: string;
}

/**
 * ffmpeg arguments that encode segment `seg` of the plan's video stream of `source` to `output`
 * (Matroska, video only, the source's timestamps), with exactly the one-pass encode's settings.
 */
export function segmentEncodeArgs(
  plan: EncodePlan,
  times: { timeBase: [number, number] },
  seg: Segment,
  source: string,
  output: string,
  opts: SegmentArgsOptions,
): string[] {
  const video = segmentableVideo(plan);
  if (video === null) throw new Error("segmented encoding needs exactly one video stream");
  const cores = opts.cpuCores;
  const kind = encoderKind(plan.video.encoder);
  const args = ["-nostdin", "-hide_banner", "-y"];
  if (cores !== null) args.push("-threads", `${cores}`, "-filter_threads", `${cores}`);
  if (kind === "vaapi") args.push("-vaapi_device", opts.vaapiDevice ?? DEFAULT_VAAPI_DEVICE);
  args.push("-copyts", "-ss", ffmpegTime(times, seg.start));
  if (seg.end !== null) {
    args.push("-t", ffmpegTime(times, seg.end - seg.start));
  }
  args.push("-i", fileArg(source), "-map", `0:${video.inputIndex}`);
  args.push(...videoStreamArgs(plan, video, 0, cores));
  // The encoder keeps the demuxer's time base: no frame is moved to a frame-rate grid.
  args.push("-enc_time_base:v:0", "-1", "-map_metadata", "-1", "-map_chapters", "-1");
  if (cores !== null) args.push("-threads", `${cores}`);
  args.push("-max_muxing_queue_size", "9999");
  args.push("-progress", "pipe:1", "-nostats", "-f", "matroska", fileArg(output));
  return args;
}

/** What a finished segment file holds, from one ffprobe run. */
export interface SegmentProbe {
  /** Video packets (each one frame). */
  frames: number;
  /** Codec name of the video stream. */
  codec: string;
  /**
   * SHA-256 of the stream's parameter sets (the codec headers a decoder needs); segments joined
   * must all have the same. HEVC's informational SEI (x265 writes its options there, thread
   * counts included) is left out, so runs with different `--cpu-cores` still join.
   */
  extradata: string;
}

/**
 * Counts the frames of an encoded segment and reads its codec headers' checksum.
 *
 * @throws ProbeError when the file cannot be probed.
 */
export async function probeSegment(
  path: string,
  opts: PacketTimesOptions = {},
): Promise<SegmentProbe> {
  const run = await runCaptured(opts.ffprobe ?? "ffprobe", [
    ...["-v", "error", "-select_streams", "v:0", "-count_packets", "-show_data"],
    ...["-show_entries", "stream=codec_name,nb_read_packets,extradata", "-of", "json"],
    fileArg(path),
  ], opts.signal);
  if (run.code !== 0) {
    throw new ProbeError(`${path}: ${firstLine(run.stderr) || `ffprobe exited ${run.code}`}`);
  }
  const stream = (JSON.parse(run.stdout).streams ?? [])[0];
  if (!stream) throw new ProbeError(`${path}: no video stream`);
  const codec = String(stream.codec_name ?? "unknown");
  const bytes = hexDumpBytes(String(stream.extradata ?? ""));
  const headers = codec === "hevc" ? hevcParameterSets(bytes) : bytes;
  return {
    frames: Number(stream.nb_read_packets ?? 0),
    codec,
    extradata: createHash("sha256").update(headers).digest("hex"),
  };
}

/** The bytes of ffprobe's `-show_data` hex dump ("00000000: 0142 c00c ...  .B.."). */
function hexDumpBytes(dump: string): Uint8Array {
  const hex = dump.split("\n")
    .map((line) => /^[0-9a-f]{8}: (.{39})/.exec(line)?.[1].replaceAll(" ", "") ?? "")
    .join("");
  return Uint8Array.from(hex.match(/../g) ?? [], (byte) => parseInt(byte, 16));
}

/** HEVC NAL unit types of the video, sequence and picture parameter sets. */
const HEVC_PARAMETER_SETS = new Set([32, 33, 34]);

/**
 * The VPS, SPS and PPS of an hvcC record, each preceded by its length; the whole record when it
 * is not one (Annex B extradata, or damaged).
 */
function hevcParameterSets(hvcc: Uint8Array): Uint8Array {
  if (hvcc.length < 23 || hvcc[0] !== 1) return hvcc;
  const kept: number[] = [];
  let at = 23;
  for (let array = 0; array < hvcc[22]; array++) {
    if (at + 3 > hvcc.length) return hvcc;
    const type = hvcc[at] & 0x3f;
    const count = (hvcc[at + 1] << 8) | hvcc[at + 2];
    at += 3;
    for (let n = 0; n < count; n++) {
      if (at + 2 > hvcc.length) return hvcc;
      const length = (hvcc[at] << 8) | hvcc[at + 1];
      const end = at + 2 + length;
      if (end > hvcc.length) return hvcc;
      if (HEVC_PARAMETER_SETS.has(type)) kept.push(...hvcc.subarray(at, end));
      at = end;
    }
  }
  return Uint8Array.from(kept);
}

/**
 * An ffconcat list joining `files` in order. Every file but the last gets its exact `duration`
 * (its segment's length to the next cut), so the concat demuxer places each segment's first
 * frame at the source's own timestamp instead of guessing a last frame's duration.
 */
export function concatList(
  times: { timeBase: [number, number] },
  segments: readonly Segment[],
  files: readonly string[],
): string {
  const lines = ["ffconcat version 1.0"];
  for (const [i, seg] of segments.entries()) {
    lines.push(`file '${files[i].replaceAll("'", `'\\''`)}'`);
    if (seg.end !== null) lines.push(`duration ${ffmpegTime(times, seg.end - seg.start)}`);
  }
  return lines.join("\n") + "\n";
}
