/** Target video codecs a policy may ask for. */
export type VideoCodec = "hevc" | "h264" | "vp9" | "av1";
/** Output container: keep the source's, or force one. */
export type ContainerChoice = "keep" | "mkv" | "mp4";
/** Hardware acceleration choice; anything but "none" falls back to software when a trial fails. */
export type HwAccel = "none" | "auto" | "vaapi" | "qsv" | "nvenc";

/** Metrics a quality target can be scored with (see docs/quality.md). */
export type QualityMetric = "ssim" | "psnr" | "vmaf";

/**
 * How per-frame scores make a file's score: their mean, or a low percentile (`p5`: 5 % of the
 * frames score lower), which a few bad scenes pull down where a mean hides them.
 */
export type QualityRule = "mean" | `p${number}`;

/**
 * A quality to reach instead of one CRF for every file: each file's CRF is searched on samples
 * so that its score reaches `min` at the smallest size (src/quality/, docs/quality.md).
 */
export interface TargetQuality {
  /** The metric scores are measured with. */
  metric: QualityMetric;
  /** The lowest score accepted, on the metric's own scale (SSIM 0-1, PSNR dB, VMAF 0-100). */
  min: number;
  /** How per-frame scores make one score. */
  rule: QualityRule;
  /** Largest output accepted, as a percent of the source file's size. */
  maxEncodedPercent: number;
  /** Lowest CRF (best quality, biggest) the search tries. */
  crfMin: number;
  /** Highest CRF (worst quality, smallest) the search tries. */
  crfMax: number;
  /** Seconds of media per sample. */
  sampleSeconds: number;
  /** One sample per this many seconds of media (at least one). */
  sampleEvery: number;
  /**
   * How far above `min` a predicted score may be for the search to stop, and how far below
   * `min` an encode's measured score may be and still count as reaching it.
   */
  tolerance: number;
}

/** Conditions under which a file is skipped even though it is not compliant. */
export interface SkipConditions {
  /** Source video codecs treated as already good enough (e.g. [hevc, av1]). */
  codecIn: string[];
  /** Skip sources whose overall bitrate (bits/s) is below this. */
  bitrateBelow: number | null;
  /** Skip sources smaller than this many bytes. */
  sizeBelow: number | null;
  /** Skip Dolby Vision sources (a re-encode loses Dolby Vision). Default true. */
  dolbyVision: boolean;
}

/** A validated, fully defaulted transcode policy. Stored verbatim in each job as a snapshot. */
export interface TranscodePolicy {
  /** The file's `schema_version` (1 when absent). */
  schemaVersion: number;
  /** Video codec the output is encoded to. */
  targetVideoCodec: VideoCodec;
  /** Constant quality; null when targetBitrate is used. Range depends on the codec. */
  targetCrf: number | null;
  /** Target video bitrate in bits/s; null when CRF is used. */
  targetBitrate: number | null;
  /** Bounding-box width in pixels; null = no limit. max_resolution sets both (1080p: 1920x1080). */
  maxWidth: number | null;
  /** Bounding-box height in pixels; null = no limit (see maxWidth). */
  maxHeight: number | null;
  /** Encoder preset (x264/x265 names, SVT-AV1 0-13 as a string, vp9 cpu-used); null = default. */
  preset: string | null;
  /** Output container: the source's ("keep"), or always mkv or mp4. */
  container: ContainerChoice;
  /** Hardware encoder API to try ("auto": NVENC, QSV, then VAAPI); software if none works. */
  hwAccel: HwAccel;
  /** Audio codecs (ffprobe codec_name) copied as they are. */
  audioPreserveCodecs: string[];
  /** Codec that other audio streams are converted to (aac, opus, ac3, eac3, flac). */
  audioTranscodeTo: string;
  /** Bitrate for converted audio in bits/s. */
  audioTranscodeBitrate: number;
  /** When a non-compliant file is skipped rather than transcoded. */
  skipIf: SkipConditions;
  /** Keep an output that is not smaller than its source (default false: keep the original). */
  keepLargerOutput: boolean;
  /**
   * Search each file's CRF for this quality (targetCrf then only seeds a folder's first search).
   * Absent, not null, when the policy has none: policies without it hash as they always did.
   */
  targetQuality?: TargetQuality;
}
