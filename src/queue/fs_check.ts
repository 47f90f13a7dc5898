/**
 * What the queue's file system offers, measured at `vpo jobs start` (and by any command that
 * wants to report it): the protocol has one code path for all file systems, but its guarantees
 * and the settings it needs differ, and a user should see which case they are in.
 *
 * @module
 */
import { join } from "node:path";
import { fileSystemNow, writeTempFile } from "../util/durable_fs.ts";
import { uniqueTempName } from "../util/safe_open.ts";
import { inodesAreStable } from "../util/file_identity.ts";
import { type MountInfo, mountOf } from "../util/mounts.ts";
import { QueueLayout } from "./layout.ts";

/** The queue file system's capabilities, as measured. */
export interface FileSystemReport extends MountInfo {
  /** Hard links work: publishes and backups are no-clobber links. */
  hardLinks: boolean;
  /** A rename onto an existing name replaces it (POSIX; SFTP only with posix-rename). */
  renameReplaces: boolean;
  /** Inode numbers are the same on every host (not FUSE or SMB). */
  stableInodes: boolean;
  /** The file server's clock minus this host's, in seconds (mtime of a file just written). */
  clockOffsetSec: number;
  /** "local", "network" or "network-no-links": which guarantees apply (docs/multihost.md). */
  mode: "local" | "network" | "network-no-links";
  /** What the user should do or know, one sentence each. */
  advice: string[];
}

const NETWORK = /^(nfs4?|cifs|smb3|smbfs|9p|ceph|glusterfs|lustre|fuse(\..*)?|fuseblk)$/;

/** Measures the file system of the queue rooted at `root` (its `.tmp` directory must exist). */
export async function checkQueueFileSystem(
  root: string,
  settings: { heartbeatIntervalSec: number; staleAfterSec: number },
): Promise<FileSystemReport> {
  const tmpDir = new QueueLayout(root).tmpDir;
  const mount = mountOf(root);
  const a = await writeTempFile(tmpDir, "probe", { durable: false });
  const b = await writeTempFile(tmpDir, "probe", { durable: false });
  const linked = join(tmpDir, uniqueTempName("link"));
  let hardLinks = true;
  let renameReplaces = true;
  try {
    await Deno.link(a, linked).catch(() => hardLinks = false);
    await Deno.rename(a, b).catch(() => renameReplaces = false);
  } finally {
    for (const path of [a, b, linked]) await Deno.remove(path).catch(() => {});
  }
  const before = Date.now();
  const fsNow = await fileSystemNow(tmpDir);
  const clockOffsetSec = Math.round((fsNow - (before + Date.now()) / 2) / 100) / 10;
  const network = NETWORK.test(mount.fsType);
  const mode = !network ? "local" : hardLinks ? "network" : "network-no-links";
  const advice: string[] = [];
  if (network) {
    advice.push(
      `heartbeats are judged on the file server's clock; stale_after (${settings.staleAfterSec} s) ` +
        `must exceed heartbeat_interval (${settings.heartbeatIntervalSec} s) plus the client's ` +
        `attribute cache time plus 2 s`,
    );
  }
  if (mount.fsType.startsWith("fuse")) {
    advice.push(
      "FUSE (sshfs, smbnetfs): mount with -o attr_timeout=0,entry_timeout=0, and sshfs also with " +
        "-o dir_cache=no, or other hosts see jobs late",
    );
  }
  if (mount.fsType.startsWith("nfs")) {
    advice.push("NFS: keep actimeo at most stale_after minus heartbeat_interval minus 2 s");
  }
  if (!hardLinks) {
    advice.push(
      "no hard links: publishes fall back to check-then-rename and backups to rename " +
        "(safe for vpo's own writers, see docs/multihost.md)",
    );
  }
  if (!renameReplaces) {
    advice.push(
      "rename does not replace existing files here (SFTP without posix-rename): live files are " +
        "rewritten by remove then rename, and a replace needs backup_original (see " +
        "docs/multihost.md)",
    );
  }
  if (Math.abs(clockOffsetSec) >= 2) {
    advice.push(
      `this host's clock is ${Math.abs(clockOffsetSec)} s ${
        clockOffsetSec > 0 ? "behind" : "ahead of"
      } the file server's: harmless for heartbeats, but --end-by and logs use this host's clock`,
    );
  }
  return {
    ...mount,
    hardLinks,
    renameReplaces,
    stableInodes: inodesAreStable(root),
    clockOffsetSec,
    mode,
    advice,
  };
}

/** One line for the worker's log: "queue on fuse: mode network (hard links, ...)". */
export function describeFileSystem(report: FileSystemReport): string {
  const facts = [
    report.hardLinks ? "hard links" : "no hard links",
    report.renameReplaces ? "rename replaces" : "rename does not replace",
    report.stableInodes ? "stable inodes" : "inodes per mount",
    `clock offset ${report.clockOffsetSec} s`,
  ];
  const where = report.mountPoint === null ? "" : ` at ${report.mountPoint}`;
  return `queue on ${report.fsType}${where}: mode ${report.mode} (${facts.join(", ")})`;
}
