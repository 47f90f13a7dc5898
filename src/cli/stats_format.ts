/**
 * The human output of `vpo stats`: totals, then a table per day, codec and folder.
 *
 * @module
 */
import type { StatsBucket, StatsReport } from "../stats/stats.ts";
import { formatBytes, formatDuration, plural } from "../util/format.ts";
import { type Column, formatRow } from "./text_table.ts";

const percentSaved = (b: StatsBucket) =>
  b.source_bytes > 0 ? `${Math.round((b.saved_bytes / b.source_bytes) * 100)}%` : "-";

function table(title: string, width: number, buckets: StatsBucket[]): string[] {
  const columns: Column[] = [
    { header: title, width },
    { header: "JOBS", width: 6 },
    { header: "REPLACED", width: 9 },
    { header: "FAILED", width: 7 },
    { header: "SAVED", width: 11 },
    { header: "%", width: 5 },
    { header: "TIME", width: 8 },
  ];
  return [
    formatRow(columns, columns.map((c) => c.header)),
    ...buckets.map((b) =>
      formatRow(columns, [
        b.key,
        String(b.jobs),
        String(b.replaced),
        String(b.failed),
        formatBytes(b.saved_bytes),
        percentSaved(b),
        formatDuration(b.time_sec),
      ])
    ),
  ];
}

/** The quality measured over outputs, per metric; nothing when no job had a quality target. */
function qualityTable(buckets: StatsReport["quality"]): string[] {
  if (buckets.length === 0) return [];
  const columns: Column[] = [
    { header: "QUALITY", width: 10 },
    { header: "FILES", width: 6 },
    { header: "MEAN", width: 9 },
    { header: "LOWEST", width: 9 },
    { header: "BELOW MIN", width: 10 },
    { header: "PREDICTION ERROR", width: 16 },
  ];
  return [
    "",
    formatRow(columns, columns.map((c) => c.header)),
    ...buckets.map((b) =>
      formatRow(columns, [
        b.metric,
        String(b.files),
        b.mean.toFixed(4),
        b.lowest.toFixed(4),
        String(b.below_min),
        b.prediction_error === null ? "-" : b.prediction_error.toFixed(4),
      ])
    ),
  ];
}

/** The human output of `vpo stats`. */
export function formatStats(report: StatsReport): string {
  const t = report.totals;
  if (t.jobs === 0) return "No finished jobs yet";
  const lines = [
    `Saved ${formatBytes(t.saved_bytes)} of ${formatBytes(t.source_bytes)} (${
      percentSaved(t)
    }) by replacing ${plural(t.replaced, "file")}; ${formatDuration(t.time_sec)} spent`,
    `${
      plural(t.jobs, "finished job")
    }: ${t.replaced} replaced, ${t.kept_original} kept original, ` +
    `${t.skipped} skipped, ${t.failed} failed, ${t.cancelled} cancelled`,
    "",
    ...table("DAY", 10, report.per_day),
    "",
    ...table("CODEC", 10, report.per_codec),
    "",
    ...table("FOLDER", 40, report.per_folder),
    ...qualityTable(report.quality),
  ];
  return lines.join("\n");
}
