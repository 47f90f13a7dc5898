/**
 * Named points between the steps of the queue and replace protocols where a test can make the
 * process die by SIGKILL (`VPO_CRASH_AT=<name>`), or freeze by SIGSTOP (`VPO_STOP_AT=<name>`),
 * to prove that a crash or a long stall between any two steps leaves every job in one state and
 * every original intact. Costs two env lookups at start when unset.
 *
 * @module
 */

function fromEnv(key: string): string | null {
  try {
    return Deno.env.get(key) ?? null;
  } catch {
    return null; // no env permission: no fault injection
  }
}

const crashAt = fromEnv("VPO_CRASH_AT");
const stopAt = fromEnv("VPO_STOP_AT");

/**
 * Dies here, without any cleanup, if `VPO_CRASH_AT` names this point; stops (until SIGCONT) if
 * `VPO_STOP_AT` does.
 */
export function crashPoint(name: string): void {
  if (crashAt === name) Deno.kill(Deno.pid, "SIGKILL");
  if (stopAt === name) Deno.kill(Deno.pid, "SIGSTOP");
}
