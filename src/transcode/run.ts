/**
 * Running one claimed transcode job from start to end, in its steps: check the source, plan,
 * encode to a temp file (in one pass or segment by segment), verify, and replace the original or
 * keep it; or leave everything as it was and say why.
 *
 * @module
 */
import { dirname } from "node:path";
import { JobFailure } from "../errors.ts";
import type { EncodePlan, TranscodePlan } from "../media/plan.ts";
import type { MediaInfo } from "../media/probe.ts";
import { type JobEnd, recordJobEnd } from "../library/job_outcome.ts";
import type { ClaimedJob } from "../queue/claimed_job.ts";
import type { RunContext, WorkerEnv } from "../queue/job_type.ts";
import { chooseFinalPath } from "../replace/replace.ts";
import {
  checkBackupName,
  checkFreeSpace,
  openTempOutput,
  sourceAsQueued,
  withReplaceJournal,
} from "../replace/swap.ts";
import { tempOutputPath } from "../replace/temp_files.ts";
import { copyTracks } from "../tracks/copy_pass.ts";
import { planTracks, type TrackPlan } from "../tracks/plan.ts";
import { replacedFiles } from "../replace/backups.ts";
import { formatBytes } from "../util/format.ts";
import { encode } from "./encode.ts";
import { planEncode } from "./encode_plan.ts";
import { completedEnd, queuedSource } from "./memory.ts";
import { replaceOrKeep, verify } from "./output.ts";
import { TRANSCODE } from "./payload.ts";
import { readTranscodeJob, type TranscodeJob } from "./record.ts";
import type { EncodeFigures, KeptOriginalResult, TranscodeResult } from "./result.ts";
import { type Target, throwIfStopped, type TranscodeRun } from "./run_context.ts";
import { openSegments, wantsSegments } from "./segments/open.ts";
import { remainingFraction } from "./segments/progress.ts";
import { segmentDirPath } from "./segments/segment_dir.ts";
import type { SpeedHistory } from "./speed_history.ts";
import { checkEncodeFits, checkStep, type QualityStart, searchStep } from "./quality_step.ts";

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
  // Known once the job file is read: a job vpo cannot read has no outcome to remember.
  let typed: TranscodeJob | null = null;
  const remember = (end: JobEnd) => {
    const queued = typed && queuedSource(typed);
    if (queued) recordJobEnd(env.home, queued, end, ctx.warn);
  };
  return await withReplaceJournal(claimed, ctx, async (journal) => {
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
  }, (error) => remember({ state: "failed", error }));
}

/** What a run returns: the job's result and the verified output's probe. */
type Done = { result: TranscodeResult; outputProbe: MediaInfo | null };

/** The steps in order; returns the job's result and the verified output's probe. */
async function transcode(run: TranscodeRun): Promise<Done> {
  const media = await checkSource(run);
  const { plan, tracks, encoder } = await planFor(run, media);
  if (plan.action === "skip") {
    const detail = `skipped: ${plan.reason}`;
    return {
      result: { outcome: "skipped", outcome_detail: detail, reason: plan.reason },
      outputProbe: null,
    };
  }
  // With a quality target, the CRF is searched first (docs/quality.md); the search may find
  // that no CRF will do, and an encode that misses the quality is retried once.
  const quality = run.payload.policy.targetQuality;
  const start = quality
    ? await searchStep(run, media, plan, quality, { source_size: media.size, encoder })
    : null;
  if (start?.kind === "keep") return await keep(run, media, start.result, tracks);
  let crf = start?.crf ?? null;
  for (;;) {
    const planned = crf === null ? plan : { ...plan, video: { ...plan.video, crf } };
    const done = await encodeOnce(run, media, { plan: planned, tracks }, encoder, start);
    if ("result" in done) return done;
    crf = done.retry;
  }
}

/**
 * Steps 3 to 6 at one CRF: the target, the encode, its verification and, with a quality target,
 * its check; then the replace. Returns the CRF to retry at when the check asks for one.
 */
async function encodeOnce(
  run: TranscodeRun,
  media: MediaInfo,
  { plan, tracks }: { plan: EncodePlan; tracks: TrackPlan | null },
  encoder: string,
  quality: Extract<QualityStart, { kind: "encode" }> | null,
): Promise<Done | { retry: number }> {
  const target = await chooseTarget(run, media, plan);
  // The segment directory stays held until the job's run is over.
  using _segmentDir = target.segments?.held;
  // A segmented encode checks each segment against the deadline instead.
  if (quality && !target.segments) checkEncodeFits(run, media, plan.video.crf!);
  // ffmpeg writes to this very inode through /proc (see openTempOutput).
  using out = await openTempOutput(run.journal, run.source, target.temp, target.final);
  throwIfStopped(run.ctx.signal);
  const encoded = await encode(run, media, plan, target, out);
  const { info: outputProbe, notes: outputNotes } = await verify(
    run,
    media,
    { plan, tracks },
    out,
    encoded.logTail,
  );
  // Each segment recorded its own speed.
  if (!target.segments) {
    const codec = run.payload.policy.targetVideoCodec;
    await run.speed.record(codec, media.duration, encoded.wallSec, run.env.cpuCores, encoded.usage);
  }
  const figures: EncodeFigures = {
    source_size: media.size,
    output_size: out.stat().size,
    encoder,
    wall_sec: round(encoded.wallSec),
  };
  let extra = {};
  if (quality) {
    const output = { path: out.pathForChild, size: figures.output_size };
    const checked = await checkStep(run, media, plan, output, quality, plan.video.crf!);
    if (checked.verdict !== "ok") {
      await run.journal.discardOutput();
      if (checked.verdict === "retry") return { retry: checked.crf };
      const kept: KeptOriginalResult = {
        outcome: "kept_original",
        outcome_detail: `kept the original: ${checked.why}`,
        ...figures,
        notes: plan.notes,
        quality: checked.figures,
      };
      return await keep(run, media, kept, tracks);
    }
    extra = { quality: checked.figures };
  }
  const result = await replaceOrKeep(
    run,
    plan,
    target,
    out,
    figures,
    encoded.wallSec,
    outputNotes,
    extra,
  );
  if (result.outcome === "kept_original") return await keep(run, media, result, tracks);
  return { result, outputProbe };
}

/** The original's video is kept; a policy's track changes are made all the same (step 7). */
function keep(
  run: TranscodeRun,
  media: MediaInfo,
  kept: KeptOriginalResult,
  tracks: TrackPlan | null,
): Promise<Done> {
  return tracks
    ? copyTracksOnly(run, media, kept)
    : Promise.resolve({ result: kept, outputProbe: null });
}

/**
 * Step 7, when the encode came out no smaller and the original's video is kept: the policy's
 * track changes are made all the same, by stream copy of the source (otherwise the file, now
 * remembered as kept, would never get them).
 */
async function copyTracksOnly(
  run: TranscodeRun,
  media: MediaInfo,
  kept: KeptOriginalResult,
): Promise<{ result: TranscodeResult; outputProbe: MediaInfo | null }> {
  const decision = planTracks(run.payload.tracks!, media);
  if (decision.action !== "apply") return { result: kept, outputProbe: null };
  const { fingerprint } = run.payload;
  const copied = await copyTracks({ ...run, fingerprint }, media, decision.plan);
  return {
    result: {
      outcome: "replaced",
      outcome_detail:
        `${kept.outcome_detail}; its tracks copied instead (${decision.plan.summary}): ${
          formatBytes(media.size)
        } -> ${formatBytes(copied.outputSize)}`,
      source_size: media.size,
      output_size: copied.outputSize,
      encoder: "copy",
      wall_sec: round(kept.wall_sec + copied.wallSec),
      saved_bytes: media.size - copied.outputSize,
      ...replacedFiles(copied.steps, fingerprint),
      notes: [...kept.notes, ...decision.plan.changes, ...copied.notes],
    },
    outputProbe: copied.info,
  };
}

/** Step 1: the source must still be the file that was queued; then it is probed (sourceAsQueued). */
function checkSource(run: TranscodeRun): Promise<MediaInfo> {
  return sourceAsQueued(run.source, run.payload.fingerprint, run.ctx.signal);
}

/**
 * Step 2: the encoder this machine has for the policy, and the plan (or why to skip) with the
 * track plan it carries out.
 */
function planFor(
  run: TranscodeRun,
  media: MediaInfo,
): Promise<{ plan: TranscodePlan; tracks: TrackPlan | null; encoder: string }> {
  return planEncode(run.payload, media, run.ctx.signal);
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
  const opened = wantsSegments(media.duration, segmentLength)
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
  try {
    // The segments still to encode, and the joined output, need room beside the finished ones.
    const toEncode = opened ? 1 + await remainingFraction(opened.journal, dir) : 1;
    checkFreeSpace(dirname(temp), media.size * toEncode);
  } catch (err) {
    opened?.held[Symbol.dispose]();
    throw err;
  }
  return { temp, final, segments: opened && { dir, ...opened } };
}

const round = (n: number) => Math.round(n * 10) / 10;
