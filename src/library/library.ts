/**
 * The library kept under `$VPO_HOME/library/`: the memory of decisions, the probe cache and the
 * marks of queued files. See docs/library.md for the format and the reasons behind it.
 *
 * @module
 */
import type { LibraryLayout, VpoHome } from "../queue/layout.ts";
import { DecisionMemory, type Warn } from "./decisions.ts";
import { ProbeCache } from "./probe_cache.ts";

/** The three parts of one home's library. */
export class Library {
  /** What was decided about each file version under each policy. */
  readonly decisions: DecisionMemory;
  /** ffprobe results per file version. */
  readonly probes: ProbeCache;

  constructor(readonly layout: LibraryLayout, warn: Warn) {
    this.decisions = new DecisionMemory(layout.decisionsDir, warn);
    this.probes = new ProbeCache(layout.probesDir, warn);
  }

  /** The library of `home`; `warn` gets at most one line per damaged part. */
  static of(home: VpoHome, warn: Warn): Library {
    return new Library(home.library, warn);
  }

  /** Writes what is pending; `compact` folds piled-up files (a scan does, a worker does not). */
  close(options: { compact?: boolean } = {}): void {
    this.decisions.close(options);
    this.probes.close(options);
  }
}
