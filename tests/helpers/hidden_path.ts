/**
 * A PATH without some programs: links to everything in /usr/bin except the hidden ones, so a
 * test can show what a machine without ffmpeg sees.
 *
 * @module
 */
import { join } from "node:path";

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
