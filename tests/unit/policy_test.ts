import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  applyOverrides,
  CRF_RANGES,
  DEFAULT_CRF,
  defaultPolicy,
  loadPolicy,
  loadPolicyFile,
  parsePolicy,
  RESOLUTIONS,
} from "../../src/policy/policy.ts";
import type { TranscodePolicy, VideoCodec } from "../../src/policy/types.ts";
import { formatBytes } from "../../src/util/format.ts";
import { parseBitrate, parseSize } from "../../src/util/units.ts";
import { withTempDir } from "../helpers/temp.ts";
import { yamlFileLoader } from "../helpers/yaml_file.ts";

const EXAMPLES = fileURLToPath(new URL("../../examples/", import.meta.url));

/** Every temp directory this file makes starts with this. */
const TEMP_PREFIX = "vpo-policy-test-";

/** `loadText` loads YAML written as policy.yaml; `errorFor` is the ConfigError message it gives. */
const { loadText, errorFor } = yamlFileLoader("policy.yaml", loadPolicy, TEMP_PREFIX);

/** The default policy for `codec` with `changes` applied. */
function expected(codec: VideoCodec, changes: Partial<TranscodePolicy> = {}): TranscodePolicy {
  return { ...defaultPolicy(), targetVideoCodec: codec, targetCrf: DEFAULT_CRF[codec], ...changes };
}

const HEVC = "transcode:\n  target_video_codec: hevc\n";

Deno.test("defaultPolicy has the documented defaults", () => {
  assert.deepEqual(defaultPolicy(), {
    schemaVersion: 1,
    targetVideoCodec: "hevc",
    targetCrf: 26,
    targetBitrate: null,
    maxWidth: null,
    maxHeight: null,
    preset: null,
    container: "keep",
    hwAccel: "none",
    audioPreserveCodecs: ["aac", "ac3", "eac3", "opus", "flac", "truehd", "dts", "mp3"],
    audioTranscodeTo: "aac",
    audioTranscodeBitrate: 192_000,
    skipIf: { codecIn: [], bitrateBelow: null, sizeBelow: null, dolbyVision: true },
    keepLargerOutput: false,
  });
});

Deno.test("exported tables: resolutions, CRF ranges, default CRFs", () => {
  assert.deepEqual(RESOLUTIONS, {
    "480p": { width: 854, height: 480 },
    "720p": { width: 1280, height: 720 },
    "1080p": { width: 1920, height: 1080 },
    "1440p": { width: 2560, height: 1440 },
    "4k": { width: 3840, height: 2160 },
    "8k": { width: 7680, height: 4320 },
  });
  assert.deepEqual(CRF_RANGES, {
    hevc: { min: 0, max: 51 },
    h264: { min: 0, max: 51 },
    vp9: { min: 0, max: 63 },
    av1: { min: 0, max: 63 },
  });
  assert.deepEqual(DEFAULT_CRF, { hevc: 26, h264: 22, vp9: 33, av1: 32 });
});

Deno.test("a policy naming only the codec gets every default and that codec's CRF", async () => {
  for (const codec of ["hevc", "h264", "vp9", "av1"] as const) {
    const policy = await loadText(`transcode:\n  target_video_codec: ${codec}\n`);
    assert.deepEqual(policy, expected(codec));
  }
});

Deno.test("codec aliases and case are normalised", async () => {
  const cases: [string, VideoCodec][] = [
    ["h265", "hevc"],
    ["x265", "hevc"],
    ["HEVC", "hevc"],
    ["avc", "h264"],
    ["x264", "h264"],
    ["AV1", "av1"],
  ];
  for (const [written, codec] of cases) {
    const policy = await loadText(`transcode:\n  target_video_codec: ${written}\n`);
    assert.equal(policy.targetVideoCodec, codec, written);
  }
});

Deno.test("every key is read and mapped to camelCase", async () => {
  const policy = await loadText(`schema_version: 1
transcode:
  target_video_codec: h264
  target_bitrate: 4.5M
  max_resolution: 1080p
  max_width: 1440
  preset: veryslow
  container: mp4
  hardware_acceleration: qsv
  audio_preserve_codecs: [AAC, opus]
  audio_transcode_to: opus
  audio_transcode_bitrate: 128k
  keep_larger_output: true
  skip_if:
    codec_in: [h265, av1]
    bitrate_below: 800000
    size_below: 1.5GiB
    dolby_vision: false
`);
  assert.deepEqual(policy, {
    schemaVersion: 1,
    targetVideoCodec: "h264",
    targetCrf: null,
    targetBitrate: 4_500_000,
    maxWidth: 1440,
    maxHeight: 1080,
    preset: "veryslow",
    container: "mp4",
    hwAccel: "qsv",
    audioPreserveCodecs: ["aac", "opus"],
    audioTranscodeTo: "opus",
    audioTranscodeBitrate: 128_000,
    skipIf: {
      codecIn: ["hevc", "av1"],
      bitrateBelow: 800_000,
      sizeBelow: 1_610_612_736,
      dolbyVision: false,
    },
    keepLargerOutput: true,
  });
});

Deno.test("CRF edges per codec are accepted", async () => {
  const cases: [VideoCodec, number][] = [["hevc", 0], ["hevc", 51], ["h264", 51], ["vp9", 63], [
    "av1",
    63,
  ]];
  for (const [codec, crf] of cases) {
    const policy = await loadText(
      `transcode:\n  target_video_codec: ${codec}\n  target_crf: ${crf}\n`,
    );
    assert.equal(policy.targetCrf, crf, `${codec} ${crf}`);
  }
});

Deno.test("presets: names for x264/x265, numbers (quoted or not) for SVT-AV1 and vp9", async () => {
  const cases: [VideoCodec, string, string][] = [
    ["hevc", "Slow", "slow"],
    ["h264", "placebo", "placebo"],
    ["av1", "6", "6"],
    ["av1", "'13'", "13"],
    ["vp9", "0", "0"],
    ["vp9", "8", "8"],
  ];
  for (const [codec, written, preset] of cases) {
    const policy = await loadText(
      `transcode:\n  target_video_codec: ${codec}\n  preset: ${written}\n`,
    );
    assert.equal(policy.preset, preset, `${codec} ${written}`);
  }
});

Deno.test("max_width/max_height alone, and overriding one side of max_resolution", async () => {
  const height = await loadText(`${HEVC}  max_height: 720\n`);
  assert.deepEqual([height.maxWidth, height.maxHeight], [null, 720]);
  const box = await loadText(`${HEVC}  max_resolution: 4K\n  max_height: 1600\n`);
  assert.deepEqual([box.maxWidth, box.maxHeight], [3840, 1600]);
  const alias = await loadText(`${HEVC}  max_resolution: 2160p\n`);
  assert.deepEqual([alias.maxWidth, alias.maxHeight], [3840, 2160]);
});

Deno.test("null target_crf with a bitrate, and empty lists and sections", async () => {
  const policy = await loadText(
    `${HEVC}  target_crf: null\n  target_bitrate: 6000k\n  audio_preserve_codecs: []\n  skip_if:\n`,
  );
  assert.deepEqual(
    policy,
    expected("hevc", { targetCrf: null, targetBitrate: 6_000_000, audioPreserveCodecs: [] }),
  );
});

Deno.test("examples/*.yaml all load", async () => {
  const names = [];
  for await (const entry of Deno.readDir(EXAMPLES)) {
    if (entry.name.endsWith(".yaml")) names.push(entry.name);
  }
  assert.deepEqual(names.sort(), [
    "av1.yaml",
    "h264-compat.yaml",
    "hevc-quality.yaml",
    "hevc.yaml",
    "tracks.yaml",
  ]);
  const hevc = await loadPolicy(join(EXAMPLES, "hevc.yaml"));
  assert.equal(hevc.targetVideoCodec, "hevc");
  const compat = await loadPolicy(join(EXAMPLES, "h264-compat.yaml"));
  assert.deepEqual(
    [compat.targetVideoCodec, compat.container, compat.audioTranscodeTo, compat.maxHeight],
    ["h264", "mp4", "aac", 1080],
  );
  const av1 = await loadPolicy(join(EXAMPLES, "av1.yaml"));
  assert.deepEqual([av1.targetVideoCodec, av1.preset], ["av1", "6"]);
  const quality = await loadPolicy(join(EXAMPLES, "hevc-quality.yaml"));
  assert.deepEqual([quality.targetQuality?.metric, quality.targetQuality?.min], ["ssim", 0.98]);
  const tracks = await loadPolicyFile(join(EXAMPLES, "tracks.yaml"));
  assert.equal(tracks.transcode, null);
  assert.deepEqual(tracks.tracks?.audioFilter?.languages, ["jpn", "eng", "und"]);
});

Deno.test("a missing policy file is a ConfigError", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "nope.yaml");
    await assert.rejects(loadPolicy(path), {
      name: "ConfigError",
      message: `policy file not found: ${path}`,
    });
    await assert.rejects(loadPolicy(dir), {
      name: "ConfigError",
      message: `cannot read policy file ${dir}: a directory, not a regular file`,
    });
  }, TEMP_PREFIX);
});

Deno.test("parsePolicy names the path it is given", () => {
  assert.throws(
    () => parsePolicy("transcode:\n  target_video_codec: hevc\n  target_crf: 60\n", "hevc.yaml"),
    {
      name: "ConfigError",
      message: "hevc.yaml:3:15: transcode.target_crf: 60 is out of range for hevc (0-51)",
    },
  );
});

Deno.test("a schema_version 2 policy of the original vpo loads, naming unused keys once", () => {
  // Its track keys are read (tests/unit/track_policy_test.ts); the rest are named once.
  const text = `schema_version: 2
track_order: [video, audio_main, subtitle_main]
audio_language_preference: [eng, und]
subtitle_language_preference: [eng]
commentary_patterns: [commentary, director]
default_flags:
  set_first_video_default: true
transcode:
  target_video_codec: hevc
  target_crf: 22
  destination: "{title}"
`;
  const warnings: string[] = [];
  const policy = parsePolicy(text, "old.yaml", { warn: (w) => warnings.push(w) });
  assert.equal(policy.schemaVersion, 2);
  assert.equal(policy.targetCrf, 22);
  assert.deepEqual(warnings, [
    "old.yaml: transcode.destination: settings of the original vpo that this tool does not " +
    "use (ignored)",
  ]);
  // A policy without them says nothing.
  parsePolicy(`schema_version: 2\n${HEVC}`, "new.yaml", { warn: (w) => warnings.push(w) });
  assert.equal(warnings.length, 1);
  // A truly unknown key is still an error with its position and a suggestion.
  assert.throws(() => parsePolicy(`track_ordr: []\n${HEVC}`, "typo.yaml"), {
    name: "ConfigError",
    message: `typo.yaml:1:1: track_ordr: unknown key (did you mean "track_order"?)`,
  });
});

// Each bad file with the exact message it must produce (the temp path shown as policy.yaml).
const BAD_FILES: [string, string, string][] = [
  [
    "unknown key with suggestion",
    `${HEVC}  target_crff: 20\n`,
    `policy.yaml:3:3: transcode.target_crff: unknown key (did you mean "target_crf"?)`,
  ],
  [
    "unknown top-level key",
    "transcoding:\n  target_video_codec: hevc\n",
    `policy.yaml:1:1: transcoding: unknown key (did you mean "transcode"?)`,
  ],
  [
    "unknown skip_if key",
    `${HEVC}  skip_if:\n    bitrate_belo: 2M\n`,
    `policy.yaml:4:5: transcode.skip_if.bitrate_belo: unknown key (did you mean "bitrate_below"?)`,
  ],
  [
    "empty file",
    "# nothing yet\n",
    "policy.yaml:1:1: transcode: missing required section (it must set at least " +
    "target_video_codec)",
  ],
  [
    "missing codec",
    "transcode:\n  target_crf: 20\n",
    "policy.yaml:2:3: transcode.target_video_codec: missing required key " +
    "(one of hevc, h264, vp9, av1)",
  ],
  [
    "unknown codec with suggestion",
    "transcode:\n  target_video_codec: h266\n",
    `policy.yaml:2:23: transcode.target_video_codec: "h266" is not a video codec ` +
    `(did you mean "h264"?)`,
  ],
  [
    "unknown codec without a near match",
    "transcode:\n  target_video_codec: prores\n",
    `policy.yaml:2:23: transcode.target_video_codec: "prores" is not a video codec ` +
    "(expected one of hevc, h264, vp9, av1)",
  ],
  [
    "unsupported schema_version",
    `schema_version: 4\n${HEVC}`,
    "policy.yaml:1:17: schema_version: 4 is not supported (this vpo reads versions 1, 2, 3; " +
    "later versions of the original vpo use a phased format it does not understand)",
  ],
  [
    "schema_version as a string",
    `schema_version: "1"\n${HEVC}`,
    `policy.yaml:1:17: schema_version: expected an integer, got "1"`,
  ],
  [
    "CRF as a word",
    `${HEVC}  target_crf: high\n`,
    `policy.yaml:3:15: transcode.target_crf: expected an integer, got "high"`,
  ],
  [
    "fractional CRF",
    `${HEVC}  target_crf: 22.5\n`,
    "policy.yaml:3:15: transcode.target_crf: expected an integer, got 22.5",
  ],
  [
    "CRF out of range for hevc",
    `${HEVC}  target_crf: 60\n`,
    "policy.yaml:3:15: transcode.target_crf: 60 is out of range for hevc (0-51)",
  ],
  [
    "CRF out of range for h264 (checked after an alias)",
    "transcode:\n  target_crf: 52\n  target_video_codec: x264\n",
    "policy.yaml:2:15: transcode.target_crf: 52 is out of range for h264 (0-51)",
  ],
  [
    "negative CRF",
    `${HEVC}  target_crf: -1\n`,
    "policy.yaml:3:15: transcode.target_crf: -1 is out of range for hevc (0-51)",
  ],
  [
    "CRF out of range for vp9",
    "transcode:\n  target_video_codec: vp9\n  target_crf: 64\n",
    "policy.yaml:3:15: transcode.target_crf: 64 is out of range for vp9 (0-63)",
  ],
  [
    "CRF out of range for av1",
    "transcode:\n  target_video_codec: av1\n  target_crf: 70\n",
    "policy.yaml:3:15: transcode.target_crf: 70 is out of range for av1 (0-63)",
  ],
  [
    "both target_crf and target_bitrate",
    `${HEVC}  target_crf: 22\n  target_bitrate: 5M\n`,
    "policy.yaml:4:19: transcode.target_bitrate: set either target_crf or target_bitrate, " +
    "not both",
  ],
  [
    "bad bitrate",
    `${HEVC}  target_bitrate: 5 megabits\n`,
    `policy.yaml:3:19: transcode.target_bitrate: "5 megabits" is not a bitrate ` +
    "(write e.g. 5M, 5000k or 800000)",
  ],
  [
    "bytes per second are not a bitrate",
    `${HEVC}  target_bitrate: 5MB/s\n`,
    `policy.yaml:3:19: transcode.target_bitrate: "5MB/s" is not a bitrate ` +
    "(write e.g. 5M, 5000k or 800000)",
  ],
  [
    "zero audio bitrate",
    `${HEVC}  audio_transcode_bitrate: 0k\n`,
    `policy.yaml:3:28: transcode.audio_transcode_bitrate: "0k" is not a bitrate ` +
    "(it must be greater than 0)",
  ],
  [
    "x265 preset for av1",
    "transcode:\n  target_video_codec: av1\n  preset: slow\n",
    `policy.yaml:3:11: transcode.preset: "slow" is not a preset for av1 (0-13)`,
  ],
  [
    "SVT-AV1 preset too high",
    "transcode:\n  target_video_codec: av1\n  preset: 14\n",
    `policy.yaml:3:11: transcode.preset: "14" is not a preset for av1 (0-13)`,
  ],
  [
    "vp9 cpu-used too high",
    "transcode:\n  target_video_codec: vp9\n  preset: 9\n",
    `policy.yaml:3:11: transcode.preset: "9" is not a preset for vp9 (0-8)`,
  ],
  [
    "misspelt x265 preset",
    `${HEVC}  preset: fastest\n`,
    `policy.yaml:3:11: transcode.preset: "fastest" is not a preset for hevc (did you mean "faster"?)`,
  ],
  [
    "numeric preset for h264",
    "transcode:\n  target_video_codec: h264\n  preset: 5\n",
    `policy.yaml:3:11: transcode.preset: "5" is not a preset for h264 (ultrafast, superfast, ` +
    "veryfast, faster, fast, medium, slow, slower, veryslow, placebo)",
  ],
  [
    "preset as a boolean",
    `${HEVC}  preset: true\n`,
    "policy.yaml:3:11: transcode.preset: expected a preset name or number, got true",
  ],
  [
    "bad resolution name with suggestion",
    `${HEVC}  max_resolution: 1080\n`,
    `policy.yaml:3:19: transcode.max_resolution: 1080 is not a resolution (did you mean "1080p"?)`,
  ],
  [
    "bad resolution name without a near match",
    `${HEVC}  max_resolution: full-hd\n`,
    `policy.yaml:3:19: transcode.max_resolution: "full-hd" is not a resolution ` +
    "(expected one of 480p, 720p, 1080p, 1440p, 4k, 8k)",
  ],
  [
    "odd max_width",
    `${HEVC}  max_width: 1081\n`,
    "policy.yaml:3:14: transcode.max_width: expected an even integer >= 16, got 1081",
  ],
  [
    "tiny max_height",
    `${HEVC}  max_height: 8\n`,
    "policy.yaml:3:15: transcode.max_height: expected an even integer >= 16, got 8",
  ],
  [
    "unknown container",
    `${HEVC}  container: avi\n`,
    `policy.yaml:3:14: transcode.container: "avi" is not a container ` +
    "(expected one of keep, mkv, mp4)",
  ],
  [
    "misspelt container",
    `${HEVC}  container: mkb\n`,
    `policy.yaml:3:14: transcode.container: "mkb" is not a container (did you mean "mkv"?)`,
  ],
  [
    "unknown hardware acceleration",
    `${HEVC}  hardware_acceleration: cuda\n`,
    `policy.yaml:3:26: transcode.hardware_acceleration: "cuda" is not a hardware acceleration ` +
    "mode (expected one of none, auto, vaapi, qsv, nvenc)",
  ],
  [
    "audio codec list given as one string",
    `${HEVC}  audio_preserve_codecs: aac\n`,
    `policy.yaml:3:26: transcode.audio_preserve_codecs: expected a list, got "aac"`,
  ],
  [
    "audio codec list item that is a mapping",
    `${HEVC}  audio_preserve_codecs:\n    - aac\n    - {codec: dts}\n`,
    "policy.yaml:5:7: transcode.audio_preserve_codecs[1]: expected a codec name, got a mapping",
  ],
  [
    "unsupported audio target",
    `${HEVC}  audio_transcode_to: mp3\n`,
    `policy.yaml:3:23: transcode.audio_transcode_to: "mp3" is not an audio codec ` +
    "(expected one of aac, opus, ac3, eac3, flac)",
  ],
  [
    "keep_larger_output as a number",
    `${HEVC}  keep_larger_output: 1\n`,
    "policy.yaml:3:23: transcode.keep_larger_output: expected true or false, got 1",
  ],
  [
    "bad size",
    `${HEVC}  skip_if:\n    size_below: 2 gigs\n`,
    `policy.yaml:4:17: transcode.skip_if.size_below: "2 gigs" is not a size ` +
    "(write e.g. 200MB, 1.5GiB or 1048576)",
  ],
  [
    "dolby_vision as no",
    `${HEVC}  skip_if:\n    dolby_vision: no\n`,
    `policy.yaml:4:19: transcode.skip_if.dolby_vision: expected true or false, got "no"`,
  ],
  [
    "skip_if as a list",
    `${HEVC}  skip_if: [hevc]\n`,
    "policy.yaml:3:12: transcode.skip_if: expected a mapping, got a list",
  ],
  [
    "YAML syntax error",
    "transcode:\n  target_video_codec: [hevc\n",
    "policy.yaml:3:1: invalid YAML: Flow sequence in block collection must be sufficiently " +
    "indented and end with a ]",
  ],
  [
    "duplicate key",
    `${HEVC}  target_crf: 20\n  target_crf: 22\n`,
    "policy.yaml:4:3: transcode.target_crf: duplicate key",
  ],
  [
    "top level a list",
    "- target_video_codec: hevc\n",
    "policy.yaml:1:1: the top level must be a mapping of keys, got a list",
  ],
  [
    "transcode section a string",
    "transcode: hevc\n",
    `policy.yaml:1:12: transcode: expected a mapping, got "hevc"`,
  ],
];

for (const [name, text, message] of BAD_FILES) {
  Deno.test(`bad policy: ${name}`, async () => {
    assert.equal(await errorFor(text), message);
  });
}

Deno.test("applyOverrides: --crf is checked against the codec and switches to CRF mode", () => {
  const bitrate = { ...defaultPolicy(), targetCrf: null, targetBitrate: 5_000_000 };
  assert.deepEqual(applyOverrides(bitrate, { crf: 20 }), { ...defaultPolicy(), targetCrf: 20 });
  assert.throws(() => applyOverrides(defaultPolicy(), { crf: 70 }), {
    name: "ConfigError",
    message: "--crf: 70 is out of range for hevc (0-51)",
  });
  assert.throws(() => applyOverrides(defaultPolicy(), { crf: 22.5 }), {
    message: "--crf: expected an integer, got 22.5",
  });
  assert.throws(() => applyOverrides(defaultPolicy(), { crf: NaN }), {
    message: "--crf: expected an integer, got NaN",
  });
});

Deno.test("applyOverrides: --codec takes aliases; the CRF follows the new codec", () => {
  const policy = { ...defaultPolicy(), targetCrf: 20, preset: "slow" };
  assert.deepEqual(applyOverrides(policy, { codec: "x265" }), policy);
  // CRF scales differ between encoders, so a codec change takes the new codec's default CRF ...
  assert.deepEqual(
    applyOverrides(policy, { codec: "AVC" }),
    { ...policy, targetVideoCodec: "h264", targetCrf: 22 },
  );
  // ... and drops a preset the new encoder does not have.
  assert.deepEqual(
    applyOverrides(policy, { codec: "av1" }),
    { ...policy, targetVideoCodec: "av1", targetCrf: 32, preset: null },
  );
  assert.deepEqual(
    applyOverrides(policy, { codec: "av1", crf: 60 }),
    { ...policy, targetVideoCodec: "av1", targetCrf: 60, preset: null },
  );
  const bitrate = { ...defaultPolicy(), targetCrf: null, targetBitrate: 5_000_000 };
  assert.equal(applyOverrides(bitrate, { codec: "vp9" }).targetBitrate, 5_000_000);
  assert.throws(() => applyOverrides(policy, { codec: "av2" }), {
    message: `--codec: "av2" is not a video codec (did you mean "av1"?)`,
  });
  const av1 = { ...defaultPolicy(), targetVideoCodec: "av1" as const, targetCrf: 40 };
  assert.throws(() => applyOverrides(av1, { codec: "hevc", crf: 60 }), {
    message: "--crf: 60 is out of range for hevc (0-51)",
  });
});

Deno.test("applyOverrides: --max-resolution replaces both sides of the box", () => {
  const policy = { ...defaultPolicy(), maxWidth: 1440, maxHeight: null };
  assert.deepEqual(applyOverrides(policy, { maxResolution: "4K" }), {
    ...policy,
    maxWidth: 3840,
    maxHeight: 2160,
  });
  assert.throws(() => applyOverrides(policy, { maxResolution: "1080" }), {
    message: `--max-resolution: "1080" is not a resolution (did you mean "1080p"?)`,
  });
});

Deno.test("applyOverrides leaves its input alone", () => {
  const policy = defaultPolicy();
  applyOverrides(policy, { codec: "av1", crf: 40, maxResolution: "720p" });
  assert.deepEqual(policy, defaultPolicy());
  assert.deepEqual(applyOverrides(policy, {}), policy);
});

Deno.test("units: bitrates", () => {
  const cases: [string | number, number][] = [
    ["5M", 5_000_000],
    ["5000k", 5_000_000],
    ["192k", 192_000],
    ["800000", 800_000],
    ["1.5Mbps", 1_500_000],
    ["5m", 5_000_000],
    [" 2 M ", 2_000_000],
    ["1G", 1_000_000_000],
    [128000, 128_000],
  ];
  for (const [text, bits] of cases) assert.equal(parseBitrate(text), bits, String(text));
  assert.throws(() => parseBitrate("fast"), {
    message: `"fast" is not a bitrate (write e.g. 5M, 5000k or 800000)`,
  });
  assert.throws(() => parseBitrate(0), {
    message: "0 is not a bitrate (it must be greater than 0)",
  });
});

Deno.test("units: sizes and formatBytes", () => {
  const cases: [string | number, number][] = [
    ["200MB", 200_000_000],
    ["500M", 500_000_000],
    ["1.5GiB", 1_610_612_736],
    ["1.5gib", 1_610_612_736],
    ["4 KiB", 4096],
    ["1TB", 1e12],
    ["1024", 1024],
    [2048, 2048],
  ];
  for (const [text, bytes] of cases) assert.equal(parseSize(text), bytes, String(text));
  assert.throws(() => parseSize("big"), {
    message: `"big" is not a size (write e.g. 200MB, 1.5GiB or 1048576)`,
  });
  assert.equal(formatBytes(0), "0 B");
  assert.equal(formatBytes(1023), "1023 B");
  assert.equal(formatBytes(1024), "1.0 KiB");
  assert.equal(formatBytes(1_503_238_553), "1.4 GiB");
  assert.equal(formatBytes(-1_503_238_553), "-1.4 GiB");
  assert.equal(formatBytes(1024 * 1024 - 1), "1.0 MiB");
});
