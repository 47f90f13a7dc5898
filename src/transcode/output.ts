/**
 * Steps 5 and 6 of a transcode run: the output is verified, then replaces the original through
 * the replace journal (`src/replace/`), or is dropped when it is not smaller.
 *
 * @module
 */
import { JobFailure } from "../errors.ts";
import type { EncodePlan } from "../media/plan.ts";
import type { MediaInfo } from "../media/probe.ts";
import { decodeCheck, verifyOutput } from "../media/verify.ts";
import { describeChange, fingerprintPath, sourceChangedError } from "../replace/fingerprint.ts";
import { chooseBackupPath, replaceOriginal } from "../replace/replace.ts";
import { formatBytes } from "../util/format.ts";
import { type OwnedFile, permissionsOf, removeIfOwned } from "../util/owned_file.ts";
import type { EncodeFigures, TranscodeResult } from "./result.ts";
import { type Target, throwIfStopped, type TranscodeRun } from "./run_context.ts";

/**
 * Step 5: the output is still the file ffmpeg wrote and is what the plan asked for (and, with
 * `--verify-decode`, decodes whole). Returns its probe.
 */
export async function verify(
  run: TranscodeRun,
  media: MediaInfo,
  plan: EncodePlan,
  out: OwnedFile,
  logTail: string[],
): Promise<MediaInfo> {
  const signal = run.ctx.signal;
  if (!await out.stillAtPath()) {
    throw new JobFailure(`the temp output ${out.path} was replaced by another file; original kept`);
  }
  const verdict = await verifyOutput(media, out.pathForChild, plan, { signal });
  if (!verdict.ok) {
    throw new JobFailure(`output rejected, original kept: ${verdict.reason}`, logTail);
  }
  if (run.env.fullDecodeCheck) {
    const decoded = await decodeCheck(out.pathForChild, { signal });
    if (!decoded.ok) {
      throw new JobFailure(`output rejected, original kept: ${decoded.reason}`, logTail);
    }
  }
  return verdict.info;
}

/**
 * Step 6: the verified output replaces the original through the journal (the original kept as
 * its backup), unless it is not smaller and the policy keeps the original then.
 */
export async function replaceOrKeep(
  run: TranscodeRun,
  plan: EncodePlan,
  target: Target,
  out: OwnedFile,
  figures: EncodeFigures,
  wallSec: number,
): Promise<TranscodeResult> {
  const { claimed, source, payload, journal } = run;
  const { source_size: sourceSize, output_size: outputSize } = figures;
  if (outputSize >= sourceSize && !payload.policy.keepLargerOutput) {
    const detail = `kept the original: output ${formatBytes(outputSize)} is not smaller than ` +
      `source ${formatBytes(sourceSize)}`;
    await removeIfOwned(target.temp, out.ino);
    return { outcome: "kept_original", outcome_detail: detail, ...figures, notes: plan.notes };
  }
  // Last look before the irreversible part: the source must still be the file that was encoded.
  const sourceChange = async () =>
    describeChange(payload.fingerprint, await fingerprintPath(source));
  const changedSince = await sourceChange();
  if (changedSince) {
    throw new JobFailure(
      sourceChangedError(changedSince, "while it was being encoded", "original kept"),
    );
  }
  // The source's mode (a private 0600 or 0640 file must not become world-readable 0644) and,
  // where allowed (a worker run as root), its owner, set on the output's inode through its handle.
  const permissions = permissionsOf(await Deno.stat(source));
  out.setPermissions(permissions);
  out.close();
  throwIfStopped(run.ctx.signal);
  await claimed.heartbeat();
  const backup = run.env.config.jobs.backupOriginal ? await chooseBackupPath(source) : null;
  let steps = { ...journal.last!, backup };
  try {
    steps = await replaceOriginal(steps, journal, {
      fence: () => claimed.heartbeat(),
      permissions,
      sourceChange,
    });
  } catch (err) {
    // A failed step is undone (or completed) from the journal's last record, exactly as after a
    // crash, not from the steps the replace started with (which know nothing of the backup link
    // or of an output moved beside the source). Only the job's owner may undo: a worker that lost
    // the job (stopped past stale_after) must leave the files to the recovery and to the worker
    // that runs the job now, whose backup link would otherwise look like this worker's own.
    await claimed.heartbeat();
    if (await journal.resume() === "rolled_back") {
      throw new JobFailure(
        `could not replace the original, which is intact: ${(err as Error).message}`,
      );
    }
  }
  const saved = sourceSize - outputSize;
  const detail = `${formatBytes(sourceSize)} -> ${formatBytes(outputSize)} ` +
    `(saved ${formatBytes(saved)}) in ${Math.round(wallSec)} s`;
  return {
    outcome: "replaced",
    outcome_detail: detail,
    ...figures,
    saved_bytes: saved,
    output_path: steps.final,
    backup_path: steps.backup,
    backup_size: steps.backup ? sourceSize : null,
    // The backup is a link to (or the renamed) original, whose inode was checked unchanged.
    backup_ino: steps.backup ? payload.fingerprint.ino : null,
    notes: plan.notes,
  };
}
