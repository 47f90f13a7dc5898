/**
 * `vpo transcode`'s decision for a file, for the transcode job type: whether it needs encoding
 * (and the policy's track keys carried out in the same pass), with the job's payload: a snapshot
 * of the policy and the source's fingerprint. The scan around it is `src/library/queue_scan.ts`.
 *
 * @module
 */
import { tmpdir } from "node:os";
import { join } from "node:path";
import { detectEncoder } from "../media/encoders.ts";
import { buildFfmpegArgs } from "../media/ffmpeg_args.ts";
import type { EncodePlan } from "../media/plan.ts";
import { type MediaInfo, withDispositions } from "../media/probe.ts";
import type { FileDecider } from "../library/queue_scan.ts";
import type { TrackPolicy } from "../policy/track_types.ts";
import type { TargetQuality, TranscodePolicy } from "../policy/types.ts";
import { sourcePayloadOf } from "../replace/source_payload.ts";
import { dryRunCommand } from "../replace/temp_files.ts";
import { planFile } from "./file_plan.ts";
import { TRANSCODE, type TranscodePayload } from "./payload.ts";

/** Options of {@link transcodeDecider}. */
export interface TranscodeDeciderOptions {
  /** Policy to plan with; each job stores a snapshot of it. */
  policy: TranscodePolicy;
  /** The policy's track keys, carried out by a transcode in the same pass; null for none. */
  tracks: TrackPolicy | null;
  /** Absolute path of the policy file, recorded in each job; null for the built-in default. */
  policyFile: string | null;
  /** Queue files even when compliant or matched by skip_if. */
  force: boolean;
  /** Give each queued file its exact ffmpeg command. */
  dryRun: boolean;
  /** Temp output directory shown in dry-run commands; null means beside the source. */
  tempDirectory: string | null;
  /** CPU cores for the thread options of dry-run commands; null for no limit. */
  cpuCores: number | null;
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

/** Decides for each file whether it is transcoded, and how. */
export function transcodeDecider(opts: TranscodeDeciderOptions): FileDecider {
  return async (probed) => {
    const { policy, tracks } = opts;
    const media = tracks ? await withDispositions(probed) : probed;
    const tenBit = media.streams.some((s) =>
      s.type === "video" && !s.isCoverArt && (s.bitDepth ?? 8) > 8
    );
    const choice = await detectEncoder(policy.targetVideoCodec, policy.hwAccel, { tenBit });
    const planned = planFile(policy, tracks, media, { force: opts.force, encoder: choice.encoder });
    if ("refuse" in planned) {
      return { action: "skip", kind: "tracks_refused", reason: planned.refuse };
    }
    const plan = planned.plan;
    if (plan.action === "skip") return { action: "skip", kind: plan.kind, reason: plan.reason };
    const changes = planned.tracks ? `; tracks: ${planned.tracks.summary}` : "";
    const detail = `${describeVideo(media)} -> ${
      describeTarget(plan, policy.targetQuality)
    }${changes}`;
    const notes = [
      ...(choice.note ? [choice.note] : []),
      ...(policy.targetQuality && opts.dryRun ? [SEARCH_NOTE] : []),
      ...plan.notes,
    ];
    const command = opts.dryRun
      ? dryRunCommand(
        media.path,
        opts.tempDirectory,
        (temp) =>
          buildFfmpegArgs(plan, media.path, temp, {
            cpuCores: opts.cpuCores,
            coverArtDir: join(tmpdir(), "vpo-covers"),
          }),
      )
      : undefined;
    return {
      action: "queue",
      type: TRANSCODE,
      detail,
      notes,
      command,
      payload: (stat) => {
        const payload: TranscodePayload = {
          policy,
          ...(tracks ? { tracks } : {}),
          ...sourcePayloadOf(media, stat, { ...opts, summary: detail }),
        };
        return payload;
      },
    };
  };
}
