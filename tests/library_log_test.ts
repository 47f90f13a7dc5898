/**
 * The line logs under the library: many processes appending at once lose nothing, two
 * compactions at once lose nothing, damage is skipped and repaired, a torn tail is not damage;
 * files that are not vpo's (links, FIFOs) are never read, followed or written through.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { KeyedMemory, latest, LineLog, type LogEntry } from "../src/library/line_log.ts";
import { fillMark, markPath, takeMark } from "../src/library/queue_marks.ts";
import { LibraryLayout } from "../src/queue/layout.ts";
import { withTempDir } from "./helpers/temp.ts";

interface Entry extends LogEntry {
  k: string;
  n: number;
}
const valid = (v: unknown): Entry | null => {
  const e = v as Entry;
  return e && typeof e.k === "string" && typeof e.n === "number" && typeof e.at === "number"
    ? e
    : null;
};
const key = (e: Entry) => e.k;
const LOG_MODULE = new URL("../src/library/line_log.ts", import.meta.url).href;

/** Runs `code` in a subprocess with the log module imported as `LineLog`. */
function child(code: string): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["eval", `import { LineLog } from "${LOG_MODULE}";\n${code}`],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
}

async function succeeded(p: Deno.ChildProcess): Promise<void> {
  const out = await p.output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
}

/** A memory of test entries in `dir` whose warnings go to `warnings`. */
const testMemory = (dir: string, warnings: string[]) =>
  new KeyedMemory<Entry>(dir, valid, key, {
    name: "test memory",
    warn: (w) => warnings.push(w),
    select: (m) => m.values(),
  });

/** Runs a synchronous body in a fresh temp directory. */
const inTempDir = (fn: (dir: string) => void) =>
  withTempDir((dir) => Promise.resolve(fn(dir)), "vpo-line-log-");

/** Sets every file's mtime an hour back: other writers' files look idle to a compaction. */
function ageAll(dir: string): void {
  const then = new Date(Date.now() - 3600_000);
  for (const e of Deno.readDirSync(dir)) Deno.utimeSync(join(dir, e.name), then, then);
}

Deno.test("line log: four writers at once, then two compactions at once, lose no entry", async () => {
  await withTempDir(async (dir) => {
    const writers = [0, 1, 2, 3].map((w) =>
      child(`
        const log = new LineLog(${JSON.stringify(dir)}, (v) => v, (e) => e.k);
        for (let i = 0; i < 700; i++) log.add({ k: "w${w}-" + i, n: i, at: Date.now() });
        log.flush();
      `)
    );
    for (const w of writers) await succeeded(w);
    const read = new LineLog(dir, valid, key).load();
    assert.equal(read.entries.length, 2800);
    assert.equal(read.damaged, 0);
    assert.equal(latest(read.entries, key).size, 2800);

    ageAll(dir);
    const compactions = [0, 1].map(() =>
      child(`new LineLog(${JSON.stringify(dir)}, (v) => v, (e) => e.k).compact();`)
    );
    for (const c of compactions) await succeeded(c);
    const after = new LineLog(dir, valid, key).load();
    assert.equal(latest(after.entries, key).size, 2800, "every key survives");
    const names = [...Deno.readDirSync(dir)].map((e) => e.name);
    assert.ok(names.every((n) => n.startsWith("snapshot-")), names.join(" "));
    assert.ok(names.length <= 2, `folded into one snapshot per compaction: ${names}`);
  }, "vpo-line-log-");
});

Deno.test("line log: a writer whose file was folded away writes a new one", async () => {
  await inTempDir((dir) => {
    const mine = new LineLog<Entry>(dir, valid, key);
    mine.add({ k: "a", n: 1, at: 1 });
    assert.equal(mine.flush(), null);
    const other = new LineLog<Entry>(dir, valid, key);
    other.add({ k: "b", n: 1, at: 2 });
    other.flush();
    ageAll(dir);
    new LineLog<Entry>(dir, valid, key).compact();
    mine.add({ k: "a", n: 2, at: 3 });
    mine.flush();
    const newest = latest(new LineLog(dir, valid, key).load().entries, key);
    assert.deepEqual([...newest.values()].map((e) => `${e.k}${e.n}`).sort(), ["a2", "b1"]);
  });
});

Deno.test("keyed memory: damage is skipped with one warning and repaired; a torn tail is not damage", async () => {
  await inTempDir((dir) => {
    const warnings: string[] = [];
    const open = () => testMemory(dir, warnings);
    const first = open();
    first.add({ k: "a", n: 1, at: 1 });
    first.add({ k: "b", n: 1, at: 2 });
    first.close();
    const [file] = [...Deno.readDirSync(dir)].map((e) => join(dir, e.name));
    Deno.writeTextFileSync(file, 'not json\n{"k": 5}\n{"k": "c", "n"', { append: true });

    const second = open();
    assert.equal(second.get("a")?.n, 1);
    assert.equal(second.get("b")?.n, 1);
    assert.equal(second.get("c"), undefined);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /^test memory .*: 2 damaged lines ignored \(it is only a cache/);
    second.close({ compact: true });

    const third = open();
    assert.equal(third.get("a")?.n, 1);
    assert.equal(warnings.length, 1, "repaired: no second warning");
    const text = [...Deno.readDirSync(dir)].map((e) => Deno.readTextFileSync(join(dir, e.name)))
      .join("");
    assert.doesNotMatch(text, /not json/);
  });
});

Deno.test("keyed memory: an unreadable directory warns once and is empty, never fatal", async () => {
  await inTempDir((dir) => {
    const file = join(dir, "not-a-dir");
    Deno.writeTextFileSync(file, "");
    const warnings: string[] = [];
    const memory = testMemory(file, warnings);
    assert.equal(memory.get("a"), undefined);
    memory.add({ k: "a", n: 1, at: 1 });
    memory.close({ compact: true });
    assert.equal(warnings.length, 1, warnings.join("\n"));
    assert.match(warnings[0], /could not read/);
  });
});

Deno.test("keyed memory: a FIFO and a link among the logs are neither read, followed nor folded", async () => {
  await withTempDir(async (dir) => {
    const logs = join(dir, "logs");
    Deno.mkdirSync(logs);
    const target = join(dir, "elsewhere.jsonl");
    Deno.writeTextFileSync(target, JSON.stringify({ k: "planted", n: 1, at: 1 }) + "\n");
    Deno.symlinkSync(target, join(logs, "snapshot-1-h-1-x.jsonl"));
    const mkfifo = await new Deno.Command("mkfifo", { args: [join(logs, "log-1-h-1-y.jsonl")] })
      .output();
    assert.ok(mkfifo.success);
    const warnings: string[] = [];
    const memory = testMemory(logs, warnings);
    assert.equal(memory.get("planted"), undefined);
    for (let n = 0; n < 9; n++) memory.add({ k: `k${n}`, n, at: n });
    memory.close({ compact: true });
    const names = [...Deno.readDirSync(logs)].map((e) => e.name).sort();
    assert.ok(names.includes("snapshot-1-h-1-x.jsonl"), names.join(" "));
    assert.ok(names.includes("log-1-h-1-y.jsonl"), names.join(" "));
    assert.equal(
      Deno.readTextFileSync(target),
      JSON.stringify({ k: "planted", n: 1, at: 1 }) + "\n",
    );
    assert.deepEqual(warnings, []);
  }, "vpo-line-log-");
});

Deno.test("queue marks: a link at a mark's name is set aside, never written through", async () => {
  await withTempDir(async (dir) => {
    const layout = new LibraryLayout(join(dir, "library"));
    const stamp = { path: "/v/a.mkv", size: 10, mtime_ms: 1 };
    Deno.mkdirSync(layout.marksDir, { recursive: true });
    const target = join(dir, "precious");
    Deno.writeTextFileSync(target, "keep me");
    Deno.symlinkSync(target, markPath(layout, stamp));
    assert.equal(takeMark(layout, stamp, () => false), null);
    await fillMark(layout, stamp, "0123456789abcdef");
    assert.equal(Deno.readTextFileSync(target), "keep me");
    assert.ok(Deno.lstatSync(markPath(layout, stamp)).isFile);

    const other = { ...stamp, size: 11 };
    assert.equal(takeMark(layout, other, () => false), null);
    assert.equal(takeMark(layout, other, () => false), "another run");
    await fillMark(layout, other, "0123456789abcdef");
    assert.equal(takeMark(layout, other, (id) => id === "0123456789abcdef"), "0123456789abcdef");
    assert.equal(
      takeMark(layout, other, () => false),
      null,
      "a mark whose job ended is taken over",
    );
  }, "vpo-marks-");
});
