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
 * told apart: see below); false when it does not exist. Throws {@link SegmentError} otherwise.
 */
export async function isOwnDir(dir: string): Promise<boolean> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.lstat(dir);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
  if (!info.isDirectory) {
    throw new SegmentError(`${dir} is not a directory vpo made (a link or a file); left alone`);
  }
  // Another user's directory is refused where owners mean something: not in a group-shared queue
  // (another member's worker made it) nor on sshfs or SMB (the client shows mapped or remote uids).
  const uid = Deno.uid();
  const ownersCount = !sharesWithGroup() && inodesAreStable(dir);
  if (ownersCount && info.uid !== null && uid !== null && info.uid !== uid) {
    throw new SegmentError(
      `${dir} is not a directory vpo made (owner uid ${info.uid}, not ${uid}); left alone`,
    );
  }
  return true;
}

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
