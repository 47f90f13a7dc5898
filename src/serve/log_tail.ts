/**
 * The end of a job's ffmpeg log, for the page's failed-job view.
 *
 * @module
 */
import { closeSync, fstatSync, readSync } from "node:fs";
import type { Job } from "../queue/job.ts";
import type { VpoHome } from "../queue/layout.ts";
import { openRegularFileSync } from "../util/safe_open.ts";

/** What the page shows under a failed job. */
export interface LogTail {
  /** Path of `$VPO_HOME/logs/<id>.log`, or null when there is none. */
  path: string | null;
  /** Its last lines; without a log, the job's `error` (which ends with a log tail). */
  text: string;
}

/**
 * The last `maxBytes` of the log of `job` (a job found by id: the path is built from its
 * validated id, never from a request). Only a regular file in the home's own logs/ is read: a
 * link, FIFO or device swapped in at any moment is refused without blocking, never followed.
 */
export function readLogTail(home: VpoHome, job: Job, maxBytes = 16_384): LogTail {
  const path = home.logPath(job.id);
  let fd: number;
  try {
    fd = openRegularFileSync(path, { rule: "home" });
  } catch {
    return { path: null, text: job.error ?? "" };
  }
  try {
    const size = fstatSync(fd).size;
    const start = Math.max(0, size - maxBytes);
    const buf = new Uint8Array(size - start);
    let read = 0;
    while (read < buf.length) {
      const n = readSync(fd, buf, read, buf.length - read, start + read);
      if (n === 0) break;
      read += n;
    }
    let text = new TextDecoder().decode(buf.subarray(0, read));
    // Cut to whole lines: the first one is most likely a fragment.
    if (start > 0) text = text.slice(text.indexOf("\n") + 1);
    return { path, text };
  } catch {
    return { path: null, text: job.error ?? "" };
  } finally {
    closeSync(fd);
  }
}
