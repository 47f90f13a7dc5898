/**
 * Entry point of the `vpo` command (and of the compiled binary).
 *
 * @module
 */
import { main } from "./src/cli/main.ts";

if (import.meta.main) Deno.exit(await main(Deno.args));
