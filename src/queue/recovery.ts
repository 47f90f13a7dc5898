/**
 * Recovery and sweeps (R1-R4 of `protocol.ts`): stale running jobs are taken over and moved on,
 * older copies left by a crash mid-transition are set aside, and helper files nobody owns any
 * more are removed.
 *
 * @module
 */
import { join } from "node:path";
import { crashPoint } from "../util/crash_point.ts";
import { fileSystemNow, writeFileAtomic } from "../util/durable_fs.ts";
import { type Job, type JobState, STATES } from "./job.ts";
import { newToken } from "../util/ids.ts";
import type { JobFileName, QueueLayout } from "./layout.ts";
import { dropLiveFiles, type LiveInfo, readLiveFile } from "./claimed_job.ts";
import { heartbeatAgeSec, writeBeat } from "./heartbeat.ts";
import { runningClaims } from "./listing.ts";
import { isProblem, listJobNames, type Problem, readJobFile } from "./scan.ts";
import {
  isBusy,
  isGone,
  isSuperseded,
  newestCopy,
  type RecordChanges,
  supersede,
  transition,
} from "./transition.ts";

/** A running job as {@link recover} found it, for the caller to roll back or forward. */
export interface StaleJob {
  /** The job, already taken over under a new token. */
  job: Job;
  /** Its live file as the dead worker left it; null when missing or unreadable. */
  live: LiveInfo | null;
  /** Seconds since the last heartbeat, on the file system's clock. */
  ageSec: number;
}

/** Where a recovered job goes and what changes; the default requeues it. */
export interface RecoveryDecision {
  /** State to move the job to. */
  state: JobState;
  /** Record fields to change (progress is cleared regardless). */
  changes?: RecordChanges;
  /** Appended to the "recovered" history entry's detail. */
  detail?: string;
}

/** Options of {@link recover}. */
export interface RecoverOptions {
  /** A running job whose heartbeat is older than this many seconds is stale. */
  staleAfterSec: number;
  /** Decides what happens to each stale job (e.g. finish an interrupted file replace). */
  onStale?: (stale: StaleJob) => Promise<RecoveryDecision | null>;
}

/** One job moved by {@link recover}. */
export interface RecoveredJob {
  /** The job's id. */
  id: string;
  /** The state it was moved to. */
  to: JobState;
  /** Why it was judged stale: heartbeat age and, when known, the worker. */
  detail: string;
}

const DAY_MS = 86_400_000;
/**
 * How long a superseded copy is kept: a worker frozen this long after its last step would, on
 * waking, no longer find the marker and undo its publish.
 */
const SUPERSEDED_KEEP_MS = 30 * DAY_MS;

/**
 * Returns stale running jobs (no heartbeat for `staleAfterSec` on the file system's clock) to
 * the queue, or wherever `onStale` decides, recording why. Also drops stale older copies that
 * a crash mid-transition left beside the newest, the live files and cancel requests of jobs
 * that are no longer running, and temp files older than a day.
 */
export async function recover(
  layout: QueueLayout,
  options: RecoverOptions,
): Promise<{ recovered: RecoveredJob[]; problems: Problem[] }> {
  const fsNow = fileSystemNow(layout.tmpDir);
  const runningDir = layout.stateDir("running");
  const recovered: RecoveredJob[] = [];
  const problems: Problem[] = [];
  for (const name of listJobNames(runningDir)) {
    const path = join(runningDir, name.name);
    const beat = name.token ? layout.beatPath(name.id, name.token) : null;
    const ageSec = await heartbeatAgeSec(path, beat, fsNow);
    if (ageSec === null || ageSec <= options.staleAfterSec) continue;
    const current = readJobFile(path, name.id, "running");
    if (current === null) continue;
    if (isProblem(current)) {
      problems.push(current);
      continue;
    }
    // R1. A newer copy of the job in any state, under any name: its mover (a worker's finish,
    // a recovery's requeue) died or froze between publishing it and removing this one.
    if (isSuperseded(layout, current)) {
      // Set aside, not deleted: if that worker wakes up, the marker tells it its move stands.
      await supersede(layout, path);
      if (name.token) await dropLiveFiles(layout, name.id, name.token);
      continue;
    }
    // R2: take the job over under a new token: the old worker's next heartbeat or finish then
    // fails, so it can never finish or resurrect the job after this point. The journal is
    // copied to the new token first, durably: a recovery that crashes or fails after the rename
    // leaves the job under the new token, and the next one must still find what to repair. The
    // new token gets its beat first too, so that another recoverer never judges it by the job
    // file's old times while this one repairs the job's files.
    const heldToken = newToken();
    const held = layout.jobPath("running", name.id, heldToken);
    const live = name.token ? readLiveFile(layout.livePath(name.id, name.token)) : null;
    if (live) {
      await writeFileAtomic(layout.livePath(name.id, heldToken), JSON.stringify(live));
    }
    await writeBeat(layout.beatPath(name.id, heldToken), true);
    crashPoint("recover:journal-copied");
    const dropHeldFiles = () => dropLiveFiles(layout, name.id, heldToken);
    try {
      await Deno.rename(path, held);
    } catch (err) {
      await dropHeldFiles();
      if (isGone(err) || isBusy(err)) continue;
      throw err;
    }
    crashPoint("recover:taken-over");
    const found = readJobFile(held, name.id, "running");
    if (found === null) {
      await dropHeldFiles();
      continue;
    }
    if (isProblem(found)) {
      await Deno.rename(held, path).catch(() => {});
      await dropHeldFiles();
      problems.push(found);
      continue;
    }
    const who = live ? ` (worker ${live.worker.host}:${live.worker.pid})` : "";
    const detail = `heartbeat ${Math.round(ageSec)} s old${who}`;
    const decision = (await options.onStale?.({ job: found, live, ageSec })) ?? // R3
      { state: "queued", changes: { attempts: found.attempts + 1 } };
    await transition(
      layout,
      held,
      found,
      decision.state,
      { progress: null, ...decision.changes },
      "recovered",
      decision.detail ? `${detail}; ${decision.detail}` : detail,
    );
    recovered.push({ id: found.id, to: decision.state, detail });
    await dropHeldFiles();
    if (name.token) await dropLiveFiles(layout, name.id, name.token);
  }
  await dropStaleOlderCopies(layout, fsNow, options.staleAfterSec); // R4
  sweepHelpers(layout, fsNow);
  return { recovered, problems };
}

/**
 * A cancel or retry that died between publishing its new copy and removing the held one left
 * two copies outside running/; the newest rev is the job. An older copy is dropped only once it
 * is stale (the held name's ctime is the moment it was taken), so a live command mid-move is
 * never raced. Copies of equal rev (a hand `cp`) are left alone.
 */
async function dropStaleOlderCopies(
  layout: QueueLayout,
  fsNow: number,
  staleAfterSec: number,
): Promise<void> {
  const copies = new Map<string, { state: JobState; name: JobFileName }[]>();
  for (const state of STATES) {
    if (state === "running") continue;
    for (const name of listJobNames(layout.stateDir(state))) {
      copies.set(name.id, [...copies.get(name.id) ?? [], { state, name }]);
    }
  }
  for (const places of copies.values()) {
    if (places.length < 2) continue;
    const jobs: Job[] = [];
    for (const { state, name } of places) {
      const found = readJobFile(join(layout.stateDir(state), name.name), name.id, state);
      if (found && !isProblem(found)) jobs.push(found);
    }
    if (jobs.length < 2) continue;
    const newest = newestCopy(jobs);
    for (const job of jobs) {
      if (job.rev >= newest.rev) continue;
      const ageSec = heldAgeSec(job.path, fsNow);
      if (ageSec === null || ageSec <= staleAfterSec) continue;
      await supersede(layout, job.path);
    }
  }
}

/** Removes live files and cancel requests of jobs no longer running, and old temp files. */
function sweepHelpers(layout: QueueLayout, fsNow: number): void {
  const runningTokens = runningClaims(layout);
  const runningIds = new Set([...runningTokens].map((claim) => claim.split(".")[0]));
  const sweep = (dir: string, keep: (name: string) => boolean, minAgeMs: number) => {
    for (const entry of Deno.readDirSync(dir)) {
      if (keep(entry.name)) continue;
      const path = join(dir, entry.name);
      try {
        // ctime: when it was renamed here (a moved file keeps its old mtime).
        const info = Deno.statSync(path);
        const since = info.ctime?.getTime() ?? info.mtime?.getTime() ?? 0;
        const min = entry.name.endsWith(".superseded") ? SUPERSEDED_KEEP_MS : minAgeMs;
        if (fsNow - since >= min) Deno.removeSync(path);
      } catch {
        // Already gone, or not ours to judge: leave it.
      }
    }
  };
  sweep(layout.liveDir, (n) => runningTokens.has(n.replace(/\.(json|beat)$/, "")), 60_000);
  sweep(layout.requestsDir, (n) => runningIds.has(n.replace(/\.cancel$/, "")), 60_000);
  sweep(layout.tmpDir, () => false, DAY_MS);
}

/**
 * Seconds since a copy of a job was taken under its held name: its ctime, set by the file system
 * on the rename (mtime where ctime is not reported). Where ctime is not the server's (sshfs,
 * smbnetfs) a copy may look older than it is; that only lets the superseded-marker protocol
 * resolve two copies sooner, which it does safely.
 */
function heldAgeSec(path: string, fsNow: number): number | null {
  try {
    const info = Deno.statSync(path);
    const last = info.ctime?.getTime() ?? info.mtime?.getTime() ?? 0;
    return (fsNow - last) / 1000;
  } catch {
    return null;
  }
}
