/**
 * `vpo doctor` as a subprocess against real homes: healthy, and with one fault each (a bad
 * config, ffmpeg missing, a stale job, a job in two states, an orphan temp output, a skewed clock
 * via faketime, a temp directory that is missing or too small, a live worker).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeClip } from "./helpers/clips.ts";
import {
  findPartials,
  longClip,
  onlyJob,
  slowPolicy,
  waitUntil,
  withMediaHome,
  WorkerProcess,
} from "./helpers/worker.ts";
import { CLI, type TempHome } from "./helpers/vpo.ts";
import { CLI_PERMISSIONS } from "../scripts/permissions.ts";
import { QueueLayout } from "../src/queue/layout.ts";
import { listJobNames } from "../src/queue/scan.ts";
import { pathWithout } from "./helpers/hidden_path.ts";

interface Line {
  level: "ok" | "warn" | "FAIL";
  name: string;
  detail: string;
  fix?: string;
}
interface Report {
  ok: boolean;
  clock_skew_sec: number | null;
  checks: Line[];
}

async function doctor(
  home: TempHome,
  opts: { env?: Record<string, string>; wrap?: string[] } = {},
): Promise<{ code: number; report: Report; stderr: string }> {
  const vpo = [Deno.execPath(), "run", "--quiet", ...CLI_PERMISSIONS, CLI, "doctor", "--json"];
  const [cmd, ...args] = [...(opts.wrap ?? []), ...vpo];
  const out = await new Deno.Command(cmd, {
    args,
    env: { VPO_HOME: home.vpoHome, NO_COLOR: "1", ...opts.env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  const stdout = dec.decode(out.stdout);
  let report: Report;
  try {
    report = JSON.parse(stdout);
  } catch {
    throw new Error(
      `doctor printed no JSON (exit ${out.code}):\n${stdout}\n${dec.decode(out.stderr)}`,
    );
  }
  return { code: out.code, report, stderr: dec.decode(out.stderr) };
}

const line = (r: Report, name: string): Line => {
  const found = r.checks.find((c) => c.name === name);
  if (!found) {
    throw new Error(`no "${name}" line in ${JSON.stringify(r.checks.map((c) => c.name))}`);
  }
  return found;
};

async function queueClip(home: TempHome, media: string, name = "a.mkv"): Promise<string> {
  const clip = await makeClip(join(media, name));
  const q = await home.run(["transcode", clip]);
  assert.equal(q.code, 0, q.stderr);
  return (await onlyJob(home)).id;
}

Deno.test("doctor on a healthy machine and queue: every line ok, exit 0", async () => {
  await withMediaHome(undefined, async (home, media) => {
    await queueClip(home, media);
    const { code, report, stderr } = await doctor(home);
    assert.equal(stderr, "");
    assert.equal(code, 0);
    assert.equal(report.ok, true);
    const notOk = report.checks.filter((c) => c.level !== "ok");
    assert.deepEqual(notOk, []);
    assert.match(line(report, "ffmpeg").detail, /^\S+ \(\/.*ffmpeg\)$/);
    assert.match(line(report, "mkvmerge").detail, /^\d\S* \(\/.*mkvmerge\): reads every Matroska/);
    assert.match(line(report, "mkvpropedit").detail, /^\d\S* \(\/.*\): restores the IETF language/);
    assert.match(line(report, "encoders for hevc.yaml").detail, /libx265 and aac encode/);
    assert.match(line(report, "encoders for av1.yaml").detail, /libsvtav1 and libopus encode/);
    assert.match(line(report, "encoders for tracks.yaml").detail, /^none needed \(track keys only/);
    for (const hw of ["vaapi", "qsv", "nvenc"]) assert.ok(line(report, `hardware ${hw}`));
    assert.match(line(report, "queue hard links").detail, /^supported/);
    assert.match(line(report, "queue rename").detail, /atomic/);
    assert.match(line(report, "queue space").detail, /free on \S+/);
    assert.match(line(report, "temp space").detail, /1 source folder has room/);
    assert.ok(Math.abs(report.clock_skew_sec!) < 2);
    // Other queues' workers on this machine may be running: only the form is certain here.
    assert.match(
      line(report, "workers").detail,
      /^(no worker running|worker running) on this host/,
    );
    // The text form: one line per check, then the counts.
    const text = await home.run(["doctor"]);
    assert.equal(text.code, 0);
    const lines = text.stdout.trim().split("\n");
    assert.equal(lines.length, report.checks.length + 1);
    assert.ok(
      lines.slice(0, -1).every((l) => /^(ok {2}|warn|FAIL) {2}[^:]+: /.test(l)),
      text.stdout,
    );
    assert.match(lines.at(-1)!, /^\d+ ok, 0 warn, 0 FAIL$/);
  });
});

Deno.test("doctor reports a broken config, a stale job, a job in two states and an orphan", async () => {
  await withMediaHome(undefined, async (home, media) => {
    const id = await queueClip(home, media);
    const layout = new QueueLayout(home.jobsDir);
    // Queued names carry the claim order (<id>.q<priority>-<created>.json): read them, not guess.
    const queuedPath = (jobId: string) =>
      join(
        layout.stateDir("queued"),
        listJobNames(layout.stateDir("queued")).find((n) => n.id === jobId)!.name,
      );
    // A job in two states: a copy left in failed/ as a crash mid-move would.
    await Deno.copyFile(queuedPath(id), layout.jobPath("failed", id));
    // A running job nobody heartbeats, and a config that makes it stale after 0.5 s.
    const other = await queueClip(home, media, "b.mkv").catch(() => null);
    assert.equal(other, null); // onlyJob refuses two jobs; find the second by name instead
    const second = listJobNames(layout.stateDir("queued")).map((n) => n.id).find((n) => n !== id)!;
    await Deno.rename(queuedPath(second), layout.jobPath("running", second, "0123456789ab"));
    await Deno.writeTextFile(join(media, `.vpo-${"e".repeat(32)}.0123456789ab.x.mkv.partial`), "x");
    await home.writeConfig("worker:\n  heartbeat_interval: 0.1\n  stale_after: 0.5\n");
    await new Promise((r) => setTimeout(r, 1000));

    const { code, report } = await doctor(home);
    assert.equal(code, 0, "warnings only");
    assert.equal(line(report, "running jobs").level, "warn");
    assert.match(
      line(report, "running jobs").detail,
      new RegExp(`1 stale: .*${second.slice(0, 8)}`),
    );
    assert.equal(
      line(report, "running jobs").fix,
      "vpo jobs recover (a worker does it when it starts)",
    );
    assert.equal(line(report, "job states").level, "warn");
    assert.match(
      line(report, "job states").detail,
      new RegExp(`${id.slice(0, 8)} \\(queued \\+ failed\\)`),
    );
    assert.equal(line(report, "temp files").level, "warn");
    assert.equal(line(report, "temp files").fix, "vpo jobs cleanup --remove-temp");

    await home.writeConfig("jobs:\n  retention_dayz: 3\n");
    const bad = await doctor(home);
    assert.equal(bad.code, 1);
    assert.equal(bad.report.ok, false);
    assert.equal(line(bad.report, "config").level, "FAIL");
    assert.match(
      line(bad.report, "config").detail,
      /config\.yaml:2:3: jobs\.retention_dayz: unknown key/,
    );
    // The other checks still ran.
    assert.equal(line(bad.report, "job states").level, "warn");

    // A state directory replaced by a file (a slip with mv): a FAIL naming it.
    await Deno.remove(join(home.vpoHome, "config.yaml"));
    await Deno.remove(join(home.jobsDir, "cancelled"), { recursive: true });
    await Deno.writeTextFile(join(home.jobsDir, "cancelled"), "");
    const file = await doctor(home);
    assert.equal(file.code, 1);
    assert.equal(line(file.report, "queue directories").level, "FAIL");
    assert.match(line(file.report, "queue directories").detail, /^not directories: cancelled in /);
  });
});

Deno.test("doctor without ffmpeg on PATH: FAIL lines with the install hint, exit 1", async () => {
  await withMediaHome(undefined, async (home) => {
    const bin = await pathWithout(home.dir, ["ffmpeg", "ffprobe"]);
    const { code, report, stderr } = await doctor(home, { env: { PATH: bin } });
    assert.equal(code, 1);
    assert.equal(stderr, "");
    for (const tool of ["ffmpeg", "ffprobe"]) {
      assert.equal(line(report, tool).level, "FAIL");
      assert.match(line(report, tool).fix!, /apt-get install ffmpeg/);
    }
  });
});

Deno.test("doctor without mkvtoolnix: a warning saying what is lost, exit 0", async () => {
  await withMediaHome(undefined, async (home) => {
    const bin = await pathWithout(home.dir, ["mkvmerge", "mkvpropedit"]);
    const { code, report } = await doctor(home, { env: { PATH: bin } });
    assert.equal(code, 0);
    const mkvmerge = line(report, "mkvmerge");
    assert.equal(mkvmerge.level, "warn");
    assert.match(mkvmerge.detail, /^not found on PATH: .* verified by ffprobe's reading alone, /);
    assert.match(mkvmerge.fix!, /apt-get install mkvtoolnix/);
    const mkvpropedit = line(report, "mkvpropedit");
    assert.equal(mkvpropedit.level, "warn");
    assert.match(mkvpropedit.detail, /^not found on PATH: the IETF language tags .* reduced /);
    assert.match(mkvpropedit.fix!, /apt-get install mkvtoolnix/);
  });
});

Deno.test("doctor measures a skewed clock (faketime) against the queue's file system", async () => {
  await withMediaHome(undefined, async (home, media) => {
    await queueClip(home, media);
    const { report } = await doctor(home, { wrap: ["faketime", "-f", "-300s"] });
    assert.ok(Math.abs(report.clock_skew_sec! + 300) < 5, String(report.clock_skew_sec));
    assert.equal(line(report, "clock").level, "warn");
    assert.match(line(report, "clock").detail, /this host is 3\d\d(\.\d)? s behind/);
  });
});

Deno.test("doctor checks jobs.temp_directory: missing, then too small for the largest source", async () => {
  await withMediaHome(undefined, async (home, media) => {
    const big = await makeClip(join(media, "big.mkv"), { duration: 4, size: "640x360" });
    assert.equal((await home.run(["transcode", big])).code, 0);
    const temp = join(home.dir, "scratch");
    await home.writeConfig(`jobs:\n  temp_directory: ${temp}\n`);
    const missing = await doctor(home);
    assert.equal(missing.code, 1);
    assert.equal(line(missing.report, "temp directory").level, "FAIL");
    assert.match(line(missing.report, "temp directory").fix!, /mkdir -p/);

    if (Deno.uid() !== 0) return; // a small file system needs a tmpfs mount
    await Deno.mkdir(temp);
    const size = (await Deno.stat(big)).size;
    // The mount lives in doctor's own mount namespace: nothing to unmount afterwards.
    const kib = Math.max(8, Math.floor(size / 1024 / 2));
    const wrap = [
      "unshare",
      "--mount",
      "--propagation",
      "private",
      "sh",
      "-c",
      `mount -t tmpfs -o size=${kib}k tmpfs "${temp}" && exec "$@"`,
      "sh",
    ];
    const small = await doctor(home, { wrap });
    assert.equal(small.code, 1);
    const space = line(small.report, "temp directory space");
    assert.equal(space.level, "FAIL");
    assert.match(space.detail, /free on tmpfs.*the largest queued source needs/);
  });
});

Deno.test("doctor sees a worker running on this host", async () => {
  await withMediaHome(undefined, async (home, media) => {
    const source = await longClip(join(media, "long.mkv"), { duration: 10, audio: [] });
    const policy = await slowPolicy(home.dir);
    assert.equal((await home.run(["transcode", "--policy", policy, source])).code, 0);
    const worker = WorkerProcess.start(home, ["--cpu-cores", "1"]);
    try {
      await waitUntil("the temp output", () => findPartials(media).length === 1);
      const { report } = await doctor(home);
      assert.match(
        line(report, "workers").detail,
        new RegExp(`worker running on this host \\(pid .*\\b${worker.pid}\\b`),
      );
      assert.match(line(report, "running jobs").detail, /^1 running, none stale/);
    } finally {
      worker.kill("SIGTERM");
      await worker.exit();
      await worker.dispose();
    }
  });
});

Deno.test("doctor --policy tries the encoders of the user's own policies too", async () => {
  await withMediaHome(undefined, async (home) => {
    const vp9 = join(home.dir, "vp9.yaml");
    await Deno.writeTextFile(vp9, "schema_version: 1\ntranscode:\n  target_video_codec: vp9\n");
    const bad = join(home.dir, "bad.yaml");
    await Deno.writeTextFile(bad, "schema_version: 1\ntranscode:\n  target_video_codec: h266\n");
    const out = await home.run(["doctor", "--json", "--policy", vp9, bad]);
    assert.equal(out.code, 1, out.stderr);
    const report = JSON.parse(out.stdout) as Report;
    assert.match(line(report, "encoders for vp9.yaml").detail, /^libvpx-vp9 and aac encode/);
    const failed = line(report, "encoders for bad.yaml");
    assert.equal(failed.level, "FAIL");
    assert.match(failed.detail, /bad\.yaml:3:23: transcode\.target_video_codec: "h266"/);
  });
});
