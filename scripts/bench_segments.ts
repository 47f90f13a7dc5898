/**
 * The segments section of `deno task bench`: one clip encoded by `vpo jobs start` in one pass
 * (segmenting off), against the same clip encoded in segments through short `--max-duration`
 * windows, run after run until done, as a night after night would. Reported as ratios of the
 * one-pass run in the same process: wall and CPU time summed over all runs, and output size.
 *
 * @module
 */
import { join } from "node:path";
import { CLI, run, settle, timedWorker, type TranscodeRow } from "./bench_transcode.ts";
import { CLI_PERMISSIONS } from "./permissions.ts";

const POLICY = `schema_version: 1
transcode:
  target_video_codec: hevc
  target_crf: 28
  preset: fast
  keep_larger_output: true
`;

/** Queues `clip` in a fresh home with `config`; returns the home. */
async function queueIn(root: string, name: string, clip: string, config: string) {
  const home = join(root, `${name}-home`);
  const media = join(root, name);
  await Deno.mkdir(home, { recursive: true });
  await Deno.mkdir(media);
  await Deno.writeTextFile(join(home, "config.yaml"), config);
  await Deno.writeTextFile(join(root, "bench.yaml"), POLICY);
  const source = join(media, "clip.mkv");
  await Deno.copyFile(clip, source);
  await settle(source);
  await run(Deno.execPath(), [
    "run",
    ...CLI_PERMISSIONS,
    CLI,
    "transcode",
    "--policy",
    join(root, "bench.yaml"),
    source,
  ], {
    VPO_HOME: home,
  });
  return { home, source };
}

async function status(home: string): Promise<string> {
  const out = await run(
    Deno.execPath(),
    ["run", ...CLI_PERMISSIONS, CLI, "jobs", "list", "--json"],
    {
      VPO_HOME: home,
    },
  );
  return JSON.parse(out)[0].status;
}

/** Runs the section; `quick` uses a smaller clip. */
export async function benchSegments(quick: boolean): Promise<TranscodeRow[]> {
  const seconds = 60;
  const size = quick ? "320x180" : "640x360";
  // 5 s segments of a source with a keyframe every 2 s: windows hold several segments, as a
  // night holds dozens of 5-minute segments.
  const segment = 5;
  const root = await Deno.makeTempDir({ prefix: "vpo-bench-seg-" });
  try {
    const clip = join(root, "source.mkv");
    await run("ffmpeg", [
      ...["-nostdin", "-v", "error", "-y"],
      ...["-f", "lavfi", "-i", `testsrc2=size=${size}:rate=25:duration=${seconds}`],
      ...["-f", "lavfi", "-i", `sine=frequency=440:duration=${seconds}`],
      ...["-c:v", "libx264", "-preset", "ultrafast", "-crf", "16", "-g", "50", "-c:a", "aac", clip],
    ]);
    const jobsConfig = (length: string) => `jobs:\n  segment_length: ${length}\n`;

    const one = await queueIn(root, "one", clip, jobsConfig("null"));
    const single = await timedWorker(one.home, ["jobs", "start", "--no-purge"]);
    if (await status(one.home) !== "completed") throw new Error("the one-pass encode failed");

    // Windows of a third of the one-pass time: at least three runs, as over three nights.
    const window = Math.max(2, Math.round(single.wall / 3));
    const seg = await queueIn(root, "seg", clip, jobsConfig(`${segment}`));
    // The machine's measured speed, as a worker has it after its first job: the deadline guard
    // then starts a segment only when it fits.
    await Deno.mkdir(join(seg.home, "stats"));
    for (const e of Deno.readDirSync(join(one.home, "stats"))) {
      await Deno.copyFile(join(one.home, "stats", e.name), join(seg.home, "stats", e.name));
    }
    let wall = 0;
    let cpu = 0;
    let runs = 0;
    while (await status(seg.home) !== "completed") {
      if (++runs > 40) throw new Error("the segmented encode did not finish in 40 windows");
      const t = await timedWorker(seg.home, [
        "jobs",
        "start",
        "--no-purge",
        "--max-duration",
        `${window}`,
      ]);
      wall += t.wall;
      cpu += t.cpu;
    }
    const [oneSize, segSize] = [
      (await Deno.stat(one.source)).size,
      (await Deno.stat(seg.source)).size,
    ];
    const what = `${seconds} s ${size} clip, ${segment} s segments`;
    return [
      {
        name: `one pass (${what})`,
        value: `${single.wall.toFixed(1)} s`,
        note: `baseline 1.00; cpu ${single.cpu.toFixed(1)} s, ${oneSize} bytes`,
      },
      {
        name: `segmented, ${runs} runs of --max-duration ${window}`,
        value: `${wall.toFixed(1)} s`,
        note: `${(wall / single.wall).toFixed(2)} x one pass; cpu ${
          (cpu / single.cpu).toFixed(2)
        } x`,
      },
      {
        name: "segmented output size",
        value: `${segSize} B`,
        note: `${(segSize / oneSize).toFixed(3)} x one pass`,
      },
    ];
  } finally {
    await Deno.remove(root, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) {
  for (const r of await benchSegments(Deno.args.includes("--quick"))) {
    console.log(`${r.name.padEnd(48)} ${r.value.padStart(12)}  ${r.note}`);
  }
}
