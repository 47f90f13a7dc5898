/** Parsers for option values; their messages become `vpo: option '--x <n>' argument ...`. */
import { InvalidArgumentError } from "@commander-js/extra-typings";

/** An integer >= min. */
export function intAtLeast(min: number): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!/^\s*-?\d+\s*$/.test(value) || !Number.isSafeInteger(n) || n < min) {
      throw new InvalidArgumentError(`expected a whole number >= ${min}`);
    }
    return n;
  };
}

/** A non-negative number (fractions allowed). */
export function nonNegative(value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n < 0) {
    throw new InvalidArgumentError("expected a number >= 0");
  }
  return n;
}
