import assert from "node:assert/strict";
import { join } from "node:path";
import { extractCoverArt } from "../src/media/cover_art.ts";
import { detectEncoder } from "../src/media/encoders.ts";
import { buildFfmpegArgs, shellQuote } from "../src/media/ffmpeg_args.ts";
import { runFfmpeg } from "../src/media/ffmpeg_runner.ts";
import type { RunFfmpegResult } from "../src/media/ffmpeg_runner.ts";
import { planTranscode } from "../src/media/plan.ts";
import type { EncodePlan } from "../src/media/plan.ts";
import { probe } from "../src/media/probe.ts";
import type { MediaInfo } from "../src/media/probe.ts";
import type { ProgressUpdate } from "../src/media/progress.ts";
import { decodeCheck, verifyOutput } from "../src/media/verify.ts";
import type { TranscodePolicy } from "../src/policy/types.ts";
import { corruptFile, makeClip } from "./helpers/clips.ts";
import { TEST_POLICY as POLICY } from "./helpers/media_info.ts";
import { withTempDir } from "./helpers/temp.ts";

/** Every temp directory this file makes starts with this. */
const TEMP_PREFIX = "vpo-ffmpeg-";

interface Transcoded {
  source: MediaInfo;
  plan: EncodePlan;
  output: string;
  result: RunFfmpegResult;
  updates: ProgressUpdate[];
}

/** The worker's path in miniature: probe, plan, extract covers, run, (caller verifies). */
async function transcode(
  source: string,
  dir: string,
  policy: Partial<TranscodePolicy> = {},
  extraArgs: string[] = [],
): Promise<Transcoded> {
  const info = await probe(source);
  const plan = planTranscode({ ...POLICY, ...policy }, info);
  assert.equal(plan.action, "transcode", plan.action === "skip" ? plan.reason : "");
  const encodePlan = plan as EncodePlan;
  using covers = await extractCoverArt(encodePlan, source, join(dir, "covers"));
  const output = join(dir, `out${encodePlan.extension}`);
  const args = buildFfmpegArgs(encodePlan, source, output, { coverArtDir: covers?.pathForChild });
  const updates: ProgressUpdate[] = [];
  const result = await runFfmpeg({
    args: [...extraArgs, ...args],
    logPath: join(dir, "ffmpeg.log"),
    durationSec: info.duration,
    onProgress: (update) => updates.push(update),
  });
  assert.ok(result.success, result.tail.join("\n"));
  return { source: info, plan: encodePlan, output, result, updates };
}

async function assertVerified(t: Transcoded): Promise<MediaInfo> {
  const verdict = await verifyOutput(t.source, t.output, t.plan);
  assert.ok(verdict.ok, verdict.ok ? "" : verdict.reason);
  return verdict.info;
}

/** The raw packet bytes of one stream (for an attached picture: the image file). */
async function streamBytes(path: string, index: number): Promise<Uint8Array> {
  const args = ["-v", "error", "-i", `file:${path}`, "-map", `0:${index}`, "-c", "copy"];
  const run = await new Deno.Command("ffmpeg", { args: [...args, "-f", "data", "-"] }).output();
  assert.ok(run.success);
  return run.stdout;
}

async function streamTag(path: string, selector: string): Promise<string> {
  const args = ["-v", "error", "-select_streams", selector, "-show_entries"];
  const run = await new Deno.Command("ffprobe", {
    args: [...args, "stream=codec_tag_string", "-of", "csv=p=0", `file:${path}`],
  }).output();
  return new TextDecoder().decode(run.stdout).trim();
}

// ---------------------------------------------------------------- end to end with real ffmpeg

Deno.test("ffmpeg: an MKV keeps two audio tracks, subtitles, an attachment and its cover", async () => {
  await withTempDir(async (dir) => {
    const source = await makeClip(join(dir, "film.mkv"), {
      audio: ["aac", "ac3"],
      subtitles: true,
      attachment: true,
      coverArt: true,
    });
    const t = await transcode(source, dir);
    const out = await assertVerified(t);
    assert.deepEqual(
      out.streams.map((s) => `${s.type}:${s.codec}${s.isCoverArt ? ":cover" : ""}`),
      [
        "video:hevc",
        "audio:aac",
        "audio:aac",
        "subtitle:subrip",
        "attachment:ttf",
        "video:png:cover",
      ],
    );
    assert.deepEqual(out.streams.slice(1, 3).map((s) => s.language), ["eng", "fra"]);
    const cover = out.streams[5];
    assert.deepEqual([cover.fileName, cover.mimeType], ["cover.png", "image/png"]);
    assert.deepEqual(await streamBytes(t.output, 5), await streamBytes(source, 5));
    assert.deepEqual(t.plan.notes, ["stream 0:2 (ac3) transcoded to aac at 96 kb/s"]);
  }, TEMP_PREFIX);
});

Deno.test("ffmpeg: an MP4 keeps mov_text and its cover, tags hevc as hvc1", async () => {
  await withTempDir(async (dir) => {
    const source = await makeClip(join(dir, "clip.mp4"), {
      subtitles: true,
      coverArt: true,
      timecode: true,
    });
    const t = await transcode(source, dir);
    assert.equal(t.plan.format, "mp4");
    const out = await assertVerified(t);
    const kinds = out.streams.map((s) => `${s.type}:${s.codec}${s.isCoverArt ? ":cover" : ""}`);
    assert.ok(kinds.includes("subtitle:mov_text"), kinds.join());
    assert.ok(kinds.includes("video:png:cover"), kinds.join());
    assert.equal(await streamTag(t.output, "v:0"), "hvc1");
  }, TEMP_PREFIX);
});

Deno.test("ffmpeg: a 10-bit source stays 10-bit", async () => {
  await withTempDir(async (dir) => {
    const source = await makeClip(join(dir, "ten.mkv"), { pixFmt: "yuv420p10le", audio: [] });
    const t = await transcode(source, dir);
    const out = await assertVerified(t);
    assert.deepEqual([out.streams[0].codec, out.streams[0].pixFmt], ["hevc", "yuv420p10le"]);
  }, TEMP_PREFIX);
});

Deno.test("ffmpeg: 3840x1600 is scaled to 1920x800", async () => {
  await withTempDir(async (dir) => {
    const source = await makeClip(join(dir, "wide.mkv"), { size: "3840x1600", rate: 2 });
    const t = await transcode(source, dir);
    const out = await assertVerified(t);
    assert.deepEqual([out.streams[0].width, out.streams[0].height], [1920, 800]);
  }, TEMP_PREFIX);
});

Deno.test("ffmpeg: progress arrives with increasing percent and ends at 100", async () => {
  await withTempDir(async (dir) => {
    const source = await makeClip(join(dir, "long.mkv"), { duration: 4, audio: [] });
    const t = await transcode(source, dir, {}, ["-stats_period", "0.05"]);
    const percents = t.updates.map((u) => u.percent);
    assert.ok(percents.length >= 3, `only ${percents.length} updates`);
    for (let i = 1; i < percents.length; i++) {
      assert.ok(percents[i] >= percents[i - 1], percents.join());
    }
    assert.ok(percents.some((p) => p > 0 && p < 100), percents.join());
    assert.equal(t.updates.at(-1)?.done, true);
    assert.equal(percents.at(-1), 100);
  }, TEMP_PREFIX);
});

Deno.test("ffmpeg: awkward names (dash, colon, quotes, newline, CJK) transcode and verify", async () => {
  await withTempDir(async (dir) => {
    const source = await makeClip(join(dir, `-x: it's "q"\n日本語 ファイル.mkv`), { audio: [] });
    const t = await transcode(source, dir);
    await assertVerified(t);
    assert.ok(shellQuote(buildFfmpegArgs(t.plan, source, t.output)).includes("日本語"));
  }, TEMP_PREFIX);
});

Deno.test("verify: a truncated output, a wrong stream count and a wrong codec are rejected", async () => {
  await withTempDir(async (dir) => {
    const source = await makeClip(join(dir, "film.mkv"), { duration: 4 });
    const t = await transcode(source, dir);
    await assertVerified(t);

    const wrongCount = { ...t.plan, expectedStreams: { ...t.plan.expectedStreams, audio: 2 } };
    const counted = await verifyOutput(t.source, t.output, wrongCount);
    assert.deepEqual(counted, { ok: false, reason: "stream count: 1 audio (planned 2)" });

    const sameFile = await verifyOutput(t.source, source, t.plan);
    assert.deepEqual(sameFile, { ok: false, reason: "video 0 is h264, planned hevc" });

    // The header still claims 4 s: only reading the last packets shows the damage.
    await corruptFile(t.output, "truncate");
    const truncated = await verifyOutput(t.source, t.output, t.plan);
    assert.equal(truncated.ok, false);
    assert.match(
      truncated.ok ? "" : truncated.reason,
      /^content \d\.\d\d s differs from the source's 4\.\d\d s/,
    );

    const garbled = join(dir, "garbled.mkv");
    await Deno.copyFile(source, garbled);
    await corruptFile(garbled, "garble");
    const unreadable = await verifyOutput(t.source, garbled, t.plan);
    assert.match(unreadable.ok ? "" : unreadable.reason, /^output unreadable: .*EBML header/);
  }, TEMP_PREFIX);
});

Deno.test("decodeCheck: a good file passes, a damaged one fails with a reason", async () => {
  await withTempDir(async (dir) => {
    const good = await makeClip(join(dir, "good.mkv"));
    assert.deepEqual(await decodeCheck(good), { ok: true });
    await corruptFile(good, "garble");
    const bad = await decodeCheck(good);
    assert.match(bad.ok ? "" : bad.reason, /^decode error: /);
  }, TEMP_PREFIX);
});

// ---------------------------------------------------------------- runner

const ENDLESS = ["-nostdin", "-re", "-f", "lavfi", "-i", "testsrc2=size=160x90:rate=25"];

Deno.test("runner: aborting stops ffmpeg promptly and reports it", async () => {
  await withTempDir(async (dir) => {
    const controller = new AbortController();
    const started = performance.now();
    const result = await runFfmpeg({
      args: [...ENDLESS, "-progress", "pipe:1", "-stats_period", "0.1", "-f", "null", "-"],
      logPath: join(dir, "log"),
      signal: controller.signal,
      onProgress: () => controller.abort(),
    });
    assert.equal(result.aborted, true);
    assert.equal(result.success, false);
    assert.ok(performance.now() - started < 4000);
    assert.ok(result.code === 255 || result.signal !== null, JSON.stringify(result));
  }, TEMP_PREFIX);
});

Deno.test("runner: a process ignoring SIGTERM is killed after the grace period", async () => {
  await withTempDir(async (dir) => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 300);
    const result = await runFfmpeg({
      ffmpeg: "bash",
      args: ["-c", "trap '' TERM; echo started >&2; while :; do sleep 0.1; done"],
      logPath: join(dir, "log"),
      signal: controller.signal,
      killGraceMs: 300,
      nice: null,
    });
    assert.equal(result.signal, "SIGKILL");
    assert.equal(result.aborted, true);
    assert.deepEqual(result.tail, ["started"]);
  }, TEMP_PREFIX);
});

Deno.test("runner: the log is appended with the command line; the tail keeps 20 lines", async () => {
  await withTempDir(async (dir) => {
    const logPath = join(dir, "ffmpeg.log");
    const script = "for i in $(seq 1 30); do echo line $i >&2; done; exit 3";
    for (let run = 0; run < 2; run++) {
      const result = await runFfmpeg({
        ffmpeg: "bash",
        args: ["-c", script],
        logPath,
        cpuCores: 1,
      });
      assert.deepEqual([result.success, result.code], [false, 3]);
      assert.equal(result.tail.length, 20);
      assert.deepEqual([result.tail[0], result.tail[19]], ["line 11", "line 30"]);
    }
    const log = await Deno.readTextFile(logPath);
    const headers = log.split("\n").filter((line) => line.startsWith("# "));
    assert.equal(headers.length, 2);
    assert.match(headers[0], / nice -n 10 /);
    if (navigator.hardwareConcurrency > 1) assert.match(headers[0], / taskset -c 0-0 bash /);
    assert.equal(log.split("\n").filter((line) => line === "line 30").length, 2);
  }, TEMP_PREFIX);
});

// ---------------------------------------------------------------- encoders

Deno.test("encoders: none is software; auto and vaapi without a GPU fall back with a note", async () => {
  assert.deepEqual(await detectEncoder("hevc", "none"), {
    encoder: "libx265",
    kind: "software",
    note: null,
  });
  await withTempDir(async (empty) => {
    const auto = await detectEncoder("hevc", "auto", { devDir: empty });
    assert.deepEqual([auto.encoder, auto.kind], ["libx265", "software"]);
    assert.match(auto.note ?? "", /^hardware encoding unavailable \(hevc_nvenc: no NVIDIA device/);
    assert.match(auto.note ?? "", /using libx265$/);
    const vaapi = await detectEncoder("h264", "vaapi");
    assert.equal(vaapi.encoder, "libx264");
    assert.match(vaapi.note ?? "", /h264_vaapi: no GPU render node in \/dev\/dri/);
  }, TEMP_PREFIX);
});

Deno.test("encoders: a device node that does not work fails the trial encode", async () => {
  await withTempDir(async (dev) => {
    await Deno.mkdir(join(dev, "dri"));
    await Deno.writeTextFile(join(dev, "dri", "renderD128"), "");
    await Deno.writeTextFile(join(dev, "nvidiactl"), "");
    const vaapi = await detectEncoder("hevc", "vaapi", { devDir: dev });
    assert.equal(vaapi.encoder, "libx265");
    assert.match(vaapi.note ?? "", /hevc_vaapi: \S/);
    const nvenc = await detectEncoder("av1", "nvenc", { devDir: dev });
    assert.equal(nvenc.encoder, "libsvtav1");
    assert.match(nvenc.note ?? "", /av1_nvenc: .*(Unknown encoder|not found)/i);
  }, TEMP_PREFIX);
});

Deno.test("shellQuote: the printed command splits back into the same words", async () => {
  const args = [
    "ffmpeg",
    "-i",
    "file:/a b/it's.mkv",
    "x|y",
    "",
    "-c:v:0",
    "new\nline 日本語",
    "$HOME",
  ];
  const quoted = shellQuote(args);
  assert.ok(quoted.startsWith("ffmpeg -i 'file:/a b/it'\\''s.mkv' 'x|y' '' -c:v:0 "), quoted);
  const run = await new Deno.Command("bash", {
    args: ["-c", `printf '%s\\0' ${quoted}`],
  }).output();
  const words = new TextDecoder().decode(run.stdout).split("\0").slice(0, -1);
  assert.deepEqual(words, args);
});
