/**
 * What every command needs: the home, its config and queue (opened lazily, so `--help` and
 * usage errors touch nothing on disk), and the terminal helpers. The YAML reader and the queue's
 * code are loaded on first use, for the same reason (see "Start-up" in docs/design.md).
 *
 * @module
 */
import { defaultConfig } from "../config/defaults.ts";
import type { Config } from "../config/types.ts";
import { ensureHome, resolveHome, type VpoHome } from "../queue/layout.ts";
import { checkQueueAccess, prepareSharedDirs } from "../queue/access.ts";
import type { JobQueue } from "../queue/store.ts";
import { VpoError } from "../errors.ts";
import { displayName } from "../util/display_name.ts";
import { writeAllSync, writeBestEffort } from "../util/output.ts";

/** Shared state of one CLI invocation. */
export class CliContext {
  readonly home: VpoHome = resolveHome();
  /** Exit code of a command that completed but has something to report (e.g. failed jobs). */
  exitCode = 0;
  #config?: Promise<Config>;
  #queue?: Promise<JobQueue>;

  config(): Promise<Config> {
    return this.#config ??= (async () => {
      const path = this.home.configPath;
      // No file, no YAML reader to load (a third of a bare command's start). Any other failure
      // to look is the reader's to report.
      const missing = await Deno.stat(path).then(
        () => false,
        (e) => e instanceof Deno.errors.NotFound,
      );
      if (missing) return defaultConfig();
      const { loadConfig } = await import("../config/config.ts");
      return await loadConfig(path);
    })();
  }

  /**
   * The queue, for a command that writes: a shared queue's directories are set up first, and the
   * queue is refused when others than its allowed writers could write it (see queue/access.ts).
   */
  queue(): Promise<JobQueue> {
    return this.#queue ??= (async () => {
      const { sharedGroup } = (await this.config()).jobs;
      const dirs = homeDirs(this.home);
      if (sharedGroup) prepareSharedDirs(dirs, sharedGroup);
      checkQueueAccess(dirs, sharedGroup);
      await ensureHome(this.home);
      const { JobQueue } = await import("../queue/store.ts");
      return await JobQueue.open(this.home.jobsDir);
    })();
  }

  /** The queue, for a command that only reads it (`list`, `status`, `show`): no access check. */
  async readQueue(): Promise<JobQueue> {
    await this.config();
    if (this.#queue) return await this.#queue;
    const { JobQueue } = await import("../queue/store.ts");
    return await JobQueue.open(this.home.jobsDir);
  }
}

/** Every directory of a home whose writers vpo trusts, the home itself first. */
function homeDirs(home: VpoHome): string[] {
  return [
    home.root,
    home.logsDir,
    home.statsDir,
    home.jobsDir,
    ...home.jobs.allDirs(),
    ...home.library.allDirs(),
  ];
}

/**
 * Writes a line (or, with `end` "", text) to stdout; a failed write is the command's failure (its
 * answer is lost).
 */
export function println(text = "", end = "\n"): void {
  try {
    writeAllSync(Deno.stdout, text + end);
  } catch (err) {
    const reason = err instanceof Error ? err.message.replace(/ \(os error \d+\).*$/s, "") : err;
    throw new VpoError(`cannot write to stdout: ${reason}`, { cause: err });
  }
}

/** Writes a warning line to stderr, best-effort: a warning that cannot be shown changes nothing. */
export function warn(text: string): void {
  writeBestEffort(Deno.stderr, `vpo: warning: ${displayName(text)}\n`);
}

/**
 * Asks a yes/no question on the terminal. Without a terminal there is nobody to ask: the caller
 * gets an error telling it to pass --force, never a hang waiting for input.
 */
export function confirm(question: string): boolean {
  if (!Deno.stdin.isTerminal()) {
    throw new VpoError(
      `${question.replace(/\?$/, "")}: refusing without a terminal to confirm (use --force)`,
    );
  }
  const answer = prompt(`${question} [y/N]`);
  return answer !== null && /^y(es)?$/i.test(answer.trim());
}
