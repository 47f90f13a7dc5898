/**
 * The transcode job type: what the worker, recovery and cleanup ask of a transcode job.
 *
 * @module
 */
import { dropJobMark } from "../library/job_outcome.ts";
import type { JobType } from "../queue/job_type.ts";
import { readPayload, TRANSCODE } from "./payload.ts";
import { decideRecovery } from "./recovery.ts";
import { ownedBackups } from "./result.ts";
import { runTranscode } from "./run.ts";
import { wantsSegments } from "./segments/open.ts";
import { segmentRecordChanges } from "./segments/run_end.ts";
import { SpeedHistory } from "./speed_history.ts";

/** Transcode jobs, as `vpo transcode` queues them. */
export const transcodeJobType: JobType = {
  name: TRANSCODE,
  summary(job) {
    const payload = readPayload(job.payload);
    return typeof payload === "string" ? "" : payload.summary;
  },
  recover: (stale, config) => decideRecovery(stale, config.jobs.tempDirectory),
  madeFiles: ownedBackups,
  async runner(env) {
    const speed = await SpeedHistory.load(env.home.statsDir);
    const segmentLength = env.config.jobs.segmentLength;
    return {
      estimateSec(job) {
        const payload = readPayload(job.payload);
        if (typeof payload === "string") return null;
        // segments: a segmented job progresses when one segment fits; each is checked as it starts.
        const mediaSec = wantsSegments(payload.duration_sec, segmentLength)
          ? segmentLength!
          : payload.duration_sec;
        return speed.estimateSec(payload.policy.targetVideoCodec, mediaSec);
      },
      run: (claimed, ctx) => runTranscode(claimed, env, speed, ctx),
      ending(claimed, requeued) {
        // An ended job's file may be queued again (failed, cancelled): its mark goes.
        if (!requeued) dropJobMark(env.home, claimed.record);
        return segmentRecordChanges(claimed, env.config.jobs.tempDirectory, requeued);
      },
    };
  },
};
