/**
 * Running one claimed apply job: check the source, plan its tracks, and carry the plan out by
 * stream copy through the safe replace (`src/tracks/copy_pass.ts`); or leave everything as it was
 * and say why.
 *
 * @module
 */
import { JobFailure } from "../errors.ts";
import { type JobEnd, recordJobEnd } from "../library/job_outcome.ts";
import type { MediaInfo } from "../media/probe.ts";
import type { ClaimedJob } from "../queue/claimed_job.ts";
import type { RunContext, WorkerEnv } from "../queue/job_type.ts";
import { replacedFiles } from "../replace/backups.ts";
import { sourceAsQueued, withReplaceJournal } from "../replace/swap.ts";
import { type CopyPass, copyTracks } from "../tracks/copy_pass.ts";
import { planTracks } from "../tracks/plan.ts";
import { formatBytes } from "../util/format.ts";
import { APPLY, type ApplyPayload } from "./payload.ts";
import { type ApplyJob, completedEnd, queuedSource, readApplyJob } from "./record.ts";
import type { ApplyResult } from "./result.ts";

/**
 * Runs the claimed apply job to its result. Throws {@link JobFailure} when it cannot be done;
 * whatever it throws, its temp output is gone (or the replace finished) before it does. A run
 * that ends (not one that is stopped) is remembered in the library.
 */
export async function runApply(
  claimed: ClaimedJob,
  env: WorkerEnv,
  ctx: RunContext,
): Promise<ApplyResult> {
  const job = claimed.record;
  // Known once the job file is read: a job vpo cannot read has no outcome to remember.
  let typed: ApplyJob | null = null;
  const remember = (end: JobEnd) => {
    const queued = typed && queuedSource(typed);
    if (queued) recordJobEnd(env.home, queued, end, ctx.warn);
  };
  return await withReplaceJournal(claimed, ctx, async (journal) => {
    if (job.type !== APPLY) throw new JobFailure(`unknown job type "${job.type}"`);
    // An earlier run's result (a job put back in queued/ by hand keeps it) is not read.
    const read = readApplyJob({ ...job, result: null }, `${job.path}: payload`);
    if (typeof read === "string") throw new JobFailure(`bad job file ${read}`);
    typed = read;
    if (!job.file) throw new JobFailure(`bad job file: no "file"`);
    const { result, outputProbe } = await apply({
      claimed,
      source: job.file,
      fingerprint: read.payload.fingerprint,
      payload: read.payload,
      env,
      ctx,
      journal,
    });
    remember(completedEnd(result, outputProbe));
    return result;
  }, (error) => remember({ state: "failed", error }));
}

/** The steps in order; returns the job's result and the verified output's probe. */
async function apply(
  run: CopyPass & { payload: ApplyPayload },
): Promise<{ result: ApplyResult; outputProbe: MediaInfo | null }> {
  const { source, payload, ctx: { signal } } = run;
  const media = await sourceAsQueued(source, payload.fingerprint, signal);
  const decision = planTracks(payload.tracks, media);
  if (decision.action === "refuse") {
    throw new JobFailure(`the track policy refuses it: ${decision.reason}`);
  }
  if (decision.action === "compliant") {
    const detail = `skipped: ${decision.reason}`;
    return {
      result: { outcome: "skipped", outcome_detail: detail, reason: decision.reason },
      outputProbe: null,
    };
  }
  const plan = decision.plan;
  const copied = await copyTracks(run, media, plan);
  const detail = `tracks: ${plan.summary}: ${formatBytes(media.size)} -> ` +
    `${formatBytes(copied.outputSize)} in ${Math.round(copied.wallSec)} s`;
  return {
    result: {
      outcome: "replaced",
      outcome_detail: detail,
      source_size: media.size,
      output_size: copied.outputSize,
      wall_sec: Math.round(copied.wallSec * 10) / 10,
      ...replacedFiles(copied.steps, payload.fingerprint),
      changes: plan.changes,
      checked_with: copied.checkedWith,
      notes: [...plan.notes, ...copied.notes],
    },
    outputProbe: copied.info,
  };
}
