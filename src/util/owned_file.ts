/**
 * Files vpo makes and changes in folders other people may write (a library shared over SMB, a
 * temp directory): created exclusively, changed only through an open handle, removed only when
 * they are still the inode vpo recorded. No operation here follows a symbolic link into a write.
 *
 * @module
 */
import fs from "node:fs";
import { inodesAreStable } from "./file_identity.ts";

/** Who may read and write a file: what the output copies from its source. */
export interface Permissions {
  /** Permission bits (0o777; setuid, setgid and sticky bits are never copied). */
  mode: number;
  uid: number | null;
  gid: number | null;
}

/**
 * A regular file vpo created itself, held open so that it can be named without its path. Opened
 * through node:fs, whose descriptors are the process's real ones: `/proc/<pid>/fd/<n>` names
 * this very inode to a child process, and fchmod/fchown change it whatever its path names now.
 */
export class OwnedFile {
  #open = true;
  private constructor(
    readonly path: string,
    readonly fd: number,
    /** Inode number at creation: the file vpo records and, later, the only one it removes. */
    readonly ino: number,
    readonly dev: number,
  ) {}

  /**
   * Creates `path`, failing if anything (a file, a symbolic link) is there already: O_CREAT with
   * O_EXCL never follows a link. Private to the owner (0600) until {@link setPermissions}.
   */
  static create(path: string): Promise<OwnedFile> {
    const { O_CREAT, O_EXCL, O_RDWR, O_NOFOLLOW } = fs.constants;
    return new Promise((resolve, reject) => {
      fs.open(path, O_CREAT | O_EXCL | O_RDWR | O_NOFOLLOW, 0o600, (err, fd) => {
        if (err) return reject(toDenoError(err));
        fs.fstat(fd, (err, info) => {
          if (err) {
            fs.close(fd);
            return reject(toDenoError(err));
          }
          resolve(new OwnedFile(path, fd, info.ino, info.dev));
        });
      });
    });
  }

  /**
   * A path another process (ffmpeg) can open to reach exactly this inode, whatever is at
   * {@link path} by then: `/proc/<pid>/fd/<n>` on Linux; elsewhere the path itself.
   */
  get pathForChild(): string {
    return Deno.build.os === "linux" ? `/proc/${Deno.pid}/fd/${this.fd}` : this.path;
  }

  /** Current size and inode, from the descriptor. */
  stat(): { size: number; ino: number } {
    const info = fs.fstatSync(this.fd);
    return { size: info.size, ino: info.ino };
  }

  /** Sets owner (where permitted) then mode on this inode, never on what the path names now. */
  setPermissions(perms: Permissions): void {
    if (perms.uid !== null && perms.gid !== null) {
      try {
        fs.fchownSync(this.fd, perms.uid, perms.gid);
      } catch {
        // Not permitted for a non-root worker: the output keeps the worker's own user.
      }
    }
    fs.fchmodSync(this.fd, perms.mode & 0o777);
  }

  /** Appends `data` at the current offset (the file is new and empty at first). */
  write(data: Uint8Array): void {
    let done = 0;
    while (done < data.length) done += fs.writeSync(this.fd, data, done, data.length - done);
  }

  /** Reads into `buffer` from byte `position` (not the current offset); 0 at the end. */
  readAt(buffer: Uint8Array, position: number): number {
    return fs.readSync(this.fd, buffer, 0, buffer.length, position);
  }

  /** fsync. */
  sync(): void {
    fs.fsyncSync(this.fd);
  }

  /** True when `path` still names this inode (a regular file, not a link put in its place). */
  async stillAtPath(): Promise<boolean> {
    try {
      const info = await Deno.lstat(this.path);
      return info.isFile && info.ino === this.ino && info.dev === this.dev;
    } catch {
      return false;
    }
  }

  [Symbol.dispose](): void {
    this.close();
  }

  close(): void {
    if (!this.#open) return;
    this.#open = false;
    fs.closeSync(this.fd);
  }
}

/** node:fs errors carry errno codes; callers test for Deno's error classes. */
function toDenoError(err: NodeJS.ErrnoException): Error {
  if (err.code === "EEXIST") return new Deno.errors.AlreadyExists(err.message);
  if (err.code === "ENOENT") return new Deno.errors.NotFound(err.message);
  if (err.code === "ELOOP") return new Deno.errors.AlreadyExists(err.message);
  return err;
}

/** The permissions of a file as {@link OwnedFile.setPermissions} applies them. */
export function permissionsOf(info: Deno.FileInfo): Permissions {
  return { mode: (info.mode ?? 0o600) & 0o777, uid: info.uid, gid: info.gid };
}

/**
 * Copies the regular file `from` (which must still be inode `fromIno`) into `to`, a new file vpo
 * made, and fsyncs it.
 */
export async function copyToNewFile(
  from: string,
  fromIno: number | null,
  to: OwnedFile,
): Promise<void> {
  using source = await Deno.open(from, { read: true });
  const info = await source.stat();
  if (!info.isFile || (fromIno !== null && info.ino !== fromIno)) {
    throw new Deno.errors.PermissionDenied(`${from} is not the file vpo wrote`);
  }
  const buffer = new Uint8Array(1 << 20);
  for (let n = await source.read(buffer); n !== null; n = await source.read(buffer)) {
    to.write(buffer.subarray(0, n));
  }
  to.sync();
}

/** What {@link removeIfOwned} did. */
export type RemoveOutcome = "removed" | "gone" | "not-ours";

/**
 * Removes `path` only when it is a regular file with inode `ino` (and `size`, when given): the
 * file vpo recorded. Anything else (another file, a link, a directory) is left where it is. On a
 * file system whose inode numbers differ per mount, a regular file of that size at `path` counts.
 */
export async function removeIfOwned(
  path: string,
  ino: number | null | undefined,
  size?: number,
): Promise<RemoveOutcome> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.lstat(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return "gone";
    throw err;
  }
  // Over sshfs and SMB inode numbers differ per mount, so a host recovering another host's job
  // could never match one: there the name stands in for it (the journal checks have confined it
  // to vpo's own pattern for that job, in a folder vpo works in), with the size when given.
  // Removing a name never touches another file's data: a link is removed, not followed.
  const sameInode = ino != null && info.ino === ino;
  if (
    !info.isFile || (!sameInode && inodesAreStable(path)) ||
    (size !== undefined && info.size !== size)
  ) {
    return "not-ours";
  }
  try {
    await Deno.remove(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return "gone";
    throw err;
  }
  return "removed";
}
