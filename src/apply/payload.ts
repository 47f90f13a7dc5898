/**
 * What an apply job stores in its `payload`: a snapshot of the track policy (editing the policy
 * file later does not change queued jobs), the source as it was queued, and the transcode part of
 * the policy the file was decided under (which needed no transcode), for the library's key.
 *
 * @module
 */
import { ConfigError } from "../errors.ts";
import { checkPolicySnapshot, checkTrackPolicySnapshot } from "../policy/snapshot.ts";
import type { TrackPolicy } from "../policy/track_types.ts";
import type { TranscodePolicy } from "../policy/types.ts";
import { checkSourcePayload, type SourcePayload } from "../replace/source_payload.ts";

/** The job type of apply jobs. */
export const APPLY = "apply";

/** The payload of an apply job. */
export interface ApplyPayload extends SourcePayload {
  /** The track policy the job carries out. */
  tracks: TrackPolicy;
  /** The policy's transcode section; null for a policy of track keys only. */
  policy: TranscodePolicy | null;
}

/**
 * The payload of a job, checked as a whole (the job file may have been edited by hand), or the
 * first problem as one line `<where>.<key>: <problem>`; `where` names the payload in it.
 */
export function readApplyPayload(
  payload: Record<string, unknown>,
  where = "payload",
): ApplyPayload | string {
  try {
    const checked = checkSourcePayload(payload, where);
    return {
      ...checked,
      tracks: checkTrackPolicySnapshot(payload.tracks, `${where}.tracks`),
      policy: payload.policy === null || payload.policy === undefined
        ? null
        : checkPolicySnapshot(payload.policy, `${where}.policy`),
    };
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
}
