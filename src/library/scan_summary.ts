/**
 * The closing line of `vpo transcode`, written for cron mail: one line of counts.
 *
 * ```text
 * 2 queued, 310 remembered, 4 skipped (3 compliant, 1 already queued), 1 still being written,
 * 1 unreadable, 0 errors
 * ```
 *
 * @module
 */
import type { FileDecision } from "./file_decision.ts";

/** How skip reasons read in the summary. */
const REASON_NAMES: Readonly<Record<string, string>> = {
  compliant: "compliant",
  skip_if: "skip_if",
  dolby_vision: "Dolby Vision",
  not_video: "not a video",
  queued: "already queued",
};

/** Counts decisions as they come. */
export class ScanSummary {
  queued = 0;
  remembered = 0;
  waiting = 0;
  unreadable = 0;
  errors = 0;
  readonly skipped = new Map<string, number>();

  add(d: FileDecision): void {
    if (d.status === "queued") this.queued++;
    else if (d.status === "remembered") this.remembered++;
    else if (d.status === "waiting") this.waiting++;
    else if (d.status === "unreadable") this.unreadable++;
    else if (d.status === "error") this.errors++;
    else {
      const name = REASON_NAMES[d.reason ?? ""] ?? d.reason ?? "other";
      this.skipped.set(name, (this.skipped.get(name) ?? 0) + 1);
    }
  }

  /** The line; a dry run says that nothing was queued. */
  line(dryRun: boolean): string {
    const skippedTotal = [...this.skipped.values()].reduce((a, b) => a + b, 0);
    // A fixed order, so that nights compare line by line.
    const order = Object.values(REASON_NAMES);
    const rank = (name: string) => order.includes(name) ? order.indexOf(name) : order.length;
    const reasons = [...this.skipped].sort((a, b) => rank(a[0]) - rank(b[0]))
      .map(([name, n]) => `${n} ${name}`).join(", ");
    const parts = [
      `${this.queued} ${dryRun ? "to queue" : "queued"}`,
      `${this.remembered} remembered`,
      `${skippedTotal} skipped${reasons ? ` (${reasons})` : ""}`,
      `${this.waiting} still being written`,
      `${this.unreadable} unreadable`,
      `${this.errors} ${this.errors === 1 ? "error" : "errors"}`,
    ];
    return parts.join(", ") + (dryRun ? " (dry run: nothing was queued)" : "");
  }
}
