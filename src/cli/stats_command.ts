/**
 * `vpo stats [--days N] [--json]`: space saved and time spent, per day, codec and folder.
 *
 * @module
 */
import type { Command } from "@commander-js/extra-typings";
import { plural } from "../util/format.ts";
import { type CliContext, println, warn } from "./context.ts";
import { examples } from "./help.ts";
import { intAtLeast } from "./options.ts";

/** Adds `stats` to the program. */
export function addStatsCommand(program: Command, ctx: CliContext): void {
  program.command("stats")
    .description("space saved and time spent, per day, codec and folder, from finished jobs")
    .option("--days <n>", "only jobs finished in the last n days (today is one)", intAtLeast(1))
    .option("--json", "print JSON for scripts")
    .addHelpText("after", examples(["vpo stats", "vpo stats --days 7", "vpo stats --json"]))
    .action(async (opts) => {
      const { StatsCollector } = await import("../stats/stats.ts");
      const { formatStats } = await import("./stats_format.ts");
      const { JOB_TYPES } = await import("./job_types.ts");
      const queue = await ctx.queue();
      const report = new StatsCollector(queue.layout, JOB_TYPES).collect({ days: opts.days });
      println(opts.json ? JSON.stringify(report, null, 2) : formatStats(report));
      if (report.unreadable) {
        warn(`${plural(report.unreadable, "unreadable job file")} not counted (see vpo jobs list)`);
      }
    });
}
