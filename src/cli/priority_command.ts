/**
 * `vpo jobs priority ID N`: reorder the queue without editing a job file by hand.
 *
 * @module
 */
import type { Command } from "@commander-js/extra-typings";
import { shortId } from "../util/ids.ts";
import { type CliContext, println } from "./context.ts";
import { examples } from "./help.ts";
import { intAtLeast } from "./options.ts";

/** Adds `priority` to the `jobs` command group. */
export function addPriorityCommand(jobs: Command, ctx: CliContext): void {
  jobs.command("priority")
    .description("change a queued job's priority (lower runs first; the default is 100)")
    .argument("<id>", "job id (full, or a unique prefix of 4+ characters)")
    .argument("<priority>", "new priority, a whole number >= 0", intAtLeast(0))
    .addHelpText("after", examples(["vpo jobs priority a1b2c3d4 10"]))
    .action(async (id, priority) => {
      const job = await (await ctx.queue()).setPriority(id, priority);
      println(`Job ${shortId(job.id)} now has priority ${job.priority}`);
    });
}
