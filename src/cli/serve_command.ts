/**
 * `vpo serve [--listen HOST:PORT] [--token-file PATH]`: the web page and JSON API.
 *
 * @module
 */
import { type Command, InvalidArgumentError } from "@commander-js/extra-typings";
import { parseListenAddress } from "../config/listen.ts";
import { type CliContext, println, warn } from "./context.ts";
import { examples } from "./help.ts";

function listenOption(value: string) {
  try {
    return parseListenAddress(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

/** Adds `serve` to the program. */
export function addServeCommand(program: Command, ctx: CliContext): void {
  program.command("serve")
    .description("serve a web page and JSON API over the queue (read-only without a token)")
    .option(
      "--listen <host:port>",
      "address to listen on (default: serve.listen, 127.0.0.1:8613)",
      listenOption,
    )
    .option(
      "--token-file <path>",
      "file holding the access token; enables actions (default: serve.token_file)",
    )
    .addHelpText(
      "after",
      examples([
        "vpo serve",
        "vpo serve --listen 0.0.0.0:8613 --token-file ~/.vpo/token",
      ]) + "\nThe API is described in docs/api.md. Stop with Ctrl-C.\n",
    )
    .action(async (opts) => {
      const { readTokenFile } = await import("../serve/auth.ts");
      const { startServer } = await import("../serve/server.ts");
      const { JOB_TYPES } = await import("./job_types.ts");
      const { queueFolder } = await import("./queue_folder.ts");
      const config = await ctx.config();
      const listen = opts.listen ?? parseListenAddress(config.serve.listen);
      const tokenFile = opts.tokenFile ?? config.serve.tokenFile;
      const token = tokenFile ? await readTokenFile(tokenFile, warn) : null;
      const queue = await ctx.queue();
      const stop = new AbortController();
      const onSignal = () => stop.abort();
      Deno.addSignalListener("SIGINT", onSignal);
      Deno.addSignalListener("SIGTERM", onSignal);
      try {
        const server = startServer({
          home: ctx.home,
          config,
          queue,
          types: JOB_TYPES,
          queueFolder: (folder, policyFile) =>
            queueFolder(queue, ctx.home, config, folder, policyFile),
          listen,
          token,
          signal: stop.signal,
        });
        const host = server.addr.hostname.includes(":")
          ? `[${server.addr.hostname}]`
          : server.addr.hostname;
        println(
          `Serving the queue at http://${host}:${server.addr.port}/ ` +
            (token ? "(token required; actions enabled)" : "(read-only; no token)"),
        );
        await server.finished;
      } finally {
        Deno.removeSignalListener("SIGINT", onSignal);
        Deno.removeSignalListener("SIGTERM", onSignal);
      }
    });
}
