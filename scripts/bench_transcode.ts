/**
 * The transcode section of `deno task bench`: draining clips through `vpo jobs start` against
 * the same ffmpeg commands in a plain shell loop and under task-spooler (all in one run, so the
 * ratios are fair on a noisy machine), CPU used per wall second with `--cpu-cores 1`, and the
 * worker's own peak memory.
 *
 * @module
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildFfmpegArgs, shellQuote } from "../src/media/ffmpeg_args.ts";
import { type EncodePlan, planTranscode } from "../src/media/plan.ts";
import { probe } from "../src/media/probe.ts";
import { parsePolicy } from "../src/policy/policy.ts";
import { CLI_PERMISSIONS } from "./permissions.ts";

/** The CLI, run with the permissions `deno task vpo` grants it, so figures are a user's figures. */
export const CLI = fileURLToPath(new URL("../cli.ts", import.meta.url));
/** The policy of the drains (also `bench_parallel.ts`'s). */
export const POLICY = `schema_version: 1
transcode:
  target_video_codec: hevc
  target_crf: 28
  preset: medium
  keep_larger_output: true
  skip_if: { dolby_vision: false }
`;

/** One measured row of the transcode section. */
export interface TranscodeRow {
  name: string;
  value: string;
  note: string;
}

/** Runs a command to its end; returns its stdout, throws with its stderr when it fails. */
export async function run(cmd: string, args: string[], env: Record<string, string> = {}) {
  const out = await new Deno.Command(cmd, {
    args,
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  if (!out.success) {
    throw new Error(`${cmd} ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  return new TextDecoder().decode(out.stdout);
}

/** `count` copies of one 640x360 clip of `seconds` (H.264, one audio track) in `dir`. */
export async function makeClips(dir: string, count: number, seconds: number): Promise<string[]> {
  await Deno.mkdir(dir, { recursive: true });
  const first = join(dir, "clip-00.mkv");
  await run("ffmpeg", [
    ...["-nostdin", "-v", "error", "-y"],
    ...["-f", "lavfi", "-i", `testsrc2=size=640x360:rate=25:duration=${seconds}`],
    ...["-f", "lavfi", "-i", `sine=frequency=440:duration=${seconds}`],
    ...["-c:v", "libx264", "-preset", "ultrafast", "-crf", "16", "-c:a", "aac", first],
  ]);
  const clips = [first];
  for (let i = 1; i < count; i++) {
    const path = join(dir, `clip-${String(i).padStart(2, "0")}.mkv`);
    await Deno.copyFile(first, path);
    clips.push(path);
  }
  return clips;
}

/** Dates a file an hour back: vpo leaves files modified within library.settle_seconds alone. */
export async function settle(path: string): Promise<void> {
  const then = new Date(Date.now() - 3600_000);
  await Deno.utime(path, then, then);
}

/** Copies `clips` into `dir`, each dated an hour back (settled). */
export async function copyClips(clips: string[], dir: string): Promise<string[]> {
  await Deno.mkdir(dir, { recursive: true });
  return await Promise.all(clips.map(async (c) => {
    const to = join(dir, c.slice(c.lastIndexOf("/") + 1));
    await Deno.copyFile(c, to);
    await settle(to);
    return to;
  }));
}

/** The exact ffmpeg command vpo runs for `clip`, writing to `output`. */
async function ffmpegCommand(
  clip: string,
  output: string,
  cpuCores: number | null,
): Promise<string> {
  const policy = parsePolicy(POLICY, "bench.yaml");
  const plan = planTranscode(policy, await probe(clip)) as EncodePlan;
  return shellQuote(["ffmpeg", ...buildFfmpegArgs(plan, clip, output, { cpuCores })]);
}

/** Wall seconds `f` takes. */
export async function timed(f: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await f();
  return (performance.now() - t) / 1000;
}

/**
 * Wall seconds of a plain shell loop running vpo's exact ffmpeg commands on copies of `clips`
 * (in `<root>/loop`): the baseline of the drains.
 */
export async function timeShellLoop(clips: string[], root: string): Promise<number> {
  const loopClips = await copyClips(clips, join(root, "loop"));
  const loopScript = (await Promise.all(
    loopClips.map((c) => ffmpegCommand(c, `${c}.out.mkv`, null)),
  )).map((cmd) => `${cmd} >/dev/null 2>&1 || exit 1`).join("\n");
  await Deno.writeTextFile(join(root, "loop.sh"), loopScript + "\n");
  return await timed(() => run("bash", [join(root, "loop.sh")]));
}

/** Runs `vpo` under GNU time; returns wall and CPU seconds and the worker's own peak RSS. */
export async function timedWorker(home: string, args: string[]) {
  const child = new Deno.Command("/usr/bin/time", {
    args: ["-f", "%e %U %S", Deno.execPath(), "run", ...CLI_PERMISSIONS, CLI, ...args],
    env: { VPO_HOME: home },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  // The worker is the grandchild (time -> deno); its peak RSS is read from /proc while it lives
  // (Deno lets only --allow-all read /proc: the bench task runs with -A).
  let peakKb = 0;
  const poll = setInterval(() => {
    try {
      for (const e of Deno.readDirSync("/proc")) {
        if (!/^\d+$/.test(e.name)) continue;
        const status = Deno.readTextFileSync(`/proc/${e.name}/status`);
        if (!status.includes(`PPid:\t${child.pid}\n`)) continue;
        const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
        peakKb = Math.max(peakKb, kb);
      }
    } catch {
      // A process ended while being read.
    }
  }, 100);
  const out = await child.output();
  clearInterval(poll);
  const last = new TextDecoder().decode(out.stderr).trim().split("\n").at(-1)!;
  const [wall, user, sys] = last.split(" ").map(Number);
  return { wall, cpu: user + sys, peakMb: peakKb / 1024 };
}

/** Runs the section; `quick` uses fewer, shorter clips. */
export async function benchTranscode(quick: boolean): Promise<TranscodeRow[]> {
  const count = quick ? 4 : 20;
  const seconds = 10;
  const root = await Deno.makeTempDir({ prefix: "vpo-bench-tx-" });
  const rows: TranscodeRow[] = [];
  try {
    const clips = await makeClips(join(root, "src"), count, seconds);
    const policyPath = join(root, "bench.yaml");
    await Deno.writeTextFile(policyPath, POLICY);

    // 1. A plain shell loop running vpo's exact ffmpeg commands.
    const loopSec = await timeShellLoop(clips, root);

    // 2. The same commands under task-spooler (one slot), if it is installed.
    let tspSec: number | null = null;
    const tsp = await run("sh", ["-c", "command -v tsp || command -v ts || true"]).then((s) =>
      s.trim()
    );
    if (tsp) {
      const tspClips = await copyClips(clips, join(root, "tsp"));
      const env = { TS_SOCKET: join(root, "tsp.socket"), TS_SLOTS: "1", TS_MAXFINISHED: "1000" };
      tspSec = await timed(async () => {
        for (const c of tspClips) {
          await run(tsp, [
            "sh",
            "-c",
            `${await ffmpegCommand(c, `${c}.out.mkv`, null)} >/dev/null 2>&1`,
          ], env);
        }
        await run(tsp, ["-w"], env); // waits for the last job
        while ((await run(tsp, [], env)).match(/\b(running|queued)\b/)) {
          await new Promise((r) => setTimeout(r, 50));
        }
      });
      await run(tsp, ["-K"], env).catch(() => {});
    }

    // 3. vpo: queue (timed apart), then drain with the worker.
    const vpoCli = (home: string, ...args: string[]) =>
      run(Deno.execPath(), ["run", ...CLI_PERMISSIONS, CLI, ...args], { VPO_HOME: home });
    const vpoClips = await copyClips(clips, join(root, "vpo"));
    const home = join(root, "home");
    const queueSec = await timed(() =>
      vpoCli(home, "transcode", "--policy", policyPath, join(root, "vpo"))
    );
    const vpo = await timedWorker(home, ["jobs", "start", "--no-purge"]);
    const completed = JSON.parse(await vpoCli(home, "jobs", "status", "--json")).completed;
    if (completed !== vpoClips.length) {
      throw new Error(`vpo completed ${completed} of ${vpoClips.length}`);
    }

    // The worker's run-time probe of each source (what is mapped and verified comes from the
    // source, never from a cache): its cost per job, beside the drain it is part of.
    const probeTimes: number[] = [];
    for (let i = 0; i < 9; i++) probeTimes.push(await timed(() => probe(vpoClips[i % count])));
    const probeSec = probeTimes.sort((a, b) => a - b)[4];

    // 4. CPU per wall second with --cpu-cores 1, beside the unlimited run above.
    await copyClips(clips.slice(0, quick ? 2 : 5), join(root, "cap"));
    const capHome = join(root, "cap-home");
    await vpoCli(capHome, "transcode", "--policy", policyPath, join(root, "cap"));
    const capped = await timedWorker(capHome, ["jobs", "start", "--no-purge", "--cpu-cores", "1"]);

    const n = `${count} clips of ${seconds} s`;
    rows.push({
      name: `drain ${n}: shell loop`,
      value: `${loopSec.toFixed(1)} s`,
      note: "baseline 1.00",
    });
    if (tspSec !== null) {
      rows.push({
        name: `drain ${n}: task-spooler`,
        value: `${tspSec.toFixed(1)} s`,
        note: `${(tspSec / loopSec).toFixed(2)} x loop`,
      });
    } else rows.push({ name: `drain ${n}: task-spooler`, value: "-", note: "tsp not installed" });
    rows.push({
      name: `drain ${n}: vpo jobs start`,
      value: `${vpo.wall.toFixed(1)} s`,
      note: `${(vpo.wall / loopSec).toFixed(2)} x loop`,
    });
    rows.push({
      name: "worker's run-time probe of a source",
      value: `${(probeSec * 1000).toFixed(0)} ms`,
      note: `median of 9; ${(probeSec / (vpo.wall / count) * 100).toFixed(1)} % of a job's drain`,
    });
    rows.push({
      name: `vpo transcode (queueing ${count})`,
      value: `${queueSec.toFixed(1)} s`,
      note: "not part of the drain",
    });
    rows.push({
      name: "cores used, no limit",
      value: (vpo.cpu / vpo.wall).toFixed(2),
      note: `cpu ${vpo.cpu.toFixed(1)} s / wall ${vpo.wall.toFixed(1)} s`,
    });
    rows.push({
      name: "cores used, --cpu-cores 1",
      value: (capped.cpu / capped.wall).toFixed(2),
      note: `cpu ${capped.cpu.toFixed(1)} s / wall ${capped.wall.toFixed(1)} s`,
    });
    rows.push({
      name: "worker peak RSS (deno, not ffmpeg)",
      value: `${vpo.peakMb.toFixed(0)} MB`,
      note: `--cpu-cores 1 run: ${capped.peakMb.toFixed(0)} MB`,
    });
  } finally {
    await Deno.remove(root, { recursive: true }).catch(() => {});
  }
  return rows;
}

if (import.meta.main) {
  for (const r of await benchTranscode(Deno.args.includes("--quick"))) {
    console.log(`${r.name.padEnd(44)} ${r.value.padStart(10)}  ${r.note}`);
  }
}
