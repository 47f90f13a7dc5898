import assert from "node:assert/strict";
import { loadPolicyFile, parsePolicy, parsePolicyFile } from "../../src/policy/policy.ts";
import { checkTrackPolicySnapshot } from "../../src/policy/snapshot.ts";
import { defaultTrackPolicy } from "../../src/policy/track_policy.ts";
import { languageKey, sameLanguage } from "../../src/util/languages.ts";
import { yamlFileLoader } from "../helpers/yaml_file.ts";

const { loadText, errorFor } = yamlFileLoader("policy.yaml", loadPolicyFile, "vpo-track-policy-");

Deno.test("track policy: a transcode-only policy has none, so it never touches tracks", async () => {
  const file = await loadText("transcode:\n  target_video_codec: hevc\n");
  assert.equal(file.tracks, null);
  assert.equal(file.transcode?.targetVideoCodec, "hevc");
});

Deno.test("track policy: one key brings the original vpo's defaults for the others", async () => {
  const file = await loadText("audio_filter:\n  languages: [jpn]\n");
  assert.equal(file.transcode, null);
  assert.deepEqual(file.tracks, {
    ...defaultTrackPolicy(),
    audioFilter: { languages: ["jpn"], minimum: 1, fallback: "error" },
  });
  assert.deepEqual(defaultTrackPolicy(), {
    trackOrder: [
      "video",
      "audio_main",
      "audio_alternate",
      "subtitle_main",
      "subtitle_forced",
      "audio_commentary",
      "subtitle_commentary",
      "attachment",
    ],
    audioLanguagePreference: ["eng", "und"],
    subtitleLanguagePreference: ["eng", "und"],
    commentaryPatterns: ["commentary", "director"],
    defaultFlags: {
      setFirstVideoDefault: true,
      setPreferredAudioDefault: true,
      setPreferredSubtitleDefault: false,
      clearOtherDefaults: true,
    },
    audioFilter: null,
    subtitleFilter: null,
    removeAttachments: false,
    container: null,
  });
});

Deno.test("track policy: every key of an original vpo policy (schema 2 and 3) is read", () => {
  const text = `schema_version: 3
track_order: [video, audio_main, subtitle_forced, subtitle_main, audio_alternate]
audio_language_preference: [JPN, en]
subtitle_language_preference: [eng]
commentary_patterns: ['\\bcommentary\\b', 'director.?s?\\s+cut']
default_flags:
  set_first_video_default: false
  set_preferred_audio_default: true
  set_preferred_subtitle_default: true
  clear_other_defaults: false
audio_filter:
  languages: [jpn, eng]
  minimum: 2
  fallback:
    mode: content_language
subtitle_filter:
  languages: [eng]
  preserve_forced: true
  remove_all: false
attachment_filter:
  remove_all: true
container:
  target: MP4
  on_incompatible_codec: transcode
transcode:
  target_video_codec: hevc
`;
  const warnings: string[] = [];
  const file = parsePolicyFile(text, "v3.yaml", { warn: (w) => warnings.push(w) });
  assert.deepEqual(warnings, []);
  assert.deepEqual(file.tracks, {
    trackOrder: ["video", "audio_main", "subtitle_forced", "subtitle_main", "audio_alternate"],
    audioLanguagePreference: ["jpn", "en"],
    subtitleLanguagePreference: ["eng"],
    commentaryPatterns: ["\\bcommentary\\b", "director.?s?\\s+cut"],
    defaultFlags: {
      setFirstVideoDefault: false,
      setPreferredAudioDefault: true,
      setPreferredSubtitleDefault: true,
      clearOtherDefaults: false,
    },
    audioFilter: { languages: ["jpn", "eng"], minimum: 2, fallback: "content_language" },
    subtitleFilter: { languages: ["eng"], preserveForced: true, removeAll: false },
    removeAttachments: true,
    container: { target: "mp4", onIncompatibleCodec: "transcode" },
  });
  assert.equal(file.transcode?.schemaVersion, 3);
  // The transcode-only reader still reads such a file, for its transcode part.
  assert.equal(parsePolicy(text, "v3.yaml").targetVideoCodec, "hevc");
});

Deno.test("track policy: an empty subtitle language list keeps none but forced ones", async () => {
  const file = await loadText("subtitle_filter:\n  languages: []\n  preserve_forced: true\n");
  assert.deepEqual(file.tracks?.subtitleFilter, {
    languages: [],
    preserveForced: true,
    removeAll: false,
  });
});

// Each bad file with the exact message it must produce (the temp path shown as policy.yaml).
const BAD: [string, string, string][] = [
  [
    "neither transcode nor tracks",
    "schema_version: 2\n",
    "policy.yaml:1:1: transcode: missing required section (it must set at least " +
    "target_video_codec), or track keys (audio_filter, track_order, ...: see docs/track-policy.md)",
  ],
  [
    "unknown track class",
    "track_order: [video, audio_mian]\n",
    `policy.yaml:1:22: track_order[1]: "audio_mian" is not a track class (did you mean ` +
    `"audio_main"?)`,
  ],
  [
    "a track class twice",
    "track_order: [video, video]\n",
    `policy.yaml:1:14: track_order: "video" is listed twice`,
  ],
  [
    "empty track order",
    "track_order: []\n",
    "policy.yaml:1:14: track_order: must not be empty (list the track classes)",
  ],
  [
    "language code that is not one",
    "audio_language_preference: [english]\n",
    `policy.yaml:1:29: audio_language_preference[0]: "english" is not a language code ` +
    "(ISO 639-2, such as eng, jpn, und)",
  ],
  [
    "unknown two-letter code",
    "subtitle_language_preference: [eng, xx]\n",
    `policy.yaml:1:37: subtitle_language_preference[1]: "xx" is not an ISO 639-1 code ` +
    "(write the ISO 639-2 code, such as eng)",
  ],
  [
    "empty preference",
    "audio_language_preference: []\n",
    "policy.yaml:1:28: audio_language_preference: must not be empty (list at least one " +
    "language, e.g. [eng, und])",
  ],
  [
    "bad regular expression",
    "commentary_patterns: ['(director']\n",
    "policy.yaml:1:23: commentary_patterns[0]: not a valid regular expression: Invalid regular " +
    "expression: /(director/i: Unterminated group",
  ],
  [
    "default flag that is not a boolean",
    "default_flags:\n  clear_other_defaults: yes\n",
    `policy.yaml:2:25: default_flags.clear_other_defaults: expected true or false, got "yes"`,
  ],
  [
    "misspelt default flag",
    "default_flags:\n  set_prefered_audio_default: true\n",
    "policy.yaml:2:3: default_flags.set_prefered_audio_default: unknown key (did you mean " +
    `"set_preferred_audio_default"?)`,
  ],
  [
    "audio filter without languages",
    "audio_filter:\n  minimum: 1\n",
    "policy.yaml:2:3: audio_filter.languages: missing required key (the languages whose audio " +
    "tracks are kept)",
  ],
  [
    "audio filter minimum 0",
    "audio_filter:\n  languages: [eng]\n  minimum: 0\n",
    "policy.yaml:3:12: audio_filter.minimum: expected an integer from 1 to 64, got 0",
  ],
  [
    "unknown fallback mode",
    "audio_filter:\n  languages: [eng]\n  fallback:\n    mode: keep_frist\n",
    `policy.yaml:4:11: audio_filter.fallback.mode: "keep_frist" is not a fallback mode (did you ` +
    `mean "keep_first"?)`,
  ],
  [
    "fallback without mode",
    "audio_filter:\n  languages: [eng]\n  fallback: {}\n",
    "policy.yaml:3:13: audio_filter.fallback.mode: missing required key (content_language, " +
    "keep_all, keep_first, error)",
  ],
  [
    "subtitle filter that is a list",
    "subtitle_filter: [eng]\n",
    "policy.yaml:1:18: subtitle_filter: expected a mapping, got a list",
  ],
  [
    "container without target",
    "container:\n  on_incompatible_codec: skip\n",
    "policy.yaml:2:3: container.target: missing required key (mkv or mp4)",
  ],
  [
    "container target avi",
    "container:\n  target: avi\n",
    `policy.yaml:2:11: container.target: "avi" is not a container (expected one of mkv, mp4)`,
  ],
  [
    "container disagreeing with the transcode's",
    "container: {target: mkv}\ntranscode:\n  target_video_codec: hevc\n  container: mp4\n",
    "policy.yaml:4:14: transcode.container: mp4 disagrees with container.target mkv " +
    "(set one of them)",
  ],
];

for (const [name, text, message] of BAD) {
  Deno.test(`bad track policy: ${name}`, async () => {
    assert.equal(await errorFor(text), message);
  });
}

Deno.test("languages: ISO 639-1, 639-2/B and /T and BCP 47 tags compare as one", () => {
  for (const [a, b] of [["ger", "deu"], ["de", "ger"], ["fre", "fra"], ["zh-Hans", "chi"]]) {
    assert.ok(sameLanguage(a, b), `${a} ${b}`);
  }
  assert.ok(!sameLanguage("eng", "fre"));
  assert.ok(sameLanguage(undefined, "und"));
  assert.ok(sameLanguage("", "UND"));
  assert.equal(languageKey("qaa"), "qaa");
});

Deno.test("track policy snapshot: a job's copy is read back whole, an edited key named", () => {
  const { tracks } = parsePolicyFile(
    "audio_filter: {languages: [jpn], fallback: {mode: keep_first}}\ncontainer: {target: mp4}\n",
    "p.yaml",
  );
  const json = JSON.parse(JSON.stringify(tracks));
  assert.deepEqual(checkTrackPolicySnapshot(json, "job.json: payload.tracks"), tracks);
  const where = "job.json: payload.tracks";
  const edited = (change: (t: Record<string, unknown>) => void) => {
    const copy = structuredClone(json);
    change(copy);
    return () => checkTrackPolicySnapshot(copy, where);
  };
  assert.throws(edited((t) => (t.audioFilter as { minimum: number }).minimum = 0), {
    message: `${where}.audioFilter.minimum: expected an integer from 1 to 64, got 0`,
  });
  assert.throws(edited((t) => t.trackOrder = ["video", "audio_mian"]), {
    message: `${where}.trackOrder[1]: "audio_mian" is not a track class (did you mean ` +
      `"audio_main"?)`,
  });
  assert.throws(edited((t) => delete t.container), { message: `${where}.container: missing` });
  assert.throws(edited((t) => t.extra = 1), { message: `${where}.extra: unknown key` });
});
