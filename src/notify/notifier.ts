/**
 * Delivering notifications without ever holding up the work: each event is sent in the
 * background (a hook program and/or a webhook), each attempt bounded by `notify.timeout`, retried
 * once; a worker waits for what is still in flight only at its very end, and only that long.
 * At most {@link MAX_AT_ONCE} deliveries run at once and {@link MAX_WAITING} wait their turn;
 * beyond that a delivery is dropped and counted, so that no number of failing jobs can start
 * hundreds of hooks and run the worker out of file descriptors.
 *
 * @module
 */
import type { Job } from "../queue/job.ts";
import type { JobTypes } from "../queue/job_type.ts";
import type { WorkerReporter } from "../worker/reporter.ts";
import type { NotifyConfig } from "../config/notify.ts";
import {
  eventEnv,
  jobFailedEvent,
  type NotifyEvent,
  type WorkerDoneEvent,
  workerDoneEvent,
} from "./events.ts";
import { webhookRequest } from "./webhook_body.ts";
import { sleep } from "../util/sleep.ts";
import { spawnChild, spawnFailure } from "../util/spawn.ts";

/** Pause before the one retry: long enough for a restarting service, short for a worker's exit. */
const RETRY_DELAY_MS = 1000;
/** Deliveries running at once (each a hook process with its pipes, or a connection). */
export const MAX_AT_ONCE = 4;
/** Deliveries waiting for a turn; more are dropped (a hook that slow misses them anyway). */
export const MAX_WAITING = 100;

/** Sends events to the configured hook and webhook. */
export class Notifier {
  #pending = new Set<Promise<void>>();
  #waiting: (() => Promise<void>)[] = [];
  #running = 0;
  #dropped = 0;
  #abort = new AbortController();

  /** `onProblem` hears a one-line message for each delivery that failed twice. */
  constructor(readonly config: NotifyConfig, private readonly onProblem: (msg: string) => void) {}

  /** A notifier for `config`, or null when nothing is configured. */
  static create(config: NotifyConfig, onProblem: (msg: string) => void): Notifier | null {
    return config.command || config.webhook ? new Notifier(config, onProblem) : null;
  }

  /**
   * Starts delivering `event`, or queues it behind the deliveries running; returns at once. An
   * `essential` event (the run's summary) is queued even when the queue is full.
   */
  fire(event: NotifyEvent, options: { essential?: boolean } = {}): void {
    const { command, webhook } = this.config;
    if (command) {
      this.#schedule(
        () => this.#withRetry(`hook ${command[0]}`, (s) => runHook(command, event, s)),
        options.essential,
      );
    }
    if (webhook) {
      const where = `webhook ${new URL(webhook).host}`;
      this.#schedule(
        () => this.#withRetry(where, (s) => postWebhook(this.config, event, s)),
        options.essential,
      );
    }
  }

  /**
   * Waits for deliveries in flight, at most as long as two attempts and the retry pause take;
   * whatever is still running or waiting then is abandoned (a hook is killed). Resolves to the
   * number abandoned or dropped, which it also reports in one line.
   */
  async settle(): Promise<number> {
    // Two attempts and the pause, plus slack for spawning a hook on a loaded machine.
    const limitMs = this.config.timeoutSec * 2000 + RETRY_DELAY_MS + 2000;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<"timeout">((r) => timer = setTimeout(() => r("timeout"), limitMs));
    const drained = (async () => {
      while (this.#pending.size > 0) await Promise.all(this.#pending);
    })();
    const left = await Promise.race([drained.then(() => "done"), timeout]);
    clearTimeout(timer);
    const unsent = this.#dropped + this.#waiting.length;
    this.#waiting = [];
    const abandoned = left === "timeout" ? this.#pending.size : 0;
    this.#abort.abort();
    await Promise.allSettled(this.#pending);
    if (unsent > 0) {
      this.onProblem(
        `${unsent} notification${unsent === 1 ? "" : "s"} not sent: more than ` +
          `${MAX_AT_ONCE + MAX_WAITING} at once (is the hook or webhook slow?)`,
      );
    }
    return abandoned + unsent;
  }

  #schedule(delivery: () => Promise<void>, essential = false): void {
    if (this.#running < MAX_AT_ONCE) return this.#start(delivery);
    if (this.#waiting.length < MAX_WAITING || essential) this.#waiting.push(delivery);
    else this.#dropped++;
  }

  #start(delivery: () => Promise<void>): void {
    this.#running++;
    const p = delivery().finally(() => {
      this.#running--;
      this.#pending.delete(p);
      const next = this.#waiting.shift();
      if (next && !this.#abort.signal.aborted) this.#start(next);
    });
    this.#pending.add(p);
  }

  async #withRetry(where: string, attempt: (s: AbortSignal) => Promise<void>): Promise<void> {
    let lastError = "";
    for (let i = 0; i < 2; i++) {
      if (i > 0) await sleep(RETRY_DELAY_MS, this.#abort.signal);
      if (this.#abort.signal.aborted) break;
      const signal = AbortSignal.any([
        this.#abort.signal,
        AbortSignal.timeout(this.config.timeoutSec * 1000),
      ]);
      try {
        await attempt(signal);
        return;
      } catch (err) {
        lastError = signal.aborted
          ? (this.#abort.signal.aborted
            ? "abandoned at exit"
            : `no answer in ${this.config.timeoutSec} s`)
          : err instanceof Error
          ? err.message
          : String(err);
      }
    }
    this.onProblem(`notification by ${where} failed: ${lastError}`);
  }
}

/**
 * Runs the hook with the event as JSON on stdin and as VPO_* variables; fails on exit != 0. At
 * the deadline it is killed with SIGKILL (a hook may ignore SIGTERM), and only the hook's own
 * exit is awaited: a child it left in the background may hold its stderr open for ever.
 */
async function runHook(argv: string[], event: NotifyEvent, signal: AbortSignal): Promise<void> {
  let child: Deno.ChildProcess;
  try {
    child = spawnChild(argv[0], {
      args: argv.slice(1),
      env: eventEnv(event),
      stdin: "piped",
      stdout: "null",
      stderr: "piped",
    });
  } catch (error) {
    throw new Error(spawnFailure(argv[0], error));
  }
  const kill = () => {
    try {
      child.kill("SIGKILL");
    } catch {
      // Already exited.
    }
  };
  signal.addEventListener("abort", kill, { once: true });
  const stderr = new Response(child.stderr).text().catch(() => "");
  try {
    const writer = child.stdin.getWriter();
    // A hook that ignores stdin may exit before reading it: that is not a failure.
    await writer.write(new TextEncoder().encode(JSON.stringify(event) + "\n")).catch(() => {});
    await writer.close().catch(() => {});
    const status = await child.status;
    if (signal.aborted) throw signal.reason;
    if (!status.success) {
      const text = await Promise.race([stderr, new Promise<string>((r) => setTimeout(r, 200, ""))]);
      const why = text.trim().split("\n")[0];
      throw new Error(`exit code ${status.code}${why ? `: ${why}` : ""}`);
    }
  } finally {
    signal.removeEventListener("abort", kill);
  }
}

/**
 * POSTs the event in the configured format, once per attempt, to the URL as configured; fails on
 * a non-2xx answer. A redirect is not followed: the body would go to an address nobody
 * configured (and a 301-303 would turn the POST into a GET that delivers nothing).
 */
async function postWebhook(
  config: NotifyConfig,
  event: NotifyEvent,
  signal: AbortSignal,
): Promise<void> {
  const req = webhookRequest(config.webhook!, config.webhookFormat, event);
  const res = await fetch(req.url, {
    method: "POST",
    headers: { "content-type": "application/json", "user-agent": "vpo" },
    body: JSON.stringify(req.body),
    redirect: "manual",
    signal,
  });
  await res.body?.cancel();
  if (res.status >= 300 && res.status < 400) {
    const to = res.headers.get("location");
    let where = "elsewhere";
    try {
      if (to) where = new URL(to, req.url).origin;
    } catch {
      // A Location that is not a URL: said as "elsewhere".
    }
    throw new Error(
      `HTTP ${res.status} redirect to ${where} not followed (set notify.webhook to the final URL)`,
    );
  }
  if (!res.ok) throw new Error(`HTTP ${res.status} ${res.statusText}`.trim());
}

/** Reads a job's file by id, for what a notification says about it; throws when it is gone. */
export type JobLookup = (id: string) => Job;

/**
 * Wraps a worker's reporter so that a failed job fires a notification and the bytes completed
 * jobs saved are summed, as their job types count them ({@link JobType.figures}); `finish` sends
 * the run's summary and waits (bounded) for deliveries. Without `notify:` settings it returns the
 * reporter as it is.
 */
export function withNotifications(
  reporter: WorkerReporter,
  config: NotifyConfig,
  lookup: JobLookup,
  types: JobTypes,
): {
  reporter: WorkerReporter;
  finish(summary: Omit<WorkerDoneEvent["summary"], "saved_bytes">): Promise<void>;
} {
  const notifier = Notifier.create(
    config,
    (msg) => reporter.event("warning", null, null, msg),
  );
  if (!notifier) return { reporter, finish: () => Promise.resolve() };
  let savedBytes = 0;
  const find = (id: string) => {
    try {
      return lookup(id);
    } catch {
      return null; // moved on already (retried by hand): the event still goes out
    }
  };
  const wrapped: WorkerReporter = {
    event(kind, jobId, file, detail) {
      reporter.event(kind, jobId, file, detail);
      if (!jobId || (kind !== "failed" && kind !== "completed")) return;
      const job = find(jobId);
      if (kind === "completed") {
        const figures = job ? types.figures(job) : null;
        if (figures?.outcome === "replaced") {
          savedBytes += figures.source_bytes - figures.output_bytes;
        }
        return;
      }
      notifier.fire(jobFailedEvent({
        id: jobId,
        file: job?.file ?? file,
        error: job?.error ?? detail,
        attempts: job?.attempts ?? null,
      }));
    },
    progress: (id, file, sample) => reporter.progress(id, file, sample),
  };
  return {
    reporter: wrapped,
    async finish(summary) {
      // A run that found nothing to do (most nights of a cron job) is not news.
      const ran = summary.completed + summary.failed + summary.cancelled + summary.requeued;
      if (ran > 0) {
        const { completed, failed, cancelled, requeued, stop_reason } = summary;
        notifier.fire(
          workerDoneEvent({
            completed,
            failed,
            cancelled,
            requeued,
            saved_bytes: savedBytes,
            stop_reason,
          }),
          { essential: true },
        );
      }
      // Each abandoned delivery has reported itself through onProblem.
      await notifier.settle();
    },
  };
}
