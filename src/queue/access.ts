/**
 * Who may write the queue. Whoever can create or rename entries in the home's directories can
 * queue jobs that a worker acts on, plant journals that recovery follows, and edit config.yaml.
 * So the directories must be writable only by the user who owns a private queue, or, for a
 * shared queue (`jobs.shared_group`), by that user and the members of that one group:
 *
 * - private (the default): directories 0700 (0750 is fine), owned by the user running vpo;
 * - shared: directories 2770 with the shared group (setgid, so every file created in them gets
 *   the group), files 0660, any member's worker may take any job; never worked as root.
 *
 * Commands that write check this before acting and refuse with one line naming the directory.
 *
 * @module
 */
import { dirname } from "node:path";
import type { SharedGroup } from "../config/types.ts";
import { VpoError } from "../errors.ts";
import { displayName } from "../util/display_name.ts";
import { extraWriter, shareNewFilesWithGroup } from "../util/file_mode.ts";
import { groupName } from "../util/groups.ts";
import { setDirectoryModeSync } from "../util/safe_open.ts";

/** A queue whose directories others than its allowed writers can write. */
export class QueueAccessError extends VpoError {}

/** Mode of a shared directory: setgid, rwx for owner and group, nothing for others. */
const SHARED_DIR_MODE = 0o2770;

const octal = (mode: number) => (mode & 0o7777).toString(8).padStart(4, "0");

function lstatOrNull(path: string, follow = false): Deno.FileInfo | null {
  try {
    return follow ? Deno.statSync(path) : Deno.lstatSync(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return null;
    if (err instanceof Deno.errors.PermissionDenied) {
      throw new QueueAccessError(
        `cannot look into ${displayName(dirname(path))}: permission denied`,
      );
    }
    throw err;
  }
}

/**
 * Sets this process up for a shared queue (refused as root): new files 0660, and each of `dirs`
 * created (parents first) or, when this user owns it, given the
 * shared group and mode 2770. A directory another member owns is left for
 * {@link checkQueueAccess} to judge.
 */
export function prepareSharedDirs(dirs: readonly string[], group: SharedGroup): void {
  if (Deno.uid() === 0) {
    // Any member could plant a link where root then writes (a log, a journal): root would be
    // every member's tool.
    throw new QueueAccessError(
      `a shared queue (jobs.shared_group: ${group.name}) is not worked as root: run vpo as a ` +
        "member of the group",
    );
  }
  shareNewFilesWithGroup(group.gid);
  for (const dir of dirs) {
    let info = lstatOrNull(dir);
    if (info === null) {
      Deno.mkdirSync(dir, { recursive: true, mode: SHARED_DIR_MODE });
      info = Deno.lstatSync(dir);
    }
    if (!info.isDirectory || info.uid !== Deno.uid()) continue;
    // Through the directory's descriptor: a link swapped in at its name is never followed.
    setDirectoryModeSync(dir, group.gid, SHARED_DIR_MODE);
  }
}

/**
 * Throws a {@link QueueAccessError} naming the first of `dirs` that someone other than the
 * allowed writers could write: a directory writable by everyone; in a private queue, one owned by
 * another user or writable by its group; in a shared queue, one writable by another group, or
 * not writable by the shared group. Also refuses a symbolic link or a file where a directory
 * belongs (`dirs[0]`, the home, may be a link to where the data lives). Missing ones are skipped.
 */
export function checkQueueAccess(dirs: readonly string[], shared: SharedGroup | null): void {
  const uid = Deno.uid();
  for (const [i, dir] of dirs.entries()) {
    const info = lstatOrNull(dir, i === 0);
    if (info === null) continue;
    const where = displayName(dir);
    if (!info.isDirectory) {
      const what = info.isSymlink ? "a symbolic link" : "not a directory";
      throw new QueueAccessError(`${where} is ${what}; vpo keeps only real directories there`);
    }
    const mode = info.mode ?? 0;
    const fix = shared ? `chmod ${octal(SHARED_DIR_MODE)}` : "chmod go-w";
    const extra = extraWriter(info, uid, shared?.gid ?? null);
    if (extra?.kind === "everyone") {
      throw new QueueAccessError(
        `${where} is writable by everyone (mode ${octal(mode)}); run: ${fix} ${where}`,
      );
    }
    if (extra?.kind === "owner") {
      throw new QueueAccessError(
        `${where} belongs to uid ${extra.uid}, not to you (uid ${uid}): a private queue is its ` +
          `owner's alone (to share one, set jobs.shared_group; see docs/design.md)`,
      );
    }
    if (extra?.kind === "group") {
      const group = groupName(extra.gid);
      throw new QueueAccessError(
        shared === null
          ? `${where} is writable by group ${group} (mode ${octal(mode)}): a private queue is ` +
            `its owner's alone (run: chmod g-w ${where}, or set jobs.shared_group: ${group})`
          : `${where} is writable by group ${group}, not the shared group ${shared.name} ` +
            `(mode ${octal(mode)}); run: chgrp ${shared.name} ${where}`,
      );
    }
    if (shared === null) continue;
    if (info.gid !== shared.gid || (mode & 0o2070) !== 0o2070) {
      throw new QueueAccessError(
        `${where} is not shared with group ${shared.name} (group ${groupName(info.gid ?? -1)}, ` +
          `mode ${octal(mode)}); its owner (uid ${info.uid}) must run: ` +
          `chgrp ${shared.name} ${where} && chmod ${octal(SHARED_DIR_MODE)} ${where}`,
      );
    }
  }
}

/**
 * For a worker running as root: the folders among `files`' folders (and `extraDirs`) that a user
 * other than root can write, described for a warning. Anyone who can write a folder can rename,
 * link and plant names in it while root acts there.
 */
export function foldersWritableByOthers(
  files: readonly string[],
  extraDirs: readonly string[] = [],
): string[] {
  const dirs = new Set([...files.map((f) => dirname(f)), ...extraDirs]);
  const out: string[] = [];
  for (const dir of dirs) {
    let info: Deno.FileInfo;
    try {
      info = Deno.statSync(dir);
    } catch {
      continue; // Gone or hidden from root (a network share): nothing to say about it.
    }
    if (!info.isDirectory) continue;
    const mode = info.mode ?? 0;
    const who = [
      info.uid !== 0 ? `its owner uid ${info.uid}` : null,
      mode & 0o020 ? `group ${groupName(info.gid ?? -1)}` : null,
      mode & 0o002 ? "everyone" : null,
    ].filter(Boolean);
    if (who.length) out.push(`${displayName(dir)} (writable by ${who.join(", ")})`);
  }
  return out;
}
