/**
 * The CLI run as a subprocess that may hang (the bug under test) or whose output goes somewhere
 * other than a pipe (`>/dev/full`): killed after a timeout, so a hang fails the test instead of
 * stalling the suite.
 *
 * @module
 */
import { CLI_PERMISSIONS } from "../../scripts/permissions.ts";
import { CLI, type TempHome } from "./vpo.ts";

/** Output of a {@link runBounded} run; `hung` when it had to be killed. */
export interface BoundedResult {
  code: number;
  stdout: string;
  stderr: string;
  hung: boolean;
}

/** Options of {@link runBounded}. */
export interface BoundedOptions {
  /** Killed (SIGKILL) after this long; default 20 s. */
  timeoutMs?: number;
  env?: Record<string, string>;
  /** Shell redirections for the vpo process, e.g. `>/dev/full 2>/dev/full`. */
  redirect?: string;
}

/** Runs `vpo ...args` with `home`, killing it if it runs longer than the timeout. */
export async function runBounded(
  home: TempHome,
  args: string[],
  options: BoundedOptions = {},
): Promise<BoundedResult> {
  const vpo = [Deno.execPath(), "run", "--quiet", ...CLI_PERMISSIONS, CLI, ...args];
  const child = new Deno.Command("sh", {
    // exec: the signal and the exit status are vpo's own, not a shell's.
    args: ["-c", `exec "$@" ${options.redirect ?? ""}`, "sh", ...vpo],
    env: { VPO_HOME: home.vpoHome, NO_COLOR: "1", TZ: "UTC", ...options.env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let hung = false;
  const timer = setTimeout(() => {
    hung = true;
    child.kill("SIGKILL");
  }, options.timeoutMs ?? 20_000);
  const out = await child.output();
  clearTimeout(timer);
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr), hung };
}
