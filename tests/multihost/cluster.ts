/**
 * Three worker hosts and a file server on this machine (network, mount and UTS namespaces, set up
 * by hosts.sh), and vpo run on them as real subprocesses, each host with its own clock skew.
 *
 * @module
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { CLI_PERMISSIONS as PERMS } from "../../scripts/permissions.ts";
import { CLI } from "../helpers/vpo.ts";

const HOSTS_SH = fileURLToPath(new URL("./hosts.sh", import.meta.url));

/** The protocols the share is served with. */
export type Protocol = "sftp" | "sftp-plain" | "smb";
/** The worker hosts. */
export type Host = "a" | "b" | "c";

/** Clock skew of each host: a +5 min, b -5 min, c none. */
export const SKEW: Record<Host, string | null> = { a: "+300s", b: "-300s", c: null };

const REQUIRED = [
  "ip",
  "unshare",
  "nsenter",
  "mountpoint",
  "fusermount",
  "ssh-keygen",
  "/usr/sbin/sshd",
  "sshfs",
  "/usr/sbin/smbd",
  "pdbedit",
  "smbnetfs",
];

/**
 * libfaketime itself, preloaded with FAKETIME set: the `faketime` wrapper creates a named
 * semaphore per pid that a kill -9 leaves behind in /dev/shm, and a later process given the same
 * pid then fails with "sem_open: File exists".
 */
const LIBFAKETIME = ["x86_64-linux-gnu", "aarch64-linux-gnu", ""]
  .map((arch) => join("/usr/lib", arch, "faketime/libfaketime.so.1"))
  .find((path) => {
    try {
      return Deno.statSync(path).isFile;
    } catch {
      return false;
    }
  });

/** Why the multi-host tests cannot run here, or null when they can. */
export function whyNotRunnable(): string | null {
  if (Deno.build.os !== "linux") return "multi-host tests need Linux namespaces";
  if (Deno.uid() !== 0) return "multi-host tests need root (network namespaces, FUSE mounts)";
  // Deno lets only --allow-all stat /dev: ask test(1).
  if (!new Deno.Command("test", { args: ["-c", "/dev/fuse"] }).outputSync().success) {
    return "multi-host tests need /dev/fuse";
  }
  const path = (Deno.env.get("PATH") ?? "") + ":/usr/sbin:/sbin";
  const missing = REQUIRED.filter((cmd) =>
    !(cmd.startsWith("/") ? [cmd] : path.split(":").map((d) => join(d, cmd))).some((p) => {
      try {
        return Deno.statSync(p).isFile;
      } catch {
        return false;
      }
    })
  );
  if (!LIBFAKETIME) missing.push("libfaketime");
  if (missing.length) {
    return `multi-host tests need ${missing.join(", ")} ` +
      "(apt packages iproute2 util-linux fuse3 openssh-server sshfs samba smbnetfs faketime)";
  }
  return null;
}

/** Output of one command on a host. */
export interface HostResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A running cluster; {@link Cluster.down} always tears everything down. */
export class Cluster {
  private constructor(readonly dir: string, readonly protocol: Protocol) {}

  /** Sets up the server and the three hosts in a fresh directory. */
  static async up(protocol: Protocol): Promise<Cluster> {
    const dir = await Deno.makeTempDir({ prefix: "vpo-multihost-" });
    const cluster = new Cluster(dir, protocol);
    const out = await new Deno.Command(HOSTS_SH, {
      args: ["up", dir, protocol],
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!out.success) {
      await cluster.down();
      throw new Error(`hosts.sh up failed: ${new TextDecoder().decode(out.stderr)}`);
    }
    return cluster;
  }

  /** The share as every host sees it. */
  get share(): string {
    return join(this.dir, "q");
  }
  /** The share's directory on the server itself (for the test's own checks). */
  get served(): string {
    return join(this.dir, "srv");
  }
  /** VPO_HOME of every host: on the share, so the queue is shared. */
  get vpoHome(): string {
    return join(this.share, "home");
  }

  /** The command line that runs `vpo ...args` on `host`, under its skewed clock. */
  vpoCommand(host: Host, args: string[], env: Record<string, string> = {}): string[] {
    const skew = SKEW[host];
    return [
      "exec",
      this.dir,
      host,
      "env",
      `VPO_HOME=${this.vpoHome}`,
      "NO_COLOR=1",
      // An internal error then carries its stack into the test's failure message.
      "VPO_DEBUG=1",
      ...Object.entries(env).map(([k, v]) => `${k}=${v}`),
      ...(skew ? [`LD_PRELOAD=${LIBFAKETIME}`, `FAKETIME=${skew}`] : []),
      Deno.execPath(),
      "run",
      "--quiet",
      // libfaketime works by LD_PRELOAD, which Deno passes on to ffmpeg only under an
      // unrestricted --allow-run: the skewed hosts get that, the others vpo's own narrow set.
      ...(skew ? PERMS.map((p) => p.startsWith("--allow-run=") ? "--allow-run" : p) : PERMS),
      CLI,
      ...args,
    ];
  }

  /** Runs `vpo ...args` on `host` to completion, with `env` added to its environment. */
  async vpo(host: Host, args: string[], env: Record<string, string> = {}): Promise<HostResult> {
    return await this.#output(this.vpoCommand(host, args, env));
  }

  /** Starts `vpo ...args` on `host`; its output is collected until it exits. */
  spawnVpo(host: Host, args: string[], env: Record<string, string> = {}): HostProcess {
    return new HostProcess(
      new Deno.Command(HOSTS_SH, {
        args: this.vpoCommand(host, args, env),
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn(),
    );
  }

  /** Runs a plain command on `host`. */
  async sh(host: Host, args: string[]): Promise<HostResult> {
    return await this.#output(["exec", this.dir, host, ...args]);
  }

  /** kill -9 of every vpo and ffmpeg process in `host`'s network namespace. */
  async killHost(host: Host): Promise<number> {
    const ns = await this.#netns(host);
    const pids = (await this.#run("ip", ["netns", "pids", ns])).stdout.split(/\s+/).filter(Boolean);
    let killed = 0;
    for (const pid of pids) {
      const comm = (await this.#run("ps", ["-o", "comm=", "-p", pid])).stdout.trim();
      // The mount's own daemons (sshfs, ssh, smbnetfs) stay: the host itself keeps running.
      if (!/^(deno|ffmpeg|faketime|taskset|nice|ionice)$/.test(comm)) continue;
      await this.#run("kill", ["-9", pid]);
      killed++;
    }
    return killed;
  }

  /** The host's network namespace, named as hosts.sh names it (md5 of the directory). */
  async #netns(host: Host): Promise<string> {
    const md5 = await this.#run("md5sum", [], this.dir);
    return `vpo${md5.stdout.slice(0, 6)}${host}`;
  }

  async #output(args: string[]): Promise<HostResult> {
    return await this.#run(HOSTS_SH, args);
  }

  async #run(cmd: string, args: string[], input?: string): Promise<HostResult> {
    const child = new Deno.Command(cmd, {
      args,
      stdin: input === undefined ? "null" : "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    if (input !== undefined) {
      const writer = child.stdin.getWriter();
      await writer.write(new TextEncoder().encode(input));
      await writer.close();
    }
    const out = await child.output();
    const dec = new TextDecoder();
    return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
  }

  /** Unmounts, stops the servers, deletes the namespaces and the directory. */
  async down(): Promise<void> {
    await new Deno.Command(HOSTS_SH, { args: ["down", this.dir], stdout: "null", stderr: "null" })
      .output();
    await Deno.remove(this.dir, { recursive: true }).catch(() => {});
  }
}

/** A vpo process on a host, its output collected. */
export class HostProcess {
  readonly done: Promise<HostResult>;
  constructor(readonly child: Deno.ChildProcess) {
    this.done = child.output().then((out) => {
      const dec = new TextDecoder();
      return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
    });
  }
}
