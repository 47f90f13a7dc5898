/**
 * When a worker must stop: the file count and the deadline from `--max-duration` and `--end-by`,
 * and whether a job fits before the deadline at this machine's measured speed.
 *
 * @module
 */

/** The limits of one worker run. */
export interface WorkerLimits {
  /** Stop once this many jobs have finished (completed or failed); null for no limit. */
  maxFiles: number | null;
  /** The earlier of start + max-duration and the next end-by time; null for none. */
  deadline: Date | null;
  /** What set the deadline, for messages ("--end-by 06:00"). */
  deadlineSource: string | null;
}

/** The next time the local clock shows `hhmm` ("06:00"), strictly after `now`. */
export function nextOccurrence(hhmm: string, now: Date): Date {
  const [h, m] = hhmm.split(":").map(Number);
  const at = new Date(now);
  at.setHours(h, m, 0, 0);
  if (at.getTime() <= now.getTime()) at.setDate(at.getDate() + 1);
  return at;
}

/**
 * Resolves the limits of a run starting at `now`: the deadline is the earlier of
 * `--max-duration` and the next `--end-by`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const now = new Date(2026, 10, 28, 22, 0);
 * const limits = resolveLimits({ maxFiles: null, maxDurationSec: 3600, endBy: "06:00" }, now);
 * assert.deepEqual(limits.deadline, new Date(2026, 10, 28, 23, 0));
 * assert.equal(limits.deadlineSource, "--max-duration 3600");
 * ```
 */
export function resolveLimits(
  options: { maxFiles: number | null; maxDurationSec: number | null; endBy: string | null },
  now: Date,
): WorkerLimits {
  const candidates: [Date, string][] = [];
  if (options.maxDurationSec !== null) {
    candidates.push([
      new Date(now.getTime() + options.maxDurationSec * 1000),
      `--max-duration ${options.maxDurationSec}`,
    ]);
  }
  if (options.endBy !== null) {
    candidates.push([nextOccurrence(options.endBy, now), `--end-by ${options.endBy}`]);
  }
  candidates.sort((a, b) => a[0].getTime() - b[0].getTime());
  return {
    maxFiles: options.maxFiles,
    deadline: candidates[0]?.[0] ?? null,
    deadlineSource: candidates[0]?.[1] ?? null,
  };
}
