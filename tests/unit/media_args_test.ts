/** The ffmpeg argument builder and the command launcher: pure, no ffmpeg run. */
import assert from "node:assert/strict";
import { FfmpegError } from "../../src/errors.ts";
import { buildFfmpegArgs, shellQuote } from "../../src/media/ffmpeg_args.ts";
import { launchCommand } from "../../src/media/ffmpeg_runner.ts";
import { type EncodePlan, planTranscode } from "../../src/media/plan.ts";
import type { StreamInfo } from "../../src/media/probe.ts";
import type { TranscodePolicy } from "../../src/policy/types.ts";
import { media, stream, TEST_POLICY as POLICY, video as video1080 } from "../helpers/media_info.ts";

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

Deno.test("runner: launchCommand adds nice and taskset only when they apply", () => {
  const cores = navigator.hardwareConcurrency;
  assert.deepEqual(launchCommand("ffmpeg", ["-i", "x"], { nice: null }), ["ffmpeg", "-i", "x"]);
  assert.deepEqual(launchCommand("ffmpeg", [], { nice: 0, cpuCores: cores }), ["ffmpeg"]);
  const capped = launchCommand("ffmpeg", [], { nice: 5, cpuCores: 1 });
  assert.ok(capped.join(" ").includes("nice -n 5"), capped.join(" "));
  if (cores > 1) assert.ok(capped.join(" ").endsWith("taskset -c 0-0 ffmpeg"), capped.join(" "));
});
