/**
 * Files vpo makes and changes in folders other people may write (a library shared over SMB, a
 * temp directory): created exclusively (util/safe_open.ts), changed only through an open handle,
 * removed only when they are still the inode vpo recorded. No operation here follows a symbolic
 * link into a write.
 *
 * @module
 */
import { closeSync, fchmodSync, fchownSync, fstatSync, readSync } from "node:fs";
import { inodesAreStable } from "./file_identity.ts";
import {
  createFileSync,
  OpenFile,
  openRegularFileSync,
  removeIfChecked,
  type RemoveOutcome,
} from "./safe_open.ts";

/** Who may read and write a file: what the output copies from its source. */
export interface Permissions {
  /** Permission bits (0o777; setuid, setgid and sticky bits are never copied). */
  mode: number;
  uid: number | null;
  gid: number | null;
}

/**
 * A regular file vpo created itself in a folder others may write (util/safe_open.ts makes it),
 * held open so that it can be named without its path: fchmod and fchown change this inode
 * whatever its path names now, and a child reaches it as {@link OpenFile.pathForChild}.
 */
export class OwnedFile extends OpenFile {
  /**
   * Creates `path`, failing if anything (a file, a symbolic link) is there already: O_CREAT with
   * O_EXCL never follows a link. Private to the owner (0600) until {@link setPermissions}.
   */
  static create(path: string): Promise<OwnedFile> {
    return new Promise((resolve) => {
      const made = createFileSync(path, { rule: "folder" });
      resolve(new OwnedFile(made.path, made.fd, made.ino, made.dev, 0));
    });
  }

  /** Sets owner (where permitted) then mode on this inode, never on what the path names now. */
  setPermissions(perms: Permissions): void {
    if (perms.uid !== null && perms.gid !== null) {
      try {
        fchownSync(this.fd, perms.uid, perms.gid);
      } catch {
        // Not permitted for a non-root worker: the output keeps the worker's own user.
      }
    }
    fchmodSync(this.fd, perms.mode & 0o777);
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
}

/** The permissions of a file as {@link OwnedFile.setPermissions} applies them. */
export function permissionsOf(info: Deno.FileInfo): Permissions {
  return { mode: (info.mode ?? 0o600) & 0o777, uid: info.uid, gid: info.gid };
}

/**
 * Copies the regular file `from` (which must still be inode `fromIno`) into `to`, a new file vpo
 * made, and fsyncs it.
 */
export function copyToNewFile(from: string, fromIno: number | null, to: OwnedFile): Promise<void> {
  return new Promise((resolve) => {
    const fd = openRegularFileSync(from);
    try {
      if (fromIno !== null && fstatSync(fd).ino !== fromIno) {
        throw new Deno.errors.PermissionDenied(`${from} is not the file vpo wrote`);
      }
      const buffer = new Uint8Array(1 << 20);
      for (let n = readSync(fd, buffer); n > 0; n = readSync(fd, buffer)) {
        to.writeSync(buffer.subarray(0, n));
      }
    } finally {
      closeSync(fd);
    }
    to.sync();
    resolve();
  });
}

/** What {@link removeIfOwned} did. */
export type { RemoveOutcome } from "./safe_open.ts";

/**
 * Removes `path` only when it is a regular file with inode `ino` (and `size`, when given): the
 * file vpo recorded. Anything else (another file, a link, a directory) is left where it is. On a
 * file system whose inode numbers differ per mount, a regular file of that size at `path` counts.
 * The file is judged and removed through one descriptor of its folder (see removeIfChecked).
 */
export function removeIfOwned(
  path: string,
  ino: number | null | undefined,
  size?: number,
): Promise<RemoveOutcome> {
  return removeIfChecked(path, (at) => {
    const info = Deno.lstatSync(at);
    // Over sshfs and SMB inode numbers differ per mount, so a host recovering another host's
    // job could never match one: there the name stands in for it (the journal checks have
    // confined it to vpo's own pattern for that job, in a folder vpo works in), with the size
    // when given. Removing a name never touches another file's data: a link is removed, not
    // followed.
    const sameInode = ino != null && info.ino === ino;
    return Promise.resolve(
      info.isFile && (sameInode || !inodesAreStable(path)) &&
        (size === undefined || info.size === size),
    );
  });
}
