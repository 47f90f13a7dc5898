/**
 * Notifications from a real worker run: a hook script that records what it got, and a webhook
 * served by a real HTTP server on 127.0.0.1 that this test starts. A failed job and the run's
 * summary are delivered (a failed POST retried once); a hook or server that hangs changes
 * nothing about the jobs and holds the worker only for the configured timeout.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeClip } from "./helpers/clips.ts";
import { listJobs, withMediaHome } from "./helpers/worker.ts";
import { CLI, TempHome } from "./helpers/vpo.ts";
import { jobRecord, writeJobFile } from "./helpers/queue.ts";
import { CLI_PERMISSIONS } from "../scripts/permissions.ts";
import { WEBHOOK_FORMATS, type WebhookFormat } from "../src/config/notify.ts";
import { eventEnv, jobFailedEvent } from "../src/notify/events.ts";
import { Notifier } from "../src/notify/notifier.ts";

interface Received {
  path: string;
  body: Record<string, unknown>;
}

/** An HTTP server on 127.0.0.1 that records POSTs and answers with `status(n)` for the nth. */
function startServer(status: (n: number) => number | "hang") {
  const received: Received[] = [];
  let release!: () => void;
  const hold = new Promise<void>((r) => release = r);
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const body = await req.json();
    received.push({ path: new URL(req.url).pathname, body });
    const s = status(received.length);
    if (s === "hang") await hold;
    return new Response(null, { status: s === "hang" ? 200 : s });
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    received,
    async close() {
      release();
      await server.shutdown();
    },
  };
}

/**
 * A hook that stores its stdin, its VPO_* variables, its arguments and its working directory,
 * then does `then`.
 */
async function writeHook(dir: string, then = "exit 0"): Promise<string> {
  const path = join(dir, "hook.sh");
  await Deno.writeTextFile(
    path,
    `#!/bin/sh
out="${dir}/hook-$$"
cat > "$out.json"
env | grep '^VPO_' | sort > "$out.env"
printf '%s\\n' "$@" > "$out.args"
echo $$ > "$out.pid"
pwd > "$out.cwd"
${then}
`,
  );
  await Deno.chmod(path, 0o755);
  return path;
}

function hookRuns(dir: string) {
  return [...Deno.readDirSync(dir)]
    .filter((e) => /^hook-\d+\.json$/.test(e.name))
    .map((e) => {
      const stem = join(dir, e.name.replace(/\.json$/, ""));
      return {
        event: JSON.parse(Deno.readTextFileSync(`${stem}.json`)),
        env: Deno.readTextFileSync(`${stem}.env`),
        args: Deno.readTextFileSync(`${stem}.args`).trim().split("\n"),
        pid: Number(Deno.readTextFileSync(`${stem}.pid`)),
        cwd: Deno.readTextFileSync(`${stem}.cwd`).trim(),
      };
    });
}

/** Queues a good clip and one whose source changes after queueing (so its job fails). */
async function queueGoodAndBad(home: TempHome, media: string): Promise<void> {
  await makeClip(join(media, "good.mkv"), { duration: 1 });
  const bad = await makeClip(join(media, "bad.mkv"), { duration: 1 });
  const q = await home.run(["transcode", media]);
  assert.equal(q.code, 0, q.stderr);
  const f = await Deno.open(bad, { append: true });
  await f.write(new Uint8Array(10));
  f.close();
}

Deno.test("a failed job and the run's summary reach the hook and the webhook", async () => {
  const server = startServer((n) => n === 1 ? 500 : 200); // the first POST fails: retried
  try {
    await withMediaHome(undefined, async (home, media) => {
      const hook = await writeHook(home.dir);
      await home.writeConfig(
        `notify:\n  command: [${hook}, --from, vpo]\n  webhook: ${server.url}/hook\n  timeout: 5\n`,
      );
      await queueGoodAndBad(home, media);
      const run = await home.run(["jobs", "start"]);
      assert.equal(run.code, 3, run.stdout + run.stderr);
      assert.doesNotMatch(run.stdout, /warning/);

      const jobs = await listJobs(home);
      const good = jobs.find((j) => j.status === "completed")!;
      const bad = jobs.find((j) => j.status === "failed")!;
      const saved = Number(good.result?.saved_bytes);
      assert.ok(saved > 0);

      // Webhook: job_failed twice (answered 500, then the retry a second later), worker_done once.
      const events = server.received.map((r) => r.body.event as string);
      assert.equal(events[0], "job_failed");
      assert.deepEqual(events.sort(), ["job_failed", "job_failed", "worker_done"]);
      assert.ok(server.received.every((r) => r.path === "/hook"));
      const failed = server.received.findLast((r) => r.body.event === "job_failed")!.body as {
        job: Record<string, unknown>;
        title: string;
      };
      assert.equal(failed.job.id, bad.id);
      assert.equal(failed.job.file, join(media, "bad.mkv"));
      assert.equal(failed.job.error, bad.error);
      assert.equal(failed.title, "vpo: failed: bad.mkv");
      const done = server.received.find((r) => r.body.event === "worker_done")!.body as {
        summary: Record<string, unknown>;
      };
      assert.deepEqual(done.summary, {
        completed: 1,
        failed: 1,
        cancelled: 0,
        requeued: 0,
        saved_bytes: saved,
        stop_reason: "queue empty",
      });

      // Hook: once per event, JSON on stdin, the same in VPO_* variables, its own arguments.
      const runs = hookRuns(home.dir).sort((a, b) => a.event.time.localeCompare(b.event.time));
      assert.deepEqual(runs.map((r) => r.event.event), ["job_failed", "worker_done"]);
      assert.deepEqual(runs[0].args, ["--from", "vpo"]);
      // Like every child of vpo, in a directory every user can enter.
      assert.deepEqual(runs.map((r) => r.cwd), ["/", "/"]);
      assert.match(runs[0].env, new RegExp(`^VPO_JOB_ID=${bad.id}$`, "m"));
      assert.match(runs[0].env, /^VPO_EVENT=job_failed$/m);
      assert.match(runs[1].env, /^VPO_COMPLETED=1$/m);
      assert.match(runs[1].env, new RegExp(`^VPO_SAVED_BYTES=${saved}$`, "m"));
      assert.match(runs[1].env, /^VPO_STOP_REASON=queue empty$/m);
    });
  } finally {
    await server.close();
  }
});

Deno.test("a hanging hook and webhook change no job and are abandoned at the timeout", async () => {
  const server = startServer(() => "hang");
  try {
    await withMediaHome(undefined, async (home, media) => {
      // It ignores SIGTERM and leaves a child holding its stderr: only SIGKILL and not waiting
      // for the pipe's end keep the worker's wait bounded.
      const hook = await writeHook(
        home.dir,
        `trap '' TERM; sleep 600 & echo $! >> "${home.dir}/sleepers"; wait`,
      );
      await home.writeConfig(
        `notify:\n  command: [${hook}]\n  webhook: ${server.url}/\n  timeout: 1\n`,
      );
      await queueGoodAndBad(home, media);
      const run = await home.run(["jobs", "start"]);
      assert.equal(run.code, 3, run.stdout + run.stderr);
      const statuses = (await listJobs(home)).map((j) => j.status).sort();
      assert.deepEqual(statuses, ["completed", "failed"]);
      // Both attempts of each delivery timed out, and each says so in one warning line.
      const warnings = run.stdout.split("\n").filter((l) => / warning /.test(l));
      assert.ok(
        warnings.some((l) => /hook .*hook\.sh failed: no answer in 1 s/.test(l)),
        run.stdout,
      );
      assert.ok(warnings.some((l) => /webhook 127\.0\.0\.1:\d+ failed: no answer in 1 s/.test(l)));
      assert.equal(server.received.length, 4); // two events, each tried twice
      // No hook outlives the worker (their background sleeps do: this test ends them).
      const sleepers = (await Deno.readTextFile(join(home.dir, "sleepers"))).trim().split("\n");
      assert.equal(sleepers.length, 4);
      for (const pid of sleepers) Deno.kill(Number(pid), "SIGKILL");
      for (const r of hookRuns(home.dir)) {
        const alive = await new Deno.Command("kill", {
          args: ["-0", String(r.pid)],
          stderr: "null",
        })
          .output();
        assert.equal(alive.success, false, `hook ${r.pid} still running`);
      }
    });
  } finally {
    await server.close();
  }
});

Deno.test("notify settings are checked like the rest of config.yaml", async () => {
  const cases: [string, RegExp][] = [
    ["notify:\n  command: /usr/bin/notify-send hi\n", /:2:12: notify\.command: expected a list/],
    ["notify:\n  webhook: ftp://x/y\n", /:2:12: notify\.webhook: "ftp:\/\/x\/y" is not an http/],
    ["notify:\n  webhook_format: ntfi\n", /notify\.webhook_format: .*did you mean "ntfy"/],
    ["notify:\n  command: []\n", /notify\.command: an empty list/],
    [
      "notify:\n  command: [bin/alert, --quiet]\n",
      /:2:12: notify\.command: "bin\/alert" is a relative path: write the program's absolute path/,
    ],
  ];
  for (const [config, message] of cases) {
    await using home = await TempHome.create(config);
    const r = await home.run(["jobs", "status"]);
    assert.equal(r.code, 1, config);
    assert.match(r.stderr, message);
    assert.equal(r.stderr.trim().split("\n").length, 1);
  }
});

Deno.test("each webhook_format posts the body its service expects", async () => {
  const server = startServer(() => 200);
  try {
    const event = jobFailedEvent({
      id: "ab".repeat(16),
      file: "/srv/media/Holiday.mkv",
      error: "ffmpeg exited with code 1: broken\nlog: /x.log",
      attempts: 1,
    });
    const expected: Record<WebhookFormat, [string, Record<string, unknown>]> = {
      json: ["/hook/vpo", event as unknown as Record<string, unknown>],
      // ntfy: JSON publishing at the server root, the topic taken from the URL.
      ntfy: ["/hook/", {
        topic: "vpo",
        title: event.title,
        message: event.message,
        priority: 4,
        tags: ["warning"],
      }],
      gotify: ["/hook/vpo", { title: event.title, message: event.message, priority: 8 }],
      slack: ["/hook/vpo", { text: `*${event.title}*\n${event.message}` }],
      discord: ["/hook/vpo", { content: `**${event.title}**\n${event.message}` }],
    };
    for (const format of WEBHOOK_FORMATS) {
      const problems: string[] = [];
      const notifier = new Notifier(
        { command: null, webhook: `${server.url}/hook/vpo`, webhookFormat: format, timeoutSec: 5 },
        (msg) => problems.push(msg),
      );
      notifier.fire(event);
      await notifier.settle();
      assert.deepEqual(problems, [], format);
      const got = server.received.pop()!;
      assert.deepEqual([got.path, got.body], expected[format], format);
    }
    assert.equal(event.title, "vpo: failed: Holiday.mkv");
    assert.equal(
      event.message,
      `/srv/media/Holiday.mkv\nffmpeg exited with code 1: broken\n(vpo jobs show abababab)`,
    );
  } finally {
    await server.close();
  }
});

Deno.test("a webhook's redirect is not followed: the body never goes to another address", async () => {
  const elsewhere = startServer(() => 200);
  const redirecting = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (req) => {
      await req.body?.cancel();
      return new Response(null, { status: 307, headers: { location: `${elsewhere.url}/x` } });
    },
  );
  try {
    const problems: string[] = [];
    const notifier = new Notifier(
      {
        command: null,
        webhook: `http://127.0.0.1:${redirecting.addr.port}/hook`,
        webhookFormat: "json",
        timeoutSec: 5,
      },
      (msg) => problems.push(msg),
    );
    notifier.fire(
      jobFailedEvent({ id: "ab".repeat(16), file: "/v/a.mkv", error: "e", attempts: 1 }),
    );
    await notifier.settle();
    assert.equal(elsewhere.received.length, 0, "nothing was POSTed to the other origin");
    assert.equal(problems.length, 1);
    assert.match(
      problems[0],
      /webhook 127\.0\.0\.1:\d+ failed: HTTP 307 redirect to http:\/\/127\.0\.0\.1:\d+ not followed/,
    );
  } finally {
    await redirecting.shutdown();
    await elsewhere.close();
  }
});

Deno.test("row 12: every one-line field of an event is one line, with names escaped", () => {
  const event = jobFailedEvent({
    id: "ab".repeat(16),
    file: "/v/evil\n# forged\x1b]0;owned\x07.mkv",
    error: "ffmpeg said \x1b[2J\u202egnp.exe\nlog: /x.log",
    attempts: 1,
  });
  const env = eventEnv(event);
  // deno-lint-ignore no-control-regex
  const unsafe = /[\x00-\x1f\x7f\u202e]/;
  for (const key of ["VPO_TITLE", "VPO_JOB_ERROR"]) {
    assert.doesNotMatch(env[key], unsafe, key);
  }
  assert.doesNotMatch(event.title, unsafe);
  assert.equal(event.title, "vpo: failed: evil\\n# forged\\x1b]0;owned\\x07.mkv");
  // The message's lines are its own: the name's newline does not add one.
  assert.equal(event.message.split("\n").length, 3);
  // Scripts get the exact path, as --json gives it.
  assert.equal(env.VPO_JOB_FILE, "/v/evil\n# forged\x1b]0;owned\x07.mkv");
});

/** Jobs and the descriptor limit of the flood test (`deno task test:flood` raises both). */
const FLOOD_JOBS = Number(Deno.env.get("VPO_FLOOD_JOBS") ?? 300);
const FLOOD_FDS = Number(Deno.env.get("VPO_FLOOD_FDS") ?? 256);

Deno.test(`row 10: ${FLOOD_JOBS} failing jobs and a sleeping hook under ulimit -n ${FLOOD_FDS} all drain`, async () => {
  await using home = await TempHome.create();
  const hook = await writeHook(home.dir, "exec sleep 30");
  await home.writeConfig(`notify:\n  command: [${hook}]\n  timeout: 2\n`);
  // Jobs whose payload is empty: each fails at once ("bad job file"), without ffmpeg.
  for (let i = 0; i < FLOOD_JOBS; i++) {
    const id = i.toString(16).padStart(32, "0");
    await writeJobFile(home.jobsDir, "queued", jobRecord(id, { file: `/v/${i}.mkv` }));
  }
  const out = await new Deno.Command("bash", {
    args: [
      "-c",
      `ulimit -n ${FLOOD_FDS} && exec "$@"`,
      "bash",
      Deno.execPath(),
      ...["run", "--quiet", ...CLI_PERMISSIONS, CLI, "jobs", "start"],
    ],
    env: { VPO_HOME: home.vpoHome, NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 3, stderr + stdout.slice(-2000));
  assert.match(stdout, new RegExp(`done +0 completed, ${FLOOD_JOBS} failed`));
  assert.match(stdout, /\d+ notifications not sent: more than 104 at once/);
  assert.equal([...Deno.readDirSync(join(home.jobsDir, "failed"))].length, FLOOD_JOBS);
  // The hooks it started are its own to end; any left is killed here.
  for (const r of hookRuns(home.dir)) {
    await new Deno.Command("kill", { args: ["-9", String(r.pid)], stderr: "null" }).output();
  }
});
