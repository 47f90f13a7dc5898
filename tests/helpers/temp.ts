/**
 * A scratch directory that lives exactly as long as one callback.
 *
 * @module
 */

/**
 * Runs `fn` with a fresh temp directory and removes it (recursively) afterwards, whether `fn`
 * returned or threw; resolves to what `fn` resolved to.
 *
 * @param prefix Start of the directory's name, so that a directory a killed test run left behind
 *   in the temp dir says which suite made it.
 */
export async function withTempDir<T>(
  fn: (dir: string) => Promise<T>,
  prefix = "vpo-test-",
): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix });
  try {
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
