/**
 * Measuring how close an encode is to its reference with ffmpeg's `ssim` or `psnr` filter, or
 * `libvmaf` where ffmpeg was built with it, frame by frame.
 *
 * Both videos are brought to the encode's picture: the reference is scaled to the encode's size
 * with the very filter the encode used (`scale=W:H`) and both are converted to the encode's pixel
 * format, so a score measures what the encoder lost, not the resolution the policy chose to
 * drop. Both start at time 0 (`setpts=PTS-STARTPTS`) and frames are paired by timestamp; the
 * comparison stops at the shorter one. Per-frame scores go to a temp file vpo made (the filters'
 * `stats_file`, libvmaf's CSV `log_path`), which ffmpeg reaches through `/proc/<pid>/fd/<n>`.
 *
 * @module
 */
import { FfmpegError } from "../errors.ts";
import { fileArg, runCaptured } from "../media/exec.ts";
import { runStep, type SampleRun } from "./ffmpeg_step.ts";
import type { ProgressUpdate } from "../media/progress.ts";
import type { QualityMetric } from "../policy/types.ts";
import type { OwnedFile } from "../util/owned_file.ts";
import { frameScore, type ScoreSummary, summarize, vmafColumnOf } from "./scores.ts";
import type { QualityTemps } from "./temps.ts";

const filterLists = new Map<string, Promise<Set<string> | null>>();

/** The filters of this ffmpeg (`ffmpeg -filters`), asked once per process; null if it fails. */
function ffmpegFilters(ffmpeg = "ffmpeg"): Promise<Set<string> | null> {
  let list = filterLists.get(ffmpeg);
  if (!list) {
    list = runCaptured(ffmpeg, ["-hide_banner", "-filters"]).then(
      (run) =>
        run.code === 0
          ? new Set(run.stdout.split("\n").map((l) => l.trim().split(/\s+/)[1]).filter(Boolean))
          : null,
      () => null,
    );
    filterLists.set(ffmpeg, list);
  }
  return list;
}

/** The filter each metric is measured with. */
const FILTERS: Readonly<Record<QualityMetric, string>> = {
  ssim: "ssim",
  psnr: "psnr",
  vmaf: "libvmaf",
};

/**
 * Why this host's ffmpeg cannot measure `metric`, or null when it can. (Debian's ffmpeg has
 * `ssim` and `psnr` but no `libvmaf`; ffmpeg 5 or later built with libvmaf 2 carries its
 * models.)
 */
export async function metricProblem(metric: QualityMetric): Promise<string | null> {
  const filters = await ffmpegFilters();
  if (filters === null) return "cannot list ffmpeg's filters (`ffmpeg -filters` failed)";
  if (filters.has(FILTERS[metric])) return null;
  return metric === "vmaf"
    ? "vmaf needs an ffmpeg built with libvmaf, and this one has none: use ssim or psnr, or " +
      "install an ffmpeg with libvmaf"
    : `this ffmpeg has no ${FILTERS[metric]} filter`;
}

/** What to compare, and how; ffmpeg runs as the search's other steps do. */
export interface CompareOptions extends SampleRun {
  metric: QualityMetric;
  /** The encode. Its first video stream is scored. */
  distorted: string;
  /** The reference, and its stream (`v:0`, or `<index>` of a source with several streams). */
  reference: string;
  referenceStream: string;
  /** The encode's picture: size (the reference is scaled to it) and pixel format. */
  width: number;
  height: number;
  /** True when the reference must be scaled to `width` x `height`. */
  scale: boolean;
  pixFmt: string;
  /** Seconds of the reference, for progress. */
  durationSec: number;
  /** Where the per-frame log is made. */
  temps: QualityTemps;
  onProgress?: (update: ProgressUpdate) => void;
}

/**
 * Scores every frame of the encode against the reference.
 *
 * @throws FfmpegError when ffmpeg fails or scores no frame; the signal's reason when stopped.
 */
export async function compareVideos(opts: CompareOptions): Promise<ScoreSummary> {
  const log = await opts.temps.create(`${opts.metric}.log`);
  try {
    const cores = opts.cpuCores;
    const threads = cores === null ? [] : ["-threads", `${cores}`];
    // -threads before each -i caps that input's decoder.
    const args = [
      ...["-nostdin", "-hide_banner", "-y"],
      ...(cores === null ? [] : ["-filter_threads", `${cores}`]),
      ...[...threads, "-i", fileArg(opts.distorted), ...threads, "-i", fileArg(opts.reference)],
      ...["-filter_complex", filterGraph(opts, log)],
      ...["-an", "-sn", "-dn", "-progress", "pipe:1", "-nostats", "-f", "null", "-"],
    ];
    await runStep(opts, `measuring ${opts.metric}`, args, {
      durationSec: opts.durationSec,
      onProgress: opts.onProgress,
    });
    const summary = summarize(readScores(log, opts.metric));
    if (summary === null) throw new FfmpegError(`ffmpeg measured ${opts.metric} on no frame`);
    return summary;
  } finally {
    await opts.temps.remove(log);
  }
}

/** The filter graph: both pictures made alike, then the metric's filter writing into `log`. */
function filterGraph(opts: CompareOptions, log: OwnedFile): string {
  const format = `format=${opts.pixFmt},setpts=PTS-STARTPTS`;
  const scale = opts.scale ? `scale=${opts.width}:${opts.height},` : "";
  const path = filterValue(log.pathForChild);
  const threads = opts.cpuCores ?? navigator.hardwareConcurrency;
  const metric = {
    ssim: `ssim=shortest=1:stats_file=${path}`,
    psnr: `psnr=shortest=1:stats_file=${path}`,
    vmaf: `libvmaf=shortest=1:log_fmt=csv:log_path=${path}:n_threads=${threads}`,
  }[opts.metric];
  return `[0:v:0]${format}[d];[1:${opts.referenceStream}]${scale}${format}[r];[d][r]${metric}`;
}

/**
 * A path as a filter option's value inside a filter graph: escaped once for the option
 * (`\ ' :`), then once for the graph (`\ ' [ ] , ;`), as ffmpeg-filters(1) describes. On Linux
 * it is always `/proc/<pid>/fd/<n>`, which needs neither.
 */
function filterValue(path: string): string {
  return path.replace(/[\\':]/g, "\\$&").replace(/[\\'[\],;]/g, "\\$&");
}

/** The per-frame scores ffmpeg wrote into `log`, read through vpo's own descriptor. */
function readScores(log: OwnedFile, metric: QualityMetric): Float64Array {
  const scores: number[] = [];
  const decoder = new TextDecoder();
  const buffer = new Uint8Array(1 << 16);
  let rest = "";
  let vmafColumn = -1;
  const take = (line: string) => {
    if (metric === "vmaf" && vmafColumn < 0) {
      vmafColumn = vmafColumnOf(line);
      return;
    }
    const score = frameScore(metric, line, vmafColumn);
    if (score !== null) scores.push(score);
  };
  for (let at = 0, n = log.readAt(buffer, 0); n > 0; at += n, n = log.readAt(buffer, at)) {
    const lines = (rest + decoder.decode(buffer.subarray(0, n), { stream: true })).split("\n");
    rest = lines.pop()!;
    lines.forEach(take);
  }
  take(rest + decoder.decode());
  return Float64Array.from(scores);
}
