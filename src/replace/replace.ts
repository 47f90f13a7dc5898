/**
 * The forward steps of a replace (P2-P6 of the protocol in `replace_journal.ts`): putting a
 * verified output in the original's place without ever losing the original, each step recorded
 * in the journal before it is done.
 *
 * @module
 */
import { basename, dirname, extname, join } from "node:path";
import { VpoError } from "../errors.ts";
import { crashPoint } from "../util/crash_point.ts";
import { exists, publishNoClobber, syncDir } from "../util/durable_fs.ts";
import { fileIdentity, hasIdentity } from "../util/file_identity.ts";
import { HeldFolder } from "../util/safe_open.ts";
import { copyToNewFile, OwnedFile, type Permissions, removeIfOwned } from "../util/owned_file.ts";
import type { ReplaceJournal, ReplaceSteps } from "./replace_journal.ts";

/** A replace that cannot go ahead (the output name is taken, no space to move the output). */
export class ReplaceError extends VpoError {}

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

/** What {@link replaceOriginal} needs besides the steps and the journal. */
export interface ReplaceGuard {
  /** Proves the claim is still held; throws (LostJobError) when it is not. */
  fence: () => Promise<void>;
  /** The source's permissions, given to a copy made beside it. */
  permissions: Permissions;
  /**
   * How the source differs from the file that was encoded, or null: asked again after the output
   * was copied beside it, which can take minutes in which another program may replace the source.
   */
  sourceChange?: () => Promise<string | null>;
}

/**
 * Copies the output beside its final name (P2): into a file made exclusively, so a link planted
 * at that name is never written through, with the source's permissions set on its descriptor.
 */
async function moveBeside(
  steps: ReplaceSteps,
  journal: ReplaceJournal,
  guard: ReplaceGuard,
): Promise<ReplaceSteps> {
  const dir = dirname(steps.final);
  const failed = (err: unknown) =>
    new ReplaceError(`cannot copy the output to ${dir}: ${(err as Error).message}`);
  await guard.fence();
  using local = await OwnedFile.create(join(dir, basename(steps.temp))).catch((err) => {
    throw failed(err);
  });
  const moved: ReplaceSteps = {
    ...steps,
    phase: "moving",
    moved_from: steps.temp,
    moved_from_ino: steps.temp_ino,
    temp: local.path,
    temp_ino: local.ino,
  };
  await journal.record(moved);
  try {
    await copyToNewFile(steps.temp, steps.temp_ino ?? null, local);
    local.setPermissions(guard.permissions);
  } catch (err) {
    throw failed(err);
  }
  await guard.fence();
  await removeIfOwned(steps.temp, steps.temp_ino);
  return moved;
}

/**
 * Moves the verified output at `start.temp` (inode `start.temp_ino`) into place, keeping the
 * original as the backup when `start.backup` is set, recording each step in `journal` first and
 * proving the claim (`guard.fence`) right before each step that changes a library file.
 */
export async function replaceOriginal(
  start: ReplaceSteps,
  journal: ReplaceJournal,
  guard: ReplaceGuard,
): Promise<ReplaceSteps> {
  let steps = start;
  const finalDir = dirname(steps.final);
  // A rename cannot cross file systems: bring the output next to its final name first.
  if ((await Deno.stat(dirname(steps.temp))).dev !== (await Deno.stat(finalDir)).dev) {
    steps = await moveBeside(steps, journal, guard);
  }
  // From here on every name in the source's folder is reached through one descriptor of it:
  // someone who may rename the folder (the library above it is often the household's) and swaps
  // it for a link meanwhile cannot turn a step onto a file of the same name elsewhere.
  using folder = new HeldFolder(finalDir);
  try {
    return await swapInFolder(steps, journal, guard, folder);
  } catch (err) {
    throw folder.shown(err);
  }
}

/** The swap itself (P3-P6), each name of `steps` reached through `folder`. */
async function swapInFolder(
  recorded: ReplaceSteps,
  journal: ReplaceJournal,
  guard: ReplaceGuard,
  folder: HeldFolder,
): Promise<ReplaceSteps> {
  let steps = recorded;
  const here: ReplaceSteps = {
    ...steps,
    source: folder.reach(steps.source),
    temp: folder.reach(steps.temp),
    final: folder.reach(steps.final),
    backup: steps.backup && folder.reach(steps.backup),
  };
  const output = await Deno.lstat(here.temp).catch(() => null);
  if (!output?.isFile || (steps.temp_ino != null && output.ino !== steps.temp_ino)) {
    throw new ReplaceError(`${steps.temp} was replaced by another file; original kept`);
  }
  const changed = await guard.sourceChange?.();
  if (changed) throw new ReplaceError(`${changed} while the output was moved; original kept`);
  steps = { ...steps, phase: "replacing", output_id: await fileIdentity(here.temp) };
  await journal.record(steps);
  crashPoint("replace:recorded");
  await guard.fence();
  if (here.backup) await keepBackup(here.source, here.backup);
  crashPoint("replace:backed-up");
  await guard.fence();
  if (steps.final === steps.source) {
    await renameOverSource(here);
  } else {
    await publishFinal(here.temp, here.final);
    crashPoint("replace:linked");
    await guard.fence();
    // Only the file that was encoded goes; one another program put there meanwhile stays.
    if (await hasIdentity(here.source, steps.source_id)) {
      await Deno.remove(here.source).catch((err) => {
        if (!(err instanceof Deno.errors.NotFound)) throw err;
      });
    }
  }
  folder.confirm();
  folder.sync();
  crashPoint("replace:swapped");
  steps = { ...steps, phase: "done" };
  await journal.record(steps);
  return steps;
}

/**
 * Renames the output over the source. Where a rename cannot replace a file (SFTP without
 * posix-rename), the source is removed first, but only once the backup is known to hold the
 * original: a crash between the two leaves the source missing and the backup whole, which
 * `planResume` renames back. Without a backup the replace fails and the original stays.
 */
async function renameOverSource(steps: ReplaceSteps): Promise<void> {
  try {
    await Deno.rename(steps.temp, steps.final);
  } catch (err) {
    const refused = err instanceof Deno.errors.PermissionDenied ||
      err instanceof Deno.errors.AlreadyExists;
    const backedUp = steps.backup !== null && await hasIdentity(steps.backup, steps.source_id);
    if (!refused || !backedUp) throw err;
    await Deno.remove(steps.source);
    crashPoint("replace:source-removed");
    await Deno.rename(steps.temp, steps.final);
  }
}

/**
 * Moves the output to its new name, which must stay free (a user's file is never clobbered): a
 * no-clobber publish. Where hard links are refused (SMB) that is a rename after a check:
 * chooseFinalPath found the name free before the encode, and only a person creating that exact
 * name in the instant between the check and the rename could lose a file.
 */
async function publishFinal(temp: string, final: string): Promise<void> {
  if (!await publishNoClobber(temp, final)) {
    throw new ReplaceError(`cannot write ${final}: a file of that name already exists`);
  }
}

/**
 * Keeps the original at `backup`: a hard link, so the source path still holds the original
 * until the new file replaces it in one rename. Where hard links are not supported, a rename;
 * the journal's resume restores from the backup if a crash follows.
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
