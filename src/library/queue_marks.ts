/**
 * "This version of this file has a job": one small file per queued source under
 * `$VPO_HOME/library/queued/`, created with O_EXCL, so two `vpo transcode` runs at once (two
 * cron lines overlapping, two hosts on one share) never queue the same file twice. The worker
 * removes the mark when the job ends; a mark whose job is gone (cancelled, purged) is taken over.
 *
 * A mark is removed or taken over only as the file that was judged: renamed to a name of this
 * run's own, then compared with what was read (every mark holds a nonce, so another run's fresh
 * mark for the same file differs from a stale one). A run that finds it took a mark it had not
 * judged (another run took the stale one over meanwhile and made its own) links it back, without
 * clobbering, and reports the file as held. Anything but a regular file at a mark's name (a
 * directory, a link, a FIFO) is junk: it is set aside under another name and the mark is made.
 *
 * @module
 */
import { createHash } from "node:crypto";
import type { LibraryLayout } from "../queue/layout.ts";
import { writeFileAtomic } from "../util/durable_fs.ts";
import {
  createFileSync,
  pathExists,
  readRegularFileInfoSync,
  UnreadableFileError,
} from "../util/safe_open.ts";
import { type FileStamp, stampKey } from "./decisions.ts";

/** A run that died between marking and queueing holds its mark this long at most. */
const PENDING_TTL_MS = 10 * 60 * 1000;

/** The largest mark read; real ones are about 200 bytes. */
const MAX_MARK_BYTES = 64 * 1024;

/** The mark file of a file version. */
export function markPath(library: LibraryLayout, stamp: FileStamp): string {
  return library.markPath(createHash("sha256").update(stampKey(stamp)).digest("hex").slice(0, 32));
}

interface MarkContent {
  path: string;
  /** The job, once queued; null while the run that made the mark is queueing it. */
  job: string | null;
  /** Unique per write: tells this mark from any other made for the same file version. */
  nonce?: string;
}

/** What is at a mark's name, as judged once. */
type Judged =
  | { kind: "gone" }
  | { kind: "held"; by: string }
  /** A mark to take over (`text` and `mtime` as read) or junk to set aside (`text` null). */
  | { kind: "free"; text: string | null; mtime: number | null };

const newNonce = () => crypto.randomUUID();

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
  Deno.mkdirSync(library.marksDir, { recursive: true, mode: 0o700 });
  for (let attempt = 0; attempt < 3; attempt++) {
    if (createMark(path, { path: stamp.path, job: null, nonce: newNonce() })) return null;
    const judged = judge(path, jobIsActive);
    if (judged.kind === "held") return judged.by;
    if (judged.kind === "free" && !setAside(path, judged)) return "another run";
  }
  return "another run";
}

/** Records the queued job in a mark this run holds (replaced by a rename, never written through). */
export async function fillMark(
  library: LibraryLayout,
  stamp: FileStamp,
  job: string,
): Promise<void> {
  const content: MarkContent = { path: stamp.path, job, nonce: newNonce() };
  await writeFileAtomic(markPath(library, stamp), JSON.stringify(content), { durable: false });
}

/**
 * Removes a mark (the job ended, or queueing failed); a missing mark is fine. With `job`, only
 * while that job holds it: a retried or copied job must not drop the mark another job took over.
 */
export function dropMark(library: LibraryLayout, stamp: FileStamp, job?: string): void {
  const path = markPath(library, stamp);
  try {
    const read = readRegularFileInfoSync(path, MAX_MARK_BYTES);
    if (job !== undefined && parseMark(read.text).job !== job) return;
    setAside(path, { kind: "free", text: read.text, mtime: read.mtimeMs });
  } catch {
    // Never made, already taken over, or not a mark vpo can read: left alone.
  }
}

/** Reads the mark at `path` once and says who holds it, or that it may be taken. */
function judge(path: string, jobIsActive: (id: string) => boolean): Judged {
  let text: string;
  let mtime: number;
  try {
    ({ text, mtimeMs: mtime } = readRegularFileInfoSync(path, MAX_MARK_BYTES));
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return { kind: "gone" };
    if (err instanceof UnreadableFileError) return { kind: "free", text: null, mtime: null };
    return { kind: "held", by: "another run" };
  }
  const held = parseMark(text);
  if (held.job && jobIsActive(held.job)) return { kind: "held", by: held.job };
  if (!held.job && Date.now() - mtime < PENDING_TTL_MS) return { kind: "held", by: "another run" };
  return { kind: "free", text, mtime };
}

/**
 * Moves what was judged at `path` out of the way: renamed to a name of this run's own, then
 * compared with what was judged. The judged mark is removed (junk that is a directory stays aside
 * under its new name). Something else, made at the name since (another run's fresh mark), is put
 * back without clobbering and false returned: the file is held.
 */
function setAside(path: string, judged: Judged & { kind: "free" }): boolean {
  const tag = `${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  const aside = `${path}.${judged.text === null ? "junk" : "stale"}-${tag}`;
  try {
    Deno.renameSync(path, aside);
  } catch {
    return true; // Gone already: whoever took it, the name is to be had again.
  }
  const took = describe(aside);
  const same = judged.text === null
    ? took !== null && took.text === null
    : took?.text === judged.text && took.mtime === judged.mtime;
  if (!same) {
    giveBack(aside, path);
    return false;
  }
  if (!Deno.lstatSync(aside).isDirectory) Deno.removeSync(aside);
  return true;
}

/** What {@link setAside} took: a mark's text and mtime, or text null for anything else. */
function describe(path: string): { text: string | null; mtime: number | null } | null {
  try {
    const read = readRegularFileInfoSync(path, MAX_MARK_BYTES);
    return { text: read.text, mtime: read.mtimeMs };
  } catch (err) {
    if (err instanceof UnreadableFileError) return { text: null, mtime: null };
    return null;
  }
}

/** Puts another run's mark back at `path` unless a newer one stands there already. */
function giveBack(aside: string, path: string): void {
  try {
    Deno.linkSync(aside, path);
  } catch (err) {
    // Without hard links (SMB): a rename, only while the name is free.
    if (!(err instanceof Deno.errors.AlreadyExists) && !pathExists(path)) {
      Deno.renameSync(aside, path);
      return;
    }
  }
  Deno.removeSync(aside);
}

/** A mark still being written reads as pending (no job yet). */
function parseMark(text: string): MarkContent {
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
