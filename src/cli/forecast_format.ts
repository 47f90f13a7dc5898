/**
 * What `vpo forecast` prints for people (`--json` prints the report itself).
 *
 * @module
 */
import type { ForecastReport, Projected } from "../transcode/forecast.ts";
import { displayName } from "../util/display_name.ts";
import { formatBytes, formatDuration } from "../util/format.ts";
import { type Column, formatRow } from "./text_table.ts";

const range = (p: Projected, show: (n: number) => string) =>
  `${show(p.value)} (${show(p.low)}-${show(p.high)})`;
const hours = (h: number) => h < 10 ? h.toFixed(1) : String(Math.round(h));

/** The forecast for people: the totals, the searched files, then the folders by bytes per hour. */
export function formatForecast(r: ForecastReport): string {
  const lines = [
    `${r.videos} videos: ${r.toConvert} to convert (${formatBytes(r.total.bytes)}, ` +
    `${
      formatDuration(r.total.mediaSec)
    } of media), ${r.skipped} skipped, ${r.unreadable} unreadable`,
  ];
  for (const f of r.searched) {
    const what = f.crf === null
      ? `keeps the original: ${f.reason}`
      : `crf ${f.crf}, score ${f.score}, saves ${Math.round((f.savedBytes / f.size) * 100)} %`;
    lines.push(`  ${displayName(f.path)}: ${what} (${f.probes} CRFs tried, ${f.encodes} encodes)`);
  }
  lines.push(
    `searched ${r.searched.length} files in ${formatDuration(r.searchSec)}`,
    `saved     ${range(r.total.savedBytes, formatBytes)} of ${formatBytes(r.total.bytes)}`,
    `encoding  ${range(r.total.encodeHours, hours)} h on this host, searches included`,
  );
  const columns: Column[] = [
    { header: "FOLDER", width: 36 },
    { header: "FILES", width: 6 },
    { header: "SIZE", width: 10 },
    { header: "SAVED", width: 34 },
    { header: "HOURS", width: 18 },
    { header: "GB/H", width: 7 },
    { header: "CRF", width: 8 },
  ];
  lines.push(formatRow(columns, columns.map((c) => c.header)));
  for (const f of r.folders) {
    lines.push(formatRow(columns, [
      displayName(f.folder),
      String(f.files),
      formatBytes(f.bytes),
      range(f.savedBytes, formatBytes),
      range(f.encodeHours, hours),
      (f.bytesPerHour / 1e9).toFixed(1),
      f.crfs.length ? [...new Set([f.crfs[0], f.crfs.at(-1)!])].join("-") : "-",
    ]));
  }
  lines.push("nothing was queued; the samples' scores are remembered for the real run");
  return lines.join("\n");
}
