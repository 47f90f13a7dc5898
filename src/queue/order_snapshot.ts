/**
 * A snapshot of the queued jobs in claim order, kept at `<root>/.cache/queued-order.tsv`, so that
 * `vpo jobs list --limit 20` on a queue of 100,000 jobs reads 20 job files instead of all of them.
 *
 * It is trusted only while queued/'s mtime is exactly the one it was taken at (every enqueue,
 * claim, cancel, `mv` or `rm` in queued/ changes it), and only where mtimes have sub-second
 * precision (a 1-2 s granularity could hide a change). The jobs shown are read in full and must
 * agree with it, or the caller scans the directory. What it cannot see: a queued file edited in
 * place (not by rename) to a better priority is shown in its new place only after the queue next
 * changes; workers do not use the snapshot and claim in the edited order at once.
 *
 * @module
 */
import { dirname, join } from "node:path";
import { uniqueTempName } from "../util/durable_fs.ts";
import type { Job } from "./job.ts";

const HEADER = "vpo-queued-order 1";

/** The mtime (ms) of `dir`, if its precision makes it usable to detect changes; else null. */
export function dirVersion(dir: string): number | null {
  try {
    const ms = Deno.statSync(dir).mtime?.getTime() ?? null;
    return ms === null || ms % 1000 === 0 ? null : ms;
  } catch {
    return null;
  }
}

/** An entry of the snapshot: enough to order and to check a job read back. */
export interface OrderEntry {
  name: string;
  priority: number;
  createdAt: string;
}

/**
 * Writes the snapshot of `jobs` (already in claim order), taken while queued/ had `version`;
 * `problems` are the names of unreadable files, so their warnings are not lost.
 */
export function writeOrderSnapshot(
  path: string,
  version: number,
  jobs: readonly Job[],
  problems: readonly { path: string; message: string }[],
): void {
  // Problems first: a reader wanting 20 entries stops after them.
  const lines = [`${HEADER}\t${version}`];
  for (const p of problems) lines.push(`!\t${p.path}\t${p.message.replaceAll("\n", " ")}`);
  for (const j of jobs) {
    lines.push(`${j.priority}\t${j.created_at}\t${j.path.slice(j.path.lastIndexOf("/") + 1)}`);
  }
  // A cache, rebuilt by any full scan: atomic (never read half-written) but not fsynced.
  Deno.mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = join(dirname(path), uniqueTempName("order"));
  Deno.writeTextFileSync(tmp, lines.join("\n") + "\n", { mode: 0o600 });
  Deno.renameSync(tmp, path);
}

/**
 * The first `limit` entries and the recorded problems, if the snapshot at `path` was taken at
 * `version`; else null.
 */
export function readOrderSnapshot(
  path: string,
  version: number,
  limit: number,
): { entries: OrderEntry[]; problems: { path: string; message: string }[] } | null {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch {
    return null;
  }
  // Only the head is needed; splitting 100,000 lines would cost more than the reads it saves.
  const lines = text.split("\n", limit + 4096);
  if (lines[0] !== `${HEADER}\t${version}`) return null;
  const entries: OrderEntry[] = [];
  const problems: { path: string; message: string }[] = [];
  for (let i = 1; i < lines.length && lines[i] !== "" && entries.length < limit; i++) {
    const [a, b, c] = lines[i].split("\t");
    if (a === "!") problems.push({ path: b, message: c });
    else entries.push({ priority: Number(a), createdAt: b, name: c });
  }
  return { entries, problems };
}
