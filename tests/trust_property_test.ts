/**
 * The trust property (see helpers/trust_property.ts) with a fixed seed, so that a failure here
 * is reproducible. `deno task test:property` runs it with random seeds and more worlds
 * (VPO_PROPERTY_SEED, VPO_PROPERTY_RUNS).
 */
import assert from "node:assert/strict";
import { runTrustProperty, runTrustPropertyCli } from "./helpers/trust_property.ts";

const env = (key: string) => Deno.env.get(key);
const seedText = env("VPO_PROPERTY_SEED");
const seed = seedText === "random"
  ? crypto.getRandomValues(new Uint32Array(1))[0]
  : Number(seedText ?? 20261129);
const runs = Number(env("VPO_PROPERTY_RUNS") ?? 300);
const cliRuns = Number(env("VPO_PROPERTY_CLI_RUNS") ?? 1);

Deno.test(`trust property: ${runs} mutated worlds (seed ${seed}) lose and touch nothing`, async () => {
  const mutations = await runTrustProperty(seed, runs);
  assert.ok(mutations >= runs, `${mutations} mutations applied`);
});

Deno.test(`trust property through the CLI: ${cliRuns} mutated worlds (seed ${seed}), real ffmpeg`, async () => {
  const mutations = await runTrustPropertyCli(seed, cliRuns);
  assert.ok(mutations >= cliRuns, `${mutations} mutations applied`);
});
