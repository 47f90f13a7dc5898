/**
 * Crashes and stops of real processes in the middle of the queue protocol: whatever step a
 * process dies at, recovery leaves every job in exactly one state, loses none, and runs none
 * twice; a worker stopped past stale_after can never finish or resurrect the job it lost.
 */
import assert from "node:assert/strict";
import { hostname } from "node:os";
import { join } from "node:path";
import {
  census,
  Children,
  LineReader,
  pool,
  runActor,
  sleep,
  spawnActor,
  tempQueue,
  withTempQueue,
  writeJobFile,
} from "./helpers/queue.ts";
import { ROOT } from "./helpers/vpo.ts";
import { PIECE_CRASH_POINTS, QUEUE_CRASH_POINTS } from "../src/queue/protocol.ts";
import type { RecoveredJob } from "../src/queue/recovery.ts";
import { JobQueue } from "../src/queue/store.ts";
import type { Job, JobState } from "../src/queue/job.ts";
import { QueueLayout } from "../src/queue/layout.ts";

/** ctime has 1 s resolution, so a job is surely older than a 1 s stale_after after this long. */
const STALE_AFTER_SEC = 1;
const PAST_STALE_MS = 2100;

/** What the crashing process was doing; each names the actor action it runs. */
type Op =
  | "enqueue"
  | "claim"
  | "finish completed"
  | "finish failed"
  | "cancel"
  | "retry"
  | "recover";

interface CrashCase {
  op: Op;
  point: string;
  /** State of the target job after recovery, and after a drain; "none" = no such job. */
  afterRecover: JobState | "none";
  afterDrain: JobState | "none";
  /** Completed runs plus recoveries; each counts once however the crash fell. */
  attempts: number;
  /** Whether the test's recovery moves the target (rather than finding nothing to do). */
  recovers: boolean;
}

const CASES: CrashCase[] = [
  crashCase("enqueue", "enqueue:written", "none", 0, false),
  crashCase("enqueue", "enqueue:published", "queued", 0, false),
  crashCase("claim", "claim:renamed", "queued", 1, true),
  crashCase("claim", "claim:live-written", "queued", 1, true),
  // A crash before publishing leaves the held copy where it was; after publishing, the new copy
  // wins by rev; after removing the held copy, the transition is done.
  ...transitionCases("finish completed", ["queued", "completed", "completed"], 1, [true]),
  ...transitionCases("finish failed", ["queued", "failed", "failed"], 1, [true]),
  ...transitionCases("cancel", ["queued", "cancelled", "cancelled"], 0, []),
  ...transitionCases("retry", ["failed", "queued", "queued"], 1, []),
  ...transitionCases("recover", ["queued", "queued", "queued"], 1, [true]),
  // Before and after the take-over rename: the job is still (or again) a stale running job.
  crashCase("recover", "recover:journal-copied", "queued", 1, true),
  crashCase("recover", "recover:taken-over", "queued", 1, true),
];

function crashCase(
  op: Op,
  point: string,
  afterRecover: JobState | "none",
  attempts: number,
  recovers: boolean,
): CrashCase {
  const afterDrain = afterRecover === "queued" ? "completed" : afterRecover;
  return { op, point, afterRecover, afterDrain, attempts, recovers };
}

/**
 * Cases for a crash after each step of a transition: `states[i]` is where recovery leaves the
 * job, `recovers[i]` whether it finds a stale running copy to move.
 */
function transitionCases(
  op: Op,
  states: JobState[],
  attempts: number,
  recovers: boolean[],
): CrashCase[] {
  return ["transition:written", "transition:published", "transition:removed"].map((point, i) =>
    crashCase(op, point, states[i], attempts, recovers[i] ?? false)
  );
}

const caseName = (c: CrashCase) => `${c.op} dies at ${c.point}`;
type PiecePoint = typeof PIECE_CRASH_POINTS[number];

interface Setup {
  root: string;
  queue: JobQueue;
  /** The job the crashing process works on (unknown before an enqueue). */
  target: string | null;
  /** A job nobody touches, which must survive everything and be drained once. */
  bystander: string;
  actorArgs: string[];
}

/** Puts a queue in the state the case's operation starts from. */
async function setUp(c: CrashCase): Promise<Setup & { dir: string }> {
  const { dir, root, queue } = await tempQueue();
  // The target runs first in claim order, so an actor's claim takes it, not the bystander.
  const target = c.op === "enqueue" ? null : (await queue.enqueue({ type: "t", priority: 1 })).id;
  const bystander = (await queue.enqueue({ type: "t", file: "/media/bystander.mkv" })).id;
  let actorArgs: string[];
  switch (c.op) {
    case "enqueue":
      actorArgs = ["enqueue", "1"];
      break;
    case "claim":
      actorArgs = ["claim"];
      break;
    case "finish completed":
    case "finish failed":
      actorArgs = ["finish", c.op.split(" ")[1]];
      break;
    case "cancel":
      actorArgs = ["cancel", target!];
      break;
    case "retry": {
      const job = (await queue.claim())!;
      await job.finish("failed", { attempts: 1, error: "boom" }, "failed");
      actorArgs = ["retry", target!];
      break;
    }
    case "recover":
      // Claimed by this test process and abandoned: stale by the time the actor runs.
      await queue.claim();
      actorArgs = ["recover", String(STALE_AFTER_SEC)];
      break;
  }
  return { dir, root, queue, target, bystander, actorArgs };
}

/** Job ids found under `root`, each with every state it has a file in. */
function placesById(root: string): Map<string, string[]> {
  const places = new Map<string, string[]>();
  for (const entry of census(root)) {
    const [state, id] = entry.split(":");
    places.set(id, [...places.get(id) ?? [], state]);
  }
  return places;
}

interface Outcome {
  target: string | null;
  recovered: RecoveredJob[];
  afterRecover: Map<string, string[]>;
  drained: string[];
  afterDrain: Map<string, string[]>;
  record: Job | undefined;
}

/** What a later worker start does: recover (as another process would), then drain the queue. */
async function recoverAndDrain(s: Setup): Promise<Outcome> {
  const target = s.target ??
    [...placesById(s.root).keys()].find((id) => id !== s.bystander) ?? null;
  const { recovered } = await (await JobQueue.open(s.root)).recover({
    staleAfterSec: STALE_AFTER_SEC,
  });
  const afterRecover = placesById(s.root);
  const drained: string[] = [];
  for (let job = await s.queue.claim(); job; job = await s.queue.claim()) {
    await job.finish("completed", {}, "completed");
    drained.push(job.id);
  }
  const record = target ? s.queue.list().jobs.find((j) => j.id === target) : undefined;
  return { target, recovered, afterRecover, drained, afterDrain: placesById(s.root), record };
}

Deno.test("a process killed at any crash point of the queue loses no job and runs none twice", async (t) => {
  const dir = join(ROOT, "src/queue");
  const sources = [...Deno.readDirSync(dir)].map((e) => Deno.readTextFileSync(join(dir, e.name)));
  const points = new Set(
    sources.flatMap((source) => [...source.matchAll(/crashPoint\("([^"]+)"\)/g)].map((m) => m[1])),
  );
  await t.step("the cases cover every crash point of src/queue/, as protocol.ts lists them", () => {
    // The piece claims' points are covered by tests/piece_claims_test.ts, which checks that
    // its cases name every one of PIECE_CRASH_POINTS.
    assert.deepEqual([...points].sort(), [...QUEUE_CRASH_POINTS, ...PIECE_CRASH_POINTS].sort());
    assert.deepEqual(
      [...new Set(CASES.map((c) => c.point))].sort(),
      [...points].filter((p) => !PIECE_CRASH_POINTS.includes(p as PiecePoint)).sort(),
    );
  });

  const setups = await Promise.all(CASES.map(setUp));
  const children = new Children();
  try {
    // Every case shares the waits: one for the "recover" cases' abandoned claims to go stale,
    // one after the crashes for the crashed workers' claims to go stale.
    await sleep(PAST_STALE_MS);
    const crashes = await pool(
      setups.map((s, i) => () =>
        runActor(s.root, s.actorArgs, { VPO_CRASH_AT: CASES[i].point }, children)
      ),
      4,
    );
    await sleep(PAST_STALE_MS);
    const outcomes: Outcome[] = [];
    for (const s of setups) outcomes.push(await recoverAndDrain(s));

    for (const [i, c] of CASES.entries()) {
      await t.step(caseName(c), () => {
        const crash = crashes[i];
        const o = outcomes[i];
        const s = setups[i];
        assert.equal(
          crash.signal,
          "SIGKILL",
          `the actor did not die at ${c.point}: ${crash.stderr}`,
        );
        assert.deepEqual(crash.stdout, [], "the crashed operation never returned");
        for (
          const [when, places] of [["recovery", o.afterRecover], ["drain", o.afterDrain]] as const
        ) {
          for (const [id, states] of places) {
            assert.equal(states.length, 1, `after ${when}, ${id} is in ${states.join(" and ")}`);
          }
        }
        const stateOf = (places: Map<string, string[]>) =>
          o.target ? places.get(o.target)?.[0] ?? "none" : "none";
        assert.equal(stateOf(o.afterRecover), c.afterRecover, "state after recovery");
        assert.equal(stateOf(o.afterDrain), c.afterDrain, "state after drain");
        assert.deepEqual(o.afterRecover.get(s.bystander), ["queued"]);
        assert.deepEqual(o.afterDrain.get(s.bystander), ["completed"]);
        // The drain ran exactly the jobs that recovery left queued, each once.
        const queuedAfterRecover = [...o.afterRecover].filter(([, st]) => st[0] === "queued");
        assert.deepEqual([...o.drained].sort(), queuedAfterRecover.map(([id]) => id).sort());
        if (o.target) assert.equal(o.record?.attempts, c.attempts, "attempts");
        assert.deepEqual(o.recovered.map((r) => r.id), c.recovers ? [o.target] : []);
      });
    }
  } finally {
    await children.killAll();
    await Promise.all(setups.map((s) => Deno.remove(s.dir, { recursive: true })));
  }
});

/** Starts a `hold` worker and returns it with the id of the job it claimed. */
async function startHolder(root: string, children: Children) {
  const child = children.add(spawnActor(root, ["hold", "100"]));
  const lines = new LineReader(child.stdout);
  const first = await lines.next();
  const id = first?.match(/^claimed ([0-9a-f]{32})$/)?.[1];
  assert.ok(id, `the holder did not claim a job: ${first}`);
  return { child, lines, id };
}

Deno.test("a SIGKILLed worker's job goes back to the queue with the reason and one more attempt", async () => {
  await withTempQueue(async ({ root, queue, children }) => {
    await queue.enqueue({ type: "t", file: "/media/a.mkv" });
    const { child, id } = await startHolder(root, children);
    child.kill("SIGKILL");
    assert.equal((await child.status).signal, "SIGKILL");
    assert.deepEqual(census(root), [`running:${id}`], "a dead worker's job stays running");
    await sleep(PAST_STALE_MS);
    const { recovered } = await queue.recover({ staleAfterSec: STALE_AFTER_SEC });
    assert.deepEqual(recovered.map((r) => [r.id, r.to]), [[id, "queued"]]);
    const back = queue.find(id);
    assert.equal(back.state, "queued");
    assert.equal(back.attempts, 1);
    const last = back.history.at(-1)!;
    assert.equal(last.event, "recovered");
    assert.match(
      last.detail!,
      new RegExp(`^heartbeat \\d+ s old \\(worker ${hostname()}:${child.pid}\\)$`),
    );
    assert.deepEqual(census(root), [`queued:${id}`]);
    assert.deepEqual([...Deno.readDirSync(join(root, "live"))], [], "its live file is dropped");
  });
});

Deno.test("a worker stopped past stale_after and continued after another finished its job is fenced", async () => {
  await withTempQueue(async ({ root, queue, children }) => {
    await queue.enqueue({ type: "t", file: "/media/a.mkv" });
    const late = await startHolder(root, children);
    late.child.kill("SIGSTOP");
    await sleep(PAST_STALE_MS);
    const { recovered } = await queue.recover({ staleAfterSec: STALE_AFTER_SEC });
    assert.deepEqual(recovered.map((r) => r.id), [late.id]);
    const other = await runActor(root, ["claim"], {}, children);
    assert.equal(other.code, 0, other.stderr);
    assert.deepEqual(other.stdout, [late.id]);
    assert.deepEqual(census(root), [`completed:${late.id}`]);

    late.child.kill("SIGCONT");
    assert.equal(await late.lines.next(), `lost ${late.id}`);
    assert.equal((await late.child.status).code, 3);

    // Neither duplicated nor resurrected, now or after another recovery.
    assert.deepEqual(census(root), [`completed:${late.id}`]);
    assert.deepEqual((await queue.recover({ staleAfterSec: STALE_AFTER_SEC })).recovered, []);
    assert.deepEqual(census(root), [`completed:${late.id}`]);
    const done = queue.find(late.id);
    assert.deepEqual(done.history.map((h) => h.event), ["queued", "recovered", "completed"]);
    assert.equal(done.attempts, 1);
  });
});

Deno.test("a worker frozen between publishing its finish and removing its claim keeps the job", async () => {
  await withTempQueue(async ({ dir, root, queue, children }) => {
    await queue.enqueue({ type: "t", file: "/media/a.mkv" });
    const child = children.add(
      spawnActor(root, ["hold", "100"], { VPO_STOP_AT: "transition:published" }),
    );
    const lines = new LineReader(child.stdout);
    const id = (await lines.next())?.match(/^claimed ([0-9a-f]{32})$/)?.[1];
    assert.ok(id);
    await Deno.writeTextFile(join(dir, "release"), "");
    // Wait until it has published completed/ and stopped itself before removing its claim.
    while (census(root).length < 2) await sleep(20);
    assert.deepEqual(census(root), [`completed:${id}`, `running:${id}`]);
    await sleep(PAST_STALE_MS);
    assert.deepEqual((await queue.recover({ staleAfterSec: STALE_AFTER_SEC })).recovered, []);
    assert.deepEqual(census(root), [`completed:${id}`], "the stale older copy is set aside");
    child.kill("SIGCONT");
    assert.equal(await lines.next(), "finished", "its move stands: no undo of the publish");
    assert.equal((await child.status).code, 0);
    assert.deepEqual(census(root), [`completed:${id}`]);
  });
});

Deno.test("a claim that meets a job between a cancel's publish and remove leaves it to the cancel", async () => {
  await withTempQueue(async ({ root, queue }) => {
    const job = await queue.enqueue({ type: "t" });
    // The cancel's steps 1-3, as `vpo jobs cancel` does them: hold the file under a token name,
    // publish the cancelled record. Its step 4 (remove the held name) has not run yet.
    const held = new QueueLayout(root).jobPath("queued", job.id, "0000cancel00");
    await Deno.rename(job.path, held);
    await writeJobFile(root, "cancelled", { ...job, rev: job.rev + 1 });
    assert.equal(await queue.claim(), null, "the cancelled job is not run");
    // Step 4 must still find its held file: had the claim removed it, the cancel would undo its
    // publish (it takes a missing held file for a lost race) and the job would vanish.
    await Deno.remove(held);
    assert.deepEqual(census(root), [`cancelled:${job.id}`]);
  });
});
