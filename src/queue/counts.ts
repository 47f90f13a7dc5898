/**
 * Per-state job counts for `vpo jobs status`, from names alone, with the files in the queue's
 * directories that are not regular files (reported, never read). A directory of many jobs costs
 * a listing of every name (about 0.2-0.3 s for 100,000 here, twice the CLI's own start), so what
 * its listing told (the count, and the names that are not regular files) is also kept in
 * `.cache/counts.json` with the directory's mtime, and reused while the mtime is unchanged: any
 * create, rename or remove of a name in the directory changes it.
 *
 * A directory's survey is kept only when the directory had been still for `QUIET_MS` when it was
 * listed, so that no later change can fall in the same mtime tick (file systems store 1 ns to 2 s
 * ticks, Deno reports ms): every later change then has a later mtime. The clock is the file
 * system's own (a probe file's mtime), as for heartbeats. Edits inside a job file change no name
 * and no count.
 *
 * @module
 */
import { dirname } from "node:path";
import { readRegularFileSync, replaceFileSync } from "../util/safe_open.ts";
import { type JobState, STATES } from "./job.ts";
import type { QueueLayout } from "./layout.ts";
import {
  dirMtime,
  irregularNames,
  irregularProblems,
  type Problem,
  surveyDir,
  wasStill,
} from "./scan.ts";

/** Per-state job counts. */
export type JobCounts = Record<JobState, number>;

/** What `vpo jobs status` shows: the counts, and the files it reports. */
export interface QueueSurvey {
  /** Jobs in each state. */
  counts: JobCounts;
  /** Files in the state directories, live/ and requests/ that are not regular files. */
  irregular: Problem[];
}

/** Directories with fewer jobs are listed every time: cheap, and nothing is written. */
const MIN_CACHED = 1000;

interface KeptSurvey {
  mtime_ms: number;
  count: number;
  irregular: string[];
}

type SurveyCache = Partial<Record<JobState, KeptSurvey>>;

function readCache(path: string): SurveyCache {
  try {
    // A cache others may write: never waited on (a FIFO) or followed (a link).
    const data = JSON.parse(readRegularFileSync(path, 64 * 1024));
    return data && typeof data === "object" ? data : {};
  } catch {
    return {};
  }
}

/** True when a cache entry is whole (one written by an older vpo lacks `irregular`). */
function usable(kept: KeptSurvey | undefined, mtime: number | null): kept is KeptSurvey {
  return mtime !== null && kept?.mtime_ms === mtime && Number.isInteger(kept.count) &&
    Array.isArray(kept.irregular) && kept.irregular.every((n) => typeof n === "string");
}

/**
 * The number of jobs in each state (a job named twice by the protocol counts once), and the files
 * in the queue's directories that are not regular files (a link, a FIFO: never read, see
 * `irregularFiles` in scan.ts), as `vpo jobs status` reports them. A large directory that has not
 * changed since it was last surveyed is not listed again. Reads only: a queue not made yet is
 * empty.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { QueueLayout } from "./layout.ts";
 * const root = await Deno.makeTempDir();
 * const { counts, irregular } = surveyQueue(new QueueLayout(root));
 * assert.equal(counts.queued, 0);
 * assert.deepEqual(irregular, []);
 * await Deno.remove(root, { recursive: true });
 * ```
 */
export function surveyQueue(layout: QueueLayout): QueueSurvey {
  const cache = readCache(layout.countsCachePath);
  let changed = false;
  const counts = {} as JobCounts;
  const irregular: Problem[] = [];
  for (const state of STATES) {
    const dir = layout.stateDir(state);
    const listedAt = performance.now();
    const mtime = dirMtime(dir);
    let survey = cache[state];
    if (!usable(survey, mtime)) {
      survey = { mtime_ms: mtime ?? 0, ...surveyDir(dir) };
      if (cache[state]) {
        delete cache[state];
        changed = true;
      }
      // A read-only queue has no clock to read: counted, not kept.
      if (
        mtime !== null && survey.count >= MIN_CACHED && wasStill(mtime, listedAt, layout.tmpDir)
      ) {
        cache[state] = survey;
        changed = true;
      }
    }
    counts[state] = survey.count;
    irregular.push(...irregularProblems(dir, survey.irregular));
  }
  // Small: a beat and a live file per running job, a request per cancel being delivered.
  for (const dir of [layout.liveDir, layout.requestsDir]) {
    irregular.push(...irregularProblems(dir, irregularNames(dir)));
  }
  if (changed) writeCache(layout.countsCachePath, cache);
  return { counts, irregular };
}

/** Atomic (never read half-written), not fsynced: a lost cache is only a slower status. */
function writeCache(path: string, cache: SurveyCache): void {
  try {
    Deno.mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    replaceFileSync(path, JSON.stringify(cache) + "\n", { durable: false });
  } catch {
    // Read-only: the next status counts again.
  }
}
