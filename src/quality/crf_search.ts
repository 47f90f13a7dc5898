/**
 * The CRF search of one file: its samples encoded at the CRFs {@link nextStep} picks, each
 * scored against its lossless cut, until the highest CRF reaching the policy's minimum within
 * the size limit is found, or none can be. Every sample's score is remembered the moment it is
 * measured ({@link QualityMemory}), so a search stopped by a deadline, a signal or a crash
 * resumes where it stopped, and a retried job, a new minimum or the real run after a forecast
 * encodes no sample twice. The folder's last search seeds the next one.
 *
 * @module
 */
import { dirname } from "node:path";
import { JobFailure } from "../errors.ts";
import type { EncodePlan } from "../media/plan.ts";
import type { MediaInfo } from "../media/probe.ts";
import type { TargetQuality } from "../policy/types.ts";
import { fileIdentity } from "../util/file_identity.ts";
import { compareVideos } from "./compare.ts";
import type { QualityMemory, SampleScore } from "./memory.ts";
import {
  type CutSample,
  cutSample,
  encodedVideo,
  encodeSample,
  planSamples,
  sampleKey,
  type SamplePlan,
  type SampleRun,
  settingsKey,
} from "./samples.ts";
import { scoreOf } from "./scores.ts";
import { LINEAR, nextStep, type Probe, slopeOf } from "./search.ts";
import type { QualityTemps } from "./temps.ts";

/** A CRF tried, with what its samples predict for the whole file. */
export interface SearchProbe extends Probe {
  /** Predicted bytes of the whole output. */
  bytes: number;
  /** Predicted wall seconds of the whole encode on this host. */
  encodeSec: number;
  /** True when every sample's score came from the memory (nothing was encoded). */
  remembered: boolean;
}

/** How a search ended. */
export type SearchResult =
  & {
    /** Every CRF tried, in order. */
    probes: SearchProbe[];
    /** Sample encodes run (0 when the memory knew every score). */
    encodes: number;
    /** Samples per CRF (1 when the whole file was the sample), and their seconds of media. */
    samples: number;
    sampleSec: number;
    /** Wall seconds the search took. */
    wallSec: number;
  }
  & ({ found: true; best: SearchProbe } | { found: false; reason: string });

/** What a search needs. */
export interface SearchOptions {
  source: string;
  media: MediaInfo;
  /** The file's plan at the policy's settings; its CRF is what is searched. */
  plan: EncodePlan;
  target: TargetQuality;
  memory: QualityMemory;
  temps: QualityTemps;
  run: SampleRun;
  /**
   * Called before a CRF whose samples must be encoded, with the seconds of media to encode;
   * throws to stop (a deadline the work cannot meet).
   */
  beforeEncodes?: (mediaSec: number) => void;
  /** A line for people after each CRF: `searching crf 27: ssim 0.9843, 3 of ~6`. */
  onStatus?: (line: string) => void;
}

/** CRFs a search is expected to try: fewer when it starts from the folder's last CRF. */
const EXPECTED = { seeded: 3, fresh: 5 };
/** Largest margin a folder's past shortfall adds to the minimum, in tolerances. */
const MAX_BIAS_TOLERANCES = 5;

/**
 * Searches the CRF of `opts.source`. Leaves no temp behind, whatever happens.
 *
 * @throws JobFailure when the source cannot be read; FfmpegError when a sample cannot be cut,
 *   encoded or scored; the signal's reason, or what `beforeEncodes` throws, when stopped.
 */
export async function searchCrf(opts: SearchOptions): Promise<SearchResult> {
  const started = performance.now();
  const { target, memory, plan, media } = opts;
  const identity = await fileIdentity(opts.source);
  if (identity === null) throw new JobFailure(`${opts.source} is not a regular file`);
  const samples = planSamples(media.duration, target);
  const settings = settingsKey(plan, target.metric);
  const folder = dirname(opts.source);
  const seed = memory.seed(folder, settings) ?? null;
  // A folder whose encodes measured below their prediction aims that much higher.
  const margin = Math.min(Math.max(0, seed?.bias ?? 0), MAX_BIAS_TOLERANCES * target.tolerance);
  const goal = {
    min: round6(target.min + margin),
    tolerance: target.tolerance,
    maxPercent: target.maxEncodedPercent,
    crfMin: target.crfMin,
    crfMax: target.crfMax,
    linear: LINEAR[target.metric],
  };
  // The folder's last CRF, else the policy's target_crf (a start, not an answer).
  const start = seed
    ? { crf: seed.crf, slope: seed.slope, found: true }
    : plan.video.crf !== null
    ? { crf: plan.video.crf, slope: null, found: false }
    : null;
  const cuts = new Map<number, CutSample>();
  const probes: SearchProbe[] = [];
  let encodes = 0;
  // CRFs whose score used a remembered sample, and whether they were measured again (below).
  const fromMemory = new Set<number>();
  let remeasured = false;
  try {
    await opts.temps.sweepEarlierClaims();
    for (;;) {
      const step = nextStep(probes, goal, start);
      // "No CRF" keeps the original without an encode and is remembered as the file's decision:
      // when it rests on remembered scores, which a false line (edited, damaged, another build's)
      // may hold, those are measured once more first. A found CRF needs no such care: the
      // output's own check is the safety net there.
      if (step.kind === "none" && !remeasured && fromMemory.size > 0) {
        remeasured = true;
        for (const [i, p] of probes.entries()) {
          if (!fromMemory.has(p.crf)) continue;
          const scores = await scoreAt(p.crf, true);
          probes[i] = aggregate(p.crf, scores, samples, media, target, false);
        }
        continue;
      }
      if (step.kind !== "probe") {
        const sampleSec = samples.spans.reduce((n, span) => n + span.seconds, 0);
        const end = { probes, encodes, samples: samples.spans.length, sampleSec };
        const wallSec = (performance.now() - started) / 1000;
        if (step.kind === "none") return { ...end, wallSec, found: false, reason: step.reason };
        const best = probes.find((p) => p.crf === step.probe.crf)!;
        memory.recordSeed({
          folder,
          settings,
          crf: best.crf,
          min: target.min,
          rule: target.rule,
          slope: slopeOf(probes, goal.linear) ?? seed?.slope ?? null,
          bias: seed?.bias ?? null,
        });
        return { ...end, wallSec, found: true, best };
      }
      const before = encodes;
      const scores = await scoreAt(step.crf);
      const probe = aggregate(step.crf, scores, samples, media, target, encodes === before);
      probes.push(probe);
      const expected = Math.max(EXPECTED[seed ? "seeded" : "fresh"], probes.length + 1);
      opts.onStatus?.(
        `searching crf ${step.crf}: ${target.metric} ${probe.score.toFixed(4)}, ` +
          `${probes.length} of ~${expected}${probe.remembered ? " (remembered)" : ""}`,
      );
    }
  } finally {
    await opts.temps.removeAll();
  }

  /** Every sample's score at `crf`: remembered (unless `fresh`), or encoded and measured now. */
  async function scoreAt(crf: number, fresh = false): Promise<SampleScore[]> {
    const keys = samples.spans.map((span) => sampleKey(samples, span));
    const known = keys.map((key) =>
      fresh ? undefined : memory.sample(identity!, key, settings, crf)
    );
    if (known.some((k) => k !== undefined)) fromMemory.add(crf);
    const missing = samples.spans.filter((_, i) => !known[i]);
    if (missing.length > 0) opts.beforeEncodes?.(missing.reduce((s, span) => s + span.seconds, 0));
    const out: SampleScore[] = [];
    for (const [i, span] of samples.spans.entries()) {
      if (known[i]) {
        out.push(known[i]!);
        continue;
      }
      const name = `sample-${String(i + 1).padStart(2, "0")}`;
      let cut = cuts.get(i);
      if (!cut) {
        cut = await cutSample(opts.source, plan, samples, span, name, opts.temps, opts.run);
        cuts.set(i, cut);
      }
      const encoded = await encodeSample(plan, crf, cut, name, opts.temps, opts.run);
      encodes++;
      try {
        const video = encodedVideo(plan);
        const summary = await compareVideos({
          metric: target.metric,
          distorted: encoded.file.pathForChild,
          reference: cut.file.pathForChild,
          referenceStream: "v:0",
          width: video.width,
          height: video.height,
          scale: video.scale,
          pixFmt: video.pixFmt,
          durationSec: cut.mediaSec,
          temps: opts.temps,
          ...opts.run,
        });
        const score = {
          source: identity!,
          sample: keys[i],
          settings,
          crf,
          ref_bytes: cut.bytes,
          out_bytes: encoded.file.stat().size,
          media_sec: round3(cut.mediaSec),
          encode_sec: round3(encoded.wallSec),
          ...summary,
        };
        memory.recordSample(score);
        out.push({ kind: "sample", ...score, at: Date.now() });
      } finally {
        await opts.temps.remove(encoded.file);
      }
    }
    return out;
  }
}

/**
 * What the samples of one CRF predict for the whole file: the score under the rule, the output's
 * size (the source's other streams as they are, its video shrunk as the samples' video shrank,
 * its video's bytes estimated from the samples' rate) and the encode's wall time.
 */
function aggregate(
  crf: number,
  scores: readonly SampleScore[],
  samples: SamplePlan,
  media: MediaInfo,
  target: TargetQuality,
  remembered: boolean,
): SearchProbe {
  const sum = (f: (s: SampleScore) => number) => scores.reduce((n, s) => n + f(s), 0);
  const [refBytes, outBytes, refSec] = [
    sum((s) => s.ref_bytes),
    sum((s) => s.out_bytes),
    sum((s) => s.media_sec),
  ];
  const videoBytes = samples.whole
    ? Math.min(media.size, refBytes)
    : Math.min(media.size, (refBytes / refSec) * media.duration);
  const bytes = Math.round(media.size - videoBytes + videoBytes * (outBytes / refBytes));
  return {
    crf,
    score: scoreOf(scores, target.rule),
    percent: round3((100 * bytes) / media.size),
    bytes,
    encodeSec: round3((sum((s) => s.encode_sec) / refSec) * media.duration),
    remembered,
  };
}

const round3 = (n: number) => Math.round(n * 1000) / 1000;
const round6 = (n: number) => Math.round(n * 1e6) / 1e6;
