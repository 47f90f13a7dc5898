/**
 * Which ffmpeg encoder produces a codec, and whether a hardware encoder really works here. A
 * hardware encoder is trusted only after a trial encode of a tiny generated clip succeeds; any
 * failure falls back to the software encoder with a note saying why.
 *
 * @module
 */

import { join } from "node:path";
import type { HwAccel, VideoCodec } from "../policy/types.ts";
import { firstLine, runCaptured } from "./exec.ts";

/** Family of a video encoder: software, or the hardware API it drives. */
export type EncoderKind = "software" | "vaapi" | "qsv" | "nvenc";

// The av1 hardware encoders arrived in ffmpeg 6; listing them costs one failed trial on 5.1.
const VIDEO_ENCODERS: Record<VideoCodec, Partial<Record<EncoderKind, string>>> = {
  hevc: { software: "libx265", vaapi: "hevc_vaapi", qsv: "hevc_qsv", nvenc: "hevc_nvenc" },
  h264: { software: "libx264", vaapi: "h264_vaapi", qsv: "h264_qsv", nvenc: "h264_nvenc" },
  vp9: { software: "libvpx-vp9", vaapi: "vp9_vaapi", qsv: "vp9_qsv" },
  av1: { software: "libsvtav1", vaapi: "av1_vaapi", qsv: "av1_qsv", nvenc: "av1_nvenc" },
};

/** Order "auto" tries: NVIDIA first (its device node is absent elsewhere), then Intel. */
const AUTO_ORDER: readonly EncoderKind[] = ["nvenc", "qsv", "vaapi"];

/** The software encoder ffmpeg uses for a codec (libx265, libx264, libvpx-vp9, libsvtav1). */
export function softwareEncoder(codec: VideoCodec): string {
  return VIDEO_ENCODERS[codec].software!;
}

/** The encoder for a codec and hardware API; null when that API has none for the codec. */
export function videoEncoder(codec: VideoCodec, kind: EncoderKind): string | null {
  return VIDEO_ENCODERS[codec][kind] ?? null;
}

/** Family of an encoder name, read from its suffix (hevc_vaapi → "vaapi"). */
export function encoderKind(encoder: string): EncoderKind {
  const suffix = encoder.slice(encoder.lastIndexOf("_") + 1);
  return suffix === "vaapi" || suffix === "qsv" || suffix === "nvenc" ? suffix : "software";
}

const AUDIO_ENCODERS: Readonly<Record<string, string>> = {
  opus: "libopus",
  mp3: "libmp3lame",
  vorbis: "libvorbis",
};

/** The ffmpeg encoder writing an audio codec given by its ffprobe name (opus → libopus). */
export function audioEncoder(codec: string): string {
  return AUDIO_ENCODERS[codec] ?? codec;
}

/**
 * How frames reach a hardware encoder: VAAPI needs them uploaded by a filter, QSV and NVENC take
 * system-memory frames in their own pixel formats. Software encoders need neither.
 */
export function hardwareFrames(
  kind: EncoderKind,
  tenBit: boolean,
): { filter: string | null; pixFmt: string | null } {
  switch (kind) {
    case "vaapi":
      return { filter: `format=${tenBit ? "p010" : "nv12"},hwupload`, pixFmt: null };
    case "qsv":
      return { filter: null, pixFmt: tenBit ? "p010le" : "nv12" };
    case "nvenc":
      return { filter: null, pixFmt: tenBit ? "p010le" : "yuv420p" };
    case "software":
      return { filter: null, pixFmt: null };
  }
}

/** Default VAAPI render node, used when the caller names none. */
export const DEFAULT_VAAPI_DEVICE = "/dev/dri/renderD128";

/** The encoder chosen for a job, with a note when the requested hardware was not usable. */
export interface EncoderChoice {
  encoder: string;
  kind: EncoderKind;
  note: string | null;
}

/** Options of {@link detectEncoder}. */
export interface DetectEncoderOptions {
  /** ffmpeg binary; default "ffmpeg". */
  ffmpeg?: string;
  /** Trial with a 10-bit pixel format, as a 10-bit source will need. */
  tenBit?: boolean;
  /** Where device nodes live; default "/dev" (tests point it elsewhere). */
  devDir?: string;
  signal?: AbortSignal;
}

// Trials are slow (a device open) and their answer does not change while the process lives.
const trialCache = new Map<string, Promise<string | null>>();

/**
 * Chooses the encoder for `codec` under `hwAccel`. "none" is software without a trial; "auto"
 * tries NVENC, QSV and VAAPI in turn; a named API is tried alone. The first hardware encoder whose
 * trial encode succeeds wins; otherwise the software encoder is returned with a note.
 */
export async function detectEncoder(
  codec: VideoCodec,
  hwAccel: HwAccel,
  opts: DetectEncoderOptions = {},
): Promise<EncoderChoice> {
  const software = softwareEncoder(codec);
  if (hwAccel === "none") return { encoder: software, kind: "software", note: null };
  const failures: string[] = [];
  for (const kind of hwAccel === "auto" ? AUTO_ORDER : [hwAccel]) {
    const encoder = videoEncoder(codec, kind);
    if (encoder === null) {
      failures.push(`${kind} has no ${codec} encoder`);
      continue;
    }
    const failure = await tryEncoder(encoder, kind, opts);
    if (failure === null) return { encoder, kind, note: null };
    failures.push(`${encoder}: ${failure}`);
  }
  return {
    encoder: software,
    kind: "software",
    note: `hardware encoding unavailable (${failures.join("; ")}); using ${software}`,
  };
}

/** The first VAAPI render node under `devDir`, or null when there is no GPU device. */
function findRenderNode(devDir = "/dev"): string | null {
  try {
    const nodes = [...Deno.readDirSync(join(devDir, "dri"))]
      .map((entry) => entry.name)
      .filter((name) => name.startsWith("renderD"))
      .sort();
    return nodes.length > 0 ? join(devDir, "dri", nodes[0]) : null;
  } catch {
    return null;
  }
}

/** Null when the encoder works here, else a one-line reason. */
function tryEncoder(
  encoder: string,
  kind: EncoderKind,
  opts: DetectEncoderOptions,
): Promise<string | null> {
  const devDir = opts.devDir ?? "/dev";
  const tenBit = opts.tenBit ?? false;
  const renderNode = findRenderNode(devDir);
  // A missing device node settles it without spawning ffmpeg.
  if (kind === "nvenc" && !exists(join(devDir, "nvidiactl"))) {
    return Promise.resolve(`no NVIDIA device (${join(devDir, "nvidiactl")})`);
  }
  if ((kind === "vaapi" || kind === "qsv") && renderNode === null) {
    return Promise.resolve(`no GPU render node in ${join(devDir, "dri")}`);
  }
  const ffmpeg = opts.ffmpeg ?? "ffmpeg";
  const key = [ffmpeg, encoder, tenBit, renderNode].join("\0");
  let trial = trialCache.get(key);
  if (trial === undefined) {
    trial = runTrial(ffmpeg, encoder, kind, tenBit, renderNode, opts.signal);
    trialCache.set(key, trial);
    // A cancelled trial says nothing about the encoder: do not remember it.
    trial.catch(() => trialCache.delete(key));
  }
  return trial;
}

async function runTrial(
  ffmpeg: string,
  encoder: string,
  kind: EncoderKind,
  tenBit: boolean,
  renderNode: string | null,
  signal?: AbortSignal,
): Promise<string | null> {
  const frames = hardwareFrames(kind, tenBit);
  const args = [
    "-nostdin",
    "-hide_banner",
    "-v",
    "error",
    ...(kind === "vaapi" && renderNode ? ["-vaapi_device", renderNode] : []),
    ...["-f", "lavfi", "-i", "testsrc2=size=256x144:rate=25", "-t", "0.2"],
    ...(frames.filter ? ["-vf", frames.filter] : []),
    ...(frames.pixFmt ? ["-pix_fmt", frames.pixFmt] : []),
    ...["-c:v", encoder, "-f", "null", "-"],
  ];
  const run = await runCaptured(ffmpeg, args, signal);
  return run.code === 0 ? null : firstLine(run.stderr) || `trial encode exited with ${run.code}`;
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}
