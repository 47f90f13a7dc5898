/**
 * Steps 5 and 6 of a transcode run: the output is verified, then replaces the original through
 * the replace journal (`src/replace/`), or is dropped when it is not smaller.
 *
 * @module
 */
import { JobFailure } from "../errors.ts";
import type { EncodePlan } from "../media/plan.ts";
import type { MediaInfo } from "../media/probe.ts";
import { keepLanguageTags, matroskaTrackSources } from "../media/language_tags.ts";
import { decodeCheck, verifyOutput } from "../media/verify.ts";
import { replacedFiles } from "../replace/backups.ts";
import { swapIn } from "../replace/swap.ts";
import type { TrackPlan } from "../tracks/plan.ts";
import { checkTracks } from "../tracks/verify.ts";
import { formatBytes } from "../util/format.ts";
import { type OwnedFile, removeIfOwned } from "../util/owned_file.ts";
import type { EncodeFigures, QualityFigures, TranscodeResult } from "./result.ts";
import type { Target, TranscodeRun } from "./run_context.ts";

/**
 * Step 5: the output is still the file ffmpeg wrote, gets back the IETF language tags ffmpeg
 * dropped, and is what the plan asked for: the encode and, when the pass carried out a track
 * plan, its tracks (and, with `--verify-decode`, it decodes whole). Returns its probe and the
 * notes for the job's result (tags that could not be kept).
 */
export async function verify(
  run: TranscodeRun,
  media: MediaInfo,
  { plan, tracks }: { plan: EncodePlan; tracks: TrackPlan | null },
  out: OwnedFile,
  logTail: string[],
): Promise<{ info: MediaInfo; notes: string[] }> {
  const signal = run.ctx.signal;
  if (!await out.stillAtPath()) {
    throw new JobFailure(`the temp output ${out.path} was replaced by another file; original kept`);
  }
  const output = { path: out.pathForChild, format: plan.format };
  const sources = matroskaTrackSources(plan.streams);
  const tags = await keepLanguageTags(media, output, sources, { signal });
  const verdict = await verifyOutput(media, out.pathForChild, plan, { signal });
  // A broken output is told as such, not as the tags mkvpropedit could not write into it.
  if (!verdict.ok) {
    throw new JobFailure(`output rejected, original kept: ${verdict.reason}`, logTail);
  }
  if (!tags.ok) throw new JobFailure(`output rejected, original kept: ${tags.reason}`, logTail);
  const labelled = tracks && await checkTracks(tracks, out.pathForChild, verdict.info, { signal });
  if (labelled && !labelled.ok) {
    throw new JobFailure(`output rejected, original kept: ${labelled.reason}`, logTail);
  }
  if (run.env.fullDecodeCheck) {
    const decoded = await decodeCheck(out.pathForChild, { signal });
    if (!decoded.ok) {
      throw new JobFailure(`output rejected, original kept: ${decoded.reason}`, logTail);
    }
  }
  return { info: verdict.info, notes: tags.note === null ? [] : [tags.note] };
}

/**
 * Step 6: the verified output replaces the original through the journal (the original kept as
 * its backup), unless it is not smaller and the policy keeps the original then. `outputNotes`
 * (what the output could not keep) go into the result only when it replaces the original;
 * `extra` goes in as it is (a quality target's figures).
 */
export async function replaceOrKeep(
  run: TranscodeRun,
  plan: EncodePlan,
  target: Target,
  out: OwnedFile,
  figures: EncodeFigures,
  wallSec: number,
  outputNotes: readonly string[],
  extra: { quality?: QualityFigures } = {},
): Promise<TranscodeResult> {
  const { claimed, source, payload, journal } = run;
  const { source_size: sourceSize, output_size: outputSize } = figures;
  if (outputSize >= sourceSize && !payload.policy.keepLargerOutput) {
    const detail = `kept the original: output ${formatBytes(outputSize)} is not smaller than ` +
      `source ${formatBytes(sourceSize)}`;
    await removeIfOwned(target.temp, out.ino);
    return {
      outcome: "kept_original",
      outcome_detail: detail,
      ...figures,
      notes: plan.notes,
      ...extra,
    };
  }
  const steps = await swapIn({
    source,
    fingerprint: payload.fingerprint,
    journal,
    out,
    backupOriginal: run.env.config.jobs.backupOriginal,
    fence: () => claimed.heartbeat(),
    signal: run.ctx.signal,
    during: "while it was being encoded",
  });
  const saved = sourceSize - outputSize;
  const detail = `${formatBytes(sourceSize)} -> ${formatBytes(outputSize)} ` +
    `(saved ${formatBytes(saved)}) in ${Math.round(wallSec)} s${qualityNote(extra.quality)}`;
  return {
    outcome: "replaced",
    outcome_detail: detail,
    ...figures,
    saved_bytes: saved,
    ...replacedFiles(steps, payload.fingerprint),
    notes: [...plan.notes, ...outputNotes],
    ...extra,
  };
}

/** ", crf 28, ssim 0.9512 (search 16 s)": what a quality target's encode reached. */
function qualityNote(q: QualityFigures | undefined): string {
  if (!q || q.achieved_score === null) return "";
  return `, crf ${q.crf}, ${q.metric} ${q.achieved_score} (search ${Math.round(q.search_sec)} s)`;
}
