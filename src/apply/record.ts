/**
 * An apply job's record with its payload and result typed: `Job<ApplyPayload, ApplyResult>`,
 * made only by {@link readApplyJob}, which checks both whole; and the keys the library remembers
 * its outcome under.
 *
 * @module
 */
import { policyHash } from "../library/decisions.ts";
import {
  type JobEnd,
  type QueuedSource,
  queuedSourceOf,
  replacedEnd,
} from "../library/job_outcome.ts";
import type { MediaInfo } from "../media/probe.ts";
import type { Job } from "../queue/job.ts";
import { type ApplyPayload, readApplyPayload } from "./payload.ts";
import { type ApplyResult, readApplyResult } from "./result.ts";

/** An apply job whose payload and result were checked by their readers. */
export type ApplyJob = Job<ApplyPayload, ApplyResult>;

/** `job` with its payload and result read, or the first problem as one line. */
export function readApplyJob(job: Job, where?: string): ApplyJob | string {
  const payload = readApplyPayload(job.payload, where);
  if (typeof payload === "string") return payload;
  const result = readApplyResult(job.result);
  if (typeof result === "string") return result;
  return { ...job, payload, result };
}

/** The source's stamp when it was queued, and the policy it was decided under. */
export function queuedSource(job: ApplyJob): QueuedSource | null {
  const { fingerprint, policy, force, tracks } = job.payload;
  return queuedSourceOf(job, fingerprint, policyHash(policy, force, tracks));
}

/** How a completed apply job ended, as the library remembers it. */
export function completedEnd(result: ApplyResult, outputProbe: MediaInfo | null): JobEnd {
  if (result.outcome === "skipped") return { state: "completed", outcome: "skipped" };
  return replacedEnd(result, outputProbe);
}
