/**
 * The temporary files of a quality search or check: lossless sample cuts, encoded samples,
 * per-frame score logs. They are vpo's temps like the transcode's output: hidden, named
 * `.vpo-<id>.<token>.quality-<what>.partial` (so `vpo jobs cleanup --remove-temp` and
 * `vpo doctor` know them as vpo's, and a claim's files are told from an older claim's), created
 * exclusively without following a link (`O_EXCL`, 0600), handed to ffmpeg through
 * `/proc/<pid>/fd/<n>`, and removed only while their name still holds the inode vpo made.
 *
 * @module
 */
import { join } from "node:path";
import { OwnedFile, removeIfOwned } from "../util/owned_file.ts";

/** The part of a temp's name after the claim: what marks it as a quality temp. */
const MARK = "quality-";

/** Temps of one claim (or one forecast) in one directory; {@link removeAll} leaves none. */
export class QualityTemps {
  readonly #held = new Set<OwnedFile>();

  /** `dir` is where the temps go: the job's temp directory, or the source's own folder. */
  constructor(readonly dir: string, readonly claim: { id: string; token: string }) {}

  /** Makes the temp `<what>` (a short label: `sample-01.mkv`), exclusively. */
  async create(what: string): Promise<OwnedFile> {
    const name = `.vpo-${this.claim.id}.${this.claim.token}.${MARK}${what}.partial`;
    const file = await OwnedFile.create(join(this.dir, name));
    this.#held.add(file);
    return file;
  }

  /** Closes and removes one temp (only while its name still holds the file made). */
  async remove(file: OwnedFile): Promise<void> {
    this.#held.delete(file);
    file.close();
    await removeIfOwned(file.path, file.ino).catch(() => {});
  }

  /** Removes every temp still held. */
  async removeAll(): Promise<void> {
    for (const file of [...this.#held]) await this.remove(file);
  }

  /**
   * Removes the quality temps earlier claims of the same job left in `dir` (their worker was
   * killed): a claim is exclusive, so no other claim of this job is running. Only regular
   * files of vpo's own pattern for this job are touched.
   */
  async sweepEarlierClaims(): Promise<void> {
    const prefix = `.vpo-${this.claim.id}.`;
    const own = `.vpo-${this.claim.id}.${this.claim.token}.`;
    const pattern = new RegExp(`^\\.vpo-${this.claim.id}\\.[0-9a-f]{12}\\.${MARK}.*\\.partial$`);
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(this.dir)];
    } catch {
      return;
    }
    for (const entry of entries) {
      const name = entry.name;
      if (!entry.isFile || !name.startsWith(prefix) || name.startsWith(own)) continue;
      if (!pattern.test(name)) continue;
      const path = join(this.dir, name);
      const info = await Deno.lstat(path).catch(() => null);
      if (info?.isFile) await removeIfOwned(path, info.ino).catch(() => {});
    }
  }
}
