/**
 * Segmented encoding of one job, resumable across runs: the video is encoded segment by segment
 * (see media/segments.ts) into a directory named with the job's id, each finished segment is
 * recorded in a journal there with its size, SHA-256 and frame count, and once all are done they
 * are joined without re-encoding and muxed with every other stream of the source into the job's
 * usual temp output. A deadline, signal or crash loses at most the segment being encoded.
 *
 * The directory `.vpo-<id>.segments/` lives in the temp directory (or beside the source), a
 * folder others may write: vpo uses it only when it is a real directory (not a link) owned by
 * this user, which it makes 0700. vpo acts only on names it gives the files in it
 * (`journal.json`, `list.ffconcat`, `seg-NNNN.mkv`, `seg-NNNN.<token>.partial`, its own
 * `.vpo.*.tmp` writes), never follows a symbolic link there, and never removes anything else: a
 * directory holding other files is left. A segment is written as the rest of the transcode temps
 * are: created exclusively without following a link (0600), and handed to ffmpeg as
 * `/proc/<pid>/fd/<n>`, so a link planted at its name receives nothing; it is published under its
 * final name only while that name still holds the inode vpo made. The journal and the concat list
 * are written to an exclusive temp in the directory and renamed over their name, which replaces
 * a link there instead of writing through it, and read without following one.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { closeSync, readSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { JobFailure } from "../errors.ts";
import { noSpaceReason, runFfmpeg } from "../media/ffmpeg_runner.ts";
import type { EncodePlan } from "../media/plan.ts";
import type { ProgressUpdate } from "../media/progress.ts";
import {
  concatList,
  planSegments,
  probeSegment,
  readPacketTimes,
  type Segment,
  segmentableVideo,
  segmentEncodeArgs,
  toSeconds,
} from "../media/segments.ts";
import type { ClaimedJob } from "../queue/claimed_job.ts";
import type { Job } from "../queue/job.ts";
import type { JobQueue } from "../queue/store.ts";
import type { RecordChanges } from "../queue/transition.ts";
import { crashPoint } from "../util/crash_point.ts";
import { syncDir, writeFileAtomic } from "../util/durable_fs.ts";
import type { Fingerprint } from "../replace/fingerprint.ts";
import { scanTempDirs } from "../replace/temp_files.ts";
import { OwnedFile, removeIfOwned } from "../util/owned_file.ts";
import {
  openRegularFileSync,
  readRegularFileSync,
  UnreadableFileError,
} from "../util/safe_open.ts";
import { inodesAreStable } from "../util/file_identity.ts";
import { sharesWithGroup } from "../util/file_mode.ts";

/** A segmented encode could not go on; the job fails (and its segments are removed). */
export class SegmentError extends JobFailure {}

/**
 * Crash points of a segmented encode (`VPO_CRASH_AT`): in the middle of a segment after an
 * earlier one was recorded, and right after a segment was recorded.
 */
export const SEGMENT_CRASH_POINTS = ["segments:encoding", "segments:recorded"] as const;

/** Journal format marker and version. */
const JOURNAL_FORMAT = 1;
const JOURNAL = "journal.json";
const LIST = "list.ffconcat";
const DIR_RE = /^\.vpo-([0-9a-f]{32})\.segments$/;
/** Every name vpo gives a file in a segment directory. */
const OWN_FILE_RE =
  /^(journal\.json|list\.ffconcat|seg-\d{4}\.mkv|seg-\d{4}\.[0-9a-f]{12}\.partial|\.vpo\.\d+\.\d+\.[0-9a-z]+\.tmp)$/;

/** A finished segment as the journal records it. */
interface DoneSegment {
  size: number;
  sha256: string;
  frames: number;
  codec: string;
  extradata: string;
  /** Wall seconds its encode took. */
  wall_sec: number;
}

/** The journal of one job's segmented encode (`journal.json` in its segment directory). */
export interface SegmentJournal {
  vpo_segments: number;
  job_id: string;
  /** The source as it was when the segments were planned. */
  fingerprint: Fingerprint;
  /** Hash of the encode settings; different settings make the finished segments useless. */
  settings: string;
  time_base: [number, number];
  file_start_sec: number;
  segments: Segment[];
  /** Finished segments by index. */
  done: Record<string, DoneSegment>;
}

/** Progress of a segmented job across runs, kept in the job record between runs. */
export interface SegmentProgress {
  done: number;
  total: number;
  /** Percent of the media encoded. */
  percent: number;
  media_done_sec: number;
  media_total_sec: number;
  /** Wall seconds spent encoding the finished segments. */
  encode_sec: number;
  /** Length of the last run's window (worker start to deadline); null without a deadline. */
  window_sec: number | null;
}

/** The directory holding job `id`'s segments. */
export function segmentDirPath(id: string, source: string, tempDirectory: string | null): string {
  return join(tempDirectory ?? dirname(source), `.vpo-${id}.segments`);
}

/** The job id a segment directory's name belongs to, or null if vpo did not make it. */
export function segmentDirOwner(name: string): string | null {
  return DIR_RE.exec(name)?.[1] ?? null;
}

/** Whether a job of `durationSec` would be encoded in segments of `segmentSec`. */
export function wantsSegments(durationSec: number, segmentSec: number | null): boolean {
  return segmentSec !== null && segmentSec > 0 && durationSec >= 2 * segmentSec;
}

/** What {@link encodeSegmented} needs from the job. */
export interface SegmentedEncodeOptions {
  claimed: ClaimedJob;
  plan: EncodePlan;
  source: string;
  /** The job's temp output, where the joined file is written. */
  output: string;
  /** The job's segment directory ({@link segmentDirPath}). */
  dir: string;
  cpuCores: number | null;
  /** The cores this worker claimed, which ffmpeg is pinned to (null: the first `cpuCores`). */
  cpuSet: readonly number[] | null;
  logPath: string;
  signal: AbortSignal;
  /** Progress of the whole job (percent of all segments), for the live file and terminal. */
  onProgress: (update: ProgressUpdate) => void;
  /** Called before each segment is started; throws to stop (e.g. it cannot finish in time). */
  beforeSegment: (mediaSec: number) => void;
  /** Called after each finished segment, e.g. to record the measured speed. */
  afterSegment: (mediaSec: number, wallSec: number) => Promise<void>;
  /** The mux arguments for the joined video (buildFfmpegArgs with `encodedVideo`). */
  muxArgs: (encodedVideo: { concatList: string; offsetSec: number }) => string[];
}

/**
 * Plans (or resumes) the segmented encode of a job; null when the video cannot be cut by
 * timestamps (the caller encodes in one pass). The segment directory is made here.
 */
export async function openSegments(
  opts: Pick<SegmentedEncodeOptions, "claimed" | "plan" | "source" | "dir" | "signal"> & {
    /** The source as the job knows it; a journal made for another source is discarded. */
    fingerprint: Fingerprint;
    /** Target seconds of media per segment. */
    segmentSec: number;
  },
): Promise<SegmentJournal | null> {
  const video = segmentableVideo(opts.plan);
  if (video === null) return null;
  await ensureOwnDir(opts.dir);
  const settings = await settingsHash(opts.plan, opts.segmentSec);
  const old = readJournal(opts.dir, opts.claimed.id);
  if (old && old.settings === settings && sameSource(old.fingerprint, opts.fingerprint)) {
    await dropDamagedSegments(opts.dir, old);
    return old;
  }
  await clearOwnFiles(opts.dir);
  const times = await readPacketTimes(opts.source, video.inputIndex, { signal: opts.signal });
  if (times === null) return null;
  const journal: SegmentJournal = {
    vpo_segments: JOURNAL_FORMAT,
    job_id: opts.claimed.id,
    fingerprint: opts.fingerprint,
    settings,
    time_base: times.timeBase,
    file_start_sec: times.fileStartSec,
    segments: planSegments(times, opts.segmentSec),
    done: {},
  };
  await writeJournal(opts.dir, journal);
  return journal;
}

/** Fraction (0-1) of the media still to encode. */
export function remainingFraction(journal: SegmentJournal): number {
  const p = progressOf(journal, null);
  return p.media_total_sec > 0 ? 1 - p.media_done_sec / p.media_total_sec : 1;
}

/** Progress across runs as the journal says, with the window the current run has. */
export function progressOf(journal: SegmentJournal, windowSec: number | null): SegmentProgress {
  let mediaDone = 0;
  let mediaTotal = 0;
  let encodeSec = 0;
  let done = 0;
  for (const seg of journal.segments) {
    mediaTotal += seg.mediaSec;
    const d = journal.done[String(seg.index)];
    if (d) {
      done++;
      mediaDone += seg.mediaSec;
      encodeSec += d.wall_sec;
    }
  }
  return {
    done,
    total: journal.segments.length,
    percent: mediaTotal > 0 ? Math.round(mediaDone / mediaTotal * 1000) / 10 : 0,
    media_done_sec: round(mediaDone),
    media_total_sec: round(mediaTotal),
    encode_sec: round(encodeSec),
    window_sec: windowSec === null ? null : Math.round(windowSec),
  };
}

/** Reads a job's segment progress from its directory; null when there is none. */
export function readSegmentProgress(
  dir: string,
  id: string,
  windowSec: number | null,
): SegmentProgress | null {
  const journal = readJournal(dir, id);
  return journal ? progressOf(journal, windowSec) : null;
}

/**
 * What a job's record keeps of its segments as a run of `claimed` ends. Requeued (deadline,
 * signal): the segments stay for the next run, and the record shows the progress they make
 * (`jobs list` its percent, `jobs show` its segments and ETA) until then. Ended (completed,
 * failed, cancelled): the segment directory is removed and the progress dropped.
 */
export async function segmentRecordChanges(
  claimed: ClaimedJob,
  tempDirectory: string | null,
  requeued: boolean,
): Promise<RecordChanges> {
  const job = claimed.record;
  if (!job.file) return {};
  const dir = segmentDirPath(job.id, job.file, tempDirectory);
  if (requeued) {
    const window = claimed.live.segments?.window_sec;
    const progress = readSegmentProgress(
      dir,
      job.id,
      typeof window === "number" ? window : null,
    );
    return progress
      ? { progress: progress.percent, payload: { ...job.payload, segment_progress: progress } }
      : {};
  }
  await removeSegments(dir);
  const { segment_progress: old, ...payload } = job.payload;
  return old === undefined ? {} : { payload };
}

/**
 * Encodes the segments not yet done, then joins them into `opts.output`. Returns the wall
 * seconds all runs spent on the job's segments and the join.
 *
 * @throws SegmentError when a segment or the join fails; the signal's reason when stopped.
 */
export async function encodeSegmented(
  journal: SegmentJournal,
  opts: SegmentedEncodeOptions,
): Promise<{ wallSec: number }> {
  const times = { timeBase: journal.time_base };
  const total = journal.segments.length;
  const mediaTotal = journal.segments.reduce((sum, s) => sum + s.mediaSec, 0);
  await removeStalePartials(opts.dir);
  for (const seg of journal.segments) {
    if (journal.done[String(seg.index)]) continue;
    opts.signal.throwIfAborted();
    opts.beforeSegment(seg.mediaSec);
    const file = join(opts.dir, segmentName(seg.index));
    const partial = join(opts.dir, `seg-${pad(seg.index)}.${opts.claimed.token}.partial`);
    const mediaBefore = journal.segments
      .filter((s) => journal.done[String(s.index)])
      .reduce((sum, s) => sum + s.mediaSec, 0);
    const startSec = toSeconds(times, seg.start);
    const started = performance.now();
    using out = await OwnedFile.create(partial).catch((err) => {
      throw new SegmentError(`cannot create segment ${seg.index + 1}/${total}: ${err.message}`);
    });
    try {
      const run = await runFfmpeg({
        args: segmentEncodeArgs(opts.plan, times, seg, opts.source, out.pathForChild, {
          cpuCores: opts.cpuCores,
        }),
        logPath: opts.logPath,
        signal: opts.signal,
        durationSec: seg.mediaSec,
        cpuCores: opts.cpuCores,
        cpuSet: opts.cpuSet,
        killGraceMs: 1000,
        onProgress: (u) => {
          // For tests: a kill in the middle of a segment after an earlier one was recorded.
          if (mediaBefore > 0) crashPoint("segments:encoding");
          // With -copyts ffmpeg reports the output time on the source's timeline.
          const inSegment = Math.min(seg.mediaSec, Math.max(0, u.outTimeSec - startSec));
          const encoded = mediaBefore + inSegment;
          opts.onProgress({
            ...u,
            percent: mediaTotal > 0 ? Math.min(100, encoded / mediaTotal * 100) : 0,
            outTimeSec: encoded,
            etaSec: u.speed ? (mediaTotal - encoded) / u.speed : null,
            done: false,
          });
        },
      });
      opts.signal.throwIfAborted();
      if (run.noSpace) throw new SegmentError(`${noSpaceReason(dirname(opts.dir))}; original kept`);
      if (!run.success) {
        const why = run.signal ? `killed by ${run.signal}` : `exited with code ${run.code}`;
        throw new SegmentError(
          `ffmpeg ${why} encoding segment ${seg.index + 1}/${total}: ${run.tail.at(-1) ?? ""}`,
          [`log: ${opts.logPath}`, ...run.tail.slice(-8)],
        );
      }
      const wallSec = (performance.now() - started) / 1000;
      const probed = await probeSegment(out.pathForChild, { signal: opts.signal });
      if (probed.frames !== seg.frames) {
        throw new SegmentError(
          `segment ${seg.index + 1}/${total} has ${probed.frames} frames, the source ` +
            `${seg.frames} there; original kept`,
        );
      }
      const { size, sha256 } = hashOwned(out);
      // Fencing: a worker that lost the job must not publish into the new owner's journal.
      await opts.claimed.heartbeat();
      if (!await out.stillAtPath()) {
        throw new SegmentError(
          `segment ${seg.index + 1}/${total}: ${partial} was replaced while it was written ` +
            `(a link or another file); nothing was written through it; original kept`,
        );
      }
      await Deno.rename(partial, file);
      await syncDir(opts.dir);
      journal.done[String(seg.index)] = {
        size,
        sha256,
        frames: probed.frames,
        codec: probed.codec,
        extradata: probed.extradata,
        wall_sec: round(wallSec),
      };
      await writeJournal(opts.dir, journal);
      crashPoint("segments:recorded");
      await opts.afterSegment(seg.mediaSec, wallSec);
    } finally {
      // Only the file vpo made: a link or file put at its name is not vpo's to remove.
      await removeIfOwned(partial, out.ino).catch(() => {});
    }
  }
  return { wallSec: await join_(journal, opts) };
}

/** Joins the finished segments and muxes them with the source's other streams. */
async function join_(journal: SegmentJournal, opts: SegmentedEncodeOptions): Promise<number> {
  const done = journal.segments.map((s) => journal.done[String(s.index)]);
  const first = done[0];
  const odd = done.findIndex((d) => d.codec !== first.codec || d.extradata !== first.extradata);
  if (odd >= 0) {
    throw new SegmentError(
      `segment ${odd + 1} was encoded with other codec headers than segment 1 (a different ` +
        `encoder build?); they cannot be joined; original kept`,
    );
  }
  const times = { timeBase: journal.time_base };
  const list = join(opts.dir, LIST);
  const names = journal.segments.map((s) => segmentName(s.index));
  await writeFileAtomic(list, concatList(times, journal.segments, names), {
    durable: false,
    rule: "folder",
  });
  const offsetSec = toSeconds(times, journal.segments[0].start) - journal.file_start_sec;
  const started = performance.now();
  const run = await runFfmpeg({
    args: opts.muxArgs({ concatList: list, offsetSec }),
    logPath: opts.logPath,
    signal: opts.signal,
    cpuCores: opts.cpuCores,
    cpuSet: opts.cpuSet,
    killGraceMs: 1000,
  });
  opts.signal.throwIfAborted();
  if (run.noSpace) {
    throw new SegmentError(`${noSpaceReason(dirname(opts.output))}; original kept`);
  }
  if (!run.success) {
    throw new SegmentError(
      `ffmpeg exited with code ${run.code} joining the segments: ${run.tail.at(-1) ?? ""}`,
      [`log: ${opts.logPath}`, ...run.tail.slice(-8)],
    );
  }
  const joinSec = (performance.now() - started) / 1000;
  return done.reduce((sum, d) => sum + d.wall_sec, 0) + joinSec;
}

/**
 * Removes a job's segment directory: only the files vpo names there, then the directory if it
 * is empty. Missing directory: nothing to do.
 */
export async function removeSegments(dir: string): Promise<void> {
  if (!await isOwnDir(dir)) return;
  await clearOwnFiles(dir);
  await Deno.remove(dir).catch(() => {
    // Something vpo did not put there is left with its directory.
  });
}

const segmentName = (index: number) => `seg-${pad(index)}.mkv`;
const pad = (index: number) => String(index + 1).padStart(4, "0");
const round = (n: number) => Math.round(n * 10) / 10;

/**
 * True when `dir` is a real directory (not a symbolic link) owned by this user (where owners can be
 * told apart: see below); false when it does not exist.
 */
async function isOwnDir(dir: string): Promise<boolean> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.lstat(dir);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
  if (!info.isDirectory) {
    throw new SegmentError(`${dir} is not a directory vpo made (a link or a file); left alone`);
  }
  // Another user's directory is refused where owners mean something: not in a group-shared queue
  // (another member's worker made it) nor on sshfs or SMB (the client shows mapped or remote uids).
  const uid = Deno.uid();
  const ownersCount = !sharesWithGroup() && inodesAreStable(dir);
  if (ownersCount && info.uid !== null && uid !== null && info.uid !== uid) {
    throw new SegmentError(
      `${dir} is not a directory vpo made (owner uid ${info.uid}, not ${uid}); left alone`,
    );
  }
  return true;
}

async function ensureOwnDir(dir: string): Promise<void> {
  if (await isOwnDir(dir)) return;
  await Deno.mkdir(dir, { mode: 0o700 });
  await syncDir(dirname(dir));
}

async function clearOwnFiles(dir: string): Promise<void> {
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isFile && OWN_FILE_RE.test(entry.name)) {
      await Deno.remove(join(dir, entry.name)).catch(() => {});
    }
  }
}

/** Partial segments of earlier runs (their worker was stopped or died mid-segment). */
async function removeStalePartials(dir: string): Promise<void> {
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isFile && /^seg-\d{4}\.[0-9a-f]{12}\.partial$/.test(entry.name)) {
      await Deno.remove(join(dir, entry.name)).catch(() => {});
    }
  }
}

/** Forgets finished segments whose file is missing or differs from what the journal says. */
async function dropDamagedSegments(dir: string, journal: SegmentJournal): Promise<void> {
  let dropped = false;
  for (const [key, d] of Object.entries(journal.done)) {
    const path = join(dir, segmentName(Number(key)));
    const ok = await hashFile(path).then(
      (h) => h.size === d.size && h.sha256 === d.sha256,
      () => false,
    );
    if (!ok) {
      delete journal.done[key];
      await Deno.remove(path).catch(() => {});
      dropped = true;
    }
  }
  if (dropped) await writeJournal(dir, journal);
}

/** Size and SHA-256 of a regular file (not through a symbolic link), read in chunks. */
function hashFile(path: string): Promise<{ size: number; sha256: string }> {
  return new Promise((resolve) => {
    let fd: number;
    try {
      fd = openRegularFileSync(path);
    } catch (err) {
      if (err instanceof UnreadableFileError) throw new SegmentError(`${path}: ${err.reason}`);
      throw err;
    }
    try {
      resolve(hashFd(fd));
    } finally {
      closeSync(fd);
    }
  });
}

/** Size and SHA-256 of the file vpo made, read through its descriptor whatever its name holds. */
function hashOwned(file: OwnedFile): { size: number; sha256: string } {
  return hashFd(file.fd);
}

function hashFd(fd: number): { size: number; sha256: string } {
  const hash = createHash("sha256");
  const buffer = new Uint8Array(1 << 20);
  let size = 0;
  for (let n = readSync(fd, buffer, 0, buffer.length, 0); n > 0;) {
    hash.update(buffer.subarray(0, n));
    size += n;
    n = readSync(fd, buffer, 0, buffer.length, size);
  }
  return { size, sha256: hash.digest("hex") };
}

async function settingsHash(plan: EncodePlan, segmentSec: number): Promise<string> {
  const video = segmentableVideo(plan)!;
  // What decides the bitstream of a segment: encoder settings and the cut length, not paths or
  // thread caps.
  const key = JSON.stringify({ video: plan.video, stream: video, segmentSec, v: JOURNAL_FORMAT });
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(key));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

function sameSource(a: Fingerprint, b: Fingerprint): boolean {
  return a.size === b.size && a.mtime_ms === b.mtime_ms && a.ino === b.ino;
}

async function writeJournal(dir: string, journal: SegmentJournal): Promise<void> {
  await writeFileAtomic(join(dir, JOURNAL), JSON.stringify(journal, null, 1) + "\n", {
    rule: "folder",
  });
}

/**
 * The journal of job `id` in `dir`, or null when there is none, it is not a regular file, or it
 * is not a journal of that job in this format (then it is ignored and rewritten).
 */
function readJournal(dir: string, id: string): SegmentJournal | null {
  const path = join(dir, JOURNAL);
  try {
    const data = JSON.parse(readRegularFileSync(path, 64 * 1024 * 1024));
    return isJournal(data, id) ? data : null;
  } catch {
    return null;
  }
}

function isJournal(data: unknown, id: string): data is SegmentJournal {
  if (typeof data !== "object" || data === null) return false;
  const j = data as Partial<SegmentJournal>;
  const int = (v: unknown) => Number.isSafeInteger(v);
  return j.vpo_segments === JOURNAL_FORMAT && j.job_id === id &&
    typeof j.settings === "string" && typeof j.fingerprint === "object" &&
    Array.isArray(j.time_base) && j.time_base.length === 2 && j.time_base.every(int) &&
    typeof j.file_start_sec === "number" && Array.isArray(j.segments) &&
    j.segments.length > 0 &&
    j.segments.every((s, i) =>
      s?.index === i && int(s.start) && (s.end === null || int(s.end)) && int(s.frames) &&
      typeof s.mediaSec === "number"
    ) &&
    typeof j.done === "object" && j.done !== null &&
    Object.entries(j.done).every(([k, d]) =>
      /^\d+$/.test(k) && Number(k) < j.segments!.length && typeof d?.sha256 === "string" &&
      int(d.size) && typeof d.extradata === "string" && typeof d.codec === "string" &&
      typeof d.wall_sec === "number"
    );
}

/**
 * Segment directories (in `tempDirectory` and beside every job's source) of jobs that are
 * neither queued nor running: their job finished, failed or was removed, so nothing will resume
 * them. Symbolic links are never listed.
 */
export function findOrphanSegmentDirs(queue: JobQueue, tempDirectory: string | null): string[] {
  const jobs = queue.list().jobs;
  const waiting = waitingIds(jobs);
  const found = scanTempDirs(jobs, tempDirectory, (entry) => {
    const owner = entry.isDirectory ? segmentDirOwner(entry.name) : null;
    return owner !== null && !waiting.has(owner);
  });
  // A job queued and claimed during the scan made its directory after the first listing: look
  // again before calling anything an orphan.
  const now = waitingIds(queue.list().jobs);
  return found.filter((dir) => !now.has(segmentDirOwner(basename(dir))!));
}

const waitingIds = (jobs: readonly Job[]) =>
  new Set(jobs.filter((j) => j.state === "queued" || j.state === "running").map((j) => j.id));

/** Bytes of the files vpo made in a segment directory (0 when it is gone). */
export function segmentDirSize(dir: string): number {
  let total = 0;
  try {
    for (const entry of Deno.readDirSync(dir)) {
      if (entry.isFile && OWN_FILE_RE.test(entry.name)) {
        total += Deno.statSync(join(dir, entry.name)).size;
      }
    }
  } catch {
    // Removed meanwhile: nothing to count.
  }
  return total;
}
