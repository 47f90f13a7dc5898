/**
 * The human output of `vpo jobs list` and `show`, in the exact formats the README documents
 * (`status` has its own module, status_format.ts, so that it starts without the display-width
 * tables; the `--json` shape is `src/queue/job_json.ts`).
 *
 * @module
 */
import { basename } from "node:path";
import { displayName } from "../util/display_name.ts";
import type { Job, WorkerInfo } from "../queue/job.ts";
import type { LiveInfo } from "../queue/claimed_job.ts";
import type { JobTypes } from "../queue/job_type.ts";
import { formatDuration, localMinute } from "../util/format.ts";
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
function progressCell(job: Job, live: LiveInfo | null): string {
  if (job.state === "completed") return "100%";
  const percent = job.state === "running" ? live?.progress?.percent ?? 0 : job.progress;
  return percent === null || percent === undefined ? "-" : `${Math.floor(percent)}%`;
}

/**
 * The job table of `vpo jobs list`; a running job's type may add lines under its row (a film
 * encoded in segments: which run where, and one ETA).
 */
export function formatJobTable(
  rows: { job: Job; live: LiveInfo | null }[],
  types: JobTypes,
): string {
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
    if (live === null) continue;
    for (const { label, text } of types.of(job)?.details(job, live) ?? []) {
      lines.push(
        `${" ".repeat(LIST_COLUMNS[0].width + 1)}${label.toLowerCase()} ${displayName(text)}`,
      );
    }
  }
  return lines.join("\n");
}

/** The detail view of `vpo jobs show`; `types` add their own lines (a transcode's segments). */
export function formatJobDetail(job: Job, live: LiveInfo | null, types: JobTypes): string {
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
  for (const { label, text } of types.of(job)?.details(job, live) ?? []) field(label, text);
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

/** "nas:4242 (instance 1ae87e73)": host names and pids repeat across hosts, instances do not. */
function workerLabel(worker: WorkerInfo): string {
  const instance = worker.instance ? ` (instance ${worker.instance.slice(0, 8)})` : "";
  return `${worker.host}:${worker.pid}${instance}`;
}
