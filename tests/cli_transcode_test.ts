/**
 * Bad input to `vpo transcode` and `vpo jobs start`, as a user types it: one `vpo: ` line on
 * stderr naming the culprit, exit 2 for a bad command line, 1 for anything else, nothing queued.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type BadInput, TempHome } from "./helpers/vpo.ts";
import { pool } from "./helpers/queue.ts";

const BAD_POLICY = "schema_version: 1\ntranscode:\n  target_video_codec: hevc\n  target_crff: 20\n";

/** `$DIR` in args and messages stands for the home's temp directory. */
const BAD_INPUTS: BadInput[] = [
  {
    name: "transcode without a path",
    args: ["transcode"],
    code: 2,
    stderr: "vpo: missing required argument 'paths'",
  },
  {
    name: "a policy file that does not exist",
    args: ["transcode", "--policy", "$DIR/none.yaml", "$DIR"],
    code: 1,
    stderr: "vpo: policy file not found: $DIR/none.yaml",
  },
  {
    name: "a policy with a misspelt key: file, line, column, suggestion",
    args: ["transcode", "--policy", "$DIR/bad.yaml", "$DIR"],
    code: 1,
    stderr:
      'vpo: $DIR/bad.yaml:4:3: transcode.target_crff: unknown key (did you mean "target_crf"?)',
  },
  {
    name: "--crf out of the codec's range",
    args: ["transcode", "--codec", "hevc", "--crf", "70", "$DIR"],
    code: 2,
    stderr: "vpo: --crf: 70 is out of range for hevc (0-51)",
  },
  {
    name: "--codec misspelt",
    args: ["transcode", "--codec", "x266", "$DIR"],
    code: 2,
    stderr: 'vpo: --codec: "x266" is not a video codec (did you mean "x265"?)',
  },
  {
    name: "--max-resolution without its unit",
    args: ["transcode", "--max-resolution", "1080", "$DIR"],
    code: 2,
    stderr: 'vpo: --max-resolution: "1080" is not a resolution (did you mean "1080p"?)',
  },
  {
    name: "negative --crf",
    args: ["transcode", "--crf", "-3", "$DIR"],
    code: 2,
    stderr: "vpo: option '--crf <n>' argument '-3' is invalid. expected a whole number >= 0",
  },
  {
    name: "--end-by that is not a time",
    args: ["jobs", "start", "--end-by", "25:00"],
    code: 2,
    stderr: 'vpo: --end-by: "25:00" is not a time of day (expected "HH:MM" from 00:00 to 23:59)',
  },
  {
    name: "--cpu-cores 0",
    args: ["jobs", "start", "--cpu-cores", "0"],
    code: 2,
    stderr:
      "vpo: option '--cpu-cores <n>' argument '0' is invalid. expected a whole number from 1 to 4096",
  },
  {
    name: "--max-duration that is not a number",
    args: ["jobs", "start", "--max-duration", "abc"],
    code: 2,
    stderr:
      "vpo: option '--max-duration <seconds>' argument 'abc' is invalid. expected a whole number from 1 to 31622400",
  },
  {
    name: "a temp_directory that does not exist",
    args: ["jobs", "start"],
    config: "jobs:\n  temp_directory: /nonexistent/vpo-tmp\n",
    code: 1,
    stderr: "vpo: jobs.temp_directory /nonexistent/vpo-tmp is not an existing directory",
  },
];

/** Jobs in queued/ (a usage error never creates the queue: zero). */
function queuedCount(home: TempHome): number {
  try {
    return [...Deno.readDirSync(join(home.jobsDir, "queued"))].length;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return 0;
    throw err;
  }
}

Deno.test("bad transcode and start input: one `vpo: ` line, exit 2 or 1, nothing queued", async (t) => {
  const results = await pool(BAD_INPUTS.map((c) => async () => {
    const home = await TempHome.create(c.config);
    try {
      await Deno.writeTextFile(join(home.dir, "bad.yaml"), BAD_POLICY);
      const result = await home.run(c.args.map((a) => a.replace("$DIR", home.dir)));
      return { result, dir: home.dir, queued: queuedCount(home) };
    } finally {
      await home.cleanup();
    }
  }));
  for (const [i, c] of BAD_INPUTS.entries()) {
    await t.step(c.name, () => {
      const run = results[i];
      assert.equal(run.result.stderr, `${c.stderr.replaceAll("$DIR", run.dir)}\n`);
      assert.equal(run.result.code, c.code);
      assert.equal(run.queued, 0);
    });
  }
});

Deno.test("transcode: a path that does not exist is an error line and exit 1, others go on", async () => {
  const home = await TempHome.create();
  try {
    const text = join(home.dir, "notes.txt");
    await Deno.writeTextFile(text, "not a video");
    const missing = join(home.dir, "nope.mkv");
    const result = await home.run(["transcode", missing, text]);
    assert.equal(result.stderr, "");
    assert.equal(result.code, 1);
    assert.deepEqual(result.stdout.trimEnd().split("\n"), [
      `error                ${missing}: no such file or directory`,
      `skipped              ${text}: not a video`,
      "0 queued, 0 remembered, 1 skipped (1 not a video), 0 still being written, 0 unreadable, " +
      "1 error",
    ]);
  } finally {
    await home.cleanup();
  }
});
