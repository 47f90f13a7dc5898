/**
 * What a transcode job's encode is on this host, decided the same way by the worker holding the
 * job and by one helping with its segments: the encoder this host has for the policy, and the
 * plan, from the source's own probe.
 *
 * @module
 */
import { detectEncoder } from "../media/encoders.ts";
import { planTranscode, type TranscodePlan } from "../media/plan.ts";
import type { MediaInfo } from "../media/probe.ts";
import type { TranscodePayload } from "./payload.ts";

/** The encoder this machine has for the job's policy, and the plan (or why to skip). */
export async function planEncode(
  payload: TranscodePayload,
  media: MediaInfo,
  signal: AbortSignal,
): Promise<{ plan: TranscodePlan; encoder: string }> {
  const policy = payload.policy;
  const tenBit = media.streams.some((s) =>
    s.type === "video" && !s.isCoverArt && (s.bitDepth ?? 8) > 8
  );
  const choice = await detectEncoder(policy.targetVideoCodec, policy.hwAccel, { tenBit, signal });
  const plan = planTranscode(policy, media, { force: payload.force, encoder: choice.encoder });
  return { plan, encoder: choice.encoder };
}
