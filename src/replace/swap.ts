/**
 * A job run's side of the safe replace, the same for every job type that rewrites a library file:
 * the checks before any output is written (a backup name that fits, room for the output), the
 * temp output made exclusively and journaled, and the swap of the verified output for the
 * original, undone from the journal if a step fails.
 *
 * @module
 */
import { statfsSync } from "node:fs";
import { basename } from "node:path";
import { JobFailure, LostJobError, NoSpaceFailure } from "../errors.ts";
import { type MediaInfo, probe } from "../media/probe.ts";
import type { ClaimedJob } from "../queue/claimed_job.ts";
import type { RunContext } from "../queue/job_type.ts";
import { fileIdentity } from "../util/file_identity.ts";
import { formatBytes } from "../util/format.ts";
import { NAME_MAX } from "../util/ids.ts";
import { OwnedFile, permissionsOf } from "../util/owned_file.ts";
import {
  describeChange,
  type Fingerprint,
  fingerprintPath,
  sourceChangedError,
} from "./fingerprint.ts";
import { chooseBackupPath, replaceOriginal } from "./replace.ts";
import { ReplaceJournal, type ReplaceSteps } from "./replace_journal.ts";

/**
 * Runs `body`, a job's run, with a replace journal kept in the claimed job's live file (its
 * `steps`). Whatever the run throws, its temp output is gone (or the replace finished) before
 * the error goes on; `failed` hears of a run that ended in failure, not of one that was stopped
 * (deadline, signal, cancel) or lost, which has no outcome yet.
 */
export async function withReplaceJournal<T>(
  claimed: ClaimedJob,
  ctx: RunContext,
  body: (journal: ReplaceJournal) => Promise<T>,
  failed: (error: string) => void,
): Promise<T> {
  const journal = new ReplaceJournal((steps) =>
    claimed.updateLive({ steps: { ...steps } }, { durable: true })
  );
  try {
    return await body(journal);
  } catch (err) {
    await journal.discardOutput().catch(() => {});
    if (!ctx.signal.aborted && !(err instanceof LostJobError)) {
      failed((err as Error).message ?? String(err));
    }
    throw err;
  }
}

/**
 * Step 1 of a run: the source must still be the file that was queued (as `fingerprint` says);
 * then it is probed. What is mapped and verified comes from the source itself: a probe from the
 * library's cache or the job file is only what the queue decided from (either may be edited by
 * whoever can write the home).
 *
 * @throws JobFailure when the source changed since it was queued.
 */
export async function sourceAsQueued(
  source: string,
  fingerprint: Fingerprint,
  signal: AbortSignal,
): Promise<MediaInfo> {
  const changed = describeChange(fingerprint, await fingerprintPath(source));
  if (changed) {
    throw new JobFailure(sourceChangedError(changed, "since it was queued", "nothing was touched"));
  }
  return await probe(source, { signal });
}

/** Fails before any output is written when `<name>.original.NN` could not be created. */
export function checkBackupName(source: string): void {
  const bytes = new TextEncoder().encode(`${basename(source)}.original.99`).length;
  if (bytes > NAME_MAX) {
    throw new JobFailure(
      `the file name is too long to keep a backup beside it (${bytes} of ${NAME_MAX} bytes ` +
        `with ".original"); rename the file, or set jobs.backup_original: false`,
    );
  }
}

/** Refuses ({@link NoSpaceFailure}) to start writing into a directory without `needed` bytes free. */
export function checkFreeSpace(dir: string, needed: number): void {
  const fs = statfsSync(dir);
  // A total of 0 blocks means the file system does not know its size (smbnetfs unless given
  // free_space_size): unknown, not full.
  if (Number(fs.blocks) === 0) return;
  const free = Number(fs.bavail) * Number(fs.bsize);
  if (free < needed) {
    throw new NoSpaceFailure(
      `not enough free space in ${dir}: ${formatBytes(free)} free, the source is ${
        formatBytes(needed)
      }`,
    );
  }
}

/**
 * P1: the temp output `temp`, made exclusively and held open (the program writing it does so
 * through the handle, so a link planted at the name can neither receive the output nor be
 * overwritten), and journaled with the source's identity and where the output goes.
 */
export async function openTempOutput(
  journal: ReplaceJournal,
  source: string,
  temp: string,
  final: string,
): Promise<OwnedFile> {
  const out = await OwnedFile.create(temp).catch((err) => {
    const failure = err.code === "ENOSPC" ? NoSpaceFailure : JobFailure;
    throw new failure(`cannot create the temp output ${temp}: ${err.message}`);
  });
  try {
    await journal.record({
      phase: "encoding",
      source,
      source_id: await fileIdentity(source),
      temp,
      temp_ino: out.ino,
      final,
      backup: null,
    });
  } catch (err) {
    out.close();
    throw err;
  }
  return out;
}

/** What {@link swapIn} needs. */
export interface SwapOptions {
  /** The job's file. */
  source: string;
  /** The source as it was queued: the swap happens only while it is still that file. */
  fingerprint: Fingerprint;
  journal: ReplaceJournal;
  /** The verified output, still open. */
  out: OwnedFile;
  /** Keep the original as `<source>.original[.N]`. */
  backupOriginal: boolean;
  /** Proves the job is still this worker's (a heartbeat); throws when it is not. */
  fence: () => Promise<void>;
  signal: AbortSignal;
  /** When the source would have changed, for the message ("while it was being encoded"). */
  during: string;
}

/**
 * The verified output replaces the original through the journal, the original kept as its
 * backup; returns the journal's last steps (where the new file and the backup are).
 *
 * @throws JobFailure when the source changed, or a step failed and was undone (the original
 *   intact); the stop's reason when stopped before the swap began.
 */
export async function swapIn(o: SwapOptions): Promise<ReplaceSteps> {
  const { source, journal } = o;
  // Last look before the irreversible part: the source must still be the file that was read.
  const sourceChange = async () => describeChange(o.fingerprint, await fingerprintPath(source));
  const changedSince = await sourceChange();
  if (changedSince) {
    throw new JobFailure(sourceChangedError(changedSince, o.during, "original kept"));
  }
  // The source's mode (a private 0600 or 0640 file must not become world-readable 0644) and,
  // where allowed (a worker run as root), its owner, set on the output's inode through its handle.
  const permissions = permissionsOf(await Deno.stat(source));
  o.out.setPermissions(permissions);
  o.out.close();
  o.signal.throwIfAborted();
  await o.fence();
  const backup = o.backupOriginal ? await chooseBackupPath(source) : null;
  const steps = { ...journal.last!, backup };
  try {
    return await replaceOriginal(steps, journal, { fence: o.fence, permissions, sourceChange });
  } catch (err) {
    // A failed step is undone (or completed) from the journal's last record, exactly as after a
    // crash, not from the steps the replace started with (which know nothing of the backup link
    // or of an output moved beside the source). Only the job's owner may undo: a worker that lost
    // the job (stopped past stale_after) must leave the files to the recovery and to the worker
    // that runs the job now, whose backup link would otherwise look like this worker's own.
    await o.fence();
    if (await journal.resume() === "rolled_back") {
      throw new JobFailure(
        `could not replace the original, which is intact: ${(err as Error).message}`,
      );
    }
    return journal.last!;
  }
}
