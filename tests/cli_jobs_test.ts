/**
 * `vpo jobs ...` as a user runs it: a real subprocess on a temporary VPO_HOME, its stdout held to
 * the guide's formats byte for byte, its errors to one `vpo: ` line and an exit code.
 */
import assert from "node:assert/strict";
import { hostname } from "node:os";
import { basename, join } from "node:path";
import stringWidth from "string-width";
import { type BadInput, type RunResult, TempHome } from "./helpers/vpo.ts";
import { census, jobRecord, pool, sleep, writeJobFile } from "./helpers/queue.ts";
import { JobQueue } from "../src/queue/store.ts";
import type { JobState } from "../src/queue/job.ts";
import { newJobId } from "../src/util/ids.ts";
import { tempOutputPath } from "../src/replace/temp_files.ts";

/** Runs vpo in UTC, so that CREATED (local time) is the same on every machine. */
const vpo = (home: TempHome, ...args: string[]): Promise<RunResult> =>
  home.run(args, { env: { TZ: "UTC" } });

/** Asserts a clean success and returns stdout. */
function ok(result: RunResult): string {
  assert.equal(result.stderr, "", "no stderr on success");
  assert.equal(result.code, 0);
  return result.stdout;
}

/** Asserts a failure with `code` and exactly the one stderr line `line`, and nothing on stdout. */
function fails(result: RunResult, code: number, line: string): void {
  assert.equal(result.stderr, `${line}\n`);
  assert.equal(result.code, code);
  assert.equal(result.stdout, "");
}

/** A home whose queue already exists, for setting up jobs through the library. */
async function homeWithQueue(config?: string): Promise<{ home: TempHome; queue: JobQueue }> {
  const home = await TempHome.create(config);
  return { home, queue: await JobQueue.open(home.jobsDir) };
}

/** The guide's `f"{id:<10} {status:<12} {type:<10} {file:<42} {prog:<6} {created}"`. */
const guideRow = (cells: string[]) =>
  [10, 12, 10, 42, 6].map((w, i) => cells[i].padEnd(w)).join(" ") + " " + cells[5];

const HEADER = guideRow(["ID", "STATUS", "TYPE", "FILE", "PROG", "CREATED"]);
const RULE = "-".repeat(95);
/** Where FILE starts (ID, STATUS and TYPE are ASCII), where it ends in display columns, and
 * the length of the ASCII tail " PROG   YYYY-MM-DD HH:MM" after it. */
const BEFORE_FILE = 10 + 1 + 12 + 1 + 10 + 1;
const THROUGH_FILE = BEFORE_FILE + 42;
const TAIL = 1 + 6 + 1 + 16;

/** Lines of stdout without the final newline. */
const lines = (stdout: string) => stdout.replace(/\n$/, "").split("\n");

/** The FILE cells of a `jobs list` table, without their padding. */
const fileCells = (stdout: string) =>
  lines(stdout).slice(2).map((row) => row.slice(BEFORE_FILE, row.length - TAIL).trimEnd());

/** A hex id that starts with `prefix` (the guide's ids are 8 characters, the queue's 32). */
const idWith = (prefix: string) => prefix + newJobId().slice(prefix.length);

Deno.test("jobs list and jobs status print the guide's formats exactly", async () => {
  const { home, queue } = await homeWithQueue();
  try {
    // The guide's own example: a running job at 45% and a queued one (its "e5f6g7h8" is not hex,
    // so the second id differs from the guide there).
    await writeJobFile(
      home.jobsDir,
      "queued",
      jobRecord(idWith("a1b2c3d4"), {
        file: "/videos/Movie.Name.2023.mkv",
        createdAt: "2024-01-15T10:30:00Z",
      }),
    );
    const running = (await queue.claim())!;
    await running.updateLive({
      progress: { percent: 45.7, fps: 30, speed: 1.2, eta_sec: 600, out_time_sec: 60 },
    });
    await writeJobFile(
      home.jobsDir,
      "queued",
      jobRecord(idWith("e5f6a7b8"), {
        file: "/videos/Another.Movie.mkv",
        createdAt: "2024-01-15T10:31:00Z",
      }),
    );
    assert.equal(
      ok(await vpo(home, "jobs", "list")),
      [
        "ID         STATUS       TYPE       FILE                                       PROG   CREATED",
        "-----------------------------------------------------------------------------------------------",
        "a1b2c3d4   running      transcode  Movie.Name.2023.mkv                        45%    2024-01-15 10:30",
        "e5f6a7b8   queued       transcode  Another.Movie.mkv                          -      2024-01-15 10:31",
      ].join("\n") + "\n",
    );

    // Finished jobs follow, newest first, each PROG as the state implies.
    const finished: [JobState, string, number | null, string][] = [
      ["completed", "Done.mkv", null, "100%"],
      ["failed", "Broken.mkv", 30.9, "30%"],
      ["cancelled", "Dropped.mkv", null, "-"],
    ];
    const expected: string[] = [];
    const paths: string[] = [];
    for (const [i, [state, file, progress, prog]] of finished.entries()) {
      const id = idWith(`0${i}0${i}0${i}0${i}`);
      const path = await writeJobFile(
        home.jobsDir,
        state,
        jobRecord(id, { file: `/videos/${file}`, createdAt: `2024-02-0${i + 1}T0${i}:05:00Z` }, {
          progress,
        }),
      );
      const finishedAt = new Date(Date.UTC(2024, 2, 10 - i));
      await Deno.utime(path, finishedAt, finishedAt);
      paths.push(path);
      expected.push(
        guideRow([id.slice(0, 8), state, "transcode", file, prog, `2024-02-0${i + 1} 0${i}:05`]),
      );
    }
    assert.deepEqual(lines(ok(await vpo(home, "jobs", "list"))).slice(4), expected);

    // The guide's status example: 12 queued, 1 running, 45 completed, 2 failed, 0 cancelled.
    await Deno.remove(paths[2]); // the cancelled one
    const more: [JobState, number][] = [["queued", 11], ["completed", 44], ["failed", 1]];
    for (const [state, n] of more) {
      for (let i = 0; i < n; i++) await writeJobFile(home.jobsDir, state, jobRecord(newJobId()));
    }
    assert.equal(
      ok(await vpo(home, "jobs", "status")),
      [
        "Job Queue Status",
        "------------------------------",
        "  Queued:       12",
        "  Running:       1",
        "  Completed:    45",
        "  Failed:        2",
        "  Cancelled:     0",
        "------------------------------",
        "  Total:        60",
      ].join("\n") + "\n",
    );
    assert.deepEqual(JSON.parse(ok(await vpo(home, "jobs", "status", "--json"))), {
      queued: 12,
      running: 1,
      completed: 45,
      failed: 2,
      cancelled: 0,
      total: 60,
    });
    const listed = JSON.parse(ok(await vpo(home, "jobs", "list", "--json")));
    assert.equal(listed.length, 60);
    assert.equal(listed[0].id, running.id);
    assert.equal(listed[0].status, "running");
    assert.equal(listed[0].live.progress.percent, 45.7);
    const shown = JSON.parse(ok(await vpo(home, "jobs", "show", running.id.slice(0, 8), "--json")));
    assert.equal(shown.id, running.id);
    assert.equal(shown.path, running.path);
  } finally {
    await home.cleanup();
  }
});

Deno.test("long names are cut with an ellipsis and wide names keep the columns aligned", async () => {
  const { home, queue } = await homeWithQueue();
  try {
    const longAscii = "The.Extraordinarily.Long.Title.Of.A.Film.2023.2160p.UHD.BluRay.mkv";
    const longCjk = "東京物語".repeat(6) + ".mkv";
    const boundary = "a" + "字".repeat(21); // the cut falls in the middle of a wide character
    const names = [
      "Movie.Name.2023.mkv",
      longAscii,
      "千と千尋の神隠し.mkv",
      longCjk,
      "👨‍👩‍👧 family.mkv",
      "🇯🇵 trip 🎬.mkv",
      "Ame\u0301lie.mkv",
      boundary,
    ];
    for (const [i, name] of names.entries()) {
      await queue.enqueue({ type: "transcode", file: `/videos/${name}`, priority: i });
    }
    const stdout = ok(await vpo(home, "jobs", "list"));
    const rows = lines(stdout);
    assert.equal(rows[0], HEADER);
    assert.equal(rows[1], RULE);
    for (const row of rows.slice(2)) {
      assert.equal(stringWidth(row.slice(0, row.length - TAIL)), THROUGH_FILE, row);
      assert.match(row.slice(-TAIL), /^ - {6}\d{4}-\d\d-\d\d \d\d:\d\d$/, row);
    }
    assert.deepEqual(fileCells(stdout), [
      "Movie.Name.2023.mkv",
      longAscii.slice(0, 41) + "…",
      "千と千尋の神隠し.mkv",
      "東京物語".repeat(5) + "…",
      "👨‍👩‍👧 family.mkv",
      "🇯🇵 trip 🎬.mkv",
      "Ame\u0301lie.mkv",
      "a" + "字".repeat(20) + "…",
    ]);
  } finally {
    await home.cleanup();
  }
});

Deno.test("jobs list --status and --limit filter, and an empty selection prints the header", async () => {
  const { home } = await homeWithQueue();
  try {
    const add = (state: JobState, file: string, minute: number) =>
      writeJobFile(
        home.jobsDir,
        state,
        jobRecord(newJobId(), { file: `/v/${file}`, createdAt: `2024-03-01T10:0${minute}:00Z` }),
      );
    await add("queued", "q1.mkv", 1);
    await add("queued", "q2.mkv", 2);
    await add("queued", "q3.mkv", 3);
    await add("failed", "f1.mkv", 4);
    await add("completed", "c1.mkv", 5);
    const cases: [string[], string[]][] = [
      [["--status", "queued"], ["q1.mkv", "q2.mkv", "q3.mkv"]],
      [["--status", "failed"], ["f1.mkv"]],
      [["--limit", "2"], ["q1.mkv", "q2.mkv"]],
      [["--status", "queued", "--limit", "1"], ["q1.mkv"]],
      [["--status", "cancelled"], []],
      [["--status", "running", "--limit", "5"], []],
    ];
    for (const [args, files] of cases) {
      const stdout = ok(await vpo(home, "jobs", "list", ...args));
      assert.deepEqual(lines(stdout).slice(0, 2), [HEADER, RULE], args.join(" "));
      assert.deepEqual(fileCells(stdout), files, args.join(" "));
    }
    const json = JSON.parse(ok(await vpo(home, "jobs", "list", "--status", "queued", "--json")));
    assert.deepEqual(json.map((j: { file: string }) => j.file), [
      "/v/q1.mkv",
      "/v/q2.mkv",
      "/v/q3.mkv",
    ]);
  } finally {
    await home.cleanup();
  }
});

Deno.test("jobs show prints the whole error, every line of it", async () => {
  const { home } = await homeWithQueue();
  try {
    const tail = Array.from({ length: 30 }, (_, i) => `[log ${i}] ` + "x".repeat(150));
    const error = ["ffmpeg exited with code 1: Conversion failed!", ...tail].join("\n");
    const id = idWith("f00dcafe");
    await writeJobFile(
      home.jobsDir,
      "failed",
      jobRecord(id, { file: "/v/bad.mkv" }, { error, attempts: 2 }),
    );
    const stdout = ok(await vpo(home, "jobs", "show", "f00dcafe"));
    const shown = lines(stdout);
    assert.ok(shown.includes(`ID          ${id}`), stdout);
    assert.ok(shown.includes("Status      failed"), stdout);
    assert.ok(shown.includes("Attempts    2"), stdout);
    const at = shown.indexOf("Error:");
    assert.ok(at > 0, stdout);
    assert.deepEqual(shown.slice(at + 1, at + 1 + 31), error.split("\n").map((l) => `  ${l}`));
    const json = JSON.parse(ok(await vpo(home, "jobs", "show", id, "--json")));
    assert.equal(json.error, error);
    assert.equal(json.status, "failed");
  } finally {
    await home.cleanup();
  }
});

Deno.test("cancel, retry and ambiguous prefixes", async () => {
  const { home, queue } = await homeWithQueue();
  try {
    const a = await queue.enqueue({ type: "transcode", file: "/v/a.mkv", priority: 1 });
    const b = await queue.enqueue({ type: "transcode", file: "/v/b.mkv", priority: 2 });
    const running = (await queue.claim())!;
    assert.equal(running.id, a.id);
    const [a8, b8] = [a.id.slice(0, 8), b.id.slice(0, 8)];

    assert.equal(ok(await vpo(home, "jobs", "cancel", b8)), `Cancelled job ${b8}\n`);
    assert.equal(queue.find(b.id).state, "cancelled");
    fails(
      await vpo(home, "jobs", "cancel", a8),
      1,
      `vpo: job ${a8} is running; only queued jobs can be cancelled (use --running to stop it)`,
    );
    assert.equal(await running.cancelRequested(), false);
    assert.equal(
      ok(await vpo(home, "jobs", "cancel", a8, "--running")),
      `Stop requested for running job ${a8}; its worker ends it within seconds\n`,
    );
    assert.equal(await running.cancelRequested(), true);
    assert.equal(queue.find(a.id).state, "running", "the worker, not the CLI, ends the job");

    assert.equal(ok(await vpo(home, "jobs", "retry", b.id)), `Queued job ${b8} again\n`);
    const retried = queue.find(b.id);
    assert.equal(retried.state, "queued");
    assert.deepEqual(retried.history.map((h) => h.event), ["queued", "cancelled", "retried"]);
    fails(
      await vpo(home, "jobs", "retry", b8),
      1,
      `vpo: job ${b8} is queued; only failed or cancelled jobs can be retried`,
    );

    const twins = ["abcd1234" + "0".repeat(24), "abcd1234" + "9".repeat(24)];
    await writeJobFile(home.jobsDir, "queued", jobRecord(twins[0]));
    await writeJobFile(home.jobsDir, "failed", jobRecord(twins[1]));
    const ambiguous =
      `vpo: job id "abcd1234" is ambiguous: abcd12340000 (queued), abcd12349999 (failed)`;
    for (const command of ["show", "cancel", "retry"]) {
      fails(await vpo(home, "jobs", command, "abcd1234"), 1, ambiguous);
    }
    assert.equal(JSON.parse(ok(await vpo(home, "jobs", "show", twins[1], "--json"))).id, twins[1]);
  } finally {
    await home.cleanup();
  }
});

Deno.test("jobs clear refuses without a terminal unless --force, and removes only finished jobs", async () => {
  const { home } = await homeWithQueue();
  try {
    for (const state of ["completed", "completed", "failed", "queued"] as const) {
      await writeJobFile(home.jobsDir, state, jobRecord(newJobId()));
    }
    const before = census(home.jobsDir);
    fails(
      await vpo(home, "jobs", "clear"),
      1,
      "vpo: Remove 2 completed jobs: refusing without a terminal to confirm (use --force)",
    );
    assert.deepEqual(census(home.jobsDir), before, "nothing removed");
    assert.equal(ok(await vpo(home, "jobs", "clear", "--force")), "Removed 2 completed jobs\n");
    assert.equal(ok(await vpo(home, "jobs", "clear", "--force")), "No completed jobs to clear\n");
    assert.equal(
      ok(await vpo(home, "jobs", "clear", "--status", "all", "--force")),
      "Removed 1 finished job\n",
    );
    assert.deepEqual(census(home.jobsDir).map((c) => c.split(":")[0]), ["queued"]);
  } finally {
    await home.cleanup();
  }
});

Deno.test("jobs recover requeues only jobs whose heartbeat is older than stale_after", async () => {
  const { home, queue } = await homeWithQueue(
    "worker:\n  heartbeat_interval: 0.3\n  stale_after: 1\n",
  );
  let beat: ReturnType<typeof setInterval> | undefined;
  try {
    await queue.enqueue({ type: "transcode", file: "/v/dead.mkv", priority: 1 });
    await queue.enqueue({ type: "transcode", file: "/v/alive.mkv", priority: 2 });
    const dead = (await queue.claim())!;
    const alive = (await queue.claim())!;
    // The live job keeps beating however slowly the CLI starts, so only the dead one is stale.
    beat = setInterval(() => alive.heartbeat().catch(() => {}), 200);
    await sleep(2100);
    const stdout = ok(await vpo(home, "jobs", "recover"));
    const pattern = `^Recovered job ${dead.id.slice(0, 8)} -> queued \\(heartbeat \\d+ s old ` +
      `\\(worker ${hostname()}:${Deno.pid}\\)\\)\n1 stale job recovered\n$`;
    assert.match(stdout, new RegExp(pattern));
    assert.deepEqual(
      census(home.jobsDir),
      [`queued:${dead.id}`, `running:${alive.id}`].sort(),
    );
    assert.equal(queue.find(dead.id).attempts, 1);
    assert.equal(ok(await vpo(home, "jobs", "recover")), "0 stale jobs recovered\n");
  } finally {
    clearInterval(beat);
    await home.cleanup();
  }
});

Deno.test("jobs cleanup removes old jobs, owned backups and orphaned temp files, nothing else", async () => {
  const { home, queue } = await homeWithQueue();
  try {
    const media = join(home.dir, "media");
    await Deno.mkdir(media);
    const put = async (name: string, text = "bytes") => {
      await Deno.writeTextFile(join(media, name), text);
      return join(media, name);
    };
    await queue.enqueue({ type: "transcode", file: join(media, "movie.mkv"), priority: 1 });
    await queue.enqueue({ type: "transcode", file: join(media, "show.mkv"), priority: 2 });
    await queue.enqueue({ type: "transcode", file: join(media, "recent.mkv"), priority: 3 });
    const tenDaysAgo = new Date(Date.now() - 10 * 86_400_000);
    const backup = await put("movie.mkv.original", "original bytes");
    const old = (await queue.claim())!;
    const oldDone = await old.finish("completed", {
      finished_at: tenDaysAgo.toISOString(),
      result: {
        outcome: "replaced",
        outcome_detail: "replaced",
        output_path: join(media, "movie.mkv"),
        backup_path: backup,
        backup_size: 14,
        backup_ino: Deno.statSync(backup).ino,
      },
    }, "completed");
    await Deno.utime(oldDone.path, tenDaysAgo, tenDaysAgo);
    const running = (await queue.claim())!;
    const recent = (await queue.claim())!;
    await recent.finish("completed", { finished_at: new Date().toISOString() }, "completed");

    const tempOf = (job: { id: string; token: string }, source: string) =>
      basename(tempOutputPath(job, join(media, source), null));
    const orphan = await put(tempOf(old, "movie.mkv"), "half");
    // Files cleanup must never touch: the running job's temp output, and the user's own files.
    const keep = [
      await put("movie.mkv"),
      await put("show.mkv"),
      await put(tempOf(running, "show.mkv")),
      await put("other.mkv.original"),
      await put("movie.mkv.partial"),
      await put(".vpo-notes.partial"),
      await put(`.vpo-${old.id}.movie.mkv.partial`),
    ];
    const everything = [...keep, backup, orphan];
    const allThere = async (paths: string[]) => {
      for (const p of paths) await Deno.stat(p);
    };

    const dry = ok(await vpo(home, "jobs", "cleanup", "--dry-run", "--older-than", "7"));
    assert.equal(
      dry,
      `would remove job ${old.id.slice(0, 8)} (completed) ${join(media, "movie.mkv")}\n` +
        "Dry run: 1 job finished over 7 days ago, 0 backups (0 B), 0 temp files (0 B)\n",
    );
    const all = ["--older-than", "7", "--include-backups", "--remove-temp"];
    assert.equal(
      ok(await vpo(home, "jobs", "cleanup", "--dry-run", ...all)),
      `would remove job ${old.id.slice(0, 8)} (completed) ${join(media, "movie.mkv")}\n` +
        `would remove backup ${backup}\n` +
        `would remove temp file ${orphan}\n` +
        "Dry run: 1 job finished over 7 days ago, 1 backup (14 B), 1 temp file (4 B)\n",
    );
    assert.equal(
      ok(await vpo(home, "jobs", "cleanup", "--dry-run")),
      "Dry run: 0 jobs finished over 30 days ago, 0 backups (0 B), 0 temp files (0 B)\n",
    );
    fails(
      await vpo(home, "jobs", "cleanup", ...all),
      1,
      "vpo: Remove 1 job finished over 7 days ago, 1 backup (14 B), 1 temp file (4 B): " +
        "refusing without a terminal to confirm (use --force)",
    );
    await allThere(everything);
    assert.equal(census(home.jobsDir).length, 3);

    assert.equal(
      ok(await vpo(home, "jobs", "cleanup", ...all, "--force")),
      "Removed 1 job, 1 backup, 1 temp file\n",
    );
    await allThere(keep);
    for (const gone of [backup, orphan]) {
      await assert.rejects(Deno.stat(gone), Deno.errors.NotFound, gone);
    }
    assert.deepEqual(
      census(home.jobsDir),
      [`completed:${recent.id}`, `running:${running.id}`].sort(),
    );
    assert.equal(ok(await vpo(home, "jobs", "cleanup", "--force")), "Nothing to clean up\n");
  } finally {
    await home.cleanup();
  }
});

/** `$CONFIG` in a message stands for the path of the home's config.yaml. */
const BAD_INPUTS: BadInput[] = [
  {
    name: "unknown command, with a suggestion",
    args: ["jobs", "lst"],
    code: 2,
    stderr: "vpo: unknown command 'lst' (Did you mean list?)",
  },
  {
    name: "unknown top-level command, with a suggestion",
    args: ["job", "list"],
    code: 2,
    stderr: "vpo: unknown command 'job' (Did you mean jobs?)",
  },
  {
    name: "unknown option",
    args: ["jobs", "list", "--bogus"],
    code: 2,
    stderr: "vpo: unknown option '--bogus'",
  },
  {
    name: "misspelt option, with a suggestion",
    args: ["jobs", "list", "--limt", "3"],
    code: 2,
    stderr: "vpo: unknown option '--limt' (Did you mean --limit?)",
  },
  {
    name: "bad --status",
    args: ["jobs", "list", "--status", "done"],
    code: 2,
    stderr: "vpo: option '--status <status>' argument 'done' is invalid. " +
      "Allowed choices are queued, running, completed, failed, cancelled.",
  },
  {
    name: "--limit 0",
    args: ["jobs", "list", "--limit", "0"],
    code: 2,
    stderr: "vpo: option '--limit <n>' argument '0' is invalid. expected a whole number >= 1",
  },
  {
    name: "--limit abc",
    args: ["jobs", "list", "--limit", "abc"],
    code: 2,
    stderr: "vpo: option '--limit <n>' argument 'abc' is invalid. expected a whole number >= 1",
  },
  {
    name: "negative --older-than",
    args: ["jobs", "cleanup", "--older-than", "-1"],
    code: 2,
    stderr:
      "vpo: option '--older-than <days>' argument '-1' is invalid. expected a number from 0 to 36500",
  },
  {
    name: "bad clear --status",
    args: ["jobs", "clear", "--status", "queued"],
    code: 2,
    stderr: "vpo: option '--status <status>' argument 'queued' is invalid. " +
      "Allowed choices are completed, failed, cancelled, all.",
  },
  {
    name: "missing job id",
    args: ["jobs", "show"],
    code: 2,
    stderr: "vpo: missing required argument 'id'",
  },
  {
    name: "job id that is not hex",
    args: ["jobs", "show", "xyz!"],
    code: 2,
    stderr: `vpo: invalid job id "xyz!": use at least 4 hex characters`,
  },
  {
    name: "job id too short",
    args: ["jobs", "cancel", "abc"],
    code: 2,
    stderr: `vpo: invalid job id "abc": use at least 4 hex characters`,
  },
  {
    name: "unknown job id",
    args: ["jobs", "show", "0123abcd"],
    code: 1,
    stderr: `vpo: no job matches "0123abcd"`,
  },
  {
    name: "unknown job id to retry",
    args: ["jobs", "retry", "ffffffffffff"],
    code: 1,
    stderr: `vpo: no job matches "ffffffffffff"`,
  },
  {
    name: "config: unknown key, with a suggestion and its line:col",
    args: ["jobs", "list"],
    config: "jobs:\n  retention_days: 3\n  auto_purge: true\n  retention_dayz: 4\n",
    code: 1,
    stderr: `vpo: $CONFIG:4:3: jobs.retention_dayz: unknown key (did you mean "retention_days"?)`,
  },
  {
    name: "config: unknown section",
    args: ["jobs", "status"],
    config: "wroker:\n  max_files: 3\n",
    code: 1,
    stderr: `vpo: $CONFIG:1:1: wroker: unknown key (did you mean "worker"?)`,
  },
  {
    name: "config: wrong type",
    args: ["jobs", "status"],
    config: "jobs:\n  retention_days: a month\n",
    code: 1,
    stderr:
      `vpo: $CONFIG:2:19: jobs.retention_days: expected an integer from 0 to 36500, got "a month"`,
  },
  {
    name: "config: yes is not a boolean",
    args: ["jobs", "list"],
    config: "jobs:\n  auto_purge: yes\n",
    code: 1,
    stderr: `vpo: $CONFIG:2:15: jobs.auto_purge: expected true or false, got "yes"`,
  },
  {
    name: "config: YAML syntax error",
    args: ["jobs", "status"],
    config: "jobs:\n  retention_days: 3\n bad: 1\n",
    code: 1,
    stderr: "vpo: $CONFIG:3:1: invalid YAML: All mapping items must start at the same column",
  },
  {
    name: "config: tab indentation",
    args: ["jobs", "list"],
    config: "jobs:\n\tretention_days: 3\n",
    code: 1,
    stderr: "vpo: $CONFIG:2:1: invalid YAML: Tabs are not allowed as indentation",
  },
];

Deno.test("bad input: one `vpo: ` line on stderr, exit 2 for usage and 1 otherwise", async (t) => {
  // Each case gets its own home; they run four at a time, then report one step each.
  const results = await pool(BAD_INPUTS.map((c) => async () => {
    const home = await TempHome.create(c.config);
    try {
      const result = await vpo(home, ...c.args);
      return { result, configPath: join(home.vpoHome, "config.yaml") };
    } finally {
      await home.cleanup();
    }
  }));
  for (const [i, c] of BAD_INPUTS.entries()) {
    await t.step(c.name, () => {
      const { result, configPath } = results[i];
      assert.doesNotMatch(result.stderr, /^\s+at |Stack backtrace|error: Uncaught/m);
      fails(result, c.code, c.stderr.replace("$CONFIG", configPath));
    });
  }
});

Deno.test("a corrupt job file never stops list or status: a warning names it, exit 0", async () => {
  const { home, queue } = await homeWithQueue();
  try {
    const good = await queue.enqueue({ type: "transcode", file: "/v/good.mkv" });
    const garbage = join(home.jobsDir, "failed", `${"ab".repeat(16)}.json`);
    await Deno.writeTextFile(garbage, '{\n  "id": nope\n}\n');
    const empty = join(home.jobsDir, "queued", `${"cd".repeat(16)}.json`);
    await Deno.writeTextFile(empty, "");

    const list = await vpo(home, "jobs", "list");
    assert.equal(list.code, 0);
    assert.deepEqual(lines(list.stdout).slice(0, 2), [HEADER, RULE]);
    assert.deepEqual(fileCells(list.stdout), ["good.mkv"]);
    assert.deepEqual(
      lines(list.stderr).sort(),
      [
        `vpo: warning: unreadable job file (left in place): ${garbage}: invalid JSON at line 2, ` +
        `column 10: Unexpected token 'o'`,
        `vpo: warning: unreadable job file (left in place): ${empty}: empty file (truncated write?)`,
      ].sort(),
    );

    const json = await vpo(home, "jobs", "list", "--json");
    assert.equal(json.code, 0);
    assert.deepEqual(JSON.parse(json.stdout).map((j: { id: string }) => j.id), [good.id]);

    // Counting reads names only: both files count, and nothing is said about them.
    const status = JSON.parse(ok(await vpo(home, "jobs", "status", "--json")));
    assert.equal(status.queued, 2);
    assert.equal(status.failed, 1);
    assert.equal((await vpo(home, "jobs", "status")).code, 0);
    await Deno.stat(garbage);
    await Deno.stat(empty);
  } finally {
    await home.cleanup();
  }
});
