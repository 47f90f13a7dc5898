/**
 * The replace protocol, stated once, and its journal: how any job type that rewrites a library
 * file (a transcode, a track change) puts its verified output in the original's place. The steps
 * are recorded (durably, in the job's live file; L of the queue protocol in
 * `src/queue/protocol.ts`) before each is done, from which a failed replace, the worker and
 * recovery all finish or undo it.
 *
 * For a source `S`, its verified output `T` (a hidden temp file, in `temp_directory` or beside
 * `S`), the final path `F` (`S` itself, or `S` with a new extension; an existing file there is
 * never overwritten) and the backup `B` (`S.original`, `.original.1`, ...; none when backups are
 * off). `[name]` is a crash point, `crash:` what recovery ({@link planResume}) then does.
 *
 * Files are told apart by their {@link fileIdentity} (size and a hash of the first and last
 * 64 KiB), never by inode numbers: on sshfs and SMB those differ per mount, so recovery on
 * another host, or after a remount, would not recognise the files the dead worker left.
 *
 * - P1 Create T exclusively (`O_EXCL|O_NOFOLLOW`, 0600; a name that is taken fails the job) and
 *   record phase `encoding` (S, its identity, T, T's inode, F) before the encode; ffmpeg writes to
 *   T's inode through the open descriptor. crash: remove T if it is still that inode.
 * - P2 If T is on another file system than F, create the copy beside F exclusively, record phase
 *   `moving` (both names and inodes), copy T into it (fsynced), give it S's permissions through
 *   its descriptor, remove the first T. crash: remove both copies, each if still its inode.
 * - P3 Check T is still its inode and S still the file that was encoded (the copy of P2 can take
 *   minutes, in which another program may replace S: then nothing is swapped and the job fails);
 *   record phase `replacing` with T's identity. `[replace:recorded]` crash: not swapped (F is not
 *   T's identity): remove T; the original never left S.
 * - P4 Hard-link S to B (where links are refused, rename S to B), fsync B's directory.
 *   `[replace:backed-up]` crash: not swapped: remove the extra link B (B and S have the original's
 *   identity), or rename B back to S (S is gone).
 * - P5 Rename T over F (F always holds a whole file). Where a rename cannot replace a file (SFTP
 *   without posix-rename), remove S first, only once B is known to hold the original's identity
 *   (no backup: the replace fails, the original stays); `[replace:source-removed]` crash: not
 *   swapped, S gone: rename B back to S. If F is not S: link T to F (no clobber; where links are
 *   refused, rename after checking F is free), remove T `[replace:linked]`, remove S (its data
 *   lives on at B) if it is still the original (a file put there meanwhile stays). Fsync F's directory. `[replace:swapped]` crash: swapped (F has T's identity):
 *   finish by removing S (if F is not S and B holds the original) and T.
 * - P6 Record phase `done`.
 *
 * At every instant the original's bytes are at S or at B, until the new file is in place at F.
 * Right before P2, P4, P5 and the removal of S, the worker proves its claim again (a heartbeat),
 * so a worker whose job was recovered meanwhile changes no library file. Recovery acts on a
 * journal only when its paths pass `checkSteps` (`journal_trust.ts`). A temp name is removed only
 * when it holds the output's identity or the inode recorded for it (inode numbers differ per
 * mount on sshfs and SMB: there a temp may be left, and is reported, never a wrong file removed).
 *
 * @module
 */
import { dirname } from "node:path";
import { syncDir } from "../util/durable_fs.ts";
import { type FileIdentity, fileIdentity } from "../util/file_identity.ts";
import { removeIfOwned } from "../util/owned_file.ts";
import { HeldFolder } from "../util/safe_open.ts";

/** Where a replace stands; written to the job before each step. */
export interface ReplaceSteps {
  phase: "encoding" | "moving" | "replacing" | "done";
  source: string;
  /** {@link fileIdentity} of the original, taken before encoding. */
  source_id: FileIdentity | null;
  /** Where the output is now. */
  temp: string;
  /** Inode of the file vpo created at `temp`; null when unknown (nothing is removed then). */
  temp_ino?: number | null;
  /** Where the output was before being moved to the source's file system. */
  moved_from?: string;
  /** Inode of the file at `moved_from`. */
  moved_from_ino?: number | null;
  /** Where the new file goes: the source's path, or its stem with the new extension. */
  final: string;
  /** Where the original is kept (`<source>.original[.N]`); null when backups are off. */
  backup: string | null;
  /** {@link fileIdentity} of the verified output, known from phase "replacing" on. */
  output_id?: FileIdentity | null;
}

/** Every crash point of the replace protocol, in protocol order. */
export const REPLACE_CRASH_POINTS = [
  "replace:recorded",
  "replace:backed-up",
  "replace:source-removed",
  "replace:linked",
  "replace:swapped",
] as const;

/** How a resumed replace ends: the new file in place, or the original back and no output. */
export type ResumeVerdict = "completed" | "rolled_back";

/** The file identities found at a replace's paths now (null: nothing there). */
export interface FoundIdentities {
  source: FileIdentity | null;
  final: FileIdentity | null;
  temp: FileIdentity | null;
  backup: FileIdentity | null;
}

/**
 * One file operation of a resume. A `remove` with `ino` removes the path only while it is a
 * regular file with that inode (else it is left and reported); one without was checked already.
 */
export type ResumeAction =
  | { remove: string; ino?: number | null }
  | { rename: string; to: string }
  | { syncDir: string };

/**
 * What finishing or undoing the replace recorded in `steps` takes, given the identities found now:
 * the decision alone, so that every case can be checked without touching a file.
 */
export function planResume(
  steps: ReplaceSteps,
  found: FoundIdentities,
): { verdict: ResumeVerdict; actions: ResumeAction[] } {
  if (steps.phase === "done") return { verdict: "completed", actions: [] };
  const removeOwned = (path: string | undefined, ino: number | null | undefined): ResumeAction[] =>
    path ? [{ remove: path, ino: ino ?? null }] : [];
  if (steps.phase === "encoding" || steps.phase === "moving") {
    return {
      verdict: "rolled_back",
      actions: [
        ...removeOwned(steps.temp, steps.temp_ino),
        ...removeOwned(steps.moved_from, steps.moved_from_ino),
      ],
    };
  }
  // A record from before identities (inode numbers) has none: nothing is recognised, so nothing
  // but the temp name is removed, and the original stays wherever it is.
  const original = steps.source_id ?? null;
  const output = steps.output_id ?? null;
  const actions: ResumeAction[] = [];
  if (output !== null && found.final === output) {
    // Swapped: the new file is in place. Under a new name, the old name may still point at the
    // original, which is kept at the backup path (if backups are on).
    if (steps.final !== steps.source && original !== null && found.source === original) {
      if (!steps.backup || found.backup === original) actions.push({ remove: steps.source });
    }
    if (found.temp === output) actions.push({ remove: steps.temp });
    actions.push({ syncDir: dirname(steps.final) });
    return { verdict: "completed", actions };
  }
  if (steps.backup && original !== null && found.backup === original) {
    // The same content at both names: B is our extra link (or, without hard links, the same
    // bytes), so the original stays whole at S.
    if (found.source === original) actions.push({ remove: steps.backup });
    else if (found.source === null) actions.push({ rename: steps.backup, to: steps.source });
  }
  const temp = output !== null && found.temp === output
    ? [{ remove: steps.temp }]
    : removeOwned(steps.temp, steps.temp_ino);
  actions.push(...temp, { syncDir: dirname(steps.source) });
  return { verdict: "rolled_back", actions };
}

/** How a resume ended, and the recorded files it left because they were not vpo's any more. */
export interface ResumeOutcome {
  verdict: ResumeVerdict;
  left: string[];
}

/**
 * Finishes or undoes a replace interrupted by a crash or a failed step, from its recorded steps
 * (checked by `checkSteps` when they come from a file). Returns "completed" when the new file is
 * in place (the original kept as its backup, if any), or "rolled_back" when the original is back
 * in place and the output removed.
 */
export async function resumeReplace(steps: ReplaceSteps): Promise<ResumeOutcome> {
  // Every name in the source's folder is reached through one descriptor of it, as in the replace
  // itself (replace.ts): a folder swapped for a link meanwhile cannot turn a rename or removal
  // onto a file of the same name elsewhere.
  using folder = HeldFolder.openIfThere(dirname(steps.source));
  try {
    return await resumeIn(steps, (path) => folder?.reach(path) ?? path);
  } catch (err) {
    throw folder ? folder.shown(err) : err;
  }
}

async function resumeIn(
  steps: ReplaceSteps,
  reach: (path: string) => string,
): Promise<ResumeOutcome> {
  const found: FoundIdentities = steps.phase === "replacing"
    ? {
      source: await fileIdentity(reach(steps.source)),
      final: await fileIdentity(reach(steps.final)),
      temp: await fileIdentity(reach(steps.temp)),
      backup: steps.backup ? await fileIdentity(reach(steps.backup)) : null,
    }
    : { source: null, final: null, temp: null, backup: null };
  const { verdict, actions } = planResume(steps, found);
  const left: string[] = [];
  for (const action of actions) {
    if ("syncDir" in action) await syncDir(action.syncDir);
    else if ("rename" in action) await Deno.rename(reach(action.rename), reach(action.to));
    else if (action.ino === undefined) await Deno.remove(reach(action.remove));
    else if (await removeIfOwned(reach(action.remove), action.ino) === "not-ours") {
      left.push(`${action.remove} (not the file vpo recorded there)`);
    }
  }
  return { verdict, left };
}

/**
 * The journal of one replace: the steps last recorded, kept in one place so that the worker, a
 * failed step and recovery act on the same record.
 */
export class ReplaceJournal {
  #last: ReplaceSteps | null = null;

  /** `store` must durably save the steps it is given before returning. */
  constructor(readonly store: (steps: ReplaceSteps) => Promise<void>) {}

  /** The steps last recorded (or being recorded); null before the first. */
  get last(): ReplaceSteps | null {
    return this.#last;
  }

  /**
   * Records `steps` before they are done. They count as the last steps even if storing fails
   * (the job was lost): what was about to be done is what must be undone.
   */
  async record(steps: ReplaceSteps): Promise<void> {
    this.#last = steps;
    await this.store({ ...steps });
  }

  /** Finishes or undoes the replace from the last steps recorded. */
  async resume(): Promise<ResumeVerdict | null> {
    return this.#last ? (await resumeReplace(this.#last)).verdict : null;
  }

  /**
   * Removes the output of a job that ends before its replace began; once the replace began, the
   * replace itself has finished or undone its steps, and nothing is touched.
   */
  async discardOutput(): Promise<void> {
    const phase = this.#last?.phase;
    if (phase === "encoding" || phase === "moving") await this.resume();
  }
}
