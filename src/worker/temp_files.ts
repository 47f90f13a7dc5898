/**
 * Names of the temporary outputs the worker writes, and the search for ones left behind.
 *
 * A temp output is a hidden file whose name carries the full job id and ends in `.partial`, so
 * media scanners (Plex, Jellyfin) skip it and vpo can tell its own files from the user's.
 *
 * @module
 */
import { basename, dirname, join } from "node:path";
import type { JobQueue } from "../queue/store.ts";

const TEMP_RE = /^\.vpo-([0-9a-f]{32})\..*\.partial$/s;

/** The temp output path for a job's source, in `tempDirectory` or beside the source. */
export function tempOutputPath(
  jobId: string,
  source: string,
  tempDirectory: string | null,
): string {
  return join(tempDirectory ?? dirname(source), `.vpo-${jobId}.${basename(source)}.partial`);
}

/** The job id a temp output name belongs to, or null if vpo did not make it. */
export function tempOwner(name: string): string | null {
  return TEMP_RE.exec(name)?.[1] ?? null;
}

/**
 * Temp outputs that no running job owns, in `tempDirectory` and in the directories of every
 * job's source file.
 */
export function findOrphanTemps(queue: JobQueue, tempDirectory: string | null): string[] {
  const dirs = new Set<string>();
  if (tempDirectory) dirs.add(tempDirectory);
  for (const job of queue.list().jobs) if (job.file) dirs.add(dirname(job.file));
  const running = queue.runningIds();
  const orphans: string[] = [];
  for (const dir of dirs) {
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(dir)];
    } catch {
      continue;
    }
    for (const entry of entries) {
      const owner = entry.isFile ? tempOwner(entry.name) : null;
      if (owner && !running.has(owner)) orphans.push(join(dir, entry.name));
    }
  }
  return orphans.sort();
}
