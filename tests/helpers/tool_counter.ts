/**
 * Wrappers named ffprobe and ffmpeg, first on PATH, that log each start to a file and then run
 * the real tool, so that "nothing was probed" or "one ffmpeg run" is a number, not a guess.
 *
 * ```text
 * const tools = await ToolCounter.create(dir);
 * await home.run(["jobs", "start"], { env: tools.env });
 * assert.deepEqual(await tools.take(), { ffprobe: 1, ffmpeg: 1 });
 * ```
 *
 * @module
 */
import { join } from "node:path";

/** Options of {@link ToolCounter.create}. */
export interface ToolCounterOptions {
  /** Arguments put before the ones ffmpeg is given (`["-re"]` slows a copy to real time). */
  ffmpegPrefix?: string[];
}

/** Counting wrappers of ffprobe and ffmpeg in a directory of their own. */
export class ToolCounter {
  private constructor(readonly bin: string, readonly log: string) {}

  static async create(dir: string, opts: ToolCounterOptions = {}): Promise<ToolCounter> {
    const bin = join(dir, "counting-bin");
    await Deno.mkdir(bin);
    const counter = new ToolCounter(bin, join(dir, "tool-starts.log"));
    for (const tool of ["ffprobe", "ffmpeg"]) {
      const real = await which(tool);
      const prefix = tool === "ffmpeg" ? (opts.ffmpegPrefix ?? []).join(" ") : "";
      const script = join(bin, tool);
      await Deno.writeTextFile(
        script,
        `#!/bin/sh\necho ${tool} >> '${counter.log}'\nexec '${real}' ${prefix} "$@"\n`,
      );
      await Deno.chmod(script, 0o755);
    }
    return counter;
  }

  /** The environment that puts the wrappers first on PATH. */
  get env(): Record<string, string> {
    return { PATH: `${this.bin}:${Deno.env.get("PATH")}` };
  }

  /** Starts of each tool since the last call. */
  async take(): Promise<{ ffprobe: number; ffmpeg: number }> {
    let text = "";
    try {
      text = await Deno.readTextFile(this.log);
      await Deno.remove(this.log);
    } catch {
      // Nothing started.
    }
    const lines = text.split("\n");
    return {
      ffprobe: lines.filter((l) => l === "ffprobe").length,
      ffmpeg: lines.filter((l) => l === "ffmpeg").length,
    };
  }
}

async function which(tool: string): Promise<string> {
  const out = await new Deno.Command("sh", { args: ["-c", `command -v ${tool}`] }).output();
  return new TextDecoder().decode(out.stdout).trim();
}
