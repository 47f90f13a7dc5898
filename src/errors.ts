/**
 * Error classes shared by the library and the CLI. Every error the user can cause carries a
 * one-line message naming the culprit; the CLI prints `vpo: <message>` and exits with
 * {@link VpoError.exitCode}.
 *
 * @module
 */
import { shortId } from "./util/ids.ts";

/** Base class of every error vpo reports to a user. */
export class VpoError extends Error {
  /** Process exit code the CLI uses for this error. */
  readonly exitCode: number = 1;
  /** Creates an error with a one-line user-facing message. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A command line that cannot be understood (exit code 2). */
export class UsageError extends VpoError {
  /** Always 2, the conventional exit code for usage errors. */
  override readonly exitCode = 2;
}

/** A configuration or policy file that is invalid; the message names file, key, line and column. */
export class ConfigError extends VpoError {}

/** A job id or prefix that matches no job, or more than one. */
export class JobNotFoundError extends VpoError {}

/** A job prefix matching several jobs; the message lists them. */
export class AmbiguousJobIdError extends VpoError {}

/** An operation that is not allowed in the job's current state (e.g. cancelling a finished job). */
export class JobStateError extends VpoError {}

/** A job file that is not valid JSON or not a job; the message names the path and position. */
export class CorruptJobFileError extends VpoError {
  /** `path` is the job file; `detail` says what is wrong with it. */
  constructor(readonly path: string, detail: string) {
    super(`${path}: ${detail}`);
  }
}

/**
 * The caller no longer owns the job it is acting on: it was judged stale and recovered, or moved
 * by hand. The caller must stop and touch nothing more of that job.
 */
export class LostJobError extends VpoError {
  /** `jobId` is the full id of the lost job; `detail` says how it was lost. */
  constructor(readonly jobId: string, detail = "the job was taken over (recovered or moved)") {
    super(`job ${shortId(jobId)}: ${detail}`);
  }
}

/**
 * The caller no longer holds the piece of a job it is working on (`src/queue/pieces.ts`): it was
 * taken over, or the job ended. The caller must stop and touch nothing more of that piece.
 */
export class LostPieceError extends VpoError {
  /** `piece` names the piece (for transcode, `seg-0004`). */
  constructor(readonly piece: string) {
    super(`${piece}: the claim was taken over, or the job ended`);
  }
}

/** ffprobe could not read a file. */
export class ProbeError extends VpoError {}

/** ffmpeg or ffprobe is missing or failed in a way that is not the input's fault. */
export class FfmpegError extends VpoError {}

/**
 * A job that cannot be done: it ends in failed/ with this one-line reason, and `detail` (log path,
 * ffmpeg's last lines) below it in the job's `error`.
 */
export class JobFailure extends VpoError {
  /** `message` is the one-line reason; `detail` lines follow it in the job's error. */
  constructor(message: string, readonly detail: string[] = []) {
    super(message);
  }
}

/**
 * A job that failed for lack of disk space. Retrying tonight does not free the disk, so the job
 * fails; a job type may keep what it finished for `vpo jobs retry` once the user freed space.
 */
export class NoSpaceFailure extends JobFailure {}
