/**
 * "This version of this file has a job": one small file per queued source under
 * `$VPO_HOME/library/queued/`, created with O_EXCL, so two `vpo transcode` runs at once (two
 * cron lines overlapping, two hosts on one share) never queue the same file twice. The worker
 * removes the mark when the job ends; a mark whose job is gone (cancelled, purged) is taken over
 * by a rename, which exactly one taker wins.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import type { LibraryLayout } from "../queue/layout.ts";
import { writeFileAtomic } from "../util/durable_fs.ts";
import { createFileSync, readRegularFileSync } from "../util/safe_open.ts";
import { type FileStamp, stampKey } from "./decisions.ts";

/** A run that died between marking and queueing holds its mark this long at most. */
const PENDING_TTL_MS = 10 * 60 * 1000;

/** The mark file of a file version. */
export function markPath(library: LibraryLayout, stamp: FileStamp): string {
  return library.markPath(createHash("sha256").update(stampKey(stamp)).digest("hex").slice(0, 32));
}

interface MarkContent {
  path: string;
  /** The job, once queued; null while the run that made the mark is queueing it. */
  job: string | null;
}

/**
 * Takes the mark of `stamp`. Returns null when taken, or the id of the job (or "another run")
 * that holds it. `jobIsActive` says whether a job id is still queued or running.
 */
export function takeMark(
  library: LibraryLayout,
  stamp: FileStamp,
  jobIsActive: (id: string) => boolean,
): string | null {
  const path = markPath(library, stamp);
  const dir = library.marksDir;
  Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (let attempt = 0; attempt < 3; attempt++) {
    if (createMark(path, { path: stamp.path, job: null })) return null;
    let held: MarkContent;
    let age: number;
    try {
      age = Date.now() - (Deno.lstatSync(path).mtime?.getTime() ?? Date.now());
      held = readMark(path);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) continue; // Vanished: try to create it again.
      // Not a file vpo made (a link, a FIFO): it holds the mark until someone removes it.
      return "another run";
    }
    if (held.job && jobIsActive(held.job)) return held.job;
    if (!held.job && age < PENDING_TTL_MS) return "another run";
    // Abandoned: whoever renames it away first may create it anew.
    try {
      Deno.renameSync(path, `${path}.stale-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`);
    } catch {
      continue;
    }
    for (const entry of Deno.readDirSync(dir)) {
      if (entry.name.includes(".stale-")) Deno.removeSync(join(dir, entry.name));
    }
  }
  return "another run";
}

/** Records the queued job in a mark this run holds (replaced by a rename, never written through). */
export async function fillMark(
  library: LibraryLayout,
  stamp: FileStamp,
  job: string,
): Promise<void> {
  const content: MarkContent = { path: stamp.path, job };
  await writeFileAtomic(markPath(library, stamp), JSON.stringify(content), { durable: false });
}

/**
 * Removes a mark (the job ended, or queueing failed); a missing mark is fine. With `job`, only
 * while that job holds it: a retried or copied job must not drop the mark another job took over.
 */
export function dropMark(library: LibraryLayout, stamp: FileStamp, job?: string): void {
  const path = markPath(library, stamp);
  try {
    if (job !== undefined && readMark(path).job !== job) return;
    Deno.removeSync(path);
  } catch {
    // Never made, already taken over, or not a mark vpo can read: left alone.
  }
}

/** A mark still being written reads as pending (no job yet). */
function readMark(path: string): MarkContent {
  const text = readRegularFileSync(path, 64 * 1024);
  try {
    const parsed = JSON.parse(text) as Partial<MarkContent>;
    return {
      path: String(parsed.path ?? ""),
      job: typeof parsed.job === "string" ? parsed.job : null,
    };
  } catch {
    return { path: "", job: null };
  }
}

function createMark(path: string, content: MarkContent): boolean {
  try {
    using file = createFileSync(path);
    file.writeSync(new TextEncoder().encode(JSON.stringify(content)));
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.AlreadyExists) return false;
    throw err;
  }
}
