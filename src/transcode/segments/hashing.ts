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
export async function hashFile(path: string): Promise<FileHash> {
  let fd: number;
  try {
    fd = openRegularFileSync(path);
  } catch (err) {
    if (err instanceof UnreadableFileError) throw new SegmentError(`${path}: ${err.reason}`);
    throw err;
  }
  try {
    return await hashFd(fd);
  } finally {
    closeSync(fd);
  }
}

/** Size and SHA-256 of the file vpo made, read through its descriptor whatever its name holds. */
export function hashOwned(file: OwnedFile): Promise<FileHash> {
  return hashFd(file.fd);
}

const CHUNK = 1 << 20;
/**
 * Chunks read between two turns of the event loop. A resumed film's segments are all hashed, many
 * gigabytes over a network share: the worker's heartbeat timers must run meanwhile, or the job
 * looks dead to the other workers and is recovered from under it.
 */
const CHUNKS_PER_TURN = 16;

async function hashFd(fd: number): Promise<FileHash> {
  const hash = createHash("sha256");
  const buffer = new Uint8Array(CHUNK);
  let size = 0;
  for (let chunk = 1;; chunk++) {
    const n = readSync(fd, buffer, 0, buffer.length, size);
    if (n <= 0) break;
    hash.update(buffer.subarray(0, n));
    size += n;
    if (chunk % CHUNKS_PER_TURN === 0) await new Promise((turn) => setTimeout(turn, 0));
  }
  return { size, sha256: hash.digest("hex") };
}
