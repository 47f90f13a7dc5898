/**
 * Checks of JSON read back from a file someone may have edited (a job's result, a live file's
 * progress): each {@link Check} either returns the value with its type or throws a
 * {@link ShapeError} naming the dotted path of the first value that does not fit. Keys a shape
 * does not name are kept as they are (a newer vpo may have written them).
 *
 * @module
 */

/** A value that does not have the shape asked for: `<path>: <problem>`. */
class ShapeError extends Error {}

/** Checks `value` (found at `path`) and returns it typed, or throws a {@link ShapeError}. */
export type Check<T> = (value: unknown, path: string) => T;

const fail = (path: string, problem: string, value: unknown): never => {
  const got = value === undefined ? "nothing" : JSON.stringify(value)?.slice(0, 40);
  throw new ShapeError(`${path}: expected ${problem}, got ${got}`);
};

/** A string. */
export const text: Check<string> = (v, path) =>
  typeof v === "string" ? v : fail(path, "a string", v);

/** A finite number. */
export const finite: Check<number> = (v, path) =>
  typeof v === "number" && Number.isFinite(v) ? v : fail(path, "a number", v);

/** A whole number >= 0 (a size in bytes, an inode, a count). */
export const count: Check<number> = (v, path) =>
  Number.isSafeInteger(v) && (v as number) >= 0 ? v as number : fail(path, "an integer >= 0", v);

/** Exactly `literal`. */
export function exactly<T extends string>(literal: T): Check<T> {
  return (v, path) => v === literal ? literal : fail(path, JSON.stringify(literal), v);
}

/** `null`, or what `check` accepts. */
export function nullable<T>(check: Check<T>): Check<T | null> {
  return (v, path) => v === null ? null : check(v, path);
}

/** Absent, or what `check` accepts. */
export function optional<T>(check: Check<T>): Check<T | undefined> {
  return (v, path) => v === undefined ? undefined : check(v, path);
}

/** An array whose every item `check` accepts. */
export function arrayOf<T>(check: Check<T>): Check<T[]> {
  return (v, path) =>
    Array.isArray(v) ? v.map((item, i) => check(item, `${path}[${i}]`)) : fail(path, "a list", v);
}

/** The type a table of checks describes. */
export type Shaped<S extends Record<string, Check<unknown>>> = { [K in keyof S]: ReturnType<S[K]> };

/** An object whose keys `spec` names each pass their check (other keys are kept). */
export function object<S extends Record<string, Check<unknown>>>(spec: S): Check<Shaped<S>> {
  return (v, path) => {
    if (typeof v !== "object" || v === null || Array.isArray(v)) fail(path, "an object", v);
    const record = v as Record<string, unknown>;
    for (const [key, check] of Object.entries(spec)) check(record[key], `${path}.${key}`);
    return record as Shaped<S>;
  };
}

/**
 * `value` checked by `check`, or the first problem as one line.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const size = object({ bytes: count });
 * assert.deepEqual(readShape(size, { bytes: 3 }, "result"), { bytes: 3 });
 * assert.equal(readShape(size, { bytes: -1 }, "result"), "result.bytes: expected an integer >= 0, got -1");
 * ```
 */
export function readShape<T>(check: Check<T>, value: unknown, path: string): T | string {
  try {
    return check(value, path);
  } catch (err) {
    if (err instanceof ShapeError) return err.message;
    throw err;
  }
}
