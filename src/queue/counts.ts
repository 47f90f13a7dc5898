/**
 * Per-state job counts for `vpo jobs status`, from names alone. A directory of many jobs costs a
 * listing of every name (about 0.2-0.3 s for 100,000 here, twice the CLI's own start), so its
 * count is also kept in `.cache/counts.json` with the directory's mtime, and reused while the
 * mtime is unchanged: any create, rename or remove of a name in the directory changes it.
 *
 * A count is kept only when the directory had been still for `QUIET_MS` when it was listed,
 * so that no later change can fall in the same mtime tick (file systems store 1 ns to 2 s ticks,
 * Deno reports ms): every later change then has a later mtime. The clock is the file system's own
 * (a probe file's mtime), as for heartbeats. Edits inside a job file change no name and no count.
 *
 * @module
 */
import { dirname } from "node:path";
import { readRegularFileSync, replaceFileSync } from "../util/safe_open.ts";
import { type JobState, STATES } from "./job.ts";
import type { QueueLayout } from "./layout.ts";
import { countJobsIn, dirMtime, wasStill } from "./scan.ts";

/** Per-state job counts. */
export type JobCounts = Record<JobState, number>;

/** Directories with fewer jobs are listed every time: cheap, and nothing is written. */
const MIN_CACHED = 1000;

type CountsCache = Partial<Record<JobState, { mtime_ms: number; count: number }>>;

function readCache(path: string): CountsCache {
  try {
    // A cache others may write: never waited on (a FIFO) or followed (a link).
    const data = JSON.parse(readRegularFileSync(path, 64 * 1024));
    return data && typeof data === "object" ? data : {};
  } catch {
    return {};
  }
}

/** The number of jobs in each state (a job named twice by the protocol counts once). */
export function countJobs(layout: QueueLayout): JobCounts {
  const cache = readCache(layout.countsCachePath);
  let changed = false;
  const counts = {} as JobCounts;
  for (const state of STATES) {
    const dir = layout.stateDir(state);
    const listedAt = performance.now();
    const mtime = dirMtime(dir);
    const kept = cache[state];
    if (mtime !== null && kept?.mtime_ms === mtime && Number.isInteger(kept.count)) {
      counts[state] = kept.count;
      continue;
    }
    counts[state] = countJobsIn(dir);
    if (kept) {
      delete cache[state];
      changed = true;
    }
    if (mtime === null || counts[state] < MIN_CACHED) continue;
    // A read-only queue has no clock to read: counted, not kept.
    if (wasStill(mtime, listedAt, layout.tmpDir)) {
      cache[state] = { mtime_ms: mtime, count: counts[state] };
      changed = true;
    }
  }
  if (changed) writeCache(layout.countsCachePath, cache);
  return counts;
}

/** Atomic (never read half-written), not fsynced: a lost cache is only a slower status. */
function writeCache(path: string, cache: CountsCache): void {
  try {
    Deno.mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    replaceFileSync(path, JSON.stringify(cache) + "\n", { durable: false });
  } catch {
    // Read-only: the next status counts again.
  }
}
