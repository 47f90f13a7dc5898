/**
 * The transcode job's hooks into the library (docs/library.md): the keys a job's outcome is
 * remembered under, and its result in the library's words.
 *
 * @module
 */
import type { MediaInfo } from "../media/probe.ts";
import { policyHash } from "../library/decisions.ts";
import {
  type JobEnd,
  type QueuedSource,
  queuedSourceOf,
  replacedEnd,
} from "../library/job_outcome.ts";
import type { TranscodeJob } from "./record.ts";
import type { TranscodeResult } from "./result.ts";

/** The source's stamp when it was queued, and its policy; null for a job without a file. */
export function queuedSource(job: TranscodeJob): QueuedSource | null {
  const { fingerprint, policy, force, tracks } = job.payload;
  return queuedSourceOf(job, fingerprint, policyHash(policy, force, tracks ?? null));
}

/** How a completed transcode ended, as the library remembers it. */
export function completedEnd(result: TranscodeResult, outputProbe: MediaInfo | null): JobEnd {
  switch (result.outcome) {
    case "skipped":
      return { state: "completed", outcome: "skipped" };
    case "kept_original":
      return { state: "completed", outcome: "kept_original", detail: result.outcome_detail };
    case "replaced":
      return replacedEnd(result, outputProbe);
  }
}
