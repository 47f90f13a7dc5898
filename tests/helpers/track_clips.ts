/**
 * Clips with many tracks as real libraries have them: several audio and subtitle tracks in
 * several languages, with names, default and forced flags, fonts and a cover. Matroska clips are
 * made by mkvmerge (as most MKVs in the wild are), MP4 clips by ffmpeg. Tiny (160x90, 1 s).
 *
 * ```text
 * const clip = await makeTrackClip(`${dir}/film.mkv`, {
 *   audio: [{ language: "jpn", default: true }, { language: "eng", title: "Commentary" }],
 *   subtitles: [{ language: "eng", forced: true }],
 * });
 * ```
 *
 * @module
 */
import { dirname, join, resolve } from "node:path";
import { ageFile } from "./clips.ts";

/** One audio or subtitle track of a clip. */
export interface TrackSpec {
  /** Language tag; none when absent. */
  language?: string;
  /** Track name; none when absent. */
  title?: string;
  /** Default flag; default false. */
  default?: boolean;
  /** Forced flag; default false. */
  forced?: boolean;
  /** Flags that say whom the track is for (ffprobe's names); default none. */
  flags?: ("hearing_impaired" | "visual_impaired" | "comment")[];
}

/** mkvmerge's option for each of {@link TrackSpec.flags}. */
const MKVMERGE_FLAG_OPTIONS = {
  hearing_impaired: "--hearing-impaired-flag",
  visual_impaired: "--visual-impaired-flag",
  comment: "--commentary-flag",
};

/** What {@link makeTrackClip} puts into a clip. */
export interface TrackClipOptions {
  /** Audio tracks (AAC), in order. */
  audio?: TrackSpec[];
  /** SubRip subtitle tracks (mov_text in MP4), in order. */
  subtitles?: TrackSpec[];
  /** Whether the video track is marked default; default true. */
  videoDefault?: boolean;
  /** Attaches a font (Matroska only). */
  font?: boolean;
  /** Attaches a PNG cover. */
  cover?: boolean;
  /** Chapter titles, the chapters an even share of the clip each (Matroska only). */
  chapters?: string[];
  /**
   * HEVC video with a Dolby Vision configuration record (profile 8.1), as a UHD release has it
   * (MP4 only; the video itself is plain HEVC: only the record says Dolby Vision).
   */
  dolbyVision?: boolean;
  /** Length in seconds; default 1. */
  duration?: number;
  /** Frames between keyframes (the clip has 10 a second), so it can be segmented; x264's own
   * (250) when absent. */
  keyframeInterval?: number;
}

const yesNo = (flag: boolean | undefined) => (flag ? "yes" : "no");

async function run(program: string, args: string[]): Promise<void> {
  const out = await new Deno.Command(program, {
    args,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  })
    .output();
  if (!out.success) {
    throw new Error(`${program} ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
  }
}

/**
 * Writes a clip to `path` (.mkv or .mp4; its directory must exist), aged like a library's
 * files, and returns its absolute path.
 */
export async function makeTrackClip(path: string, opts: TrackClipOptions): Promise<string> {
  const output = resolve(path);
  const audio = opts.audio ?? [];
  const subtitles = opts.subtitles ?? [];
  const scratch = await Deno.makeTempDir({ dir: dirname(output), prefix: ".tracks-" });
  try {
    const base = join(scratch, "base.mkv");
    const inputs = ["-f", "lavfi", "-i", "testsrc2=size=160x90:rate=10"];
    audio.forEach((_, i) => inputs.push("-f", "lavfi", "-i", `sine=frequency=${440 + 110 * i}`));
    await run("ffmpeg", [
      ...["-nostdin", "-v", "error", "-y", ...inputs, "-map", "0:v"],
      ...audio.flatMap((_, i) => ["-map", `${i + 1}:a`]),
      ...[
        ...(opts.dolbyVision
          ? ["-c:v", "libx265", "-x265-params", "log-level=error"]
          : ["-c:v", "libx264"]),
        ...(opts.keyframeInterval ? ["-g", `${opts.keyframeInterval}`] : []),
        "-preset",
        "ultrafast",
        "-c:a",
        "aac",
        "-t",
        `${opts.duration ?? 1}`,
        `file:${base}`,
      ],
    ]);
    const srt = join(scratch, "s.srt");
    await Deno.writeTextFile(srt, "1\n00:00:00,000 --> 00:00:00,800\nHello\n\n");
    const font = join(scratch, "font.ttf");
    await Deno.writeFile(font, new Uint8Array([0, 1, 0, 0, ...new Array(60).fill(7)]));
    const chapterFile = join(scratch, "chapters.txt");
    const titles = opts.chapters ?? [];
    const share = (opts.duration ?? 1) / Math.max(1, titles.length);
    await Deno.writeTextFile(
      chapterFile,
      titles.map((title, i) => {
        const n = String(i + 1).padStart(2, "0");
        const at = new Date(i * share * 1000).toISOString().slice(11, 23);
        return `CHAPTER${n}=${at}\nCHAPTER${n}NAME=${title}\n`;
      }).join(""),
    );
    const cover = join(scratch, "cover.png");
    await run("ffmpeg", [
      ...["-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", "color=c=red:s=8x8"],
      ...["-frames:v", "1", `file:${cover}`],
    ]);
    if (output.toLowerCase().endsWith(".mp4")) {
      await writeMp4(output, base, srt, cover, opts);
      if (opts.dolbyVision) await addDolbyVisionRecord(output);
    } else {
      const flags = (id: number, t: TrackSpec) => [
        ...(t.language ? ["--language", `${id}:${t.language}`] : []),
        ...(t.title ? ["--track-name", `${id}:${t.title}`] : []),
        ...["--default-track-flag", `${id}:${yesNo(t.default)}`],
        ...["--forced-display-flag", `${id}:${yesNo(t.forced)}`],
        ...(t.flags ?? []).flatMap((flag) => [MKVMERGE_FLAG_OPTIONS[flag], `${id}:1`]),
      ];
      await run("mkvmerge", [
        ...["-q", "-o", output, "--default-track-flag", `0:${yesNo(opts.videoDefault ?? true)}`],
        ...audio.flatMap((t, i) => flags(i + 1, t)),
        base,
        ...subtitles.flatMap((t) => [...flags(0, t), srt]),
        ...(opts.font
          ? ["--attachment-mime-type", "application/x-truetype-font", "--attach-file", font]
          : []),
        ...(opts.cover ? ["--attachment-mime-type", "image/png", "--attach-file", cover] : []),
        ...(titles.length > 0 ? ["--chapters", chapterFile] : []),
      ]);
    }
  } finally {
    await Deno.remove(scratch, { recursive: true });
  }
  await ageFile(output);
  return output;
}

/** The MP4 form: ffmpeg sets what mkvmerge would (names go in as handler names). */
async function writeMp4(
  output: string,
  base: string,
  srt: string,
  cover: string,
  opts: TrackClipOptions,
): Promise<void> {
  const audio = opts.audio ?? [];
  const subtitles = opts.subtitles ?? [];
  const args = ["-nostdin", "-v", "error", "-y", "-i", `file:${base}`];
  for (const _ of subtitles) args.push("-i", `file:${srt}`);
  if (opts.cover) args.push("-i", `file:${cover}`);
  args.push("-map", "0:v", "-map", "0:a?");
  subtitles.forEach((_, i) => args.push("-map", `${i + 1}:s`));
  if (opts.cover) args.push("-map", `${subtitles.length + 1}:v`);
  args.push("-c", "copy", "-c:s", "mov_text");
  // The sample entry a Dolby Vision record goes in (ffmpeg's default for HEVC is hev1).
  if (opts.dolbyVision) args.push("-tag:v:0", "hvc1");
  const set = (out: number, t: TrackSpec) => {
    const flags = [t.default && "default", t.forced && "forced", ...(t.flags ?? [])]
      .filter(Boolean).join("+");
    args.push(`-disposition:${out}`, flags || "0");
    if (t.language) args.push(`-metadata:s:${out}`, `language=${t.language}`);
    if (t.title) args.push(`-metadata:s:${out}`, `handler_name=${t.title}`);
  };
  set(0, { default: opts.videoDefault ?? true });
  audio.forEach((t, i) => set(1 + i, t));
  subtitles.forEach((t, i) => set(1 + audio.length + i, t));
  if (opts.cover) args.push(`-disposition:${1 + audio.length + subtitles.length}`, "attached_pic");
  await run("ffmpeg", [...args, "-f", "mp4", `file:${output}`]);
}

/**
 * Puts a Dolby Vision configuration box (dvcC, profile 8.1) into the HEVC sample entry of an MP4
 * whose index comes after its media (ffmpeg's default), growing the boxes that hold it: what
 * ffmpeg cannot make, since no encoder here writes Dolby Vision.
 */
async function addDolbyVisionRecord(path: string): Promise<void> {
  const file = await Deno.readFile(path);
  const view = new DataView(file.buffer);
  const type = (at: number) => new TextDecoder().decode(file.subarray(at + 4, at + 8));
  /** The box `name` among the boxes from `start` to `end`, or -1. */
  const find = (start: number, end: number, name: string) => {
    for (let at = start; at < end; at += view.getUint32(at)) if (type(at) === name) return at;
    return -1;
  };
  const moov = find(0, file.length, "moov");
  // The header each box's children come after (stsd: version, flags and entry count; a visual
  // sample entry: 78 bytes of its own).
  const childrenAt: Record<string, number> = { stsd: 16, hvc1: 86 };
  for (let trak = moov + 8; trak < moov + view.getUint32(moov); trak += view.getUint32(trak)) {
    if (type(trak) !== "trak") continue;
    const chain = [trak];
    for (const name of ["mdia", "minf", "stbl", "stsd", "hvc1"]) {
      const parent = chain.at(-1)!;
      const start = parent + (childrenAt[type(parent)] ?? 8);
      const found = parent < 0 ? -1 : find(start, parent + view.getUint32(parent), name);
      chain.push(found);
    }
    if (chain.at(-1)! < 0) continue;
    // version 1.0, profile 8, level 6, RPU and base layer present, compatibility id 1.
    const record = [1, 0, 0x10, 0x35, 0x10, 0, 0, 0, ...new Array(16).fill(0)];
    const box = new Uint8Array([0, 0, 0, 8 + record.length, ...new TextEncoder().encode("dvcC")]);
    const entry = chain.at(-1)!;
    const at = entry + view.getUint32(entry);
    for (const grown of [moov, ...chain]) view.setUint32(grown, view.getUint32(grown) + 32);
    const out = new Uint8Array(file.length + 32);
    out.set(file.subarray(0, at));
    out.set(box, at);
    out.set(record, at + 8);
    out.set(file.subarray(at), at + 32);
    await Deno.writeFile(path, out);
    return;
  }
  throw new Error(`${path}: no HEVC sample entry to put a Dolby Vision record in`);
}

/** A film as disc rips and fansubs have it: four audio tracks, three subtitles, a font. */
export const FILM: TrackClipOptions = {
  audio: [
    { language: "jpn", title: "Japanese", default: true },
    { language: "eng", title: "English" },
    { language: "eng", title: "Director's Commentary", flags: ["comment"] },
    { language: "fre" },
  ],
  subtitles: [
    { language: "eng", title: "Signs", forced: true, default: true },
    { language: "fre", default: true },
    { language: "eng", title: "Full" },
  ],
  font: true,
};

/** The original vpo's track keys, as one of its users wrote them (schema 2, its v3 filters). */
export const ORIGINAL_POLICY = `schema_version: 2
track_order: [video, audio_main, audio_alternate, subtitle_main, subtitle_forced,
  audio_commentary, subtitle_commentary, attachment]
audio_language_preference: [eng, und]
subtitle_language_preference: [eng, und]
commentary_patterns: ['commentary', 'director']
default_flags:
  set_first_video_default: true
  set_preferred_audio_default: true
  set_preferred_subtitle_default: true
  clear_other_defaults: true
audio_filter:
  languages: [eng, jpn]
  minimum: 1
  fallback: { mode: content_language }
subtitle_filter:
  languages: [eng]
  preserve_forced: true
`;

/** What ORIGINAL_POLICY makes of FILM, as {@link mkvmergeTracks} reads it. */
export const FILM_APPLIED: unknown[][] = [
  ["video", "und", null, true, false],
  ["audio", "eng", "English", true, false],
  ["audio", "jpn", "Japanese", false, false],
  ["subtitles", "eng", "Full", true, false],
  ["subtitles", "eng", "Signs", false, true],
  ["audio", "eng", "Director's Commentary", false, false],
];

/** The tracks `mkvmerge -J` reads in a Matroska file: [type, language, name, default, forced]. */
export async function mkvmergeTracks(path: string): Promise<unknown[][]> {
  const out = await new Deno.Command("mkvmerge", { args: ["-J", path], stdout: "piped" }).output();
  const identity = JSON.parse(new TextDecoder().decode(out.stdout));
  return identity.tracks.map((t: { type: string; properties: Record<string, unknown> }) => [
    t.type,
    t.properties.language,
    t.properties.track_name ?? null,
    t.properties.default_track,
    t.properties.forced_track,
  ]);
}
