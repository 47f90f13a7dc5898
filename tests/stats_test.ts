/**
 * `vpo stats`: space saved and time spent from finished job files, per day, codec and folder;
 * the library collector and the CLI as a subprocess.
 */
import assert from "node:assert/strict";
import { TempHome } from "./helpers/vpo.ts";
import { jobRecord, writeJobFile } from "./helpers/queue.ts";
import type { JobState } from "../src/queue/job.ts";
import { QueueLayout } from "../src/queue/layout.ts";
import { StatsCollector, type StatsReport } from "../src/stats/stats.ts";
import { JOB_TYPES } from "../src/cli/job_types.ts";

let n = 0;
/** Writes a finished job finished at `at` (UTC) with the given result. */
async function finished(
  home: TempHome,
  state: JobState,
  file: string,
  at: string,
  result: Record<string, unknown> | null,
  codec = "hevc",
): Promise<void> {
  const id = (++n).toString(16).padStart(8, "0") + "aaaaaaaa";
  const started = new Date(Date.parse(at) - 600_000).toISOString();
  await writeJobFile(
    home.jobsDir,
    state,
    jobRecord(id, { file }, {
      payload: { policy: { targetVideoCodec: codec } },
      started_at: started,
      finished_at: at,
      result,
      error: state === "failed" ? "ffmpeg exited with code 1" : null,
    }),
  );
}

const replaced = (source: number, output: number, wall: number) => ({
  outcome: "replaced",
  source_size: source,
  output_size: output,
  saved_bytes: source - output,
  wall_sec: wall,
});

/** Five jobs over two days, two folders and two codecs. */
async function seed(home: TempHome): Promise<void> {
  await finished(home, "completed", "/v/tv/a.mkv", "2020-03-01T10:00:00Z", replaced(1000, 400, 60));
  await finished(
    home,
    "completed",
    "/v/tv/b.mkv",
    "2020-03-02T10:00:00Z",
    replaced(2000, 500, 120),
  );
  await finished(
    home,
    "completed",
    "/v/films/c.mkv",
    "2020-03-02T11:00:00Z",
    replaced(5000, 1000, 300),
    "av1",
  );
  await finished(home, "completed", "/v/films/d.mkv", "2020-03-02T12:00:00Z", {
    outcome: "kept_original",
    source_size: 100,
    output_size: 150,
    wall_sec: 30,
  });
  // Failed: 600 s from claim to finish, nothing saved.
  await finished(home, "failed", "/v/tv/e.mkv", "2020-03-02T13:00:00Z", null);
}

Deno.test("stats: totals, per day, per codec and per folder from finished job files", async () => {
  await using home = await TempHome.create();
  await seed(home);
  const report = new StatsCollector(new QueueLayout(home.jobsDir), JOB_TYPES).collect();
  const t = report.totals;
  assert.deepEqual(
    [t.jobs, t.replaced, t.kept_original, t.failed, t.source_bytes, t.saved_bytes, t.time_sec],
    [5, 3, 1, 1, 8000, 6100, 60 + 120 + 300 + 30 + 600],
  );
  // Days are local days; TZ is not set here, so compare keys only by their count and order.
  assert.equal(report.per_day.reduce((s, d) => s + d.jobs, 0), 5);
  assert.deepEqual(report.per_codec.map((c) => [c.key, c.saved_bytes]), [
    ["av1", 4000],
    ["hevc", 2100],
  ]);
  assert.deepEqual(report.per_folder.map((f) => [f.key, f.jobs, f.saved_bytes]), [
    ["/v/films", 2, 4000],
    ["/v/tv", 3, 2100],
  ]);
});

Deno.test("stats: the collector re-reads only changed files and sees new ones", async () => {
  await using home = await TempHome.create();
  await seed(home);
  const collector = new StatsCollector(new QueueLayout(home.jobsDir), JOB_TYPES);
  assert.equal(collector.collect().totals.saved_bytes, 6100);
  await finished(home, "completed", "/v/tv/f.mkv", "2020-03-02T14:00:00Z", replaced(900, 800, 10));
  assert.equal(collector.collect().totals.saved_bytes, 6200);
});

Deno.test("vpo stats --json and the table, in UTC; --days cuts by local day", async () => {
  await using home = await TempHome.create();
  await seed(home);
  const env = { TZ: "UTC" };
  const json = await home.run(["stats", "--json"], { env });
  assert.equal(json.code, 0, json.stderr);
  const report: StatsReport = JSON.parse(json.stdout);
  assert.deepEqual(report.per_day.map((d) => [d.key, d.jobs, d.saved_bytes]), [
    ["2020-03-01", 1, 600],
    ["2020-03-02", 4, 5500],
  ]);
  const text = await home.run(["stats"], { env });
  assert.equal(text.code, 0, text.stderr);
  const lines = text.stdout.split("\n");
  assert.equal(lines[0], "Saved 6.0 KiB of 7.8 KiB (76%) by replacing 3 files; 18m30s spent");
  assert.equal(
    lines[1],
    "5 finished jobs: 3 replaced, 1 kept original, 0 skipped, 1 failed, 0 cancelled",
  );
  assert.ok(
    lines.some((l) => /^2020-03-02\s+4\s+2\s+1\s+5\.4 KiB\s+79%\s+17m30s$/.test(l)),
    text.stdout,
  );
  assert.ok(lines.some((l) => /^\/v\/films\s+2\s+1\s+0\s+3\.9 KiB/.test(l)), text.stdout);
  // --days counts back from today, so jobs of 2020 are out of a one-day window unless today.
  const recent = await home.run(["stats", "--days", "1", "--json"], { env });
  assert.equal(JSON.parse(recent.stdout).totals.jobs, 0);
});

Deno.test("vpo stats on an empty queue, and a bad --days", async () => {
  await using home = await TempHome.create();
  const empty = await home.run(["stats"]);
  assert.equal(empty.stdout, "No finished jobs yet\n");
  const bad = await home.run(["stats", "--days", "0"]);
  assert.equal(bad.code, 2);
  assert.equal(
    bad.stderr,
    "vpo: option '--days <n>' argument '0' is invalid. expected a whole number >= 1\n",
  );
});
