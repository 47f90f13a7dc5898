/**
 * Part of `deno task check`: no file is opened, created, truncated or re-moded by path outside
 * `src/util/safe_open.ts`, the one module that opens files where others may write (see its
 * comment and docs/design.md, "Opening files"). Every other such call in vpo's code (src/,
 * cli.ts, mod.ts) must be in {@link REVIEWED}, with the reason it is safe; an entry that no
 * longer matches anything is reported too, so the list stays true.
 *
 * Run: `deno run --allow-read scripts/check_opens.ts` (exit 1 and one line per finding).
 *
 * @module
 */
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../", import.meta.url));

/** The module allowed to open files by path. */
const SAFE_OPEN = "src/util/safe_open.ts";

/**
 * Deno functions that open, create, truncate or change a file or directory through its path.
 * Any mention counts, called or not (`Deno.openSync.call(...)`, passed as a callback), with any
 * spacing or line breaks around the dot. `mkdir` is here because `recursive: true` accepts a link
 * planted at the name, and whatever later writes in it by path (ffmpeg) follows it. Renames,
 * links and removals are not: they never follow a link at their last name, and the queue's
 * protocol is built of them (see docs/design.md for where a swapped parent matters).
 */
const DENO_OPENS =
  /\bDeno\s*\.\s*(open|create|readFile|readTextFile|writeFile|writeTextFile|truncate|chmod|chown|utime|copyFile|makeTempFile|makeTempDir|mkdir|symlink)(Sync)?\b/g;

/** `Deno` other than followed by `.name`: an alias, a destructuring or `Deno["..."]` hides the call. */
const DENO_AS_VALUE = /\bDeno\b(?!\s*\.\s*[A-Za-z_$])/g;

/** A module specifier of node's file system API, or of `require`, which reaches it. */
const FS_MODULE = /(["'`])(node:)?(fs|fs\/promises|module)\1/g;

/** What may be imported from node:fs: calls on a descriptor safe_open gave, and statfs. */
const NODE_FS_ALLOWED = new Set([
  "closeSync",
  "fchmodSync",
  "fchownSync",
  "fstatSync",
  "fsyncSync",
  "readSync",
  "statfsSync",
]);

/** Reviewed exceptions: the file, what the line holds, and why it is safe. */
const REVIEWED: { file: string; holds: string; why: string }[] = [
  {
    file: "src/util/groups.ts",
    holds: 'Deno.readTextFileSync("/etc/group")',
    why: "a system file only root can write",
  },
  {
    file: "src/util/mounts.ts",
    holds: 'Deno.readTextFileSync("/proc/self/mountinfo")',
    why: "the kernel's own file",
  },
  ...[
    ["src/queue/store.ts", "await Deno.mkdir(dir, { recursive: true, mode: 0o700 })"],
    ["src/queue/layout.ts", "await Deno.mkdir(dir, { recursive: true, mode: 0o700 })"],
    ["src/queue/access.ts", "Deno.mkdirSync(dir, { recursive: true, mode: SHARED_DIR_MODE })"],
    ["src/queue/counts.ts", "Deno.mkdirSync(dirname(path), { recursive: true, mode: 0o700 })"],
    ["src/library/line_log.ts", "Deno.mkdirSync(this.dir, { recursive: true, mode: 0o700 })"],
    ["src/library/queue_marks.ts", "Deno.mkdirSync(library.marksDir, { recursive: true"],
    ["src/worker/cpu_claim.ts", "await Deno.mkdir(dir, { recursive: true, mode: 0o700 })"],
    ["src/transcode/speed_history.ts", "await Deno.mkdir(dirname(path), { recursive: true"],
  ].map(([file, holds]) => ({
    file,
    holds,
    why: "a directory of the home: everything written in it goes through safe_open, which " +
      "proves the directory (a link there is refused)",
  })),
  {
    file: "src/transcode/segments/segment_dir.ts",
    holds: "await Deno.mkdir(dir, { mode: 0o700 })",
    why: "made exclusively (not recursive), then judged by isOwnDir; its files are created " +
      "through safe_open",
  },
];

/** One finding: `file:line: problem`. */
export interface Finding {
  file: string;
  line: number;
  problem: string;
}

/** The two views of a source file that the rules read, each the same length as the text. */
interface Views {
  /** Comments blanked: module specifiers are still there. */
  withStrings: string;
  /** Comments and the contents of strings, templates and regular expressions blanked. */
  code: string;
}

/** Characters after which a `/` starts a regular expression, not a division. */
const BEFORE_REGEX = new Set("(,=:[!&|?{};+-*%<>~^".split(""));

/**
 * Blanks comments (and, in `code`, literals) with spaces, keeping newlines so that offsets map to
 * the same lines: a call in a JSDoc example or an error message is not code, and a `//` in a
 * string does not start a comment.
 */
function views(text: string): Views {
  const withStrings = text.split("");
  const code = text.split("");
  const blank = (view: string[], from: number, to: number) => {
    for (let k = from; k < to; k++) if (view[k] !== "\n") view[k] = " ";
  };
  // Brace depths at which an open template's `${` began: its `}` resumes the template.
  const templates: number[] = [];
  let braces = 0;
  let last = "";
  let i = 0;
  const literal = (from: number, to: number) => {
    blank(code, from + 1, to - 1);
    i = to;
  };
  /** Scans a template's text from `from` to its end or its next `${`. */
  const templateText = (from: number) => {
    let k = from;
    while (k < text.length && text[k] !== "`" && !(text[k] === "$" && text[k + 1] === "{")) {
      k += text[k] === "\\" ? 2 : 1;
    }
    blank(code, from, k);
    if (text[k] === "`") {
      i = k + 1;
      last = "`";
    } else {
      templates.push(braces);
      braces++;
      i = k + 2;
      last = "{";
    }
  };
  while (i < text.length) {
    const c = text[i];
    const next = text[i + 1];
    if (c === "/" && (next === "/" || next === "*")) {
      const end = next === "/" ? text.indexOf("\n", i) : text.indexOf("*/", i + 2) + 2;
      const stop = end <= 1 || end < i ? text.length : end;
      blank(withStrings, i, stop);
      blank(code, i, stop);
      i = stop;
    } else if (c === '"' || c === "'") {
      let k = i + 1;
      while (k < text.length && text[k] !== c && text[k] !== "\n") k += text[k] === "\\" ? 2 : 1;
      literal(i, k + 1);
      last = c;
    } else if (c === "`") {
      templateText(i + 1);
    } else if (c === "}" && templates.length > 0 && templates.at(-1) === braces - 1) {
      templates.pop();
      braces--;
      templateText(i + 1);
    } else if (
      c === "/" && (last === "" || BEFORE_REGEX.has(last) || /\breturn$/.test(
        text.slice(Math.max(0, i - 7), i).trimEnd(),
      ))
    ) {
      let k = i + 1;
      let inClass = false;
      while (k < text.length && text[k] !== "\n" && (inClass || text[k] !== "/")) {
        if (text[k] === "[") inClass = true;
        if (text[k] === "]") inClass = false;
        k += text[k] === "\\" ? 2 : 1;
      }
      literal(i, k + 1);
      last = "/";
    } else {
      if (c === "{") braces++;
      if (c === "}") braces--;
      if (!/\s/.test(c)) last = c;
      i++;
    }
  }
  return { withStrings: withStrings.join(""), code: code.join("") };
}

/** The node:fs imports in `withStrings` that import only what is allowed, by specifier offset. */
function fsImports(withStrings: string, file: string, lineOf: (at: number) => number) {
  const findings: Finding[] = [];
  const accepted = new Set<number>();
  // Imports span lines: judge each whole import statement.
  const importRe = /\bimport\s+([^;]*?)\s+from\s+(["'])(node:)?fs(\/promises)?\2/gs;
  for (const m of withStrings.matchAll(importRe)) {
    const names = /^(type\s+)?\{([^}]*)\}$/.exec(m[1].trim());
    // Types open nothing: `import type { Stats }` and `{ type Stats }` are fine.
    const bad = names === null
      ? [m[1].trim()]
      : names[1]
      ? []
      : names[2].split(",").map((n) => n.trim().split(/\s+as\s+/)[0]).filter((n) =>
        n && !n.startsWith("type ") && !NODE_FS_ALLOWED.has(n)
      );
    const at = m.index + m[0].length - `${m[3] ?? ""}fs${m[4] ?? ""}`.length - 2;
    accepted.add(at);
    if (m[4] || bad.length > 0) {
      findings.push({
        file,
        line: lineOf(m.index),
        problem: `imports ${bad.join(", ") || "node:fs/promises"} from node:fs: open files ` +
          `through ${SAFE_OPEN}`,
      });
    }
  }
  return { findings, accepted };
}

/** The findings in one file's `text` (`file` relative to the repository). */
export function checkFile(file: string, text: string, used: Set<number>): Finding[] {
  if (file === SAFE_OPEN) return [];
  const lines = text.split("\n");
  const lineOf = (at: number) => text.slice(0, at).split("\n").length;
  const { withStrings, code } = views(text);
  const { findings, accepted } = fsImports(withStrings, file, lineOf);
  for (const m of withStrings.matchAll(FS_MODULE)) {
    if (accepted.has(m.index)) continue;
    findings.push({
      file,
      line: lineOf(m.index),
      problem: `reaches ${m[0]} other than by a named import of what ${SAFE_OPEN} allows ` +
        "(a dynamic import, require, a re-export): open files through it",
    });
  }
  const flag = (at: number, problem: string) => {
    const line = lineOf(at);
    const reviewed = REVIEWED.findIndex((r) =>
      r.file === file && lines[line - 1].includes(r.holds)
    );
    if (reviewed >= 0) used.add(reviewed);
    else findings.push({ file, line, problem });
  };
  for (const m of code.matchAll(DENO_OPENS)) {
    flag(
      m.index,
      `Deno.${m[1]}${m[2] ?? ""} by path: use ${SAFE_OPEN} (or add a reviewed exception in ` +
        "scripts/check_opens.ts saying why it is safe)",
    );
  }
  for (const m of code.matchAll(DENO_AS_VALUE)) {
    flag(m.index, "Deno used other than as Deno.name: an alias hides what it calls");
  }
  return findings.sort((a, b) => a.line - b.line);
}

function* sourceFiles(dir: string): Generator<string> {
  for (const entry of Deno.readDirSync(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) yield* sourceFiles(path);
    else if (entry.name.endsWith(".ts") && !entry.name.endsWith("_test.ts")) yield path;
  }
}

/** Every finding in the repository at `root`. */
export function checkRepository(root = ROOT): Finding[] {
  const used = new Set<number>();
  const findings: Finding[] = [];
  const files = [...sourceFiles(join(root, "src")), join(root, "cli.ts"), join(root, "mod.ts")];
  for (const path of files) {
    findings.push(...checkFile(relative(root, path), Deno.readTextFileSync(path), used));
  }
  REVIEWED.forEach((r, i) => {
    if (!used.has(i)) {
      findings.push({
        file: r.file,
        line: 0,
        problem: `reviewed exception "${r.holds}" matches nothing: remove it`,
      });
    }
  });
  return findings;
}

if (import.meta.main) {
  const findings = checkRepository();
  for (const f of findings) console.error(`${f.file}:${f.line}: ${f.problem}`);
  if (findings.length > 0) Deno.exit(1);
}
