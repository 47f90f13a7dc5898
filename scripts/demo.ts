/**
 * `deno task demo`: a tour of vpo on sample clips made with ffmpeg, in a temp directory with a
 * temp VPO_HOME. Queues the clips under examples/hevc.yaml, runs the worker, prints the job list
 * and the space saved. `--keep` leaves the directory for a look around.
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { main } from "../src/cli/main.ts";
import { JobQueue } from "../src/queue/store.ts";
import { formatBytes } from "../src/util/format.ts";
import { MissingToolError, requireTools } from "../src/ops/tools.ts";

try {
  requireTools();
} catch (err) {
  if (!(err instanceof MissingToolError)) throw err;
  console.error(`vpo: ${err.message}`);
  Deno.exit(1);
}

const keep = Deno.args.includes("--keep");
const root = await Deno.makeTempDir({ prefix: "vpo-demo-" });
const videos = join(root, "videos");
await Deno.mkdir(videos);
Deno.env.set("VPO_HOME", join(root, "home"));
const policy = fileURLToPath(new URL("../examples/hevc.yaml", import.meta.url));

async function ffmpeg(args: string[]): Promise<void> {
  const out = await new Deno.Command("ffmpeg", {
    args: ["-nostdin", "-v", "error", "-y", ...args],
    stdin: "null",
  }).output();
  if (!out.success) throw new Error(`ffmpeg failed: ${new TextDecoder().decode(out.stderr)}`);
  // Dated an hour back, as a library's files are: vpo transcode leaves a file modified within
  // library.settle_seconds alone (it may still be being copied).
  const then = new Date(Date.now() - 3600_000);
  await Deno.utime(args.at(-1)!, then, then);
}

const testsrc = (size: string, seconds: number) => [
  ...["-f", "lavfi", "-i", `testsrc2=size=${size}:rate=25:duration=${seconds}`],
];
const tone = (hz: number, seconds: number) => [
  ...["-f", "lavfi", "-i", `sine=frequency=${hz}:duration=${seconds}`],
];

console.log(`Making sample clips in ${videos} ...`);
await Deno.writeTextFile(
  join(root, "subs.srt"),
  "1\n00:00:00,000 --> 00:00:04,000\nHello from vpo\n",
);
await ffmpeg([
  ...testsrc("1280x720", 8),
  ...tone(440, 8),
  ...tone(660, 8),
  ...["-i", join(root, "subs.srt")],
  ...["-map", "0", "-map", "1", "-map", "2", "-map", "3"],
  ...["-c:v", "libx264", "-preset", "ultrafast", "-crf", "16", "-c:a", "aac", "-c:s", "srt"],
  ...["-metadata:s:a:0", "language=eng", "-metadata:s:a:1", "language=fra"],
  join(videos, "Holiday 2023 (two audio tracks, subtitles).mkv"),
]);
await ffmpeg([
  ...testsrc("640x360", 6),
  ...tone(330, 6),
  ...["-c:v", "libx264", "-preset", "ultrafast", "-crf", "14", "-c:a", "aac"],
  join(videos, "花火大会.mp4"),
]);
await ffmpeg([
  ...testsrc("640x360", 4),
  ...["-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=error"],
  join(videos, "already-hevc.mkv"),
]);

const vpo = async (...args: string[]) => {
  console.log(`\n$ vpo ${args.join(" ")}`);
  const code = await main(args);
  if (code !== 0) console.log(`(exit code ${code})`);
};

try {
  await vpo("transcode", "--policy", policy, videos);
  await vpo("jobs", "start");
  await vpo("jobs", "list");
  await vpo("jobs", "status");
  const queue = await JobQueue.open(join(root, "home", "jobs"));
  const done = queue.list({ status: "completed" }).jobs;
  const saved = done.reduce((sum, j) => sum + Number(j.result?.saved_bytes ?? 0), 0);
  const before = done.reduce((sum, j) => sum + Number(j.result?.source_size ?? 0), 0);
  console.log(
    `\nSpace saved: ${formatBytes(saved)} of ${formatBytes(before)} ` +
      `(${before ? Math.round((saved / before) * 100) : 0}%) on ${done.length} files`,
  );
  const originals = [...Deno.readDirSync(videos)].map((e) => e.name)
    .filter((name) => name.endsWith(".original")).sort();
  console.log(`Originals were kept as <name>.original:`);
  for (const name of originals) console.log(`  ${name}`);
  if (originals.length === 0) console.log("  (none: no file was replaced)");
} finally {
  if (keep) console.log(`\nLeft everything in ${root} (VPO_HOME=${join(root, "home")})`);
  else await Deno.remove(root, { recursive: true });
}
