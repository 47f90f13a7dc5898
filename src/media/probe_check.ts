/**
 * A probe read back from a file vpo does not hold the only copy of (a line of the library's probe
 * cache), checked field by field before a decision is made from it: the file may have been edited
 * by hand, or damaged. Problems read `<where>.<key>: <problem>`, like the rest of a job file's
 * checks. (A well-formed but false line costs at most a wasted job: the worker probes the source
 * itself before it encodes.)
 *
 * @module
 */
import { amount, jsonList, jsonObject, text } from "../config/json_fields.ts";
import { boolean, choice, Field, integer, type Reader } from "../config/yaml_schema.ts";
import type { MediaInfo, StreamInfo, StreamType } from "./probe.ts";

const STREAM_TYPES: readonly StreamType[] = ["video", "audio", "subtitle", "attachment", "data"];

const count = integer({ min: 0 });
const xy: Reader<[number, number]> = (field) => {
  const v = field.value;
  if (!Array.isArray(v) || v.length !== 2 || !v.every((n) => typeof n === "number")) {
    return field.fail(`expected [x, y], got ${JSON.stringify(v)}`);
  }
  return v as [number, number];
};

const stream: Reader<StreamInfo> = (field) =>
  jsonObject(field, {
    index: count,
    type: choice("a stream type", STREAM_TYPES),
    codec: text,
    isCoverArt: boolean(),
    dolbyVision: boolean(),
  }, {
    width: count,
    height: count,
    pixFmt: text,
    bitDepth: count,
    colorPrimaries: text,
    colorTransfer: text,
    colorSpace: text,
    rotation: integer(),
    masteringDisplay: (f) =>
      jsonObject(f, {
        red: xy,
        green: xy,
        blue: xy,
        whitePoint: xy,
        minLuminance: amount,
        maxLuminance: amount,
      }),
    contentLight: (f) => jsonObject(f, { maxCll: amount, maxFall: amount }),
    channels: count,
    language: text,
    title: text,
    isDefault: boolean(),
    isForced: boolean(),
    flags: jsonList(text),
    fileName: text,
    mimeType: text,
  }) as unknown as StreamInfo;

/**
 * `value` as a {@link MediaInfo}; throws a `ConfigError` naming the first key that is missing or
 * of the wrong kind. Its `path` is where the file was when probed: callers use the file's path.
 */
export function checkMediaInfo(value: unknown, where: string): MediaInfo {
  const record = jsonObject(Field.flag(where, value), {
    formatName: text,
    duration: amount,
    size: count,
    bitRate: amount,
    streams: jsonList(stream),
  }, {
    path: text,
    contentEnd: amount,
    chapters: jsonList((f) => jsonObject(f, { start: amount }, { title: text })),
  });
  return record as unknown as MediaInfo;
}
