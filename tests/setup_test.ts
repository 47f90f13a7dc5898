/**
 * The README's set-up commands on a machine without ffmpeg: scripts/setup.sh sees what is
 * missing, and every command that needs ffmpeg says so in one line instead of a stack trace.
 * ffmpeg is hidden by a PATH of links to everything in /usr/bin except ffmpeg and ffprobe.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { withTempDir } from "./helpers/temp.ts";
import { CLI, runProcess } from "./helpers/vpo.ts";
import { CLI_PERMISSIONS } from "../scripts/permissions.ts";
import { MISSING_FFMPEG_LINE as MISSING_LINE, pathWithout } from "./helpers/hidden_path.ts";

Deno.test("setup.sh --dry-run installs ffmpeg after apt-get update when it is missing", async () => {
  await withTempDir(async (dir) => {
    const bin = await pathWithout(dir, ["ffmpeg", "ffprobe"]);
    const r = await runProcess("bash", ["scripts/setup.sh", "--dry-run"], { PATH: bin });
    assert.deepEqual(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split("\n");
    assert.deepEqual(lines[0], "setup.sh: installing ffmpeg");
    assert.match(lines[1], /^\+ env DEBIAN_FRONTEND=noninteractive apt-get update/);
    assert.match(lines[2], /apt-get install -y -q --no-install-recommends ffmpeg$/);
    assert.deepEqual(lines.length, 3, r.stdout);
    // With everything present, it has nothing to install.
    const full = await runProcess("bash", ["scripts/setup.sh", "--dry-run"], {
      PATH: "/usr/bin:/bin",
    });
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
      runProcess("setpriv", [
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
    const demo = await runProcess(Deno.execPath(), ["task", "demo"], env);
    assert.deepEqual(demo.code, 1);
    // `deno task` echoes the task's command line first; vpo's own output is the one line.
    const demoLines = demo.stderr.trim().split("\n").filter((l) => !l.startsWith("Task "));
    assert.deepEqual(demoLines, [MISSING_LINE]);
    assert.deepEqual(demo.stdout, "");
    for (const args of [["transcode", dir], ["jobs", "start"]]) {
      const r = await runProcess(
        Deno.execPath(),
        ["run", "--quiet", ...CLI_PERMISSIONS, CLI, ...args],
        env,
      );
      assert.deepEqual([r.code, r.stderr, r.stdout], [1, MISSING_LINE + "\n", ""], args.join(" "));
    }
    const version = await runProcess(Deno.execPath(), [
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

Deno.test('a tool on PATH that cannot be run is said so, never "not found"', async () => {
  await withTempDir(async (dir) => {
    const bin = await pathWithout(dir, ["ffmpeg", "ffprobe"]);
    const mine = join(dir, "mine");
    await Deno.mkdir(mine);
    await Deno.symlink(await which("ffmpeg"), join(mine, "ffmpeg"));
    await Deno.writeTextFile(join(mine, "ffprobe"), "#!/bin/sh\n"); // mode 0644
    const env = { PATH: `${mine}:${bin}`, VPO_HOME: join(dir, "home") };
    const vpo = (args: string[]) =>
      runProcess(Deno.execPath(), ["run", "--quiet", ...CLI_PERMISSIONS, CLI, ...args], env);
    const transcode = await vpo(["transcode", dir]);
    assert.deepEqual(
      [transcode.code, transcode.stderr],
      [1, `vpo: cannot run ${mine}/ffprobe: not executable\n`],
    );
    const version = await vpo(["--version"]);
    assert.match(
      version.stdout,
      new RegExp(`^ffprobe cannot be run: ${mine}/ffprobe: not executable$`, "m"),
    );
    const doctor = await vpo(["doctor"]);
    assert.match(doctor.stdout, new RegExp(`^FAIL +ffprobe: ${mine}/ffprobe: not executable`, "m"));
    assert.doesNotMatch(doctor.stdout, /ffprobe.*not found/);
  });
});

async function which(tool: string): Promise<string> {
  const out = await new Deno.Command("sh", { args: ["-c", `command -v ${tool}`] }).output();
  return new TextDecoder().decode(out.stdout).trim();
}

Deno.test("vpo --version names vpo's version and where ffmpeg is, without running it", async () => {
  await withTempDir(async (dir) => {
    // Stand-ins that leave a mark when run: --version must answer without starting either.
    const marks = join(dir, "started");
    for (const tool of ["ffmpeg", "ffprobe"]) {
      await Deno.writeTextFile(join(dir, tool), `#!/bin/sh\necho ${tool} >> '${marks}'\n`);
      await Deno.chmod(join(dir, tool), 0o755);
    }
    const r = await runProcess(Deno.execPath(), [
      "run",
      "--quiet",
      ...CLI_PERMISSIONS,
      CLI,
      "--version",
    ], {
      PATH: `${dir}:${Deno.env.get("PATH") ?? ""}`,
    });
    assert.deepEqual([r.code, r.stderr], [0, ""]);
    const [vpo, ...tools] = r.stdout.trimEnd().split("\n");
    assert.match(vpo, /^vpo \d+\.\d+\.\d+$/);
    assert.deepEqual(tools, [
      `ffmpeg at ${dir}/ffmpeg`,
      `ffprobe at ${dir}/ffprobe`,
      "(their versions and encoders: vpo doctor)",
    ]);
    assert.equal(await Deno.stat(marks).then(() => "started", () => "not started"), "not started");
  });
});
