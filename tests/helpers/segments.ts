/**
 * Helpers for segmented-encoding tests: a VFR clip, the facts compared between a source and its
 * segmented output (every frame's timestamp, stream ends, tracks, chapters), and what the worker
 * left behind (segment directories, segment encodes in the ffmpeg log).
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { ageFile } from "./clips.ts";
import { jobRecord, writeJobFile } from "./queue.ts";
import type { TempHome } from "./vpo.ts";
import { QueueLayout } from "../../src/queue/layout.ts";

/** Segments of 10 s of media: a 30 s clip (keyframes every 10 s with x264's defaults) has 3. */
export const SEGMENTS_CONFIG = "jobs:\n  segment_length: 10\n";

/**
 * A variable-frame-rate clip (field notes, section 5): 500 frames at 25 fps, then 600 at 60 fps
 * (30 s), a keyframe every 50 frames, with one audio track.
 */
export async function makeVfrClip(path: string): Promise<string> {
  const args = [
    ...["-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=60"],
    ...["-f", "lavfi", "-i", "sine=sample_rate=48000", "-frames:v", "1100", "-t", "30"],
    ...["-vf", "setpts='if(lt(N,500),N*0.04,20+(N-500)/60)/TB'", "-fps_mode", "vfr"],
    ...["-c:v", "libx264", "-preset", "ultrafast", "-g", "50", "-c:a", "aac", path],
  ];
  const out = await new Deno.Command("ffmpeg", { args, stderr: "piped" }).output();
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
  await ageFile(path);
  return path;
}

/**
 * A 6 s clip without audio, a keyframe every second (2 s segments cut it in three), of `size`
 * (`640x360`), aged like a settled file.
 */
export async function makeKeyframedClip(path: string, size: string): Promise<string> {
  const made = await new Deno.Command("ffmpeg", {
    args: [
      ...["-nostdin", "-v", "error", "-f", "lavfi", "-i", `testsrc2=size=${size}:rate=25`],
      ...["-t", "6", "-g", "25", "-c:v", "libx264", "-preset", "ultrafast", path],
    ],
  }).output();
  assert.ok(made.success);
  await ageFile(path);
  return path;
}

async function ffprobeJson(args: string[]): Promise<Record<string, unknown>> {
  const out = await new Deno.Command("ffprobe", {
    args: ["-v", "error", "-of", "json", ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

/** Timestamps (seconds, as ffprobe prints them) of every packet of the first video stream. */
export async function packetTimes(path: string): Promise<string[]> {
  const data = await ffprobeJson([
    "-select_streams",
    "v:0",
    "-show_entries",
    "packet=pts_time",
    path,
  ]);
  const packets = data.packets as { pts_time: string }[];
  return packets.map((p) => p.pts_time).sort((a, b) => Number(a) - Number(b));
}

/** Where each stream's last packet ends, in seconds, by stream index; and each stream's kind. */
async function streamEnds(path: string) {
  const data = await ffprobeJson([
    ...["-show_entries", "packet=stream_index,pts_time,duration_time"],
    ...["-show_entries", "stream=index,codec_type:stream_tags=language", path],
  ]);
  const ends = new Map<number, number>();
  for (const p of data.packets as Record<string, string>[]) {
    const end = Number(p.pts_time) + (Number(p.duration_time) || 0);
    const i = Number(p.stream_index);
    if (!(end <= (ends.get(i) ?? -Infinity))) ends.set(i, end);
  }
  const streams =
    (data.streams as { index: number; codec_type: string; tags?: { language?: string } }[])
      .map((s) => ({
        type: s.codec_type,
        language: s.tags?.language ?? null,
        end: ends.get(s.index),
      }));
  return streams;
}

/**
 * The output of a segmented encode holds exactly the source's video frames at the source's
 * timestamps, every other stream (same kinds and languages, in order), its audio ending with its
 * video (within 50 ms) as in the source, and the source's chapters.
 */
export async function assertSameMedia(source: string, output: string): Promise<void> {
  assert.deepEqual(await packetTimes(output), await packetTimes(source), "video frames and times");
  const [was, is] = [await streamEnds(source), await streamEnds(output)];
  assert.deepEqual(
    is.map((s) => [s.type, s.language]),
    was.map((s) => [s.type, s.language]),
    "streams",
  );
  const videoEnd = is.find((s) => s.type === "video")!.end!;
  for (const [i, s] of is.entries()) {
    if (s.type !== "audio") continue;
    assert.ok(
      Math.abs(s.end! - videoEnd) <= 0.05,
      `audio ${i} ends at ${s.end}, video ${videoEnd}`,
    );
    assert.ok(Math.abs(s.end! - was[i].end!) <= 0.001, `audio ${i} ends where the source's does`);
  }
  const chapters = async (path: string) =>
    (await ffprobeJson(["-show_chapters", path])).chapters as unknown[];
  assert.deepEqual(await chapters(output), await chapters(source), "chapters");
}

/** Segment directories (`.vpo-<id>.segments`) in `dir`. */
export function segmentDirsIn(dir: string): string[] {
  return [...Deno.readDirSync(dir)]
    .filter((e) => /^\.vpo-[0-9a-f]{32}\.segments$/.test(e.name))
    .map((e) => join(dir, e.name));
}

/**
 * A directory holding an `ffmpeg` that appends its arguments to `<dir>/ffmpeg-calls` and runs the
 * real one; put it first on PATH to count what the worker starts. `prelude` is shell run before
 * that (`case "$*" in ...) sleep 5;; esac` to hold one kind of run back; {@link segmentDelay}).
 * With `perHost`, each host (network namespace, see tests/multihost) writes its own file,
 * `ffmpeg-calls-<host name>`, read by `calls(host)`.
 */
export async function countingFfmpeg(
  dir: string,
  prelude = "",
  options: { perHost?: boolean } = {},
): Promise<{ path: string; calls: (host?: string) => string[] }> {
  const bin = join(dir, "bin");
  await Deno.mkdir(bin);
  const calls = join(dir, "ffmpeg-calls");
  const real = new TextDecoder().decode(
    (await new Deno.Command("sh", { args: ["-c", "command -v ffmpeg"], stdout: "piped" }).output())
      .stdout,
  ).trim();
  await Deno.writeTextFile(
    join(bin, "ffmpeg"),
    `#!/bin/sh\necho "$*" >> '${calls}'${options.perHost ? "-$(hostname)" : ""}\n` +
      `${prelude}exec '${real}' "$@"\n`,
  );
  await Deno.chmod(join(bin, "ffmpeg"), 0o755);
  return {
    path: `${bin}:${Deno.env.get("PATH")}`,
    calls: (host?: string) => {
      try {
        return Deno.readTextFileSync(host ? `${calls}-${host}` : calls).split("\n")
          .filter((l) => l !== "");
      } catch {
        return [];
      }
    },
  };
}

/**
 * A {@link countingFfmpeg} prelude that makes each segment encode wait `sec` seconds first (no
 * CPU), so that several workers meet on one small film.
 */
export const segmentDelay = (sec: number) => `case "$*" in *" -copyts "*) sleep ${sec};; esac\n`;

/**
 * A running film as the live file of the worker holding it shows it, planted in `home`'s queue:
 * 3 of 8 segments done, segment 4 on "nas" (51 %) and 5 on "desktop" (12.7 %), the film 45.5 %
 * done at 1.9x with 7,800 s left. Returns the job's id.
 */
export async function plantRunningFilm(home: TempHome, media: string): Promise<string> {
  const record = jobRecord("f11f11f11f11f11f", {
    type: "transcode",
    file: join(media, "Film.mkv"),
  });
  await writeJobFile(home.jobsDir, "running", record);
  const layout = new QueueLayout(home.jobsDir);
  await Deno.mkdir(layout.liveDir, { recursive: true });
  await Deno.writeTextFile(
    layout.livePath(record.id, "0000test0000"),
    JSON.stringify({
      worker: { host: "nas", pid: 42 },
      claimed_at: new Date().toISOString(),
      progress: { percent: 45.5, fps: 30, speed: 1.9, eta_sec: 7800, out_time_sec: 2730 },
      segments: {
        done: 3,
        total: 8,
        percent: 37.5,
        media_done_sec: 2250,
        media_total_sec: 6000,
        encode_sec: 4500,
        window_sec: null,
        plan_id: "0123456789ab",
        running: [
          { segment: 4, host: "nas", percent: 51 },
          { segment: 5, host: "desktop", percent: 12.7 },
        ],
      },
    }),
  );
  await Deno.writeTextFile(layout.beatPath(record.id, "0000test0000"), "now\n");
  return record.id;
}

/** The start times (`-ss`) of the segment encodes among ffmpeg calls. */
export function segmentStarts(calls: string[]): string[] {
  return calls.flatMap((c) => / -copyts -ss (\S+) /.exec(c)?.[1] ?? []);
}
