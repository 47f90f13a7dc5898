/**
 * `vpo serve` as a real subprocess on a free port, for the HTTP and browser tests.
 *
 * @module
 */
import { join } from "node:path";
import { CLI_PERMISSIONS } from "../../scripts/permissions.ts";
import { CLI, type TempHome } from "./vpo.ts";
import { jobRecord, writeJobFile } from "./queue.ts";

/** A token long enough for `--token-file`. */
export const TOKEN = "test-token-0123456789abcdef";

/** A running `vpo serve`; `url` ends with "/". */
export class ServeProcess {
  private constructor(
    readonly child: Deno.ChildProcess,
    readonly url: string,
    readonly stderr: Promise<string>,
  ) {}

  /** Starts `vpo serve --listen 127.0.0.1:0 ...args` on `home` and waits until it listens. */
  static async start(home: TempHome, args: string[] = []): Promise<ServeProcess> {
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--quiet",
        ...CLI_PERMISSIONS,
        CLI,
        "serve",
        "--listen",
        "127.0.0.1:0",
        ...args,
      ],
      env: { VPO_HOME: home.vpoHome, NO_COLOR: "1" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const stderr = new Response(child.stderr).text();
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    while (!text.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
    // Drain the rest so the pipe never fills.
    (async () => {
      while (!(await reader.read()).done) { /* nothing more is expected */ }
    })().catch(() => {});
    const url = /http:\/\/\S+\//.exec(text)?.[0];
    if (!url) {
      child.kill("SIGKILL");
      await child.status;
      throw new Error(`vpo serve did not start: ${text}${await stderr}`);
    }
    return new ServeProcess(child, url, stderr);
  }

  /** GET or POST `path` (relative to the server), as a script would. */
  fetch(path: string, init: RequestInit = {}): Promise<Response> {
    return fetch(this.url + path.replace(/^\//, ""), init);
  }

  /** Stops it with SIGTERM and waits for the exit. */
  async stop(): Promise<Deno.CommandStatus> {
    try {
      this.child.kill("SIGTERM");
    } catch {
      // Already gone.
    }
    const status = await this.child.status;
    await this.stderr;
    return status;
  }
}

/** Writes the token file under the home and returns its path. */
export async function writeToken(home: TempHome, token = TOKEN): Promise<string> {
  const path = join(home.dir, "token");
  await Deno.writeTextFile(path, token + "\n", { mode: 0o600 });
  return path;
}

/**
 * A running job as a worker on host "nas", pid 4242 would leave it: the job file under a claim
 * token and a live file. Returns a function that rewrites the live file with a new percent.
 */
export async function fakeRunningJob(
  home: TempHome,
  id: string,
  file: string,
): Promise<(percent: number) => Promise<void>> {
  const token = "0000test0000";
  await writeJobFile(home.jobsDir, "running", jobRecord(id, { file }), token);
  return (percent: number) =>
    Deno.writeTextFile(
      join(home.jobsDir, "live", `${id}.${token}.json`),
      JSON.stringify({
        worker: { host: "nas", pid: 4242 },
        claimed_at: new Date().toISOString(),
        progress: { percent, fps: 48.5, speed: 1.94, eta_sec: 125, out_time_sec: 3 },
      }),
    );
}
