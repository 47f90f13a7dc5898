/**
 * The transcode job's hooks into the library (docs/library.md): the keys a job's outcome is
 * remembered under, and its result in the library's words.
 *
 * @module
 */
import type { MediaInfo } from "../media/probe.ts";
import { policyHash } from "../library/decisions.ts";
import type { JobEnd, QueuedSource } from "../library/job_outcome.ts";
import type { Job } from "../queue/job.ts";
import { readPayload } from "./payload.ts";
import type { TranscodeResult } from "./result.ts";

/** The source's stamp when it was queued and its policy, or null for a job vpo did not write. */
export function queuedSource(job: Job): QueuedSource | null {
  const payload = readPayload(job.payload);
  if (typeof payload === "string" || !job.file) return null;
  const { size, mtime_ms } = payload.fingerprint;
  return {
    job: job.id,
    source: { path: job.file, size, mtime_ms },
    policy: policyHash(payload.policy, payload.force),
  };
}

/** How a completed transcode ended, as the library remembers it. */
export function completedEnd(result: TranscodeResult, outputProbe: MediaInfo | null): JobEnd {
  switch (result.outcome) {
    case "skipped":
      return { state: "completed", outcome: "skipped" };
    case "kept_original":
      return { state: "completed", outcome: "kept_original", detail: result.outcome_detail };
    case "replaced":
      return {
        state: "completed",
        outcome: "replaced",
        detail: result.outcome_detail,
        outputPath: result.output_path,
        outputProbe,
      };
  }
}
