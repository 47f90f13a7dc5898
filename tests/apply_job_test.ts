/**
 * The apply job type end to end, through the real CLI: a policy of the original vpo (its track
 * keys) queued by `vpo transcode` and carried out by `vpo jobs start` by stream copy; a policy
 * with both a transcode and track keys done in one ffmpeg pass; and faults (SIGKILL mid-copy, a
 * crash at each step of the replace) recovered as a transcode's are.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { probe } from "../src/media/probe.ts";
import { ToolCounter } from "./helpers/tool_counter.ts";
import {
  FILM,
  FILM_APPLIED,
  makeTrackClip,
  mkvmergeTracks,
  ORIGINAL_POLICY,
} from "./helpers/track_clips.ts";
import type { TempHome } from "./helpers/vpo.ts";
import {
  digest,
  disposeHome,
  eachLimited,
  FAST_RECOVERY,
  findPartials,
  jobFiles,
  livePercent,
  makeMediaHome,
  mountTmpfs,
  namesIn,
  onlyJob,
  sleep,
  STALE_WAIT_MS,
  unmount,
  waitUntil,
  withMediaHome,
  WorkerProcess,
} from "./helpers/worker.ts";

async function writePolicyText(home: TempHome, name: string, text: string): Promise<string> {
  const path = join(home.dir, name);
  await Deno.writeTextFile(path, text);
  return path;
}

async function queue(home: TempHome, args: string[]): Promise<string> {
  const out = await home.run(["transcode", ...args]);
  assert.equal(out.code, 0, `transcode failed:\n${out.stdout}\n${out.stderr}`);
  assert.equal(out.stderr, "");
  return out.stdout;
}

/**
 * FILM, `seconds` long, queued under the original policy, and a worker whose copy is slowed to
 * real time (-re) so that `act` reaches it mid-copy; returns the source, its bytes before, and how
 * the worker ended.
 */
async function midCopy(
  home: TempHome,
  media: string,
  seconds: number,
  act: (worker: WorkerProcess, source: string) => Promise<void>,
): Promise<{
  source: string;
  before: Awaited<ReturnType<typeof digest>>;
  end: Awaited<ReturnType<WorkerProcess["exit"]>>;
}> {
  const tools = await ToolCounter.create(home.dir, { ffmpegPrefix: ["-re"] });
  const source = await makeTrackClip(join(media, "film.mkv"), { ...FILM, duration: seconds });
  const before = await digest(source);
  const policy = await writePolicyText(home, "original.yaml", ORIGINAL_POLICY);
  await queue(home, ["--policy", policy, source]);
  const worker = WorkerProcess.start(home, [], tools.env);
  try {
    await waitUntil("live progress", () => (livePercent(home) ?? 0) > 0);
    await act(worker, source);
    return { source, before, end: await worker.exit() };
  } finally {
    await worker.dispose();
  }
}

Deno.test("apply: an original vpo policy is queued, copied, verified and remembered", async () => {
  await withMediaHome(undefined, async (home, media) => {
    const source = await makeTrackClip(join(media, "film.mkv"), FILM);
    const before = await digest(source);
    const policy = await writePolicyText(home, "original.yaml", ORIGINAL_POLICY);
    const queued = await queue(home, ["--policy", policy, source]);
    assert.match(
      queued,
      /^queued +\S+ \S+film\.mkv: tracks: audio 4 -> 3, subtitle 3 -> 2, reordered, default flags \(stream copy, matroska\)$/m,
    );
    assert.match(queued, /note: drop audio 0:4 \(fre\): language fre not in audio_filter/);

    const run = await home.run(["jobs", "start"]);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /completed \S+ film\.mkv: tracks: audio 4 -> 3/);
    const job = await onlyJob(home);
    assert.equal(job.type, "apply");
    assert.equal(job.status, "completed");
    assert.deepEqual(job.result?.checked_with, ["ffprobe", "mkvmerge"]);
    assert.deepEqual(await mkvmergeTracks(source), FILM_APPLIED);
    // Nothing re-encoded: the video packets are the source's.
    assert.deepEqual(namesIn(media), ["film.mkv", "film.mkv.original"]);
    assert.deepEqual(await digest(`${source}.original`), before);
    assert.deepEqual(findPartials(home.dir), []);

    const show = await home.run(["jobs", "show", job.id]);
    assert.match(show.stdout, /Tracks +tracks: audio 4 -> 3/);
    const stats = await home.run(["stats", "--json"]);
    assert.match(stats.stdout, /"tracks"/);

    // The next night: the new file is known (converted), neither probed nor queued again.
    const again = await queue(home, ["--policy", policy, source]);
    assert.match(again, /^0 queued, 1 remembered \(1 converted\)/m);
  });
});

/** Track keys only, MKV and MP4 files into MP4: the MP4 "first track enabled" rule applies. */
const TO_MP4 = "schema_version: 2\ncontainer: {target: mp4, on_incompatible_codec: transcode}\n";
/** The original policy with a transcode: a file is encoded and its tracks laid out in one pass. */
const WITH_TRANSCODE = ORIGINAL_POLICY +
  "transcode:\n  target_video_codec: hevc\n  target_crf: 30\n  preset: ultrafast\n" +
  "  keep_larger_output: true\n";

Deno.test("apply: what a policy made of a file complies with it the next night, rechecked", async () => {
  await withMediaHome(undefined, async (home, media) => {
    const cases = [
      { policy: ORIGINAL_POLICY, files: ["film.mkv", "clip.mp4"] },
      { policy: TO_MP4, files: ["other.mkv", "other2.mp4"] },
      { policy: WITH_TRANSCODE, files: ["encode.mkv"] },
    ];
    for (const [i, { policy, files }] of cases.entries()) {
      const dir = join(media, `${i}`);
      await Deno.mkdir(dir);
      const sources = [];
      for (const name of files) {
        const mp4 = name.endsWith(".mp4");
        sources.push(
          await makeTrackClip(join(dir, name), { ...FILM, font: !mp4, cover: true }),
        );
      }
      const file = await writePolicyText(home, `policy${i}.yaml`, policy);
      const queued = await queue(home, ["--policy", file, ...sources]);
      assert.match(queued, new RegExp(`^${files.length} queued`, "m"), queued);
      const run = await home.run(["jobs", "start"]);
      assert.equal(run.code, 0, run.stdout + run.stderr);
      // The next night, without the library's memory of them: each is planned afresh.
      const outputs = [...Deno.readDirSync(dir)]
        .filter((e) => !e.name.includes(".original") && !e.name.startsWith("."))
        .map((e) => join(dir, e.name));
      assert.equal(outputs.length, files.length, namesIn(dir).join(" "));
      if (policy === TO_MP4) assert.ok(outputs.every((o) => o.endsWith(".mp4")), `${outputs}`);
      const again = await queue(home, ["--recheck", "--policy", file, ...outputs]);
      assert.match(again, new RegExp(`^0 queued, .*${files.length} skipped`, "m"), again);
      for (const line of again.split("\n").filter((l) => l.startsWith("skipped"))) {
        assert.match(line, /: (already compliant .*; )?tracks already comply \(/, again);
      }
    }
  });
});

Deno.test("apply: a file whose tracks comply is skipped and remembered; the dry run shows the copy", async () => {
  await withMediaHome(undefined, async (home, media) => {
    const done = await makeTrackClip(join(media, "done.mkv"), {
      audio: [{ language: "eng", default: true }],
      subtitles: [{ language: "eng", default: true }],
    });
    const film = await makeTrackClip(join(media, "film.mkv"), FILM);
    const policy = await writePolicyText(home, "original.yaml", ORIGINAL_POLICY);
    const dry = await queue(home, ["--dry-run", "--policy", policy, done, film]);
    assert.match(
      dry,
      /skipped +\S*done\.mkv: tracks already comply \(1 video, 1 audio, 1 subtitle\)/,
    );
    assert.match(dry, /would queue +\S*film\.mkv: tracks: /);
    assert.match(
      dry,
      /^ +ffmpeg -nostdin .* -map 0:0 -map 0:2 -map 0:1 .* -c copy .*-f matroska /m,
    );
    assert.deepEqual(jobFiles(home), []);
    const real = await queue(home, ["--policy", policy, done]);
    assert.match(real, /^0 queued, 0 remembered, 1 skipped \(1 compliant\)/m);
    assert.match(await queue(home, ["--policy", policy, done]), /1 remembered \(1 compliant\)/);
    // A policy without a transcode section takes no transcode override.
    const crf = await home.run(["transcode", "--policy", policy, "--crf", "20", done]);
    assert.equal(crf.code, 2);
    assert.equal(
      crf.stderr.trim(),
      "vpo: --crf: the policy has no transcode section (its track keys only copy)",
    );
  });
});

Deno.test("apply: a transcode and track changes are made in one ffmpeg pass", async () => {
  await withMediaHome(undefined, async (home, media) => {
    const tools = await ToolCounter.create(home.dir);
    const source = await makeTrackClip(join(media, "film.mkv"), { ...FILM, font: false });
    const policy = await writePolicyText(
      home,
      "both.yaml",
      ORIGINAL_POLICY + "container: { target: mp4, on_incompatible_codec: transcode }\n" +
        "transcode:\n  target_video_codec: hevc\n  target_crf: 30\n  preset: ultrafast\n" +
        "  keep_larger_output: true\n",
    );
    const queued = await queue(home, ["--policy", policy, source]);
    assert.match(queued, /film\.mkv: h264 160x90 -> hevc 160x90 crf 30 \(libx265, mp4\); tracks: /);
    await tools.take();
    const run = await home.run(["jobs", "start"], { env: tools.env });
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.equal((await tools.take()).ffmpeg, 1, "one ffmpeg run encodes and lays out the tracks");
    const job = await onlyJob(home);
    assert.deepEqual([job.type, job.status], ["transcode", "completed"]);
    const output = join(media, "film.mp4");
    assert.deepEqual(namesIn(media), ["film.mkv.original", "film.mp4"]);
    const streams = (await probe(output)).streams;
    assert.deepEqual(
      streams.map((s) => [s.type, s.codec, s.language, s.title, s.isDefault, s.isForced]),
      [
        ["video", "hevc", "und", undefined, true, false],
        ["audio", "aac", "eng", "English", true, false],
        ["audio", "aac", "jpn", "Japanese", false, false],
        ["subtitle", "mov_text", "eng", "Full", true, false],
        ["subtitle", "mov_text", "eng", "Signs", false, true],
        ["audio", "aac", "eng", "Director's Commentary", false, false],
      ],
    );
  });
});

Deno.test("apply: SIGKILL mid-copy is recovered like a transcode; the job then completes once", async () => {
  await withMediaHome(FAST_RECOVERY, async (home, media) => {
    const { source, before, end } = await midCopy(home, media, 20, (worker) => {
      worker.kill("SIGKILL");
      return Promise.resolve();
    });
    assert.equal(end.signal, "SIGKILL");
    assert.deepEqual(await digest(source), before);
    assert.equal(findPartials(media).length, 1, "the dead worker left its partial copy");

    await sleep(STALE_WAIT_MS);
    const recover = await home.run(["jobs", "recover"]);
    assert.match(recover.stdout, /1 stale job recovered/, recover.stdout + recover.stderr);
    const requeued = await onlyJob(home);
    assert.deepEqual([requeued.type, requeued.status, requeued.attempts], ["apply", "queued", 1]);
    assert.deepEqual(findPartials(home.dir), [], "recovery removes the partial copy");
    assert.deepEqual(await digest(source), before);

    const again = await home.run(["jobs", "start"]);
    assert.equal(again.code, 0, again.stdout + again.stderr);
    const job = await onlyJob(home);
    assert.equal(job.status, "completed");
    assert.equal(job.history.filter((e) => e.event === "completed").length, 1);
    assert.deepEqual(namesIn(media), ["film.mkv", "film.mkv.original"]);
    assert.deepEqual(await digest(`${source}.original`), before);
    assert.deepEqual(await mkvmergeTracks(source), FILM_APPLIED);
  });
});

Deno.test("apply: a source changed after queueing fails its job and is left alone", async (t) => {
  const append = (source: string) => Deno.writeFile(source, new Uint8Array(100), { append: true });
  const cases = [
    {
      name: "while queued",
      run: async (home: TempHome, media: string) => {
        const source = await makeTrackClip(join(media, "film.mkv"), FILM);
        const policy = await writePolicyText(home, "original.yaml", ORIGINAL_POLICY);
        await queue(home, ["--policy", policy, source]);
        await append(source);
        return { source, end: await home.run(["jobs", "start"]) };
      },
      said: /since it was queued; nothing was touched/,
    },
    {
      name: "while copied",
      run: (home: TempHome, media: string) =>
        midCopy(home, media, 6, (_, source) => append(source)),
      said: /while its tracks were copied; original kept/,
    },
  ];
  for (const { name, run, said } of cases) {
    await t.step(`bytes appended ${name}`, async () => {
      await withMediaHome(undefined, async (home, media) => {
        const { source, end } = await run(home, media);
        assert.equal(end.code, 3, end.stdout + end.stderr);
        const job = await onlyJob(home);
        assert.deepEqual([job.type, job.status], ["apply", "failed"]);
        assert.match(job.error ?? "", said);
        assert.match(job.error ?? "", /queue the file again/);
        // The user's file as they left it, nothing else beside it.
        assert.deepEqual(namesIn(media), ["film.mkv"]);
        assert.deepEqual(findPartials(home.dir), []);
        assert.equal((await mkvmergeTracks(source)).length, 8, "the source's tracks, untouched");
      });
    });
  }
});

Deno.test("apply: a temp disk that fills during the copy is named; the original stays", async () => {
  await withMediaHome(undefined, async (home, media) => {
    const tmpfs = join(home.dir, "tmpfs");
    await Deno.mkdir(tmpfs);
    await mountTmpfs(tmpfs, "4m");
    try {
      await home.writeConfig(`jobs:\n  temp_directory: ${tmpfs}\n`);
      const { source, before, end } = await midCopy(home, media, 6, async () => {
        // Another program fills the disk while the copy is written.
        using filler = await Deno.open(join(tmpfs, "filler"), { write: true, createNew: true });
        await filler.write(new Uint8Array(8 << 20)).catch(() => 0);
      });
      assert.equal(end.code, 3, end.stdout + end.stderr);
      const job = await onlyJob(home);
      assert.deepEqual([job.type, job.status], ["apply", "failed"]);
      assert.match(job.error ?? "", new RegExp(`^no space left on ${tmpfs} \\(.*; original kept`));
      assert.deepEqual(await digest(source), before);
      assert.deepEqual(namesIn(media), ["film.mkv"]);
      assert.deepEqual(namesIn(tmpfs), ["filler"]);
    } finally {
      await unmount(tmpfs);
    }
  });
});

/** Crash points of an apply job's replace and finish, and whether the copy is in place then. */
const CRASHES = [
  { point: "replace:recorded", swapped: false },
  { point: "replace:backed-up", swapped: false },
  { point: "replace:swapped", swapped: true },
  { point: "transition:published", swapped: true },
];

Deno.test("apply: a crash at a step of the replace leaves the original reachable; recovery ends it once", async () => {
  const runs: { point: string; swapped: boolean; home: TempHome; media: string }[] = [];
  try {
    for (const c of CRASHES) runs.push({ ...c, ...(await makeMediaHome(FAST_RECOVERY)) });
    await eachLimited(runs, 2, async ({ point, home, media }) => {
      const source = await makeTrackClip(join(media, "film.mkv"), FILM);
      const sha = (await digest(source)).sha256;
      const policy = await writePolicyText(home, "original.yaml", ORIGINAL_POLICY);
      await queue(home, ["--policy", policy, source]);
      const crashed = await home.run(["jobs", "start"], { env: { VPO_CRASH_AT: point } });
      assert.equal(crashed.code, 137, `${point}: the worker must die there:\n${crashed.stdout}`);
      const hashes = await Promise.all(
        [source, `${source}.original`].filter((p) =>
          namesIn(media).includes(p.slice(media.length + 1))
        )
          .map(async (p) => (await digest(p)).sha256),
      );
      assert.ok(hashes.includes(sha), `${point}: the original's bytes are gone`);
    });
    await sleep(STALE_WAIT_MS);
    await eachLimited(runs, 2, async ({ point, swapped, home, media }) => {
      const recover = await home.run(["jobs", "recover"]);
      assert.equal(recover.code, 0, `${point}: ${recover.stderr}`);
      const files = jobFiles(home);
      assert.equal(files.length, 1, `${point}: one job file after recovery: ${files}`);
      assert.match(files[0], swapped ? /^completed:/ : /^queued:/, point);
      const rerun = await home.run(["jobs", "start"]);
      assert.equal(rerun.code, 0, `${point}: ${rerun.stdout}${rerun.stderr}`);
      const job = await onlyJob(home);
      assert.deepEqual([job.type, job.status], ["apply", "completed"], point);
      assert.deepEqual(namesIn(media), ["film.mkv", "film.mkv.original"], point);
      assert.deepEqual(await mkvmergeTracks(join(media, "film.mkv")), FILM_APPLIED, point);
      assert.deepEqual(findPartials(home.dir), [], point);
      // The backup is known as vpo's, whoever finished the replace (recovery or a rerun).
      const cleanup = await home.run(
        ["jobs", "cleanup", "--older-than", "0", "--include-backups", "--force"],
      );
      assert.equal(cleanup.code, 0, `${point}: ${cleanup.stdout}${cleanup.stderr}`);
      assert.deepEqual(
        namesIn(media),
        ["film.mkv"],
        `${point}: ${cleanup.stdout}${cleanup.stderr}`,
      );
    });
  } finally {
    for (const { home } of runs) await disposeHome(home);
  }
});

Deno.test("apply: SIGTERM mid-copy queues the job again untouched; the worker exits 0", async () => {
  await withMediaHome(undefined, async (home, media) => {
    const { source, before, end } = await midCopy(home, media, 20, (worker) => {
      worker.kill("SIGTERM");
      return Promise.resolve();
    });
    assert.equal(end.code, 0, end.stdout + end.stderr);
    assert.match(end.stdout, /requeued/);
    const job = await onlyJob(home);
    assert.deepEqual([job.type, job.status, job.attempts], ["apply", "queued", 0]);
    assert.deepEqual(await digest(source), before);
    assert.deepEqual(namesIn(media), ["film.mkv"]);
    assert.deepEqual(findPartials(home.dir), []);
  });
});
