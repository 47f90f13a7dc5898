/**
 * Names of the temporary outputs the worker writes, and the search for ones left behind.
 *
 * A temp output is a hidden file whose name carries the job id and claim token and ends in
 * `.partial`, so
 * media scanners (Plex, Jellyfin) skip it and vpo can tell its own files from the user's.
 *
 * @module
 */
import { basename, dirname, join } from "node:path";
import { shellQuote } from "../media/ffmpeg_args.ts";
import type { Job } from "../queue/job.ts";
import type { JobQueue } from "../queue/store.ts";
import { NAME_MAX } from "../util/ids.ts";
import { exists } from "../util/durable_fs.ts";
import { removeIfOwned } from "../util/owned_file.ts";

// The id and token as newJobId and newToken make them.
const TEMP_RE = /^\.vpo-([0-9a-f]{32})\.([0-9a-f]{12})\..*\.partial$/s;

/**
 * The temp output path of one claim of a job, in `tempDirectory` or beside the source. The claim
 * token is part of the name, so a worker that lost its job can never remove or overwrite the
 * temp file of the worker that runs the job now.
 */
export function tempOutputPath(
  claim: { id: string; token: string },
  source: string,
  tempDirectory: string | null,
): string {
  const prefix = `.vpo-${claim.id}.${claim.token}.`;
  // The prefix and suffix take 59 bytes: a long source name (70 CJK characters are 210 bytes)
  // is cut so that the temp name still fits a file name's limit.
  const name = truncateUtf8(basename(source), NAME_MAX - prefix.length - SUFFIX.length);
  return join(tempDirectory ?? dirname(source), `${prefix}${name}${SUFFIX}`);
}

const SUFFIX = ".partial";

/**
 * The ffmpeg command a dry run shows for `source`, made by `args` from its temp output path.
 * The real path carries the job id and claim token, unknown until the job is queued and claimed,
 * so zeros stand in for them.
 */
export function dryRunCommand(
  source: string,
  tempDirectory: string | null,
  args: (temp: string) => string[],
): string {
  const temp = tempOutputPath({ id: "0".repeat(32), token: "0".repeat(12) }, source, tempDirectory);
  return shellQuote(["ffmpeg", ...args(temp)]);
}

/** The longest prefix of `text` whose UTF-8 encoding fits `maxBytes`, whole characters only. */
function truncateUtf8(text: string, maxBytes: number): string {
  const encoder = new TextEncoder();
  if (encoder.encode(text).length <= maxBytes) return text;
  let out = "";
  let bytes = 0;
  for (const char of text) {
    bytes += encoder.encode(char).length;
    if (bytes > maxBytes) break;
    out += char;
  }
  return out;
}

/** The claim ("<id>.<token>") a temp output name belongs to, or null if vpo did not make it. */
export function tempOwner(name: string): string | null {
  const m = TEMP_RE.exec(name);
  return m ? `${m[1]}.${m[2]}` : null;
}

/**
 * Temp outputs that no running job owns, in `tempDirectory` and in the directories of every
 * job's source file. The claims are read after the directories: a temp file is made only after
 * its claim, so one found here whose claim is not running (yet) cannot be live.
 */
export function findOrphanTemps(queue: JobQueue, tempDirectory: string | null): string[] {
  const found = scanTempDirs(queue.list().jobs, tempDirectory, (entry) => {
    return entry.isFile && tempOwner(entry.name) !== null;
  });
  const running = queue.runningClaims();
  return found.filter((path) => !running.has(tempOwner(basename(path))!));
}

/**
 * Removes an orphan temp output found by {@link findOrphanTemps}, checking again right before
 * that it is still a regular file and that its claim is still not running (the listing may be
 * minutes old when a person confirmed it). Returns true when removed.
 */
export async function removeOrphanTemp(queue: JobQueue, path: string): Promise<boolean> {
  const owner = tempOwner(basename(path));
  if (!owner) return false;
  const [id, token] = owner.split(".");
  if (await exists(queue.layout.jobPath("running", id, token))) return false;
  let info: Deno.FileInfo;
  try {
    info = await Deno.lstat(path);
  } catch {
    return false;
  }
  return await removeIfOwned(path, info.ino) === "removed";
}

/**
 * Paths of the entries `pick` chooses in `tempDirectory` and in the directories of every job's
 * source file, where vpo writes its temp files; sorted.
 */
export function scanTempDirs(
  jobs: readonly Job[],
  tempDirectory: string | null,
  pick: (entry: Deno.DirEntry) => boolean,
): string[] {
  const dirs = new Set<string>();
  if (tempDirectory) dirs.add(tempDirectory);
  for (const job of jobs) if (job.file) dirs.add(dirname(job.file));
  const found: string[] = [];
  for (const dir of dirs) {
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(dir)];
    } catch {
      continue;
    }
    for (const entry of entries) if (pick(entry)) found.push(join(dir, entry.name));
  }
  return found.sort();
}
