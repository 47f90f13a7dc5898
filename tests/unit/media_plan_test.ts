import assert from "node:assert/strict";
import { fitIntoBox, planTranscode } from "../../src/media/plan.ts";
import type { EncodePlan, TranscodePlan } from "../../src/media/plan.ts";
import type { MediaInfo } from "../../src/media/probe.ts";
import type { TranscodePolicy } from "../../src/policy/types.ts";
import { media, stream, video } from "../helpers/media_info.ts";

const POLICY: TranscodePolicy = {
  schemaVersion: 1,
  targetVideoCodec: "hevc",
  targetCrf: 24,
  targetBitrate: null,
  maxWidth: 1920,
  maxHeight: 1080,
  preset: "medium",
  container: "keep",
  hwAccel: "none",
  audioPreserveCodecs: ["aac", "ac3", "eac3", "truehd", "dts", "flac"],
  audioTranscodeTo: "aac",
  audioTranscodeBitrate: 192_000,
  skipIf: { codecIn: [], bitrateBelow: null, sizeBelow: null, dolbyVision: true },
  keepLargerOutput: false,
};

function policy(overrides: Partial<TranscodePolicy> = {}): TranscodePolicy {
  return { ...POLICY, ...overrides, skipIf: { ...POLICY.skipIf, ...overrides.skipIf } };
}

function encode(plan: TranscodePlan): EncodePlan {
  assert.equal(plan.action, "transcode", plan.action === "skip" ? plan.reason : "");
  return plan as EncodePlan;
}

function videoPlan(plan: EncodePlan) {
  const found = plan.streams.find((s) => s.type === "video");
  assert.ok(found && found.type === "video");
  return found;
}

Deno.test("plan: a compliant file is skipped with the reason spelled out", () => {
  const plan = planTranscode(
    policy(),
    media([video({ codec: "hevc", width: 1920, height: 800 })]),
  );
  assert.deepEqual(plan, {
    action: "skip",
    reason: "already compliant (hevc 1920x800 within 1920x1080)",
    kind: "compliant",
  });
});

Deno.test("plan: a file in the target codec but the wrong container is not compliant", () => {
  const hevcInMkv = media([video({ codec: "hevc", width: 1280, height: 720 })]);
  assert.equal(planTranscode(policy({ container: "mp4" }), hevcInMkv).action, "transcode");
  assert.equal(planTranscode(policy({ container: "mkv" }), hevcInMkv).action, "skip");
  const hevcInMp4 = { ...hevcInMkv, formatName: "mov,mp4,m4a,3gp,3g2,mj2" };
  assert.equal(planTranscode(policy({ container: "mp4" }), hevcInMp4).action, "skip");
  assert.equal(planTranscode(policy({ container: "mkv" }), hevcInMp4).action, "transcode");
});

Deno.test("plan: 3840x1600 into a 1080p box becomes 1920x800, not 2592x1080", () => {
  const plan = encode(planTranscode(policy(), media([video({ width: 3840, height: 1600 })])));
  const planned = videoPlan(plan);
  assert.equal(planned.width, 1920);
  assert.equal(planned.height, 800);
  assert.equal(planned.scale, true);
  assert.equal(plan.video.encoder, "libx265");
  assert.equal(plan.video.crf, 24);
});

Deno.test("plan: a small source is not upscaled", () => {
  const plan = encode(planTranscode(policy(), media([video({ width: 640, height: 360 })])));
  const planned = videoPlan(plan);
  assert.deepEqual([planned.width, planned.height, planned.scale], [640, 360, false]);
});

Deno.test("plan: odd sizes are evened, aspect kept within a pixel", () => {
  assert.deepEqual(fitIntoBox(1001, 563, 1920, 1080), { width: 1000, height: 562 });
  assert.deepEqual(fitIntoBox(1440, 1080, 1280, 720), { width: 960, height: 720 });
  assert.deepEqual(fitIntoBox(4096, 2160, 1920, 1080), { width: 1920, height: 1012 });
  assert.deepEqual(fitIntoBox(3840, 2160, null, null), { width: 3840, height: 2160 });
  assert.deepEqual(fitIntoBox(3840, 2160, 1280, null), { width: 1280, height: 720 });
});

Deno.test("plan: the box turns for portrait video, including rotated phone clips", () => {
  assert.deepEqual(fitIntoBox(2160, 3840, 1920, 1080), { width: 1080, height: 1920 });
  // Stored 1920x1080 but displayed rotated: already 1080x1920 on screen, inside the turned box.
  const rotated = video({ codec: "hevc", width: 1920, height: 1080, rotation: 90 });
  const skip = planTranscode(policy(), media([rotated]));
  assert.deepEqual(skip, {
    action: "skip",
    reason: "already compliant (hevc 1080x1920 within 1920x1080)",
    kind: "compliant",
  });
  const plan = encode(
    planTranscode(policy(), media([video({ width: 3840, height: 2160, rotation: 270 })])),
  );
  const planned = videoPlan(plan);
  assert.deepEqual([planned.width, planned.height], [1080, 1920]);
});

Deno.test("plan: 10-bit stays 10-bit for hevc, av1 and vp9; h264 output is 8-bit with a note", () => {
  const source = media([video({ width: 3840, height: 2160, pixFmt: "yuv420p10le", bitDepth: 10 })]);
  for (const codec of ["hevc", "av1", "vp9"] as const) {
    const plan = encode(planTranscode(policy({ targetVideoCodec: codec }), source));
    assert.equal(videoPlan(plan).pixFmt, "yuv420p10le", codec);
  }
  const h264 = encode(planTranscode(policy({ targetVideoCodec: "h264" }), source));
  assert.equal(videoPlan(h264).pixFmt, "yuv420p");
  assert.match(h264.notes.join("\n"), /10-bit; h264 output is 8-bit/);
  const eightBit = encode(planTranscode(policy(), media([video({ width: 3840, height: 2160 })])));
  assert.equal(videoPlan(eightBit).pixFmt, "yuv420p");
});

Deno.test("plan: colour and HDR10 metadata are carried to the video plan", () => {
  const hdr = video({
    width: 3840,
    height: 2160,
    pixFmt: "yuv420p10le",
    bitDepth: 10,
    colorPrimaries: "bt2020",
    colorTransfer: "smpte2084",
    colorSpace: "bt2020nc",
    contentLight: { maxCll: 1000, maxFall: 400 },
  });
  const planned = videoPlan(encode(planTranscode(policy(), media([hdr]))));
  assert.equal(planned.colorPrimaries, "bt2020");
  assert.equal(planned.colorTransfer, "smpte2084");
  assert.equal(planned.colorSpace, "bt2020nc");
  assert.deepEqual(planned.contentLight, { maxCll: 1000, maxFall: 400 });
});

Deno.test("plan: MP4 subtitle, attachment and data rules", () => {
  const source = media([
    video(),
    stream(1, "audio", "aac"),
    stream(2, "subtitle", "subrip"),
    stream(3, "subtitle", "ass"),
    stream(4, "subtitle", "hdmv_pgs_subtitle"),
    stream(5, "subtitle", "dvd_subtitle"),
    stream(6, "attachment", "ttf", { fileName: "font.ttf" }),
    stream(7, "data", "unknown"),
  ]);
  const plan = encode(planTranscode(policy({ container: "mp4" }), source));
  assert.equal(plan.format, "mp4");
  assert.equal(plan.extension, ".mp4");
  const subtitles = plan.streams.filter((s) => s.type === "subtitle");
  assert.deepEqual(subtitles.map((s) => [s.action, s.codec]), [
    ["convert", "mov_text"],
    ["convert", "mov_text"],
    ["drop", "hdmv_pgs_subtitle"],
    ["drop", "dvd_subtitle"],
  ]);
  assert.deepEqual(plan.streams.slice(6).map((s) => s.action), ["drop", "drop"]);
  assert.deepEqual(plan.expectedStreams, {
    video: 1,
    audio: 1,
    subtitle: 2,
    attachment: 0,
    coverArt: 0,
  });
  const notes = plan.notes.join("\n");
  assert.match(notes, /0:2 \(subrip\) converted to mov_text/);
  assert.match(notes, /0:4 \(hdmv_pgs_subtitle\) dropped: mp4 cannot hold this subtitle format/);
  assert.match(notes, /0:5 \(dvd_subtitle\) dropped/);
  assert.match(notes, /font\.ttf dropped: mp4 has no attachments/);
  assert.match(notes, /data stream 0:7 dropped/);
});

Deno.test("plan: mov_text into MKV becomes subrip; MKV keeps attachments and image subs", () => {
  const source = media([
    video(),
    stream(1, "subtitle", "mov_text"),
    stream(2, "subtitle", "hdmv_pgs_subtitle"),
    stream(3, "attachment", "ttf"),
  ], { path: "/library/clip.mp4", formatName: "mov,mp4,m4a,3gp,3g2,mj2" });
  const plan = encode(planTranscode(policy({ container: "mkv" }), source));
  assert.equal(plan.format, "matroska");
  assert.deepEqual(plan.streams.slice(1).map((s) => s.action), ["convert", "copy", "copy"]);
  assert.equal(plan.streams[1].type === "subtitle" && plan.streams[1].codec, "subrip");
});

Deno.test("plan: keep container: mkv and the mp4 family stay, others become mkv", () => {
  const cases: [string, string, string, string][] = [
    ["/a/film.mkv", "matroska,webm", "matroska", ".mkv"],
    ["/a/film.MP4", "mov,mp4,m4a,3gp,3g2,mj2", "mp4", ".MP4"],
    ["/a/film.m4v", "mov,mp4,m4a,3gp,3g2,mj2", "mp4", ".m4v"],
    ["/a/film.mov", "mov,mp4,m4a,3gp,3g2,mj2", "mp4", ".mov"],
    ["/a/film.avi", "avi", "matroska", ".mkv"],
    ["/a/film.wmv", "asf", "matroska", ".mkv"],
    ["/a/film.ts", "mpegts", "matroska", ".mkv"],
    ["/a/film.webm", "matroska,webm", "matroska", ".mkv"],
  ];
  for (const [path, formatName, format, extension] of cases) {
    const plan = encode(planTranscode(policy(), media([video()], { path, formatName })));
    assert.deepEqual([plan.format, plan.extension], [format, extension], path);
    const noted = plan.notes.some((note) => note.includes("is written as mkv"));
    assert.equal(noted, extension === ".mkv" && !path.endsWith(".mkv"), path);
  }
});

Deno.test("plan: audio is copied when preserved and allowed, else transcoded", () => {
  const source = media([
    video(),
    stream(1, "audio", "truehd"),
    stream(2, "audio", "pcm_s16le"),
    stream(3, "audio", "dts"),
    stream(4, "audio", "vorbis"),
  ], { path: "/a/film.mov", formatName: "mov,mp4,m4a,3gp,3g2,mj2" });
  const plan = encode(
    planTranscode(policy({ audioPreserveCodecs: ["truehd", "pcm_s16le", "dts"] }), source),
  );
  const audio = plan.streams.filter((s) => s.type === "audio");
  assert.deepEqual(audio.map((s) => [s.action, s.codec, s.bitrate]), [
    ["copy", "truehd", null],
    ["transcode", "aac", 192_000],
    ["copy", "dts", null],
    ["transcode", "aac", 192_000],
  ]);
  assert.equal(plan.strict, true, "truehd into mp4 needs -strict -2");
  assert.match(
    plan.notes.join("\n"),
    /0:2 \(pcm_s16le\) transcoded to aac at 192 kb\/s \(mp4 cannot/,
  );
  const mkv = encode(
    planTranscode(
      policy({ audioTranscodeTo: "flac" }),
      media([video(), stream(1, "audio", "mp2")]),
    ),
  );
  const flac = mkv.streams[1];
  assert.deepEqual(flac.type === "audio" && [flac.action, flac.codec, flac.bitrate], [
    "transcode",
    "flac",
    null,
  ]);
  assert.equal(mkv.strict, false);
});

Deno.test("plan: a stream already in audio_transcode_to is copied, not re-encoded", () => {
  const plan = encode(
    planTranscode(
      policy({ audioPreserveCodecs: [], audioTranscodeTo: "aac" }),
      media([video(), stream(1, "audio", "aac")]),
    ),
  );
  assert.equal(plan.streams[1].action, "copy");
});

Deno.test("plan: cover art is reattached into MKV, copied into MP4, never counted as video", () => {
  const cover = stream(2, "video", "mjpeg", { isCoverArt: true, width: 600, height: 600 });
  const source = media([video(), stream(1, "audio", "aac"), cover]);
  const mkv = encode(planTranscode(policy(), source));
  assert.deepEqual(mkv.streams[2], {
    type: "cover",
    inputIndex: 2,
    action: "reattach",
    codec: "mjpeg",
    fileName: "cover.jpg",
    mimeType: "image/jpeg",
  });
  assert.deepEqual(mkv.expectedStreams, {
    video: 1,
    audio: 1,
    subtitle: 0,
    attachment: 0,
    coverArt: 1,
  });
  const mp4 = encode(planTranscode(policy({ container: "mp4" }), source));
  assert.equal(mp4.streams[2].action, "copy");
  const gif = media([video(), stream(1, "video", "gif", { isCoverArt: true })]);
  const dropped = encode(planTranscode(policy({ container: "mp4" }), gif));
  assert.equal(dropped.streams[1].action, "drop");
  assert.equal(dropped.expectedStreams.coverArt, 0);
});

Deno.test("plan: no video stream is skipped, even when forced", () => {
  const audioOnly = media([
    stream(0, "audio", "flac"),
    stream(1, "video", "png", { isCoverArt: true }),
  ]);
  for (const force of [false, true]) {
    assert.deepEqual(planTranscode(policy(), audioOnly, { force }), {
      action: "skip",
      reason: "no video stream",
      kind: "not_video",
    });
  }
});

Deno.test("plan: still images, unknown durations and sizeless video are never transcoded", () => {
  const cases: [MediaInfo, string][] = [
    [media([video()], { formatName: "image2" }), "still image (image2), not a video"],
    [media([video()], { formatName: "png_pipe" }), "still image (png_pipe), not a video"],
    [media([video()], { duration: 0 }), "unknown duration (the output could not be verified)"],
    [media([video({ width: undefined })]), "video stream 0:0 has no frame size"],
  ];
  for (const [source, reason] of cases) {
    assert.deepEqual(planTranscode(policy(), source, { force: true }), {
      action: "skip",
      reason,
      kind: "not_video",
    });
  }
});

Deno.test("plan: skip_if conditions and their reasons", () => {
  const hevc = media([video({ codec: "av1", width: 3840, height: 2160 })]);
  assert.deepEqual(
    planTranscode(policy({ skipIf: { ...POLICY.skipIf, codecIn: ["av1"] } }), hevc),
    {
      action: "skip",
      reason: "skip_if.codec_in (source is av1)",
      kind: "skip_if",
    },
  );
  const lowRate = media([video({ width: 3840, height: 2160 })], { bitRate: 1_500_000 });
  assert.deepEqual(
    planTranscode(policy({ skipIf: { ...POLICY.skipIf, bitrateBelow: 2_000_000 } }), lowRate),
    {
      action: "skip",
      reason: "bitrate below 2000 kb/s (source 1500 kb/s)",
      kind: "skip_if",
    },
  );
  const small = media([video({ width: 3840, height: 2160 })], { size: 50 * 1024 * 1024 });
  assert.deepEqual(
    planTranscode(policy({ skipIf: { ...POLICY.skipIf, sizeBelow: 100 * 1024 * 1024 } }), small),
    {
      action: "skip",
      reason: "smaller than 100.0 MiB (source 50.0 MiB)",
      kind: "skip_if",
    },
  );
});

Deno.test("plan: Dolby Vision is skipped unless forced or allowed, and the loss is noted", () => {
  const dv = media([video({ codec: "hevc", width: 3840, height: 2160, dolbyVision: true })]);
  assert.deepEqual(planTranscode(policy(), dv), {
    action: "skip",
    reason: "Dolby Vision source (re-encode would lose it)",
    kind: "dolby_vision",
  });
  const forced = encode(planTranscode(policy(), dv, { force: true }));
  assert.match(forced.notes.join("\n"), /forced despite: Dolby Vision source/);
  assert.match(forced.notes.join("\n"), /Dolby Vision metadata is lost/);
  const allowed = encode(
    planTranscode(policy({ skipIf: { ...POLICY.skipIf, dolbyVision: false } }), dv),
  );
  assert.match(allowed.notes.join("\n"), /Dolby Vision metadata is lost/);
});

Deno.test("plan: force transcodes a compliant file and records why", () => {
  const source = media([video({ codec: "hevc", width: 1280, height: 720 })]);
  const plan = encode(planTranscode(policy(), source, { force: true, encoder: "hevc_qsv" }));
  assert.equal(plan.video.encoder, "hevc_qsv");
  assert.deepEqual(plan.notes, [
    "forced despite: already compliant (hevc 1280x720 within 1920x1080)",
  ]);
});

Deno.test("plan: a plan survives a JSON round trip unchanged", () => {
  const source = media([
    video({ width: 3840, height: 1600, colorPrimaries: "bt709" }),
    stream(1, "audio", "dts"),
    stream(2, "subtitle", "subrip"),
    stream(3, "video", "png", { isCoverArt: true }),
  ]);
  const plan = planTranscode(policy({ audioPreserveCodecs: [] }), source);
  assert.deepEqual(JSON.parse(JSON.stringify(plan)), plan);
});
