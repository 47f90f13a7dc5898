/**
 * The job file: what one JSON file under `jobs/<state>/` holds, and how it is read back.
 * The state is the directory, never a field, so a hand `mv` is a state change.
 *
 * @module
 */
import { CorruptJobFileError } from "../errors.ts";
import { isJobId } from "../util/ids.ts";
import { jsonErrorOffset, lineColumn } from "../util/json_position.ts";

/** The five directories of the queue; the one a job file sits in is its state. */
export const STATES = ["queued", "running", "completed", "failed", "cancelled"] as const;
/** A job's state. */
export type JobState = typeof STATES[number];
/** States a job only leaves by retry or clear. */
export const FINISHED_STATES: readonly JobState[] = ["completed", "failed", "cancelled"];

/** Marker and version of the job file format; a JSON file without it is "not a job". */
const JOB_FORMAT = 1;

/** One entry of a job's history: every transition, with why. */
export interface JobEvent {
  /** When it happened (ISO 8601, UTC). */
  at: string;
  /** What happened: "queued", "retried", "recovered", "cancelled", a worker's outcome, ... */
  event: string;
  /** Why, in one line (e.g. the failure or stop reason); absent when there is nothing to add. */
  detail?: string;
}

/** Who ran (or runs) a job. */
export interface WorkerInfo {
  /** Host name of the machine the worker runs on. */
  host: string;
  /** Process id of the worker on that host. */
  pid: number;
  /**
   * Random id of the worker process (96 bits): host names repeat across machines (containers,
   * several NAS named "nas") and pids repeat across hosts and reboots; this does not.
   */
  instance?: string;
}

/** A JSON object: a payload or result as the queue holds it, before its job type reads it. */
export type JsonObject = Record<string, unknown>;

/**
 * The on-disk job record (snake_case: people read and edit these files). `P` and `R` are the
 * shapes of its job type's payload and result; the queue knows neither (a record read from disk
 * is `JobRecord<JsonObject, JsonObject>` until its job type's readers checked them).
 */
export interface JobRecord<P extends object = JsonObject, R extends object = JsonObject> {
  /** File format marker and version; always {@link JOB_FORMAT}. */
  vpo_job: number;
  /** Lower-case hex job id (128 random bits); also the file name stem. */
  id: string;
  /** Job type, which selects how a worker runs it (e.g. "transcode"). */
  type: string;
  /** Lower runs first; ties run first in, first out. Editable by hand. */
  priority: number;
  /** When the job was enqueued (ISO 8601, UTC). */
  created_at: string;
  /** When the record was last rewritten (ISO 8601, UTC). */
  updated_at: string;
  /** Incremented by every rewrite; resolves a job found in two directories after a crash. */
  rev: number;
  /** Runs that ended (finished, failed or died); a deadline stop does not count. */
  attempts: number;
  /** Absolute path of the file the job works on; null for jobs without one. */
  file: string | null;
  /** Type-specific input (for transcode: the policy snapshot and the source fingerprint). */
  payload: P;
  /** Claim time (ISO 8601) of the run that last finished the job; null before then, after retry. */
  started_at: string | null;
  /** When the job last finished (ISO 8601); null while it has not, or after a retry. */
  finished_at: string | null;
  /** Worker of the run that last finished the job; null if none has. */
  worker: WorkerInfo | null;
  /** Last progress a worker reported in percent (0-100), kept after the run ends; null for none. */
  progress: number | null;
  /** One-line reason plus log tail when the job failed. */
  error: string | null;
  /** Type-specific outcome (for transcode: sizes, backup path, ...). */
  result: R | null;
  /** Every transition so far, oldest first. */
  history: JobEvent[];
}

/** A job as the library hands it out: the record plus where it was found. */
export interface Job<P extends object = JsonObject, R extends object = JsonObject>
  extends JobRecord<P, R> {
  /** The state directory the file was found in. */
  state: JobState;
  /** Absolute path of the job file. */
  path: string;
}

/** Builds the record of a new queued job. */
export function newJobRecord(
  id: string,
  input: {
    type: string;
    file?: string | null;
    /** The job type's payload, stored as the JSON object it serialises to. */
    payload?: object;
    priority?: number;
  },
  now = new Date(),
): JobRecord {
  const at = now.toISOString();
  return {
    vpo_job: JOB_FORMAT,
    id,
    type: input.type,
    priority: input.priority ?? 100,
    created_at: at,
    updated_at: at,
    rev: 1,
    attempts: 0,
    file: input.file ?? null,
    payload: { ...input.payload },
    started_at: null,
    finished_at: null,
    worker: null,
    progress: null,
    error: null,
    result: null,
    history: [{ at, event: "queued" }],
  };
}

/** Serialises a record the way every job file is written (stable, readable, newline-ended). */
export function serializeJob(record: JobRecord): string {
  return JSON.stringify(record, null, 2) + "\n";
}

/** Describes a JSON syntax error as "invalid JSON at line L, column C: <reason>". */
function describeJsonError(text: string, err: SyntaxError): string {
  const { line, column } = lineColumn(text, jsonErrorOffset(text));
  // V8's reason, without the position or the echo of the text it sometimes appends.
  const reason = err.message.replace(/( in JSON)? at position \d+.*$/s, "").replace(
    /, ".*" is not valid JSON$/s,
    "",
  );
  return `invalid JSON at line ${line}, column ${column}: ${reason}`;
}

function expect(cond: boolean, path: string, what: string): asserts cond {
  if (!cond) throw new CorruptJobFileError(path, what);
}

const isIsoDate = (v: unknown) => typeof v === "string" && !Number.isNaN(Date.parse(v));
const isNullOr = (v: unknown, test: (v: unknown) => boolean) => v === null || test(v);

/**
 * Parses and validates a job file's text. Throws {@link CorruptJobFileError} naming the path and
 * the JSON position or the bad field; never returns a half-valid record.
 */
export function parseJob(text: string, path: string, expectedId?: string): JobRecord {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    if (text.trim() === "") throw new CorruptJobFileError(path, "empty file (truncated write?)");
    throw new CorruptJobFileError(path, describeJsonError(text, err as SyntaxError));
  }
  expect(typeof data === "object" && data !== null && !Array.isArray(data), path, "not a job");
  const r = data as Record<string, unknown>;
  expect(r.vpo_job === JOB_FORMAT, path, `not a vpo job file (no "vpo_job": ${JOB_FORMAT})`);
  expect(typeof r.id === "string" && isJobId(r.id), path, `bad "id"`);
  if (expectedId !== undefined) {
    expect(r.id === expectedId, path, `"id" ${r.id} does not match the file name`);
  }
  expect(typeof r.type === "string", path, `bad "type"`);
  expect(Number.isInteger(r.priority), path, `"priority" must be an integer`);
  expect(isIsoDate(r.created_at), path, `bad "created_at"`);
  expect(isIsoDate(r.updated_at), path, `bad "updated_at"`);
  expect(Number.isInteger(r.rev), path, `bad "rev"`);
  expect(Number.isInteger(r.attempts), path, `bad "attempts"`);
  expect(isNullOr(r.file, (v) => typeof v === "string"), path, `bad "file"`);
  expect(typeof r.payload === "object" && r.payload !== null, path, `bad "payload"`);
  expect(isNullOr(r.started_at, isIsoDate), path, `bad "started_at"`);
  expect(isNullOr(r.finished_at, isIsoDate), path, `bad "finished_at"`);
  expect(isNullOr(r.progress, (v) => typeof v === "number"), path, `bad "progress"`);
  expect(isNullOr(r.error, (v) => typeof v === "string"), path, `bad "error"`);
  expect(isNullOr(r.result, (v) => typeof v === "object"), path, `bad "result"`);
  expect(Array.isArray(r.history), path, `bad "history"`);
  return data as JobRecord;
}
