/**
 * `vpo serve` over HTTP, as a real subprocess on a free port: who may read and act, the JSON API
 * against the CLI's `--json`, paging that reads only the page, the live event stream, and the
 * priority and paging additions to the queue library it relies on.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { TempHome } from "./helpers/vpo.ts";
import { jobRecord, writeJobFile } from "./helpers/queue.ts";
import { fakeRunningJob, ServeProcess, TOKEN, writeToken } from "./helpers/serve.ts";
import { JobQueue } from "../src/queue/store.ts";
import { makeClip } from "./helpers/clips.ts";

/** Runs `body` with a home holding `queued` queued jobs and a server started with `args`. */
async function withServer(
  opts: { queued?: number; token?: boolean; config?: string },
  body: (s: ServeProcess, home: TempHome, queue: JobQueue) => Promise<void>,
): Promise<void> {
  await using home = await TempHome.create(opts.config);
  const queue = await JobQueue.open(home.jobsDir);
  for (let i = 0; i < (opts.queued ?? 0); i++) {
    await queue.enqueue({ type: "transcode", file: `/videos/clip ${i}.mkv`, priority: 100 + i });
  }
  const args = opts.token ? ["--token-file", await writeToken(home)] : [];
  const server = await ServeProcess.start(home, args);
  try {
    await body(server, home, queue);
  } finally {
    await server.stop();
  }
}

/** A GET written on a socket, with a Host header of our choosing; returns the whole response. */
async function rawGet(base: string, path: string, host: string): Promise<string> {
  const { hostname, port } = new URL(base);
  const conn = await Deno.connect({ hostname, port: Number(port) });
  try {
    await conn.write(
      new TextEncoder().encode(
        `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
      ),
    );
    return await new Response(conn.readable).text();
  } catch (err) {
    conn.close();
    throw err;
  }
}

const bearer = { authorization: `Bearer ${TOKEN}` };
const jsonPost = (headers: Record<string, string> = {}, body: unknown = {}) => ({
  method: "POST",
  headers: { "content-type": "application/json", ...headers },
  body: JSON.stringify(body),
});

async function expectStatus(res: Response, status: number, error?: string): Promise<unknown> {
  const body = await res.json();
  assert.equal(res.status, status, JSON.stringify(body));
  if (error !== undefined) assert.equal((body as { error: string }).error, error);
  return body;
}

Deno.test("serve refuses a non-loopback address without a token, and a short token", async () => {
  await using home = await TempHome.create();
  const open = await home.run(["serve", "--listen", "0.0.0.0:0"]);
  assert.equal(open.code, 1);
  assert.equal(
    open.stderr,
    "vpo: refusing to listen on 0.0.0.0:0 without a token: anyone who can reach it could read " +
      "the queue; pass --token-file FILE or set serve.token_file (or listen on 127.0.0.1)\n",
  );
  const tokenFile = join(home.dir, "short");
  await Deno.writeTextFile(tokenFile, "abc\n", { mode: 0o644 });
  await Deno.chmod(tokenFile, 0o644);
  const short = await home.run(["serve", "--token-file", tokenFile]);
  assert.equal(short.code, 1);
  assert.equal(
    short.stderr,
    `vpo: warning: token file ${tokenFile} can be read by other users (chmod 600 ${tokenFile})\n` +
      `vpo: token file ${tokenFile}: the token must be one line of at least 16 characters ` +
      `without spaces, commas or semicolons (e.g. from: openssl rand -hex 24)\n`,
  );
  const bad = await home.run(["serve", "--listen", "nowhere"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /"nowhere" is not an address to listen on/);
});

Deno.test("serve without a token: reads on loopback, no actions, no foreign Host", async () => {
  await withServer({ queued: 3 }, async (s, home, queue) => {
    const status = await expectStatus(await s.fetch("api/status"), 200);
    const cli = await home.run(["jobs", "status", "--json"]);
    assert.deepEqual(status, JSON.parse(cli.stdout));
    const id = (await queue.list({ status: "queued" })).jobs[0].id;
    await expectStatus(
      await s.fetch(`api/jobs/${id}/cancel`, jsonPost()),
      403,
      "actions are off: start vpo serve with --token-file to enable them",
    );
    assert.equal(queue.counts().queued, 3);
    // DNS rebinding: a page served as evil.example that resolves to 127.0.0.1. (fetch does not
    // let a script set Host, so this request is written by hand.)
    const raw = await rawGet(s.url, "/api/status", "evil.example:8613");
    assert.match(raw, /^HTTP\/1.1 403 /);
    assert.match(raw, /"unexpected Host header"/);
    // Row 13: a Host that makes no URL is the client's error, not an internal one.
    const malformed = await rawGet(s.url, "/api/status", "[evil.example:1]");
    assert.match(malformed, /^HTTP\/1.1 400 /);
    assert.match(malformed, /"malformed Host header"/);
    // The page itself carries no data and a strict content security policy.
    const page = await s.fetch("");
    assert.equal(page.status, 200);
    assert.match(page.headers.get("content-security-policy")!, /script-src 'self'/);
    assert.match(await page.text(), /<script src="\/app.js">/);
  });
});

Deno.test("serve: request paths never reach the file system except as job ids", async () => {
  await withServer({ queued: 1 }, async (s) => {
    for (
      const path of [
        "api/jobs/..%2F..%2Fetc%2Fpasswd",
        "api/jobs/../../etc/passwd",
        "api/jobs/zzzz",
        "etc/passwd",
        "app.js/../../cli.ts",
        "api/jobs/abc",
      ]
    ) {
      const res = await s.fetch(path);
      const text = await res.text();
      assert.ok(res.status === 404, `${path}: ${res.status} ${text}`);
      assert.ok(!text.includes("root:"), path);
    }
    await expectStatus(await s.fetch("api/jobs/0000abcd"), 404, `no job matches "0000abcd"`);
  });
});

Deno.test("serve with a token: every read needs it; actions need it and the same origin", async () => {
  await withServer({ queued: 3, token: true }, async (s, _home, queue) => {
    await expectStatus(await s.fetch("api/status"), 401, "a token is needed");
    await expectStatus(
      await s.fetch("api/jobs", { headers: { authorization: "Bearer nope" } }),
      401,
    );
    await expectStatus(await s.fetch("api/status", { headers: bearer }), 200);
    const [first, second] = queue.list({ status: "queued" }).jobs;
    // Without the token, and from another origin with it: refused, nothing moves.
    await expectStatus(await s.fetch(`api/jobs/${first.id}/cancel`, jsonPost()), 401);
    await expectStatus(
      await s.fetch(
        `api/jobs/${first.id}/cancel`,
        jsonPost({ ...bearer, origin: "http://evil.example" }),
      ),
      403,
      "cross-origin request refused",
    );
    await expectStatus(
      await s.fetch(
        `api/jobs/${first.id}/cancel`,
        jsonPost({ ...bearer, "sec-fetch-site": "cross-site" }),
      ),
      403,
    );
    // A form post (not JSON) is refused even with the token.
    await expectStatus(
      await s.fetch(`api/jobs/${first.id}/cancel`, {
        method: "POST",
        headers: { ...bearer, "content-type": "application/x-www-form-urlencoded" },
        body: "running=true",
      }),
      415,
    );
    assert.equal(queue.counts().cancelled, 0);
    // With the token: the same library calls as the CLI.
    const cancelled = await expectStatus(
      await s.fetch(`api/jobs/${first.id}/cancel`, jsonPost(bearer)),
      200,
    );
    assert.deepEqual(cancelled, { id: first.id, status: "cancelled", stop_requested: false });
    await expectStatus(
      await s.fetch(`api/jobs/${first.id}/cancel`, jsonPost(bearer)),
      409,
      `job ${first.id.slice(0, 8)} is cancelled; only queued jobs can be cancelled`,
    );
    await expectStatus(await s.fetch(`api/jobs/${first.id}/retry`, jsonPost(bearer)), 200);
    await expectStatus(
      await s.fetch(`api/jobs/${second.id}/priority`, jsonPost(bearer, { priority: 5 })),
      200,
    );
    assert.equal(queue.list({ status: "queued" }).jobs[0].id, second.id);
    const retried = queue.find(first.id);
    assert.equal(retried.state, "queued");
    assert.deepEqual(retried.history.map((h) => h.event), ["queued", "cancelled", "retried"]);
    assert.deepEqual(queue.find(second.id).history.at(-1)?.detail, "101 -> 5");
    // Sign-in: a wrong token is refused; the right one sets an HttpOnly cookie that reads work with.
    await expectStatus(await s.fetch("api/login", jsonPost({}, { token: "wrong" })), 401);
    const login = await s.fetch("api/login", jsonPost({}, { token: TOKEN }));
    await login.body?.cancel();
    const cookie = login.headers.get("set-cookie")!;
    assert.match(cookie, /HttpOnly; SameSite=Strict/);
    await expectStatus(
      await s.fetch("api/status", { headers: { cookie: cookie.split(";")[0] } }),
      200,
    );
  });
});

Deno.test("serve: /api/jobs mirrors jobs list --json, pages read only the page", async () => {
  await withServer({ queued: 12 }, async (s, home, queue) => {
    const all = await expectStatus(await s.fetch("api/jobs?limit=1000"), 200) as { id: string }[];
    const cli = JSON.parse((await home.run(["jobs", "list", "--json"])).stdout) as { id: string }[];
    assert.deepEqual(all, cli);
    // Break job #2 in place (its name still carries its order): a page that starts after it
    // places it by name and must not read it.
    const broken = queue.list({ status: "queued" }).jobs[1];
    await Deno.writeTextFile(broken.path, "{ garbage");
    const page = await expectStatus(
      await s.fetch("api/jobs?status=queued&limit=4&offset=4"),
      200,
    ) as { id: string; path: string }[];
    assert.deepEqual(page.map((j) => j.id), cli.slice(4, 8).map((j) => j.id));
    // The same through the library: the page after the broken file never meets it; a page that
    // holds it reads it, and reports it.
    const after = queue.list({ status: "queued", limit: 4, offset: 4 });
    assert.deepEqual(after.problems, []);
    assert.deepEqual(after.jobs.map((j) => j.id), cli.slice(4, 8).map((j) => j.id));
    assert.equal(queue.list({ status: "queued", limit: 4 }).problems.length, 1);
    await expectStatus(
      await s.fetch("api/jobs?limit=0"),
      400,
      "limit must be a whole number from 1 to 1000",
    );
    await expectStatus(await s.fetch("api/jobs?status=lost"), 400);
  });
});

Deno.test("serve: a failed job's log tail, or its error when there is no log", async () => {
  await withServer({}, async (s, home) => {
    const withLog = "feedbeef00000001";
    const without = "feedbeef00000002";
    for (const id of [withLog, without]) {
      await writeJobFile(
        home.jobsDir,
        "failed",
        jobRecord(id, { file: "/v/x.mkv" }, { error: "ffmpeg exited with code 1\nlast line" }),
      );
    }
    await Deno.mkdir(join(home.vpoHome, "logs"), { recursive: true });
    const lines = Array.from({ length: 5000 }, (_, i) => `frame=${i}`).join("\n") + "\nthe end\n";
    await Deno.writeTextFile(join(home.vpoHome, "logs", `${withLog}.log`), lines);
    const log = await expectStatus(await s.fetch(`api/jobs/${withLog}/log`), 200) as {
      text: string;
      path: string;
    };
    assert.ok(log.text.endsWith("the end\n"));
    assert.ok(log.text.length <= 16_384 && /^frame=\d+\n/.test(log.text), log.text.slice(0, 40));
    const noLog = await expectStatus(await s.fetch(`api/jobs/${without}/log`), 200);
    assert.deepEqual(noLog, {
      id: without,
      path: null,
      text: "ffmpeg exited with code 1\nlast line",
    });
  });
});

Deno.test("serve: /api/events pushes a running job's progress when its live file changes", async () => {
  await withServer({}, async (s, home) => {
    const live = await fakeRunningJob(home, "cafe000000000001", "/v/run.mkv");
    await live(10);
    const res = await s.fetch("api/events");
    assert.equal(res.headers.get("content-type"), "text/event-stream; charset=utf-8");
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    const percents: number[] = [];
    let buffer = "";
    while (percents.length < 2) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      for (const m of buffer.matchAll(/^data: (.*)$/gm)) {
        const state = JSON.parse(m[1]);
        percents.push(state.running[0].live.progress.percent);
        assert.deepEqual(state.workers.map((w: { host: string; pid: number }) => [w.host, w.pid]), [
          ["nas", 4242],
        ]);
        if (percents.length === 1) await live(20);
      }
      buffer = buffer.slice(buffer.lastIndexOf("\n\n") + 2);
    }
    await reader.cancel();
    assert.deepEqual(percents, [10, 20]);
  });
});

Deno.test("vpo jobs priority reorders the queue; only queued jobs", async () => {
  await using home = await TempHome.create();
  const queue = await JobQueue.open(home.jobsDir);
  const a = await queue.enqueue({ type: "transcode", file: "/v/a.mkv" });
  const b = await queue.enqueue({ type: "transcode", file: "/v/b.mkv" });
  const out = await home.run(["jobs", "priority", b.id.slice(0, 8), "7"]);
  assert.equal(out.stdout, `Job ${b.id.slice(0, 8)} now has priority 7\n`);
  assert.deepEqual(queue.list({ status: "queued" }).jobs.map((j) => j.id), [b.id, a.id]);
  await queue.cancel(a.id);
  const refused = await home.run(["jobs", "priority", a.id.slice(0, 8), "1"]);
  assert.equal(refused.code, 1);
  assert.equal(
    refused.stderr,
    `vpo: job ${a.id.slice(0, 8)} is cancelled; only a queued job's priority can be changed\n`,
  );
});

Deno.test("config: serve keys are checked with their position", async () => {
  await using home = await TempHome.create("serve:\n  listen: everywhere\n");
  const out = await home.run(["serve"]);
  assert.equal(out.code, 1);
  assert.equal(
    out.stderr,
    `vpo: ${home.vpoHome}/config.yaml:2:11: serve.listen: "everywhere" is not an address to ` +
      `listen on (expected HOST:PORT, e.g. 127.0.0.1:8613)\n`,
  );
});

Deno.test("list of finished jobs: a long-lived queue sees jobs that finish after its last look", async () => {
  await using home = await TempHome.create();
  const queue = await JobQueue.open(home.jobsDir);
  const finish = (id: string) =>
    writeJobFile(home.jobsDir, "completed", jobRecord(id, { file: `/v/${id}.mkv` }));
  await finish("f1f1f1f1");
  await finish("f2f2f2f2");
  const ids = () => queue.list({ status: "finished", limit: 10 }).jobs.map((j) => j.id);
  assert.deepEqual((ids()).sort(), ["f1f1f1f1", "f2f2f2f2"]);
  await new Promise((r) => setTimeout(r, 5));
  await finish("f3f3f3f3");
  assert.equal(ids()[0], "f3f3f3f3");
  await Deno.remove(join(home.jobsDir, "completed", "f1f1f1f1.json"));
  assert.deepEqual(ids().sort(), ["f2f2f2f2", "f3f3f3f3"]);
  // Paging counts from the newest.
  assert.deepEqual(queue.list({ status: "finished", limit: 1, offset: 1 }).jobs.length, 1);
});

Deno.test("serve: queue a configured folder with a configured policy, nothing else", async () => {
  await using home = await TempHome.create();
  const media = join(home.dir, "media");
  await Deno.mkdir(join(media, "season 1"), { recursive: true });
  await makeClip(join(media, "season 1", "episode.mkv"));
  const policy = join(home.dir, "hevc.yaml");
  await Deno.writeTextFile(policy, "schema_version: 1\ntranscode:\n  target_video_codec: hevc\n");
  await home.writeConfig(
    `serve:\n  token_file: ${await writeToken(
      home,
    )}\n  folders: [${media}]\n  policies: [${policy}]\n`,
  );
  const queue = await JobQueue.open(home.jobsDir);
  const server = await ServeProcess.start(home);
  try {
    const post = (body: unknown) => server.fetch("api/queue", jsonPost(bearer, body));
    await expectStatus(
      await post({ folder: join(media, "season 1"), policy }),
      400,
      `"folder" must be one of serve.folders in config.yaml`,
    );
    await expectStatus(
      await post({ folder: media, policy: "/etc/passwd" }),
      400,
      `"policy" must be one of serve.policies in config.yaml`,
    );
    assert.equal(queue.counts().queued, 0);
    const done = await expectStatus(await post({ folder: media, policy }), 200) as {
      queued: number;
      decisions: { path: string; status: string }[];
    };
    assert.equal(done.queued, 1);
    const [job] = queue.list({ status: "queued" }).jobs;
    assert.equal(job.file, join(media, "season 1", "episode.mkv"));
    assert.equal((job.payload as { policy_file: string }).policy_file, policy);
    const config = await expectStatus(await server.fetch("api/config", { headers: bearer }), 200);
    assert.deepEqual(config, { actions: true, folders: [media], policies: [policy] });
  } finally {
    assert.equal((await server.stop()).code, 0);
  }
});

Deno.test("serve: a folder queued under a policy of track keys only gets apply jobs", async () => {
  await using home = await TempHome.create();
  const media = join(home.dir, "media");
  await Deno.mkdir(media);
  await makeClip(join(media, "episode.mkv"), { audio: ["aac", "aac"] });
  const policy = join(home.dir, "tracks.yaml");
  await Deno.writeTextFile(policy, "audio_filter:\n  languages: [fre]\n");
  await home.writeConfig(
    `serve:\n  token_file: ${await writeToken(
      home,
    )}\n  folders: [${media}]\n  policies: [${policy}]\n`,
  );
  const server = await ServeProcess.start(home);
  try {
    const done = await expectStatus(
      await server.fetch("api/queue", jsonPost(bearer, { folder: media, policy })),
      200,
    ) as { queued: number };
    assert.equal(done.queued, 1);
    const [job] = (await JobQueue.open(home.jobsDir)).list({ status: "queued" }).jobs;
    assert.equal(job.type, "apply");
  } finally {
    assert.equal((await server.stop()).code, 0);
  }
});
