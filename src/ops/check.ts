/**
 * One line of `vpo doctor`: a verdict, what was found, and what to do about it.
 *
 * @module
 */

/** How a check came out: fine, worth a look, or something that stops vpo from working. */
export type Level = "ok" | "warn" | "FAIL";

/** The result of one check. */
export interface Check {
  level: Level;
  /** What was checked, short ("ffmpeg", "queue directory"). */
  name: string;
  /** What was found. */
  detail: string;
  /** What to do; absent when there is nothing to do. */
  fix?: string;
}

/** Builds a check result. */
export const check = (level: Level, name: string, detail: string, fix?: string): Check =>
  fix ? { level, name, detail, fix } : { level, name, detail };
