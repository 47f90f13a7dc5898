/**
 * Readers of plain JSON read back from files someone may have edited (a job's payload and
 * result, a live file's progress, a cached probe), on the same {@link Field} as config.yaml's
 * keys, so that every problem reads `<where>.<key>: <problem>` alike. Keys a reader does not
 * name are kept as they are (a newer vpo may have written them).
 *
 * @module
 */
import { ConfigError } from "../errors.ts";
import { Field, type Reader } from "./yaml_schema.ts";

/** A string. */
export const text: Reader<string> = (field) =>
  typeof field.value === "string"
    ? field.value
    : field.fail(`expected a string, got ${JSON.stringify(field.value) ?? "nothing"}`);

/** A finite number >= 0 (sizes, durations, rates; 0 where ffprobe did not know one). */
export const amount: Reader<number> = (field) => {
  const v = field.value;
  return typeof v === "number" && Number.isFinite(v) && v >= 0
    ? v
    : field.fail(`expected a number >= 0, got ${JSON.stringify(v) ?? "nothing"}`);
};

/** A list whose every item `item` reads (items are reported as `<where>[i]`). */
export function jsonList<T>(item: Reader<T>): Reader<T[]> {
  return (field) => {
    if (!Array.isArray(field.value)) {
      return field.fail(`expected a list, got ${JSON.stringify(field.value) ?? "nothing"}`);
    }
    return field.value.map((v, i) => item(Field.flag(`${field.where}[${i}]`, v)));
  };
}

/** Reads the object at `field`, each key of `required` and, where present, of `optional`. */
export function jsonObject(
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

/**
 * What `read` makes of `value`, found at `where`, or its first problem as one line.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { Field } from "./yaml_schema.ts";
 * const size = (f: Field) => jsonObject(f, { bytes: amount });
 * assert.deepEqual(readJson(size, { bytes: 3 }, "result"), { bytes: 3 });
 * assert.equal(readJson(size, { bytes: -1 }, "result"), "result.bytes: expected a number >= 0, got -1");
 * ```
 */
export function readJson<T>(read: Reader<T>, value: unknown, where: string): T | string {
  try {
    return read(Field.flag(where, value));
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
}

/**
 * A job's `result` read by the reader of its `outcome` among `shapes` (one per outcome, each
 * checking everything a reader of that outcome may rely on), or the first problem as one line
 * (`result.backup_ino: expected an integer >= 0, got "x"`); null when there is none.
 */
export function readOutcome<T>(
  result: Record<string, unknown> | null,
  shapes: Record<string, Reader<Record<string, unknown>>>,
): T | string | null {
  if (result === null) return null;
  const outcome = result.outcome;
  if (typeof outcome !== "string" || !Object.hasOwn(shapes, outcome)) {
    return `result.outcome: expected one of ${Object.keys(shapes).join(", ")}, got ${
      JSON.stringify(outcome) ?? "nothing"
    }`;
  }
  const read = readJson(shapes[outcome], result, "result");
  return typeof read === "string" ? read : read as T;
}
