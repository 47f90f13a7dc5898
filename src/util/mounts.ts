/**
 * Which mounted file system a path is on (from the kernel's mount table, else statfs): the queue's
 * file-system check and file identities decide by its type.
 *
 * @module
 */
import { statfsSync } from "node:fs";
import { resolve } from "node:path";

/** The file system a path lives on, as the kernel's mount table names it. */
export interface MountInfo {
  /** Where it is mounted; null when only statfs could be asked (no mount table). */
  mountPoint: string | null;
  /** Its type: "ext4", "nfs4", "cifs", "fuse.sshfs", "fuse.smbnetfs", ... ("unknown" off Linux). */
  fsType: string;
}

/** statfs f_type numbers of common file systems (linux/magic.h). */
const FS_MAGIC = new Map<number, string>([
  [0xef53, "ext4"],
  [0x58465342, "xfs"],
  [0x9123683e, "btrfs"],
  [0x2fc12fc1, "zfs"],
  [0x01021994, "tmpfs"],
  [0x794c7630, "overlay"],
  [0x6969, "nfs"],
  [0xff534d42, "cifs"],
  [0xfe534d42, "smb3"],
  [0x65735546, "fuse"],
  [0x4d44, "vfat"],
  [0x2011bab0, "exfat"],
  [0x5346544e, "ntfs"],
]);

function unescapeMount(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, oct) => String.fromCharCode(parseInt(oct, 8)));
}

let cachedTable: { lines: string[] | null; at: number } | null = null;

/** Lines of /proc/self/mountinfo, re-read at most every few seconds (one stat per queued file). */
function mountTable(): string[] | null {
  const now = performance.now();
  if (cachedTable === null || now - cachedTable.at > 5000) {
    let lines: string[] | null = null;
    try {
      lines = Deno.readTextFileSync("/proc/self/mountinfo").split("\n");
    } catch {
      // Not Linux: no mount table.
    }
    cachedTable = { lines, at: now };
  }
  return cachedTable.lines;
}

/**
 * The mount `path` is on: the longest mount point that is a prefix of its real path, from
 * /proc/self/mountinfo, else (no access to it) the type statfs reports; "unknown" when neither
 * answers.
 */
export function mountOf(path: string): MountInfo {
  let real = resolve(path);
  try {
    real = Deno.realPathSync(path);
  } catch {
    // Not there (yet): judge by the name given.
  }
  let best: MountInfo & { mountPoint: string } = { mountPoint: "/", fsType: "unknown" };
  for (const line of mountTable() ?? []) {
    const [left, right] = line.split(" - ");
    if (!right) continue;
    const mountPoint = unescapeMount(left.split(" ")[4] ?? "");
    const fsType = right.split(" ")[0];
    const inside = mountPoint === "/" || real === mountPoint || real.startsWith(mountPoint + "/");
    // Later lines win at equal length: a mount over a mount point hides the earlier one.
    if (inside && mountPoint.length >= best.mountPoint.length) best = { mountPoint, fsType };
  }
  if (best.fsType === "unknown") {
    // Deno allows the mount table only with --allow-all (or no mount table: not Linux); statfs
    // still names the type.
    try {
      const type = FS_MAGIC.get(statfsSync(real).type);
      if (type) return { mountPoint: null, fsType: type };
    } catch {
      // No statfs either: stay "unknown".
    }
  }
  return best;
}
