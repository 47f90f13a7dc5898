/**
 * Progress of a running ffmpeg, read from `-progress pipe:1`: blocks of key=value lines, each
 * closed by `progress=continue` (the last by `progress=end`). Percent comes from the output time
 * against the probed duration, never from frame counts (they break with deinterlacers and with
 * Matroska files that lack nb_frames).
 *
 * @module
 */

import type { LiveProgress } from "../queue/job_type.ts";
import { readLines } from "./text_lines.ts";

/** One progress report: its key=value pairs, including the closing `progress` key. */
export type ProgressBlock = Readonly<Record<string, string>>;

/** Yields the progress blocks printed on `stream`, each once its `progress=` line arrives. */
export async function* parseProgress(
  stream: ReadableStream<Uint8Array>,
): AsyncGenerator<ProgressBlock> {
  let block: Record<string, string> = {};
  for await (const line of readLines(stream)) {
    const equals = line.indexOf("=");
    if (equals <= 0) continue;
    const key = line.slice(0, equals).trim();
    block[key] = line.slice(equals + 1).trim();
    if (key === "progress") {
      yield block;
      block = {};
    }
  }
}

/** Progress as shown to a user. */
export interface ProgressUpdate {
  /** 0-100; 100 once ffmpeg reports the end. */
  percent: number;
  /** Seconds of output written so far. */
  outTimeSec: number;
  /** Frames per second, null when ffmpeg does not know (N/A, audio only). */
  fps: number | null;
  /** Encoding speed as a multiple of real time, null when unknown. */
  speed: number | null;
  /** Seconds left; null in the first seconds, when the speed or duration is unknown. */
  etaSec: number | null;
  /** ffmpeg reported `progress=end` (the exit code still decides success). */
  done: boolean;
}

/** Seconds after start during which ETA is withheld: ffmpeg's early speed is noise. */
const ETA_WARMUP_MS = 3000;
/** Weight of the newest speed sample in the moving average behind the ETA. */
const SPEED_SMOOTHING = 0.3;

/** Turns progress blocks into {@link ProgressUpdate}s for a file of known duration. */
export class ProgressTracker {
  readonly #durationSec: number;
  readonly #now: () => number;
  readonly #startedAt: number;
  #outTimeSec = 0;
  #smoothedSpeed: number | null = null;

  /**
   * @param durationSec the source's probed duration; 0 when unknown (percent stays 0).
   * @param now clock in milliseconds, injectable for tests.
   */
  constructor(durationSec: number, now: () => number = () => performance.now()) {
    this.#durationSec = durationSec;
    this.#now = now;
    this.#startedAt = now();
  }

  /** Folds in one block and returns the progress it implies. */
  update(block: ProgressBlock): ProgressUpdate {
    const outTime = outTimeSeconds(block);
    if (outTime !== null) this.#outTimeSec = Math.max(0, outTime);
    const speed = parseSpeed(block.speed);
    if (speed !== null) {
      this.#smoothedSpeed = this.#smoothedSpeed === null
        ? speed
        : SPEED_SMOOTHING * speed + (1 - SPEED_SMOOTHING) * this.#smoothedSpeed;
    }
    const done = block.progress === "end";
    const duration = this.#durationSec;
    const percent = done ? 100 : duration > 0 ? clamp(this.#outTimeSec / duration * 100) : 0;
    const warm = this.#now() - this.#startedAt >= ETA_WARMUP_MS;
    let etaSec: number | null = null;
    if (done) etaSec = 0;
    else if (warm && duration > 0 && this.#smoothedSpeed !== null && this.#smoothedSpeed > 0) {
      etaSec = Math.max(0, duration - this.#outTimeSec) / this.#smoothedSpeed;
    }
    return {
      percent,
      outTimeSec: this.#outTimeSec,
      fps: finiteOrNull(block.fps),
      speed,
      etaSec,
      done,
    };
  }
}

/**
 * Output time in seconds. `out_time_us` and (despite its name) `out_time_ms` both hold
 * microseconds; `out_time` is "[-]HH:MM:SS.micro". Null when all are absent or N/A.
 */
function outTimeSeconds(block: ProgressBlock): number | null {
  for (const key of ["out_time_us", "out_time_ms"]) {
    const micros = finiteOrNull(block[key]);
    if (micros !== null) return micros / 1e6;
  }
  const match = /^(-?)(\d+):(\d{2}):(\d{2}(?:\.\d+)?)$/.exec(block.out_time ?? "");
  if (!match) return null;
  const seconds = Number(match[2]) * 3600 + Number(match[3]) * 60 + Number(match[4]);
  return match[1] === "-" ? -seconds : seconds;
}

/** ffmpeg prints speed as "1.52x" (or "N/A"). */
function parseSpeed(value: string | undefined): number | null {
  return finiteOrNull(value?.endsWith("x") ? value.slice(0, -1) : undefined);
}

function finiteOrNull(value: string | undefined): number | null {
  if (value === undefined || value.trim() === "") return null;
  const number = Number(value);
  return Number.isFinite(number) ? number : null;
}

function clamp(percent: number): number {
  return Math.min(100, Math.max(0, percent));
}

/** An update as a job's live file keeps it (snake_case: people read the file). */
export function liveProgress(u: ProgressUpdate): LiveProgress {
  return {
    percent: u.percent,
    fps: u.fps,
    speed: u.speed,
    eta_sec: u.etaSec,
    out_time_sec: u.outTimeSec,
  };
}
