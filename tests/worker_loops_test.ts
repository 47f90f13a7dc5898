/**
 * `vpo jobs start --workers N|auto` (issue 19) with real processes and ffmpeg: N worker loops on
 * disjoint cores that a signal or the deadline stop together, each job requeued untouched; `auto`
 * saying how many and why; the largest job started first when the workers outnumber the jobs.
 * Several workers on one film: tests/parallel_segments_test.ts.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeClip } from "./helpers/clips.ts";
import {
  digest,
  findPartials,
  listJobs,
  longClip,
  processesMentioning,
  slowPolicy,
  waitUntil,
  withMediaHome,
  WorkerProcess,
} from "./helpers/worker.ts";
import type { TempHome } from "./helpers/vpo.ts";

async function queue(home: TempHome, args: string[]): Promise<void> {
  const out = await home.run(["transcode", ...args]);
  assert.equal(out.code, 0, out.stdout + out.stderr);
}

Deno.test("two workers of one command stop together at a signal or the deadline", async (t) => {
  const cases = [
    { name: "SIGTERM", args: [] as string[], why: /worker stopped by signal/, signal: true },
    {
      name: "--max-duration 3",
      args: ["--max-duration", "3"],
      why: /deadline reached \(--max-duration 3\)/,
      signal: false,
    },
  ];
  for (const c of cases) {
    await t.step(c.name, async () => {
      await withMediaHome(undefined, async (home, media) => {
        const sources = [
          await longClip(join(media, "a.mkv"), { audio: [] }),
          await longClip(join(media, "b.mkv"), { audio: [] }),
        ];
        const before = await Promise.all(sources.map(digest));
        await queue(home, ["--policy", await slowPolicy(home.dir), ...sources]);
        const worker = WorkerProcess.start(home, ["--workers", "2", "--cpu-cores", "2", ...c.args]);
        let end;
        try {
          await waitUntil("both encodes", () => findPartials(media).length === 2);
          if (c.signal) worker.kill("SIGTERM");
          end = await worker.exit();
        } finally {
          await worker.dispose();
        }
        assert.equal(end.code, 0, end.stdout + end.stderr);
        const cores = [...end.stdout.matchAll(/worker \d: ffmpeg pinned to core (\d)/g)]
          .map((m) => m[1]);
        assert.deepEqual(cores.sort(), ["0", "1"], "one core each, not the same one");
        assert.equal(end.stdout.match(/ requeued /g)?.length, 2, end.stdout);
        assert.match(end.stdout, c.why);
        const jobs = await listJobs(home);
        assert.deepEqual(jobs.map((j) => [j.status, j.attempts]), [["queued", 0], ["queued", 0]]);
        assert.deepEqual(findPartials(home.dir), []);
        assert.deepEqual(await Promise.all(sources.map(digest)), before);
        assert.deepEqual(await processesMentioning(media), [], "both ffmpegs were stopped");
      });
    });
  }
});

Deno.test("--workers auto says how many workers and why; a measured encode informs it", async () => {
  await withMediaHome(undefined, async (home, media) => {
    const empty = await home.run(["jobs", "start", "--workers", "auto"]);
    assert.equal(empty.code, 0, empty.stderr);
    assert.match(
      empty.stdout,
      /worker +\d+ workers? \(auto: \d+ cores, no encode measured yet: one worker per 2, /,
    );
    await queue(home, [await makeClip(join(media, "a.mkv"))]);
    const one = await home.run(["jobs", "start"]);
    assert.equal(one.code, 0, one.stdout + one.stderr);
    const measured = await home.run(["jobs", "start", "--workers", "auto"]);
    assert.match(
      measured.stdout,
      /worker +\d+ workers? \(auto: \d+ cores, one encode keeps \d+\.\d\d busy, .* each of .* available\)/,
    );
  });
});

Deno.test("when the workers outnumber the jobs left, the longest starts first", async () => {
  await withMediaHome(undefined, async (home, media) => {
    // Queued first, so first in claim order: the short one.
    const short = await makeClip(join(media, "short.mkv"), { duration: 1 });
    await queue(home, [short]);
    const long = await makeClip(join(media, "long.mkv"), { duration: 12 });
    await queue(home, [long]);
    // --max-files 1 lets exactly one of the two loops claim (the count is taken before any loop
    // awaits), so which job that is shows the order, not which loop printed first.
    const run = await home.run(["jobs", "start", "--workers", "2", "--max-files", "1"]);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    const started = run.stdout.split("\n").filter((l) => / started /.test(l));
    assert.equal(started.length, 1, started.join("\n"));
    assert.match(started[0], /long\.mkv/);
    // One worker alone keeps the claim order.
    await home.run(["jobs", "start"]);
    await queue(home, ["--force", short, long]);
    const single = await home.run(["jobs", "start", "--max-files", "1"]);
    const order = single.stdout.split("\n").filter((l) => / started /.test(l));
    assert.equal(order.length, 1, order.join("\n"));
    assert.match(order[0], /short\.mkv/);
  });
});
