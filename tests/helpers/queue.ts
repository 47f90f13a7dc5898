/** Helpers for queue tests: temp queues, an actor subprocess, and a census of job files. */
import { join } from "node:path";
import { JobQueue } from "../../src/queue/store.ts";
import { STATES } from "../../src/queue/job.ts";
import { parseJobFileName } from "../../src/queue/layout.ts";
import { PERMS, ROOT } from "./vpo.ts";

/** A queue in a fresh temp dir; `dir` is its parent (for release files and such). */
export async function tempQueue(): Promise<{ dir: string; root: string; queue: JobQueue }> {
  const dir = await Deno.makeTempDir({ prefix: "vpo-queue-" });
  const root = join(dir, "jobs");
  return { dir, root, queue: await JobQueue.open(root) };
}

/** Spawns tests/fixtures/queue_actor.ts on `root`. */
export function spawnActor(root: string, args: string[], env: Record<string, string> = {}) {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", ...PERMS, join(ROOT, "tests/fixtures/queue_actor.ts"), root, ...args],
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
    env,
  }).spawn();
}

/** Runs the actor to its end and returns exit code and stdout lines. */
export async function runActor(root: string, args: string[], env: Record<string, string> = {}) {
  const out = await spawnActor(root, args, env).output();
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
