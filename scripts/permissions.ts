/**
 * The permissions the vpo CLI runs with, read from `scripts/permissions.txt`: the one list that the
 * `vpo`, `demo` and `compile` tasks (`$(cat scripts/permissions.txt)`), the README's install line,
 * the tests and the benchmarks all use.
 *
 * @module
 */

/** The CLI's permission flags, e.g. `--allow-sys=hostname,statfs`. */
export const CLI_PERMISSIONS: readonly string[] = Deno.readTextFileSync(
  new URL("./permissions.txt", import.meta.url),
).trim().split(/\s+/);
