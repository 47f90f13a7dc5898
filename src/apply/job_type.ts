/**
 * The apply job type: a policy's track keys carried out by stream copy. What the worker,
 * recovery, cleanup, `vpo stats`, notifications, `vpo doctor` and `vpo jobs show` ask of an apply
 * job; it was added as docs/design.md's "Adding a job type" says, touching nothing of theirs.
 *
 * @module
 */
import { dropJobMark } from "../library/job_outcome.ts";
import type { JobType } from "../queue/job_type.ts";
import { replaceRecoveryDecision } from "../replace/recovery.ts";
import { APPLY, readApplyPayload } from "./payload.ts";
import { queuedSource, readApplyJob } from "./record.ts";
import { applyFigures, type ApplyReplacedResult, ownedApplyBackups } from "./result.ts";
import { runApply } from "./run.ts";

/**
 * Bytes a second assumed for a stream copy on a NAS (reading the source and writing the copy on
 * the same disks, often over SMB): conservative, so that a long copy is not started right before
 * a deadline. A copy stopped by the deadline anyway loses only itself.
 */
const COPY_BYTES_PER_SEC = 25e6;

/** Apply jobs, as `vpo transcode` queues them for a policy with track keys. */
export const applyJobType: JobType = {
  name: APPLY,
  summary(job) {
    const payload = readApplyPayload(job.payload);
    return typeof payload === "string" ? "" : payload.summary;
  },
  recover(stale, config) {
    const payload = readApplyPayload(stale.job.payload);
    return replaceRecoveryDecision(stale, {
      tempDirectory: config.jobs.tempDirectory,
      source: typeof payload === "string" ? null : payload.fingerprint,
      replaced: (files): ApplyReplacedResult => ({
        outcome: "replaced",
        outcome_detail: "replace finished by recovery after the worker died",
        ...files,
      }),
    });
  },
  madeFiles: ownedApplyBackups,
  runner(env) {
    return Promise.resolve({
      estimateSec(job) {
        const payload = readApplyPayload(job.payload);
        return typeof payload === "string" ? null : payload.fingerprint.size / COPY_BYTES_PER_SEC;
      },
      run: (claimed, ctx) => runApply(claimed, env, ctx),
      ending(claimed, requeued) {
        // An ended job's file may be queued again (failed, cancelled): its mark goes.
        const job = requeued ? null : readApplyJob({ ...claimed.record, result: null });
        const queued = job === null || typeof job === "string" ? null : queuedSource(job);
        if (queued) dropJobMark(env.home, queued);
        return Promise.resolve({});
      },
    });
  },
  figures: applyFigures,
  spaceNeeded(job) {
    // The copy is written whole beside the source (or in the temp directory) before the swap.
    const payload = readApplyPayload(job.payload);
    return typeof payload === "string" || !job.file ? null : payload.fingerprint.size;
  },
  details(job) {
    const payload = readApplyPayload(job.payload);
    return typeof payload === "string" ? [] : [{ label: "Tracks", text: payload.summary }];
  },
};
