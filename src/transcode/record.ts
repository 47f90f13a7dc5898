/**
 * A transcode job's record with its payload and result typed: `Job<TranscodePayload,
 * TranscodeResult>`, made only by {@link readTranscodeJob}, which checks both whole.
 *
 * @module
 */
import type { Job } from "../queue/job.ts";
import { readPayload, type TranscodePayload } from "./payload.ts";
import { readResult, type TranscodeResult } from "./result.ts";

/** A transcode job whose payload and result were checked by their readers. */
export type TranscodeJob = Job<TranscodePayload, TranscodeResult>;

/**
 * `job` with its payload and result (if any) read, or the first problem as one line (`where`
 * names the payload in it, e.g. `<job file>: payload`).
 */
export function readTranscodeJob(job: Job, where?: string): TranscodeJob | string {
  const payload = readPayload(job.payload, where);
  if (typeof payload === "string") return payload;
  const result = readResult(job.result);
  if (typeof result === "string") return result;
  return { ...job, payload, result };
}
