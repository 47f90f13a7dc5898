/**
 * Putting a verified output in the original's place without ever losing the original.
 *
 * Every step is recorded (durably, in the job's live file) before it is done, and each record
 * says enough, with inode numbers, for {@link resumeReplace} to finish or undo the replace after
 * a crash at any point. At every instant the original's data is reachable at the source path or
 * at the backup path, until the new file is in place.
 *
 * @module
 */
import { basename, dirname, extname, join } from "node:path";
import { VpoError } from "../errors.ts";
import { crashPoint } from "../util/crash_point.ts";
import { exists, syncDir } from "../util/durable_fs.ts";

/** Where a replace stands; written to the job before each step. */
export interface ReplaceSteps {
  phase: "encoding" | "moving" | "replacing" | "done";
  source: string;
  source_ino: number | null;
  /** Where the output is now. */
  temp: string;
  /** Where the output was before being moved to the source's file system. */
  moved_from?: string;
  /** Where the new file goes: the source's path, or its stem with the new extension. */
  final: string;
  /** Where the original is kept (`<source>.original[.N]`); null when backups are off. */
  backup: string | null;
  /** Inode of the verified output, known from phase "replacing" on. */
  output_ino?: number | null;
}

/** A replace that cannot go ahead (the output name is taken, no space to move the output). */
export class ReplaceError extends VpoError {}

async function inode(path: string): Promise<number | null> {
  try {
    return (await Deno.lstat(path)).ino ?? null;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return null;
    throw err;
  }
}

/**
 * The path the new file will take: the source's own when the extension stays, else the source's
 * stem with the new extension, which must not already exist (a user's file is never clobbered).
 */
export async function chooseFinalPath(source: string, extension: string): Promise<string> {
  const current = extname(source);
  if (current.toLowerCase() === extension.toLowerCase()) return source;
  const final = join(dirname(source), basename(source, current) + extension);
  if (await exists(final)) {
    throw new ReplaceError(`cannot write ${final}: a file of that name already exists`);
  }
  return final;
}

/** `<source>.original`, or `.original.1`, `.2`, ... : an earlier backup is never overwritten. */
export async function chooseBackupPath(source: string): Promise<string> {
  for (let n = 0;; n++) {
    const candidate = n === 0 ? `${source}.original` : `${source}.original.${n}`;
    if (!await exists(candidate)) return candidate;
  }
}

/** Copies `from` to `to` durably (fsync), removing a partial copy on failure. */
async function copyDurably(from: string, to: string): Promise<void> {
  try {
    await Deno.copyFile(from, to);
    const file = await Deno.open(to, { read: true, write: true });
    try {
      await file.sync();
    } finally {
      file.close();
    }
  } catch (err) {
    await Deno.remove(to).catch(() => {});
    throw new ReplaceError(`cannot copy the output to ${dirname(to)}: ${(err as Error).message}`);
  }
}

/**
 * Moves the verified output at `steps.temp` into place, keeping the original as the backup when
 * `steps.backup` is set. `record` must durably store the steps it is given before returning.
 */
export async function replaceOriginal(
  start: ReplaceSteps,
  record: (steps: ReplaceSteps) => Promise<void>,
): Promise<ReplaceSteps> {
  let steps = start;
  const finalDir = dirname(steps.final);
  // A rename cannot cross file systems: bring the output next to its final name first.
  if ((await Deno.stat(dirname(steps.temp))).dev !== (await Deno.stat(finalDir)).dev) {
    const local = join(finalDir, basename(steps.temp));
    steps = { ...steps, phase: "moving", moved_from: steps.temp, temp: local };
    await record(steps);
    await copyDurably(steps.moved_from!, local);
    await Deno.remove(steps.moved_from!);
  }
  steps = { ...steps, phase: "replacing", output_ino: await inode(steps.temp) };
  await record(steps);
  crashPoint("replace:recorded");
  if (steps.backup) await keepBackup(steps.source, steps.backup);
  crashPoint("replace:backed-up");
  if (steps.final === steps.source) {
    await Deno.rename(steps.temp, steps.final);
  } else {
    await Deno.link(steps.temp, steps.final);
    await Deno.remove(steps.temp);
    crashPoint("replace:linked");
    await Deno.remove(steps.source).catch((err) => {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    });
  }
  await syncDir(finalDir);
  crashPoint("replace:swapped");
  steps = { ...steps, phase: "done" };
  await record(steps);
  return steps;
}

/**
 * Keeps the original at `backup`: a hard link, so the source path still holds the original
 * until the new file replaces it in one rename. Where hard links are not supported, a rename;
 * {@link resumeReplace} restores from the backup if a crash follows.
 */
async function keepBackup(source: string, backup: string): Promise<void> {
  try {
    await Deno.link(source, backup);
  } catch (err) {
    if (err instanceof Deno.errors.AlreadyExists || err instanceof Deno.errors.NotFound) throw err;
    await Deno.rename(source, backup);
  }
  await syncDir(dirname(backup));
}

/**
 * Finishes or undoes a replace interrupted by a crash, from its recorded steps. Returns
 * "completed" when the new file is in place (the original kept as its backup, if any), or
 * "rolled_back" when the original is back in place and the output removed.
 */
export async function resumeReplace(steps: ReplaceSteps): Promise<"completed" | "rolled_back"> {
  const removeIfThere = (path: string | undefined) =>
    path ? Deno.remove(path).catch(() => {}) : Promise.resolve();
  if (steps.phase === "done") return "completed";
  if (steps.phase === "encoding" || steps.phase === "moving") {
    await removeIfThere(steps.temp);
    await removeIfThere(steps.moved_from);
    return "rolled_back";
  }
  const originalIno = steps.source_ino;
  const swapped = steps.output_ino != null && await inode(steps.final) === steps.output_ino;
  if (swapped) {
    if (
      steps.final !== steps.source && originalIno !== null &&
      await inode(steps.source) === originalIno
    ) {
      // The new file is in place under its new name; the old name still points at the original,
      // which is kept at the backup path (if backups are on).
      if (!steps.backup || await inode(steps.backup) === originalIno) {
        await Deno.remove(steps.source);
      }
    }
    if (await inode(steps.temp) === steps.output_ino) await Deno.remove(steps.temp);
    await syncDir(dirname(steps.final));
    return "completed";
  }
  const sourceIno = await inode(steps.source);
  if (steps.backup && originalIno !== null && await inode(steps.backup) === originalIno) {
    if (sourceIno === originalIno) await Deno.remove(steps.backup); // our extra link
    else if (sourceIno === null) await Deno.rename(steps.backup, steps.source); // renamed away
  }
  await removeIfThere(steps.temp);
  await syncDir(dirname(steps.source));
  return "rolled_back";
}
