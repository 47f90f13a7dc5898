/**
 * vpo: a video transcoding job queue that needs no database.
 *
 * The queue is a directory tree (`$VPO_HOME/jobs/{queued,running,completed,failed,cancelled}`) of
 * JSON job files moved by atomic renames; the directory a file sits in is its state. The worker
 * converts queued files with ffmpeg and replaces each original only once the output is verified.
 *
 * ```ts
 * import { JobQueue } from "./mod.ts";
 *
 * // Normally `resolveHome().jobsDir`; a scratch queue here.
 * const root = await Deno.makeTempDir();
 * const queue = await JobQueue.open(root);
 * await queue.enqueue({ type: "demo", file: "/videos/a.mkv", payload: {} });
 * const job = await queue.claim();
 * if (job) await job.finish("completed", {}, "completed");
 * console.log(queue.counts());
 * await Deno.remove(root, { recursive: true });
 * ```
 *
 * The queue protocol is stated in `src/queue/protocol.ts`; each main export carries an example.
 *
 * @module
 */

export {
  AmbiguousJobIdError,
  ConfigError,
  CorruptJobFileError,
  FfmpegError,
  JobNotFoundError,
  JobStateError,
  LostJobError,
  LostPieceError,
  ProbeError,
  UsageError,
  VpoError,
} from "./src/errors.ts";
export { ensureHome, resolveHome, VpoHome } from "./src/queue/layout.ts";
export type { Config, SharedGroup } from "./src/config/types.ts";
export { CONFIG_LIMITS, defaultConfig, loadConfig, parseConfig } from "./src/config/config.ts";
export type {
  ContainerChoice,
  HwAccel,
  QualityMetric,
  QualityRule,
  SkipConditions,
  TargetQuality,
  TranscodePolicy,
  VideoCodec,
} from "./src/policy/types.ts";
export { applyOverrides, defaultPolicy, loadPolicy, parsePolicy } from "./src/policy/policy.ts";
export type { PolicyOverrides } from "./src/policy/policy.ts";
export {
  loadPolicyFile,
  parsePolicyFile,
  type PolicyFile,
  type PolicyReadOptions,
} from "./src/policy/policy.ts";
export { defaultTrackPolicy } from "./src/policy/track_policy.ts";
export type {
  AudioFallback,
  AudioFilter,
  ContainerTarget,
  DefaultFlags,
  IncompatibleCodecMode,
  SubtitleFilter,
  TrackClass,
  TrackPolicy,
} from "./src/policy/track_types.ts";
export {
  FINISHED_STATES,
  type Job,
  type JobRecord,
  type JobState,
  type JsonObject,
  STATES,
} from "./src/queue/job.ts";
export type { JobEvent, WorkerInfo } from "./src/queue/job.ts";
export { JobQueue } from "./src/queue/store.ts";
export { ClaimedJob, type LiveInfo } from "./src/queue/claimed_job.ts";
export type { ClaimOptions } from "./src/queue/claim.ts";
export type { EnqueueInput, RecordChanges } from "./src/queue/transition.ts";
export type { ListOptions, ListResult } from "./src/queue/listing.ts";
export { type JobCounts, type QueueSurvey, surveyQueue } from "./src/queue/counts.ts";
export type { CleanupOptions, CleanupReport } from "./src/queue/user_actions.ts";
export type {
  RecoveredJob,
  RecoverOptions,
  RecoveryDecision,
  StaleJob,
} from "./src/queue/recovery.ts";
export type { QueueLayout } from "./src/queue/layout.ts";
export {
  type ClaimInfo,
  type PieceBeat,
  PieceBoard,
  PieceClaim,
  type PieceState,
} from "./src/queue/pieces.ts";
export {
  IllegalTransitionError,
  PIECE_CRASH_POINTS,
  QUEUE_CRASH_POINTS,
  type TransitionEvent,
  TRANSITIONS,
} from "./src/queue/protocol.ts";
export {
  checkQueueFileSystem,
  describeFileSystem,
  type FileSystemReport,
} from "./src/queue/fs_check.ts";
export { type MountInfo, mountOf } from "./src/util/mounts.ts";
export { type FileIdentity, fileIdentity, hasIdentity } from "./src/util/file_identity.ts";
export type { Problem } from "./src/queue/scan.ts";
export { hasDispositions, type MediaInfo, probe, withDispositions } from "./src/media/probe.ts";
export type {
  ContentLight,
  MasteringDisplay,
  ProbeOptions,
  StreamInfo,
  StreamType,
} from "./src/media/probe.ts";
export { planTranscode, type TranscodePlan } from "./src/media/plan.ts";
export type {
  AttachmentPlan,
  AudioStreamPlan,
  CoverArtPlan,
  DataStreamPlan,
  EncodePlan,
  ExpectedStreams,
  OutputFormat,
  PlanOptions,
  SkipPlan,
  StreamLabel,
  StreamPlan,
  SubtitleStreamPlan,
  TargetPixFmt,
  VideoSettings,
  VideoStreamPlan,
} from "./src/media/plan.ts";
export { buildFfmpegArgs, labelArgs } from "./src/media/ffmpeg_args.ts";
export {
  concatList,
  type PacketTimes,
  planSegments,
  readPacketTimes,
  type Segment,
  type SegmentArgsOptions,
  segmentEncodeArgs,
} from "./src/media/segments.ts";
export type { FfmpegArgsOptions } from "./src/media/ffmpeg_args.ts";
export { runFfmpeg } from "./src/media/ffmpeg_runner.ts";
export type { FfmpegUsage, RunFfmpegOptions, RunFfmpegResult } from "./src/media/ffmpeg_runner.ts";
export type { ProgressUpdate } from "./src/media/progress.ts";
export { verifyOutput } from "./src/media/verify.ts";
export {
  keepLanguageTags,
  type LanguageTagOptions,
  matroskaTrackSources,
  type TagsVerdict,
} from "./src/media/language_tags.ts";
export type { VerifyOptions, VerifyResult } from "./src/media/verify.ts";
export {
  type DroppedTrack,
  type PlannedTrack,
  type PlannedTrackType,
  planTracks,
  type TrackDecision,
  type TrackPlan,
} from "./src/tracks/plan.ts";
export { type ApplyArgsOptions, buildApplyArgs, labelOf } from "./src/tracks/apply_args.ts";
export { planTracksInEncode, type TracksInEncode } from "./src/tracks/in_encode.ts";
export { type RemuxOptions, remuxTracks } from "./src/tracks/remux.ts";
export { type TrackVerdict, type TrackVerifyOptions, verifyTracks } from "./src/tracks/verify.ts";
export {
  eitherOf,
  type FileDecider,
  type FileVerdict,
  queueFiles,
  type QueueFilesOptions,
} from "./src/library/queue_scan.ts";
export type { DecisionStatus, FileDecision } from "./src/library/file_decision.ts";
export { transcodeDecider, type TranscodeDeciderOptions } from "./src/transcode/decider.ts";
export { applyDecider, type ApplyDeciderOptions } from "./src/apply/decider.ts";
export { Library } from "./src/library/library.ts";
export {
  type Decision,
  type DecisionKind,
  DecisionMemory,
  type FileStamp,
  policyHash,
} from "./src/library/decisions.ts";
export { ProbeCache } from "./src/library/probe_cache.ts";
export {
  searchCrf,
  type SearchOptions,
  type SearchProbe,
  type SearchResult,
} from "./src/quality/crf_search.ts";
export { type FolderSeed, QualityMemory, type SampleScore } from "./src/quality/memory.ts";
export { QualityTemps } from "./src/quality/temps.ts";
export { type CompareOptions, compareVideos, metricProblem } from "./src/quality/compare.ts";
export { nextStep, type Probe, type SearchGoal, type SearchStep } from "./src/quality/search.ts";
export { scoreOf, type ScoreSummary, summarize } from "./src/quality/scores.ts";
export { planSamples, type SamplePlan, type SampleRun } from "./src/quality/samples.ts";
export { forecast, type ForecastOptions, type ForecastReport } from "./src/transcode/forecast.ts";
export { recoverStale } from "./src/worker/recovery.ts";
export {
  coresPerLoop,
  runWorker,
  type WorkerOptions,
  type WorkerSummary,
} from "./src/worker/worker.ts";
export {
  type AutoChoice,
  type AutoInput,
  autoWorkers,
  chooseWorkers,
} from "./src/worker/auto_workers.ts";
export type { ProgressSample, WorkerEventKind, WorkerReporter } from "./src/worker/reporter.ts";
export type { JobOutcome } from "./src/worker/run_job.ts";
export {
  type DetailLine,
  type FileOutcome,
  type HelpContext,
  type HelpOutcome,
  type JobFigures,
  type JobResult,
  type JobRunner,
  type JobType,
  JobTypes,
  type LiveProgress,
  type MachineUse,
  type RunContext,
  type WorkerEnv,
} from "./src/queue/job_type.ts";
export { transcodeJobType } from "./src/transcode/job_type.ts";
export { applyJobType } from "./src/apply/job_type.ts";
export { APPLY, type ApplyPayload } from "./src/apply/payload.ts";
export type {
  ApplyReplacedResult,
  ApplyResult,
  ApplySkippedResult,
  CopyFigures,
} from "./src/apply/result.ts";
export type { SourcePayload } from "./src/replace/source_payload.ts";
export type { ReplacedFiles } from "./src/replace/backups.ts";
export type { Fingerprint } from "./src/replace/fingerprint.ts";
export type { TranscodeResult } from "./src/transcode/result.ts";
export { ReplaceJournal, type ReplaceSteps, resumeReplace } from "./src/replace/replace_journal.ts";
export { resolveLimits, type WorkerLimits } from "./src/worker/limits.ts";
export { StatsCollector } from "./src/stats/stats.ts";
export type { StatsBucket, StatsOptions, StatsReport } from "./src/stats/stats.ts";
export { checkExposure, startServer } from "./src/serve/server.ts";
export type { RunningServer, ServeOptions } from "./src/serve/server.ts";
export type { QueueFolder } from "./src/serve/api.ts";
export { parseListenAddress } from "./src/config/listen.ts";
export type { ListenAddress } from "./src/config/listen.ts";
export { findOnPath } from "./src/util/find_on_path.ts";
export {
  checkTool,
  MissingToolError,
  requireTools,
  type ToolCheck,
  UnusableToolError,
} from "./src/ops/tools.ts";
export {
  type DoctorOptions,
  type DoctorReport,
  formatDoctor,
  healthy,
  runDoctor,
} from "./src/ops/doctor.ts";
export type { Check, Level } from "./src/ops/check.ts";
export { type NotifyConfig, WEBHOOK_FORMATS, type WebhookFormat } from "./src/config/notify.ts";
export {
  type JobFailedEvent,
  jobFailedEvent,
  type NotifyEvent,
  type WorkerDoneEvent,
  workerDoneEvent,
} from "./src/notify/events.ts";
export { Notifier, withNotifications } from "./src/notify/notifier.ts";
export {
  checkQueueAccess,
  foldersWritableByOthers,
  prepareSharedDirs,
  QueueAccessError,
} from "./src/queue/access.ts";
export { checkPolicySnapshot } from "./src/policy/snapshot.ts";
export { displayName } from "./src/util/display_name.ts";
