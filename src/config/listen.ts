/**
 * The address `vpo serve` listens on, and the rule that only a loopback address may go without
 * a token.
 *
 * @module
 */

/** A parsed `host:port`. */
export interface ListenAddress {
  /** IP address or host name; IPv6 without brackets. */
  hostname: string;
  /** TCP port; 0 picks a free one. */
  port: number;
}

/** The default: loopback only, so nothing is exposed until the user decides to. */
export const DEFAULT_LISTEN = "127.0.0.1:8613";

/**
 * Reads `host:port`, `[v6]:port` or `:port` (all addresses). Throws an Error saying why it
 * refuses a value; also meant for the config key `serve.listen`.
 */
export function parseListenAddress(value: string | number): ListenAddress {
  const text = String(value).trim();
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s\[\]]*)):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) {
    throw new Error(
      `"${text}" is not an address to listen on (expected HOST:PORT, e.g. ${DEFAULT_LISTEN})`,
    );
  }
  return { hostname: m[1] ?? (m[2] || "0.0.0.0"), port };
}

/** True for addresses only this machine can reach. */
export function isLoopback(hostname: string): boolean {
  return /^127\.\d+\.\d+\.\d+$/.test(hostname) || hostname === "::1" || hostname === "localhost";
}
