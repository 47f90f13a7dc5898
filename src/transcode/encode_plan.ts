/**
 * What a transcode job's encode will be, decided the same way by the worker holding the job and
 * by one helping with its segments: the source's media (the queue-time probe while the
 * fingerprint matches), the encoder this host has for the policy, and the plan.
 *
 * @module
 */
import { detectEncoder, type EncoderChoice } from "../media/encoders.ts";
import { type EncodePlan, planTranscode, type SkipPlan } from "../media/plan.ts";
import { type MediaInfo, probe } from "../media/probe.ts";
import type { TranscodePayload } from "./payload.ts";

/** The media, encoder and plan of one job on this host. */
export interface JobEncode {
  media: MediaInfo;
  choice: EncoderChoice;
  plan: EncodePlan | SkipPlan;
}

/**
 * Plans the encode of `source` as `payload` asks. The caller has checked that the source's
 * fingerprint is unchanged since the queue-time probe (checked with the rest of the payload), so
 * probing again would only cost time.
 */
export async function planEncode(
  source: string,
  payload: TranscodePayload,
  signal: AbortSignal,
): Promise<JobEncode> {
  const queuedProbe = payload.source_probe;
  const media = queuedProbe ? { ...queuedProbe, path: source } : await probe(source, { signal });
  const policy = payload.policy;
  const tenBit = media.streams.some((s) =>
    s.type === "video" && !s.isCoverArt && (s.bitDepth ?? 8) > 8
  );
  const choice = await detectEncoder(policy.targetVideoCodec, policy.hwAccel, { tenBit, signal });
  const plan = planTranscode(policy, media, { force: payload.force, encoder: choice.encoder });
  return { media, choice, plan };
}
