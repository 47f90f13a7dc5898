/**
 * Issue 11's proof, the slow part (`deno task test:segments`, about a minute of CPU): a 60 s clip
 * with two audio tracks, subtitles and chapters (made with mkvmerge) is encoded through 15 s
 * windows (`--max-duration 15`), run after run, until done. The output must hold exactly the
 * source's frames at the source's timestamps, its audio in sync, its tracks and chapters.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { ageFile, makeClip } from "../helpers/clips.ts";
import { assertSameMedia, segmentDirsIn, SEGMENTS_CONFIG } from "../helpers/segments.ts";
import { findPartials, onlyJob, withMediaHome, writePolicy } from "../helpers/worker.ts";

const CHAPTERS = `<?xml version="1.0"?>
<Chapters><EditionEntry>
<ChapterAtom><ChapterTimeStart>00:00:00.000</ChapterTimeStart>
<ChapterDisplay><ChapterString>Opening</ChapterString></ChapterDisplay></ChapterAtom>
<ChapterAtom><ChapterTimeStart>00:00:25.000</ChapterTimeStart>
<ChapterDisplay><ChapterString>Middle</ChapterString></ChapterDisplay></ChapterAtom>
<ChapterAtom><ChapterTimeStart>00:00:50.000</ChapterTimeStart>
<ChapterDisplay><ChapterString>End</ChapterString></ChapterDisplay></ChapterAtom>
</EditionEntry></Chapters>
`;

async function mkvmerge(args: string[]): Promise<string> {
  const out = await new Deno.Command("mkvmerge", { args, stdout: "piped", stderr: "piped" })
    .output();
  // mkvmerge exits 1 for warnings only.
  if (out.code > 1) throw new Error(new TextDecoder().decode(out.stdout));
  return new TextDecoder().decode(out.stdout);
}

/** Tracks (type, codec-independent properties) and chapter count, as mkvmerge sees them. */
async function mkvFacts(path: string) {
  const info = JSON.parse(await mkvmerge(["-J", path]));
  return {
    tracks: info.tracks.map((t: { type: string; properties: Record<string, unknown> }) => [
      t.type,
      t.properties.language,
      t.properties.track_name ?? null,
      t.properties.default_track,
    ]),
    chapters: info.chapters,
  };
}

Deno.test("a 60 s film encoded through 15 s windows over several runs equals its source", async () => {
  await withMediaHome(SEGMENTS_CONFIG, async (home, media) => {
    const raw = await makeClip(join(media, "raw.mkv"), {
      duration: 60,
      audio: ["aac", "ac3"],
      subtitles: true,
    });
    await Deno.writeTextFile(join(media, "chapters.xml"), CHAPTERS);
    const source = join(media, "film.mkv");
    await mkvmerge([
      ...["-q", "-o", source, "--chapters", join(media, "chapters.xml")],
      ...["--track-name", "0:Main", "--track-name", "2:Commentary", "--default-track", "2:0", raw],
    ]);
    await ageFile(source);
    const original = join(media, "film.original-copy.mkv");
    await Deno.copyFile(source, original);
    const policy = await writePolicy(media, "slow.yaml", {
      target_video_codec: "hevc",
      preset: "slow",
    });
    const queued = await home.run(["transcode", "--policy", policy, source]);
    assert.match(queued.stdout, /1 queued/, queued.stdout + queued.stderr);

    let runs = 0;
    let shownBetweenRuns = "";
    while ((await onlyJob(home)).status !== "completed") {
      assert.ok(++runs <= 20, "not done after 20 windows");
      const run = await home.run(["jobs", "start", "--max-duration", "15", "--cpu-cores", "1"]);
      assert.equal(run.code, 0, run.stdout + run.stderr);
      const job = await onlyJob(home);
      if (job.status === "queued" && job.progress) {
        shownBetweenRuns = (await home.run(["jobs", "show", job.id])).stdout;
      }
    }
    assert.ok(runs >= 2, `expected several runs, took ${runs}`);
    assert.match(shownBetweenRuns, /Segments +\d+\/6 done, [\d.]+ % of the media, ETA \d+ nights?/);

    await assertSameMedia(original, source);
    assert.deepEqual(await mkvFacts(source), await mkvFacts(original), "tracks and chapters");
    assert.deepEqual(segmentDirsIn(media), []);
    assert.deepEqual(findPartials(home.dir), []);
  });
});
