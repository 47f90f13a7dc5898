/** `jobs start` with `--end-by`, `--max-duration` and the config keys behind them. */
import assert from "node:assert/strict";
import { TempHome } from "./helpers/vpo.ts";

Deno.test("jobs start announces its deadline; a flag wins over config.yaml", async () => {
  const home = await TempHome.create('worker:\n  end_by: "05:59"\n');
  try {
    const env = { env: { TZ: "UTC" } };
    const fromConfig = await home.run(["jobs", "start"], env);
    assert.equal(fromConfig.code, 0, fromConfig.stderr);
    assert.match(fromConfig.stdout, / worker +stops by .+ \(--end-by 05:59\)\n/);
    assert.match(fromConfig.stdout, /done +0 completed, .+ stopped: queue empty\n$/);
    const fromFlag = await home.run(["jobs", "start", "--end-by", "7:30"], env);
    assert.match(fromFlag.stdout, / worker +stops by .+ \(--end-by 07:30\)\n/);
  } finally {
    await home.cleanup();
  }
});

Deno.test("jobs start says which cores ffmpeg is pinned to, and when --cpu-cores pins nothing", async () => {
  await using home = await TempHome.create();
  const cores = navigator.hardwareConcurrency;
  const all = await home.run(["jobs", "start", "--cpu-cores", String(cores + 2)]);
  assert.equal(all.code, 0, all.stderr);
  assert.match(
    all.stdout,
    new RegExp(` cpu +${cores + 2} cores allowed and this host has ${cores}: .+\\(not pinned\\)\n`),
  );
  if (cores > 1) {
    const one = await home.run(["jobs", "start", "--cpu-cores", "1"]);
    assert.match(one.stdout, / cpu +ffmpeg pinned to core 0\n/);
  }
});
