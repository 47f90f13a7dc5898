/**
 * `vpo serve`: the page and the JSON API over the queue files, on Deno's own HTTP server.
 *
 * Request paths are matched against a fixed set of routes; the only part of a path that reaches
 * the library is a job id, which must be 4-64 hex characters and is then resolved by
 * {@link JobQueue.find} exactly as on the command line. The page's assets are string modules
 * compiled into the program, so a `deno compile` binary needs nothing beside it.
 *
 * @module
 */
import { VpoError } from "../errors.ts";
import type { Config } from "../config/types.ts";
import type { VpoHome } from "../queue/layout.ts";
import type { JobTypes } from "../queue/job_type.ts";
import type { JobQueue } from "../queue/store.ts";
import { APP_CSS } from "./assets/app_css.ts";
import { APP_JS } from "./assets/app_js.ts";
import { INDEX_HTML } from "./assets/index_html.ts";
import {
  ApiContext,
  getJob,
  getJobLog,
  getJobs,
  getPageConfig,
  getStats,
  getStatus,
  getWorkers,
  HttpError,
  liveSnapshot,
  postCancel,
  postPriority,
  postQueueFolder,
  postRetry,
  type QueueFolder,
  statusOf,
} from "./api.ts";
import { hostAllowed, requestToken, sameOrigin, sameSecret, TOKEN_COOKIE } from "./auth.ts";
import { isLoopback, type ListenAddress } from "../config/listen.ts";
import { LiveFeed } from "./live_feed.ts";

/** Options of {@link startServer}. */
export interface ServeOptions {
  home: VpoHome;
  config: Config;
  queue: JobQueue;
  /** The job types, whose figures `/api/stats` counts. */
  types: JobTypes;
  /** What `POST /api/queue` does with a configured folder and policy. */
  queueFolder: QueueFolder;
  /** Where to listen; port 0 picks a free port. */
  listen: ListenAddress;
  /** The access token; null serves read-only, and only on a loopback address. */
  token: string | null;
  /** Aborting it stops the server (open event streams are closed). */
  signal?: AbortSignal;
  /** How often the live feed looks at the queue, in ms (default 1000). */
  feedIntervalMs?: number;
}

/** A running server. */
export interface RunningServer {
  /** The address it listens on (with the real port when 0 was asked). */
  addr: Deno.NetAddr;
  /** Resolves when the server has stopped. */
  finished: Promise<void>;
}

const SECURITY_HEADERS = {
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-store",
};

const ASSETS: Record<string, [string, string]> = {
  "/": [INDEX_HTML, "text/html; charset=utf-8"],
  "/app.js": [APP_JS, "text/javascript; charset=utf-8"],
  "/app.css": [APP_CSS, "text/css; charset=utf-8"],
};

const JOB_ROUTE = /^\/api\/jobs\/([0-9a-f]{4,64})(?:\/(log|cancel|retry|priority))?$/;
const MAX_BODY = 64 * 1024;

function json(status: number, value: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(value, null, 2) + "\n", {
    status,
    headers: { ...SECURITY_HEADERS, "content-type": "application/json; charset=utf-8", ...headers },
  });
}

const fail = (status: number, message: string) => json(status, { error: message });

async function readCapped(req: Request, max: number): Promise<string> {
  if (Number(req.headers.get("content-length") ?? 0) > max) {
    throw new HttpError(413, "request body too large");
  }
  if (!req.body) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of req.body) {
    size += chunk.length;
    if (size > max) throw new HttpError(413, "request body too large");
    chunks.push(chunk);
  }
  const all = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.length;
  }
  return new TextDecoder().decode(all);
}

async function readBody(req: Request): Promise<Record<string, unknown>> {
  if (!(req.headers.get("content-type") ?? "").startsWith("application/json")) {
    // A cross-site HTML form can send only form types; requiring JSON also forces a preflight.
    throw new HttpError(415, "send the body as application/json");
  }
  // Counted as it arrives: a client that lies about (or omits) its length is cut off at the cap.
  const text = await readCapped(req, MAX_BODY);
  if (text.trim() === "") return {};
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new HttpError(400, "the body is not valid JSON");
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new HttpError(400, "the body must be a JSON object");
  }
  return body as Record<string, unknown>;
}

/**
 * Refuses what must never start: a non-loopback address without a token (anyone on the network
 * could read file names and progress).
 */
export function checkExposure(listen: ListenAddress, token: string | null): void {
  if (token === null && !isLoopback(listen.hostname)) {
    throw new VpoError(
      `refusing to listen on ${listen.hostname}:${listen.port} without a token: anyone who ` +
        `can reach it could read the queue; pass --token-file FILE or set serve.token_file ` +
        `(or listen on 127.0.0.1)`,
    );
  }
}

/** The request handler of {@link startServer}, for a given context and feed. */
function makeHandler(
  ctx: ApiContext,
  feed: LiveFeed,
  token: string | null,
): (req: Request) => Promise<Response> {
  const authorized = (req: Request) => token === null || sameSecret(requestToken(req) ?? "", token);

  const route = async (req: Request, url: URL): Promise<Response> => {
    const path = url.pathname;
    const method = req.method;
    const asset = ASSETS[path];
    if (asset) {
      if (method !== "GET" && method !== "HEAD") return fail(405, "use GET");
      // The page carries no data; the data behind it needs the token.
      return new Response(method === "HEAD" ? null : asset[0], {
        headers: { ...SECURITY_HEADERS, "content-type": asset[1] },
      });
    }
    if (!path.startsWith("/api/")) return fail(404, "not found");

    if (method === "POST") {
      if (token === null) {
        return fail(403, "actions are off: start vpo serve with --token-file to enable them");
      }
      if (!sameOrigin(req)) return fail(403, "cross-origin request refused");
      if (path === "/api/login") {
        const body = await readBody(req);
        if (typeof body.token !== "string" || !sameSecret(body.token, token)) {
          return fail(401, "wrong token");
        }
        return json(200, { ok: true }, {
          "set-cookie": `${TOKEN_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Strict`,
        });
      }
      if (!authorized(req)) return fail(401, "a token is needed");
      if (path === "/api/queue") return json(200, await postQueueFolder(ctx, await readBody(req)));
      const m = JOB_ROUTE.exec(path);
      if (m?.[2] === "cancel") return json(200, await postCancel(ctx, m[1], await readBody(req)));
      if (m?.[2] === "retry") return json(200, await postRetry(ctx, m[1]));
      if (m?.[2] === "priority") {
        return json(200, await postPriority(ctx, m[1], await readBody(req)));
      }
      return fail(404, "not found");
    }
    if (method !== "GET") return fail(405, "use GET for reading, POST for actions");
    if (!authorized(req)) return fail(401, "a token is needed");
    switch (path) {
      case "/api/status":
        return json(200, getStatus(ctx));
      case "/api/jobs":
        return json(200, getJobs(ctx, url));
      case "/api/stats":
        return json(200, getStats(ctx, url));
      case "/api/workers":
        return json(200, getWorkers(ctx));
      case "/api/config":
        return json(200, getPageConfig(ctx));
      case "/api/events":
        return feed.subscribe();
    }
    const m = JOB_ROUTE.exec(path);
    if (m && m[2] === undefined) return json(200, getJob(ctx, m[1]));
    if (m?.[2] === "log") return json(200, getJobLog(ctx, m[1]));
    return fail(404, "not found");
  };

  return async (req: Request) => {
    // The request's URL is made from its Host header, which the client chooses.
    let url: URL;
    try {
      url = new URL(req.url);
    } catch {
      return fail(400, "malformed Host header");
    }
    if (token === null && !hostAllowed(req)) return fail(403, "unexpected Host header");
    try {
      return await route(req, url);
    } catch (err) {
      const status = statusOf(err);
      const message = status === 500
        ? `internal error: ${err instanceof Error ? err.message : String(err)}`
        : (err as Error).message;
      return fail(status, message);
    }
  };
}

/** Starts serving; returns once the server listens. */
export function startServer(options: ServeOptions): RunningServer {
  checkExposure(options.listen, options.token);
  const ctx = new ApiContext(
    options.home,
    options.config,
    options.queue,
    options.token !== null,
    options.types,
    options.queueFolder,
  );
  const feed = new LiveFeed(() => liveSnapshot(ctx), options.feedIntervalMs);
  options.signal?.addEventListener("abort", () => feed.close(), { once: true });
  const where = `${options.listen.hostname}:${options.listen.port}`;
  try {
    const server = Deno.serve({
      hostname: options.listen.hostname,
      port: options.listen.port,
      signal: options.signal,
      onListen: () => {},
      onError: (err) => fail(500, `internal error: ${(err as Error).message}`),
    }, makeHandler(ctx, feed, options.token));
    return { addr: server.addr as Deno.NetAddr, finished: server.finished };
  } catch (err) {
    if (err instanceof Deno.errors.AddrInUse) {
      throw new VpoError(`cannot listen on ${where}: address in use`);
    }
    if (
      err instanceof Deno.errors.AddrNotAvailable || err instanceof Deno.errors.PermissionDenied
    ) {
      throw new VpoError(`cannot listen on ${where}: ${(err as Error).message}`);
    }
    throw err;
  }
}
