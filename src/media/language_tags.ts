/**
 * IETF language tags (BCP 47: `es-419`, `pt-BR`, `zh-Hans`) of Matroska tracks, which ffmpeg 5.1
 * drops on every rewrite: its Matroska muxer writes only the ISO 639-2 code (`spa`, `por`, `chi`),
 * and its MP4 muxer holds no other. mkvmerge has written both since version 53, so most MKVs in
 * the wild have them. Before a rewritten file is verified, the tags that said more than their code
 * are set on it again by `mkvpropedit`, which edits the track headers in place (the temp output,
 * through the descriptor path vpo gives its children), and checked with `mkvmerge -J`. Without
 * mkvtoolnix, or into MP4, the output keeps the codes, and the job's result says so.
 *
 * @module
 */
import { resolve } from "node:path";
import { findOnPath } from "../util/find_on_path.ts";
import { languageTagKey } from "../util/languages.ts";
import type { OutputFormat } from "./containers.ts";
import { firstLine, runCaptured } from "./exec.ts";
import { identify, type MkvmergeTrack } from "./mkvmerge.ts";
import type { MediaInfo, StreamType } from "./probe.ts";

/** Options of {@link keepLanguageTags}: the programs, found on PATH by default. */
export interface LanguageTagOptions {
  mkvmerge?: string;
  mkvpropedit?: string;
  signal?: AbortSignal;
}

/** What became of the source's tags: kept (with a note when they could not be), or a problem. */
export type TagsVerdict = { ok: true; note: string | null } | { ok: false; reason: string };

/** A source track's tag that its ISO 639-2 code does not carry whole. */
interface Reduced {
  /** The IETF tag ("es-419"). */
  tag: string;
  /** The ISO 639-2 code a rewrite keeps ("spa"). */
  code: string;
}

/** mkvmerge's track types as ffprobe names them. */
const TRACK_TYPES: Readonly<Record<string, StreamType>> = {
  video: "video",
  audio: "audio",
  subtitles: "subtitle",
};

/**
 * The source stream each Matroska track of an output comes from, in output order, given the
 * output's streams in order (an encode plan's streams, a track plan's tracks): those kept, but
 * covers and attachments, which Matroska holds as attachments, not tracks.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const streams = [
 *   { type: "video", inputIndex: 0, action: "encode" },
 *   { type: "cover", inputIndex: 1, action: "reattach" },
 *   { type: "audio", inputIndex: 2, action: "drop" },
 *   { type: "subtitle", inputIndex: 4, action: "copy" },
 *   { type: "audio", inputIndex: 3, action: "copy" },
 *   { type: "attachment", inputIndex: 5, action: "copy" },
 * ];
 * assert.deepEqual(matroskaTrackSources(streams), [0, 4, 3]);
 * ```
 */
export function matroskaTrackSources(
  streams: readonly { type: string; inputIndex: number; action?: string }[],
): number[] {
  return streams
    .filter((s) => s.action !== "drop" && s.action !== "reattach")
    .filter((s) => s.type === "video" || s.type === "audio" || s.type === "subtitle")
    .map((s) => s.inputIndex);
}

/**
 * Gives the output at `output.path` (written by ffmpeg from `source`) the IETF tags of the source
 * tracks it holds, `trackSources` naming the source stream of each of its tracks in order, and
 * checks each track whose source had a tag. Nothing is run unless the source is Matroska and
 * mkvmerge is installed (without it the tags cannot even be read).
 */
export async function keepLanguageTags(
  source: MediaInfo,
  output: { path: string; format: OutputFormat },
  trackSources: readonly number[],
  opts: LanguageTagOptions = {},
): Promise<TagsVerdict> {
  const mkvmerge = findOnPath(opts.mkvmerge ?? "mkvmerge");
  if (!source.formatName.startsWith("matroska") || mkvmerge === null) {
    return { ok: true, note: null };
  }
  const tags = await sourceTags(mkvmerge, source, opts.signal);
  const reduced = trackSources.map((index) => {
    const tag = tags.get(index);
    return tag && languageTagKey(tag.tag) !== languageTagKey(tag.code) ? tag : null;
  });
  if (reduced.every((tag) => tag === null)) return { ok: true, note: null };
  if (output.format !== "matroska") {
    return {
      ok: true,
      note: reducedNote(reduced, "ffmpeg writes MP4 languages as ISO 639-2 codes only"),
    };
  }
  const mkvpropedit = findOnPath(opts.mkvpropedit ?? "mkvpropedit");
  if (mkvpropedit === null) {
    return {
      ok: true,
      note: reducedNote(reduced, "mkvpropedit (mkvtoolnix) is not installed to restore them"),
    };
  }
  const edits = reduced.flatMap((tag, i) =>
    // The IETF element alone: the code stays the one ffmpeg copied from the source.
    tag ? ["--edit", `track:${i + 1}`, "--set", `language-ietf=${tag.tag}`] : []
  );
  const run = await runCaptured(mkvpropedit, [resolve(output.path), ...edits], opts.signal);
  // Exit 1 is mkvtoolnix's "done, with warnings": the read-back below judges the result.
  if (run.code !== 0 && run.code !== 1) {
    // mkvpropedit says what went wrong on stdout ("Error: ...").
    const said = run.stdout.split("\n").find((line) => line.startsWith("Error: "));
    const why = said?.slice("Error: ".length).trim() || firstLine(run.stderr) || `exit ${run.code}`;
    return { ok: false, reason: `mkvpropedit could not restore the IETF language tags: ${why}` };
  }
  const problem = await tagProblem(mkvmerge, output.path, trackSources, tags, opts.signal);
  return problem === null ? { ok: true, note: null } : { ok: false, reason: problem };
}

/**
 * The IETF tag and ISO 639-2 code of each track of `source` that has a tag, by stream index
 * (Matroska's tracks are ffprobe's first streams, in the same order); empty when mkvmerge cannot
 * read it, or reads tracks that are not ffprobe's.
 */
async function sourceTags(
  mkvmerge: string,
  source: MediaInfo,
  signal?: AbortSignal,
): Promise<Map<number, Reduced>> {
  const identity = await identify(mkvmerge, source.path, signal);
  const tracks = typeof identity === "string" ? [] : identity.tracks ?? [];
  const same = tracks.every((track, i) =>
    TRACK_TYPES[track.type ?? ""] === source.streams[i]?.type && !source.streams[i].isCoverArt
  );
  const tags = new Map<number, Reduced>();
  if (!same) return tags;
  tracks.forEach((track, i) => {
    const { language_ietf: tag, language: code } = track.properties ?? {};
    if (tag) tags.set(i, { tag, code: code ?? "und" });
  });
  return tags;
}

/**
 * Why the output's tracks, as mkvmerge reads them, do not carry the tags of their sources, or
 * null: a track whose source had an IETF tag must have it (or, for a tag that says no more than
 * its code, the code).
 */
async function tagProblem(
  mkvmerge: string,
  path: string,
  trackSources: readonly number[],
  tags: ReadonlyMap<number, Reduced>,
  signal?: AbortSignal,
): Promise<string | null> {
  const identity = await identify(mkvmerge, path, signal);
  if (typeof identity === "string") return `mkvmerge: ${identity}`;
  const tracks: MkvmergeTrack[] = identity.tracks ?? [];
  for (const [i, index] of trackSources.entries()) {
    const want = tags.get(index);
    if (!want) continue;
    const p = tracks[i]?.properties ?? {};
    const got = p.language_ietf ?? p.language ?? "und";
    if (languageTagKey(got) !== languageTagKey(want.tag)) {
      return `mkvmerge: track ${i}: language tag is ${got}, the source's ${want.tag}`;
    }
  }
  return null;
}

/** "IETF language tags reduced to ISO 639-2 codes: es-419, es-ES -> spa; pt-BR -> por (why)". */
function reducedNote(reduced: readonly (Reduced | null)[], why: string): string {
  const byCode = new Map<string, string[]>();
  for (const tag of reduced) {
    if (tag && !byCode.get(tag.code)?.includes(tag.tag)) {
      byCode.set(tag.code, [...byCode.get(tag.code) ?? [], tag.tag]);
    }
  }
  const lists = [...byCode].map(([code, tags]) => `${tags.join(", ")} -> ${code}`);
  return `IETF language tags reduced to ISO 639-2 codes: ${lists.join("; ")} (${why})`;
}
