import assert from "node:assert/strict";
import { join } from "node:path";
import { census, runActor, sleep, withTempQueue } from "./helpers/queue.ts";
import { exists } from "../src/util/durable_fs.ts";
import { LostJobError } from "../src/errors.ts";
import { parseJob } from "../src/queue/job.ts";
import { QueueLayout } from "../src/queue/layout.ts";
import { surveyQueue } from "../src/queue/counts.ts";
import { transcodeJobType } from "../src/transcode/job_type.ts";

Deno.test("enqueue writes one private, valid job file named by its id and claim order", async () => {
  await withTempQueue(async ({ root, queue }) => {
    const job = await queue.enqueue({ type: "transcode", file: "/m/a.mkv", payload: { x: 1 } });
    assert.match(job.id, /^[0-9a-f]{32}$/);
    const stamp = job.created_at.replace(/[-:.]/g, "");
    assert.equal(job.path, join(root, "queued", `${job.id}.q100-${stamp}.json`));
    const record = parseJob(await Deno.readTextFile(job.path), job.path, job.id);
    assert.deepEqual(record.payload, { x: 1 });
    assert.equal((await Deno.stat(root)).mode! & 0o777, 0o700);
    assert.equal((await Deno.stat(join(root, "queued"))).mode! & 0o777, 0o700);
    assert.deepEqual(queue.counts(), {
      queued: 1,
      running: 0,
      completed: 0,
      failed: 0,
      cancelled: 0,
    });
  });
});

Deno.test("claim order is priority, then first in first out; a hand-edited priority reorders", async () => {
  await withTempQueue(async ({ queue }) => {
    const a = await queue.enqueue({ type: "t", file: "/a" });
    await sleep(2);
    const b = await queue.enqueue({ type: "t", file: "/b" });
    await sleep(2);
    const c = await queue.enqueue({ type: "t", file: "/c", priority: 50 });
    assert.deepEqual(queue.list({ status: "queued" }).jobs.map((j) => j.file), ["/c", "/a", "/b"]);
    // Edit b's priority by hand, as a person would with an editor.
    const record = JSON.parse(await Deno.readTextFile(b.path));
    record.priority = 10;
    await Deno.writeTextFile(b.path, JSON.stringify(record, null, 2));
    await sleep(1100); // files are stat'ed again at most once a second
    const order: string[] = [];
    for (let job = await queue.claim(); job; job = await queue.claim()) {
      order.push(job.id);
      await job.finish("completed", {}, "completed");
    }
    assert.deepEqual(order, [b.id, c.id, a.id]);
  });
});

Deno.test("a claim may reorder the jobs it picks from; the others stay in claim order", async () => {
  await withTempQueue(async ({ queue }) => {
    const a = await queue.enqueue({ type: "t", file: "/a" });
    await sleep(2);
    const b = await queue.enqueue({ type: "t", file: "/b" });
    const seen: string[][] = [];
    const last = await queue.claim({
      order: (jobs) => {
        seen.push(jobs.map((j) => j.file ?? ""));
        return [...jobs].reverse();
      },
    });
    assert.equal(last?.id, b.id);
    assert.deepEqual(seen, [["/a", "/b"]], "given in claim order");
    assert.equal((await queue.claim())?.id, a.id);
  });
});

Deno.test("a claimed job runs under a token name; finishing moves it and ends ownership", async () => {
  await withTempQueue(async ({ root, queue }) => {
    const queued = await queue.enqueue({ type: "t" });
    const job = (await queue.claim())!;
    assert.equal(job.id, queued.id);
    assert.deepEqual(census(root), [`running:${job.id}`]);
    assert.match(job.path, new RegExp(`running/${job.id}\\.[0-9a-f]{12}\\.json$`));
    await job.heartbeat();
    await job.updateLive({
      progress: { percent: 45, fps: 1, speed: 1, eta_sec: 3, out_time_sec: 1 },
    });
    const shown = queue.list();
    assert.equal(queue.readLive(shown.jobs[0])?.progress?.percent, 45);
    const done = await job.finish("failed", { error: "boom", attempts: 1 }, "failed", "boom");
    assert.equal(done.state, "failed");
    assert.equal(done.rev, queued.rev + 1);
    assert.deepEqual(census(root), [`failed:${job.id}`]);
    await assert.rejects(job.heartbeat(), LostJobError);
    await assert.rejects(job.finish("completed", {}, "completed"), LostJobError);
    assert.deepEqual(census(root), [`failed:${job.id}`]);
    assert.equal([...Deno.readDirSync(join(root, "live"))].length, 0);
  });
});

Deno.test("recover takes over stale jobs only, and the old owner is fenced", async () => {
  await withTempQueue(async ({ root, queue }) => {
    await queue.enqueue({ type: "t" });
    await queue.enqueue({ type: "t" });
    const stale = (await queue.claim())!;
    await sleep(2100); // ctime has 1 s resolution; stale_after is 1 s below
    const fresh = (await queue.claim())!;
    const { recovered } = await queue.recover({ staleAfterSec: 1 });
    assert.deepEqual(recovered.map((r) => [r.id, r.to]), [[stale.id, "queued"]]);
    assert.match(recovered[0].detail, /heartbeat \d+ s old \(worker .+:\d+\)/);
    await assert.rejects(stale.heartbeat(), LostJobError);
    await assert.rejects(stale.finish("completed", {}, "completed"), LostJobError);
    await fresh.heartbeat();
    const back = queue.find(stale.id);
    assert.equal(back.state, "queued");
    assert.equal(back.attempts, 1);
    assert.equal(back.history.at(-1)?.event, "recovered");
    assert.deepEqual(census(root), [`queued:${stale.id}`, `running:${fresh.id}`].sort());
  });
});

Deno.test("a heartbeat with a wrong clock neither hides nor fakes staleness", async () => {
  await withTempQueue(async ({ queue }) => {
    await queue.enqueue({ type: "t" });
    const job = (await queue.claim())!;
    // A worker an hour behind stamps an old mtime; the file system's own ctime still says fresh.
    const past = new Date(Date.now() - 3_600_000);
    await Deno.utime(job.path, past, past);
    assert.equal((await queue.recover({ staleAfterSec: 60 })).recovered.length, 0);
    // A worker an hour ahead cannot keep a dead job alive either.
    const future = new Date(Date.now() + 3_600_000);
    await Deno.utime(job.path, future, future);
    await sleep(2100);
    assert.equal((await queue.recover({ staleAfterSec: 1 })).recovered.length, 1);
  });
});

Deno.test("two recoveries at once recover each stale job exactly once", async () => {
  await withTempQueue(async ({ root, queue }) => {
    for (let i = 0; i < 20; i++) await queue.enqueue({ type: "t" });
    for (let i = 0; i < 20; i++) await queue.claim();
    await sleep(2100);
    const [a, b] = await Promise.all([
      runActorRecover(root),
      runActorRecover(root),
    ]);
    assert.equal(a + b, 20);
    assert.equal(census(root).filter((c) => c.startsWith("queued:")).length, 20);
    assert.equal(census(root).length, 20);
  });
});

async function runActorRecover(root: string): Promise<number> {
  const { JobQueue } = await import("../src/queue/store.ts");
  const q = await JobQueue.open(root);
  return (await q.recover({ staleAfterSec: 1 })).recovered.length;
}

Deno.test("garbage, truncated and foreign files are reported with path and position, never touched", async () => {
  await withTempQueue(async ({ root, queue }) => {
    const good = await queue.enqueue({ type: "t" });
    const text = await Deno.readTextFile(good.path);
    const truncated = join(root, "queued", "0123456789abcdef0123456789abcdef.json");
    await Deno.writeTextFile(truncated, text.slice(0, 40));
    const garbage = join(root, "failed", "aaaabbbbccccddddeeeeffff00001111.json");
    await Deno.writeTextFile(garbage, '{\n  "id": nope\n}');
    const foreign = join(root, "queued", "99998888777766665555444433332222.json");
    await Deno.writeTextFile(foreign, "[1, 2]");
    const { jobs, problems } = queue.list();
    assert.deepEqual(jobs.map((j) => j.id), [good.id]);
    const messages = problems.map((p) => p.message).sort();
    assert.equal(messages.length, 3);
    assert.ok(
      messages.some((m) => m.startsWith(`${garbage}: invalid JSON at line 2, column 10`)),
      messages.join("\n"),
    );
    assert.ok(messages.some((m) => m.startsWith(`${truncated}: invalid JSON at line`)));
    assert.ok(messages.some((m) => m === `${foreign}: not a job`));
    assert.equal(queue.counts().queued, 3); // counting reads names only
    const claimed = (await queue.claim())!;
    assert.equal(claimed.id, good.id);
    await claimed.finish("completed", {}, "completed");
    assert.equal(await queue.claim(), null);
    await queue.clear(["failed"]);
    for (const p of [truncated, garbage, foreign]) await Deno.stat(p); // all still there
  });
});

Deno.test("hand moves: mv failed->queued retries, rm of a queued file drops the job", async () => {
  await withTempQueue(async ({ root, queue }) => {
    const a = await queue.enqueue({ type: "t" });
    const b = await queue.enqueue({ type: "t" });
    const job = (await queue.claim())!;
    const failed = await job.finish("failed", { error: "x" }, "failed");
    await Deno.rename(failed.path, join(root, "queued", `${failed.id}.json`));
    const other = a.id === job.id ? b : a;
    await Deno.remove(other.path);
    const again = (await queue.claim())!;
    assert.equal(again.id, job.id);
    await again.finish("completed", {}, "completed");
    assert.equal(await queue.claim(), null);
    assert.deepEqual(census(root), [`completed:${job.id}`]);
    // A running file moved back by hand (token name and all) is queued and claimable.
    const c = await queue.enqueue({ type: "t" });
    const held = (await queue.claim())!;
    await Deno.rename(held.path, join(root, "queued", held.path.split("/").at(-1)!));
    assert.equal((await queue.claim())!.id, c.id);
    await assert.rejects(held.heartbeat(), LostJobError);
  });
});

Deno.test("find by prefix: unique, ambiguous, unknown, too short", async () => {
  await withTempQueue(async ({ queue }) => {
    const jobs = [];
    for (let i = 0; i < 40; i++) jobs.push(await queue.enqueue({ type: "t" }));
    const j = jobs[0];
    assert.equal(queue.find(j.id.slice(0, 8)).id, j.id);
    assert.equal(queue.find(j.id.toUpperCase()).id, j.id);
    // 40 random ids share a first hex digit with near certainty... use a 1-char prefix check
    // through the 4-character minimum instead.
    assert.throws(() => queue.find(j.id.slice(0, 3)), /at least 4 hex characters/);
    assert.throws(() => queue.find("ffffffffffff"), /no job matches "ffffffffffff"/);
    const twin = await queue.enqueue({ type: "t" });
    const fake = j.id.slice(0, 6) + twin.id.slice(6);
    await Deno.rename(twin.path, twin.path.replace(twin.id, fake));
    assert.throws(() => queue.find(j.id.slice(0, 6)), /is ambiguous: .+\(queued\), .+\(queued\)/);
  });
});

Deno.test("cancel and retry follow the guide's rules", async () => {
  await withTempQueue(async ({ root, queue }) => {
    const a = await queue.enqueue({ type: "t" });
    const b = await queue.enqueue({ type: "t" });
    assert.equal((await queue.cancel(b.id.slice(0, 8))).state, "cancelled");
    const running = (await queue.claim())!;
    assert.equal(running.id, a.id);
    await assert.rejects(queue.cancel(a.id), /is running; only queued jobs can be cancelled/);
    await assert.rejects(queue.retry(a.id), /is running; only failed or cancelled/);
    assert.equal(await running.cancelRequested(), false);
    await queue.cancel(a.id, { running: true });
    assert.equal(await running.cancelRequested(), true);
    await running.finish("completed", {}, "completed");
    await assert.rejects(queue.cancel(a.id), /is completed; only queued jobs can be cancelled/);
    await assert.rejects(queue.retry(a.id), /is completed; only failed or cancelled/);
    const retried = await queue.retry(b.id);
    assert.equal(retried.state, "queued");
    assert.deepEqual(retried.history.map((h) => h.event), ["queued", "cancelled", "retried"]);
    assert.deepEqual(census(root), [`completed:${a.id}`, `queued:${b.id}`].sort());
    assert.equal([...Deno.readDirSync(join(root, "requests"))].length, 0);
  });
});

Deno.test("clear and cleanup remove only finished jobs past their age, and owned backups", async () => {
  await withTempQueue(async ({ dir, root, queue }) => {
    const backup = join(dir, "movie.mkv.original");
    await Deno.writeTextFile(backup, "original bytes");
    const stranger = join(dir, "other.mkv.original");
    await Deno.writeTextFile(stranger, "not ours");
    // A backup is vpo's when it is <file>.original[.N] of the job's file, with the recorded inode.
    for (let i = 0; i < 3; i++) await queue.enqueue({ type: "t", file: join(dir, "movie.mkv") });
    const old = (await queue.claim())!;
    const oldDone = await old.finish("completed", {
      finished_at: new Date(Date.now() - 10 * 86_400_000).toISOString(),
      result: {
        outcome: "replaced",
        outcome_detail: "replaced",
        output_path: join(dir, "movie.mkv"),
        backup_path: backup,
        backup_size: 14,
        backup_ino: Deno.statSync(backup).ino,
      },
    }, "completed");
    const past = new Date(Date.now() - 10 * 86_400_000);
    await Deno.utime(oldDone.path, past, past);
    const recent = (await queue.claim())!;
    await recent.finish("failed", {
      finished_at: new Date().toISOString(),
      result: { backup_path: stranger, backup_size: 1 },
    }, "failed");
    const madeFiles = transcodeJobType.madeFiles;
    const dry = await queue.cleanup({ olderThanDays: 7, madeFiles, dryRun: true });
    assert.deepEqual(dry.jobs.map((j) => j.id), [old.id]);
    assert.deepEqual(dry.files, [backup]);
    await Deno.stat(backup);
    assert.equal(census(root).length, 3);
    const done = await queue.cleanup({ olderThanDays: 7, madeFiles });
    assert.equal(done.jobs.length, 1);
    await assert.rejects(Deno.stat(backup), Deno.errors.NotFound);
    await Deno.stat(stranger);
    assert.equal(census(root).length, 2);
    assert.deepEqual((await queue.clear(["failed"])).removed, 1);
    assert.deepEqual(census(root).map((c) => c.split(":")[0]), ["queued"]);
  });
});

Deno.test("list order: running, queued in claim order, finished newest first; limit reads few", async () => {
  await withTempQueue(async ({ queue }) => {
    for (let i = 0; i < 6; i++) {
      await queue.enqueue({ type: "t", file: `/f${i}` });
      await sleep(2);
    }
    const first = (await queue.claim())!;
    await first.finish("completed", {}, "completed");
    await sleep(20);
    const second = (await queue.claim())!;
    await second.finish("failed", {}, "failed");
    const running = (await queue.claim())!;
    const files = queue.list().jobs.map((j) => `${j.state}:${j.file}`);
    assert.deepEqual(files, [
      "running:/f2",
      "queued:/f3",
      "queued:/f4",
      "queued:/f5",
      "failed:/f1",
      "completed:/f0",
    ]);
    assert.deepEqual(queue.list({ limit: 2 }).jobs.map((j) => j.file), ["/f2", "/f3"]);
    assert.deepEqual(queue.list({ status: "failed" }).jobs.map((j) => j.file), ["/f1"]);
    await running.finish("completed", {}, "completed");
  });
});

Deno.test("4 processes claiming from 2,000 queued jobs claim each exactly once", async () => {
  await withTempQueue(async ({ root, queue }) => {
    const ids = new Set<string>();
    const enq = await runActor(root, ["enqueue", "2000"]);
    assert.equal(enq.code, 0, enq.stderr);
    for (const id of enq.stdout) ids.add(id);
    assert.equal(ids.size, 2000);
    const results = await Promise.all([0, 1, 2, 3].map(() => runActor(root, ["drain"])));
    const claimed = results.flatMap((r) => {
      assert.equal(r.code, 0, r.stderr);
      return r.stdout;
    });
    assert.equal(claimed.length, 2000, "every job claimed once, none twice");
    assert.deepEqual(new Set(claimed), ids);
    assert.ok(results.every((r) => r.stdout.length > 0), "no worker starved");
    assert.equal(queue.counts().completed, 2000);
  });
});

Deno.test("list --limit reads the head by name, and never shows a job out of its place", async () => {
  await withTempQueue(async ({ root, queue }) => {
    const queuedDir = join(root, "queued");
    const jobs = [];
    // One process, one loop: equal milliseconds must still keep first in, first out.
    for (let i = 0; i < 30; i++) jobs.push(await queue.enqueue({ type: "t", file: `/f${i}` }));
    const files = (limit: number) =>
      queue.list({ status: "queued", limit }).jobs.map((j) => j.file);
    assert.deepEqual(files(5), ["/f0", "/f1", "/f2", "/f3", "/f4"]);
    // Damage a job far down the queue in place: a head read never opens it, a full list reports it.
    await Deno.writeTextFile(jobs[29].path, "{ garbage");
    const head = queue.list({ status: "queued", limit: 5 });
    assert.equal(head.problems.length, 0, "the damaged file was not read");
    assert.equal(queue.list({ status: "queued" }).problems.length, 1);
    // A job at the head edited in place to a worse priority: read, put in its place, renamed.
    const edit = async (job: { path: string }, priority: number) => {
      const record = JSON.parse(await Deno.readTextFile(job.path));
      await Deno.writeTextFile(job.path, JSON.stringify({ ...record, priority }));
    };
    await edit(jobs[0], 500);
    assert.deepEqual(files(3), ["/f1", "/f2", "/f3"]);
    assert.ok(await exists(jobs[0].path.replace(".q100-", ".q500-")), "renamed to its order");
    // Edited in place to a better priority far down: workers read every file, and so does a
    // list without a limit, which renames it; from then on the head by name has it.
    await edit(jobs[10], 1);
    assert.deepEqual(queue.list({ status: "queued" }).jobs[0].file, "/f10");
    assert.deepEqual(files(2), ["/f10", "/f1"]);
    // A file moved in by hand under any name is read, and takes its place.
    const claimed = (await queue.claim())!;
    assert.equal(claimed.record.file, "/f10");
    await Deno.rename(claimed.path, join(queuedDir, claimed.path.split("/").at(-1)!));
    assert.deepEqual(files(2), ["/f10", "/f1"]);
    await queue.enqueue({ type: "t", file: "/urgent", priority: 0 });
    assert.deepEqual(files(2), ["/urgent", "/f10"]);
    // Twenty damaged files at the head: more than the few names looked at first.
    const rest = queue.list({ status: "queued" }).jobs;
    for (const job of rest.slice(0, 20)) await Deno.writeTextFile(job.path, "{ garbage");
    const after = queue.list({ status: "queued", limit: 1 });
    assert.deepEqual(after.jobs.map((j) => j.file), [rest[20].file]);
    assert.equal(after.problems.length, 20);
  });
});

Deno.test("status counts a large still directory once, and any change of its names again", async () => {
  await withTempQueue(async ({ root, queue }) => {
    const queued = join(root, "queued");
    for (let i = 0; i < 1000; i++) {
      const id = i.toString(16).padStart(32, "0");
      await Deno.writeTextFile(join(queued, `${id}.json`), "{}");
    }
    const link = `${"f".repeat(32)}.json`;
    await Deno.symlink("/dev/zero", join(queued, link));
    const still = new Date(Date.now() - 60_000);
    await Deno.utime(queued, still, still);
    const first = surveyQueue(queue.layout);
    assert.equal(first.counts.queued, 1000);
    assert.deepEqual(first.irregular.map((p) => p.message), [
      `${join(queued, link)}: a symbolic link, not a regular file; vpo does not read it`,
    ]);
    const cachePath = join(root, ".cache", "counts.json");
    const cache = JSON.parse(await Deno.readTextFile(cachePath));
    assert.deepEqual([cache.queued.count, cache.queued.irregular], [1000, [link]]);
    // What was kept is what a still directory answers, its irregular names with its count (proved
    // here by a count and a name no listing gives): `jobs status` at rest lists nothing.
    await Deno.writeTextFile(
      cachePath,
      JSON.stringify({ queued: { ...cache.queued, count: 4242, irregular: ["ghost"] } }),
    );
    const kept = surveyQueue(queue.layout);
    assert.equal(kept.counts.queued, 4242);
    assert.deepEqual(kept.irregular.map((p) => p.path), [join(queued, "ghost")]);
    // A cache of an older vpo, without the irregular names, is listed again.
    await Deno.writeTextFile(
      cachePath,
      JSON.stringify({ queued: { mtime_ms: cache.queued.mtime_ms, count: 4242 } }),
    );
    assert.equal(queue.counts().queued, 1000);
    await Deno.writeTextFile(
      cachePath,
      JSON.stringify({ queued: { ...cache.queued, count: 4242 } }),
    );
    assert.equal(queue.counts().queued, 4242);
    // Any name added, renamed or removed changes the directory's mtime: listed again.
    await queue.enqueue({ type: "t" });
    assert.equal(queue.counts().queued, 1001);
    // Just changed, so not kept: a change in the same mtime tick could otherwise hide.
    assert.equal(JSON.parse(await Deno.readTextFile(cachePath)).queued, undefined);
  });
});

Deno.test("setPriority moves a queued job to the name of its new order; pages skip by name", async () => {
  await withTempQueue(async ({ root, queue }) => {
    const jobs = [];
    for (let i = 0; i < 12; i++) jobs.push(await queue.enqueue({ type: "t", file: `/f${i}` }));
    const page = (offset: number, limit: number) =>
      queue.list({ status: "queued", limit, offset }).jobs.map((j) => j.file);
    const all = queue.list({ status: "queued" }).jobs.map((j) => j.file);
    assert.deepEqual([...page(0, 5), ...page(5, 5), ...page(10, 5)], all);
    assert.deepEqual(page(12, 5), []);
    // A transition queued -> queued (T1-T5): the old name is gone, the new one carries the order.
    const moved = await queue.setPriority(jobs[7].id.slice(0, 8), 5);
    assert.equal(moved.priority, 5);
    assert.equal(moved.path, jobs[7].path.replace(".q100-", ".q5-"));
    assert.ok(!await exists(jobs[7].path));
    assert.deepEqual(census(root).filter((s) => s.startsWith("queued:")).length, 12);
    const history = parseJob(await Deno.readTextFile(moved.path), moved.path, moved.id).history;
    assert.deepEqual(
      history.map((h) => [h.event, h.detail]).at(-1),
      ["priority", "100 -> 5"],
    );
    assert.deepEqual(page(0, 2), ["/f7", "/f0"]);
    // The jobs before a page are placed by name, unread: damage one, the page after never meets it.
    await Deno.writeTextFile(jobs[1].path, "{ garbage");
    const after = queue.list({ status: "queued", limit: 3, offset: 4 });
    assert.deepEqual(after.jobs.map((j) => j.file), ["/f3", "/f4", "/f5"]);
    assert.deepEqual(after.problems, []);
    // Running and finished jobs page on from the queued ones; "finished" is all three states.
    await queue.cancel(jobs[3].id);
    await sleep(20); // finished jobs list newest first by file mtime
    for (const file of ["/f7", "/f0"]) {
      const job = (await queue.claim())!;
      assert.equal(job.record.file, file);
      await job.finish("completed", { finished_at: new Date().toISOString() }, "completed");
      await sleep(20);
    }
    const finished = (offset: number) =>
      queue.list({ status: "finished", limit: 2, offset }).jobs.map((j) => j.file);
    assert.deepEqual([...finished(0), ...finished(2)], ["/f0", "/f7", "/f3"]);
    // 9 queued (one damaged, reported), then 3 finished: offset 9 is the first finished job.
    assert.deepEqual(queue.list({ limit: 2, offset: 9 }).jobs.map((j) => j.file), ["/f0", "/f7"]);
  });
});

Deno.test("a job is never claimed while another copy of it runs, even an older copy", async () => {
  await withTempQueue(async ({ root, queue }) => {
    await queue.enqueue({ type: "t" });
    const older = (await queue.claim())!;
    // A newer copy in queued/ beside the running one: a retry that raced the claim of a crash
    // leftover and published after that claim looked (C3), made here by hand.
    const newer = { ...older.record, rev: older.record.rev + 2 };
    const { state: _s, path: _p, ...record } = newer;
    const copy = new QueueLayout(root).publishPath("queued", record);
    Deno.writeTextFileSync(copy, JSON.stringify(record));
    assert.equal(await queue.claim(), null, "not run twice at once");
    assert.ok(await exists(copy), "the newer copy waits, untouched");
    assert.equal(parseJob(Deno.readTextFileSync(copy), copy).rev, newer.rev);
    // Once the older run has moved on, the newest copy is the job and is claimed.
    await older.finish("completed", {}, "completed");
    const next = (await queue.claim())!;
    assert.equal(next.record.rev, newer.rev);
  });
});
