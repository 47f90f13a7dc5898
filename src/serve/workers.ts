/**
 * Which workers are alive: a worker shows itself only through the jobs it holds (the beat file
 * it rewrites at every heartbeat, and the live file naming its host and pid), so that is
 * what is read. A worker between two jobs is absent for that moment; with an empty queue it
 * exits anyway.
 *
 * @module
 */
import { join } from "node:path";
import { readLiveFile } from "../queue/claimed_job.ts";
import { beatTime } from "../queue/heartbeat.ts";
import type { JobQueue } from "../queue/store.ts";
import { listJobNames } from "../queue/scan.ts";

/** One worker process, as seen from its running jobs. */
export interface WorkerStatus {
  /** Host name the worker reported. */
  host: string;
  /** Its process id on that host. */
  pid: number;
  /** Ids of the jobs it holds. */
  jobs: string[];
  /** When it claimed its current job (ISO 8601). */
  claimed_at: string;
  /** Its latest heartbeat (the beat file's mtime, ISO 8601). */
  heartbeat_at: string;
  /** Seconds since then, by this host's clock. */
  heartbeat_age_sec: number;
  /** False once the heartbeat is older than `worker.stale_after`: `vpo jobs recover` may take over. */
  alive: boolean;
}

/** The workers holding running jobs, by host and pid; reads only running/ and their live files. */
export function listWorkers(
  queue: JobQueue,
  staleAfterSec: number,
  now = Date.now(),
): WorkerStatus[] {
  const byProcess = new Map<string, WorkerStatus>();
  const running = queue.layout.stateDir("running");
  for (const name of listJobNames(running)) {
    if (!name.token) continue;
    const live = readLiveFile(queue.layout.livePath(name.id, name.token));
    // The beat file's mtime; a job without one (moved in by hand) is judged by its own times.
    let beat = beatTime(queue.layout.beatPath(name.id, name.token));
    if (beat === null) {
      try {
        const info = Deno.statSync(join(running, name.name));
        beat = info.ctime?.getTime() ?? info.mtime?.getTime() ?? 0;
      } catch {
        continue;
      }
    }
    const host = live?.worker.host ?? "?";
    const pid = live?.worker.pid ?? 0;
    const key = `${host}:${pid}`;
    const seen = byProcess.get(key);
    const ageSec = Math.max(0, (now - beat) / 1000);
    if (seen) {
      seen.jobs.push(name.id);
      if (ageSec < seen.heartbeat_age_sec) {
        seen.heartbeat_at = new Date(beat).toISOString();
        seen.heartbeat_age_sec = Math.round(ageSec);
        seen.alive = ageSec <= staleAfterSec;
      }
      continue;
    }
    byProcess.set(key, {
      host,
      pid,
      jobs: [name.id],
      claimed_at: live?.claimed_at ?? new Date(beat).toISOString(),
      heartbeat_at: new Date(beat).toISOString(),
      heartbeat_age_sec: Math.round(ageSec),
      alive: ageSec <= staleAfterSec,
    });
  }
  return [...byProcess.values()].sort((a, b) =>
    a.host < b.host ? -1 : a.host > b.host ? 1 : a.pid - b.pid
  );
}
