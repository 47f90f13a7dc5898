/**
 * Size and SHA-256 of segment files: of a finished one read by its name (never through a link),
 * and of the one being made, read through vpo's own descriptor whatever its name holds by then.
 *
 * @module
 */
import { createHash } from "node:crypto";
import type { OwnedFile } from "../../util/owned_file.ts";
import { SegmentError } from "./segment_dir.ts";

/** A file's size and SHA-256 (hex). */
export interface FileHash {
  size: number;
  sha256: string;
}

/** Size and SHA-256 of a regular file (not through a symbolic link), read in chunks. */
export async function hashFile(path: string): Promise<FileHash> {
  const info = await Deno.lstat(path);
  if (!info.isFile) throw new SegmentError(`${path} is not a regular file`);
  const hash = createHash("sha256");
  // The readable stream closes the file when it ends or fails.
  const file = await Deno.open(path, { read: true });
  let size = 0;
  for await (const chunk of file.readable) {
    hash.update(chunk);
    size += chunk.length;
  }
  return { size, sha256: hash.digest("hex") };
}

/** Size and SHA-256 of the file vpo made, read through its descriptor whatever its name holds. */
export function hashOwned(file: OwnedFile): FileHash {
  const hash = createHash("sha256");
  const buffer = new Uint8Array(1 << 20);
  let size = 0;
  for (let n = file.readAt(buffer, 0); n > 0; n = file.readAt(buffer, size)) {
    hash.update(buffer.subarray(0, n));
    size += n;
  }
  return { size, sha256: hash.digest("hex") };
}
