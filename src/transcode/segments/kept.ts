/**
 * A segmented job that fails for lack of disk space keeps its finished segments: the disk is not
 * freed by retrying tonight, but the user frees it in a minute, and the segments may be hours of
 * several hosts' work. See docs/design.md, "Segments kept on a full disk".
 *
 * @module
 */
import { NoSpaceFailure } from "../../errors.ts";
import { formatBytes } from "../../util/format.ts";
import { shortId } from "../../util/ids.ts";
import { readSegmentProgress } from "./progress.ts";
import { segmentDirSize } from "./segment_dir.ts";

/**
 * The job failed for lack of space and its segment directory and `segment_progress` stay for
 * `vpo jobs retry` (the transcode type's `ending` hook keeps them on this failure only).
 */
export class SegmentsKeptFailure extends NoSpaceFailure {}

/**
 * `err` as a {@link SegmentsKeptFailure} when it is a {@link NoSpaceFailure} (or vpo's own write
 * failed with ENOSPC: resuming writes in the segment directory) and job `id`'s segment directory
 * `dir` holds finished segments, its one line saying how many, their size and what to do;
 * otherwise `err` itself (nothing worth keeping, or another failure).
 */
export async function keepSegmentsOnNoSpace(
  err: unknown,
  dir: string,
  id: string,
): Promise<unknown> {
  const noSpace = err instanceof NoSpaceFailure ||
    (err instanceof Error && (err as { code?: string }).code === "ENOSPC");
  if (!noSpace || err instanceof SegmentsKeptFailure) return err;
  const progress = await readSegmentProgress(dir, id, null).catch(() => null);
  if (!progress || progress.done === 0) return err;
  const short = shortId(id);
  return new SegmentsKeptFailure(
    `${err.message}; ${progress.done}/${progress.total} segments kept (${
      formatBytes(segmentDirSize(dir))
    } in ${dir}): free space, then \`vpo jobs retry ${short}\` resumes them ` +
      `(or remove the job, then \`vpo jobs cleanup --remove-temp\` deletes them)`,
    err instanceof NoSpaceFailure ? err.detail : [],
  );
}
