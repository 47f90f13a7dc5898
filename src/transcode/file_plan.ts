/**
 * The transcode's plan for one file under a whole policy: its transcode section decides whether
 * and how to encode; when it encodes and the policy has track keys too, the same pass carries
 * them out (one ffmpeg run, not an encode and then a copy). A file the transcode leaves alone is
 * the apply job type's to decide. Shared by `vpo transcode`'s decision and the job's run, so that
 * both plan alike.
 *
 * @module
 */
import { type PlanOptions, planTranscode, type TranscodePlan } from "../media/plan.ts";
import type { MediaInfo } from "../media/probe.ts";
import type { TrackPolicy } from "../policy/track_types.ts";
import type { TranscodePolicy } from "../policy/types.ts";
import { planTracksInEncode } from "../tracks/in_encode.ts";
import type { TrackPlan } from "../tracks/plan.ts";

/** A file's transcode plan, with the track plan it carries out; or why the tracks cannot comply. */
export type FilePlan =
  | { plan: TranscodePlan; tracks: TrackPlan | null }
  | { refuse: string };

/**
 * Plans `media` under `policy` and, when it is transcoded, under `tracks` too (`media` must then
 * carry its flags: see `withDispositions`).
 */
export function planFile(
  policy: TranscodePolicy,
  tracks: TrackPolicy | null,
  media: MediaInfo,
  opts: PlanOptions,
): FilePlan {
  const plan = planTranscode(policy, media, opts);
  if (plan.action === "skip" || tracks === null) return { plan, tracks: null };
  // An encode that runs anyway writes the container the track policy asks for. (Whether a file
  // is compliant is judged in its own container: a file that only needs another container is
  // copied into it by the apply job type, never encoded again for it.)
  const target = tracks.container?.target;
  const encode = target && policy.container === "keep"
    ? planTranscode({ ...policy, container: target }, media, opts)
    : plan;
  if (encode.action === "skip") return { plan: encode, tracks: null };
  const merged = planTracksInEncode(tracks, media, encode);
  switch (merged.action) {
    case "unchanged":
      return { plan: encode, tracks: null };
    case "refuse":
      return { refuse: merged.reason };
    case "labelled":
      return { plan: merged.plan, tracks: merged.tracks };
  }
}
