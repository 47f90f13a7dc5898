/**
 * A worker's reports are best-effort: stdout or stderr on a full disk (cron appending to a log on
 * a full volume) never changes what happens to a job. A command whose answer is its output
 * (`jobs list`) does fail, with one line saying why.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeClip } from "./helpers/clips.ts";
import { runBounded } from "./helpers/bounded_run.ts";
import { ffprobe, namesIn, onlyJob, withMediaHome } from "./helpers/worker.ts";

Deno.test("jobs start with stdout and/or stderr on a full device completes its job, exit 0", async (t) => {
  for (const redirect of [">/dev/full", "2>/dev/full", ">/dev/full 2>/dev/full"]) {
    await t.step(redirect, async () => {
      await withMediaHome(undefined, async (home, media) => {
        const source = await makeClip(join(media, "clip.mkv"));
        const queued = await home.run(["transcode", source]);
        assert.equal(queued.code, 0, queued.stderr);
        const run = await runBounded(home, ["jobs", "start"], { redirect, timeoutMs: 120_000 });
        assert.ok(!run.hung);
        assert.equal(run.code, 0, run.stdout + run.stderr);
        const job = await onlyJob(home);
        assert.equal(job.status, "completed", job.error ?? "");
        assert.deepEqual(namesIn(media), ["clip.mkv", "clip.mkv.original"]);
        const video = (await ffprobe(source)).streams.find((s) => s.codec_type === "video");
        assert.equal(video?.codec_name, "hevc");
      });
    });
  }
});

Deno.test("jobs list >/dev/full fails with one line on stderr, exit 1", async () => {
  await withMediaHome(undefined, async (home) => {
    const run = await runBounded(home, ["jobs", "list"], { redirect: ">/dev/full" });
    assert.equal(run.stderr, "vpo: cannot write to stdout: No space left on device\n");
    assert.equal(run.code, 1);
  });
});
