/**
 * Every number in config.yaml, and every flag that overrides one, has an upper bound: a huge
 * heartbeat_interval used to overflow setInterval into a 1 ms timer. Each refusal is one line
 * naming the file, line, column and key (or the flag).
 */
import assert from "node:assert/strict";
import { CONFIG_LIMITS, parseConfig } from "../src/config/config.ts";
import { TempHome } from "./helpers/vpo.ts";

const TOO_BIG: [string, string][] = [
  [
    "jobs:\n  retention_days: 100000000000\n",
    "config.yaml:2:19: jobs.retention_days: expected an integer from 0 to 36500, got 100000000000",
  ],
  [
    "worker:\n  max_files: 1e300\n",
    "config.yaml:2:14: worker.max_files: expected an integer from 1 to 1000000000, got 1e+300",
  ],
  [
    "worker:\n  max_duration: 99999999999\n",
    "config.yaml:2:17: worker.max_duration: expected an integer from 1 to 31622400, " +
    "got 99999999999",
  ],
  [
    "worker:\n  cpu_cores: 100000\n",
    "config.yaml:2:14: worker.cpu_cores: expected an integer from 1 to 4096, got 100000",
  ],
  [
    "worker:\n  workers: 5000\n",
    `config.yaml:2:12: worker.workers: expected a whole number from 1 to 4096 or "auto", got "5000"`,
  ],
  [
    "worker:\n  heartbeat_interval: 3000000\n  stale_after: 9000000\n",
    "config.yaml:2:23: worker.heartbeat_interval: expected a number > 0 and <= 3600, got 3000000",
  ],
  [
    "worker:\n  stale_after: 1e12\n",
    "config.yaml:2:16: worker.stale_after: expected a number > 0 and <= 604800, got 1000000000000",
  ],
  [
    "library:\n  settle_seconds: 1e9\n",
    "config.yaml:2:19: library.settle_seconds: expected an integer from 0 to 86400, got 1000000000",
  ],
];

for (const [text, expected] of TOO_BIG) {
  Deno.test(`config bound: ${expected.split(":")[3]}`, () => {
    assert.throws(() => parseConfig(text, "config.yaml"), { message: expected });
  });
}

Deno.test("the largest allowed values are accepted", () => {
  const L = CONFIG_LIMITS;
  const config = parseConfig(
    `jobs:\n  retention_days: ${L.retentionDays}\nworker:\n  max_files: ${L.maxFiles}\n` +
      `  max_duration: ${L.maxDurationSec}\n  cpu_cores: ${L.cpuCores}\n  workers: ${L.workers}\n` +
      `  heartbeat_interval: ${L.heartbeatIntervalSec}\n  stale_after: ${L.staleAfterSec}\n` +
      `library:\n  settle_seconds: ${L.settleSeconds}\n`,
    "config.yaml",
  );
  assert.equal(config.worker.heartbeatInterval * 1000 < 2 ** 31 - 1, true);
  assert.equal(config.worker.staleAfter, L.staleAfterSec);
  assert.equal(config.worker.workers, L.workers);
  assert.equal(config.library.settleSeconds, L.settleSeconds);
});

Deno.test("a command refuses an out-of-bounds config with one line; flags have bounds too", async () => {
  await using home = await TempHome.create(
    "worker:\n  heartbeat_interval: 1e10\n  stale_after: 1e11\n",
  );
  const status = await home.run(["jobs", "status"]);
  assert.equal(
    status.stderr,
    `vpo: ${home.vpoHome}/config.yaml:2:23: worker.heartbeat_interval: ` +
      "expected a number > 0 and <= 3600, got 10000000000\n",
  );
  assert.equal(status.code, 1);
  for (
    const [flag, value, expected] of [
      ["--max-duration <seconds>", "99999999999", "a whole number from 1 to 31622400"],
      ["--max-files <n>", "99999999999", "a whole number from 1 to 1000000000"],
      ["--cpu-cores <n>", "99999", "a whole number from 1 to 4096"],
      ["--workers <n|auto>", "99999", `a whole number from 1 to 4096 or "auto", got "99999"`],
      ["--workers <n|auto>", "some", `a whole number from 1 to 4096 or "auto", got "some"`],
    ]
  ) {
    const run = await home.run(["jobs", "start", flag.split(" ")[0], value]);
    assert.equal(
      run.stderr,
      `vpo: option '${flag}' argument '${value}' is invalid. expected ${expected}\n`,
    );
    assert.equal(run.code, 2);
  }
  const cleanup = await home.run(["jobs", "cleanup", "--older-than", "1e9", "--dry-run"]);
  assert.equal(
    cleanup.stderr,
    "vpo: option '--older-than <days>' argument '1e9' is invalid. expected a number from 0 to 36500\n",
  );
});

Deno.test("jobs.shared_group must name a group of this system", () => {
  assert.deepEqual(parseConfig("jobs:\n  shared_group: 0\n", "c.yaml").jobs.sharedGroup, {
    name: "root",
    gid: 0,
  });
  assert.throws(() => parseConfig("jobs:\n  shared_group: no-such-group\n", "c.yaml"), {
    message:
      `c.yaml:2:17: jobs.shared_group: no group "no-such-group" in /etc/group (give its number instead)`,
  });
});
