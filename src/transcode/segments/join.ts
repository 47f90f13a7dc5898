/**
 * Joining finished segments without re-encoding, muxed with every other stream of the source
 * into the job's temp output. ffmpeg reads the list, and the segments it names by plain relative
 * names, through the segment directory vpo holds open (`/proc/<pid>/fd/<n>/list.ffconcat`), so a
 * directory put at its name by someone who may write the media folder is never read.
 *
 * @module
 */
import { dirname, join } from "node:path";
import { noSpaceReason, runFfmpeg } from "../../media/ffmpeg_runner.ts";
import { concatList, toSeconds } from "../../media/segments.ts";
import { writeFileAtomic } from "../../util/durable_fs.ts";
import type { HeldFolder } from "../../util/safe_open.ts";
import type { SegmentJournal } from "./journal.ts";
import type { SegmentRecord } from "./records.ts";
import { SegmentError } from "./segment_dir.ts";

const LIST = "list.ffconcat";

/** What the join needs besides the journal. */
export interface JoinOptions {
  /** The job's segment directory. */
  dir: string;
  /** The same directory, held open since the segments were opened: the join reads only it. */
  held: HeldFolder;
  /** The job's temp output, where the joined file is written. */
  output: string;
  logPath: string;
  signal: AbortSignal;
  cpuCores: number | null;
  cpuSet: readonly number[] | null;
  /** The mux arguments for the joined video (buildFfmpegArgs with `encodedVideo`). */
  muxArgs: (encodedVideo: { concatList: string; offsetSec: number }) => string[];
}

/**
 * Joins the finished segments (`records` holds every one) and muxes them with the source's other
 * streams. Returns the wall seconds all workers and runs spent on the segments and the join.
 */
export async function joinSegments(
  journal: SegmentJournal,
  records: ReadonlyMap<number, SegmentRecord>,
  opts: JoinOptions,
): Promise<number> {
  const done = journal.segments.map((s) => records.get(s.index)!);
  const first = done[0];
  const odd = done.findIndex((d) => d.codec !== first.codec || d.extradata !== first.extradata);
  if (odd >= 0) {
    throw new SegmentError(
      `segment ${odd + 1} was encoded with other codec headers than segment 1 (a different ` +
        `encoder build?); they cannot be joined; original kept`,
    );
  }
  const times = { timeBase: journal.time_base };
  const names = done.map((d) => d.file);
  const { held } = opts;
  await writeFileAtomic(
    held.reach(join(opts.dir, LIST)),
    concatList(times, journal.segments, names),
    {
      durable: false,
      rule: "folder",
    },
  ).catch((err) => {
    throw held.shown(err);
  });
  held.confirm();
  const offsetSec = toSeconds(times, journal.segments[0].start) - journal.file_start_sec;
  const started = performance.now();
  const run = await runFfmpeg({
    args: opts.muxArgs({ concatList: `${held.pathForChild}/${LIST}`, offsetSec }),
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
