/**
 * Which files `vpo transcode PATH...` looks at: video files by extension (any case), in the given
 * directories (recursively on request) or named directly.
 *
 * @module
 */
import { extname, join, resolve } from "node:path";
import { isMangledName, NOT_UTF8 } from "../util/display_name.ts";

/** Extensions of the video files vpo considers, lower-case with the dot. */
const VIDEO_EXTENSIONS: ReadonlySet<string> = new Set([
  ".mkv",
  ".mp4",
  ".m4v",
  ".mov",
  ".avi",
  ".wmv",
  ".ts",
  ".m2ts",
  ".mts",
  ".webm",
  ".flv",
  ".mpg",
  ".mpeg",
  ".vob",
  ".3gp",
  ".ogv",
  ".divx",
]);

/** True when `path` has a video extension. */
const isVideoName = (path: string): boolean => VIDEO_EXTENSIONS.has(extname(path).toLowerCase());

/**
 * One input found: a video to probe (`named` when the command line named the file itself, not a
 * directory holding it), or a path that is reported and not probed.
 */
export type FoundFile =
  | { kind: "video"; path: string; named: boolean }
  | { kind: "skip"; path: string; reason: string }
  | { kind: "error"; path: string; message: string };

/**
 * Replacing a symbolic link would turn it into a regular file and leave its target as it was,
 * changing the library's layout; vpo leaves links alone and says where they point.
 */
function symlinkSkip(path: string): FoundFile {
  let target = "?";
  try {
    target = Deno.realPathSync(path);
  } catch {
    // A dangling link: still a link, still skipped.
  }
  return { kind: "skip", path, reason: `symbolic link (queue its target instead: ${target})` };
}

/**
 * Expands `paths` in order. Hidden files (vpo's temp outputs among them) are passed over inside
 * directories; a file named directly is always reported, as a video or with why it is skipped.
 * Linked directories are followed once each (a link loop is not walked twice).
 */
export function findFiles(paths: readonly string[], recursive: boolean): FoundFile[] {
  const out: FoundFile[] = [];
  const walked = new Set<string>();
  const walk = (dir: string) => {
    const real = Deno.realPathSync(dir);
    if (walked.has(real)) return;
    walked.add(real);
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(dir)].sort((a, b) => (a.name < b.name ? -1 : 1));
    } catch (err) {
      out.push({ kind: "error", path: dir, message: (err as Error).message });
      return;
    }
    for (const entry of entries) {
      if (entry.name.startsWith(".")) continue;
      const path = join(dir, entry.name);
      if ((entry.isDirectory || isVideoName(entry.name)) && isMangledName(path)) {
        out.push({ kind: "error", path, message: NOT_UTF8 });
      } else if (entry.isDirectory || (entry.isSymlink && isDirectory(path))) {
        if (recursive) walk(path);
      } else if (isVideoName(entry.name)) {
        out.push(entry.isSymlink ? symlinkSkip(path) : { kind: "video", path, named: false });
      }
    }
  };
  for (const given of paths) {
    const path = resolve(given);
    let info: Deno.FileInfo;
    try {
      info = Deno.statSync(path);
    } catch (err) {
      const message = !(err instanceof Deno.errors.NotFound)
        ? (err as Error).message
        : isMangledName(path)
        ? NOT_UTF8
        : "no such file or directory";
      out.push({ kind: "error", path, message });
      continue;
    }
    if (info.isDirectory) walk(path);
    else if (Deno.lstatSync(path).isSymlink) out.push(symlinkSkip(path));
    else if (isVideoName(path)) out.push({ kind: "video", path, named: true });
    else out.push({ kind: "skip", path, reason: "not a video" });
  }
  return out;
}
function isDirectory(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch {
    return false;
  }
}
