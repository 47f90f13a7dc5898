/**
 * The vpo home directory (`$VPO_HOME`, default `~/.vpo`): config, job queue and logs.
 *
 * @module
 */
import { join } from "node:path";
import { VpoError } from "./errors.ts";

/** Paths under one vpo home. */
export interface VpoHome {
  /** The home directory itself: `$VPO_HOME`, else `$HOME/.vpo`. */
  root: string;
  /** `<root>/config.yaml`. */
  configPath: string;
  /** `<root>/jobs`, the queue's directory tree. */
  jobsDir: string;
  /** `<root>/logs`. */
  logsDir: string;
}

/** Resolves the home from `VPO_HOME`, else `$HOME/.vpo`. */
export function resolveHome(env: { get(key: string): string | undefined } = Deno.env): VpoHome {
  const explicit = env.get("VPO_HOME");
  const userHome = env.get("HOME");
  if (!explicit && !userHome) throw new VpoError("neither VPO_HOME nor HOME is set");
  const root = explicit || join(userHome!, ".vpo");
  return {
    root,
    configPath: join(root, "config.yaml"),
    jobsDir: join(root, "jobs"),
    logsDir: join(root, "logs"),
  };
}

/** Creates the home and its logs directory, private to the user (0700). */
export async function ensureHome(home: VpoHome): Promise<void> {
  for (const dir of [home.root, home.logsDir]) {
    await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  }
}
