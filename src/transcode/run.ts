/**
 * Running one claimed transcode job from start to end: check the source, encode to a temp file,
 * verify, and replace the original, or leave everything as it was and say why.
 *
 * @module
 */
import { statfsSync } from "node:fs";
import { basename, dirname } from "node:path";
import { JobFailure, LostJobError } from "../errors.ts";
import { extractCoverArt } from "../media/cover_art.ts";
import { detectEncoder } from "../media/encoders.ts";
import { buildFfmpegArgs } from "../media/ffmpeg_args.ts";
import { runFfmpeg } from "../media/ffmpeg_runner.ts";
import { type EncodePlan, planTranscode } from "../media/plan.ts";
import type { ProgressUpdate } from "../media/progress.ts";
import { type MediaInfo, probe } from "../media/probe.ts";
import { type JobEnd, recordJobEnd } from "../library/job_outcome.ts";
import { decodeCheck, verifyOutput } from "../media/verify.ts";
import type { ClaimedJob } from "../queue/claimed_job.ts";
import type { RunContext, WorkerEnv } from "../queue/job_type.ts";
import { fileIdentity } from "../util/file_identity.ts";
import { formatBytes } from "../util/format.ts";
import { NAME_MAX } from "../util/ids.ts";
import { describeChange, fingerprintPath } from "../replace/fingerprint.ts";
import { readPayload, TRANSCODE, type TranscodePayload } from "./payload.ts";
import { chooseBackupPath, chooseFinalPath, replaceOriginal } from "../replace/replace.ts";
import { ReplaceJournal } from "../replace/replace_journal.ts";
import { OwnedFile, permissionsOf, removeIfOwned } from "../util/owned_file.ts";
import { completedEnd, queuedSource } from "./memory.ts";
import type { EncodeFigures, TranscodeResult } from "./result.ts";
import {
  encodeSegmented,
  openSegments,
  progressOf,
  remainingFraction,
  segmentDirPath,
  type SegmentJournal,
  wantsSegments,
} from "./segmented_encode.ts";
import type { SpeedHistory } from "./speed_history.ts";
import { tempOutputPath } from "../replace/temp_files.ts";

/** Lines of ffmpeg's log kept in a failed job's error. */
const ERROR_TAIL_LINES = 8;

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
  const remember = (end: JobEnd) => {
    const queued = queuedSource(job);
    if (queued) recordJobEnd(env.home, queued, end, ctx.warn);
  };
  let outputProbe: MediaInfo | null = null;
  try {
    if (job.type !== TRANSCODE) throw new JobFailure(`unknown job type "${job.type}"`);
    const payload = readPayload(job.payload, `${job.path}: payload`);
    if (typeof payload === "string") throw new JobFailure(`bad job file ${payload}`);
    if (!job.file) throw new JobFailure(`bad job file: no "file"`);
    const result = await transcode(claimed, job.file, payload, env, speed, ctx, journal, (info) => {
      outputProbe = info;
    });
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

function throwIfStopped(signal: AbortSignal): void {
  if (signal.aborted) throw signal.reason;
}

/** The transcode itself; returns the job's result record. `onVerified` gets the output's probe. */
async function transcode(
  claimed: ClaimedJob,
  source: string,
  payload: TranscodePayload,
  env: WorkerEnv,
  speed: SpeedHistory,
  ctx: RunContext,
  journal: ReplaceJournal,
  onVerified: (output: MediaInfo) => void,
): Promise<TranscodeResult> {
  const signal = ctx.signal;
  const changed = describeChange(payload.fingerprint, await fingerprintPath(source));
  if (changed) throw new JobFailure(`${changed} since it was queued; nothing was touched`);
  // The fingerprint is unchanged since the queue-time probe (checked with the rest of the
  // payload): probing again would only cost time.
  const queuedProbe = payload.source_probe;
  const media = queuedProbe ? { ...queuedProbe, path: source } : await probe(source, { signal });
  const policy = payload.policy;
  const tenBit = media.streams.some((s) =>
    s.type === "video" && !s.isCoverArt && (s.bitDepth ?? 8) > 8
  );
  const choice = await detectEncoder(policy.targetVideoCodec, policy.hwAccel, { tenBit, signal });
  const plan = planTranscode(policy, media, { force: payload.force, encoder: choice.encoder });
  if (plan.action === "skip") {
    return { outcome: "skipped", outcome_detail: `skipped: ${plan.reason}`, reason: plan.reason };
  }
  const final = await chooseFinalPath(source, plan.extension).catch((err) => {
    throw new JobFailure(err.message);
  });
  if (env.config.jobs.backupOriginal) checkBackupName(source);
  const temp = tempOutputPath(claimed, source, env.config.jobs.tempDirectory);
  // Resumable segment by segment when the source is long enough (null: one pass).
  const segmentLength = env.config.jobs.segmentLength;
  const segmentDir = segmentDirPath(claimed.id, source, env.config.jobs.tempDirectory);
  const segmented = wantsSegments(media.duration, segmentLength)
    ? await openSegments({
      claimed,
      plan,
      source,
      fingerprint: payload.fingerprint,
      dir: segmentDir,
      segmentSec: segmentLength!,
      signal,
    })
    : null;
  // The segments still to encode, and the joined output, need room beside the finished ones.
  checkFreeSpace(dirname(temp), media.size * (segmented ? 1 + remainingFraction(segmented) : 1));
  // P1. Made exclusively and held open: ffmpeg writes to this very inode through /proc, so a
  // link planted at the temp name can neither receive the output nor be overwritten.
  using out = await OwnedFile.create(temp).catch((err) => {
    throw new JobFailure(`cannot create the temp output ${temp}: ${err.message}`);
  });
  await journal.record({
    phase: "encoding",
    source,
    source_id: await fileIdentity(source),
    temp,
    temp_ino: out.ino,
    final,
    backup: null,
  });
  throwIfStopped(signal);

  const coverDir = env.home.jobs.coverDir(claimed.id, claimed.token);
  const logPath = env.home.logPath(claimed.id);
  // ffmpeg's last lines explain a rejected output too (decode errors in a damaged source).
  let logTail: string[] = [];
  const wallStart = performance.now();
  let segmentedWallSec: number | null = null;
  const onProgress = (u: ProgressUpdate) =>
    ctx.progress({
      percent: u.percent,
      fps: u.fps,
      speed: u.speed,
      eta_sec: u.etaSec,
      out_time_sec: u.outTimeSec,
    }, u.done);
  try {
    await extractCoverArt(plan, source, coverDir, { signal });
    const argsOptions = { cpuCores: env.cpuCores, coverArtDir: coverDir };
    if (segmented) {
      segmentedWallSec = await encodeInSegments(segmented, {
        claimed,
        plan,
        source,
        temp,
        dir: segmentDir,
        env,
        speed,
        codec: policy.targetVideoCodec,
        ctx,
        logPath,
        onProgress,
        muxArgs: (encodedVideo) =>
          buildFfmpegArgs(plan, source, out.pathForChild, { ...argsOptions, encodedVideo }),
      });
    }
    const run = segmented ? null : await runFfmpeg({
      args: buildFfmpegArgs(plan, source, out.pathForChild, argsOptions),
      logPath,
      signal,
      onProgress,
      durationSec: media.duration,
      cpuCores: env.cpuCores,
      cpuSet: env.cpuSet,
      // A stopped encode's output is deleted anyway: no point waiting while ffmpeg flushes the
      // frames its encoder holds (slow presets take seconds), which would overrun a deadline.
      killGraceMs: 1000,
    });
    throwIfStopped(signal);
    if (run) logTail = [`log: ${logPath}`, ...run.tail.slice(-ERROR_TAIL_LINES)];
    if (run && !run.success) {
      const why = run.signal
        ? `ffmpeg was killed by ${run.signal}`
        : `ffmpeg exited with code ${run.code}`;
      const last = run.tail.at(-1) ?? "";
      throw new JobFailure(`${why}: ${last}`, logTail);
    }
  } finally {
    await Deno.remove(coverDir, { recursive: true }).catch(() => {});
  }
  const wallSec = segmentedWallSec ?? (performance.now() - wallStart) / 1000;

  if (!await out.stillAtPath()) {
    throw new JobFailure(`the temp output ${temp} was replaced by another file; original kept`);
  }
  const verdict = await verifyOutput(media, out.pathForChild, plan as EncodePlan, { signal });
  if (!verdict.ok) {
    throw new JobFailure(`output rejected, original kept: ${verdict.reason}`, logTail);
  }
  onVerified(verdict.info);
  if (env.fullDecodeCheck) {
    const decoded = await decodeCheck(out.pathForChild, { signal });
    if (!decoded.ok) {
      throw new JobFailure(`output rejected, original kept: ${decoded.reason}`, logTail);
    }
  }
  const outputSize = out.stat().size;
  // Each segment recorded its own speed.
  if (!segmented) await speed.record(policy.targetVideoCodec, media.duration, wallSec);
  const sizes: EncodeFigures = {
    source_size: media.size,
    output_size: outputSize,
    encoder: choice.encoder,
    wall_sec: round(wallSec),
  };
  if (outputSize >= media.size && !policy.keepLargerOutput) {
    const detail = `kept the original: output ${formatBytes(outputSize)} is not smaller than ` +
      `source ${formatBytes(media.size)}`;
    await removeIfOwned(temp, out.ino);
    return { outcome: "kept_original", outcome_detail: detail, ...sizes, notes: plan.notes };
  }
  // Last look before the irreversible part: the source must still be the file that was encoded.
  const changedSince = describeChange(payload.fingerprint, await fingerprintPath(source));
  if (changedSince) {
    throw new JobFailure(`${changedSince} while it was being encoded; original kept`);
  }
  // The source's mode (a private 0600 or 0640 file must not become world-readable 0644) and,
  // where allowed (a worker run as root), its owner, set on the output's inode through its handle.
  const permissions = permissionsOf(await Deno.stat(source));
  out.setPermissions(permissions);
  out.close();
  throwIfStopped(signal);
  await claimed.heartbeat();
  const backup = env.config.jobs.backupOriginal ? await chooseBackupPath(source) : null;
  let steps = { ...journal.last!, backup };
  try {
    steps = await replaceOriginal(steps, journal, {
      fence: () => claimed.heartbeat(),
      permissions,
      sourceChange: async () => describeChange(payload.fingerprint, await fingerprintPath(source)),
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
  const saved = media.size - outputSize;
  const detail = `${formatBytes(media.size)} -> ${formatBytes(outputSize)} ` +
    `(saved ${formatBytes(saved)}) in ${Math.round(wallSec)} s`;
  return {
    outcome: "replaced",
    outcome_detail: detail,
    ...sizes,
    saved_bytes: saved,
    output_path: steps.final,
    backup_path: steps.backup,
    backup_size: steps.backup ? media.size : null,
    // The backup is a link to (or the renamed) original, whose inode was checked unchanged.
    backup_ino: steps.backup ? payload.fingerprint.ino : null,
    notes: plan.notes,
  };
}

const round = (n: number) => Math.round(n * 10) / 10;

/**
 * Encodes the segments not yet done and joins them into `temp`, starting each segment
 * only when the measured speed says it ends before the deadline, and keeping the live file's
 * segment count current. Returns the wall seconds all runs spent on the job's segments.
 */
async function encodeInSegments(
  journal: SegmentJournal,
  opts: {
    claimed: ClaimedJob;
    plan: EncodePlan;
    source: string;
    temp: string;
    dir: string;
    env: WorkerEnv;
    speed: SpeedHistory;
    /** The policy's target codec, under which speeds are measured. */
    codec: string;
    ctx: RunContext;
    logPath: string;
    onProgress: (u: ProgressUpdate) => void;
    muxArgs: (encodedVideo: { concatList: string; offsetSec: number }) => string[];
  },
): Promise<number> {
  const { claimed, ctx, speed, codec } = opts;
  const showSegments = () =>
    claimed.updateLive({ segments: { ...progressOf(journal, ctx.windowSec) } }).catch(() => {
      // A lost job is noticed by the heartbeat timer, which stops the encode.
    });
  await showSegments();
  const { wallSec } = await encodeSegmented(journal, {
    claimed,
    plan: opts.plan,
    source: opts.source,
    output: opts.temp,
    dir: opts.dir,
    cpuCores: opts.env.cpuCores,
    cpuSet: opts.env.cpuSet,
    logPath: opts.logPath,
    signal: ctx.signal,
    onProgress: opts.onProgress,
    beforeSegment: (mediaSec) => {
      const need = speed.estimateSec(codec, mediaSec);
      if (ctx.deadline && need !== null && Date.now() + need * 1000 > +ctx.deadline) {
        ctx.outOfTime("deadline: the next segment cannot finish before it");
      }
    },
    afterSegment: async (mediaSec, wallSec) => {
      await speed.record(codec, mediaSec, wallSec);
      await showSegments();
    },
    muxArgs: opts.muxArgs,
  });
  return wallSec;
}

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
