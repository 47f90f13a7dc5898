/**
 * Segment directories nothing will resume, for `vpo jobs cleanup --remove-temp`.
 *
 * @module
 */
import { basename } from "node:path";
import type { Job } from "../../queue/job.ts";
import type { JobQueue } from "../../queue/store.ts";
import { scanTempDirs } from "../../replace/temp_files.ts";
import { segmentDirOwner } from "./segment_dir.ts";

/**
 * Segment directories (in `tempDirectory` and beside every job's source) of jobs that are
 * neither queued nor running, nor failed with their segments kept for `vpo jobs retry` (a full
 * disk, see kept.ts): their job finished, failed or was removed, so nothing will resume them.
 * Symbolic links are never listed.
 */
export function findOrphanSegmentDirs(queue: JobQueue, tempDirectory: string | null): string[] {
  const jobs = queue.list().jobs;
  const waiting = waitingIds(jobs);
  const found = scanTempDirs(jobs, tempDirectory, (entry) => {
    const owner = entry.isDirectory ? segmentDirOwner(entry.name) : null;
    return owner !== null && !waiting.has(owner);
  });
  // A job queued and claimed during the scan made its directory after the first listing: look
  // again before calling anything an orphan.
  const now = waitingIds(queue.list().jobs);
  return found.filter((dir) => !now.has(segmentDirOwner(basename(dir))!));
}

const waitingIds = (jobs: readonly Job[]) =>
  new Set(
    jobs.filter((j) => j.state === "queued" || j.state === "running" || keptFor(j)).map((j) =>
      j.id
    ),
  );

/** A failed job keeps its `segment_progress` only when its segments were kept (run_end.ts). */
const keptFor = (job: Job) => job.state === "failed" && job.payload.segment_progress !== undefined;
