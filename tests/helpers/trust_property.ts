/**
 * The trust property: whatever a job file or journal says (paths swapped to files outside the
 * library, links, wrong inodes, wrong types, huge values, truncated JSON), `recover`, `cleanup
 * --include-backups --remove-temp` and `retry` never remove, change or loosen a file vpo did not
 * make, never hang, and never lose an original. Worlds are built from real files as vpo leaves
 * them after a crash at each phase of a replace, then mutated at random from a seed; in some, a
 * hostile writer also swaps a name vpo uses for a link to a file it must not touch, over and
 * over while vpo runs (tests/helpers/racer.ts).
 *
 * @module
 */
import { basename, join } from "node:path";
import { JobQueue } from "../../src/queue/store.ts";
import { type JobRecord, serializeJob } from "../../src/queue/job.ts";
import { decideRecovery } from "../../src/transcode/recovery.ts";
import { findOrphanTemps, removeOrphanTemp, tempOutputPath } from "../../src/replace/temp_files.ts";
import { VpoError } from "../../src/errors.ts";
import { UnreadableFileError, UntrustedDirectoryError } from "../../src/util/safe_open.ts";
import { Racer } from "./racer.ts";
import { fileIdentity } from "../../src/util/file_identity.ts";
import { jobRecord } from "./queue.ts";
import { makeClip } from "./clips.ts";
import { CLI, TempHome } from "./vpo.ts";
import { CLI_PERMISSIONS as PERMS } from "../../scripts/permissions.ts";
import { transcodeJobType } from "../../src/transcode/job_type.ts";

/** A small, fast, seedable PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Scenario = "encoding" | "moving" | "rolled" | "swapped" | "renamed" | "finished" | "failed";
const SCENARIOS: Scenario[] = [
  "encoding",
  "moving",
  "rolled",
  "swapped",
  "renamed",
  "finished",
  "failed",
];

interface World {
  dir: string;
  lib: string;
  tmp: string;
  queue: JobQueue;
  /** Files vpo did not make: must end byte-for-byte, inode and mode as they began. */
  victims: { path: string; content: string; ino: number; mode: number; identity: string }[];
  /** A link a person put in the library: must stay a link to the same target. */
  link: { path: string; target: string };
  /** Every original's content: each must still be a regular file somewhere in the library. */
  originals: { id: string; content: string; source: string; final: string; output: string }[];
  /** Job file and journal paths, the targets of mutations. */
  records: string[];
  ids: string[];
}

const TOKEN = "00000000beef";

async function write(path: string, content: string): Promise<number> {
  await Deno.writeTextFile(path, content);
  return Deno.lstatSync(path).ino!;
}

/** A world with one job in each of `scenarios` (a crash left it there), and files around it. */
async function buildWorld(
  dir: string,
  pick: () => number,
  queueRoot = join(dir, "q"),
): Promise<World> {
  const lib = join(dir, "lib");
  const tmp = join(dir, "tmp");
  const outside = join(dir, "outside");
  for (const d of [lib, tmp, outside]) await Deno.mkdir(d);
  const queue = await JobQueue.open(queueRoot);
  const victims: World["victims"] = [];
  for (let i = 0; i < 3; i++) {
    const path = join(i === 2 ? lib : outside, `victim-${i}.mkv`);
    const content = `victim ${i} ${"v".repeat(i * 7)}`;
    const ino = await write(path, content);
    await Deno.chmod(path, 0o600);
    victims.push({ path, content, ino, mode: 0o600, identity: (await fileIdentity(path))! });
  }
  const link = { path: join(lib, "link.mkv"), target: victims[0].path };
  await Deno.symlink(link.target, link.path);
  const world: World = {
    dir,
    lib,
    tmp,
    queue,
    victims,
    link,
    originals: [],
    records: [],
    ids: [],
  };
  const count = 2 + Math.floor(pick() * 3);
  for (let k = 0; k < count; k++) {
    await addJob(world, SCENARIOS[Math.floor(pick() * SCENARIOS.length)], k, pick);
  }
  return world;
}

async function addJob(
  world: World,
  scenario: Scenario,
  k: number,
  pick: () => number,
): Promise<void> {
  const { lib, tmp, queue } = world;
  const id = Array.from({ length: 32 }, () => Math.floor(pick() * 16).toString(16)).join("");
  const source = join(lib, `film-${k}.mkv`);
  const original = `original ${k} ${"o".repeat(k * 13 + 1)}`;
  const output = `output ${k} ${"n".repeat(k * 5 + 3)}`;
  const sourceIno = await write(source, original);
  const sourceId = await fileIdentity(source);
  const size = original.length;
  const final = scenario === "renamed" ? join(lib, `film-${k}.mp4`) : source;
  world.originals.push({ id, content: original, source, final, output });
  world.ids.push(id);
  const payload = {
    policy: {},
    fingerprint: { size, mtime_ms: Deno.statSync(source).mtime!.getTime(), ino: sourceIno, dev: 0 },
  };
  const backup = `${source}.original`;
  const temp = tempOutputPath({ id, token: TOKEN }, source, null);
  let steps: Record<string, unknown> | null = null;
  let state: "running" | "completed" | "failed" = "running";
  let fields: Partial<JobRecord> = { payload };
  switch (scenario) {
    case "encoding":
      steps = { phase: "encoding", temp_ino: await write(temp, output) };
      break;
    case "moving": {
      const from = tempOutputPath({ id, token: TOKEN }, source, tmp);
      steps = {
        phase: "moving",
        moved_from: from,
        moved_from_ino: await write(from, output),
        temp_ino: await write(temp, output.slice(0, 4)),
      };
      break;
    }
    case "rolled": {
      await Deno.link(source, backup);
      const ino = await write(temp, output);
      steps = { phase: "replacing", backup, temp_ino: ino, output_id: await fileIdentity(temp) };
      break;
    }
    case "swapped":
    case "renamed": {
      await Deno.link(source, backup);
      const ino = await write(temp, output);
      const outputId = await fileIdentity(temp);
      if (scenario === "swapped") await Deno.rename(temp, source);
      else await Deno.link(temp, final).then(() => Deno.remove(temp));
      steps = { phase: "replacing", backup, temp_ino: ino, output_id: outputId };
      break;
    }
    case "finished": {
      await Deno.link(source, backup);
      await write(`${source}.new`, output);
      await Deno.rename(`${source}.new`, source);
      state = "completed";
      fields = {
        payload,
        finished_at: new Date(Date.now() - 40 * 86_400_000).toISOString(),
        result: {
          outcome: "replaced",
          outcome_detail: "replaced",
          output_path: source,
          backup_path: backup,
          backup_size: size,
          backup_ino: sourceIno,
        },
      };
      break;
    }
    case "failed":
      state = "failed";
      fields = { payload, error: "boom", finished_at: new Date().toISOString() };
      break;
  }
  const record = jobRecord(id, { file: source }, fields);
  const path = queue.layout.jobPath(state, id, state === "running" ? TOKEN : null);
  await Deno.writeTextFile(path, serializeJob(record));
  world.records.push(path);
  if (steps) {
    const live = queue.layout.livePath(id, TOKEN);
    const full = {
      source,
      source_id: sourceId,
      temp,
      final,
      backup: null,
      ...steps,
    };
    await Deno.writeTextFile(
      live,
      JSON.stringify({ worker: { host: "gone", pid: 1 }, claimed_at: "x", steps: full }),
    );
    world.records.push(live);
  }
}

/** Share of the in-process worlds raced by a hostile writer while vpo works on them. */
const RACED_SHARE = 0.1;

/**
 * Starts a hostile writer on `world`: one name vpo uses (a record, a file vpo made in the library,
 * the live directory) swapped over and over with a link to a victim (a directory: to outside).
 * Returns the racer and what it swaps.
 */
async function startSwaps(
  world: World,
  pick: () => number,
  more: string[] = [],
): Promise<{ what: string; stop(): Promise<void> }> {
  const choose = <T>(items: readonly T[]): T => items[Math.floor(pick() * items.length)];
  const o = choose(world.originals.filter((o) => o.id));
  const dirs = [world.queue.layout.liveDir, ...more.filter((m) => m.endsWith("/"))];
  const name = choose([
    ...world.records,
    `${o.source}.original`,
    tempOutputPath({ id: o.id, token: TOKEN }, o.source, null),
    o.final,
    ...dirs,
    ...more,
  ]).replace(/\/$/, "");
  const decoy = `${name}.racer`;
  const isDir = dirs.some((d) => d.replace(/\/$/, "") === name);
  Deno.symlinkSync(isDir ? join(world.dir, "outside") : choose(world.victims).path, decoy);
  // A name that does not exist yet (a log) is swapped from when it appears.
  const racer = await Racer.start(name, decoy);
  return {
    what: basename(name),
    /** Stops swapping and puts the real file (or directory) back at its own name. */
    async stop() {
      await racer.stop();
      if (!isSymlink(name) || isSymlink(decoy)) return;
      Deno.renameSync(name, `${decoy}.link`);
      Deno.renameSync(decoy, name);
      Deno.renameSync(`${decoy}.link`, decoy);
    },
  };
}

function isSymlink(path: string): boolean {
  try {
    return Deno.lstatSync(path).isSymlink;
  } catch {
    return false;
  }
}

/** Applies one random mutation to one random record of `world`; returns what it did. */
function mutate(world: World, pick: () => number): string {
  const choose = <T>(items: readonly T[]): T => items[Math.floor(pick() * items.length)];
  const path = choose(world.records);
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch {
    return "none";
  }
  const kind = choose([
    "path",
    "path",
    "path",
    "ino",
    "ino",
    "type",
    "phase",
    "truncate",
    "huge",
    "swap-file",
  ]);
  const otherSource = choose(world.originals).source;
  const victim = choose(world.victims);
  const paths = [
    victim.path,
    world.link.path,
    otherSource,
    `${otherSource}.original`,
    join(world.lib, "..", "outside", basename(victim.path)),
    "relative/path.mkv",
    tempOutputPath({ id: choose(world.ids), token: TOKEN }, otherSource, null),
    tempOutputPath(
      { id: choose(world.ids), token: TOKEN },
      otherSource,
      join(world.dir, "outside"),
    ),
    `${victim.path}.original`,
    "/",
    "",
  ];
  const inos = [
    victim.ino,
    victim.identity,
    Deno.lstatSync(otherSource).ino,
    0,
    -1,
    2 ** 60,
    1.5,
    "12",
    null,
  ];
  if (kind === "truncate") {
    Deno.writeTextFileSync(path, text.slice(0, Math.floor(pick() * text.length)));
    return `truncate ${basename(path)}`;
  }
  if (kind === "swap-file") {
    // The library side: a file vpo recorded is replaced by a link or by another file.
    const target = choose(world.originals);
    const at = choose([
      `${target.source}.original`,
      tempOutputPath({ id: target.id, token: TOKEN }, target.source, null),
      target.source === target.final ? target.source : target.final,
    ]);
    try {
      Deno.lstatSync(at);
    } catch {
      return "none";
    }
    if (at === target.source) return "none"; // a swapped source is a changed original
    if (
      Deno.readTextFileSync(at) === target.content &&
      Deno.readTextFileSync(target.source) !== target.content
    ) return "none"; // the only copy of the original: a person deleting it is not vpo's doing
    Deno.removeSync(at);
    if (pick() < 0.5) Deno.symlinkSync(victim.path, at);
    else Deno.linkSync(victim.path, at);
    return `swap ${at}`;
  }
  let data: Record<string, unknown>;
  try {
    data = JSON.parse(text);
  } catch {
    return "none";
  }
  const target = (data.steps ?? data.result ?? data) as Record<string, unknown>;
  if (typeof target !== "object" || target === null) return "none";
  const pathKeys = data.steps
    ? ["temp", "moved_from", "backup", "final", "source"]
    : data.result
    ? ["backup_path", "output_path"]
    : ["file"];
  const inoKeys = data.steps
    ? ["temp_ino", "moved_from_ino", "source_id", "output_id"]
    : data.result
    ? ["backup_ino", "backup_size"]
    : ["priority"];
  let what: string = kind;
  switch (kind) {
    case "path": {
      const key = choose(pathKeys);
      const value = choose(paths);
      (pick() < 0.8 ? target : data)[key] = value;
      what = `${key}=${value}`;
      break;
    }
    case "ino": {
      const key = choose(inoKeys);
      target[key] = choose(inos);
      what = `${key}=${target[key]}`;
      break;
    }
    case "type":
      if (data.steps) data.steps = choose([[], 7, "steps", null, { phase: "replacing" }]);
      else data[choose(["result", "payload", "file", "rev"])] = choose([[], 7, "x", null, {}]);
      break;
    case "phase":
      if (data.steps) target.phase = choose(["encoding", "moving", "replacing", "done", "x", 1]);
      else data.rev = choose([0, 1, 99, -5]);
      what = `phase/rev ${target.phase ?? data.rev}`;
      break;
    case "huge":
      target[choose([...pathKeys, ...inoKeys])] = "z".repeat(100_000);
      break;
  }
  Deno.writeTextFileSync(path, JSON.stringify(data));
  return `${what} in ${basename(path)}`;
}

function readOrNull(path: string): string | null {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return null;
  }
}

/** Content of every regular file under `dir`, recursively. */
function contents(dir: string): Set<string> {
  const found = new Set<string>();
  for (const entry of Deno.readDirSync(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) { for (const c of contents(path)) found.add(c); }
    else if (entry.isFile) found.add(Deno.readTextFileSync(path));
  }
  return found;
}

/** Throws, naming the seed, when a file vpo did not make changed or an original is gone. */
function checkWorld(world: World, label: string, allowLoss: Set<string>): void {
  for (const v of world.victims) {
    const info = Deno.lstatSync(v.path);
    if (!info.isFile || info.ino !== v.ino || (info.mode! & 0o7777) !== v.mode) {
      throw new Error(`${label}: ${v.path} was replaced or loosened`);
    }
    if (Deno.readTextFileSync(v.path) !== v.content) {
      throw new Error(`${label}: ${v.path} was changed`);
    }
  }
  if (Deno.readLinkSync(world.link.path) !== world.link.target) {
    throw new Error(`${label}: the library's link was changed`);
  }
  const outside = join(world.dir, "outside");
  const made = [...Deno.readDirSync(outside)].filter((e) => !e.name.startsWith("victim-"));
  if (made.length > 0) {
    throw new Error(`${label}: ${made.map((e) => e.name).join(", ")} made outside the home`);
  }
  const present = contents(world.lib);
  for (const o of world.originals) {
    if (!present.has(o.content) && !allowLoss.has(o.id)) {
      const files = [...Deno.readDirSync(world.lib)].map((e) => e.name).sort().join(", ");
      throw new Error(`${label}: the original of ${o.source} is lost; library: ${files}`);
    }
  }
}

/**
 * Jobs whose journal, as mutated, says "backups off, new name, output in place": completing that
 * replace removes the source by design. Only then may an original go, and only when the output
 * vpo made is at the final name.
 */
function lossAllowed(world: World): Set<string> {
  const allowed = new Set<string>();
  for (const o of world.originals) {
    if (o.final === o.source) continue;
    try {
      const live = JSON.parse(
        Deno.readTextFileSync(world.queue.layout.livePath(o.id, TOKEN)),
      );
      if (live.steps?.backup === null && readOrNull(o.final) === o.output) allowed.add(o.id);
    } catch {
      // No journal, or not one recovery could act on.
    }
  }
  return allowed;
}

async function withTimeout<T>(what: string, work: Promise<T>, ms = 30_000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} hung for ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs an operation; a one-line refusal (a VpoError, or a file or directory refused as planted)
 * is fine, anything else is a defect.
 */
async function tolerate(label: string, what: string, op: () => Promise<unknown>): Promise<void> {
  try {
    await withTimeout(`${label}: ${what}`, op());
  } catch (err) {
    const refused = err instanceof VpoError || err instanceof UnreadableFileError ||
      err instanceof UntrustedDirectoryError;
    if (refused) return;
    throw new Error(`${label}: ${what} threw ${(err as Error)?.stack ?? err}`);
  }
}

/** One seeded run of `iterations` worlds; returns the number of mutations applied. */
export async function runTrustProperty(seed: number, iterations: number): Promise<number> {
  const pick = rng(seed);
  let mutations = 0;
  for (let i = 0; i < iterations; i++) {
    const dir = await Deno.makeTempDir({ prefix: "vpo-trust-" });
    try {
      const world = await buildWorld(dir, pick);
      const done: string[] = [];
      const n = 1 + Math.floor(pick() * 6);
      for (let m = 0; m < n; m++) done.push(mutate(world, pick));
      mutations += n;
      const raced = pick() < RACED_SHARE ? await startSwaps(world, pick) : null;
      if (raced) done.push(`swapping ${raced.what} during the run`);
      const label = `seed ${seed} iteration ${i} (${done.join("; ")})`;
      const allowLoss = lossAllowed(world);
      const { queue, tmp } = world;
      try {
        await tolerate(
          label,
          "recover",
          () => queue.recover({ staleAfterSec: -1, onStale: (s) => decideRecovery(s, tmp) }),
        );
        // (While names are being swapped, a look at the library could miss a file: after.)
        if (!raced) checkWorld(world, `${label} after recover`, allowLoss);
        // Asked to remove the backups of finished jobs: an original may now go where its
        // verified output replaced it, and only there.
        for (const o of world.originals) {
          if (readOrNull(o.final) === o.output) allowLoss.add(o.id);
        }
        await tolerate(
          label,
          "cleanup",
          () => queue.cleanup({ olderThanDays: 0, madeFiles: transcodeJobType.madeFiles }),
        );
        await tolerate(label, "remove temps", async () => {
          for (const t of findOrphanTemps(queue, tmp)) await removeOrphanTemp(queue, t);
        });
        for (const id of world.ids) await tolerate(label, `retry ${id}`, () => queue.retry(id));
      } finally {
        await raced?.stop();
      }
      // Judged with every name back in place: the swaps hid where the output was.
      for (const o of world.originals) {
        if (readOrNull(o.final) === o.output) allowLoss.add(o.id);
      }
      checkWorld(world, label, allowLoss);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }
  return mutations;
}

/** Runs `vpo ...args` in `home` with a time limit; returns the exit code (never a hang). */
async function cli(home: TempHome, args: string[], label: string): Promise<number> {
  const out = await new Deno.Command("timeout", {
    args: ["-k", "5", "180", Deno.execPath(), "run", "--quiet", ...PERMS, CLI, ...args],
    env: { VPO_HOME: home.vpoHome, NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (out.code === 124 || out.code === 137) throw new Error(`${label}: vpo ${args[1]} hung`);
  const stderr = new TextDecoder().decode(out.stderr);
  if (/\n\s+at |Uncaught/.test(stderr)) throw new Error(`${label}: vpo ${args[1]}: ${stderr}`);
  return out.code;
}

/**
 * The same property through the CLI, as separate processes, with real media queued by `vpo
 * transcode` among the crash leftovers: `recover`, `cleanup --include-backups --remove-temp`,
 * `retry` and `start` (real ffmpeg) on each mutated world.
 */
export async function runTrustPropertyCli(seed: number, worlds: number): Promise<number> {
  const pick = rng(seed);
  let mutations = 0;
  for (let i = 0; i < worlds; i++) {
    const home = await TempHome.create();
    try {
      const world = await buildWorld(home.dir, pick, home.jobsDir);
      await home.writeConfig(
        `worker:\n  heartbeat_interval: 0.2\n  stale_after: 1\njobs:\n  temp_directory: ${world.tmp}\n`,
      );
      for (let k = 0; k < 2; k++) {
        const source = await makeClip(join(world.lib, `real-${k}.mkv`), { audio: [] });
        const code = await cli(home, ["transcode", source], `world ${i}`);
        if (code !== 0) throw new Error(`world ${i}: vpo transcode ${source} failed`);
        const content = Deno.readTextFileSync(source);
        world.originals.push({ id: "", content, source, final: source, output: "" });
      }
      for (const e of Deno.readDirSync(world.queue.layout.stateDir("queued"))) {
        world.records.push(join(world.queue.layout.stateDir("queued"), e.name));
      }
      const done: string[] = [];
      const n = 2 + Math.floor(pick() * 6);
      for (let m = 0; m < n; m++) done.push(mutate(world, pick));
      mutations += n;
      // A hostile writer swaps one name the worker uses, throughout the run.
      const logs = join(home.vpoHome, "logs");
      const queued = [...Deno.readDirSync(world.queue.layout.stateDir("queued"))];
      const raced = await startSwaps(world, pick, [
        `${logs}/`,
        ...queued.map((e) => join(logs, `${e.name.slice(0, 32)}.log`)),
        ...world.originals.filter((o) => !o.id).map((o) => o.source),
      ]);
      done.push(`swapping ${raced.what} during the run`);
      const label = `cli seed ${seed} world ${i} (${done.join("; ")})`;
      const allowLoss = lossAllowed(world);
      try {
        await new Promise((r) => setTimeout(r, 2200)); // past stale_after, on 1 s ctimes
        await cli(home, ["jobs", "recover"], label);
        for (const o of world.originals) {
          if (o.output && readOrNull(o.final) === o.output) allowLoss.add(o.id);
        }
        await cli(
          home,
          [
            "jobs",
            "cleanup",
            "--include-backups",
            "--remove-temp",
            "--older-than",
            "30",
            "--force",
          ],
          label,
        );
        for (const id of world.ids) await cli(home, ["jobs", "retry", id], label);
        await cli(home, ["jobs", "start"], label);
      } finally {
        await raced.stop();
      }
      for (const o of world.originals) {
        if (o.output && readOrNull(o.final) === o.output) allowLoss.add(o.id);
      }
      checkWorld(world, label, allowLoss);
    } finally {
      await home.cleanup();
    }
  }
  return mutations;
}
