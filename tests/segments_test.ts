/**
 * Segmented, resumable encoding (issue 11) with real ffmpeg on small clips: exact frames and
 * timestamps of the joined output (VFR too), parameter sets across thread counts, a kill in the
 * middle of a segment then recovery and resume, and a source changed between two runs. The pure
 * parts (cut points, join arguments, ETA) are in tests/unit/segments_test.ts; the multi-night run
 * through short windows is tests/slow/segments_windows.ts (`deno task test:segments`).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { probeSegment } from "../src/media/segments.ts";
import { makeClip } from "./helpers/clips.ts";
import {
  findPartials,
  namesIn,
  onlyJob,
  sleep,
  withMediaHome,
  writePolicy,
} from "./helpers/worker.ts";
import {
  assertSameMedia,
  countingFfmpeg,
  makeVfrClip,
  packetTimes,
  segmentDirsIn,
  SEGMENTS_CONFIG,
  segmentStarts,
} from "./helpers/segments.ts";
import type { TempHome } from "./helpers/vpo.ts";

/** The file of a finished segment 1, named with the token of the claim that encoded it. */
const SEGMENT_1 = /^seg-0001\.[0-9a-f]{12}\.mkv$/;

Deno.test("x265 segments of runs with other thread counts have the same parameter sets", async () => {
  const dir = await Deno.makeTempDir({ prefix: "vpo-seg-" });
  try {
    const encode = async (name: string, params: string, pixFmt: string) => {
      const path = join(dir, name);
      const args = [
        ...["-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25", "-t", "1"],
        ...[
          "-c:v",
          "libx265",
          "-preset",
          "ultrafast",
          "-pix_fmt",
          pixFmt,
          "-x265-params",
          params,
          path,
        ],
      ];
      const out = await new Deno.Command("ffmpeg", { args, stderr: "piped" }).output();
      assert.ok(out.success, new TextDecoder().decode(out.stderr));
      return await probeSegment(path);
    };
    const one = await encode("a.mkv", "log-level=error:pools=1:frame-threads=1", "yuv420p");
    const all = await encode("b.mkv", "log-level=error", "yuv420p");
    const other = await encode("c.mkv", "log-level=error:pools=1:frame-threads=1", "yuv420p10le");
    assert.equal(one.frames, 25);
    assert.equal(one.codec, "hevc");
    // x265 writes its options (thread counts too) into an SEI of the codec headers: ignored.
    assert.equal(one.extradata, all.extradata);
    assert.notEqual(one.extradata, other.extradata, "other settings, other parameter sets");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

async function queue(home: TempHome, media: string, source: string): Promise<void> {
  const policy = await writePolicy(media, "fast.yaml", {
    target_video_codec: "hevc",
    preset: "ultrafast",
  });
  const out = await home.run(["transcode", "--policy", policy, source]);
  assert.match(out.stdout, /1 queued/, out.stdout + out.stderr);
}

Deno.test("a VFR source is encoded in segments with every frame at its own timestamp", async () => {
  await withMediaHome(SEGMENTS_CONFIG, async (home, media) => {
    const source = await makeVfrClip(join(media, "vfr.mkv"));
    const before = await packetTimes(source);
    await queue(home, media, source);
    const ffmpeg = await countingFfmpeg(home.dir);
    const run = await home.run(["jobs", "start", "--cpu-cores", "1"], {
      env: { PATH: ffmpeg.path },
    });
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.equal((await onlyJob(home)).status, "completed");
    assert.ok(segmentStarts(ffmpeg.calls()).length >= 3, "encoded in segments");
    assert.deepEqual(await packetTimes(source), before, "same frames at the same timestamps");
    assert.deepEqual(segmentDirsIn(media), [], "segments removed once done");
  });
});

Deno.test("kill -9 mid-segment: recover keeps the finished segments, the next run resumes", async () => {
  const config = `${SEGMENTS_CONFIG}worker:\n  heartbeat_interval: 0.2\n  stale_after: 1\n`;
  await withMediaHome(config, async (home, media) => {
    const source = await makeClip(join(media, "film.mkv"), {
      duration: 30,
      audio: ["aac", "aac"],
      subtitles: true,
    });
    const original = join(media, "film.copy.mkv");
    await Deno.copyFile(source, original);
    await queue(home, media, source);

    // Dies in the middle of segment 2, after segment 1 was recorded.
    const ffmpeg = await countingFfmpeg(home.dir);
    const crashed = await home.run(["jobs", "start", "--cpu-cores", "1"], {
      env: { VPO_CRASH_AT: "segments:encoding", PATH: ffmpeg.path },
    });
    assert.equal(crashed.code, 137, crashed.stdout + crashed.stderr);
    const [dir] = segmentDirsIn(media);
    assert.ok(dir, "segment directory made");
    assert.ok(namesIn(dir).some((n) => SEGMENT_1.test(n)), namesIn(dir).join(" "));

    await sleep(2200);
    const recover = await home.run(["jobs", "recover"]);
    assert.match(recover.stdout, /1 stale job recovered/, recover.stdout + recover.stderr);
    assert.ok(namesIn(dir).some((n) => SEGMENT_1.test(n)), "recovery keeps finished segments");
    const shown = await home.run(["jobs", "show", (await onlyJob(home)).id]);
    assert.match(shown.stdout, /Segments +1\/3 done, 33\.\d % of the media, ETA \d+s at /);
    // cleanup knows segments: those of a queued job stay, an orphan's go, foreign files stay.
    const orphan = join(media, `.vpo-${"ab".repeat(16)}.segments`);
    await Deno.mkdir(orphan);
    await Deno.writeTextFile(join(orphan, "seg-0001.mkv"), "x");
    await Deno.writeTextFile(join(orphan, "notes.txt"), "not vpo's");
    const cleanup = await home.run(["jobs", "cleanup", "--remove-temp", "--force"]);
    assert.match(cleanup.stdout, /1 segment directory/, cleanup.stdout + cleanup.stderr);
    assert.deepEqual(namesIn(orphan), ["notes.txt"]);
    assert.ok(namesIn(dir).some((n) => SEGMENT_1.test(n)));
    await Deno.remove(orphan, { recursive: true });

    const resumed = await home.run(["jobs", "start", "--cpu-cores", "1"], {
      env: { PATH: ffmpeg.path },
    });
    assert.equal(resumed.code, 0, resumed.stdout + resumed.stderr);
    assert.equal((await onlyJob(home)).status, "completed");
    // Three segments of 10 s: segment 1 is not encoded again, segment 2 is started over.
    const starts = segmentStarts(ffmpeg.calls());
    assert.equal(starts.length, 4, starts.join(" "));
    assert.equal(starts.filter((s) => s === starts[0]).length, 1, "segment 1 encoded once");
    assert.equal(starts[2], starts[1], "the killed segment is encoded again");
    await assertSameMedia(original, source);
    assert.deepEqual(segmentDirsIn(media), []);
    assert.deepEqual(findPartials(home.dir), []);
  });
});

Deno.test("a source changed between two runs fails the job untouched and removes its segments", async () => {
  const config = `${SEGMENTS_CONFIG}worker:\n  heartbeat_interval: 0.2\n  stale_after: 1\n`;
  await withMediaHome(config, async (home, media) => {
    const source = await makeClip(join(media, "film.mkv"), { duration: 30 });
    await queue(home, media, source);
    const crashed = await home.run(["jobs", "start", "--cpu-cores", "1"], {
      env: { VPO_CRASH_AT: "piece:recorded" },
    });
    assert.equal(crashed.code, 137, crashed.stdout + crashed.stderr);
    assert.equal(segmentDirsIn(media).length, 1);
    await sleep(2200);
    await home.run(["jobs", "recover"]);

    const changed = new Date(Date.now() - 3600_000);
    await Deno.utime(source, changed, changed);
    const bytes = await Deno.readFile(source);
    const run = await home.run(["jobs", "start"]);
    assert.equal(run.code, 3, run.stdout + run.stderr);
    const job = await onlyJob(home);
    assert.equal(job.status, "failed");
    assert.match(job.error ?? "", /source file was modified/);
    assert.deepEqual(await Deno.readFile(source), bytes, "original untouched");
    assert.deepEqual(segmentDirsIn(media), [], "segments removed");
    assert.deepEqual(namesIn(media), ["fast.yaml", "film.mkv"]);
  });
});

Deno.test("a finished segment whose checksum no longer matches is encoded again", async () => {
  const config = `${SEGMENTS_CONFIG}worker:\n  heartbeat_interval: 0.2\n  stale_after: 1\n`;
  await withMediaHome(config, async (home, media) => {
    const source = await makeClip(join(media, "film.mkv"), { duration: 30 });
    const original = join(media, "film.copy.mkv");
    await Deno.copyFile(source, original);
    await queue(home, media, source);
    const ffmpeg = await countingFfmpeg(home.dir);
    const env = { PATH: ffmpeg.path };
    const crashed = await home.run(["jobs", "start"], {
      env: { ...env, VPO_CRASH_AT: "piece:recorded" },
    });
    assert.equal(crashed.code, 137, crashed.stdout + crashed.stderr);
    const [dir] = segmentDirsIn(media);
    const segment = join(dir, namesIn(dir).find((n) => SEGMENT_1.test(n))!);
    const bytes = await Deno.readFile(segment);
    bytes[bytes.length - 100] ^= 0xff;
    await Deno.writeFile(segment, bytes);
    await sleep(2200);
    await home.run(["jobs", "recover"]);

    const run = await home.run(["jobs", "start"], { env });
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.equal((await onlyJob(home)).status, "completed");
    const starts = segmentStarts(ffmpeg.calls());
    assert.equal(starts.filter((s) => s === starts[0]).length, 2, starts.join(" "));
    await assertSameMedia(original, source);
  });
});

Deno.test("a segment directory that is a symbolic link fails the job; nothing is written through it", async () => {
  await withMediaHome(SEGMENTS_CONFIG, async (home, media) => {
    const source = await makeClip(join(media, "film.mkv"), { duration: 30 });
    const before = await Deno.readFile(source);
    await queue(home, media, source);
    const elsewhere = join(home.dir, "elsewhere");
    await Deno.mkdir(elsewhere);
    const link = join(media, `.vpo-${(await onlyJob(home)).id}.segments`);
    await Deno.symlink(elsewhere, link);

    const run = await home.run(["jobs", "start"]);
    assert.equal(run.code, 3, run.stdout + run.stderr);
    const job = await onlyJob(home);
    assert.equal(job.status, "failed");
    assert.match(job.error ?? "", /is not a directory vpo made/);
    assert.deepEqual(namesIn(elsewhere), []);
    assert.ok((await Deno.lstat(link)).isSymlink, "the link is not vpo's to remove");
    assert.deepEqual(await Deno.readFile(source), before);
    assert.deepEqual(findPartials(home.dir), []);
  });
});

Deno.test("links planted at a segment's output and at journal.json are never written through", async () => {
  await withMediaHome(SEGMENTS_CONFIG, async (home, media) => {
    const source = await makeClip(join(media, "film.mkv"), { duration: 30 });
    const before = await Deno.readFile(source);
    await queue(home, media, source);
    const victim = join(home.dir, "victim");
    await Deno.writeTextFile(victim, "not vpo's\n");
    // Between vpo's making a segment's file and ffmpeg's writing it, someone who can write the
    // folder swaps the segment's name (and the journal's) for links to a file of theirs.
    const ffmpeg = await countingFfmpeg(home.dir);
    const wrapper = join(home.dir, "bin", "ffmpeg");
    const real = Deno.readTextFileSync(wrapper);
    Deno.writeTextFileSync(
      wrapper,
      real.replace(
        /\nexec /,
        `
case "$*" in *" -copyts "*)
  for out in "$@"; do :; done
  out=\${out#file:}
  for dir in '${media}'/.vpo-*.segments; do
    for f in "$dir"/seg-*.partial "$dir"/journal.json; do
      [ -e "$f" ] && rm -f "$f" && ln -s '${victim}' "$f"
    done
  done
  case "$out" in /proc/*) ;; *) rm -f "$out"; ln -s '${victim}' "$out";; esac
esac
exec `,
      ),
    );
    const run = await home.run(["jobs", "start"], { env: { PATH: ffmpeg.path } });
    assert.ok(ffmpeg.calls().some((c) => c.includes(" -copyts ")), "a segment was encoded");
    assert.equal(await Deno.readTextFile(victim), "not vpo's\n", "the link's target is untouched");
    assert.equal(run.code, 3, run.stdout + run.stderr);
    const job = await onlyJob(home);
    assert.equal(job.status, "failed");
    assert.match(job.error ?? "", /segment 1\/3: .*was replaced/);
    assert.deepEqual(await Deno.readFile(source), before);
    assert.deepEqual(findPartials(home.dir), []);
  });
});

Deno.test("a segment directory swapped while the segments are joined: the join reads vpo's own", async () => {
  await withMediaHome(SEGMENTS_CONFIG, async (home, media) => {
    const source = await makeClip(join(media, "film.mkv"), { duration: 30 });
    const original = join(home.dir, "original.mkv");
    await Deno.copyFile(source, original);
    await queue(home, media, source);
    // Another user's film, of the same length, size and codec (another frame rate tells it
    // apart), that the worker can read.
    const secret = await makeClip(join(home.dir, "secret.mkv"), {
      duration: 30,
      rate: 30,
      videoCodec: "hevc",
      audio: [],
    });
    // As the join starts, someone who may write the media folder moves the segment directory
    // aside and puts their own at its name, with a list naming the secret film.
    const ffmpeg = await countingFfmpeg(
      home.dir,
      `case "$*" in *" -f concat "*)
  for dir in '${media}'/.vpo-*.segments; do
    mv "$dir" "$dir.aside" && mkdir "$dir"
    printf "ffconcat version 1.0\\nfile '%s'\\n" '${secret}' > "$dir/list.ffconcat"
  done
esac
`,
    );
    const run = await home.run(["jobs", "start"], { env: { PATH: ffmpeg.path } });
    assert.ok(ffmpeg.calls().some((c) => c.includes(" -f concat ")), "the segments were joined");
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.equal((await onlyJob(home)).status, "completed");
    await assertSameMedia(original, source);
  });
});

Deno.test({
  name: "a segment directory another user made fails the job; nothing is written into it",
  ignore: Deno.uid() !== 0,
  fn: async () => {
    await withMediaHome(SEGMENTS_CONFIG, async (home, media) => {
      const source = await makeClip(join(media, "film.mkv"), { duration: 30 });
      const before = await Deno.readFile(source);
      await queue(home, media, source);
      const dir = join(media, `.vpo-${(await onlyJob(home)).id}.segments`);
      await Deno.mkdir(dir, { mode: 0o777 });
      await Deno.chmod(dir, 0o777);
      await Deno.chown(dir, 65534, 65534);

      const run = await home.run(["jobs", "start"]);
      assert.equal(run.code, 3, run.stdout + run.stderr);
      const job = await onlyJob(home);
      assert.match(job.error ?? "", /is not a directory vpo made \(owner uid 65534/);
      assert.deepEqual(namesIn(dir), []);
      assert.deepEqual(await Deno.readFile(source), before);
    });
  },
});
