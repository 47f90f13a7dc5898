/**
 * A source file's identity at queue time (size, mtime, inode), so a file that changed or was
 * swapped since is noticed before anything is encoded or replaced. The inode is left out where
 * the file system makes inode numbers up per mount (sshfs, SMB): another host would see a
 * different number for the same file.
 *
 * @module
 */
import { inodesAreStable } from "../util/file_identity.ts";
import { formatBytes, localMinute } from "../util/format.ts";

/** What vpo remembers of a source file. */
export interface Fingerprint {
  /** Bytes. */
  size: number;
  /** Modification time, ms since the epoch. */
  mtime_ms: number;
  /** Inode number; null where inode numbers differ per mount (sshfs, SMB). */
  ino: number | null;
  /** Device number; null like `ino`. */
  dev: number | null;
}

/** The fingerprint of a stat result of `path`. */
export function fingerprintOf(info: Deno.FileInfo, path: string): Fingerprint {
  const stable = inodesAreStable(path);
  return {
    size: info.size,
    mtime_ms: info.mtime?.getTime() ?? 0,
    ino: stable ? info.ino ?? null : null,
    dev: stable ? info.dev ?? null : null,
  };
}

/** Stats `path` and returns its fingerprint, or null when it does not exist. */
export async function fingerprintPath(path: string): Promise<Fingerprint | null> {
  try {
    return fingerprintOf(await Deno.stat(path), path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return null;
    throw err;
  }
}

const GONE = "the source file is gone";

/**
 * Why `now` is not the file `then` described, or null when it is the same file, unchanged.
 * Both come from stats of one path on one file system, so comparing mtimes exactly is sound.
 */
export function describeChange(then: Fingerprint, now: Fingerprint | null): string | null {
  if (now === null) return GONE;
  if (then.ino !== null && now.ino !== null && then.ino !== now.ino) {
    return "the source file was replaced by another file";
  }
  if (then.size !== now.size) {
    let [was, is] = [formatBytes(then.size), formatBytes(now.size)];
    // A few bytes appended would read "1.8 MiB -> 1.8 MiB": then the exact counts say it.
    if (was === is) [was, is] = [`${then.size}`, `${now.size} bytes`];
    return `the source file changed size (${was} -> ${is})`;
  }
  if (then.mtime_ms !== now.mtime_ms) {
    return `the source file was modified (${localMinute(new Date(now.mtime_ms))})`;
  }
  return null;
}

/**
 * A job's error for a source that changed (`change`, from {@link describeChange}) `when`, with
 * what was `kept`. A retry compares the file with the same queue-time fingerprint and fails alike,
 * so the error says what does work: queueing the file again (unless it is gone).
 */
export function sourceChangedError(change: string, when: string, kept: string): string {
  const next = change === GONE
    ? ""
    : " (queue the file again to convert it as it is now; a retry would fail alike)";
  return `${change} ${when}; ${kept}${next}`;
}
