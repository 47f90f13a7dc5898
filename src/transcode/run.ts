/**
 * Running one claimed transcode job from start to end, in its steps: check the source, plan,
 * encode to a temp file (in one pass or segment by segment), verify, and replace the original or
 * keep it; or leave everything as it was and say why.
 *
 * @module
 */
import { statfsSync } from "node:fs";
import { basename, dirname } from "node:path";
import { JobFailure, LostJobError } from "../errors.ts";
import { detectEncoder } from "../media/encoders.ts";
import { type EncodePlan, planTranscode, type TranscodePlan } from "../media/plan.ts";
import { type MediaInfo, probe } from "../media/probe.ts";
import { type JobEnd, recordJobEnd } from "../library/job_outcome.ts";
import type { ClaimedJob } from "../queue/claimed_job.ts";
import type { RunContext, WorkerEnv } from "../queue/job_type.ts";
import { describeChange, fingerprintPath, sourceChangedError } from "../replace/fingerprint.ts";
import { chooseFinalPath } from "../replace/replace.ts";
import { ReplaceJournal } from "../replace/replace_journal.ts";
import { tempOutputPath } from "../replace/temp_files.ts";
import { fileIdentity } from "../util/file_identity.ts";
import { formatBytes } from "../util/format.ts";
import { NAME_MAX } from "../util/ids.ts";
import { OwnedFile } from "../util/owned_file.ts";
import { encode } from "./encode.ts";
import { completedEnd, queuedSource } from "./memory.ts";
import { replaceOrKeep, verify } from "./output.ts";
import { TRANSCODE } from "./payload.ts";
import { readTranscodeJob, type TranscodeJob } from "./record.ts";
import type { EncodeFigures, TranscodeResult } from "./result.ts";
import { type Target, throwIfStopped, type TranscodeRun } from "./run_context.ts";
import {
  openSegments,
  remainingFraction,
  segmentDirPath,
  wantsSegments,
} from "./segmented_encode.ts";
import type { SpeedHistory } from "./speed_history.ts";

/**
 * Runs the claimed transcode job to its result. Throws {@link JobFailure} when it cannot be done;
 * whatever it throws, its temp output is gone (or the replace finished) before it does. A run
 * that ends (not one that is stopped) is remembered in the library (see docs/library.md).
 */
export async function runTranscode(
  claimed: ClaimedJob,
  env: WorkerEnv,
  speed: SpeedHistory,
  ctx: RunContext,
): Promise<TranscodeResult> {
  const job = claimed.record;
  const journal = new ReplaceJournal((steps) =>
    claimed.updateLive({ steps: { ...steps } }, { durable: true })
  );
  // Known once the job file is read: a job vpo cannot read has no outcome to remember.
  let typed: TranscodeJob | null = null;
  const remember = (end: JobEnd) => {
    const queued = typed && queuedSource(typed);
    if (queued) recordJobEnd(env.home, queued, end, ctx.warn);
  };
  try {
    if (job.type !== TRANSCODE) throw new JobFailure(`unknown job type "${job.type}"`);
    // The result in the record is an earlier run's (a job put back in queued/ by hand keeps it),
    // which this run replaces: it is not read.
    const read = readTranscodeJob({ ...job, result: null }, `${job.path}: payload`);
    if (typeof read === "string") throw new JobFailure(`bad job file ${read}`);
    typed = read;
    if (!job.file) throw new JobFailure(`bad job file: no "file"`);
    const run = { claimed, source: job.file, payload: read.payload, env, speed, ctx, journal };
    const { result, outputProbe } = await transcode(run);
    remember(completedEnd(result, outputProbe));
    return result;
  } catch (err) {
    await journal.discardOutput().catch(() => {});
    // Stopped (deadline, signal, cancel) or lost: the job has no outcome to remember yet.
    if (!ctx.signal.aborted && !(err instanceof LostJobError)) {
      remember({ state: "failed", error: (err as Error).message ?? String(err) });
    }
    throw err;
  }
}

/** The steps in order; returns the job's result and the verified output's probe. */
async function transcode(
  run: TranscodeRun,
): Promise<{ result: TranscodeResult; outputProbe: MediaInfo | null }> {
  const media = await checkSource(run);
  const { plan, encoder } = await planFor(run, media);
  if (plan.action === "skip") {
    const detail = `skipped: ${plan.reason}`;
    return {
      result: { outcome: "skipped", outcome_detail: detail, reason: plan.reason },
      outputProbe: null,
    };
  }
  const target = await chooseTarget(run, media, plan);
  // P1. Made exclusively and held open: ffmpeg writes to this very inode through /proc, so a
  // link planted at the temp name can neither receive the output nor be overwritten.
  using out = await OwnedFile.create(target.temp).catch((err) => {
    throw new JobFailure(`cannot create the temp output ${target.temp}: ${err.message}`);
  });
  await run.journal.record({
    phase: "encoding",
    source: run.source,
    source_id: await fileIdentity(run.source),
    temp: target.temp,
    temp_ino: out.ino,
    final: target.final,
    backup: null,
  });
  throwIfStopped(run.ctx.signal);
  const encoded = await encode(run, media, plan, target, out);
  const outputProbe = await verify(run, media, plan, out, encoded.logTail);
  // Each segment recorded its own speed.
  if (!target.segments) {
    await run.speed.record(run.payload.policy.targetVideoCodec, media.duration, encoded.wallSec);
  }
  const figures: EncodeFigures = {
    source_size: media.size,
    output_size: out.stat().size,
    encoder,
    wall_sec: round(encoded.wallSec),
  };
  const result = await replaceOrKeep(run, plan, target, out, figures, encoded.wallSec);
  return { result, outputProbe };
}

/**
 * Step 1: the source must still be the file that was queued; then it is probed. What is mapped
 * and verified comes from the source itself: a probe from the library's cache or the job file is
 * only what the queue decided from (either may be edited by whoever can write the home).
 */
async function checkSource(run: TranscodeRun): Promise<MediaInfo> {
  const { source, payload } = run;
  const changed = describeChange(payload.fingerprint, await fingerprintPath(source));
  if (changed) {
    throw new JobFailure(sourceChangedError(changed, "since it was queued", "nothing was touched"));
  }
  return await probe(source, { signal: run.ctx.signal });
}

/** Step 2: the encoder this machine has for the policy, and the plan (or why to skip). */
async function planFor(
  run: TranscodeRun,
  media: MediaInfo,
): Promise<{ plan: TranscodePlan; encoder: string }> {
  const policy = run.payload.policy;
  const tenBit = media.streams.some((s) =>
    s.type === "video" && !s.isCoverArt && (s.bitDepth ?? 8) > 8
  );
  const choice = await detectEncoder(policy.targetVideoCodec, policy.hwAccel, {
    tenBit,
    signal: run.ctx.signal,
  });
  const plan = planTranscode(policy, media, { force: run.payload.force, encoder: choice.encoder });
  return { plan, encoder: choice.encoder };
}

/**
 * Step 3: where the output goes, and whether it can: the final name is free, a backup name
 * fits, the segments of an earlier run are taken up, and the temp directory has room.
 */
async function chooseTarget(
  run: TranscodeRun,
  media: MediaInfo,
  plan: EncodePlan,
): Promise<Target> {
  const { claimed, source, env } = run;
  const final = await chooseFinalPath(source, plan.extension).catch((err) => {
    throw new JobFailure(err.message);
  });
  if (env.config.jobs.backupOriginal) checkBackupName(source);
  const temp = tempOutputPath(claimed, source, env.config.jobs.tempDirectory);
  // Resumable segment by segment when the source is long enough (null: one pass).
  const segmentLength = env.config.jobs.segmentLength;
  const dir = segmentDirPath(claimed.id, source, env.config.jobs.tempDirectory);
  const journal = wantsSegments(media.duration, segmentLength)
    ? await openSegments({
      claimed,
      plan,
      source,
      fingerprint: run.payload.fingerprint,
      dir,
      segmentSec: segmentLength!,
      signal: run.ctx.signal,
    })
    : null;
  // The segments still to encode, and the joined output, need room beside the finished ones.
  checkFreeSpace(dirname(temp), media.size * (journal ? 1 + remainingFraction(journal) : 1));
  return { temp, final, segments: journal ? { dir, journal } : null };
}

const round = (n: number) => Math.round(n * 10) / 10;

/** Fails before encoding when `<name>.original.NN` could not be created (the name is too long). */
function checkBackupName(source: string): void {
  const bytes = new TextEncoder().encode(`${basename(source)}.original.99`).length;
  if (bytes > NAME_MAX) {
    throw new JobFailure(
      `the file name is too long to keep a backup beside it (${bytes} of ${NAME_MAX} bytes ` +
        `with ".original"); rename the file, or set jobs.backup_original: false`,
    );
  }
}

/** Refuses to start an encode into a directory without room for an output the source's size. */
function checkFreeSpace(dir: string, needed: number): void {
  const fs = statfsSync(dir);
  // A total of 0 blocks means the file system does not know its size (smbnetfs unless given
  // free_space_size): unknown, not full.
  if (Number(fs.blocks) === 0) return;
  const free = Number(fs.bavail) * Number(fs.bsize);
  if (free < needed) {
    throw new JobFailure(
      `not enough free space in ${dir}: ${formatBytes(free)} free, the source is ${
        formatBytes(needed)
      }`,
    );
  }
}
