/**
 * A job's policy snapshots (`payload.policy`, a {@link TranscodePolicy} as JSON, and
 * `payload.tracks`, a {@link TrackPolicy}) checked again when the job runs: the job file may have
 * been edited by hand since `vpo transcode` wrote it. Each key goes through the same reader as the
 * policy file's key it came from, so the messages are the policy file's, prefixed with the job
 * file and the key:
 *
 * ```text
 * /q/running/ab12.json: payload.policy.targetCrf: 70 is out of range for hevc (0-51)
 * ```
 *
 * @module
 */
import { closest } from "../util/suggest.ts";
import { boolean, choice, Field, integer, nullable, type Reader } from "../config/yaml_schema.ts";
import {
  AUDIO_TARGETS,
  bitrate,
  checkCrf,
  checkPreset,
  codecName,
  CONTAINERS,
  crf,
  CRF_RANGES,
  dimension,
  HW_ACCELS,
  size,
  SUPPORTED_SCHEMA_VERSIONS,
  videoCodec,
} from "./policy.ts";
import {
  AUDIO_FALLBACKS,
  commentaryPattern,
  INCOMPATIBLE_CODEC_MODES,
  languageCode,
  TRACK_CLASSES,
} from "./track_policy.ts";
import type {
  AudioFilter,
  ContainerTarget,
  DefaultFlags,
  SubtitleFilter,
  TrackPolicy,
} from "./track_types.ts";
import type { SkipConditions, TargetQuality, TranscodePolicy } from "./types.ts";
import { checkTargetQuality, TARGET_QUALITY_SNAPSHOT } from "./target_quality.ts";

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** A JSON array whose items `item` reads, reported as `key[index]`. */
const array = <T>(item: Reader<T>): Reader<T[]> => (field) => {
  const list = field.value;
  if (!Array.isArray(list)) return field.fail(`expected a list, got ${JSON.stringify(list)}`);
  return list.map((v, i) => item(Field.flag(`${field.where}[${i}]`, v)));
};

const preset: Reader<string | null> = nullable((field): string => {
  const name = field.value;
  if (typeof name !== "string") return field.fail("expected a preset name as a string");
  return name;
});

/** Reads a JSON object whose keys are exactly those of `spec` (all required). */
function object<T>(where: string, value: unknown, spec: { [K in keyof T]: Reader<T[K]> }): T {
  const field = Field.flag(where, value);
  if (!isRecord(value)) {
    return field.fail(`expected an object, got ${JSON.stringify(value) ?? "nothing"}`);
  }
  const known = Object.keys(spec);
  for (const key of Object.keys(value)) {
    if (Object.hasOwn(spec, key)) continue;
    const guess = closest(key, known);
    Field.flag(`${where}.${key}`, value[key]).fail(
      guess ? `unknown key (did you mean "${guess}"?)` : "unknown key",
    );
  }
  const out: Record<string, unknown> = {};
  for (const key of known) {
    const child = Field.flag(`${where}.${key}`, value[key] ?? null);
    if (!Object.hasOwn(value, key)) child.fail("missing");
    out[key] = (spec as Record<string, Reader<unknown>>)[key](child);
  }
  return out as T;
}

/**
 * Checks the policy snapshot `value` of a job; `where` names it in messages
 * (`<job file>: payload.policy`). Throws a ConfigError naming the first bad key.
 */
export function checkPolicySnapshot(value: unknown, where: string): TranscodePolicy {
  // The one optional key: absent in every policy without a quality target (and in jobs queued
  // before there was one).
  const { targetQuality: quality, ...rest } = isRecord(value) ? value : {};
  const policy = object<TranscodePolicy>(where, isRecord(value) ? rest : value, {
    schemaVersion: integer(),
    targetVideoCodec: videoCodec,
    targetCrf: nullable(crf),
    targetBitrate: nullable(bitrate),
    maxWidth: dimension,
    maxHeight: dimension,
    preset,
    container: choice("a container", CONTAINERS),
    hwAccel: choice("a hardware acceleration mode", HW_ACCELS),
    audioPreserveCodecs: array(codecName),
    audioTranscodeTo: choice("an audio codec", AUDIO_TARGETS),
    audioTranscodeBitrate: bitrate,
    skipIf: (field) =>
      object<SkipConditions>(field.where, field.value, {
        codecIn: array(codecName),
        bitrateBelow: nullable(bitrate),
        sizeBelow: nullable(size),
        dolbyVision: boolean(),
      }),
    keepLargerOutput: boolean(),
  });
  const at = (key: keyof TranscodePolicy) =>
    Field.flag(`${where}.${key}`, (value as Record<string, unknown>)[key]);
  if (!SUPPORTED_SCHEMA_VERSIONS.includes(policy.schemaVersion)) {
    at("schemaVersion").fail(`${policy.schemaVersion} is not supported`);
  }
  if ((policy.targetCrf === null) === (policy.targetBitrate === null)) {
    at("targetBitrate").fail("set exactly one of targetCrf and targetBitrate");
  }
  if (policy.targetCrf !== null) {
    checkCrf(at("targetCrf"), policy.targetVideoCodec, policy.targetCrf);
  }
  if (policy.preset !== null) checkPreset(at("preset"), policy.targetVideoCodec, policy.preset);
  if (quality === undefined) return policy;
  const q = `${where}.targetQuality`;
  const targetQuality = checkTargetQuality(
    object<TargetQuality>(q, quality, TARGET_QUALITY_SNAPSHOT),
    (key) => Field.flag(`${q}.${key}`, (quality as Record<string, unknown>)[key]),
    CRF_RANGES[policy.targetVideoCodec],
  );
  return { ...policy, targetQuality };
}

/**
 * Checks the track policy snapshot `value` of a job; `where` names it in messages
 * (`<job file>: payload.tracks`). Throws a ConfigError naming the first bad key.
 */
export function checkTrackPolicySnapshot(value: unknown, where: string): TrackPolicy {
  const languages = array(languageCode);
  return object<TrackPolicy>(where, value, {
    trackOrder: array(choice("a track class", TRACK_CLASSES)),
    audioLanguagePreference: languages,
    subtitleLanguagePreference: languages,
    commentaryPatterns: array(commentaryPattern),
    defaultFlags: (field) =>
      object<DefaultFlags>(field.where, field.value, {
        setFirstVideoDefault: boolean(),
        setPreferredAudioDefault: boolean(),
        setPreferredSubtitleDefault: boolean(),
        clearOtherDefaults: boolean(),
      }),
    audioFilter: nullable((field) =>
      object<AudioFilter>(field.where, field.value, {
        languages,
        minimum: integer({ min: 1, max: 64 }),
        fallback: choice("a fallback mode", AUDIO_FALLBACKS),
      })
    ),
    subtitleFilter: nullable((field) =>
      object<SubtitleFilter>(field.where, field.value, {
        languages: nullable(languages),
        preserveForced: boolean(),
        removeAll: boolean(),
      })
    ),
    removeAttachments: boolean(),
    container: nullable((field) =>
      object<ContainerTarget>(field.where, field.value, {
        target: choice("a container", ["mkv", "mp4"] as const),
        onIncompatibleCodec: choice("an on_incompatible_codec mode", INCOMPATIBLE_CODEC_MODES),
      })
    ),
  });
}
