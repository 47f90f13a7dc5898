/**
 * `vpo transcode`'s scan, for any job type: find the videos under the paths given, pass over what
 * the library remembers, what is still arriving and what is already queued, probe the rest, and
 * let a job type's decider say per file whether it needs a job and which; then queue it (or, on a
 * dry run, show its command) with a queue mark, so that two runs never queue a file twice.
 *
 * @module
 */
import { ProbeError } from "../errors.ts";
import { type MediaInfo, probeMany } from "../media/probe.ts";
import type { JobQueue } from "../queue/store.ts";
import { shortId } from "../util/ids.ts";
import { ANY_POLICY, type DecisionKind, type FileStamp, sameStamp, stampOf } from "./decisions.ts";
import type { FileDecision } from "./file_decision.ts";
import { findFiles } from "./find_files.ts";
import type { Library } from "./library.ts";
import { dropMark, fillMark, takeMark } from "./queue_marks.ts";

/** What a decider says about one probed file. */
export type FileVerdict =
  | {
    action: "skip";
    /** How the library remembers it. */
    kind: DecisionKind;
    /** Why, in one line. */
    reason: string;
  }
  | {
    action: "queue";
    /** The job type. */
    type: string;
    /** What the job will do, in one line ("h264 1920x1080 -> hevc ..."). */
    detail: string;
    /** Dropped or converted streams and other warnings of the plan. */
    notes: string[];
    /** On a dry run, the exact command the job would run. */
    command?: string;
    /** The job's payload, given the source's stat at the moment it is queued. */
    payload(stat: Deno.FileInfo): object;
  };

/** A job type's decision for one probed file. */
export type FileDecider = (media: MediaInfo) => Promise<FileVerdict>;

/**
 * The first decider's verdict, unless it skips the file: then the second's. When both skip, the
 * second's refusal wins (it says what is wrong), else the first's reason stands, with the
 * second's after it.
 */
export function eitherOf(first: FileDecider, second: FileDecider): FileDecider {
  return async (media) => {
    const one = await first(media);
    if (one.action === "queue") return one;
    const two = await second(media);
    if (two.action === "queue" || two.kind === "tracks_refused") return two;
    return { ...one, reason: `${one.reason}; ${two.reason}` };
  };
}

/** Options of {@link queueFiles}. */
export interface QueueFilesOptions {
  /** The effective policy's key in the library's memory (`policyHash`). */
  policyKey: string;
  /** Also look in subdirectories of the given directories. */
  recursive: boolean;
  /** Decide and show the commands, but queue nothing. */
  dryRun: boolean;
  /** Priority of the queued jobs (lower runs first); the queue's default when omitted. */
  priority?: number;
  /** Probes run at once (ffprobe is mostly I/O on a NAS). */
  concurrency?: number;
  /** Memory of decisions and probe cache; null to decide every file afresh and remember nothing. */
  library: Library | null;
  /** Probe and decide every file afresh, ignoring the memory and the probe cache (both are
   * still written). */
  recheck?: boolean;
  /**
   * Files found in a directory and modified less than this many seconds ago are still arriving
   * (default 0): a scan from cron meets copies nobody announced.
   */
  settleSeconds?: number;
  /**
   * The same for files named one by one (default 0): whoever names a file (a person, an
   * import script run once the copy is complete) says it is there. A size or mtime that changes
   * while the file is probed still leaves it waiting.
   */
  namedSettleSeconds?: number;
}

/** A video found, with its stamp when it was first looked at. */
interface Candidate {
  stamp: FileStamp;
  /** From the probe cache, when this version of the file was probed before. */
  cached?: MediaInfo;
}

/**
 * Decides with `decide` (and unless dry-run, queues) every video found under `paths`, yielding
 * in order: first what needs no probe (errors, remembered, still arriving, cached probes), then
 * the rest as ffprobe answers.
 */
export async function* queueFiles(
  queue: JobQueue,
  paths: readonly string[],
  opts: QueueFilesOptions,
  decide: FileDecider,
): AsyncGenerator<FileDecision> {
  const active = new Set(
    [...queue.list({ status: "running" }).jobs, ...queue.list({ status: "queued" }).jobs]
      .map((j) => j.file),
  );
  const library = opts.library;
  const remember = opts.dryRun ? null : library;
  const settleMs = (named: boolean) =>
    ((named ? opts.namedSettleSeconds : opts.settleSeconds) ?? 0) * 1000;
  const toProbe: FileStamp[] = [];
  const planned: Candidate[] = [];
  for (const found of findFiles(paths, opts.recursive)) {
    if (found.kind === "error") {
      yield { path: found.path, status: "error", detail: found.message };
      continue;
    }
    if (found.kind === "skip") {
      yield { path: found.path, status: "skipped", reason: "not_video", detail: found.reason };
      continue;
    }
    if (active.has(found.path)) {
      yield {
        path: found.path,
        status: "skipped",
        reason: "queued",
        detail: "already queued or running",
      };
      continue;
    }
    let stamp: FileStamp;
    try {
      stamp = stampOf(found.path, Deno.statSync(found.path));
    } catch (err) {
      yield { path: found.path, status: "error", detail: (err as Error).message };
      continue;
    }
    // A remembered version is exactly as it was decided (a converted output is fresh, and known).
    const known = opts.recheck ? undefined : library?.decisions.lookup(stamp, opts.policyKey);
    if (known && known.decision !== "queued") {
      yield {
        path: found.path,
        status: "remembered",
        reason: known.decision,
        jobId: known.job,
        detail: `${known.decision.replace("_", " ")}: ${known.detail}`,
      };
      continue;
    }
    // A cached probe is of a complete version too (a scan probes only settled files, and the
    // worker caches its verified outputs).
    const cached = opts.recheck ? undefined : library?.probes.lookup(stamp);
    if (cached) {
      planned.push({ stamp, cached });
      continue;
    }
    // Against this host's clock: a share whose clock runs ahead makes files look newer, so
    // the distance counts both ways.
    const age = Date.now() - stamp.mtime_ms;
    if (Math.abs(age) < settleMs(found.named)) {
      yield {
        path: found.path,
        status: "waiting",
        detail: `still being written (modified ${Math.max(0, Math.round(age / 1000))} s ago)`,
      };
      continue;
    }
    toProbe.push(stamp);
  }
  const decideOne = async (c: Candidate, media: MediaInfo) =>
    queueOne(queue, c.stamp, media, await decide(media), opts, remember);
  for (const c of planned) yield await decideOne(c, c.cached!);
  const stamps = new Map(toProbe.map((s) => [s.path, s]));
  for await (const probed of probeMany(stamps.keys(), opts.concurrency ?? 4)) {
    const stamp = stamps.get(probed.path)!;
    // A file that grows while it is probed is being copied: its probe means nothing yet.
    let now: FileStamp | null = null;
    try {
      now = stampOf(stamp.path, Deno.statSync(stamp.path));
    } catch {
      now = null;
    }
    if (now === null || !sameStamp(now, stamp)) {
      yield {
        path: stamp.path,
        status: "waiting",
        detail: now === null
          ? "vanished while it was looked at"
          : now.size === stamp.size
          ? "still being written (modified while it was looked at)"
          : `still being written (changed while it was looked at: ${stamp.size} -> ${now.size} bytes)`,
      };
      continue;
    }
    if (probed.error) {
      // The line already names the file; ProbeError's message starts with it too.
      const message = probed.error.message;
      const prefix = `${probed.path}: `;
      const detail = message.startsWith(prefix) ? message.slice(prefix.length) : message;
      if (!(probed.error instanceof ProbeError)) {
        yield { path: probed.path, status: "error", detail };
        continue;
      }
      remember?.decisions.record(stamp, ANY_POLICY, "unreadable", { detail });
      yield { path: probed.path, status: "unreadable", detail };
      continue;
    }
    remember?.probes.record(stamp, probed.info);
    yield await decideOne({ stamp }, probed.info);
  }
}

/** Carries out one file's verdict: remembers a skip, queues a job (or shows its command). */
async function queueOne(
  queue: JobQueue,
  stamp: FileStamp,
  media: MediaInfo,
  verdict: FileVerdict,
  opts: QueueFilesOptions,
  remember: Library | null,
): Promise<FileDecision> {
  if (verdict.action === "skip") {
    remember?.decisions.record(stamp, opts.policyKey, verdict.kind, { detail: verdict.reason });
    return { path: media.path, status: "skipped", reason: verdict.kind, detail: verdict.reason };
  }
  const { detail, notes } = verdict;
  if (opts.dryRun) {
    return { path: media.path, status: "queued", detail, notes, command: verdict.command };
  }
  let stat: Deno.FileInfo;
  try {
    stat = await Deno.stat(media.path);
  } catch (err) {
    return { path: media.path, status: "error", detail: (err as Error).message };
  }
  // Two runs at once (overlapping cron lines, two hosts) must not both queue this file.
  const held = remember ? takeMark(remember.layout, stamp, (id) => isActive(queue, id)) : null;
  if (held !== null) {
    return {
      path: media.path,
      status: "skipped",
      reason: "queued",
      detail: `already queued (${held === "another run" ? held : `job ${shortId(held)}`})`,
    };
  }
  let job;
  try {
    job = await queue.enqueue({
      type: verdict.type,
      file: media.path,
      payload: verdict.payload(stat),
      priority: opts.priority,
    });
  } catch (err) {
    if (remember) dropMark(remember.layout, stamp);
    throw err;
  }
  if (remember) {
    await fillMark(remember.layout, stamp, job.id);
    remember.decisions.record(stamp, opts.policyKey, "queued", { detail, job: job.id });
  }
  return { path: media.path, status: "queued", jobId: job.id, detail, notes };
}

function isActive(queue: JobQueue, id: string): boolean {
  try {
    const state = queue.find(id).state;
    return state === "queued" || state === "running";
  } catch {
    return false;
  }
}
