/**
 * Telling files apart on any file system, including network ones where inode numbers are made
 * up per mount (sshfs, smbnetfs: another host, or a remount, sees other numbers for one file).
 *
 * The one place vpo decides "is this still the file I recorded?": record {@link fileIdentity} of
 * a file vpo made or is about to act on, and later act on a path only when
 * {@link hasIdentity} says it still holds that file.
 *
 * @module
 */
import { closeSync, fstatSync, readSync } from "node:fs";
import { openRegularFileOrNull } from "./safe_open.ts";
import { mountOf } from "./mounts.ts";

/**
 * A file's identity as {@link fileIdentity} gives it: `<size>:<24 hex digits>`. Compare with
 * `===`; store it as it is (it is JSON-safe and the same on every host).
 */
export type FileIdentity = string;

/** Types whose inode numbers are not stable across mounts and hosts. */
const UNSTABLE_INODES = /^(fuse(\..*)?|fuseblk|cifs|smb3|smbfs|9p|vboxsf|vmhgfs|ncpfs)$/;

/** True when inode numbers on the file system of `path` name the same file on every host. */
export function inodesAreStable(path: string): boolean {
  return !UNSTABLE_INODES.test(mountOf(path).fsType);
}

const SAMPLE_BYTES = 64 * 1024;

/**
 * An identity of the file at `path` that any host sees alike: its size and a SHA-256 of its first
 * and last 64 KiB. It tells a source from its encoded output and a backup from an unrelated file
 * (what the replace's crash recovery needs), without inode numbers. Null when there is no regular
 * file at `path`: nothing, a directory, or a symlink (never followed: a link someone put in the
 * place of a file vpo made is not that file).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const path = await Deno.makeTempFile();
 * await Deno.writeTextFile(path, "abc");
 * const id = await fileIdentity(path);
 * assert.match(id!, /^3:[0-9a-f]{24}$/);
 * assert.ok(await hasIdentity(path, id));
 * await Deno.writeTextFile(path, "abd");
 * assert.ok(!await hasIdentity(path, id));
 * await Deno.remove(path);
 * assert.equal(await fileIdentity(path), null);
 * ```
 */
export async function fileIdentity(path: string): Promise<FileIdentity | null> {
  // Anything but a regular file is not one vpo made, and opening a FIFO would hang. A path stat
  // may answer "missing" from a network mount's cache, so only the open, which asks the file
  // server, decides that a file is gone.
  const fd = openRegularFileOrNull(path);
  if (fd === null) return null;
  try {
    // sshfs answers an fstat by path, so a file another host removes meanwhile reads as gone.
    const size = fstatSync(fd).size;
    const head = readAt(fd, 0, Math.min(SAMPLE_BYTES, size));
    const tailStart = Math.max(head.length, size - SAMPLE_BYTES);
    const tail = readAt(fd, tailStart, size - tailStart);
    const both = new Uint8Array(head.length + tail.length);
    both.set(head);
    both.set(tail, head.length);
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", both));
    const hex = Array.from(digest.subarray(0, 12), (b) => b.toString(16).padStart(2, "0")).join("");
    return `${size}:${hex}`;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound || (err as { code?: string }).code === "ENOENT") {
      return null;
    }
    throw err;
  } finally {
    closeSync(fd);
  }
}

function readAt(fd: number, offset: number, length: number): Uint8Array {
  const buf = new Uint8Array(length);
  let got = 0;
  while (got < length) {
    const n = readSync(fd, buf, got, length - got, offset + got);
    if (n === 0) break;
    got += n;
  }
  return buf.subarray(0, got);
}

/**
 * True when `path` holds the file whose identity was `recorded`; false when nothing was recorded
 * (an older record, or the identity could not be taken), so a caller never acts on a guess.
 */
export async function hasIdentity(
  path: string,
  recorded: FileIdentity | null | undefined,
): Promise<boolean> {
  return recorded != null && await fileIdentity(path) === recorded;
}
