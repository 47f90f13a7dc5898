/**
 * What a transcode job stores in its `payload`: a snapshot of the effective policy (so editing a
 * policy file later does not change queued jobs) and the source's fingerprint.
 *
 * @module
 */
import { ConfigError } from "../errors.ts";
import { checkPolicySnapshot, checkTrackPolicySnapshot } from "../policy/snapshot.ts";
import type { TrackPolicy } from "../policy/track_types.ts";
import type { TranscodePolicy } from "../policy/types.ts";
import { checkSourcePayload, type SourcePayload } from "../replace/source_payload.ts";
import { segmentProgressOf } from "./segment_progress.ts";
import type { SegmentProgress } from "./segments/progress.ts";

/** The job type of transcode jobs. */
export const TRANSCODE = "transcode";

/** The payload of a transcode job. */
export interface TranscodePayload extends SourcePayload {
  policy: TranscodePolicy;
  /**
   * The policy's track keys, carried out in the same pass (see src/tracks/in_encode.ts); absent
   * when the policy has none.
   */
  tracks?: TrackPolicy;
  /**
   * A segmented job's progress across runs, written when it goes back to the queue (by its
   * `ending` hook or recovery), kept when it fails for lack of space with its segments kept for
   * `vpo jobs retry` (segments/kept.ts), and dropped when it ends otherwise; for people (`vpo jobs
   * show`, `jobs list`'s percent). The next run reads the segments' own journal.
   */
  segment_progress?: SegmentProgress;
}

/**
 * The payload of a job, checked as a whole (the job file may have been edited by hand since it
 * was queued), or the first problem as one line: `<where>.<key>: <problem>`, with the policy
 * snapshot checked key by key like a policy file. `where` names the payload in that line
 * (`<job file>: payload`).
 */
export function readPayload(
  payload: Record<string, unknown>,
  where = "payload",
): TranscodePayload | string {
  try {
    return checkPayload(payload, where);
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
}

function checkPayload(payload: Record<string, unknown>, where: string): TranscodePayload {
  const checked = checkSourcePayload(payload, where);
  // Only shown to people and rewritten at the next requeue: one not shaped like a progress is
  // left out rather than failing the job.
  const { segment_progress: shown, ...rest } = checked;
  const progress = segmentProgressOf(shown);
  return {
    ...rest,
    policy: checkPolicySnapshot(payload.policy, `${where}.policy`),
    ...(payload.tracks === undefined
      ? {}
      : { tracks: checkTrackPolicySnapshot(payload.tracks, `${where}.tracks`) }),
    ...(progress === null ? {} : { segment_progress: progress }),
  } as TranscodePayload;
}
