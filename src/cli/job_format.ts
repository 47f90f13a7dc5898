/**
 * The human output of `vpo jobs list` and `show`, in the exact formats the README documents, and
 * the JSON shape of their `--json` variants (`status` has its own module, status_format.ts, so
 * that it starts without the display-width tables).
 *
 * @module
 */
import { basename } from "node:path";
import { displayName } from "../util/display_name.ts";
import type { Job, WorkerInfo } from "../queue/job.ts";
import type { LiveInfo } from "../queue/claimed_job.ts";
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
  }
  return lines.join("\n");
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
 * "7/24 done, 31.0 % of the media, ETA 2 nights at 0.85x (8h00m window)" for a segmented job,
 * from its live file while it runs and from its record between runs; null for other jobs.
 */
export function segmentSummary(job: Job, live: LiveInfo | null): string | null {
  const raw = (live?.segments ?? job.payload.segment_progress) as
    | Record<string, unknown>
    | undefined;
  const n = (key: string) => typeof raw?.[key] === "number" ? raw[key] as number : null;
  const [done, total, percent] = [n("done"), n("total"), n("percent")];
  if (done === null || total === null || percent === null) return null;
  const text = `${done}/${total} done, ${percent.toFixed(1)} % of the media`;
  const [mediaDone, mediaTotal, encodeSec] = [
    n("media_done_sec"),
    n("media_total_sec"),
    n("encode_sec"),
  ];
  if (!mediaDone || !encodeSec || mediaTotal === null) return text;
  const speed = mediaDone / encodeSec;
  const needSec = Math.max(0, mediaTotal - mediaDone) / speed;
  const window = n("window_sec");
  const nights = window && window > 0 ? Math.max(1, Math.ceil(needSec / window)) : null;
  const eta = nights === null ? formatDuration(needSec) : plural(nights, "night");
  const windowText = window && window > 0 ? ` (${formatDuration(window)} window)` : "";
  return `${text}, ETA ${eta} at ${speed.toFixed(2)}x${windowText}`;
}

/** "nas:4242 (instance 1ae87e73)": host names and pids repeat across hosts, instances do not. */
function workerLabel(worker: WorkerInfo): string {
  const instance = worker.instance ? ` (instance ${worker.instance.slice(0, 8)})` : "";
  return `${worker.host}:${worker.pid}${instance}`;
}
