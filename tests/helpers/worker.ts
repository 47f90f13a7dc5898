/**
 * Helpers for worker tests: `vpo jobs start` as a live subprocess whose output can be waited on,
 * the queue as `vpo jobs list --json` shows it, and the facts about files the tests assert on
 * (bytes, streams, leftover temp outputs).
 *
 * @module
 */
import { join } from "node:path";
import { type ClipOptions, makeClip } from "./clips.ts";
import { LineReader, sleep } from "./queue.ts";
import { CLI, TempHome } from "./vpo.ts";
import { CLI_PERMISSIONS } from "../../scripts/permissions.ts";

export { sleep };

/** Heartbeats every 0.2 s, stale after 1 s: recovery tests need not wait minutes. */
export const FAST_RECOVERY = "worker:\n  heartbeat_interval: 0.2\n  stale_after: 1\n";
/** More than stale_after: job files' ctime, which staleness is judged by, has 1 s resolution. */
export const STALE_WAIT_MS = 2200;

/** A job as `vpo jobs list --json` prints it (only the fields the tests read). */
export interface JobJson {
  status: "queued" | "running" | "completed" | "failed" | "cancelled";
  id: string;
  /** The job type ("transcode", "apply"). */
  type: string;
  file: string | null;
  /** The job file. */
  path: string;
  attempts: number;
  progress: number | null;
  error: string | null;
  result: Record<string, unknown> | null;
  history: { at: string; event: string; detail?: string }[];
  live: { progress?: { percent: number | null } } | null;
}

/** `vpo jobs list --json`, every job. */
export async function listJobs(home: TempHome): Promise<JobJson[]> {
  const out = await home.run(["jobs", "list", "--json"]);
  if (out.code !== 0) throw new Error(`jobs list failed (${out.code}): ${out.stderr}`);
  return JSON.parse(out.stdout) as JobJson[];
}

/** The only job of the queue (fails the test when there is not exactly one). */
export async function onlyJob(home: TempHome): Promise<JobJson> {
  const jobs = await listJobs(home);
  if (jobs.length !== 1) {
    throw new Error(`expected one job, found ${jobs.length}: ${JSON.stringify(jobs, null, 2)}`);
  }
  return jobs[0];
}

/** Every job file under the queue, as "state:id" (a job in two places shows twice). */
export function jobFiles(home: TempHome): string[] {
  const out: string[] = [];
  for (const state of ["queued", "running", "completed", "failed", "cancelled"]) {
    for (const e of Deno.readDirSync(join(home.jobsDir, state))) {
      if (!e.name.startsWith(".") && e.name.endsWith(".json")) {
        out.push(`${state}:${e.name.split(".")[0]}`);
      }
    }
  }
  return out.sort();
}

/** Polls `check` every 100 ms until it returns a truthy value; fails after `timeoutMs`. */
export async function waitUntil<T>(
  what: string,
  check: () => T | Promise<T>,
  timeoutMs = 30_000,
): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs;
  while (true) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

/** A running `vpo jobs start`, its stdout collected line by line as it comes. */
export class WorkerProcess {
  readonly lines: string[] = [];
  readonly #child: Deno.ChildProcess;
  readonly #stdoutDone: Promise<void>;
  readonly #stderr: Promise<string>;

  private constructor(child: Deno.ChildProcess) {
    this.#child = child;
    const reader = new LineReader(child.stdout);
    this.#stdoutDone = (async () => {
      for (let line = await reader.next(); line !== null; line = await reader.next()) {
        this.lines.push(line);
      }
    })();
    this.#stderr = new Response(child.stderr).text();
  }

  /** Spawns `vpo jobs start ...args` with `home`. */
  static start(home: TempHome, args: string[] = [], env: Record<string, string> = {}) {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--quiet", ...CLI_PERMISSIONS, CLI, "jobs", "start", ...args],
      env: { VPO_HOME: home.vpoHome, NO_COLOR: "1", ...env },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    return new WorkerProcess(child);
  }

  get pid(): number {
    return this.#child.pid;
  }

  get stdout(): string {
    return this.lines.join("\n");
  }

  /** Waits for a stdout line matching `re` and returns it. */
  async waitForLine(re: RegExp, timeoutMs = 30_000): Promise<string> {
    return await waitUntil(`a line matching ${re} in:\n${this.stdout}`, () => {
      return this.lines.find((l) => re.test(l));
    }, timeoutMs);
  }

  kill(signal: Deno.Signal): void {
    try {
      this.#child.kill(signal);
    } catch {
      // Already exited.
    }
  }

  /** Waits for the exit; returns the code, signal and whole output. */
  async exit(): Promise<
    { code: number; signal: Deno.Signal | null; stdout: string; stderr: string }
  > {
    const status = await this.#child.status;
    await this.#stdoutDone;
    return {
      code: status.code,
      signal: status.signal,
      stdout: this.stdout,
      stderr: await this.#stderr,
    };
  }

  /** For `finally`: kills the worker (and so its ffmpeg, by the process group) if still alive. */
  async dispose(): Promise<void> {
    this.kill("SIGKILL");
    await this.exit().catch(() => {});
  }
}

/** Size and SHA-256 of a file: what "the original's bytes" means in assertions. */
export async function digest(path: string): Promise<{ size: number; sha256: string }> {
  const bytes = await Deno.readFile(path);
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return {
    size: bytes.length,
    sha256: Array.from(hash, (b) => b.toString(16).padStart(2, "0")).join(""),
  };
}

/** True when `path` exists (without following a final symlink). */
export function exists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Every vpo temp output (`.vpo-*.partial`) under `dir`, recursively. */
export function findPartials(dir: string): string[] {
  const found: string[] = [];
  const walk = (d: string) => {
    for (const e of Deno.readDirSync(d)) {
      const path = join(d, e.name);
      if (e.isDirectory) walk(path);
      else if (/^\.vpo-.*\.partial$/s.test(e.name)) found.push(path);
    }
  };
  walk(dir);
  return found;
}

/** Names in `dir` (not recursive), sorted: the "what else is there" check. */
export function namesIn(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name).sort();
}

/** One stream as ffprobe reports it (the fields the tests read). */
export interface ProbedStream {
  index: number;
  codec_type: string;
  codec_name?: string;
  width?: number;
  height?: number;
  pix_fmt?: string;
  disposition?: { attached_pic?: number };
  tags?: Record<string, string>;
}

/** ffprobe of a file: format name and streams. */
export async function ffprobe(
  path: string,
): Promise<{ format: { format_name: string; duration?: string }; streams: ProbedStream[] }> {
  const out = await new Deno.Command("ffprobe", {
    args: ["-v", "error", "-show_format", "-show_streams", "-of", "json", `file:${path}`],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`ffprobe ${path}: ${new TextDecoder().decode(out.stderr)}`);
  }
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

/** Writes a policy file `name` in `dir` with the given `transcode:` keys; returns its path. */
export async function writePolicy(
  dir: string,
  name: string,
  transcode: Record<string, string | number | boolean>,
): Promise<string> {
  const path = join(dir, name);
  const keys = Object.entries(transcode).map(([k, v]) => `  ${k}: ${v}`).join("\n");
  await Deno.writeTextFile(path, `schema_version: 1\ntranscode:\n${keys}\n`);
  return path;
}

/**
 * A 640x360 clip whose encode takes a few seconds on one core, so that there is time to interrupt
 * it: 14 s with one aac track unless `opts` say otherwise. Returns its absolute path.
 */
export function longClip(
  path: string,
  opts: Pick<ClipOptions, "duration" | "audio"> = {},
): Promise<string> {
  return makeClip(path, { size: "640x360", duration: 14, audio: ["aac"], ...opts });
}

/**
 * Writes slow.yaml in `dir`: hevc with x265's "slower" preset, an encode that is sure to be still
 * running when it is interrupted. Returns its path.
 */
export function slowPolicy(dir: string): Promise<string> {
  return writePolicy(dir, "slow.yaml", { target_video_codec: "hevc", preset: "slower" });
}

/**
 * Pids of live processes whose command line mentions `text` (a test's own temp dir): the ffmpeg
 * a SIGKILLed worker may leave behind. Each was started by the test, so it is the test's to end.
 * Read with `ps`, because Deno lets only --allow-all read /proc.
 */
export async function processesMentioning(text: string): Promise<number[]> {
  const out = await new Deno.Command("ps", {
    args: ["-eo", "pid=,stat=,args="],
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).output();
  const pids: number[] = [];
  for (const line of new TextDecoder().decode(out.stdout).split("\n")) {
    const m = /^\s*(\d+)\s+(\S+)\s(.*)$/.exec(line);
    // Zombies (stat Z) are dead already, only not yet reaped by their parent.
    if (m && !m[2].startsWith("Z") && Number(m[1]) !== Deno.pid && m[3].includes(text)) {
      pids.push(Number(m[1]));
    }
  }
  return pids;
}

/** A TempHome with an empty `media` directory for the test's clips. */
export async function makeMediaHome(config?: string): Promise<{ home: TempHome; media: string }> {
  const home = await TempHome.create(config);
  const media = join(home.dir, "media");
  await Deno.mkdir(media);
  return { home, media };
}

/** Kills what the test left running under `home` (by pid), then removes the home. */
export async function disposeHome(home: TempHome): Promise<void> {
  try {
    for (const pid of await processesMentioning(home.dir)) {
      try {
        Deno.kill(pid, "SIGKILL");
      } catch {
        // Gone already.
      }
    }
  } finally {
    await home.cleanup();
  }
}

/** Runs `body` with a fresh {@link makeMediaHome}, disposed of afterwards whatever happens. */
export async function withMediaHome(
  config: string | undefined,
  body: (home: TempHome, media: string) => Promise<void>,
): Promise<void> {
  const { home, media } = await makeMediaHome(config);
  try {
    await body(home, media);
  } finally {
    await disposeHome(home);
  }
}

/** The progress percent in the live file of the running job, read directly (no subprocess). */
export function livePercent(home: TempHome): number | null {
  const dir = join(home.jobsDir, "live");
  for (const e of Deno.readDirSync(dir)) {
    try {
      const live = JSON.parse(Deno.readTextFileSync(join(dir, e.name)));
      if (typeof live?.progress?.percent === "number") return live.progress.percent;
    } catch {
      // Being replaced right now: look again on the next poll.
    }
  }
  return null;
}

/** Mounts a tmpfs of `size` (e.g. "2m") at `dir`; the caller must {@link unmount} it. */
export async function mountTmpfs(dir: string, size: string): Promise<void> {
  await command("mount", ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", dir]);
}

/** Unmounts `dir`, lazily if something still holds it open. */
export async function unmount(dir: string): Promise<void> {
  await command("umount", [dir]).catch(() => command("umount", ["-l", dir]));
}

async function command(name: string, args: string[]): Promise<void> {
  const out = await new Deno.Command(name, { args, stdout: "null", stderr: "piped" }).output();
  if (!out.success) {
    throw new Error(`${name} ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
  }
}

/**
 * Runs `fn` on every item, `limit` at a time (independent homes share two cores well), and
 * throws the first failure once all have ended, so that nothing is still running afterwards.
 */
export async function eachLimited<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  const pending = [...items];
  const errors: unknown[] = [];
  await Promise.all(Array.from({ length: limit }, async () => {
    for (let item = pending.shift(); item !== undefined; item = pending.shift()) {
      try {
        await fn(item);
      } catch (err) {
        errors.push(err);
      }
    }
  }));
  if (errors.length > 0) throw errors[0];
}
