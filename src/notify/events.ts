/**
 * The events vpo notifies about, as one JSON shape for hooks and webhooks alike.
 *
 * @module
 */
import { hostname } from "node:os";
import { basename } from "node:path";
import { displayName } from "../util/display_name.ts";
import { formatBytes } from "../util/format.ts";
import { shortId } from "../util/ids.ts";

/** Fields every event has. */
interface EventBase {
  /** Format marker and version of this JSON. */
  vpo_event: 1;
  /** Host the worker runs on. */
  host: string;
  /** When it happened (ISO 8601, UTC). */
  time: string;
  /** One line for a phone's notification title. */
  title: string;
  /** A few lines of body text. */
  message: string;
}

/** A job ended in failed/. */
export interface JobFailedEvent extends EventBase {
  event: "job_failed";
  job: { id: string; file: string | null; error: string; attempts: number | null };
}

/** A worker run ended (`vpo jobs start` is about to exit). */
export interface WorkerDoneEvent extends EventBase {
  event: "worker_done";
  summary: {
    completed: number;
    failed: number;
    cancelled: number;
    requeued: number;
    saved_bytes: number;
    stop_reason: string;
  };
}

/** Anything vpo notifies about. */
export type NotifyEvent = JobFailedEvent | WorkerDoneEvent;

const base = () => ({ vpo_event: 1 as const, host: hostname(), time: new Date().toISOString() });

/**
 * The event of a failed job; `error` may hold ffmpeg's last log lines after its first line. The
 * title and each line of the message show names escaped (a name may hold a newline or a terminal
 * escape); `job` keeps them exact, as `--json` does.
 */
export function jobFailedEvent(
  job: { id: string; file: string | null; error: string; attempts: number | null },
): JobFailedEvent {
  const name = displayName(job.file ? basename(job.file) : shortId(job.id));
  return {
    ...base(),
    event: "job_failed",
    title: `vpo: failed: ${name}`,
    message: `${displayName(job.file ?? job.id)}\n${firstLine(job.error)}\n(vpo jobs show ${
      shortId(job.id)
    })`,
    job,
  };
}

/** The first line of `text`, escaped: a field that promises one line. */
const firstLine = (text: string) => displayName(text.split("\n")[0]);

/** The event of a finished worker run. */
export function workerDoneEvent(summary: WorkerDoneEvent["summary"]): WorkerDoneEvent {
  const { completed, failed } = summary;
  return {
    ...base(),
    event: "worker_done",
    title: `vpo: ${completed} completed, ${failed} failed, saved ${
      formatBytes(summary.saved_bytes)
    }`,
    message: `${completed} completed, ${failed} failed, ${summary.cancelled} cancelled, ` +
      `${summary.requeued} requeued; saved ${formatBytes(summary.saved_bytes)}; ` +
      `stopped: ${firstLine(summary.stop_reason)}`,
    summary,
  };
}

/** The event as environment variables for a hook (`VPO_EVENT`, `VPO_TITLE`, ...). */
export function eventEnv(e: NotifyEvent): Record<string, string> {
  const env: Record<string, string> = {
    VPO_EVENT: e.event,
    VPO_HOST: e.host,
    VPO_TIME: e.time,
    VPO_TITLE: e.title,
    VPO_MESSAGE: e.message,
  };
  if (e.event === "job_failed") {
    Object.assign(env, {
      VPO_JOB_ID: e.job.id,
      VPO_JOB_FILE: e.job.file ?? "",
      VPO_JOB_ERROR: firstLine(e.job.error),
    });
  } else {
    const s = e.summary;
    Object.assign(env, {
      VPO_COMPLETED: String(s.completed),
      VPO_FAILED: String(s.failed),
      VPO_CANCELLED: String(s.cancelled),
      VPO_REQUEUED: String(s.requeued),
      VPO_SAVED_BYTES: String(s.saved_bytes),
      VPO_STOP_REASON: firstLine(s.stop_reason),
    });
  }
  return env;
}
