/**
 * Checks of a directory vpo writes to: that it exists and is vpo's, how much room it has, what
 * file system it is on, and whether that file system gives the two guarantees the queue and the
 * replace protocol rest on: hard links and atomic rename.
 *
 * @module
 */
import { statfsSync } from "node:fs";
import { join } from "node:path";
import { runCaptured } from "../media/exec.ts";
import { createFileSync, readRegularFileSync, uniqueTempName } from "../util/safe_open.ts";
import { formatBytes } from "../util/format.ts";
import { type Check, check } from "./check.ts";

/** Below this much free space a directory gets a warning. */
const LOW_SPACE = 1024 ** 3;

/** File system types whose names statfs gives but findmnt may not be there to tell. */
const FS_MAGIC: Record<number, string> = {
  0xef53: "ext4",
  0x58465342: "xfs",
  0x9123683e: "btrfs",
  0x2fc12fc1: "zfs",
  0x01021994: "tmpfs",
  0x6969: "nfs",
  0x65735546: "fuse",
  0xff534d42: "cifs",
  0xfe534d42: "smb2",
  0x794c7630: "overlay",
  0x4d44: "vfat",
  0x5346544e: "ntfs",
};

/** Network or FUSE file systems, where the queue works with the caveats of docs/operations.md. */
const NETWORK_FS = /^(nfs4?|cifs|smb3?|smb2|fuse\..*|fuse|9p|ceph|glusterfs)$/;

/** The file system type of `path` and its mount point, from findmnt, else statfs's magic. */
async function fileSystemOf(path: string): Promise<{ type: string; mount: string | null }> {
  try {
    const run = await runCaptured("findmnt", ["-n", "-o", "FSTYPE,TARGET", "--target", path]);
    const [type, ...mount] = run.stdout.trim().split(/\s+/);
    if (run.code === 0 && type) return { type, mount: mount.join(" ") || null };
  } catch {
    // No findmnt (not util-linux): fall back to the magic number.
  }
  const magic = statfsSync(path).type;
  return { type: FS_MAGIC[magic] ?? `0x${magic.toString(16)}`, mount: null };
}

/** Free bytes for an unprivileged user in the file system of `path`. */
export function freeBytes(path: string): number {
  const fs = statfsSync(path);
  return Number(fs.bavail) * Number(fs.bsize);
}

/**
 * Tries, in `dir`: create a file, hard-link it (a second link must refuse to clobber), rename
 * over an existing name. Leaves nothing behind. Returns one problem per failed guarantee.
 */
async function probeSemantics(
  dir: string,
): Promise<{ hardLinks: string | null; rename: string | null }> {
  const a = join(dir, uniqueTempName("doctor"));
  const b = `${a}.link`;
  const c = `${a}.target`;
  let hardLinks: string | null = null;
  let rename: string | null = null;
  try {
    for (const [path, text] of [[a, "a"], [c, "c"]]) {
      using file = createFileSync(path, { rule: "folder" });
      file.writeSync(new TextEncoder().encode(text));
    }
    try {
      await Deno.link(a, b);
      try {
        await Deno.link(a, c);
        hardLinks = "linking onto an existing name replaced it (no-clobber publish is unsafe)";
      } catch (err) {
        if (!(err instanceof Deno.errors.AlreadyExists)) {
          hardLinks = `linking onto an existing name failed oddly: ${(err as Error).message}`;
        }
      }
    } catch (err) {
      hardLinks = `not supported (${(err as Error).message.split(":")[0]})`;
    }
    try {
      await Deno.rename(a, c);
      const text = readRegularFileSync(c);
      const gone = await Deno.lstat(a).then(() => false, () => true);
      if (text !== "a" || !gone) rename = "rename over an existing file did not replace it whole";
    } catch (err) {
      rename = `rename over an existing file failed: ${(err as Error).message}`;
    }
  } finally {
    for (const p of [a, b, c]) await Deno.remove(p).catch(() => {});
  }
  return { hardLinks, rename };
}

/** Options of {@link checkDirectory}. */
export interface DirectoryCheckOptions {
  /** Name shown on each line ("vpo home", "temp directory"). */
  label: string;
  /** A missing directory is only a warning (vpo creates it at first use). */
  createdOnUse?: boolean;
  /** Modes with group or other write bits get a warning (vpo home: 0700 expected). */
  private?: boolean;
  /** Bytes the directory must have free (the largest queued source, for the temp directory). */
  needFree?: { bytes: number; why: string };
  /** Try hard links and rename in it (needs write access; skipped when it is missing). */
  semantics?: boolean;
}

/** Every check of one directory, one line each. */
export async function checkDirectory(path: string, opts: DirectoryCheckOptions): Promise<Check[]> {
  const { label } = opts;
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      return [
        opts.createdOnUse
          ? check("ok", label, `${path} does not exist yet; vpo creates it at first use`)
          : check("FAIL", label, `${path} does not exist`, `create it: mkdir -p ${path}`),
      ];
    }
    return [check("FAIL", label, `${path}: ${(err as Error).message}`, "check its permissions")];
  }
  if (!info.isDirectory) {
    return [check("FAIL", label, `${path} is not a directory`, "point vpo at a directory")];
  }
  const out: Check[] = [];
  const mode = (info.mode ?? 0) & 0o7777;
  const modeText = mode.toString(8).padStart(4, "0");
  const owner = `owner uid ${info.uid}, mode ${modeText}`;
  // Who vpo runs as: the owner of a file it creates (Deno.uid() would need another permission).
  let uid: number | null = null;
  let writable = true;
  try {
    const probe = join(path, uniqueTempName("doctor"));
    const file = createFileSync(probe, { rule: "folder" });
    uid = file.stat().uid;
    file.close();
    await Deno.remove(probe);
  } catch {
    writable = false;
  }
  if (!writable) {
    out.push(
      check(
        "FAIL",
        label,
        `${path}: not writable by this user (${owner})`,
        `chown or chmod it so the user running vpo can write it`,
      ),
    );
  } else if (opts.private && (mode & 0o022) !== 0) {
    out.push(
      check("warn", label, `${path}: ${owner}: others can write the queue`, `chmod go-w ${path}`),
    );
  } else if (info.uid !== null && uid !== null && info.uid !== uid && uid !== 0) {
    out.push(
      check(
        "warn",
        label,
        `${path}: ${owner}, but vpo runs as uid ${uid}`,
        `run vpo as its owner, or chown it`,
      ),
    );
  } else {
    out.push(check("ok", label, `${path} (${owner})`));
  }
  const free = freeBytes(path);
  const fs = await fileSystemOf(path);
  const where = `${fs.type}${fs.mount ? ` mounted at ${fs.mount}` : ""}`;
  if (opts.needFree && free < opts.needFree.bytes) {
    out.push(
      check(
        "FAIL",
        `${label} space`,
        `${formatBytes(free)} free on ${where}; ${opts.needFree.why} needs ${
          formatBytes(opts.needFree.bytes)
        }`,
        "free some space, or set jobs.temp_directory to a bigger disk",
      ),
    );
  } else if (free < LOW_SPACE) {
    out.push(
      check("warn", `${label} space`, `${formatBytes(free)} free on ${where}`, "free some space"),
    );
  } else {
    const need = opts.needFree
      ? ` (${opts.needFree.why}: ${formatBytes(opts.needFree.bytes)})`
      : "";
    out.push(check("ok", `${label} space`, `${formatBytes(free)} free on ${where}${need}`));
  }
  if (NETWORK_FS.test(fs.type)) {
    out.push(
      check(
        "warn",
        `${label} file system`,
        `${fs.type} is a network or FUSE file system: attribute and directory caches can hide other hosts' changes for seconds`,
        "see docs/operations.md#network-file-systems (sshfs: -o dir_cache=no; NFS: actimeo=1)",
      ),
    );
  }
  if (opts.semantics && writable) {
    const s = await probeSemantics(path);
    out.push(
      s.hardLinks
        ? check(
          "warn",
          `${label} hard links`,
          s.hardLinks,
          "originals are kept by rename instead of a link; prefer a file system with hard links (not smbnetfs)",
        )
        : check(
          "ok",
          `${label} hard links`,
          "supported, and a link never replaces an existing name",
        ),
    );
    out.push(
      s.rename
        ? check(
          "FAIL",
          `${label} rename`,
          s.rename,
          "the queue needs atomic rename: move it to a local or NFS/sshfs file system",
        )
        : check("ok", `${label} rename`, "rename over an existing file is atomic"),
    );
  }
  return out;
}
