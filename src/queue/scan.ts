/**
 * Reading the state directories. Counting needs only names. The claim order of queued/ is in its
 * names, so its head is found by reading only the jobs shown; workers also read every queued job
 * (cached by mtime and size, so repeated scans read only what changed), which honours a priority
 * edited by hand at once.
 *
 * @module
 */
import { join } from "node:path";
import { CorruptJobFileError } from "../errors.ts";
import { fileSystemNow } from "../util/durable_fs.ts";
import {
  compareOrder,
  orderOf,
  parseOrderKey,
  type QueuedOrder,
  sameOrder,
} from "./claim_order.ts";
import {
  type JobFileName,
  jobIdLength,
  jobIdOf,
  parseJobFileName,
  publishedName,
  type QueueLayout,
} from "./layout.ts";
import { type Job, type JobState, parseJob, STATES } from "./job.ts";
import { describeFileType, readRegularFileSync, UnreadableFileError } from "../util/safe_open.ts";

/** A file in a state directory that is not a readable job. It is reported, never deleted. */
export interface Problem {
  /** Path of the file. */
  path: string;
  /** What is wrong, starting with the path. */
  message: string;
}

/**
 * Calls `each` with the name of every regular file in `dir` (no reads): a symbolic link, FIFO or
 * device named like a job is not one (see {@link irregularFiles}). A missing directory is empty.
 */
function eachFileName(dir: string, each: (name: string) => void): void {
  for (const entry of entries(dir)) {
    if (entry.isFile) each(entry.name);
  }
}

function entries(dir: string): Deno.DirEntry[] {
  try {
    return [...Deno.readDirSync(dir)];
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return [];
    throw err;
  }
}

/**
 * How long a directory must have been still for what was listed of it to be kept while its mtime
 * stays: longer than any file system's mtime tick (1 ns to 2 s; Deno reports ms), so that every
 * later change of its names has a later mtime (see `counts.ts`).
 */
export const QUIET_MS = 5000;

/** The mtime (ms) of `dir`, or null when it cannot be read. */
export function dirMtime(dir: string): number | null {
  try {
    return Deno.statSync(dir).mtime?.getTime() ?? null;
  } catch {
    return null;
  }
}

/**
 * True when a directory whose mtime was `mtime` when read at `readAt` (`performance.now()`) had
 * then been still for {@link QUIET_MS}, by the file system's own clock (a probe file in
 * `clockDir`, as heartbeats are judged). False when that clock cannot be read (a read-only queue).
 */
export function wasStill(mtime: number, readAt: number, clockDir: string): boolean {
  try {
    return fileSystemNow(clockDir) - (performance.now() - readAt) - mtime > QUIET_MS;
  } catch {
    return false;
  }
}

/**
 * Names of the job files of job `id` in one directory (no reads): only names starting with the id
 * are parsed, so looking for the copies of one job in a large directory costs the listing alone.
 */
export function jobNamesOf(dir: string, id: string): JobFileName[] {
  const out: JobFileName[] = [];
  eachFileName(dir, (name) => {
    if (!name.startsWith(id)) return;
    const parsed = parseJobFileName(name);
    if (parsed?.id === id) out.push(parsed);
  });
  return out;
}

/** Names of the job files in one directory (no reads). */
export function listJobNames(dir: string): JobFileName[] {
  const out: JobFileName[] = [];
  eachFileName(dir, (name) => {
    const parsed = parseJobFileName(name);
    if (parsed) out.push(parsed);
  });
  return out;
}

/**
 * The number of jobs named in one directory, from names alone, making nothing per name (`jobs
 * status` on 100,000 jobs costs little more than listing the names). A job the protocol names
 * twice for a moment (held under a token, or a copy published beside another) counts once.
 */
export function countJobsIn(dir: string): number {
  return surveyDir(dir).count;
}

/**
 * What one listing of a state directory tells: its {@link countJobsIn} count, and the names that
 * are not regular files (see {@link irregularFiles}).
 */
export function surveyDir(dir: string): { count: number; irregular: string[] } {
  let count = 0;
  let tokens = false;
  const names: string[] = [];
  const irregular: string[] = [];
  for (const entry of entries(dir)) {
    const name = entry.name;
    if (!entry.isFile) {
      if (!name.startsWith(".")) irregular.push(name);
      continue;
    }
    const length = jobIdLength(name);
    if (length === 0) continue;
    names.push(name);
    // `<id>.json`, or `<id>.q<order>.json`: the one name the protocol gives a job at rest.
    if (name.length === length + 5 || (name[length + 1] === "q" && name.includes("-", length))) {
      count++;
    } else tokens = true;
  }
  if (tokens) count = new Set(names.map(jobIdOf).filter((id) => id !== null)).size;
  return { count, irregular };
}

/** Names in `dir` that are not regular files, hidden names aside. */
export function irregularNames(dir: string): string[] {
  return entries(dir).filter((e) => !e.isFile && !e.name.startsWith(".")).map((e) => e.name);
}

/** The problem each of `names` in `dir` is: what it is, and that vpo does not read it. */
export function irregularProblems(dir: string, names: readonly string[]): Problem[] {
  return names.map((name) => {
    const path = join(dir, name);
    let kind = "not a regular file";
    try {
      kind = describeFileType(Deno.lstatSync(path));
    } catch {
      // Gone meanwhile: still worth the one warning.
    }
    return { path, message: `${path}: ${kind}, not a regular file; vpo does not read it` };
  });
}

/**
 * Everything in the state directories, live/ and requests/ that is not a regular file (a
 * symbolic link, FIFO, device, directory), as problems. Readers never open these (a FIFO would
 * block a reader forever) and nothing moves or deletes them; `list` and `status` report them.
 */
export function irregularFiles(layout: QueueLayout): Problem[] {
  const dirs = [...STATES.map((s) => layout.stateDir(s)), layout.liveDir, layout.requestsDir];
  return dirs.flatMap((dir) => irregularProblems(dir, irregularNames(dir)));
}

/** Reads one job file; a vanished file yields null, an unreadable one a {@link Problem}. */
export function readJobFile(path: string, id: string, state: JobState): Job | Problem | null {
  let text: string;
  try {
    text = readRegularFileSync(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return null;
    if (err instanceof UnreadableFileError) return { path, message: err.message };
    return { path, message: `${path}: ${(err as Error).message}` };
  }
  try {
    const record = parseJob(text, path, id);
    return { ...record, state, path };
  } catch (err) {
    if (err instanceof CorruptJobFileError) return { path, message: err.message };
    throw err;
  }
}

/** True when a scan result is a problem rather than a job. */
export const isProblem = <T extends { id: string }>(x: T | Problem): x is Problem => !("id" in x);

interface CacheEntry {
  mtimeMs: number;
  size: number;
  /** The job and its place, or why the file is not one. */
  value: Placed | Problem;
}

/** A queued job and where it stands. */
type Placed = QueuedOrder & { id: string; job: Job };

const placed = (job: Job): Placed => ({ ...orderOf(job), id: job.id, job });

/** A queued file name and the order it carries. */
type Named = QueuedOrder & { name: string };

/** Where a name with an order key puts its job. */
const placeOf = (name: JobFileName) => ({ ...name.order!, id: name.id });

/** Past this many names, a page sorts them all: keeping so many in order one insert at a time
 * costs more. */
const MAX_PICKED = 1024;

/** Claim order of two names: the name starts with the id, so it breaks ties as the id does. */
const compareNamed = (a: Named, b: Named): number =>
  a.priority - b.priority || (a.stamp < b.stamp ? -1 : a.stamp > b.stamp ? 1 : 0) ||
  (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/**
 * The `k` first names of `dir` in claim order, and the names that carry no order, in one pass
 * that keeps only `k` names (a 100,000-name directory is not sorted, nor a key made per name).
 */
function firstNamed(dir: string, k: number): { first: Named[]; unordered: string[]; all: number } {
  const first: Named[] = [];
  const unordered: string[] = [];
  let all = 0;
  eachFileName(dir, (name) => {
    const idLength = jobIdLength(name);
    if (idLength === 0) return;
    const order = name[idLength + 1] === "q" ? parseOrderKey(name.slice(idLength + 1, -5)) : null;
    if (order === null) return void unordered.push(name);
    all++;
    const named = { priority: order.priority, stamp: order.stamp, name };
    if (k === Infinity) return void first.push(named);
    if (first.length === k && compareNamed(named, first[k - 1]) >= 0) return;
    let lo = 0;
    let hi = first.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (compareNamed(first[mid], named) < 0) lo = mid + 1;
      else hi = mid;
    }
    first.splice(lo, 0, named);
    if (first.length > k) first.pop();
  });
  if (k === Infinity) first.sort(compareNamed);
  return { first, unordered, all };
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
   * @param restatMs files are stat'ed again at most this often
   */
  constructor(readonly dir: string, readonly restatMs = 1000) {}

  /**
   * The first `limit` queued jobs in claim order after the first `offset`, reading only the files
   * that could be among them: those whose names carry no order, and the page by name. The jobs
   * skipped are placed by their names alone, unread (O keeps names true). A job read whose content
   * disagrees with its name (a priority edited in place) takes its place by content, and is
   * renamed.
   */
  head(limit: number, offset = 0): { jobs: Job[]; problems: Problem[] } {
    let read: Placed[] = [];
    const problems: Problem[] = [];
    const take = (name: JobFileName): void => {
      const found = readJobFile(join(this.dir, name.name), name.id, "queued");
      if (found === null) return;
      if (isProblem(found)) return void problems.push(found);
      read.push(placed(this.#heal(name, found)));
    };
    // Only the first few names are usually needed: those are picked out in one pass, and all of
    // them are listed and sorted only if they run out (or a deep page needs many).
    const picked = offset + 2 * limit + 16;
    let { first, unordered, all } = firstNamed(this.dir, picked > MAX_PICKED ? Infinity : picked);
    for (const name of unordered) take(parseJobFileName(name)!);
    const nameAt = (i: number): JobFileName | null => {
      if (i === first.length && first.length < all) first = firstNamed(this.dir, Infinity).first;
      return i < first.length ? parseJobFileName(first[i].name) : null;
    };
    // Skip `offset` jobs, merging the names with the jobs already read (those named without order).
    read.sort(compareOrder);
    let i = 0;
    let skippedRead = 0;
    for (let skipped = 0; skipped < offset; skipped++) {
      const next = nameAt(i);
      const readFirst = skippedRead < read.length &&
        (!next || compareOrder(read[skippedRead], placeOf(next)) < 0);
      if (readFirst) skippedRead++;
      else if (next) i++;
      else break;
    }
    read = read.slice(skippedRead);
    // Names are read in order until `limit` jobs are known to come before every unread name.
    for (;; i++) {
      const next = nameAt(i);
      const settled = next
        ? read.filter((r) => compareOrder(r, placeOf(next)) < 0).length
        : read.length;
      if (settled >= limit || !next) break;
      take(next);
    }
    return { jobs: read.sort(compareOrder).slice(0, limit).map((r) => r.job), problems };
  }

  /** The queued jobs in claim order, and the files that are not readable jobs. */
  refresh(forceStat = false): { jobs: Job[]; problems: Problem[] } {
    const fullStat = forceStat || performance.now() - this.#lastFullStat >= this.restatMs;
    if (fullStat) this.#lastFullStat = performance.now();
    const seen = new Map<string, CacheEntry>();
    const jobs: Placed[] = [];
    const problems: Problem[] = [];
    for (const name of listJobNames(this.dir)) {
      let entry = this.#cache.get(name.name);
      if (!entry || fullStat) {
        const path = join(this.dir, name.name);
        let info: Deno.FileInfo;
        try {
          info = Deno.lstatSync(path);
        } catch (err) {
          if (err instanceof Deno.errors.NotFound) continue;
          throw err;
        }
        const mtimeMs = info.mtime?.getTime() ?? 0;
        if (!entry || entry.mtimeMs !== mtimeMs || entry.size !== info.size) {
          const found = readJobFile(path, name.id, "queued");
          if (found === null) continue;
          const value = isProblem(found) ? found : placed(this.#heal(name, found));
          entry = { mtimeMs, size: info.size, value };
        }
      }
      const value = entry.value;
      seen.set(isProblem(value) ? name.name : value.job.path.slice(this.dir.length + 1), entry);
      if (isProblem(value)) problems.push(value);
      else jobs.push(value);
    }
    this.#cache = seen;
    return { jobs: jobs.sort(compareOrder).map((p) => p.job), problems };
  }

  /**
   * O: renames a queued file whose name does not carry its record's claim order (a priority edited
   * in place, a file moved here by hand), so that listings by name put it in its place. A name
   * with a token is left alone: it is held by a command moving the job. Another copy already
   * under the wanted name is never replaced.
   */
  #heal(name: JobFileName, job: Job): Job {
    if (name.token) return job;
    const wanted = publishedName("queued", job);
    if (wanted === name.name || (name.order && sameOrder(name.order, orderOf(job)))) return job;
    const path = join(this.dir, wanted);
    try {
      Deno.lstatSync(path);
      return job;
    } catch {
      // Free: take it.
    }
    try {
      Deno.renameSync(job.path, path);
    } catch {
      return job; // Claimed or moved meanwhile: whoever moved it has it.
    }
    return { ...job, path };
  }

  /** Forgets a name, after this process moved the file away. */
  forget(name: string): void {
    this.#cache.delete(name);
  }
}
