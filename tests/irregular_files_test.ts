/**
 * A FIFO, a device, a symbolic link or a huge file posing as a job file, a live file or a cancel
 * request: every command goes on (a FIFO read would block it forever in a system call no signal
 * interrupts), reports the file, and leaves it where it is.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runBounded } from "./helpers/bounded_run.ts";
import { jobRecord, writeJobFile } from "./helpers/queue.ts";
import { TempHome } from "./helpers/vpo.ts";
import {
  findPartials,
  longClip,
  onlyJob,
  slowPolicy,
  waitUntil,
  withMediaHome,
  WorkerProcess,
} from "./helpers/worker.ts";
import { newJobId } from "../src/util/ids.ts";
import { JobQueue } from "../src/queue/store.ts";

async function mkfifo(path: string): Promise<void> {
  const out = await new Deno.Command("mkfifo", { args: [path] }).output();
  assert.ok(out.success, `mkfifo ${path}`);
}

Deno.test("list, status and show skip and report FIFOs, devices, links and huge files", async () => {
  await using home = await TempHome.create();
  const root = home.jobsDir;
  await JobQueue.open(root);
  const good = jobRecord(newJobId(), { file: "/v/good.mkv" });
  await writeJobFile(root, "queued", good);
  const running = jobRecord(newJobId(), { file: "/v/running.mkv" });
  await writeJobFile(root, "running", running, "0000test0000");
  const fifo = join(home.dir, "outside.fifo");
  await mkfifo(fifo);
  const hostile = {
    linkToFifo: join(root, "queued", `${newJobId()}.json`),
    fifo: join(root, "failed", `${newJobId()}.json`),
    device: join(root, "completed", `${newJobId()}.json`),
    huge: join(root, "cancelled", `${newJobId()}.json`),
    liveFifo: join(root, "live", `${running.id}.0000test0000.json`),
    requestFifo: join(root, "requests", `${running.id}.cancel`),
  };
  await Deno.symlink(fifo, hostile.linkToFifo);
  await mkfifo(hostile.fifo);
  await Deno.symlink("/dev/zero", hostile.device);
  await Deno.writeTextFile(hostile.huge, " ".repeat(2 * 1024 * 1024) + "{}");
  await mkfifo(hostile.liveFifo);
  await mkfifo(hostile.requestFifo);

  const list = await runBounded(home, ["jobs", "list"]);
  assert.ok(!list.hung, "jobs list hung");
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, new RegExp(good.id.slice(0, 8)));
  assert.match(list.stdout, new RegExp(running.id.slice(0, 8)));
  assert.match(list.stderr, new RegExp(`${hostile.linkToFifo}: a symbolic link, not a regular`));
  assert.match(list.stderr, new RegExp(`${hostile.fifo}: a FIFO, not a regular file`));
  assert.match(list.stderr, new RegExp(`${hostile.device}: a symbolic link`));
  assert.match(list.stderr, new RegExp(`${hostile.huge}: \\d+ bytes, more than the 1048576`));
  assert.match(list.stderr, new RegExp(`${hostile.liveFifo}: a FIFO`));
  assert.match(list.stderr, new RegExp(`${hostile.requestFifo}: a FIFO`));

  const status = await runBounded(home, ["jobs", "status", "--json"]);
  assert.ok(!status.hung, "jobs status hung");
  assert.equal(status.code, 0, status.stderr);
  const counts = JSON.parse(status.stdout);
  assert.deepEqual(
    [counts.queued, counts.running, counts.failed, counts.completed, counts.cancelled],
    [1, 1, 0, 0, 1],
    "only regular files count as jobs (the huge one is a file, reported when read)",
  );
  assert.match(status.stderr, new RegExp(`${hostile.fifo}: a FIFO`));

  const show = await runBounded(home, ["jobs", "show", running.id.slice(0, 8)]);
  assert.ok(!show.hung, "jobs show hung on a FIFO live file");
  assert.equal(show.code, 0, show.stderr);

  for (const path of Object.values(hostile)) {
    assert.ok(Deno.lstatSync(path), `${path} is left in place`);
  }
});

Deno.test("a FIFO posing as a finished copy neither hangs jobs start nor stops SIGTERM", async () => {
  await withMediaHome(undefined, async (home, media) => {
    const source = await longClip(join(media, "clip.mkv"));
    const queued = await home.run(["transcode", "--policy", await slowPolicy(home.dir), source]);
    assert.equal(queued.code, 0, queued.stderr);
    const job = await onlyJob(home);
    // A finished copy of the same id is what the claim compares revs with: it reads that name.
    const fifo = join(home.jobsDir, "completed", `${job.id}.json`);
    await mkfifo(fifo);
    const worker = WorkerProcess.start(home, ["--cpu-cores", "1"]);
    let end;
    try {
      await waitUntil("the encode to start", () => findPartials(media).length === 1, 20_000);
      worker.kill("SIGTERM");
      end = await worker.exit();
    } finally {
      await worker.dispose();
    }
    assert.equal(end.code, 0, end.stdout + end.stderr);
    assert.match(end.stdout, /worker stopped by signal/);
    assert.ok(Deno.lstatSync(fifo).isFifo, "the FIFO is left in place");
  });
});

Deno.test("a FIFO as config.yaml is a one-line error, not a hang", async () => {
  await using home = await TempHome.create();
  await Deno.mkdir(home.vpoHome, { recursive: true });
  const config = join(home.vpoHome, "config.yaml");
  await mkfifo(config);
  const status = await runBounded(home, ["jobs", "status"]);
  assert.ok(!status.hung, "jobs status hung on a FIFO config");
  assert.equal(
    status.stderr,
    `vpo: cannot read config file ${config}: a FIFO, not a regular file\n`,
  );
  assert.equal(status.code, 1);
});

Deno.test("a FIFO as the policy file is a one-line error, not a hang", async () => {
  await using home = await TempHome.create();
  await Deno.mkdir(home.vpoHome, { recursive: true });
  const policy = join(home.dir, "hevc.yaml");
  await mkfifo(policy);
  const run = await runBounded(home, ["transcode", "--policy", policy, home.dir]);
  assert.ok(!run.hung, "transcode hung on a FIFO policy");
  assert.equal(run.stderr, `vpo: cannot read policy file ${policy}: a FIFO, not a regular file\n`);
  assert.equal(run.code, 1);
});
