/**
 * Running the short-lived ffmpeg-family tools (ffprobe, trial encodes, decode checks) and naming
 * files to them safely.
 *
 * @module
 */

import { basename, resolve } from "node:path";
import { FfmpegError } from "../errors.ts";
import { spawnChild, spawnFailure } from "../util/spawn.ts";
import { readLines } from "./text_lines.ts";

/** Exit code and decoded output of a finished tool run. */
export interface CapturedRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Most of a tool's stdout kept (after `keepLine`); more is an error, not a memory blow-up. */
const MAX_STDOUT_CHARS = 64 * 1024 * 1024;
/** How much of the end of a tool's stderr is kept: messages are read from its end. */
const STDERR_TAIL_CHARS = 64 * 1024;

/**
 * Runs `command` with an argument array (never a shell) and stdin closed, and collects its
 * output as it streams: stdout line by line, only the lines `keepLine` accepts (all by default),
 * and the last 64 KiB of stderr. Memory stays bounded however much a tool prints.
 *
 * @throws FfmpegError when the tool is not installed, cannot be started, or prints more than
 *   64 MiB worth keeping; the signal's reason when aborted.
 */
export async function runCaptured(
  command: string,
  args: readonly string[],
  signal?: AbortSignal,
  keepLine?: (line: string) => boolean,
): Promise<CapturedRun> {
  let child: Deno.ChildProcess;
  try {
    child = spawnChild(command, {
      args: [...args],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal,
    });
  } catch (error) {
    signal?.throwIfAborted();
    throw toolError(command, error);
  }
  const kept: string[] = [];
  let chars = 0;
  const stdout = (async () => {
    for await (const line of readLines(child.stdout)) {
      if (keepLine && !keepLine(line)) continue;
      chars += line.length + 1;
      if (chars <= MAX_STDOUT_CHARS) kept.push(line);
    }
  })();
  const stderr = (async () => {
    let tail = "";
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
      tail = (tail + chunk).slice(-STDERR_TAIL_CHARS);
    }
    return tail;
  })();
  const [status, , errText] = await Promise.all([child.status, stdout, stderr]);
  signal?.throwIfAborted();
  if (chars > MAX_STDOUT_CHARS) {
    throw new FfmpegError(`${command} printed more than ${MAX_STDOUT_CHARS} characters of output`);
  }
  return { code: status.code, stdout: kept.join("\n"), stderr: errText };
}

/**
 * Turns a spawn failure into a user-facing error: "not found" (with how to install ffmpeg, for
 * its tools) only when the program is not there; anything else says why it would not start.
 */
export function toolError(command: string, error: unknown): FfmpegError {
  const hint = error instanceof Deno.errors.NotFound && /^ff(mpeg|probe)$/.test(basename(command))
    ? ": install ffmpeg (it provides ffmpeg and ffprobe)"
    : "";
  return new FfmpegError(spawnFailure(command, error) + hint, { cause: error });
}

/**
 * The argument naming a local file to ffmpeg: absolute and `file:`-prefixed, so a name starting
 * with "-" is not read as an option and one containing ":" is not read as a protocol.
 */
export function fileArg(path: string): string {
  return `file:${resolve(path)}`;
}

/** The first non-blank line of a tool's output, trimmed; "" when there is none. */
export function firstLine(text: string): string {
  return text.split(/\r?\n|\r/).map((line) => line.trim()).find((line) => line !== "") ?? "";
}
