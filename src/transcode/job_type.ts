/**
 * The transcode job type: what the worker, recovery and cleanup ask of a transcode job.
 *
 * @module
 */
import type { JobType } from "../queue/job_type.ts";
import { readPayload, TRANSCODE } from "./payload.ts";
import { decideRecovery } from "./recovery.ts";
import { ownedBackups } from "./result.ts";
import { runTranscode } from "./run.ts";
import { SpeedHistory } from "./speed_history.ts";

/** Transcode jobs, as `vpo transcode` queues them. */
export const transcodeJobType: JobType = {
  name: TRANSCODE,
  summary(job) {
    const payload = readPayload(job.payload);
    return typeof payload === "string" ? "" : payload.summary;
  },
  recover: decideRecovery,
  madeFiles: (job) => ownedBackups(job.result),
  async runner(env) {
    const speed = await SpeedHistory.load(env.home.statsDir);
    return {
      estimateSec(job) {
        const payload = readPayload(job.payload);
        if (typeof payload === "string") return null;
        return speed.estimateSec(payload.policy.targetVideoCodec, payload.duration_sec);
      },
      run: (claimed, ctx) => runTranscode(claimed, env, speed, ctx),
    };
  },
};
