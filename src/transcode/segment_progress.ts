/**
 * A segmented transcode's progress across runs as people see it: read back from the live file
 * while a worker runs the job, or from `payload.segment_progress` between runs, and summed up
 * in one line for `vpo jobs show`.
 *
 * @module
 */
import type { LiveInfo } from "../queue/claimed_job.ts";
import type { Job } from "../queue/job.ts";
import { formatDuration, plural } from "../util/format.ts";
import { amount, jsonObject, readJson } from "../config/json_fields.ts";
import { nullable, type Reader } from "../config/yaml_schema.ts";
import type { SegmentProgress } from "./segmented_encode.ts";

const PROGRESS: Reader<SegmentProgress> = (field) =>
  jsonObject(field, {
    done: amount,
    total: amount,
    percent: amount,
    media_done_sec: amount,
    media_total_sec: amount,
    encode_sec: amount,
    window_sec: nullable(amount),
  }) as unknown as SegmentProgress;

/** `raw` as a segment progress, or null when it is absent or not shaped like one. */
export function segmentProgressOf(raw: unknown): SegmentProgress | null {
  if (raw === undefined || raw === null) return null;
  const progress = readJson(PROGRESS, raw, "segment_progress");
  return typeof progress === "string" ? null : progress;
}

/**
 * "7/24 done, 31.0 % of the media, ETA 2 nights at 0.85x (8h00m window)" for a segmented job,
 * from its live file while it runs and from its record between runs; null for other jobs.
 */
export function segmentLine(job: Job, live: LiveInfo | null): string | null {
  const p = segmentProgressOf(live?.segments ?? job.payload.segment_progress);
  if (p === null) return null;
  const text = `${p.done}/${p.total} done, ${p.percent.toFixed(1)} % of the media`;
  if (!p.media_done_sec || !p.encode_sec) return text;
  const speed = p.media_done_sec / p.encode_sec;
  const needSec = Math.max(0, p.media_total_sec - p.media_done_sec) / speed;
  const window = p.window_sec;
  const nights = window && window > 0 ? Math.max(1, Math.ceil(needSec / window)) : null;
  const eta = nights === null ? formatDuration(needSec) : plural(nights, "night");
  const windowText = window && window > 0 ? ` (${formatDuration(window)} window)` : "";
  return `${text}, ETA ${eta} at ${speed.toFixed(2)}x${windowText}`;
}
