/**
 * `vpo stats`: how much space the queue saved and how much time it spent, per day, per target
 * codec and per folder, computed from the finished job files alone (no second source of truth
 * that could drift from them).
 *
 * A job file's figures never change once it is finished, so {@link StatsCollector} remembers
 * what each file contributed, keyed by (mtime, size), and skips a directory whose mtime did not
 * move: a long-running `vpo serve` re-reads only the files that are new or were rewritten.
 *
 * @module
 */
import { dirname, join } from "node:path";
import { FINISHED_STATES, type Job, type JobState } from "../queue/job.ts";
import type { QueueLayout } from "../queue/layout.ts";
import { dirMtime, isProblem, listJobNames, readJobFile, wasStill } from "../queue/scan.ts";
import type { JobFigures, JobTypes } from "../queue/job_type.ts";
import { localDay } from "../util/format.ts";

/** Totals of one group of finished jobs (a day, a codec, a folder, or all of them). */
export interface StatsBucket {
  /** The group: "YYYY-MM-DD" (local day of finishing), a codec, a folder, or "all". */
  key: string;
  /** Finished jobs in the group. */
  jobs: number;
  /** Completed jobs whose output replaced the original. */
  replaced: number;
  /** Completed jobs whose output was not smaller, so the original was kept. */
  kept_original: number;
  /** Completed jobs that found nothing to do (compliant by the time they ran). */
  skipped: number;
  /** Failed jobs. */
  failed: number;
  /** Cancelled jobs. */
  cancelled: number;
  /** Size of the originals that were replaced. */
  source_bytes: number;
  /** Size of the outputs that replaced them. */
  output_bytes: number;
  /** source_bytes - output_bytes: what the queue saved. */
  saved_bytes: number;
  /** Seconds spent: encode wall time of completed jobs, claim to finish of the others. */
  time_sec: number;
}

/** The quality measured over the outputs of finished jobs, per metric (quality targets). */
export interface QualityBucket {
  /** The metric ("ssim", "psnr", "vmaf"). */
  metric: string;
  /** Outputs measured. */
  files: number;
  /** Mean and lowest score measured. */
  mean: number;
  lowest: number;
  /** Outputs that measured below their minimum (within the tolerance, or kept as originals). */
  below_min: number;
  /** Mean of |predicted - measured|, over the outputs that had a prediction. */
  prediction_error: number | null;
}

/** What {@link StatsCollector.collect} returns; the shape of `vpo stats --json`. */
export interface StatsReport {
  /** All finished jobs counted. */
  totals: StatsBucket;
  /** Per local day of finishing, oldest first. */
  per_day: StatsBucket[];
  /** Per target video codec, most saved first. */
  per_codec: StatsBucket[];
  /** Per folder of the source file, most saved first. */
  per_folder: StatsBucket[];
  /** Per quality metric, for jobs whose policy had a quality target; empty otherwise. */
  quality: QualityBucket[];
  /** Finished job files that could not be read (not counted). */
  unreadable: number;
}

/** Options of {@link StatsCollector.collect}. */
export interface StatsOptions {
  /** Only jobs finished in the last `days` local days (today counts as one); all when omitted. */
  days?: number;
  /** "Now", for the `days` cut-off (tests). */
  now?: Date;
}

/** What one finished job adds to the buckets it falls in. */
interface Contribution {
  day: string;
  codec: string;
  folder: string;
  add: Omit<StatsBucket, "key">;
  quality: JobFigures["quality"] | null;
}

const EMPTY: Omit<StatsBucket, "key"> = {
  jobs: 0,
  replaced: 0,
  kept_original: 0,
  skipped: 0,
  failed: 0,
  cancelled: 0,
  source_bytes: 0,
  output_bytes: 0,
  saved_bytes: 0,
  time_sec: 0,
};

/**
 * The figures a finished job contributes, as its job type reads them ({@link JobType.figures}); a
 * job of a type this process does not know counts under codec "other".
 */
function contributionOf(job: Job, state: JobState, types: JobTypes): Contribution {
  const finished = new Date(job.finished_at ?? job.updated_at);
  const figures = types.figures(job);
  const add = { ...EMPTY, jobs: 1 };
  if (state === "completed") {
    if (figures.outcome === "replaced") {
      add.replaced = 1;
      add.source_bytes = figures.source_bytes;
      add.output_bytes = figures.output_bytes;
      add.saved_bytes = add.source_bytes - add.output_bytes;
    } else if (figures.outcome === "kept_original") add.kept_original = 1;
    else add.skipped = 1;
    add.time_sec = figures.outcome === "skipped" ? 0 : figures.wall_sec;
  } else {
    add[state === "failed" ? "failed" : "cancelled"] = 1;
    // Time lost on a run that produced nothing still is time the machine spent.
    const started = job.started_at ? Date.parse(job.started_at) : NaN;
    const spent = (finished.getTime() - started) / 1000;
    add.time_sec = Number.isFinite(spent) && spent > 0 ? spent : 0;
  }
  return {
    day: localDay(finished),
    codec: figures.group,
    folder: job.file ? dirname(job.file) : "-",
    add,
    quality: state === "completed" ? figures.quality ?? null : null,
  };
}

/** The quality buckets of the measured contributions, by metric. */
function qualityBuckets(
  measured: readonly NonNullable<Contribution["quality"]>[],
): QualityBucket[] {
  const byMetric = new Map<string, NonNullable<Contribution["quality"]>[]>();
  for (const q of measured) byMetric.set(q.metric, [...byMetric.get(q.metric) ?? [], q]);
  const round = (n: number) => Math.round(n * 1e6) / 1e6;
  return [...byMetric].sort(([a], [b]) => (a < b ? -1 : 1)).map(([metric, list]) => {
    const predicted = list.filter((q) => q.predicted !== null);
    return {
      metric,
      files: list.length,
      mean: round(list.reduce((n, q) => n + q.achieved, 0) / list.length),
      lowest: Math.min(...list.map((q) => q.achieved)),
      below_min: list.filter((q) => q.achieved < q.min).length,
      prediction_error: predicted.length
        ? round(
          predicted.reduce((n, q) => n + Math.abs(q.predicted! - q.achieved), 0) /
            predicted.length,
        )
        : null,
    };
  });
}

function addTo(bucket: StatsBucket, add: Omit<StatsBucket, "key">): void {
  for (const k of Object.keys(EMPTY) as (keyof typeof EMPTY)[]) bucket[k] += add[k];
}

function addInto(map: Map<string, StatsBucket>, key: string, add: Omit<StatsBucket, "key">) {
  let bucket = map.get(key);
  if (!bucket) map.set(key, bucket = { key, ...EMPTY });
  addTo(bucket, add);
}

interface CacheEntry {
  mtimeMs: number;
  size: number;
  value: Contribution | null;
}

/** What one state directory contributes: per job id, null for an unreadable file. */
type DirItems = { id: string; value: Contribution | null }[];

/**
 * Reads the finished jobs of a queue into a {@link StatsReport}. A directory whose mtime did not
 * move since the last call is not looked at again (every job entering or leaving changes it); in
 * one that did, only new or rewritten files are read.
 */
export class StatsCollector {
  #files = new Map<JobState, Map<string, CacheEntry>>();
  #dirs = new Map<JobState, { version: number; items: DirItems }>();
  #last: { key: string; report: StatsReport } | null = null;

  /** `layout` is the queue's (see {@link JobQueue.layout}); `types` read the jobs' figures. */
  constructor(readonly layout: QueueLayout, readonly types: JobTypes) {}

  /** The stats of every finished job (of the last `days` days, when given). */
  collect(options: StatsOptions = {}): StatsReport {
    const now = options.now ?? new Date();
    let fromDay = "";
    if (options.days !== undefined) {
      const from = new Date(now);
      from.setDate(from.getDate() - (options.days - 1));
      fromDay = localDay(from);
    }
    const dirs = FINISHED_STATES.map((state) => this.#itemsOf(state));
    // Nothing moved since the last call (and the same window): the same report.
    const versions = FINISHED_STATES.map((s) => this.#dirs.get(s)?.version ?? null);
    const key = versions.includes(null) ? null : `${versions.join()}:${fromDay}`;
    if (key !== null && this.#last?.key === key) return this.#last.report;
    const totals: StatsBucket = { key: "all", ...EMPTY };
    const days = new Map<string, StatsBucket>();
    const codecs = new Map<string, StatsBucket>();
    const folders = new Map<string, StatsBucket>();
    const counted = new Set<string>();
    const measured: NonNullable<Contribution["quality"]>[] = [];
    let unreadable = 0;
    for (const items of dirs) {
      for (const { id, value: c } of items) {
        if (c === null) {
          unreadable++;
          continue;
        }
        // A crash mid-transition can leave two copies of a job for a moment: count it once.
        if (counted.has(id) || c.day < fromDay) continue;
        counted.add(id);
        addInto(days, c.day, c.add);
        addInto(codecs, c.codec, c.add);
        addInto(folders, c.folder, c.add);
        addTo(totals, c.add);
        if (c.quality) measured.push(c.quality);
      }
    }
    const bySaved = (a: StatsBucket, b: StatsBucket) =>
      b.saved_bytes - a.saved_bytes || (a.key < b.key ? -1 : 1);
    const report = {
      totals,
      per_day: [...days.values()].sort((a, b) => (a.key < b.key ? -1 : 1)),
      per_codec: [...codecs.values()].sort(bySaved),
      per_folder: [...folders.values()].sort(bySaved),
      quality: qualityBuckets(measured),
      unreadable,
    };
    this.#last = key === null ? null : { key, report };
    return report;
  }

  #itemsOf(state: JobState): DirItems {
    const dir = this.layout.stateDir(state);
    const readAt = performance.now();
    const version = dirMtime(dir);
    const cached = this.#dirs.get(state);
    if (version !== null && cached?.version === version) return cached.items;
    const items: DirItems = [];
    const known = this.#files.get(state);
    const seen = new Map<string, CacheEntry>();
    for (const name of listJobNames(dir)) {
      const path = join(dir, name.name);
      let info: Deno.FileInfo;
      try {
        info = Deno.statSync(path);
      } catch {
        continue;
      }
      const mtimeMs = info.mtime?.getTime() ?? 0;
      let entry = known?.get(path);
      if (!entry || entry.mtimeMs !== mtimeMs || entry.size !== info.size) {
        const found = readJobFile(path, name.id, state);
        if (found === null) continue;
        const value = isProblem(found) ? null : contributionOf(found, state, this.types);
        entry = { mtimeMs, size: info.size, value };
      }
      seen.set(path, entry);
      items.push({ id: name.id, value: entry.value });
    }
    this.#files.set(state, seen);
    // Kept only for a directory that was still before the listing (see FinishedIndex).
    if (version !== null && wasStill(version, readAt, this.layout.tmpDir)) {
      this.#dirs.set(state, { version, items });
    } else this.#dirs.delete(state);
    return items;
  }
}
