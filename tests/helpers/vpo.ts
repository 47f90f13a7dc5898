/**
 * Test helpers: a temporary VPO_HOME, and the CLI run as a real subprocess (`deno run cli.ts`),
 * exactly as a user or cron runs it.
 *
 * @module
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { CLI_PERMISSIONS } from "../../scripts/permissions.ts";

/** The repository root. */
export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
/** Path of cli.ts. */
export const CLI = join(ROOT, "cli.ts");

/**
 * A command line that must fail with `code` and exactly the one stderr line `stderr`; each test
 * file says which placeholders (`$CONFIG`, `$DIR`) its args and messages may hold.
 */
export interface BadInput {
  name: string;
  args: string[];
  code: 1 | 2;
  stderr: string;
  /** config.yaml of the home the command runs in. */
  config?: string;
}

/** Output of one CLI run. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a program to its end with stdin closed, from `ROOT`, with `NO_COLOR` and `env` added. */
export async function runProcess(
  cmd: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<RunResult> {
  const out = await new Deno.Command(cmd, {
    args,
    cwd: ROOT,
    env: { NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** A temporary VPO_HOME, removed by `cleanup()` (or `await using`). */
export class TempHome {
  private constructor(readonly dir: string) {}

  static async create(config?: string): Promise<TempHome> {
    const home = new TempHome(await Deno.makeTempDir({ prefix: "vpo-test-" }));
    if (config !== undefined) await home.writeConfig(config);
    return home;
  }

  get vpoHome(): string {
    return join(this.dir, "home");
  }
  get jobsDir(): string {
    return join(this.vpoHome, "jobs");
  }

  /** Writes `$VPO_HOME/config.yaml`. */
  async writeConfig(text: string): Promise<void> {
    await Deno.mkdir(this.vpoHome, { recursive: true });
    await Deno.writeTextFile(join(this.vpoHome, "config.yaml"), text);
  }

  /** Runs `vpo ...args` as a subprocess with this home. */
  async run(
    args: string[],
    options: { env?: Record<string, string>; stdin?: string } = {},
  ): Promise<RunResult> {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--quiet", ...CLI_PERMISSIONS, CLI, ...args],
      env: { VPO_HOME: this.vpoHome, NO_COLOR: "1", ...options.env },
      stdin: options.stdin === undefined ? "null" : "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    if (options.stdin !== undefined) {
      const w = child.stdin.getWriter();
      await w.write(new TextEncoder().encode(options.stdin));
      await w.close();
    }
    const out = await child.output();
    const dec = new TextDecoder();
    return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
  }

  async cleanup(): Promise<void> {
    await Deno.remove(this.dir, { recursive: true }).catch(() => {});
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.cleanup();
  }
}
