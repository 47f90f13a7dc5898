/**
 * The ffmpeg command line carrying out a plan. Every source stream is mapped (`-map 0`) and copied
 * unless the plan says otherwise; options aimed at one stream use its output ordinal (`-c:v:0`),
 * because ffmpeg 5.1 applies `-c:V` to cover pictures too.
 *
 * @module
 */

import { FfmpegError } from "../errors.ts";
import { coverArtFile, coversToReattach } from "./cover_art.ts";
import { audioEncoder, DEFAULT_VAAPI_DEVICE, encoderKind, hardwareFrames } from "./encoders.ts";
import type { EncoderKind } from "./encoders.ts";
import { fileArg } from "./exec.ts";
import type { OutputFormat } from "./containers.ts";
import type { AudioStreamPlan, EncodePlan, StreamLabel, VideoStreamPlan } from "./plan.ts";
import type { MasteringDisplay } from "./probe.ts";

/** Options of {@link buildFfmpegArgs}. */
export interface FfmpegArgsOptions {
  /** Cap decoder, filter and encoder threads at this many cores; null or absent: no cap. */
  cpuCores?: number | null;
  /** Directory holding covers extracted by extractCoverArt; required when the plan reattaches. */
  coverArtDir?: string;
  /** VAAPI render node for *_vaapi encoders; default /dev/dri/renderD128. */
  vaapiDevice?: string;
  /**
   * Segmented encoding (see segments.ts): the video track is already encoded in segments; it is
   * copied from this ffconcat list instead of encoded, shifted by `offsetSec` to the source's
   * timeline, and every other stream is handled as in a one-pass encode.
   */
  encodedVideo?: { concatList: string; offsetSec: number };
}

/**
 * Arguments (without the program name) that transcode `input` into `output` as `plan` says,
 * printing progress on stdout (`-progress pipe:1`).
 *
 * @throws FfmpegError when the plan reattaches cover art and no coverArtDir is given.
 */
export function buildFfmpegArgs(
  plan: EncodePlan,
  input: string,
  output: string,
  opts: FfmpegArgsOptions = {},
): string[] {
  const cores = opts.cpuCores ?? null;
  const kind = encoderKind(plan.video.encoder);
  const covers = coversToReattach(plan);
  if (covers.length > 0 && opts.coverArtDir === undefined) {
    throw new FfmpegError("the plan reattaches cover art: extract it and pass coverArtDir");
  }
  const args = ["-nostdin", "-hide_banner", "-y"];
  if (cores !== null) args.push("-threads", `${cores}`, "-filter_threads", `${cores}`);
  if (kind === "vaapi") args.push("-vaapi_device", opts.vaapiDevice ?? DEFAULT_VAAPI_DEVICE);
  args.push("-i", fileArg(input));
  const joined = opts.encodedVideo;
  if (joined) {
    // The list names its segments by plain relative names: concat's safe mode holds.
    args.push("-itsoffset", joined.offsetSec.toFixed(6), "-f", "concat");
    args.push("-i", fileArg(joined.concatList));
  }
  for (const cover of covers) args.push("-attach", fileArg(coverArtFile(opts.coverArtDir!, cover)));
  const mapped = plan.streams.filter((s) => s.action !== "drop" && s.action !== "reattach");
  const labelled = mapped.some((s) => "label" in s && s.label !== undefined);
  if (joined || labelled) {
    // Stream by stream: a joined video takes its place among the source's streams, and a track
    // policy's order is the plan's. A joined file's stream tags (language, title) come from the
    // source's streams: one explicit stream -map_metadata turns ffmpeg's automatic copy off for
    // all of them.
    mapped.forEach((stream, out) => {
      args.push("-map", joined && stream.type === "video" ? "1:v:0" : `0:${stream.inputIndex}`);
      if (joined) args.push(`-map_metadata:s:${out}`, `0:s:${stream.inputIndex}`);
    });
  } else {
    args.push("-map", "0");
    for (const stream of plan.streams) {
      if (stream.action === "drop" || stream.action === "reattach") {
        args.push("-map", `-0:${stream.inputIndex}`);
      }
    }
  }
  args.push("-c", "copy");

  const ordinals = { v: 0, a: 0, s: 0, t: 0 };
  for (const [out, stream] of mapped.entries()) {
    switch (stream.type) {
      case "video":
        // A joined video is copied: only its container tag is set, as an encode would.
        if (joined) args.push(...tagArgs(plan, `-tag:v:${ordinals.v++}`));
        else args.push(...videoArgs(plan, stream, ordinals.v++, kind, cores));
        break;
      case "cover":
        ordinals.v++;
        break;
      case "audio":
        args.push(...audioArgs(stream, ordinals.a++));
        break;
      case "subtitle":
        if (stream.action === "convert") {
          args.push(`-c:s:${ordinals.s}`, stream.codec === "subrip" ? "srt" : stream.codec);
        }
        ordinals.s++;
        break;
      case "attachment":
        ordinals.t++;
        break;
    }
    if ("label" in stream && stream.label) args.push(...labelArgs(plan.format, out, stream.label));
  }
  // -attach streams come after every mapped stream, so they follow the copied attachments.
  for (const cover of covers) {
    const spec = `-metadata:s:t:${ordinals.t++}`;
    args.push(spec, `mimetype=${cover.mimeType}`, spec, `filename=${cover.fileName}`);
  }

  if (cores !== null) args.push("-threads", `${cores}`);
  args.push("-max_muxing_queue_size", "9999");
  if (plan.strict) args.push("-strict", "-2");
  // Matroska: each labelled track's default flag exactly as given, none inferred.
  if (labelled && plan.format === "matroska") args.push("-default_mode", "passthrough");
  if (plan.format === "mp4") args.push("-movflags", "+faststart");
  args.push("-progress", "pipe:1", "-nostats", "-f", plan.format, fileArg(output));
  return args;
}

/**
 * The options that mark output stream `out` as `label` says: default and forced flags (nothing
 * left to the muxer's inference), language and name. The flags are set or cleared relative to
 * the source stream's, so that its others (hearing_impaired, comment, ...) stay: a bare
 * `-disposition default` would clear them. MP4 keeps a track's name as its handler name:
 * ffmpeg's mp4 muxer drops a title tag.
 */
export function labelArgs(format: OutputFormat, out: number, label: StreamLabel): string[] {
  const sign = (set: boolean) => (set ? "+" : "-");
  const args = [`-disposition:${out}`, `${sign(label.default)}default${sign(label.forced)}forced`];
  args.push(`-metadata:s:${out}`, `language=${label.language}`);
  if (label.title !== undefined) {
    args.push(
      `-metadata:s:${out}`,
      `${format === "mp4" ? "handler_name" : "title"}=${label.title}`,
    );
  }
  return args;
}

/** Presets hardware encoders accept; others (x265 names, SVT numbers) are left out for them. */
const HARDWARE_PRESETS: Partial<Record<EncoderKind, ReadonlySet<string>>> = {
  qsv: new Set(["veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow"]),
  nvenc: new Set(["p1", "p2", "p3", "p4", "p5", "p6", "p7", "fast", "medium", "slow"]),
};

/**
 * The encoder options of one video stream (output ordinal `ordinal`): encoder, filters, pixel
 * format, rate control, preset, colour and codec-specific parameters. Shared by the one-pass
 * encode and the segment encodes, which must use the very same settings.
 */
export function videoStreamArgs(
  plan: EncodePlan,
  stream: VideoStreamPlan,
  ordinal: number,
  cores: number | null,
): string[] {
  return videoArgs(plan, stream, ordinal, encoderKind(plan.video.encoder), cores);
}

function videoArgs(
  plan: EncodePlan,
  stream: VideoStreamPlan,
  ordinal: number,
  kind: EncoderKind,
  cores: number | null,
): string[] {
  const { encoder, crf, bitrate, preset } = plan.video;
  const spec = (option: string) => `-${option}:v:${ordinal}`;
  const tenBit = stream.pixFmt === "yuv420p10le";
  const frames = hardwareFrames(kind, tenBit);
  const filters = [
    ...(stream.scale ? [`scale=${stream.width}:${stream.height}`] : []),
    ...(frames.filter ? [frames.filter] : []),
  ];
  const args = [spec("c"), encoder];
  if (filters.length > 0) args.push(spec("filter"), filters.join(","));
  if (kind !== "vaapi") args.push(spec("pix_fmt"), frames.pixFmt ?? stream.pixFmt);
  args.push(...rateControl(encoder, kind, crf, bitrate, spec));

  if (preset !== null) {
    if (encoder === "libvpx-vp9") args.push("-deadline", "good", spec("cpu-used"), preset);
    else if (kind === "software" || HARDWARE_PRESETS[kind]?.has(preset)) {
      args.push(spec("preset"), preset);
    }
  }
  const colour = {
    color_primaries: stream.colorPrimaries,
    color_trc: stream.colorTransfer,
    colorspace: stream.colorSpace,
  };
  for (const [option, value] of Object.entries(colour)) {
    if (value !== undefined) args.push(spec(option), value);
  }
  args.push(...tagArgs(plan, spec("tag")));

  if (encoder === "libx265") {
    const params = [...x265ThreadParams(cores), ...x265HdrParams(stream)];
    if (params.length > 0) args.push(spec("x265-params"), params.join(":"));
  } else if (encoder === "libsvtav1" && cores !== null) {
    args.push(spec("svtav1-params"), `lp=${cores}`);
  } else if (encoder === "libvpx-vp9") {
    args.push(spec("row-mt"), "1");
  }
  return args;
}

/** HEVC in MP4 is tagged hvc1, which Apple's players require (ffmpeg's default is hev1). */
function tagArgs(plan: EncodePlan, option: string): string[] {
  return plan.format === "mp4" && plan.video.codec === "hevc" ? [option, "hvc1"] : [];
}

function rateControl(
  encoder: string,
  kind: EncoderKind,
  crf: number | null,
  bitrate: number | null,
  spec: (option: string) => string,
): string[] {
  if (crf === null) return bitrate === null ? [] : [spec("b"), `${bitrate}`];
  switch (kind) {
    case "vaapi":
      return [spec("rc_mode"), "CQP", spec("qp"), `${crf}`];
    case "qsv":
      return [spec("global_quality"), `${crf}`];
    case "nvenc":
      return [spec("rc"), "vbr", spec("cq"), `${crf}`, spec("b"), "0"];
    case "software":
      // libvpx treats -crf as a cap on a bitrate target unless the bitrate is 0.
      return encoder === "libvpx-vp9"
        ? [spec("crf"), `${crf}`, spec("b"), "0"]
        : [spec("crf"), `${crf}`];
  }
}

/**
 * libx265 ignores -threads for its worker pool, which by default spans every core and, measured,
 * re-pins its threads to all CPUs of the NUMA node even under taskset: only pools=N caps it.
 * Frame threads beyond the pool mostly add waiting, so they stay at about half of it.
 */
function x265ThreadParams(cores: number | null): string[] {
  if (cores === null) return [];
  const frameThreads = Math.max(1, Math.min(4, Math.floor(cores / 2)));
  return [`pools=${cores}`, `frame-threads=${frameThreads}`];
}

/** ffmpeg 5.1's libx265 wrapper drops HDR10 static metadata unless it is given as x265 params. */
function x265HdrParams(stream: VideoStreamPlan): string[] {
  if (stream.masteringDisplay === undefined && stream.contentLight === undefined) return [];
  const params = ["hdr10=1"];
  if (stream.masteringDisplay) {
    params.push(`master-display=${masterDisplay(stream.masteringDisplay)}`);
  }
  if (stream.contentLight) {
    params.push(`max-cll=${stream.contentLight.maxCll},${stream.contentLight.maxFall}`);
  }
  return params;
}

/** x265's G(x,y)B(x,y)R(x,y)WP(x,y)L(max,min): chromaticity in 1/50000, luminance in 1/10000. */
function masterDisplay(display: MasteringDisplay): string {
  const point = ([x, y]: [number, number]) => `(${Math.round(x * 50000)},${Math.round(y * 50000)})`;
  const luminance = `L(${Math.round(display.maxLuminance * 10000)},${
    Math.round(display.minLuminance * 10000)
  })`;
  return `G${point(display.green)}B${point(display.blue)}R${point(display.red)}` +
    `WP${point(display.whitePoint)}${luminance}`;
}

/** Layouts libopus takes; others (notably 5.1(side) from AC-3 and DTS) make it fail to open. */
const OPUS_LAYOUTS = "mono|stereo|3.0|quad|5.0|5.1|6.1|7.1";

function audioArgs(stream: AudioStreamPlan, ordinal: number): string[] {
  if (stream.action === "copy") return [];
  const encoder = audioEncoder(stream.codec);
  const args = [`-c:a:${ordinal}`, encoder];
  if (stream.bitrate !== null) args.push(`-b:a:${ordinal}`, `${stream.bitrate}`);
  if (encoder === "libopus") {
    args.push(`-filter:a:${ordinal}`, `aformat=channel_layouts=${OPUS_LAYOUTS}`);
  }
  return args;
}

/** Characters that need no quoting in a POSIX shell word. */
const SHELL_SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/**
 * A copy-pasteable POSIX shell rendering of a command, for dry runs and logs: words with other
 * characters are single-quoted, embedded single quotes written as '\''.
 */
export function shellQuote(args: readonly string[]): string {
  return args
    .map((arg) => SHELL_SAFE.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`)
    .join(" ");
}
