/**
 * The `vpo` command line: parses arguments with commander, runs the command, and turns every
 * error into one line on stderr and an exit code (2 usage, 1 anything else).
 *
 * Start-up: this module and the command modules it imports declare the commands and their flags
 * only; each command loads what it runs (`await import(...)` in its action), so `vpo jobs status`
 * loads neither the worker, the media layer, the web server, the doctor nor the notifier. A
 * test keeps it so (tests/startup_test.ts).
 *
 * @module
 */
import { Command, CommanderError, type CommandUnknownOpts } from "@commander-js/extra-typings";
import denoJson from "../../deno.json" with { type: "json" };
import { VpoError } from "../errors.ts";
import { displayName } from "../util/display_name.ts";
import { writeBestEffort } from "../util/output.ts";
import { UnreadableFileError, UntrustedDirectoryError } from "../util/safe_open.ts";
import { CliContext } from "./context.ts";
import { addJobsCommands } from "./jobs_commands.ts";
import { addTranscodeCommand } from "./transcode_command.ts";
import { addStatsCommand } from "./stats_command.ts";
import { addServeCommand } from "./serve_command.ts";
import { addCompletionsCommand } from "./completions.ts";
import { addDoctorCommand } from "./doctor_command.ts";
import { addForecastCommand } from "./forecast_command.ts";

/** vpo's version, shown by `vpo --version`: the one in deno.json (embedded by `deno compile`). */
const VERSION: string = denoJson.version;

/** Commands that run ffmpeg or ffprobe. */
const NEEDS_FFMPEG = new Set(["transcode", "jobs start", "forecast"]);

/** "jobs start" for the `start` subcommand of `jobs`. */
function commandPath(cmd: CommandUnknownOpts): string {
  const names: string[] = [];
  for (let c: CommandUnknownOpts | null = cmd; c?.parent; c = c.parent) {
    names.unshift(c.name());
  }
  return names.join(" ");
}

/** The top-level commands in `vpo --help` order; completions last: it completes those before it. */
const COMMANDS: readonly [string, (program: Command, ctx: CliContext) => unknown][] = [
  ["transcode", addTranscodeCommand],
  ["forecast", addForecastCommand],
  ["jobs", addJobsCommands],
  ["stats", addStatsCommand],
  ["serve", addServeCommand],
  ["doctor", addDoctorCommand],
  ["completions", (program) => addCompletionsCommand(program)],
];

function buildProgram(
  ctx: CliContext,
  args: readonly string[],
  captureError: (msg: string) => void,
): Command {
  const program = new Command()
    .name("vpo")
    .description("Video transcoding job queue that needs no database")
    .version(VERSION, "-V, --version", "print vpo's version and where ffmpeg and ffprobe are")
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({ writeErr: captureError });
  // Declaring every command and flag costs about as much as `jobs status` itself: a command line
  // that names a command gets that one declared only. Anything else (`--help`, `help jobs`, a
  // typo to suggest a name for) and `completions`, which lists them all, gets every one.
  const named = COMMANDS.find(([name]) => name === args[0] && name !== "completions");
  for (const [, add] of named ? [named] : COMMANDS) add(program, ctx);
  // One line naming the missing tool, before a command that needs it does anything.
  program.hook("preAction", async (_root, action) => {
    if (NEEDS_FFMPEG.has(commandPath(action))) (await import("../ops/tools.ts")).requireTools();
  });
  const applyToAll = (cmd: Command) => {
    cmd.exitOverride().configureOutput({ writeErr: captureError }).showSuggestionAfterError(true);
    for (const sub of cmd.commands) applyToAll(sub as Command);
  };
  applyToAll(program);
  return program;
}

/** Folds commander's (possibly multi-line) message into one line without its "error:" prefix. */
function oneLine(text: string): string {
  return text.replace(/^error:\s*/i, "").split("\n").map((l) => l.trim()).filter(Boolean).join(" ");
}

/** The exit code says it all when stderr cannot take the message (a full disk, a closed pipe). */
function printError(text: string): void {
  writeBestEffort(Deno.stderr, text + "\n");
}

/** Runs the CLI with `args` and returns the exit code. */
export async function main(args: string[]): Promise<number> {
  let commanderMessage = "";
  if (args.length === 1 && (args[0] === "--version" || args[0] === "-V")) {
    const { versionReport } = await import("../ops/tools.ts");
    console.log(versionReport(VERSION));
    return 0;
  }
  try {
    const ctx = new CliContext();
    const program = buildProgram(ctx, args, (msg) => commanderMessage += msg);
    await program.parseAsync(args, { from: "user" });
    return ctx.exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.exitCode === 0) return 0; // --help, --version
      if (err.code === "commander.help") {
        // A command group without its subcommand: show what it offers, as a usage error.
        printError(commanderMessage.trimEnd());
        return 2;
      }
      printError(`vpo: ${displayName(oneLine(commanderMessage || err.message))}`);
      return 2;
    }
    if (err instanceof VpoError) {
      printError(`vpo: ${displayName(err.message)}`);
      return err.exitCode;
    }
    // Something planted where vpo reads or writes (util/safe_open.ts): the file names it.
    if (err instanceof UnreadableFileError || err instanceof UntrustedDirectoryError) {
      printError(`vpo: ${displayName(err.message)}`);
      return 1;
    }
    const message = err instanceof Error ? err.message : String(err);
    printError(`vpo: internal error: ${displayName(message)}`);
    if (Deno.env.get("VPO_DEBUG")) console.error(err);
    return 1;
  }
}
