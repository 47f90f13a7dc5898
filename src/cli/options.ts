/** Parsers for option values; their messages become `vpo: option '--x <n>' argument ...`. */
import { InvalidArgumentError } from "@commander-js/extra-typings";

/** An integer >= min (and <= max, for flags that override a bounded config key). */
export function intAtLeast(min: number, max = Infinity): (value: string) => number {
  const expected = max < Infinity ? `from ${min} to ${max}` : `>= ${min}`;
  return (value: string) => {
    const n = Number(value);
    if (!/^\s*-?\d+\s*$/.test(value) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`expected a whole number ${expected}`);
    }
    return n;
  };
}

/** A number from 0 to max (fractions allowed). */
export function nonNegative(max: number): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (value.trim() === "" || !Number.isFinite(n) || n < 0 || n > max) {
      throw new InvalidArgumentError(`expected a number from 0 to ${max}`);
    }
    return n;
  };
}
