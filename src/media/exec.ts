/**
 * Running the short-lived ffmpeg-family tools (ffprobe, trial encodes, decode checks) and naming
 * files to them safely.
 *
 * @module
 */

import { resolve } from "node:path";
import { FfmpegError } from "../errors.ts";

/** Exit code and decoded output of a finished tool run. */
export interface CapturedRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `command` with an argument array (never a shell) and stdin closed, and collects its output.
 *
 * @throws FfmpegError when the tool is not installed; the signal's reason when aborted.
 */
export async function runCaptured(
  command: string,
  args: readonly string[],
  signal?: AbortSignal,
): Promise<CapturedRun> {
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command(command, {
      args: [...args],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal,
    }).output();
  } catch (error) {
    throw toolError(command, error);
  }
  signal?.throwIfAborted();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

/** Turns a spawn failure into a user-facing error; a missing binary is the usual cause. */
export function toolError(command: string, error: unknown): unknown {
  if (error instanceof Deno.errors.NotFound) {
    return new FfmpegError(`${command} not found: install ffmpeg (it provides ffmpeg and ffprobe)`);
  }
  return error;
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
