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
import type { TranscodePolicy } from "../policy/types.ts";
import type { JobQueue } from "../queue/store.ts";
import { fingerprintOf } from "./fingerprint.ts";
import { tempOutputPath } from "./temp_files.ts";
import { findFiles } from "./find_files.ts";
import { TRANSCODE, type TranscodePayload } from "./payload.ts";

/** The decision for one input path. */
export interface FileDecision {
  /** The file the decision is about (absolute once probed). */
  path: string;
  /** Queued (or, on a dry run, would be), skipped, or not readable. */
  status: "queued" | "skipped" | "error";
  /** Job id when queued. */
  jobId?: string;
  /** One line: what will happen, or why not. */
  detail: string;
  /** The exact ffmpeg command (dry runs). */
  command?: string;
  /** Dropped or converted streams and other warnings of the plan. */
  notes?: string[];
}

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
}

/** "h264 1920x1080", the first real video stream of a probe. */
export function describeVideo(media: MediaInfo): string {
  const v = media.streams.find((s) => s.type === "video" && !s.isCoverArt);
  return v
    ? `${v.codec} ${v.width}x${v.height}${(v.bitDepth ?? 8) > 8 ? ` ${v.bitDepth}-bit` : ""}`
    : "no video";
}

function describeTarget(plan: EncodePlan): string {
  const v = plan.streams.find((s) => s.type === "video");
  const size = v && v.type === "video" ? ` ${v.width}x${v.height}` : "";
  const rate = plan.video.crf !== null
    ? `crf ${plan.video.crf}`
    : `${Math.round(plan.video.bitrate! / 1000)}k`;
  return `${plan.video.codec}${size} ${rate} (${plan.video.encoder}, ${plan.format})`;
}

/** Decides (and unless dry-run, queues) every video found under `paths`, yielding in order. */
export async function* queueFiles(
  queue: JobQueue,
  paths: readonly string[],
  opts: QueueFilesOptions,
): AsyncGenerator<FileDecision> {
  const active = new Set(
    [...queue.list({ status: "running" }).jobs, ...queue.list({ status: "queued" }).jobs]
      .map((j) => j.file),
  );
  const videos: string[] = [];
  for (const found of findFiles(paths, opts.recursive)) {
    if (found.kind === "error") yield { path: found.path, status: "error", detail: found.message };
    else if (found.kind === "skip") {
      yield { path: found.path, status: "skipped", detail: found.reason };
    } else if (active.has(found.path)) {
      yield { path: found.path, status: "skipped", detail: "already queued or running" };
    } else videos.push(found.path);
  }
  const policy = opts.policy;
  for await (const probed of probeMany(videos, opts.concurrency ?? 4)) {
    if (probed.error) {
      // The line already names the file; ProbeError's message starts with it too.
      const message = probed.error.message;
      const prefix = `${probed.path}: `;
      yield {
        path: probed.path,
        status: "error",
        detail: message.startsWith(prefix) ? message.slice(prefix.length) : message,
      };
      continue;
    }
    const media = probed.info;
    const tenBit = media.streams.some((s) =>
      s.type === "video" && !s.isCoverArt && (s.bitDepth ?? 8) > 8
    );
    const choice = await detectEncoder(policy.targetVideoCodec, policy.hwAccel, { tenBit });
    const plan = planTranscode(policy, media, { force: opts.force, encoder: choice.encoder });
    if (plan.action === "skip") {
      yield { path: media.path, status: "skipped", detail: plan.reason };
      continue;
    }
    const detail = `${describeVideo(media)} -> ${describeTarget(plan)}`;
    const notes = choice.note ? [choice.note, ...plan.notes] : plan.notes;
    if (opts.dryRun) {
      // The real temp name carries the job id and claim token, unknown until queued and claimed.
      const placeholder = { id: "0".repeat(32), token: "0".repeat(12) };
      const temp = tempOutputPath(placeholder, media.path, opts.tempDirectory);
      const args = buildFfmpegArgs(plan, media.path, temp, {
        cpuCores: opts.cpuCores,
        coverArtDir: join(tmpdir(), "vpo-covers"),
      });
      yield {
        path: media.path,
        status: "queued",
        detail,
        notes,
        command: shellQuote(["ffmpeg", ...args]),
      };
      continue;
    }
    let stat: Deno.FileInfo;
    try {
      stat = await Deno.stat(media.path);
    } catch (err) {
      yield { path: media.path, status: "error", detail: (err as Error).message };
      continue;
    }
    const payload: TranscodePayload = {
      policy,
      policy_file: opts.policyFile,
      force: opts.force,
      fingerprint: fingerprintOf(stat, media.path),
      duration_sec: media.duration,
      summary: detail,
    };
    const job = await queue.enqueue({
      type: TRANSCODE,
      file: media.path,
      payload: payload as unknown as Record<string, unknown>,
      priority: opts.priority,
    });
    active.add(media.path);
    yield { path: media.path, status: "queued", jobId: job.id, detail, notes };
  }
}
