/**
 * The few file-system primitives the queue's safety rests on: durable atomic writes, directory
 * fsync, a no-clobber publish, and the file system's own clock.
 *
 * @module
 */
import { closeSync, fsyncSync } from "node:fs";
import { join } from "node:path";
import {
  createFileSync,
  type DirRule,
  openDirectorySync,
  replaceFileSync,
  uniqueTempName,
  writeTempFileSync,
} from "./safe_open.ts";

/**
 * `op`'s result as a promise, its exception as a rejection: the writes here are synchronous (small
 * files), the callers' API stays a promise.
 */
const settled = <T>(op: () => T) => new Promise<T>((resolve) => resolve(op()));

/** fsync a directory so that a rename or unlink in it survives a power cut. */
export function syncDir(dir: string): Promise<void> {
  return settled(() => {
    const fd = openDirectorySync(dir);
    try {
      fsyncSync(fd);
    } catch {
      // Some file systems (and all of Windows) refuse fsync on a directory; the rename itself
      // is still atomic there, only its durability is weaker, which is the best they offer.
    } finally {
      closeSync(fd);
    }
  });
}

/**
 * Writes `data` to a new temporary file in `tmpDir` (one of the home's, or a directory `rule`
 * names), fsyncs it and returns its path. The caller publishes it with a rename or link; a crash
 * before that leaves only a temp file behind.
 */
export function writeTempFile(
  tmpDir: string,
  data: string | Uint8Array,
  options: { durable?: boolean; rule?: DirRule } = {},
): Promise<string> {
  return settled(() => writeTempFileSync(tmpDir, data, options));
}

/**
 * Atomically replaces `path` with `data` (see {@link replaceFileSync}: a temp beside it, renamed
 * over the name, never written through a link). `durable` (default) adds fsync of the file and
 * the directory, for records a crash must not lose. `rule` says which directory may hold it (the
 * home's, by default).
 */
export function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  options: { durable?: boolean; rule?: DirRule } = {},
): Promise<void> {
  return settled(() => replaceFileSync(path, data, options));
}

/**
 * Publishes `from` at `to` only if nothing exists at `to` (hard link, the maildir primitive), then
 * removes `from`. Returns false when `to` already exists. On file systems without hard links (SMB)
 * it falls back to check-then-rename, which is atomic but would clobber a file created in between.
 * That is safe for the queue: only the one process holding a job (holding is an exclusive rename)
 * publishes `<state>/<id>.json`, so two publishers of a name are two copies of the same job that a
 * crash left behind (docs/multihost.md).
 */
export async function publishNoClobber(from: string, to: string): Promise<boolean> {
  try {
    await Deno.link(from, to);
  } catch (err) {
    if (err instanceof Deno.errors.AlreadyExists) return false;
    if (err instanceof Deno.errors.NotFound) throw err;
    if (await exists(to)) return false;
    await Deno.rename(from, to);
    return true;
  }
  await Deno.remove(from);
  return true;
}

/** True when `path` exists (without following a final symlink's target). */
export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}

/**
 * The file system's idea of "now", in ms since the epoch: the mtime of a file just written there
 * (in `dir`, one of the home's unless `rule` says otherwise). Heartbeat ages are judged against
 * this, never against this host's clock, because the worker that touched the heartbeat may live
 * on another host with another clock (NFS).
 */
export function fileSystemNow(dir: string, rule: DirRule = "home"): number {
  const path = join(dir, uniqueTempName("clock"));
  const file = createFileSync(path, { rule });
  try {
    // Stamped by the file server when it made the file, read through the handle.
    return file.stat().mtimeMs;
  } finally {
    file.close();
    try {
      Deno.removeSync(path);
    } catch {
      // Swept with the other temp files after a day.
    }
  }
}

/**
 * Errors a network file system reports for a moment: smbnetfs answers EIO to a stat or utime
 * while it is busy with concurrent requests, NFS ESTALE after another host replaced a file.
 */
function isTransient(err: unknown): boolean {
  const code = (err as { code?: string }).code;
  return code === "EIO" || code === "ESTALE" || code === "EAGAIN";
}

/**
 * Runs `op`, retrying up to 4 more times (50, 100, 200, 400 ms apart) when it fails with a
 * transient error; any other error, or the fifth transient one, is thrown. Only for operations
 * that are safe to repeat (a stat, a rewrite of a whole file).
 */
export async function retryTransient<T>(op: () => Promise<T>): Promise<T> {
  for (let attempt = 0;; attempt++) {
    try {
      return await op();
    } catch (err) {
      if (attempt >= 4 || !isTransient(err)) throw err;
      await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** attempt));
    }
  }
}
