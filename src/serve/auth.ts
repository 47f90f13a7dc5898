/**
 * Who may talk to `vpo serve`: the token (a bearer header or the cookie the page's sign-in
 * sets), the same-origin rule for actions, and the Host check that keeps a web site from
 * reading a token-less server on 127.0.0.1 through DNS rebinding.
 *
 * @module
 */
import { VpoError } from "../errors.ts";
import { readNamedFileSync } from "../util/safe_open.ts";
import { isLoopback } from "../config/listen.ts";

/** Name of the cookie the sign-in sets. */
export const TOKEN_COOKIE = "vpo_token";
const MIN_TOKEN_LENGTH = 16;
/** A token file is one short line; anything this large is not one. */
const MAX_TOKEN_FILE_BYTES = 64 * 1024;

/**
 * Reads the token from `path`: its first line, trimmed; too short or missing is an error.
 * `warn` is told when other users may read the file.
 */
export function readTokenFile(
  path: string,
  warn: (message: string) => void = () => {},
): string {
  let text: string;
  let mode: number;
  try {
    // A link to a file is fine (/run/secrets); a FIFO or device is refused, never waited on.
    ({ text, mode } = readNamedFileSync(path, MAX_TOKEN_FILE_BYTES));
  } catch (err) {
    throw new VpoError(`cannot read token file ${path}: ${(err as Error).message}`);
  }
  if ((mode & 0o077) !== 0) {
    warn(`token file ${path} can be read by other users (chmod 600 ${path})`);
  }
  const token = text.split("\n")[0].trim();
  if (token.length < MIN_TOKEN_LENGTH || /\s|;|,/.test(token)) {
    throw new VpoError(
      `token file ${path}: the token must be one line of at least ${MIN_TOKEN_LENGTH} ` +
        `characters without spaces, commas or semicolons (e.g. from: openssl rand -hex 24)`,
    );
  }
  return token;
}

/** Compares in time independent of where the strings differ. */
export function sameSecret(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < Math.max(x.length, y.length); i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}

/** The token a request carries, from `Authorization: Bearer` or the sign-in cookie. */
export function requestToken(req: Request): string | null {
  const auth = req.headers.get("authorization");
  if (auth?.startsWith("Bearer ")) return auth.slice(7).trim();
  for (const part of (req.headers.get("cookie") ?? "").split(";")) {
    const [k, ...v] = part.trim().split("=");
    if (k === TOKEN_COOKIE) return v.join("=");
  }
  return null;
}

/**
 * Without a token the server is only reachable on loopback, but a page on another site can
 * still make the browser send requests to it under a name that resolves to 127.0.0.1 (DNS
 * rebinding): only loopback names and IP literals are accepted as Host then.
 */
export function hostAllowed(req: Request): boolean {
  const host = req.headers.get("host");
  if (!host) return false;
  const name = host.startsWith("[") ? host.slice(1, host.indexOf("]")) : host.split(":")[0];
  return isLoopback(name) || /^\d+\.\d+\.\d+\.\d+$/.test(name) || name.includes(":");
}

/**
 * An action must come from the page itself: a browser marks a cross-site request with
 * `Sec-Fetch-Site` and `Origin`; a script (curl) sends neither and is judged by its token alone.
 */
export function sameOrigin(req: Request): boolean {
  const site = req.headers.get("sec-fetch-site");
  if (site !== null && site !== "same-origin" && site !== "none") return false;
  const origin = req.headers.get("origin");
  if (origin === null) return true;
  const host = req.headers.get("host");
  return host !== null && (origin === `http://${host}` || origin === `https://${host}`);
}
