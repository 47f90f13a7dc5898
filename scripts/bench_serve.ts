/**
 * The `serve` section of scripts/bench.ts: time to first byte of the page and of one page of
 * `/api/jobs` from a running `vpo serve` with 100,000 jobs on disk, beside the wall time of
 * `vpo jobs list --limit 50` on the same queue (a new process each time, as a user runs it).
 *
 * @module
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { CLI_PERMISSIONS } from "./permissions.ts";
import { QUIET_MS } from "../src/queue/scan.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));

/** One measured row, with the ratio to `vpo jobs list --limit 50` in its note. */
export interface ServeRow {
  name: string;
  ms: number;
  note: string;
}

/** Milliseconds from sending a GET to its first body byte. */
async function ttfb(url: string): Promise<number> {
  const start = performance.now();
  const res = await fetch(url);
  const reader = res.body!.getReader();
  await reader.read();
  const ms = performance.now() - start;
  await reader.cancel();
  if (!res.ok) throw new Error(`GET ${url}: ${res.status}`);
  return ms;
}

/** The first line a process prints (the server's address); the rest is left unread. */
async function firstLine(stream: ReadableStream<Uint8Array>): Promise<string> {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
  }
  reader.releaseLock();
  return text.split("\n")[0];
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * Runs the measurements on the filled queue of `home`: `vpo serve` runs with the CLI's
 * permissions; `timeList` times one `vpo jobs list --limit 50` process.
 */
export async function benchServe(
  home: string,
  reps: number,
  timeList: () => Promise<number>,
): Promise<ServeRow[]> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      ...CLI_PERMISSIONS,
      join(ROOT, "cli.ts"),
      "serve",
      "--listen",
      "127.0.0.1:0",
    ],
    env: { VPO_HOME: home },
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  try {
    const first = await firstLine(child.stdout);
    const base = /http:\/\/\S+\//.exec(first)?.[0];
    if (!base) throw new Error(`vpo serve did not start: ${first}`);
    // The first /api/jobs of a fresh server has nothing cached yet: shown on its own.
    const cold = await ttfb(`${base}api/jobs?limit=50`);
    const lists = [];
    for (let i = 0; i < reps; i++) lists.push(await timeList());
    const list = median(lists);
    const warm = async (path: string) => {
      const xs = [];
      for (let i = 0; i < reps; i++) xs.push(await ttfb(base + path));
      return median(xs);
    };
    // Steady state: the caches keep a listing only of a directory that had been still for
    // QUIET_MS, and the queue was just filled.
    await new Promise((resolve) => setTimeout(resolve, QUIET_MS));
    const page = await warm("");
    const jobs = await warm("api/jobs?limit=50");
    const queuedPage = await warm("api/jobs?status=queued&limit=50&offset=50000");
    const finishedPage = await warm("api/jobs?status=finished&limit=50");
    const stats = await warm("api/stats");
    const ratio = (ms: number) => `${(ms / list).toFixed(3)}x of jobs list --limit 50`;
    return [
      { name: "vpo jobs list --limit 50 (process)", ms: list, note: "1x" },
      { name: "serve: page, first byte", ms: page, note: ratio(page) },
      { name: "serve: /api/jobs?limit=50, first byte", ms: jobs, note: ratio(jobs) },
      {
        name: "serve: /api/jobs queued offset 50000, first byte",
        ms: queuedPage,
        note: ratio(queuedPage),
      },
      {
        name: "serve: /api/jobs finished, first page, first byte",
        ms: finishedPage,
        note: ratio(finishedPage),
      },
      { name: "serve: /api/stats, first byte (cached)", ms: stats, note: ratio(stats) },
      { name: "serve: first /api/jobs of a fresh server", ms: cold, note: ratio(cold) },
    ];
  } finally {
    child.kill("SIGTERM");
    await child.status;
  }
}
