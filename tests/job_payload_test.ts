/**
 * A job's payload is input someone may have edited: it is checked again when the job runs, its
 * policy snapshot key by key with the policy file's own messages, naming the job file and key.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { defaultPolicy } from "../src/policy/policy.ts";
import { readPayload } from "../src/transcode/payload.ts";
import { makeClip } from "./helpers/clips.ts";
import { onlyJob, withMediaHome } from "./helpers/worker.ts";
import type { RunResult, TempHome } from "./helpers/vpo.ts";

const fingerprint = { size: 10, mtime_ms: 1, ino: 2, dev: 3 };
const payloadWith = (policy: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  policy,
  policy_file: null,
  force: false,
  fingerprint,
  duration_sec: 3,
  summary: "h264 -> hevc",
  ...extra,
});

Deno.test("a valid payload reads back as it was written", () => {
  const payload = payloadWith({ ...defaultPolicy() });
  assert.deepEqual(readPayload(payload), payload);
});

const BAD: [string, Record<string, unknown>, string][] = [
  ["an empty policy", payloadWith({}), "J: payload.policy.schemaVersion: missing"],
  [
    "a codec that is not one",
    payloadWith({ ...defaultPolicy(), targetVideoCodec: "h266" }),
    `J: payload.policy.targetVideoCodec: "h266" is not a video codec (did you mean "h264"?)`,
  ],
  [
    "a CRF out of its codec's range",
    payloadWith({ ...defaultPolicy(), targetCrf: 70 }),
    "J: payload.policy.targetCrf: 70 is out of range for hevc (0-51)",
  ],
  [
    "a list item of the wrong type",
    payloadWith({ ...defaultPolicy(), audioPreserveCodecs: ["aac", true] }),
    "J: payload.policy.audioPreserveCodecs[1]: expected a codec name, got true",
  ],
  [
    "a misspelt key",
    payloadWith({ ...defaultPolicy(), keepLargerOuput: true }),
    `J: payload.policy.keepLargerOuput: unknown key (did you mean "keepLargerOutput"?)`,
  ],
  [
    "a nested skip_if value",
    payloadWith({ ...defaultPolicy(), skipIf: { ...defaultPolicy().skipIf, dolbyVision: "yes" } }),
    `J: payload.policy.skipIf.dolbyVision: expected true or false, got "yes"`,
  ],
  [
    "an odd max width",
    payloadWith({ ...defaultPolicy(), maxWidth: 1919 }),
    "J: payload.policy.maxWidth: expected an even integer >= 16, got 1919",
  ],
  [
    "no fingerprint",
    payloadWith({ ...defaultPolicy() }, { fingerprint: null }),
    "J: payload.fingerprint: missing or not an object",
  ],
  [
    "a negative duration",
    payloadWith({ ...defaultPolicy() }, { duration_sec: -1 }),
    "J: payload.duration_sec: expected a number of seconds, got -1",
  ],
];

for (const [name, payload, message] of BAD) {
  Deno.test(`bad payload: ${name}`, () => {
    assert.equal(readPayload(payload, "J: payload"), message);
  });
}

/**
 * Queues a clip, edits its queued job file with `edit` (given the record and the clip's path),
 * and runs a worker over it.
 */
async function runEditedJob(
  home: TempHome,
  media: string,
  edit: (record: Record<string, Record<string, unknown>>, source: string) => void,
): Promise<RunResult> {
  const source = await makeClip(join(media, "clip.mkv"));
  assert.equal((await home.run(["transcode", source])).code, 0);
  const queued = await onlyJob(home);
  const record = JSON.parse(await Deno.readTextFile(queued.path));
  edit(record, source);
  await Deno.writeTextFile(queued.path, JSON.stringify(record));
  return await home.run(["jobs", "start"]);
}

Deno.test("a job whose policy snapshot was edited to {} fails naming the file and key", async () => {
  await withMediaHome(undefined, async (home, media) => {
    const run = await runEditedJob(home, media, (record) => record.payload.policy = {});
    assert.equal(run.code, 3, run.stdout + run.stderr);
    const job = await onlyJob(home);
    assert.equal(job.status, "failed");
    const running = join(home.jobsDir, "running", `${job.id}.`);
    assert.ok(
      job.error?.startsWith(`bad job file ${running}`) &&
        job.error.includes(".json: payload.policy.schemaVersion: missing"),
      job.error ?? "",
    );
  });
});

Deno.test("a job put back in queued/ by hand with an older run's result runs: a run reads no result", async () => {
  await withMediaHome(undefined, async (home, media) => {
    const run = await runEditedJob(home, media, (record, source) => {
      // `mv completed/<id>.json queued/` of a job an older vpo finished: no backup_ino yet.
      record.result = {
        outcome: "replaced",
        outcome_detail: "replaced by an older vpo",
        output_path: source,
        backup_path: null,
        backup_size: null,
      };
    });
    assert.equal(run.code, 0, run.stdout + run.stderr);
    const job = await onlyJob(home);
    assert.equal(job.status, "completed", job.error ?? "");
    assert.equal(job.result?.outcome, "replaced");
    assert.equal(typeof job.result?.backup_ino, "number");
  });
});

Deno.test("a source_probe an older vpo wrote is ignored, even a malformed one (the worker probes)", () => {
  for (const probe of ["junk", { streams: "junk", format: 7 }, null]) {
    const read = readPayload(payloadWith({ ...defaultPolicy() }, { source_probe: probe }), "J");
    assert.notEqual(typeof read, "string", String(read));
  }
});
