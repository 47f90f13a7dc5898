/**
 * What `vpo jobs start` tells its user. On a terminal: a live progress line. Elsewhere (cron,
 * journald): one plain timestamped line per event, never a progress bar's control characters.
 *
 * @module
 */
import { basename } from "node:path";
import { formatDuration, localSecond } from "../util/format.ts";
import { shortId } from "../util/ids.ts";
import { displayName } from "../util/display_name.ts";
import { writeBestEffort } from "../util/output.ts";

/** A progress sample of the job being run. */
export interface ProgressSample {
  /** Percent done, 0-100. */
  percent: number | null;
  /** Encoded frames per second; null when unknown. */
  fps: number | null;
  /** Encoding speed as a multiple of real time; null when unknown. */
  speed: number | null;
  /** Estimated seconds left; null while unknown. */
  etaSec: number | null;
}

/** What a worker event line is about: a job's start and end, or the worker itself. */
export type WorkerEventKind =
  | "started"
  | "helping"
  | "completed"
  | "failed"
  | "cancelled"
  | "requeued"
  | "lost"
  | "recovered"
  | "purged"
  | "warning"
  | "note"
  | "filesystem"
  | "cpu"
  | "worker"
  | "stopping"
  | "done";

/** Receives the worker's events. */
export interface WorkerReporter {
  /** One event line (started, finished, failed, skipped, requeued, worker messages). */
  event(kind: WorkerEventKind, jobId: string | null, file: string | null, detail: string): void;
  /** Latest progress of running job `jobId` on `file` (called for every ffmpeg progress report). */
  progress(jobId: string, file: string, sample: ProgressSample): void;
}

function eventLine(
  kind: WorkerEventKind,
  jobId: string | null,
  file: string | null,
  detail: string,
) {
  const who = [jobId && shortId(jobId), file ? basename(file) : null].filter(Boolean).join(" ");
  const line = `${localSecond(new Date())} ${kind.padEnd(9)} ${who}${
    who && detail ? ": " : ""
  }${detail}`;
  return displayName(line);
}

// Best-effort: a full log disk or a closed pipe must not fail the job being reported on.
const write = (text: string) => writeBestEffort(Deno.stdout, text);

/** Plain lines, for logs. Progress is not printed (the job file and `jobs list` have it). */
export class PlainReporter implements WorkerReporter {
  event(kind: WorkerEventKind, jobId: string | null, file: string | null, detail: string): void {
    write(eventLine(kind, jobId, file, detail) + "\n");
  }
  progress(): void {}
}

/** A live progress bar on a terminal, with event lines printed above it. */
export class TerminalReporter implements WorkerReporter {
  #barShown = false;

  event(kind: WorkerEventKind, jobId: string | null, file: string | null, detail: string): void {
    this.#clearBar();
    write(eventLine(kind, jobId, file, detail) + "\n");
  }

  progress(jobId: string, file: string, s: ProgressSample): void {
    const width = 30;
    const pct = Math.max(0, Math.min(100, s.percent ?? 0));
    const filled = Math.round((pct / 100) * width);
    const bar = "#".repeat(filled) + "-".repeat(width - filled);
    const parts = [
      `${pct.toFixed(1).padStart(5)}%`,
      s.fps !== null ? `${s.fps.toFixed(0)} fps` : null,
      s.speed !== null ? `${s.speed.toFixed(2)}x` : null,
      s.etaSec !== null ? `ETA ${formatDuration(s.etaSec)}` : null,
    ].filter(Boolean).join("  ");
    const name = displayName(basename(file));
    const short = name.length > 32 ? name.slice(0, 31) + "…" : name;
    write(`\r\x1b[2K${shortId(jobId)} ${short} [${bar}] ${parts}`);
    this.#barShown = true;
  }

  #clearBar(): void {
    if (this.#barShown) write("\r\x1b[2K");
    this.#barShown = false;
  }
}
