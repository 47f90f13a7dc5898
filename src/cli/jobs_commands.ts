/**
 * `vpo jobs list|status|show|cancel|retry|clear|recover|cleanup`: thin wrappers over
 * {@link JobQueue} that print the formats the README documents.
 *
 * @module
 */
import { type Command, Option } from "@commander-js/extra-typings";
import { CONFIG_LIMITS } from "../config/defaults.ts";
import { FINISHED_STATES, type Job, type JobState, STATES } from "../queue/job.ts";
import { crashPoint } from "../util/crash_point.ts";
import { formatBytes, plural } from "../util/format.ts";
import { displayName } from "../util/display_name.ts";
import { type CliContext, confirm, println, warn } from "./context.ts";
import { intAtLeast, nonNegative } from "./options.ts";
import { examples } from "./help.ts";
import { addStartCommand } from "./start_command.ts";
import { addPriorityCommand } from "./priority_command.ts";
import { addLogCommand } from "./log_command.ts";
import type { Problem } from "../queue/scan.ts";
import { shortId } from "../util/ids.ts";

function sizeOrZero(path: string): number {
  try {
    return Deno.lstatSync(path).size;
  } catch {
    return 0;
  }
}

function reportProblems(problems: Problem[]): void {
  for (const p of problems) warn(`unreadable job file (left in place): ${p.message}`);
}

/** Adds the `jobs` command group to `program`. */
export function addJobsCommands(program: Command, ctx: CliContext): Command {
  const jobs = program.command("jobs").description("inspect and manage the job queue");

  jobs.command("list")
    .description("list jobs: running, then queued in claim order, then finished newest first")
    .addOption(new Option("--status <status>", "only jobs in this state").choices(STATES))
    .option("--limit <n>", "show at most n jobs", intAtLeast(1))
    .option("--json", "print JSON for scripts")
    .addHelpText(
      "after",
      examples(["vpo jobs list", "vpo jobs list --status failed", "vpo jobs list --limit 20"]),
    )
    .action(async (opts) => {
      const { formatJobTable } = await import("./job_format.ts");
      const { jobToJson } = await import("../queue/job_json.ts");
      const { irregularFiles } = await import("../queue/scan.ts");
      const queue = await ctx.readQueue();
      const { jobs: found, problems } = queue.list({ status: opts.status, limit: opts.limit });
      const rows = found.map((job) => ({ job, live: queue.readLive(job) }));
      if (opts.json) println(JSON.stringify(rows.map((r) => jobToJson(r.job, r.live)), null, 2));
      else {
        // A running job's type adds its own lines (a transcode's segments).
        const { JOB_TYPES } = await import("./job_types.ts");
        println(formatJobTable(rows, JOB_TYPES));
      }
      reportProblems([...problems, ...irregularFiles(queue.layout)]);
    });

  jobs.command("status")
    .description("show how many jobs are in each state")
    .option("--json", "print JSON for scripts")
    .addHelpText("after", examples(["vpo jobs status", "vpo jobs status --json"]))
    .action(async (opts) => {
      const { surveyQueue } = await import("../queue/counts.ts");
      const { formatStatus } = await import("./status_format.ts");
      await ctx.config(); // a broken config.yaml is reported by every command
      // Names and one cache file only: the queue's code (JobQueue) is not loaded for this.
      const { counts, irregular } = surveyQueue(ctx.home.jobs);
      if (opts.json) {
        const total = Object.values(counts).reduce((a, b) => a + b, 0);
        println(JSON.stringify({ ...counts, total }));
      } else println(formatStatus(counts));
      reportProblems(irregular);
    });

  jobs.command("show")
    .description("show everything about one job, its error in full")
    .argument("<id>", "job id (full, or a unique prefix of 4+ characters)")
    .option("--json", "print JSON for scripts")
    .addHelpText("after", examples(["vpo jobs show a1b2c3d4", "vpo jobs show a1b2 --json"]))
    .action(async (id, opts) => {
      const queue = await ctx.readQueue();
      const job = queue.find(id);
      const live = queue.readLive(job);
      if (opts.json) {
        const { jobToJson } = await import("../queue/job_json.ts");
        println(JSON.stringify(jobToJson(job, live), null, 2));
        return;
      }
      // The job's type adds its own lines (a transcode's segments).
      const { formatJobDetail } = await import("./job_format.ts");
      const { JOB_TYPES } = await import("./job_types.ts");
      println(formatJobDetail(job, live, JOB_TYPES));
    });

  jobs.command("cancel")
    .description("cancel a queued job (a running one only with --running)")
    .argument("<id>", "job id (full, or a unique prefix of 4+ characters)")
    .option(
      "--running",
      "also stop a running job: its ffmpeg is stopped and its partial output removed",
    )
    .addHelpText(
      "after",
      examples(["vpo jobs cancel a1b2c3d4", "vpo jobs cancel a1b2c3d4 --running"]),
    )
    .action(async (id, opts) => {
      const job = await (await ctx.queue()).cancel(id, { running: opts.running });
      println(
        job.state === "running"
          ? `Stop requested for running job ${shortId(job.id)}; its worker ends it within seconds`
          : `Cancelled job ${shortId(job.id)}`,
      );
    });

  jobs.command("retry")
    .description("put a failed or cancelled job back in the queue")
    .argument("<id>", "job id (full, or a unique prefix of 4+ characters)")
    .addHelpText("after", examples(["vpo jobs retry a1b2c3d4"]))
    .action(async (id) => {
      const job = await (await ctx.queue()).retry(id);
      println(`Queued job ${shortId(job.id)} again`);
    });

  jobs.command("clear")
    .description("remove finished jobs from the queue")
    .addOption(
      new Option("--status <status>", "which finished jobs")
        .choices(["completed", "failed", "cancelled", "all"] as const)
        .default("completed" as const),
    )
    .option("--force", "do not ask for confirmation")
    .addHelpText(
      "after",
      examples([
        "vpo jobs clear",
        "vpo jobs clear --status failed",
        "vpo jobs clear --status all --force",
      ]),
    )
    .action(async (opts) => {
      const queue = await ctx.queue();
      const states: readonly JobState[] = opts.status === "all" ? FINISHED_STATES : [opts.status];
      const counts = queue.counts();
      const n = states.reduce((sum, s) => sum + counts[s], 0);
      const what = opts.status === "all" ? "finished" : opts.status;
      if (n === 0) return println(`No ${what} jobs to clear`);
      if (!opts.force && !confirm(`Remove ${plural(n, `${what} job`)}?`)) {
        return println("Nothing removed");
      }
      const { removed, problems } = await queue.clear(states);
      println(`Removed ${plural(removed, `${what} job`)}`);
      reportProblems(problems);
    });

  jobs.command("recover")
    .description("return running jobs whose worker stopped sending heartbeats to the queue")
    .addHelpText("after", examples(["vpo jobs recover"]))
    .action(async () => {
      const { recoverStale } = await import("../worker/recovery.ts");
      const { JOB_TYPES } = await import("./job_types.ts");
      const config = await ctx.config();
      const { recovered, problems } = await recoverStale(await ctx.queue(), config, JOB_TYPES);
      for (const r of recovered) {
        println(`Recovered job ${shortId(r.id)} -> ${r.to} (${displayName(r.detail)})`);
      }
      println(`${plural(recovered.length, "stale job")} recovered`);
      reportProblems(problems);
    });

  jobs.command("cleanup")
    .description("remove old finished jobs, and optionally their backups and orphaned temp files")
    .option("--dry-run", "show what would be removed, remove nothing")
    .option(
      "--older-than <days>",
      "finished more than this many days ago (default: jobs.retention_days)",
      nonNegative(CONFIG_LIMITS.retentionDays),
    )
    .option("--include-backups", "also remove the .original backups vpo made for those jobs")
    .option("--remove-temp", "also remove temp outputs vpo left behind that no running job owns")
    .option("--force", "do not ask for confirmation")
    .addHelpText(
      "after",
      examples([
        "vpo jobs cleanup --dry-run",
        "vpo jobs cleanup --older-than 7",
        "vpo jobs cleanup --older-than 7 --include-backups --force",
        "vpo jobs cleanup --remove-temp",
      ]),
    )
    .action(async (opts) => {
      const { findOrphanTemps, removeOrphanTemp } = await import("../replace/temp_files.ts");
      const { findOrphanSegmentDirs } = await import("../transcode/segments/orphan_dirs.ts");
      const { removeSegments, segmentDirSize } = await import(
        "../transcode/segments/segment_dir.ts"
      );
      const { JOB_TYPES } = await import("./job_types.ts");
      const config = await ctx.config();
      const queue = await ctx.queue();
      const olderThanDays = opts.olderThan ?? config.jobs.retentionDays;
      const madeFiles = opts.includeBackups
        ? (job: Job) => JOB_TYPES.of(job)?.madeFiles(job) ?? { made: [], left: [] }
        : undefined;
      const plan = await queue.cleanup({ olderThanDays, madeFiles, dryRun: true });
      const temps = opts.removeTemp ? findOrphanTemps(queue, config.jobs.tempDirectory) : [];
      // Segment directories of jobs that will not resume.
      const segDirs = opts.removeTemp
        ? findOrphanSegmentDirs(queue, config.jobs.tempDirectory)
        : [];
      const segBytes = segDirs.reduce((sum, d) => sum + segmentDirSize(d), 0);
      // A file may vanish between the scan and this sum (another cleanup, a worker): count 0.
      const sizeOf = (paths: string[]) => paths.reduce((sum, p) => sum + sizeOrZero(p), 0);
      const summary =
        `${plural(plan.jobs.length, "job")} finished over ${olderThanDays} days ago, ` +
        `${plural(plan.files.length, "backup")} (${formatBytes(sizeOf(plan.files))}), ` +
        `${plural(temps.length, "temp file")} (${formatBytes(sizeOf(temps))})` +
        (segDirs.length ? `, ${segmentDirs(segDirs.length)} ` : "") +
        (segDirs.length ? `(${formatBytes(segBytes)})` : "");
      reportProblems(plan.problems);
      for (const k of plan.leftFiles) warn(`left backup ${k.path}: ${k.reason}`);
      if (opts.dryRun) {
        for (const j of plan.jobs) {
          println(`would remove job ${shortId(j.id)} (${j.state}) ${displayName(j.file ?? "")}`);
        }
        for (const b of plan.files) println(`would remove backup ${displayName(b)}`);
        for (const t of temps) println(`would remove temp file ${displayName(t)}`);
        for (const d of segDirs) println(`would remove segment directory ${displayName(d)}`);
        return println(`Dry run: ${summary}`);
      }
      if (plan.jobs.length + temps.length + segDirs.length === 0) {
        return println("Nothing to clean up");
      }
      if (!opts.force && !confirm(`Remove ${summary}?`)) return println("Nothing removed");
      crashPoint("cleanup:confirmed");
      const done = await queue.cleanup({ olderThanDays, madeFiles });
      let removedTemps = 0;
      for (const t of temps) if (await removeOrphanTemp(queue, t)) removedTemps++;
      for (const d of segDirs) await removeSegments(d).catch(() => {});
      println(
        `Removed ${plural(done.jobs.length, "job")}, ${plural(done.files.length, "backup")}, ` +
          plural(removedTemps, "temp file") +
          (segDirs.length ? `, ${segmentDirs(segDirs.length)}` : ""),
      );
    });

  addPriorityCommand(jobs, ctx);
  addStartCommand(jobs, ctx);
  addLogCommand(jobs, ctx);
  return jobs;
}

/** "1 segment directory", "2 segment directories". */
const segmentDirs = (n: number) => `${n} segment ${n === 1 ? "directory" : "directories"}`;
