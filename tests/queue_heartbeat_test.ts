import assert from "node:assert/strict";
import { join } from "node:path";
import { JobQueue } from "../src/queue/store.ts";
import { checkQueueFileSystem } from "../src/queue/fs_check.ts";
import { fileIdentity } from "../src/util/file_identity.ts";
import { withTempDir } from "./helpers/temp.ts";

Deno.test("a claim's heartbeat is its beat file's mtime, written before the claim is visible", async () => {
  await withTempDir(async (dir) => {
    const queue = await JobQueue.open(join(dir, "jobs"));
    await queue.enqueue({ type: "t" });
    const job = (await queue.claim())!;
    const beat = queue.layout.beatPath(job.id, job.token);
    assert.ok(Deno.statSync(beat).isFile);
    // Fresh beat: not stale however old the job file's own times are.
    const past = new Date(Date.now() - 3600_000);
    await Deno.utime(job.path, past, past);
    assert.deepEqual((await queue.recover({ staleAfterSec: 5 })).recovered, []);
    // An old beat is stale even though the job file was just touched (its ctime is now).
    await Deno.utime(beat, past, past);
    const { recovered } = await queue.recover({ staleAfterSec: 5 });
    assert.deepEqual(recovered.map((r) => r.id), [job.id]);
    assert.match(recovered[0].detail, /^heartbeat 36\d\d s old/);
    // The dead claim's beat and the takeover's are both gone once the job is requeued.
    assert.deepEqual([...Deno.readDirSync(queue.layout.liveDir)].map((e) => e.name), []);
  });
});

Deno.test("a heartbeat rewrites the beat; finishing removes it", async () => {
  await withTempDir(async (dir) => {
    const queue = await JobQueue.open(join(dir, "jobs"));
    await queue.enqueue({ type: "t" });
    const job = (await queue.claim())!;
    const beat = queue.layout.beatPath(job.id, job.token);
    const past = new Date(Date.now() - 60_000);
    await Deno.utime(beat, past, past);
    await job.heartbeat();
    assert.ok(Date.now() - Deno.statSync(beat).mtime!.getTime() < 10_000);
    await job.finish("completed", {}, "completed");
    assert.throws(() => Deno.statSync(beat), Deno.errors.NotFound);
  });
});

Deno.test("file identities tell a file from another and survive a rename", async () => {
  await withTempDir(async (dir) => {
    const big = new Uint8Array(300_000).map((_, i) => i % 251);
    await Deno.writeFile(join(dir, "a"), big);
    const id = await fileIdentity(join(dir, "a"));
    big[299_999] ^= 1; // only the tail differs
    await Deno.writeFile(join(dir, "b"), big);
    assert.notEqual(await fileIdentity(join(dir, "b")), id);
    await Deno.rename(join(dir, "a"), join(dir, "c"));
    assert.equal(await fileIdentity(join(dir, "c")), id);
    assert.equal(await fileIdentity(join(dir, "a")), null);
  });
});

Deno.test("the queue's file system is measured: a local disk is mode local", async () => {
  await withTempDir(async (dir) => {
    const queue = await JobQueue.open(join(dir, "jobs"));
    const report = await checkQueueFileSystem(queue.root, {
      heartbeatIntervalSec: 10,
      staleAfterSec: 120,
    });
    assert.equal(report.hardLinks, true);
    assert.equal(report.renameReplaces, true);
    assert.ok(Math.abs(report.clockOffsetSec) < 2);
    if (!/^(fuse|nfs|cifs|smb)/.test(report.fsType)) assert.equal(report.mode, "local");
    assert.deepEqual([...Deno.readDirSync(join(queue.root, ".tmp"))], [], "probe files left");
  });
});

const mkfifo = async (path: string) =>
  assert.ok((await new Deno.Command("mkfifo", { args: [path] }).output()).success);

Deno.test("hostile beat and live files: never written through, waited on or trusted", async () => {
  await withTempDir(async (dir) => {
    const queue = await JobQueue.open(join(dir, "jobs"));
    await queue.enqueue({ type: "t" });
    const job = (await queue.claim())!;
    const beat = queue.layout.beatPath(job.id, job.token);
    // A link planted at the beat: the heartbeat replaces the link (the worker goes on) and the
    // link's target keeps its bytes.
    const victim = join(dir, "victim.txt");
    await Deno.writeTextFile(victim, "keep me");
    await Deno.remove(beat);
    await Deno.symlink(victim, beat);
    await job.heartbeat();
    assert.equal(await Deno.readTextFile(victim), "keep me");
    assert.ok((await Deno.lstat(beat)).isFile, "the beat is a regular file again");
    // A FIFO as the beat and a live file of `{}`: recovery neither hangs nor crashes; the job
    // file's own times stand in for the beat (its ctime, which is recent: hence stale after 0 s).
    await Deno.remove(beat);
    await mkfifo(beat);
    await Deno.writeTextFile(queue.layout.livePath(job.id, job.token), "{}");
    await new Promise((r) => setTimeout(r, 20));
    const { recovered } = await queue.recover({ staleAfterSec: 0 });
    assert.deepEqual(recovered.map((r) => r.id), [job.id]);
  });
});

Deno.test("vpo serve's workers are judged by their beat files: a heartbeating worker is alive", async () => {
  await withTempDir(async (dir) => {
    const { listWorkers } = await import("../src/serve/workers.ts");
    const queue = await JobQueue.open(join(dir, "jobs"));
    await queue.enqueue({ type: "t" });
    const job = (await queue.claim())!;
    await job.updateLive({});
    // Claimed 1.5 s ago (the job file's times stay), beating now: alive with stale_after 1 s.
    await new Promise((r) => setTimeout(r, 1500));
    await job.heartbeat();
    const [worker] = listWorkers(queue, 1);
    assert.equal(worker.alive, true, JSON.stringify(worker));
    await job.finish("completed", {}, "completed");
  });
});

Deno.test("a FIFO as the status cache is not waited on", async () => {
  await withTempDir(async (dir) => {
    const queue = await JobQueue.open(join(dir, "jobs"));
    await queue.enqueue({ type: "t" });
    await Deno.mkdir(join(queue.layout.countsCachePath, ".."), { recursive: true });
    await mkfifo(queue.layout.countsCachePath);
    assert.equal(queue.counts().queued, 1);
  });
});
