/**
 * Bitrates and sizes as people write them (`5M`, `192k`, `1.5GiB`).
 * Parsers throw a plain Error with a short reason; callers prefix it with where the value came
 * from (a file position or a flag).
 *
 * @module
 */

// Bitrates follow ffmpeg: k, M and G are powers of 1000. The unit letter is case-insensitive
// ("5m" can only mean 5 Mbit/s here) and may be followed by "bps" or "b/s", in lower case only,
// because "MB/s" would be bytes.
const BITRATE_RE = /^(\d+(?:\.\d+)?)\s*([kKmMgG]?)(?:bps|b\/s)?$/;
const BITRATE_FACTOR: Record<string, number> = { "": 1, k: 1e3, m: 1e6, g: 1e9 };

// Sizes: a trailing "i" (KiB, MiB, GiB) means powers of 1024, otherwise powers of 1000, as disk
// vendors and `ls --si` count; the final B is optional (500M = 500MB).
const SIZE_RE = /^(\d+(?:\.\d+)?)\s*([kmgtp]?)(i?)b?$/i;
const SIZE_POWER: Record<string, number> = { "": 0, k: 1, m: 2, g: 3, t: 4, p: 5 };

function positive(n: number, what: string, original: string): number {
  const rounded = Math.round(n);
  if (!Number.isFinite(n) || rounded < 1) {
    throw new Error(`${original} is not a ${what} (it must be greater than 0)`);
  }
  return rounded;
}

/**
 * Parses a bitrate (`5M`, `5000k`, `192k`, `1.5Mbps`, `800000`, or a plain number) into bits per
 * second, rounded to a whole number.
 */
export function parseBitrate(value: string | number): number {
  if (typeof value === "number") return positive(value, "bitrate", String(value));
  const m = BITRATE_RE.exec(value.trim());
  if (!m) throw new Error(`"${value}" is not a bitrate (write e.g. 5M, 5000k or 800000)`);
  return positive(Number(m[1]) * BITRATE_FACTOR[m[2].toLowerCase()], "bitrate", `"${value}"`);
}

/**
 * Parses a size (`200MB`, `1.5GiB`, `500M`, `1024`, or a plain number of bytes) into bytes,
 * rounded to a whole number. KiB/MiB/GiB/TiB are powers of 1024; K/M/G/T with or without B are
 * powers of 1000.
 */
export function parseSize(value: string | number): number {
  if (typeof value === "number") return positive(value, "size", String(value));
  const m = SIZE_RE.exec(value.trim());
  if (!m) throw new Error(`"${value}" is not a size (write e.g. 200MB, 1.5GiB or 1048576)`);
  const base = m[3] ? 1024 : 1000;
  return positive(Number(m[1]) * base ** SIZE_POWER[m[2].toLowerCase()], "size", `"${value}"`);
}
