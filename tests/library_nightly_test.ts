/**
 * The nightly line `vpo transcode -r DIR && vpo jobs start`, run night after night over one
 * library with the real CLI and the real ffmpeg. ffprobe and ffmpeg are counted by wrappers
 * first on PATH, so "nothing was probed" is a number, not a guess.
 */
import assert from "node:assert/strict";
import { basename, join } from "node:path";
import { ageFile, corruptFile, makeClip } from "./helpers/clips.ts";
import type { TempHome } from "./helpers/vpo.ts";
import { ToolCounter } from "./helpers/tool_counter.ts";
import { listJobs, withMediaHome } from "./helpers/worker.ts";

/** An h264 clip so starved of bits that its hevc re-encode comes out larger. */
async function starvedClip(path: string): Promise<string> {
  const out = await new Deno.Command("ffmpeg", {
    args: [
      ...["-nostdin", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25"],
      ...["-t", "2", "-c:v", "libx264", "-crf", "51", "-preset", "ultrafast", path],
    ],
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  await ageFile(path);
  return path;
}

interface Night {
  scan: string;
  scanErr: string;
  probes: { ffprobe: number; ffmpeg: number };
  work: { code: number; ffprobe: number; ffmpeg: number; out: string };
}

/** One night: the scan (which must exit 0), then the worker; tool starts counted for each. */
async function night(
  home: TempHome,
  tools: ToolCounter,
  media: string,
  extra: string[] = [],
): Promise<Night> {
  await tools.take();
  const scan = await home.run(["transcode", "-r", ...extra, media], { env: tools.env });
  assert.equal(scan.code, 0, `transcode:\n${scan.stdout}\n${scan.stderr}`);
  const probes = await tools.take();
  const work = await home.run(["jobs", "start"], { env: tools.env });
  const counted = await tools.take();
  return {
    scan: scan.stdout,
    scanErr: scan.stderr,
    probes,
    work: { code: work.code, ...counted, out: `${work.stdout}\n${work.stderr}` },
  };
}

const summaryOf = (out: string) => out.trim().split("\n").at(-1);

/** Decision lines of the memory, as people would grep them. */
function memoryLines(home: TempHome): { path: string; decision: string }[] {
  const dir = join(home.vpoHome, "library", "decisions");
  const lines: { path: string; decision: string }[] = [];
  for (const entry of Deno.readDirSync(dir)) {
    for (const line of Deno.readTextFileSync(join(dir, entry.name)).split("\n")) {
      try {
        lines.push(JSON.parse(line));
      } catch {
        // A damaged line (the memory skips them too).
      }
    }
  }
  return lines;
}

Deno.test("library: the nightly line over one library, night after night", async (t) => {
  await withMediaHome(undefined, async (home, media) => {
    const tools = await ToolCounter.create(home.dir);
    await makeClip(join(media, "good.mkv"));
    await starvedClip(join(media, "big.mkv"));
    const broken = await makeClip(join(media, "broken.mkv"), { duration: 3 });
    await corruptFile(broken, "truncate");
    const unreadable = join(media, "bad.mkv");
    await Deno.writeTextFile(unreadable, "not a video at all\n");
    await ageFile(unreadable);
    await makeClip(join(media, "compliant.mkv"), { videoCodec: "hevc" });

    await t.step("night 1: every file probed once, three jobs run", async () => {
      const n = await night(home, tools, media);
      assert.equal(
        summaryOf(n.scan),
        "3 queued, 0 remembered, 1 skipped (1 compliant), 0 still being written, " +
          "1 unreadable, 0 errors",
      );
      assert.match(n.scan, /unreadable\s+\S*bad\.mkv: /);
      assert.deepEqual(n.probes, { ffprobe: 5, ffmpeg: 0 });
      // Three encodes; each source is probed again when its job runs (what is written comes
      // from the source itself, never from a cache) and each output is verified; the truncated
      // source fails its verification.
      assert.equal(n.work.code, 3, n.work.out);
      assert.deepEqual([n.work.ffmpeg, n.work.ffprobe], [3, 6], n.work.out);
      const byFile = Object.fromEntries(
        (await listJobs(home)).map((j) => [basename(j.file ?? ""), j]),
      );
      assert.equal(byFile["good.mkv"].status, "completed");
      assert.equal(byFile["good.mkv"].result?.outcome, "replaced");
      assert.equal(byFile["big.mkv"].status, "completed");
      assert.match(n.work.out, /kept the original/);
      assert.equal(byFile["broken.mkv"].status, "failed");
    });

    await t.step("night 2: nothing changed, nothing probed, nothing queued", async () => {
      const n = await night(home, tools, media);
      assert.equal(
        summaryOf(n.scan),
        "0 queued, 5 remembered (1 compliant, 1 converted, 1 kept original, 1 failed, " +
          "1 unreadable), 0 skipped, 0 still being written, 0 unreadable, 0 errors",
      );
      assert.equal(n.scan.trim().split("\n").length, 1, "remembered files are only counted");
      assert.deepEqual(n.probes, { ffprobe: 0, ffmpeg: 0 });
      assert.deepEqual([n.work.code, n.work.ffmpeg, n.work.ffprobe], [0, 0, 0], n.work.out);
      const verbose = await home.run(["transcode", "-r", "--verbose", media], {
        env: tools.env,
      });
      const lines = verbose.stdout.trim().split("\n");
      const line = (name: string) => lines.find((l) => l.includes(`/${name}:`)) ?? "";
      assert.match(line("good.mkv"), /^remembered .*converted: the output of job/);
      assert.match(line("big.mkv"), /^remembered .*kept original: kept the original/);
      assert.match(line("broken.mkv"), /^remembered .*failed: output rejected/);
      assert.match(line("bad.mkv"), /^remembered .*unreadable: Invalid data/);
      assert.match(line("compliant.mkv"), /^remembered .*compliant: already compliant/);
      assert.deepEqual(await tools.take(), { ffprobe: 0, ffmpeg: 0 });

      // The memory does not stand in the way of retrying a failed job by hand.
      const failed = (await listJobs(home)).find((j) => j.status === "failed")!;
      const retry = await home.run(["jobs", "retry", failed.id]);
      assert.equal(retry.code, 0, retry.stderr);
      const rerun = await home.run(["jobs", "start"], { env: tools.env });
      assert.equal(rerun.code, 3, "the truncated file fails again");
      assert.equal((await tools.take()).ffmpeg, 1);
      const after = await home.run(["transcode", "-r", "--verbose", media], { env: tools.env });
      assert.match(after.stdout, /remembered .*broken\.mkv: failed: output rejected/);
      assert.deepEqual(await tools.take(), { ffprobe: 0, ffmpeg: 0 });
    });

    await t.step("night 3: new files, one still arriving, the failed file replaced", async () => {
      await makeClip(join(media, "new.mkv"));
      const copying = await makeClip(join(media, "copying.mkv"));
      await Deno.utime(copying, new Date(), new Date());
      // A good copy of the broken download, moved into place.
      const fixed = await makeClip(join(home.dir, "fixed.mkv"), { duration: 2 });
      await Deno.rename(fixed, broken);
      const n = await night(home, tools, media);
      assert.equal(
        summaryOf(n.scan),
        "2 queued, 4 remembered (1 compliant, 1 converted, 1 kept original, 1 unreadable), " +
          "0 skipped, 1 still being written, 0 unreadable, 0 errors",
      );
      assert.match(n.scan, /waiting\s+\S*copying\.mkv: still being written/);
      assert.deepEqual(n.probes, { ffprobe: 2, ffmpeg: 0 });
      assert.deepEqual([n.work.code, n.work.ffmpeg, n.work.ffprobe], [0, 2, 4], n.work.out);
    });

    await t.step(
      "night 4: a policy of the original vpo; its track keys carried out; decided again without ffprobe",
      async () => {
        await ageFile(join(media, "copying.mkv"));
        const policy = join(home.dir, "old.yaml");
        await Deno.writeTextFile(
          policy,
          "schema_version: 2\ntrack_order: [video, audio_main]\n" +
            "audio_language_preference: [eng]\ntranscode:\n  target_video_codec: hevc\n" +
            "  target_crf: 30\n",
        );
        const n = await night(home, tools, media, ["--policy", policy]);
        // Its track keys are read, not warned about: lavfi clips mark no track default, which
        // default_flags does. Files the transcode leaves alone get apply jobs (a stream copy);
        // the two it encodes get the flags in the same pass.
        assert.equal(n.scanErr, "");
        assert.match(n.scan, /queued +\S+ \S*good\.mkv: tracks: default flags \(stream copy/);
        assert.match(n.scan, /queued +\S+ \S*copying\.mkv: h264 .* -> hevc .*; tracks: default/);
        // Only copying.mkv, never looked at before, is probed; bad.mkv stays unreadable.
        assert.deepEqual(n.probes, { ffprobe: 1, ffmpeg: 0 });
        assert.equal(
          summaryOf(n.scan),
          "6 queued, 1 remembered (1 unreadable), 0 skipped, 0 still being written, " +
            "0 unreadable, 0 errors",
        );
        // Two encodes and four copies; big.mkv's encode is not smaller, so its original's
        // tracks are copied instead (a seventh ffmpeg run). Each job probes its source, and
        // each of the seven outputs is verified.
        assert.deepEqual([n.work.code, n.work.ffmpeg, n.work.ffprobe], [0, 7, 13], n.work.out);
        assert.match(n.work.out, /big\.mkv: kept the original: .*; its tracks copied instead/);
        const again = await night(home, tools, media, ["--policy", policy]);
        assert.deepEqual(again.probes, { ffprobe: 0, ffmpeg: 0 });
        assert.match(summaryOf(again.scan)!, /^0 queued, 7 remembered/);
      },
    );

    await t.step("night 5: the memory deleted, then damaged", async () => {
      await Deno.remove(join(home.vpoHome, "library"), { recursive: true });
      // A day passes: last night's outputs are no longer fresh (and could be still arriving,
      // now that nothing remembers writing them).
      for (const entry of Deno.readDirSync(media)) await ageFile(join(media, entry.name));
      const n = await night(home, tools, media);
      assert.equal(n.scanErr, "");
      assert.deepEqual(n.probes, { ffprobe: 7, ffmpeg: 0 });
      // Rebuilt: big.mkv is tried once more (its outcome was forgotten), then remembered.
      assert.equal(
        summaryOf(n.scan),
        "1 queued, 0 remembered, 5 skipped (5 compliant), 0 still being written, " +
          "1 unreadable, 0 errors",
      );
      assert.equal(n.work.ffmpeg, 1, n.work.out);
      const dir = join(home.vpoHome, "library", "decisions");
      const first = [...Deno.readDirSync(dir)][0].name;
      // A hand edit gone wrong, and a line a crash cut short (not damage: never warned about).
      await Deno.writeTextFile(join(dir, first), 'garbage\n{"path": 1}\n{"path": "/x", "si', {
        append: true,
      });
      const damaged = await night(home, tools, media);
      assert.equal(damaged.scanErr.trim().split("\n").length, 1, damaged.scanErr);
      assert.match(damaged.scanErr, /^vpo: warning: library memory \S+: 2 damaged lines ignored/);
      assert.deepEqual(damaged.probes, { ffprobe: 0, ffmpeg: 0 });
      assert.match(summaryOf(damaged.scan)!, /^0 queued, 7 remembered/);
      // Repaired: the next run has nothing to say.
      const after = await night(home, tools, media);
      assert.equal(after.scanErr, "");
      assert.match(summaryOf(after.scan)!, /^0 queued, 7 remembered/);
    });

    await t.step("night 6: two scans at once queue each new file exactly once", async () => {
      const arrivals = ["a.mkv", "b.mkv", "c.mkv", "d.mkv"];
      await Deno.mkdir(join(media, "new"));
      for (const name of arrivals) await makeClip(join(media, "new", name));
      const runs = await Promise.all(
        [1, 2].map(() => home.run(["transcode", "-r", media], { env: tools.env })),
      );
      for (const run of runs) assert.equal(run.code, 0, run.stderr);
      const queuedLines = runs.flatMap((r) => r.stdout.split("\n"))
        .filter((l) => l.startsWith("queued "));
      assert.equal(queuedLines.length, 4, runs.map((r) => r.stdout).join("\n"));
      const jobs = (await listJobs(home)).filter((j) => j.status === "queued");
      assert.deepEqual(jobs.map((j) => basename(j.file ?? "")).sort(), arrivals);
      const entries = memoryLines(home).filter((e) => e.path.includes("/new/"));
      for (const name of arrivals) {
        const mine = entries.filter((e) => e.path.endsWith(`/${name}`));
        assert.deepEqual(mine.map((e) => e.decision), ["queued"], name);
      }
      await tools.take();

      // --recheck forgets nothing but looks again: every file not queued is probed, and
      // big.mkv (kept under this policy) is tried once more.
      const recheck = await home.run(["transcode", "-r", "--recheck", media], { env: tools.env });
      assert.equal(recheck.code, 0, recheck.stderr);
      assert.deepEqual(await tools.take(), { ffprobe: 7, ffmpeg: 0 });
      assert.equal(
        summaryOf(recheck.stdout),
        "1 queued, 0 remembered, 9 skipped (5 compliant, 4 already queued), " +
          "0 still being written, 1 unreadable, 0 errors",
      );
    });
  });
});

Deno.test("library: a file that cannot be read stays in every night's summary", async () => {
  await withMediaHome(undefined, async (home, media) => {
    const bad = join(media, "bad.mkv");
    await Deno.writeTextFile(bad, "not a video at all\n");
    await ageFile(bad);
    const first = await home.run(["transcode", "-r", media]);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(
      summaryOf(first.stdout),
      "0 queued, 0 remembered, 0 skipped, 0 still being written, 1 unreadable, 0 errors",
    );
    const second = await home.run(["transcode", "-r", media]);
    assert.equal(second.code, 0, second.stderr);
    assert.equal(
      second.stdout,
      "0 queued, 1 remembered (1 unreadable), 0 skipped, 0 still being written, 0 unreadable, " +
        "0 errors\n",
    );
    const verbose = await home.run(["transcode", "-r", "-v", media]);
    assert.match(verbose.stdout, /^remembered\s+\S*bad\.mkv: unreadable: Invalid data/m);
  });
});

Deno.test("library: a named file growing while it is looked at is not queued yet", async () => {
  await withMediaHome(undefined, async (home, media) => {
    const growing = join(media, "growing.mkv");
    await Deno.copyFile(await makeClip(join(home.dir, "seed.mkv")), growing);
    const writer = new Deno.Command("sh", {
      args: ["-c", `while :; do head -c 4096 /dev/zero >> '${growing}'; sleep 0.005; done`],
      stdin: "null",
    }).spawn();
    try {
      const run = await home.run(["transcode", growing]);
      assert.equal(run.code, 0, run.stderr);
      // Probed (named files are not made to settle), and found changed by the probe's end.
      assert.match(
        run.stdout,
        /waiting\s+\S*growing\.mkv: still being written \(changed while it was looked at: \d+ -> \d+ bytes\)/,
      );
      assert.match(run.stdout, /0 queued, .* 1 still being written/);
    } finally {
      writer.kill("SIGKILL");
      await writer.status;
    }
    assert.deepEqual(await listJobs(home), []);
  });
});
