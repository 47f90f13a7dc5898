/**
 * A track plan carried out on a library file by a job's run: the output written by stream copy to
 * a temp file made and journaled by the safe replace (`src/replace/`), verified track by track,
 * then swapped in for the original. The apply job type runs it; so does a transcode whose encode
 * came out no smaller, so that its policy's track changes are made all the same.
 *
 * @module
 */
import { dirname } from "node:path";
import { JobFailure } from "../errors.ts";
import { runFailure } from "../media/ffmpeg_runner.ts";
import { keepLanguageTags, matroskaTrackSources } from "../media/language_tags.ts";
import { liveProgress, type ProgressUpdate } from "../media/progress.ts";
import type { MediaInfo } from "../media/probe.ts";
import { decodeCheck } from "../media/verify.ts";
import type { ClaimedJob } from "../queue/claimed_job.ts";
import type { RunContext, WorkerEnv } from "../queue/job_type.ts";
import type { Fingerprint } from "../replace/fingerprint.ts";
import { chooseFinalPath } from "../replace/replace.ts";
import type { ReplaceJournal, ReplaceSteps } from "../replace/replace_journal.ts";
import { checkBackupName, checkFreeSpace, openTempOutput, swapIn } from "../replace/swap.ts";
import { tempOutputPath } from "../replace/temp_files.ts";
import type { OwnedFile } from "../util/owned_file.ts";
import type { TrackPlan } from "./plan.ts";
import { remuxTracks } from "./remux.ts";
import { verifyTracks } from "./verify.ts";

/** Lines of ffmpeg's log kept in a failed job's error. */
const ERROR_TAIL_LINES = 8;

/** What {@link copyTracks} needs from the run. */
export interface CopyPass {
  claimed: ClaimedJob;
  /** The job's file. */
  source: string;
  /** The source as it was queued: it is replaced only while it is still that file. */
  fingerprint: Fingerprint;
  env: WorkerEnv;
  ctx: RunContext;
  journal: ReplaceJournal;
}

/** What the copy did. */
export interface Copied {
  /** The journal's last steps: where the new file and the backup are. */
  steps: ReplaceSteps;
  /** Bytes of the verified output. */
  outputSize: number;
  /** Wall seconds of the copy. */
  wallSec: number;
  /** The verified output's probe. */
  info: MediaInfo;
  /** The readers that checked it (ffprobe, and mkvmerge for Matroska). */
  checkedWith: string[];
  /** What the output could not keep of the source (IETF language tags), for the result. */
  notes: string[];
}

/**
 * Copies `media` (the source's probe) into a new file as `plan` says, verifies it and replaces
 * the original with it.
 *
 * @throws JobFailure when the copy cannot be made, is not the plan, or the source changed; the
 *   original is intact then.
 */
export async function copyTracks(
  run: CopyPass,
  media: MediaInfo,
  plan: TrackPlan,
): Promise<Copied> {
  const { source, env, ctx: { signal } } = run;
  const final = await chooseFinalPath(source, plan.extension).catch((err) => {
    throw new JobFailure(err.message);
  });
  if (env.config.jobs.backupOriginal) checkBackupName(source);
  const temp = tempOutputPath(run.claimed, source, env.config.jobs.tempDirectory);
  // A copy is about the source's size (less what the policy drops).
  checkFreeSpace(dirname(temp), media.size);
  // ffmpeg writes to this very inode through /proc (see openTempOutput).
  using out = await openTempOutput(run.journal, source, temp, final);
  signal.throwIfAborted();
  const wallStart = performance.now();
  const logTail = await copy(run, media, plan, out);
  const wallSec = (performance.now() - wallStart) / 1000;
  const verified = await verify(run, media, plan, out, logTail);
  const outputSize = out.stat().size;
  const steps = await swapIn({
    source,
    fingerprint: run.fingerprint,
    journal: run.journal,
    out,
    backupOriginal: env.config.jobs.backupOriginal,
    fence: () => run.claimed.heartbeat(),
    signal,
    during: "while its tracks were copied",
  });
  return { steps, outputSize, wallSec, ...verified };
}

/** Copies the planned tracks into `out`; returns ffmpeg's last lines, for a rejected output. */
async function copy(
  run: CopyPass,
  media: MediaInfo,
  plan: TrackPlan,
  out: OwnedFile,
): Promise<string[]> {
  const { claimed, env, ctx } = run;
  const logPath = env.home.logPath(claimed.id);
  const onProgress = (u: ProgressUpdate) => ctx.progress(liveProgress(u), u.done);
  const copied = await remuxTracks(plan, run.source, out.pathForChild, {
    logPath,
    coverDir: env.home.jobs.coverDir(claimed.id, claimed.token),
    durationSec: media.duration,
    signal: ctx.signal,
    onProgress,
  });
  ctx.signal.throwIfAborted();
  const tail = [`log: ${logPath}`, ...copied.tail.slice(-ERROR_TAIL_LINES)];
  if (copied.noSpace || !copied.success) {
    throw new JobFailure(runFailure(copied, dirname(out.path)), tail);
  }
  return tail;
}

/**
 * The output is still the file ffmpeg wrote, gets back the IETF language tags ffmpeg dropped,
 * and has the planned tracks (and, with `--verify-decode`, decodes whole).
 */
async function verify(
  run: CopyPass,
  media: MediaInfo,
  plan: TrackPlan,
  out: OwnedFile,
  logTail: string[],
): Promise<{ info: MediaInfo; checkedWith: string[]; notes: string[] }> {
  const signal = run.ctx.signal;
  if (!await out.stillAtPath()) {
    throw new JobFailure(`the temp output ${out.path} was replaced by another file; original kept`);
  }
  const output = { path: out.pathForChild, format: plan.format };
  const tags = await keepLanguageTags(media, output, matroskaTrackSources(plan.tracks), { signal });
  const verdict = await verifyTracks(media, out.pathForChild, plan, { signal });
  // A broken output is told as such, not as the tags mkvpropedit could not write into it.
  if (!verdict.ok) {
    throw new JobFailure(`output rejected, original kept: ${verdict.reason}`, logTail);
  }
  if (!tags.ok) throw new JobFailure(`output rejected, original kept: ${tags.reason}`, logTail);
  if (run.env.fullDecodeCheck) {
    const decoded = await decodeCheck(out.pathForChild, { signal });
    if (!decoded.ok) {
      throw new JobFailure(`output rejected, original kept: ${decoded.reason}`, logTail);
    }
  }
  const { info, checkedWith } = verdict;
  return { info, checkedWith, notes: tags.note === null ? [] : [tags.note] };
}
