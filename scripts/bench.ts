/**
 * Benchmarks of the job queue, each figure printed beside a baseline measured in the same run:
 * the wall time of `deno run` of an empty script, so that figures from different machines (or a
 * busy CI runner) can be compared by their ratio to it.
 *
 *   deno task bench [--quick] [--only queue,cli,...] [--against DIR]
 *
 * `--against DIR` also times the CLI of another checkout (say `git archive main | tar -x -C DIR`)
 * in the `cli` and `startup` sections, in the same rounds as this one: before and after a change,
 * under the same load.
 *
 * Sections, each a function in SECTIONS:
 *   queue      enqueue rate in-process; claim+finish rate with 1 and 4 draining processes, and
 *              with 1 beside 20k (quick) or 100k finished jobs
 *   cli        `vpo jobs status` and `vpo jobs list --limit 20` (after a change to queued/) on an
 *              empty queue, with 10k and with 100k jobs
 *   startup    `vpo --version`, `--help` and `jobs status` on an empty queue (with and without a
 *              config.yaml), beside `deno run` of an empty script in the same rounds
 *   scan       where the time of `jobs list --limit 20` goes, phase by phase, at 100k queued jobs
 *   transcode  scripts/bench_transcode.ts: clips drained by vpo beside a plain shell loop
 *   serve      scripts/bench_serve.ts: first byte of the page and /api/jobs at 100k jobs, beside
 *              `vpo jobs list --limit 50`
 *   segments   scripts/bench_segments.ts: one clip in one pass against segmented over windows
 *   parallel   scripts/bench_parallel.ts: --workers auto against the plain loop; one film in
 *              segments by two one-core workers against one, locally and over sshfs (root)
 *   network    claim+finish per job over sshfs and smbnetfs (three-host harness of
 *              tests/multihost, root only) against the same drain on local disk
 *   library    scripts/bench_library.ts: first scan and unchanged rescan of 10k files
 *   quality    scripts/bench_quality.ts: CRF search for an SSIM minimum on six 2-minute clips and
 *              a 10-minute film: size against the best fixed CRF, search cost against the full
 *              encode, predicted against achieved, CRFs tried per episode of a season (slow:
 *              about an hour on 2 cores; --quick about 15 minutes)
 *   apply      scripts/bench_apply.ts: files whose track policy needs a copy, drained as apply
 *              jobs beside a plain shell loop of the same ffmpeg copies
 *
 * @module
 */
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { JobQueue } from "../src/queue/store.ts";
import {
  FINISHED_STATES,
  type JobRecord,
  type JobState,
  newJobRecord,
  parseJob,
  serializeJob,
  STATES,
} from "../src/queue/job.ts";
import { QueueLayout } from "../src/queue/layout.ts";
import { newJobId } from "../src/util/ids.ts";
import { CLI_PERMISSIONS } from "./permissions.ts";
import { compareOrder } from "../src/queue/claim_order.ts";
import { listJobNames, QueuedIndex } from "../src/queue/scan.ts";
import { Cluster, whyNotRunnable } from "../tests/multihost/cluster.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const SELF = fileURLToPath(import.meta.url);

/** One line of the final table: a measured number, or a row a section formatted itself. */
type Figure =
  & { section: string; what: string; note?: string }
  & ({ value: number; unit: "jobs/s" | "ms" } | { shown: string });

/** A vpo command line to time: this checkout's, or the one `--against` names. */
interface Cli {
  /** "" for this checkout; "against" for the other. */
  label: string;
  /** Its cli.ts. */
  path: string;
}

/** What every section gets. */
interface BenchContext {
  quick: boolean;
  /** Median ms of `deno run` of an empty script. */
  baselineMs: number;
  /** This checkout's CLI, and the `--against` one after it when given. */
  clis: Cli[];
  /** A scratch directory, removed at the end. */
  scratch: string;
  /** Prints a figure as soon as it is measured, and keeps it for the table. */
  report(figure: Figure): void;
}

type Section = (ctx: BenchContext) => Promise<void>;

const SECTIONS: Record<string, Section> = {
  queue: benchQueue,
  cli: benchCli,
  startup: benchStartup,
  scan: benchScan,
  transcode: benchTranscodeSection,
  serve: benchServeSection,
  segments: benchSegmentsSection,
  parallel: benchParallelSection,
  network: benchNetwork,
  library: benchLibrarySection,
  quality: benchQualitySection,
  apply: benchApplySection,
};

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};

/** Wall time in ms of a spawned process run to its end; throws if it fails. */
async function timeProcess(args: string[], env: Record<string, string> = {}): Promise<number> {
  const start = performance.now();
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    env,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output();
  const ms = performance.now() - start;
  if (!out.success) {
    throw new Error(`${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  return ms;
}

/** Median of `reps` timed runs, after one untimed run that warms caches. */
async function medianMs(reps: number, run: () => Promise<number>): Promise<number> {
  await run();
  const times: number[] = [];
  for (let i = 0; i < reps; i++) times.push(await run());
  return median(times);
}

async function measureBaseline(scratch: string, reps: number): Promise<number> {
  const empty = join(scratch, "empty.ts");
  await Deno.writeTextFile(empty, "");
  return await medianMs(reps, () => timeProcess(["run", "--quiet", empty]));
}

// ---------------------------------------------------------------------------------------------
// queue: the library's own rates.

const QUEUE_JOBS = 2000;

async function benchQueue(ctx: BenchContext): Promise<void> {
  const root = join(ctx.scratch, "queue-enqueue");
  const queue = await JobQueue.open(root);
  const start = performance.now();
  for (let i = 0; i < QUEUE_JOBS; i++) {
    await queue.enqueue({ type: "bench", file: `/media/file-${i}.mkv` });
  }
  const sec = (performance.now() - start) / 1000;
  ctx.report({
    section: "queue",
    what: `enqueue ${QUEUE_JOBS} jobs, in-process`,
    value: QUEUE_JOBS / sec,
    unit: "jobs/s",
  });
  await Deno.remove(root, { recursive: true });

  for (const processes of [1, 4]) {
    await benchDrain(ctx, `queue-drain-${processes}`, QUEUE_JOBS, processes);
  }
  // A claim must not cost more beside a long history (it lists no finished state directory).
  await benchDrain(ctx, "queue-drain-history", QUEUE_JOBS / 10, 1, ctx.quick ? 20_000 : 100_000);
}

/** Times `processes` children draining `jobs` queued jobs beside `finished` completed ones. */
async function benchDrain(
  ctx: BenchContext,
  name: string,
  jobs: number,
  processes: number,
  finished = 0,
): Promise<void> {
  const dir = join(ctx.scratch, name);
  if (finished > 0) await fillQueue(dir, finished, [["completed", 1]]);
  const q = await JobQueue.open(dir);
  for (let i = 0; i < jobs; i++) await q.enqueue({ type: "bench" });
  const wallStart = performance.now();
  const runs = await Promise.all(
    Array.from({ length: processes }, () => spawnDrain(dir)),
  );
  const wallSec = (performance.now() - wallStart) / 1000;
  const claimed = runs.reduce((n, r) => n + r.claimed, 0);
  if (claimed !== jobs) throw new Error(`drained ${claimed} of ${jobs} jobs`);
  // The window from the first claim to the last finish, on this host's clock: startup excluded.
  const windowSec = (Math.max(...runs.map((r) => r.endMs)) -
    Math.min(...runs.map((r) => r.startMs))) / 1000;
  const beside = finished > 0 ? ` beside ${finished.toLocaleString("en")} finished` : "";
  ctx.report({
    section: "queue",
    what: `claim+finish ${jobs} jobs, ${processes} process${processes > 1 ? "es" : ""}${beside}`,
    value: claimed / windowSec,
    unit: "jobs/s",
    note: `${Math.round(claimed / wallSec)}/s incl. process start`,
  });
  await Deno.remove(dir, { recursive: true });
}

interface DrainRun {
  claimed: number;
  startMs: number;
  endMs: number;
}

/** Runs the drain child to its end; `prefix` runs it elsewhere (on a harness host). */
async function spawnDrain(root: string, prefix: string[] = []): Promise<DrainRun> {
  // A drain child is a worker as `vpo jobs start` runs: the CLI's permissions, the one list.
  const args = [Deno.execPath(), "run", "--quiet", ...CLI_PERMISSIONS, SELF, "--drain-child", root];
  const [cmd, ...rest] = [...prefix, ...args];
  const out = await new Deno.Command(cmd, {
    args: rest,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(`drain failed: ${new TextDecoder().decode(out.stderr)}`);
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

/** The child side of spawnDrain: claims and completes jobs until none is left. */
async function drainChild(root: string): Promise<void> {
  const queue = await JobQueue.open(root);
  const startMs = Date.now();
  let claimed = 0;
  for (let job = await queue.claim(); job; job = await queue.claim()) {
    await job.finish("completed", {}, "completed");
    claimed++;
  }
  console.log(JSON.stringify({ claimed, startMs, endMs: Date.now() } satisfies DrainRun));
}

// ---------------------------------------------------------------------------------------------
// network: the queue's own cost per job on a share, against local disk.

/**
 * Milliseconds per job of claim+finish by one process, on local disk and on each share as a
 * harness host mounts it: what the protocol's extra round trips cost (fsyncs, the beat file, the
 * probe of the server's clock are all in it). The drain runs on host c, the one without clock skew.
 */
async function benchNetwork(ctx: BenchContext): Promise<void> {
  const why = whyNotRunnable();
  if (why) {
    console.log(`  network: skipped: ${why}`);
    return;
  }
  const jobs = ctx.quick ? 50 : 200;
  /** Enqueues at `root` in this process, drains it as `drainRoot` with the `prefix` command. */
  const perJobMs = async (root: string, drainRoot = root, prefix: string[] = []) => {
    const q = await JobQueue.open(root);
    for (let i = 0; i < jobs; i++) await q.enqueue({ type: "bench" });
    const run = await spawnDrain(drainRoot, prefix);
    if (run.claimed !== jobs) throw new Error(`drained ${run.claimed} of ${jobs} jobs`);
    return (run.endMs - run.startMs) / jobs;
  };
  const localMs = await perJobMs(join(ctx.scratch, "network-local"));
  ctx.report({
    section: "network",
    what: `claim+finish, local disk, ${jobs} jobs`,
    value: localMs,
    unit: "ms",
  });
  const hostsSh = join(ROOT, "tests", "multihost", "hosts.sh");
  for (const protocol of ["sftp", "smb"] as const) {
    const cluster = await Cluster.up(protocol);
    try {
      // Enqueued on the server's own disk; claimed and finished through host c's mount.
      const ms = await perJobMs(
        join(cluster.served, "bench"),
        join(cluster.share, "bench"),
        [hostsSh, "exec", cluster.dir, "c"],
      );
      ctx.report({
        section: "network",
        what: `claim+finish, ${protocol === "sftp" ? "sshfs" : "smbnetfs"}, ${jobs} jobs`,
        value: ms,
        unit: "ms",
        note: `${(ms / localMs).toFixed(1)}x local disk`,
      });
    } finally {
      await cluster.down();
    }
  }
}

// ---------------------------------------------------------------------------------------------
// cli: what a user waits for, with many jobs on disk.

/** Shares of each state in a realistic queue: mostly history, a backlog, a few failures. */
const MIX: [JobState, number][] = [
  ["completed", 0.9],
  ["queued", 0.05],
  ["failed", 0.04],
  ["cancelled", 0.01],
];

/**
 * Writes `total` valid job files straight into the state directories (what enqueue and finish
 * would leave, minus the fsyncs), `mix` deciding how many go where.
 */
async function fillQueue(root: string, total: number, mix: [JobState, number][]): Promise<void> {
  const layout = new QueueLayout(root);
  for (const dir of layout.allDirs()) Deno.mkdirSync(dir, { recursive: true });
  const t0 = Date.now() - total * 1000;
  let n = 0;
  for (const [state, share] of mix) {
    const count = Math.round(total * share);
    for (let i = 0; i < count; i++, n++) {
      const created = new Date(t0 + n * 1000);
      let record: JobRecord = newJobRecord(newJobId(), {
        type: "transcode",
        file: `/media/library/Show ${n % 97}/Episode.${n}.mkv`,
        payload: { policy: "hevc", crf: 22 },
      }, created);
      if (FINISHED_STATES.includes(state)) {
        const at = new Date(created.getTime() + 500).toISOString();
        record = {
          ...record,
          rev: 3,
          attempts: 1,
          started_at: created.toISOString(),
          finished_at: at,
          progress: state === "completed" ? 100 : 40,
          error: state === "failed" ? "ffmpeg exited with code 1" : null,
          history: [...record.history, { at, event: "claimed" }, { at, event: state }],
        };
      }
      Deno.writeTextFileSync(layout.publishPath(state, record), serializeJob(record));
    }
  }
  // Writing back 100k dirty files would otherwise compete with the runs timed next.
  await new Deno.Command("sync").output().catch(() => {});
}

/** The worst case for listing: every job waiting, so claim order needs every file. */
const ALL_QUEUED: [JobState, number][] = [["queued", 1]];

interface Dataset {
  name: string;
  total: number;
  mix: [JobState, number][];
}

function datasets(quick: boolean): Dataset[] {
  const all: Dataset[] = [
    { name: "empty queue", total: 0, mix: ALL_QUEUED },
    { name: "10k mixed", total: 10_000, mix: MIX },
    { name: "100k mixed", total: 100_000, mix: MIX },
    { name: "100k queued", total: 100_000, mix: ALL_QUEUED },
  ];
  return quick ? all.slice(0, 2) : all;
}

async function benchCli(ctx: BenchContext): Promise<void> {
  const reps = ctx.quick ? 3 : 7;
  const sets = datasets(ctx.quick);
  const homes = sets.map((data) => join(ctx.scratch, `cli-${data.name.replaceAll(" ", "-")}`));
  for (const [i, data] of sets.entries()) {
    await fillQueue(join(homes[i], "jobs"), data.total, data.mix);
  }
  // A change to queued/ before each list: nothing a list read before may be reused.
  const changed = (home: string) => {
    const extra = join(home, "jobs", "queued", `${"f".repeat(32)}.json`);
    Deno.writeTextFileSync(extra, "");
    Deno.removeSync(extra);
  };
  const runs: [string, (cli: Cli, home: string) => Promise<number>][] = [
    ["vpo jobs status", (cli, home) => timeVpo(cli, home, ["jobs", "status"])],
    ["vpo jobs status, after a change to queued/", (cli, home) => {
      changed(home);
      return timeVpo(cli, home, ["jobs", "status"]);
    }],
    ["vpo jobs list --limit 20, after a change to queued/", (cli, home) => {
      changed(home);
      return timeVpo(cli, home, ["jobs", "list", "--limit", "20"]);
    }],
  ];
  // A queue at rest: nothing changed in the last minute (status keeps the counts of still,
  // large directories; see src/queue/counts.ts).
  const minuteAgo = new Date(Date.now() - 60_000);
  for (const home of homes) {
    for (const state of STATES) Deno.utimeSync(join(home, "jobs", state), minuteAgo, minuteAgo);
  }
  // Each kind of run in turn, round robin over the datasets (and checkouts) within it, so that a
  // busy machine slows each alike and the ratio to the empty queue holds.
  const times = runs.map(() => ctx.clis.map(() => sets.map(() => [] as number[])));
  for (const [r, [, run]] of runs.entries()) {
    for (let rep = -1; rep < reps; rep++) {
      for (const [d, home] of homes.entries()) {
        for (const [c, cli] of ctx.clis.entries()) {
          const ms = await run(cli, home);
          if (rep >= 0) times[r][c][d].push(ms);
        }
      }
    }
  }
  for (const [r, [what]] of runs.entries()) {
    for (const [c, cli] of ctx.clis.entries()) {
      const empty = median(times[r][c][0]);
      for (const [d, data] of sets.entries()) {
        const ms = median(times[r][c][d]);
        ctx.report({
          section: "cli",
          what: `${what}, ${data.name}${labelOf(cli)}`,
          value: ms,
          unit: "ms",
          note: d === 0 ? undefined : `${(ms / empty).toFixed(2)}x the empty queue`,
        });
      }
    }
  }
  for (const home of homes) await Deno.remove(home, { recursive: true });
}

/** Wall time of one `vpo` run of `cli` with `home` as VPO_HOME. */
function timeVpo(cli: Cli, home: string, args: string[]): Promise<number> {
  return timeProcess(["run", "--quiet", ...CLI_PERMISSIONS, cli.path, ...args], { VPO_HOME: home });
}

/** " [against]" for the other checkout's rows. */
const labelOf = (cli: Cli) => cli.label ? ` [${cli.label}]` : "";

// ---------------------------------------------------------------------------------------------
// startup: what a command costs before it does anything, as a multiple of `deno run` of an empty
// script timed in the same rounds (so that a busy machine slows both alike).

async function benchStartup(ctx: BenchContext): Promise<void> {
  const reps = ctx.quick ? 5 : 15;
  const bare = join(ctx.scratch, "startup-bare");
  const configured = join(ctx.scratch, "startup-configured");
  for (const home of [bare, configured]) Deno.mkdirSync(home, { recursive: true });
  Deno.writeTextFileSync(join(configured, "config.yaml"), "worker:\n  cpu_cores: 2\n");
  const empty = join(ctx.scratch, "startup-empty.ts");
  Deno.writeTextFileSync(empty, "");
  const rows: [string, (cli: Cli) => Promise<number>][] = [
    ["vpo --version", (cli) => timeVpo(cli, bare, ["--version"])],
    ["vpo --help", (cli) => timeVpo(cli, bare, ["--help"])],
    [
      "vpo jobs status, empty queue, no config.yaml",
      (cli) => timeVpo(cli, bare, ["jobs", "status"]),
    ],
    [
      "vpo jobs status, empty queue, a config.yaml",
      (cli) => timeVpo(cli, configured, ["jobs", "status"]),
    ],
  ];
  const baseline: number[] = [];
  const times = rows.map(() => ctx.clis.map(() => [] as number[]));
  for (let rep = -1; rep < reps; rep++) {
    const ms = await timeProcess(["run", "--quiet", empty]);
    if (rep >= 0) baseline.push(ms);
    for (const [r, [, run]] of rows.entries()) {
      for (const [c, cli] of ctx.clis.entries()) {
        const ms = await run(cli);
        if (rep >= 0) times[r][c].push(ms);
      }
    }
  }
  const base = median(baseline);
  ctx.report({
    section: "startup",
    what: "deno run of an empty script, same rounds",
    value: base,
    unit: "ms",
  });
  for (const [r, [what]] of rows.entries()) {
    for (const [c, cli] of ctx.clis.entries()) {
      const ms = median(times[r][c]);
      ctx.report({
        section: "startup",
        what: `${what}${labelOf(cli)}`,
        value: ms,
        unit: "ms",
        note: `${(ms / base).toFixed(2)}x the empty script in the same rounds`,
      });
    }
  }
}

// ---------------------------------------------------------------------------------------------
// scan: where the time of `jobs list --limit 20` goes in the worst case (every job queued), phase
// by phase, beside a full scan in claim order (what a worker and `jobs list` without a limit do:
// every queued file read).

async function benchScan(ctx: BenchContext): Promise<void> {
  const total = ctx.quick ? 10_000 : 100_000;
  const label = `${total / 1000}k queued`;
  const root = join(ctx.scratch, "scan");
  await fillQueue(root, total, ALL_QUEUED);
  const dir = new QueueLayout(root).stateDir("queued");
  // Each phase runs twice (page cache and JIT warm, as in the CLI figures); the second is timed.
  const phase = <T>(what: string, fn: () => T): T => {
    fn();
    const start = performance.now();
    const result = fn();
    ctx.report({
      section: "scan",
      what: `${what}, ${label}`,
      value: performance.now() - start,
      unit: "ms",
    });
    return result;
  };
  const names = phase("1 list and parse names", () => listJobNames(dir));
  phase(
    "2 sort names in claim order",
    () => names.map((n) => ({ ...n.order!, id: n.id })).sort(compareOrder),
  );
  phase("= head of 20 by name, each read", () => new QueuedIndex(dir).head(20));
  phase("stat each file", () => names.map((n) => Deno.statSync(join(dir, n.name))));
  const texts = phase(
    "read each file",
    () => names.map((n) => Deno.readTextFileSync(join(dir, n.name))),
  );
  phase("parse+validate each", () => texts.map((t, i) => parseJob(t, dir, names[i].id)));
  // A fresh index each time, as a CLI process has: no cached reads.
  phase("= full scan in claim order, fresh", () => new QueuedIndex(dir).refresh(true));
  await Deno.remove(root, { recursive: true });
}

// ---------------------------------------------------------------------------------------------
// transcode: lives in its own module (ffmpeg, clips); imported only when selected, so the queue
// sections do not load the media layer. Its rows carry their own baseline, a shell loop of the
// same ffmpeg commands, in their notes.

async function benchTranscodeSection(ctx: BenchContext): Promise<void> {
  const { benchTranscode } = await import("./bench_transcode.ts");
  for (const row of await benchTranscode(ctx.quick)) {
    ctx.report({ section: "transcode", what: row.name, shown: row.value, note: row.note });
  }
}

// apply: track policies carried out by stream copy (its own module, too).

async function benchApplySection(ctx: BenchContext): Promise<void> {
  const { benchApply } = await import("./bench_apply.ts");
  for (const row of await benchApply(ctx.quick)) {
    ctx.report({ section: "apply", what: row.name, shown: row.value, note: row.note });
  }
}

// segments: one pass against segmented encoding through short windows (its own module, too).

async function benchSegmentsSection(ctx: BenchContext): Promise<void> {
  const { benchSegments } = await import("./bench_segments.ts");
  for (const row of await benchSegments(ctx.quick)) {
    ctx.report({ section: "segments", what: row.name, shown: row.value, note: row.note });
  }
}

// parallel: workers and hosts sharing the work (its own module, too).

async function benchParallelSection(ctx: BenchContext): Promise<void> {
  const { benchParallel } = await import("./bench_parallel.ts");
  for (const row of await benchParallel(ctx.quick)) {
    ctx.report({ section: "parallel", what: row.name, shown: row.value, note: row.note });
  }
}

// ---------------------------------------------------------------------------------------------
// serve: a running `vpo serve` answers from its caches and the queued names, so its figures are
// compared with the CLI command that shows the same page of jobs.

async function benchServeSection(ctx: BenchContext): Promise<void> {
  const { benchServe } = await import("./bench_serve.ts");
  for (const data of datasets(ctx.quick).slice(-2)) {
    const home = join(ctx.scratch, "serve");
    await fillQueue(join(home, "jobs"), data.total, data.mix);
    const timeList = () =>
      timeProcess(
        [
          "run",
          "--quiet",
          ...CLI_PERMISSIONS,
          join(ROOT, "cli.ts"),
          "jobs",
          "list",
          "--limit",
          "50",
        ],
        { VPO_HOME: home },
      );
    for (const row of await benchServe(home, ctx.quick ? 3 : 7, timeList)) {
      ctx.report({
        section: "serve",
        what: `${row.name}, ${data.name}`,
        value: row.ms,
        unit: "ms",
        note: row.note,
      });
    }
    await Deno.remove(home, { recursive: true });
  }
}

// library: its own module too; the rescan's baseline is the first scan of the same files.

async function benchLibrarySection(ctx: BenchContext): Promise<void> {
  const { benchLibrary } = await import("./bench_library.ts");
  for (const row of await benchLibrary(ctx.quick)) {
    ctx.report({ section: "library", what: row.name, shown: row.value, note: row.note });
  }
}

async function benchQualitySection(ctx: BenchContext): Promise<void> {
  const { benchQuality } = await import("./bench_quality.ts");
  for (const row of await benchQuality(ctx.quick)) {
    ctx.report({ section: "quality", what: row.name, shown: row.value, note: row.note });
  }
}

// ---------------------------------------------------------------------------------------------

function formatValue(f: Figure): string {
  if ("shown" in f) return f.shown;
  return f.unit === "ms" ? `${f.value.toFixed(1)} ms` : `${Math.round(f.value)} ${f.unit}`;
}

/**
 * A figure relative to the baseline: a time as a multiple of it, a rate as the jobs done in the
 * time `deno run` takes to start and end an empty script.
 */
function relative(f: Figure, baselineMs: number): string {
  if ("shown" in f) return "";
  return f.unit === "ms"
    ? `${(f.value / baselineMs).toFixed(1)}x`
    : `${Math.round(f.value * baselineMs / 1000)} jobs/baseline`;
}

function printTable(figures: Figure[], baselineMs: number): void {
  const rows = [
    ["section", "measure", "value", "vs baseline", "note"],
    ...figures.map((f) => [
      f.section,
      f.what,
      formatValue(f),
      relative(f, baselineMs),
      f.note ?? "",
    ]),
  ];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd();
  console.log(`\nbaseline: deno run of an empty script, median ${baselineMs.toFixed(1)} ms`);
  console.log(line(rows[0]));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const r of rows.slice(1)) console.log(line(r));
}

function parseCommandLine() {
  try {
    return parseArgs({
      args: Deno.args,
      options: {
        quick: { type: "boolean", default: false },
        only: { type: "string" },
        against: { type: "string" },
        "drain-child": { type: "string" },
      },
    }).values;
  } catch (err) {
    console.error(`bench: ${(err as Error).message}`);
    console.error(
      `usage: deno run -A scripts/bench.ts [--quick] [--only ${
        Object.keys(SECTIONS).join(",")
      }] [--against DIR]`,
    );
    Deno.exit(2);
  }
}

async function main(): Promise<void> {
  const values = parseCommandLine();
  if (values["drain-child"]) return await drainChild(values["drain-child"]);
  const only = values.only?.split(",").map((s) => s.trim()).filter(Boolean) ??
    Object.keys(SECTIONS);
  const unknown = only.filter((s) => !(s in SECTIONS));
  if (unknown.length) {
    console.error(
      `bench: unknown section ${unknown.join(", ")} (have ${Object.keys(SECTIONS).join(", ")})`,
    );
    Deno.exit(2);
  }
  const scratch = await Deno.makeTempDir({ prefix: "vpo-bench-" });
  const figures: Figure[] = [];
  try {
    const baselineMs = await measureBaseline(scratch, values.quick ? 3 : 7);
    console.log(`baseline (deno run, empty script): ${baselineMs.toFixed(1)} ms`);
    const clis: Cli[] = [{ label: "", path: join(ROOT, "cli.ts") }];
    if (values.against) {
      clis.push({ label: "against", path: join(resolve(values.against), "cli.ts") });
    }
    const ctx: BenchContext = {
      quick: values.quick,
      baselineMs,
      clis,
      scratch,
      report(f) {
        figures.push(f);
        console.log(`  ${f.section}: ${f.what}: ${formatValue(f)}${f.note ? ` (${f.note})` : ""}`);
      },
    };
    for (const name of only) await SECTIONS[name](ctx);
    printTable(figures, baselineMs);
  } finally {
    await Deno.remove(scratch, { recursive: true });
  }
}

if (import.meta.main) await main();
