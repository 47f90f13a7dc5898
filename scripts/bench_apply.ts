/**
 * The apply section of `deno task bench`: files with many tracks whose track policy needs a copy,
 * drained by `vpo jobs start` (apply jobs: copy, verification by ffprobe and mkvmerge, journaled
 * replace) against a plain shell loop of the very same ffmpeg copy commands, in one run so that
 * the ratio is fair on a noisy machine; and the bytes per second the drain copied.
 *
 * @module
 */
import { join } from "node:path";
import { shellQuote } from "../src/media/ffmpeg_args.ts";
import { probe } from "../src/media/probe.ts";
import { parsePolicyFile } from "../src/policy/policy.ts";
import { buildApplyArgs } from "../src/tracks/apply_args.ts";
import { planTracks } from "../src/tracks/plan.ts";
import { formatBytes } from "../src/util/format.ts";
import { makeTrackClip } from "../tests/helpers/track_clips.ts";
import { CLI_PERMISSIONS } from "./permissions.ts";
import { CLI, run, settle, timedWorker, type TranscodeRow } from "./bench_transcode.ts";

const POLICY = `schema_version: 2
audio_language_preference: [eng, und]
audio_filter: { languages: [eng, jpn] }
subtitle_filter: { languages: [eng], preserve_forced: true }
default_flags: { set_preferred_subtitle_default: true }
`;

async function makeFilms(dir: string, count: number, seconds: number): Promise<string[]> {
  await Deno.mkdir(dir, { recursive: true });
  const first = await makeTrackClip(join(dir, "film-00.mkv"), {
    duration: seconds,
    audio: [
      { language: "jpn", default: true },
      { language: "eng" },
      { language: "eng", title: "Commentary" },
      { language: "fre" },
    ],
    subtitles: [{ language: "eng", forced: true }, { language: "fre" }, { language: "eng" }],
    font: true,
  });
  const films = [first];
  for (let i = 1; i < count; i++) {
    const path = join(dir, `film-${String(i).padStart(2, "0")}.mkv`);
    await Deno.copyFile(first, path);
    await settle(path);
    films.push(path);
  }
  return films;
}

async function copyFilms(films: string[], dir: string): Promise<string[]> {
  await Deno.mkdir(dir, { recursive: true });
  return await Promise.all(films.map(async (f) => {
    const to = join(dir, f.slice(f.lastIndexOf("/") + 1));
    await Deno.copyFile(f, to);
    await settle(to);
    return to;
  }));
}

/** The exact ffmpeg copy an apply job runs for `film`, writing to `output`. */
async function copyCommand(film: string, output: string): Promise<string> {
  const decision = planTracks(parsePolicyFile(POLICY, "bench.yaml").tracks!, await probe(film));
  if (decision.action !== "apply") throw new Error(`${film}: ${decision.action}`);
  return shellQuote(["ffmpeg", ...buildApplyArgs(decision.plan, film, output)]);
}

async function timed(f: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await f();
  return (performance.now() - t) / 1000;
}

/** Runs the section; `quick` uses fewer, shorter files. */
export async function benchApply(quick: boolean): Promise<TranscodeRow[]> {
  const count = quick ? 4 : 10;
  const seconds = quick ? 20 : 60;
  const root = await Deno.makeTempDir({ prefix: "vpo-bench-apply-" });
  try {
    const films = await makeFilms(join(root, "src"), count, seconds);
    const bytes = count * (await Deno.stat(films[0])).size;
    const policyPath = join(root, "tracks.yaml");
    await Deno.writeTextFile(policyPath, POLICY);

    // 1. A plain shell loop of the same copy commands.
    const loopFilms = await copyFilms(films, join(root, "loop"));
    const script = (await Promise.all(loopFilms.map((f) => copyCommand(f, `${f}.out.mkv`))))
      .map((cmd) => `${cmd} >/dev/null 2>&1 || exit 1`).join("\n");
    await Deno.writeTextFile(join(root, "loop.sh"), script + "\n");
    const loopSec = await timed(() => run("bash", [join(root, "loop.sh")]));

    // 2. vpo: queue (timed apart), then drain.
    const vpoCli = (home: string, ...args: string[]) =>
      run(Deno.execPath(), ["run", ...CLI_PERMISSIONS, CLI, ...args], { VPO_HOME: home });
    await copyFilms(films, join(root, "vpo"));
    const home = join(root, "home");
    const queueSec = await timed(() =>
      vpoCli(home, "transcode", "--policy", policyPath, join(root, "vpo"))
    );
    const vpo = await timedWorker(home, ["jobs", "start", "--no-purge"]);
    const completed = JSON.parse(await vpoCli(home, "jobs", "status", "--json")).completed;
    if (completed !== count) throw new Error(`vpo completed ${completed} of ${count}`);

    const n = `${count} files of ${seconds} s, ${formatBytes(bytes / count)} each`;
    return [
      { name: `copy ${n}: shell loop`, value: `${loopSec.toFixed(1)} s`, note: "baseline 1.00" },
      {
        name: `copy ${n}: vpo apply jobs`,
        value: `${vpo.wall.toFixed(1)} s`,
        note: `${
          (vpo.wall / loopSec).toFixed(2)
        } x loop (copy, ffprobe and mkvmerge checks, replace)`,
      },
      {
        name: "apply job's own time (vpo minus loop, per job)",
        value: `${((vpo.wall - loopSec) / count).toFixed(2)} s`,
        note: "claim, checks by ffprobe and mkvmerge, journaled replace, worker start shared",
      },
      {
        name: "apply drain, bytes copied per second",
        value: `${formatBytes(bytes / vpo.wall)}/s`,
        note: `loop: ${formatBytes(bytes / loopSec)}/s`,
      },
      {
        name: `vpo transcode (deciding ${count})`,
        value: `${queueSec.toFixed(1)} s`,
        note: "not part of the drain",
      },
    ];
  } finally {
    await Deno.remove(root, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) {
  for (const r of await benchApply(Deno.args.includes("--quick"))) {
    console.log(`${r.name.padEnd(56)} ${r.value.padStart(12)}  ${r.note}`);
  }
}
