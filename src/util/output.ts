/**
 * Writing to stdout and stderr. A command's answer (`jobs list`, `jobs status`) must reach its
 * reader or the command fails; a worker's reports (event lines, the progress bar, warnings) are
 * best-effort: a full log disk, a closed pipe or a vanished terminal must never change what
 * happens to a job.
 *
 * @module
 */

const encoder = new TextEncoder();

/** Writes all of `text` to `target`; throws what the write throws (ENOSPC, EPIPE, ...). */
export function writeAllSync(target: { writeSync(p: Uint8Array): number }, text: string): void {
  const bytes = encoder.encode(text);
  let written = 0;
  while (written < bytes.length) written += target.writeSync(bytes.subarray(written));
}

/**
 * Writes `text` to `target` if it can; a failed write is dropped (the rest of the text too).
 * Returns whether it was all written.
 */
export function writeBestEffort(
  target: { writeSync(p: Uint8Array): number },
  text: string,
): boolean {
  try {
    writeAllSync(target, text);
    return true;
  } catch {
    return false;
  }
}
