/**
 * How vpo prints sizes, durations, times and counts: one place, so every command rounds alike.
 *
 * @module
 */

const BYTE_UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

/** Formats a byte count with binary units and one decimal: 1503238553 -> "1.4 GiB", 512 -> "512 B". */
export function formatBytes(n: number): string {
  const sign = n < 0 ? "-" : "";
  let value = Math.abs(n);
  let unit = 0;
  // Compare the rounded value, so that 1023.97 KiB prints as "1.0 MiB", not "1024.0 KiB".
  while (unit < BYTE_UNITS.length - 1 && Math.round(value * 10) / 10 >= 1024) {
    value /= 1024;
    unit++;
  }
  const digits = unit === 0 ? String(Math.round(value)) : value.toFixed(1);
  return `${sign}${digits} ${BYTE_UNITS[unit]}`;
}

/** "1h02m", "3m05s", "42s". */
export function formatDuration(sec: number): string {
  const s = Math.max(0, Math.round(sec));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  if (h) return `${h}h${String(m).padStart(2, "0")}m`;
  if (m) return `${m}m${String(r).padStart(2, "0")}s`;
  return `${r}s`;
}

const pad2 = (n: number) => String(n).padStart(2, "0");

/** "YYYY-MM-DD" of `date` in local time, as `vpo stats` names days. */
export function localDay(date: Date): string {
  return `${date.getFullYear()}-${pad2(date.getMonth() + 1)}-${pad2(date.getDate())}`;
}

/**
 * "YYYY-MM-DD HH:MM" in local time: how vpo shows a time to a person, everywhere (the CLI; the
 * page of `vpo serve` formats alike). Files and JSON for programs keep ISO 8601 in UTC.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const noon = new Date(2026, 10, 29, 12, 5, 59); // local time
 * assert.equal(localMinute(noon), "2026-11-29 12:05");
 * assert.equal(localMinute(noon.toISOString()), "2026-11-29 12:05");
 * ```
 */
export function localMinute(time: string | Date): string {
  const d = new Date(time);
  return `${localDay(d)} ${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
}

/**
 * "YYYY-MM-DD HH:MM:SS" in local time: the stamp of a log line, where events a second apart must
 * stay in order (`jobs start`'s event lines, each ffmpeg run in a job's log).
 */
export function localSecond(time: Date): string {
  return `${localMinute(time)}:${pad2(time.getSeconds())}`;
}

/** "1 job", "3 jobs". */
export const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? "" : "s"}`;
