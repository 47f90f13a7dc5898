/**
 * What a transcode job's encode is on this host, decided the same way by the worker holding the
 * job and by one helping with its segments: the encoder this host has for the policy, and the
 * plan (with the track plan it carries out in the same pass), from the source's own probe.
 *
 * @module
 */
import { JobFailure } from "../errors.ts";
import { detectEncoder } from "../media/encoders.ts";
import type { TranscodePlan } from "../media/plan.ts";
import type { MediaInfo } from "../media/probe.ts";
import type { TrackPlan } from "../tracks/plan.ts";
import { planFile } from "./file_plan.ts";
import type { TranscodePayload } from "./payload.ts";

/**
 * The encoder this machine has for the job's policy, and the plan (or why to skip) with the
 * track plan it carries out.
 *
 * @throws JobFailure when the track policy refuses the file.
 */
export async function planEncode(
  payload: TranscodePayload,
  media: MediaInfo,
  signal: AbortSignal,
): Promise<{ plan: TranscodePlan; tracks: TrackPlan | null; encoder: string }> {
  const policy = payload.policy;
  const tenBit = media.streams.some((s) =>
    s.type === "video" && !s.isCoverArt && (s.bitDepth ?? 8) > 8
  );
  const choice = await detectEncoder(policy.targetVideoCodec, policy.hwAccel, { tenBit, signal });
  const opts = { force: payload.force, encoder: choice.encoder };
  const planned = planFile(policy, payload.tracks ?? null, media, opts);
  if ("refuse" in planned) throw new JobFailure(`the track policy refuses it: ${planned.refuse}`);
  return { ...planned, encoder: choice.encoder };
}
