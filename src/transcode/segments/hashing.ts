/**
 * Size and SHA-256 of segment files: of a finished one read by its name (never through a link),
 * and of the one being made, read through vpo's own descriptor whatever its name holds by then.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { closeSync, readSync } from "node:fs";
import type { OwnedFile } from "../../util/owned_file.ts";
import { openRegularFileSync, UnreadableFileError } from "../../util/safe_open.ts";
import { SegmentError } from "./segment_dir.ts";

/** A file's size and SHA-256 (hex). */
export interface FileHash {
  size: number;
  sha256: string;
}

/** Size and SHA-256 of a regular file (not through a symbolic link), read in chunks. */
export function hashFile(path: string): Promise<FileHash> {
  return new Promise((resolve) => {
    let fd: number;
    try {
      fd = openRegularFileSync(path);
    } catch (err) {
      if (err instanceof UnreadableFileError) throw new SegmentError(`${path}: ${err.reason}`);
      throw err;
    }
    try {
      resolve(hashFd(fd));
    } finally {
      closeSync(fd);
    }
  });
}

/** Size and SHA-256 of the file vpo made, read through its descriptor whatever its name holds. */
export function hashOwned(file: OwnedFile): FileHash {
  return hashFd(file.fd);
}

function hashFd(fd: number): FileHash {
  const hash = createHash("sha256");
  const buffer = new Uint8Array(1 << 20);
  let size = 0;
  for (let n = readSync(fd, buffer, 0, buffer.length, 0); n > 0;) {
    hash.update(buffer.subarray(0, n));
    size += n;
    n = readSync(fd, buffer, 0, buffer.length, size);
  }
  return { size, sha256: hash.digest("hex") };
}
