/**
 * Claim order: priority (lower first), then first in, first out, then id for a total order. A
 * queued file's name carries its order (`<id>.q<priority>-<created>.json`, as maildir carries
 * flags in names), so that the head of a 100,000-job queue is found from names alone.
 *
 * @module
 */
import type { JobRecord } from "./job.ts";

/** Where a job stands in the claim order, besides its id. */
export interface QueuedOrder {
  /** Lower runs first. */
  priority: number;
  /** `created_at` in ms since the epoch: first in, first out within a priority. */
  createdMs: number;
}

// q<priority>-<UTC yyyymmddThhmmssmmm>Z: readable in `ls`, and never a claim token (has a "-").
const KEY_RE = /^q(-?\d{1,15})-(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(\d{3})Z$/;

/** The claim order a record asks for. */
export function orderOf(record: Pick<JobRecord, "priority" | "created_at">): QueuedOrder {
  return { priority: record.priority, createdMs: Date.parse(record.created_at) };
}

/** The name key of `order`, or null when it cannot be written in a name (a huge priority). */
export function formatOrderKey(order: QueuedOrder): string | null {
  if (!Number.isSafeInteger(order.priority) || Math.abs(order.priority) >= 1e15) return null;
  const date = new Date(order.createdMs);
  const year = date.getUTCFullYear();
  if (!Number.isFinite(order.createdMs) || year < 1000 || year > 9999) return null;
  return `q${order.priority}-${date.toISOString().replace(/[-:.]/g, "")}`;
}

/** The order a name key holds, or null when `key` is not one. */
export function parseOrderKey(key: string): QueuedOrder | null {
  const m = KEY_RE.exec(key);
  if (!m) return null;
  const [y, mo, d, h, mi, s, ms] = m.slice(2).map(Number);
  return { priority: Number(m[1]), createdMs: Date.UTC(y, mo - 1, d, h, mi, s, ms) };
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Compares two queued jobs by claim order. */
export function compareOrder(
  a: QueuedOrder & { id: string },
  b: QueuedOrder & { id: string },
): number {
  return a.priority - b.priority || a.createdMs - b.createdMs || cmp(a.id, b.id);
}

/** Claim order of two records (see {@link compareOrder}). */
export function compareClaimOrder(a: JobRecord, b: JobRecord): number {
  return compareOrder({ ...orderOf(a), id: a.id }, { ...orderOf(b), id: b.id });
}

/** True when two orders are the same place in the queue. */
export const sameOrder = (a: QueuedOrder, b: QueuedOrder): boolean =>
  a.priority === b.priority && a.createdMs === b.createdMs;

let lastCreatedMs = 0;

/**
 * The creation time of a new job: now, but always later than the last one this process made, so
 * that jobs queued within one millisecond still run first in, first out (ties would otherwise
 * fall to the random id).
 */
export function nextCreatedAt(): Date {
  lastCreatedMs = Math.max(Date.now(), lastCreatedMs + 1);
  return new Date(lastCreatedMs);
}
