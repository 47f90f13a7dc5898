/**
 * `vpo completions bash|zsh|fish`: shell completion scripts generated from the command tree
 * itself, so a new command or flag is completed without anyone editing a script. Job ids come
 * from the names in the queue's state directories (a glob, no vpo process, no job file read),
 * so completion stays instant with 100,000 jobs.
 *
 * @module
 */
import { Argument, type Command, type CommandUnknownOpts } from "@commander-js/extra-typings";
import { type JobState, STATES } from "../queue/job.ts";
import { VpoHome } from "../queue/layout.ts";
import { JOB_ID_MAX, JOB_ID_MIN } from "../util/ids.ts";
import { println } from "./context.ts";
import { examples } from "./help.ts";

/** Shells `vpo completions` writes a script for. */
const SHELLS = ["bash", "zsh", "fish"] as const;

/** What completion needs to know of one command. */
interface CommandSpec {
  /** Command names from the top, joined by "/" ("" for vpo itself, "jobs/list"). */
  path: string;
  description: string;
  subcommands: string[];
  /** Long (and short) option names. */
  flags: string[];
  /** Options taking a value: its choices, "file" for a path, or null for free text. */
  values: Map<string, string[] | "file" | null>;
  /** States whose job ids complete the `<id>` argument; null when there is no such argument. */
  jobStates: readonly JobState[] | null;
  /** The positional arguments are files or directories. */
  fileArgs: boolean;
  /** The values a positional argument may take (`completions <shell>`); empty for free text. */
  argChoices: string[];
}

/** Which ids make sense where: only queued/running jobs can be cancelled, and so on. */
const ID_STATES: Record<string, readonly JobState[]> = {
  cancel: ["queued", "running"],
  retry: ["failed", "cancelled"],
};

function collect(cmd: CommandUnknownOpts, path: string, out: CommandSpec[]): void {
  const flags: string[] = ["--help"];
  const values = new Map<string, string[] | "file" | null>();
  for (const opt of cmd.options) {
    if (opt.hidden) continue;
    const names = [opt.long, opt.short].filter((n): n is string => !!n);
    flags.push(...names);
    if (opt.required || opt.optional) {
      const kind = opt.argChoices ?? (/<(file|path|dir)/.test(opt.flags) ? "file" : null);
      for (const n of names) values.set(n, kind);
    }
  }
  const args = cmd.registeredArguments;
  const idArg = args.some((a) => a.name() === "id");
  out.push({
    path,
    description: cmd.description(),
    subcommands: cmd.commands.map((c) => c.name()),
    flags,
    values,
    jobStates: idArg ? ID_STATES[cmd.name()] ?? STATES : null,
    fileArgs: args.some((a) => /path|file/.test(a.name())),
    argChoices: args.flatMap((a) => a.argChoices ?? []),
  });
  for (const sub of cmd.commands) collect(sub, path ? `${path}/${sub.name()}` : sub.name(), out);
}

/** The specs of `program` and every command below it. */
function commandSpecs(program: CommandUnknownOpts): CommandSpec[] {
  const out: CommandSpec[] = [];
  collect(program, "", out);
  return out;
}

const q = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

/**
 * The state directories of `states` relative to the vpo home, as src/queue/layout.ts places them
 * (`jobs/queued`): the scripts find the home as `resolveHome` does, from VPO_HOME or ~/.vpo.
 */
const stateDirs = (states: readonly JobState[]) =>
  states.map((s) => new VpoHome("").jobs.stateDir(s)).join(" ");

/**
 * A job file's id as `jobIdOf` (src/queue/layout.ts) reads it: the name's part before its first
 * dot, when that is a job id. Every name form counts: `<id>.json`, `<id>.<token>.json` and a queued
 * `<id>.q<priority>-<created>.json`.
 */
const ID_RE = `^[0-9a-f]{${JOB_ID_MIN},${JOB_ID_MAX}}$`;

const BASH_IDS = `_vpo_job_ids() {
  local home="\${VPO_HOME:-$HOME/.vpo}" re=${q(ID_RE)} dir f id
  for dir in "$@"; do
    for f in "$home/$dir"/*.json; do
      [ -e "$f" ] || continue
      f=\${f##*/}
      id=\${f%%.*}
      if [[ $id =~ $re ]]; then printf '%s\\n' "$id"; fi
    done
  done
}`;

/** The bash script (zsh runs it through bashcompinit). */
function bashScript(specs: CommandSpec[]): string {
  const paths = specs.filter((s) => s.path !== "").map((s) => `"/${s.path}"`).join("|");
  const valueCases: string[] = [];
  const wordCases: string[] = [];
  for (const s of specs) {
    for (const [flag, kind] of s.values) {
      const action = kind === "file"
        ? `compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$cur"))`
        : kind === null
        ? "COMPREPLY=()"
        : `COMPREPLY=($(compgen -W ${q(kind.join(" "))} -- "$cur"))`;
      valueCases.push(`    "/${s.path} ${flag}") ${action}; return ;;`);
    }
    const words = [...s.subcommands, ...s.argChoices];
    const rest = s.jobStates
      ? `COMPREPLY=($(compgen -W "$(_vpo_job_ids ${stateDirs(s.jobStates)})" -- "$cur"))`
      : s.fileArgs
      ? `compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$cur"))`
      : `COMPREPLY=($(compgen -W ${q(words.join(" "))} -- "$cur"))`;
    wordCases.push(
      `    "/${s.path}")\n      if [[ $cur == -* ]]; then COMPREPLY=($(compgen -W ${
        q(s.flags.join(" "))
      } -- "$cur")); else ${rest}; fi ;;`,
    );
  }
  return `# vpo completion for bash. Load it with: source <(vpo completions bash)
# or save it as /etc/bash_completion.d/vpo. Generated by vpo; job ids come from file names.
${BASH_IDS}

_vpo() {
  local cur=\${COMP_WORDS[COMP_CWORD]} prev=\${COMP_WORDS[COMP_CWORD-1]}
  local path="" i w
  for ((i = 1; i < COMP_CWORD; i++)); do
    w=\${COMP_WORDS[i]}
    case "$path/$w" in
      ${paths}) path="$path/$w" ;;
    esac
  done
  path=\${path#/}
  case "/$path $prev" in
${valueCases.join("\n")}
  esac
  case "/$path" in
${wordCases.join("\n")}
  esac
}
complete -F _vpo vpo
`;
}

/** The zsh script: zsh's bash completion emulation running the bash script. */
function zshScript(specs: CommandSpec[]): string {
  return `# vpo completion for zsh. Load it from ~/.zshrc with: source <(vpo completions zsh)
autoload -U +X compinit && compinit
autoload -U +X bashcompinit && bashcompinit
${
    bashScript(specs).split("\n").filter((l) =>
      !l.startsWith("# vpo completion for bash") && !l.startsWith("# or save")
    ).join("\n")
  }`;
}

/** The fish script. */
function fishScript(specs: CommandSpec[]): string {
  const known = specs.filter((s) => s.path !== "").map((s) => q(s.path)).join(" ");
  const lines = [
    "# vpo completion for fish. Load it with: vpo completions fish | source",
    "# or save it as ~/.config/fish/completions/vpo.fish. Job ids come from file names.",
    `set -g __vpo_paths ${known}`,
    `function __vpo_path --description 'the vpo command being typed, as jobs/list'
    set -l path
    for w in (commandline -opc)[2..-1]
        set -l next (string join -- / $path $w)
        if contains -- $next $__vpo_paths
            set path $next
        end
    end
    echo (string join -- / $path)
end`,
    `function __vpo_job_ids
    set -q VPO_HOME; and set -l home $VPO_HOME; or set -l home $HOME/.vpo
    for dir in $argv
        for f in $home/$dir/*.json
            string replace -r '\\..*$' '' -- (basename -- $f) | string match -r -- ${q(ID_RE)}
        end
    end
end`,
    "complete -c vpo -f",
  ];
  for (const s of specs) {
    const cond = `-n ${q(`test (__vpo_path) = "${s.path}"`)}`;
    const byName = new Map(specs.map((x) => [x.path, x]));
    for (const sub of s.subcommands) {
      const desc = byName.get(s.path ? `${s.path}/${sub}` : sub)?.description ?? "";
      lines.push(`complete -c vpo ${cond} -a ${q(sub)} -d ${q(desc)}`);
    }
    for (const flag of s.flags) {
      const kind = s.values.get(flag);
      const name = flag.startsWith("--") ? `-l ${flag.slice(2)}` : `-s ${flag.slice(1)}`;
      const value = kind === undefined
        ? ""
        : kind === "file"
        ? " -r -F"
        : kind === null
        ? " -x"
        : ` -x -a ${q(kind.join(" "))}`;
      lines.push(`complete -c vpo ${cond} ${name}${value}`);
    }
    if (s.jobStates) {
      lines.push(`complete -c vpo ${cond} -a '(__vpo_job_ids ${stateDirs(s.jobStates)})'`);
    }
    if (s.fileArgs) lines.push(`complete -c vpo ${cond} -F`);
    if (s.argChoices.length > 0) {
      lines.push(`complete -c vpo ${cond} -a ${q(s.argChoices.join(" "))}`);
    }
  }
  return lines.join("\n") + "\n";
}

/** Adds `completions` to `program`; call it after every other command is added. */
export function addCompletionsCommand(program: Command): void {
  program.command("completions")
    .description("print a shell completion script (commands, flags, states, job ids)")
    .addArgument(new Argument("<shell>", "bash, zsh or fish").choices(SHELLS))
    .addHelpText(
      "after",
      examples([
        "source <(vpo completions bash)",
        "vpo completions bash > /etc/bash_completion.d/vpo",
        "source <(vpo completions zsh)    # in ~/.zshrc",
        "vpo completions fish > ~/.config/fish/completions/vpo.fish",
      ]),
    )
    .action((shell) => {
      const specs = commandSpecs(program as unknown as CommandUnknownOpts);
      const render = { bash: bashScript, zsh: zshScript, fish: fishScript }[shell];
      println(render(specs).trimEnd());
    });
}
