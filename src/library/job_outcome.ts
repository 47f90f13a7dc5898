/**
 * The transcode job type's hooks into the library: when a job ends, its outcome is remembered
 * under the source's queue-time stamp (and, for a converted file, under the output's stamp with
 * the output's probe), and the file's queue mark is removed.
 *
 * @module
 */
import type { MediaInfo } from "../media/probe.ts";
import type { Job } from "../queue/job.ts";
import type { VpoHome } from "../queue/layout.ts";
import { readPayload, type TranscodePayload } from "../transcode/payload.ts";
import type { TranscodeResult } from "../transcode/result.ts";
import { shortId } from "../util/ids.ts";
import { type FileStamp, policyHash, stampOf, type Warn } from "./decisions.ts";
import { Library } from "./library.ts";
import { dropMark } from "./queue_marks.ts";

/** How a job's run ended, as far as the library cares (a stopped run tells it nothing). */
export type JobEnd =
  | { state: "completed"; result: TranscodeResult; outputProbe: MediaInfo | null }
  | { state: "failed"; error: string };

/** The source's stamp when it was queued, or null when the job is no transcode job vpo wrote. */
function queuedSource(job: Job): { payload: TranscodePayload; source: FileStamp } | null {
  const payload = readPayload(job.payload);
  if (typeof payload === "string" || !job.file) return null;
  const { size, mtime_ms } = payload.fingerprint;
  return { payload, source: { path: job.file, size, mtime_ms } };
}

/**
 * Remembers how `job` ended. Never throws: the library is a cache, and a job's outcome is in
 * its job file whatever happens here.
 */
export function recordJobEnd(home: VpoHome, job: Job, end: JobEnd, warn: Warn): void {
  try {
    const queued = queuedSource(job);
    if (!queued) return;
    const library = Library.of(home, warn);
    const policy = policyHash(queued.payload.policy, queued.payload.force);
    remember(library, queued.source, policy, job.id, end);
    library.close();
  } catch (err) {
    warn(`could not remember the outcome of job ${shortId(job.id)}: ${(err as Error).message}`);
  }
}

/** Removes the queue mark of `job`'s source: the job ended (completed, failed or cancelled). */
export function dropJobMark(home: VpoHome, job: Job): void {
  const queued = queuedSource(job);
  if (queued) dropMark(home.library, queued.source, job.id);
}

function remember(
  library: Library,
  source: FileStamp,
  policy: string,
  job: string,
  end: JobEnd,
): void {
  const { decisions } = library;
  if (end.state === "failed") {
    decisions.record(source, policy, "failed", { detail: end.error.split("\n")[0], job });
    return;
  }
  const { result } = end;
  if (result.outcome === "kept_original") {
    decisions.record(source, policy, "kept_original", { detail: result.outcome_detail, job });
  } else if (result.outcome === "replaced") {
    const detail = result.outcome_detail;
    const output = stampOf(result.output_path, Deno.statSync(result.output_path));
    decisions.record(source, policy, "converted", { detail, job, output });
    decisions.record(output, policy, "converted", {
      detail: `the output of job ${shortId(job)} (${detail})`,
      job,
    });
    if (end.outputProbe) library.probes.record(output, end.outputProbe);
  }
}
