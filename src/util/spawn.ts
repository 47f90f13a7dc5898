/**
 * Starting child processes: every program vpo runs (ffprobe, ffmpeg and its nice, ionice and
 * taskset wrappers, doctor's findmnt and ps, notification hooks) starts through
 * {@link spawnChild}, in the root directory.
 *
 * @module
 */

/**
 * The working directory of every child. A child started in a directory its user cannot enter
 * (`sudo -u media vpo ...` from a 0700 home, cron's or a test's private temp directory) fails
 * before it runs, and Deno blames the program ("Failed to spawn '/usr/bin/ffprobe': Permission
 * denied"). `/` exists and is searchable by every user, and vpo names every file to its children
 * by absolute path, so no child needs the caller's directory.
 */
export const CHILD_CWD = "/";

/** Options of {@link spawnChild}: those of `Deno.Command` but the working directory. */
export type ChildOptions = Omit<Deno.CommandOptions, "cwd">;

/**
 * Starts `program` (a name looked up on PATH, or an absolute path) in {@link CHILD_CWD}.
 *
 * @throws Deno.errors.NotFound when there is no such program; another error when it exists but
 *   cannot be started (see {@link spawnFailure} for a message that tells them apart).
 */
export function spawnChild(program: string, options: ChildOptions = {}): Deno.ChildProcess {
  return new Deno.Command(program, { ...options, cwd: CHILD_CWD }).spawn();
}

/**
 * Why `program` could not be started, in words that do not blame the program for what is not its
 * fault: "not found" only for a program that is not there.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const denied = new Deno.errors.PermissionDenied(
 *   "Failed to spawn '/usr/bin/ffprobe': Permission denied (os error 13)",
 * );
 * assert.equal(spawnFailure("ffprobe", denied), "cannot start ffprobe: permission denied");
 * assert.equal(spawnFailure("x", new Deno.errors.NotFound("...")), "x not found");
 * ```
 */
export function spawnFailure(program: string, error: unknown): string {
  if (error instanceof Deno.errors.NotFound) return `${program} not found`;
  const message = error instanceof Error ? error.message : String(error);
  // Deno's message names the program again and ends with the errno: "Failed to spawn '/x': Y
  // (os error N)".
  const reason = message.replace(/^Failed to spawn '[^']*': /, "").replace(
    / \(os error \d+\)$/,
    "",
  );
  return `cannot start ${program}: ${reason.charAt(0).toLowerCase()}${reason.slice(1)}`;
}
