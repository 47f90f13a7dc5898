/**
 * The memory of decisions: what `vpo transcode` and the worker decided about each file, keyed by
 * the file's path and fingerprint and by the effective policy, so an unchanged file under an
 * unchanged policy is neither probed nor queued again. Kept as JSON lines under
 * `$VPO_HOME/library/decisions/` (see docs/library.md).
 *
 * @module
 */
import { createHash } from "node:crypto";
import type { TrackPolicy } from "../policy/track_types.ts";
import type { TranscodePolicy } from "../policy/types.ts";
import { KeyedMemory, type LogEntry, type Warn } from "./line_log.ts";

export type { Warn } from "./line_log.ts";

/** What was decided about a file. */
export type DecisionKind =
  | "compliant"
  | "skip_if"
  | "dolby_vision"
  | "tracks_refused"
  | "not_video"
  | "unreadable"
  | "queued"
  | "converted"
  | "kept_original"
  | "failed";

/** Every kind, in the order summaries list them. */
const DECISION_KINDS: readonly DecisionKind[] = [
  "compliant",
  "skip_if",
  "dolby_vision",
  "tracks_refused",
  "not_video",
  "unreadable",
  "queued",
  "converted",
  "kept_original",
  "failed",
];

/**
 * The part of a file's identity that holds across mounts and hosts: size and mtime (ms), as
 * rsync's quick check uses. Inode and device numbers are left out: sshfs numbers inodes per
 * mount, so keying on them would forget the whole library at every remount.
 */
export interface FileStamp {
  path: string;
  size: number;
  mtime_ms: number;
}

/** One remembered decision (a line of a decisions file). */
export interface Decision extends FileStamp, LogEntry {
  /** {@link policyHash} of the policy it was decided under. */
  policy: string;
  decision: DecisionKind;
  /** One line for people: the skip reason, the failure, the sizes. */
  detail: string;
  /** The job, for queued, converted, kept_original and failed. */
  job?: string;
  /** For a converted source: the file that replaced it. */
  output?: FileStamp;
}

/** The policy of decisions that hold under every policy (a file ffprobe cannot read). */
export const ANY_POLICY = "*";

/** The stamp of a stat result. */
export function stampOf(path: string, info: Deno.FileInfo): FileStamp {
  return { path, size: info.size, mtime_ms: info.mtime?.getTime() ?? 0 };
}

/** True when both stamps describe the same unchanged file. */
export const sameStamp = (a: FileStamp, b: FileStamp): boolean =>
  a.path === b.path && a.size === b.size && a.mtime_ms === b.mtime_ms;

/** The key of a file version: path, size and mtime. */
export const stampKey = (s: FileStamp): string => `${s.path}\0${s.size}\0${s.mtime_ms}`;

/** JSON with sorted keys, so a policy read back from a job file hashes the same. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const keys = Object.keys(value).sort();
    const obj = value as Record<string, unknown>;
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(obj[k])}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/**
 * 12 hex digits naming an effective policy: its transcode part (null for a policy of track keys
 * only), `--force` (which changes decisions too) and its track part. A policy without track keys
 * hashes as it did before track policies were read, so its remembered decisions stand.
 */
export function policyHash(
  policy: TranscodePolicy | null,
  force: boolean,
  tracks: TrackPolicy | null = null,
): string {
  const key = tracks === null ? { policy, force } : { policy, force, tracks };
  return createHash("sha256").update(canonical(key)).digest("hex").slice(0, 12);
}

function validDecision(value: unknown): Decision | null {
  const d = value as Partial<Decision>;
  if (
    !d || typeof d !== "object" || typeof d.path !== "string" || typeof d.size !== "number" ||
    typeof d.mtime_ms !== "number" || typeof d.policy !== "string" ||
    typeof d.at !== "number" || !DECISION_KINDS.includes(d.decision as DecisionKind)
  ) return null;
  if (typeof d.detail !== "string") d.detail = "";
  return d as Decision;
}

const decisionKey = (d: Decision) => `${stampKey(d)}\0${d.policy}`;

/** The decisions of one vpo home, loaded once and added to as files are decided. */
export class DecisionMemory {
  readonly #memory: KeyedMemory<Decision>;

  constructor(dir: string, warn: Warn) {
    this.#memory = new KeyedMemory(dir, validDecision, decisionKey, {
      name: "library memory",
      warn,
      select: keepNewestVersion,
    });
  }

  /** The newest decision about this version of the file under this policy, if any. */
  lookup(stamp: FileStamp, policy: string): Decision | undefined {
    return this.#memory.get(`${stampKey(stamp)}\0${policy}`) ??
      this.#memory.get(`${stampKey(stamp)}\0${ANY_POLICY}`);
  }

  /** Remembers a decision (written in batches; {@link close} writes the rest). */
  record(stamp: FileStamp, policy: string, decision: DecisionKind, extra: {
    detail: string;
    job?: string;
    output?: FileStamp;
  }): void {
    const { path, size, mtime_ms } = stamp;
    this.#memory.add({ path, size, mtime_ms, policy, decision, ...extra, at: Date.now() });
  }

  /** Writes what is pending; `compact` folds piled-up or damaged files. */
  close(options: { compact?: boolean } = {}): void {
    this.#memory.close(options);
  }
}

/** The newest entry (by `at`) of each path: the version of the file seen last. */
export function newestPerPath<T extends FileStamp & LogEntry>(
  entries: Iterable<T>,
): Map<string, T> {
  const byPath = new Map<string, T>();
  for (const e of entries) {
    const seen = byPath.get(e.path);
    if (!seen || seen.at < e.at) byPath.set(e.path, e);
  }
  return byPath;
}

/** Compaction keeps, per path, only the decisions about its newest version. */
function keepNewestVersion(newest: Map<string, Decision>): Decision[] {
  const version = newestPerPath(newest.values());
  return [...newest.values()].filter((d) => {
    const v = version.get(d.path)!;
    return v.size === d.size && v.mtime_ms === d.mtime_ms;
  });
}
