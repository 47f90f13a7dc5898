/**
 * The closing line of `vpo transcode`, written for cron mail: one line of counts.
 *
 * ```text
 * 2 queued, 310 remembered (300 compliant, 8 converted, 1 failed, 1 unreadable),
 * 4 skipped (3 compliant, 1 already queued), 1 still being written, 1 unreadable, 0 errors
 * ```
 *
 * Remembered decisions are counted by kind, so that a file that failed or could not be read stays
 * in every night's mail, not only in the night it was first decided.
 *
 * @module
 */
import type { FileDecision } from "./file_decision.ts";

/** How skip reasons and remembered decisions read in the summary, in the order it lists them. */
const REASON_NAMES: Readonly<Record<string, string>> = {
  compliant: "compliant",
  skip_if: "skip_if",
  dolby_vision: "Dolby Vision",
  tracks_refused: "refused by the track policy",
  not_video: "not a video",
  queued: "already queued",
  converted: "converted",
  kept_original: "kept original",
  failed: "failed",
  unreadable: "unreadable",
};

/** Counts by reason, listed in a fixed order so that nights compare line by line. */
class ReasonCounts {
  readonly #counts = new Map<string, number>();

  add(reason: string | undefined): void {
    const name = REASON_NAMES[reason ?? ""] ?? reason ?? "other";
    this.#counts.set(name, (this.#counts.get(name) ?? 0) + 1);
  }

  get total(): number {
    return [...this.#counts.values()].reduce((a, b) => a + b, 0);
  }

  /** "12 remembered (10 compliant, 2 failed)"; no parentheses when there is nothing. */
  phrase(label: string): string {
    const order = Object.values(REASON_NAMES);
    const rank = (name: string) => order.includes(name) ? order.indexOf(name) : order.length;
    const reasons = [...this.#counts].sort((a, b) => rank(a[0]) - rank(b[0]))
      .map(([name, n]) => `${n} ${name}`).join(", ");
    return `${this.total} ${label}${reasons ? ` (${reasons})` : ""}`;
  }
}

/** Counts decisions as they come. */
export class ScanSummary {
  queued = 0;
  waiting = 0;
  unreadable = 0;
  errors = 0;
  readonly remembered = new ReasonCounts();
  readonly skipped = new ReasonCounts();

  add(d: FileDecision): void {
    if (d.status === "queued") this.queued++;
    else if (d.status === "remembered") this.remembered.add(d.reason);
    else if (d.status === "waiting") this.waiting++;
    else if (d.status === "unreadable") this.unreadable++;
    else if (d.status === "error") this.errors++;
    else this.skipped.add(d.reason);
  }

  /** The line; a dry run says that nothing was queued. */
  line(dryRun: boolean): string {
    const parts = [
      `${this.queued} ${dryRun ? "to queue" : "queued"}`,
      this.remembered.phrase("remembered"),
      this.skipped.phrase("skipped"),
      `${this.waiting} still being written`,
      `${this.unreadable} unreadable`,
      `${this.errors} ${this.errors === 1 ? "error" : "errors"}`,
    ];
    return parts.join(", ") + (dryRun ? " (dry run: nothing was queued)" : "");
  }
}
