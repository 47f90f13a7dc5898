/**
 * Heartbeats that hold on network file systems.
 *
 * A running job's heartbeat is a small file, `live/<id>.<token>.beat`, rewritten by its worker
 * every `heartbeat_interval`. Its age is judged by mtimes alone, both set by the file server when
 * data is written, never by any host's clock: the beat's mtime (its last write) against the mtime
 * of a probe file written at the moment of judging ({@link fileSystemNow}). A worker whose clock
 * is minutes off can neither keep a dead job alive nor make a live one look dead.
 *
 * Why not `utime` and ctime: a `utime` sets the time the caller's clock gives, and ctime is not
 * the server's clock over SFTP (v3 has no ctime; sshfs reports mtime) nor over smbnetfs (utime
 * moves it). Writing data is the one update every protocol stamps with the server's clock.
 *
 * Why through an open handle: an `fstat` after `open` asks the server on NFS (close-to-open
 * consistency) and on sshfs (its attribute cache is bypassed for open files); only the kernel's
 * FUSE attribute timeout (1 s by default) can still serve an older mtime. See docs/multihost.md
 * for the bound this puts on `stale_after`.
 *
 * @module
 */

import { closeSync, fstatSync } from "node:fs";
import {
  createFileSync,
  type DirRule,
  openRegularFileOrNull,
  rewriteFileSync,
} from "../util/safe_open.ts";

/**
 * Writes the beat file; its new mtime is the heartbeat. The first beat of a claim is made with
 * `first`, exclusively, so nothing planted at the name is written through; later ones rewrite it
 * in place once its handle proved it a regular file (other hosts may have it open to judge it),
 * and replace by rename whatever else is there (others may write live/ in a shared queue: a link
 * to a file of this worker's user is replaced, never written through). `text` is what the beat
 * says besides its mtime (default: the time, for people reading the directory); `rule` which
 * directory may hold it (the home's live/, or a job's piece directory).
 */
export function writeBeat(
  path: string,
  first = false,
  text?: string,
  rule: DirRule = "home",
): Promise<void> {
  return new Promise((resolve) => {
    // Only the mtime counts for the heartbeat.
    const content = text ?? `${new Date().toISOString()}\n`;
    if (first) {
      using file = createFileSync(path, { rule });
      file.writeSync(new TextEncoder().encode(content));
    } else {
      rewriteFileSync(path, content, { rule });
    }
    resolve();
  });
}

/**
 * The file server's mtime of the beat at `path` (fresh from the server: read from an open
 * handle), or null when missing or not a regular file (a FIFO is never waited on, a link never
 * followed: the job file's own times stand in).
 */
export function beatTime(path: string): number | null {
  const fd = openRegularFileOrNull(path);
  if (fd === null) return null;
  try {
    return fstatSync(fd).mtimeMs;
  } finally {
    closeSync(fd);
  }
}

/**
 * Seconds since the last heartbeat of a running job, on the file system's clock (`fsNow`), or
 * null when the job file is gone. Without a beat file (a job moved into running/ by hand, or run
 * by an older vpo) the job file's own ctime (else mtime) stands in, as it did before beats.
 */
export async function heartbeatAgeSec(
  jobPath: string,
  beatPath: string | null,
  fsNow: number,
): Promise<number | null> {
  let last = beatPath === null ? null : beatTime(beatPath);
  if (last === null) {
    try {
      const info = await Deno.stat(jobPath);
      last = info.ctime?.getTime() ?? info.mtime?.getTime() ?? 0;
    } catch {
      return null;
    }
  }
  return (fsNow - last) / 1000;
}
