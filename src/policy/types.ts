/** Target video codecs a policy may ask for. */
export type VideoCodec = "hevc" | "h264" | "vp9" | "av1";
/** Output container: keep the source's, or force one. */
export type ContainerChoice = "keep" | "mkv" | "mp4";
/** Hardware acceleration choice; anything but "none" falls back to software when a trial fails. */
export type HwAccel = "none" | "auto" | "vaapi" | "qsv" | "nvenc";

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
}
