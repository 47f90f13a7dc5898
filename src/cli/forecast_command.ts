/**
 * `vpo forecast --policy P [-r] [--files N] [--json] PATH...`: what a quality-target policy would
 * save and cost over a library, from searches on a few of its files (src/transcode/forecast.ts).
 *
 * @module
 */
import type { Command } from "@commander-js/extra-typings";
import { resolve } from "node:path";
import { UsageError } from "../errors.ts";
import { Library } from "../library/library.ts";
import { loadPolicy } from "../policy/policy.ts";
import { metricProblem } from "../quality/compare.ts";
import { QualityMemory } from "../quality/memory.ts";
import { QualityTemps } from "../quality/temps.ts";
import { forecast, type ForecastReport, type Projected } from "../transcode/forecast.ts";
import { displayName } from "../util/display_name.ts";
import { formatBytes, formatDuration } from "../util/format.ts";
import { newJobId, newToken } from "../util/ids.ts";
import { type CliContext, println, warn } from "./context.ts";
import { examples } from "./help.ts";
import { intAtLeast } from "./options.ts";
import { type Column, formatRow } from "./text_table.ts";

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
      Deno.addSignalListener("SIGINT", onSignal);
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
        Deno.removeSignalListener("SIGINT", onSignal);
        library.close({ compact: true });
        memory.close();
      }
    });
}

const range = (p: Projected, show: (n: number) => string) =>
  `${show(p.value)} (${show(p.low)}-${show(p.high)})`;
const hours = (h: number) => h < 10 ? h.toFixed(1) : String(Math.round(h));

/** The forecast for people: the totals, the searched files, then the folders by bytes per hour. */
export function formatForecast(r: ForecastReport): string {
  const lines = [
    `${r.videos} videos: ${r.toConvert} to convert (${formatBytes(r.total.bytes)}, ` +
    `${
      formatDuration(r.total.mediaSec)
    } of media), ${r.skipped} skipped, ${r.unreadable} unreadable`,
  ];
  for (const f of r.searched) {
    const what = f.crf === null
      ? `keeps the original: ${f.reason}`
      : `crf ${f.crf}, score ${f.score}, saves ${Math.round((f.savedBytes / f.size) * 100)} %`;
    lines.push(`  ${displayName(f.path)}: ${what} (${f.probes} CRFs tried, ${f.encodes} encodes)`);
  }
  lines.push(
    `searched ${r.searched.length} files in ${formatDuration(r.searchSec)}`,
    `saved     ${range(r.total.savedBytes, formatBytes)} of ${formatBytes(r.total.bytes)}`,
    `encoding  ${range(r.total.encodeHours, hours)} h on this host, searches included`,
  );
  const columns: Column[] = [
    { header: "FOLDER", width: 36 },
    { header: "FILES", width: 6 },
    { header: "SIZE", width: 10 },
    { header: "SAVED", width: 34 },
    { header: "HOURS", width: 18 },
    { header: "GB/H", width: 7 },
    { header: "CRF", width: 8 },
  ];
  lines.push(formatRow(columns, columns.map((c) => c.header)));
  for (const f of r.folders) {
    lines.push(formatRow(columns, [
      displayName(f.folder),
      String(f.files),
      formatBytes(f.bytes),
      range(f.savedBytes, formatBytes),
      range(f.encodeHours, hours),
      (f.bytesPerHour / 1e9).toFixed(1),
      f.crfs.length ? [...new Set([f.crfs[0], f.crfs.at(-1)!])].join("-") : "-",
    ]));
  }
  lines.push("nothing was queued; the samples' scores are remembered for the real run");
  return lines.join("\n");
}
