/**
 * `vpo stats [--days N] [--json]`: space saved and time spent, per day, codec and folder.
 *
 * @module
 */
import type { Command } from "@commander-js/extra-typings";
import { type StatsBucket, StatsCollector, type StatsReport } from "../stats/stats.ts";
import { formatBytes, formatDuration, plural } from "../util/format.ts";
import { type CliContext, println, warn } from "./context.ts";
import { examples } from "./help.ts";
import { JOB_TYPES } from "./job_types.ts";
import { intAtLeast } from "./options.ts";
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

/** The human output of `vpo stats`. */
function formatStats(report: StatsReport): string {
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
  ];
  return lines.join("\n");
}

/** Adds `stats` to the program. */
export function addStatsCommand(program: Command, ctx: CliContext): void {
  program.command("stats")
    .description("space saved and time spent, per day, codec and folder, from finished jobs")
    .option("--days <n>", "only jobs finished in the last n days (today is one)", intAtLeast(1))
    .option("--json", "print JSON for scripts")
    .addHelpText("after", examples(["vpo stats", "vpo stats --days 7", "vpo stats --json"]))
    .action(async (opts) => {
      const queue = await ctx.queue();
      const report = new StatsCollector(queue.layout, JOB_TYPES).collect({ days: opts.days });
      println(opts.json ? JSON.stringify(report, null, 2) : formatStats(report));
      if (report.unreadable) {
        warn(`${plural(report.unreadable, "unreadable job file")} not counted (see vpo jobs list)`);
      }
    });
}
