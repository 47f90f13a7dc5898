/** Parsing ffmpeg's `-progress` output into percent, speed and ETA: pure, no ffmpeg run. */
import assert from "node:assert/strict";
import { parseProgress, ProgressTracker } from "../../src/media/progress.ts";
import { readLines } from "../../src/media/text_lines.ts";

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
