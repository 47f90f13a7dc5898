/**
 * The quality section of `deno task bench` (`--only quality`): the CRF search on generated clips
 * of different difficulty, each measured against what it predicts and against the alternative of
 * one fixed CRF for the whole library. All in one run, on the same machine and load:
 *
 * - total output size at the CRFs found (an output below the minimum encoded once more lower, as
 *   the worker does), against the best single fixed CRF that meets the same minimum on every
 *   converted file (its whole-file score at or above min - tolerance, as vpo accepts its own),
 *   found by full encodes;
 * - search cost: the search's wall time (nothing remembered) as a fraction of the full encode's;
 * - predicted against achieved score and size (mean absolute error);
 * - CRFs tried per file in a six-episode "season" folder: the first against the later ones.
 *
 * The clips are 640x360 H.264 (3 Mb/s) with AAC audio: six of 2 minutes (30 s with --quick) and
 * one 10-minute "film" made of 100 s of each (2 minutes with --quick). Encodes are libx265
 * `medium`, SSIM minimum 0.96 with the default tolerance, samples as the defaults (10 s, one per 5
 * minutes).
 *
 * @module
 */
import { join } from "node:path";
import { buildFfmpegArgs } from "../src/media/ffmpeg_args.ts";
import { runFfmpeg } from "../src/media/ffmpeg_runner.ts";
import { type EncodePlan, planTranscode } from "../src/media/plan.ts";
import { probe } from "../src/media/probe.ts";
import { parsePolicy } from "../src/policy/policy.ts";
import type { TranscodePolicy } from "../src/policy/types.ts";
import { measureAchieved, reaches, retryCrf } from "../src/quality/achieved.ts";
import { LINEAR, slopeOf } from "../src/quality/search.ts";
import { searchCrf, type SearchResult } from "../src/quality/crf_search.ts";
import { QualityMemory } from "../src/quality/memory.ts";
import { QualityTemps } from "../src/quality/temps.ts";
import { VpoHome } from "../src/queue/layout.ts";

/** One row of the section. */
export interface QualityRow {
  name: string;
  value: string;
  note: string;
}

const MIN = 0.96;
const POLICY = `transcode:
  target_video_codec: hevc
  preset: medium
  target_quality:
    min: ${MIN}
`;

/** lavfi sources of the six kinds of clip. */
const KINDS: Record<string, string> = {
  cartoon: "testsrc=size=640x360:rate=25",
  detail: "testsrc2=size=640x360:rate=25",
  grain: "testsrc2=size=640x360:rate=25,noise=alls=6:allf=t+u",
  fractal: "mandelbrot=size=640x360:rate=25",
  life: "life=size=640x360:rate=25:mold=10:ratio=0.1:death_color=#C83232:life_color=#00ff00",
  soft: "gradients=size=640x360:rate=25:speed=0.01",
};

/**
 * How the sources are encoded: H.264 at a steady 3 Mb/s, as TV recordings and web rips are, so
 * easy content has bytes to save and hard content few.
 */
const SOURCE_VIDEO = [
  ...["-c:v", "libx264", "-preset", "veryfast"],
  ...["-b:v", "3M", "-maxrate", "3M", "-bufsize", "6M"],
];

async function ffmpeg(args: string[]): Promise<void> {
  const out = await new Deno.Command("ffmpeg", {
    args: ["-nostdin", "-v", "error", "-y", ...args],
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
}

/** A 640x360 H.264 + AAC clip of `lavfi` lasting `seconds`. */
async function makeClip(path: string, lavfi: string, seconds: number): Promise<string> {
  await ffmpeg([
    ...["-f", "lavfi", "-i", lavfi, "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"],
    ...["-t", `${seconds}`, ...SOURCE_VIDEO],
    ...["-c:a", "aac", "-b:a", "128k", path],
  ]);
  return path;
}

/** The film: `seconds / 6` of each kind in turn, encoded in one run as the clips are. */
async function makeFilm(dir: string, seconds: number): Promise<string> {
  const kinds = Object.values(KINDS);
  const part = seconds / kinds.length;
  const inputs = kinds.flatMap((lavfi) => ["-f", "lavfi", "-t", `${part}`, "-i", lavfi]);
  const chain = kinds.map((_, i) => `[${i}:v]format=yuv420p,setsar=1[v${i}]`).join(";");
  const joined = kinds.map((_, i) => `[v${i}]`).join("");
  await Deno.mkdir(join(dir, "film"));
  const film = join(dir, "film", "film.mkv");
  await ffmpeg([
    ...inputs,
    ...["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"],
    ...["-filter_complex", `${chain};${joined}concat=n=${kinds.length}:v=1:a=0[v]`],
    ...["-map", "[v]", "-map", `${kinds.length}:a`, "-t", `${seconds}`],
    ...[...SOURCE_VIDEO, "-c:a", "aac", "-b:a", "128k"],
    film,
  ]);
  return film;
}

interface Context {
  root: string;
  policy: TranscodePolicy;
  memory: QualityMemory;
  temps: QualityTemps;
  log: string;
}

const run = (ctx: Context) => ({
  logPath: ctx.log,
  cpuCores: null,
  cpuSet: null,
  signal: new AbortController().signal,
});

async function planOf(ctx: Context, source: string): Promise<EncodePlan> {
  return planTranscode(ctx.policy, await probe(source)) as EncodePlan;
}

/** A full encode of `source` at `crf`: its wall time, size, and whole-file SSIM. */
async function fullEncode(ctx: Context, source: string, crf: number) {
  const media = await probe(source);
  const plan = await planOf(ctx, source);
  const at = { ...plan, video: { ...plan.video, crf } };
  const out = join(ctx.root, `full-${crf}.mkv`);
  const started = performance.now();
  const result = await runFfmpeg({ args: buildFfmpegArgs(at, source, out), logPath: ctx.log });
  const wallSec = (performance.now() - started) / 1000;
  if (!result.success) throw new Error(`full encode failed: ${result.tail.at(-1)}`);
  const measuring = performance.now();
  const { score } = await measureAchieved({
    output: out,
    source,
    plan,
    target: ctx.policy.targetQuality!,
    durationSec: media.duration,
    temps: ctx.temps,
    run: run(ctx),
  });
  const checkSec = (performance.now() - measuring) / 1000;
  const size = (await Deno.stat(out)).size;
  await Deno.remove(out);
  return { wallSec, checkSec, size, score, sourceSize: media.size };
}

async function search(ctx: Context, source: string): Promise<SearchResult> {
  const media = await probe(source);
  return await searchCrf({
    source,
    media,
    plan: await planOf(ctx, source),
    target: ctx.policy.targetQuality!,
    memory: ctx.memory,
    temps: ctx.temps,
    run: run(ctx),
  });
}

const pct = (n: number) => `${(n * 100).toFixed(1)} %`;

/** Wall seconds a search spent in its sample encodes (the rest: cuts, scoring, start-ups). */
const sampleEncodeSec = (result: SearchResult, durationSec: number) =>
  result.probes.reduce((n, p) => n + p.encodeSec * result.sampleSec / durationSec, 0);
const converted = (found: Record<string, unknown>) => Object.keys(found);

/** Runs the section; `quick` uses 30 s clips and a 2-minute film. */
export async function benchQuality(quick: boolean): Promise<QualityRow[]> {
  const clipSec = quick ? 30 : 120;
  const filmSec = quick ? 120 : 600;
  const root = await Deno.makeTempDir({ prefix: "vpo-bench-quality-" });
  const home = new VpoHome(join(root, "home"));
  await Deno.mkdir(home.root);
  const policy = parsePolicy(POLICY, "bench.yaml");
  const tolerance = policy.targetQuality!.tolerance;
  const ctx: Context = {
    root,
    policy,
    memory: new QualityMemory(home.library, (w) => console.error(w)),
    temps: new QualityTemps(root, { id: "b".repeat(32), token: "e".repeat(12) }),
    log: join(root, "ffmpeg.log"),
  };
  const rows: QualityRow[] = [];
  const report = (row: QualityRow) => {
    rows.push(row);
    console.error(`quality: ${row.name}: ${row.value} (${row.note})`);
  };
  try {
    const clips: Record<string, string> = {};
    for (const [name, lavfi] of Object.entries(KINDS)) {
      await Deno.mkdir(join(root, name));
      clips[name] = await makeClip(join(root, name, `${name}.mkv`), lavfi, clipSec);
    }
    clips.film = await makeFilm(root, filmSec);

    // Each file: its search (nothing remembered), then its full encode at the CRF found.
    const found: Record<string, { crf: number; size: number }> = {};
    const scoreErrors: number[] = [];
    const sizeErrors: number[] = [];
    const fullCache = new Map<string, Awaited<ReturnType<typeof fullEncode>>>();
    const full = async (name: string, crf: number) => {
      const key = `${name}@${crf}`;
      if (!fullCache.has(key)) fullCache.set(key, await fullEncode(ctx, clips[name], crf));
      return fullCache.get(key)!;
    };
    for (const name of Object.keys(clips)) {
      const result = await search(ctx, clips[name]);
      const seconds = name === "film" ? filmSec : clipSec;
      if (!result.found) {
        report({
          name: `${name} (${seconds} s)`,
          value: "keeps the original",
          note: `${result.probes.length} CRFs, search ${
            result.wallSec.toFixed(0)
          } s: ${result.reason}`,
        });
        continue;
      }
      const best = result.best;
      const encoded = await full(name, best.crf);
      scoreErrors.push(Math.abs(best.score - encoded.score));
      sizeErrors.push(Math.abs(best.bytes - encoded.size) / encoded.size);
      // As the worker does: an output below the minimum is encoded once more, lower.
      const target = ctx.policy.targetQuality!;
      const retry = reaches(target, encoded.score)
        ? null
        : retryCrf(best.crf, encoded.score, target, slopeOf(result.probes, LINEAR.ssim));
      const kept = retry === null ? encoded : await full(name, retry);
      found[name] = { crf: retry ?? best.crf, size: kept.size };
      const retried = retry === null
        ? ""
        : `; below the minimum, retried at crf ${retry}: ssim ${kept.score.toFixed(4)}, ` +
          `${pct(kept.size / kept.sourceSize)}`;
      report({
        name: `${name} (${seconds} s)`,
        value: `crf ${best.crf}`,
        note: `ssim predicted ${best.score.toFixed(4)}, achieved ${encoded.score.toFixed(4)}; ` +
          `size predicted ${pct(best.bytes / encoded.sourceSize)}, achieved ` +
          `${
            pct(encoded.size / encoded.sourceSize)
          } of the source; ${result.probes.length} CRFs, ` +
          `search ${result.wallSec.toFixed(0)} s = ${pct(result.wallSec / encoded.wallSec)} of ` +
          `the full encode (${encoded.wallSec.toFixed(0)} s), of which sample encodes ` +
          `${sampleEncodeSec(result, seconds).toFixed(0)} s${retried}`,
      });
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
    const checks = converted(found).map((n) => fullCache.get(`${n}@${found[n].crf}`)!);
    report({
      name: "whole-file ssim check vs full encode",
      value: pct(mean(checks.map((c) => c.checkSec / c.wallSec))),
      note: `every frame of the output against the source, after the encode; ${
        checks.map((c) => pct(c.checkSec / c.wallSec)).join(", ")
      }`,
    });
    report({
      name: "prediction error (MAE)",
      value: `ssim ${mean(scoreErrors).toFixed(4)}, size ${pct(mean(sizeErrors))}`,
      note: `over ${scoreErrors.length} files; size error relative to the achieved size`,
    });

    // The best single fixed CRF: the highest that every converted file passes at.
    const names = converted(found);
    // One encode at a time: their wall times are figures too.
    const allPass = async (crf: number) => {
      for (const name of names) if ((await full(name, crf)).score < MIN - tolerance) return false;
      return true;
    };
    let fixed = Math.min(...names.map((n) => found[n].crf));
    while (!await allPass(fixed)) fixed--;
    while (await allPass(fixed + 1)) fixed++;
    let fixedTotal = 0;
    for (const name of names) fixedTotal += (await full(name, fixed)).size;
    const ownTotal = names.reduce((n, name) => n + found[name].size, 0);
    const below = names.filter((n) =>
      fullCache.get(`${n}@${found[n].crf}`)!.score < MIN - tolerance
    );
    report({
      name: "total output, CRFs found vs fixed crf",
      value: `${pct(ownTotal / fixedTotal)} of fixed crf ${fixed}`,
      note: `${(ownTotal / 1e6).toFixed(1)} MB against ${(fixedTotal / 1e6).toFixed(1)} MB over ` +
        `${names.length} files; files below ${MIN} - ${tolerance} at their CRF: ` +
        `${below.join(", ") || "none"}`,
    });

    // A season: six similar episodes in one folder, searched in order.
    const season = join(root, "season");
    await Deno.mkdir(season);
    const probes: number[] = [];
    for (let i = 1; i <= 6; i++) {
      const lavfi = `testsrc2=size=640x360:rate=25,hue=h=${i * 40},noise=alls=4:all_seed=${i}`;
      const episode = await makeClip(join(season, `e0${i}.mkv`), lavfi, clipSec);
      const result = await search(ctx, episode);
      probes.push(result.probes.length);
    }
    report({
      name: "season of 6: CRFs tried per file",
      value: `first ${probes[0]}, later ${mean(probes.slice(1)).toFixed(1)}`,
      note: `in order: ${probes.join(", ")}`,
    });
  } finally {
    ctx.memory.close();
    await Deno.remove(root, { recursive: true });
  }
  return rows;
}

if (import.meta.main) {
  for (const row of await benchQuality(Deno.args.includes("--quick"))) {
    console.log(`${row.name}: ${row.value} (${row.note})`);
  }
}
