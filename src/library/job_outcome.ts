/**
 * What the library learns when a job ends: its outcome is remembered under the source's
 * queue-time stamp (and, for a converted file, under the output's stamp with the output's probe),
 * and the file's queue mark is removed. Job types call these from their run and `ending` hook,
 * with the keys they queued the file under, so that the worker knows nothing of the library.
 *
 * @module
 */
import type { MediaInfo } from "../media/probe.ts";
import type { VpoHome } from "../queue/layout.ts";
import { shortId } from "../util/ids.ts";
import { type FileStamp, stampOf, type Warn } from "./decisions.ts";
import { Library } from "./library.ts";
import { dropMark } from "./queue_marks.ts";

/** The keys a job's outcome is remembered under: what its type queued it as. */
export interface QueuedSource {
  /** The job's id. */
  job: string;
  /** The source's stamp when it was queued. */
  source: FileStamp;
  /** {@link policyHash} of the policy it was decided under. */
  policy: string;
}

/**
 * The keys of a job on one file: its id, the file's size and mtime when it was queued, and the
 * key of the policy it was decided under; null for a job without a file.
 */
export function queuedSourceOf(
  job: { id: string; file: string | null },
  queued: { size: number; mtime_ms: number },
  policy: string,
): QueuedSource | null {
  if (!job.file) return null;
  return {
    job: job.id,
    source: { path: job.file, size: queued.size, mtime_ms: queued.mtime_ms },
    policy,
  };
}

/** How a job's run ended, as far as the library cares (a stopped run tells it nothing). */
export type JobEnd =
  | { state: "completed"; outcome: "skipped" }
  | { state: "completed"; outcome: "kept_original"; detail: string }
  | {
    state: "completed";
    outcome: "replaced";
    detail: string;
    /** Where the new file is. */
    outputPath: string;
    /** The verified output's probe, cached under the output's stamp; null when not probed. */
    outputProbe: MediaInfo | null;
  }
  | { state: "failed"; error: string };

/** How a completed job that replaced its file ended: `result` is its result. */
export function replacedEnd(
  result: { outcome_detail: string; output_path: string },
  outputProbe: MediaInfo | null,
): JobEnd {
  return {
    state: "completed",
    outcome: "replaced",
    detail: result.outcome_detail,
    outputPath: result.output_path,
    outputProbe,
  };
}

/**
 * Remembers how the job queued as `queued` ended. Never throws: the library is a cache, and a
 * job's outcome is in its job file whatever happens here.
 */
export function recordJobEnd(home: VpoHome, queued: QueuedSource, end: JobEnd, warn: Warn): void {
  try {
    const library = Library.of(home, warn);
    remember(library, queued, end);
    library.close();
  } catch (err) {
    warn(`could not remember the outcome of job ${shortId(queued.job)}: ${(err as Error).message}`);
  }
}

/** Removes the queue mark of a job's source: the job ended (completed, failed or cancelled). */
export function dropJobMark(home: VpoHome, queued: QueuedSource): void {
  dropMark(home.library, queued.source, queued.job);
}

function remember(library: Library, queued: QueuedSource, end: JobEnd): void {
  const { decisions } = library;
  const { source, policy, job } = queued;
  if (end.state === "failed") {
    decisions.record(source, policy, "failed", { detail: end.error.split("\n")[0], job });
  } else if (end.outcome === "kept_original") {
    decisions.record(source, policy, "kept_original", { detail: end.detail, job });
  } else if (end.outcome === "replaced") {
    const detail = end.detail;
    const output = stampOf(end.outputPath, Deno.statSync(end.outputPath));
    decisions.record(source, policy, "converted", { detail, job, output });
    decisions.record(output, policy, "converted", {
      detail: `the output of job ${shortId(job)} (${detail})`,
      job,
    });
    if (end.outputProbe) library.probes.record(output, end.outputProbe);
  }
}
