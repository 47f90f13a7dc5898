/**
 * Files still arriving: a file named on the command line is queued at once (a person or an
 * import script names a file that is there), one found in a directory scan waits for
 * `library.settle_seconds`, and `--settle` overrides both for one run.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeClip } from "./helpers/clips.ts";
import { listJobs, withMediaHome } from "./helpers/worker.ts";

/** A clip whose mtime is now, as right after a copy or a download. */
async function freshClip(path: string): Promise<string> {
  await makeClip(path, { duration: 1 });
  const now = new Date();
  await Deno.utime(path, now, now);
  return path;
}

const summaryOf = (out: string) => out.trim().split("\n").at(-1) ?? "";

Deno.test("transcode: a just-written file named on the command line is queued at once", async () => {
  await withMediaHome(undefined, async (home, media) => {
    const film = await freshClip(join(media, "film.mkv"));
    const run = await home.run(["transcode", film]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^queued\s+\S+ \S*film\.mkv: h264/m);
    assert.match(summaryOf(run.stdout), /^1 queued, .* 0 still being written,/);
    assert.deepEqual((await listJobs(home)).map((j) => j.file), [film]);
  });
});

Deno.test("transcode: the same file found by a directory scan waits; --settle 0 queues it", async () => {
  await withMediaHome(undefined, async (home, media) => {
    await freshClip(join(media, "film.mkv"));
    for (const args of [[media], ["-r", media], ["--settle", "60", media]]) {
      const scan = await home.run(["transcode", ...args]);
      assert.equal(scan.code, 0, scan.stderr);
      assert.match(
        scan.stdout,
        /^waiting\s+\S*film\.mkv: still being written \(modified \d+ s ago\)/m,
      );
      assert.match(summaryOf(scan.stdout), /^0 queued, .* 1 still being written,/, args.join(" "));
    }
    assert.deepEqual(await listJobs(home), []);
    const now = await home.run(["transcode", "--settle", "0", media]);
    assert.equal(now.code, 0, now.stderr);
    assert.match(summaryOf(now.stdout), /^1 queued, /);
    assert.equal((await listJobs(home)).length, 1);
  });
});

Deno.test("transcode: --settle applies to named files too, for scripts that know better", async () => {
  await withMediaHome("library:\n  settle_seconds: 0\n", async (home, media) => {
    const film = await freshClip(join(media, "film.mkv"));
    const wait = await home.run(["transcode", "--settle", "600", film]);
    assert.equal(wait.code, 0, wait.stderr);
    assert.match(wait.stdout, /^waiting\s+\S*film\.mkv: still being written/m);
    assert.deepEqual(await listJobs(home), []);
    const bad = await home.run(["transcode", "--settle", "-1", film]);
    assert.equal(bad.code, 2);
    assert.equal(
      bad.stderr,
      "vpo: option '--settle <seconds>' argument '-1' is invalid. expected a whole number " +
        "from 0 to 86400\n",
    );
  });
});
