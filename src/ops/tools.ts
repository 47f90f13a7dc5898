/**
 * Finding ffmpeg and ffprobe before a command needs them, so that a machine without them gets
 * one line saying what is missing and how to install it, not a failed spawn deep in a job.
 *
 * @module
 */
import { VpoError } from "../errors.ts";
import { firstLine, runCaptured } from "../media/exec.ts";
import { findOnPath } from "../util/find_on_path.ts";

/** The external programs every encoding command needs. */
export const MEDIA_TOOLS = ["ffmpeg", "ffprobe"] as const;

/** How to install ffmpeg and ffprobe, in one clause. */
export const INSTALL_HINT =
  "install it with `apt-get install ffmpeg` (as root; `sudo apt-get install ffmpeg` otherwise) " +
  "or run scripts/setup.sh from the vpo checkout";

/** One or more required programs are not on PATH. */
export class MissingToolError extends VpoError {
  /** `missing` are the program names not found. */
  constructor(readonly missing: string[]) {
    const names = missing.join(" and ");
    super(`${names} not found on PATH: ${INSTALL_HINT}`);
  }
}

/** Throws a {@link MissingToolError} naming every tool of `names` that is not on PATH. */
export function requireTools(names: readonly string[] = MEDIA_TOOLS): void {
  const missing = names.filter((name) => findOnPath(name) === null);
  if (missing.length > 0) throw new MissingToolError(missing);
}

/** A tool found on PATH and the first line of its `-version` output. */
export interface ToolVersion {
  /** Where it was found. */
  path: string;
  /** Version number as the tool prints it ("5.1.6-0+deb12u1"); the whole first line if odd. */
  version: string;
}

/** The version of ffmpeg or ffprobe on PATH, or null when it is not there or will not run. */
export async function toolVersion(name: string): Promise<ToolVersion | null> {
  const path = findOnPath(name);
  if (path === null) return null;
  try {
    const run = await runCaptured(name, ["-hide_banner", "-version"]);
    const line = firstLine(run.stdout);
    const m = /version\s+(\S+)/.exec(line);
    return run.code === 0 ? { path, version: m ? m[1] : line } : null;
  } catch {
    return null;
  }
}

/** What `vpo --version` prints: vpo's version, then the ffmpeg and ffprobe it would use. */
export async function versionReport(vpoVersion: string): Promise<string> {
  const lines = [`vpo ${vpoVersion}`];
  for (const name of MEDIA_TOOLS) {
    const found = await toolVersion(name);
    lines.push(found ? `${name} ${found.version} (${found.path})` : `${name} not found on PATH`);
  }
  return lines.join("\n");
}
