/**
 * Job ids, claim tokens and the file name limit: how they are made, checked and shown.
 *
 * @module
 */

/** Lengths of a job id: 32 hex digits when vpo makes it, 8 to 64 accepted from a file. */
export const JOB_ID_MIN = 8;
/** See {@link JOB_ID_MIN}. */
export const JOB_ID_MAX = 64;

/**
 * How many characters at the start of `text` are lower-case hex digits. (A loop over character
 * codes: it runs for every name of a 100,000-job queue, where a regex and a slice cost more.)
 */
export function hexPrefixLength(text: string): number {
  let i = 0;
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) break; // [0-9a-f]
  }
  return i;
}

/** True when `length` hex digits make a job id. */
export const isJobIdLength = (length: number): boolean =>
  length >= JOB_ID_MIN && length <= JOB_ID_MAX;

/** True when `text` is a job id: lower-case hex, 8 to 64 digits. */
export const isJobId = (text: string): boolean =>
  isJobIdLength(text.length) && hexPrefixLength(text) === text.length;
/** What a user may type for a job: a unique prefix of at least 4 hex digits. */
export const JOB_ID_PREFIX_RE: RegExp = /^[0-9a-f]{4,64}$/;
/** A claim token as it appears in a file name (lower-case letters and digits). */
export const TOKEN_RE: RegExp = /^[0-9a-z]+$/;

/** Digits of an id shown to people: in tables, event lines and messages. */
const SHORT_ID_LENGTH = 8;

/** Longest file name (in bytes) of ext4, xfs, btrfs, ZFS and most other file systems. */
export const NAME_MAX = 255;

/** Random lower-case hex of `bytes` bytes. */
export function randomHex(bytes: number): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(bytes)))
    .map((b) => b.toString(16).padStart(2, "0"))
    .join("");
}

/** A new job id: 128 random bits, so ids never collide however many jobs are made. */
export const newJobId = (): string => randomHex(16);
/** A new claim token, unique among the claims of one job. */
export const newToken = (): string => randomHex(6);

/** The id as people see it: its first 8 digits (any unique prefix of 4+ finds the job). */
export const shortId = (id: string): string => id.slice(0, SHORT_ID_LENGTH);
