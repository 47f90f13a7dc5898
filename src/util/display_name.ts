/**
 * File names as people see them. A name (or a message quoting one) may hold a newline, a
 * terminal escape sequence or a bidirectional override; printed raw, it could forge output
 * lines, move the cursor, retitle the window or reorder what is shown. Every name vpo prints for
 * a person goes through {@link displayName}; JSON output is left exact (JSON escapes control
 * characters itself).
 *
 * Also: names that are not valid UTF-8, which Deno (like every JavaScript runtime) can only see
 * with the bad bytes replaced by U+FFFD, so such a file cannot be opened by the name vpo sees.
 *
 * @module
 */

// C0 controls, DEL, C1 controls (8-bit escape sequences on some terminals), and the invisible
// characters that reorder or split text: bidi marks, embeddings, overrides and isolates, and
// the Unicode line and paragraph separators.
// deno-lint-ignore no-control-regex
const UNSAFE = /[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/gu;

/**
 * `text` with every character that could act on a terminal shown as an escape instead:
 * `\n`, `\t`, `\x1b`, `\u202e`. Printable text, including any script and emoji, is untouched.
 */
export function displayName(text: string): string {
  return text.replace(UNSAFE, escapeChar);
}

/**
 * `text` as {@link displayName} shows it, but keeping its line breaks and tabs: for printing a
 * whole log (ffmpeg quotes file names raw in its own lines).
 */
export function displayLines(text: string): string {
  return text.replace(UNSAFE, (c) => c === "\n" || c === "\t" ? c : escapeChar(c));
}

function escapeChar(c: string): string {
  if (c === "\n") return "\\n";
  if (c === "\t") return "\\t";
  if (c === "\r") return "\\r";
  const code = c.charCodeAt(0);
  return code <= 0xff
    ? `\\x${code.toString(16).padStart(2, "0")}`
    : `\\u${code.toString(16).padStart(4, "0")}`;
}

/** Why a name that is not valid UTF-8 cannot be worked on. */
export const NOT_UTF8 =
  "the file name is not valid UTF-8, so vpo cannot open it (rename it, e.g. with convmv)";

/**
 * True when `path` was read with invalid UTF-8 bytes replaced (it holds U+FFFD) and, so named,
 * does not exist: the real file's name has bytes vpo cannot pass to the system.
 */
export function isMangledName(path: string): boolean {
  if (!path.includes("\ufffd")) return false;
  try {
    Deno.lstatSync(path);
    return false;
  } catch (err) {
    return err instanceof Deno.errors.NotFound;
  }
}
