/**
 * The transcode job type: what the worker, recovery, cleanup, `vpo stats`, notifications, `vpo
 * doctor` and `vpo jobs show` ask of a transcode job.
 *
 * @module
 */
import { dropJobMark } from "../library/job_outcome.ts";
import type { JobType } from "../queue/job_type.ts";
import { queuedSource } from "./memory.ts";
import { readPayload, TRANSCODE } from "./payload.ts";
import { readTranscodeJob } from "./record.ts";
import { decideRecovery } from "./recovery.ts";
import { ownedTranscodeBackups, transcodeFigures } from "./result.ts";
import { runTranscode } from "./run.ts";
import { wantsSegments } from "./segments/open.ts";
import { segmentRecordChanges } from "./segments/run_end.ts";
import { helpWithSegments } from "./segments/help.ts";
import { segmentLine } from "./segment_progress.ts";
import { shortId } from "../util/ids.ts";
import { firstPieceMediaSec, qualityLine, removeSearchLeftovers } from "./quality_step.ts";
import { SpeedHistory } from "./speed_history.ts";

/** Transcode jobs, as `vpo transcode` queues them. */
export const transcodeJobType: JobType = {
  name: TRANSCODE,
  summary(job) {
    const payload = readPayload(job.payload);
    return typeof payload === "string" ? "" : payload.summary;
  },
  recover: (stale, config) => decideRecovery(stale, config.jobs.tempDirectory),
  madeFiles: ownedTranscodeBackups,
  machineUse: async (home) => (await SpeedHistory.load(home.speedPath())).machineUse(),
  async runner(env) {
    const speed = await SpeedHistory.load(env.home.speedPath());
    const segmentLength = env.config.jobs.segmentLength;
    // Jobs whose segments this worker could not encode: their holder meets the fault itself.
    const gaveUp = new Set<string>();
    return {
      estimateSec(job) {
        const payload = readPayload(job.payload);
        if (typeof payload === "string") return null;
        // segments: a segmented job progresses when one segment fits; each is checked as it starts.
        // A quality target's search keeps every CRF's scores: its first piece is one CRF's
        // samples, and the encode is started only once it fits (quality_step.ts).
        const quality = payload.policy.targetQuality;
        const mediaSec = quality
          ? firstPieceMediaSec(payload.duration_sec, quality)
          : wantsSegments(payload.duration_sec, segmentLength)
          ? segmentLength!
          : payload.duration_sec;
        return speed.estimateSec(payload.policy.targetVideoCodec, mediaSec, env.cpuCores);
      },
      size(job) {
        const payload = readPayload(job.payload);
        return typeof payload === "string" ? null : payload.duration_sec;
      },
      async help(job, ctx) {
        if (gaveUp.has(job.id)) return "none";
        try {
          return await helpWithSegments(job, env, speed, ctx);
        } catch (err) {
          gaveUp.add(job.id);
          ctx.warn(
            `cannot help with ${shortId(job.id)}: ${(err as Error).message}; ` +
              "left to the worker holding it",
          );
          return "none";
        }
      },
      run: (claimed, ctx) => runTranscode(claimed, env, speed, ctx),
      async ending(claimed, requeued, failure) {
        // An ended job's file may be queued again (failed, cancelled): its mark goes.
        // Only what it was queued as counts (the result is being written, or an earlier run's).
        const job = requeued ? null : readTranscodeJob({ ...claimed.record, result: null });
        const queued = job === null || typeof job === "string" ? null : queuedSource(job);
        if (queued) dropJobMark(env.home, queued);
        const temps = env.config.jobs.tempDirectory;
        if (!requeued) await removeSearchLeftovers(claimed, temps);
        return await segmentRecordChanges(claimed, temps, requeued, failure);
      },
    };
  },
  figures: transcodeFigures,
  spaceNeeded(job) {
    // The output is written whole beside the source (or in the temp directory) before the swap.
    const payload = readPayload(job.payload);
    return typeof payload === "string" || !job.file ? null : payload.fingerprint.size;
  },
  details(job, live) {
    const segments = segmentLine(job, live);
    const quality = qualityLine(job, live);
    return [
      ...(segments === null ? [] : [{ label: "Segments", text: segments }]),
      ...(quality === null ? [] : [{ label: "Quality", text: quality }]),
    ];
  },
};
