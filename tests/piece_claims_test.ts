/**
 * Pieces of a running job claimed by real processes (S1-S7 of `src/queue/protocol.ts`): a race
 * of several claimers gives each piece to exactly one; a claimer killed at any crash point of the
 * piece protocol leaves a piece that another takes over after stale_after and that ends recorded
 * exactly once; a claimer frozen past stale_after is fenced when it wakes up.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { PIECE_CRASH_POINTS } from "../src/queue/protocol.ts";
import { PieceBoard } from "../src/queue/pieces.ts";
import { LineReader, runActor, sleep, spawnActor, withTempQueue } from "./helpers/queue.ts";

const STALE_AFTER_SEC = 1;
/** Past stale_after for a claim whose last beat was just now. */
const PAST_STALE_MS = 2100;

/** Who published each recorded piece (the actors write their pid), and what else is left. */
function census(dir: string): { records: Map<string, number>; other: string[] } {
  const records = new Map<string, number>();
  const other: string[] = [];
  for (const e of Deno.readDirSync(dir)) {
    const m = /^(p\d+)\.json$/.exec(e.name);
    if (m) records.set(m[1], JSON.parse(Deno.readTextFileSync(join(dir, e.name))).pid);
    else if (!e.name.endsWith(".free")) other.push(e.name);
  }
  return { records, other: other.sort() };
}

async function pieceDir(parent: string, pieces: number): Promise<string> {
  const dir = join(parent, "pieces");
  await Deno.mkdir(dir);
  const board = new PieceBoard(dir);
  for (let i = 0; i < pieces; i++) await board.offer(`p${i}`);
  return dir;
}

Deno.test("four processes race for 200 pieces: each is claimed and published by exactly one", async () => {
  await withTempQueue(async ({ dir: parent, root, children }) => {
    const dir = await pieceDir(parent, 200);
    const runs = await Promise.all(
      Array.from({ length: 4 }, () => runActor(root, ["piece-race", dir, "200"], {}, children)),
    );
    for (const r of runs) assert.equal(r.code, 0, r.stderr);
    const won = runs.flatMap((r) => r.stdout);
    assert.equal(won.length, 200, "every piece won once");
    assert.equal(new Set(won).size, 200, "no piece won twice");
    const { records, other } = census(dir);
    assert.equal(records.size, 200);
    assert.deepEqual(other, [], "no claim or beat left behind");
  });
});

/** A claimer killed at `point`, and what the next ones do. */
interface CrashCase {
  point: typeof PIECE_CRASH_POINTS[number];
  /** Before the crash: a claimer killed once it claimed (a stale claim to take over). */
  staleClaimFirst: boolean;
  /** What the claimer after the crash says, and whether it is the one that publishes. */
  next: "published" | "recorded already";
}

const CASES: CrashCase[] = [
  { point: "piece:claimed", staleClaimFirst: false, next: "published" },
  { point: "piece:recorded", staleClaimFirst: false, next: "recorded already" },
  { point: "piece:taken-over", staleClaimFirst: true, next: "published" },
];

Deno.test("a claimer killed at any crash point of the piece protocol: recorded exactly once", async (t) => {
  await t.step("the cases cover every crash point protocol.ts lists for pieces", () => {
    assert.deepEqual(CASES.map((c) => c.point).sort(), [...PIECE_CRASH_POINTS].sort());
  });
  for (const c of CASES) {
    await t.step(c.point, async () => {
      await withTempQueue(async ({ dir: parent, root, children }) => {
        const dir = await pieceDir(parent, 1);
        const work = (env: Record<string, string> = {}) =>
          runActor(root, ["piece-work", dir, String(STALE_AFTER_SEC), "0"], env, children);
        if (c.staleClaimFirst) {
          const first = await work({ VPO_CRASH_AT: "piece:claimed" });
          assert.equal(first.signal, "SIGKILL");
          await sleep(PAST_STALE_MS);
        }
        const crashed = await work({ VPO_CRASH_AT: c.point });
        assert.equal(crashed.signal, "SIGKILL", `no crash at ${c.point}: ${crashed.stderr}`);
        await sleep(PAST_STALE_MS);
        const next = await work();
        assert.equal(next.code, 0, next.stderr);
        assert.deepEqual(next.stdout, ["claimed", c.next]);
        const { records, other } = census(dir);
        assert.equal(records.size, 1, "the piece is recorded");
        assert.deepEqual(other, [], "no claim or beat left behind");
      });
    });
  }
});

Deno.test("a claimer frozen past stale_after and continued is fenced; the other's record stands", async () => {
  await withTempQueue(async ({ dir: parent, root, children }) => {
    const dir = await pieceDir(parent, 1);
    const late = children.add(
      spawnActor(root, ["piece-work", dir, String(STALE_AFTER_SEC), "4000"]),
    );
    const lines = new LineReader(late.stdout);
    assert.equal(await lines.next(), "claimed");
    late.kill("SIGSTOP");
    await sleep(PAST_STALE_MS);
    const other = await runActor(
      root,
      ["piece-work", dir, String(STALE_AFTER_SEC), "0"],
      {},
      children,
    );
    assert.deepEqual(other.stdout, ["claimed", "published"], other.stderr);
    late.kill("SIGCONT");
    assert.equal(await lines.next(), "lost");
    assert.equal((await late.status).code, 3);
    const { records, other: left } = census(dir);
    assert.deepEqual([...records.keys()], ["p0"]);
    assert.notEqual(records.get("p0"), late.pid, "the late claimer published nothing");
    assert.deepEqual(left, []);
  });
});
