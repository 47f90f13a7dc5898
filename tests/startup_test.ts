/**
 * Start-up: what every `vpo` command loads before it does anything is the command line's
 * declarations, not the worker, the media layer, the web server, the doctor or the notifier
 * (each command imports those in its action). Checked on the module graph Deno itself reports,
 * not by timing (the figures are in docs/benchmarks.md); and the paths that declare every
 * command (help, a typo, completions) still see every command.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { CLI, ROOT, TempHome } from "./helpers/vpo.ts";

interface GraphModule {
  specifier: string;
  dependencies?: { code?: { specifier: string }; isDynamic?: boolean }[];
}

/** Every module `cli.ts` loads before its first line runs: its static imports, transitively. */
async function eagerModules(): Promise<string[]> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", CLI],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  const graph = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    roots: string[];
    modules: GraphModule[];
    redirects: Record<string, string>;
  };
  const bySpecifier = new Map(graph.modules.map((m) => [m.specifier, m]));
  const seen = new Set<string>();
  const stack = [...graph.roots];
  while (stack.length) {
    const next = stack.pop()!;
    const specifier = graph.redirects[next] ?? next;
    if (seen.has(specifier)) continue;
    seen.add(specifier);
    for (const dep of bySpecifier.get(specifier)?.dependencies ?? []) {
      if (dep.code && !dep.isDynamic) stack.push(dep.code.specifier);
    }
  }
  return [...seen].map((s) => s.startsWith("file:") ? fileURLToPath(s).slice(ROOT.length) : s);
}

/** What a command that needs none of it must not load. */
const HEAVY = [
  /^src\/(media|worker|transcode|library|policy|stats|notify)\//,
  /^src\/serve\/(server|api)\.ts$/,
  /^src\/ops\/doctor\.ts$/,
  /^src\/queue\/store\.ts$/,
  /^src\/config\/config\.ts$/, // the YAML reader, loaded only when config.yaml exists
  /^npm:\/?(yaml|string-width)@/,
];

Deno.test("start-up: vpo loads only the command line's declarations before it runs a command", async () => {
  const eager = await eagerModules();
  assert.ok(eager.includes("src/cli/main.ts"), eager.join("\n"));
  const heavy = eager.filter((m) => HEAVY.some((re) => re.test(m)));
  assert.deepEqual(heavy, [], "loaded at every start");
});

Deno.test("start-up: help, a mistyped command and completions still see every command", async () => {
  await using home = await TempHome.create();
  const help = await home.run(["--help"]);
  assert.equal(help.code, 0, help.stderr);
  for (const name of ["transcode", "jobs", "stats", "serve", "doctor", "completions"]) {
    assert.match(help.stdout, new RegExp(`^  ${name}\\b`, "m"), name);
  }
  const typo = await home.run(["doctr"]);
  assert.deepEqual(
    [typo.code, typo.stderr],
    [2, "vpo: unknown command 'doctr' (Did you mean doctor?)\n"],
  );
  const completions = await home.run(["completions", "bash"]);
  assert.equal(completions.code, 0, completions.stderr);
  for (const word of ["transcode", "--settle", "stats", "--token-file", "doctor", "--end-by"]) {
    assert.ok(completions.stdout.includes(word), word);
  }
  const status = await home.run(["jobs", "status"]);
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, /^Job Queue Status\n/);
});
