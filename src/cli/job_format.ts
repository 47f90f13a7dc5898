/**
 * The human output of `vpo jobs list`, `status` and `show`, in the exact formats the README documents, and the
 * JSON shape of their `--json` variants.
 *
 * @module
 */
import { basename } from "node:path";
import { displayName } from "../util/display_name.ts";
import type { Job, JobState, WorkerInfo } from "../queue/job.ts";
import type { LiveInfo } from "../queue/claimed_job.ts";
import type { JobCounts } from "../queue/counts.ts";
import { formatDuration, localMinute, plural } from "../util/format.ts";
import { type Column, formatRow } from "./text_table.ts";
import { shortId } from "../util/ids.ts";

const LIST_COLUMNS: readonly Column[] = [
  { header: "ID", width: 10 },
  { header: "STATUS", width: 12 },
  { header: "TYPE", width: 10 },
  { header: "FILE", width: 42 },
  { header: "PROG", width: 6 },
  { header: "CREATED", width: 16 },
];

/** The PROG column: live percent for running jobs, 100% for completed, last known otherwise. */
export function progressCell(job: Job, live: LiveInfo | null): string {
  if (job.state === "completed") return "100%";
  const percent = job.state === "running" ? live?.progress?.percent ?? 0 : job.progress;
  return percent === null || percent === undefined ? "-" : `${Math.floor(percent)}%`;
}

/** The job table of `vpo jobs list`. */
export function formatJobTable(rows: { job: Job; live: LiveInfo | null }[]): string {
  const lines = [
    formatRow(LIST_COLUMNS, LIST_COLUMNS.map((c) => c.header)),
    "-".repeat(95),
  ];
  for (const { job, live } of rows) {
    lines.push(formatRow(LIST_COLUMNS, [
      shortId(job.id),
      job.state,
      job.type,
      job.file ? displayName(basename(job.file)) : "-",
      progressCell(job, live),
      localMinute(job.created_at),
    ]));
    // A running segmented job: its segments, who encodes them, one ETA, on a line of its own.
    const segments = live?.segments ? segmentSummary(job, live) : null;
    if (segments) {
      lines.push(`${" ".repeat(LIST_COLUMNS[0].width + 1)}segments ${displayName(segments)}`);
    }
  }
  return lines.join("\n");
}

const STATUS_LABELS: [JobState, string][] = [
  ["queued", "Queued:"],
  ["running", "Running:"],
  ["completed", "Completed:"],
  ["failed", "Failed:"],
  ["cancelled", "Cancelled:"],
];

/** The summary of `vpo jobs status`. */
export function formatStatus(counts: JobCounts): string {
  const line = (label: string, n: number) => `  ${label.padEnd(12)}${String(n).padStart(4)}`;
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  return [
    "Job Queue Status",
    "-".repeat(30),
    ...STATUS_LABELS.map(([state, label]) => line(label, counts[state])),
    "-".repeat(30),
    line("Total:", total),
  ].join("\n");
}

/** A job as `--json` prints it: the record with `status`, its path, and live progress if any. */
export function jobToJson(job: Job, live: LiveInfo | null): Record<string, unknown> {
  const { state, path, ...record } = job;
  return { status: state, ...record, path, live };
}

/** The detail view of `vpo jobs show`. */
export function formatJobDetail(job: Job, live: LiveInfo | null): string {
  const lines: string[] = [];
  const field = (label: string, value: unknown) => {
    if (value !== null && value !== undefined && value !== "") {
      lines.push(`${label.padEnd(12)}${displayName(String(value))}`);
    }
  };
  field("ID", job.id);
  field("Status", job.state);
  field("Type", job.type);
  field("File", job.file);
  field("Priority", job.priority);
  field("Attempts", job.attempts);
  field("Created", localMinute(job.created_at));
  if (job.started_at) field("Started", localMinute(job.started_at));
  if (job.finished_at) field("Finished", localMinute(job.finished_at));
  if (live) {
    field("Worker", workerLabel(live.worker));
    const p = live.progress;
    if (p) {
      const parts = [
        p.percent !== null ? `${p.percent.toFixed(1)}%` : null,
        p.fps !== null ? `${p.fps.toFixed(1)} fps` : null,
        p.speed !== null ? `${p.speed.toFixed(2)}x` : null,
        p.eta_sec !== null ? `ETA ${formatDuration(p.eta_sec)}` : null,
      ].filter(Boolean);
      field("Progress", parts.join(", "));
    }
  } else if (job.worker) {
    field("Worker", workerLabel(job.worker));
  }
  field("Segments", segmentSummary(job, live));
  field("Job file", job.path);
  if (job.result) {
    lines.push("Result:");
    for (const [k, v] of Object.entries(job.result)) {
      lines.push(`  ${displayName(k)}: ${displayName(JSON.stringify(v))}`);
    }
  }
  if (job.error) {
    lines.push("Error:");
    for (const l of job.error.split("\n")) lines.push(`  ${displayName(l)}`);
  }
  lines.push("History:");
  for (const e of job.history) {
    const text = `${e.event}${e.detail ? `: ${e.detail}` : ""}`;
    lines.push(`  ${localMinute(e.at)}  ${displayName(text)}`);
  }
  return lines.join("\n");
}

/**
 * "7/24 done, 31.0 % of the media, ETA 2 nights at 0.85x (8h00m window)" for a segmented job
 * between runs, from its record; while it runs, from its live file, with the segments being
 * encoded and where, and one ETA for the film at the speed of all its workers together
 * ("7/24 done, 2 running (8 on vpo-a 51%, 9 on vpo-b 12%), 31.0 % of the media, ETA 2h10m at
 * 1.90x"); null for other jobs.
 */
export function segmentSummary(job: Job, live: LiveInfo | null): string | null {
  const raw = (live?.segments ?? job.payload.segment_progress) as
    | Record<string, unknown>
    | undefined;
  const n = (key: string) => typeof raw?.[key] === "number" ? raw[key] as number : null;
  const [done, total, percent] = [n("done"), n("total"), n("percent")];
  if (done === null || total === null || percent === null) return null;
  const running = live?.segments ? runningSegments(raw) : [];
  const where = running.length
    ? `, ${running.length} running (${
      running.map((r) => `${r.segment} on ${r.host}${r.percent === null ? "" : ` ${r.percent}%`}`)
        .join(", ")
    })`
    : "";
  const text = `${done}/${total} done${where}, ${percent.toFixed(1)} % of the media`;
  const film = live?.segments ? live.progress : undefined;
  if (film?.eta_sec != null && film.speed) {
    return `${text}, ETA ${formatDuration(film.eta_sec)} at ${film.speed.toFixed(2)}x`;
  }
  const [mediaDone, mediaTotal, encodeSec] = [
    n("media_done_sec"),
    n("media_total_sec"),
    n("encode_sec"),
  ];
  if (!mediaDone || !encodeSec || mediaTotal === null) return text;
  // Between runs: at the speed of one worker, as the finished segments measured it.
  const speed = mediaDone / encodeSec;
  const needSec = Math.max(0, mediaTotal - mediaDone) / speed;
  const window = n("window_sec");
  const nights = window && window > 0 ? Math.max(1, Math.ceil(needSec / window)) : null;
  const eta = nights === null ? formatDuration(needSec) : plural(nights, "night");
  const windowText = window && window > 0 ? ` (${formatDuration(window)} window)` : "";
  return `${text}, ETA ${eta} at ${speed.toFixed(2)}x${windowText}`;
}

/** The segments a live file says are being encoded: number, host, percent (hand-edits dropped). */
function runningSegments(
  raw: Record<string, unknown> | undefined,
): { segment: number; host: string; percent: number | null }[] {
  const list = Array.isArray(raw?.running) ? raw.running as unknown[] : [];
  return list.flatMap((r) => {
    const item = r as Record<string, unknown> | null;
    if (typeof item?.segment !== "number" || typeof item.host !== "string") return [];
    const percent = typeof item.percent === "number" ? Math.floor(item.percent) : null;
    return [{ segment: item.segment, host: item.host, percent }];
  });
}

/** "nas:4242 (instance 1ae87e73)": host names and pids repeat across hosts, instances do not. */
function workerLabel(worker: WorkerInfo): string {
  const instance = worker.instance ? ` (instance ${worker.instance.slice(0, 8)})` : "";
  return `${worker.host}:${worker.pid}${instance}`;
}
