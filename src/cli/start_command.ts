/**
 * `vpo jobs start`: runs the worker within its limits; flags override config.yaml.
 *
 * @module
 */
import { type Command, InvalidArgumentError } from "@commander-js/extra-typings";
import { CONFIG_LIMITS, parseTimeOfDay, parseWorkers } from "../config/defaults.ts";
import type { WorkerReporter } from "../worker/reporter.ts";
import type { JobTypes } from "../queue/job_type.ts";
import { UsageError, VpoError } from "../errors.ts";
import { localMinute, plural } from "../util/format.ts";
import { foldersWritableByOthers } from "../queue/access.ts";
import type { JobQueue } from "../queue/store.ts";
import { type CliContext, warn } from "./context.ts";
import { examples } from "./help.ts";
import { intAtLeast } from "./options.ts";

/** Exit code of a worker run in which at least one job failed. */
const EXIT_JOBS_FAILED = 3;

function timeOfDay(value: string): string {
  try {
    return parseTimeOfDay(value);
  } catch (err) {
    throw new UsageError(`--end-by: ${(err as Error).message}`);
  }
}

/**
 * Root acting in a folder another user can write is that user's tool: they can swap names and
 * links between root's checks and its renames. vpo checks what it can (see docs/design.md), but
 * says so once at start.
 */
function warnRootOverOthersFolders(queue: JobQueue, tempDir: string | null): void {
  const files = queue.list({ status: "queued" }).jobs.flatMap((j) => j.file ? [j.file] : []);
  const folders = foldersWritableByOthers(files, tempDir ? [tempDir] : []);
  const shown = folders.slice(0, 5).join("; ") +
    (folders.length > 5 ? `; and ${folders.length - 5} more` : "");
  if (folders.length) {
    warn(
      `running as root over folders other users can write: ${shown}; ` +
        "run the worker as the library's owner instead",
    );
  }
}

function workersFlag(value: string): number | "auto" {
  try {
    return parseWorkers(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

/** The number of worker loops to run; "auto" is chosen here and said in one line. */
async function workerCount(
  asked: number | "auto",
  cpuCores: number | null,
  types: JobTypes,
  ctx: CliContext,
  reporter: WorkerReporter,
): Promise<number> {
  if (asked !== "auto") return asked;
  const { autoWorkers } = await import("../worker/auto_workers.ts");
  const choice = await autoWorkers(types, ctx.home, cpuCores ?? navigator.hardwareConcurrency);
  reporter.event("worker", null, null, `${plural(choice.workers, "worker")} (auto: ${choice.why})`);
  return choice.workers;
}

/** Adds `start` to the `jobs` command group. */
export function addStartCommand(jobs: Command, ctx: CliContext): void {
  jobs.command("start")
    .description("process queued jobs until the queue is empty or a limit is reached")
    .option(
      "--max-files <n>",
      "stop after n jobs finished (completed or failed)",
      intAtLeast(1, CONFIG_LIMITS.maxFiles),
    )
    .option(
      "--max-duration <seconds>",
      "stop after this many seconds",
      intAtLeast(1, CONFIG_LIMITS.maxDurationSec),
    )
    .option("--end-by <HH:MM>", "stop at this local time (24-hour), its next occurrence")
    .option(
      "--cpu-cores <n>",
      "use at most n CPU cores for transcoding",
      intAtLeast(1, CONFIG_LIMITS.cpuCores),
    )
    .option(
      "--workers <n|auto>",
      `run n workers at once, each on its own cores (1 to ${CONFIG_LIMITS.workers}), or auto`,
      workersFlag,
    )
    .option(
      "--prefer-segments",
      "help with the segments of running jobs before starting queued jobs",
    )
    .option("--no-purge", "skip the automatic purge of old finished jobs")
    .option("--verify-decode", "decode each whole output before replacing the original (slower)")
    .addHelpText(
      "after",
      examples([
        "vpo jobs start",
        "vpo jobs start --max-files 5",
        "vpo jobs start --max-duration 3600",
        "vpo jobs start --end-by 06:00 --cpu-cores 2",
        "vpo jobs start --workers auto",
        "vpo jobs start --workers 2 --cpu-cores 4",
        "vpo jobs start --no-purge",
      ]) +
        "\nA job still running at the deadline, or at SIGTERM/SIGINT, is stopped and queued again.\n" +
        "With --workers, --cpu-cores is the cores of all workers together.\n" +
        `Exit codes: 0 done, 1 error, 2 usage, ${EXIT_JOBS_FAILED} some jobs failed.\n`,
    )
    .action(async (opts) => {
      const endBy = opts.endBy === undefined ? undefined : timeOfDay(opts.endBy);
      const { resolveLimits } = await import("../worker/limits.ts");
      const { PlainReporter, TerminalReporter } = await import("../worker/reporter.ts");
      const { runWorker } = await import("../worker/worker.ts");
      const { withNotifications } = await import("../notify/notifier.ts");
      const { JOB_TYPES } = await import("./job_types.ts");
      const config = await ctx.config();
      const tempDir = config.jobs.tempDirectory;
      if (tempDir && !(await Deno.stat(tempDir).then((i) => i.isDirectory, () => false))) {
        throw new VpoError(`jobs.temp_directory ${tempDir} is not an existing directory`);
      }
      const queue = await ctx.queue();
      if (Deno.uid() === 0) warnRootOverOthersFolders(queue, tempDir);
      const w = config.worker;
      const limits = resolveLimits({
        maxFiles: opts.maxFiles ?? w.maxFiles,
        maxDurationSec: opts.maxDuration ?? w.maxDuration,
        endBy: endBy ?? w.endBy,
      }, new Date());
      const notify = withNotifications(
        Deno.stdout.isTerminal() ? new TerminalReporter() : new PlainReporter(),
        config.notify,
        (id) => queue.find(id),
        JOB_TYPES,
      );
      const reporter = notify.reporter;
      const stop = new AbortController();
      let interrupts = 0;
      const onSignal = (name: Deno.Signal) => () => {
        interrupts++;
        // A second Ctrl-C means "now": exit at once; what is left, `vpo jobs recover` repairs.
        if (name === "SIGINT" && interrupts > 1) Deno.exit(130);
        reporter.event(
          "stopping",
          null,
          null,
          `${name}: stopping the running job and queueing it again`,
        );
        stop.abort();
      };
      const handlers = (["SIGTERM", "SIGINT"] as const).map((s) => [s, onSignal(s)] as const);
      for (const [s, h] of handlers) Deno.addSignalListener(s, h);
      try {
        if (limits.deadline) {
          reporter.event(
            "worker",
            null,
            null,
            `stops by ${localMinute(limits.deadline)} (${limits.deadlineSource})`,
          );
        }
        const cpuCores = opts.cpuCores ?? w.cpuCores;
        const workers = await workerCount(
          opts.workers ?? w.workers,
          cpuCores,
          JOB_TYPES,
          ctx,
          reporter,
        );
        const summary = await runWorker({
          queue,
          types: JOB_TYPES,
          config,
          home: ctx.home,
          limits,
          cpuCores,
          workers,
          preferHelping: opts.preferSegments ?? w.preferSegments,
          noPurge: !opts.purge,
          reporter,
          signal: stop.signal,
          fullDecodeCheck: opts.verifyDecode,
        });
        const c = summary.counts;
        reporter.event(
          "done",
          null,
          null,
          `${c.completed} completed, ${c.failed} failed, ${c.cancelled} cancelled, ` +
            `${c.requeued} requeued; stopped: ${summary.stopReason}`,
        );
        await notify.finish({ ...c, stop_reason: summary.stopReason });
        if (c.failed > 0) ctx.exitCode = EXIT_JOBS_FAILED;
      } finally {
        for (const [s, h] of handlers) Deno.removeSignalListener(s, h);
      }
    });
}
