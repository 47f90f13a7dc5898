/**
 * This machine's measured transcoding speed per target codec (media seconds per wall second),
 * so a worker can decline a job that cannot finish before its deadline.
 *
 * @module
 */
import { dirname } from "node:path";
import { readRegularFileSync } from "../util/safe_open.ts";
import { writeFileAtomic } from "../util/durable_fs.ts";

interface Entry {
  /** Exponentially weighted mean of media seconds encoded per wall-clock second. */
  speed: number;
  samples: number;
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
    try {
      const data = JSON.parse(readRegularFileSync(history.path));
      if (data && typeof data === "object") history.#entries = data;
    } catch {
      // No history yet (or a damaged one): estimates are unknown, jobs simply start.
    }
    await Deno.mkdir(dirname(path), { recursive: true, mode: 0o700 });
    return history;
  }

  /** Expected wall seconds to encode `mediaSec` to `codec`, or null when never measured. */
  estimateSec(codec: string, mediaSec: number): number | null {
    const e = this.#entries[codec];
    return e && e.speed > 0 ? (mediaSec / e.speed) * MARGIN : null;
  }

  /** Adds a finished encode's measurement. */
  async record(codec: string, mediaSec: number, wallSec: number): Promise<void> {
    if (mediaSec <= 0 || wallSec <= 0) return;
    const sample = mediaSec / wallSec;
    const e = this.#entries[codec];
    this.#entries[codec] = e
      ? { speed: e.speed * (1 - ALPHA) + sample * ALPHA, samples: e.samples + 1 }
      : { speed: sample, samples: 1 };
    await writeFileAtomic(this.path, JSON.stringify(this.#entries, null, 2) + "\n", {
      durable: false,
    });
  }
}
