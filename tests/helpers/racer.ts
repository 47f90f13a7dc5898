/**
 * A hostile second writer for race tests: a small Python process that swaps two names over and
 * over with `renameat2(RENAME_EXCHANGE)` (atomic: each name always exists, holding one or the
 * other), the way an attacker who can write a directory swaps a file vpo checked for a symbolic
 * link or a FIFO between two of vpo's system calls. scripts/setup.sh --test installs python3.
 *
 * @module
 */

const SWAPPER = `
import ctypes, os, signal, sys, time
libc = ctypes.CDLL(None, use_errno=True)
stop = []
signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
AT_FDCWD, RENAME_EXCHANGE = -100, 2
a, b, until = os.fsencode(sys.argv[1]), os.fsencode(sys.argv[2]), time.time() + float(sys.argv[3])
swaps = 0
sys.stdout.write("ready\\n"); sys.stdout.flush()
while not stop and time.time() < until:
    if libc.renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE) == 0:
        swaps += 1
    elif ctypes.get_errno() != 2:
        sys.exit("renameat2: " + os.strerror(ctypes.get_errno()))
print(swaps)
`;

function systemPython(): string {
  try {
    Deno.statSync("/usr/bin/python3");
    return "/usr/bin/python3";
  } catch {
    return "python3";
  }
}

/** A running swapper of two names. */
export class Racer {
  private constructor(private readonly child: Deno.ChildProcess) {}

  /**
   * Starts swapping `a` and `b` for at most `seconds`; resolves once the swapper runs. `asUser`
   * runs it as another user (a member of a shared queue), through setpriv.
   */
  static async start(a: string, b: string, seconds = 60, asUser?: string): Promise<Racer> {
    // The system's python, which every user can run (not a per-user install under /root).
    const python = systemPython();
    const argv = [python, "-c", SWAPPER, a, b, String(seconds)];
    const user = asUser ? ["--reuid", asUser, "--regid", "nogroup", "--init-groups"] : [];
    const child = new Deno.Command(asUser ? "setpriv" : argv.shift()!, {
      args: [...user, ...argv],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const reader = child.stdout.getReader();
    const first = await reader.read();
    reader.releaseLock();
    if (!new TextDecoder().decode(first.value ?? new Uint8Array()).startsWith("ready")) {
      const err = await new Response(child.stderr).text();
      throw new Error(`racer did not start: ${err}`);
    }
    return new Racer(child);
  }

  /** Stops swapping; resolves to the number of swaps made (the two names may be either way). */
  async stop(): Promise<number> {
    try {
      this.child.kill("SIGTERM");
    } catch {
      // Ended by its time limit.
    }
    const out = await this.child.output().catch(() => null);
    return Number(new TextDecoder().decode(out?.stdout ?? new Uint8Array()).trim()) || 0;
  }
}
