/**
 * Track policies on real files: clips with several audio and subtitle tracks in several
 * languages, names and flags (made by mkvmerge and ffmpeg), planned from their probe, copied by
 * ffmpeg as planned, verified by ffprobe and mkvmerge, and planned again: an applied file
 * complies.
 */
import assert from "node:assert/strict";
import { copyFile } from "node:fs/promises";
import { join } from "node:path";
import { extractCoverArt } from "../src/media/cover_art.ts";
import { buildFfmpegArgs } from "../src/media/ffmpeg_args.ts";
import { runFfmpeg } from "../src/media/ffmpeg_runner.ts";
import { type EncodePlan, planTranscode } from "../src/media/plan.ts";
import { type MediaInfo, probe } from "../src/media/probe.ts";
import { verifyOutput } from "../src/media/verify.ts";
import { parsePolicyFile } from "../src/policy/policy.ts";
import type { TrackPolicy } from "../src/policy/track_types.ts";
import { planTracksInEncode } from "../src/tracks/in_encode.ts";
import { KEPT_FLAGS, planTracks, type TrackPlan } from "../src/tracks/plan.ts";
import { remuxTracks } from "../src/tracks/remux.ts";
import { verifyTracks } from "../src/tracks/verify.ts";
import { TEST_POLICY } from "./helpers/media_info.ts";
import { withTempDir } from "./helpers/temp.ts";
import {
  FILM,
  FILM_APPLIED,
  makeTrackClip,
  mkvmergeTracks,
  ORIGINAL_POLICY,
  type TrackClipOptions,
} from "./helpers/track_clips.ts";

/** Every temp directory this file makes starts with this. */
const TEMP_PREFIX = "vpo-tracks-";

/** FILM with a cover picture too. */
const FILM_COVERED: TrackClipOptions = { ...FILM, cover: true };

function tracksOf(yaml: string): TrackPolicy {
  const { tracks } = parsePolicyFile(yaml, "policy.yaml");
  assert.ok(tracks);
  return tracks;
}

interface Applied {
  source: MediaInfo;
  plan: TrackPlan;
  output: string;
  checkedWith: string[];
}

/** A copy of `path` beside it without its chapters. */
async function withoutChapters(path: string): Promise<string> {
  const bare = path.replace(/(\.\w+)$/, ".bare$1");
  const args = ["-v", "error", "-i", path, "-map", "0", "-c", "copy", "-map_chapters", "-1", bare];
  const strip = await new Deno.Command("ffmpeg", { args, stdin: "null" }).output();
  assert.ok(strip.success, new TextDecoder().decode(strip.stderr));
  return bare;
}

/** Plans `source` under `yaml`, copies it as planned into `dir`, and verifies the copy. */
async function apply(source: string, dir: string, yaml: string): Promise<Applied> {
  const info = await probe(source);
  const decision = planTracks(tracksOf(yaml), info);
  assert.equal(decision.action, "apply", decision.action === "apply" ? "" : decision.reason);
  const plan = (decision as { plan: TrackPlan }).plan;
  const output = join(dir, `out${plan.extension}`);
  const run = await remuxTracks(plan, source, output, {
    logPath: join(dir, "ffmpeg.log"),
    coverDir: join(dir, "covers"),
    durationSec: info.duration,
  });
  assert.ok(run.success, run.tail.join("\n"));
  const verdict = await verifyTracks(info, output, plan);
  assert.ok(verdict.ok, verdict.ok ? "" : verdict.reason);
  return { source: info, plan, output, checkedWith: verdict.checkedWith };
}

Deno.test("tracks: an original vpo policy is applied to a real MKV, as mkvmerge reads it", async () => {
  await withTempDir(async (dir) => {
    const source = await makeTrackClip(join(dir, "film.mkv"), FILM_COVERED);
    const applied = await apply(source, dir, ORIGINAL_POLICY);
    assert.deepEqual(applied.checkedWith, ["ffprobe", "mkvmerge"]);
    // eng main first (preference), jpn alternate kept by the filter, fre dropped.
    assert.deepEqual(await mkvmergeTracks(applied.output), FILM_APPLIED);
    assert.deepEqual(applied.plan.dropped.map((d) => [d.inputIndex, d.reason]), [
      [4, "language fre not in audio_filter.languages"],
      [6, "language fre not in subtitle_filter.languages"],
    ]);
    // The font and the cover stay attached.
    const info = await probe(applied.output);
    assert.deepEqual(info.streams.slice(-2).map((s) => [s.type, s.isCoverArt]), [
      ["attachment", false],
      ["video", true],
    ]);
    // Applied once, it complies: no second job the next night.
    assert.equal(planTracks(tracksOf(ORIGINAL_POLICY), info).action, "compliant");
  }, TEMP_PREFIX);
});

Deno.test("tracks: audio_filter minimum with keep_first keeps the first tracks", async () => {
  await withTempDir(async (dir) => {
    const source = await makeTrackClip(join(dir, "film.mkv"), FILM_COVERED);
    const applied = await apply(
      source,
      dir,
      "audio_filter:\n  languages: [spa]\n  minimum: 2\n  fallback: {mode: keep_first}\n",
    );
    const audio = (await probe(applied.output)).streams.filter((s) => s.type === "audio");
    // jpn and eng, the first two; eng is main audio (preference), so first and default.
    assert.deepEqual(audio.map((s) => [s.language, s.isDefault]), [["eng", true], ["jpn", false]]);
  }, TEMP_PREFIX);
});

Deno.test("tracks: MKV to MP4 converts SubRip to mov_text, drops the font, keeps names", async () => {
  await withTempDir(async (dir) => {
    const source = await makeTrackClip(join(dir, "film.mkv"), FILM_COVERED);
    const applied = await apply(
      source,
      dir,
      "container:\n  target: mp4\n  on_incompatible_codec: transcode\n",
    );
    assert.equal(applied.plan.format, "mp4");
    assert.deepEqual(applied.checkedWith, ["ffprobe"]);
    const info = await probe(applied.output);
    assert.deepEqual(
      info.streams.map((s) => [s.isCoverArt ? "cover" : s.type, s.codec, s.language, s.title]),
      [
        ["video", "h264", "und", undefined],
        ["audio", "aac", "eng", "English"],
        ["audio", "aac", "jpn", "Japanese"],
        ["audio", "aac", "fre", undefined],
        ["subtitle", "mov_text", "eng", "Full"],
        ["subtitle", "mov_text", "fre", undefined],
        ["subtitle", "mov_text", "eng", "Signs"],
        ["audio", "aac", "eng", "Director's Commentary"],
        ["cover", "png", undefined, undefined],
      ],
    );
    assert.ok(applied.plan.dropped.some((d) => d.reason === "mp4 has no attachments"));
    const again = planTracks(
      tracksOf("container: {target: mp4, on_incompatible_codec: transcode}"),
      info,
    );
    assert.equal(again.action, "compliant");
  }, TEMP_PREFIX);
});

Deno.test("tracks: MKV to MP4 with on_incompatible_codec drop leaves the subtitles out", async () => {
  await withTempDir(async (dir) => {
    const source = await makeTrackClip(join(dir, "film.mkv"), FILM);
    const applied = await apply(
      source,
      dir,
      "container: {target: mp4, on_incompatible_codec: drop}",
    );
    const kinds = (await probe(applied.output)).streams.map((s) => s.type);
    assert.deepEqual(kinds, ["video", "audio", "audio", "audio", "audio"]);
  }, TEMP_PREFIX);
});

Deno.test("tracks: MP4 to MKV turns mov_text into SubRip and handler names into names", async () => {
  await withTempDir(async (dir) => {
    const source = await makeTrackClip(join(dir, "film.mp4"), {
      audio: [{ language: "eng", title: "Commentary", default: true }, { language: "eng" }],
      subtitles: [{ language: "eng", title: "Full" }],
      cover: true,
    });
    const applied = await apply(source, dir, "container: {target: mkv}");
    assert.deepEqual(applied.checkedWith, ["ffprobe", "mkvmerge"]);
    assert.deepEqual(await mkvmergeTracks(applied.output), [
      ["video", "und", null, true, false],
      ["audio", "eng", null, true, false],
      ["subtitles", "eng", "Full", false, false],
      ["audio", "eng", "Commentary", false, false],
    ]);
    const info = await probe(applied.output);
    assert.equal(info.streams.find((s) => s.type === "subtitle")?.codec, "subrip");
    assert.equal(info.streams.filter((s) => s.isCoverArt).length, 1);
  }, TEMP_PREFIX);
});

/** Tracks flagged for whom they are: audio description, commentary, SDH subtitles. */
const FLAGGED: TrackClipOptions = {
  audio: [
    { language: "eng", title: "English", default: true },
    { language: "eng", title: "Audio Description", flags: ["visual_impaired"] },
    { language: "eng", title: "Commentary", flags: ["comment"] },
  ],
  subtitles: [{ language: "fre" }, { language: "eng", title: "SDH", flags: ["hearing_impaired"] }],
};

Deno.test("tracks: flags that say whom a track is for are kept, in MKV and into MP4", async () => {
  await withTempDir(async (dir) => {
    const source = await makeTrackClip(join(dir, "film.mkv"), FLAGGED);
    // MP4 adds flags of its own (captions beside hearing_impaired): only these three are read.
    const flagsOf = async (path: string) =>
      (await probe(path)).streams.filter((s) => s.type !== "video")
        .map((s) => (s.flags ?? []).filter((f) => KEPT_FLAGS.includes(f)));
    const policy = "subtitle_filter: {languages: [eng]}\n";
    const mkv = await apply(source, dir, policy);
    // In the default order: English, audio description, SDH, commentary (late, by its title).
    const kept = [["visual_impaired"], ["hearing_impaired"], ["comment"]];
    assert.deepEqual(await flagsOf(mkv.output), [[], ...kept]);
    const identity = JSON.parse(
      new TextDecoder().decode(
        (await new Deno.Command("mkvmerge", { args: ["-J", mkv.output], stdout: "piped" })
          .output()).stdout,
      ),
    );
    assert.deepEqual(
      identity.tracks.map((t: { properties: Record<string, unknown> }) =>
        ["flag_visual_impaired", "flag_commentary", "flag_hearing_impaired"]
          .filter((flag) => t.properties[flag] === true)
      ),
      [[], [], ["flag_visual_impaired"], ["flag_hearing_impaired"], ["flag_commentary"]],
    );
    const mp4 = await apply(
      source,
      dir,
      policy + "container: {target: mp4, on_incompatible_codec: transcode}\n",
    );
    assert.deepEqual(await flagsOf(mp4.output), [[], ...kept]);
    // The verifier holds the output to them.
    const unflagged = structuredClone(mkv.plan);
    unflagged.tracks[3].flags = [];
    assert.deepEqual(await verifyTracks(mkv.source, mkv.output, unflagged), {
      ok: false,
      reason: 'track 3 (from 0:5): flags is "hearing_impaired", planned "none"',
    });
  }, TEMP_PREFIX);
});

Deno.test("tracks: chapters are kept, in MKV and into MP4, and verified", async () => {
  await withTempDir(async (dir) => {
    const source = await makeTrackClip(join(dir, "film.mkv"), {
      ...FILM,
      duration: 3,
      chapters: ["Opening", "Middle", "Credits"],
    });
    const chaptersOf = async (path: string) => (await probe(path)).chapters;
    const want = [
      { start: 0, title: "Opening" },
      { start: 1, title: "Middle" },
      { start: 2, title: "Credits" },
    ];
    assert.deepEqual(await chaptersOf(source), want);
    const mkv = await apply(source, dir, ORIGINAL_POLICY);
    assert.deepEqual(await chaptersOf(mkv.output), want);
    const mp4 = await apply(source, dir, "container: {target: mp4, on_incompatible_codec: drop}\n");
    assert.deepEqual(await chaptersOf(mp4.output), want);
    // A copy that lost them is refused.
    const bare = await withoutChapters(mkv.output);
    assert.deepEqual(await verifyTracks(mkv.source, bare, mkv.plan), {
      ok: false,
      reason: "0 chapters, the source has 3",
    });
  }, TEMP_PREFIX);
});

Deno.test("tracks: Dolby Vision is kept into Matroska; a copy into MP4, which loses it, is refused", async () => {
  await withTempDir(async (dir) => {
    const clip = { audio: [{ language: "fre", default: true }, { language: "eng" }] };
    const source = await makeTrackClip(join(dir, "film.mp4"), { ...clip, dolbyVision: true });
    const info = await probe(source);
    assert.ok(info.streams[0].dolbyVision);
    // ffmpeg 5.1 writes no Dolby Vision record into MP4: even a copy within MP4 would drop it.
    assert.deepEqual(planTracks(tracksOf(ORIGINAL_POLICY), info), {
      action: "refuse",
      reason: "ffmpeg cannot write the Dolby Vision of 0:0 (video hevc) into mp4: a copy would " +
        "lose it (target mkv to keep it)",
    });
    const mkv = await apply(source, dir, "container: {target: mkv}\n");
    assert.ok((await probe(mkv.output)).streams[0].dolbyVision, "Matroska keeps the record");
    // Back towards MP4 under skip, the file keeps its container and gets the other changes.
    const back = planTracks(
      tracksOf(
        "container: {target: mp4, on_incompatible_codec: skip}\naudio_language_preference: [fre]\n",
      ),
      await probe(mkv.output),
    );
    assert.equal(back.action, "apply");
    const plan = (back as { plan: TrackPlan }).plan;
    assert.equal(plan.format, "matroska");
    assert.match(plan.notes.join("\n"), /^container kept: ffmpeg cannot write the Dolby Vision/m);
    // The verifier holds a copy to it: the same tracks without the record are refused.
    const plain = join(dir, "plain.mp4");
    const copied = await new Deno.Command("ffmpeg", {
      args: ["-v", "error", "-i", source, "-map", "0", "-c", "copy", "-tag:v", "hvc1", plain],
    }).output();
    assert.ok(copied.success);
    assert.equal((await probe(plain)).streams[0].dolbyVision, false, "ffmpeg dropped the record");
    const stripped = await apply(plain, dir, "container: {target: mkv}\n");
    assert.deepEqual(await verifyTracks(info, stripped.output, mkv.plan), {
      ok: false,
      reason: "track 0 (from 0:0): Dolby Vision is false, planned true",
    });
  }, TEMP_PREFIX);
});

Deno.test("tracks: a file already as the policy asks is left alone", async () => {
  await withTempDir(async (dir) => {
    const source = await makeTrackClip(join(dir, "film.mkv"), {
      audio: [{ language: "eng", default: true }, { language: "jpn" }],
      subtitles: [{ language: "eng" }],
      font: true,
    });
    const decision = planTracks(
      tracksOf(ORIGINAL_POLICY.replace("true\n  clear", "false\n  clear")),
      await probe(source),
    );
    assert.deepEqual(decision, {
      action: "compliant",
      reason: "tracks already comply (1 video, 2 audio, 1 subtitle)",
    });
  }, TEMP_PREFIX);
});

Deno.test("tracks: the verifier refuses an output that is not the plan", async () => {
  await withTempDir(async (dir) => {
    // Long enough that a cut copy is short by more than the 1 s tolerance.
    const source = await makeTrackClip(join(dir, "film.mkv"), { ...FILM_COVERED, duration: 4 });
    const applied = await apply(source, dir, ORIGINAL_POLICY);
    // The source itself is not what was planned: other tracks, other order.
    const wrong = await verifyTracks(applied.source, source, applied.plan);
    assert.deepEqual(wrong, {
      ok: false,
      reason: "10 tracks (video audio audio audio audio subtitle subtitle subtitle attachment " +
        "cover), planned 8 (video audio audio subtitle subtitle audio attachment cover)",
    });
    // A flag flipped in the plan is caught.
    const flipped = structuredClone(applied.plan);
    flipped.tracks[2].default = true;
    const verdict = await verifyTracks(applied.source, applied.output, flipped);
    assert.deepEqual(verdict, {
      ok: false,
      reason: "track 2 (from 0:1): default flag is false, planned true",
    });
    // mkvmerge is asked too: a reader that sees a flag differently fails the output.
    const liar = join(dir, "mkvmerge");
    await Deno.writeTextFile(
      liar,
      `#!/bin/sh\nexec mkvmerge "$@" | sed 's/"forced_track": true/"forced_track": false/'\n`,
    );
    await Deno.chmod(liar, 0o755);
    assert.deepEqual(
      await verifyTracks(applied.source, applied.output, applied.plan, { mkvmerge: liar }),
      {
        ok: false,
        reason: "mkvmerge: track 4: forced flag is false, planned true",
      },
    );
    // Each thing planned is checked by ffprobe's reading alone (mkvmerge left out)...
    const noMkvmerge = { mkvmerge: join(dir, "no-mkvmerge") };
    const planned = (change: (tracks: TrackPlan["tracks"]) => void) => {
      const plan = structuredClone(applied.plan);
      change(plan.tracks);
      return plan;
    };
    const byFfprobe: [TrackPlan, string][] = [
      [
        planned((t) => t[1].language = "fre"),
        'track 1 (from 0:2): language is "eng", planned "fra"',
      ],
      [
        planned((t) => t[1].title = "Main"),
        'track 1 (from 0:2): name is "English", planned "Main"',
      ],
      [
        planned((t) => t[4].forced = false),
        "track 4 (from 0:5): forced flag is true, planned false",
      ],
      [planned((t) => t[1].codec = "ac3"), "track 1 (from 0:2): is aac, planned ac3"],
      [
        planned((t) => t.splice(1, 3, t[3], t[2], t[1])),
        "track 1 (from 0:7): is audio, planned subtitle",
      ],
      [
        planned((t) => t.splice(6, 1)),
        "8 tracks (video audio audio subtitle subtitle audio attachment cover), planned 7 " +
        "(video audio audio subtitle subtitle audio cover)",
      ],
    ];
    for (const [plan, reason] of byFfprobe) {
      assert.deepEqual(await verifyTracks(applied.source, applied.output, plan, noMkvmerge), {
        ok: false,
        reason,
      });
    }
    // ... and by mkvmerge's alone: a reader that sees one thing otherwise fails the output.
    const byMkvmerge: [string, string][] = [
      ['"language": "jpn"/"language": "fre"', 'track 2: language is "fra", planned "jpn"'],
      [
        '"track_name": "English"/"track_name": "Main"',
        'track 1: name is "Main", planned "English"',
      ],
      [
        '"flag_commentary": true/"flag_commentary": false',
        'track 5: flags is "none", planned "comment"',
      ],
      ['"attachments": \\[/"attachments": [{},', "3 attachments, planned 2"],
    ];
    for (const [lie, reason] of byMkvmerge) {
      const reader = join(dir, "mkvmerge-lies");
      await Deno.writeTextFile(reader, `#!/bin/sh\nexec mkvmerge "$@" | sed 's/${lie}/'\n`);
      await Deno.chmod(reader, 0o755);
      assert.deepEqual(
        await verifyTracks(applied.source, applied.output, applied.plan, { mkvmerge: reader }),
        { ok: false, reason: `mkvmerge: ${reason}` },
      );
    }
    // The header's length is checked on its own too.
    const longer = { ...applied.source, duration: 10 };
    assert.match(
      (await verifyTracks(longer, applied.output, applied.plan) as { reason: string }).reason,
      /^duration 4\.\d+ s differs from the source's 10\.00 s/,
    );
    // A copy cut short is caught by its length.
    const cut = join(dir, "cut.mkv");
    await copyFile(applied.output, cut);
    const bytes = await Deno.readFile(cut);
    await Deno.writeFile(cut, bytes.subarray(0, Math.floor(bytes.length / 2)));
    const short = await verifyTracks(applied.source, cut, applied.plan);
    assert.equal(short.ok, false);
    assert.match((short as { reason: string }).reason, /^content .* differs from the source's/);
  }, TEMP_PREFIX);
});

Deno.test("tracks: a transcode carries out the track plan in the same pass", async () => {
  await withTempDir(async (dir) => {
    const source = await makeTrackClip(join(dir, "film.mkv"), {
      ...FILM_COVERED,
      chapters: ["One", "Two"],
    });
    const info = await probe(source);
    const encode = planTranscode({ ...TEST_POLICY, container: "mp4" }, info);
    assert.equal(encode.action, "transcode");
    const merged = planTracksInEncode(tracksOf(ORIGINAL_POLICY), info, encode as EncodePlan);
    assert.equal(merged.action, "labelled");
    const { plan, tracks } = merged as { plan: EncodePlan; tracks: TrackPlan };
    const output = join(dir, "out.mp4");
    const coverArtDir = join(dir, "covers");
    await extractCoverArt(plan, source, coverArtDir);
    const run = await runFfmpeg({
      args: buildFfmpegArgs(plan, source, output, { coverArtDir }),
      logPath: join(dir, "ffmpeg.log"),
    });
    assert.ok(run.success, run.tail.join("\n"));
    const encoded = await verifyOutput(info, output, plan);
    assert.ok(encoded.ok, encoded.ok ? "" : encoded.reason);
    // The encode's own check holds it to the source's chapters too.
    const bare = await withoutChapters(output);
    assert.deepEqual(await verifyOutput(info, bare, plan), {
      ok: false,
      reason: "0 chapters, the source has 2",
    });
    const labelled = await verifyTracks(info, output, tracks);
    assert.ok(labelled.ok, labelled.ok ? "" : labelled.reason);
    // MP4 keeps chapters in a text track of its own, a data stream.
    const streams = (await probe(output)).streams.filter((s) => s.type !== "data");
    assert.deepEqual(
      streams.map((s) => [
        s.isCoverArt ? "cover" : s.type,
        s.codec,
        s.language,
        s.isDefault,
        s.flags?.includes("comment") ?? false,
      ]),
      [
        ["video", "hevc", "und", true, false],
        ["audio", "aac", "eng", true, false],
        ["audio", "aac", "jpn", false, false],
        ["subtitle", "mov_text", "eng", true, false],
        ["subtitle", "mov_text", "eng", false, false],
        ["audio", "aac", "eng", false, true],
        ["cover", "png", undefined, false, false],
      ],
    );
  }, TEMP_PREFIX);
});
