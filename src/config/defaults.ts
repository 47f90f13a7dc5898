/**
 * What config.yaml means when it is missing or silent, the bounds of its numbers and its `HH:MM`
 * reader: apart from the YAML reader (config.ts), which is loaded only when there is a file to
 * read, so that a command without one, and the flags that share these bounds, start without it.
 *
 * @module
 */
import type { Config } from "./types.ts";
import type { NotifyConfig } from "./notify.ts";
import { DEFAULT_LISTEN } from "./listen.ts";

/** The configuration used when config.yaml is missing or silent about a key. */
export function defaultConfig(): Config {
  return {
    jobs: {
      retentionDays: 30,
      autoPurge: true,
      tempDirectory: null,
      backupOriginal: true,
      segmentLength: 300,
      sharedGroup: null,
    },
    worker: {
      maxFiles: null,
      maxDuration: null,
      endBy: null,
      cpuCores: null,
      workers: 1,
      preferSegments: false,
      heartbeatInterval: 10,
      staleAfter: 120,
    },
    serve: { listen: DEFAULT_LISTEN, tokenFile: null, policies: [], folders: [] },
    notify: defaultNotify(),
    library: { settleSeconds: 120 },
  };
}

/** No notifications. */
export function defaultNotify(): NotifyConfig {
  return { command: null, webhook: null, webhookFormat: "json", timeoutSec: 10 };
}

/**
 * Upper bounds of the numbers in config.yaml and of the flags that override them. Far beyond any
 * real use, they keep every value inside what the code computes with: a timer holds at most
 * 2^31-1 ms (~24.8 days; a longer heartbeat would silently fire every millisecond), a `Date`
 * at most ~285,000 years from now, and taskset a core list of sane length.
 */
export const CONFIG_LIMITS = {
  /** 100 years. */
  retentionDays: 36_500,
  maxFiles: 1_000_000_000,
  /** 366 days. */
  maxDurationSec: 31_622_400,
  cpuCores: 4096,
  /** Worker loops of one `vpo jobs start`: each runs ffmpeg, and more than cores is no use. */
  workers: 4096,
  /** One hour: a heartbeat is a cheap utime, and stale_after must be twice as long. */
  heartbeatIntervalSec: 3600,
  /** One week. */
  staleAfterSec: 604_800,
  /** One day of media per segment. */
  segmentLengthSec: 86_400,
  /** One day: a file still being written after that is not arriving, it is stuck. */
  settleSeconds: 86_400,
} as const;

/**
 * Reads a local wall-clock time `HH:MM` (24 h, `H:MM` accepted) and returns it as `HH:MM`.
 * Throws an Error with the reason otherwise; a number means YAML read an unquoted value
 * (`end_by: 0600`), so the message asks for quotes. Also meant for the `--end-by` flag.
 */
export function parseTimeOfDay(value: string | number): string {
  if (typeof value === "number") {
    throw new Error(`${value} is not a time; write it quoted as "HH:MM", e.g. "06:00"`);
  }
  const m = /^(\d{1,2}):(\d\d)$/.exec(value.trim());
  if (!m || Number(m[1]) > 23 || Number(m[2]) > 59) {
    throw new Error(`"${value}" is not a time of day (expected "HH:MM" from 00:00 to 23:59)`);
  }
  return `${m[1].padStart(2, "0")}:${m[2]}`;
}

/**
 * A number of worker loops (`worker.workers`, `--workers`): a whole number from 1 to
 * `CONFIG_LIMITS.workers`, or "auto" (chosen from the cores, memory and measured encodes: see
 * `src/worker/auto_workers.ts`). Throws an Error with the reason otherwise.
 */
export function parseWorkers(value: string | number): number | "auto" {
  const text = String(value).trim();
  if (text === "auto") return "auto";
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < 1 || n > CONFIG_LIMITS.workers) {
    throw new Error(
      `expected a whole number from 1 to ${CONFIG_LIMITS.workers} or "auto", got "${text}"`,
    );
  }
  return n;
}
