/**
 * The shipped service files: the systemd units pass `systemd-analyze verify` without a warning,
 * the cron file passes `crontab -n`, the logrotate file `logrotate --debug`, and the settings the
 * worker's stop protocol relies on are there.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { withTempDir } from "./helpers/temp.ts";
import { ROOT } from "./helpers/vpo.ts";

const CONTRIB = join(ROOT, "contrib");
const UNITS = ["vpo-worker.service", "vpo-nightly.service", "vpo-nightly.timer"];

async function run(cmd: string, args: string[]) {
  const out = await new Deno.Command(cmd, { args, stdin: "null", stdout: "piped", stderr: "piped" })
    .output();
  const dec = new TextDecoder();
  return { code: out.code, output: dec.decode(out.stdout) + dec.decode(out.stderr) };
}

/**
 * Copies the units to `dir`, with ExecStart's /usr/local/bin/vpo replaced by a program that
 * exists here (verify rejects a missing executable) and `edit` applied.
 */
async function unitsIn(dir: string, edit = (text: string) => text): Promise<string[]> {
  const paths = [];
  for (const unit of UNITS) {
    const text = await Deno.readTextFile(join(CONTRIB, "systemd", unit));
    const path = join(dir, unit);
    await Deno.writeTextFile(path, edit(text.replaceAll("/usr/local/bin/vpo", "/bin/true")));
    paths.push(path);
  }
  return paths;
}

/** `key=value` settings of a unit file, in order. */
function settings(text: string): [string, string][] {
  return text.split("\n")
    .filter((l) => /^[A-Za-z]+=/.test(l))
    .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]);
}

Deno.test("systemd-analyze verify accepts the units without a warning", async () => {
  await withTempDir(async (dir) => {
    const r = await run("systemd-analyze", ["verify", ...await unitsIn(dir)]);
    assert.equal(r.output, "");
    assert.equal(r.code, 0);
  });
});

Deno.test("systemd-analyze verify in this test notices a misspelt setting", async () => {
  await withTempDir(async (dir) => {
    const units = await unitsIn(dir, (t) => t.replace("KillMode=mixed", "KillMode=mixd"));
    const r = await run("systemd-analyze", ["verify", ...units]);
    assert.match(r.output, /kill mode.*mixd/);
  });
});

Deno.test("the services stop vpo with SIGTERM, leave it time, and sandbox it", async () => {
  for (const unit of ["vpo-worker.service", "vpo-nightly.service"]) {
    const s = new Map(settings(await Deno.readTextFile(join(CONTRIB, "systemd", unit))));
    assert.equal(s.get("KillSignal"), "SIGTERM", unit);
    // Only vpo gets the SIGTERM; it stops ffmpeg itself and queues the job again.
    assert.equal(s.get("KillMode"), "mixed", unit);
    // ffmpeg is stopped within 1 s; the rest is the requeue's writes.
    assert.ok(Number(s.get("TimeoutStopSec")) >= 10, unit);
    assert.ok(Number(s.get("Nice")) > 0, unit);
    assert.ok(s.has("IOSchedulingClass"), unit);
    assert.equal(s.get("ProtectSystem"), "strict", unit);
    assert.ok(s.get("ReadWritePaths")?.split(" ").includes("/var/lib/vpo"), unit);
    assert.equal(s.get("SuccessExitStatus"), "3", unit);
  }
  const timer = new Map(
    settings(await Deno.readTextFile(join(CONTRIB, "systemd", "vpo-nightly.timer"))),
  );
  assert.equal(timer.get("OnCalendar"), "*-*-* 22:00:00");
  const r = await run("systemd-analyze", ["calendar", timer.get("OnCalendar")!]);
  assert.equal(r.code, 0, r.output);
});

Deno.test("crontab -n accepts contrib/cron/vpo and rejects a bad minute", async () => {
  const path = join(CONTRIB, "cron", "vpo");
  const ok = await run("crontab", ["-n", path]);
  assert.equal(ok.code, 0, ok.output);
  const text = await Deno.readTextFile(path);
  const jobs = text.split("\n").filter((l) => /^[0-9*]/.test(l));
  assert.equal(jobs.length, 1);
  // /etc/cron.d format: five time fields, the user, then the command.
  const [min, hour, dom, mon, dow, user, ...command] = jobs[0].split(/\s+/);
  assert.deepEqual([min, hour, dom, mon, dow, user], ["0", "22", "*", "*", "*", "media"]);
  assert.match(command.join(" "), /vpo jobs start --end-by 05:59/);
  await withTempDir(async (dir) => {
    const bad = join(dir, "vpo");
    await Deno.writeTextFile(bad, text.replace("0 22 *", "61 22 *"));
    const r = await run("crontab", ["-n", bad]);
    assert.notEqual(r.code, 0);
    assert.match(r.output, /bad minute/);
  });
});

Deno.test("logrotate accepts contrib/logrotate/vpo", async () => {
  await withTempDir(async (dir) => {
    // The file names the service user "media"; this machine may have no such user.
    const conf = join(dir, "vpo");
    const text = await Deno.readTextFile(join(CONTRIB, "logrotate", "vpo"));
    await Deno.writeTextFile(conf, text.replaceAll("media", "root"));
    const r = await run("logrotate", ["--debug", "--state", join(dir, "state"), conf]);
    assert.equal(r.code, 0, r.output);
    assert.doesNotMatch(r.output, /error/);
  });
});
