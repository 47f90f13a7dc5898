/**
 * Reading the state directories. Counting needs only names; ordering needs a few fields of each
 * queued job, which are cached by (mtime, size) so that repeated scans read only what changed.
 *
 * @module
 */
import { join } from "node:path";
import { CorruptJobFileError } from "../errors.ts";
import { type JobFileName, parseJobFileName } from "./layout.ts";
import { type Job, type JobRecord, type JobState, parseJob } from "./job.ts";
import { dirVersion, readOrderSnapshot, writeOrderSnapshot } from "./order_snapshot.ts";

/** A file in a state directory that is not a readable job. It is reported, never deleted. */
export interface Problem {
  /** Path of the file. */
  path: string;
  /** What is wrong, starting with the path. */
  message: string;
}

/** Names of the job files in one directory (no reads). A missing directory is empty. */
export function listJobNames(dir: string): JobFileName[] {
  const out: JobFileName[] = [];
  try {
    for (const entry of Deno.readDirSync(dir)) {
      if (!entry.isFile && !entry.isSymlink) continue;
      const parsed = parseJobFileName(entry.name);
      if (parsed) out.push(parsed);
    }
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  return out;
}

/** Reads one job file; a vanished file yields null, an unreadable one a {@link Problem}. */
export function readJobFile(
  path: string,
  name: JobFileName,
  state: JobState,
): Job | Problem | null {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return null;
    return { path, message: `${path}: ${(err as Error).message}` };
  }
  try {
    const record = parseJob(text, path, name.id);
    return { ...record, state, path };
  } catch (err) {
    if (err instanceof CorruptJobFileError) return { path, message: err.message };
    throw err;
  }
}

/** True when a scan result is a problem rather than a job. */
export const isProblem = (x: Job | Problem): x is Problem => !("id" in x);

interface CacheEntry {
  mtimeMs: number;
  size: number;
  value: Job | Problem;
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Claim order: priority (lower first), then first in, first out, then id for a total order. */
export function compareClaimOrder(a: JobRecord, b: JobRecord): number {
  // Plain comparisons: ISO timestamps order as strings, and localeCompare is 10x slower.
  return a.priority - b.priority || cmp(a.created_at, b.created_at) || cmp(a.id, b.id);
}

/**
 * The queued jobs in claim order. Each refresh lists names; files are stat'ed again at most every
 * `restatMs` (and new names at once), and read again only when their mtime or size changed. So
 * a priority edited by hand is seen within `restatMs`, while a worker claiming many short jobs
 * does not stat the whole queue for every claim.
 */
export class QueuedIndex {
  #cache = new Map<string, CacheEntry>();
  #lastFullStat = -Infinity;
  /**
   * @param dir the queued/ directory
   * @param snapshotPath where {@link saveSnapshot} keeps the claim order for {@link head}
   * @param restatMs files are stat'ed again at most this often
   */
  constructor(readonly dir: string, readonly snapshotPath: string, readonly restatMs = 1000) {}

  /**
   * The first `limit` queued jobs in claim order from the order snapshot, each read in full and
   * checked against it; null when the snapshot cannot be trusted (the caller then scans).
   */
  head(limit: number): { jobs: Job[]; problems: Problem[] } | null {
    const version = dirVersion(this.dir);
    if (version === null) return null;
    const snapshot = readOrderSnapshot(this.snapshotPath, version, limit);
    if (!snapshot) return null;
    const jobs: Job[] = [];
    for (const entry of snapshot.entries) {
      const name = parseJobFileName(entry.name);
      const found = name ? readJobFile(join(this.dir, entry.name), name, "queued") : null;
      if (
        found === null || isProblem(found) || found.priority !== entry.priority ||
        found.created_at !== entry.createdAt
      ) return null;
      jobs.push(found);
    }
    return { jobs, problems: snapshot.problems };
  }

  /**
   * A full scan, every file stat'ed (a listing must be exact), that also saves the order
   * snapshot when queued/ did not change during it.
   */
  scanAndSnapshot(): { jobs: Job[]; problems: Problem[] } {
    const before = dirVersion(this.dir);
    const scan = this.refresh(true);
    if (before !== null && before === dirVersion(this.dir)) {
      try {
        writeOrderSnapshot(this.snapshotPath, before, scan.jobs, scan.problems);
      } catch {
        // Only a cache: a read-only queue still lists, just without the shortcut.
      }
    }
    return scan;
  }

  /** The queued jobs in claim order, and the files that are not readable jobs. */
  refresh(forceStat = false): { jobs: Job[]; problems: Problem[] } {
    const fullStat = forceStat || performance.now() - this.#lastFullStat >= this.restatMs;
    if (fullStat) this.#lastFullStat = performance.now();
    const seen = new Map<string, CacheEntry>();
    const jobs: Job[] = [];
    const problems: Problem[] = [];
    for (const name of listJobNames(this.dir)) {
      let entry = this.#cache.get(name.name);
      if (!entry || fullStat) {
        const path = join(this.dir, name.name);
        let info: Deno.FileInfo;
        try {
          info = Deno.statSync(path);
        } catch (err) {
          if (err instanceof Deno.errors.NotFound) continue;
          throw err;
        }
        const mtimeMs = info.mtime?.getTime() ?? 0;
        if (!entry || entry.mtimeMs !== mtimeMs || entry.size !== info.size) {
          const value = readJobFile(path, name, "queued");
          if (value === null) continue;
          entry = { mtimeMs, size: info.size, value };
        }
      }
      seen.set(name.name, entry);
      if (isProblem(entry.value)) problems.push(entry.value);
      else jobs.push(entry.value);
    }
    this.#cache = seen;
    jobs.sort(compareClaimOrder);
    return { jobs, problems };
  }

  /** Forgets a name, after this process moved the file away. */
  forget(name: string): void {
    this.#cache.delete(name);
  }
}
