/**
 * A hostile writer of the home, racing vpo: names swapped for a link or a FIFO with
 * `renameat2(RENAME_EXCHANGE)` between any two of vpo's system calls (tests/helpers/racer.ts),
 * and whole directories of the home swapped for a link to somewhere else while vpo writes in
 * them. Nothing outside the home may be read, written or created, and nothing may hang.
 * (Issue 16, rows 3 to 6; row 1, the same race between two real users, is in
 * shared_queue_test.ts.)
 */
import assert from "node:assert/strict";
import { basename, join } from "node:path";
import { claimCores } from "../src/worker/cpu_claim.ts";
import { coverArtFile, coversToReattach, extractCoverArt } from "../src/media/cover_art.ts";
import { buildFfmpegArgs } from "../src/media/ffmpeg_args.ts";
import { runFfmpeg } from "../src/media/ffmpeg_runner.ts";
import { type EncodePlan, planTranscode } from "../src/media/plan.ts";
import { probe } from "../src/media/probe.ts";
import { LineLog } from "../src/library/line_log.ts";
import { takeMark } from "../src/library/queue_marks.ts";
import { LibraryLayout, VpoHome } from "../src/queue/layout.ts";
import { writeBeat } from "../src/queue/heartbeat.ts";
import { makeClip } from "./helpers/clips.ts";
import { TEST_POLICY } from "./helpers/media_info.ts";
import { jobRecord, writeJobFile } from "./helpers/queue.ts";
import { Racer } from "./helpers/racer.ts";
import { ServeProcess } from "./helpers/serve.ts";
import { withTempDir } from "./helpers/temp.ts";
import { TempHome } from "./helpers/vpo.ts";
import { PrivateDir, UntrustedDirectoryError } from "../src/util/safe_open.ts";

const SECRET = "TOP SECRET of the worker's user\n";

/** A private file of the worker's user, outside the home: nothing may read or change it. */
async function secretFile(dir: string): Promise<string> {
  const path = join(dir, "secret");
  await Deno.writeTextFile(path, SECRET, { mode: 0o600 });
  return path;
}

async function mkfifo(path: string): Promise<void> {
  const out = await new Deno.Command("mkfifo", { args: [path] }).output();
  assert.ok(out.success);
}

/** Runs `use` while `a` and `b` are swapped over and over; asserts the racer really swapped. */
async function racing<T>(a: string, b: string, use: () => Promise<T>): Promise<T> {
  const racer = await Racer.start(a, b);
  try {
    return await use();
  } finally {
    assert.ok(await racer.stop() > 0, "the racer swapped");
  }
}

Deno.test("row 3: vpo serve's log view never serves a swapped-in link's target, never hangs on a FIFO", async () => {
  await using home = await TempHome.create();
  const id = "ab".repeat(16);
  await writeJobFile(home.jobsDir, "failed", jobRecord(id, { file: "/v/a.mkv" }, { error: "e" }));
  const logs = join(home.vpoHome, "logs");
  await Deno.mkdir(logs, { mode: 0o700 });
  const log = join(logs, `${id}.log`);
  await Deno.writeTextFile(log, "ffmpeg's own log\n");
  await Deno.symlink(await secretFile(home.dir), join(logs, "evil"));
  await mkfifo(join(logs, "fifo"));
  const server = await ServeProcess.start(home);
  try {
    const get = async () => {
      const res = await server.fetch(`api/jobs/${id}/log`, { signal: AbortSignal.timeout(5000) });
      return (await res.json()).text as string;
    };
    const leaked = await racing(log, join(logs, "evil"), async () => {
      let n = 0;
      for (let i = 0; i < 300; i++) if ((await get()).includes("TOP SECRET")) n++;
      return n;
    });
    assert.equal(leaked, 0, `${leaked} of 300 answers held the secret`);
    // Each request must answer: a FIFO swapped in is refused, never waited on.
    await racing(log, join(logs, "fifo"), async () => {
      for (let i = 0; i < 50; i++) await get();
    });
  } finally {
    await server.stop();
  }
});

Deno.test("row 4: ffmpeg's log is never written through a link swapped in at its name", async () => {
  await withTempDir(async (dir) => {
    const secret = await secretFile(dir);
    const logs = join(dir, "logs");
    await Deno.mkdir(logs, { mode: 0o700 });
    const log = join(logs, "job.log");
    await Deno.writeTextFile(log, "");
    await Deno.symlink(secret, join(logs, "evil"));
    await racing(log, join(logs, "evil"), async () => {
      // `true` stands in for ffmpeg: what is raced is opening the log and writing its header.
      for (let i = 0; i < 300; i++) {
        await runFfmpeg({ args: [], logPath: log, ffmpeg: "true", nice: null }).catch(() => {});
      }
    });
    assert.equal(await Deno.readTextFile(secret), SECRET);
  }, "vpo-race-");
});

Deno.test("row 5: a link at a core's lock file is not followed, nor created through", async () => {
  await withTempDir(async (dir) => {
    const home = new VpoHome(join(dir, "home"));
    await Deno.mkdir(home.cpuDir(), { recursive: true, mode: 0o700 });
    const target = join(dir, "made-outside");
    await Deno.symlink(target, join(home.cpuDir(), "core-0.lock"));
    const claim = await claimCores(home, 1, 2);
    try {
      assert.deepEqual(claim.cores, [1], "core 0's lock is not vpo's: another core is taken");
      assert.throws(() => Deno.lstatSync(target), Deno.errors.NotFound);
    } finally {
      claim.release();
    }
  }, "vpo-race-");
});

Deno.test("row 6: a home directory swapped for a link while vpo writes in it gets nothing outside", async () => {
  await withTempDir(async (dir) => {
    const home = new VpoHome(join(dir, "home"));
    const outside = join(dir, "outside");
    await Deno.mkdir(outside);
    const library = new LibraryLayout(join(home.root, "library"));
    const dirs = [home.logsDir, home.jobs.liveDir, home.cpuDir(), ...library.allDirs()];
    for (const d of dirs) await Deno.mkdir(d, { recursive: true, mode: 0o700 });
    // For each directory in turn: the racer swaps it with a link to `outside`, while vpo writes.
    const writers: [string, (i: number) => Promise<unknown>][] = [
      [
        home.logsDir,
        (i) => runFfmpeg({ args: [], logPath: home.logPath(`j${i}`), ffmpeg: "true", nice: null }),
      ],
      [library.probesDir, (i) => {
        const log = new LineLog(library.probesDir, () => null, () => "");
        log.add({ at: i });
        return Promise.resolve(log.flush());
      }],
      [
        library.marksDir,
        (i) =>
          Promise.resolve(
            takeMark(library, { path: `/v/${i}.mkv`, size: i, mtime_ms: 1 }, () => false),
          ),
      ],
      [home.jobs.liveDir, (i) => writeBeat(join(home.jobs.liveDir, `j${i}.beat`), true)],
      [home.cpuDir(), async () => (await claimCores(home, 1, 4)).release()],
    ];
    for (const [target, write] of writers) {
      const link = `${target}.evil`;
      await Deno.symlink(outside, link);
      await racing(target, link, async () => {
        for (let i = 0; i < 200; i++) {
          try {
            await write(i);
          } catch {
            // Refused: the directory was a link at that moment.
          }
        }
      });
      // Whichever way the racer left the two names: the real directory back at its own.
      if (Deno.lstatSync(target).isSymlink) {
        Deno.removeSync(target);
        Deno.renameSync(link, target);
      } else {
        Deno.removeSync(link);
      }
      const landed = [...Deno.readDirSync(outside)].map((e) => e.name);
      assert.deepEqual(landed, [], `written outside the home through ${target}`);
    }
  }, "vpo-race-");
});

/**
 * Puts `covers` and `link` back as they were before a round of the racer: `covers` free, `link` a
 * link to `evil`. The racer swaps only while both names exist, so once one is gone it waits.
 */
function resetSwap(covers: string, link: string, evil: string): void {
  const kind = (name: string) => {
    try {
      return Deno.lstatSync(name);
    } catch {
      return null;
    }
  };
  // vpo's own directory (empty), wherever the racer left it. The racer swaps while both names
  // exist, so between a look and a removal the link may be where the directory was: the removal
  // then fails, or takes the link, and the next round goes on. Once one name is left, it is still.
  const names = [covers, link];
  const settled = () =>
    names.some((name) => kind(name) === null) && names.every((name) => !kind(name)?.isDirectory);
  while (!settled()) {
    for (const name of names) {
      try {
        if (kind(name)?.isDirectory) Deno.removeSync(name);
      } catch {
        // Swapped meanwhile.
      }
    }
  }
  if (kind(covers)) Deno.renameSync(covers, link);
  if (!kind(link)) Deno.symlinkSync(evil, link);
}

Deno.test("cover art: the covers' directory swapped for a link as vpo makes it is refused by name, nothing made there", async () => {
  await withTempDir(async (dir) => {
    const evil = join(dir, "evil");
    await Deno.mkdir(evil);
    const covers = join(dir, "covers-x");
    const link = `${covers}.evil`;
    await Deno.symlink(evil, link);
    await racing(covers, link, () => {
      for (let i = 0; i < 300; i++) {
        try {
          PrivateDir.create(covers)[Symbol.dispose]();
        } catch (err) {
          // The one refusal allowed: a clear line naming the directory and what it became.
          assert.ok(err instanceof UntrustedDirectoryError, `not a refusal: ${err}`);
          assert.match(
            err.message,
            new RegExp(`^${covers}: (swapped for .*|moved away) as vpo made it; `),
          );
        }
        resetSwap(covers, link, evil);
      }
      return Promise.resolve();
    });
    // About one make in ten is refused here; each refusal on the old code was a raw ENOTDIR.
    assert.deepEqual([...Deno.readDirSync(evil)], [], "made in the directory behind the link");
  }, "vpo-race-");
});

Deno.test("cover art: a directory planted or swapped in at the covers' name gets nothing written, gives nothing read", async () => {
  await withTempDir(async (dir) => {
    const secret = await secretFile(dir);
    const source = await makeClip(join(dir, "film.mkv"), { coverArt: true, size: "160x90" });
    const plan = planTranscode(TEST_POLICY, await probe(source)) as EncodePlan;
    const [cover] = coversToReattach(plan);
    // Another member of a shared queue prepares a directory whose cover file is a link to a file
    // of the worker's user.
    const evil = join(dir, "evil");
    await Deno.mkdir(evil);
    await Deno.symlink(secret, coverArtFile(evil, cover));
    // Planted at the very name vpo uses (`jobs/.tmp/covers-<id>-<token>`), before vpo makes it.
    const planted = join(dir, "covers-planted");
    await Deno.mkdir(planted);
    await Deno.symlink(secret, coverArtFile(planted, cover));
    await assert.rejects(extractCoverArt(plan, source, planted), Deno.errors.AlreadyExists);
    assert.equal(await Deno.readTextFile(secret), SECRET);
    // Swapped for a link to that directory while ffmpeg extracts the cover and attaches it.
    for (let i = 0; i < 4; i++) {
      const covers = join(dir, `covers-${i}`);
      const link = `${covers}.evil`;
      await Deno.symlink(evil, link);
      const output = join(dir, `out-${i}.mkv`);
      const muxed = await racing(covers, link, async () => {
        try {
          using made = await extractCoverArt(plan, source, covers);
          const args = buildFfmpegArgs(plan, source, output, { coverArtDir: made?.pathForChild });
          const run = await runFfmpeg({ args, logPath: join(dir, "ffmpeg.log"), nice: null });
          assert.ok(run.success, run.tail.join("\n"));
          return true;
        } catch (err) {
          // The other safe outcome: the swap fell between making the directory and opening it.
          if (!(err instanceof UntrustedDirectoryError)) throw err;
          assert.match(err.message, new RegExp(`^${covers}: .* as vpo made it; vpo does not`));
          return false;
        }
      });
      assert.equal(await Deno.readTextFile(secret), SECRET, "the secret was overwritten");
      assert.deepEqual(
        [...Deno.readDirSync(evil)].map((e) => e.name),
        [basename(coverArtFile(evil, cover))],
        "made in the directory behind the link",
      );
      if (muxed) {
        const bytes = new TextDecoder().decode(await Deno.readFile(output));
        assert.ok(!bytes.includes("TOP SECRET"), "the secret was attached to the output");
      }
    }
  }, "vpo-race-");
});
