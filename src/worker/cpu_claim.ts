/**
 * Which CPU cores a worker pins ffmpeg to, so that two workers on one host with `--cpu-cores N`
 * take different cores instead of both taking 0..N-1.
 *
 * Each core has a lock file, `<home>/cpu/<hostname>/core-<n>.lock`, and a worker holds an
 * exclusive `flock` on the file of each core it uses for as long as it runs. The kernel drops a
 * flock when its process dies, even by SIGKILL, so there is no staleness to judge and no file to
 * clean up. The directory is per host name because a home may be shared by several hosts over a
 * network file system, where flocks may reach the server; two hosts of the same name then merely
 * avoid each other's cores. Pinning only shares out CPU time: a lost race can at worst make two
 * workers share a core, never harm a job.
 *
 * @module
 */
import type { VpoHome } from "../queue/layout.ts";
import {
  openLockFileSync,
  UnreadableFileError,
  UntrustedDirectoryError,
} from "../util/safe_open.ts";

/** Cores a worker holds until {@link CoreClaim.release}. */
export interface CoreClaim {
  /** The cores to pin to, ascending. */
  cores: number[];
  /** How many of them are also used by other workers (there were not enough free cores). */
  shared: number;
  /** Gives the cores back (also happens when the process exits). */
  release(): void;
}

/**
 * Claims `want` cores of the `total` this host has, free ones first (lowest numbers); when fewer
 * are free, the rest are shared with other workers and counted in `shared`.
 */
export async function claimCores(
  home: VpoHome,
  want: number,
  total: number = navigator.hardwareConcurrency,
): Promise<CoreClaim> {
  const dir = home.cpuDir();
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  const held: Deno.FsFile[] = [];
  const cores: number[] = [];
  for (let core = 0; core < total && cores.length < want; core++) {
    let file: Deno.FsFile;
    try {
      file = openLockFileSync(home.cpuLockPath(core));
    } catch (err) {
      // A link or anything else planted at the name (others may write the home) is never
      // followed: that core counts as another worker's.
      if (err instanceof UnreadableFileError || err instanceof UntrustedDirectoryError) continue;
      throw err;
    }
    if (await file.tryLock(true)) {
      held.push(file);
      cores.push(core);
    } else {
      file.close();
    }
  }
  const shared = Math.min(want, total) - cores.length;
  // Not enough free cores: share the lowest ones not already ours.
  for (let core = 0; cores.length < Math.min(want, total); core++) {
    if (!cores.includes(core)) cores.push(core);
  }
  cores.sort((a, b) => a - b);
  return {
    cores,
    shared,
    release() {
      for (const file of held.splice(0)) file.close();
    },
  };
}
