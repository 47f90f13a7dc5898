/**
 * The finished jobs' files newest first (by mtime: a job file is rewritten when it finishes), for
 * listing a page of them. A process that lists again and again (`vpo serve`) keeps each state
 * directory's stat results while the directory's mtime stays the same: every job entering or
 * leaving changes it, so a quiet queue of 100,000 finished jobs costs three stats, not 100,000.
 * A listing is kept only if the directory had been still for a while before it (`wasStill`), so
 * that no change can share the mtime it is kept under.
 *
 * @module
 */
import { join } from "node:path";
import type { JobState } from "./job.ts";
import type { JobFileName } from "./layout.ts";
import { dirMtime, listJobNames, wasStill } from "./scan.ts";

/** A finished job's file and its mtime. */
export interface FinishedFile {
  path: string;
  name: JobFileName;
  state: JobState;
  mtime: number;
}

/** Finished job files per state directory, re-stat'ed only when the directory changed. */
export class FinishedIndex {
  #dirs = new Map<JobState, { version: number; files: FinishedFile[] }>();
  #sorted: { key: string; files: FinishedFile[] } | null = null;

  /**
   * @param stateDir gives the directory of a state (see {@link QueueLayout.stateDir})
   * @param clockDir where the file system's clock is read (the queue's `.tmp/`)
   */
  constructor(readonly stateDir: (state: JobState) => string, readonly clockDir: string) {}

  /** The files of `states`, newest first. */
  newestFirst(states: readonly JobState[]): FinishedFile[] {
    const lists = states.map((state) => this.#filesOf(state));
    // The same lists as last time (nothing changed): their order is known already.
    const versions = states.map((s) => this.#dirs.get(s)?.version ?? null);
    const key = versions.includes(null) ? null : `${states.join()}:${versions.join()}`;
    if (key !== null && this.#sorted?.key === key) return this.#sorted.files;
    const files = lists.flat().sort((a, b) => b.mtime - a.mtime);
    this.#sorted = key === null ? null : { key, files };
    return files;
  }

  #filesOf(state: JobState): FinishedFile[] {
    const dir = this.stateDir(state);
    const readAt = performance.now();
    const version = dirMtime(dir);
    const cached = this.#dirs.get(state);
    if (version !== null && cached?.version === version) return cached.files;
    const files: FinishedFile[] = [];
    for (const name of listJobNames(dir)) {
      const path = join(dir, name.name);
      try {
        files.push({ path, name, state, mtime: Deno.statSync(path).mtime?.getTime() ?? 0 });
      } catch (err) {
        if (!(err instanceof Deno.errors.NotFound)) throw err;
      }
    }
    if (version !== null && wasStill(version, readAt, this.clockDir)) {
      this.#dirs.set(state, { version, files });
    } else this.#dirs.delete(state);
    return files;
  }
}
