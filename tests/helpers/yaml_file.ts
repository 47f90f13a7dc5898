/**
 * Loading YAML text through a real file, for the config and policy loaders: both read a path, and
 * both prefix their errors with it.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { ConfigError } from "../../src/errors.ts";
import { withTempDir } from "./temp.ts";

/** What {@link yamlFileLoader} returns. */
export interface YamlFileLoader<T> {
  /** Writes `text` as the file in a temp directory and loads it. */
  loadText(text: string): Promise<T>;
  /**
   * The ConfigError message loading `text` gives, with the temp path replaced by the file's bare
   * name, so that expected messages do not depend on where the temp directory was made.
   */
  errorFor(text: string): Promise<string>;
}

/**
 * Binds `load` (e.g. `loadConfig`) to a file called `name` (e.g. "config.yaml") in a fresh temp
 * directory per call, made with `prefix` (see {@link withTempDir}).
 */
export function yamlFileLoader<T>(
  name: string,
  load: (path: string) => Promise<T>,
  prefix?: string,
): YamlFileLoader<T> {
  /** Writes `text` as `name` in a fresh temp directory and passes its path to `fn`. */
  const withFile = <R>(text: string, fn: (path: string) => Promise<R>): Promise<R> =>
    withTempDir(async (dir) => {
      const path = join(dir, name);
      await Deno.writeTextFile(path, text);
      return await fn(path);
    }, prefix);

  return {
    loadText: (text) => withFile(text, load),
    errorFor: (text) =>
      withFile(text, async (path) => {
        const error = await load(path).then(() => undefined, (e) => e);
        assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${error}`);
        assert.ok(error.message.startsWith(`${path}:`), error.message);
        return name + error.message.slice(path.length);
      }),
  };
}
