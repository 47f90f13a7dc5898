/**
 * The quality steps of a transcode run whose policy has a `target_quality` (docs/quality.md):
 * before the encode, the CRF search (deadline-aware, and resumable: every sample's score is
 * remembered as it is measured); after it, the check of the output over its whole length, which
 * keeps it, asks for one retry at a lower CRF, or keeps the original and says why.
 *
 * @module
 */
import { dirname } from "node:path";
import type { EncodePlan } from "../media/plan.ts";
import type { MediaInfo } from "../media/probe.ts";
import type { TargetQuality } from "../policy/types.ts";
import { JobFailure } from "../errors.ts";
import { measureAchieved, reaches, retryCrf } from "../quality/achieved.ts";
import { metricProblem } from "../quality/compare.ts";
import { searchCrf, type SearchResult } from "../quality/crf_search.ts";
import { QualityMemory } from "../quality/memory.ts";
import { planSamples, settingsKey } from "../quality/samples.ts";
import { LINEAR, slopeOf } from "../quality/search.ts";
import { QualityTemps } from "../quality/temps.ts";
import { formatBytes, formatDuration } from "../util/format.ts";
import type { ClaimedJob, LiveInfo } from "../queue/claimed_job.ts";
import type { Job } from "../queue/job.ts";
import { readPayload } from "./payload.ts";
import {
  type EncodeFigures,
  type KeptOriginalResult,
  type QualityFigures,
  readResult,
} from "./result.ts";
import type { TranscodeRun } from "./run_context.ts";

/**
 * A CRF's samples take about this many times as long as encoding the same media in one run
 * does: each sample is also cut, scored, and pays ffmpeg's and the encoder's start-up (measured
 * 1.9-3.4 at 640x360, docs/benchmarks.md; less on larger pictures, where the encoding weighs more).
 */
export const SEARCH_OVERHEAD = 3;

/**
 * The check of an output over every frame takes up to this share of its encode's time (12-26 %
 * measured, docs/benchmarks.md): an encode that fits without its check would be stopped at the
 * deadline while checked, and lost.
 */
const CHECK_SHARE = 0.3;

/** How the search ended for the run: encode at a CRF, or keep the original. */
export type QualityStart =
  | { kind: "encode"; crf: number; search: SearchResult; figures: QualityFigures }
  | { kind: "keep"; result: KeptOriginalResult };

const runOf = (run: TranscodeRun) => ({
  logPath: run.env.home.logPath(run.claimed.id),
  cpuCores: run.env.cpuCores,
  cpuSet: run.env.cpuSet,
  signal: run.ctx.signal,
});

const tempsOf = (run: TranscodeRun) =>
  new QualityTemps(run.env.config.jobs.tempDirectory ?? dirname(run.source), run.claimed);

/**
 * As a quality job ends (completed, failed, cancelled: not requeued), removes the temps earlier
 * claims of it left (a worker killed mid-search). Its next search would have removed them, but
 * an ended job has none: a run that fails before searching (its source changed) left the
 * lossless cuts in the media folder for good.
 */
export async function removeSearchLeftovers(
  claimed: ClaimedJob,
  tempDirectory: string | null,
): Promise<void> {
  const job = claimed.record;
  const payload = readPayload(job.payload);
  if (!job.file || typeof payload === "string" || !payload.policy.targetQuality) return;
  await new QualityTemps(tempDirectory ?? dirname(job.file), claimed).sweepEarlierClaims();
}

/** Shows a status line in the worker's log and in the job's live file (`vpo jobs show`). */
function status(run: TranscodeRun, line: string, log: boolean): void {
  if (log) run.ctx.note(line);
  run.claimed.updateLive({ quality: { status: line } }).catch(() => {
    // A lost job is noticed by the heartbeat timer, which stops the work.
  });
}

/**
 * The search, as the run's first step after the plan: each CRF's samples are encoded only when
 * this machine's measured speed says they are done before the deadline (else the job goes back
 * to the queue and resumes there), and the CRF found must leave time for the encode. A file
 * whose best CRF cannot reach the quality within the size limit keeps its original.
 */
export async function searchStep(
  run: TranscodeRun,
  media: MediaInfo,
  plan: EncodePlan,
  target: TargetQuality,
  figures: Pick<EncodeFigures, "source_size" | "encoder">,
): Promise<QualityStart> {
  const { ctx, speed } = run;
  // The policy was checked on the host that queued it; this one may lack the metric (libvmaf).
  const missing = await metricProblem(target.metric);
  if (missing) throw new JobFailure(`cannot measure the policy's quality here: ${missing}`);
  const codec = plan.video.codec;
  const memory = new QualityMemory(run.env.home.library, ctx.warn);
  let search: SearchResult;
  try {
    search = await searchCrf({
      source: run.source,
      media,
      plan,
      target,
      memory,
      temps: tempsOf(run),
      run: runOf(run),
      beforeEncodes: (mediaSec) => {
        status(run, `searching: encoding ${Math.round(mediaSec)} s of samples`, false);
        const need = speed.estimateSec(codec, mediaSec * SEARCH_OVERHEAD, run.env.cpuCores);
        if (ctx.deadline && need !== null && Date.now() + need * 1000 > +ctx.deadline) {
          ctx.outOfTime("deadline: the next CRF's samples cannot be encoded before it");
        }
      },
      onStatus: (line) => status(run, line, true),
    });
  } finally {
    memory.close();
  }
  const quality = figuresOf(target, search);
  if (!search.found) {
    const detail = `kept the original: no CRF in ${target.crfMin}-${target.crfMax} reaches ` +
      `${target.metric} ${target.min} within ${target.maxEncodedPercent} % of the source: ` +
      search.reason;
    return {
      kind: "keep",
      result: {
        outcome: "kept_original",
        outcome_detail: detail,
        ...figures,
        wall_sec: quality.search_sec,
        notes: plan.notes,
        quality,
      },
    };
  }
  return { kind: "encode", crf: search.best.crf, search, figures: quality };
}

/**
 * Before a one-pass encode at the CRF found: it must end before the deadline (with the check of
 * its output), else the job goes back to the queue with its search remembered. A segmented
 * encode checks each segment instead.
 */
export function checkEncodeFits(run: TranscodeRun, media: MediaInfo, crf: number): void {
  const { ctx } = run;
  // At this worker's core cap, as the claim was judged: a one-core worker of `--workers 2` is
  // far slower than the machine.
  const codec = run.payload.policy.targetVideoCodec;
  const encode = run.speed.estimateSec(codec, media.duration, run.env.cpuCores);
  const need = encode === null ? null : encode * (1 + CHECK_SHARE);
  if (ctx.deadline && need !== null && Date.now() + need * 1000 > +ctx.deadline) {
    ctx.outOfTime(
      `deadline: the encode at crf ${crf} and its check (about ${formatDuration(need)}) cannot ` +
        "finish before it; the search is remembered",
    );
  }
}

/** What the check of an encode decided. */
export type EncodeCheck =
  | { verdict: "ok"; figures: QualityFigures }
  | { verdict: "retry"; crf: number; figures: QualityFigures }
  | { verdict: "keep"; why: string; figures: QualityFigures };

/**
 * Measures the encode at `crf` over the whole output against the source and decides: it must
 * reach the minimum (give or take the tolerance) and be at most `max_encoded_percent` of the
 * source. Below the minimum: one retry at a CRF lowered by the shortfall, then the original.
 * The folder's memory learns how far the measurement fell from the prediction, so its next
 * search aims that much higher.
 */
export async function checkStep(
  run: TranscodeRun,
  media: MediaInfo,
  plan: EncodePlan,
  output: { path: string; size: number },
  start: Extract<QualityStart, { kind: "encode" }>,
  crf: number,
): Promise<EncodeCheck> {
  const target = run.payload.policy.targetQuality!;
  const { score: achieved } = await measureAchieved({
    output: output.path,
    source: run.source,
    plan,
    target,
    durationSec: media.duration,
    temps: tempsOf(run),
    run: runOf(run),
    onProgress: (u) =>
      run.ctx.progress({
        percent: null,
        fps: u.fps,
        speed: u.speed,
        eta_sec: u.etaSec,
        out_time_sec: u.outTimeSec,
      }, false),
  });
  const probe = start.search.probes.find((p) => p.crf === crf);
  const retried = crf !== start.crf;
  const figures: QualityFigures = {
    ...start.figures,
    crf,
    predicted_score: probe?.score ?? null,
    predicted_size: probe?.bytes ?? null,
    achieved_score: achieved,
    retried_from: retried ? start.crf : null,
  };
  if (probe) rememberBias(run, plan, target, probe.score - achieved);
  status(run, `checked: ${target.metric} ${achieved} over the whole output at crf ${crf}`, true);
  const percent = (100 * output.size) / media.size;
  if (reaches(target, achieved)) {
    if (percent <= target.maxEncodedPercent) return { verdict: "ok", figures };
    return {
      verdict: "keep",
      figures,
      why: `output ${formatBytes(output.size)} is ${percent.toFixed(1)} % of the source ` +
        `(max_encoded_percent ${target.maxEncodedPercent})`,
    };
  }
  const below = `${target.metric} ${achieved} of the output at crf ${crf} is below the minimum ` +
    `${target.min} (tolerance ${target.tolerance})`;
  const slope = slopeOf(start.search.probes, LINEAR[target.metric]);
  const next = retried ? null : retryCrf(crf, achieved, target, slope);
  if (next === null) {
    const after = retried
      ? ` after a retry from crf ${start.crf}`
      : " and no lower CRF is in range";
    return { verdict: "keep", figures, why: `${below}${after}` };
  }
  return { verdict: "retry", crf: next, figures };
}

/**
 * Wall seconds of a quality job's first piece of work when its search may still be ahead: one
 * CRF's samples (each CRF's scores are kept, so a stop after it loses nothing).
 */
export function firstPieceMediaSec(durationSec: number, target: TargetQuality): number {
  const samples = planSamples(durationSec, target);
  return samples.spans.reduce((n, s) => n + s.seconds, 0) * SEARCH_OVERHEAD;
}

/** The figures of a search, before anything is encoded. */
function figuresOf(target: TargetQuality, search: SearchResult): QualityFigures {
  const best = search.found ? search.best : null;
  return {
    metric: target.metric,
    rule: target.rule,
    min: target.min,
    crf: best?.crf ?? null,
    predicted_score: best?.score ?? null,
    predicted_size: best?.bytes ?? null,
    achieved_score: null,
    retried_from: null,
    probes: search.probes.length,
    sample_encodes: search.encodes,
    search_sec: Math.round(search.wallSec * 10) / 10,
  };
}

/** Records in the folder's memory how far its last encode's score fell from its prediction. */
function rememberBias(run: TranscodeRun, plan: EncodePlan, target: TargetQuality, bias: number) {
  const memory = new QualityMemory(run.env.home.library, run.ctx.warn);
  try {
    const folder = dirname(run.source);
    const seed = memory.seed(folder, settingsKey(plan, target.metric));
    if (seed) memory.recordSeed({ ...seed, bias: Math.round(bias * 1e6) / 1e6 });
  } finally {
    memory.close();
  }
}

/**
 * The line `vpo jobs show` prints about a job's quality target: the status of its search or
 * check while it runs; once finished, what was measured against what was predicted, at which
 * CRF, and what the search cost. Null for a job without one.
 */
export function qualityLine(job: Job, live: LiveInfo | null): string | null {
  const running = live?.quality?.status;
  if (typeof running === "string") return running;
  const result = readResult(job.result);
  const q = result && typeof result !== "string" && result.outcome !== "skipped"
    ? result.quality
    : undefined;
  if (!q) return null;
  const rule = q.rule === "mean" ? "" : ` (${q.rule})`;
  const search = `${q.probes} CRFs tried, ${q.sample_encodes} sample encodes, search ` +
    formatDuration(q.search_sec);
  if (q.crf === null) return `no CRF reaches ${q.metric} ${q.min}${rule}; ${search}`;
  const predicted = q.predicted_score === null ? "" : `, predicted ${q.predicted_score}`;
  const retried = q.retried_from === null ? "" : ` (retried from crf ${q.retried_from})`;
  const measured = q.achieved_score === null
    ? `not measured`
    : `${q.metric} ${q.achieved_score} over the whole output`;
  return `${measured}${predicted}, min ${q.min}${rule}, at crf ${q.crf}${retried}; ${search}`;
}
