/**
 * This machine's measured transcoding speed per target codec (media seconds per wall second),
 * so a worker can decline a job that cannot finish before its deadline, and what one encode uses
 * of the machine (CPU cores, memory), from which `vpo jobs start --workers auto` chooses how many
 * encodes to run at once.
 *
 * Speeds are kept per codec and per CPU cap: an encode pinned to one core runs slower than one
 * free to use them all, and a worker of `--workers 2` on two cores is such a one.
 *
 * @module
 */
import { dirname } from "node:path";
import type { FfmpegUsage } from "../media/ffmpeg_runner.ts";
import type { MachineUse } from "../queue/job_type.ts";
import { readRegularFileSync } from "../util/safe_open.ts";
import { writeFileAtomic } from "../util/durable_fs.ts";

interface Entry {
  /** Exponentially weighted mean of media seconds encoded per wall-clock second. */
  speed: number;
  samples: number;
  /** Mean CPU seconds per wall second of ffmpeg (its `-benchmark` figures), when measured. */
  cores_used?: number;
  /** Mean peak resident memory of ffmpeg in bytes, when measured. */
  rss_bytes?: number;
}

/** Weight of the newest sample: recent jobs matter most, one odd job does not dominate. */
const ALPHA = 0.3;
/** Estimates are padded: finishing a little early beats being stopped at the deadline. */
const MARGIN = 1.15;

/** Speed history stored at {@link VpoHome.speedPath} (per host: a NAS and a desktop differ). */
export class SpeedHistory {
  #entries: Record<string, Entry> = {};

  private constructor(readonly path: string) {}

  /** Loads the history at `path`; a missing or unreadable file is an empty history. */
  static async load(path: string): Promise<SpeedHistory> {
    const history = new SpeedHistory(path);
    history.#entries = history.#read();
    await Deno.mkdir(dirname(path), { recursive: true, mode: 0o700 });
    return history;
  }

  /**
   * Expected wall seconds to encode `mediaSec` to `codec` with `cores` cores (null: all), or null
   * when never measured. Without a measurement at that cap, the uncapped speed stands in.
   */
  estimateSec(codec: string, mediaSec: number, cores: number | null = null): number | null {
    const e = this.#entries[key(codec, cores)] ?? this.#entries[codec];
    return e && e.speed > 0 ? (mediaSec / e.speed) * MARGIN : null;
  }

  /** Whether `mediaSec` of `codec` can be encoded before `deadline` (unknown speed: yes). */
  fits(codec: string, mediaSec: number, deadline: Date | null, cores: number | null): boolean {
    const need = this.estimateSec(codec, mediaSec, cores);
    return !deadline || need === null || Date.now() + need * 1000 <= deadline.getTime();
  }

  /**
   * Adds a finished encode's measurement (with `cores` cores, null: all; `usage` as ffmpeg
   * reported it). The file is read again first: several workers of one host share it.
   */
  async record(
    codec: string,
    mediaSec: number,
    wallSec: number,
    cores: number | null = null,
    usage: FfmpegUsage | null = null,
  ): Promise<void> {
    if (mediaSec <= 0 || wallSec <= 0) return;
    this.#entries = { ...this.#entries, ...this.#read() };
    const k = key(codec, cores);
    const e = this.#entries[k];
    const mean = (old: number | undefined, sample: number) =>
      old === undefined ? sample : old * (1 - ALPHA) + sample * ALPHA;
    this.#entries[k] = {
      speed: mean(e?.speed, mediaSec / wallSec),
      samples: (e?.samples ?? 0) + 1,
      ...(usage
        ? {
          cores_used: mean(e?.cores_used, usage.cores),
          rss_bytes: mean(e?.rss_bytes, usage.rssBytes),
        }
        : e?.cores_used !== undefined
        ? { cores_used: e.cores_used, rss_bytes: e.rss_bytes }
        : {}),
    };
    await writeFileAtomic(this.path, JSON.stringify(this.#entries, null, 2) + "\n", {
      durable: false,
    });
  }

  /**
   * What one encode free to use every core used of this machine, for the codec with the most
   * measurements of it; null when none was measured.
   */
  machineUse(): MachineUse | null {
    const measured = Object.entries(this.#entries)
      .filter(([k, e]) =>
        !k.includes("@") && e.cores_used !== undefined && e.rss_bytes !== undefined
      )
      .sort(([, a], [, b]) => b.samples - a.samples);
    const best = measured[0]?.[1];
    return best ? { cores: best.cores_used!, memoryBytes: best.rss_bytes! } : null;
  }

  #read(): Record<string, Entry> {
    try {
      const data = JSON.parse(readRegularFileSync(this.path));
      if (data && typeof data === "object") return data;
    } catch {
      // No history yet (or a damaged one): estimates are unknown, jobs simply start.
    }
    return {};
  }
}

/** The history's key for `codec` encoded with `cores` cores (null: all of them). */
const key = (codec: string, cores: number | null) => cores === null ? codec : `${codec}@${cores}`;
