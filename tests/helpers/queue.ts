/** Helpers for queue tests: temp queues, an actor subprocess, and a census of job files. */
import { join } from "node:path";
import { JobQueue } from "../../src/queue/store.ts";
import {
  type JobRecord,
  type JobState,
  newJobRecord,
  serializeJob,
  STATES,
} from "../../src/queue/job.ts";
import { parseJobFileName, QueueLayout } from "../../src/queue/layout.ts";
import { withTempDir } from "./temp.ts";
import { ROOT } from "./vpo.ts";
import { CLI_PERMISSIONS } from "../../scripts/permissions.ts";

const QUEUE_PREFIX = "vpo-queue-";

/** A queue in a fresh temp dir; `dir` is its parent (for release files and such). */
export async function tempQueue(): Promise<{ dir: string; root: string; queue: JobQueue }> {
  return openQueueIn(await Deno.makeTempDir({ prefix: QUEUE_PREFIX }));
}

/** What {@link withTempQueue} hands its callback. */
export interface TempQueue {
  /** The temp dir, parent of `root` (for release files and such). */
  dir: string;
  /** The queue's root directory, `dir`/jobs. */
  root: string;
  queue: JobQueue;
  /** Register subprocesses here: they are SIGKILLed when the callback ends, however it ends. */
  children: Children;
}

/**
 * Runs `fn` on a queue in a fresh temp dir; then, whether `fn` returned or threw, kills the
 * children it registered and removes the dir (children first: they may still be writing in it).
 */
export async function withTempQueue(fn: (q: TempQueue) => Promise<void>): Promise<void> {
  await withTempDir(async (dir) => {
    const children = new Children();
    try {
      await fn({ ...await openQueueIn(dir), children });
    } finally {
      await children.killAll();
    }
  }, QUEUE_PREFIX);
}

async function openQueueIn(dir: string): Promise<{ dir: string; root: string; queue: JobQueue }> {
  const root = join(dir, "jobs");
  return { dir, root, queue: await JobQueue.open(root) };
}

/** Spawns tests/fixtures/queue_actor.ts on `root`. */
export function spawnActor(root: string, args: string[], env: Record<string, string> = {}) {
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      ...CLI_PERMISSIONS,
      join(ROOT, "tests/fixtures/queue_actor.ts"),
      root,
      ...args,
    ],
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
    env,
  }).spawn();
}

/**
 * Runs the actor to its end and returns exit code and stdout lines. With `children`, the actor is
 * registered there, so that a test's `finally` kills it if the test fails before it ends.
 */
export async function runActor(
  root: string,
  args: string[],
  env: Record<string, string> = {},
  children?: Children,
) {
  const child = spawnActor(root, args, env);
  children?.add(child);
  const out = await child.output();
  const stdout = new TextDecoder().decode(out.stdout).split("\n").filter(Boolean);
  return {
    code: out.code,
    signal: out.signal,
    stdout,
    stderr: new TextDecoder().decode(out.stderr),
  };
}

/** Every job file under `root`, as "state:id", sorted. */
export function census(root: string): string[] {
  const out: string[] = [];
  for (const state of STATES) {
    for (const e of Deno.readDirSync(join(root, state))) {
      const n = parseJobFileName(e.name);
      if (n) out.push(`${state}:${n.id}`);
    }
  }
  return out.sort();
}

/** Reads a child's stdout line by line (the stream stays consumed by this reader). */
export class LineReader {
  #reader: ReadableStreamDefaultReader<string>;
  #buf = "";
  constructor(stream: ReadableStream<Uint8Array>) {
    this.#reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  }
  /** The next line, or null at the end of the stream. */
  async next(): Promise<string | null> {
    while (!this.#buf.includes("\n")) {
      const { value, done } = await this.#reader.read();
      if (done) {
        const rest = this.#buf;
        this.#buf = "";
        return rest || null;
      }
      this.#buf += value;
    }
    const i = this.#buf.indexOf("\n");
    const line = this.#buf.slice(0, i);
    this.#buf = this.#buf.slice(i + 1);
    return line;
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A job record with a chosen id and creation time, for tests that need exact output (a fixed id
 * prefix, a known CREATED column). `fields` override anything else.
 */
export function jobRecord(
  id: string,
  input: { type?: string; file?: string | null; priority?: number; createdAt?: string } = {},
  fields: Partial<JobRecord> = {},
): JobRecord {
  const { createdAt, type = "transcode", ...rest } = input;
  const now = createdAt ? new Date(createdAt) : new Date();
  return { ...newJobRecord(id, { ...rest, type }, now), ...fields };
}

/**
 * Writes a job file straight into a state directory (running/ needs a token), the way the queue
 * would have left it, and returns its path. Not durable: for setting up tests quickly.
 */
export async function writeJobFile(
  root: string,
  state: JobState,
  record: JobRecord,
  token: string | null = state === "running" ? "0000test0000" : null,
): Promise<string> {
  const path = new QueueLayout(root).jobPath(state, record.id, token);
  await Deno.mkdir(join(root, state), { recursive: true });
  await Deno.writeTextFile(path, serializeJob(record));
  return path;
}

/** Runs `tasks` at most `width` at a time (on 2 cores more only adds contention). */
export async function pool<T>(tasks: (() => Promise<T>)[], width = 4): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  const lane = async () => {
    while (next < tasks.length) {
      const i = next++;
      results[i] = await tasks[i]();
    }
  };
  await Promise.all(Array.from({ length: width }, lane));
  return results;
}

/** Children a test started, all SIGKILLed (and their pipes drained) by `killAll` in `finally`. */
export class Children {
  readonly #all: Deno.ChildProcess[] = [];

  /** Registers `child` and returns it. */
  add(child: Deno.ChildProcess): Deno.ChildProcess {
    this.#all.push(child);
    return child;
  }

  async killAll(): Promise<void> {
    for (const child of this.#all) {
      try {
        child.kill("SIGKILL"); // also ends a SIGSTOPped child
      } catch {
        // Already exited.
      }
    }
    await Promise.all(this.#all.map((c) => c.status));
    await Promise.all(this.#all.flatMap((c) => [drain(() => c.stdout), drain(() => c.stderr)]));
  }
}

async function drain(stream: () => ReadableStream<Uint8Array>): Promise<void> {
  try {
    await stream().cancel();
  } catch {
    // Consumed by output(), locked by a LineReader, or closed: nothing left to release.
  }
}
