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
import { type CliContext, println } from "./context.ts";
import { examples } from "./help.ts";
import { displayLines, displayName } from "../util/display_name.ts";
import { shortId } from "../util/ids.ts";
import {
  openRegularFileSync,
  UnreadableFileError,
  UntrustedDirectoryError,
} from "../util/safe_open.ts";

/** How often --follow looks for new log bytes and for the job's end. */
const FOLLOW_POLL_MS = 250;

/** Is job `id` queued or running? Judged from file names alone. */
function isActive(layout: QueueLayout, id: string): boolean {
  return listJobNames(layout.stateDir("running")).some((n) => n.id === id) ||
    listJobNames(layout.stateDir("queued")).some((n) => n.id === id);
}

/**
 * The log's text as it may be printed: control characters escaped (lines and tabs kept), and the
 * job's file name, which ffmpeg quotes in its own lines (with a newline in it kept, which would
 * forge a line), shown escaped as a whole. Text is fed in pieces as it is read; the end of a
 * piece that could be the start of the name is held back until the next piece shows whether it
 * is.
 */
class LogPrinter {
  readonly #decoder = new TextDecoder();
  readonly #shown: string;
  /** The forms of the name in the log: as vpo wrote it, and as ffmpeg's log prints it. */
  readonly #forms: string[];
  #held = "";

  constructor(name: string | null) {
    this.#shown = name === null ? "" : displayName(name);
    // ffmpeg's log shows control characters other than \b-\r as "?" (libavutil/log.c).
    // deno-lint-ignore no-control-regex
    const forms = name === null ? [] : [name, name.replace(/[\x00-\x07\x0e-\x1f]/g, "?")];
    this.#forms = [...new Set(forms)].filter((form) => form !== this.#shown);
  }

  /** Prints the text of `bytes` (`end` at the end of the log: nothing is held back). */
  print(bytes: Uint8Array, end = false): void {
    let text = this.#held + this.#decoder.decode(bytes, { stream: !end });
    this.#held = "";
    for (const form of this.#forms) text = text.replaceAll(form, this.#shown);
    if (!end) {
      // The longest end of the text that begins one of the forms.
      let keep = Math.min(Math.max(0, ...this.#forms.map((f) => f.length - 1)), text.length);
      const begins = (tail: string) => this.#forms.some((f) => f.startsWith(tail));
      while (keep > 0 && !begins(text.slice(text.length - keep))) keep--;
      this.#held = text.slice(text.length - keep);
      text = text.slice(0, text.length - keep);
    }
    println(displayLines(text), "");
  }
}

/**
 * Copies `path` from byte `offset` to stdout through `printer`; returns the new offset (unchanged
 * if missing). The log sits in the home, which others may write: a link or FIFO there is refused,
 * never followed or waited on.
 */
function copyFrom(path: string, offset: number, printer: LogPrinter): number {
  let fd: number;
  try {
    fd = openRegularFileSync(path, { rule: "home" });
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return offset;
    if (err instanceof UnreadableFileError || err instanceof UntrustedDirectoryError) {
      throw new VpoError(err.message);
    }
    throw err;
  }
  try {
    const buf = new Uint8Array(64 * 1024);
    while (true) {
      const n = readSync(fd, buf, 0, buf.length, offset);
      if (n === 0) return offset;
      printer.print(buf.subarray(0, n));
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
      const printer = new LogPrinter(job.file);
      let offset = copyFrom(path, 0, printer);
      if (!opts.follow) {
        printer.print(new Uint8Array(), true);
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
        offset = copyFrom(path, offset, printer);
        if (!active) return printer.print(new Uint8Array(), true);
        await new Promise((r) => setTimeout(r, FOLLOW_POLL_MS));
      }
    });
}
