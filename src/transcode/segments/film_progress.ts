/**
 * One progress for the whole film while several workers encode its segments: the worker holding
 * the job adds up the finished segments, its own encode and what every helper's beat says, and
 * writes it to the job's live file, where `jobs list`, `jobs show` and the page read it.
 *
 * @module
 */
import type { LiveProgress } from "../../queue/job_type.ts";
import type { SegmentJournal } from "./journal.ts";
import { progressOf, round, type SegmentProgress } from "./progress.ts";
import type { BoardView } from "./segment_board.ts";
import type { SegmentProgressSample } from "./encode_segment.ts";

/** A segment being encoded, as the live file shows it. */
export interface RunningSegment {
  /** 1-based segment number, as people count. */
  segment: number;
  host: string;
  /** Percent of the segment done; null before its first report. */
  percent: number | null;
}

/** The live file's `segments` while a segmented job runs. */
export interface LiveSegments extends SegmentProgress {
  /** The journal's plan id: a helper checks it reaches the same segment directory. */
  plan_id: string;
  /** Segments being encoded now, by any worker whose beat is fresh. */
  running: RunningSegment[];
}

/** Adds up a segmented job's progress across its workers. */
export class FilmProgress {
  #own: { index: number; host: string; sample: SegmentProgressSample } | null = null;
  #view: BoardView | null = null;

  constructor(
    readonly journal: SegmentJournal,
    readonly opts: {
      windowSec: number | null;
      staleAfterSec: number;
      /** The film's progress, for the terminal and the live file. */
      report: (p: LiveProgress) => void;
      /** Writes the live file's `segments`. */
      write: (segments: LiveSegments) => Promise<void>;
    },
  ) {}

  /** This worker's own encode of segment `index` went on (null: it ended). */
  own(index: number, host: string, sample: SegmentProgressSample | null): void {
    this.#own = sample ? { index, host, sample } : null;
    this.#report();
  }

  /** A new look at the segment directory: written to the live file. */
  async saw(view: BoardView): Promise<void> {
    this.#view = view;
    await this.opts.write(this.segments());
    this.#report();
  }

  /** What the live file shows of the segments now. */
  segments(): LiveSegments {
    const view = this.#view;
    const records = view?.records ?? new Map();
    return {
      ...progressOf(this.journal, records, this.opts.windowSec),
      plan_id: this.journal.plan_id,
      running: this.#running().map((r) => ({
        segment: r.index + 1,
        host: r.host,
        percent: r.percent === null ? null : round(r.percent),
      })),
    };
  }

  /** Unfinished segments being encoded now: this worker's own, and others' with a fresh beat. */
  #running(): { index: number; host: string; percent: number | null; speed: number | null }[] {
    const running = [];
    const own = this.#own;
    if (own) {
      running.push({ index: own.index, host: own.host, ...own.sample });
    }
    for (const [index, claims] of this.#view?.claims ?? []) {
      if (index === own?.index || this.#view!.records.has(index)) continue;
      const live = claims.find((c) =>
        c.beat && c.ageSec !== null && c.ageSec <= this.opts.staleAfterSec
      );
      if (live?.beat) {
        running.push({
          index,
          host: live.beat.worker.host,
          percent: live.beat.percent,
          speed: live.beat.speed,
        });
      }
    }
    return running.sort((a, b) => a.index - b.index);
  }

  #report(): void {
    const records = this.#view?.records ?? new Map();
    const running = this.#running();
    let encoded = 0;
    let total = 0;
    for (const seg of this.journal.segments) {
      total += seg.mediaSec;
      if (records.has(seg.index)) encoded += seg.mediaSec;
    }
    for (const r of running) {
      encoded += this.journal.segments[r.index].mediaSec * (r.percent ?? 0) / 100;
    }
    const speeds = running.flatMap((r) => r.speed && r.speed > 0 ? [r.speed] : []);
    const speed = speeds.length ? speeds.reduce((a, b) => a + b, 0) : null;
    this.opts.report({
      percent: total > 0 ? Math.min(100, encoded / total * 100) : 0,
      fps: this.#own?.sample.fps ?? null,
      speed,
      eta_sec: speed ? Math.max(0, total - encoded) / speed : null,
      out_time_sec: encoded,
    });
  }
}
