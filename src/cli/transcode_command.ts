/**
 * `vpo transcode [--policy P] [--dry-run] [--recursive] [overrides] PATH...`
 *
 * @module
 */
import type { Command } from "@commander-js/extra-typings";
import { resolve } from "node:path";
import { CONFIG_LIMITS } from "../config/defaults.ts";
import { ConfigError, UsageError } from "../errors.ts";
import type { PolicyFile, PolicyOverrides } from "../policy/policy.ts";
import type { CliContext } from "./context.ts";
import { println, warn } from "./context.ts";
import { examples } from "./help.ts";
import { intAtLeast } from "./options.ts";
import { shortId } from "../util/ids.ts";
import { displayName } from "../util/display_name.ts";

/**
 * The policy with the command line's overrides of its transcode section; a bad override, or one
 * for a policy without a transcode section, is a usage error (exit 2).
 */
async function overridden(base: PolicyFile, overrides: PolicyOverrides): Promise<PolicyFile> {
  const given = Object.entries(overrides).find(([, value]) => value !== undefined);
  if (!given) return base;
  if (base.transcode === null) {
    const flag = { codec: "--codec", crf: "--crf", maxResolution: "--max-resolution" }[given[0]];
    throw new UsageError(`${flag}: the policy has no transcode section (its track keys only copy)`);
  }
  const { applyOverrides } = await import("../policy/policy.ts");
  try {
    return { ...base, transcode: applyOverrides(base.transcode, overrides) };
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(err.message);
    throw err;
  }
}

/** Adds `transcode` to the program. */
export function addTranscodeCommand(program: Command, ctx: CliContext): void {
  program.command("transcode")
    .description("queue video files for transcoding under a policy")
    .argument("<paths...>", "video files and directories")
    .option("--policy <file>", "transcode policy YAML (default: built-in hevc policy)")
    .option("--dry-run", "show each decision and the exact ffmpeg command; queue nothing")
    .option("-r, --recursive", "descend into subdirectories")
    .option("--force", "queue files that are already compliant or matched by skip_if")
    .option("--codec <codec>", "override target_video_codec (hevc, h264, vp9, av1)")
    .option("--crf <n>", "override target_crf", intAtLeast(0))
    .option("--max-resolution <res>", "override max_resolution (480p ... 8k)")
    .option("--priority <n>", "job priority, lower runs first (default 100)", intAtLeast(0))
    .option("--recheck", "probe and decide every file afresh, ignoring remembered decisions")
    .option("-v, --verbose", "also list each file decided on an earlier run")
    .option(
      "--settle <seconds>",
      "wait for files modified less than this long ago, named ones too (default: " +
        "library.settle_seconds for files found in directories, 0 for files named; 0 = off)",
      intAtLeast(0, CONFIG_LIMITS.settleSeconds),
    )
    .addHelpText(
      "after",
      examples([
        "vpo transcode --policy hevc.yaml /videos/*.mkv",
        "vpo transcode --dry-run --policy hevc.yaml /videos/",
        "vpo transcode --recursive --policy examples/av1.yaml --crf 30 /videos",
        "vpo transcode -r /videos && vpo jobs start --end-by 06:00   # nightly, from cron",
        "vpo transcode --settle 0 -r /videos/incoming   # the copies are known to be complete",
      ]) +
        "\nFiles named on the command line are queued at once; files found in a directory wait\n" +
        "until unmodified for library.settle_seconds (or --settle), so copies still arriving\n" +
        "are taken by the next run.\n" +
        "\nExit codes: 0 every file decided (unreadable media is reported and remembered),\n" +
        "1 some path could not be read (missing, no permission).\n",
    )
    .action(async (paths, opts) => {
      const { defaultPolicy, loadPolicyFile } = await import("../policy/policy.ts");
      const { Library } = await import("../library/library.ts");
      const { ScanSummary } = await import("../library/scan_summary.ts");
      const { queueFiles } = await import("../library/queue_scan.ts");
      const { deciderFor } = await import("./job_types.ts");
      const config = await ctx.config();
      const policyFile = opts.policy ? resolve(opts.policy) : null;
      const { metricProblem } = await import("../quality/compare.ts");
      const base = policyFile
        ? await loadPolicyFile(policyFile, { warn, metricProblem })
        : { transcode: defaultPolicy(), tracks: null };
      const policy = await overridden(base, {
        codec: opts.codec,
        crf: opts.crf,
        maxResolution: opts.maxResolution,
      });
      const { policyKey, decide } = deciderFor(policy, {
        policyFile,
        force: opts.force ?? false,
        dryRun: opts.dryRun ?? false,
        tempDirectory: config.jobs.tempDirectory,
        cpuCores: config.worker.cpuCores,
      });
      const queue = await ctx.queue();
      const library = Library.of(ctx.home, warn);
      const summary = new ScanSummary();
      try {
        for await (
          const d of queueFiles(queue, paths, {
            policyKey,
            recursive: opts.recursive ?? false,
            dryRun: opts.dryRun ?? false,
            priority: opts.priority,
            library,
            recheck: opts.recheck ?? false,
            settleSeconds: opts.settle ?? config.library.settleSeconds,
            namedSettleSeconds: opts.settle ?? 0,
          }, decide)
        ) {
          summary.add(d);
          if (d.status === "remembered" && !opts.verbose) continue;
          const label = d.status === "queued" && opts.dryRun ? "would queue" : d.status;
          const id = d.jobId ? shortId(d.jobId) : "";
          println(`${label.padEnd(11)} ${id.padEnd(8)} ${displayName(`${d.path}: ${d.detail}`)}`);
          for (const note of d.notes ?? []) println(`${"".padEnd(20)} note: ${displayName(note)}`);
          if (d.command) println(`${"".padEnd(20)} ${displayName(d.command)}`);
        }
      } finally {
        library.close({ compact: !opts.dryRun });
      }
      println(summary.line(opts.dryRun ?? false));
      if (summary.errors > 0) ctx.exitCode = 1;
    });
}
