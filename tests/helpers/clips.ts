/**
 * Test media generated on the fly with ffmpeg's lavfi sources; nothing is committed. Clips are
 * tiny (320x180, 1 s, ultrafast presets) so a suite using dozens of them stays fast on two cores.
 *
 * ```ts
 * const dir = await Deno.makeTempDir();
 * const clip = await makeClip(`${dir}/film.mkv`, {
 *   audio: ["aac", "ac3"], subtitles: true, attachment: true, coverArt: true,
 * });
 * await Deno.stat(clip); // ... use it, then:
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @module
 */

import { dirname, extname, join, resolve } from "node:path";

/** What {@link makeClip} puts into a clip. Every field is optional. */
export interface ClipOptions {
  /** Length in seconds; default 1. */
  duration?: number;
  /** Frame size "WxH"; default "320x180". */
  size?: string;
  /** Frames per second; default 25. Use 1-2 for large frame sizes to keep generation fast. */
  rate?: number;
  /** Video codec; default "h264" (libx264), or "hevc" (libx265). */
  videoCodec?: "h264" | "hevc";
  /** Pixel format of the video, e.g. "yuv420p10le"; default the encoder's (yuv420p). */
  pixFmt?: string;
  /** Container; default from the path's extension: ".mp4" → mp4, anything else → mkv. */
  container?: "mkv" | "mp4";
  /**
   * One ffmpeg audio encoder per audio track, e.g. ["aac", "ac3", "flac"]; default ["aac"];
   * [] for no audio. Tracks are tagged eng, fra, deu, spa, ita... in order.
   */
  audio?: string[];
  /** Adds an English subtitle track: subrip in mkv, mov_text in mp4. */
  subtitles?: boolean;
  /** Adds a small font-like attachment (font.ttf, application/x-truetype-font); mkv only. */
  attachment?: boolean;
  /**
   * Adds a 1x1 PNG cover picture: in mkv an image attachment (ffmpeg reads it back as an attached
   * picture), in mp4 an attached-picture video stream.
   */
  coverArt?: boolean;
  /** Adds a timecode (tmcd) data stream; mp4 only. */
  timecode?: boolean;
  /** Damages the clip after writing it; see {@link corruptFile}. */
  corrupt?: "truncate" | "garble";
}

const LANGUAGES = ["eng", "fra", "deu", "spa", "ita", "jpn"];

/** A valid 1x1 PNG, small enough to inline. */
const PNG_1X1 = Uint8Array.from(
  atob(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
  ),
  (char) => char.charCodeAt(0),
);

/**
 * Sets a file's times `seconds` in the past, as a library's files are: `vpo transcode` leaves a
 * file modified within library.settle_seconds alone (it may still be being copied).
 */
export async function ageFile(path: string, seconds = 3600): Promise<void> {
  const then = new Date(Date.now() - seconds * 1000);
  await Deno.utime(path, then, then);
}

/**
 * Writes a generated clip to `path` (its directory must exist) and returns the absolute path.
 *
 * @throws Error with ffmpeg's stderr when the combination cannot be written.
 */
export async function makeClip(path: string, opts: ClipOptions = {}): Promise<string> {
  const output = resolve(path);
  const container = opts.container ?? (extname(output).toLowerCase() === ".mp4" ? "mp4" : "mkv");
  const mp4 = container === "mp4";
  if (mp4 && opts.attachment) throw new Error("makeClip: mp4 cannot hold attachments");
  if (!mp4 && opts.timecode) throw new Error("makeClip: timecode tracks are mp4 only");
  const duration = opts.duration ?? 1;
  const audio = opts.audio ?? ["aac"];
  const scratch = await Deno.makeTempDir({ dir: dirname(output), prefix: ".clip-" });
  try {
    const inputs = [
      "-f",
      "lavfi",
      "-i",
      `testsrc2=size=${opts.size ?? "320x180"}:rate=${opts.rate ?? 25}`,
    ];
    const maps = ["-map", "0:v"];
    const codecs: string[] = [];
    const hevc = opts.videoCodec === "hevc";
    codecs.push("-c:v:0", hevc ? "libx265" : "libx264", "-preset:v:0", "ultrafast");
    if (hevc) codecs.push("-x265-params:v:0", "log-level=error");
    if (opts.pixFmt) codecs.push("-pix_fmt:v:0", opts.pixFmt);

    audio.forEach((encoder, i) => {
      inputs.push("-f", "lavfi", "-i", `sine=frequency=${440 + 110 * i}:sample_rate=48000`);
      maps.push("-map", `${i + 1}:a`);
      codecs.push(`-c:a:${i}`, encoder, `-metadata:s:a:${i}`, `language=${LANGUAGES[i % 6]}`);
    });
    let nextInput = 1 + audio.length;

    if (opts.subtitles) {
      const srt = join(scratch, "subs.srt");
      await Deno.writeTextFile(srt, subtitleText(duration));
      inputs.push("-i", srt);
      maps.push("-map", `${nextInput++}:s`);
      codecs.push("-c:s:0", mp4 ? "mov_text" : "srt", "-metadata:s:s:0", "language=eng");
    }

    const attachments: { file: string; mimeType: string }[] = [];
    if (opts.attachment) {
      const font = join(scratch, "font.ttf");
      await Deno.writeFile(font, fontLikeBytes());
      attachments.push({ file: font, mimeType: "application/x-truetype-font" });
    }
    if (opts.coverArt) {
      const cover = join(scratch, "cover.png");
      await Deno.writeFile(cover, PNG_1X1);
      if (mp4) {
        inputs.push("-i", cover);
        maps.push("-map", `${nextInput++}:v`);
        codecs.push("-c:v:1", "copy", "-disposition:v:1", "attached_pic");
      } else {
        attachments.push({ file: cover, mimeType: "image/png" });
      }
    }
    attachments.forEach(({ file, mimeType }, i) => {
      codecs.push("-attach", file, `-metadata:s:t:${i}`, `mimetype=${mimeType}`);
    });
    if (opts.timecode) codecs.push("-timecode", "00:00:00:00");

    const args = [
      ...["-nostdin", "-hide_banner", "-v", "error", "-y"],
      ...inputs,
      ...maps,
      ...codecs,
      // -strict -2 lets tests put FLAC or TrueHD into MP4.
      ...["-strict", "-2", "-t", `${duration}`, "-f", mp4 ? "mp4" : "matroska", `file:${output}`],
    ];
    const result = await new Deno.Command("ffmpeg", { args, stdin: "null", stderr: "piped" })
      .output();
    if (!result.success) {
      throw new Error(`makeClip ${output}: ${new TextDecoder().decode(result.stderr)}`);
    }
  } finally {
    await Deno.remove(scratch, { recursive: true });
  }
  if (opts.corrupt) await corruptFile(output, opts.corrupt);
  await ageFile(output);
  return output;
}

/**
 * Damages a media file in place. "truncate" keeps the first 40 % (the header survives, so it
 * still probes, but it is too short); "garble" overwrites the first 4 KiB with noise so that
 * nothing recognises the file.
 */
export async function corruptFile(path: string, how: "truncate" | "garble"): Promise<void> {
  const bytes = await Deno.readFile(path);
  if (how === "truncate") {
    await Deno.writeFile(path, bytes.subarray(0, Math.floor(bytes.length * 0.4)));
  } else {
    let seed = 12345;
    for (let i = 0; i < Math.min(4096, bytes.length); i++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      bytes[i] = seed >>> 24;
    }
    await Deno.writeFile(path, bytes);
  }
  // Damaged long ago, like a bad download found in a library (not a file still arriving).
  await ageFile(path);
}

function subtitleText(duration: number): string {
  return `1\n${srtTime(0)} --> ${srtTime(Math.max(0.2, duration - 0.1))}\nHello\n\n`;
}

/** "HH:MM:SS,mmm" */
function srtTime(seconds: number): string {
  const ms = Math.round(seconds * 1000);
  const pad = (value: number, width = 2) => String(value).padStart(width, "0");
  const clock = `${pad(Math.floor(ms / 3_600_000))}:${pad(Math.floor(ms / 60_000) % 60)}`;
  return `${clock}:${pad(Math.floor(ms / 1000) % 60)},${pad(ms % 1000, 3)}`;
}

/** Bytes that look like the start of a TrueType font (only the mimetype matters to ffmpeg). */
function fontLikeBytes(): Uint8Array {
  const bytes = new Uint8Array(256);
  bytes.set([0x00, 0x01, 0x00, 0x00]);
  return bytes;
}
