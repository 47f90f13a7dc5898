/**
 * Claiming (C1-C4 of `protocol.ts`): exactly one caller wins each queued job, by renaming its file
 * to a token name in running/.
 *
 * @module
 */
import { crashPoint } from "../util/crash_point.ts";
import { syncDir, writeFileAtomic } from "../util/durable_fs.ts";
import type { Job, WorkerInfo } from "./job.ts";
import { newToken } from "../util/ids.ts";
import { writeBeat } from "./heartbeat.ts";
import type { QueueLayout } from "./layout.ts";
import { ClaimedJob, type LiveInfo, thisWorker } from "./claimed_job.ts";
import { isProblem, type QueuedIndex, readJobFile } from "./scan.ts";
import { claimConflict, isBusy, isGone } from "./transition.ts";

/** Options of {@link claim}. */
export interface ClaimOptions {
  /** Recorded as the job's worker; this process by default. */
  worker?: WorkerInfo;
  /** Only jobs it accepts are claimed. */
  accept?: (job: Job) => boolean;
  /**
   * Reorders the accepted jobs (given in claim order) before one is picked: a worker running
   * several loops starts the largest of the last few first (C1).
   */
  order?: (jobs: readonly Job[]) => readonly Job[];
}

/**
 * Claims the next job in claim order that `accept` (if given) accepts, or returns null when
 * there is none.
 */
export async function claim(
  layout: QueueLayout,
  queued: QueuedIndex,
  options: ClaimOptions = {},
): Promise<ClaimedJob | null> {
  const worker = options.worker ?? thisWorker();
  // Leftover older copies of finished jobs are passed over untouched (recover() removes them
  // once stale; touching them would keep them looking fresh).
  const leftovers = new Set<string>();
  for (let round = 0; round < 50; round++) {
    let { jobs } = queued.refresh();
    jobs = jobs.filter((j) => !leftovers.has(j.path) && (options.accept?.(j) ?? true));
    if (jobs.length === 0) return null;
    if (options.order) jobs = [...options.order(jobs)];
    // The first job on the first try keeps strict order for a lone worker; after losing a race,
    // pick among the next few so that workers scanning the same order do not starve each other.
    const pick = round === 0
      ? jobs[0]
      : jobs[Math.floor(Math.random() * Math.min(16, jobs.length))];
    // Act on the newest copy only, and never on a job whose other copy is claimed already: a
    // cancel or retry that crashed mid-move can leave two copies, both in queued/. Looked at before
    // the rename too, so that a leftover is passed over untouched (queued/ was just scanned).
    const queuedCopy = jobs.some((j) =>
      j.id === pick.id && j.path !== pick.path && j.rev > pick.rev
    );
    if (queuedCopy || claimConflict(layout, pick)) {
      leftovers.add(pick.path);
      continue;
    }
    const claimed = await tryClaim(layout, queued, pick, worker);
    if (claimed) return claimed;
  }
  return null;
}

async function tryClaim(
  layout: QueueLayout,
  queued: QueuedIndex,
  job: Job,
  worker: WorkerInfo,
): Promise<ClaimedJob | null> {
  const token = newToken();
  const dest = layout.jobPath("running", job.id, token);
  const name = job.path.slice(job.path.lastIndexOf("/") + 1);
  queued.forget(name);
  // A cancel request can only be for a running job: one left from an earlier run of this job
  // must not cancel the run starting now.
  await Deno.remove(layout.cancelRequestPath(job.id)).catch(() => {}); // C1
  // The first heartbeat comes before the claim: nobody may ever see the claimed file without
  // one and judge its age by the queued file's old times.
  const beat = layout.beatPath(job.id, token);
  await writeBeat(beat, true); // C1
  const dropBeat = () => Deno.remove(beat).catch(() => {});
  try {
    await Deno.rename(job.path, dest); // C2
  } catch (err) {
    await dropBeat();
    if (isGone(err) || isBusy(err)) return null;
    throw err;
  }
  crashPoint("claim:renamed");
  await syncDir(layout.stateDir("running")); // C3
  const now = new Date();
  const found = readJobFile(dest, job.id, "running");
  if (found === null) {
    await dropBeat();
    return null;
  }
  if (isProblem(found)) {
    // Edited into garbage between scan and claim: give it back untouched, it will be reported.
    await Deno.rename(dest, job.path).catch(() => {});
    await dropBeat();
    return null;
  }
  if (claimConflict(layout, found)) { // C3
    // The other copy wins, but this one goes back untouched: a live cancel between its
    // publish and remove must find it there, or it would undo its publish and the job would
    // vanish. A crash leftover is dropped by recover() once stale.
    await Deno.rename(dest, job.path).catch(() => {});
    await dropBeat();
    return null;
  }
  const live: LiveInfo = { worker, claimed_at: now.toISOString() };
  // Who runs the job is informational; it needs no fsync (the steps of a replace do).
  await writeFileAtomic(layout.livePath(job.id, token), JSON.stringify(live), { // C4
    durable: false,
  });
  crashPoint("claim:live-written");
  return new ClaimedJob(layout, found, token, live);
}
