/**
 * Trust boundaries: job files, journals and library folders are input someone else may have
 * written. vpo acts on a path only when it is one it made for that job, never follows a link
 * into a write, keeps private sources private, re-proves its claim before touching a library
 * file, and keeps its memory bounded whatever a tool prints.
 */
import assert from "node:assert/strict";
import { basename, join } from "node:path";
import { makeClip } from "./helpers/clips.ts";
import { jobRecord, runActor, withTempQueue, writeJobFile } from "./helpers/queue.ts";
import {
  digest,
  exists,
  FAST_RECOVERY,
  findPartials,
  jobFiles,
  longClip,
  onlyJob,
  sleep,
  slowPolicy,
  STALE_WAIT_MS,
  waitUntil,
  withMediaHome,
  WorkerProcess,
} from "./helpers/worker.ts";
import { CLI, type TempHome } from "./helpers/vpo.ts";
import { CLI_PERMISSIONS as PERMS } from "../scripts/permissions.ts";
import { tempOutputPath } from "../src/replace/temp_files.ts";
import { probe } from "../src/media/probe.ts";
import { fileIdentity } from "../src/util/file_identity.ts";
import { withTempDir } from "./helpers/temp.ts";

const TOKEN = "0000deadbeef";

/** A file outside everything vpo made, and what must stay true of it. */
async function victim(dir: string, name = "victim.txt") {
  const path = join(dir, name);
  await Deno.writeTextFile(path, `precious ${name}\n`);
  await Deno.chmod(path, 0o600);
  const before = Deno.lstatSync(path);
  return {
    path,
    ino: before.ino!,
    size: before.size,
    assertUntouched(what: string) {
      const now = Deno.lstatSync(path);
      assert.ok(now.isFile, `${what}: ${path} is still a regular file`);
      assert.equal(Deno.readTextFileSync(path), `precious ${name}\n`, `${what}: content`);
      assert.equal(now.mode! & 0o777, 0o600, `${what}: mode`);
    },
  };
}

/** A stale running transcode job on `source` with `steps` in its journal. */
async function staleJob(home: TempHome, source: string, steps: Record<string, unknown> | null) {
  const id = crypto.randomUUID().replaceAll("-", "");
  const info = Deno.statSync(source);
  const record = jobRecord(id, { file: source }, {
    payload: {
      policy: {},
      fingerprint: { size: info.size, mtime_ms: info.mtime!.getTime(), ino: info.ino, dev: 0 },
    },
  });
  await writeJobFile(home.jobsDir, "running", record, TOKEN);
  const live = { worker: { host: "gone", pid: 1 }, claimed_at: new Date().toISOString() };
  await Deno.mkdir(join(home.jobsDir, "live"), { recursive: true });
  await Deno.writeTextFile(
    join(home.jobsDir, "live", `${id}.${TOKEN}.json`),
    JSON.stringify(steps ? { ...live, steps } : live),
  );
  return id;
}

/** Waits until process `pid` is stopped (SIGSTOP at a VPO_STOP_AT point) or gone. */
async function stoppedOrGone(pid: number): Promise<"stopped" | "gone"> {
  return await waitUntil(`process ${pid} to stop`, async () => {
    const out = await new Deno.Command("ps", { args: ["-o", "stat=", "-p", String(pid)] })
      .output();
    const stat = new TextDecoder().decode(out.stdout).trim();
    if (stat === "" || stat.startsWith("Z")) return "gone" as const;
    return stat.startsWith("T") ? "stopped" as const : null;
  });
}

Deno.test("1: recover never removes a file a journal names unless vpo made it for the job", async () => {
  await withMediaHome(FAST_RECOVERY, async (home, media) => {
    const outside = join(home.dir, "outside");
    await Deno.mkdir(outside);
    const v1 = await victim(outside, "a.txt");
    const v2 = await victim(media, "b.mkv");
    const source = join(media, "film.mkv");
    await Deno.writeTextFile(source, "original");
    // One journal names outside files; another a real temp of its own job, whose inode it records.
    await staleJob(home, source, {
      phase: "encoding",
      source,
      source_id: null,
      temp: v1.path,
      temp_ino: v1.ino,
      moved_from: v2.path,
      final: source,
      backup: null,
    });
    const other = join(media, "other.mkv");
    await Deno.writeTextFile(other, "other original");
    const id = crypto.randomUUID().replaceAll("-", "");
    const temp = tempOutputPath({ id, token: "aaaabbbbcccc" }, other, null);
    await Deno.writeTextFile(temp, "partial output");
    const ownId = await staleJob(home, other, {
      phase: "encoding",
      source: other,
      source_id: null,
      temp: join(media, basename(tempOutputPath({ id: "0", token: "0" }, other, null))),
      final: other,
      backup: null,
    });
    // The second job's journal names a temp of another job id: not its own, so left too.
    const ownTemp = tempOutputPath({ id: ownId, token: "aaaabbbbcccc" }, other, null);
    await Deno.writeTextFile(ownTemp, "own partial");
    const liveOwn = join(home.jobsDir, "live", `${ownId}.${TOKEN}.json`);
    const live = JSON.parse(Deno.readTextFileSync(liveOwn));
    live.steps.temp = ownTemp;
    live.steps.temp_ino = Deno.lstatSync(ownTemp).ino;
    Deno.writeTextFileSync(liveOwn, JSON.stringify(live));

    await sleep(STALE_WAIT_MS);
    const out = await home.run(["jobs", "recover"]);
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /2 stale jobs recovered/);
    v1.assertUntouched("temp outside the library");
    v2.assertUntouched("moved_from in the library");
    assert.ok(exists(temp), "another job's temp stays");
    assert.ok(!exists(ownTemp), "the job's own recorded temp is removed");
    assert.equal(Deno.readTextFileSync(source), "original");
  });
});

Deno.test("2: cleanup --include-backups removes only a backup vpo made, by path, inode and size", async () => {
  await withMediaHome(undefined, async (home, media) => {
    const v = await victim(home.dir);
    const source = join(media, "film.mkv");
    await Deno.writeTextFile(source, "new output");
    const backup = `${source}.original`;
    await Deno.writeTextFile(backup, "the original bytes");
    const old = new Date(Date.now() - 40 * 86_400_000);
    const finished = (result: Record<string, unknown>) =>
      jobRecord(crypto.randomUUID().replaceAll("-", ""), { file: source }, {
        finished_at: old.toISOString(),
        result: {
          outcome: "replaced",
          outcome_detail: "replaced",
          output_path: source,
          ...result,
        },
      });
    const forged = finished({ backup_path: v.path, backup_size: v.size, backup_ino: v.ino });
    const real = finished({
      backup_path: backup,
      backup_size: Deno.statSync(backup).size,
      backup_ino: Deno.statSync(backup).ino,
    });
    for (const job of [forged, real]) {
      const path = await writeJobFile(home.jobsDir, "completed", job);
      await Deno.utime(path, old, old);
    }
    const out = await home.run(["jobs", "cleanup", "--include-backups", "--force"]);
    assert.equal(out.code, 0, out.stderr);
    v.assertUntouched("a result's backup_path outside the library");
    assert.match(out.stderr, /left backup .*victim\.txt: not <file>\.original/);
    assert.ok(!exists(backup), "the real backup is removed");
    assert.equal(Deno.readTextFileSync(source), "new output");
    assert.deepEqual(jobFiles(home), []);
  });
});

for (const viaTempDir of [false, true]) {
  const where = viaTempDir ? "the copy beside the source (temp_directory elsewhere)" : "ffmpeg's";
  Deno.test(`3: a symlink planted at ${where} temp name is never written through`, async () => {
    await withMediaHome(undefined, async (home, media) => {
      const tempDir = join(home.dir, "tmp");
      if (viaTempDir) {
        // Another file system, so the output is copied next to the source.
        await Deno.mkdir(tempDir);
        await new Deno.Command("mount", {
          args: ["-t", "tmpfs", "-o", "size=64m", "tmpfs", tempDir],
        })
          .output();
        await home.writeConfig(`jobs:\n  temp_directory: ${tempDir}\n`);
      }
      try {
        const v = await victim(home.dir);
        const source = await makeClip(join(media, "film.mkv"));
        await Deno.chmod(source, 0o666);
        const sha = (await digest(source)).sha256;
        assert.equal((await home.run(["transcode", source])).code, 0);
        const worker = WorkerProcess.start(home, [], { VPO_STOP_AT: "claim:live-written" });
        let exit;
        try {
          await stoppedOrGone(worker.pid);
          const running = [...Deno.readDirSync(join(home.jobsDir, "running"))][0]?.name;
          if (running) {
            const [id, token] = running.split(".");
            const name = basename(tempOutputPath({ id, token }, source, null));
            await Deno.symlink(v.path, join(media, name));
          }
          worker.kill("SIGCONT");
          exit = await worker.exit();
        } finally {
          await worker.dispose();
        }
        v.assertUntouched("symlink target");
        assert.notEqual(exit?.code, 0, exit?.stdout);
        assert.equal((await digest(source)).sha256, sha, "the original is untouched");
        assert.ok(Deno.lstatSync(source).isFile, "the source is still a regular file");
        const job = await onlyJob(home);
        assert.equal(job.status, "failed");
      } finally {
        if (viaTempDir) await new Deno.Command("umount", { args: [tempDir] }).output();
      }
    });
  });
}

Deno.test("8: a private source's temp output is never readable by others while written", async () => {
  await withMediaHome(undefined, async (home, media) => {
    const source = await longClip(join(media, "private.mkv"));
    await Deno.chmod(source, 0o600);
    assert.equal(
      (await home.run(["transcode", "--policy", await slowPolicy(home.dir), source]))
        .code,
      0,
    );
    const worker = WorkerProcess.start(home);
    try {
      const partial = await waitUntil("a temp output", () => findPartials(media)[0]);
      const mode = Deno.lstatSync(partial).mode! & 0o777;
      assert.equal(mode & 0o077, 0, `temp mode ${mode.toString(8)} is private`);
    } finally {
      await worker.dispose();
    }
  });
});

Deno.test("4: after a cancel that crashed mid-move and a retry, a job is claimed once", async () => {
  await withTempQueue(async ({ root, queue, children }) => {
    const job = await queue.enqueue({ type: "t", file: "/media/a.mkv" });
    const crashed = await runActor(
      root,
      ["cancel", job.id],
      { VPO_CRASH_AT: "transition:published" },
      children,
    );
    assert.equal(crashed.signal, "SIGKILL");
    const retried = await queue.retry(job.id);
    const first = await queue.claim();
    const second = await queue.claim();
    assert.equal(first?.id, job.id);
    assert.equal(first?.record.rev, retried.rev, "the newest copy is the one run");
    assert.equal(second, null, "the older copy is not claimed as a second run");
  });
});

Deno.test("5: a recovery that dies after taking a job over leaves its journal findable", async () => {
  await withMediaHome(FAST_RECOVERY, async (home, media) => {
    // The dead worker's replace had swapped the output in: recovery must complete the job.
    const source = join(media, "film.mkv");
    const backup = `${source}.original`;
    await Deno.writeTextFile(source, "original");
    await Deno.link(source, backup);
    const sourceId = await fileIdentity(source);
    await Deno.writeTextFile(`${source}.new`, "new output");
    await Deno.rename(`${source}.new`, source);
    const id = await staleJob(home, backup, null);
    // staleJob fingerprinted the backup (the original's inode); point the job at the source.
    const jobPath = join(home.jobsDir, "running", `${id}.${TOKEN}.json`);
    const record = JSON.parse(Deno.readTextFileSync(jobPath));
    record.file = source;
    Deno.writeTextFileSync(jobPath, JSON.stringify(record));
    const outputId = await fileIdentity(source);
    Deno.writeTextFileSync(
      join(home.jobsDir, "live", `${id}.${TOKEN}.json`),
      JSON.stringify({
        worker: { host: "gone", pid: 1 },
        claimed_at: new Date().toISOString(),
        steps: {
          phase: "replacing",
          source,
          source_id: sourceId,
          temp: tempOutputPath({ id, token: TOKEN }, source, null),
          final: source,
          backup,
          output_id: outputId,
        },
      }),
    );
    await sleep(STALE_WAIT_MS);
    const crashed = await home.run(["jobs", "recover"], {
      env: { VPO_CRASH_AT: "transition:written" },
    });
    assert.equal(crashed.code, 137, crashed.stdout + crashed.stderr);
    await sleep(STALE_WAIT_MS);
    const again = await home.run(["jobs", "recover"]);
    assert.equal(again.code, 0, again.stderr);
    const job = await onlyJob(home);
    assert.equal(job.status, "completed", JSON.stringify(job.history));
    assert.equal(Deno.readTextFileSync(backup), "original");
    assert.equal(Deno.readTextFileSync(source), "new output");
  });
});

Deno.test("11: a worker that lost its claim before the swap leaves the source alone", async () => {
  await withMediaHome(undefined, async (home, media) => {
    const source = await makeClip(join(media, "film.mkv"));
    const sha = (await digest(source)).sha256;
    assert.equal((await home.run(["transcode", source])).code, 0);
    const worker = WorkerProcess.start(home, [], { VPO_STOP_AT: "replace:recorded" });
    try {
      assert.equal(await stoppedOrGone(worker.pid), "stopped");
      // What a recovery does to a job it judged stale: rename it to a new token.
      const dir = join(home.jobsDir, "running");
      const name = [...Deno.readDirSync(dir)][0].name;
      await Deno.rename(join(dir, name), join(dir, `${name.split(".")[0]}.ffffffffffff.json`));
      worker.kill("SIGCONT");
      const exit = await worker.exit();
      assert.match(exit.stdout, /lost/);
    } finally {
      await worker.dispose();
    }
    assert.equal((await digest(source)).sha256, sha, "the source was not replaced");
    assert.ok(!exists(`${source}.original`), "no backup was made");
  });
});

Deno.test("12: cleanup --remove-temp rechecks each temp's claim right before removing it", async () => {
  await withMediaHome(undefined, async (home, media) => {
    const source = join(media, "film.mkv");
    await Deno.writeTextFile(source, "original");
    const id = crypto.randomUUID().replaceAll("-", "");
    await writeJobFile(home.jobsDir, "failed", jobRecord(id, { file: source }));
    const token = "123456789abc";
    const temp = tempOutputPath({ id, token }, source, null);
    await Deno.writeTextFile(temp, "partial");
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--quiet",
        ...PERMS,
        CLI,
        "jobs",
        "cleanup",
        "--remove-temp",
        "--older-than",
        "999",
        "--force",
      ],
      env: { VPO_HOME: home.vpoHome, VPO_STOP_AT: "cleanup:confirmed" },
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    try {
      await stoppedOrGone(child.pid);
      // Meanwhile the job is claimed again (a hand `mv` back into running/ under that token).
      await writeJobFile(home.jobsDir, "running", jobRecord(id, { file: source }), token);
    } finally {
      try {
        child.kill("SIGCONT");
      } catch {
        // Ran to its end without stopping.
      }
      await child.output();
    }
    assert.ok(exists(temp), "the temp of a running claim is kept");
  });
});

Deno.test("13: verification keeps bounded memory however many packets ffprobe lists", async () => {
  await withTempDir(async (dir) => {
    const clip = await makeClip(join(dir, "clip.mkv"));
    // A stand-in ffprobe: the real one's streams and format after 600 MB of packet lines, more
    // than a JavaScript string can hold, so buffering them all cannot work.
    const script = join(dir, "ffprobe");
    const pad = "x".repeat(8000);
    await Deno.writeTextFile(
      script,
      `#!/bin/sh
printf '{\\n    "packets": [\\n'
yes '        {
            "pts_time": "0.5",
            "data": "${pad}"
        },' | head -n 300000
printf '        {\\n            "pts_time": "0.96",\\n            "duration_time": "0.04"\\n        }\\n    ],\\n'
for last; do :; done
ffprobe -v error -print_format json -show_format -show_streams "$last" | sed 1d
`,
    );
    await Deno.chmod(script, 0o755);
    const info = await probe(clip, { ffprobe: script, tailFromSec: 0 });
    assert.equal(info.contentEnd, 1);
    assert.ok(info.streams.length >= 2);
  });
});
