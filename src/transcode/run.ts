/**
 * Running one claimed transcode job from start to end: check the source, encode to a temp file,
 * verify, and replace the original, or leave everything as it was and say why.
 *
 * @module
 */
import { statfsSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import type { Config } from "../config/types.ts";
import { LostJobError, VpoError } from "../errors.ts";
import type { VpoHome } from "../queue/layout.ts";
import { extractCoverArt } from "../media/cover_art.ts";
import { detectEncoder } from "../media/encoders.ts";
import { buildFfmpegArgs } from "../media/ffmpeg_args.ts";
import { runFfmpeg } from "../media/ffmpeg_runner.ts";
import { type EncodePlan, planTranscode } from "../media/plan.ts";
import { probe } from "../media/probe.ts";
import type { ProgressUpdate } from "../media/progress.ts";
import { decodeCheck, verifyOutput } from "../media/verify.ts";
import type { Job } from "../queue/job.ts";
import type { ClaimedJob } from "../queue/claimed_job.ts";
import type { RecordChanges } from "../queue/transition.ts";
import { readPayload, TRANSCODE, type TranscodePayload } from "./payload.ts";
import { formatBytes } from "../util/format.ts";
import { describeChange, fingerprintPath } from "./fingerprint.ts";
import {
  chooseBackupPath,
  chooseFinalPath,
  replaceOriginal,
  type ReplaceSteps,
  resumeReplace,
} from "./replace.ts";
import type { WorkerReporter } from "../worker/reporter.ts";
import type { SpeedHistory } from "./speed_history.ts";
import { tempOutputPath } from "./temp_files.ts";

/** Why a running job was told to stop. */
export type StopReason = "deadline" | "signal" | "cancel" | "lost";

/** What the worker gives each job. */
export interface JobContext {
  config: Config;
  home: VpoHome;
  cpuCores: number | null;
  reporter: WorkerReporter;
  speed: SpeedHistory;
  /** Aborted (with a {@link StopReason} and message) when the worker must stop. */
  stop: AbortSignal;
  /** Decode the whole output before replacing (slower, catches damage a probe cannot see). */
  fullDecodeCheck?: boolean;
}

/** How a job ended, for the worker's counts. */
export type JobOutcome = "completed" | "failed" | "cancelled" | "requeued" | "lost";

/** Seconds between progress writes to the job's live file. */
const PROGRESS_WRITE_SEC = 2;
/** Lines of ffmpeg's log kept in a failed job's error. */
const ERROR_TAIL_LINES = 8;

/** A failure with a one-line reason (and optional detail lines) that ends the job as failed. */
class JobFailure extends VpoError {
  constructor(message: string, readonly detail: string[] = []) {
    super(message);
  }
}

/**
 * Why work was aborted (the reason of an AbortSignal): the job goes back to the queue, or to
 * cancelled/, or is simply let go when it was lost.
 */
export class Stopped extends Error {
  constructor(readonly reason: StopReason, readonly why: string) {
    super(why);
  }
}

/** Runs `claimed` to its end and returns how it ended. Never throws for the job's own faults. */
export async function runTranscodeJob(claimed: ClaimedJob, ctx: JobContext): Promise<JobOutcome> {
  const job = claimed.record;
  const file = job.file ?? "-";
  const stopper = new AbortController();
  const stop = (reason: StopReason, why: string) => {
    if (!stopper.signal.aborted) stopper.abort(new Stopped(reason, why));
  };
  const onWorkerStop = () => {
    const r = ctx.stop.reason as Stopped;
    stop(r.reason, r.why);
  };
  if (ctx.stop.aborted) onWorkerStop();
  ctx.stop.addEventListener("abort", onWorkerStop);
  // Heartbeats run on their own timer, independent of ffmpeg's output; a cancel request is a
  // cheap local stat, checked every second so `jobs cancel --running` acts within seconds.
  const beat = setInterval(() => {
    claimed.heartbeat().catch((err) => {
      if (err instanceof LostJobError) stop("lost", err.message);
    });
  }, ctx.config.worker.heartbeatInterval * 1000);
  const cancelPoll = setInterval(() => {
    claimed.cancelRequested().then((asked) => {
      if (asked) stop("cancel", "cancelled by vpo jobs cancel --running");
    }, () => {});
  }, 1000);
  const base: RecordChanges = {
    started_at: claimed.live.claimed_at,
    worker: claimed.live.worker,
  };
  let steps: ReplaceSteps | null = null;
  const removeTemp = async () => {
    if (steps && steps.phase !== "replacing" && steps.phase !== "done") await resumeReplace(steps);
  };
  try {
    ctx.reporter.event("started", job.id, job.file, summaryOf(job));
    if (job.type !== TRANSCODE) throw new JobFailure(`unknown job type "${job.type}"`);
    const payload = readPayload(job.payload);
    if (typeof payload === "string") throw new JobFailure(`bad job file: ${payload}`);
    if (!job.file) throw new JobFailure(`bad job file: no "file"`);
    const result = await transcode(claimed, job.file, payload, ctx, stopper.signal, (s) => {
      steps = s;
    });
    const changes = { ...base, attempts: job.attempts + 1, finished_at: now(), error: null };
    await claimed.finish(
      "completed",
      { ...changes, progress: 100, result },
      "completed",
      String(result.outcome_detail),
    );
    ctx.reporter.event("completed", job.id, job.file, String(result.outcome_detail));
    return "completed";
  } catch (err) {
    await removeTemp().catch(() => {});
    const stopped = stopper.signal.aborted ? stopper.signal.reason as Stopped : null;
    if (err instanceof LostJobError || stopped?.reason === "lost") {
      ctx.reporter.event(
        "lost",
        job.id,
        job.file,
        "the job was recovered by another process; stopped without touching it",
      );
      return "lost";
    }
    try {
      if (stopped?.reason === "cancel") {
        await claimed.finish(
          "cancelled",
          { ...base, finished_at: now() },
          "cancelled",
          stopped.why,
        );
        ctx.reporter.event("cancelled", job.id, job.file, stopped.why);
        return "cancelled";
      }
      if (stopped) {
        // Stopped by the deadline or a signal: back to the queue, and it does not count as an attempt.
        await claimed.finish("queued", { progress: null }, "requeued", stopped.why);
        ctx.reporter.event("requeued", job.id, job.file, stopped.why);
        return "requeued";
      }
      const failure = err instanceof JobFailure
        ? err
        : new JobFailure(err instanceof Error ? err.message : String(err));
      const error = [failure.message, ...failure.detail].join("\n");
      await claimed.finish(
        "failed",
        { ...base, attempts: job.attempts + 1, finished_at: now(), error },
        "failed",
        failure.message,
      );
      ctx.reporter.event("failed", job.id, file, failure.message);
      return "failed";
    } catch (finishErr) {
      if (finishErr instanceof LostJobError) {
        ctx.reporter.event("lost", job.id, job.file, "the job was recovered by another process");
        return "lost";
      }
      throw finishErr;
    }
  } finally {
    clearInterval(beat);
    clearInterval(cancelPoll);
    ctx.stop.removeEventListener("abort", onWorkerStop);
  }
}

const now = () => new Date().toISOString();

function summaryOf(job: Job): string {
  const payload = readPayload(job.payload);
  return typeof payload === "string" ? "" : payload.summary;
}

function throwIfStopped(signal: AbortSignal): void {
  if (signal.aborted) throw signal.reason;
}

/** The transcode itself; returns the job's result record. */
async function transcode(
  claimed: ClaimedJob,
  source: string,
  payload: TranscodePayload,
  ctx: JobContext,
  signal: AbortSignal,
  onSteps: (steps: ReplaceSteps) => void,
): Promise<Record<string, unknown>> {
  // The last steps recorded: a failed replace is undone from these, not from the steps it
  // started with (which know nothing of the backup link or of an output moved beside the source).
  let recorded: ReplaceSteps | null = null;
  const record = async (s: ReplaceSteps) => {
    recorded = s;
    onSteps(s);
    await claimed.updateLive({ steps: { ...s } }, { durable: true });
  };
  const changed = describeChange(payload.fingerprint, await fingerprintPath(source));
  if (changed) throw new JobFailure(`${changed} since it was queued; nothing was touched`);
  const media = await probe(source, { signal });
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
  if (ctx.config.jobs.backupOriginal) checkBackupName(source);
  const temp = tempOutputPath(claimed, source, ctx.config.jobs.tempDirectory);
  checkFreeSpace(dirname(temp), media.size);
  let steps: ReplaceSteps = {
    phase: "encoding",
    source,
    source_ino: payload.fingerprint.ino,
    temp,
    final,
    backup: null,
  };
  await record(steps);
  throwIfStopped(signal);

  const coverDir = join(ctx.home.root, "jobs", ".tmp", `covers-${claimed.id}-${claimed.token}`);
  const logPath = join(ctx.home.logsDir, `${claimed.id}.log`);
  // ffmpeg's last lines explain a rejected output too (decode errors in a damaged source).
  let logTail: string[] = [];
  const wallStart = performance.now();
  try {
    await extractCoverArt(plan, source, coverDir, { signal });
    const args = buildFfmpegArgs(plan, source, temp, {
      cpuCores: ctx.cpuCores,
      coverArtDir: coverDir,
    });
    const run = await runFfmpeg({
      args,
      logPath,
      signal,
      onProgress: progressWriter(claimed, ctx),
      durationSec: media.duration,
      cpuCores: ctx.cpuCores,
      // A stopped encode's output is deleted anyway: no point waiting while ffmpeg flushes the
      // frames its encoder holds (slow presets take seconds), which would overrun a deadline.
      killGraceMs: 1000,
    });
    throwIfStopped(signal);
    logTail = [`log: ${logPath}`, ...run.tail.slice(-ERROR_TAIL_LINES)];
    if (!run.success) {
      const why = run.signal
        ? `ffmpeg was killed by ${run.signal}`
        : `ffmpeg exited with code ${run.code}`;
      const last = run.tail.at(-1) ?? "";
      throw new JobFailure(`${why}: ${last}`, logTail);
    }
  } finally {
    await Deno.remove(coverDir, { recursive: true }).catch(() => {});
  }
  const wallSec = (performance.now() - wallStart) / 1000;

  const verdict = await verifyOutput(media, temp, plan as EncodePlan, { signal });
  if (!verdict.ok) {
    throw new JobFailure(`output rejected, original kept: ${verdict.reason}`, logTail);
  }
  if (ctx.fullDecodeCheck) {
    const decoded = await decodeCheck(temp, { signal });
    if (!decoded.ok) {
      throw new JobFailure(`output rejected, original kept: ${decoded.reason}`, logTail);
    }
  }
  const outputSize = (await Deno.stat(temp)).size;
  await ctx.speed.record(policy.targetVideoCodec, media.duration, wallSec);
  const sizes = {
    source_size: media.size,
    output_size: outputSize,
    encoder: choice.encoder,
    wall_sec: round(wallSec),
  };
  if (outputSize >= media.size && !policy.keepLargerOutput) {
    const detail = `kept the original: output ${formatBytes(outputSize)} is not smaller than ` +
      `source ${formatBytes(media.size)}`;
    await Deno.remove(temp);
    return { outcome: "kept_original", outcome_detail: detail, ...sizes, notes: plan.notes };
  }
  // Last look before the irreversible part: the source must still be the file that was encoded.
  const changedSince = describeChange(payload.fingerprint, await fingerprintPath(source));
  if (changedSince) {
    throw new JobFailure(`${changedSince} while it was being encoded; original kept`);
  }
  await keepPermissions(source, temp);
  throwIfStopped(signal);
  await claimed.heartbeat();
  steps = {
    ...steps,
    backup: ctx.config.jobs.backupOriginal ? await chooseBackupPath(source) : null,
  };
  try {
    steps = await replaceOriginal(steps, record);
  } catch (err) {
    // A failed step is undone (or completed) from its own record, exactly as after a crash.
    // Only the job's owner may undo: a worker that lost the job (stopped past stale_after) must
    // leave the files to the recovery and to the worker that runs the job now, whose backup link
    // would otherwise look like this worker's own to resumeReplace.
    await claimed.heartbeat();
    const state = await resumeReplace(recorded ?? steps);
    if (state === "rolled_back") {
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
    notes: plan.notes,
  };
}

const round = (n: number) => Math.round(n * 10) / 10;

/**
 * Gives the output the source's mode (a private 0600 or 0640 file must not become world-readable
 * 0644) and, where allowed (a worker run as root), its owner and group.
 */
async function keepPermissions(source: string, output: string): Promise<void> {
  const info = await Deno.stat(source);
  if (info.mode !== null) await Deno.chmod(output, info.mode & 0o7777);
  if (info.uid !== null && info.gid !== null) {
    await Deno.chown(output, info.uid, info.gid).catch(() => {
      // Not permitted for a non-root worker: the output keeps the worker's own user.
    });
  }
}

/** Longest file name most file systems take (ext4, xfs, btrfs, ZFS: 255 bytes). */
const NAME_MAX = 255;

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
  const free = Number(fs.bavail) * Number(fs.bsize);
  if (free < needed) {
    throw new JobFailure(
      `not enough free space in ${dir}: ${formatBytes(free)} free, the source is ${
        formatBytes(needed)
      }`,
    );
  }
}

/** Reports progress to the terminal and, every few seconds, to the job's live file. */
function progressWriter(claimed: ClaimedJob, ctx: JobContext): (u: ProgressUpdate) => void {
  let lastWrite = -Infinity;
  return (u) => {
    const sample = { percent: u.percent, fps: u.fps, speed: u.speed, etaSec: u.etaSec };
    ctx.reporter.progress(claimed.id, claimed.record.file ?? "", sample);
    const t = performance.now();
    if (t - lastWrite < PROGRESS_WRITE_SEC * 1000 && !u.done) return;
    lastWrite = t;
    claimed.updateLive({
      progress: {
        percent: u.percent,
        fps: u.fps,
        speed: u.speed,
        eta_sec: u.etaSec,
        out_time_sec: u.outTimeSec,
      },
    }).catch(() => {
      // A lost job is noticed by the heartbeat timer, which stops the encode.
    });
  };
}
