/**
 * Unix group names and ids, from `/etc/group` (Deno has no getgrnam). Groups that exist only in
 * a directory service (LDAP, sssd) are not listed there: give those by number.
 *
 * @module
 */
/** A group: its name (or its number as text when unnamed) and id. */
export interface UnixGroup {
  name: string;
  gid: number;
}

function groupFile(): UnixGroup[] {
  try {
    return Deno.readTextFileSync("/etc/group").split("\n").flatMap((line) => {
      const [name, , gid] = line.split(":");
      return name && /^\d+$/.test(gid ?? "") ? [{ name, gid: Number(gid) }] : [];
    });
  } catch {
    return [];
  }
}

/**
 * The group `value` names (a name, or a number for a group /etc/group does not list). Throws an
 * Error saying why when there is no such group.
 */
export function lookUpGroup(value: string | number): UnixGroup {
  const text = String(value).trim();
  const groups = groupFile();
  if (/^\d+$/.test(text)) {
    const gid = Number(text);
    return { name: groups.find((g) => g.gid === gid)?.name ?? text, gid };
  }
  const found = groups.find((g) => g.name === text);
  if (!found) throw new Error(`no group "${text}" in /etc/group (give its number instead)`);
  return found;
}

/** A group's name for messages: its name, else its number. */
export function groupName(gid: number): string {
  return groupFile().find((g) => g.gid === gid)?.name ?? String(gid);
}
