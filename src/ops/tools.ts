/**
 * Finding ffmpeg and ffprobe before a command needs them, so that a machine without them gets
 * one line saying what is missing and how to install it, not a failed spawn deep in a job; and
 * saying "not found" only of a tool that is not there.
 *
 * @module
 */
import { VpoError } from "../errors.ts";
import { firstLine, runCaptured } from "../media/exec.ts";
import { lookUpOnPath } from "../util/find_on_path.ts";

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

/** A required program is on PATH but cannot be run (not executable, a directory not searchable). */
export class UnusableToolError extends VpoError {
  /** `problems` say which candidate and why ("/opt/bin/ffprobe: not executable"). */
  constructor(readonly problems: string[]) {
    super(`cannot run ${problems.join("; ")}`);
  }
}

/**
 * Throws a {@link MissingToolError} naming every tool of `names` that is nowhere on PATH, else an
 * {@link UnusableToolError} for those that are there but cannot be run. Only stats: nothing is
 * spawned.
 */
export function requireTools(names: readonly string[] = MEDIA_TOOLS): void {
  const lookups = names.map((name) => ({ name, found: lookUpOnPath(name) }));
  const missing = lookups.filter((l) => l.found.found === null && l.found.unusable === null);
  if (missing.length > 0) throw new MissingToolError(missing.map((l) => l.name));
  const unusable = lookups.flatMap((l) => l.found.found === null ? [l.found.unusable!] : []);
  if (unusable.length > 0) throw new UnusableToolError(unusable);
}

/** What {@link checkTool} found of a tool. */
export type ToolCheck =
  /** Found, and it ran: its version as it prints it ("5.1.6-0+deb12u1"; the first line if odd). */
  | { kind: "ok"; path: string; version: string }
  /** On PATH, but it cannot be run or fails to print its version: why. */
  | { kind: "unusable"; problem: string }
  /** Nowhere on PATH. */
  | { kind: "missing" };

/**
 * Finds a program on PATH and runs it for its version (`vpo doctor`): `versionArgs` are
 * ffmpeg's and ffprobe's by default; mkvtoolnix's programs take `--version`.
 */
export async function checkTool(
  name: string,
  versionArgs: readonly string[] = ["-hide_banner", "-version"],
): Promise<ToolCheck> {
  const found = lookUpOnPath(name);
  if (found.found === null) {
    return found.unusable === null
      ? { kind: "missing" }
      : { kind: "unusable", problem: found.unusable };
  }
  const path = found.found;
  try {
    const run = await runCaptured(path, versionArgs);
    const line = firstLine(run.stdout);
    if (run.code !== 0) {
      const why = firstLine(run.stderr) || `exit code ${run.code}`;
      return { kind: "unusable", problem: `${path} ${versionArgs.at(-1)} failed: ${why}` };
    }
    // "ffmpeg version 5.1.6-0+deb12u1 ...", "mkvmerge v74.0.0 ('You Oughta Know') 64-bit".
    const m = /(?:version\s+|\sv)(\d\S*)/.exec(line);
    return { kind: "ok", path, version: m ? m[1] : line };
  } catch (err) {
    return { kind: "unusable", problem: (err as Error).message };
  }
}

/**
 * What `vpo --version` prints: vpo's version, then where ffmpeg and ffprobe are. It runs neither
 * (a version must answer at once, even beside a tool that hangs); `vpo doctor` runs them.
 */
export function versionReport(vpoVersion: string): string {
  const lines = [`vpo ${vpoVersion}`];
  for (const name of MEDIA_TOOLS) {
    const found = lookUpOnPath(name);
    lines.push(
      found.found !== null
        ? `${name} at ${found.found}`
        : found.unusable === null
        ? `${name} not found on PATH`
        : `${name} cannot be run: ${found.unusable}`,
    );
  }
  lines.push("(their versions and encoders: vpo doctor)");
  return lines.join("\n");
}

/**
 * Programs vpo uses when they are installed (mkvtoolnix), what each is for, and what a Matroska
 * output loses without it: `vpo doctor` says so, since nothing else would.
 */
export const OPTIONAL_TOOLS: readonly { name: string; role: string; without: string }[] = [
  {
    name: "mkvmerge",
    role: "reads every Matroska output of a track policy a second time, and the IETF language " +
      "tags (es-419, pt-BR) of Matroska sources",
    without: "a track policy's Matroska outputs (apply jobs, transcodes with track keys) are " +
      "verified by ffprobe's reading alone, and the IETF language tags of rewritten Matroska " +
      "files are reduced to ISO 639-2 codes (es-419 -> spa) unnoticed",
  },
  {
    name: "mkvpropedit",
    role: "restores the IETF language tags (es-419, pt-BR) ffmpeg drops from Matroska outputs",
    without: "the IETF language tags of rewritten Matroska files are reduced to ISO 639-2 codes " +
      "(es-419 -> spa); each job's result says so",
  },
];

/** How to install mkvtoolnix, in one clause. */
export const MKVTOOLNIX_HINT =
  "install mkvtoolnix (`apt-get install mkvtoolnix`, as root) or run scripts/setup.sh";
