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

/** Deno calls that open, create, truncate or change a file through its path. */
const DENO_OPENS =
  /\bDeno\.(open|create|readFile|readTextFile|writeFile|writeTextFile|truncate|chmod|chown|utime|copyFile|makeTempFile|symlink)(Sync)?\s*\(/;

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
];

/** One finding: `file:line: problem`. */
export interface Finding {
  file: string;
  line: number;
  problem: string;
}

function codeLines(text: string): string[] {
  // JSDoc examples and comments may show any call: only code counts.
  return text.split("\n").map((line) => {
    const t = line.trim();
    return t.startsWith("*") || t.startsWith("//") || t.startsWith("/*") ? "" : line;
  });
}

/** The findings in one file's `text` (`file` relative to the repository). */
export function checkFile(file: string, text: string, used: Set<number>): Finding[] {
  if (file === SAFE_OPEN) return [];
  const findings: Finding[] = [];
  // Imports span lines: judge each whole import statement from node:fs.
  const importRe = /import\s+([^;]*?)\s+from\s+"node:fs(\/promises)?";/gs;
  for (const m of text.matchAll(importRe)) {
    const line = text.slice(0, m.index).split("\n").length;
    const names = /^\{([^}]*)\}$/.exec(m[1].trim());
    const bad = names === null
      ? [m[1].trim()]
      : names[1].split(",").map((n) => n.trim().split(/\s+as\s+/)[0]).filter((n) =>
        n && !NODE_FS_ALLOWED.has(n.replace(/^type\s+/, ""))
      );
    if (m[2] || bad.length > 0) {
      findings.push({
        file,
        line,
        problem: `imports ${bad.join(", ") || "node:fs/promises"} from node:fs: open files ` +
          `through ${SAFE_OPEN}`,
      });
    }
  }
  codeLines(text).forEach((code, i) => {
    const call = DENO_OPENS.exec(code);
    if (!call) return;
    const reviewed = REVIEWED.findIndex((r) => r.file === file && code.includes(r.holds));
    if (reviewed >= 0) {
      used.add(reviewed);
      return;
    }
    findings.push({
      file,
      line: i + 1,
      problem: `${call[0].replace(/\s*\($/, "")} by path: use ${SAFE_OPEN} (or add a reviewed ` +
        "exception in scripts/check_opens.ts saying why it is safe)",
    });
  });
  return findings;
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
