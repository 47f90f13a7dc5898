/**
 * A PATH without some programs: links to everything in /usr/bin except the hidden ones, so a
 * test can show what a machine without ffmpeg sees.
 *
 * @module
 */
import { join } from "node:path";

/** What every command that needs ffmpeg says, in one line, on a machine without it. */
export const MISSING_FFMPEG_LINE =
  "vpo: ffmpeg and ffprobe not found on PATH: install it with `apt-get install ffmpeg` " +
  "(as root; `sudo apt-get install ffmpeg` otherwise) or run scripts/setup.sh from the vpo checkout";

/** Makes `<dir>/bin` with links to every program in /usr/bin but `hidden`; returns its path. */
export async function pathWithout(dir: string, hidden: string[]): Promise<string> {
  const bin = join(dir, "bin");
  await Deno.mkdir(bin);
  for (const entry of Deno.readDirSync("/usr/bin")) {
    if (!hidden.includes(entry.name)) {
      await Deno.symlink(join("/usr/bin", entry.name), join(bin, entry.name));
    }
  }
  return bin;
}
