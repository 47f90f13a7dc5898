/**
 * The human output of `vpo jobs status`, in the format the README documents.
 *
 * @module
 */
import type { JobState } from "../queue/job.ts";
import type { JobCounts } from "../queue/counts.ts";

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
