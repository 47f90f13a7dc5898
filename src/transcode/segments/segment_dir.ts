/**
 * A job's segment directory, `.vpo-<id>.segments/`, in the temp directory or beside the source: a
 * folder others may write. vpo uses it only when it is a real directory (not a link) owned by
 * this user, which it makes 0700, acts only on the names it gives files there, never follows a
 * symbolic link there, and never removes anything else: a directory holding other files is left.
 *
 * @module
 */
import { dirname, join } from "node:path";
import { JobFailure } from "../../errors.ts";
import { syncDir } from "../../util/durable_fs.ts";
import { inodesAreStable } from "../../util/file_identity.ts";
import { sharesWithGroup } from "../../util/file_mode.ts";
import { HeldFolder, UntrustedDirectoryError } from "../../util/safe_open.ts";

/** A segmented encode could not go on; the job fails (and its segments are removed). */
export class SegmentError extends JobFailure {}

const DIR_RE = /^\.vpo-([0-9a-f]{32})\.segments$/;
/**
 * Every name vpo gives a file in a segment directory: the journal, the concat list, each segment's
 * claim names (`src/queue/pieces.ts`), record and files (`seg-NNNN.<token>.partial` while written,
 * `seg-NNNN.<token>.mkv` once done; `seg-NNNN.mkv` of journal format 1), and temp files.
 */
const OWN_FILE_RE =
  /^(journal\.json|list\.ffconcat|seg-\d{4}(\.[0-9a-f]{12})?\.mkv|seg-\d{4}\.[0-9a-f]{12}\.(partial|claim|beat)|seg-\d{4}\.(free|json)|\.(vpo|clock)\.\d+\.\d+\.[0-9a-z]+\.tmp)$/;

/** The directory holding job `id`'s segments. */
export function segmentDirPath(id: string, source: string, tempDirectory: string | null): string {
  return join(tempDirectory ?? dirname(source), `.vpo-${id}.segments`);
}

/** The job id a segment directory's name belongs to, or null if vpo did not make it. */
export function segmentDirOwner(name: string): string | null {
  return DIR_RE.exec(name)?.[1] ?? null;
}

/** The piece name of segment `index` (0-based) in the segment directory: `seg-NNNN`. */
export const pieceName = (index: number) => `seg-${String(index + 1).padStart(4, "0")}`;

/** The name of segment `index`'s file once claim `token` finished it. */
export const segmentFileName = (index: number, token: string) => `${pieceName(index)}.${token}.mkv`;

/** The name of segment `index`'s file while claim `token` writes it. */
export const partialName = (index: number, token: string) => `${pieceName(index)}.${token}.partial`;

/**
 * True when `dir` is a real directory (not a symbolic link) owned by this user (where owners can be
 * told apart: see {@link checkOwner}); false when it does not exist. Throws {@link SegmentError}
 * otherwise.
 */
export async function isOwnDir(dir: string): Promise<boolean> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.lstat(dir);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
  if (!info.isDirectory) throw notVpos(dir, "a link or a file");
  checkOwner(dir, info.uid);
  return true;
}

/**
 * The segment directory `dir`, which vpo made, held open: a link at its name is refused, its
 * owner checked as {@link isOwnDir} does, and from then on the names in it are reached through
 * the directory opened, whatever its name holds later (someone who may write the media folder
 * could rename it aside and put their own in its place).
 */
export function holdOwnDir(dir: string): HeldFolder {
  let held: HeldFolder;
  try {
    held = new HeldFolder(dir, { followLink: false });
  } catch (err) {
    if (err instanceof UntrustedDirectoryError) throw notVpos(dir, err.reason);
    throw err;
  }
  try {
    checkOwner(dir, held.stat().uid);
  } catch (err) {
    held[Symbol.dispose]();
    throw err;
  }
  return held;
}

/**
 * Throws {@link SegmentError} when the name `dir` no longer holds the directory `held` (where
 * inode numbers are stable): whatever was just read by that name was someone else's.
 */
export async function checkStillHeld(dir: string, held: HeldFolder): Promise<void> {
  if (!inodesAreStable(dir)) return;
  const now = await Deno.lstat(dir).catch(() => null);
  const was = held.stat();
  if (now?.ino !== was.ino || now?.dev !== was.dev) {
    throw new SegmentError(
      `${dir} was replaced by another directory while vpo used it; original kept`,
    );
  }
}

/**
 * Refuses another user's directory where owners mean something: not in a group-shared queue
 * (another member's worker made it) nor on sshfs or SMB (the client shows mapped or remote uids).
 */
function checkOwner(dir: string, owner: number | null): void {
  const uid = Deno.uid();
  const ownersCount = !sharesWithGroup() && inodesAreStable(dir);
  if (ownersCount && owner !== null && uid !== null && owner !== uid) {
    throw notVpos(dir, `owner uid ${owner}, not ${uid}`);
  }
}

const notVpos = (dir: string, why: string) =>
  new SegmentError(`${dir} is not a directory vpo made (${why}); left alone`);

/** Makes the segment directory (0700) unless it is there already and vpo's. */
export async function ensureOwnDir(dir: string): Promise<void> {
  if (await isOwnDir(dir)) return;
  await Deno.mkdir(dir, { mode: 0o700 });
  await syncDir(dirname(dir));
}

/** Removes every file vpo names in `dir`, nothing else. */
export async function clearOwnFiles(dir: string): Promise<void> {
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isFile && OWN_FILE_RE.test(entry.name)) {
      await Deno.remove(join(dir, entry.name)).catch(() => {});
    }
  }
}

/**
 * Removes a job's segment directory: only the files vpo names there, then the directory if it
 * is empty. Missing directory: nothing to do.
 */
export async function removeSegments(dir: string): Promise<void> {
  if (!await isOwnDir(dir)) return;
  await clearOwnFiles(dir);
  await Deno.remove(dir).catch(() => {
    // Something vpo did not put there is left with its directory.
  });
}

/** Bytes of the files vpo made in a segment directory (0 when it is gone). */
export function segmentDirSize(dir: string): number {
  let total = 0;
  try {
    for (const entry of Deno.readDirSync(dir)) {
      if (entry.isFile && OWN_FILE_RE.test(entry.name)) {
        total += Deno.statSync(join(dir, entry.name)).size;
      }
    }
  } catch {
    // Removed meanwhile: nothing to count.
  }
  return total;
}
