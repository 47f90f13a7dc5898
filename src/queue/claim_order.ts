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
  /**
   * `created_at` in UTC as `YYYYMMDDTHHMMSSmmmZ`: first in, first out within a priority. Fixed
   * width, so the text orders as the time does (and compares without parsing a date).
   */
  stamp: string;
}

/** `created_at` as a name's stamp, or null when it cannot be one (a year past 9999). */
function stampOf(createdAt: string): string | null {
  const ms = Date.parse(createdAt);
  if (!Number.isFinite(ms)) return null;
  const stamp = new Date(ms).toISOString().replace(/[-:.]/g, "");
  return stamp.length === 19 ? stamp : null;
}

/** The claim order a record asks for. */
export function orderOf(record: Pick<JobRecord, "priority" | "created_at">): QueuedOrder {
  return { priority: record.priority, stamp: stampOf(record.created_at) ?? record.created_at };
}

/** Priorities a name can carry: |priority| < 10^15. */
const nameable = (priority: number) => Number.isInteger(priority) && Math.abs(priority) < 1e15;

/** The name key of `order` (`q<priority>-<stamp>`), or null when it cannot be written in a name. */
export function formatOrderKey(order: QueuedOrder): string | null {
  if (!nameable(order.priority) || !STAMP_RE.test(order.stamp)) return null;
  return `q${order.priority}-${order.stamp}`;
}

const STAMP_RE = /^\d{8}T\d{9}Z$/;

/**
 * The order a name key holds, or null when `key` is not one. (Slicing, not a regex: this runs for
 * every name of a 100,000-job queue.)
 */
export function parseOrderKey(key: string): QueuedOrder | null {
  const dash = key.indexOf("-", 2);
  if (key[0] !== "q" || dash < 0) return null;
  const priority = Number(key.slice(1, dash));
  const stamp = key.slice(dash + 1);
  if (!nameable(priority) || stamp.length !== 19 || stamp[8] !== "T") return null;
  return { priority, stamp };
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Compares two queued jobs by claim order. */
export function compareOrder(
  a: QueuedOrder & { id: string },
  b: QueuedOrder & { id: string },
): number {
  return a.priority - b.priority || cmp(a.stamp, b.stamp) || cmp(a.id, b.id);
}

/** Claim order of two records (see {@link compareOrder}). */
export function compareClaimOrder(a: JobRecord, b: JobRecord): number {
  return compareOrder({ ...orderOf(a), id: a.id }, { ...orderOf(b), id: b.id });
}

/** True when two orders are the same place in the queue. */
export const sameOrder = (a: QueuedOrder, b: QueuedOrder): boolean =>
  a.priority === b.priority && a.stamp === b.stamp;

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
