/**
 * Helping with a segmented transcode that another worker holds, on this host or another: take a
 * free segment (or one whose worker died), the longest that fits this worker's deadline, encode
 * it with this worker's cores, and publish it for the holder to join. A host helps only where it
 * reaches the same segment directory (the holder's live file names the plan it must find there)
 * and runs the same ffmpeg build, so that every segment joins; see docs/multihost.md.
 *
 * @module
 */
import { LostPieceError } from "../../errors.ts";
import { ffmpegBuild } from "../../media/ffmpeg_build.ts";
import { probe } from "../../media/probe.ts";
import { segmentableVideo } from "../../media/segments.ts";
import { thisWorker } from "../../queue/claimed_job.ts";
import type { Job } from "../../queue/job.ts";
import type { HelpContext, HelpOutcome, WorkerEnv } from "../../queue/job_type.ts";
import { planEncode } from "../encode_plan.ts";
import { describeChange, fingerprintPath } from "../../replace/fingerprint.ts";
import { readPayload } from "../payload.ts";
import type { SpeedHistory } from "../speed_history.ts";
import { encodeSegment } from "./encode_segment.ts";
import { firstRecord } from "./encode_loop.ts";
import { readJournal, sameSource, settingsHash } from "./journal.ts";
import { wantsSegments } from "./open.ts";
import { SegmentBoard } from "./segment_board.ts";
import { isOwnDir, segmentDirPath, SegmentError } from "./segment_dir.ts";

/**
 * Helps with one segment of `job` (see JobRunner.help).
 *
 * @throws SegmentError when this host cannot make segments that join with the holder's (another
 *   ffmpeg build, other settings): said once, so a person learns why a host does not help.
 * @throws Error when the segment could not be encoded (its claim is given back).
 */
export async function helpWithSegments(
  job: Job,
  env: WorkerEnv,
  speed: SpeedHistory,
  ctx: HelpContext,
): Promise<HelpOutcome> {
  const payload = readPayload(job.payload);
  if (typeof payload === "string" || !job.file) return "none";
  const source = job.file;
  const dir = segmentDirPath(job.id, source, env.config.jobs.tempDirectory);
  const announced = ctx.live?.segments?.plan_id;
  if (typeof announced !== "string") {
    // A holder that has said nothing yet (no live file, no plan, no progress) is still deciding:
    // a long source may well be cut into segments in a moment.
    const deciding = !ctx.live?.progress &&
      wantsSegments(payload.duration_sec, env.config.jobs.segmentLength);
    return deciding ? "busy" : "none";
  }
  const journal = readJournal(dir, job.id);
  // The directory this host sees is the holder's only if it holds the plan the holder announced.
  if (!journal || journal.plan_id !== announced) return "none";
  if (journal.ffmpeg_build !== await ffmpegBuild()) {
    throw new SegmentError("its segments are encoded by another ffmpeg build than this host's");
  }
  if (!sameSource(journal.fingerprint, payload.fingerprint)) return "none";
  if (describeChange(payload.fingerprint, await fingerprintPath(source)) !== null) return "none";
  if (!await isOwnDir(dir).catch(() => false)) return "none";

  const board = new SegmentBoard(journal, dir);
  const view = await board.look();
  const staleAfterSec = env.config.worker.staleAfter;
  const codec = payload.policy.targetVideoCodec;
  const cores = env.cpuCores;
  const pick = board.pick(
    view,
    staleAfterSec,
    (mediaSec) => speed.fits(codec, mediaSec, ctx.deadline, cores),
  );
  // Nothing to take: either none fits the deadline, or every segment left is another's (or all
  // are done and the holder is joining them, or died before: a recovery brings the job back).
  if (!pick) return board.candidates(view, staleAfterSec).length > 0 ? "none" : "busy";
  // Planned from the source itself, as the holder planned it: a probe in the job file is only
  // what the queue decided from.
  const media = await probe(source, { signal: ctx.signal });
  const planned = (await planEncode(payload, media, ctx.signal)).plan;
  if (planned.action === "skip" || segmentableVideo(planned) === null) return "none";
  // A quality target's search chose the CRF on the holder: the segments are encoded at it.
  const plan = { ...planned, video: { ...planned.video, crf: journal.crf } };
  // Other settings on this host (another encoder found, another policy reading) would make
  // segments that cannot be joined with the others.
  if (await settingsHash(plan, journal.segment_sec) !== journal.settings) {
    throw new SegmentError(
      "this host plans its encode with other settings than the worker holding it (another " +
        "encoder found?)",
    );
  }

  const claim = await board.take(pick, thisWorker());
  if (!claim) return "helped";
  const mediaSec = board.mediaSec(pick.index);
  ctx.event(board.describe(pick));
  try {
    const done = await encodeSegment(claim, pick.index, {
      journal,
      dir,
      plan,
      source,
      cpuCores: cores,
      cpuSet: env.cpuSet,
      logPath: ctx.logPath,
      signal: ctx.signal,
      heartbeatIntervalSec: env.config.worker.heartbeatInterval,
      reference: () => firstRecord(view.records),
      earlierDone: view.records.size > 0,
      onProgress: (s) =>
        ctx.progress({
          percent: s.percent,
          fps: s.fps,
          speed: s.speed,
          eta_sec: s.speed ? (mediaSec - s.mediaSec) / s.speed : null,
          out_time_sec: s.mediaSec,
        }),
    });
    if (done.won) await speed.record(codec, mediaSec, done.record.wall_sec, cores, done.usage);
    return "helped";
  } catch (err) {
    if (err instanceof LostPieceError) return "helped";
    await claim.release().catch(() => {});
    if (ctx.signal.aborted) return "none";
    throw err;
  }
}
