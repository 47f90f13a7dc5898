/**
 * Reading a file that someone else may have put in one of vpo's directories (a job file, a live
 * file, a cache). Such a file may be a FIFO, a device or a symbolic link posing as the real thing;
 * a plain read would then block forever in a system call no signal interrupts (a FIFO without a
 * writer), read without end (`/dev/zero`) or follow the link anywhere. So: `lstat` first, then
 * open with `O_NOFOLLOW | O_NONBLOCK` (a file swapped for a FIFO or a link between the two steps
 * neither blocks the open nor is followed), check the open handle's type again with `fstat`, and
 * read at most a fixed number of bytes.
 *
 * @module
 */
import { closeSync, constants, fstatSync, openSync, readSync } from "node:fs";

/** The largest job or live file vpo reads: real ones are a few kilobytes. */
export const MAX_JOB_FILE_BYTES = 1024 * 1024;

/** A file that is not a regular file, or too large: it is reported, never read. */
export class UnreadableFileError extends Error {
  /** `reason` says why the file at `path` was not read. */
  constructor(readonly path: string, readonly reason: string) {
    super(`${path}: ${reason}`);
    this.name = "UnreadableFileError";
  }
}

/** What kind of file `info` describes, for messages ("a FIFO", "a symbolic link", ...). */
export function describeFileType(info: Deno.FileInfo): string {
  if (info.isFile) return "a regular file";
  if (info.isSymlink) return "a symbolic link";
  if (info.isDirectory) return "a directory";
  if (info.isFifo) return "a FIFO";
  if (info.isCharDevice) return "a character device";
  if (info.isBlockDevice) return "a block device";
  if (info.isSocket) return "a socket";
  return "not a regular file";
}

function refuseType(path: string, kind: string): never {
  throw new UnreadableFileError(path, `${kind}, not a regular file; vpo does not read it`);
}

function refuseSize(path: string, size: number, maxBytes: number): never {
  throw new UnreadableFileError(
    path,
    `${size} bytes, more than the ${maxBytes} a vpo file can have; vpo does not read it`,
  );
}

/**
 * A read-only descriptor of the regular file at `path`, opened without following a symbolic link
 * and without blocking on a FIFO or device (it is then refused). Throws `Deno.errors.NotFound` when
 * there is no file, {@link UnreadableFileError} when it is not a regular file. Close it with
 * `closeSync` from node:fs.
 */
export function openRegularFileSync(path: string): number {
  const info = Deno.lstatSync(path);
  if (!info.isFile) refuseType(path, describeFileType(info));
  return openChecked(path);
}

/**
 * Opens `path` (already seen as a regular file by lstat) and refuses what the open finds is not.
 * The lstat is what keeps links out: under narrowed read permissions Deno resolves a path before
 * it opens it, so O_NOFOLLOW alone does not stop a link (measured with Deno 2.9.6).
 */
function openChecked(path: string): number {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === "ENOENT") throw new Deno.errors.NotFound(`${path}: no such file`);
    if (code === "ELOOP") refuseType(path, "a symbolic link");
    throw err;
  }
  const stat = fstatSync(fd);
  if (!stat.isFile()) {
    closeSync(fd);
    refuseType(
      path,
      stat.isFIFO()
        ? "a FIFO"
        : stat.isDirectory()
        ? "a directory"
        : stat.isCharacterDevice()
        ? "a character device"
        : stat.isBlockDevice()
        ? "a block device"
        : "a special file",
    );
  }
  return fd;
}

/**
 * The text of the regular file at `path`, read without following a symbolic link and without
 * ever blocking on what the file turns out to be. Throws `Deno.errors.NotFound` when there is no
 * file, {@link UnreadableFileError} when it is not a regular file or holds more than `maxBytes`.
 */
export function readRegularFileSync(path: string, maxBytes = MAX_JOB_FILE_BYTES): string {
  const info = Deno.lstatSync(path);
  if (!info.isFile) refuseType(path, describeFileType(info));
  if (info.size > maxBytes) refuseSize(path, info.size, maxBytes);
  const fd = openChecked(path);
  try {
    const stat = fstatSync(fd);
    // One byte more than allowed tells a file that grew since the lstat from one that did not.
    const buf = new Uint8Array(Math.min(stat.size, maxBytes) + 1);
    let n = 0;
    while (n < buf.length) {
      const got = readSync(fd, buf, n, buf.length - n, null);
      if (got === 0) break;
      n += got;
    }
    if (n > maxBytes) refuseSize(path, stat.size, maxBytes);
    return new TextDecoder().decode(buf.subarray(0, n));
  } finally {
    closeSync(fd);
  }
}

/**
 * Throws {@link UnreadableFileError} unless `path` is a regular file, or missing while
 * `mustExist` is false. For the files vpo appends to in its home (logs): checked before opening
 * and again once open, because under narrowed permissions Deno follows a link whatever the open
 * flags say, and an fstat of a write-only handle stalls smbnetfs.
 */
export function refuseIfNotRegular(path: string, mustExist = false): void {
  let info: Deno.FileInfo;
  try {
    info = Deno.lstatSync(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound && !mustExist) return;
    throw err;
  }
  if (!info.isFile) refuseType(path, describeFileType(info));
}
