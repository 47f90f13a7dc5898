/**
 * `vpo completions`: the bash script, printed by the CLI, sourced in a real bash and asked what it
 * completes, exactly as bash asks it on a TAB.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { TempHome } from "./helpers/vpo.ts";
import { type JobRecord, type JobState, STATES } from "../src/queue/job.ts";
import { VpoHome } from "../src/queue/layout.ts";
import { listJobNames } from "../src/queue/scan.ts";

const QUEUED = "a".repeat(32);
const RUNNING = "b".repeat(32);
const FAILED = "c".repeat(32);
const CANCELLED = "c".repeat(4) + "d".repeat(28);

/**
 * A home with one job per state, each under the name vpo gives it there, beside names that are not
 * jobs'. The files hold no JSON, as ids must come from names alone.
 */
async function homeWithJobs(): Promise<TempHome> {
  const home = await TempHome.create();
  const layout = new VpoHome(home.vpoHome).jobs;
  // A negative priority puts a second "-" in the queued name: q-5-<created>.
  const queued = { id: QUEUED, priority: -5, created_at: new Date().toISOString() } as JobRecord;
  const files: [JobState, string][] = [
    ["queued", layout.publishPath("queued", queued)],
    ["running", layout.jobPath("running", RUNNING, "0a1b2c3d4e5f")],
    ["failed", layout.jobPath("failed", FAILED)],
    ["cancelled", layout.jobPath("cancelled", CANCELLED)],
    // Not jobs: a file someone left, a temp file, a job id too short.
    ["queued", join(layout.stateDir("queued"), "notes.json")],
    ["queued", join(layout.stateDir("queued"), `.${"e".repeat(32)}.json`)],
    ["failed", join(layout.stateDir("failed"), "abc.json")],
  ];
  for (const [state, path] of files) {
    await Deno.mkdir(layout.stateDir(state), { recursive: true });
    await Deno.writeTextFile(path, "not json");
  }
  // The shells must read these names as vpo does.
  const ids = STATES.flatMap((s) => listJobNames(layout.stateDir(s)).map((n) => n.id)).sort();
  assert.deepEqual(ids, [QUEUED, RUNNING, FAILED, CANCELLED].sort());
  assert.match(layout.publishPath("queued", queued), /\.q-5-\d{8}T\d{9}Z\.json$/);
  return home;
}

/** What bash offers for the command line `line` (the cursor at its end). */
async function complete(home: TempHome, script: string, line: string): Promise<string[]> {
  const words = line.split(" ");
  const program = `source ${JSON.stringify(script)}
COMP_WORDS=(${words.map((w) => `'${w}'`).join(" ")})
COMP_CWORD=${words.length - 1}
COMP_LINE='${line}'
_vpo
printf '%s\\n' "\${COMPREPLY[@]}"`;
  const out = await new Deno.Command("bash", {
    args: ["--norc", "--noprofile", "-c", program],
    env: { VPO_HOME: home.vpoHome },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  assert.equal(dec.decode(out.stderr), "");
  assert.equal(out.code, 0);
  return dec.decode(out.stdout).split("\n").filter(Boolean).sort();
}

Deno.test("bash completion: commands, flags, states and job ids from file names", async () => {
  await using home = await homeWithJobs();
  const printed = await home.run(["completions", "bash"]);
  assert.equal(printed.code, 0, printed.stderr);
  const script = join(home.dir, "vpo.bash");
  await Deno.writeTextFile(script, printed.stdout);

  const registered = await new Deno.Command("bash", {
    args: ["--norc", "--noprofile", "-c", `source ${JSON.stringify(script)}; complete -p vpo`],
    stdout: "piped",
  }).output();
  assert.equal(new TextDecoder().decode(registered.stdout).trim(), "complete -F _vpo vpo");

  const cases: [string, string[]][] = [
    ["vpo ", ["completions", "doctor", "forecast", "jobs", "serve", "stats", "transcode"]],
    ["vpo jobs st", ["start", "status"]],
    ["vpo jobs list --status ", ["cancelled", "completed", "failed", "queued", "running"]],
    ["vpo jobs list --status f", ["failed"]],
    ["vpo jobs clear --status a", ["all"]],
    ["vpo jobs list --", ["--help", "--json", "--limit", "--status"]],
    ["vpo jobs start --cpu", ["--cpu-cores"]],
    ["vpo jobs show ", [QUEUED, RUNNING, FAILED, CANCELLED].sort()],
    ["vpo jobs show cc", [FAILED, CANCELLED].sort()],
    ["vpo jobs cancel ", [QUEUED, RUNNING]],
    ["vpo jobs retry ", [FAILED, CANCELLED].sort()],
    ["vpo completions ", ["bash", "fish", "zsh"]],
  ];
  for (const [line, expected] of cases) {
    assert.deepEqual(await complete(home, script, line), expected, line);
  }
  // A value of --policy is a file: bash offers paths.
  const files = await complete(home, script, `vpo transcode --policy ${home.dir}/vpo.b`);
  assert.deepEqual(files, [script]);
});

/** What `shell` completes for `line`, given the script it loaded from `vpo completions`. */
async function completeIn(
  shell: "zsh" | "fish",
  home: TempHome,
  script: string,
  line: string,
): Promise<string[]> {
  // fish: its own `complete -C`. zsh: what bashcompinit's _bash_complete asks (compgen -F) before
  // compadd keeps the words that start with the current one, which is done here.
  const program = shell === "fish"
    ? `source ${JSON.stringify(script)}; complete -C ${JSON.stringify(line)}`
    : `source ${JSON.stringify(script)}
words=(\${(s: :)1}); [[ $1 == *" " ]] && words+=("")
CURRENT=\${#words}; COMP_WORDS=("\${words[@]}"); COMP_CWORD=$((CURRENT - 1))
compgen -F _vpo -- "\${words[CURRENT]}"`;
  const args = shell === "fish"
    ? ["--no-config", "-c", program]
    : ["-f", "-c", program, "zsh", line];
  const out = await new Deno.Command(shell, {
    args,
    env: { VPO_HOME: home.vpoHome },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  assert.equal(dec.decode(out.stderr), "", `${shell}: ${line}`);
  const current = line.slice(line.lastIndexOf(" ") + 1);
  return dec.decode(out.stdout).split("\n")
    .map((l) => l.split("\t")[0])
    .filter((w) => w !== "" && w.startsWith(current))
    .sort();
}

for (const shell of ["zsh", "fish"] as const) {
  Deno.test(`${shell} completion: commands, flags, states and job ids`, async () => {
    await using home = await homeWithJobs();
    const printed = await home.run(["completions", shell]);
    assert.equal(printed.code, 0, printed.stderr);
    const script = join(home.dir, `vpo.${shell}`);
    await Deno.writeTextFile(script, printed.stdout);
    const cases: [string, string[]][] = [
      ["vpo ", ["completions", "doctor", "forecast", "jobs", "serve", "stats", "transcode"]],
      ["vpo jobs st", ["start", "status"]],
      ["vpo jobs list --status f", ["failed"]],
      ["vpo jobs list --l", ["--limit"]],
      ["vpo jobs cancel ", [QUEUED, RUNNING]],
      ["vpo jobs retry cc", [FAILED, CANCELLED].sort()],
      // completed/ does not exist: its glob matches nothing, and that is no error.
      ["vpo jobs show a", [QUEUED]],
      ["vpo completions z", ["zsh"]],
    ];
    for (const [line, expected] of cases) {
      assert.deepEqual(await completeIn(shell, home, script, line), expected, `${shell}: ${line}`);
    }
  });
}

Deno.test("completions for an unknown shell is a usage error", async () => {
  await using home = await TempHome.create();
  const bad = await home.run(["completions", "tcsh"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^vpo: .*tcsh.*bash, zsh, fish/);
});
