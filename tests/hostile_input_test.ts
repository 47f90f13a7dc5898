/**
 * What others may write, taken as the input it is (issue 16): a well-formed but false line in
 * the probe cache or a job's payload never decides what is written over an original (row 7),
 * and a file name printed back in ffmpeg's log cannot drive the terminal or forge lines
 * (row 11).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { QueueLayout } from "../src/queue/layout.ts";
import { ageFile, makeClip } from "./helpers/clips.ts";
import { jobRecord, writeJobFile } from "./helpers/queue.ts";
import { TempHome } from "./helpers/vpo.ts";
import { ffprobe, listJobs, onlyJob, withMediaHome } from "./helpers/worker.ts";

/** Streams of `path` by kind, as ffprobe counts them. */
async function kinds(path: string): Promise<string[]> {
  return (await ffprobe(path)).streams.map((s) => s.codec_type).sort();
}

/**
 * A 3 s clip with a keyframe every second and one audio track: with `segment_length: 1` it is
 * encoded segment by segment, whose final mux maps the streams the plan lists.
 */
async function segmentableClip(path: string): Promise<string> {
  const args = [
    ...["-nostdin", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25"],
    ...["-f", "lavfi", "-i", "sine=sample_rate=48000", "-t", "3", "-g", "25"],
    ...["-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", path],
  ];
  assert.ok((await new Deno.Command("ffmpeg", { args }).output()).success);
  await ageFile(path);
  return path;
}

/** `probe` without its audio streams: well-formed, and false. */
function withoutAudio(probe: { streams: { type: string }[] }) {
  return { ...probe, streams: probe.streams.filter((s) => s.type !== "audio") };
}

Deno.test("row 7: a false probe-cache line or job probe never decides what replaces an original", async () => {
  const config = "jobs:\n  backup_original: false\n  segment_length: 1\n";
  await withMediaHome(config, async (home, media) => {
    const cached = await segmentableClip(join(media, "cached.mkv"));
    const edited = await segmentableClip(join(media, "edited.mkv"));
    assert.deepEqual(await kinds(cached), ["audio", "video"]);

    // Both queued (their probes are cached); one cancelled, its cache line made false, and queued
    // again: decided from the cache. The other's job file gets the same false probe in its
    // payload (older versions planned from a probe kept there).
    assert.equal((await home.run(["transcode", cached, edited])).code, 0);
    const first = (await listJobs(home)).find((j) => j.file === cached)!;
    assert.equal((await home.run(["jobs", "cancel", first.id])).code, 0);
    const probes = join(home.vpoHome, "library", "probes");
    let editedProbe: { streams: { type: string }[] } | null = null;
    for (const entry of Deno.readDirSync(probes)) {
      const path = join(probes, entry.name);
      const lines = Deno.readTextFileSync(path).split("\n").map((line) => {
        if (!line) return line;
        const e = JSON.parse(line);
        if (e.path === edited) editedProbe = e.probe;
        return JSON.stringify(e.path === cached ? { ...e, probe: withoutAudio(e.probe) } : e);
      });
      Deno.writeTextFileSync(path, lines.join("\n"));
    }
    assert.ok(editedProbe, "the probe of edited.mkv is cached");
    const again = await home.run(["transcode", cached]);
    assert.match(again.stdout, /^1 queued/m, again.stdout + again.stderr);
    const job = (await listJobs(home)).find((j) => j.file === edited && j.status === "queued")!;
    const record = JSON.parse(Deno.readTextFileSync(job.path));
    record.payload.source_probe = withoutAudio(editedProbe);
    Deno.writeTextFileSync(job.path, JSON.stringify(record));

    const run = await home.run(["jobs", "start"]);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /2 completed/);
    for (const source of [cached, edited]) {
      assert.deepEqual(await kinds(source), ["audio", "video"], `${source} keeps its audio`);
    }
  });
});

Deno.test("row 11: jobs log shows a hostile file name escaped, in vpo's header and ffmpeg's lines", async () => {
  await withMediaHome(undefined, async (home, media) => {
    const name = "evil\x1b]0;owned\x07\x1b[2J\u202eimg\n# forged.mkv";
    const clip = await makeClip(join(media, name));
    assert.equal((await home.run(["transcode", clip])).code, 0);
    const id = (await onlyJob(home)).id;
    assert.equal((await home.run(["jobs", "start"])).code, 0);
    const log = await home.run(["jobs", "log", id]);
    assert.equal(log.code, 0, log.stderr);
    for (const c of ["\x07", "\x1b", "\u202e"]) {
      assert.ok(!log.stdout.includes(c), "no control character reaches the terminal");
    }
    assert.ok(!log.stdout.split("\n").some((l) => l.startsWith("# forged")), "no forged line");
    assert.match(log.stdout, /^# \S+ .*evil\\x1b\]0;owned\\x07\\x1b\[2J\\u202eimg\\n# forged\.mkv/);
  });
});

Deno.test("a live file's hand-made progress is shown as far as it is numbers, never an internal error", async () => {
  await using home = await TempHome.create();
  const id = "cd".repeat(16);
  await writeJobFile(home.jobsDir, "running", jobRecord(id, { file: "/v/a.mkv" }));
  const layout = new QueueLayout(home.jobsDir);
  await Deno.mkdir(layout.liveDir, { mode: 0o700 });
  const live = layout.livePath(id, "0000test0000");
  const show = async (progress: unknown) => {
    const worker = { host: "nas", pid: 7 };
    await Deno.writeTextFile(live, JSON.stringify({ worker, claimed_at: "x", progress }));
    const out = await home.run(["jobs", "show", id.slice(0, 8)]);
    assert.equal(out.code, 0, out.stderr);
    assert.equal(out.stderr, "");
    return out.stdout.split("\n").find((line) => line.startsWith("Progress")) ?? null;
  };
  assert.equal(await show({ percent: "12", fps: [], speed: {}, eta_sec: true }), null);
  assert.equal(await show({ percent: 12.5 }), "Progress    12.5%");
  assert.equal(await show("fast"), null);
});
