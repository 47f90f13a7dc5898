/**
 * The library section of `deno task bench`: `vpo transcode -r` over a library of copies of one
 * small clip, first with nothing remembered (every file probed) and then again unchanged (every
 * decision remembered), as a ratio measured in one run. The clip is already HEVC, so every file
 * is decided ("compliant") and nothing is queued: the figures are those of deciding.
 *
 * @module
 */
import { join } from "node:path";
import { CLI } from "./bench_transcode.ts";
import { CLI_PERMISSIONS } from "./permissions.ts";

/** One measured row of the library section. */
export interface LibraryRow {
  name: string;
  value: string;
  note: string;
}

async function run(cmd: string, args: string[], env: Record<string, string> = {}) {
  const out = await new Deno.Command(cmd, { args, env, stdin: "null", stdout: "piped" }).output();
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) throw new Error(`${cmd} ${args.join(" ")} failed:\n${text}`);
  return text;
}

/** `count` copies of one 1-s HEVC clip, 100 to a folder, dated an hour ago (settled). */
async function makeLibrary(dir: string, count: number): Promise<void> {
  const clip = join(dir, "clip.mkv");
  await Deno.mkdir(dir, { recursive: true });
  await run("ffmpeg", [
    ...["-nostdin", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=160x90:rate=10:duration=1"],
    ...["-c:v", "libx265", "-x265-params", "log-level=error", clip],
  ]);
  const bytes = await Deno.readFile(clip);
  const then = new Date(Date.now() - 3600_000);
  for (let i = 0; i < count; i++) {
    const folder = join(dir, "lib", `season-${String(Math.floor(i / 100)).padStart(3, "0")}`);
    if (i % 100 === 0) await Deno.mkdir(folder, { recursive: true });
    const path = join(folder, `episode-${String(i % 100).padStart(2, "0")}.mkv`);
    await Deno.writeFile(path, bytes);
    await Deno.utime(path, then, then);
  }
  await Deno.remove(clip);
}

/** Runs the section; `quick` uses 1,000 files instead of 10,000. */
export async function benchLibrary(quick: boolean): Promise<LibraryRow[]> {
  const count = quick ? 1000 : 10_000;
  const root = await Deno.makeTempDir({ prefix: "vpo-bench-lib-" });
  try {
    await makeLibrary(root, count);
    const env = { VPO_HOME: join(root, "home") };
    const scan = async () => {
      const start = performance.now();
      const out = await run(Deno.execPath(), [
        ...["run", ...CLI_PERMISSIONS, CLI, "transcode", "-r", join(root, "lib")],
      ], env);
      return { sec: (performance.now() - start) / 1000, summary: out.trim().split("\n").at(-1)! };
    };
    const first = await scan();
    const again = await scan();
    const third = await scan();
    const rescan = Math.min(again.sec, third.sec);
    return [
      {
        name: `first scan of ${count} files (ffprobe each)`,
        value: `${first.sec.toFixed(1)} s`,
        note: first.summary.split(",").slice(0, 3).join(","),
      },
      {
        name: `rescan of ${count} unchanged files`,
        value: `${rescan.toFixed(2)} s`,
        note: `${(rescan / first.sec).toFixed(3)} x first scan; ${
          again.summary.split(",").slice(0, 2).join(",")
        }`,
      },
    ];
  } finally {
    await Deno.remove(root, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) {
  for (const r of await benchLibrary(Deno.args.includes("--quick"))) {
    console.log(`${r.name.padEnd(44)} ${r.value.padStart(10)}  ${r.note}`);
  }
}
