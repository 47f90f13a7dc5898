/**
 * The few file-system primitives the queue's safety rests on: durable atomic writes, directory
 * fsync, a no-clobber publish, and the file system's own clock.
 *
 * @module
 */
import { dirname, join } from "node:path";
import { applyHomeFileMode } from "./file_mode.ts";

/** fsync a directory so that a rename or unlink in it survives a power cut. */
export async function syncDir(dir: string): Promise<void> {
  const handle = await Deno.open(dir, { read: true });
  try {
    await handle.sync();
  } catch {
    // Some file systems (and all of Windows) refuse fsync on a directory; the rename itself is
    // still atomic there, only its durability is weaker, which is the best they offer.
  } finally {
    handle.close();
  }
}

let tempCounter = 0;

/** A name for a temporary file that no other process or call of this process will choose. */
export function uniqueTempName(prefix: string): string {
  tempCounter += 1;
  const rand = crypto.getRandomValues(new Uint32Array(1))[0].toString(36);
  return `.${prefix}.${Deno.pid}.${tempCounter}.${rand}.tmp`;
}

/**
 * Writes `data` to a new temporary file in `tmpDir`, fsyncs it and returns its path. The caller
 * publishes it with a rename or link; a crash before that leaves only a temp file behind.
 */
export async function writeTempFile(
  tmpDir: string,
  data: string | Uint8Array,
  options: { durable?: boolean } = {},
): Promise<string> {
  const path = join(tmpDir, uniqueTempName("vpo"));
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const file = await Deno.open(path, { write: true, createNew: true, mode: 0o600 });
  try {
    applyHomeFileMode(path);
    let written = 0;
    while (written < bytes.length) written += await file.write(bytes.subarray(written));
    if (options.durable ?? true) await file.sync();
  } catch (err) {
    file.close();
    await Deno.remove(path).catch(() => {});
    throw err;
  }
  file.close();
  return path;
}

/**
 * Atomically replaces `path` with `data` (temp file in the same directory, rename). `durable`
 * (default) adds fsync of the file and the directory, for records a crash must not lose.
 *
 * Where a rename cannot replace an existing name (an SFTP server without posix-rename), the old
 * file is removed first: a crash in that instant leaves no file at `path`, only the temp file.
 * Callers write only files a crash may lose this way (a live file: recovery then acts on less).
 */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  options: { durable?: boolean } = {},
): Promise<void> {
  const dir = dirname(path);
  const tmp = await writeTempFile(dir, data, options);
  try {
    await renameOver(tmp, path);
  } catch (err) {
    await Deno.remove(tmp).catch(() => {});
    throw err;
  }
  if (options.durable ?? true) await syncDir(dir);
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

/**
 * Renames `from` to `to`, replacing `to`. Where the file system refuses to replace (SFTP without
 * posix-rename answers EPERM), removes `to` and renames again: not atomic, which is why only
 * {@link writeFileAtomic} uses it.
 */
async function renameOver(from: string, to: string): Promise<void> {
  try {
    await Deno.rename(from, to);
  } catch (err) {
    const refused = err instanceof Deno.errors.PermissionDenied ||
      err instanceof Deno.errors.AlreadyExists;
    if (!refused || !await exists(to)) throw err;
    await Deno.remove(to);
    await Deno.rename(from, to);
  }
}

/**
 * Runs `use` on `path` opened for reading, then closes it; null when there is no such file, also
 * when it vanishes while open: sshfs answers an fstat by path, so a file another host removes
 * between the open and the fstat reads as NotFound (with no path in the message).
 */
export async function withOpenFile<T>(
  path: string,
  use: (file: Deno.FsFile) => Promise<T>,
): Promise<T | null> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return null;
    throw err;
  }
  try {
    return await use(file);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return null;
    throw err;
  } finally {
    file.close();
  }
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
 * The file system's idea of "now", in ms since the epoch: the mtime of a file just written there.
 * Heartbeat ages are judged against this, never against this host's clock, because the worker
 * that touched the heartbeat may live on another host with another clock (NFS).
 */
export function fileSystemNow(dir: string): number {
  const path = join(dir, uniqueTempName("clock"));
  Deno.writeFileSync(path, new Uint8Array(), { createNew: true, mode: 0o600 });
  try {
    return Deno.statSync(path).mtime?.getTime() ?? Date.now();
  } finally {
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
