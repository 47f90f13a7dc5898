/**
 * `vpo forecast --policy P [-r] [--files N] [--json] PATH...`: what a quality-target policy would
 * save and cost over a library, from searches on a few of its files (src/transcode/forecast.ts).
 *
 * @module
 */
import type { Command } from "@commander-js/extra-typings";
import { resolve } from "node:path";
import { UsageError } from "../errors.ts";
import { displayName } from "../util/display_name.ts";
import { newJobId, newToken } from "../util/ids.ts";
import { type CliContext, println, warn } from "./context.ts";
import { examples } from "./help.ts";
import { intAtLeast } from "./options.ts";

/** Adds `forecast` to the program. */
export function addForecastCommand(program: Command, ctx: CliContext): void {
  program.command("forecast")
    .description("search a few files' CRF for a quality target and project the whole library")
    .argument("<paths...>", "video files and directories")
    .requiredOption("--policy <file>", "transcode policy YAML with a target_quality block")
    .option("-r, --recursive", "descend into subdirectories")
    .option("--files <n>", "files to search at most (default 12)", intAtLeast(1, 1000))
    .option("--json", "print the forecast as JSON")
    .addHelpText(
      "after",
      examples([
        "vpo forecast --policy hevc-quality.yaml -r /srv/media",
        "vpo forecast --policy hevc-quality.yaml -r --files 30 --json /srv/media > forecast.json",
      ]) + "\nNothing is queued. The samples' scores are remembered: the real run re-uses them.\n",
    )
    .action(async (paths, opts) => {
      const { loadPolicy } = await import("../policy/policy.ts");
      const { metricProblem } = await import("../quality/compare.ts");
      const { Library } = await import("../library/library.ts");
      const { QualityMemory } = await import("../quality/memory.ts");
      const { QualityTemps } = await import("../quality/temps.ts");
      const { forecast } = await import("../transcode/forecast.ts");
      const { formatForecast } = await import("./forecast_format.ts");
      const policy = await loadPolicy(resolve(opts.policy), { warn, metricProblem });
      const target = policy.targetQuality;
      if (!target) {
        throw new UsageError(
          `${opts.policy}: no target_quality block: a forecast searches each file's CRF for a quality`,
        );
      }
      const config = await ctx.config();
      const queue = await ctx.queue();
      const logPath = ctx.home.logPath("forecast");
      // Each forecast's ffmpeg log replaces the last one (a link there is removed, not followed).
      await Deno.remove(logPath).catch(() => {});
      const stop = new AbortController();
      const onSignal = () => stop.abort(new UsageError("interrupted; nothing was queued"));
      // SIGTERM too (cron's `timeout`, systemd): the search then removes its samples and stops
      // its ffmpeg, which a plain exit would leave running and writing.
      const signals = ["SIGINT", "SIGTERM"] as const;
      for (const s of signals) Deno.addSignalListener(s, onSignal);
      const library = Library.of(ctx.home, warn);
      const memory = new QualityMemory(ctx.home.library, warn);
      const temps = new QualityTemps(
        config.jobs.tempDirectory ?? queue.layout.tmpDir,
        { id: newJobId(), token: newToken() },
      );
      try {
        const report = await forecast({
          paths,
          recursive: opts.recursive ?? false,
          policy: { ...policy, targetQuality: target },
          files: opts.files ?? 12,
          library,
          memory,
          temps,
          run: { logPath, cpuCores: config.worker.cpuCores, cpuSet: null, signal: stop.signal },
          onStatus: opts.json ? undefined : (line) => println(displayName(line)),
        });
        println(opts.json ? JSON.stringify(report, null, 2) : formatForecast(report));
      } finally {
        for (const s of signals) Deno.removeSignalListener(s, onSignal);
        library.close({ compact: true });
        memory.close();
      }
    });
}
