/**
 * A directory of JSON-lines files that many processes on many hosts add to at once without
 * losing a line: each process appends only to its own file (named by time, host, pid and a
 * random tag, so no two writers ever share one), readers merge every file, and a compaction
 * folds the files into one snapshot now and then. It is a cache: a damaged line is skipped (and
 * counted), a deleted directory starts empty, and no failure here is ever fatal.
 *
 * @module
 */
import { hostname } from "node:os";
import { join } from "node:path";
import { fileSystemNow } from "../util/durable_fs.ts";
import { openAppendSync, readRegularFileSync, replaceFileSync } from "../util/safe_open.ts";

/** An entry of a log: any JSON object with the time it was written (ms since the epoch). */
export interface LogEntry {
  at: number;
}

/** What {@link LineLog.load} found. */
export interface LoadResult<T> {
  entries: T[];
  /** Lines that were not a complete, valid entry (a torn write, a hand edit). */
  damaged: number;
  /** Why the directory could not be read at all, or null. */
  error: string | null;
}

/** Files of other writers this idle (by the file system's clock) are folded into a snapshot. */
const IDLE_BEFORE_MERGE_MS = 10 * 60 * 1000;
/** Files a reader merges before a scan folds them into one snapshot. */
const MAX_FILES = 8;
/** Entries a writer holds before it appends them (one open, one write, one close). */
const FLUSH_EVERY = 256;
/**
 * The largest log file read (a snapshot of 100,000 probes is about 200 MB); a larger one, like a
 * FIFO or a link planted in the directory, is reported and not read.
 */
const MAX_LOG_BYTES = 384 * 1024 * 1024;

/** The text of a log file, read without following a link or blocking on what it turns out to be. */
const readLog = (path: string) => readRegularFileSync(path, MAX_LOG_BYTES);

const randomTag = () => crypto.randomUUID().slice(0, 8);
const safeHost = () => hostname().replace(/[^A-Za-z0-9.-]/g, "_") || "host";

/**
 * One log directory. `valid` turns a parsed line into an entry or null; `key` says which
 * entries describe the same thing (the newest wins, see {@link latest}).
 */
export class LineLog<T extends LogEntry> {
  readonly #own: string;
  #pending: string[] = [];
  /** Files in which the last load found damaged lines: the next compaction rewrites them. */
  readonly #damagedFiles = new Set<string>();

  constructor(
    readonly dir: string,
    private readonly valid: (value: unknown) => T | null,
    private readonly key: (entry: T) => string,
  ) {
    this.#own = `log-${Date.now()}-${safeHost()}-${Deno.pid}-${randomTag()}.jsonl`;
  }

  /** Reads every entry of every file; never throws. */
  load(): LoadResult<T> {
    const entries: T[] = [];
    let damaged = 0;
    let names: string[];
    try {
      names = this.#names();
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return { entries, damaged, error: null };
      return { entries, damaged, error: (err as Error).message };
    }
    let error: string | null = null;
    for (const name of names) {
      let text: string;
      try {
        text = readLog(join(this.dir, name));
      } catch (err) {
        // Folded into a snapshot meanwhile (no warning), or unreadable: only a cache miss.
        if (!(err instanceof Deno.errors.NotFound)) error ??= (err as Error).message;
        continue;
      }
      const bad = parseLines(text, this.valid, entries);
      if (bad > 0) this.#damagedFiles.add(name);
      damaged += bad;
    }
    return { entries, damaged, error };
  }

  /** Queues an entry; it is written at the next {@link flush} (every few hundred entries). */
  add(entry: T): void {
    this.#pending.push(JSON.stringify(entry) + "\n");
    if (this.#pending.length >= FLUSH_EVERY) this.flush();
  }

  /**
   * Appends the queued entries to this writer's own file, creating it (again, if a compaction
   * took it) as needed. Returns an error message, or null; the entries are dropped either way.
   * Never through a link, nor outside the home's own directory (util/safe_open.ts).
   */
  flush(): string | null {
    if (this.#pending.length === 0) return null;
    const bytes = new TextEncoder().encode(this.#pending.join(""));
    this.#pending = [];
    try {
      Deno.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      using file = openAppendSync(join(this.dir, this.#own));
      file.writeSync(bytes);
      return null;
    } catch (err) {
      return (err as Error).message;
    }
  }

  /** True when the files have piled up, or some hold damaged lines: time to compact. */
  wantsCompaction(): boolean {
    if (this.#damagedFiles.size > 0) return true;
    try {
      return this.#names().length > MAX_FILES;
    } catch {
      return false;
    }
  }

  /**
   * Folds the snapshots and the idle files of other writers (and this writer's own file) into
   * one new snapshot holding the newest entry per key, as `select` narrows them. Each file is first
   * renamed to a private name, so a writer appending later creates a fresh file instead of
   * writing into one being folded; a file is removed only after the snapshot holding its entries
   * is in place. Two compactions at once only duplicate entries, never lose them.
   */
  compact(select: (newest: Map<string, T>) => Iterable<T> = (m) => m.values()): void {
    this.flush();
    let names: string[];
    try {
      names = this.#names();
    } catch {
      return;
    }
    let fsNow: number;
    try {
      fsNow = fileSystemNow(this.dir);
    } catch {
      return;
    }
    const taken: string[] = [];
    const entries: T[] = [];
    for (const name of names) {
      const path = join(this.dir, name);
      let mergeable = name.startsWith("snapshot-") || name === this.#own ||
        this.#damagedFiles.has(name);
      if (!mergeable) {
        try {
          const mtime = Deno.statSync(path).mtime?.getTime() ?? fsNow;
          mergeable = fsNow - mtime > IDLE_BEFORE_MERGE_MS;
        } catch {
          continue;
        }
      }
      if (!mergeable) continue;
      const privateName = `merging-${Date.now()}-${Deno.pid}-${randomTag()}.jsonl`;
      const privatePath = join(this.dir, privateName);
      try {
        Deno.renameSync(path, privatePath);
        parseLines(readLog(privatePath), this.valid, entries);
        taken.push(privatePath);
      } catch {
        continue; // Another compaction took it first.
      }
    }
    if (taken.length === 0) return;
    const lines = [...select(latest(entries, this.key))].map((e) => JSON.stringify(e) + "\n")
      .join("");
    const name = `snapshot-${Date.now()}-${safeHost()}-${Deno.pid}-${randomTag()}.jsonl`;
    try {
      replaceFileSync(join(this.dir, name), lines, { durable: false });
    } catch {
      return; // The taken files stay (under their merging- names, still read) for next time.
    }
    this.#damagedFiles.clear();
    for (const path of taken) {
      try {
        Deno.removeSync(path);
      } catch {
        // Already gone: nothing was lost, its entries are in the new snapshot.
      }
    }
  }

  #names(): string[] {
    const names: string[] = [];
    for (const entry of Deno.readDirSync(this.dir)) {
      if (entry.isFile && !entry.name.startsWith(".") && entry.name.endsWith(".jsonl")) {
        names.push(entry.name);
      }
    }
    return names.sort();
  }
}

/** Parses the complete lines of `text` into `into`; returns the number of damaged ones. */
function parseLines<T>(text: string, valid: (v: unknown) => T | null, into: T[]): number {
  let damaged = 0;
  const lines = text.split("\n");
  // The part after the last newline is a write in progress, or one a crash cut short (its
  // writer never appends to that file again): not damage, just not an entry (yet).
  lines.pop();
  for (const line of lines) {
    if (line === "") continue;
    let entry: T | null = null;
    try {
      entry = valid(JSON.parse(line));
    } catch {
      entry = null;
    }
    if (entry === null) damaged++;
    else into.push(entry);
  }
  return damaged;
}

/** The newest entry per key (by `at`; a tie goes to the one read last). */
export function latest<T extends LogEntry>(
  entries: Iterable<T>,
  key: (entry: T) => string,
): Map<string, T> {
  const out = new Map<string, T>();
  for (const entry of entries) {
    const k = key(entry);
    const seen = out.get(k);
    if (!seen || seen.at <= entry.at) out.set(k, entry);
  }
  return out;
}

/** Receives the one warning a damaged or unreadable log gives. */
export type Warn = (text: string) => void;

/** How a {@link KeyedMemory} names itself and compacts. */
export interface KeyedMemoryOptions<T> {
  /** "library memory", "probe cache": the start of its warning. */
  name: string;
  warn: Warn;
  /** Which of the newest entries a compaction keeps. */
  select: (newest: Map<string, T>) => Iterable<T>;
}

/**
 * A {@link LineLog} read once (on first use) into the newest entry per key, added to as the run
 * goes, and warning at most once about damage or trouble reading or writing it.
 */
export class KeyedMemory<T extends LogEntry> {
  readonly #log: LineLog<T>;
  #byKey: Map<string, T> | null = null;
  #warned = false;

  constructor(
    dir: string,
    valid: (value: unknown) => T | null,
    private readonly key: (entry: T) => string,
    private readonly opts: KeyedMemoryOptions<T>,
  ) {
    this.#log = new LineLog(dir, valid, key);
  }

  /** The newest entry of `key`. */
  get(key: string): T | undefined {
    return this.#load().get(key);
  }

  /** Adds an entry (written in batches; {@link close} writes the rest). */
  add(entry: T): void {
    this.#byKey?.set(this.key(entry), entry);
    this.#log.add(entry);
  }

  /** Writes what is pending; `compact` folds the files when they have piled up or are damaged. */
  close(options: { compact?: boolean } = {}): void {
    const failed = this.#log.flush();
    this.#report(failed && `could not write: ${failed}`);
    if (options.compact && this.#log.wantsCompaction()) this.#log.compact(this.opts.select);
  }

  #load(): Map<string, T> {
    if (this.#byKey) return this.#byKey;
    const { entries, damaged, error } = this.#log.load();
    this.#report(
      error ? `could not read: ${error}` : damaged > 0 ? `${damaged} damaged lines ignored` : null,
    );
    return this.#byKey = latest(entries, this.key);
  }

  #report(problem: string | null): void {
    if (!problem || this.#warned) return;
    this.#warned = true;
    this.opts.warn(
      `${this.opts.name} ${this.#log.dir}: ${problem} (it is only a cache: the files concerned ` +
        "are decided again, and damage is repaired)",
    );
  }
}
