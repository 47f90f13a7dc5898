/**
 * The end of a job's ffmpeg log, for the page's failed-job view.
 *
 * @module
 */
import type { Job } from "../queue/job.ts";
import type { VpoHome } from "../queue/layout.ts";

/** What the page shows under a failed job. */
export interface LogTail {
  /** Path of `$VPO_HOME/logs/<id>.log`, or null when there is none. */
  path: string | null;
  /** Its last lines; without a log, the job's `error` (which ends with a log tail). */
  text: string;
}

/**
 * The last `maxBytes` of the log of `job` (a job found by id: the path is built from its
 * validated id, never from a request). A log that is a symbolic link or not a file is not read.
 */
export async function readLogTail(home: VpoHome, job: Job, maxBytes = 16_384): Promise<LogTail> {
  const path = home.logPath(job.id);
  let file: Deno.FsFile | null = null;
  try {
    const info = await Deno.lstat(path);
    if (!info.isFile) return { path: null, text: job.error ?? "" };
    file = await Deno.open(path, { read: true });
    const start = Math.max(0, info.size - maxBytes);
    await file.seek(start, Deno.SeekMode.Start);
    const buf = new Uint8Array(info.size - start);
    let read = 0;
    while (read < buf.length) {
      const n = await file.read(buf.subarray(read));
      if (n === null) break;
      read += n;
    }
    let text = new TextDecoder().decode(buf.subarray(0, read));
    // Cut to whole lines: the first one is most likely a fragment.
    if (start > 0) text = text.slice(text.indexOf("\n") + 1);
    return { path, text };
  } catch {
    return { path: null, text: job.error ?? "" };
  } finally {
    file?.close();
  }
}
