/**
 * IETF language tags (BCP 47: `es-419`, `pt-BR`, `zh-Hans`) through a rewrite by ffmpeg 5.1, which
 * writes a Matroska track's language as its ISO 639-2 code alone (`spa`, `por`, `chi`). Sources
 * are made by mkvmerge, as most MKVs in the wild are, and read back with `mkvmerge -J`. Every
 * path that writes a Matroska output (an encode in one pass, a segmented encode's join, an
 * apply's copy) restores them with mkvpropedit exactly once, and the verifier checks them.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { pathWithout } from "./helpers/hidden_path.ts";
import { countingFfmpeg, segmentStarts } from "./helpers/segments.ts";
import { makeTrackClip, type TrackClipOptions } from "./helpers/track_clips.ts";
import type { TempHome } from "./helpers/vpo.ts";
import { digest, listJobs, onlyJob, withMediaHome } from "./helpers/worker.ts";

/** Spanish for Latin America and for Spain, Brazilian Portuguese, Chinese in both scripts. */
const TAGGED: TrackClipOptions = {
  audio: [
    { language: "es-419", title: "Latino", default: true },
    { language: "es-ES", title: "Castellano" },
    { language: "pt-BR" },
    { language: "ja" },
  ],
  subtitles: [{ language: "zh-Hans" }, { language: "zh-Hant" }, { language: "en" }],
};

/** The source's tracks as mkvmerge reads them: [type, IETF tag]. */
const SOURCE_TAGS = [
  ["video", "und"],
  ["audio", "es-419"],
  ["audio", "es-ES"],
  ["audio", "pt-BR"],
  ["audio", "ja"],
  ["subtitles", "zh-Hans"],
  ["subtitles", "zh-Hant"],
  ["subtitles", "en"],
];

/**
 * The same after a rewrite: a tag that says no more than its ISO 639-2 code (en, ja, und) is that
 * code (mkvpropedit is not run for it).
 */
const KEPT_TAGS = SOURCE_TAGS.map(([type, tag]) => [type, { en: "eng", ja: "jpn" }[tag] ?? tag]);

/** Track keys that drop the Japanese audio (so that an apply job is queued) and put English
 * subtitles first (so the tags must follow their tracks). */
const APPLY_POLICY = "schema_version: 2\naudio_filter:\n  languages: [spa, por]\n";
const APPLIED_TAGS = [
  ...KEPT_TAGS.slice(0, 4),
  ["subtitles", "eng"],
  ["subtitles", "zh-Hans"],
  ["subtitles", "zh-Hant"],
];
/** A transcode into Matroska (the source's container). */
const TRANSCODE_POLICY = "schema_version: 1\ntranscode:\n  target_video_codec: hevc\n" +
  "  preset: ultrafast\n  keep_larger_output: true\n";

/** Each track of a Matroska file as mkvmerge reads it: [type, IETF tag, else ISO 639-2 code]. */
async function languages(path: string): Promise<string[][]> {
  const out = await new Deno.Command("mkvmerge", { args: ["-J", path], stdout: "piped" }).output();
  const tracks = JSON.parse(new TextDecoder().decode(out.stdout)).tracks as {
    type: string;
    properties: { language?: string; language_ietf?: string };
  }[];
  return tracks.map((t) => [t.type, t.properties.language_ietf ?? t.properties.language ?? ""]);
}

/**
 * Queues `source` under `policy` and runs the worker until the queue is empty, which exits with
 * `code` (3: a job failed).
 */
async function convert(
  home: TempHome,
  source: string,
  policy: string,
  env: Record<string, string> = {},
  code = 0,
): Promise<void> {
  const file = join(home.dir, "policy.yaml");
  await Deno.writeTextFile(file, policy);
  const queued = await home.run(["transcode", "--policy", file, source]);
  assert.equal(queued.code, 0, queued.stdout + queued.stderr);
  const run = await home.run(["jobs", "start"], { env });
  assert.equal(run.code, code, run.stdout + run.stderr);
}

/**
 * A directory with an `mkvpropedit` that logs each start to `<dir>/mkvpropedit-calls`, then runs
 * the real one, or (`fault`) fails as it does on a file it cannot write, or exits 0 having done
 * nothing, or does its work and exits 1 (mkvtoolnix's "with warnings"). Returns what to put first on PATH and the starts so far.
 */
async function watchedMkvpropedit(
  dir: string,
  fault: "none" | "fails" | "does nothing" | "warns" = "none",
): Promise<{ bin: string; starts: () => number }> {
  const bin = join(dir, "mkvpropedit-bin");
  await Deno.mkdir(bin);
  const log = join(dir, "mkvpropedit-calls");
  const then = {
    "none": `exec /usr/bin/mkvpropedit "$@"`,
    "fails": `echo "Error: The file could not be opened for writing."; exit 2`,
    "does nothing": "exit 0",
    "warns": `/usr/bin/mkvpropedit "$@"; exit 1`,
  }[fault];
  await Deno.writeTextFile(join(bin, "mkvpropedit"), `#!/bin/sh\necho x >> '${log}'\n${then}\n`);
  await Deno.chmod(join(bin, "mkvpropedit"), 0o755);
  const starts = () => {
    try {
      return Deno.readTextFileSync(log).split("\n").filter((l) => l !== "").length;
    } catch {
      return 0;
    }
  };
  return { bin, starts };
}

Deno.test("IETF language tags are restored once by every path that rewrites Matroska", async (t) => {
  const cases = [
    { name: "apply", policy: APPLY_POLICY, expected: APPLIED_TAGS, segments: 0 },
    { name: "transcode", policy: TRANSCODE_POLICY, expected: KEPT_TAGS, segments: 0 },
    { name: "segmented transcode", policy: TRANSCODE_POLICY, expected: KEPT_TAGS, segments: 3 },
  ];
  for (const { name, policy, expected, segments } of cases) {
    await t.step(name, async () => {
      const config = segments ? "jobs:\n  segment_length: 1\n" : undefined;
      await withMediaHome(config, async (home, media) => {
        // 3 s with a keyframe every second: three segments of 1 s.
        const clip = { ...TAGGED, duration: 3, keyframeInterval: 10 };
        const source = await makeTrackClip(join(media, "film.mkv"), clip);
        assert.deepEqual(await languages(source), SOURCE_TAGS);
        const ffmpeg = await countingFfmpeg(home.dir);
        const mkvpropedit = await watchedMkvpropedit(home.dir);
        await convert(home, source, policy, { PATH: `${mkvpropedit.bin}:${ffmpeg.path}` });
        const job = await onlyJob(home);
        assert.deepEqual([job.type, job.status], [name.split(" ").at(-1), "completed"]);
        assert.deepEqual(await languages(source), expected);
        assert.equal(segmentStarts(ffmpeg.calls()).length, segments);
        assert.equal(mkvpropedit.starts(), 1);
      });
    });
  }
});

Deno.test("without mkvpropedit, or into MP4, the job's result says the tags were reduced", async (t) => {
  const cases = [
    {
      name: "no mkvpropedit",
      policy: APPLY_POLICY,
      hide: ["mkvpropedit"],
      said: "mkvpropedit (mkvtoolnix) is not installed to restore them",
    },
    {
      name: "into MP4",
      policy: `${TRANSCODE_POLICY}  container: mp4\n`,
      hide: [],
      said: "ffmpeg writes MP4 languages as ISO 639-2 codes only",
    },
  ];
  for (const { name, policy, hide, said } of cases) {
    await t.step(name, async () => {
      await withMediaHome(undefined, async (home, media) => {
        const source = await makeTrackClip(join(media, "film.mkv"), TAGGED);
        const env: Record<string, string> = hide.length
          ? { PATH: await pathWithout(home.dir, hide) }
          : {};
        await convert(home, source, policy, env);
        const [job] = await listJobs(home);
        assert.equal(job.status, "completed");
        const notes = (job.result as { notes?: string[] }).notes ?? [];
        const note = notes.find((n) => n.startsWith("IETF language tags reduced"));
        assert.equal(
          note,
          "IETF language tags reduced to ISO 639-2 codes: es-419, es-ES -> spa; pt-BR -> por; " +
            `zh-Hans, zh-Hant -> chi (${said})`,
        );
      });
    });
  }
});

Deno.test("an output whose tags mkvpropedit did not restore is rejected, the original kept", async (t) => {
  const cases = [
    {
      fault: "fails" as const,
      error: "mkvpropedit could not restore the IETF language tags: The file could not be opened",
    },
    { fault: "does nothing" as const, error: "track 1: language tag is spa, the source's es-419" },
  ];
  for (const { fault, error } of cases) {
    for (const policy of [APPLY_POLICY, TRANSCODE_POLICY]) {
      await t.step(
        `mkvpropedit ${fault}, ${policy.includes("transcode:") ? "transcode" : "apply"}`,
        async () => {
          await withMediaHome(undefined, async (home, media) => {
            const source = await makeTrackClip(join(media, "film.mkv"), TAGGED);
            const before = await digest(source);
            const mkvpropedit = await watchedMkvpropedit(home.dir, fault);
            await convert(home, source, policy, {
              PATH: `${mkvpropedit.bin}:${Deno.env.get("PATH")}`,
            }, 3);
            const job = await onlyJob(home);
            assert.equal(job.status, "failed");
            const said = String(job.error);
            assert.ok(
              said.includes("output rejected, original kept: ") && said.includes(error),
              said,
            );
            assert.deepEqual(await digest(source), before);
            assert.deepEqual([...Deno.readDirSync(media)].map((e) => e.name), ["film.mkv"]);
          });
        },
      );
    }
  }
});

Deno.test("mkvpropedit's warnings (exit 1) do not reject an output whose tags it restored", async () => {
  await withMediaHome(undefined, async (home, media) => {
    const source = await makeTrackClip(join(media, "film.mkv"), TAGGED);
    const mkvpropedit = await watchedMkvpropedit(home.dir, "warns");
    await convert(home, source, APPLY_POLICY, {
      PATH: `${mkvpropedit.bin}:${Deno.env.get("PATH")}`,
    });
    assert.equal((await onlyJob(home)).status, "completed");
    assert.deepEqual(await languages(source), APPLIED_TAGS);
  });
});
