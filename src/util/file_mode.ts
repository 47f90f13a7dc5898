/**
 * Who may write the home: its owner alone (private, the default), or also the members of one
 * group (`jobs.shared_group`). This decides the mode of the files vpo creates there and which
 * directories vpo accepts as the home's own (queue/access.ts at start, util/safe_open.ts at every
 * write).
 *
 * In a group-shared queue every member's worker must read, and append to, files another member
 * created, so each new file is set to 0660 through its descriptor (a umask would do it for all at
 * once, but Deno lets only a process with every sys permission set its umask).
 *
 * @module
 */

let sharedGid: number | null = null;

/** From now on, this process works a queue shared with group `gid`: its new files are 0660. */
export function shareNewFilesWithGroup(gid: number): void {
  sharedGid = gid;
}

/** Whether this process works a group-shared queue, where members' files mix. */
export function sharesWithGroup(): boolean {
  return sharedGid !== null;
}

/** The mode a file this process creates in the home gets: 0660 when shared, else null (0600). */
export function homeFileMode(): number | null {
  return sharedGid === null ? null : 0o660;
}

/** Who, besides the home's allowed writers, could write a directory. */
export type ExtraWriter =
  | { kind: "everyone" }
  /** Another user owns it (a private home is its owner's alone). */
  | { kind: "owner"; uid: number }
  /** A group may write it: any group in a private home, another group in a shared one. */
  | { kind: "group"; gid: number };

/**
 * Who other than the allowed writers could write the directory `info` describes: in a private
 * home (`sharedGroup` null) anyone but `uid`; in a shared one anyone outside the group. Null when
 * nobody.
 */
export function extraWriter(
  info: { uid: number | null; gid: number | null; mode: number | null },
  uid: number | null,
  sharedGroup: number | null = sharedGid,
): ExtraWriter | null {
  const mode = info.mode ?? 0;
  if (mode & 0o002) return { kind: "everyone" };
  if (sharedGroup === null && uid !== null && info.uid !== null && info.uid !== uid) {
    return { kind: "owner", uid: info.uid };
  }
  if (mode & 0o020 && info.gid !== sharedGroup) return { kind: "group", gid: info.gid ?? -1 };
  return null;
}
