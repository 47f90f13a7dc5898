/**
 * How many worker loops `vpo jobs start --workers auto` runs: as many encodes at once as fill
 * this machine's cores without running out of memory, from what one encode was measured to use
 * (kept with the speed history). Several encodes on a core or two each beat one encode on every
 * core in total throughput (x265 at NAS resolutions keeps about 1.5 of 2 cores busy; a published
 * 32-core test found 16 two-thread encodes about 9 % faster than fewer wider ones), as long as each
 * has the memory it needs.
 *
 * @module
 */
import type { JobTypes, MachineUse } from "../queue/job_type.ts";
import type { VpoHome } from "../queue/layout.ts";
import { formatBytes } from "../util/format.ts";

/** An encode that keeps at least this share of the cores busy gains nothing from company. */
const FULL_USE = 0.9;
/** Without a measurement, one worker per this many cores. */
const CORES_PER_UNMEASURED_WORKER = 2;
/** Without a measurement, this much memory per encode (x265 at 4K needs about that). */
const UNMEASURED_MEMORY = 2 * 1024 ** 3;
/** The share of the available memory the encodes may take together. */
const MEMORY_SHARE = 0.8;

/** What {@link chooseWorkers} decides from. */
export interface AutoInput {
  /** Cores the command may use: `--cpu-cores`, else every core of this host. */
  cores: number;
  /** Memory available now, in bytes; null when unknown. */
  availableMemory: number | null;
  /** What one encode free to use every core was measured to use; null when never measured. */
  use: MachineUse | null;
}

/** How many workers, and why, in one line for the worker's log. */
export interface AutoChoice {
  /** Worker loops to run. */
  workers: number;
  /** What decided it: cores, measured use, memory. */
  why: string;
}

/**
 * The number of workers for `input` (see the module's comment and docs/configuration.md).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * // x265 at 640x360 keeps 1.52 of 2 cores busy: two one-core encodes fill them.
 * const use = { cores: 1.52, memoryBytes: 200 * 1024 ** 2 };
 * assert.equal(chooseWorkers({ cores: 2, availableMemory: 8 * 1024 ** 3, use }).workers, 2);
 * // An encode that fills the machine runs alone; so does one that needs most of the memory.
 * const full = { cores: 7.6, memoryBytes: 200 * 1024 ** 2 };
 * assert.equal(chooseWorkers({ cores: 8, availableMemory: 8 * 1024 ** 3, use: full }).workers, 1);
 * const big = { cores: 2, memoryBytes: 3 * 1024 ** 3 };
 * assert.equal(chooseWorkers({ cores: 8, availableMemory: 4 * 1024 ** 3, use: big }).workers, 1);
 * ```
 */
export function chooseWorkers(input: AutoInput): AutoChoice {
  const cores = Math.max(1, Math.floor(input.cores));
  const use = input.use;
  let workers: number;
  let why: string;
  if (use === null) {
    workers = Math.max(1, Math.floor(cores / CORES_PER_UNMEASURED_WORKER));
    why = `${cores} cores, no encode measured yet: one worker per ${CORES_PER_UNMEASURED_WORKER}`;
  } else if (use.cores >= FULL_USE * cores) {
    workers = 1;
    why = `${cores} cores, one encode keeps ${use.cores.toFixed(2)} busy`;
  } else {
    workers = Math.min(cores, Math.ceil(cores / use.cores));
    why = `${cores} cores, one encode keeps ${use.cores.toFixed(2)} busy`;
  }
  const memory = use?.memoryBytes ?? UNMEASURED_MEMORY;
  if (input.availableMemory !== null) {
    const fit = Math.max(1, Math.floor(input.availableMemory * MEMORY_SHARE / memory));
    if (fit < workers) workers = fit;
    why += `, ${formatBytes(memory)} each of ${formatBytes(input.availableMemory)} available`;
  }
  return { workers, why };
}

/** Chooses the number of workers for this host from what the job types measured. */
export async function autoWorkers(
  types: JobTypes,
  home: VpoHome,
  cores: number,
): Promise<AutoChoice> {
  let use: MachineUse | null = null;
  for (const type of types.all()) {
    const measured = await type.machineUse?.(home) ?? null;
    // The most demanding type decides: a worker may get any job.
    if (measured && (use === null || measured.cores > use.cores)) use = measured;
  }
  return chooseWorkers({ cores, availableMemory: availableMemory(), use });
}

function availableMemory(): number | null {
  try {
    return Deno.systemMemoryInfo().available;
  } catch {
    return null; // not permitted (the CLI's permissions allow it): the cores alone decide
  }
}
