/**
 * Finding a program on PATH by looking, not by spawning it: for the one-line "ffmpeg not found"
 * error before a command starts, for the optional wrappers (nice, ionice, taskset) of ffmpeg, and
 * for `vpo --version`.
 *
 * @module
 */
import { delimiter, join } from "node:path";

/** Where a program resolves on PATH, or why it does not. */
export type PathLookup =
  | { found: string }
  | {
    found: null;
    /**
     * The first candidate that is there but cannot be run, and why ("/opt/bin/ffprobe: not
     * executable"); null when the program is nowhere on PATH, the one case that is "not found".
     */
    unusable: string | null;
  };

/**
 * Looks for `name` on PATH as the shell does: the first executable regular file. A name with a
 * slash is checked as it is. Only stats: nothing is spawned.
 */
export function lookUpOnPath(name: string, path: string = Deno.env.get("PATH") ?? ""): PathLookup {
  const candidates = name.includes("/")
    ? [name]
    : path.split(delimiter).filter(Boolean).map((dir) => join(dir, name));
  let unusable: string | null = null;
  for (const candidate of candidates) {
    let info: Deno.FileInfo;
    try {
      info = Deno.statSync(candidate);
    } catch (err) {
      // Not there: try the next directory. Anything else (a directory on PATH the user may not
      // search) is why the program cannot be run from there, which "not found" would hide.
      if (!(err instanceof Deno.errors.NotFound || err instanceof Deno.errors.NotADirectory)) {
        unusable ??= `${candidate}: ${reasonOf(err)}`;
      }
      continue;
    }
    if (info.isFile && (info.mode === null || (info.mode & 0o111) !== 0)) {
      return { found: candidate };
    }
    unusable ??= `${candidate}: ${info.isFile ? "not executable" : "not a regular file"}`;
  }
  return { found: null, unusable };
}

/** The absolute path `name` resolves to on PATH (an executable regular file), or null. */
export function findOnPath(name: string, path?: string): string | null {
  return lookUpOnPath(name, path).found;
}

/** "permission denied", from Deno's "Permission denied (os error 13): stat '/x'". */
function reasonOf(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.replace(/ \(os error \d+\).*$/s, "").toLowerCase();
}
