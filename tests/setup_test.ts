/**
 * The README's set-up commands on a machine without ffmpeg: scripts/setup.sh sees what is
 * missing, and every command that needs ffmpeg says so in one line instead of a stack trace.
 * ffmpeg is hidden by a PATH of links to everything in /usr/bin except ffmpeg and ffprobe.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { withTempDir } from "./helpers/temp.ts";
import { CLI, ROOT } from "./helpers/vpo.ts";
import { CLI_PERMISSIONS } from "../scripts/permissions.ts";
import { pathWithout } from "./helpers/hidden_path.ts";

const MISSING_LINE =
  "vpo: ffmpeg and ffprobe not found on PATH: install it with `apt-get install ffmpeg` " +
  "(as root; `sudo apt-get install ffmpeg` otherwise) or run scripts/setup.sh from the vpo checkout";

async function run(cmd: string, args: string[], env: Record<string, string>) {
  const out = await new Deno.Command(cmd, {
    args,
    cwd: ROOT,
    env: { NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test("setup.sh --dry-run installs ffmpeg after apt-get update when it is missing", async () => {
  await withTempDir(async (dir) => {
    const bin = await pathWithout(dir, ["ffmpeg", "ffprobe"]);
    const r = await run("bash", ["scripts/setup.sh", "--dry-run"], { PATH: bin });
    assert.deepEqual(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split("\n");
    assert.deepEqual(lines[0], "setup.sh: installing ffmpeg");
    assert.match(lines[1], /^\+ env DEBIAN_FRONTEND=noninteractive apt-get update/);
    assert.match(lines[2], /apt-get install -y -q --no-install-recommends ffmpeg$/);
    assert.deepEqual(lines.length, 3, r.stdout);
    // With everything present, it has nothing to install.
    const full = await run("bash", ["scripts/setup.sh", "--dry-run"], { PATH: "/usr/bin:/bin" });
    assert.deepEqual(full.stdout, "");
  });
});

Deno.test({
  name: "setup.sh as a user: installs through sudo, or says in one line that it needs root",
  ignore: Deno.uid() !== 0, // becoming the user "nobody" takes root
}, async () => {
  await withTempDir(async (dir) => {
    await Deno.chmod(dir, 0o755); // the user "nobody" must reach the fake sudo and bin links
    const bin = await pathWithout(dir, ["ffmpeg", "ffprobe", "sudo"]);
    const sudoDir = join(dir, "sudo-bin");
    await Deno.mkdir(sudoDir);
    await Deno.writeTextFile(join(sudoDir, "sudo"), '#!/bin/sh\nexec "$@"\n');
    await Deno.chmod(join(sudoDir, "sudo"), 0o755);
    const asNobody = (path: string) =>
      run("setpriv", [
        ...["--reuid=65534", "--regid=65534", "--clear-groups"],
        ...["env", `PATH=${path}`, "bash", "scripts/setup.sh", "--dry-run"],
      ], {});
    const withSudo = await asNobody(`${sudoDir}:${bin}`);
    assert.equal(withSudo.code, 0, withSudo.stderr);
    const lines = withSudo.stdout.trim().split("\n");
    assert.match(lines[1], /^\+ sudo env DEBIAN_FRONTEND=noninteractive apt-get update/);
    assert.match(lines[2], /^\+ sudo env .*apt-get install .* ffmpeg$/);
    const noSudo = await asNobody(bin);
    assert.equal(noSudo.code, 1);
    assert.match(
      noSudo.stderr,
      /^setup\.sh: installing needs root: run it as root, or as a user with sudo \(it would run: env .*apt-get update -q\)\n$/,
    );
  });
});

Deno.test("without ffmpeg on PATH: demo, transcode and jobs start say so in one line", async () => {
  await withTempDir(async (dir) => {
    const bin = await pathWithout(dir, ["ffmpeg", "ffprobe"]);
    const env = { PATH: bin, VPO_HOME: join(dir, "home") };
    const demo = await run(Deno.execPath(), ["task", "demo"], env);
    assert.deepEqual(demo.code, 1);
    // `deno task` echoes the task's command line first; vpo's own output is the one line.
    const demoLines = demo.stderr.trim().split("\n").filter((l) => !l.startsWith("Task "));
    assert.deepEqual(demoLines, [MISSING_LINE]);
    assert.deepEqual(demo.stdout, "");
    for (const args of [["transcode", dir], ["jobs", "start"]]) {
      const r = await run(
        Deno.execPath(),
        ["run", "--quiet", ...CLI_PERMISSIONS, CLI, ...args],
        env,
      );
      assert.deepEqual([r.code, r.stderr, r.stdout], [1, MISSING_LINE + "\n", ""], args.join(" "));
    }
    const version = await run(Deno.execPath(), [
      "run",
      "--quiet",
      ...CLI_PERMISSIONS,
      CLI,
      "--version",
    ], env);
    assert.deepEqual(version.code, 0);
    assert.deepEqual(version.stdout.split("\n").slice(1, 3), [
      "ffmpeg not found on PATH",
      "ffprobe not found on PATH",
    ]);
  });
});

Deno.test("vpo --version names vpo's version and the ffmpeg it found", async () => {
  const r = await run(Deno.execPath(), ["run", "--quiet", ...CLI_PERMISSIONS, CLI, "--version"], {
    PATH: Deno.env.get("PATH") ?? "",
  });
  assert.deepEqual(r.code, 0);
  const [vpo, ffmpeg] = r.stdout.split("\n");
  assert.match(vpo, /^vpo \d+\.\d+\.\d+$/);
  assert.match(ffmpeg, /^ffmpeg \S+ \(\/.*\/ffmpeg\)$/);
  assert(!r.stderr.includes("at "), r.stderr);
});
