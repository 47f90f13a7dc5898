/**
 * What vpo checks before acting on a path it reads back from a job file or a journal (the live
 * file's replace steps). Both are plain files a person can edit, so a path is acted on only when
 * it is one vpo itself would have made for that job: the job's source, `<source>.original[.N]`,
 * the source's stem with a container extension vpo writes, or a temp name carrying the job's id
 * in the source's folder or the temp directory. Removal needs, on top, the inode vpo recorded
 * (see {@link removeIfOwned}).
 *
 * @module
 */
import { basename, dirname, extname, isAbsolute, normalize } from "node:path";
import type { ReplaceSteps } from "./replace_journal.ts";
import { tempOutputPath, tempOwner } from "./temp_files.ts";

/** Extensions of the containers vpo writes when it changes a file's container. */
const OUTPUT_EXTENSIONS: ReadonlySet<string> = new Set([".mkv", ".mp4"]);
const PHASES: ReadonlySet<string> = new Set(["encoding", "moving", "replacing", "done"]);

const isPath = (p: unknown): p is string =>
  typeof p === "string" && p.length < 4096 && isAbsolute(p) && normalize(p) === p &&
  !p.includes("\0");
const isIdentity = (v: unknown) =>
  v === null || v === undefined || (typeof v === "string" && /^[0-9]{1,20}:[0-9a-f]{24}$/.test(v));
const isIno = (n: unknown): n is number | null | undefined =>
  n === null || n === undefined || (Number.isSafeInteger(n) && (n as number) >= 0);

/** True when `path` is `<source>.original` or `<source>.original.<N>`. */
export function isBackupPathOf(source: string, path: unknown): path is string {
  if (!isPath(path) || !path.startsWith(`${source}.original`)) return false;
  const rest = path.slice(source.length + ".original".length);
  return rest === "" || /^\.[1-9][0-9]{0,5}$/.test(rest);
}

/** True when `path` is a temp output name of job `id` (any claim of it) for `source`, in `dirs`. */
function isTempPathOf(
  id: string,
  source: string,
  path: unknown,
  dirs: readonly (string | null)[],
): path is string {
  if (!isPath(path) || !dirs.includes(dirname(path))) return false;
  const owner = tempOwner(basename(path));
  if (!owner || !owner.startsWith(`${id}.`)) return false;
  const token = owner.slice(id.length + 1);
  return basename(tempOutputPath({ id, token }, source, null)) === basename(path);
}

/**
 * The steps of a journal if every path in them is one vpo would have made for `job`, else a
 * one-line reason naming the first path (or field) that is not.
 */
export function checkSteps(
  raw: unknown,
  job: { id: string; file: string | null },
  tempDirectory: string | null,
): ReplaceSteps | string {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    return "steps is not an object";
  }
  const steps = raw as Record<string, unknown>;
  const source = job.file;
  if (!isPath(source)) return "the job names no absolute source file";
  if (typeof steps.phase !== "string" || !PHASES.has(steps.phase)) return "unknown phase";
  if (steps.source !== source) return `source ${String(steps.source)} is not the job's file`;
  const final = steps.final;
  const stem = basename(source, extname(source));
  if (
    final !== source &&
    !(isPath(final) && dirname(final) === dirname(source) &&
      OUTPUT_EXTENSIONS.has(extname(final)) && basename(final, extname(final)) === stem)
  ) return `final ${String(final)} is not the source or its stem with a new container`;
  if (steps.backup !== null && !isBackupPathOf(source, steps.backup)) {
    return `backup ${String(steps.backup)} is not <source>.original[.N]`;
  }
  const dirs = [dirname(source), tempDirectory ? normalize(tempDirectory) : null];
  if (!isTempPathOf(job.id, source, steps.temp, dirs)) {
    return `temp ${String(steps.temp)} is not a temp name of this job`;
  }
  if (steps.moved_from !== undefined && !isTempPathOf(job.id, source, steps.moved_from, dirs)) {
    return `moved_from ${String(steps.moved_from)} is not a temp name of this job`;
  }
  for (const key of ["temp_ino", "moved_from_ino"]) {
    if (!isIno(steps[key])) return `${key} is not a non-negative integer`;
  }
  for (const key of ["source_id", "output_id"]) {
    if (!isIdentity(steps[key])) return `${key} is not a file identity`;
  }
  return steps as unknown as ReplaceSteps;
}
