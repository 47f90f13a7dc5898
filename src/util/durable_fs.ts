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
 */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  options: { durable?: boolean } = {},
): Promise<void> {
  const dir = dirname(path);
  const tmp = await writeTempFile(dir, data, options);
  try {
    await Deno.rename(tmp, path);
  } catch (err) {
    await Deno.remove(tmp).catch(() => {});
    throw err;
  }
  if (options.durable ?? true) await syncDir(dir);
}

/**
 * Publishes `from` at `to` only if nothing exists at `to` (hard link, the maildir primitive), then
 * removes `from`. Returns false when `to` already exists. On file systems without hard links it
 * falls back to check-then-rename, which is atomic but can clobber a file created in between.
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
