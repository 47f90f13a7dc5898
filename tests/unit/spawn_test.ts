import assert from "node:assert/strict";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const SRC = fileURLToPath(new URL("../../src/", import.meta.url));

function* sources(dir: string): Generator<string> {
  for (const entry of Deno.readDirSync(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) yield* sources(path);
    else if (entry.name.endsWith(".ts")) yield path;
  }
}

// A child started elsewhere inherits the caller's working directory, which its user may not be
// able to enter (src/util/spawn.ts says what that breaks).
Deno.test("every child process starts through src/util/spawn.ts", () => {
  const spawners = [...sources(SRC)]
    .filter((path) => /new Deno\.Command\(/.test(Deno.readTextFileSync(path)))
    .map((path) => relative(SRC, path));
  assert.deepEqual(spawners, ["util/spawn.ts"]);
});
