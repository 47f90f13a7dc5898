/**
 * The services over the queue know job types only through JobType: a second type, made up here,
 * gets its own row in `vpo stats` and its own lines in `vpo jobs show`, with no change to
 * stats/ or cli/. And transcode's readers: the whole result per outcome, a segment progress that
 * is not one is left out of the payload.
 */
import assert from "node:assert/strict";
import { applyJobType } from "../../src/apply/job_type.ts";
import { formatJobDetail } from "../../src/cli/job_format.ts";
import { defaultPolicy } from "../../src/policy/policy.ts";
import { defaultTrackPolicy } from "../../src/policy/track_policy.ts";
import { JOB_TYPES } from "../../src/cli/job_types.ts";
import type { Job } from "../../src/queue/job.ts";
import { type JobType, JobTypes, type WorkerEnv } from "../../src/queue/job_type.ts";
import { QueueLayout } from "../../src/queue/layout.ts";
import { StatsCollector } from "../../src/stats/stats.ts";
import { readPayload } from "../../src/transcode/payload.ts";
import { readTranscodeJob } from "../../src/transcode/record.ts";
import { readResult } from "../../src/transcode/result.ts";
import { jobRecord, writeJobFile } from "../helpers/queue.ts";

/** A transcode payload as `vpo transcode` writes it. */
const PAYLOAD = {
  policy: { ...defaultPolicy() },
  force: false,
  fingerprint: { size: 1, mtime_ms: 0, ino: null, dev: null },
  duration_sec: 10,
  summary: "h264 -> hevc",
  policy_file: null,
};

/** A job type that rewrites a file's tracks: what it reports, nothing it runs. */
const tracks: JobType = {
  name: "tracks",
  summary: () => "",
  recover: () => Promise.resolve(null),
  madeFiles: () => ({ made: [], left: [] }),
  runner: () => Promise.reject(new Error("not run here")),
  figures: (job) => ({
    group: "tracks",
    outcome: job.result?.outcome === "changed" ? "replaced" : "skipped",
    source_bytes: Number(job.result?.before ?? 0),
    output_bytes: Number(job.result?.after ?? 0),
    wall_sec: 2,
  }),
  spaceNeeded: () => 1,
  details: (job) => [{ label: "Tracks", text: `${job.payload.drop} dropped` }],
};

Deno.test("a second job type counts in vpo stats through its figures alone", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const at = "2020-03-01T10:00:00Z";
    const finished = { started_at: at, finished_at: at };
    await writeJobFile(
      dir,
      "completed",
      jobRecord("aa".repeat(16), { type: "tracks", file: "/v/a.mkv" }, {
        ...finished,
        result: { outcome: "changed", outcome_detail: "2 tracks", before: 1000, after: 700 },
      }),
    );
    await writeJobFile(
      dir,
      "completed",
      jobRecord("bb".repeat(16), { type: "transcode", file: "/v/b.mkv" }, {
        ...finished,
        payload: { policy: { targetVideoCodec: "hevc" } },
        result: { outcome: "replaced", source_size: 500, output_size: 100, wall_sec: 10 },
      }),
    );
    const types = new JobTypes([...JOB_TYPES.all(), tracks]);
    const report = new StatsCollector(new QueueLayout(dir), types).collect();
    const row = (key: string) => report.per_codec.find((b) => b.key === key);
    assert.deepEqual(
      [row("tracks")?.replaced, row("tracks")?.saved_bytes, row("tracks")?.time_sec],
      [1, 300, 2],
    );
    assert.deepEqual([row("hevc")?.replaced, row("hevc")?.saved_bytes], [1, 400]);
    assert.equal(report.totals.saved_bytes, 700);
    // A process that does not know the type counts the job under "other", saving nothing.
    const old = new StatsCollector(new QueueLayout(dir), JOB_TYPES).collect();
    assert.deepEqual([old.per_codec.find((b) => b.key === "other")?.skipped], [1]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("vpo jobs show prints the lines a job's type adds, and a transcode's segments", () => {
  const base = jobRecord("cc".repeat(16), { type: "tracks", file: "/v/c.mkv" }, {
    payload: { drop: 3 },
  });
  const job: Job = { ...base, state: "queued", path: "/q/queued/c.json" };
  const types = new JobTypes([tracks]);
  assert.match(formatJobDetail(job, null, types), /^Tracks {6}3 dropped$/m);
  assert.doesNotMatch(formatJobDetail(job, null, JOB_TYPES), /Tracks/);
  const segmented: Job = {
    ...job,
    type: "transcode",
    payload: {
      segment_progress: {
        done: 1,
        total: 4,
        percent: 25,
        media_done_sec: 300,
        media_total_sec: 1200,
        encode_sec: 600,
        window_sec: null,
      },
    },
  };
  assert.match(
    formatJobDetail(segmented, null, JOB_TYPES),
    /^Segments {4}1\/4 done, 25\.0 % of the media, ETA 30m00s at 0\.50x$/m,
  );
});

Deno.test("readResult checks the whole result of each outcome and names the first bad field", () => {
  const replaced = {
    outcome: "replaced",
    outcome_detail: "1 MiB -> 0.5 MiB",
    output_path: "/v/a.mkv",
    backup_path: "/v/a.mkv.original",
    backup_size: 1048576,
    backup_ino: 42,
  };
  assert.deepEqual(readResult(replaced), replaced);
  assert.equal(readResult(null), null);
  assert.equal(
    readResult({ ...replaced, backup_ino: "42" }),
    `result.backup_ino: expected an integer >= 0, got "42"`,
  );
  assert.equal(
    readResult({ ...replaced, output_path: undefined }),
    "result.output_path: expected a string, got nothing",
  );
  // A field an older vpo did not write yet reads the same way, whichever reader checks it.
  const { backup_ino: _, ...beforeBackupIno } = replaced;
  assert.equal(
    readResult(beforeBackupIno),
    "result.backup_ino: expected an integer >= 0, got nothing",
  );
  assert.match(String(readResult({ outcome: "gone" })), /^result\.outcome: expected one of/);
  const kept = {
    outcome: "kept_original",
    outcome_detail: "kept",
    source_size: 10,
    output_size: 12,
    encoder: "libx265",
    wall_sec: 1.5,
    notes: ["dropped a data stream"],
  };
  assert.deepEqual(readResult(kept), kept);
  assert.equal(readResult({ ...kept, notes: [1] }), "result.notes[0]: expected a string, got 1");
  const job = jobRecord("dd".repeat(16), { type: "transcode" }, {
    payload: PAYLOAD,
    result: { ...kept, wall_sec: "x" },
  });
  assert.equal(
    readTranscodeJob({ ...job, state: "completed", path: "/q" }),
    `result.wall_sec: expected a number >= 0, got "x"`,
  );
});

Deno.test("a payload's segment progress that is not one is left out, the rest is read", () => {
  const read = (extra: Record<string, unknown>) => readPayload({ ...PAYLOAD, ...extra });
  const withJunk = read({ segment_progress: { done: "7" } });
  if (typeof withJunk === "string") assert.fail(withJunk);
  assert.equal(withJunk.segment_progress, undefined);
  const progress = {
    done: 1,
    total: 2,
    percent: 50,
    media_done_sec: 5,
    media_total_sec: 10,
    encode_sec: 5,
    window_sec: 3600,
  };
  const withProgress = read({ segment_progress: progress });
  if (typeof withProgress === "string") assert.fail(withProgress);
  assert.deepEqual(withProgress.segment_progress, progress);
});

Deno.test("an apply job asks the worker for time and room by its source's size", async () => {
  const payload = {
    tracks: defaultTrackPolicy(),
    policy: null,
    fingerprint: { size: 5e9, mtime_ms: 0, ino: null, dev: null },
    duration_sec: 5400,
    summary: "tracks: audio 3 -> 2",
    policy_file: null,
  };
  const record = jobRecord("ab".repeat(16), { type: "apply", file: "/v/film.mkv" });
  const job: Job = { ...record, payload, state: "queued", path: "/q/queued/x.json" };
  // A 5 GB film is copied whole beside the source, at the 25 MB/s a NAS is assumed to manage.
  assert.equal(applyJobType.spaceNeeded(job), 5e9);
  const runner = await applyJobType.runner({} as WorkerEnv);
  assert.equal(runner.estimateSec(job), 200);
  // A job file vpo cannot read has no estimate: the worker decides without one.
  const broken: Job = { ...job, payload: { ...payload, fingerprint: "?" } };
  assert.equal(runner.estimateSec(broken), null);
  assert.equal(applyJobType.spaceNeeded(broken), null);
});
