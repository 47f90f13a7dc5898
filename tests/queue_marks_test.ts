/**
 * Queue marks (src/library/queue_marks.ts) under two runs at once and with junk in their
 * directory: a file is never queued twice, and nothing planted there stops a run (issue 16,
 * rows 8 and 9).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fillMark, markPath, takeMark } from "../src/library/queue_marks.ts";
import { LibraryLayout } from "../src/queue/layout.ts";
import { withTempDir } from "./helpers/temp.ts";

const MARKS = new URL("../src/library/queue_marks.ts", import.meta.url).href;
const LAYOUT = new URL("../src/queue/layout.ts", import.meta.url).href;
const FILES = 60;
const ROUNDS = 20;
const stamp = (round: number, i: number) => ({
  path: `/v/${round}/${i}.mkv`,
  size: i,
  mtime_ms: 1,
});

/**
 * One run of `vpo transcode` reduced to its marks: takes the mark of each of the round's files
 * (a job counts as active when this round made it) and fills those it got. Waits for "go" on
 * stdin, then prints the files it took.
 */
function scanner(root: string, round: number): Deno.ChildProcess {
  const code = `
    import { fillMark, takeMark } from "${MARKS}";
    import { LibraryLayout } from "${LAYOUT}";
    const layout = new LibraryLayout(${JSON.stringify(root)});
    console.log("ready");
    await Deno.stdin.readable.getReader().read();
    const took = [];
    for (let i = 0; i < ${FILES}; i++) {
      const stamp = { path: "/v/${round}/" + i + ".mkv", size: i, mtime_ms: 1 };
      if (takeMark(layout, stamp, (id) => id.startsWith("new")) === null) {
        await fillMark(layout, stamp, "new-" + Deno.pid + "-" + i);
        took.push(i);
      }
    }
    console.log(JSON.stringify(took));`;
  const child = new Deno.Command(Deno.execPath(), {
    // `deno eval` runs with every permission, as vpo does (scripts/permissions.txt).
    args: ["eval", "--quiet", code],
    stdin: "piped",
    stdout: "piped",
  }).spawn();
  return child;
}

async function readLine(reader: ReadableStreamDefaultReader<string>): Promise<string> {
  const { value } = await reader.read();
  return value ?? "";
}

Deno.test("row 8: two scans at once after every job was cancelled never take one file twice", async () => {
  await withTempDir(async (dir) => {
    const library = new LibraryLayout(join(dir, "library"));
    let twice = 0;
    for (let round = 0; round < ROUNDS; round++) {
      // Every file was queued, then its job cancelled: each mark names a job no longer active.
      for (let i = 0; i < FILES; i++) {
        assert.equal(takeMark(library, stamp(round, i), () => false), null);
        await fillMark(library, stamp(round, i), `cancelled-${i}`);
      }
      const runs = [scanner(library.root, round), scanner(library.root, round)];
      const took = await Promise.all(runs.map(async (run) => {
        const reader = run.stdout.pipeThrough(new TextDecoderStream()).getReader();
        assert.equal((await readLine(reader)).trim(), "ready");
        return reader;
      })).then(async (readers) => {
        for (const run of runs) {
          const writer = run.stdin.getWriter();
          await writer.write(new TextEncoder().encode("go\n"));
          await writer.close();
        }
        return await Promise.all(readers.map(async (r) => {
          let text = "";
          for (let line = await readLine(r); line; line = await readLine(r)) text += line;
          return text;
        }));
      }).finally(() => Promise.all(runs.map((r) => r.status)));
      const [a, b] = took.map((text) => {
        assert.match(text, /^\[[\d,]*\]\s*$/, "a scan ended normally");
        return JSON.parse(text) as number[];
      });
      const both = a.filter((i) => b.includes(i));
      twice += both.length;
      assert.equal(a.length + b.length - both.length, FILES, "every file taken");
    }
    assert.equal(twice, 0, `${twice} files taken by both runs over ${ROUNDS} rounds`);
  }, "vpo-marks-");
});

Deno.test("row 9: junk in the marks' directory is set aside, never fatal", async () => {
  await withTempDir(async (dir) => {
    const library = new LibraryLayout(join(dir, "library"));
    const first = stamp(0, 1);
    const path = markPath(library, first);
    assert.equal(takeMark(library, first, () => false), null);
    await fillMark(library, first, "cancelled");
    // A directory someone made beside it, under the name a takeover used to sweep.
    await Deno.mkdir(`${path}.stale-junk`);
    await Deno.writeTextFile(join(`${path}.stale-junk`, "keep"), "x");
    assert.equal(takeMark(library, first, () => false), null, "the mark is taken over");
    assert.ok(Deno.statSync(`${path}.stale-junk`).isDirectory, "the junk is left alone");
    // A directory at a mark's own name: set aside, and the mark made.
    const second = stamp(0, 2);
    await Deno.mkdir(markPath(library, second));
    await Deno.writeTextFile(join(markPath(library, second), "keep"), "x");
    assert.equal(takeMark(library, second, () => false), null);
    assert.ok(Deno.lstatSync(markPath(library, second)).isFile);
    const aside = [...Deno.readDirSync(library.marksDir)].filter((e) => e.name.includes(".junk-"));
    assert.equal(aside.length, 1, "the directory is kept aside, with what it held");
  }, "vpo-marks-");
});
