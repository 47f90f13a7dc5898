/**
 * End to end through the real CLI: `vpo transcode` queues generated clips, `vpo jobs start`
 * converts them with the real ffmpeg, and the tests look at what is on disk afterwards (bytes,
 * ffprobe output, leftover files), never at the worker's internals.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { ageFile, corruptFile, makeClip } from "./helpers/clips.ts";
import type { TempHome } from "./helpers/vpo.ts";
import {
  digest,
  exists,
  ffprobe,
  findPartials,
  listJobs,
  longClip,
  namesIn,
  onlyJob,
  type ProbedStream,
  slowPolicy,
  waitUntil,
  withMediaHome,
  WorkerProcess,
  writePolicy,
} from "./helpers/worker.ts";

/** `vpo transcode ...args`, which must succeed. */
async function queue(home: TempHome, args: string[]): Promise<string> {
  const out = await home.run(["transcode", ...args]);
  assert.equal(out.code, 0, `transcode failed:\n${out.stdout}\n${out.stderr}`);
  return out.stdout;
}

/** `vpo jobs start ...args` to its end. */
async function work(home: TempHome, args: string[] = []) {
  const out = await home.run(["jobs", "start", ...args]);
  return { ...out, all: `${out.stdout}\n${out.stderr}` };
}

const isCover = (s: ProbedStream) => s.codec_type === "video" && s.disposition?.attached_pic === 1;
const mainVideo = (streams: ProbedStream[]) =>
  streams.find((s) => s.codec_type === "video" && !isCover(s));

/** "video:h264 audio:aac ..." in stream order, with covers told apart from video. */
function streamKinds(streams: ProbedStream[]): string[] {
  return streams.map((s) => (isCover(s) ? "cover" : s.codec_type));
}

Deno.test("an MKV keeps every stream; video becomes hevc, the cover stays a picture, the original is kept", async () => {
  await withMediaHome(undefined, async (home, media) => {
    const source = await makeClip(join(media, "film.mkv"), {
      duration: 2,
      audio: ["aac", "ac3"],
      subtitles: true,
      attachment: true,
      coverArt: true,
    });
    // A private file stays private: the new file must not come out world-readable.
    await Deno.chmod(source, 0o640);
    const before = await digest(source);
    const probedBefore = await ffprobe(source);
    assert.match(await queue(home, [source]), /1 queued/);

    const run = await work(home);
    assert.equal(run.code, 0, run.all);

    const after = await ffprobe(source);
    // Every stream survives, in kind and count (the Python original dropped extra tracks).
    assert.deepEqual(streamKinds(after.streams).sort(), streamKinds(probedBefore.streams).sort());
    assert.deepEqual(
      after.streams.filter((s) => s.codec_type === "audio").map((s) => s.codec_name),
      ["aac", "ac3"],
    );
    assert.equal(mainVideo(after.streams)?.codec_name, "hevc");
    const covers = after.streams.filter(isCover);
    assert.equal(covers.length, 1);
    assert.equal(covers[0].codec_name, "png", "the cover must not be re-encoded as video");
    assert.equal(after.streams.filter((s) => s.codec_type === "subtitle").length, 1);
    assert.deepEqual(
      after.streams.filter((s) => s.codec_type === "attachment").map((s) => s.codec_name),
      ["ttf"],
    );

    assert.deepEqual(await digest(`${source}.original`), before);
    assert.deepEqual(namesIn(media), ["film.mkv", "film.mkv.original"]);
    assert.equal((await Deno.stat(source)).mode! & 0o777, 0o640);

    const list = await home.run(["jobs", "list"]);
    assert.match(list.stdout, /completed\s+transcode\s+film\.mkv\s+100%/);
    const job = await onlyJob(home);
    assert.equal(job.status, "completed");
    assert.equal(job.result?.outcome, "replaced");
    assert.equal(job.attempts, 1);
  });
});

Deno.test("container, bit depth and resolution rules hold end to end", async () => {
  interface Case {
    name: string;
    file: string;
    clip: Parameters<typeof makeClip>[1];
    args: string[];
    check: (probed: Awaited<ReturnType<typeof ffprobe>>) => void;
  }
  const cases: Case[] = [
    {
      name: "MP4 with mov_text stays MP4 with its subtitles",
      file: "phone.mp4",
      clip: { subtitles: true },
      args: [],
      check: (p) => {
        assert.match(p.format.format_name, /mp4/);
        assert.deepEqual(
          p.streams.filter((s) => s.codec_type === "subtitle").map((s) => s.codec_name),
          ["mov_text"],
        );
      },
    },
    {
      name: "a 10-bit source stays 10-bit",
      file: "deep.mkv",
      clip: { pixFmt: "yuv420p10le" },
      args: [],
      check: (p) => assert.equal(mainVideo(p.streams)?.pix_fmt, "yuv420p10le"),
    },
    {
      name: "3840x1600 under max_resolution 1080p becomes 1920x800, not 2592x1080",
      file: "wide.mkv",
      clip: { size: "3840x1600", rate: 2, audio: [] },
      args: ["--max-resolution", "1080p"],
      check: (p) => {
        const v = mainVideo(p.streams);
        assert.deepEqual([v?.width, v?.height], [1920, 800]);
      },
    },
  ];
  await withMediaHome(undefined, async (home, media) => {
    const sources: string[] = [];
    for (const c of cases) {
      const source = await makeClip(join(media, c.file), c.clip);
      sources.push(source);
      await queue(home, [...c.args, source]);
    }
    // One worker run for all cases: it is the expensive part.
    const run = await work(home);
    assert.equal(run.code, 0, run.all);
    for (const [i, c] of cases.entries()) {
      const probed = await ffprobe(sources[i]);
      assert.equal(mainVideo(probed.streams)?.codec_name, "hevc", c.name);
      c.check(probed);
      assert.ok(exists(`${sources[i]}.original`), c.name);
    }
    assert.ok((await listJobs(home)).every((j) => j.status === "completed"));
  });
});

Deno.test("an already compliant file is not queued; --force queues it", async () => {
  await withMediaHome(undefined, async (home, media) => {
    const source = await makeClip(join(media, "done.mkv"), { videoCodec: "hevc" });
    const plain = await queue(home, [source]);
    assert.match(plain, /skipped .*already compliant/);
    assert.match(plain, /0 queued, 0 remembered, 1 skipped \(1 compliant\)/);
    assert.deepEqual(await listJobs(home), []);

    const forced = await queue(home, ["--force", source]);
    assert.match(forced, /1 queued, 0 remembered, 0 skipped/);
    const job = await onlyJob(home);
    assert.equal(job.status, "queued");
    assert.equal(job.file, source);
  });
});

Deno.test("a corrupt source fails its job with a reason and log tail; nothing is touched", async (t) => {
  const damages: { name: string; damage: (path: string) => Promise<void> }[] = [
    // The header (with the full duration) survives; most of the packets are gone.
    { name: "truncated", damage: (path) => corruptFile(path, "truncate") },
    { name: "garbage body", damage: garbleBody },
  ];
  for (const { name, damage } of damages) {
    await t.step(name, async () => {
      await withMediaHome(undefined, async (home, media) => {
        const source = await makeClip(join(media, "broken.mkv"), { duration: 3 });
        await damage(source);
        const before = await digest(source);
        await queue(home, [source]);

        const run = await work(home);
        assert.equal(run.code, 3, `exit code 3 when a job failed:\n${run.all}`);
        const job = await onlyJob(home);
        assert.equal(job.status, "failed");
        const shown = await home.run(["jobs", "show", job.id]);
        const error = shown.stdout.split("\nError:\n")[1]?.split("\nHistory:")[0] ?? "";
        const [reason, ...tail] = error.split("\n").map((l) => l.trim());
        assert.ok(reason.length > 10, `a one-line reason:\n${shown.stdout}`);
        // Then where the whole log is, and its last lines.
        assert.match(tail[0] ?? "", /^log: /, shown.stdout);
        assert.ok(exists(tail[0].slice(5)), shown.stdout);
        assert.ok(tail.length >= 3, `the log tail follows the reason:\n${shown.stdout}`);

        assert.deepEqual(await digest(source), before);
        assert.deepEqual(namesIn(media), ["broken.mkv"]);
        assert.deepEqual(findPartials(home.dir), []);
      });
    });
  }
});

/** Keeps the first 16 KiB (the Matroska header) and overwrites the rest with noise. */
async function garbleBody(path: string): Promise<void> {
  const bytes = await Deno.readFile(path);
  let seed = 99;
  for (let i = 16 * 1024; i < bytes.length; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    bytes[i] = seed >>> 24;
  }
  await Deno.writeFile(path, bytes);
  await ageFile(path);
}

Deno.test("awkward file names work end to end", async () => {
  const names = [
    "with space.mkv",
    `it's "quoted".mkv`,
    "-starts with dash.mkv",
    "new\nline.mkv",
    "日本語の映画 2024.mkv",
    "colon: and $dollar.mkv",
    // 214 bytes: with vpo's 59-byte temp prefix and suffix, over the 255-byte name limit.
    `${"長".repeat(70)}.mkv`,
  ];
  await withMediaHome(undefined, async (home, media) => {
    const sources: string[] = [];
    const before = new Map<string, Awaited<ReturnType<typeof digest>>>();
    for (const name of names) {
      const source = await makeClip(join(media, name));
      sources.push(source);
      before.set(source, await digest(source));
    }
    assert.match(await queue(home, sources), new RegExp(`${names.length} queued`));
    const run = await work(home);
    assert.equal(run.code, 0, run.all);
    // One event per line, however the names look: a newline in a name cannot forge a log line.
    for (const line of run.stdout.trimEnd().split("\n")) {
      assert.match(line, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \w+ /);
    }
    assert.match(run.stdout, /completed +\w{8} new\\nline\.mkv: /);
    const jobs = await listJobs(home);
    assert.deepEqual(jobs.map((j) => j.status), names.map(() => "completed"));
    for (const source of sources) {
      assert.equal(mainVideo((await ffprobe(source)).streams)?.codec_name, "hevc", source);
      assert.deepEqual(await digest(`${source}.original`), before.get(source), source);
    }
    assert.equal(namesIn(media).length, names.length * 2);
  });
});

Deno.test("a name too long for its .original backup fails before any encode", async () => {
  await withMediaHome(undefined, async (home, media) => {
    // 244 bytes: fine as a file, 256 with ".original.99" beside it.
    const source = await makeClip(join(media, `${"a".repeat(240)}.mkv`));
    const before = await digest(source);
    await queue(home, [source]);
    const run = await work(home);
    assert.equal(run.code, 3, run.all);
    const [job] = await listJobs(home);
    assert.equal(job.status, "failed");
    assert.match(String(job.error), /too long to keep a backup beside it \(256 of 255 bytes/);
    assert.equal(await exists(join(home.vpoHome, "logs", `${job.id}.log`)), false, "no encode ran");
    assert.deepEqual(await digest(source), before);
    assert.deepEqual(namesIn(media), [`${"a".repeat(240)}.mkv`]);
  });
});

Deno.test("--dry-run queues nothing and prints the ffmpeg command", async () => {
  await withMediaHome(undefined, async (home, media) => {
    const source = await makeClip(join(media, "dry run.mkv"));
    const before = await digest(source);
    const out = await queue(home, ["--dry-run", source]);
    assert.match(out, /would queue/);
    assert.match(out, /^\s+ffmpeg -nostdin .*-c:v:0 libx265 .*\.partial'?$/m);
    assert.ok(out.includes(`'file:${source}'`), out);
    assert.match(out, /dry run: nothing was queued/);
    assert.deepEqual(await listJobs(home), []);
    assert.deepEqual(await digest(source), before);
    assert.deepEqual(namesIn(media), ["dry run.mkv"]);
  });
});

Deno.test("an output not smaller than its source is dropped and the original kept", async () => {
  await withMediaHome(undefined, async (home, media) => {
    const policy = await writePolicy(home.dir, "lossless.yaml", {
      target_video_codec: "hevc",
      target_crf: 0,
      preset: "ultrafast",
    });
    const source = await makeClip(join(media, "small.mkv"), { duration: 2 });
    const before = await digest(source);
    await queue(home, ["--policy", policy, source]);
    const run = await work(home);
    assert.equal(run.code, 0, run.all);
    const job = await onlyJob(home);
    assert.equal(job.status, "completed");
    assert.equal(job.result?.outcome, "kept_original");
    assert.ok(Number(job.result?.output_size) >= before.size, JSON.stringify(job.result));
    assert.deepEqual(await digest(source), before);
    assert.deepEqual(namesIn(media), ["small.mkv"]);
    assert.deepEqual(findPartials(home.dir), []);
  });
});

Deno.test("backup_original: false replaces the file without a backup", async () => {
  await withMediaHome("jobs:\n  backup_original: false\n", async (home, media) => {
    const source = await makeClip(join(media, "nobackup.mkv"), { duration: 2 });
    const before = await digest(source);
    await queue(home, [source]);
    const run = await work(home);
    assert.equal(run.code, 0, run.all);
    assert.deepEqual(namesIn(media), ["nobackup.mkv"]);
    assert.equal(mainVideo((await ffprobe(source)).streams)?.codec_name, "hevc");
    assert.notEqual((await digest(source)).sha256, before.sha256);
    const job = await onlyJob(home);
    assert.equal(job.status, "completed");
    assert.equal(job.result?.backup_path, null);
  });
});

Deno.test("a source changed after queueing fails its job and is left alone", async (t) => {
  const appendBytes = (path: string) => Deno.writeFile(path, new Uint8Array(100), { append: true });
  const cases: {
    name: string;
    /** Changed before the worker starts, or while ffmpeg is encoding it. */
    during: "queue" | "encode";
    change: (path: string) => Promise<void>;
    reason: RegExp;
  }[] = [
    { name: "bytes appended while queued", during: "queue", change: appendBytes, reason: /size/ },
    {
      name: "touched to a new mtime while queued",
      during: "queue",
      change: (path) => Deno.utime(path, new Date(), new Date(Date.now() - 3_600_000)),
      reason: /was modified/,
    },
    {
      name: "bytes appended during the encode",
      during: "encode",
      change: appendBytes,
      // The exact counts: "1.8 MiB -> 1.8 MiB" would not say what changed.
      reason: /changed size \(\d+ -> \d+ bytes\) while it was being encoded/,
    },
  ];
  for (const { name, during, change, reason } of cases) {
    await t.step(name, async () => {
      await withMediaHome(undefined, async (home, media) => {
        const source = await makeClip(
          join(media, "moving.mkv"),
          during === "queue" ? {} : { size: "640x360", duration: 5, audio: [] },
        );
        await queue(home, [source]);
        let end;
        if (during === "queue") {
          await change(source);
          end = await work(home);
        } else {
          const worker = WorkerProcess.start(home, ["--cpu-cores", "1"]);
          try {
            await waitUntil("the temp output", () => findPartials(media).length === 1);
            await change(source);
            end = await worker.exit();
          } finally {
            await worker.dispose();
          }
        }
        const before = await digest(source);
        assert.equal(end.code, 3, end.stdout + end.stderr);
        const job = await onlyJob(home);
        assert.equal(job.status, "failed");
        assert.match(job.error ?? "", reason);
        // vpo wrote nothing: the bytes are the user's changed file, nothing else is there.
        assert.deepEqual(await digest(source), before);
        assert.deepEqual(namesIn(media), ["moving.mkv"]);
        // A retry would compare with the same queue-time stamp: the error says what works, and
        // it does.
        assert.match(job.error ?? "", /queue the file again to convert it as it is now/);
        const again = await home.run(["transcode", source]);
        assert.match(again.stdout, /^queued /, again.stdout + again.stderr);
      });
    });
  }
});

Deno.test("jobs cancel --running stops the encode; the partial output goes, the original stays", async () => {
  await withMediaHome(undefined, async (home, media) => {
    const source = await longClip(join(media, "long.mkv"), { duration: 10, audio: [] });
    const before = await digest(source);
    // x265's "slower" preset on one core: the encode is sure to be running when it is cancelled.
    const policy = await slowPolicy(home.dir);
    await queue(home, ["--policy", policy, source]);
    const worker = WorkerProcess.start(home, ["--cpu-cores", "1"]);
    try {
      // The encode is under way once its temp output exists.
      await waitUntil("the temp output", () => findPartials(media).length === 1);
      const { id } = await onlyJob(home);
      const cancel = await home.run(["jobs", "cancel", "--running", id]);
      assert.equal(cancel.code, 0, cancel.stderr);
      await worker.waitForLine(/cancelled /, 10_000);
      const end = await worker.exit();
      assert.equal(end.code, 0, end.stdout + end.stderr);
      const job = await onlyJob(home);
      assert.equal(job.status, "cancelled");
      assert.deepEqual(findPartials(home.dir), []);
      assert.deepEqual(await digest(source), before);
      assert.deepEqual(namesIn(media), ["long.mkv"]);
    } finally {
      await worker.dispose();
    }
  });
});

Deno.test("--max-files 1 processes one of two queued jobs", async () => {
  await withMediaHome(undefined, async (home, media) => {
    const a = await makeClip(join(media, "a.mkv"));
    const b = await makeClip(join(media, "b.mkv"));
    await queue(home, [a, b]);
    const first = await work(home, ["--max-files", "1"]);
    assert.equal(first.code, 0, first.all);
    assert.match(first.stdout, /--max-files 1 reached/);
    const states = (await listJobs(home)).map((j) => j.status).sort();
    assert.deepEqual(states, ["completed", "queued"]);
    assert.deepEqual(namesIn(media), ["a.mkv", "a.mkv.original", "b.mkv"]);

    const rest = await work(home);
    assert.equal(rest.code, 0, rest.all);
    assert.deepEqual((await listJobs(home)).map((j) => j.status), ["completed", "completed"]);
  });
});

Deno.test("two workers on one queue run each job exactly once", async () => {
  await withMediaHome(undefined, async (home, media) => {
    const names = ["a.mkv", "b.mkv", "c.mkv", "d.mkv"];
    const sources: string[] = [];
    for (const name of names) sources.push(await makeClip(join(media, name)));
    await queue(home, sources);
    const workers = [WorkerProcess.start(home), WorkerProcess.start(home)];
    let ends;
    try {
      ends = await Promise.all(workers.map((w) => w.exit()));
    } finally {
      await Promise.all(workers.map((w) => w.dispose()));
    }
    for (const end of ends) assert.equal(end.code, 0, end.stdout + end.stderr);
    const started = ends.flatMap((e) => e.stdout.split("\n").filter((l) => / started /.test(l)));
    assert.equal(started.length, names.length, started.join("\n"));
    const jobs = await listJobs(home);
    assert.deepEqual(jobs.map((j) => j.status), names.map(() => "completed"));
    for (const job of jobs) {
      assert.equal(job.history.filter((e) => e.event === "completed").length, 1, job.file ?? "");
    }
    assert.deepEqual(namesIn(media), names.flatMap((n) => [n, `${n}.original`]).sort());
  });
});
