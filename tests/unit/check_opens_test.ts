/**
 * scripts/check_opens.ts, the part of `deno task check` that keeps every open of a file in a
 * place others may write inside util/safe_open.ts: the ways of reaching an open that it must not
 * miss, and what it must leave alone.
 */
import assert from "node:assert/strict";
import { checkFile, checkRepository } from "../../scripts/check_opens.ts";

const findings = (text: string) => checkFile("src/x.ts", text, new Set());

Deno.test("check_opens: an open reached by an alias, another spelling or another route is found", () => {
  const hidden: Record<string, string> = {
    "an alias of Deno": "const D = Deno;\nD.openSync(p);\n",
    "a destructuring": "const { openSync } = Deno;\nopenSync(p);\n",
    "a bracket": 'Deno["openSync"](p);\n',
    "a line break before the dot": "Deno\n  .openSync(p);\n",
    "a reference, not a call": "const write = Deno.writeTextFileSync;\n",
    "a code line after a block comment": "/* why */ Deno.openSync(p);\n",
    "a template's expression": "const t = `${Deno.readTextFileSync(p)}`;\n",
    "mkdir, which accepts a link": "await Deno.mkdir(dir, { recursive: true });\n",
    "chmod": "Deno.chmodSync(p, 0o600);\n",
    "node:fs by its bare name": 'import { openSync } from "fs";\n',
    "node:fs under another name": 'import { openSync as closeSync } from "node:fs";\n',
    "node:fs as a namespace": 'import * as fs from "node:fs";\n',
    "node:fs imported at run time": 'const fs = await import("node:fs");\n',
    "node:fs re-exported": 'export { openSync } from "node:fs";\n',
    "require through node:module": 'import { createRequire } from "node:module";\n',
  };
  for (const [how, text] of Object.entries(hidden)) {
    assert.ok(findings(text).length > 0, `not found: ${how}`);
  }
});

Deno.test("check_opens: comments, strings, types and descriptor calls are not findings", () => {
  const text = [
    'import { closeSync, fstatSync, type Stats } from "node:fs";',
    'import type { Dirent } from "node:fs";',
    "// Deno.openSync(p) in a comment",
    "/** Deno.writeTextFile(x) in a JSDoc example */",
    "const missing = Deno.errors.NotFound;",
    'const said = "Deno reads /proc only with -A";',
    'const url = "http://x"; const quotes = /["\'/]/;',
    "const shown = `pid ${Deno.pid}`;",
  ].join("\n");
  assert.deepEqual(findings(text), []);
});

Deno.test("check_opens: vpo's own code has no finding and every reviewed exception is used", () => {
  assert.deepEqual(checkRepository(), []);
});
