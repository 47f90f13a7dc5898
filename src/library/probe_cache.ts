/**
 * ffprobe results keyed by the file's stamp (path, size, mtime), so a new policy over an
 * unchanged library is decided without running ffprobe again. JSON lines under
 * `$VPO_HOME/library/probes/`; loaded only when a decision is not remembered.
 *
 * @module
 */
import type { MediaInfo } from "../media/probe.ts";
import { checkMediaInfo } from "../media/probe_check.ts";
import { type FileStamp, newestPerPath, stampKey } from "./decisions.ts";
import { KeyedMemory, type LogEntry, type Warn } from "./line_log.ts";

/** One cached probe. */
interface ProbeEntry extends FileStamp, LogEntry {
  probe: MediaInfo;
}

/** A cache line as an entry, or null when it is not one (a torn write, a hand edit). */
function validProbe(value: unknown): ProbeEntry | null {
  const e = value as Partial<ProbeEntry>;
  if (
    !e || typeof e.path !== "string" || typeof e.size !== "number" ||
    typeof e.mtime_ms !== "number" || typeof e.at !== "number"
  ) return null;
  try {
    return { ...e, probe: checkMediaInfo(e.probe, "probe") } as ProbeEntry;
  } catch {
    return null;
  }
}

/** The probe cache of one vpo home. */
export class ProbeCache {
  readonly #memory: KeyedMemory<ProbeEntry>;

  constructor(dir: string, warn: Warn) {
    this.#memory = new KeyedMemory(dir, validProbe, stampKey, {
      name: "probe cache",
      warn,
      // Compaction keeps only each path's newest version.
      select: (newest) => newestPerPath(newest.values()).values(),
    });
  }

  /** The probe of this version of the file, if cached (its `path` is the stamp's). */
  lookup(stamp: FileStamp): MediaInfo | undefined {
    const hit = this.#memory.get(stampKey(stamp));
    return hit ? { ...hit.probe, path: stamp.path } : undefined;
  }

  /** Caches a probe of the file version `stamp` (`contentEnd` is per-run and left out). */
  record(stamp: FileStamp, info: MediaInfo): void {
    const { contentEnd: _, ...probe } = info;
    this.#memory.add({ ...stamp, at: Date.now(), probe: { ...probe, path: stamp.path } });
  }

  /** Writes what is pending; `compact` folds piled-up or damaged files. */
  close(options: { compact?: boolean } = {}): void {
    this.#memory.close(options);
  }
}
