/**
 * `vpo transcode`: decide for each file whether it needs converting, and queue those that do,
 * with a snapshot of the policy and a fingerprint of the source.
 *
 * @module
 */
import { tmpdir } from "node:os";
import { join } from "node:path";
import { detectEncoder } from "../media/encoders.ts";
import { buildFfmpegArgs, shellQuote } from "../media/ffmpeg_args.ts";
import { type EncodePlan, planTranscode } from "../media/plan.ts";
import { type MediaInfo, probeMany } from "../media/probe.ts";
import { ProbeError } from "../errors.ts";
import {
  ANY_POLICY,
  type FileStamp,
  policyHash,
  sameStamp,
  stampOf,
} from "../library/decisions.ts";
import type { FileDecision } from "../library/file_decision.ts";
import type { Library } from "../library/library.ts";
import { dropMark, fillMark, takeMark } from "../library/queue_marks.ts";
import type { TargetQuality, TranscodePolicy } from "../policy/types.ts";
import type { JobQueue } from "../queue/store.ts";
import { fingerprintOf } from "../replace/fingerprint.ts";
import { tempOutputPath } from "../replace/temp_files.ts";
import { shortId } from "../util/ids.ts";
import { findFiles } from "./find_files.ts";
import { TRANSCODE, type TranscodePayload } from "./payload.ts";

/** Options of {@link queueFiles}. */
export interface QueueFilesOptions {
  /** Policy to plan with; each job stores a snapshot of it. */
  policy: TranscodePolicy;
  /** Absolute path of the policy file, recorded in each job; null for the built-in default. */
  policyFile: string | null;
  /** Also look in subdirectories of the given directories. */
  recursive: boolean;
  /** Queue files even when compliant or matched by skip_if. */
  force: boolean;
  /** Decide and show the ffmpeg command, but queue nothing. */
  dryRun: boolean;
  /** Priority of the queued jobs (lower runs first); the queue's default when omitted. */
  priority?: number;
  /** Temp output directory shown in dry-run commands; null means beside the source. */
  tempDirectory: string | null;
  /** CPU cores for the thread options of dry-run commands; null for no limit. */
  cpuCores: number | null;
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

/** "h264 1920x1080", the first real video stream of a probe. */
function describeVideo(media: MediaInfo): string {
  const v = media.streams.find((s) => s.type === "video" && !s.isCoverArt);
  return v
    ? `${v.codec} ${v.width}x${v.height}${(v.bitDepth ?? 8) > 8 ? ` ${v.bitDepth}-bit` : ""}`
    : "no video";
}

function describeTarget(plan: EncodePlan, quality: TargetQuality | undefined): string {
  const v = plan.streams.find((s) => s.type === "video");
  const size = v && v.type === "video" ? ` ${v.width}x${v.height}` : "";
  // With a quality target the CRF is searched when the job runs.
  const rate = quality
    ? `${quality.metric} >= ${quality.min}${quality.rule === "mean" ? "" : ` (${quality.rule})`}`
    : plan.video.crf !== null
    ? `crf ${plan.video.crf}`
    : `${Math.round(plan.video.bitrate! / 1000)}k`;
  return `${plan.video.codec}${size} ${rate} (${plan.video.encoder}, ${plan.format})`;
}

/** Why a dry run's command shows a CRF that the job may not use. */
const SEARCH_NOTE = "the CRF is searched for the quality target when the job runs; the command " +
  "shows target_crf, where a folder's first search starts";

/** A video found, with its stamp when it was first looked at. */
interface Candidate {
  stamp: FileStamp;
  /** From the probe cache, when this version of the file was probed before. */
  cached?: MediaInfo;
}

/**
 * Decides (and unless dry-run, queues) every video found under `paths`, yielding in order:
 * first what needs no probe (errors, remembered, still arriving, cached probes), then the rest
 * as ffprobe answers.
 */
export async function* queueFiles(
  queue: JobQueue,
  paths: readonly string[],
  opts: QueueFilesOptions,
): AsyncGenerator<FileDecision> {
  const active = new Set(
    [...queue.list({ status: "running" }).jobs, ...queue.list({ status: "queued" }).jobs]
      .map((j) => j.file),
  );
  const library = opts.library;
  const remember = opts.dryRun ? null : library;
  const policyId = policyHash(opts.policy, opts.force);
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
    const known = opts.recheck ? undefined : library?.decisions.lookup(stamp, policyId);
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
  const decide = (c: Candidate, media: MediaInfo) =>
    decideOne(queue, c.stamp, media, opts, policyId, remember);
  for (const c of planned) yield await decide(c, c.cached!);
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
    yield await decide({ stamp }, probed.info);
  }
}

/** Plans one probed file and queues it (or, on a dry run, shows the command). */
async function decideOne(
  queue: JobQueue,
  stamp: FileStamp,
  media: MediaInfo,
  opts: QueueFilesOptions,
  policyId: string,
  remember: Library | null,
): Promise<FileDecision> {
  const policy = opts.policy;
  const tenBit = media.streams.some((s) =>
    s.type === "video" && !s.isCoverArt && (s.bitDepth ?? 8) > 8
  );
  const choice = await detectEncoder(policy.targetVideoCodec, policy.hwAccel, { tenBit });
  const plan = planTranscode(policy, media, { force: opts.force, encoder: choice.encoder });
  if (plan.action === "skip") {
    remember?.decisions.record(stamp, policyId, plan.kind, { detail: plan.reason });
    return { path: media.path, status: "skipped", reason: plan.kind, detail: plan.reason };
  }
  const detail = `${describeVideo(media)} -> ${describeTarget(plan, policy.targetQuality)}`;
  const notes = [
    ...(choice.note ? [choice.note] : []),
    ...(policy.targetQuality && opts.dryRun ? [SEARCH_NOTE] : []),
    ...plan.notes,
  ];
  if (opts.dryRun) {
    // The real temp name carries the job id and claim token, unknown until queued and claimed.
    const placeholder = { id: "0".repeat(32), token: "0".repeat(12) };
    const temp = tempOutputPath(placeholder, media.path, opts.tempDirectory);
    const args = buildFfmpegArgs(plan, media.path, temp, {
      cpuCores: opts.cpuCores,
      coverArtDir: join(tmpdir(), "vpo-covers"),
    });
    return {
      path: media.path,
      status: "queued",
      detail,
      notes,
      command: shellQuote(["ffmpeg", ...args]),
    };
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
  const payload: TranscodePayload = {
    policy,
    policy_file: opts.policyFile,
    force: opts.force,
    fingerprint: fingerprintOf(stat, media.path),
    duration_sec: media.duration,
    summary: detail,
  };
  let job;
  try {
    job = await queue.enqueue({
      type: TRANSCODE,
      file: media.path,
      payload: payload as unknown as Record<string, unknown>,
      priority: opts.priority,
    });
  } catch (err) {
    if (remember) dropMark(remember.layout, stamp);
    throw err;
  }
  if (remember) {
    await fillMark(remember.layout, stamp, job.id);
    remember.decisions.record(stamp, policyId, "queued", { detail, job: job.id });
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
