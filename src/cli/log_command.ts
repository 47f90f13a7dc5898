/**
 * `vpo jobs log ID [--follow]`: ffmpeg's log of a job, from `$VPO_HOME/logs/<id>.log`, and with
 * `--follow` what ffmpeg writes next, until the job leaves the queue's active states.
 *
 * @module
 */
import type { Command } from "@commander-js/extra-typings";
import { closeSync, readSync } from "node:fs";
import { JobStateError, VpoError } from "../errors.ts";
import type { QueueLayout } from "../queue/layout.ts";
import { listJobNames } from "../queue/scan.ts";
import type { CliContext } from "./context.ts";
import { examples } from "./help.ts";
import { shortId } from "../util/ids.ts";
import { openRegularFileSync, UnreadableFileError } from "../util/safe_read.ts";

/** How often --follow looks for new log bytes and for the job's end. */
const FOLLOW_POLL_MS = 250;

/** Is job `id` queued or running? Judged from file names alone. */
function isActive(layout: QueueLayout, id: string): boolean {
  return listJobNames(layout.stateDir("running")).some((n) => n.id === id) ||
    listJobNames(layout.stateDir("queued")).some((n) => n.id === id);
}

/**
 * Copies `path` from byte `offset` to stdout; returns the new offset (unchanged if missing). The
 * log sits in the home, which others may write: a link or FIFO there is refused, never followed
 * or waited on.
 */
async function copyFrom(path: string, offset: number): Promise<number> {
  let fd: number;
  try {
    fd = openRegularFileSync(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return offset;
    if (err instanceof UnreadableFileError) throw new VpoError(err.message);
    throw err;
  }
  try {
    const buf = new Uint8Array(64 * 1024);
    while (true) {
      const n = readSync(fd, buf, 0, buf.length, offset);
      if (n === 0) return offset;
      let written = 0;
      while (written < n) written += await Deno.stdout.write(buf.subarray(written, n));
      offset += n;
    }
  } finally {
    closeSync(fd);
  }
}

/** Adds `log` to the `jobs` command group. */
export function addLogCommand(jobs: Command, ctx: CliContext): void {
  jobs.command("log")
    .description("print ffmpeg's log of a job; --follow keeps printing until the job ends")
    .argument("<id>", "job id (full, or a unique prefix of 4+ characters)")
    .option("-f, --follow", "print what ffmpeg writes next, until the job is no longer running")
    .addHelpText(
      "after",
      examples(["vpo jobs log a1b2c3d4", "vpo jobs log a1b2 --follow"]) +
        "\nThe log is $VPO_HOME/logs/<id>.log: every attempt's ffmpeg command line and output.\n",
    )
    .action(async (id, opts) => {
      const queue = await ctx.queue();
      const job = queue.find(id);
      const path = ctx.home.logPath(job.id);
      const layout = ctx.home.jobs;
      let offset = await copyFrom(path, 0);
      if (!opts.follow) {
        if (offset === 0 && !(await Deno.stat(path).then(() => true, () => false))) {
          throw new JobStateError(
            `job ${shortId(job.id)} has no ffmpeg log (${job.state}; ffmpeg has not run for it)`,
          );
        }
        return;
      }
      // Look at the state before the last read: bytes written just before the job ended are
      // then read after its end was seen.
      while (true) {
        const active = isActive(layout, job.id);
        offset = await copyFrom(path, offset);
        if (!active) return;
        await new Promise((r) => setTimeout(r, FOLLOW_POLL_MS));
      }
    });
}
