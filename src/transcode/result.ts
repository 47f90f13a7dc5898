/**
 * What a finished transcode job's `result` holds: one shape per outcome.
 *
 * @module
 */
import type { Job, JsonObject } from "../queue/job.ts";
import type { FileOutcome, JobFigures, MadeFiles } from "../queue/job_type.ts";
import { isBackupPathOf } from "../replace/journal_trust.ts";
import { amount, jsonList, jsonObject, readJson, text } from "../config/json_fields.ts";
import { integer, nullable, number, type Reader } from "../config/yaml_schema.ts";
import type { TranscodePayload } from "./payload.ts";
import type { QualityMetric, QualityRule } from "../policy/types.ts";

const count = integer({ min: 0 });

/** Sizes and timing of an encode that ran to its end. */
export type EncodeFigures = {
  /** Bytes of the source. */
  source_size: number;
  /** Bytes of the verified output. */
  output_size: number;
  /** The ffmpeg encoder used (e.g. "libx265"). */
  encoder: string;
  /** Wall seconds of the encode. */
  wall_sec: number;
};

/** The source needed no transcode when the job ran (compliant, or matched by skip_if). */
export type SkippedResult = {
  outcome: "skipped";
  outcome_detail: string;
  /** Why, as the plan said it. */
  reason: string;
};

/**
 * What a job whose policy has a quality target (docs/quality.md) keeps of it: the CRF and the
 * score predicted on samples, the score measured over the whole output, the search's cost.
 */
export type QualityFigures = {
  metric: QualityMetric;
  rule: QualityRule;
  min: number;
  /** The CRF of the output (the retry's, after a retry); null when no CRF was found. */
  crf: number | null;
  /** What the samples predicted at that CRF: score, and the output's bytes. */
  predicted_score: number | null;
  predicted_size: number | null;
  /** The score measured over the whole output; null when nothing was encoded. */
  achieved_score: number | null;
  /** The CRF first encoded, when its output measured below the minimum and was retried. */
  retried_from: number | null;
  /** CRFs the search tried, the sample encodes it ran (0: all remembered), its wall seconds. */
  probes: number;
  sample_encodes: number;
  search_sec: number;
};

/**
 * The original was kept: the output was not smaller, or missed the quality target (then
 * `output_size` is absent when nothing was encoded: no CRF could reach it).
 */
export type KeptOriginalResult = Omit<EncodeFigures, "output_size"> & {
  outcome: "kept_original";
  outcome_detail: string;
  /** Bytes of the output that was dropped; absent when none was made. */
  output_size?: number;
  /** The plan's notes (dropped or converted streams). */
  notes: string[];
  quality?: QualityFigures;
};

/** Where the new file and the kept original are after a replace. */
export type ReplacedFiles = {
  /** Where the new file is. */
  output_path: string;
  /** Where the original was kept (`<source>.original[.N]`); null when backups are off. */
  backup_path: string | null;
  /** Bytes of the backup when it was made: `jobs cleanup` removes it only while it still has them. */
  backup_size: number | null;
  /** Inode of the backup (the original's): `jobs cleanup` removes it only while it still is. */
  backup_ino: number | null;
};

/** The output replaced the original, by the worker or, after it died, by recovery. */
export type ReplacedResult = ReplacedFiles & Partial<EncodeFigures> & {
  outcome: "replaced";
  outcome_detail: string;
  /** Bytes saved (source minus output); absent when recovery finished the replace. */
  saved_bytes?: number;
  /** The plan's notes; absent when recovery finished the replace. */
  notes?: string[];
  /** With a quality target; absent when recovery finished the replace. */
  quality?: QualityFigures;
};

/** The result of a transcode job. */
export type TranscodeResult = SkippedResult | KeptOriginalResult | ReplacedResult;

const FIGURES = { source_size: count, output_size: count, encoder: text, wall_sec: amount };
const score = nullable(number(-Infinity));
const QUALITY: Reader<Record<string, unknown>> = (f) =>
  jsonObject(f, {
    metric: text,
    rule: text,
    min: number(-Infinity),
    crf: nullable(count),
    predicted_score: score,
    predicted_size: nullable(count),
    achieved_score: score,
    retried_from: nullable(count),
    probes: count,
    sample_encodes: count,
    search_sec: amount,
  });

/** One reader per outcome: everything a reader of that outcome may rely on. */
const SHAPES: Record<TranscodeResult["outcome"], Reader<Record<string, unknown>>> = {
  skipped: (f) => jsonObject(f, { outcome_detail: text, reason: text }),
  kept_original: (f) => {
    const { output_size, ...figures } = FIGURES;
    return jsonObject(f, { outcome_detail: text, ...figures, notes: jsonList(text) }, {
      // Absent when the quality target kept the original before anything was encoded.
      output_size,
      quality: QUALITY,
    });
  },
  replaced: (f) =>
    jsonObject(f, {
      outcome_detail: text,
      output_path: text,
      backup_path: nullable(text),
      backup_size: nullable(count),
      backup_ino: nullable(count),
    }, {
      // Absent when recovery finished the replace.
      ...FIGURES,
      // Negative when the policy keeps a larger output.
      saved_bytes: number(-Infinity),
      notes: jsonList(text),
      quality: QUALITY,
    }),
};

/**
 * A job's `result` as a transcode result, checked whole for its outcome, or the first problem
 * as one line (`result.backup_ino: expected an integer >= 0, got "x"`); null when there is none
 * (a job not finished yet).
 */
export function readResult(result: JsonObject | null): TranscodeResult | string | null {
  if (result === null) return null;
  const outcome = result.outcome;
  if (typeof outcome !== "string" || !Object.hasOwn(SHAPES, outcome)) {
    return `result.outcome: expected one of ${Object.keys(SHAPES).join(", ")}, got ${
      JSON.stringify(outcome) ?? "nothing"
    }`;
  }
  const read = readJson(SHAPES[outcome as TranscodeResult["outcome"]], result, "result");
  return typeof read === "string" ? read : read as TranscodeResult;
}

const num = (v: unknown): number => (typeof v === "number" && Number.isFinite(v) ? v : 0);
const OUTCOMES: readonly FileOutcome[] = ["replaced", "kept_original", "skipped"];

/**
 * What a finished transcode job adds to `vpo stats`: its target codec, and for a completed job
 * its outcome, sizes and encode time. Only the fields counted are read, each on its own, so a
 * job whose payload or result misses other fields still counts.
 */
export function transcodeFigures(job: Job): JobFigures {
  const policy = (job.payload as Partial<TranscodePayload>).policy;
  const outcome = job.result?.outcome;
  const replaced = outcome === "replaced";
  const quality = qualityOf(job.result?.quality);
  return {
    group: typeof policy?.targetVideoCodec === "string" ? policy.targetVideoCodec : "other",
    outcome: OUTCOMES.find((o) => o === outcome) ?? null,
    source_bytes: replaced ? num(job.result?.source_size) : 0,
    output_bytes: replaced ? num(job.result?.output_size) : 0,
    // A quality target's search is time the machine spent too.
    wall_sec: outcome === "replaced" || outcome === "kept_original"
      ? num(job.result?.wall_sec) + num(quality.searchSec)
      : 0,
    ...(quality.figures ? { quality: quality.figures } : {}),
  };
}

/**
 * A result's quality figures as `vpo stats` counts them (its search time, and the score measured
 * when there is one), read on its own: a hand-edited one that is not well formed counts nothing.
 */
function qualityOf(raw: unknown): { figures?: JobFigures["quality"]; searchSec: number } {
  const q = readJson(QUALITY, raw, "quality");
  if (raw === undefined || typeof q === "string") return { searchSec: 0 };
  const searchSec = num(q.search_sec);
  if (typeof q.achieved_score !== "number") return { searchSec };
  const predicted = q.predicted_score;
  const figures = {
    metric: String(q.metric),
    achieved: q.achieved_score,
    predicted: typeof predicted === "number" ? predicted : null,
    min: Number(q.min),
  };
  return { figures, searchSec };
}

/**
 * The backup a job's result names, when it is one vpo made for that job: `<file>.original[.N]`
 * of the job's file, a regular file (not a link) with the inode and size vpo recorded. A backup
 * named but not acted on (moved or replaced since, a hand edit, or a network file system whose
 * inode numbers change per mount) is listed in `left` with the reason.
 */
export function ownedBackups(job: Job): MadeFiles {
  const none: MadeFiles = { made: [], left: [] };
  const raw = job.result?.backup_path;
  if (raw === undefined || raw === null) return none;
  const path = String(raw);
  const left = (reason: string): MadeFiles => ({ made: [], left: [{ path, reason }] });
  const result = readResult(job.result);
  if (typeof result === "string") return left(`not acted on: ${result}`);
  if (result?.outcome !== "replaced" || result.backup_path === null) return none;
  const backup = result.backup_path;
  if (!job.file || !isBackupPathOf(job.file, backup)) {
    return left(`not <file>.original[.N] of the job's file ${job.file}`);
  }
  const { backup_ino: ino, backup_size: size } = result;
  if (ino === null || size === null) return left("no inode or size recorded for it");
  let info: Deno.FileInfo;
  try {
    info = Deno.lstatSync(backup);
  } catch {
    return none;
  }
  if (!info.isFile) return left("not a regular file");
  if (info.ino !== ino || info.size !== size) {
    return left("not the file vpo recorded (inode or size differ)");
  }
  return { made: [{ path: backup, ino, size }], left: [] };
}
