/**
 * Running one long ffmpeg job: progress from stdout, the full log from stderr appended to a file
 * (its last lines kept for error messages), gentle on the host (nice, ionice, CPU affinity) and
 * stoppable. The exit code, not ffmpeg's `progress=end`, decides success.
 *
 * @module
 */

import { statfsSync } from "node:fs";
import { FfmpegError } from "../errors.ts";
import { toolError } from "./exec.ts";
import { shellQuote } from "./ffmpeg_args.ts";
import { parseProgress, ProgressTracker } from "./progress.ts";
import type { ProgressUpdate } from "./progress.ts";
import { readLines } from "./text_lines.ts";
import { displayName } from "../util/display_name.ts";
import { findOnPath } from "../util/find_on_path.ts";
import { spawnChild } from "../util/spawn.ts";
import { formatBytes, localSecond } from "../util/format.ts";
import {
  openAppendSync,
  type OpenFile,
  UnreadableFileError,
  UntrustedDirectoryError,
} from "../util/safe_open.ts";

/** Options of {@link runFfmpeg}. */
export interface RunFfmpegOptions {
  /** ffmpeg arguments, e.g. from buildFfmpegArgs (they should include `-progress pipe:1`). */
  args: string[];
  /** File the whole ffmpeg log is appended to (created if missing). */
  logPath: string;
  /** Aborting sends SIGTERM, then SIGKILL if ffmpeg is still alive after the grace period. */
  signal?: AbortSignal;
  /** Called for every progress block; percent and ETA need `durationSec`. */
  onProgress?: (update: ProgressUpdate) => void;
  /** Probed duration of the source in seconds. */
  durationSec?: number;
  /** Pin ffmpeg to CPUs 0..N-1 with taskset when N is below the CPU count; null: no pinning. */
  cpuCores?: number | null;
  /** Pin ffmpeg to exactly these CPUs instead (a worker's claimed cores); wins over cpuCores. */
  cpuSet?: readonly number[] | null;
  /** Niceness added with `nice -n` (plus idle-ish I/O via ionice); default 10, 0 or null: none. */
  nice?: number | null;
  /** ffmpeg binary; default "ffmpeg". */
  ffmpeg?: string;
  /** Milliseconds between SIGTERM and SIGKILL; default 5000. */
  killGraceMs?: number;
  /** Have ffmpeg measure what it used of the machine (`-benchmark`): see RunFfmpegResult.usage. */
  measure?: boolean;
}

/** What one ffmpeg run used of the machine, as it measured itself (`-benchmark`). */
export interface FfmpegUsage {
  /** CPU seconds (user + system, all threads) per wall second. */
  cores: number;
  /** Peak resident memory in bytes. */
  rssBytes: number;
}

/** How an ffmpeg run ended. */
export interface RunFfmpegResult {
  /** Exit code 0 and not aborted. */
  success: boolean;
  /** Exit code; ffmpeg exits 255 when it stops on SIGTERM itself; -1 when it never started. */
  code: number;
  /** The signal that killed it, when one did (SIGKILL after the grace period). */
  signal: Deno.Signal | null;
  /** True when the run was stopped through the AbortSignal. */
  aborted: boolean;
  /** The last (up to 20) non-blank lines ffmpeg wrote to stderr (not `-benchmark`'s). */
  tail: string[];
  /** With `measure`: what it used, when it said (it does when it ends normally); else null. */
  usage: FfmpegUsage | null;
  /**
   * ffmpeg said a write failed for want of space. ffmpeg 5.1 may still exit 0 then (an error
   * writing the trailer is only logged), leaving a truncated output.
   */
  noSpace: boolean;
}

const TAIL_LINES = 20;

/**
 * Runs ffmpeg to completion, streaming its log to `logPath`.
 *
 * @throws FfmpegError when ffmpeg (or taskset/nice chosen from PATH) cannot be started.
 */
export async function runFfmpeg(opts: RunFfmpegOptions): Promise<RunFfmpegResult> {
  const ffmpegArgs = opts.measure ? ["-benchmark", ...opts.args] : opts.args;
  const [command, ...args] = launchCommand(opts.ffmpeg ?? "ffmpeg", ffmpegArgs, opts);
  const log = openLog(opts.logPath);
  // One line, whatever the file name holds: `vpo jobs log` prints it to a terminal.
  await log.write(
    new TextEncoder().encode(
      `# ${localSecond(new Date())} ${displayName(shellQuote([command, ...args]))}\n`,
    ),
  );
  if (opts.signal?.aborted) {
    log.close();
    return {
      success: false,
      code: -1,
      signal: null,
      aborted: true,
      tail: ["aborted before start"],
      usage: null,
      noSpace: false,
    };
  }

  let child: Deno.ChildProcess;
  try {
    child = spawnChild(command, { args, stdin: "null", stdout: "piped", stderr: "piped" });
  } catch (error) {
    log.close();
    throw toolError(command, error);
  }

  let aborted = false;
  let killTimer: ReturnType<typeof setTimeout> | undefined;
  const onAbort = () => {
    aborted = true;
    trySignal(child, "SIGTERM");
    killTimer = setTimeout(() => trySignal(child, "SIGKILL"), opts.killGraceMs ?? 5000);
  };
  opts.signal?.addEventListener("abort", onAbort, { once: true });

  const tracker = new ProgressTracker(opts.durationSec ?? 0);
  const progressDone = (async () => {
    // Drained even without a listener: a full pipe would stall ffmpeg.
    for await (const block of parseProgress(child.stdout)) opts.onProgress?.(tracker.update(block));
  })();
  const tail: string[] = [];
  // `-benchmark`'s lines are figures, not messages: kept apart, so that the error's last lines
  // stay ffmpeg's own.
  const bench: string[] = [];
  let noSpace = false;
  const [logStream, lineStream] = child.stderr.tee();
  let logged = 0;
  const logDone = logStream.pipeTo(
    new WritableStream({
      // A damaged source can make ffmpeg warn on every frame: the log keeps its first
      // LOG_MAX_BYTES per run (the job's error keeps the last lines from `tail`).
      write: (chunk) => {
        if (logged >= LOG_MAX_BYTES) return;
        logged += chunk.length;
        const cut = logged >= LOG_MAX_BYTES ? `\n# log cut at ${LOG_MAX_BYTES} bytes\n` : "";
        return log.write(cut ? concatBytes(chunk, cut) : chunk);
      },
      close: () => log.close(),
    }),
  );
  const tailDone = (async () => {
    for await (const line of readLines(lineStream)) {
      if (line.trim() === "") continue;
      if (opts.measure && line.startsWith("bench: ")) {
        bench.push(line);
        continue;
      }
      // strerror(ENOSPC): ffmpeg does not set a locale, so its messages are in English.
      if (line.includes("No space left on device")) noSpace = true;
      tail.push(line);
      if (tail.length > TAIL_LINES) tail.shift();
    }
  })();

  try {
    const status = await child.status;
    await Promise.all([progressDone, logDone, tailDone]);
    return {
      success: status.success && !aborted,
      code: status.code,
      signal: status.signal,
      aborted,
      tail,
      usage: opts.measure ? usageOf(bench) : null,
      noSpace,
    };
  } finally {
    clearTimeout(killTimer);
    opts.signal?.removeEventListener("abort", onAbort);
    log.close();
  }
}

/**
 * The command line actually started: ffmpeg behind `ionice`/`nice` and `taskset` when asked for
 * and installed. Each wrapper execs the next, so the spawned process ends up being ffmpeg itself
 * and signals reach it directly.
 */
export function launchCommand(
  ffmpeg: string,
  args: readonly string[],
  opts: Pick<RunFfmpegOptions, "cpuCores" | "cpuSet" | "nice">,
): string[] {
  const prefix: string[] = [];
  const niceness = opts.nice === undefined ? 10 : opts.nice;
  if (niceness !== null && niceness !== 0) {
    if (findExecutable("ionice")) prefix.push("ionice", "-c", "2", "-n", "7");
    if (findExecutable("nice")) prefix.push("nice", "-n", `${niceness}`);
  }
  const cores = opts.cpuCores ?? null;
  if (opts.cpuSet?.length && findExecutable("taskset")) {
    prefix.push("taskset", "-c", coreListText(opts.cpuSet));
  } else if (cores !== null && cores >= 1 && cores < navigator.hardwareConcurrency) {
    if (findExecutable("taskset")) prefix.push("taskset", "-c", `0-${Math.floor(cores) - 1}`);
  }
  return [...prefix, ffmpeg, ...args];
}

function trySignal(child: Deno.ChildProcess, signal: Deno.Signal): void {
  try {
    child.kill(signal);
  } catch {
    // Already exited: nothing to stop.
  }
}

/**
 * Opens the job's log to add to it (one worker at a time runs a job, so nobody else writes it):
 * never through a link, FIFO or hard link planted at its name, and only in the home's own logs/.
 */
function openLog(path: string): OpenFile {
  try {
    return openAppendSync(path);
  } catch (err) {
    if (err instanceof UnreadableFileError || err instanceof UntrustedDirectoryError) {
      throw new FfmpegError(`cannot write ffmpeg's log: ${err.message}`);
    }
    throw err;
  }
}

const executables = new Map<string, boolean>();

/** Whether `name` is an executable file on PATH (cached: PATH does not change under us). */
function findExecutable(name: string): boolean {
  let found = executables.get(name);
  if (found === undefined) {
    found = findOnPath(name) !== null;
    executables.set(name, found);
  }
  return found;
}

/** Bytes of ffmpeg's log kept per run in `$VPO_HOME/logs/<id>.log`. */
export const LOG_MAX_BYTES = 8 * 1024 * 1024;

function concatBytes(chunk: Uint8Array, text: string): Uint8Array {
  const tail = new TextEncoder().encode(text);
  const out = new Uint8Array(chunk.length + tail.length);
  out.set(chunk);
  out.set(tail, chunk.length);
  return out;
}

/**
 * Why a run that reported {@link RunFfmpegResult.noSpace} or did not succeed failed, in one line:
 * a full disk by the directory its output was in (`outputDir`), else the signal or exit code with
 * ffmpeg's last line.
 */
export function runFailure(result: RunFfmpegResult, outputDir: string): string {
  if (result.noSpace) return `${noSpaceReason(outputDir)}; original kept`;
  const why = result.signal
    ? `ffmpeg was killed by ${result.signal}`
    : `ffmpeg exited with code ${result.code}`;
  return `${why}: ${result.tail.at(-1) ?? ""}`;
}

/**
 * Why a run that reported {@link RunFfmpegResult.noSpace} failed, naming the directory it wrote
 * to and what is free there now (not the input, which ffmpeg's own last line may blame).
 */
export function noSpaceReason(dir: string): string {
  let free = "";
  try {
    const fs = statfsSync(dir);
    free = ` (${formatBytes(Number(fs.bavail) * Number(fs.bsize))} free of ${
      formatBytes(Number(fs.blocks) * Number(fs.bsize))
    })`;
  } catch {
    // Gone or unreadable: the directory's name is the news.
  }
  return `no space left on ${dir}${free}: ffmpeg could not write its output`;
}

/** "0-1,4" for taskset -c. */
export function coreListText(cores: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < cores.length;) {
    let j = i;
    while (j + 1 < cores.length && cores[j + 1] === cores[j] + 1) j++;
    parts.push(i === j ? `${cores[i]}` : `${cores[i]}-${cores[j]}`);
    i = j + 1;
  }
  return parts.join(",");
}

/** CPU per wall second and peak memory from ffmpeg's `-benchmark` lines, when it printed them. */
export function usageOf(lines: readonly string[]): FfmpegUsage | null {
  const text = lines.join("\n");
  const times = /bench: utime=([\d.]+)s stime=([\d.]+)s rtime=([\d.]+)s/.exec(text);
  const rss = /bench: maxrss=(\d+)kB/.exec(text);
  if (!times || !rss || Number(times[3]) <= 0) return null;
  return {
    cores: (Number(times[1]) + Number(times[2])) / Number(times[3]),
    rssBytes: Number(rss[1]) * 1024,
  };
}
