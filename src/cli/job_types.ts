/**
 * The job types the `vpo` command knows, and how `vpo transcode` decides between them for each
 * file. A new type of job is added here and nowhere else above its own folder.
 *
 * @module
 */
import { applyDecider } from "../apply/decider.ts";
import { applyJobType } from "../apply/job_type.ts";
import { policyHash } from "../library/decisions.ts";
import { eitherOf, type FileDecider } from "../library/queue_scan.ts";
import type { PolicyFile } from "../policy/policy.ts";
import { JobTypes } from "../queue/job_type.ts";
import { transcodeDecider } from "../transcode/decider.ts";
import { transcodeJobType } from "../transcode/job_type.ts";

/** Every job type the CLI runs, recovers and cleans up after. */
export const JOB_TYPES: JobTypes = new JobTypes([transcodeJobType, applyJobType]);

/** What deciding a file needs besides its policy. */
export interface DecideOptions {
  /** Absolute path of the policy file, recorded in each job; null for the built-in default. */
  policyFile: string | null;
  /** Queue files even when compliant or matched by skip_if (a transcode's decision). */
  force: boolean;
  /** Give each queued file its exact ffmpeg command. */
  dryRun: boolean;
  /** Temp output directory shown in dry-run commands; null means beside the source. */
  tempDirectory: string | null;
  /** CPU cores for the thread options of dry-run commands; null for no limit. */
  cpuCores: number | null;
}

/**
 * How each file is decided under `policy`, and the key the library remembers the decisions
 * under. A file the transcode section encodes is a transcode job, which carries out the track
 * keys in the same pass; a file it leaves alone (compliant, skip_if) is an apply job when its
 * tracks must change; a policy of track keys only queues apply jobs alone.
 */
export function deciderFor(
  policy: PolicyFile,
  opts: DecideOptions,
): { policyKey: string; decide: FileDecider } {
  const { transcode, tracks } = policy;
  const transcodes = transcode && transcodeDecider({ ...opts, policy: transcode, tracks });
  const applies = tracks && applyDecider({ ...opts, tracks, policy: transcode });
  return {
    policyKey: policyHash(transcode, opts.force, tracks),
    decide: transcodes && applies ? eitherOf(transcodes, applies) : (transcodes ?? applies)!,
  };
}
