/**
 * A segmented transcode's progress across runs as people see it: read back from the live file
 * while a worker runs the job (with the segments being encoded, where, and one ETA for the film),
 * or from `payload.segment_progress` between runs, and summed up in one line for `vpo jobs show`
 * and `vpo jobs list`.
 *
 * @module
 */
import type { LiveInfo } from "../queue/claimed_job.ts";
import type { Job } from "../queue/job.ts";
import { formatDuration, plural } from "../util/format.ts";
import { amount, jsonList, jsonObject, readJson, text } from "../config/json_fields.ts";
import { nullable, type Reader } from "../config/yaml_schema.ts";
import type { SegmentProgress } from "./segments/progress.ts";

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

/** A segment being encoded, as the live file of the job's holder names it. */
const RUNNING: Reader<{ segment: number; host: string; percent: number | null }> = (field) =>
  jsonObject(field, { segment: amount, host: text, percent: nullable(amount) }) as unknown as {
    segment: number;
    host: string;
    percent: number | null;
  };

/**
 * "7/24 done, 31.0 % of the media, ETA 2 nights at 0.85x (8h00m window)" for a segmented job
 * between runs, from its record; while it runs, from its live file, with the segments being
 * encoded and where, and one ETA for the film at the speed of all its workers together
 * ("7/24 done, 2 running (8 on nas 51%, 9 on desktop 12%), 31.0 % of the media, ETA 2h10m at
 * 1.90x"); null for other jobs.
 */
export function segmentLine(job: Job, live: LiveInfo | null): string | null {
  const p = segmentProgressOf(live?.segments ?? job.payload.segment_progress);
  if (p === null) return null;
  const running = live?.segments ? runningSegments(live.segments) : [];
  const where = running.length
    ? `, ${running.length} running (${
      running.map((r) =>
        `${r.segment} on ${r.host}${r.percent === null ? "" : ` ${Math.floor(r.percent)}%`}`
      ).join(", ")
    })`
    : "";
  const line = `${p.done}/${p.total} done${where}, ${p.percent.toFixed(1)} % of the media`;
  // Only a full disk fails a job with its segments kept (segments/run_end.ts).
  if (job.state === "failed") return `${line}, kept: \`vpo jobs retry\` resumes them`;
  const film = live?.segments ? live.progress : undefined;
  if (film?.eta_sec != null && film.speed) {
    return `${line}, ETA ${formatDuration(film.eta_sec)} at ${film.speed.toFixed(2)}x`;
  }
  if (!p.media_done_sec || !p.encode_sec) return line;
  // Between runs: at the speed of one worker, as the finished segments measured it.
  const speed = p.media_done_sec / p.encode_sec;
  const needSec = Math.max(0, p.media_total_sec - p.media_done_sec) / speed;
  const window = p.window_sec;
  const nights = window && window > 0 ? Math.max(1, Math.ceil(needSec / window)) : null;
  const eta = nights === null ? formatDuration(needSec) : plural(nights, "night");
  const windowText = window && window > 0 ? ` (${formatDuration(window)} window)` : "";
  return `${line}, ETA ${eta} at ${speed.toFixed(2)}x${windowText}`;
}

/** The segments a live file says are being encoded (a hand-edited list reads as none). */
function runningSegments(
  segments: Record<string, unknown>,
): { segment: number; host: string; percent: number | null }[] {
  if (segments.running === undefined) return [];
  const list = readJson(jsonList(RUNNING), segments.running, "segments.running");
  return typeof list === "string" ? [] : list;
}
