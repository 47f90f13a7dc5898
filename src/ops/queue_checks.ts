/**
 * The queue's health as `vpo doctor` reports it: stale running jobs, jobs found in two states,
 * orphan temp outputs, this host's clock against the queue file system's, and live workers.
 * Everything here only looks; `vpo jobs recover` and `vpo jobs cleanup` are what repair.
 *
 * @module
 */
import { hostname } from "node:os";
import { runCaptured } from "../media/exec.ts";
import { STATES } from "../queue/job.ts";
import { listJobNames } from "../queue/scan.ts";
import type { JobQueue } from "../queue/store.ts";
import { fileSystemNow } from "../util/durable_fs.ts";
import { formatBytes, plural } from "../util/format.ts";
import { shortId } from "../util/ids.ts";
import { findOrphanTemps } from "../replace/temp_files.ts";
import { type Check, check } from "./check.ts";
import { QueueLayout } from "../queue/layout.ts";

/** Skew between this host and the queue's file system worth a warning, in seconds. */
const SKEW_WARN_SEC = 5;

/** Running jobs whose heartbeat (ctime, on the file system's clock) is older than staleAfter. */
export async function checkStaleJobs(jobsDir: string, staleAfterSec: number): Promise<Check> {
  const layout = new QueueLayout(jobsDir);
  const fsNow = await fileSystemNow(layout.tmpDir);
  const stale: string[] = [];
  const names = listJobNames(layout.stateDir("running"));
  for (const name of names) {
    try {
      const info = Deno.statSync(`${layout.stateDir("running")}/${name.name}`);
      const last = info.ctime?.getTime() ?? info.mtime?.getTime() ?? fsNow;
      const age = (fsNow - last) / 1000;
      if (age > staleAfterSec) stale.push(`${shortId(name.id)} (${Math.round(age)} s)`);
    } catch {
      // Finished while we looked.
    }
  }
  if (stale.length === 0) {
    return check(
      "ok",
      "running jobs",
      `${names.length} running, none stale (worker.stale_after ${staleAfterSec} s)`,
    );
  }
  return check(
    "warn",
    "running jobs",
    `${stale.length} stale: no heartbeat for over ${staleAfterSec} s: ${
      stale.slice(0, 5).join(", ")
    }`,
    "vpo jobs recover (a worker does it when it starts)",
  );
}

/** Job ids whose files sit in more than one state directory (a crash mid-move). */
export function checkDuplicateJobs(jobsDir: string): Check {
  const layout = new QueueLayout(jobsDir);
  const seen = new Map<string, string[]>();
  for (const state of STATES) {
    for (const name of listJobNames(layout.stateDir(state))) {
      seen.set(name.id, [...seen.get(name.id) ?? [], state]);
    }
  }
  const twice = [...seen].filter(([, states]) => states.length > 1);
  if (twice.length === 0) {
    return check("ok", "job states", `${plural(seen.size, "job")}, each in one state`);
  }
  const shown = twice.slice(0, 5).map(([id, s]) => `${shortId(id)} (${s.join(" + ")})`);
  return check(
    "warn",
    "job states",
    `${plural(twice.length, "job")} in two states: ${shown.join(", ")}`,
    "vpo jobs recover keeps the newest copy; or look with vpo jobs show ID",
  );
}

/** Temp outputs no running claim owns. */
export function checkOrphanTemps(queue: JobQueue, tempDirectory: string | null): Check {
  const orphans = findOrphanTemps(queue, tempDirectory);
  if (orphans.length === 0) return check("ok", "temp files", "no orphan temp outputs");
  const bytes = orphans.reduce((sum, p) => {
    try {
      return sum + Deno.lstatSync(p).size;
    } catch {
      return sum;
    }
  }, 0);
  return check(
    "warn",
    "temp files",
    `${plural(orphans.length, "orphan temp output")} (${formatBytes(bytes)}), e.g. ${orphans[0]}`,
    "vpo jobs cleanup --remove-temp",
  );
}

/** This host's clock against the file system's (the mtime of a file just written there). */
export async function checkClock(jobsDir: string): Promise<{ check: Check; skewSec: number }> {
  const before = Date.now();
  const fsNow = await fileSystemNow(new QueueLayout(jobsDir).tmpDir);
  const after = Date.now();
  // The file got its mtime somewhere between before and after.
  const skewSec = Math.round(((before + after) / 2 - fsNow) / 100) / 10;
  const text = `this host is ${Math.abs(skewSec)} s ${
    skewSec >= 0 ? "ahead of" : "behind"
  } the queue's file system`;
  return {
    skewSec,
    check: Math.abs(skewSec) >= SKEW_WARN_SEC
      ? check(
        "warn",
        "clock",
        text,
        "run NTP (systemd-timesyncd, chrony) on this host and the file server; heartbeats use the file system's clock, but --end-by uses this one",
      )
      : check("ok", "clock", text),
  };
}

/** Is a worker running now: on this host (by process), and on any host (by running jobs)? */
export async function checkWorkers(queue: JobQueue): Promise<Check> {
  const here = await localWorkerPids();
  const running = queue.list({ status: "running" }).jobs;
  const holders = new Set<string>();
  for (const job of running) {
    const live = queue.readLive(job);
    if (live) holders.add(`${live.worker.host}:${live.worker.pid}`);
  }
  const me = hostname();
  const elsewhere = [...holders].filter((h) => !h.startsWith(`${me}:`));
  const parts = [
    here === null
      ? "cannot list processes (no ps)"
      : here.length === 0
      ? "no worker running on this host"
      : `worker running on this host (pid ${here.join(", ")})`,
    elsewhere.length ? `jobs held by workers on other hosts: ${elsewhere.join(", ")}` : null,
  ].filter(Boolean);
  return check("ok", "workers", parts.join("; "));
}

/** Pids of `vpo jobs start` processes on this host (ps, because Deno reads /proc only with -A). */
async function localWorkerPids(): Promise<number[] | null> {
  try {
    const run = await runCaptured("ps", ["-eo", "pid=,args="]);
    if (run.code !== 0) return null;
    return run.stdout.split("\n")
      .map((l) => l.trim().match(/^(\d+)\s+(.*)$/))
      .filter((m): m is RegExpMatchArray => m !== null)
      .filter(([, pid, args]) =>
        Number(pid) !== Deno.pid && /(^|[\s/])(vpo|cli\.ts)\s.*\bjobs\s+start\b/.test(args)
      )
      .map(([, pid]) => Number(pid));
  } catch {
    return null;
  }
}
