/**
 * Fixed-width text columns measured by display width, so CJK and emoji file names line up in a
 * terminal instead of pushing the columns after them out of place.
 *
 * @module
 */
import stringWidth from "string-width";

const segmenter = new Intl.Segmenter();

/** Cuts `text` to at most `width` columns, ending in "…" when cut; never splits a grapheme. */
function truncateToWidth(text: string, width: number): string {
  // Control characters (a newline in a file name) would break the row; show them as "?".
  const clean = text.replace(/\p{Cc}/gu, "?");
  if (stringWidth(clean) <= width) return clean;
  let out = "";
  let used = 0;
  for (const { segment } of segmenter.segment(clean)) {
    const w = stringWidth(segment);
    if (used + w > width - 1) break;
    out += segment;
    used += w;
  }
  return out + "…";
}

/** Pads `text` with spaces to `width` display columns (after truncating it to fit). */
function padToWidth(text: string, width: number): string {
  const cut = truncateToWidth(text, width);
  return cut + " ".repeat(Math.max(0, width - stringWidth(cut)));
}

/** A column: its header and width; the last column of a row is not padded. */
export interface Column {
  header: string;
  width: number;
}

/** Formats one row: each cell padded to its column's width, columns separated by one space. */
export function formatRow(columns: readonly Column[], cells: readonly string[]): string {
  return cells
    .map((
      cell,
      i,
    ) => (i === cells.length - 1 ? truncateToWidth(cell, 64) : padToWidth(cell, columns[i].width)))
    .join(" ");
}
