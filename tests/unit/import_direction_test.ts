/**
 * Imports run one way: every relative import in src/ (and in the entry points) is checked against
 * the layer order below, which docs/design.md ("Modules, and the direction of imports") explains.
 * A failure names the file and line of each import against the order, and the rule it breaks.
 */
import assert from "node:assert/strict";
import { dirname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/**
 * From the top down. A module may import its own folder and any folder of a lower layer, never a
 * folder of its own layer or of a higher one. Folders are those directly under src/ (a file
 * directly under src/ is its own unit, e.g. "errors.ts"); "cli.ts" and "mod.ts" are the entry
 * points at the root.
 */
const LAYERS: readonly { folders: readonly string[]; role: string }[] = [
  { folders: ["cli.ts", "mod.ts"], role: "entry points" },
  { folders: ["cli"], role: "commands" },
  { folders: ["serve", "transcode", "apply"], role: "the web server and the job types" },
  { folders: ["notify", "ops", "stats"], role: "services over any job type" },
  { folders: ["worker"], role: "the worker" },
  { folders: ["quality"], role: "quality targets: searches and checks of an encode's quality" },
  { folders: ["tracks"], role: "the track policy, carried out over the safe replace" },
  { folders: ["library", "replace"], role: "what job types share" },
  { folders: ["media"], role: "ffprobe and ffmpeg" },
  { folders: ["policy", "queue"], role: "the policy and the queue" },
  { folders: ["config"], role: "config.yaml" },
  { folders: ["errors.ts"], role: "error classes" },
  { folders: ["util"], role: "utilities" },
];

/** The job types' folders: each reaches the worker only through `src/queue/job_type.ts`. */
const JOB_TYPE_FOLDERS: readonly string[] = ["transcode", "apply"];

/** One relative import: where it is and what it names (a path from the repository's root). */
interface Import {
  file: string;
  line: number;
  target: string;
}

/** Relative imports of `text` (a module at `file`, relative to the root), with line numbers. */
function importsOf(file: string, text: string): Import[] {
  const found: Import[] = [];
  const add = (index: number, spec: string) => {
    if (!spec.startsWith("./") && !spec.startsWith("../")) return;
    const line = text.slice(0, index).split("\n").length;
    found.push({ file, line, target: normalize(join(dirname(file), spec)) });
  };
  // Statements start a line (deno fmt), so examples in doc comments (" * import ...") are not
  // taken for imports; `[^;]` spans the lines of a multi-line import list.
  const statement =
    /^(?:import\s+(?:type\s+)?(?:[^;"]*?\s+from\s*)?|export\s+(?:type\s+)?(?:\*|\*\s+as\s+\w+|\{[^}]*\})\s*from\s*)"([^"]+)"/gm;
  for (const m of text.matchAll(statement)) add(m.index!, m[1]);
  // Lazy imports (`await import("../x.ts")`) and type queries (`import("../x.ts").T`), outside
  // comments.
  const dynamic = /\bimport\(\s*"([^"]+)"\s*\)/g;
  for (const m of text.matchAll(dynamic)) {
    const lineStart = text.lastIndexOf("\n", m.index!) + 1;
    const before = text.slice(lineStart, m.index!).trimStart();
    if (!before.startsWith("*") && !before.startsWith("//")) add(m.index!, m[1]);
  }
  return found.sort((a, b) => a.line - b.line);
}

/** The unit a path belongs to: its folder under src/, its name under src/, or a root file. */
function unitOf(path: string): string | null {
  const parts = path.split("/");
  if (parts[0] !== "src") return parts.length === 1 ? parts[0] : null;
  return parts[1];
}

const layerOf = (unit: string) => LAYERS.findIndex((l) => l.folders.includes(unit));

/** Every import of `imports` against the order, as "file:line: what, and the rule". */
function violations(imports: readonly Import[]): string[] {
  const out: string[] = [];
  for (const { file, line, target } of imports) {
    const from = unitOf(file)!;
    const to = unitOf(target);
    // Files outside src/ and the entry points (deno.json read for the version) are data.
    if (to === null || from === to || (!target.startsWith("src/") && layerOf(to) < 0)) continue;
    const where = `${file}:${line}: imports ${target}`;
    const [a, b] = [layerOf(from), layerOf(to)];
    if (a < 0) {
      out.push(`${where}: src/${from} is in no layer: add it to LAYERS and to docs/design.md`);
    } else if (b < 0) {
      out.push(`${where}: src/${to} is in no layer: add it to LAYERS and to docs/design.md`);
    } else if (a === b) {
      out.push(
        `${where}: ${from} and ${to} are in one layer (${LAYERS[a].role}) and must not ` +
          `import each other`,
      );
    } else if (b < a) {
      out.push(
        `${where}: ${from} (layer ${a}, ${LAYERS[a].role}) may not import ${to}, a layer above ` +
          `it (layer ${b}, ${LAYERS[b].role})`,
      );
    } else if (JOB_TYPE_FOLDERS.includes(from) && to === "worker") {
      out.push(`${where}: a job type reaches the worker only through src/queue/job_type.ts`);
    }
  }
  return out;
}

/** The modules checked: every .ts file under src/, and the entry points. */
function modules(): string[] {
  const found = ["cli.ts", "mod.ts"];
  const walk = (dir: string) => {
    for (const entry of Deno.readDirSync(join(ROOT, dir))) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory) walk(path);
      else if (entry.name.endsWith(".ts")) found.push(path);
    }
  };
  walk("src");
  return found.sort();
}

Deno.test("imports run one way: down the layers, never within one, never up", () => {
  const imports = modules().flatMap((file) =>
    importsOf(file, Deno.readTextFileSync(join(ROOT, file)))
  );
  assert.ok(imports.length > 300, `only ${imports.length} imports found: is the parser broken?`);
  const found = violations(imports);
  if (found.length) assert.fail(`imports against the layer order:\n${found.join("\n")}`);
});

Deno.test("every folder under src/ is in a layer", () => {
  const units = new Set(modules().map((m) => unitOf(m)!));
  const missing = [...units].filter((u) => layerOf(u) < 0);
  assert.deepEqual(missing, [], `not in LAYERS: ${missing.join(", ")}`);
});

Deno.test("importsOf: statements, lists over lines, re-exports, lazy imports; not doc examples", () => {
  const text = [
    `import { a } from "./a.ts";`,
    `import type { B } from "../queue/b.ts";`,
    `import {`,
    `  c,`,
    `  d,`,
    `} from "../media/c.ts";`,
    `export { e } from "./e.ts";`,
    `export * from "../util/f.ts";`,
    `import "./side.ts";`,
    `import assert from "node:assert/strict";`,
    ` * import { x } from "../cli/x.ts";`,
    `// const m = await import("../cli/y.ts");`,
    `const m = await import("../cli/lazy.ts");`,
    `type T = import("../queue/t.ts").T;`,
  ].join("\n");
  assert.deepEqual(
    importsOf("src/worker/w.ts", text).map((i) => `${i.line} ${i.target}`),
    [
      "1 src/worker/a.ts",
      "2 src/queue/b.ts",
      "3 src/media/c.ts",
      "7 src/worker/e.ts",
      "8 src/util/f.ts",
      "9 src/worker/side.ts",
      "13 src/cli/lazy.ts",
      "14 src/queue/t.ts",
    ],
  );
});

Deno.test("violations: up, sideways and job type to worker are named with file:line and rule", () => {
  const found = violations([
    { file: "src/config/config.ts", line: 21, target: "src/serve/listen.ts" },
    { file: "src/serve/api.ts", line: 24, target: "src/transcode/queue_files.ts" },
    { file: "src/transcode/run.ts", line: 3, target: "src/worker/worker.ts" },
    { file: "src/newthing/x.ts", line: 1, target: "src/util/ids.ts" },
    { file: "src/cli/main.ts", line: 5, target: "deno.json" },
    { file: "src/transcode/run.ts", line: 4, target: "src/replace/replace.ts" },
  ]);
  assert.equal(found.length, 4);
  assert.match(found[0], /^src\/config\/config\.ts:21: .*config \(layer 10.*may not import serve/);
  assert.match(found[1], /^src\/serve\/api\.ts:24: .*one layer/);
  assert.match(found[2], /^src\/transcode\/run\.ts:3: .*only through src\/queue\/job_type\.ts/);
  assert.match(found[3], /src\/newthing is in no layer/);
});
