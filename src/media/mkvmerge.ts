/**
 * Reading a Matroska file with `mkvmerge -J` (mkvtoolnix): the independent second reader of
 * Matroska outputs, and the only reader here of IETF language tags, which ffprobe 5.1 does not
 * show. mkvtoolnix is optional: callers find it on PATH and do without it.
 *
 * @module
 */
import { resolve } from "node:path";
import { runCaptured } from "./exec.ts";

/** The part of `mkvmerge -J` vpo reads. */
export interface MkvmergeIdentity {
  container?: { recognized?: boolean };
  errors?: string[];
  tracks?: MkvmergeTrack[];
  attachments?: unknown[];
}

/** One track of `mkvmerge -J`, in the file's order. */
export interface MkvmergeTrack {
  /** "video", "audio" or "subtitles". */
  type?: string;
  properties?: MkvmergeProperties;
}

/** The track properties of `mkvmerge -J` vpo reads. */
export interface MkvmergeProperties {
  /** The ISO 639-2 code (Matroska's Language element). */
  language?: string;
  /** The IETF (BCP 47) tag (LanguageIETF), when the file has one. */
  language_ietf?: string;
  default_track?: boolean;
  forced_track?: boolean;
  flag_hearing_impaired?: boolean;
  flag_visual_impaired?: boolean;
  flag_commentary?: boolean;
  track_name?: string;
}

/**
 * `mkvmerge -J` of `path` with the program `mkvmerge`, or why it gave none (one line: "printed no
 * identification (exit 2)", "does not recognise the file: ...").
 */
export async function identify(
  mkvmerge: string,
  path: string,
  signal?: AbortSignal,
): Promise<MkvmergeIdentity | string> {
  // An absolute path: mkvmerge would read a name starting with "-" as an option.
  const run = await runCaptured(mkvmerge, ["-J", resolve(path)], signal);
  let identity: MkvmergeIdentity;
  try {
    identity = JSON.parse(run.stdout);
  } catch {
    return `printed no identification (exit ${run.code})`;
  }
  if (!identity.container?.recognized) {
    return `does not recognise the file${identity.errors?.length ? `: ${identity.errors[0]}` : ""}`;
  }
  return identity;
}
