import assert from "node:assert/strict";
import { join } from "node:path";
import {
  checkTransition,
  IllegalTransitionError,
  stateOfPath,
  TRANSITIONS,
} from "../../src/queue/protocol.ts";
import { STATES } from "../../src/queue/job.ts";
import { countJobsIn } from "../../src/queue/scan.ts";
import { jobIdOf, parseJobFileName, publishedName, QueueLayout } from "../../src/queue/layout.ts";
import {
  compareOrder,
  formatOrderKey,
  orderOf,
  parseOrderKey,
} from "../../src/queue/claim_order.ts";
import { newJobRecord } from "../../src/queue/job.ts";

Deno.test("TRANSITIONS: what workers, commands and recovery do is legal, nothing else", () => {
  checkTransition("running", "completed", "completed");
  checkTransition("running", "queued", "requeued");
  checkTransition("running", "completed", "recovered");
  checkTransition("queued", "cancelled", "cancelled");
  checkTransition("queued", "queued", "priority");
  assert.throws(() => checkTransition("queued", "queued", "retried"), IllegalTransitionError);
  checkTransition("failed", "queued", "retried");
  checkTransition("cancelled", "queued", "retried");
  assert.throws(() => checkTransition("completed", "queued", "retried"), IllegalTransitionError);
  assert.throws(() => checkTransition("queued", "completed", "completed"), IllegalTransitionError);
  assert.throws(() => checkTransition("running", "failed", "retried"), IllegalTransitionError);
  assert.deepEqual(Object.keys(TRANSITIONS).sort(), [...STATES].sort());
});

Deno.test("the state of a path is its directory, and only a state directory", () => {
  const layout = new QueueLayout("/q");
  assert.equal(stateOfPath(layout, "/q/running/ab12cd34.tok.json"), "running");
  assert.equal(stateOfPath(layout, "/q/.tmp/ab12cd34.json"), null);
  assert.equal(stateOfPath(layout, join("/elsewhere", "queued", "ab12cd34.json")), null);
});

Deno.test("queued names carry the claim order, and sort as the records do", () => {
  const at = (iso: string, priority: number) =>
    newJobRecord("ab".repeat(16), { type: "t", priority }, new Date(iso));
  const a = at("2026-11-29T16:42:08.123Z", 100);
  assert.equal(publishedName("queued", a), `${a.id}.q100-20261129T164208123Z.json`);
  assert.equal(publishedName("completed", a), `${a.id}.json`);
  const name = parseJobFileName(publishedName("queued", a))!;
  assert.deepEqual(name.order, orderOf(a));
  assert.equal(name.token, null);
  assert.deepEqual(parseOrderKey("q-5-20261129T164208123Z"), {
    priority: -5,
    stamp: "20261129T164208123Z",
  });
  assert.equal(parseOrderKey("q1x-20261129T164208123Z"), null);
  assert.equal(formatOrderKey({ priority: 2 ** 60, stamp: "20261129T164208123Z" }), null);
  // A token name is never read as an order, and an order key is never a token.
  assert.equal(parseJobFileName(`${a.id}.0a1b2c3d4e5f.json`)!.token, "0a1b2c3d4e5f");
  assert.equal(jobIdOf(".hidden.json"), null);
  assert.equal(jobIdOf(`${a.id}.json`), a.id);
  // Earlier priority first, then earlier stamp, then id.
  const place = (priority: number, stamp: string, id: string) => ({ priority, stamp, id });
  const sorted = [
    place(100, "20261129T164208124Z", "aa"),
    place(100, "20261129T164208123Z", "bb"),
    place(1, "20301129T164208123Z", "cc"),
    place(100, "20261129T164208123Z", "ab"),
  ].sort(compareOrder).map((p) => p.id);
  assert.deepEqual(sorted, ["cc", "ab", "bb", "aa"]);
});

Deno.test("counting jobs by name: a held or collision copy counts once", async () => {
  const dir = await Deno.makeTempDir();
  const id = (c: string) => c.repeat(32);
  const names = [
    `${id("a")}.q100-20261129T164208123Z.json`,
    `${id("a")}.0a1b2c3d4e5f.json`, // the same job, held by a command
    `${id("b")}.json`,
    `${id("c")}.0a1b2c3d4e5f.json`, // held, no other copy
    `.${id("d")}.json`, // a temp file
    "notes.txt",
  ];
  for (const name of names) await Deno.writeTextFile(join(dir, name), "");
  assert.equal(countJobsIn(dir), 3);
  assert.equal(countJobsIn(join(dir, "missing")), 0);
  await Deno.remove(dir, { recursive: true });
});
