/**
 * A full disk fails a segmented job but keeps its finished segments (docs/design.md, "Segments
 * kept on a full disk"): real tmpfs as the temp directory, real ffmpeg on a generated clip. Once
 * space is freed, `vpo jobs retry` resumes from the kept segments, encoding only the missing ones,
 * and the output is frame-exact. The original stays byte-identical throughout.
 */
import assert from "node:assert/strict";
import { statfsSync } from "node:fs";
import { join } from "node:path";
import {
  digest,
  FAST_RECOVERY,
  mountTmpfs,
  namesIn,
  onlyJob,
  sleep,
  unmount,
  withMediaHome,
  writePolicy,
} from "./helpers/worker.ts";
import {
  assertSameMedia,
  countingFfmpeg,
  makeKeyframedClip,
  segmentDirsIn,
  segmentStarts,
} from "./helpers/segments.ts";
import type { TempHome } from "./helpers/vpo.ts";

/** Segments of 2 s: the 6 s clip below (a keyframe every second) has 3. */
const CONFIG = (tmpfs: string) =>
  `jobs:\n  temp_directory: ${tmpfs}\n  segment_length: 2\n${FAST_RECOVERY}`;

/** A queued film, as {@link withQueuedFilm} gives it. */
interface Film {
  home: TempHome;
  tmpfs: string;
  source: string;
  /** A copy of the source to compare the output with. */
  copy: string;
  ffmpeg: { path: string; calls: () => string[] };
}

/**
 * Runs `body` with a home whose temp directory is a 16 MB tmpfs, a 6 s clip queued there as
 * `film.mkv` (and a copy to compare the output with), and ffmpeg counted.
 */
async function withQueuedFilm(
  prelude: (tmpfs: string, dir: string) => string,
  body: (film: Film) => Promise<void>,
): Promise<void> {
  await withMediaHome(undefined, async (home, media) => {
    const tmpfs = join(home.dir, "tmpfs");
    await Deno.mkdir(tmpfs);
    await mountTmpfs(tmpfs, "16m");
    try {
      await home.writeConfig(CONFIG(tmpfs));
      const policy = await writePolicy(home.dir, "hevc.yaml", {
        target_video_codec: "hevc",
        preset: "ultrafast",
        keep_larger_output: true,
      });
      const source = await makeKeyframedClip(join(media, "film.mkv"), "320x180");
      const copy = join(home.dir, "film.copy.mkv");
      await Deno.copyFile(source, copy);
      const queued = await home.run(["transcode", "--policy", policy, source]);
      assert.match(queued.stdout, /1 queued/, queued.stdout + queued.stderr);
      const ffmpeg = await countingFfmpeg(home.dir, prelude(tmpfs, home.dir));
      await body({ home, tmpfs, source, copy, ffmpeg });
    } finally {
      await unmount(tmpfs);
    }
  });
}

/** A segment encode's arguments, or the join's, for {@link fillDiskOn}. */
const SEGMENT_ENCODE = '*" -copyts "*';
const JOIN = "*list.ffconcat*";

/**
 * A {@link countingFfmpeg} prelude that fills the tmpfs (a file named `filler`) just before the
 * `nth` ffmpeg run whose arguments match the shell pattern `kind`.
 */
const fillDiskOn = (kind: string, nth: number) => (tmpfs: string, dir: string) =>
  `case "$*" in ${kind}) echo x >> '${dir}/fill-count'\n` +
  `  [ "$(wc -l < '${dir}/fill-count')" -eq ${nth} ] && cat /dev/zero > '${tmpfs}/filler' 2>/dev/null;;\n` +
  "esac\n";

/** The failed job's record: its error line, and the segment progress it keeps. */
async function failedJob(home: TempHome) {
  const job = await onlyJob(home);
  assert.equal(job.status, "failed", JSON.stringify(job));
  const record = JSON.parse(await Deno.readTextFile(job.path));
  return { job, progress: record.payload.segment_progress as { done: number } | undefined };
}

/**
 * What a job failed with its segments kept must show: one line saying so and what to do, the
 * progress in its record and `jobs show`, a directory `cleanup --remove-temp` leaves.
 */
async function assertKept(home: TempHome, tmpfs: string, done: number): Promise<void> {
  const { job, progress } = await failedJob(home);
  const line = (job.error ?? "").split("\n")[0];
  assert.match(
    line,
    new RegExp(
      `^(no space left on|not enough free space in) ${tmpfs}\\b.*; ${done}/3 segments kept \\(.* in ${tmpfs}/\\.vpo-${job.id}` +
        `\\.segments\\): free space, then \`vpo jobs retry ${job.id.slice(0, 8)}\` resumes them`,
    ),
  );
  assert.equal(progress?.done, done);
  const [dir] = segmentDirsIn(tmpfs);
  assert.ok(dir, "segment directory kept");
  assert.equal(namesIn(dir).filter((n) => /^seg-\d{4}\.[0-9a-f]{12}\.mkv$/.test(n)).length, done);
  const shown = await home.run(["jobs", "show", job.id]);
  assert.match(shown.stdout, new RegExp(`Segments +${done}/3 done, .*kept: \`vpo jobs retry\``));
  const cleanup = await home.run(["jobs", "cleanup", "--remove-temp", "--dry-run"]);
  assert.doesNotMatch(cleanup.stdout, /segment director/, cleanup.stdout);
}

/** Frees the disk, retries the job and runs it: only the missing segments are encoded. */
async function retryAfterFreeing(
  film: Film,
  missing: number,
): Promise<void> {
  const { home, tmpfs, source, copy, ffmpeg } = film;
  await Deno.remove(join(tmpfs, "filler"));
  const id = (await onlyJob(home)).id;
  const retried = await home.run(["jobs", "retry", id]);
  assert.equal(retried.code, 0, retried.stderr);
  const before = segmentStarts(ffmpeg.calls()).length;
  const run = await home.run(["jobs", "start", "--cpu-cores", "1"], { env: { PATH: ffmpeg.path } });
  assert.equal(run.code, 0, run.stdout + run.stderr);
  assert.equal((await onlyJob(home)).status, "completed");
  assert.equal(segmentStarts(ffmpeg.calls()).length - before, missing, ffmpeg.calls().join("\n"));
  await assertSameMedia(copy, source);
  assert.deepEqual(segmentDirsIn(tmpfs), []);
}

/** A night of `jobs start` in which the job fails, the original untouched. */
async function failingNight(film: Film): Promise<void> {
  const original = await digest(film.source);
  const run = await film.home.run(["jobs", "start", "--cpu-cores", "1"], {
    env: { PATH: film.ffmpeg.path },
  });
  assert.equal(run.code, 3, run.stdout + run.stderr);
  assert.deepEqual(await digest(film.source), original);
}

for (
  const { name, fill, kept } of [
    // The second segment encode fills the disk before it starts writing.
    { name: "mid-segment", fill: fillDiskOn(SEGMENT_ENCODE, 2), kept: 1 },
    { name: "in the join", fill: fillDiskOn(JOIN, 1), kept: 3 },
  ]
) {
  Deno.test(`no space ${name}: the job fails with ${kept}/3 segments kept; retry encodes only the rest`, async () => {
    await withQueuedFilm(fill, async (film) => {
      await failingNight(film);
      await assertKept(film.home, film.tmpfs, kept);
      await retryAfterFreeing(film, 3 - kept);
    });
  });
}

Deno.test("a later night's free-space check fails the job with its segments kept", async () => {
  await withQueuedFilm(() => "", async (film) => {
    const { home, tmpfs, source } = film;
    const original = await digest(source);
    // Killed in the middle of segment 2, after segment 1 was recorded; then recovered.
    const crashed = await home.run(["jobs", "start", "--cpu-cores", "1"], {
      env: { VPO_CRASH_AT: "segments:encoding", PATH: film.ffmpeg.path },
    });
    assert.equal(crashed.code, 137, crashed.stdout + crashed.stderr);
    await sleep(2200);
    const recover = await home.run(["jobs", "recover"]);
    assert.match(recover.stdout, /1 stale job recovered/, recover.stdout + recover.stderr);
    assert.deepEqual(await digest(source), original);
    // The disk fills up before the next night.
    await new Deno.Command("sh", { args: ["-c", `cat /dev/zero > '${tmpfs}/filler'`] }).output();
    assert.equal(Number(statfsSync(tmpfs).bavail), 0);

    const starts = segmentStarts(film.ffmpeg.calls()).length;
    await failingNight(film);
    assert.equal(segmentStarts(film.ffmpeg.calls()).length, starts, "nothing encoded");
    await assertKept(home, tmpfs, 1);
    await retryAfterFreeing(film, 2);
  });
});

Deno.test("kept segments become an orphan's once their failed job is removed", async () => {
  await withQueuedFilm(fillDiskOn(JOIN, 1), async (film) => {
    const { home, tmpfs } = film;
    await failingNight(film);
    await assertKept(home, tmpfs, 3);
    const kept = await home.run(["jobs", "cleanup", "--remove-temp", "--force"]);
    assert.equal(kept.code, 0, kept.stderr);
    assert.equal(segmentDirsIn(tmpfs).length, 1, "left while the job exists");
    const cleared = await home.run(["jobs", "clear", "--status", "failed", "--force"]);
    assert.equal(cleared.code, 0, cleared.stderr);
    const cleanup = await home.run(["jobs", "cleanup", "--remove-temp", "--force"]);
    assert.match(cleanup.stdout, /1 segment directory/, cleanup.stdout + cleanup.stderr);
    assert.deepEqual(segmentDirsIn(tmpfs), []);
  });
});
