/**
 * Proof that an output is good before it may replace its source: it probes, it is as long as the
 * source (by its header and by its last packets), it holds the planned streams of each kind, in
 * the target codec, size and bit depth, and the source's chapters.
 *
 * @module
 */

import { ProbeError } from "../errors.ts";
import { fileArg, firstLine, runCaptured } from "./exec.ts";
import type { EncodePlan, ExpectedStreams } from "./plan.ts";
import { probe } from "./probe.ts";
import type { MediaInfo } from "./probe.ts";

/** Verdict on an output: its probe when good, else one line saying what is wrong. */
export type VerifyResult = { ok: true; info: MediaInfo } | { ok: false; reason: string };

/** Options of {@link verifyOutput} and {@link decodeCheck}. */
export interface VerifyOptions {
  /** ffprobe binary for verifyOutput; default "ffprobe". */
  ffprobe?: string;
  /** ffmpeg binary for decodeCheck; default "ffmpeg". */
  ffmpeg?: string;
  /** Aborts the check (kills the running ffprobe or ffmpeg). */
  signal?: AbortSignal;
}

/** Relative duration tolerance (Tdarr's default window is 99.5-100.5 %). */
const DURATION_TOLERANCE = 0.005;
/** Absolute floor of the tolerance, for short clips whose streams end a frame apart. */
const DURATION_FLOOR_SEC = 1;

/**
 * Checks `outputPath` against the plan that produced it from `source`.
 *
 * @throws FfmpegError only when ffprobe itself is missing; a bad output is a result, not an error.
 */
export async function verifyOutput(
  source: MediaInfo,
  outputPath: string,
  plan: EncodePlan,
  opts: VerifyOptions = {},
): Promise<VerifyResult> {
  const probed = await probeOutput(source, outputPath, opts);
  if (!probed.ok) return probed;
  const info = probed.info;
  const reason = durationProblem("duration", source.duration, info.duration) ??
    streamCountProblem(plan.expectedStreams, info) ?? videoProblem(plan, info) ??
    durationProblem("content", source.duration, info.contentEnd ?? 0) ??
    chapterProblem(source, info);
  return reason === null ? { ok: true, info } : { ok: false, reason };
}

/**
 * Probes an output made from `source`, with where its packets really end
 * ({@link MediaInfo.contentEnd}); an output ffprobe cannot read is a result, not an error.
 *
 * @throws FfmpegError only when ffprobe itself is missing.
 */
export async function probeOutput(
  source: MediaInfo,
  outputPath: string,
  opts: VerifyOptions = {},
): Promise<VerifyResult> {
  try {
    const info = await probe(outputPath, {
      ...opts,
      tailFromSec: source.duration - TAIL_WINDOW_SEC,
    });
    return { ok: true, info };
  } catch (error) {
    if (error instanceof ProbeError) {
      return { ok: false, reason: `output unreadable: ${error.message}` };
    }
    throw error;
  }
}

/**
 * How far before the source's end the packets are read, to find where the output's content
 * really ends (see {@link MediaInfo.contentEnd}); the seek falls back to the start on failure.
 */
const TAIL_WINDOW_SEC = 30;

/**
 * Why an output's length `actual` ("duration" from its header, "content" from its last packets)
 * is not the source's `expected`, or null when it is within max(0.5 %, 1 s).
 */
export function durationProblem(what: string, expected: number, actual: number): string | null {
  const tolerance = Math.max(expected * DURATION_TOLERANCE, DURATION_FLOOR_SEC);
  if (Math.abs(actual - expected) <= tolerance) return null;
  return `${what} ${actual.toFixed(2)} s differs from the source's ${expected.toFixed(2)} s ` +
    `by more than ${tolerance.toFixed(2)} s`;
}

/** How far an output's chapter may start from the source's: MP4 keeps chapter times in ms. */
const CHAPTER_TOLERANCE_SEC = 0.1;

/**
 * Why the chapters of `output` are not those of `source` (as many, starting at the same times,
 * with the same titles), or null. A source probed without its chapters is not checked.
 */
export function chapterProblem(source: MediaInfo, output: MediaInfo): string | null {
  const want = source.chapters;
  if (want === undefined) return null;
  const got = output.chapters ?? [];
  if (got.length !== want.length) {
    return `${got.length} chapters, the source has ${want.length}`;
  }
  for (const [i, chapter] of want.entries()) {
    const other = got[i];
    if (Math.abs(other.start - chapter.start) > CHAPTER_TOLERANCE_SEC) {
      return `chapter ${i + 1} starts at ${other.start.toFixed(3)} s, the source's at ` +
        `${chapter.start.toFixed(3)} s`;
    }
    if ((other.title ?? "") !== (chapter.title ?? "")) {
      return `chapter ${i + 1} is titled ${JSON.stringify(other.title ?? "")}, the source's ` +
        JSON.stringify(chapter.title ?? "");
    }
  }
  return null;
}

function streamCountProblem(expected: ExpectedStreams, info: MediaInfo): string | null {
  const actual: ExpectedStreams = { video: 0, audio: 0, subtitle: 0, attachment: 0, coverArt: 0 };
  for (const stream of info.streams) {
    if (stream.isCoverArt) actual.coverArt++;
    else if (stream.type !== "data") actual[stream.type]++;
  }
  const wrong = (Object.keys(expected) as (keyof ExpectedStreams)[])
    .filter((kind) => expected[kind] !== actual[kind])
    .map((kind) => `${actual[kind]} ${kind} (planned ${expected[kind]})`);
  return wrong.length === 0 ? null : `stream count: ${wrong.join(", ")}`;
}

function videoProblem(plan: EncodePlan, info: MediaInfo): string | null {
  const videos = info.streams.filter((stream) => stream.type === "video" && !stream.isCoverArt);
  const planned = plan.streams.filter((stream) => stream.type === "video");
  for (const [i, want] of planned.entries()) {
    const got = videos[i];
    const where = `video ${i}`;
    if (got.codec !== plan.video.codec) {
      return `${where} is ${got.codec}, planned ${plan.video.codec}`;
    }
    if (got.width !== want.width || got.height !== want.height) {
      return `${where} is ${got.width}x${got.height}, planned ${want.width}x${want.height}`;
    }
    const bits = want.pixFmt === "yuv420p10le" ? 10 : 8;
    if (got.bitDepth !== bits) return `${where} is ${got.bitDepth}-bit, planned ${bits}-bit`;
  }
  return null;
}

/** Verdict of {@link decodeCheck}. */
export type DecodeCheckResult = { ok: true } | { ok: false; reason: string };

/**
 * Decodes every video and audio stream of `path` completely. Any message at ffmpeg's error level
 * fails the check, not only a non-zero exit: damaged streams are often decoded on with concealment
 * and exit 0. Slow (a full decode) but catches damage a probe cannot see.
 *
 * @throws FfmpegError when ffmpeg is missing.
 */
export async function decodeCheck(
  path: string,
  opts: VerifyOptions = {},
): Promise<DecodeCheckResult> {
  const args = [
    ...["-nostdin", "-hide_banner", "-v", "error", "-xerror", "-i", fileArg(path)],
    ...["-map", "0:V?", "-map", "0:a?", "-f", "null", "-"],
  ];
  const run = await runCaptured(opts.ffmpeg ?? "ffmpeg", args, opts.signal);
  if (run.code === 0 && run.stderr.trim() === "") return { ok: true };
  return { ok: false, reason: `decode error: ${firstLine(run.stderr) || `exit ${run.code}`}` };
}
