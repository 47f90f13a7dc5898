/**
 * Where a replace left the new file and the original, as a job's result records them, and which
 * of those backups `jobs cleanup --include-backups` may remove: only one vpo made for that job.
 *
 * @module
 */
import { text } from "../config/json_fields.ts";
import { integer, nullable, type Reader } from "../config/yaml_schema.ts";
import type { Job, JsonObject } from "../queue/job.ts";
import type { MadeFiles } from "../queue/job_type.ts";
import type { Fingerprint } from "./fingerprint.ts";
import { isBackupPathOf } from "./journal_trust.ts";
import type { ReplaceSteps } from "./replace_journal.ts";

/** Where the new file and the kept original are after a replace. */
export type ReplacedFiles = {
  /** Where the new file is. */
  output_path: string;
  /** Where the original was kept (`<source>.original[.N]`); null when backups are off. */
  backup_path: string | null;
  /** Bytes of the backup when it was made: `jobs cleanup` removes it only while it still has them. */
  backup_size: number | null;
  /** Inode of the backup (the original's): `jobs cleanup` removes it only while it still is. */
  backup_ino: number | null;
};

const count = integer({ min: 0 });

/** Readers of the {@link ReplacedFiles} fields of a job's result, for its type's result reader. */
export const REPLACED_FILES_SHAPE: Record<keyof ReplacedFiles, Reader<unknown>> = {
  output_path: text,
  backup_path: nullable(text),
  backup_size: nullable(count),
  backup_ino: nullable(count),
};

/**
 * The files a finished replace left: the backup is the original, which was the file fingerprinted
 * at queue time (a replace only starts once the source is checked unchanged since); `source` is
 * that fingerprint, or null when the job's payload could not be read.
 */
export function replacedFiles(steps: ReplaceSteps, source: Fingerprint | null): ReplacedFiles {
  return {
    output_path: steps.final,
    backup_path: steps.backup,
    backup_size: steps.backup && source ? source.size : null,
    backup_ino: steps.backup && source ? source.ino : null,
  };
}

/**
 * The backup of a replaced job, when it is one vpo made for it: `<file>.original[.N]` of the
 * job's `file`, a regular file (not a link) with the inode and size vpo recorded. `files` is what
 * the job's result says (null: nothing was replaced; a string: why the result cannot be read,
 * when it names a backup `named`). A backup named but not acted on is listed in `left` with why.
 */
function ownedBackup(
  file: string | null,
  named: unknown,
  files: ReplacedFiles | string | null,
): MadeFiles {
  const none: MadeFiles = { made: [], left: [] };
  if (named === undefined || named === null) return none;
  const path = String(named);
  const left = (reason: string): MadeFiles => ({ made: [], left: [{ path, reason }] });
  if (typeof files === "string") return left(`not acted on: ${files}`);
  if (files === null || files.backup_path === null) return none;
  const backup = files.backup_path;
  if (!file || !isBackupPathOf(file, backup)) {
    return left(`not <file>.original[.N] of the job's file ${file}`);
  }
  const { backup_ino: ino, backup_size: size } = files;
  if (ino === null || size === null) return left("no inode or size recorded for it");
  let info: Deno.FileInfo;
  try {
    info = Deno.lstatSync(backup);
  } catch {
    return none;
  }
  if (!info.isFile) return left("not a regular file");
  if (info.ino !== ino || info.size !== size) {
    return left("not the file vpo recorded (inode or size differ)");
  }
  return { made: [{ path: backup, ino, size }], left: [] };
}

/**
 * The backup the result of `job` names when vpo made it for the job (see {@link ownedBackup});
 * `read` is its job type's reader of results.
 */
export function ownedBackups(
  job: Job,
  read: (result: JsonObject | null) => { outcome: string } | string | null,
): MadeFiles {
  const result = read(job.result);
  const files = typeof result === "string"
    ? result
    : result?.outcome === "replaced"
    ? result as unknown as ReplacedFiles
    : null;
  return ownedBackup(job.file, job.result?.backup_path, files);
}
