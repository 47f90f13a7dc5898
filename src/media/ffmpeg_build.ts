/**
 * Which ffmpeg build this host runs, as a short hash of `ffmpeg -version` (version, configuration,
 * library versions). Segments encoded by two builds may carry other codec headers and then cannot
 * be joined, so a host helps with another host's segments only when its build is the same.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { FfmpegError } from "../errors.ts";
import { runCaptured } from "./exec.ts";

let cached: Promise<string> | null = null;

/**
 * The build hash of the ffmpeg on PATH (16 hex digits), computed once per process.
 *
 * @throws FfmpegError when ffmpeg will not run.
 */
export function ffmpegBuild(): Promise<string> {
  cached ??= (async () => {
    const run = await runCaptured("ffmpeg", ["-hide_banner", "-version"]);
    if (run.code !== 0) throw new FfmpegError(`ffmpeg -version exited with code ${run.code}`);
    return createHash("sha256").update(run.stdout).digest("hex").slice(0, 16);
  })();
  // A failure is not kept: the next call tries again.
  cached.catch(() => cached = null);
  return cached;
}
