/**
 * The part of a job's payload every job type that rewrites one library file has: where its policy
 * came from, the source as it was queued (fingerprint, duration), and its summary. Checked
 * whole when the job is read back: the job file may have been edited by hand.
 *
 * @module
 */
import { boolean, Field, integer, nullable, number } from "../config/yaml_schema.ts";
import type { MediaInfo } from "../media/probe.ts";
import { type Fingerprint, fingerprintOf } from "./fingerprint.ts";

/** The payload fields of a job on one library file. */
export interface SourcePayload {
  /** The policy file it came from, for people reading the job. */
  policy_file: string | null;
  /** Queued although compliant or matched by skip_if (`vpo transcode --force`). */
  force: boolean;
  /** The source when it was queued: the job touches it only while it is still that file. */
  fingerprint: Fingerprint;
  /** Probed duration in seconds, for deadline estimates. */
  duration_sec: number;
  /** What the job does, in one line for people ("h264 1920x1080 -> hevc 1920x1080"). */
  summary: string;
}

/**
 * The {@link SourcePayload} of a job on `media`'s file, queued now: `stat` is the file's stat at
 * this moment, `summary` what the job will do.
 */
export function sourcePayloadOf(
  media: MediaInfo,
  stat: Deno.FileInfo,
  o: { policyFile: string | null; force: boolean; summary: string },
): SourcePayload {
  return {
    policy_file: o.policyFile,
    force: o.force,
    fingerprint: fingerprintOf(stat, media.path),
    duration_sec: media.duration,
    summary: o.summary,
  };
}

/**
 * Checks the {@link SourcePayload} fields of `payload` (`where` names it in messages,
 * `<job file>: payload`) and returns it.
 *
 * @throws ConfigError `<where>.<key>: <problem>` for the first bad field.
 */
export function checkSourcePayload(
  payload: Record<string, unknown>,
  where: string,
): Record<string, unknown> & SourcePayload {
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
  return payload as Record<string, unknown> & SourcePayload;
}
