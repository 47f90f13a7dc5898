/**
 * The `vpo` command line: parses arguments with commander, runs the command, and turns every
 * error into one line on stderr and an exit code (2 usage, 1 anything else).
 *
 * @module
 */
import { Command, CommanderError, type CommandUnknownOpts } from "@commander-js/extra-typings";
import denoJson from "../../deno.json" with { type: "json" };
import { VpoError } from "../errors.ts";
import { displayName } from "../util/display_name.ts";
import { writeBestEffort } from "../util/output.ts";
import { CliContext } from "./context.ts";
import { addJobsCommands } from "./jobs_commands.ts";
import { addTranscodeCommand } from "./transcode_command.ts";
import { addStatsCommand } from "./stats_command.ts";
import { addServeCommand } from "./serve_command.ts";
import { requireTools, versionReport } from "../ops/tools.ts";
import { addCompletionsCommand } from "./completions.ts";
import { addDoctorCommand } from "./doctor_command.ts";
import { addForecastCommand } from "./forecast_command.ts";

/** vpo's version, shown by `vpo --version`: the one in deno.json (embedded by `deno compile`). */
export const VERSION: string = denoJson.version;

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

function buildProgram(ctx: CliContext, captureError: (msg: string) => void): Command {
  const program = new Command()
    .name("vpo")
    .description("Video transcoding job queue that needs no database")
    .version(VERSION, "-V, --version", "print vpo's version and the ffmpeg and ffprobe it uses")
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({ writeErr: captureError });
  addTranscodeCommand(program, ctx);
  addForecastCommand(program, ctx);
  addJobsCommands(program, ctx);
  addStatsCommand(program, ctx);
  addServeCommand(program, ctx);
  addDoctorCommand(program, ctx);
  addCompletionsCommand(program); // last: it completes the commands added before it
  // One line naming the missing tool, before a command that needs it does anything.
  program.hook("preAction", (_root, action) => {
    if (NEEDS_FFMPEG.has(commandPath(action))) requireTools();
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
    console.log(await versionReport(VERSION));
    return 0;
  }
  try {
    const ctx = new CliContext();
    const program = buildProgram(ctx, (msg) => commanderMessage += msg);
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
    const message = err instanceof Error ? err.message : String(err);
    printError(`vpo: internal error: ${displayName(message)}`);
    if (Deno.env.get("VPO_DEBUG")) console.error(err);
    return 1;
  }
}
