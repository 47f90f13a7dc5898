/**
 * Named points between the steps of the queue and replace protocols where a test can make the
 * process die by SIGKILL (`VPO_CRASH_AT=<name>`), to prove that a crash between any two steps
 * leaves every job in one state and every original intact. Costs one env lookup when unset.
 *
 * @module
 */

const target = (() => {
  try {
    return Deno.env.get("VPO_CRASH_AT") ?? null;
  } catch {
    return null; // no env permission: no crash injection
  }
})();

/** Dies here, without any cleanup, if `VPO_CRASH_AT` names this point. */
export function crashPoint(name: string): void {
  if (target === name) Deno.kill(Deno.pid, "SIGKILL");
}
