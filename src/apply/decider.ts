/**
 * `vpo transcode`'s decision for a file under a policy's track keys, for the apply job type:
 * whether its tracks comply, and if not the job that copies them as the policy asks.
 *
 * @module
 */
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FileDecider } from "../library/queue_scan.ts";
import { withDispositions } from "../media/probe.ts";
import type { TrackPolicy } from "../policy/track_types.ts";
import type { TranscodePolicy } from "../policy/types.ts";
import { sourcePayloadOf } from "../replace/source_payload.ts";
import { dryRunCommand } from "../replace/temp_files.ts";
import { buildApplyArgs } from "../tracks/apply_args.ts";
import { planTracks } from "../tracks/plan.ts";
import { APPLY, type ApplyPayload } from "./payload.ts";

/** Options of {@link applyDecider}. */
export interface ApplyDeciderOptions {
  /** The policy's track keys; each job stores a snapshot of them. */
  tracks: TrackPolicy;
  /** The policy's transcode section (part of the library's key); null for none. */
  policy: TranscodePolicy | null;
  /** Absolute path of the policy file, recorded in each job. */
  policyFile: string | null;
  /** `--force`, part of the library's key (a track policy has nothing to force). */
  force: boolean;
  /** Give each queued file its exact ffmpeg command. */
  dryRun: boolean;
  /** Temp output directory shown in dry-run commands; null means beside the source. */
  tempDirectory: string | null;
}

/** Decides for each file whether its tracks must change. */
export function applyDecider(opts: ApplyDeciderOptions): FileDecider {
  return async (probed) => {
    const media = await withDispositions(probed);
    const decision = planTracks(opts.tracks, media);
    if (decision.action === "compliant") {
      return { action: "skip", kind: "compliant", reason: decision.reason };
    }
    if (decision.action === "refuse") {
      return { action: "skip", kind: "tracks_refused", reason: decision.reason };
    }
    const plan = decision.plan;
    const detail = `tracks: ${plan.summary} (stream copy, ${plan.format})`;
    const command = opts.dryRun
      ? dryRunCommand(
        media.path,
        opts.tempDirectory,
        (temp) =>
          buildApplyArgs(plan, media.path, temp, { coverArtDir: join(tmpdir(), "vpo-covers") }),
      )
      : undefined;
    return {
      action: "queue",
      type: APPLY,
      detail,
      notes: [...plan.changes, ...plan.notes],
      command,
      payload: (stat) => {
        const payload: ApplyPayload = {
          tracks: opts.tracks,
          policy: opts.policy,
          ...sourcePayloadOf(media, stat, { ...opts, summary: detail }),
        };
        return payload;
      },
    };
  };
}
