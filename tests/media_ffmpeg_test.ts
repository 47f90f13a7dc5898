import assert from "node:assert/strict";
import { join } from "node:path";
import { FfmpegError } from "../src/errors.ts";
import { extractCoverArt } from "../src/media/cover_art.ts";
import { detectEncoder } from "../src/media/encoders.ts";
import { buildFfmpegArgs, shellQuote } from "../src/media/ffmpeg_args.ts";
import { launchCommand, runFfmpeg } from "../src/media/ffmpeg_runner.ts";
import type { RunFfmpegResult } from "../src/media/ffmpeg_runner.ts";
import { planTranscode } from "../src/media/plan.ts";
import type { EncodePlan } from "../src/media/plan.ts";
import { probe } from "../src/media/probe.ts";
import type { MediaInfo, StreamInfo } from "../src/media/probe.ts";
import { parseProgress, ProgressTracker } from "../src/media/progress.ts";
import type { ProgressUpdate } from "../src/media/progress.ts";
import { readLines } from "../src/media/text_lines.ts";
import { decodeCheck, verifyOutput } from "../src/media/verify.ts";
import type { TranscodePolicy } from "../src/policy/types.ts";
import { corruptFile, makeClip } from "./helpers/clips.ts";
import { media, stream, video as video1080 } from "./helpers/media_info.ts";
import { withTempDir } from "./helpers/temp.ts";

const POLICY: TranscodePolicy = {
  schemaVersion: 1,
  targetVideoCodec: "hevc",
  targetCrf: 30,
  targetBitrate: null,
  maxWidth: 1920,
  maxHeight: 1080,
  preset: "ultrafast",
  container: "keep",
  hwAccel: "none",
  audioPreserveCodecs: ["aac"],
  audioTranscodeTo: "aac",
  audioTranscodeBitrate: 96_000,
  skipIf: { codecIn: [], bitrateBelow: null, sizeBelow: null, dolbyVision: true },
  keepLargerOutput: false,
};

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
  const coverArtDir = join(dir, "covers");
  await extractCoverArt(encodePlan, source, coverArtDir);
  const output = join(dir, `out${encodePlan.extension}`);
  const args = buildFfmpegArgs(encodePlan, source, output, { coverArtDir });
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

Deno.test("runner: launchCommand adds nice and taskset only when they apply", () => {
  const cores = navigator.hardwareConcurrency;
  assert.deepEqual(launchCommand("ffmpeg", ["-i", "x"], { nice: null }), ["ffmpeg", "-i", "x"]);
  assert.deepEqual(launchCommand("ffmpeg", [], { nice: 0, cpuCores: cores }), ["ffmpeg"]);
  const capped = launchCommand("ffmpeg", [], { nice: 5, cpuCores: 1 });
  assert.ok(capped.join(" ").includes("nice -n 5"), capped.join(" "));
  if (cores > 1) assert.ok(capped.join(" ").endsWith("taskset -c 0-0 ffmpeg"), capped.join(" "));
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

// ---------------------------------------------------------------- argument building (pure)

/** The argument tests' source: 3840x1600, so that the 1080p box always scales it. */
function video(overrides: Partial<StreamInfo> = {}): StreamInfo {
  return video1080({ width: 3840, height: 1600, ...overrides });
}

/** The plan for a one-minute MKV of `streams`, which must be a transcode, not a skip. */
function planFor(streams: StreamInfo[], policy: Partial<TranscodePolicy> = {}, encoder?: string) {
  const info = media(streams, { path: "/lib/film.mkv", duration: 60, size: 1e9, bitRate: 1e7 });
  const plan = planTranscode({ ...POLICY, ...policy }, info, { encoder });
  assert.equal(plan.action, "transcode");
  return plan as EncodePlan;
}

/** Whether `args` contains `sequence` contiguously. */
function hasRun(args: string[], sequence: string[]): boolean {
  return args.some((_, i) => sequence.every((item, j) => args[i + j] === item));
}

function assertRuns(args: string[], ...sequences: string[][]): void {
  for (const sequence of sequences) {
    assert.ok(hasRun(args, sequence), `${sequence.join(" ")} not in: ${shellQuote(args)}`);
  }
}

Deno.test("args: map everything, copy by default, per-stream ordinals, explicit muxer", () => {
  const plan = planFor([
    video(),
    stream(1, "audio", "dts"),
    stream(2, "audio", "aac"),
    stream(3, "subtitle", "subrip"),
    stream(4, "attachment", "ttf"),
    stream(5, "video", "mjpeg", { isCoverArt: true }),
    stream(6, "data", "unknown"),
  ]);
  const args = buildFfmpegArgs(plan, "/in dir/film.mkv", "/out/-film.mkv", {
    coverArtDir: "/tmp/covers",
  });
  assert.deepEqual(args.slice(0, 5), [
    "-nostdin",
    "-hide_banner",
    "-y",
    "-i",
    "file:/in dir/film.mkv",
  ]);
  assertRuns(
    args,
    ["-attach", "file:/tmp/covers/cover_5.jpg"],
    ["-map", "0", "-map", "-0:5", "-map", "-0:6", "-c", "copy"],
    ["-c:v:0", "libx265", "-filter:v:0", "scale=1920:800", "-pix_fmt:v:0", "yuv420p"],
    ["-crf:v:0", "30", "-preset:v:0", "ultrafast"],
    ["-c:a:0", "aac", "-b:a:0", "96000"],
    ["-metadata:s:t:1", "mimetype=image/jpeg", "-metadata:s:t:1", "filename=cover.jpg"],
    ["-max_muxing_queue_size", "9999"],
    ["-progress", "pipe:1", "-nostats", "-f", "matroska", "file:/out/-film.mkv"],
  );
  assert.ok(!args.includes("-c:a:1"), "the aac track is copied");
  assert.ok(!args.includes("-threads") && !args.includes("-movflags") && !args.includes("-strict"));
  assert.equal(args.at(-1), "file:/out/-film.mkv");
});

Deno.test("args: MP4 gets hvc1, faststart, -strict for TrueHD, mov_text after a dropped PGS", () => {
  const plan = planFor([
    video(),
    stream(1, "video", "png", { isCoverArt: true }),
    stream(2, "audio", "truehd"),
    stream(3, "subtitle", "hdmv_pgs_subtitle"),
    stream(4, "subtitle", "subrip"),
    video({ index: 5, width: 640, height: 480 }),
  ], { container: "mp4", audioPreserveCodecs: ["truehd"] });
  const args = buildFfmpegArgs(plan, "/in.mkv", "/out.mp4");
  assertRuns(
    args,
    ["-map", "0", "-map", "-0:3", "-c", "copy"],
    ["-tag:v:0", "hvc1"],
    ["-c:s:0", "mov_text"],
    ["-c:v:2", "libx265", "-pix_fmt:v:2", "yuv420p"],
    ["-strict", "-2"],
    ["-movflags", "+faststart"],
    ["-f", "mp4", "file:/out.mp4"],
  );
  assert.ok(!args.includes("-c:v:1"), "the cover (v:1) is copied, not encoded");
  assert.ok(!args.includes("-filter:v:2"), "640x480 needs no scaling");
});

Deno.test("args: CPU caps per encoder, rate control and colour", () => {
  const tenBit = { pixFmt: "yuv420p10le", bitDepth: 10 };
  const colour = { colorPrimaries: "bt2020", colorTransfer: "smpte2084", colorSpace: "bt2020nc" };
  const hevc = buildFfmpegArgs(planFor([video({ ...tenBit, ...colour })]), "/a", "/b", {
    cpuCores: 4,
  });
  assertRuns(
    hevc,
    ["-y", "-threads", "4", "-filter_threads", "4", "-i"],
    ["-pix_fmt:v:0", "yuv420p10le"],
    ["-x265-params:v:0", "pools=4:frame-threads=2"],
    [
      "-color_primaries:v:0",
      "bt2020",
      "-color_trc:v:0",
      "smpte2084",
      "-colorspace:v:0",
      "bt2020nc",
    ],
    ["-threads", "4", "-max_muxing_queue_size"],
  );
  const av1 = buildFfmpegArgs(
    planFor([video()], { targetVideoCodec: "av1", preset: "8" }),
    "/a",
    "/b",
    {
      cpuCores: 3,
    },
  );
  assertRuns(av1, ["-c:v:0", "libsvtav1"], ["-preset:v:0", "8"], ["-svtav1-params:v:0", "lp=3"]);
  const vp9 = buildFfmpegArgs(
    planFor([video()], { targetVideoCodec: "vp9", preset: "4" }),
    "/a",
    "/b",
  );
  assertRuns(vp9, ["-crf:v:0", "30", "-b:v:0", "0"], ["-deadline", "good", "-cpu-used:v:0", "4"], [
    "-row-mt:v:0",
    "1",
  ]);
  const bitrate = buildFfmpegArgs(
    planFor([video()], { targetCrf: null, targetBitrate: 3_000_000 }),
    "/a",
    "/b",
  );
  assertRuns(bitrate, ["-b:v:0", "3000000"]);
  assert.ok(!bitrate.includes("-crf:v:0") && !bitrate.includes("-x265-params:v:0"));
});

Deno.test("args: HDR10 static metadata goes to libx265 as x265 params", () => {
  const hdr = video({
    pixFmt: "yuv420p10le",
    bitDepth: 10,
    masteringDisplay: {
      red: [0.68, 0.32],
      green: [0.265, 0.69],
      blue: [0.15, 0.06],
      whitePoint: [0.3127, 0.329],
      minLuminance: 0.005,
      maxLuminance: 4000,
    },
    contentLight: { maxCll: 1000, maxFall: 400 },
  });
  const args = buildFfmpegArgs(planFor([hdr]), "/a", "/b", { cpuCores: 1 });
  assertRuns(args, [
    "-x265-params:v:0",
    "pools=1:frame-threads=1:hdr10=1:master-display=G(13250,34500)B(7500,3000)R(34000,16000)" +
    "WP(15635,16450)L(40000000,50):max-cll=1000,400",
  ]);
});

Deno.test("args: hardware encoders get their frames and rate control", () => {
  const tenBit = video({ pixFmt: "yuv420p10le", bitDepth: 10 });
  const vaapi = buildFfmpegArgs(planFor([video()], {}, "hevc_vaapi"), "/a", "/b");
  assertRuns(
    vaapi,
    ["-vaapi_device", "/dev/dri/renderD128", "-i"],
    ["-filter:v:0", "scale=1920:800,format=nv12,hwupload"],
    ["-rc_mode:v:0", "CQP", "-qp:v:0", "30"],
  );
  assert.ok(!vaapi.includes("-pix_fmt:v:0") && !vaapi.includes("-preset:v:0"));
  const qsv = buildFfmpegArgs(planFor([tenBit], { preset: "slow" }, "hevc_qsv"), "/a", "/b");
  assertRuns(qsv, ["-pix_fmt:v:0", "p010le", "-global_quality:v:0", "30", "-preset:v:0", "slow"]);
  const nvenc = buildFfmpegArgs(planFor([video()], {}, "h264_nvenc"), "/a", "/b");
  assertRuns(nvenc, ["-rc:v:0", "vbr", "-cq:v:0", "30", "-b:v:0", "0"]);
  assert.ok(!nvenc.includes("-preset:v:0"), "ultrafast is not an nvenc preset");
});

Deno.test("args: opus gets a layout libopus accepts; reattaching covers needs their directory", () => {
  const opus = buildFfmpegArgs(
    planFor([video(), stream(1, "audio", "dts")], { audioTranscodeTo: "opus" }),
    "/a",
    "/b",
  );
  assertRuns(opus, ["-c:a:0", "libopus", "-b:a:0", "96000", "-filter:a:0"]);
  const plan = planFor([video(), stream(1, "video", "png", { isCoverArt: true })]);
  assert.throws(() => buildFfmpegArgs(plan, "/a", "/b"), FfmpegError);
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

// ---------------------------------------------------------------- progress parsing (pure)

function streamOf(chunks: (string | Uint8Array)[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return ReadableStream.from(chunks.map((c) => typeof c === "string" ? encoder.encode(c) : c));
}

Deno.test("progress: blocks are parsed across chunk boundaries and split characters", async () => {
  const euro = new TextEncoder().encode("€");
  const stream = streamOf([
    "frame=1\nout_ti",
    "me_us=500000\r\nspeed=N/A\nextra=",
    euro.slice(0, 1),
    euro.slice(1),
    "\nprogress=continue\nout_time_ms=1000000\nprogress=end",
  ]);
  const blocks = [];
  for await (const block of parseProgress(stream)) blocks.push(block);
  assert.deepEqual(blocks, [
    { frame: "1", out_time_us: "500000", speed: "N/A", extra: "€", progress: "continue" },
    { out_time_ms: "1000000", progress: "end" },
  ]);
  const lines = [];
  for await (const line of readLines(streamOf(["a\r", "\nb\n\nc"]))) lines.push(line);
  assert.deepEqual(lines, ["a", "b", "", "c"]);
});

Deno.test("progress: percent from out_time (microseconds in both keys), clamped", () => {
  const tracker = new ProgressTracker(10);
  const at = (block: Record<string, string>) => tracker.update({ progress: "continue", ...block });
  assert.equal(at({ out_time: "-00:00:00.040000", out_time_us: "N/A" }).percent, 0);
  assert.equal(at({ out_time_ms: "2500000" }).percent, 25);
  assert.equal(at({ out_time_us: "5000000", out_time_ms: "5000000" }).percent, 50);
  assert.equal(at({ out_time: "00:00:07.500000" }).outTimeSec, 7.5);
  assert.equal(at({ out_time_us: "N/A" }).outTimeSec, 7.5, "N/A keeps the last value");
  assert.equal(at({ out_time_us: "12000000" }).percent, 100);
  const unknown = new ProgressTracker(0).update({ out_time_us: "1000000", progress: "continue" });
  assert.deepEqual([unknown.percent, unknown.etaSec], [0, null]);
});

Deno.test("progress: ETA waits 3 s, needs a speed, and is smoothed", () => {
  let now = 0;
  const tracker = new ProgressTracker(100, () => now);
  const at = (ms: number, outSec: number, speed: string) => {
    now = ms;
    return tracker.update({
      out_time_us: `${outSec * 1e6}`,
      speed,
      fps: "24.5",
      progress: "continue",
    });
  };
  const early = at(1000, 2, "2x");
  assert.deepEqual([early.etaSec, early.speed, early.fps], [null, 2, 24.5]);
  assert.equal(at(3500, 10, "2x").etaSec, 45);
  // A spike to 4x moves the estimate only part of the way: 0.3 * 4 + 0.7 * 2 = 2.6x.
  assert.equal(at(4000, 22, "4x").etaSec?.toFixed(6), "30.000000");
  assert.equal(at(4500, 22, "N/A").speed, null);
  const end = tracker.update({ progress: "end" });
  assert.deepEqual([end.percent, end.etaSec, end.done], [100, 0, true]);
  const noSpeed = new ProgressTracker(100, () => now);
  now += 10_000;
  assert.equal(
    noSpeed.update({ out_time_us: "1000000", speed: "N/A", progress: "continue" }).etaSec,
    null,
  );
});
