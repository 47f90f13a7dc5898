/**
 * `vpo forecast`: what a policy would do to a whole library, measured on a few of its files.
 *
 * Every video is probed (through the probe cache) and planned as `vpo transcode` would; a spread
 * of the files to convert (folders taken in turn, the largest first; in each, files evenly spaced
 * in name order) has its CRF searched exactly as the worker will search it, and what those files
 * would save and cost is projected onto every file to convert: per folder from its own searched
 * files (the library's when it has none), with a range. Nothing is queued; the searches' sample
 * scores and each folder's CRF are remembered, so the real run encodes those samples no more.
 *
 * @module
 */
import { dirname } from "node:path";
import { detectEncoder } from "../media/encoders.ts";
import { type EncodePlan, planTranscode } from "../media/plan.ts";
import { type MediaInfo, probeMany } from "../media/probe.ts";
import type { TranscodePolicy } from "../policy/types.ts";
import type { Library } from "../library/library.ts";
import { stampOf } from "../library/decisions.ts";
import { searchCrf, type SearchResult } from "../quality/crf_search.ts";
import type { QualityMemory } from "../quality/memory.ts";
import type { SampleRun } from "../quality/samples.ts";
import type { QualityTemps } from "../quality/temps.ts";
import { findFiles } from "../library/find_files.ts";
import { VpoError } from "../errors.ts";

/** What {@link forecast} needs. */
export interface ForecastOptions {
  paths: readonly string[];
  recursive: boolean;
  /** A policy with a quality target. */
  policy: TranscodePolicy & { targetQuality: NonNullable<TranscodePolicy["targetQuality"]> };
  /** How many files to search at most. */
  files: number;
  library: Library;
  memory: QualityMemory;
  temps: QualityTemps;
  run: SampleRun;
  /** Progress lines for people (`searching 3/12 ...`). */
  onStatus?: (line: string) => void;
}

/** A file searched. */
export interface SearchedFile {
  path: string;
  size: number;
  durationSec: number;
  /** The CRF found, or null when none reaches the quality within the size limit. */
  crf: number | null;
  score: number | null;
  /** Predicted bytes saved (0 when the original would be kept). */
  savedBytes: number;
  /** Predicted wall seconds of the search and the encode on this host. */
  costSec: number;
  /** CRFs tried, and sample encodes run (0: all remembered). */
  probes: number;
  encodes: number;
  /** Why the original would be kept, when it would. */
  reason: string | null;
}

/** A figure with its range. */
export interface Projected {
  value: number;
  low: number;
  high: number;
}

/** One folder's projection. */
export interface FolderForecast {
  folder: string;
  /** Files to convert, their bytes and seconds of media. */
  files: number;
  bytes: number;
  mediaSec: number;
  /** Files of the folder searched. */
  searched: number;
  savedBytes: Projected;
  encodeHours: Projected;
  /** Bytes saved per hour of encoding: what the ranking is by. */
  bytesPerHour: number;
  /** The CRFs found in it, lowest to highest (empty when none was searched or found). */
  crfs: number[];
}

/** The whole forecast. */
export interface ForecastReport {
  /** Videos found, and what their plan says. */
  videos: number;
  toConvert: number;
  /** Compliant, matched by skip_if, no video stream, Dolby Vision. */
  skipped: number;
  unreadable: number;
  searched: SearchedFile[];
  /** Sum of the searches' wall seconds (this run's cost). */
  searchSec: number;
  total: { bytes: number; mediaSec: number; savedBytes: Projected; encodeHours: Projected };
  /** Folders by bytes saved per encode hour, the best first. */
  folders: FolderForecast[];
}

/** A file to convert, as planned. */
interface Candidate {
  media: MediaInfo;
  plan: EncodePlan;
}

/**
 * Runs the forecast.
 *
 * @throws VpoError naming the first path that cannot be read (a typo would otherwise forecast
 *   an empty library, and succeed).
 */
export async function forecast(opts: ForecastOptions): Promise<ForecastReport> {
  const { candidates, videos, skipped, unreadable } = await planAll(opts);
  const chosen = choose(candidates, opts.files);
  const searched: SearchedFile[] = [];
  let searchSec = 0;
  for (const [n, c] of chosen.entries()) {
    opts.onStatus?.(`searching ${n + 1}/${chosen.length}: ${c.media.path}`);
    const result = await searchCrf({
      source: c.media.path,
      media: c.media,
      plan: c.plan,
      target: opts.policy.targetQuality,
      memory: opts.memory,
      temps: opts.temps,
      run: opts.run,
      onStatus: (line) => opts.onStatus?.(`  ${line}`),
    });
    searchSec += result.wallSec;
    searched.push(fileOf(c.media, result));
  }
  const folders = project(candidates, searched);
  const sum = (f: (x: FolderForecast) => number) => folders.reduce((n, x) => n + f(x), 0);
  const total = {
    bytes: sum((f) => f.bytes),
    mediaSec: sum((f) => f.mediaSec),
    savedBytes: projectedSum(folders.map((f) => f.savedBytes)),
    encodeHours: projectedSum(folders.map((f) => f.encodeHours)),
  };
  return {
    videos,
    toConvert: candidates.length,
    skipped,
    unreadable,
    searched,
    searchSec,
    total,
    folders,
  };
}

/** Probes (from the cache where it can) and plans every video found. */
async function planAll(opts: ForecastOptions) {
  const { library, policy } = opts;
  const candidates: Candidate[] = [];
  const toProbe = new Map<string, ReturnType<typeof stampOf>>();
  const known: MediaInfo[] = [];
  let videos = 0;
  for (const found of findFiles(opts.paths, opts.recursive)) {
    if (found.kind === "error") throw new VpoError(`${found.path}: ${found.message}`);
    if (found.kind !== "video") continue;
    videos++;
    let stamp;
    try {
      stamp = stampOf(found.path, Deno.statSync(found.path));
    } catch {
      continue;
    }
    const cached = library.probes.lookup(stamp);
    if (cached) known.push(cached);
    else toProbe.set(found.path, stamp);
  }
  let unreadable = 0;
  for await (const probed of probeMany(toProbe.keys(), 4)) {
    if (probed.error) {
      unreadable++;
      continue;
    }
    library.probes.record(toProbe.get(probed.path)!, probed.info);
    known.push(probed.info);
  }
  let skipped = 0;
  for (const media of known) {
    const tenBit = media.streams.some((s) =>
      s.type === "video" && !s.isCoverArt && (s.bitDepth ?? 8) > 8
    );
    const choice = await detectEncoder(policy.targetVideoCodec, policy.hwAccel, { tenBit });
    const plan = planTranscode(policy, media, { encoder: choice.encoder });
    if (plan.action === "skip") skipped++;
    else candidates.push({ media, plan });
  }
  candidates.sort((a, b) => a.media.path < b.media.path ? -1 : 1);
  return { candidates, videos, skipped, unreadable };
}

/**
 * Up to `count` files spread over the library: folders in turn, the largest (in bytes to
 * convert) first, and in each the files at evenly spaced places in name order (the first, the
 * last, the middle...), so a season is sampled across its episodes.
 */
function choose(candidates: readonly Candidate[], count: number): Candidate[] {
  const byFolder = new Map<string, Candidate[]>();
  for (const c of candidates) {
    const folder = dirname(c.media.path);
    byFolder.set(folder, [...byFolder.get(folder) ?? [], c]);
  }
  const bytes = (list: Candidate[]) => list.reduce((n, c) => n + c.media.size, 0);
  const folders = [...byFolder.values()].sort((a, b) => bytes(b) - bytes(a));
  const picked = folders.map(() => 0);
  for (let taken = 0; taken < count;) {
    const before = taken;
    for (const [i, list] of folders.entries()) {
      if (taken < count && picked[i] < list.length) {
        picked[i]++;
        taken++;
      }
    }
    if (taken === before) break;
  }
  const out: Candidate[] = [];
  for (const [i, list] of folders.entries()) {
    const n = picked[i];
    const places = new Set(
      Array.from(
        { length: n },
        (_, k) => n === 1 ? 0 : Math.round(k * (list.length - 1) / (n - 1)),
      ),
    );
    out.push(...[...places].map((k) => list[k]));
  }
  return out;
}

function fileOf(media: MediaInfo, result: SearchResult): SearchedFile {
  const base = {
    path: media.path,
    size: media.size,
    durationSec: media.duration,
    probes: result.probes.length,
    encodes: result.encodes,
  };
  // A search's time counts whether or not it finds a CRF: the real run pays it for every file
  // not searched here. One that encoded its samples now took what it took; one the memory
  // answered costs what encoding its samples took (scoring and cutting left out).
  const searchSec = result.encodes > 0
    ? result.wallSec
    : result.probes.reduce((n, p) => n + p.encodeSec * result.sampleSec / media.duration, 0);
  if (!result.found) {
    return {
      ...base,
      crf: null,
      score: null,
      savedBytes: 0,
      costSec: searchSec,
      reason: result.reason,
    };
  }
  return {
    ...base,
    crf: result.best.crf,
    score: result.best.score,
    savedBytes: Math.max(0, media.size - result.best.bytes),
    costSec: searchSec + result.best.encodeSec,
    reason: null,
  };
}

/** Per folder: its files' bytes saved and hours, from its searched files or the library's. */
function project(
  candidates: readonly Candidate[],
  searched: readonly SearchedFile[],
): FolderForecast[] {
  const savedShare = (f: SearchedFile) => f.savedBytes / f.size;
  const costRate = (f: SearchedFile) => f.costSec / Math.max(1, f.durationSec);
  const all = { saved: stats(searched.map(savedShare)), cost: stats(searched.map(costRate)) };
  const byFolder = new Map<string, Candidate[]>();
  for (const c of candidates) {
    const folder = dirname(c.media.path);
    byFolder.set(folder, [...byFolder.get(folder) ?? [], c]);
  }
  const folders: FolderForecast[] = [];
  for (const [folder, list] of byFolder) {
    const own = searched.filter((f) => dirname(f.path) === folder);
    const bytes = list.reduce((n, c) => n + c.media.size, 0);
    const mediaSec = list.reduce((n, c) => n + c.media.duration, 0);
    const saved = estimate(own.map(savedShare), all.saved, bytes);
    const hours = estimate(own.map(costRate), all.cost, mediaSec / 3600);
    folders.push({
      folder,
      files: list.length,
      bytes,
      mediaSec,
      searched: own.length,
      savedBytes: saved,
      encodeHours: hours,
      bytesPerHour: hours.value > 0 ? saved.value / hours.value : 0,
      crfs: own.flatMap((f) => f.crf === null ? [] : [f.crf]).sort((a, b) => a - b),
    });
  }
  return folders.sort((a, b) => b.bytesPerHour - a.bytesPerHour);
}

/** Mean and standard deviation of some rates. */
function stats(xs: readonly number[]): { mean: number; sd: number } {
  const mean = xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0;
  const sd = xs.length > 1
    ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1))
    : mean / 2;
  return { mean, sd };
}

/**
 * `scale` times a folder's rate: its own files' mean when it has searched files, else the
 * library's; the range is two standard errors of that mean (two standard deviations when the
 * folder had none searched: it may differ from the rest as much as any file does).
 */
function estimate(
  own: readonly number[],
  all: { mean: number; sd: number },
  scale: number,
): Projected {
  const mean = own.length ? own.reduce((a, b) => a + b, 0) / own.length : all.mean;
  const half = 2 * all.sd / Math.sqrt(Math.max(1, own.length));
  return {
    value: mean * scale,
    low: Math.max(0, mean - half) * scale,
    high: (mean + half) * scale,
  };
}

function projectedSum(parts: readonly Projected[]): Projected {
  return parts.reduce(
    (s, p) => ({ value: s.value + p.value, low: s.low + p.low, high: s.high + p.high }),
    { value: 0, low: 0, high: 0 },
  );
}
