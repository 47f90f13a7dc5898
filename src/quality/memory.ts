/**
 * The memory of quality searches, in the library (`$VPO_HOME/library/quality/`, JSON lines, one
 * file per writing process; see docs/library.md):
 *
 * - every sample encoded and scored: keyed by the source's identity (size and a hash of its
 *   first and last 64 KiB: the same on every host and after a rename), the sample, the encoder
 *   settings and the CRF. A retried or re-queued job, a new minimum, a new rule and the real run
 *   after a forecast find their samples here and encode none again.
 * - each folder's last CRF found (with how fast the score fell around it, and how far the last
 *   verified encode fell short of its prediction), which seeds the next search in that folder.
 *
 * @module
 */
import { KeyedMemory, type LogEntry, type Warn } from "../library/line_log.ts";
import type { LibraryLayout } from "../queue/layout.ts";
import type { QualityRule } from "../policy/types.ts";
import { isSummary, type ScoreSummary } from "./scores.ts";

/** One sample encoded at one CRF and scored. */
export interface SampleScore extends LogEntry, ScoreSummary {
  kind: "sample";
  /** The source's {@link fileIdentity}. */
  source: string;
  /** `sampleKey`: where in the source. */
  sample: string;
  /** `settingsKey`: encoder settings and metric. */
  settings: string;
  crf: number;
  /** Bytes of the lossless cut and of its encode. */
  ref_bytes: number;
  out_bytes: number;
  /** Seconds of media in the cut, and wall seconds its encode took. */
  media_sec: number;
  encode_sec: number;
}

/** A folder's last search. */
export interface FolderSeed extends LogEntry {
  kind: "seed";
  folder: string;
  settings: string;
  /** The CRF found, for the minimum and rule it was found for. */
  crf: number;
  min: number;
  rule: QualityRule;
  /** Score lost per CRF step around the CRF found; null when the search could not tell. */
  slope: number | null;
  /** Predicted minus measured score of the folder's last verified encode; null before one. */
  bias: number | null;
}

type Entry = SampleScore | FolderSeed;

/** Scores older than this are dropped at compaction: their source has long been converted. */
const KEEP_MS = 400 * 24 * 3600 * 1000;

const num = (v: unknown) => typeof v === "number" && Number.isFinite(v);
const text = (v: unknown) => typeof v === "string" && v !== "";

function valid(value: unknown): Entry | null {
  if (!value || typeof value !== "object") return null;
  const e = value as Record<string, unknown>;
  if (!num(e.at) || !text(e.settings) || !num(e.crf)) return null;
  if (e.kind === "sample") {
    const ok = text(e.source) && text(e.sample) && isSummary(e) &&
      [e.ref_bytes, e.out_bytes, e.media_sec, e.encode_sec].every(num) &&
      (e.ref_bytes as number) > 0 && (e.media_sec as number) > 0;
    return ok ? e as unknown as SampleScore : null;
  }
  if (e.kind === "seed") {
    const ok = text(e.folder) && num(e.min) && /^(mean|p\d+)$/.test(String(e.rule)) &&
      (e.slope === null || num(e.slope)) && (e.bias === null || num(e.bias));
    return ok ? e as unknown as FolderSeed : null;
  }
  return null;
}

const sampleKey = (source: string, sample: string, settings: string, crf: number) =>
  `sample\0${source}\0${sample}\0${settings}\0${crf}`;
const seedKey = (folder: string, settings: string) => `seed\0${folder}\0${settings}`;
const keyOf = (e: Entry) =>
  e.kind === "sample"
    ? sampleKey(e.source, e.sample, e.settings, e.crf)
    : seedKey(e.folder, e.settings);

/** The quality memory of one home. */
export class QualityMemory {
  readonly #memory: KeyedMemory<Entry>;

  constructor(layout: LibraryLayout, warn: Warn) {
    this.#memory = new KeyedMemory(layout.qualityDir, valid, keyOf, {
      name: "quality memory",
      warn,
      select: (newest) => [...newest.values()].filter((e) => Date.now() - e.at < KEEP_MS),
    });
  }

  /** The score of one sample of `source` at `crf` under `settings`, if it was ever measured. */
  sample(source: string, sample: string, settings: string, crf: number): SampleScore | undefined {
    const hit = this.#memory.get(sampleKey(source, sample, settings, crf));
    return hit?.kind === "sample" ? hit : undefined;
  }

  /** Remembers a sample's score, written at once: a search stopped later keeps it. */
  recordSample(score: Omit<SampleScore, "kind" | "at">): void {
    this.#memory.add({ kind: "sample", ...score, at: Date.now() });
    this.#memory.close();
  }

  /** The last search in `folder` under `settings`. */
  seed(folder: string, settings: string): FolderSeed | undefined {
    const hit = this.#memory.get(seedKey(folder, settings));
    return hit?.kind === "seed" ? hit : undefined;
  }

  /** Remembers a folder's search (or its verified encode's bias), written at once. */
  recordSeed(seed: Omit<FolderSeed, "kind" | "at">): void {
    this.#memory.add({ kind: "seed", ...seed, at: Date.now() });
    this.#memory.close();
  }

  /** Writes what is pending and folds the files when they have piled up or are damaged. */
  close(): void {
    this.#memory.close({ compact: true });
  }
}
