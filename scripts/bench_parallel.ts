/**
 * The parallel section of `deno task bench` (issue 19), each figure beside its baseline measured
 * in the same run:
 *
 * - 20 clips of 10 s drained by `vpo jobs start --workers auto` against the plain sequential loop
 *   of vpo's exact ffmpeg commands (the worker's home has measured one encode first, as a worker
 *   has after its first job: that is what `auto` decides from);
 * - one 10-minute 720p film, segmented: two workers pinned to one core each (`--workers 2
 *   --cpu-cores 2`) against one worker on one core (`--cpu-cores 1`);
 * - the same film over sshfs (the three-host harness of tests/multihost, root only): two hosts at
 *   once, pinned to one core each, against one host alone.
 *
 *   deno run -A scripts/bench_parallel.ts [--quick]
 *
 * @module
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { makeClip } from "../tests/helpers/clips.ts";
import { Cluster, whyNotRunnable } from "../tests/multihost/cluster.ts";
import {
  CLI,
  copyClips,
  makeClips,
  POLICY,
  run,
  settle,
  timed,
  timedWorker,
  timeShellLoop,
  type TranscodeRow,
} from "./bench_transcode.ts";
import { CLI_PERMISSIONS } from "./permissions.ts";

const HOSTS_SH = fileURLToPath(new URL("../tests/multihost/hosts.sh", import.meta.url));

/** The film's policy: HEVC at x265's ultrafast preset, so that a 10-minute film takes minutes. */
const FILM_POLICY = `schema_version: 1
transcode:
  target_video_codec: hevc
  target_crf: 28
  preset: ultrafast
  keep_larger_output: true
`;

/** Runs the section; `quick` uses fewer clips and a shorter, smaller film. */
export async function benchParallel(quick: boolean): Promise<TranscodeRow[]> {
  const root = await Deno.makeTempDir({ prefix: "vpo-bench-par-" });
  try {
    return [
      ...await drainRows(root, quick),
      ...await filmRows(root, quick),
    ];
  } finally {
    await Deno.remove(root, { recursive: true }).catch(() => {});
  }
}

const vpo = (home: string, ...args: string[]) =>
  run(Deno.execPath(), ["run", ...CLI_PERMISSIONS, CLI, ...args], { VPO_HOME: home });

/** `--workers auto` against the plain loop, on the clips of the transcode section. */
async function drainRows(root: string, quick: boolean): Promise<TranscodeRow[]> {
  const count = quick ? 4 : 20;
  const seconds = 10;
  const clips = await makeClips(join(root, "src"), count, seconds);
  const policy = join(root, "bench.yaml");
  await Deno.writeTextFile(policy, POLICY);

  const loopSec = await timeShellLoop(clips, root);

  // One measured encode first (not timed), then the choice on the empty queue, then the drain.
  const home = join(root, "home");
  await copyClips(clips.slice(0, 1), join(root, "warm"));
  await vpo(home, "transcode", "--policy", policy, join(root, "warm"));
  await vpo(home, "jobs", "start", "--no-purge");
  const choice = /worker +(\d+ workers? \(auto: .*\))/.exec(
    await vpo(home, "jobs", "start", "--no-purge", "--workers", "auto"),
  )?.[1] ?? "?";
  await copyClips(clips, join(root, "vpo"));
  await vpo(home, "transcode", "--policy", policy, join(root, "vpo"));
  const auto = await timedWorker(home, ["jobs", "start", "--no-purge", "--workers", "auto"]);
  const status = JSON.parse(await vpo(home, "jobs", "status", "--json"));
  if (status.completed !== count + 1) throw new Error(`vpo completed ${status.completed - 1}`);
  const what = `drain ${count} clips of ${seconds} s`;
  return [
    { name: `${what}: shell loop`, value: `${loopSec.toFixed(1)} s`, note: "baseline 1.00" },
    {
      name: `${what}: --workers auto`,
      value: `${auto.wall.toFixed(1)} s`,
      note: `${(auto.wall / loopSec).toFixed(2)} x loop (${(loopSec / auto.wall).toFixed(2)}x ` +
        `faster); ${choice}; cores used ${(auto.cpu / auto.wall).toFixed(2)}`,
    },
  ];
}

/** One film in segments: two one-core workers against one, locally and over sshfs. */
async function filmRows(root: string, quick: boolean): Promise<TranscodeRow[]> {
  const minutes = quick ? 2 : 10;
  const size = quick ? "640x360" : "1280x720";
  const segmentSec = quick ? 20 : 60;
  await Deno.mkdir(join(root, "film-src"));
  const film = await makeClip(join(root, "film-src", "film.mkv"), {
    duration: minutes * 60,
    size,
    audio: ["aac"],
  });
  const config = `jobs:\n  segment_length: ${segmentSec}\n`;
  const what = `${minutes} min ${size} film, ${segmentSec} s segments`;

  /** A fresh home and copy of the film, queued; returns the home. */
  const queued = async (name: string) => {
    const home = join(root, `${name}-home`);
    const media = join(root, name);
    await Deno.mkdir(home, { recursive: true });
    await Deno.mkdir(media, { recursive: true });
    await Deno.writeTextFile(join(home, "config.yaml"), config);
    await Deno.writeTextFile(join(root, "film.yaml"), FILM_POLICY);
    await Deno.copyFile(film, join(media, "film.mkv"));
    await settle(join(media, "film.mkv"));
    await vpo(home, "transcode", "--policy", join(root, "film.yaml"), join(media, "film.mkv"));
    return home;
  };
  const one = await timedWorker(await queued("one"), ["jobs", "start", "--cpu-cores", "1"]);
  const two = await timedWorker(await queued("two"), [
    "jobs",
    "start",
    "--workers",
    "2",
    "--cpu-cores",
    "2",
  ]);
  const rows: TranscodeRow[] = [
    {
      name: `${what}: one worker, one core`,
      value: `${one.wall.toFixed(1)} s`,
      note: "baseline 1.00",
    },
    {
      name: `${what}: two workers, one core each`,
      value: `${two.wall.toFixed(1)} s`,
      note: `${(two.wall / one.wall).toFixed(2)} x one worker; cpu ${
        (two.cpu / one.cpu).toFixed(2)
      } x`,
    },
  ];
  return [...rows, ...await sshfsRows(film, config, what)];
}

/** The film over sshfs: host c alone against hosts c and a at once, one core each. */
async function sshfsRows(film: string, config: string, what: string): Promise<TranscodeRow[]> {
  const why = whyNotRunnable();
  if (why) return [{ name: `${what} over sshfs`, value: "-", note: `skipped: ${why}` }];
  const cluster = await Cluster.up("sftp");
  try {
    const served = (name: string) => join(cluster.served, name);
    await Deno.writeTextFile(served("film.yaml"), FILM_POLICY);
    /** Queues a fresh copy of the film in a fresh home on the share, from host c. */
    const queued = async (name: string) => {
      await Deno.mkdir(served(`${name}-home`), { recursive: true });
      await Deno.mkdir(served(name), { recursive: true });
      await Deno.writeTextFile(join(served(`${name}-home`), "config.yaml"), config);
      await Deno.copyFile(film, join(served(name), "film.mkv"));
      await settle(join(served(name), "film.mkv"));
      const env = { VPO_HOME: join(cluster.share, `${name}-home`) };
      const share = (path: string) => join(cluster.share, path);
      const out = await cluster.vpo("c", [
        "transcode",
        "--policy",
        share("film.yaml"),
        share(`${name}/film.mkv`),
      ], env);
      if (out.code !== 0) throw new Error(`queueing on the share failed: ${out.stderr}`);
      return env;
    };
    const start = ["jobs", "start", "--no-purge", "--cpu-cores", "1"];
    const alone = await queued("alone");
    const oneSec = await timed(async () => {
      const r = await cluster.vpo("c", start, alone);
      if (r.code !== 0) throw new Error(r.stdout + r.stderr);
    });
    // Both hosts run on this one machine, whose core locks are per host name: host a is kept
    // off core 0 (host c's) by a lock held on its core 0, as another worker of a would hold it.
    const pair = await queued("pair");
    const cpuDir = join(served("pair-home"), "cpu", "vpo-a");
    await Deno.mkdir(cpuDir, { recursive: true });
    const holder = new Deno.Command(HOSTS_SH, {
      args: [
        "exec",
        cluster.dir,
        "a",
        "flock",
        join(cluster.share, "pair-home/cpu/vpo-a/core-0.lock"),
        "sleep",
        "3600",
      ],
      stdout: "null",
      stderr: "null",
    }).spawn();
    let twoSec: number;
    try {
      await new Promise((r) => setTimeout(r, 1000));
      twoSec = await timed(async () => {
        const results = await Promise.all(
          (["c", "a"] as const).map((h) => cluster.vpo(h, start, pair)),
        );
        for (const r of results) if (r.code !== 0) throw new Error(r.stdout + r.stderr);
      });
    } finally {
      holder.kill("SIGKILL");
      await holder.status;
    }
    return [
      {
        name: `${what} over sshfs: one host, one core`,
        value: `${oneSec.toFixed(1)} s`,
        note: "baseline 1.00",
      },
      {
        name: `${what} over sshfs: two hosts, one core each`,
        value: `${twoSec.toFixed(1)} s`,
        note: `${(twoSec / oneSec).toFixed(2)} x one host`,
      },
    ];
  } finally {
    await cluster.down();
  }
}

if (import.meta.main) {
  for (const r of await benchParallel(Deno.args.includes("--quick"))) {
    console.log(`${r.name.padEnd(64)} ${r.value.padStart(10)}  ${r.note}`);
  }
}
