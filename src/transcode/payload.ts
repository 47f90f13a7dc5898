/**
 * What a transcode job stores in its `payload`: a snapshot of the effective policy (so editing a
 * policy file later does not change queued jobs) and the source's fingerprint.
 *
 * @module
 */
import { ConfigError } from "../errors.ts";
import { checkPolicySnapshot } from "../policy/snapshot.ts";
import type { TranscodePolicy } from "../policy/types.ts";
import { boolean, Field, integer, nullable, number } from "../config/yaml_schema.ts";
import type { Fingerprint } from "../replace/fingerprint.ts";
import { segmentProgressOf } from "./segment_progress.ts";
import type { SegmentProgress } from "./segmented_encode.ts";

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
  /**
   * A segmented job's progress across runs, written when it goes back to the queue (by its
   * `ending` hook or recovery) and dropped when it ends; for people (`vpo jobs show`, `jobs
   * list`'s percent). The next run reads the segments' own journal.
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
  const field = (key: string, value = payload[key]) => Field.flag(`${where}.${key}`, value);
  const fp = payload.fingerprint as Record<string, unknown> | undefined;
  if (typeof fp !== "object" || fp === null) {
    return field("fingerprint").fail("missing or not an object");
  }
  const count = integer({ min: 0 });
  const idOrNull = nullable(count);
  count(field("fingerprint.size", fp.size));
  number(-Infinity)(field("fingerprint.mtime_ms", fp.mtime_ms));
  idOrNull(field("fingerprint.ino", fp.ino ?? null));
  idOrNull(field("fingerprint.dev", fp.dev ?? null));
  const duration = field("duration_sec");
  if (typeof duration.value !== "number" || !(duration.value >= 0) || duration.value > 1e9) {
    duration.fail(`expected a number of seconds, got ${JSON.stringify(duration.value)}`);
  }
  if (payload.force !== undefined) boolean()(field("force"));
  const text = (key: string) => {
    const f = field(key);
    if (f.value !== undefined && f.value !== null && typeof f.value !== "string") {
      f.fail(`expected a string, got ${JSON.stringify(f.value)}`);
    }
  };
  text("policy_file");
  text("summary");
  // Only shown to people and rewritten at the next requeue: one not shaped like a progress is
  // left out rather than failing the job.
  const { segment_progress: shown, ...rest } = payload;
  const progress = segmentProgressOf(shown);
  return {
    ...rest,
    policy: checkPolicySnapshot(payload.policy, `${where}.policy`),
    ...(progress === null ? {} : { segment_progress: progress }),
  } as TranscodePayload;
}
