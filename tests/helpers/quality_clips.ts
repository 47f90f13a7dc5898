/**
 * Clips of three difficulties for quality searches: a flat slide (a still card with one small
 * moving box), testsrc2 (moving detail), and testsrc2 under heavy grain (the `noise` filter).
 * Stored as high-quality MPEG-2, so that each has bytes to save, as a library's files do.
 *
 * @module
 */
import { join } from "node:path";
import { ageFile } from "./clips.ts";

/** lavfi sources of each difficulty, easiest first. */
export const DIFFICULTIES = {
  flat: "color=c=0x3050a0:size=320x180:rate=25," +
    "drawbox=x=40:y=40:w=240:h=60:color=white:t=fill," +
    "drawbox=x='mod(t*40,300)':y=120:w=20:h=20:color=yellow:t=fill",
  detail: "testsrc2=size=320x180:rate=25",
  grain: "testsrc2=size=320x180:rate=25,noise=alls=40:allf=t+u",
} as const;

/** One difficulty's name. */
export type Difficulty = keyof typeof DIFFICULTIES;

/** Writes `<dir>/<name>.mkv` of `seconds` (settled: dated an hour back); returns its path. */
export async function makeDifficultyClip(
  dir: string,
  name: Difficulty,
  seconds = 4,
): Promise<string> {
  const path = join(dir, `${name}.mkv`);
  const out = await new Deno.Command("ffmpeg", {
    args: [
      ...["-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", DIFFICULTIES[name]],
      ...["-t", `${seconds}`, "-c:v", "mpeg2video", "-q:v", "2", "-g", "25", path],
    ],
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
  await ageFile(path);
  return path;
}

/**
 * An 8 s clip under heavy grain but for 3 s to 5 s, clean testsrc2: a policy sampling one second
 * per 8 (`sample_every: 8`) samples only the clean part, so its prediction is far too kind.
 */
export async function makeMisleadingClip(dir: string): Promise<string> {
  const path = join(dir, "misleading.mkv");
  const out = await new Deno.Command("ffmpeg", {
    args: [
      ...["-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", DIFFICULTIES.grain],
      ...["-f", "lavfi", "-i", DIFFICULTIES.detail, "-filter_complex"],
      "[0:v][1:v]overlay=enable='between(t,3,4.999)':shortest=1",
      ...["-t", "8", "-c:v", "mpeg2video", "-q:v", "2", "-g", "25", path],
    ],
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
  await ageFile(path);
  return path;
}

/** A policy searching hevc (ultrafast) for `min` SSIM on 1 s samples, one per 2 s. */
export function qualityPolicy(min = 0.95, extra = ""): string {
  return `transcode:
  target_video_codec: hevc
  preset: ultrafast
  target_quality:
    min: ${min}
    sample_seconds: 1
    sample_every: 2
${extra}`;
}
