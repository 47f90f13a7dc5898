import assert from "node:assert/strict";
import type { MediaInfo, StreamInfo } from "../../src/media/probe.ts";
import { defaultTrackPolicy } from "../../src/policy/track_policy.ts";
import type { TrackPolicy } from "../../src/policy/track_types.ts";
import { hasDispositions } from "../../src/media/probe.ts";
import { planTracks, type TrackDecision, type TrackPlan } from "../../src/tracks/plan.ts";
import { media, stream, video } from "../helpers/media_info.ts";

/** A stream with its flags (not default, not forced unless `extra` says). */
function track(
  index: number,
  type: StreamInfo["type"],
  codec: string,
  extra: Partial<StreamInfo> = {},
): StreamInfo {
  return stream(index, type, codec, { isDefault: false, isForced: false, ...extra });
}

/** A film: default h264 video, then `others` (indexes from 1). */
function film(others: StreamInfo[], overrides: Partial<MediaInfo> = {}): MediaInfo {
  return media([video({ isDefault: true, isForced: false }), ...others], overrides);
}

const MP4 = { path: "/library/film.mp4", formatName: "mov,mp4,m4a,3gp,3g2,mj2" };

function policy(changes: Partial<TrackPolicy> = {}): TrackPolicy {
  return { ...defaultTrackPolicy(), ...changes };
}

function applied(decision: TrackDecision): TrackPlan {
  assert.equal(decision.action, "apply", decision.action === "apply" ? "" : decision.reason);
  return (decision as { plan: TrackPlan }).plan;
}

/** The output as [source index, default, forced] in order. */
const layout = (plan: TrackPlan) => plan.tracks.map((t) => [t.inputIndex, t.default, t.forced]);
const kept = (plan: TrackPlan) => plan.tracks.map((t) => t.inputIndex);

Deno.test("track plan: a file already as the policy asks is compliant", () => {
  const decision = planTracks(
    policy(),
    film([
      track(1, "audio", "ac3", { language: "eng", isDefault: true }),
      track(2, "audio", "ac3", { language: "fre" }),
      track(3, "subtitle", "subrip", { language: "eng" }),
    ]),
  );
  assert.deepEqual(decision, {
    action: "compliant",
    reason: "tracks already comply (1 video, 2 audio, 1 subtitle)",
  });
});

Deno.test("track plan: the preferred audio goes first and becomes the only default", () => {
  const plan = applied(planTracks(
    policy({ audioLanguagePreference: ["jpn", "eng"] }),
    film([
      track(1, "audio", "ac3", { language: "eng", isDefault: true }),
      track(2, "audio", "ac3", { language: "fre" }),
      track(3, "audio", "aac", { language: "jpn" }),
    ]),
  ));
  // jpn and eng are main audio (by preference), fre alternate.
  assert.deepEqual(layout(plan), [[0, true, false], [3, true, false], [1, false, false], [
    2,
    false,
    false,
  ]]);
  assert.deepEqual(plan.changes, [
    "order 0:0 0:3 0:1 0:2",
    "default on: audio 0:3 (jpn)",
    "default off: audio 0:1 (eng)",
  ]);
  assert.equal(plan.summary, "reordered, default flags");
  assert.deepEqual(plan.dropped, []);
});

Deno.test("track plan: languages match across ISO forms (ger, deu, de)", () => {
  const plan = applied(planTracks(
    policy({ audioLanguagePreference: ["de"] }),
    film([
      track(1, "audio", "ac3", { language: "eng", isDefault: true }),
      track(2, "audio", "ac3", { language: "ger" }),
    ]),
  ));
  assert.deepEqual(layout(plan), [[0, true, false], [2, true, false], [1, false, false]]);
});

Deno.test("track plan: commentary is recognised by title, ordered late, never default", () => {
  const plan = applied(planTracks(
    policy(),
    film([
      track(1, "audio", "ac3", {
        language: "eng",
        title: "Director's Commentary",
        isDefault: true,
      }),
      track(2, "audio", "ac3", { language: "eng", title: "English 5.1" }),
      track(3, "subtitle", "subrip", { language: "eng", title: "Commentary" }),
      track(4, "subtitle", "subrip", { language: "eng" }),
    ]),
  ));
  // video, audio_main, subtitle_main, audio_commentary, subtitle_commentary
  assert.deepEqual(kept(plan), [0, 2, 4, 1, 3]);
  assert.deepEqual(plan.tracks.map((t) => t.role), [
    "video",
    "audio_main",
    "subtitle_main",
    "audio_commentary",
    "subtitle_commentary",
  ]);
  assert.equal(plan.tracks.find((t) => t.inputIndex === 2)?.default, true);
  assert.equal(plan.tracks.find((t) => t.inputIndex === 1)?.default, false);
});

Deno.test("track plan: an audio file of commentary only still gets a default", () => {
  const plan = applied(planTracks(
    policy(),
    film([track(1, "audio", "aac", { language: "eng", title: "commentary" })]),
  ));
  assert.deepEqual(layout(plan), [[0, true, false], [1, true, false]]);
});

Deno.test("track plan: track_order puts forced subtitles before the others", () => {
  const plan = applied(planTracks(
    policy({ trackOrder: ["video", "subtitle_forced", "subtitle_main", "audio_main"] }),
    film([
      track(1, "audio", "aac", { language: "eng", isDefault: true }),
      track(2, "subtitle", "subrip", { language: "eng" }),
      track(3, "subtitle", "subrip", { language: "eng", isForced: true }),
    ]),
  ));
  // Classes not listed (none here) would come last; audio_main is listed last.
  assert.deepEqual(kept(plan), [0, 3, 2, 1]);
  assert.equal(plan.tracks[1].forced, true);
});

Deno.test("track plan: subtitle default only on a language asked for", () => {
  const flags = { ...defaultTrackPolicy().defaultFlags, setPreferredSubtitleDefault: true };
  const streams = [
    track(1, "audio", "aac", { language: "jpn", isDefault: true }),
    track(2, "subtitle", "subrip", { language: "spa", isDefault: true }),
    track(3, "subtitle", "subrip", { language: "eng" }),
  ];
  const plan = applied(planTracks(policy({ defaultFlags: flags }), film(streams)));
  assert.deepEqual(layout(plan).slice(2), [[3, true, false], [2, false, false]]);
  // With no subtitle in a preferred language, none is turned on (and others are cleared).
  const none = applied(planTracks(
    policy({ defaultFlags: flags, subtitleLanguagePreference: ["fre"] }),
    film(streams),
  ));
  assert.deepEqual(none.tracks.filter((t) => t.type === "subtitle").map((t) => t.default), [
    false,
    false,
  ]);
});

Deno.test("track plan: clear_other_defaults false leaves other flags as they are", () => {
  const flags = { ...defaultTrackPolicy().defaultFlags, clearOtherDefaults: false };
  const plan = applied(planTracks(
    policy({ defaultFlags: flags, audioLanguagePreference: ["fre"] }),
    film([
      track(1, "audio", "ac3", { language: "eng", isDefault: true }),
      track(2, "audio", "ac3", { language: "fre" }),
      track(3, "subtitle", "subrip", { language: "eng", isDefault: true }),
    ]),
  ));
  assert.deepEqual(layout(plan), [[0, true, false], [2, true, false], [1, true, false], [
    3,
    true,
    false,
  ]]);
});

const THREE_LANGUAGES = [
  track(1, "audio", "ac3", { language: "jpn", isDefault: true }),
  track(2, "audio", "ac3", { language: "fre" }),
  track(3, "audio", "aac", { language: "jpn", title: "Commentary" }),
  track(4, "audio", "aac", { language: "spa" }),
];

Deno.test("track plan: audio_filter drops other languages and says why", () => {
  const plan = applied(planTracks(
    policy({
      audioLanguagePreference: ["jpn"],
      audioFilter: { languages: ["jpn"], minimum: 1, fallback: "error" },
    }),
    film(THREE_LANGUAGES),
  ));
  assert.deepEqual(kept(plan), [0, 1, 3]);
  assert.deepEqual(plan.dropped, [
    { inputIndex: 2, type: "audio", reason: "language fre not in audio_filter.languages" },
    { inputIndex: 4, type: "audio", reason: "language spa not in audio_filter.languages" },
  ]);
  assert.equal(plan.summary, "audio 4 -> 2");
});

Deno.test("track plan: audio_filter fallbacks when too few tracks are in its languages", () => {
  const filter = (
    minimum: number,
    fallback: "error" | "keep_all" | "keep_first" | "content_language",
  ) =>
    planTracks(
      policy({ audioFilter: { languages: ["eng"], minimum, fallback } }),
      film(THREE_LANGUAGES),
    );
  assert.deepEqual(filter(1, "error"), {
    action: "refuse",
    reason:
      "audio_filter keeps 0 of 4 audio tracks (jpn, fre, jpn, spa; minimum 1, fallback error)",
  });
  assert.deepEqual(kept(applied(filter(1, "keep_all"))), [0, 1, 2, 4, 3]);
  // keep_first: the first tracks in source order, up to the minimum.
  assert.deepEqual(kept(applied(filter(2, "keep_first"))), [0, 1, 2]);
  // content_language: the first audio track's language (both jpn tracks)...
  assert.deepEqual(kept(applied(filter(1, "content_language"))), [0, 1, 3]);
  // ... topped up in source order when that is still fewer than the minimum.
  assert.deepEqual(kept(applied(filter(3, "content_language"))), [0, 1, 2, 3]);
});

Deno.test("track plan: a file with fewer audio tracks than the minimum keeps them all", () => {
  const decision = planTracks(
    policy({ audioFilter: { languages: ["eng"], minimum: 2, fallback: "error" } }),
    film([track(1, "audio", "ac3", { language: "eng", isDefault: true })]),
  );
  assert.equal(decision.action, "compliant");
});

Deno.test("track plan: subtitle_filter by language, forced kept where asked, or all removed", () => {
  const streams = [
    track(1, "audio", "aac", { language: "eng", isDefault: true }),
    track(2, "subtitle", "subrip", { language: "eng" }),
    track(3, "subtitle", "subrip", { language: "fre" }),
    track(4, "subtitle", "subrip", { language: "fre", isForced: true }),
  ];
  const filter = (preserveForced: boolean, removeAll = false) =>
    applied(planTracks(
      policy({ subtitleFilter: { languages: ["eng"], preserveForced, removeAll } }),
      film(streams),
    ));
  assert.deepEqual(kept(filter(false)), [0, 1, 2]);
  assert.deepEqual(kept(filter(true)), [0, 1, 2, 4]);
  assert.deepEqual(kept(filter(true, true)), [0, 1]);
  assert.equal(filter(true, true).dropped[0].reason, "subtitle_filter.remove_all");
});

Deno.test("track plan: attachment_filter removes fonts and cover art", () => {
  const plan = applied(planTracks(
    policy({ removeAttachments: true }),
    film([
      track(1, "audio", "aac", { language: "eng", isDefault: true }),
      track(2, "attachment", "ttf", { fileName: "a.ttf" }),
      track(3, "video", "png", { isCoverArt: true, fileName: "cover.png" }),
    ]),
  ));
  assert.deepEqual(kept(plan), [0, 1]);
  assert.equal(plan.summary, "attachment 1 -> 0");
});

Deno.test("track plan: Matroska keeps attachments after the tracks, whatever track_order says", () => {
  const decision = planTracks(
    policy({ trackOrder: ["attachment", "video", "audio_main"] }),
    film([
      track(1, "audio", "aac", { language: "eng", isDefault: true }),
      track(2, "attachment", "ttf"),
      track(3, "video", "png", { isCoverArt: true }),
    ]),
  );
  assert.equal(decision.action, "compliant");
});

Deno.test("track plan: a data stream alone changes nothing; dropped when remuxing", () => {
  const streams = [
    track(1, "audio", "aac", { language: "eng", isDefault: true }),
    track(2, "data", "bin_data"),
  ];
  assert.equal(planTracks(policy(), film(streams, MP4)).action, "compliant");
  const plan = applied(planTracks(
    policy({ audioLanguagePreference: ["fre"] }),
    film([
      ...streams,
      track(3, "audio", "aac", { language: "fre" }),
    ], MP4),
  ));
  assert.deepEqual(plan.dropped, [{ inputIndex: 2, type: "data", reason: "data stream" }]);
  assert.ok(!plan.changes.some((c) => c.includes("data")), plan.changes.join("\n"));
  // Not a change the policy asked for, but said: a timecode or telemetry track is lost.
  assert.deepEqual(plan.notes.filter((n) => n.includes("data")), [
    "data stream 0:2 (bin_data) dropped",
  ]);
  // An MP4's chapter text track is written again from the chapters: nothing is lost.
  const chaptered = applied(planTracks(
    policy({ audioLanguagePreference: ["fre"] }),
    film([...streams, track(3, "audio", "aac", { language: "fre" })], {
      ...MP4,
      chapters: [{ start: 0, title: "One" }],
    }),
  ));
  assert.deepEqual(chaptered.notes.filter((n) => n.includes("data")), []);
});

const MKV_FOR_MP4 = [
  track(1, "audio", "ac3", { language: "eng", isDefault: true }),
  track(2, "subtitle", "subrip", { language: "eng", title: "Full" }),
  track(3, "subtitle", "hdmv_pgs_subtitle", { language: "eng" }),
  track(4, "attachment", "ttf"),
];

Deno.test("track plan: MKV to MP4 converts text subtitles, drops image ones and fonts", () => {
  const plan = applied(planTracks(
    policy({ container: { target: "mp4", onIncompatibleCodec: "transcode" } }),
    film(MKV_FOR_MP4),
  ));
  assert.equal(plan.format, "mp4");
  assert.equal(plan.extension, ".mp4");
  assert.deepEqual(kept(plan), [0, 1, 2]);
  const subtitle = plan.tracks[2];
  assert.deepEqual([subtitle.codec, subtitle.convert, subtitle.title], ["mov_text", true, "Full"]);
  assert.deepEqual(plan.dropped.map((d) => d.reason), [
    "mp4 cannot hold hdmv_pgs_subtitle subtitles (image subtitles cannot be converted)",
    "mp4 has no attachments",
  ]);
  // MP4 marks one subtitle default whatever the flags say: the plan knows it.
  assert.equal(subtitle.default, true);
  assert.ok(plan.notes.some((n) => n.startsWith("mp4 marks the first subtitle track")));
  assert.ok(plan.changes.includes("container matroska -> mp4 (.mp4)"), plan.changes.join("\n"));
  // The conversion is said once, as a change; an ASS subtitle's lost styling is a note.
  assert.deepEqual(plan.changes.filter((c) => c.startsWith("convert")), [
    'convert subtitle 0:2 (eng "Full"): subrip -> mov_text',
  ]);
  assert.ok(!plan.notes.some((n) => n.includes("mov_text")), plan.notes.join("\n"));
  const styled = applied(planTracks(
    policy({ container: { target: "mp4", onIncompatibleCodec: "transcode" } }),
    film([track(1, "audio", "aac", { isDefault: true }), track(2, "subtitle", "ass")]),
  ));
  assert.ok(styled.notes.includes("subtitle 0:2 loses its styling in mov_text"), `${styled.notes}`);
});

Deno.test("track plan: MKV to MP4 under each on_incompatible_codec", () => {
  const under = (mode: "error" | "skip" | "drop") =>
    planTracks(
      policy({ container: { target: "mp4", onIncompatibleCodec: mode } }),
      film(MKV_FOR_MP4),
    );
  assert.deepEqual(under("error"), {
    action: "refuse",
    reason: "mp4 cannot hold 0:2 (subtitle subrip), 0:3 (subtitle hdmv_pgs_subtitle) " +
      "(container.on_incompatible_codec: error)",
  });
  const dropped = applied(under("drop"));
  assert.deepEqual(kept(dropped), [0, 1]);
  assert.equal(
    dropped.dropped[0].reason,
    "mp4 cannot hold subrip subtitles (container.on_incompatible_codec: drop)",
  );
  // skip: the container stays; nothing else needed changing, so the file complies.
  assert.equal(under("skip").action, "compliant");
});

Deno.test("track plan: audio MP4 cannot hold is never re-encoded: refused", () => {
  const decision = planTracks(
    policy({ container: { target: "mp4", onIncompatibleCodec: "transcode" } }),
    film([track(1, "audio", "vorbis", { language: "eng", isDefault: true })]),
  );
  assert.equal(decision.action, "refuse");
  assert.match((decision as { reason: string }).reason, /0:1 \(audio vorbis\) without re-encoding/);
});

Deno.test("track plan: MP4 to MKV turns mov_text into SubRip and reattaches the cover", () => {
  const plan = applied(planTracks(
    policy({ container: { target: "mkv", onIncompatibleCodec: "error" } }),
    film([
      track(1, "audio", "aac", { language: "eng", isDefault: true }),
      track(2, "subtitle", "mov_text", { language: "eng", isDefault: true }),
      track(3, "video", "mjpeg", { isCoverArt: true }),
    ], MP4),
  ));
  assert.equal(plan.format, "matroska");
  assert.deepEqual(plan.tracks.map((t) => [t.inputIndex, t.codec, t.convert]), [
    [0, "h264", false],
    [1, "aac", false],
    [2, "subrip", true],
    [3, "mjpeg", false],
  ]);
  assert.deepEqual(plan.tracks[3].cover, {
    type: "cover",
    inputIndex: 3,
    action: "reattach",
    codec: "mjpeg",
    fileName: "cover.jpg",
    mimeType: "image/jpeg",
  });
  // The subtitle's default goes (clear_other_defaults), which is also a change.
  assert.equal(plan.tracks[2].default, false);
  assert.ok(plan.changes.includes("container mp4 -> matroska (.mkv)"), plan.changes.join("\n"));
  assert.match(plan.summary, /, mp4 -> matroska$/);
});

Deno.test("track plan: an MP4 that MP4 itself marked default is compliant (no nightly loop)", () => {
  // As ffmpeg writes MP4: one subtitle enabled although the policy wants none default.
  const decision = planTracks(
    policy(),
    film([
      track(1, "audio", "aac", { language: "eng", isDefault: true }),
      track(2, "subtitle", "mov_text", { language: "eng", isDefault: true }),
    ], MP4),
  );
  assert.equal(decision.action, "compliant");
});

Deno.test("track plan: unknown duration is refused; probes without flags are told apart", () => {
  const streams = [track(1, "audio", "aac", { isDefault: true })];
  assert.deepEqual(planTracks(policy(), film(streams, { duration: 0 })), {
    action: "refuse",
    reason: "unknown duration (the output could not be verified)",
  });
  assert.ok(hasDispositions(film(streams)));
  assert.ok(!hasDispositions(media([video(), stream(1, "audio", "aac")])));
});

Deno.test("track plan: another container (AVI) is rewritten as MKV only when tracks change", () => {
  const avi = { path: "/library/film.avi", formatName: "avi" };
  const streams = [
    track(1, "audio", "mp3", { language: "eng", isDefault: true }),
    track(2, "audio", "mp3", { language: "fre" }),
  ];
  assert.equal(planTracks(policy(), film(streams, avi)).action, "compliant");
  const plan = applied(
    planTracks(policy({ audioLanguagePreference: ["fre"] }), film(streams, avi)),
  );
  assert.deepEqual([plan.format, plan.extension], ["matroska", ".mkv"]);
  assert.deepEqual(plan.notes, ["container avi (.avi) is written as mkv"]);
  assert.ok(!plan.changes.some((c) => c.startsWith("container")), plan.changes.join("\n"));
  // Asked for, the conversion is a change of its own.
  const asked = policy({ container: { target: "mkv", onIncompatibleCodec: "error" } });
  assert.ok(
    applied(planTracks(asked, film(streams, avi))).changes.includes(
      "container avi -> matroska (.mkv)",
    ),
  );
});
