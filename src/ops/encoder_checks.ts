/**
 * Can this ffmpeg encode what the policies ask for? Each encoder is tried on a few generated
 * frames (a listing in `ffmpeg -encoders` proves nothing for hardware encoders, and little for
 * libraries missing at run time); the answer is cached per encoder for one doctor run.
 *
 * @module
 */
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { audioEncoder, detectEncoder, softwareEncoder, videoEncoder } from "../media/encoders.ts";
import { firstLine, runCaptured } from "../media/exec.ts";
import { loadPolicyFile } from "../policy/policy.ts";
import { QUALITY_METRICS } from "../policy/target_quality.ts";
import { metricProblem } from "../quality/compare.ts";
import type { TranscodePolicy } from "../policy/types.ts";
import { type Check, check } from "./check.ts";

/** The example policies shipped beside the code (absent in a compiled binary). */
export const EXAMPLES_DIR = fileURLToPath(new URL("../../examples/", import.meta.url));

const trials = new Map<string, Promise<string | null>>();

/** Null when `encoder` encodes a few frames here, else ffmpeg's first error line. */
function trialEncode(encoder: string, kind: "video" | "audio"): Promise<string | null> {
  let trial = trials.get(encoder);
  if (!trial) {
    const input = kind === "video"
      ? ["-f", "lavfi", "-i", "testsrc2=size=256x144:rate=25", "-frames:v", "5"]
      : ["-f", "lavfi", "-i", "sine=frequency=440:duration=0.2"];
    const codec = kind === "video" ? "-c:v" : "-c:a";
    trial = runCaptured("ffmpeg", [
      ...["-nostdin", "-hide_banner", "-v", "error", ...input, codec, encoder, "-f", "null", "-"],
    ]).then(
      (run) => run.code === 0 ? null : firstLine(run.stderr) || `exit code ${run.code}`,
      (err) => (err as Error).message,
    );
    trials.set(encoder, trial);
  }
  return trial;
}

/** The encoders a policy needs: its video codec's software encoder and its audio encoder. */
function encodersOf(policy: TranscodePolicy): { video: string; audio: string } {
  return {
    video: softwareEncoder(policy.targetVideoCodec),
    audio: audioEncoder(policy.audioTranscodeTo),
  };
}

/** The example policies in `dir`, sorted; null when there is no such directory. */
export function examplePolicies(dir = EXAMPLES_DIR): string[] | null {
  try {
    return [...Deno.readDirSync(dir)]
      .filter((e) => e.isFile && /\.ya?ml$/.test(e.name))
      .map((e) => join(dir, e.name))
      .sort();
  } catch {
    return null;
  }
}

/** One line per policy file: can its encoders run here? */
export async function checkPolicyEncoders(files: string[]): Promise<Check[]> {
  const out: Check[] = [];
  for (const file of files) {
    const label = `encoders for ${basename(file)}`;
    let policy: TranscodePolicy | null;
    try {
      policy = (await loadPolicyFile(file, { metricProblem })).transcode;
    } catch (err) {
      out.push(check("FAIL", label, (err as Error).message, "fix the policy file"));
      continue;
    }
    if (policy === null) {
      out.push(check("ok", label, "none needed (track keys only: a stream copy)"));
      continue;
    }
    const { video, audio } = encodersOf(policy);
    const [v, a] = await Promise.all([trialEncode(video, "video"), trialEncode(audio, "audio")]);
    const broken = [v && `${video}: ${v}`, a && `${audio}: ${a}`].filter(Boolean);
    out.push(
      broken.length === 0
        ? check("ok", label, `${video} and ${audio} encode (trial of a few frames)`)
        : check(
          "FAIL",
          label,
          broken.join("; "),
          `install an ffmpeg built with ${video} and ${audio} (Debian/Ubuntu: apt-get install ffmpeg)`,
        ),
    );
  }
  return out;
}

/** Which quality metrics a `target_quality` policy may name on this host. */
export async function checkQualityMetrics(): Promise<Check> {
  const problems = await Promise.all(QUALITY_METRICS.map(metricProblem));
  const usable = QUALITY_METRICS.filter((_, i) => problems[i] === null);
  const missing = problems.filter((p) => p !== null);
  const detail = `${usable.join(", ") || "none"} measurable` +
    (missing.length ? `; ${missing.join("; ")}` : "");
  // Only a policy naming a missing metric is a failure (its line above says so).
  return check(usable.includes("ssim") ? "ok" : "warn", "quality metrics", detail);
}

/** One line per hardware API: does a trial encode of HEVC (else H.264) work? */
export async function checkHardwareEncoders(devDir = "/dev"): Promise<Check[]> {
  const out: Check[] = [];
  for (const kind of ["vaapi", "qsv", "nvenc"] as const) {
    const tried: string[] = [];
    let works: string | null = null;
    for (const codec of ["hevc", "h264"] as const) {
      if (!videoEncoder(codec, kind)) continue;
      const choice = await detectEncoder(codec, kind, { devDir });
      if (choice.kind === kind) {
        works = choice.encoder;
        break;
      }
      tried.push(
        choice.note?.replace(/^hardware encoding unavailable \((.*)\); using .*$/, "$1") ?? "",
      );
    }
    out.push(
      works
        ? check("ok", `hardware ${kind}`, `${works} works (trial encode)`)
        : check("ok", `hardware ${kind}`, `not available: ${tried[0]}`),
    );
  }
  return out;
}
