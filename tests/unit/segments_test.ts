/** Segmented encoding's pure parts: cut points, cut times, the join's arguments, the ETA. */
import assert from "node:assert/strict";
import { segmentLine } from "../../src/transcode/segment_progress.ts";
import { buildFfmpegArgs } from "../../src/media/ffmpeg_args.ts";
import { type EncodePlan, planTranscode } from "../../src/media/plan.ts";
import { ffmpegTime, type PacketTimes, planSegments } from "../../src/media/segments.ts";
import type { Job } from "../../src/queue/job.ts";
import { defaultPolicy } from "../../src/policy/policy.ts";
import { media as mediaInfo, stream, video } from "../helpers/media_info.ts";

Deno.test("cuts fall on the first keyframe a segment length on, and every frame is counted once", () => {
  // 25 fps in a 1/1000 time base, a keyframe every 2 s, 61 s long.
  const pts = Array.from({ length: 1525 }, (_, i) => 23 + i * 40);
  const times: PacketTimes = {
    timeBase: [1, 1000],
    pts,
    keyframes: pts.filter((_, i) => i % 50 === 0),
    fileStartSec: 0,
  };
  const segments = planSegments(times, 10);
  assert.deepEqual(segments.map((s) => s.start), [23, 10023, 20023, 30023, 40023, 50023]);
  assert.deepEqual(segments.map((s) => s.frames), [250, 250, 250, 250, 250, 275]);
  assert.equal(segments.at(-1)!.end, null);
  // A remainder shorter than half a segment joins the last one.
  assert.deepEqual(planSegments(times, 12).map((s) => s.start), [23, 12023, 24023, 36023, 48023]);
  assert.deepEqual(planSegments(times, 14).map((s) => s.frames), [350, 350, 350, 475]);
  assert.equal(planSegments(times, 100).length, 1);
});

Deno.test("cut times are rounded down to the microsecond, negative ones too", () => {
  assert.equal(ffmpegTime({ timeBase: [1, 90000] }, 900001), "10.000011");
  assert.equal(ffmpegTime({ timeBase: [1001, 30000] }, 3), "0.100100");
  assert.equal(ffmpegTime({ timeBase: [1, 1000] }, -23), "-0.023000");
});

Deno.test("jobs show sums up a segmented job's progress and its ETA in nights", () => {
  const job = {
    payload: {
      segment_progress: {
        done: 7,
        total: 24,
        percent: 29.2,
        media_done_sec: 2100,
        media_total_sec: 7200,
        encode_sec: 4200,
        window_sec: 3600,
      },
    },
  } as unknown as Job;
  // 5100 s of media left at 0.5x is 10200 s: three one-hour windows.
  assert.equal(
    segmentLine(job, null),
    "7/24 done, 29.2 % of the media, ETA 3 nights at 0.50x (1h00m window)",
  );
  const noWindow = {
    payload: {
      segment_progress: {
        done: 0,
        total: 3,
        percent: 0,
        media_done_sec: 0,
        media_total_sec: 900,
        encode_sec: 0,
        window_sec: null,
      },
    },
  };
  assert.equal(segmentLine(noWindow as unknown as Job, null), "0/3 done, 0.0 % of the media");
  assert.equal(segmentLine({ payload: {} } as unknown as Job, null), null);
  const junk = { payload: { segment_progress: { done: "7", total: 24, percent: 1 } } };
  assert.equal(segmentLine(junk as unknown as Job, null), null);
});

Deno.test("the join copies the joined video into the source's place, with its stream tags and hvc1", () => {
  const info = mediaInfo([
    stream(0, "audio", "aac"),
    video({ index: 1 }),
    stream(2, "subtitle", "mov_text"),
  ], { formatName: "mov,mp4,m4a,3gp,3g2,mj2", path: "/library/film.mp4" });
  const plan = planTranscode(defaultPolicy(), info) as EncodePlan;
  const args = buildFfmpegArgs(plan, "/library/film.mp4", "/tmp/out.mp4", {
    encodedVideo: { concatList: "/tmp/list.ffconcat", offsetSec: 0.023 },
  });
  const text = args.join(" ");
  assert.ok(
    text.includes(
      "-itsoffset 0.023000 -f concat -i file:/tmp/list.ffconcat " +
        "-map 0:0 -map_metadata:s:0 0:s:0 -map 1:v:0 -map_metadata:s:1 0:s:1 " +
        "-map 0:2 -map_metadata:s:2 0:s:2 -c copy",
    ),
    text,
  );
  assert.ok(text.includes("-tag:v:0 hvc1"), "HEVC in MP4 is tagged hvc1");
  assert.ok(!text.includes("libx265"), "the video is not encoded again");
});
