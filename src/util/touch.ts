/**
 * A heartbeat's touch of a file another user may own. `utime` with explicit times (all Deno
 * offers) is allowed only to a file's owner; in a shared queue a member's worker claims job files
 * that another member queued. There the change time is moved by truncating the file, through an
 * open handle, to its own length: allowed with write permission (shared files are 0660), and it
 * changes no byte. Staleness is judged by ctime (see queue/recovery.ts), which both update.
 *
 * @module
 */

/** Sets `path`'s mtime (and so its ctime) to now. Throws NotFound when it is gone. */
export async function touch(path: string): Promise<void> {
  const now = new Date();
  try {
    await Deno.utime(path, now, now);
    return;
  } catch (err) {
    if (!(err instanceof Deno.errors.PermissionDenied)) throw err;
  }
  using file = await Deno.open(path, { write: true });
  await file.truncate((await file.stat()).size);
}
