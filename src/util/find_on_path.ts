/**
 * Finding a program on PATH by looking, not by spawning it: for the one-line "ffmpeg not found"
 * error before a command starts, and for the optional wrappers (nice, ionice, taskset) of ffmpeg.
 *
 * @module
 */
import { delimiter, join } from "node:path";

/**
 * The absolute path `name` resolves to on PATH (an executable regular file), or null. A name
 * with a slash is checked as it is. Only stats: nothing is spawned.
 */
export function findOnPath(name: string, path: string = Deno.env.get("PATH") ?? ""): string | null {
  const candidates = name.includes("/")
    ? [name]
    : path.split(delimiter).filter(Boolean).map((dir) => join(dir, name));
  for (const candidate of candidates) {
    try {
      const info = Deno.statSync(candidate);
      if (info.isFile && (info.mode === null || (info.mode & 0o111) !== 0)) return candidate;
    } catch {
      // Not there, or not readable: try the next directory.
    }
  }
  return null;
}
