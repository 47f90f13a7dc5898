/**
 * Where things live under the queue root, and how job file names are formed and read.
 *
 * ```text
 * <root>/queued/<id>.json          waiting
 * <root>/running/<id>.<token>.json claimed; the token is the claim's capability (fencing)
 * <root>/completed|failed|cancelled/<id>.json
 * <root>/live/<id>.<token>.json    a running job's progress and replace steps (worker-owned)
 * <root>/requests/<id>.cancel      a request to stop a running job
 * <root>/.tmp/                     temp files before they are published by rename or link
 * ```
 *
 * @module
 */
import { join } from "node:path";
import { type JobState, STATES } from "./job.ts";

/** Helper directories beside the five state directories. */
export const HELPER_DIRS = ["live", "requests", ".tmp"] as const;

/** A file name in a state directory, split into the job id and the claim token (if any). */
export interface JobFileName {
  name: string;
  id: string;
  token: string | null;
}

const NAME_RE = /^([0-9a-f]{8,64})(?:\.([0-9a-z]+))?(?:\.[^/]*)?\.json$/;

/**
 * Reads a job file name. Any `<id>[.suffix].json` counts, so that a file a person moved or copied
 * (`mv running/<id>.<token>.json queued/`) is still a job; dot files are temp files, not jobs.
 */
export function parseJobFileName(name: string): JobFileName | null {
  if (name.startsWith(".")) return null;
  const m = NAME_RE.exec(name);
  if (!m) return null;
  return { name, id: m[1], token: m[2] ?? null };
}

/** Random lower-case hex of `bytes` bytes. */
export function randomHex(bytes: number): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(bytes)))
    .map((b) => b.toString(16).padStart(2, "0"))
    .join("");
}

/** A new job id: 128 random bits, so ids never collide however many jobs are made. */
export const newJobId = (): string => randomHex(16);
/** A new claim token, unique among the claims of one job. */
export const newToken = (): string => randomHex(6);

/** Paths under one queue root. */
export class QueueLayout {
  constructor(readonly root: string) {}
  stateDir(state: JobState): string {
    return join(this.root, state);
  }
  get tmpDir(): string {
    return join(this.root, ".tmp");
  }
  get liveDir(): string {
    return join(this.root, "live");
  }
  get requestsDir(): string {
    return join(this.root, "requests");
  }
  /** Every directory the queue needs, in creation order. */
  allDirs(): string[] {
    return [...STATES.map((s) => this.stateDir(s)), ...HELPER_DIRS.map((d) => join(this.root, d))];
  }
  jobPath(state: JobState, id: string, token: string | null = null): string {
    return join(this.stateDir(state), token ? `${id}.${token}.json` : `${id}.json`);
  }
  livePath(id: string, token: string): string {
    return join(this.liveDir, `${id}.${token}.json`);
  }
  cancelRequestPath(id: string): string {
    return join(this.requestsDir, `${id}.cancel`);
  }
}
