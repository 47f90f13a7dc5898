/**
 * What a media file contains, read with ffprobe: container, duration, size and every stream with
 * the details planning and verification need (codec, size, bit depth, colour, Dolby Vision, cover
 * art, rotation).
 *
 * @module
 */

import { resolve } from "node:path";
import { ProbeError } from "../errors.ts";
import { fileArg, firstLine, runCaptured } from "./exec.ts";

/** Kind of a stream; ffprobe's "unknown" streams are reported as "data". */
export type StreamType = "video" | "audio" | "subtitle" | "attachment" | "data";

/** HDR10 mastering display colour volume: chromaticities as CIE xy, luminance in cd/m². */
export interface MasteringDisplay {
  /** Red primary, CIE [x, y]. */
  red: [number, number];
  /** Green primary, CIE [x, y]. */
  green: [number, number];
  /** Blue primary, CIE [x, y]. */
  blue: [number, number];
  /** White point, CIE [x, y]. */
  whitePoint: [number, number];
  /** Minimum display luminance, cd/m². */
  minLuminance: number;
  /** Maximum display luminance, cd/m². */
  maxLuminance: number;
}

/** HDR10 content light level, in cd/m². */
export interface ContentLight {
  /** MaxCLL: brightest pixel of the content, cd/m². */
  maxCll: number;
  /** MaxFALL: highest frame-average light level, cd/m². */
  maxFall: number;
}

/** One stream of a probed file. */
export interface StreamInfo {
  /** Index of the stream in the file (ffmpeg's `0:N`). */
  index: number;
  /** Kind of stream. */
  type: StreamType;
  /** ffprobe codec_name ("unknown" when ffprobe has none, e.g. some attachments). */
  codec: string;
  /** Frame width in pixels (video and pictures); absent when ffprobe reports none. */
  width?: number;
  /** Frame height in pixels (video and pictures); absent when ffprobe reports none. */
  height?: number;
  /** ffprobe pix_fmt (e.g. "yuv420p10le"); absent when ffprobe reports none. */
  pixFmt?: string;
  /** Bits per colour sample of a video stream (8, 10, 12). */
  bitDepth?: number;
  /** A still picture attached as cover art (disposition attached_pic), not a video track. */
  isCoverArt: boolean;
  /** ffprobe color_primaries (e.g. "bt2020"); absent when unknown. */
  colorPrimaries?: string;
  /** ffprobe color_transfer (e.g. "smpte2084" for PQ); absent when unknown. */
  colorTransfer?: string;
  /** ffprobe color_space, the matrix coefficients (e.g. "bt2020nc"); absent when unknown. */
  colorSpace?: string;
  /** Dolby Vision configuration record present, or a dvh1/dvhe-style codec tag. */
  dolbyVision: boolean;
  /** Display rotation from the display matrix, normalised to 0, 90, 180 or 270 degrees. */
  rotation?: number;
  /** HDR10 mastering display metadata, when the stream carries it. */
  masteringDisplay?: MasteringDisplay;
  /** HDR10 content light level metadata, when the stream carries it. */
  contentLight?: ContentLight;
  /** Audio channel count. */
  channels?: number;
  /** The stream's language tag as written (usually ISO 639-2, e.g. "eng"). */
  language?: string;
  /**
   * The track's name: its title tag, or in MP4 its handler name unless that is a muxer's
   * generic one ("SoundHandler"); absent when it has none.
   */
  title?: string;
  /**
   * The default flag (disposition default; in MP4 the track's enabled flag). Always set by
   * {@link probe}; absent only in probes recorded before vpo read dispositions.
   */
  isDefault?: boolean;
  /** The forced flag (disposition forced); set and absent like {@link isDefault}. */
  isForced?: boolean;
  /**
   * The other disposition flags set, by ffprobe's names ("hearing_impaired", "comment", ...): what
   * the track is for. Absent when none is set (and in probes recorded before vpo read them).
   */
  flags?: string[];
  /** File name of an attachment or Matroska cover picture. */
  fileName?: string;
  /** MIME type of an attachment or Matroska cover picture. */
  mimeType?: string;
}

/** One chapter of a file. */
export interface Chapter {
  /** Start, in seconds. */
  start: number;
  /** Its title; absent when it has none. */
  title?: string;
}

/** A probed media file. */
export interface MediaInfo {
  /** Absolute path of the file. */
  path: string;
  /** ffprobe format_name, e.g. "matroska,webm" or "mov,mp4,m4a,3gp,3g2,mj2". */
  formatName: string;
  /** Seconds; format duration, else the longest stream; 0 when unknown. */
  duration: number;
  /** Bytes. */
  size: number;
  /** Overall bits per second; 0 when unknown. */
  bitRate: number;
  /** Every stream, in file order. */
  streams: StreamInfo[];
  /** The chapters in order; absent in probes recorded before vpo read them. */
  chapters?: Chapter[];
  /**
   * Where the packets really end, in seconds; only when probed with `tailFromSec`. A file cut
   * short after it was written keeps its duration in the header; its packets tell the truth.
   */
  contentEnd?: number;
}

/** Options of {@link probe}. */
export interface ProbeOptions {
  /** ffprobe binary; default "ffprobe" from PATH. */
  ffprobe?: string;
  /** Aborts the probe (kills ffprobe). */
  signal?: AbortSignal;
  /**
   * Also list the packets from this many seconds on (in the same ffprobe run: each start of
   * ffprobe costs a few hundred ms on a NAS) and report {@link MediaInfo.contentEnd}.
   */
  tailFromSec?: number;
}

/**
 * Probes one file with ffprobe.
 *
 * @throws ProbeError with a one-line reason when the file is not readable media.
 * @throws FfmpegError when ffprobe is not installed.
 */
export async function probe(path: string, opts: ProbeOptions = {}): Promise<MediaInfo> {
  const absolute = resolve(path);
  const args = ["-v", "error", "-print_format", "json"];
  args.push("-show_format", "-show_streams", "-show_chapters");
  if (opts.tailFromSec !== undefined) {
    args.push("-show_entries", "packet=pts_time,duration_time");
    args.push("-read_intervals", `${Math.max(0, opts.tailFromSec)}%`);
  }
  const packets = opts.tailFromSec !== undefined ? new PacketFold() : null;
  const run = await runCaptured(
    opts.ffprobe ?? "ffprobe",
    [...args, fileArg(absolute)],
    opts.signal,
    packets ? (line) => packets.keep(line) : undefined,
  );
  if (run.code !== 0) {
    throw new ProbeError(`${absolute}: ${probeFailure(run.stderr, absolute, run.code)}`);
  }
  const info = parseFfprobeJson(absolute, run.stdout);
  if (packets) info.contentEnd = packets.end;
  return info;
}

/**
 * Folds the packet list of ffprobe's (pretty-printed, one field a line) JSON into where the
 * packets end, as the lines stream by, so that a long file's hundreds of thousands of packets
 * are never held in memory. The packet lines are dropped; an empty `"packets": []` stays.
 */
class PacketFold {
  end = 0;
  #inside = false;
  /** Nesting inside the packet list: 1 within a packet, more within its side data. */
  #depth = 0;
  #pts = NaN;
  #length = NaN;

  /** Whether to keep `line` in the JSON text; packet fields are folded instead. */
  keep(line: string): boolean {
    const text = line.trim();
    if (!this.#inside) {
      if (text === '"packets": [') this.#inside = true;
      return true;
    }
    if (text.startsWith("}") || text.startsWith("]")) {
      if (this.#depth === 0) {
        this.#inside = false;
        return true;
      }
      if (--this.#depth === 0) this.#fold();
      return false;
    }
    if (text.endsWith("{") || text.endsWith("[")) {
      this.#depth++;
      return false;
    }
    const field = this.#depth === 1 &&
      /^"(pts_time|duration_time)": "?([^",]*)"?,?$/.exec(text);
    if (field && field[1] === "pts_time") this.#pts = Number(field[2]);
    else if (field) this.#length = Number(field[2]);
    return false;
  }

  #fold(): void {
    if (Number.isFinite(this.#pts)) {
      this.end = Math.max(this.end, this.#pts + (Number.isFinite(this.#length) ? this.#length : 0));
    }
    this.#pts = this.#length = NaN;
  }
}

/**
 * Builds a {@link MediaInfo} from ffprobe's `-print_format json -show_format -show_streams`
 * output. Exposed so that planning and tests can work from recorded probes.
 *
 * @throws ProbeError when the text is not such output or lists no streams.
 */
export function parseFfprobeJson(path: string, json: string): MediaInfo {
  let raw: RawProbe;
  try {
    raw = JSON.parse(json);
  } catch {
    throw new ProbeError(`${path}: ffprobe printed output that is not JSON`);
  }
  const rawStreams = raw.streams ?? [];
  if (rawStreams.length === 0) throw new ProbeError(`${path}: no streams found`);
  const format = raw.format ?? {};
  const streams = rawStreams.map(toStreamInfo);
  const duration = positive(format.duration) ??
    Math.max(0, ...rawStreams.map((stream) => streamDuration(stream) ?? 0));
  const size = positive(format.size) ?? 0;
  const bitRate = positive(format.bit_rate) ??
    (duration > 0 ? Math.round(size * 8 / duration) : 0);
  const info: MediaInfo = {
    path,
    formatName: format.format_name ?? "unknown",
    duration,
    size,
    bitRate,
    streams,
  };
  if (raw.chapters) info.chapters = raw.chapters.map(toChapter);
  if (raw.packets) {
    let end = 0;
    for (const packet of raw.packets) {
      const pts = Number(packet.pts_time);
      const length = Number(packet.duration_time);
      if (Number.isFinite(pts)) end = Math.max(end, pts + (Number.isFinite(length) ? length : 0));
    }
    info.contentEnd = end;
  }
  return info;
}

/**
 * Whether every stream of `media` carries its default and forced flags: probes recorded before
 * vpo read them (a library's probe cache, an older job) do not.
 */
export function hasDispositions(media: MediaInfo): boolean {
  return media.streams.every((s) => s.isDefault !== undefined && s.isForced !== undefined);
}

/** `media` when its streams carry their flags, else a new probe of its file. */
export function withDispositions(media: MediaInfo, opts: ProbeOptions = {}): Promise<MediaInfo> {
  return hasDispositions(media) ? Promise.resolve(media) : probe(media.path, opts);
}

/** Result of probing one file of {@link probeMany}: the info or the error, never both. */
export type ProbeOutcome =
  | { path: string; info: MediaInfo; error: null }
  | { path: string; info: null; error: Error };

/**
 * Probes many files, at most `concurrency` at a time, yielding outcomes in the order of `paths`.
 * A file that fails yields its error instead of ending the iteration.
 */
export async function* probeMany(
  paths: Iterable<string>,
  concurrency: number,
  opts: ProbeOptions = {},
): AsyncGenerator<ProbeOutcome> {
  const queue = [...paths];
  const window = Math.max(1, Math.floor(concurrency));
  const inFlight: Promise<ProbeOutcome>[] = [];
  let next = 0;
  const startNext = () => {
    const path = queue[next++];
    inFlight.push(
      probe(path, opts).then(
        (info): ProbeOutcome => ({ path, info, error: null }),
        (error): ProbeOutcome => ({
          path,
          info: null,
          error: error instanceof Error ? error : new Error(String(error)),
        }),
      ),
    );
  };
  while (next < queue.length && inFlight.length < window) startNext();
  while (inFlight.length > 0) {
    const outcome = await inFlight.shift()!;
    if (next < queue.length) startNext();
    yield outcome;
  }
}

interface RawSideData {
  side_data_type?: string;
  rotation?: number;
  [key: string]: unknown;
}

interface RawStream {
  index: number;
  codec_type?: string;
  codec_name?: string;
  codec_tag_string?: string;
  width?: number;
  height?: number;
  pix_fmt?: string;
  bits_per_raw_sample?: string;
  color_primaries?: string;
  color_transfer?: string;
  color_space?: string;
  channels?: number;
  duration?: string;
  disposition?: Record<string, number>;
  tags?: Record<string, string>;
  side_data_list?: RawSideData[];
}

interface RawProbe {
  format?: { format_name?: string; duration?: string; size?: string; bit_rate?: string };
  streams?: RawStream[];
  packets?: { pts_time?: string; duration_time?: string }[];
  chapters?: RawChapter[];
}

interface RawChapter {
  start_time?: string;
  tags?: Record<string, string>;
}

function toChapter(raw: RawChapter): Chapter {
  const chapter: Chapter = { start: Math.max(0, Number(raw.start_time) || 0) };
  const title = lowerKeys(raw.tags ?? {}).title;
  if (title) chapter.title = title;
  return chapter;
}

const STREAM_TYPES: ReadonlySet<string> = new Set(["video", "audio", "subtitle", "attachment"]);
/** Dispositions {@link StreamInfo} has fields of its own for. */
const OWN_FIELDS: ReadonlySet<string> = new Set(["default", "forced", "attached_pic"]);
const DOLBY_VISION_TAGS: ReadonlySet<string> = new Set(["dvh1", "dvhe", "dvav", "dva1", "dav1"]);

function toStreamInfo(raw: RawStream): StreamInfo {
  const type = (STREAM_TYPES.has(raw.codec_type ?? "") ? raw.codec_type : "data") as StreamType;
  const tags = lowerKeys(raw.tags ?? {});
  const sideData = raw.side_data_list ?? [];
  const info: StreamInfo = {
    index: raw.index,
    type,
    codec: raw.codec_name ?? "unknown",
    isCoverArt: raw.disposition?.attached_pic === 1,
    isDefault: raw.disposition?.default === 1,
    isForced: raw.disposition?.forced === 1,
    dolbyVision: sideData.some((side) => side.side_data_type === "DOVI configuration record") ||
      DOLBY_VISION_TAGS.has(raw.codec_tag_string ?? ""),
  };
  const flags = Object.entries(raw.disposition ?? {})
    .filter(([flag, set]) => set === 1 && !OWN_FIELDS.has(flag))
    .map(([flag]) => flag);
  if (flags.length > 0) info.flags = flags;
  if (raw.width) info.width = raw.width;
  if (raw.height) info.height = raw.height;
  if (raw.pix_fmt) {
    info.pixFmt = raw.pix_fmt;
    info.bitDepth = pixFmtBitDepth(raw.pix_fmt) ?? positive(raw.bits_per_raw_sample) ?? 8;
  }
  const colour = {
    colorPrimaries: raw.color_primaries,
    colorTransfer: raw.color_transfer,
    colorSpace: raw.color_space,
  };
  for (const [key, value] of Object.entries(colour)) {
    if (value && value !== "unknown" && value !== "reserved") {
      info[key as keyof typeof colour] = value;
    }
  }
  Object.assign(info, sideDataInfo(sideData));
  if (raw.channels) info.channels = raw.channels;
  if (tags.language) info.language = tags.language;
  const title = tags.title ?? trackName(tags.handler_name);
  if (title) info.title = title;
  if (tags.filename) info.fileName = tags.filename;
  if (tags.mimetype) info.mimeType = tags.mimetype;
  return info;
}

function sideDataInfo(
  sideData: RawSideData[],
): Pick<StreamInfo, "rotation" | "masteringDisplay" | "contentLight"> {
  const found: Pick<StreamInfo, "rotation" | "masteringDisplay" | "contentLight"> = {};
  for (const side of sideData) {
    if (side.side_data_type === "Display Matrix" && typeof side.rotation === "number") {
      found.rotation = ((Math.round(-side.rotation / 90) * 90) % 360 + 360) % 360;
    } else if (side.side_data_type === "Mastering display metadata") {
      const point = (name: string): [number, number] => [
        ratio(side[`${name}_x`]),
        ratio(side[`${name}_y`]),
      ];
      found.masteringDisplay = {
        red: point("red"),
        green: point("green"),
        blue: point("blue"),
        whitePoint: point("white_point"),
        minLuminance: ratio(side.min_luminance),
        maxLuminance: ratio(side.max_luminance),
      };
    } else if (side.side_data_type === "Content light level metadata") {
      found.contentLight = { maxCll: ratio(side.max_content), maxFall: ratio(side.max_average) };
    }
  }
  return found;
}

/**
 * An MP4 handler name that names the track ("Director's Commentary"), not the muxer's generic
 * one ("SoundHandler", "Core Media Audio", "GPAC ISO Video Handler"); MP4 keeps track names there.
 */
function trackName(handler: string | undefined): string | undefined {
  if (!handler || /handler\b|^core media |^iso media|^mainconcept/i.test(handler)) return undefined;
  return handler;
}

/** Bit depth encoded in a pixel format name (yuv420p10le, p010le, gray12le); null for 8-bit. */
function pixFmtBitDepth(pixFmt: string): number | null {
  const match = /(?:^|\D)0?(9|10|12|14|16)(?:le|be)$/.exec(pixFmt);
  return match ? Number(match[1]) : null;
}

/** ffprobe prints rationals as "34000/50000" and plain numbers as numbers or strings. */
function ratio(value: unknown): number {
  const [numerator, denominator = "1"] = String(value).split("/");
  const result = Number(numerator) / Number(denominator);
  return Number.isFinite(result) ? result : 0;
}

function streamDuration(stream: RawStream): number | null {
  const tagged = lowerKeys(stream.tags ?? {}).duration;
  return positive(stream.duration) ?? (tagged ? parseClock(tagged) : null);
}

/** Parses Matroska's "HH:MM:SS.nnnnnnnnn" DURATION tag. */
function parseClock(text: string): number | null {
  const match = /^(\d+):(\d{2}):(\d{2}(?:\.\d+)?)$/.exec(text.trim());
  if (!match) return null;
  return Number(match[1]) * 3600 + Number(match[2]) * 60 + Number(match[3]);
}

function positive(value: string | number | undefined): number | null {
  const number = Number(value);
  return value !== undefined && Number.isFinite(number) && number > 0 ? number : null;
}

/** Matroska writes tag names in upper case (DURATION, MIMETYPE), MP4 in lower case. */
function lowerKeys(tags: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(tags).map(([key, value]) => [key.toLowerCase(), value]));
}

/** One line saying why ffprobe failed, without the path it prefixes its messages with. */
function probeFailure(stderr: string, absolute: string, code: number): string {
  // ffprobe ends with "<path>: <reason>" (e.g. "Invalid data found when processing input"); the
  // demuxer's last "[matroska,webm @ 0x...] EBML header parsing failed" says more, so it is added.
  // The path itself may contain a newline: the prefix is searched in the whole text.
  let reason = "";
  for (const prefix of [`${fileArg(absolute)}: `, `${absolute}: `]) {
    const at = stderr.lastIndexOf(prefix);
    if (at >= 0) {
      reason = firstLine(stderr.slice(at + prefix.length));
      break;
    }
  }
  const lines = stderr.split(/\r?\n|\r/).map((l) => l.trim()).filter(Boolean);
  const demuxer = lines.filter((l) => /^\[[^\]]+ @ 0x[0-9a-f]+\] /.test(l)).at(-1)
    ?.replace(/^\[[^\]]+\] /, "");
  if (!reason) return demuxer ?? lines.at(-1) ?? `ffprobe exited with code ${code}`;
  return demuxer && demuxer !== reason ? `${reason} (${demuxer})` : reason;
}
