/**
 * `vpo transcode DIR | head -1`: vpo stops at the first line it cannot write, as Unix tools do
 * (exit 1, one line on stderr). What it queued until then is whole (valid job files, each with
 * its queue mark, no mark left pending), and a rerun queues the rest, each file exactly once.
 */
import assert from "node:assert/strict";
import { basename, join } from "node:path";
import { makeClip } from "./helpers/clips.ts";
import type { RunResult, TempHome } from "./helpers/vpo.ts";
import { CLI, runProcess } from "./helpers/vpo.ts";
import { listJobs, withMediaHome } from "./helpers/worker.ts";
import { CLI_PERMISSIONS } from "../scripts/permissions.ts";

const CLIPS = ["a.mkv", "b.mkv", "c.mkv", "d.mkv", "e.mkv"];

/** Runs `vpo transcode media` with its stdout into `| reader` (bash, pipefail: vpo's status). */
async function transcodeInto(home: TempHome, media: string, reader: string): Promise<RunResult> {
  const vpo = [Deno.execPath(), "run", "--quiet", ...CLI_PERMISSIONS, CLI, "transcode", media];
  return await runProcess(
    "bash",
    ["-c", `set -o pipefail; "$@" | ${reader}`, "bash", ...vpo],
    { VPO_HOME: home.vpoHome },
  );
}

/**
 * Every queued job is a readable job file, and the queue marks are exactly one filled mark per
 * queued job: nothing half-done that would block or duplicate the file on the next run.
 */
async function assertWhole(home: TempHome): Promise<string[]> {
  const list = await home.run(["jobs", "list", "--json"]);
  assert.equal(list.stderr, "", "every job file is readable");
  const jobs = JSON.parse(list.stdout) as { id: string; status: string; file: string }[];
  assert.ok(jobs.every((j) => j.status === "queued"));
  const marksDir = join(home.vpoHome, "library", "queued");
  const marks = [...Deno.readDirSync(marksDir)].map((e) =>
    JSON.parse(Deno.readTextFileSync(join(marksDir, e.name))) as { path: string; job: string }
  );
  assert.deepEqual(
    marks.map((m) => [m.job, m.path]).sort(),
    jobs.map((j) => [j.id, j.file]).sort(),
    "one filled mark per queued job",
  );
  return jobs.map((j) => basename(j.file)).sort();
}

Deno.test("transcode into a pipe closed early: what was queued is whole; a rerun queues the rest", async () => {
  await withMediaHome(undefined, async (home, media) => {
    for (const name of CLIPS) await makeClip(join(media, name));
    // The reader is gone before the first line: vpo decides (and queues) one file, then cannot
    // say so, and stops there.
    const closed = await transcodeInto(home, media, "true");
    assert.deepEqual(
      [closed.code, closed.stderr],
      [1, "vpo: cannot write to stdout: Broken pipe\n"],
    );
    assert.equal((await assertWhole(home)).length, 1);

    const rerun = await home.run(["transcode", media]);
    assert.equal(rerun.code, 0, rerun.stderr);
    assert.match(rerun.stdout, /^4 queued, 0 remembered, 1 skipped \(1 already queued\), /m);
    assert.deepEqual(await assertWhole(home), CLIPS);
  });
});

Deno.test("transcode DIR | head -1: the first line, then a rerun finishes the rest", async () => {
  await withMediaHome(undefined, async (home, media) => {
    for (const name of CLIPS) await makeClip(join(media, name));
    const head = await transcodeInto(home, media, "head -1");
    // How many lines got into the pipe before head exited is up to the scheduler; whatever it
    // was, the run stopped cleanly or finished.
    assert.match(head.stdout, /^queued +\S+ \S+\.mkv: h264 /);
    assert.equal(head.stdout.split("\n").length, 2);
    if (head.code !== 0) {
      assert.deepEqual([head.code, head.stderr], [1, "vpo: cannot write to stdout: Broken pipe\n"]);
    }
    const first = await assertWhole(home);
    assert.ok(first.length >= 1);
    const rerun = await home.run(["transcode", media]);
    assert.equal(rerun.code, 0, rerun.stderr);
    assert.deepEqual(await assertWhole(home), CLIPS);
    assert.equal((await listJobs(home)).length, CLIPS.length, "each file queued once");
  });
});
