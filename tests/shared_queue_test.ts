/**
 * Who may write the queue, with real users and groups (created here, removed after; root only):
 * the supported group-shared queue works across users, and every command that writes refuses a
 * queue that others than its allowed writers can write. A root worker warns about library
 * folders other users can write. A user who runs vpo from a directory they cannot enter
 * (`sudo -u media vpo ...` from /root) gets their job done all the same.
 *
 * Every vpo here runs in a working directory the test chose, never the one the test was started
 * in: a checkout under a 0700 directory must not change what these tests see.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeClip } from "./helpers/clips.ts";
import { Racer } from "./helpers/racer.ts";
import { MISSING_FFMPEG_LINE, pathWithout } from "./helpers/hidden_path.ts";
import { ROOT } from "./helpers/vpo.ts";
import { withTempDir } from "./helpers/temp.ts";
import { CLI_PERMISSIONS } from "../scripts/permissions.ts";
import { disposeHome, makeMediaHome, WorkerProcess } from "./helpers/worker.ts";

const isRoot = Deno.uid() === 0;
const dec = new TextDecoder();

async function run(cmd: string, args: string[]): Promise<string> {
  const out = await new Deno.Command(cmd, { args, stdin: "null" }).output();
  if (!out.success) throw new Error(`${cmd} ${args.join(" ")}: ${dec.decode(out.stderr)}`);
  return dec.decode(out.stdout);
}

/** A group and two member users, removed (with the group) when `fn` ends. */
async function withUsers(
  fn: (group: string, users: string[]) => Promise<void>,
): Promise<void> {
  const tag = crypto.getRandomValues(new Uint32Array(1))[0].toString(36);
  const group = `vpoq${tag}`;
  const users = [`vpoa${tag}`, `vpob${tag}`];
  await run("groupadd", [group]);
  try {
    for (const u of users) {
      await run("useradd", [
        "-M",
        "-N",
        "-g",
        "nogroup",
        "-G",
        group,
        "-s",
        "/usr/sbin/nologin",
        u,
      ]);
    }
    await fn(group, users);
  } finally {
    for (const u of users) await run("userdel", [u]).catch(() => {});
    await run("groupdel", [group]).catch(() => {});
  }
}

/** Where and with what PATH a bundled vpo runs. */
interface RunOptions {
  /** Its working directory; default `base`, which every user can enter. */
  cwd?: string;
  /** Its PATH; default the test's. */
  path?: string;
}

interface Setup {
  base: string;
  home: string;
  media: string;
  /** Runs the bundled vpo as `user` (root when null). */
  vpo(
    user: string | null,
    args: string[],
    options?: RunOptions,
  ): Promise<{ code: number; stdout: string; stderr: string }>;
}

/** A bundle of the CLI other users can run (they cannot read root's Deno cache), and dirs. */
async function withSetup(fn: (s: Setup) => Promise<void>): Promise<void> {
  await withTempDir(async (base) => {
    await Deno.chmod(base, 0o755);
    const bundle = join(base, "vpo.js");
    await run(Deno.execPath(), ["bundle", "--quiet", join(ROOT, "cli.ts"), "-o", bundle]);
    await Deno.chmod(bundle, 0o644);
    const home = join(base, "home");
    const media = join(base, "media");
    const vpo: Setup["vpo"] = async (user, args, options = {}) => {
      const deno = [Deno.execPath(), "run", "--quiet", ...CLI_PERMISSIONS, bundle, ...args];
      const denoDir = join(base, `deno-${user ?? "root"}`);
      await Deno.mkdir(denoDir, { recursive: true });
      if (user) await run("chown", [user, denoDir]);
      const argv = user ? ["--reuid", user, "--regid", "nogroup", "--init-groups", ...deno] : deno;
      const out = await new Deno.Command(user ? "setpriv" : argv.shift()!, {
        args: argv,
        cwd: options.cwd ?? base,
        clearEnv: true,
        env: {
          PATH: options.path ?? Deno.env.get("PATH")!,
          VPO_HOME: home,
          DENO_DIR: denoDir,
          NO_COLOR: "1",
        },
        stdin: "null",
      }).output();
      return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
    };
    await fn({ base, home, media, vpo });
  }, "vpo-shared-test-");
}

/** The documented set-up: the admin makes the home and the library the group's (setgid 2770). */
async function makeSharedDirs(group: string, dirs: string[]): Promise<void> {
  for (const dir of dirs) {
    await Deno.mkdir(dir);
    await run("chgrp", [group, dir]);
    await Deno.chmod(dir, 0o2770);
  }
}

const modeOf = (path: string) => ((Deno.statSync(path).mode ?? 0) & 0o7777).toString(8);

Deno.test({
  name: "a group-shared queue: one member queues, another member's worker runs the job",
  ignore: !isRoot,
  fn: async () => {
    await withUsers(async (group, [alice, bob]) => {
      await withSetup(async ({ home, media, vpo }) => {
        await makeSharedDirs(group, [home, media]);
        await Deno.writeTextFile(join(home, "config.yaml"), `jobs:\n  shared_group: ${group}\n`);
        const clip = await makeClip(join(media, "clip.mkv"));
        await run("chgrp", [group, clip]);
        await Deno.chmod(clip, 0o660);

        const queued = await vpo(alice, ["transcode", clip]);
        assert.equal(queued.code, 0, queued.stdout + queued.stderr);
        const [name] = [...Deno.readDirSync(join(home, "jobs", "queued"))].map((e) => e.name);
        const jobFile = join(home, "jobs", "queued", name);
        assert.equal(modeOf(jobFile), "660");
        assert.equal(modeOf(join(home, "jobs", "queued")), "2770");

        const started = await vpo(bob, ["jobs", "start"]);
        assert.equal(started.code, 0, started.stdout + started.stderr);
        assert.match(started.stdout, /completed/);
        const status = JSON.parse((await vpo(alice, ["jobs", "status", "--json"])).stdout);
        assert.equal(status.completed, 1);
        assert.equal(status.queued + status.running + status.failed, 0);

        // The library is shared too: both members wrote to it, and each reads the other's lines.
        const library = join(home, "library");
        for (const dir of ["", "decisions", "probes", "queued"]) {
          assert.equal(modeOf(join(library, dir)), "2770", dir);
        }
        for (const dir of ["decisions", "probes"]) {
          for (const e of Deno.readDirSync(join(library, dir))) {
            assert.equal(modeOf(join(library, dir, e.name)), "660", `${dir}/${e.name}`);
          }
        }
        const again = await vpo(alice, ["transcode", clip]);
        assert.equal(again.code, 0, again.stdout + again.stderr);
        assert.match(again.stdout, /^0 queued, 1 remembered \(1 converted\), /m);
        assert.equal(again.stderr, "");
      });
    });
  },
});

Deno.test({
  name:
    "row 1: a member swapping another member's beat for a link never gets a private file written",
  ignore: !isRoot,
  fn: async () => {
    await withUsers(async (group, [alice, bob]) => {
      await withSetup(async ({ base, home, media, vpo }) => {
        await makeSharedDirs(group, [home, media]);
        await Deno.writeTextFile(
          join(home, "config.yaml"),
          `jobs:\n  shared_group: ${group}\nworker:\n  heartbeat_interval: 0.1\n`,
        );
        // Alice's own private file, which Bob can neither read nor write.
        const privateDir = join(base, "alice-private");
        await Deno.mkdir(privateDir, { mode: 0o700 });
        const secret = join(privateDir, "secret");
        await Deno.writeTextFile(secret, "alice's secret\n", { mode: 0o600 });
        await run("chown", ["-R", alice, privateDir]);
        const clip = await makeClip(join(media, "clip.mkv"), { size: "640x360", duration: 14 });
        await run("chgrp", [group, clip]);
        await Deno.chmod(clip, 0o660);
        const policy = join(base, "slow.yaml");
        await Deno.writeTextFile(
          policy,
          "schema_version: 1\ntranscode:\n  target_video_codec: hevc\n  preset: slower\n",
        );
        await Deno.chmod(policy, 0o644);
        assert.equal((await vpo(alice, ["transcode", "--policy", policy, clip])).code, 0);

        // Alice's worker heartbeats for 4 s; Bob swaps her beat file and his link to her secret.
        const worker = vpo(alice, ["jobs", "start", "--max-duration", "4"]);
        const live = join(home, "jobs", "live");
        let beat: string | undefined;
        for (let i = 0; i < 200 && !beat; i++) {
          await new Promise((r) => setTimeout(r, 50));
          beat = [...Deno.readDirSync(live)].find((e) => e.name.endsWith(".beat"))?.name;
        }
        assert.ok(beat, "alice's worker made its beat file");
        const link = join(live, "bob.link");
        await run("setpriv", [
          ...["--reuid", bob, "--regid", "nogroup", "--init-groups"],
          ...["ln", "-s", secret, link],
        ]);
        const racer = await Racer.start(join(live, beat), link, 10, bob);
        const end = await worker;
        assert.ok(await racer.stop() > 0, "bob's racer swapped");
        assert.equal(await Deno.readTextFile(secret), "alice's secret\n");
        assert.equal(end.code, 0, end.stdout + end.stderr);
      });
    });
  },
});

Deno.test({
  name: "commands that write refuse a queue others than its allowed writers can write",
  ignore: !isRoot,
  fn: async (t) => {
    await withUsers(async (group, [alice, bob]) => {
      await withSetup(async ({ home, vpo }) => {
        const queued = join(home, "jobs", "queued");
        await t.step("private queue: another user's command is refused", async () => {
          await Deno.mkdir(home);
          await run("chown", [alice, home]);
          await Deno.chmod(home, 0o700);
          assert.equal((await vpo(alice, ["jobs", "recover"])).code, 0, "alice makes her home");
          await Deno.chmod(home, 0o755); // let bob in, still not writable by him
          const out = await vpo(bob, ["jobs", "recover"]);
          assert.match(out.stderr, /^vpo: .*\/home belongs to uid \d+, not to you \(uid \d+\)/);
          assert.equal(out.code, 1);
        });
        await t.step("private queue writable by everyone or by its group", async () => {
          await Deno.chmod(queued, 0o777);
          const world = await vpo(alice, ["jobs", "start"]);
          assert.equal(
            world.stderr,
            `vpo: ${queued} is writable by everyone (mode 0777); run: chmod go-w ${queued}\n`,
          );
          assert.equal(world.code, 1);
          await Deno.chmod(queued, 0o770);
          await run("chgrp", [group, queued]);
          const grouped = await vpo(alice, ["transcode", "/nonexistent.mkv"]);
          assert.equal(
            grouped.stderr,
            `vpo: ${queued} is writable by group ${group} (mode 0770): a private queue is its ` +
              `owner's alone (run: chmod g-w ${queued}, or set jobs.shared_group: ${group})\n`,
          );
          assert.equal(grouped.code, 1);
        });
        await t.step("shared queue: a directory writable by another group", async () => {
          await Deno.writeTextFile(join(home, "config.yaml"), `jobs:\n  shared_group: ${group}\n`);
          await Deno.chmod(join(home, "config.yaml"), 0o644);
          assert.equal((await vpo(alice, ["jobs", "recover"])).code, 0, "alice shares her home");
          assert.equal(modeOf(queued), "2770");
          const logs = join(home, "logs");
          await run("chgrp", ["nogroup", logs]);
          const out = await vpo(bob, ["jobs", "recover"]);
          assert.equal(
            out.stderr,
            `vpo: ${logs} is writable by group nogroup, not the shared group ${group} ` +
              `(mode 2770); run: chgrp ${group} ${logs}\n`,
          );
          assert.equal(out.code, 1);
        });
      });
    });
  },
});

Deno.test({
  name:
    "a member's own config.yaml in a shared home is refused: its notify command never runs as another member",
  ignore: !isRoot,
  fn: async () => {
    await withUsers(async (group, [alice, bob]) => {
      await withSetup(async ({ base, home, media, vpo }) => {
        await makeSharedDirs(group, [home, media]);
        const config = join(home, "config.yaml");
        await Deno.writeTextFile(config, `jobs:\n  shared_group: ${group}\n`, { mode: 0o640 });
        const clip = await makeClip(join(media, "clip.mkv"));
        await run("chgrp", [group, clip]);
        await Deno.chmod(clip, 0o660);
        assert.equal((await vpo(bob, ["transcode", clip])).code, 0);
        // Where the hook would leave its mark, as whoever ran it.
        const out = join(base, "out");
        await Deno.mkdir(out);
        await Deno.chmod(out, 0o1777);
        const mark = join(out, "ran");
        // Bob may rename names in the shared home: he sets the admin's config aside for his own.
        const own = `jobs:\n  shared_group: ${group}\nnotify:\n  command: [touch, ${mark}]\n`;
        await run("setpriv", [
          ...["--reuid", bob, "--regid", "nogroup", "--init-groups", "sh", "-c"],
          `mv "$1" "$1.admin" && printf '%s' "$2" > "$1"`,
          "sh",
          config,
          own,
        ]);
        const started = await vpo(alice, ["jobs", "start"]);
        assert.equal(started.code, 1, started.stdout + started.stderr);
        const bobUid = (await run("id", ["-u", bob])).trim();
        assert.equal(
          started.stderr,
          `vpo: ${config} belongs to uid ${bobUid}, not to root, you or the home's owner: in a ` +
            "shared queue any member could otherwise make every member's worker run its notify " +
            "command\n",
        );
        assert.throws(() => Deno.lstatSync(mark), Deno.errors.NotFound, "bob's hook ran as alice");
        // The admin's own file, even group-writable, is refused the same way.
        await Deno.rename(`${config}.admin`, config);
        await Deno.chmod(config, 0o660);
        const writable = await vpo(alice, ["jobs", "start"]);
        assert.match(writable.stderr, /is writable by its group .*run: chmod go-w/);
        await Deno.chmod(config, 0o640);
        const admin = await vpo(alice, ["jobs", "start"]);
        assert.equal(admin.code, 0, admin.stdout + admin.stderr);
        assert.match(admin.stdout, /completed/);
      });
    });
  },
});

Deno.test({
  name: "run from a directory its user cannot enter, vpo queues and converts all the same",
  ignore: !isRoot,
  fn: async () => {
    await withUsers(async (_group, [alice]) => {
      await withSetup(async ({ base, home, media, vpo }) => {
        // As `sudo -u alice vpo ...` typed in root's 0700 home.
        const rootOnly = join(base, "root-only");
        await Deno.mkdir(rootOnly, { mode: 0o700 });
        for (const dir of [home, media]) {
          await Deno.mkdir(dir, { mode: 0o700 });
          await run("chown", [alice, dir]);
        }
        const clip = await makeClip(join(media, "clip.mkv"));
        await run("chown", [alice, clip]);
        const here = { cwd: rootOnly };

        const queued = await vpo(alice, ["transcode", clip], here);
        assert.equal(queued.code, 0, queued.stdout + queued.stderr);
        assert.match(queued.stdout, /^queued\s+\S+ \S*clip\.mkv: h264/m);
        const started = await vpo(alice, ["jobs", "start"], here);
        assert.equal(started.code, 0, started.stdout + started.stderr);
        assert.match(started.stdout, /completed \S+ clip\.mkv: /);
        assert.deepEqual(
          [...Deno.readDirSync(media)].map((e) => e.name).sort(),
          ["clip.mkv", "clip.mkv.original"],
        );

        // A tool that truly is missing is still the one line that says so.
        const bin = await pathWithout(base, ["ffmpeg", "ffprobe"]);
        const missing = await vpo(alice, ["transcode", clip], { ...here, path: bin });
        assert.deepEqual([missing.code, missing.stderr], [1, MISSING_FFMPEG_LINE + "\n"]);
      });
    });
  },
});

Deno.test({
  name: "a root worker warns about library folders other users can write",
  ignore: !isRoot,
  fn: async () => {
    const { home, media } = await makeMediaHome();
    try {
      const clip = await makeClip(join(media, "clip.mkv"));
      assert.equal((await home.run(["transcode", clip])).code, 0);
      await Deno.chmod(media, 0o777);
      const worker = WorkerProcess.start(home, ["--max-files", "1"]);
      const end = await worker.exit();
      assert.equal(end.code, 0, end.stderr);
      assert.equal(
        end.stderr,
        `vpo: warning: running as root over folders other users can write: ${media} ` +
          "(writable by group root, everyone); run the worker as the library's owner instead\n",
      );
    } finally {
      await disposeHome(home);
    }
  },
});
