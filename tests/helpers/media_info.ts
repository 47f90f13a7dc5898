/**
 * Hand-built probe results for tests of the planner and the argument builder, which need no real
 * file: a plain 1080p h264 video stream and an MKV around it unless a test says otherwise.
 *
 * ```ts
 * const info = media([video({ width: 3840, height: 1600 }), stream(1, "audio", "dts")]);
 * ```
 *
 * @module
 */
import type { MediaInfo, StreamInfo } from "../../src/media/probe.ts";
import type { TranscodePolicy } from "../../src/policy/types.ts";

/** An 8-bit 1920x1080 h264 video stream at index 0; `overrides` replace any field. */
export function video(overrides: Partial<StreamInfo> = {}): StreamInfo {
  return {
    index: 0,
    type: "video",
    codec: "h264",
    width: 1920,
    height: 1080,
    pixFmt: "yuv420p",
    bitDepth: 8,
    isCoverArt: false,
    dolbyVision: false,
    ...overrides,
  };
}

/** A stream with only the fields every stream has; `extra` adds or replaces any. */
export function stream(
  index: number,
  type: StreamInfo["type"],
  codec: string,
  extra: Partial<StreamInfo> = {},
): StreamInfo {
  return { index, type, codec, isCoverArt: false, dolbyVision: false, ...extra };
}

/** A 90-minute, 8 GB Matroska file at /library/film.mkv holding `streams`. */
export function media(streams: StreamInfo[], overrides: Partial<MediaInfo> = {}): MediaInfo {
  return {
    path: "/library/film.mkv",
    formatName: "matroska,webm",
    duration: 5400,
    size: 8_000_000_000,
    bitRate: 11_000_000,
    streams,
    ...overrides,
  };
}

/** A fast hevc policy (ultrafast, crf 30, aac kept) for tests that encode or build arguments. */
export const TEST_POLICY: TranscodePolicy = {
  schemaVersion: 1,
  targetVideoCodec: "hevc",
  targetCrf: 30,
  targetBitrate: null,
  maxWidth: 1920,
  maxHeight: 1080,
  preset: "ultrafast",
  container: "keep",
  hwAccel: "none",
  audioPreserveCodecs: ["aac"],
  audioTranscodeTo: "aac",
  audioTranscodeBitrate: 96_000,
  skipIf: { codecIn: [], bitrateBelow: null, sizeBelow: null, dolbyVision: true },
  keepLargerOutput: false,
};
