/**
 * What a job's record keeps of its segments as a run ends.
 *
 * @module
 */
import type { JobFailure } from "../../errors.ts";
import type { ClaimedJob } from "../../queue/claimed_job.ts";
import type { RecordChanges } from "../../queue/transition.ts";
import { readSegmentProgress } from "./progress.ts";
import { SegmentsKeptFailure } from "./kept.ts";
import { removeSegments, segmentDirPath } from "./segment_dir.ts";

/**
 * What a job's record keeps of its segments as a run of `claimed` ends. Requeued (deadline,
 * signal): the segments stay for the next run, and the record shows the progress they make
 * (`jobs list` its percent, `jobs show` its segments and ETA) until then. Failed for lack of
 * space ({@link SegmentsKeptFailure}): kept the same way, for `vpo jobs retry`. Otherwise ended
 * (completed, failed, cancelled): the segment directory is removed and the progress dropped.
 */
export async function segmentRecordChanges(
  claimed: ClaimedJob,
  tempDirectory: string | null,
  requeued: boolean,
  failure: JobFailure | null,
): Promise<RecordChanges> {
  const job = claimed.record;
  if (!job.file) return {};
  const dir = segmentDirPath(job.id, job.file, tempDirectory);
  if (requeued || failure instanceof SegmentsKeptFailure) {
    const window = claimed.live.segments?.window_sec;
    const progress = await readSegmentProgress(
      dir,
      job.id,
      typeof window === "number" ? window : null,
    );
    return progress
      ? { progress: progress.percent, payload: { ...job.payload, segment_progress: progress } }
      : {};
  }
  await removeSegments(dir);
  const { segment_progress: old, ...payload } = job.payload;
  return old === undefined ? {} : { payload };
}
