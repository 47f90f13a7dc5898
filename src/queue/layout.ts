/**
 * Every path vpo uses under its home (`$VPO_HOME`, default `~/.vpo`): the home's own files, the
 * queue's directories, and how job file names are formed and read. The README's "On disk" lists
 * them as one tree; `protocol.ts` says how files move between them.
 *
 * @module
 */
import { hostname } from "node:os";
import { join } from "node:path";
import { VpoError } from "../errors.ts";
import { hexPrefixLength, isJobIdLength, TOKEN_RE } from "../util/ids.ts";
import { formatOrderKey, orderOf, parseOrderKey, type QueuedOrder } from "./claim_order.ts";
import { type JobRecord, type JobState, STATES } from "./job.ts";

/** Helper directories beside the five state directories. */
const HELPER_DIRS = ["live", "requests", ".tmp"] as const;

/** A file name in a state directory, split into the job id and the claim token or order key. */
export interface JobFileName {
  /** The whole name. */
  name: string;
  /** The job id it starts with. */
  id: string;
  /** The claim token (`<id>.<token>.json`: running, or held by a command moving the job). */
  token: string | null;
  /** The claim order a queued name carries (`<id>.q<priority>-<created>.json`). */
  order: QueuedOrder | null;
}

/**
 * The length of the job id a file name starts with, or 0 when the name is not a job's. Any
 * `<id>[.suffix].json` counts, so that a file a person moved or copied
 * (`mv running/<id>.<token>.json queued/`) is still a job; dot files are temp files, not jobs.
 * (No regex and no slice: this runs for every name of a 100,000-job queue, and `jobs status`
 * does little else.)
 */
export function jobIdLength(name: string): number {
  if (!name.endsWith(".json")) return 0;
  const length = hexPrefixLength(name);
  return isJobIdLength(length) && name[length] === "." ? length : 0;
}

/** The job id a file name starts with, or null when the name is not a job's. */
export function jobIdOf(name: string): string | null {
  const length = jobIdLength(name);
  return length ? name.slice(0, length) : null;
}

/** Reads a job file name: its id, and its claim token or order key (see {@link jobIdOf}). */
export function parseJobFileName(name: string): JobFileName | null {
  const id = jobIdOf(name);
  if (id === null) return null;
  const stem = name.slice(0, -5);
  if (stem.length === id.length) return { name, id, token: null, order: null };
  const next = stem.indexOf(".", id.length + 1);
  const part = stem.slice(id.length + 1, next < 0 ? undefined : next);
  if (TOKEN_RE.test(part)) return { name, id, token: part, order: null };
  return { name, id, token: null, order: part.startsWith("q") ? parseOrderKey(part) : null };
}

/** The name a job's file is published under in `state`: in queued/, with its claim order. */
export function publishedName(state: JobState, record: JobRecord): string {
  const key = state === "queued" ? formatOrderKey(orderOf(record)) : null;
  return key ? `${record.id}.${key}.json` : `${record.id}.json`;
}

/** Paths under one queue root. */
export class QueueLayout {
  /** `root` is the queue directory, normally `$VPO_HOME/jobs`. */
  constructor(readonly root: string) {}
  /** The directory of job files in `state`. */
  stateDir(state: JobState): string {
    return join(this.root, state);
  }
  /** Temp files before they are published by rename or link. */
  get tmpDir(): string {
    return join(this.root, ".tmp");
  }
  /** Live files of running jobs (progress and replace steps). */
  get liveDir(): string {
    return join(this.root, "live");
  }
  /** Requests to stop running jobs. */
  get requestsDir(): string {
    return join(this.root, "requests");
  }
  /** Caches that vpo can always rebuild from the state directories; never the truth. */
  get cacheDir(): string {
    return join(this.root, ".cache");
  }
  /** The job counts of large state directories, each with the directory's mtime. */
  get countsCachePath(): string {
    return join(this.cacheDir, "counts.json");
  }
  /**
   * Where an older copy of a job, published as `name`, is set aside (R1, R4): a process that still
   * holds that name finds the marker and knows its own newer copy is the job.
   */
  supersededPath(name: string): string {
    return join(this.tmpDir, `${name}.superseded`);
  }
  /** Cover art extracted for one claim of a job while it encodes (removed after). */
  coverDir(id: string, token: string): string {
    return join(this.tmpDir, `covers-${id}-${token}`);
  }
  /** Every directory the queue needs, in creation order. */
  allDirs(): string[] {
    return [...STATES.map((s) => this.stateDir(s)), ...HELPER_DIRS.map((d) => join(this.root, d))];
  }
  /** The job file of `id` in `state`: `<id>.json`, or `<id>.<token>.json` when claimed or held. */
  jobPath(state: JobState, id: string, token: string | null = null): string {
    return join(this.stateDir(state), token ? `${id}.${token}.json` : `${id}.json`);
  }
  /** Where `record` is published in `state` (see {@link publishedName}). */
  publishPath(state: JobState, record: JobRecord): string {
    return join(this.stateDir(state), publishedName(state, record));
  }
  /** The live file of the claim `token` of job `id`. */
  livePath(id: string, token: string): string {
    return join(this.liveDir, `${id}.${token}.json`);
  }
  /** The heartbeat file of the claim `token` of job `id` (see heartbeat.ts). */
  beatPath(id: string, token: string): string {
    return join(this.liveDir, `${id}.${token}.beat`);
  }
  /** The file whose presence asks the worker running job `id` to stop. */
  cancelRequestPath(id: string): string {
    return join(this.requestsDir, `${id}.cancel`);
  }
}

/**
 * Paths of the library under a home (`<root>/library`, see docs/library.md): what `vpo transcode`
 * and the worker remember about files, so that a nightly rescan of an unchanged library neither
 * probes nor queues anything.
 */
export class LibraryLayout {
  /** `root` is the library directory, normally `$VPO_HOME/library`. */
  constructor(readonly root: string) {}
  /** JSON-lines files of decisions (one file per writing process, and snapshots). */
  get decisionsDir(): string {
    return join(this.root, "decisions");
  }
  /** JSON-lines files of cached ffprobe results. */
  get probesDir(): string {
    return join(this.root, "probes");
  }
  /** JSON-lines files of quality scores of samples, and each folder's last CRF found. */
  get qualityDir(): string {
    return join(this.root, "quality");
  }
  /** One mark per queued file version, so two runs at once never queue it twice. */
  get marksDir(): string {
    return join(this.root, "queued");
  }
  /** The mark named `name` (a hash of the file version, see `src/library/queue_marks.ts`). */
  markPath(name: string): string {
    return join(this.marksDir, name);
  }
  /** Every directory of the library, parents first. */
  allDirs(): string[] {
    return [this.root, this.decisionsDir, this.probesDir, this.qualityDir, this.marksDir];
  }
}

/** Paths under one vpo home. */
export class VpoHome {
  /** `<root>/config.yaml`. */
  readonly configPath: string;
  /** `<root>/jobs`, the queue's directory tree. */
  readonly jobsDir: string;
  /** `<root>/logs`: one ffmpeg log per job. */
  readonly logsDir: string;
  /** `<root>/stats`: this machine's measured encoding speeds. */
  readonly statsDir: string;
  /** The queue's paths. */
  readonly jobs: QueueLayout;
  /** `<root>/library`: the memory of decisions, the probe cache and the queue marks. */
  readonly library: LibraryLayout;

  /** `root` is the home directory itself. */
  constructor(readonly root: string) {
    this.configPath = join(root, "config.yaml");
    this.jobsDir = join(root, "jobs");
    this.logsDir = join(root, "logs");
    this.statsDir = join(root, "stats");
    this.jobs = new QueueLayout(this.jobsDir);
    this.library = new LibraryLayout(join(root, "library"));
  }

  /** The ffmpeg log of job `id`. */
  logPath(id: string): string {
    return join(this.logsDir, `${id}.log`);
  }

  /**
   * The ffmpeg log of what worker `name` did for job `id`, which another worker holds (a segment
   * it helped with): its own file, since two writers on two hosts cannot share one log.
   */
  helperLogPath(id: string, name: string): string {
    return join(this.logsDir, `${id}.${name.replace(/[^A-Za-z0-9._-]/g, "_")}.log`);
  }

  /**
   * `<root>/cpu/<host>`: one lock file per core (`core-<n>.lock`) that this host's workers pin
   * ffmpeg to (see `src/worker/cpu_claim.ts`). Per host name: a home may be shared by hosts.
   */
  cpuDir(host: string = hostname()): string {
    return join(this.root, "cpu", host.replace(/[^A-Za-z0-9._-]/g, "_"));
  }

  /** The lock file of CPU core `core` on this host (in {@link cpuDir}). */
  cpuLockPath(core: number): string {
    return join(this.cpuDir(), `core-${core}.lock`);
  }

  /** `<root>/stats/speed-<host>.json`: this host's measured speeds (a NAS and a desktop differ). */
  speedPath(host: string = hostname()): string {
    return join(this.statsDir, `speed-${host}.json`);
  }
}

/**
 * Resolves the home from `VPO_HOME`, else `$HOME/.vpo`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const home = resolveHome(new Map([["HOME", "/home/ann"]]));
 * assert.equal(home.jobsDir, "/home/ann/.vpo/jobs");
 * assert.equal(home.jobs.stateDir("queued"), "/home/ann/.vpo/jobs/queued");
 * assert.equal(resolveHome(new Map([["VPO_HOME", "/srv/vpo"]])).configPath, "/srv/vpo/config.yaml");
 * ```
 */
export function resolveHome(env: { get(key: string): string | undefined } = Deno.env): VpoHome {
  const explicit = env.get("VPO_HOME");
  const userHome = env.get("HOME");
  if (!explicit && !userHome) throw new VpoError("neither VPO_HOME nor HOME is set");
  return new VpoHome(explicit || join(userHome!, ".vpo"));
}

/** Creates the home and its logs directory, private to the user (0700). */
export async function ensureHome(home: VpoHome): Promise<void> {
  for (const dir of [home.root, home.logsDir]) {
    await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  }
}
