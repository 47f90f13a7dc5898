/**
 * What a transcode job stores in its `payload`: a snapshot of the effective policy (so editing a
 * policy file later does not change queued jobs) and the source's fingerprint.
 *
 * @module
 */
import type { TranscodePolicy } from "../policy/types.ts";
import type { Fingerprint } from "./fingerprint.ts";

/** The job type of transcode jobs. */
export const TRANSCODE = "transcode";

/** The payload of a transcode job. */
export interface TranscodePayload {
  policy: TranscodePolicy;
  /** The policy file it came from, for people reading the job. */
  policy_file: string | null;
  /** Transcode even if compliant or matched by skip_if. */
  force: boolean;
  fingerprint: Fingerprint;
  /** Probed duration in seconds, for deadline estimates. */
  duration_sec: number;
  /** "h264 1920x1080 -> hevc 1920x1080", for people. */
  summary: string;
}

/** The payload of `record`, or a reason why it is not a usable transcode payload. */
export function readPayload(payload: Record<string, unknown>): TranscodePayload | string {
  const p = payload as Partial<TranscodePayload>;
  if (!p.policy || typeof p.policy !== "object") return `payload has no "policy"`;
  if (!p.fingerprint || typeof p.fingerprint.size !== "number") {
    return `payload has no "fingerprint"`;
  }
  if (typeof p.duration_sec !== "number") return `payload has no "duration_sec"`;
  return p as TranscodePayload;
}
