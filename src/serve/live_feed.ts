/**
 * Server-sent events for the page: one timer reads the queue's small, hot part (running jobs
 * with their live files, counts, workers) once a second while anyone is watching, and pushes it
 * to every open page only when it changed. Pages never poll per job.
 *
 * @module
 */

const encoder = new TextEncoder();
/** Proxies and browsers drop a silent connection; a comment line every so often keeps it. */
const KEEPALIVE_MS = 15_000;

/** A broadcast of `snapshot()` to every subscriber, as `event: state` messages. */
export class LiveFeed {
  readonly #clients = new Set<ReadableStreamDefaultController<Uint8Array>>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #last = "";
  #lastSent = 0;

  /**
   * @param snapshot what the pages see; called once per tick
   * @param intervalMs how often the queue is looked at while a page is open
   */
  constructor(readonly snapshot: () => unknown, readonly intervalMs = 1000) {}

  /** A response streaming the feed: the current state at once, then every change. */
  subscribe(): Response {
    let self: ReadableStreamDefaultController<Uint8Array>;
    const body = new ReadableStream<Uint8Array>({
      start: (controller) => {
        self = controller;
        this.#clients.add(controller);
        this.#lastSent = Date.now();
        this.#last = JSON.stringify(this.snapshot());
        controller.enqueue(encoder.encode(`retry: 2000\nevent: state\ndata: ${this.#last}\n\n`));
        this.#timer ??= setInterval(() => this.#tick(), this.intervalMs);
      },
      cancel: () => this.#drop(self),
    });
    return new Response(body, {
      headers: {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-store",
        "x-accel-buffering": "no",
      },
    });
  }

  /** Ends every stream (the server is shutting down) and stops the timer. */
  close(): void {
    for (const c of this.#clients) {
      try {
        c.close();
      } catch {
        // Already closed by its reader.
      }
    }
    this.#clients.clear();
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #drop(controller: ReadableStreamDefaultController<Uint8Array>): void {
    this.#clients.delete(controller);
    if (this.#clients.size === 0) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }

  #tick(): void {
    let data: string;
    try {
      data = JSON.stringify(this.snapshot());
    } catch {
      return; // A queue directory mid-change or unreadable: the next tick tries again.
    }
    const now = Date.now();
    let message: string | null = null;
    if (data !== this.#last) message = `event: state\ndata: ${data}\n\n`;
    else if (now - this.#lastSent >= KEEPALIVE_MS) message = ": keep-alive\n\n";
    if (message === null) return;
    this.#last = data;
    this.#lastSent = now;
    const bytes = encoder.encode(message);
    for (const c of [...this.#clients]) {
      try {
        c.enqueue(bytes);
      } catch {
        this.#drop(c);
      }
    }
  }
}
