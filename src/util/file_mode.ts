/**
 * The mode of the files vpo creates in its home. Private (the default): whatever `mode: 0o600`
 * and the umask give. In a group-shared queue every member's worker must read, and append to,
 * files another member created, so each new file is set to 0660 explicitly (a umask would do it
 * for all at once, but Deno lets only a process with every sys permission set its umask).
 *
 * @module
 */

let shared = false;

/** From now on, files this process creates in the home are shared with its group (0660). */
export function shareNewFilesWithGroup(): void {
  shared = true;
}

/** Whether this process works a group-shared queue, where members' files mix. */
export function sharesWithGroup(): boolean {
  return shared;
}

/**
 * Gives a file this process just created the home's file mode. A file another member created
 * (an existing log appended to) is left as it is: only its owner may change its mode.
 */
export function applyHomeFileMode(path: string): void {
  if (!shared) return;
  try {
    // chmod follows links: one planted at the name must not open another file to the group.
    if (!Deno.lstatSync(path).isFile) return;
    Deno.chmodSync(path, 0o660);
  } catch (err) {
    if (!(err instanceof Deno.errors.PermissionDenied)) throw err;
  }
}
