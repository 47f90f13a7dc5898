/**
 * Policy files (the original Python tool's flat form): what to encode into, how, and what to
 * leave alone (the `transcode` section), and which tracks a file keeps, in which order, with
 * which flags (the track keys, see track_policy.ts). Validation is complete here, including the
 * rules that depend on the codec (CRF ranges, presets); only container/stream compatibility is
 * left to the media layer.
 *
 * ```yaml
 * schema_version: 1
 * transcode:
 *   target_video_codec: hevc
 *   target_crf: 24
 * ```
 *
 * @module
 */
import { parseBitrate, parseSize } from "../util/units.ts";
import {
  boolean,
  choice,
  Field,
  integer,
  list,
  nullable,
  parsed,
  parseYaml,
  readYamlFile,
  type Section,
  section,
} from "../config/yaml_schema.ts";
import { closest } from "../util/suggest.ts";
import { ConfigError } from "../errors.ts";
import { readTrackPolicy, TRACK_POLICY_SPEC } from "./track_policy.ts";
import type { TrackPolicy } from "./track_types.ts";
import type {
  ContainerChoice,
  HwAccel,
  QualityMetric,
  TranscodePolicy,
  VideoCodec,
} from "./types.ts";
import { DEFAULT_CRF_RANGES, readTargetQuality, TARGET_QUALITY_SPEC } from "./target_quality.ts";

/**
 * Policy file versions this build reads: 1, and 2 and 3 of the original Python vpo (whose
 * transcode section is the same, and whose track keys are read too; the keys it has that this
 * tool does not use are accepted with a warning, see {@link LEGACY_KEYS}).
 */
export const SUPPORTED_SCHEMA_VERSIONS: readonly number[] = [1, 2, 3];

/**
 * Keys of the original vpo's version 1 to 3 policies that this tool does not do (language
 * detection by transcription, moving outputs, downmixing). A policy written for it loads with
 * one warning naming the ones it holds.
 */
const LEGACY_KEYS: Readonly<{ top: readonly string[]; transcode: readonly string[] }> = {
  top: ["transcription"],
  transcode: ["audio_downmix", "destination", "destination_fallback"],
};

/** Options of {@link parsePolicy} and {@link loadPolicy}. */
export interface PolicyReadOptions {
  /** Receives the one warning line about keys that are accepted but not used. */
  warn?: (text: string) => void;
  /**
   * Why this host cannot measure a quality metric (null: it can), asked by {@link loadPolicy}
   * only for the metric a policy names; a policy naming one it cannot is refused at the key.
   */
  metricProblem?: (metric: QualityMetric) => Promise<string | null>;
  /** Metrics refused with why, as {@link metricProblem} answered (for {@link parsePolicy}). */
  unavailableMetrics?: ReadonlyMap<QualityMetric, string>;
}

/** Accepts any value: the key is known, and not used. */
const unused = (field: Field): unknown => field.value;
const unusedKeys = (keys: readonly string[]) =>
  Object.fromEntries(keys.map((k) => [k, unused])) as Record<string, typeof unused>;

/** Target video codecs, in the order messages list them. */
const VIDEO_CODECS: readonly VideoCodec[] = ["hevc", "h264", "vp9", "av1"];

/** Other names people use for the target codecs (matched case-insensitively). */
const VIDEO_CODEC_ALIASES: Readonly<Record<string, VideoCodec>> = {
  h265: "hevc",
  x265: "hevc",
  avc: "h264",
  x264: "h264",
};

/** Named bounding boxes for `max_resolution` (landscape width x height). */
export const RESOLUTIONS = {
  "480p": { width: 854, height: 480 },
  "720p": { width: 1280, height: 720 },
  "1080p": { width: 1920, height: 1080 },
  "1440p": { width: 2560, height: 1440 },
  "4k": { width: 3840, height: 2160 },
  "8k": { width: 7680, height: 4320 },
} as const;

/** A name of {@link RESOLUTIONS}. */
export type ResolutionName = keyof typeof RESOLUTIONS;

const RESOLUTION_NAMES = Object.keys(RESOLUTIONS) as ResolutionName[];
const RESOLUTION_ALIASES: Readonly<Record<string, ResolutionName>> = {
  "2160p": "4k",
  "4320p": "8k",
};

/** Valid CRF values per codec (x264/x265: 0-51; libvpx-vp9 and SVT-AV1: 0-63). */
export const CRF_RANGES: Readonly<Record<VideoCodec, { min: number; max: number }>> = {
  hevc: { min: 0, max: 51 },
  h264: { min: 0, max: 51 },
  vp9: { min: 0, max: 63 },
  av1: { min: 0, max: 63 },
};

/** CRF used when a policy sets neither target_crf nor target_bitrate. */
export const DEFAULT_CRF: Readonly<Record<VideoCodec, number>> = {
  hevc: 26,
  h264: 22,
  vp9: 33,
  av1: 32,
};

const X26X_PRESETS = [
  "ultrafast",
  "superfast",
  "veryfast",
  "faster",
  "fast",
  "medium",
  "slow",
  "slower",
  "veryslow",
  "placebo",
];
const numbered = (last: number) => Array.from({ length: last + 1 }, (_, i) => String(i));

/**
 * Encoder presets per codec: x264/x265 names; SVT-AV1 `-preset` 0-13 and libvpx-vp9 `-cpu-used`
 * 0-8 as strings (lower is slower and better).
 */
const PRESETS: Readonly<Record<VideoCodec, readonly string[]>> = {
  h264: X26X_PRESETS,
  hevc: X26X_PRESETS,
  vp9: numbered(8),
  av1: numbered(13),
};

/** Output containers a policy may name. */
export const CONTAINERS: readonly ContainerChoice[] = ["keep", "mkv", "mp4"];
/** Hardware acceleration modes a policy may name. */
export const HW_ACCELS: readonly HwAccel[] = ["none", "auto", "vaapi", "qsv", "nvenc"];
/** Codecs audio may be converted to. */
export const AUDIO_TARGETS = ["aac", "opus", "ac3", "eac3", "flac"] as const;

/**
 * The defaults a policy file's missing keys take. A file must still name target_video_codec;
 * the hevc here (at its default CRF) only stands for "no file given".
 */
export function defaultPolicy(): TranscodePolicy {
  return {
    schemaVersion: 1,
    targetVideoCodec: "hevc",
    targetCrf: DEFAULT_CRF.hevc,
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
  };
}

// The readers of the policy's keys, also used to check a job's policy snapshot at run time.
/** Reads a target video codec or its alias. */
export const videoCodec = choice("a video codec", VIDEO_CODECS, VIDEO_CODEC_ALIASES);
const resolution = choice("a resolution", RESOLUTION_NAMES, RESOLUTION_ALIASES);
/** Reads a CRF (its codec's range is checked by {@link checkCrf}). */
export const crf = integer();
/** Reads a max width or height. */
export const dimension = nullable(integer({ min: 16, even: true }));
/** Reads a bitrate. */
export const bitrate = parsed("a bitrate such as 5M", parseBitrate);
// ffprobe codec names are lower case; the target codecs' aliases also name source codecs.
/** Reads a size. */
export const size = parsed("a size such as 200MB", parseSize);
/** Reads a source codec name. */
export const codecName = parsed("a codec name", (v) => {
  const name = String(v).trim().toLowerCase();
  return Object.hasOwn(VIDEO_CODEC_ALIASES, name) ? VIDEO_CODEC_ALIASES[name] : name;
});

const TRANSCODE_SPEC = {
  ...unusedKeys(LEGACY_KEYS.transcode),
  target_video_codec: videoCodec,
  target_crf: nullable(crf),
  target_bitrate: nullable(bitrate),
  max_resolution: nullable(resolution),
  max_width: dimension,
  max_height: dimension,
  // SVT-AV1 and vp9 presets are numbers, which YAML reads as such unless quoted.
  preset: nullable(parsed("a preset name or number", (v) => String(v).trim().toLowerCase())),
  container: choice("a container", CONTAINERS),
  hardware_acceleration: choice("a hardware acceleration mode", HW_ACCELS),
  audio_preserve_codecs: list(codecName),
  audio_transcode_to: choice("an audio codec", AUDIO_TARGETS),
  audio_transcode_bitrate: bitrate,
  keep_larger_output: boolean(),
  target_quality: section(TARGET_QUALITY_SPEC),
  skip_if: section({
    codec_in: list(codecName),
    bitrate_below: nullable(bitrate),
    size_below: nullable(size),
    dolby_vision: boolean(),
  }),
};

const SPEC = {
  schema_version: integer(),
  ...unusedKeys(LEGACY_KEYS.top),
  ...TRACK_POLICY_SPEC,
  transcode: section(TRANSCODE_SPEC),
};

/** Checks a CRF against its codec's range. */
export function checkCrf(field: Field, codec: VideoCodec, value: number): number {
  const { min, max } = CRF_RANGES[codec];
  if (value < min || value > max) {
    field.fail(`${value} is out of range for ${codec} (${min}-${max})`);
  }
  return value;
}

/** Checks a preset against its codec's presets. */
export function checkPreset(field: Field, codec: VideoCodec, preset: string): string {
  const valid = PRESETS[codec];
  if (valid.includes(preset)) return preset;
  const named = codec === "h264" || codec === "hevc";
  const guess = named ? closest(preset, valid) : undefined;
  const hint = guess
    ? `did you mean "${guess}"?`
    : named
    ? valid.join(", ")
    : `${valid[0]}-${valid[valid.length - 1]}`;
  field.fail(`"${preset}" is not a preset for ${codec} (${hint})`);
}

/** What a policy file asks for: a transcode, track changes, or both. */
export interface PolicyFile {
  /** The `transcode` section; null when the file has none. */
  transcode: TranscodePolicy | null;
  /** The track keys (see track_policy.ts); null when the file has none. */
  tracks: TrackPolicy | null;
}

/**
 * Validates policy text (`path` is only used in messages) and fills in the defaults of both its
 * parts. A file must hold a `transcode` section or track keys, or both. Throws a
 * {@link ConfigError} `<path>:<line>:<col>: <key>: <problem>` for the first problem.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const file = parsePolicyFile("audio_filter:\n  languages: [jpn]\n", "p.yaml");
 * assert.equal(file.transcode, null);
 * assert.deepEqual(file.tracks?.audioFilter?.languages, ["jpn"]);
 * assert.throws(() => parsePolicyFile("audio_filter:\n  languages: [j]\n", "p.yaml"), /p.yaml:2:/);
 * ```
 */
export function parsePolicyFile(
  text: string,
  path: string,
  opts: PolicyReadOptions = {},
): PolicyFile {
  return readPolicyFile(parseYaml(text, path, SPEC), path, opts, false);
}

function readPolicyFile(
  file: Section<typeof SPEC>,
  path: string,
  opts: PolicyReadOptions,
  mustTranscode: boolean,
): PolicyFile {
  const version = file.values.schema_version ?? 1;
  if (!SUPPORTED_SCHEMA_VERSIONS.includes(version)) {
    file.at("schema_version").fail(
      `${version} is not supported (this vpo reads versions ${
        SUPPORTED_SCHEMA_VERSIONS.join(", ")
      }; later versions of the original vpo use a phased format it does not understand)`,
    );
  }
  const transcode = file.values.transcode;
  if (!transcode && mustTranscode) {
    return file.at("transcode").fail(
      "missing required section (it must set at least target_video_codec)",
    );
  }
  const tracks = readTrackPolicy(file);
  if (!transcode && !tracks) {
    return file.at("transcode").fail(
      "missing required section (it must set at least target_video_codec), or track keys " +
        "(audio_filter, track_order, ...: see docs/track-policy.md)",
    );
  }
  const present = (values: object, keys: readonly string[], prefix = "") =>
    keys.filter((k) => Object.hasOwn(values, k)).map((k) => prefix + k);
  const notUsed = [
    ...present(file.values, LEGACY_KEYS.top),
    ...present(transcode?.values ?? {}, LEGACY_KEYS.transcode, "transcode."),
  ];
  if (notUsed.length > 0) {
    opts.warn?.(
      `${path}: ${notUsed.join(", ")}: settings of the original vpo that this tool does not ` +
        "use (ignored)",
    );
  }
  const policy = transcode ? readTranscode(transcode, version, opts) : null;
  if (policy && tracks?.container && policy.container !== "keep") {
    if (policy.container !== tracks.container.target) {
      transcode!.at("container").fail(
        `${policy.container} disagrees with container.target ${tracks.container.target} ` +
          "(set one of them)",
      );
    }
  }
  return { transcode: policy, tracks };
}

function readTranscode(
  transcode: Section<typeof TRANSCODE_SPEC>,
  version: number,
  opts: PolicyReadOptions,
): TranscodePolicy {
  const t = transcode.values;
  const codec = t.target_video_codec;
  if (!codec) {
    return transcode.at("target_video_codec").fail(
      `missing required key (one of ${VIDEO_CODECS.join(", ")})`,
    );
  }
  const targetCrf = t.target_crf ?? null;
  const targetBitrate = t.target_bitrate ?? null;
  if (targetCrf !== null && targetBitrate !== null) {
    transcode.at("target_bitrate").fail("set either target_crf or target_bitrate, not both");
  }
  if (t.target_quality && targetBitrate !== null) {
    transcode.at("target_bitrate").fail(
      "target_quality searches a CRF for each file: remove target_bitrate",
    );
  }
  const preset = t.preset ?? null;
  const box = t.max_resolution ? RESOLUTIONS[t.max_resolution] : null;
  const d = defaultPolicy();
  const skip = t.skip_if?.values ?? {};
  return {
    schemaVersion: version,
    targetVideoCodec: codec,
    targetCrf: targetCrf === null
      ? (targetBitrate === null ? DEFAULT_CRF[codec] : null)
      : checkCrf(transcode.at("target_crf"), codec, targetCrf),
    targetBitrate,
    // An explicit width or height overrides that side of the named box.
    maxWidth: t.max_width ?? box?.width ?? null,
    maxHeight: t.max_height ?? box?.height ?? null,
    preset: preset === null ? null : checkPreset(transcode.at("preset"), codec, preset),
    container: t.container ?? d.container,
    hwAccel: t.hardware_acceleration ?? d.hwAccel,
    audioPreserveCodecs: t.audio_preserve_codecs ?? d.audioPreserveCodecs,
    audioTranscodeTo: t.audio_transcode_to ?? d.audioTranscodeTo,
    audioTranscodeBitrate: t.audio_transcode_bitrate ?? d.audioTranscodeBitrate,
    skipIf: {
      codecIn: skip.codec_in ?? d.skipIf.codecIn,
      bitrateBelow: skip.bitrate_below ?? d.skipIf.bitrateBelow,
      sizeBelow: skip.size_below ?? d.skipIf.sizeBelow,
      dolbyVision: skip.dolby_vision ?? d.skipIf.dolbyVision,
    },
    keepLargerOutput: t.keep_larger_output ?? d.keepLargerOutput,
    ...(t.target_quality
      ? {
        targetQuality: readTargetQuality(t.target_quality, codec, CRF_RANGES[codec], {
          unavailable: opts.unavailableMetrics,
        }),
      }
      : {}),
  };
}

/**
 * Validates the text of a policy that must transcode (`path` is only used in messages) and
 * returns its transcode part; its track keys are checked too. Throws a {@link ConfigError}
 * `<path>:<line>:<col>: <key>: <problem>` for the first problem.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const policy = parsePolicy("transcode:\n  target_video_codec: av1\n  target_crf: 30\n", "p.yaml");
 * assert.equal(policy.targetVideoCodec, "av1");
 * assert.throws(() => parsePolicy("transcode:\n  target_crf: fast\n", "p.yaml"), /p.yaml:2:/);
 * ```
 */
export function parsePolicy(
  text: string,
  path: string,
  opts: PolicyReadOptions = {},
): TranscodePolicy {
  return readPolicyFile(parseYaml(text, path, SPEC), path, opts, true).transcode!;
}

/**
 * Loads and validates a policy file; a missing file is a {@link ConfigError}, and so is a
 * quality metric `opts.metricProblem` says this host cannot measure.
 */
export async function loadPolicyFile(
  path: string,
  opts: PolicyReadOptions = {},
): Promise<PolicyFile> {
  const text = await readPolicyText(path);
  const file = parsePolicyFile(text, path, opts);
  await checkMetric(file.transcode, text, path, opts);
  return file;
}

/** Loads and validates a policy file that must transcode (see {@link parsePolicy}). */
export async function loadPolicy(
  path: string,
  opts: PolicyReadOptions = {},
): Promise<TranscodePolicy> {
  const text = await readPolicyText(path);
  const policy = parsePolicy(text, path, opts);
  await checkMetric(policy, text, path, opts);
  return policy;
}

/** Refuses a quality target whose metric this host cannot measure, at the key that names it. */
async function checkMetric(
  policy: TranscodePolicy | null,
  text: string,
  path: string,
  opts: PolicyReadOptions,
): Promise<void> {
  const metric = policy?.targetQuality?.metric;
  const why = metric && opts.metricProblem ? await opts.metricProblem(metric) : null;
  if (!metric || !why) return;
  // Parsed again to report the problem at the key, with its line and column.
  parsePolicyFile(text, path, { unavailableMetrics: new Map([[metric, why]]) });
  throw new ConfigError(`${path}: transcode.target_quality.metric: ${why}`);
}

async function readPolicyText(path: string): Promise<string> {
  const text = await readYamlFile(path, "policy file");
  if (text === null) throw new ConfigError(`policy file not found: ${path}`);
  return text;
}

/** Command-line values that override a policy (`--codec`, `--crf`, `--max-resolution`). */
export interface PolicyOverrides {
  /** `--codec`: target codec name or alias (e.g. "hevc", "x265"); validated like the policy. */
  codec?: string;
  /** `--crf`: constant quality for the target codec; switches a bitrate policy to CRF. */
  crf?: number;
  /** `--max-resolution`: a resolution name ("1080p", "4k"); sets both max width and height. */
  maxResolution?: string;
}

/**
 * Returns `policy` with the command-line overrides applied, validated like the policy keys;
 * errors name the flag (`--crf: 70 is out of range for hevc (0-51)`).
 *
 * Changing the codec without `--crf` resets a CRF-mode policy to the new codec's default CRF,
 * because CRF scales differ between encoders (hevc 26 is not av1 26), and drops a preset the new
 * encoder does not have (x265 "slow" means nothing to SVT-AV1); a quality target's CRF range
 * becomes the new codec's default range. `--crf` switches a bitrate policy to CRF and drops a
 * quality target (the CRF given is the CRF). `--max-resolution` replaces both the policy's max
 * width and height.
 */
export function applyOverrides(
  policy: TranscodePolicy,
  overrides: PolicyOverrides,
): TranscodePolicy {
  const out = structuredClone(policy);
  if (overrides.codec !== undefined) {
    const codec = videoCodec(Field.flag("--codec", overrides.codec));
    if (codec !== policy.targetVideoCodec) {
      out.targetVideoCodec = codec;
      if (out.targetCrf !== null) out.targetCrf = DEFAULT_CRF[codec];
      if (out.preset !== null && !PRESETS[codec].includes(out.preset)) out.preset = null;
      if (out.targetQuality) {
        [out.targetQuality.crfMin, out.targetQuality.crfMax] = DEFAULT_CRF_RANGES[codec];
      }
    }
  }
  if (overrides.crf !== undefined) {
    const field = Field.flag("--crf", overrides.crf);
    out.targetCrf = checkCrf(field, out.targetVideoCodec, crf(field));
    out.targetBitrate = null;
    // A CRF given for this run is the CRF: no search.
    delete out.targetQuality;
  }
  if (overrides.maxResolution !== undefined) {
    const box = RESOLUTIONS[resolution(Field.flag("--max-resolution", overrides.maxResolution))];
    out.maxWidth = box.width;
    out.maxHeight = box.height;
  }
  return out;
}
