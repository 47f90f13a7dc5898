/**
 * The one way vpo opens a file in a place others may write: the home's directories (in a
 * group-shared queue every member writes them), a library folder, a job file someone edited.
 * Any name there may be swapped, between two system calls, for a symbolic link, a FIFO, a
 * device or another file (`renameat2(RENAME_EXCHANGE)` swaps two names atomically), and any of
 * the home's directories for a link to somewhere else. So, here and nowhere else (the check
 * `scripts/check_opens.ts` in `deno task check` keeps it so):
 *
 * - **Nothing is created or truncated through a path.** A new file is created exclusively
 *   (`O_CREAT|O_EXCL`, which never follows a link, whatever Deno's permissions); a file is
 *   rewritten by writing an exclusive temp beside it and renaming it over the name (a rename
 *   replaces a link, never follows it).
 * - **An existing file is used only once its open handle proves what it is**: never blocking
 *   (`O_NONBLOCK`, so a FIFO is refused, not waited on), `O_NOFOLLOW`, then `fstat` of the handle:
 *   a regular file, with one name when vpo writes it, and the same dev and inode that an `lstat`
 *   saw before the open.
 * - **A write goes through a directory proven to be the home's at that moment**: the directory is
 *   opened without following a link, its descriptor's owner and mode checked as queue/access.ts
 *   checks them at start, and the file reached as `/proc/self/fd/<dir>/<name>`, so that the
 *   directory swapped for a link afterwards cannot redirect the write.
 *
 * Deno resolves a path itself before opening it under every permission set but `--allow-all`
 * (measured with 2.9.6: `O_NOFOLLOW` is then void, and `/proc/self/fd` paths are refused), so vpo
 * runs with `-A` (scripts/permissions.txt). The checks above that do not need it (exclusive
 * creation, rename over, the handle's type, dev and inode against the `lstat`) hold under any
 * permissions; what `-A` adds is that a link is never even opened and that a directory is used
 * through its descriptor ({@link pathsReachKernel}). Without it, a directory is re-checked by
 * `lstat` after the write instead: a swap and swap back in between goes unseen.
 *
 * @module
 */
import fs from "node:fs";
import { basename, dirname, join } from "node:path";
import { extraWriter, homeFileMode } from "./file_mode.ts";

const { O_RDONLY, O_RDWR, O_CREAT, O_EXCL, O_NOFOLLOW, O_NONBLOCK, O_DIRECTORY } = fs.constants;

/** The largest job or live file vpo reads: real ones are a few kilobytes. */
export const MAX_JOB_FILE_BYTES = 1024 * 1024;

/** A file that is not a regular file, or too large: it is reported, never read. */
export class UnreadableFileError extends Error {
  /** `reason` says why the file at `path` was not read. */
  constructor(readonly path: string, readonly reason: string) {
    super(`${path}: ${reason}`);
    this.name = "UnreadableFileError";
  }
}

/** A directory vpo was about to write in that is not the home's own (or no longer is). */
export class UntrustedDirectoryError extends Error {
  /** `reason` says what is wrong with the directory `path`. */
  constructor(readonly path: string, readonly reason: string) {
    super(`${path}: ${reason}; vpo does not write there`);
    this.name = "UntrustedDirectoryError";
  }
}

/** What kind of file `info` describes, for messages ("a FIFO", "a symbolic link", ...). */
export function describeFileType(info: Deno.FileInfo): string {
  if (info.isFile) return "a regular file";
  if (info.isSymlink) return "a symbolic link";
  if (info.isDirectory) return "a directory";
  if (info.isFifo) return "a FIFO";
  if (info.isCharDevice) return "a character device";
  if (info.isBlockDevice) return "a block device";
  if (info.isSocket) return "a socket";
  return "not a regular file";
}

function describeStats(stat: fs.Stats): string {
  if (stat.isFIFO()) return "a FIFO";
  if (stat.isDirectory()) return "a directory";
  if (stat.isCharacterDevice()) return "a character device";
  if (stat.isBlockDevice()) return "a block device";
  if (stat.isSocket()) return "a socket";
  return "not a regular file";
}

function refuseType(path: string, kind: string): never {
  throw new UnreadableFileError(path, `${kind}, not a regular file; vpo does not read it`);
}

function refuseSize(path: string, size: number, maxBytes: number): never {
  throw new UnreadableFileError(
    path,
    `${size} bytes, more than the ${maxBytes} a vpo file can have; vpo does not read it`,
  );
}

const codeOf = (err: unknown) => (err as { code?: string }).code;

/**
 * A node:fs error as the error vpo's callers test for, named by `shown` (the path a person knows,
 * not `/proc/self/fd/...`): NotFound, AlreadyExists, PermissionDenied; others keep their errno
 * code (retries test for EIO) and their reason ("no space left on device").
 */
function fsError(err: unknown, shown: string): Error {
  const code = codeOf(err);
  const message = String((err as Error).message ?? err);
  // node:fs says "ENOSPC: no space left on device, write": keep the reason, name the file.
  const reason = message.replace(/^[A-Z]+: /, "").replace(/, \w+( '.*')?$/s, "");
  if (code === "ENOENT") return new Deno.errors.NotFound(`${shown}: no such file or directory`);
  if (code === "EEXIST") return new Deno.errors.AlreadyExists(`${shown}: already exists`);
  if (code === "EACCES" || code === "EPERM") {
    return new Deno.errors.PermissionDenied(`${shown}: permission denied`);
  }
  return Object.assign(new Error(`${shown}: ${reason}`), { code, cause: err });
}

let rawPaths: boolean | undefined;

/**
 * Whether Deno hands paths to the kernel as given (it runs with `-A`): then `O_NOFOLLOW` holds
 * and `/proc/self/fd/<n>/<name>` reaches a name through a directory's descriptor. Tried once, on
 * a link that is always there: `/proc/self` opened with `O_NOFOLLOW` fails with ELOOP exactly
 * when the flag reaches the kernel.
 */
export function pathsReachKernel(): boolean {
  if (rawPaths === undefined) {
    try {
      fs.closeSync(fs.openSync("/proc/self", O_RDONLY | O_NOFOLLOW | O_NONBLOCK));
      rawPaths = false;
    } catch (err) {
      rawPaths = codeOf(err) === "ELOOP";
    }
  }
  return rawPaths;
}

/**
 * Which directories vpo accepts to write in: `home`, one of the home's (a real directory, not a
 * link, that only the home's allowed writers can write, see util/file_mode.ts); `folder`, any
 * directory, reached through links as a person set it up (a library folder, the temp directory,
 * or a folder vpo made there, whose owner its user checks). Either way, once opened, the names
 * in it are reached through its descriptor.
 */
export type DirRule = "home" | "folder";

/** A directory proven fit to write in, held open for one operation. */
class ProvenDir {
  private constructor(
    readonly path: string,
    readonly fd: number,
    private readonly ino: number,
    private readonly dev: number,
    private readonly follow: boolean,
  ) {}

  /**
   * Opens the directory `path` and proves it by its descriptor: under `rule`, or (null) only that
   * it is a directory and not a link.
   */
  static open(path: string, rule: DirRule | null): ProvenDir {
    const follow = rule === "folder";
    const before = pathsReachKernel() ? null : statDir(path, follow);
    let fd: number;
    try {
      fd = fs.openSync(path, O_RDONLY | O_DIRECTORY | O_NONBLOCK | (follow ? 0 : O_NOFOLLOW));
    } catch (err) {
      const code = codeOf(err);
      // O_DIRECTORY|O_NOFOLLOW on a link says ENOTDIR (or ELOOP): tell which it is.
      if (code === "ELOOP" || code === "ENOTDIR") {
        const kind = Deno.lstatSync(path);
        throw new UntrustedDirectoryError(
          path,
          kind.isDirectory ? "not a directory" : describeFileType(kind),
        );
      }
      throw fsError(err, path);
    }
    const stat = fs.fstatSync(fd);
    const dir = new ProvenDir(path, fd, stat.ino, stat.dev, follow);
    const problem = before && (before.ino !== stat.ino || before.dev !== stat.dev)
      ? "replaced while vpo opened it"
      : rule === "home"
      ? writersProblem(stat)
      : null;
    if (problem) {
      dir.close();
      throw new UntrustedDirectoryError(path, problem);
    }
    return dir;
  }

  /** The path that reaches `name` in this very directory, whatever its own path names by now. */
  at(name: string): string {
    return pathsReachKernel() ? `/proc/self/fd/${this.fd}/${name}` : join(this.path, name);
  }

  /**
   * Without descriptor paths, names were reached through the directory's path: it must still be
   * the directory proven, or what was done may have gone elsewhere.
   */
  confirm(): void {
    if (pathsReachKernel()) return;
    const now = statDir(this.path, this.follow);
    if (now.ino !== this.ino || now.dev !== this.dev) {
      throw new UntrustedDirectoryError(this.path, "replaced while vpo wrote in it");
    }
  }

  /** fsync, so a rename or create in it survives a power cut (where the file system allows). */
  sync(): void {
    try {
      fs.fsyncSync(this.fd);
    } catch {
      // Some file systems refuse fsync on a directory; the rename itself is still atomic there.
    }
  }

  close(): void {
    fs.closeSync(this.fd);
  }
}

function statDir(path: string, follow: boolean): Deno.FileInfo {
  const info = follow ? Deno.statSync(path) : Deno.lstatSync(path);
  if (!info.isDirectory) throw new UntrustedDirectoryError(path, describeFileType(info));
  return info;
}

function writersProblem(stat: fs.Stats): string | null {
  const extra = extraWriter({ uid: stat.uid, gid: stat.gid, mode: stat.mode }, Deno.uid());
  if (extra === null) return null;
  const mode = (stat.mode & 0o7777).toString(8).padStart(4, "0");
  if (extra.kind === "everyone") return `writable by everyone (mode ${mode})`;
  if (extra.kind === "owner") return `owned by uid ${extra.uid}, not by this user`;
  return `writable by group ${extra.gid} (mode ${mode}), not only by the home's writers`;
}

/** Runs `use` with the proven directory of `path` and its last name, then confirms the directory. */
function inDir<T>(path: string, rule: DirRule, use: (dir: ProvenDir, name: string) => T): T {
  const dir = ProvenDir.open(dirname(path), rule);
  try {
    const out = use(dir, basename(path));
    dir.confirm();
    return out;
  } finally {
    dir.close();
  }
}

/**
 * Opens `at` (shown as `path`) with `flags`, never following a link nor blocking, and returns the
 * descriptor once its handle is a regular file: the same one an `lstat` saw just before where
 * Deno may have followed a link, and with one name when `oneName` (a file vpo writes must not be
 * a hard link to a file elsewhere).
 */
function openExisting(
  at: string,
  path: string,
  flags: number,
  opts: { follow?: boolean; oneName?: boolean } = {},
): { fd: number; stat: fs.Stats } {
  let before: Deno.FileInfo | null = null;
  if (!opts.follow && !pathsReachKernel()) {
    before = Deno.lstatSync(at);
    if (!before.isFile) refuseType(path, describeFileType(before));
  }
  let fd: number;
  try {
    fd = fs.openSync(at, flags | O_NONBLOCK | (opts.follow ? 0 : O_NOFOLLOW));
  } catch (err) {
    const code = codeOf(err);
    if (code === "ELOOP") refuseType(path, "a symbolic link");
    // Opening a FIFO that nobody reads for writing fails so, without blocking.
    if (code === "ENXIO") refuseType(path, "a FIFO");
    throw fsError(err, path);
  }
  try {
    const stat = fs.fstatSync(fd);
    if (!stat.isFile()) refuseType(path, describeStats(stat));
    if (before && (stat.ino !== before.ino || stat.dev !== before.dev)) {
      refuseType(path, "replaced by another file while vpo opened it");
    }
    if (opts.oneName && stat.nlink > 1) {
      refuseType(path, `a file with ${stat.nlink} names (hard links)`);
    }
    return { fd, stat };
  } catch (err) {
    fs.closeSync(fd);
    throw err;
  }
}

/**
 * A read-only descriptor of the regular file at `path`, opened without following a symbolic link
 * and without blocking on a FIFO or device (it is then refused). Throws `Deno.errors.NotFound` when
 * there is no file, {@link UnreadableFileError} when it is not a regular file. With `rule`, the
 * directory is proven first (the file is read from the home's own directory, not through a
 * link planted for one). Close it with `closeSync` from node:fs.
 */
export function openRegularFileSync(path: string, opts: { rule?: DirRule } = {}): number {
  if (opts.rule === undefined) return openExisting(path, path, O_RDONLY).fd;
  return inDir(path, opts.rule, (dir, name) => openExisting(dir.at(name), path, O_RDONLY).fd);
}

/**
 * {@link openRegularFileSync}, or null when there is nothing at `path` or it is not a regular
 * file: for a caller to whom such a file is simply not there (a beat, a file vpo recorded).
 */
export function openRegularFileOrNull(path: string): number | null {
  try {
    return openRegularFileSync(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound || err instanceof UnreadableFileError) return null;
    throw err;
  }
}

/**
 * A file a person named (config.yaml, a policy, a token file): a link to it is fine (dotfile
 * managers, /run/secrets), but it must be a regular file, and a FIFO is refused, not waited on.
 */
export function openNamedFileSync(path: string): number {
  return openExisting(path, path, O_RDONLY, { follow: true }).fd;
}

/** What {@link readRegularFileInfoSync} read: the text and the file it came from. */
export interface FileRead {
  text: string;
  ino: number;
  dev: number;
  mtimeMs: number;
  /** Permission bits and type, as fstat gives them. */
  mode: number;
  /** The owner's uid. */
  uid: number;
}

/** Reads all of `fd` (at most `maxBytes`, else {@link UnreadableFileError}) and closes it. */
function readAllAndClose(fd: number, path: string, maxBytes: number): FileRead {
  try {
    const stat = fs.fstatSync(fd);
    if (stat.size > maxBytes) refuseSize(path, stat.size, maxBytes);
    // One byte more than allowed tells a file that grew since the fstat from one that did not.
    const buf = new Uint8Array(stat.size + 1);
    let n = 0;
    while (n < buf.length) {
      const got = fs.readSync(fd, buf, n, buf.length - n, null);
      if (got === 0) break;
      n += got;
    }
    if (n > maxBytes) refuseSize(path, n, maxBytes);
    const text = new TextDecoder().decode(buf.subarray(0, n));
    const { ino, dev, mtimeMs, mode, uid } = stat;
    return { text, ino, dev, mtimeMs, mode, uid };
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * {@link readRegularFileSync} with the identity and mtime of the very file read, for a caller
 * that acts on that file later only if it is still the one it judged.
 */
export function readRegularFileInfoSync(path: string, maxBytes = MAX_JOB_FILE_BYTES): FileRead {
  return readAllAndClose(openRegularFileSync(path), path, maxBytes);
}

/**
 * The text of the regular file at `path`, read without following a symbolic link and without
 * ever blocking on what the file turns out to be. Throws `Deno.errors.NotFound` when there is no
 * file, {@link UnreadableFileError} when it is not a regular file or holds more than `maxBytes`.
 */
export function readRegularFileSync(path: string, maxBytes = MAX_JOB_FILE_BYTES): string {
  return readRegularFileInfoSync(path, maxBytes).text;
}

/** A file a person named ({@link openNamedFileSync}), read whole: at most `maxBytes`. */
export function readNamedFileSync(path: string, maxBytes = MAX_JOB_FILE_BYTES): FileRead {
  return readAllAndClose(openNamedFileSync(path), path, maxBytes);
}

/**
 * A regular file vpo holds open, created exclusively or opened by {@link openAppendSync}. Its
 * descriptor is the process's own (node:fs): `/proc/<pid>/fd/<n>` names this very inode to a
 * child process, and writes, reads and fsync reach it whatever its path names by now.
 */
export class OpenFile implements Disposable {
  #open = true;
  #offset: number;

  constructor(
    readonly path: string,
    readonly fd: number,
    /** Inode and device at open: the file vpo records and, later, the only one it removes. */
    readonly ino: number,
    readonly dev: number,
    size: number,
  ) {
    this.#offset = size;
  }

  /**
   * A path another process (ffmpeg) can open to reach exactly this inode, whatever is at
   * {@link path} by then: `/proc/<pid>/fd/<n>` on Linux; elsewhere the path itself.
   */
  get pathForChild(): string {
    return Deno.build.os === "linux" ? `/proc/${Deno.pid}/fd/${this.fd}` : this.path;
  }

  /**
   * Writes `data` at the end as this handle knows it: positioned writes, not O_APPEND, because
   * smbnetfs stalls when asked the size of a write handle, and nobody else writes vpo's files.
   */
  writeSync(data: Uint8Array): void {
    let done = 0;
    while (done < data.length) {
      done += fs.writeSync(this.fd, data, done, data.length - done, this.#offset + done);
    }
    this.#offset += data.length;
  }

  /** {@link writeSync} without holding up the event loop (a log written while ffmpeg runs). */
  async write(data: Uint8Array): Promise<void> {
    const at = this.#offset;
    this.#offset += data.length;
    let done = 0;
    while (done < data.length) {
      done += await new Promise<number>((resolve, reject) =>
        fs.write(this.fd, data, done, data.length - done, at + done, (err, n) => {
          if (err) reject(fsError(err, this.path));
          else resolve(n);
        })
      );
    }
  }

  /** Reads into `buffer` from byte `position`; 0 at the end. */
  readAt(buffer: Uint8Array, position: number): number {
    return fs.readSync(this.fd, buffer, 0, buffer.length, position);
  }

  /** Current size, inode, owner and mtime, from the descriptor. */
  stat(): { size: number; ino: number; uid: number; mtimeMs: number } {
    const info = fs.fstatSync(this.fd);
    return { size: info.size, ino: info.ino, uid: info.uid, mtimeMs: info.mtimeMs };
  }

  /** fsync. */
  sync(): void {
    fs.fsyncSync(this.fd);
  }

  [Symbol.dispose](): void {
    this.close();
  }

  close(): void {
    if (!this.#open) return;
    this.#open = false;
    fs.closeSync(this.fd);
  }
}

function createAt(at: string, path: string, rule: DirRule): OpenFile {
  let fd: number;
  try {
    fd = fs.openSync(at, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_NONBLOCK, 0o600);
  } catch (err) {
    throw fsError(err, path);
  }
  const stat = fs.fstatSync(fd);
  const mode = rule === "home" ? homeFileMode() : null;
  if (mode !== null) fs.fchmodSync(fd, mode);
  return new OpenFile(path, fd, stat.ino, stat.dev, 0);
}

/**
 * Creates `path`, failing with `Deno.errors.AlreadyExists` if anything (a file, a symbolic link)
 * is there already, in a directory proven under `rule`. Private to the owner (0600), or 0660 in
 * the home of a shared queue.
 */
export function createFileSync(path: string, opts: { rule?: DirRule } = {}): OpenFile {
  const rule = opts.rule ?? "home";
  return inDir(path, rule, (dir, name) => createAt(dir.at(name), path, rule));
}

/**
 * The file at `path` opened to add to its end, created if missing: an existing one only when it
 * is a regular file with a single name (never a link, FIFO or device planted at the name), in a
 * directory proven under `rule`. For the logs vpo appends to (ffmpeg's, the library's lines).
 */
export function openAppendSync(path: string, opts: { rule?: DirRule } = {}): OpenFile {
  const rule = opts.rule ?? "home";
  return inDir(path, rule, (dir, name) => {
    try {
      const { fd, stat } = openExisting(dir.at(name), path, O_RDWR, { oneName: true });
      return new OpenFile(path, fd, stat.ino, stat.dev, stat.size);
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
    return createAt(dir.at(name), path, rule);
  });
}

let tempCounter = 0;

/** A name for a temporary file that no other process or call of this process will choose. */
export function uniqueTempName(prefix: string): string {
  tempCounter += 1;
  const rand = crypto.getRandomValues(new Uint32Array(1))[0].toString(36);
  return `.${prefix}.${Deno.pid}.${tempCounter}.${rand}.tmp`;
}

/**
 * Replaces `path` with `data`: an exclusive temp beside it, written (and with `durable`, fsynced
 * with the directory), then renamed over the name. A link, FIFO or anything else at the name is
 * replaced, never written through. Where a rename cannot replace an existing name (an SFTP server
 * without posix-rename), the old name is removed first: a crash in that instant leaves only the
 * temp, so callers write this way only files a crash may lose (recovery then acts on less).
 */
export function replaceFileSync(
  path: string,
  data: string | Uint8Array,
  opts: { durable?: boolean; rule?: DirRule } = {},
): void {
  const rule = opts.rule ?? "home";
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  inDir(path, rule, (dir, name) => replaceIn(dir, name, path, bytes, rule, opts.durable ?? true));
}

function replaceIn(
  dir: ProvenDir,
  name: string,
  path: string,
  bytes: Uint8Array,
  rule: DirRule,
  durable: boolean,
): void {
  const temp = dir.at(uniqueTempName("vpo"));
  try {
    const file = createAt(temp, path, rule);
    try {
      file.writeSync(bytes);
      if (durable) file.sync();
    } finally {
      // Closed before the rename: an SMB server refuses to rename a file still open (EBUSY).
      file.close();
    }
    renameOver(temp, dir.at(name));
  } catch (err) {
    try {
      fs.unlinkSync(temp);
    } catch {
      // Never made, or renamed already.
    }
    throw fsError(err, path);
  }
  if (durable) dir.sync();
}

/**
 * Rewrites the file at `path` (in the home, or in a directory `rule` names) in place, for a file
 * whose new mtime is the point (a heartbeat): through a handle proven to be a regular file with
 * one name, truncated and written only once proven, so other hosts reading it meanwhile keep it
 * open (an SMB server refuses to rename over a file another host has open). Anything else at the
 * name (a link, a FIFO) is replaced by rename instead, never written through; a missing file is
 * created exclusively.
 */
export function rewriteFileSync(path: string, data: string, opts: { rule?: DirRule } = {}): void {
  const rule = opts.rule ?? "home";
  const bytes = new TextEncoder().encode(data);
  inDir(path, rule, (dir, name) => {
    let file: OpenFile;
    try {
      const { fd, stat } = openExisting(dir.at(name), path, O_RDWR, { oneName: true });
      file = new OpenFile(path, fd, stat.ino, stat.dev, 0);
    } catch (err) {
      if (err instanceof UnreadableFileError) {
        return replaceIn(dir, name, path, bytes, rule, false);
      }
      if (!(err instanceof Deno.errors.NotFound)) throw err;
      file = createAt(dir.at(name), path, rule);
    }
    try {
      fs.ftruncateSync(file.fd, 0);
      file.writeSync(bytes);
    } finally {
      file.close();
    }
  });
}

function renameOver(from: string, to: string): void {
  try {
    fs.renameSync(from, to);
  } catch (err) {
    const code = codeOf(err);
    if ((code !== "EPERM" && code !== "EEXIST") || !pathExists(to)) throw err;
    fs.unlinkSync(to);
    fs.renameSync(from, to);
  }
}

/**
 * A folder others may write (a library folder), held open while vpo takes several steps in it:
 * every name in it is reached through this one descriptor, so the folder swapped for a link
 * between two steps, or between the two lookups of one link or rename (the kernel resolves the
 * two names one after the other), cannot move a step onto a file of the same name in another
 * directory. A link to the folder is followed when it is opened, as a person set it up, unless
 * `followLink` is false (a folder vpo made: a link at its name is refused).
 */
export class HeldFolder implements Disposable {
  readonly #dir: ProvenDir;

  /** Opens the folder `path`. */
  constructor(readonly path: string, opts: { followLink?: boolean } = {}) {
    this.#dir = ProvenDir.open(path, opts.followLink === false ? null : "folder");
  }

  /** The owner, device and inode of the folder held (not of whatever `path` names by now). */
  stat(): { uid: number; dev: number; ino: number } {
    const { uid, dev, ino } = fs.fstatSync(this.#dir.fd);
    return { uid, dev, ino };
  }

  /**
   * A path another process (ffmpeg) can use to reach this very folder and the names in it,
   * whatever {@link path} names by now: `/proc/<pid>/fd/<n>` on Linux; elsewhere the path itself.
   */
  get pathForChild(): string {
    return Deno.build.os === "linux" ? `/proc/${Deno.pid}/fd/${this.#dir.fd}` : this.path;
  }

  /** The folder `path` held open, or null when there is none (NotFound). */
  static openIfThere(path: string): HeldFolder | null {
    try {
      return new HeldFolder(path);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return null;
      throw err;
    }
  }

  /** `path` reached through this folder when it names something in it; otherwise as it is. */
  reach(path: string): string {
    return dirname(path) === this.path ? this.#dir.at(basename(path)) : path;
  }

  /** `err`, its message naming the folder's path where it named the descriptor's. */
  shown(err: unknown): unknown {
    if (err instanceof Error) {
      err.message = err.message.replaceAll(`/proc/self/fd/${this.#dir.fd}/`, `${this.path}/`);
    }
    return err;
  }

  /**
   * Without descriptor paths the names were reached through the folder's path: throws if that is
   * no longer the folder opened.
   */
  confirm(): void {
    this.#dir.confirm();
  }

  /** fsync, so the renames and links in it survive a power cut. */
  sync(): void {
    this.#dir.sync();
  }

  [Symbol.dispose](): void {
    this.#dir.close();
  }
}

/** What {@link removeIfChecked} did. */
export type RemoveOutcome = "removed" | "gone" | "not-ours";

/**
 * Removes the file at `path`, in a folder others may write (a library folder, the temp
 * directory), only if `check` says, from a path to it, that it is the file vpo means to remove.
 * The check and the removal reach the name through one descriptor of the folder (a link to the
 * folder is followed, as a person set it up), so the folder swapped for a link in between cannot
 * turn the removal onto a file of the same name in another directory. "gone" when nothing is
 * there (or no folder).
 */
export async function removeIfChecked(
  path: string,
  check: (at: string) => Promise<boolean>,
): Promise<RemoveOutcome> {
  let dir: ProvenDir;
  try {
    dir = ProvenDir.open(dirname(path), "folder");
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return "gone";
    throw err;
  }
  try {
    const at = dir.at(basename(path));
    if (!pathExists(at)) return "gone";
    try {
      if (!await check(at)) return "not-ours";
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return "gone";
      throw err;
    }
    try {
      fs.unlinkSync(at);
    } catch (err) {
      if (codeOf(err) === "ENOENT") return "gone";
      throw fsError(err, path);
    }
    dir.confirm();
    return "removed";
  } finally {
    dir.close();
  }
}

/** True when something (a link included, not followed) is at `path`. */
export function pathExists(path: string): boolean {
  try {
    fs.lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Writes `data` to a new temp file in `dir` (the home's `.tmp/`, or a directory `rule` names),
 * fsynced unless `durable` is false, and returns its path: the caller publishes it with a rename
 * or link.
 */
export function writeTempFileSync(
  dir: string,
  data: string | Uint8Array,
  opts: { durable?: boolean; rule?: DirRule } = {},
): string {
  const path = join(dir, uniqueTempName("vpo"));
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  using file = createFileSync(path, { rule: opts.rule });
  try {
    file.writeSync(bytes);
    if (opts.durable ?? true) file.sync();
  } catch (err) {
    Deno.removeSync(path);
    throw err;
  }
  return path;
}

/**
 * The lock file at `path` (`cpu/<host>/core-N.lock`), created if missing, as a `Deno.FsFile` to
 * `flock`: an existing one only when it is a regular file with one name, in a proven directory.
 * Deno's own open follows links, so the handle is reopened from the checked descriptor
 * (`/proc/self/fd/<n>`) where Deno allows it, else from the path and compared with it.
 */
export function openLockFileSync(path: string): Deno.FsFile {
  using file = openAppendSync(path);
  if (pathsReachKernel()) {
    return Deno.openSync(`/proc/self/fd/${file.fd}`, { read: true, write: true });
  }
  const handle = Deno.openSync(path, { read: true, write: true });
  const info = handle.statSync();
  if (info.ino !== file.ino || info.dev !== file.dev) {
    handle.close();
    refuseType(path, "replaced by another file while vpo opened it");
  }
  return handle;
}

/**
 * A read-only descriptor of the directory at `path` (links followed: a state directory's path),
 * refused without blocking if something else is there. For fsync; close it with `closeSync`.
 */
export function openDirectorySync(path: string): number {
  try {
    return fs.openSync(path, O_RDONLY | O_DIRECTORY | O_NONBLOCK);
  } catch (err) {
    if (codeOf(err) === "ENOTDIR") throw new UntrustedDirectoryError(path, "not a directory");
    throw fsError(err, path);
  }
}

/**
 * Gives the home's directory `path` (which this user owns) the group `gid` and `mode`, through
 * its descriptor: a link planted at its name is refused, never followed to another directory.
 */
export function setDirectoryModeSync(path: string, gid: number, mode: number): void {
  const dir = ProvenDir.open(path, null);
  try {
    const stat = fs.fstatSync(dir.fd);
    if (stat.gid !== gid) fs.fchownSync(dir.fd, stat.uid, gid);
    if ((stat.mode & 0o7777) !== mode) fs.fchmodSync(dir.fd, mode);
  } finally {
    dir.close();
  }
}

/**
 * Why the directory vpo just made at `at` (shown as `path`) could not be opened: what a racer put
 * at its name (ENOTDIR or ELOOP: not a directory; ENOENT: nothing), else the error as it is.
 */
function swappedAway(err: unknown, at: string, path: string): Error {
  const code = codeOf(err);
  if (code !== "ENOTDIR" && code !== "ELOOP" && code !== "ENOENT") return fsError(err, path);
  let now: Deno.FileInfo | null = null;
  try {
    now = Deno.lstatSync(at);
  } catch {
    // Gone by now as well.
  }
  const what = code === "ENOENT" && now === null
    ? "moved away"
    : `swapped for ${now && !now.isDirectory ? describeFileType(now) : "another file"}`;
  return new UntrustedDirectoryError(path, `${what} as vpo made it`);
}

/**
 * A directory vpo makes for its own use in one of the home's directories (the covers ffmpeg
 * extracts for one job), into which a child process writes by name. Others who may write the
 * parent (a shared queue's members) could plant a directory at its name beforehand, with a link
 * in it where the child will write, or rename it away and plant a link to another directory
 * while the child runs. So it is made exclusively (`mkdir` never follows a link nor accepts a
 * name that exists), 0700, opened without following a link, and reached only through its
 * descriptor: the child gets {@link pathForChild}, which stays this directory whatever its name
 * holds by then, and in which nobody else can create a name.
 */
export class PrivateDir implements Disposable {
  #open = true;

  private constructor(
    readonly path: string,
    readonly fd: number,
    private readonly ino: number,
    private readonly dev: number,
  ) {}

  /**
   * Makes the directory `path` in a directory of the home (proven as every write there is);
   * `Deno.errors.AlreadyExists` if anything is at its name already.
   */
  static create(path: string): PrivateDir {
    return inDir(path, "home", (parent, name) => {
      const at = parent.at(name);
      try {
        fs.mkdirSync(at, { mode: 0o700 });
      } catch (err) {
        throw fsError(err, path);
      }
      // Where O_NOFOLLOW may be void, the directory made must be the one opened.
      const before = pathsReachKernel() ? null : Deno.lstatSync(at);
      let fd: number;
      try {
        fd = fs.openSync(at, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_NONBLOCK);
      } catch (err) {
        // Someone who may write the parent renamed the new directory away, or swapped a link in,
        // between the mkdir and the open.
        throw swappedAway(err, at, path);
      }
      const stat = fs.fstatSync(fd);
      const swapped = before !== null && (before.ino !== stat.ino || before.dev !== stat.dev);
      try {
        if (swapped || stat.uid !== Deno.uid()) {
          throw new UntrustedDirectoryError(path, "replaced by another directory as vpo made it");
        }
        // A setgid parent (a shared queue) would pass its group on: this one is for vpo alone.
        fs.fchmodSync(fd, 0o700);
      } catch (err) {
        fs.closeSync(fd);
        throw err;
      }
      return new PrivateDir(path, fd, stat.ino, stat.dev);
    });
  }

  /**
   * A path another process (ffmpeg) can use to reach this very directory and the names in it,
   * whatever {@link path} names by now: `/proc/<pid>/fd/<n>` on Linux; elsewhere the path itself.
   */
  get pathForChild(): string {
    return Deno.build.os === "linux" ? `/proc/${Deno.pid}/fd/${this.fd}` : this.path;
  }

  /**
   * Removes what is in the directory, then the directory itself if its name still holds it:
   * best-effort (a leftover is only disk space), for a `finally`.
   */
  [Symbol.dispose](): void {
    if (!this.#open) return;
    this.#open = false;
    try {
      const inside = pathsReachKernel() ? `/proc/self/fd/${this.fd}` : this.#stillAt();
      if (inside !== null) {
        for (const name of fs.readdirSync(inside)) fs.unlinkSync(join(inside, name));
      }
    } catch {
      // Left for the person who reads the directory's name in .tmp.
    } finally {
      fs.closeSync(this.fd);
    }
    try {
      inDir(this.path, "home", (parent, name) => {
        const at = parent.at(name);
        const now = fs.lstatSync(at);
        if (now.isDirectory() && now.ino === this.ino && now.dev === this.dev) fs.rmdirSync(at);
      });
    } catch {
      // Gone already, or someone renamed another directory to its name: not vpo's to remove.
    }
  }

  /** The path, when it still names this directory (without descriptor paths), else null. */
  #stillAt(): string | null {
    const now = Deno.lstatSync(this.path);
    return now.isDirectory && now.ino === this.ino && now.dev === this.dev ? this.path : null;
  }
}
