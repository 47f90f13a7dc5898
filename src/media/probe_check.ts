/**
 * A probe read back from a file vpo does not hold the only copy of (a job's
 * `payload.source_probe`, a line of the library's probe cache), checked field by field before a
 * plan is made from it: the file may have been edited by hand, or damaged. Problems read
 * `<where>.<key>: <problem>`, like the rest of a job file's checks.
 *
 * @module
 */
import { boolean, choice, Field, integer, type Reader } from "../config/yaml_schema.ts";
import type { MediaInfo, StreamInfo, StreamType } from "./probe.ts";

const STREAM_TYPES: readonly StreamType[] = ["video", "audio", "subtitle", "attachment", "data"];

const text: Reader<string> = (field) =>
  typeof field.value === "string"
    ? field.value
    : field.fail(`expected a string, got ${JSON.stringify(field.value) ?? "nothing"}`);
const count = integer({ min: 0 });
/** A finite number >= 0 (durations and rates are 0 when ffprobe did not know them). */
const amount: Reader<number> = (field) => {
  const v = field.value;
  return typeof v === "number" && Number.isFinite(v) && v >= 0
    ? v
    : field.fail(`expected a number >= 0, got ${JSON.stringify(v) ?? "nothing"}`);
};
const xy: Reader<[number, number]> = (field) => {
  const v = field.value;
  if (!Array.isArray(v) || v.length !== 2 || !v.every((n) => typeof n === "number")) {
    return field.fail(`expected [x, y], got ${JSON.stringify(v)}`);
  }
  return v as [number, number];
};

/** Reads the object at `field`, each key of `required` and, where present, of `optional`. */
function object(
  field: Field,
  required: Record<string, Reader<unknown>>,
  optional: Record<string, Reader<unknown>> = {},
): Record<string, unknown> {
  const value = field.value;
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return field.fail(`expected an object, got ${JSON.stringify(value) ?? "nothing"}`);
  }
  const record = { ...value as Record<string, unknown> };
  const at = (key: string) => Field.flag(`${field.where}.${key}`, record[key]);
  for (const [key, read] of Object.entries(required)) record[key] = read(at(key));
  for (const [key, read] of Object.entries(optional)) {
    if (record[key] !== undefined) record[key] = read(at(key));
  }
  return record;
}

const stream: Reader<StreamInfo> = (field) =>
  object(field, {
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
      object(f, {
        red: xy,
        green: xy,
        blue: xy,
        whitePoint: xy,
        minLuminance: amount,
        maxLuminance: amount,
      }),
    contentLight: (f) => object(f, { maxCll: amount, maxFall: amount }),
    channels: count,
    language: text,
    title: text,
    isDefault: boolean(),
    isForced: boolean(),
    fileName: text,
    mimeType: text,
  }) as unknown as StreamInfo;

/**
 * `value` as a {@link MediaInfo}; throws a `ConfigError` naming the first key that is missing or
 * of the wrong kind. Its `path` is where the file was when probed: callers use the file's path.
 */
export function checkMediaInfo(value: unknown, where: string): MediaInfo {
  const record = object(Field.flag(where, value), {
    formatName: text,
    duration: amount,
    size: count,
    bitRate: amount,
    streams: (field) => {
      if (!Array.isArray(field.value)) {
        return field.fail(`expected a list, got ${JSON.stringify(field.value)}`);
      }
      return field.value.map((s, i) => stream(Field.flag(`${field.where}[${i}]`, s)));
    },
  }, { path: text, contentEnd: amount });
  return record as unknown as MediaInfo;
}
