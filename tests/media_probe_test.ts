import assert from "node:assert/strict";
import { join } from "node:path";
import { FfmpegError, ProbeError } from "../src/errors.ts";
import { parseFfprobeJson, probe, probeMany } from "../src/media/probe.ts";
import { makeClip } from "./helpers/clips.ts";
import { withTempDir } from "./helpers/temp.ts";

/** Every temp directory this file makes starts with this. */
const TEMP_PREFIX = "vpo-probe-";

Deno.test("probe: an MKV with every kind of stream", async () => {
  await withTempDir(async (dir) => {
    const path = await makeClip(join(dir, "film.mkv"), {
      audio: ["aac", "ac3"],
      subtitles: true,
      attachment: true,
      coverArt: true,
    });
    const info = await probe(path);
    assert.equal(info.path, path);
    assert.equal(info.formatName, "matroska,webm");
    assert.ok(Math.abs(info.duration - 1) < 0.1, `duration ${info.duration}`);
    assert.equal(info.size, (await Deno.stat(path)).size);
    assert.ok(info.bitRate > 0);
    assert.deepEqual(
      info.streams.map((s) => [s.index, s.type, s.codec, s.isCoverArt, s.language ?? null]),
      [
        [0, "video", "h264", false, null],
        [1, "audio", "aac", false, "eng"],
        [2, "audio", "ac3", false, "fra"],
        [3, "subtitle", "subrip", false, "eng"],
        [4, "attachment", "ttf", false, null],
        [5, "video", "png", true, null],
      ],
    );
    const [main, aac] = info.streams;
    assert.deepEqual([main.width, main.height, main.pixFmt, main.bitDepth], [
      320,
      180,
      "yuv420p",
      8,
    ]);
    assert.equal(main.dolbyVision, false);
    assert.equal(aac.channels, 1);
    assert.deepEqual([info.streams[4].fileName, info.streams[4].mimeType], [
      "font.ttf",
      "application/x-truetype-font",
    ]);
    assert.deepEqual([info.streams[5].fileName, info.streams[5].mimeType], [
      "cover.png",
      "image/png",
    ]);
  }, TEMP_PREFIX);
});

Deno.test("probe: an MP4 with mov_text, cover art and a timecode track; 10-bit hevc", async () => {
  await withTempDir(async (dir) => {
    const mp4 = await probe(
      await makeClip(join(dir, "clip.mp4"), { subtitles: true, coverArt: true, timecode: true }),
    );
    assert.equal(mp4.formatName, "mov,mp4,m4a,3gp,3g2,mj2");
    const types = mp4.streams.map((s) => `${s.type}:${s.codec}${s.isCoverArt ? ":cover" : ""}`);
    assert.ok(types.includes("subtitle:mov_text"), types.join());
    assert.ok(types.includes("video:png:cover"), types.join());
    assert.ok(types.includes("data:unknown"), types.join());

    const tenBit = await probe(
      await makeClip(join(dir, "ten.mkv"), { videoCodec: "hevc", pixFmt: "yuv420p10le" }),
    );
    assert.deepEqual([tenBit.streams[0].codec, tenBit.streams[0].bitDepth], ["hevc", 10]);
  }, TEMP_PREFIX);
});

Deno.test("probe: non-media, damaged and missing files throw a one-line ProbeError", async () => {
  await withTempDir(async (dir) => {
    const text = join(dir, "notes.txt");
    await Deno.writeTextFile(text, "not a video\n");
    const garbled = await makeClip(join(dir, "garbled.mkv"), { corrupt: "garble" });
    const cases: [string, RegExp][] = [
      [text, /^.*notes\.txt: Invalid data found when processing input$/],
      [
        garbled,
        /garbled\.mkv: .*Invalid data found when processing input \(EBML header parsing failed\)$/,
      ],
      [join(dir, "missing.mkv"), /missing\.mkv: No such file or directory$/],
    ];
    for (const [path, message] of cases) {
      const error = await probe(path).then(() => null, (e) => e);
      assert.ok(error instanceof ProbeError, `${path}: ${error}`);
      assert.match(error.message, message);
      assert.ok(!error.message.includes("\n"), error.message);
    }
  }, TEMP_PREFIX);
});

Deno.test("probe: awkward names (leading dash, colon, quotes, newline, CJK) are read as files", async () => {
  await withTempDir(async (dir) => {
    for (
      const name of ["-i.mkv", "a:b.mkv", `it's "q".mkv`, "new\nline.mkv", "日本語 ファイル.mkv"]
    ) {
      const path = await makeClip(join(dir, name), { audio: [] });
      const info = await probe(path);
      assert.equal(info.streams[0].codec, "h264", name);
    }
    const error = await probe(join(dir, "new\nmissing.mkv")).then(() => null, (e) => e);
    assert.ok(error instanceof ProbeError);
    assert.match(error.message, /new\nmissing\.mkv: No such file or directory$/);
  }, TEMP_PREFIX);
});

Deno.test("probe: a missing ffprobe is an FfmpegError, not a ProbeError", async () => {
  const error = await probe("/tmp/x.mkv", { ffprobe: "/nonexistent/ffprobe" }).then(
    () => null,
    (e) => e,
  );
  assert.ok(error instanceof FfmpegError, String(error));
  assert.match(error.message, /ffprobe not found/);
});

Deno.test("probeMany: results in input order, errors captured per file", async () => {
  await withTempDir(async (dir) => {
    const good = await makeClip(join(dir, "good.mkv"), { audio: [] });
    const bad = join(dir, "bad.mkv");
    await Deno.writeTextFile(bad, "garbage");
    const paths = [good, bad, good, join(dir, "none.mkv"), good];
    const outcomes = [];
    for await (const outcome of probeMany(paths, 2)) outcomes.push(outcome);
    assert.deepEqual(outcomes.map((o) => o.path), paths);
    assert.deepEqual(outcomes.map((o) => o.error === null), [true, false, true, false, true]);
    assert.ok(outcomes[1].error instanceof ProbeError);
    assert.equal(outcomes[0].info?.streams.length, 1);
  }, TEMP_PREFIX);
});

Deno.test("parseFfprobeJson: Dolby Vision, rotation, HDR10 and duration fallbacks", () => {
  const json = JSON.stringify({
    format: { format_name: "matroska,webm", size: "1000" },
    streams: [
      {
        index: 0,
        codec_type: "video",
        codec_name: "hevc",
        width: 3840,
        height: 2160,
        pix_fmt: "yuv420p10le",
        color_primaries: "bt2020",
        color_transfer: "smpte2084",
        color_space: "unknown",
        disposition: { attached_pic: 0 },
        tags: { DURATION: "01:30:00.500000000" },
        side_data_list: [
          { side_data_type: "DOVI configuration record", dv_profile: 8 },
          { side_data_type: "Display Matrix", rotation: -90 },
          {
            side_data_type: "Mastering display metadata",
            red_x: "34000/50000",
            red_y: "16000/50000",
            green_x: "13250/50000",
            green_y: "34500/50000",
            blue_x: "7500/50000",
            blue_y: "3000/50000",
            white_point_x: "15635/50000",
            white_point_y: "16450/50000",
            min_luminance: "50/10000",
            max_luminance: "40000000/10000",
          },
          { side_data_type: "Content light level metadata", max_content: 1000, max_average: 400 },
        ],
      },
      { index: 1, codec_type: "video", codec_name: "hevc", codec_tag_string: "dvh1" },
      { index: 2, codec_type: "unknown" },
    ],
  });
  const info = parseFfprobeJson("/x.mkv", json);
  assert.equal(info.duration, 5400.5);
  assert.equal(info.bitRate, Math.round(1000 * 8 / 5400.5));
  const [main, tagged, unknown] = info.streams;
  assert.equal(main.dolbyVision, true);
  assert.equal(main.rotation, 90);
  assert.equal(main.bitDepth, 10);
  assert.equal(main.colorSpace, undefined, "unknown colour values are left out");
  assert.equal(main.colorPrimaries, "bt2020");
  assert.deepEqual(main.masteringDisplay, {
    red: [0.68, 0.32],
    green: [0.265, 0.69],
    blue: [0.15, 0.06],
    whitePoint: [0.3127, 0.329],
    minLuminance: 0.005,
    maxLuminance: 4000,
  });
  assert.deepEqual(main.contentLight, { maxCll: 1000, maxFall: 400 });
  assert.equal(tagged.dolbyVision, true);
  assert.deepEqual([unknown.type, unknown.codec], ["data", "unknown"]);
  assert.throws(() => parseFfprobeJson("/x.mkv", "{}"), ProbeError);
  assert.throws(() => parseFfprobeJson("/x.mkv", "not json"), ProbeError);
});
