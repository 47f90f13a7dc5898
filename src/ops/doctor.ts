/**
 * `vpo doctor`: every check of this machine and queue, in the order a person fixes them: tools,
 * encoders, directories, config, the queue's state, clock, workers.
 *
 * @module
 */
import { basename, dirname } from "node:path";
import { QueueLayout } from "../queue/layout.ts";
import { defaultConfig, loadConfig } from "../config/config.ts";
import type { Config } from "../config/types.ts";
import type { VpoHome } from "../queue/layout.ts";
import { JobQueue } from "../queue/store.ts";
import type { JobTypes } from "../queue/job_type.ts";
import { formatBytes, plural } from "../util/format.ts";
import { type Check, check } from "./check.ts";
import {
  checkHardwareEncoders,
  checkPolicyEncoders,
  checkQualityMetrics,
  examplePolicies,
  EXAMPLES_DIR,
} from "./encoder_checks.ts";
import { checkDirectory, freeBytes } from "./fs_checks.ts";
import {
  checkClock,
  checkDuplicateJobs,
  checkOrphanTemps,
  checkStaleJobs,
  checkWorkers,
} from "./queue_checks.ts";
import { checkTool, INSTALL_HINT, MEDIA_TOOLS, MKVTOOLNIX_HINT, OPTIONAL_TOOLS } from "./tools.ts";

/** What `vpo doctor` found. */
export interface DoctorReport {
  checks: Check[];
  /** This host's clock minus the queue file system's, in seconds; null when not measured. */
  clockSkewSec: number | null;
}

/** Options of {@link runDoctor}. */
export interface DoctorOptions {
  home: VpoHome;
  /** The job types whose queued jobs' needs (free space) are checked. */
  types: JobTypes;
  /** Policy files whose encoders are tried, besides the checkout's examples/. */
  policies?: string[];
  /** Device directory for hardware trials; default /dev. */
  devDir?: string;
}

/** Runs every check. Never throws for what it finds: each finding is a line. */
export async function runDoctor(opts: DoctorOptions): Promise<DoctorReport> {
  const { home } = opts;
  const checks: Check[] = [];
  let ffmpegFound = true;
  for (const name of MEDIA_TOOLS) {
    const found = await checkTool(name);
    if (found.kind !== "ok") ffmpegFound = false;
    checks.push(
      found.kind === "ok"
        ? check("ok", name, `${found.version} (${found.path})`)
        : found.kind === "unusable"
        ? check(
          "FAIL",
          name,
          found.problem,
          "fix its permissions, or put a working one first on PATH",
        )
        : check("FAIL", name, "not found on PATH", INSTALL_HINT),
    );
  }
  for (const tool of OPTIONAL_TOOLS) checks.push(await checkOptionalTool(tool));
  if (ffmpegFound) {
    const examples = examplePolicies();
    if (examples === null) {
      checks.push(
        check(
          "ok",
          "policy encoders",
          `no example policies at ${EXAMPLES_DIR} (a compiled binary has none); name yours with --policy`,
        ),
      );
    }
    checks.push(...await checkPolicyEncoders([...examples ?? [], ...opts.policies ?? []]));
    checks.push(...await checkHardwareEncoders(opts.devDir));
    checks.push(await checkQualityMetrics());
  }

  let config: Config = defaultConfig();
  try {
    config = await loadConfig(home.configPath);
    const exists = await Deno.stat(home.configPath).then(() => true, () => false);
    checks.push(
      check(
        "ok",
        "config",
        exists ? `${home.configPath} is valid` : `no ${home.configPath}: defaults apply`,
      ),
    );
  } catch (err) {
    checks.push(
      check(
        "FAIL",
        "config",
        (err as Error).message,
        "fix the file (docs/configuration.md lists every key); this report uses the defaults",
      ),
    );
  }

  checks.push(
    ...await checkDirectory(home.root, { label: "vpo home", createdOnUse: true, private: true }),
  );
  const queueExists = await Deno.stat(home.jobsDir).then((i) => i.isDirectory, () => false);
  checks.push(
    ...await checkDirectory(home.jobsDir, { label: "queue", createdOnUse: true, semantics: true }),
  );

  let clockSkewSec: number | null = null;
  let queue: JobQueue | null = null;
  if (queueExists) {
    checks.push(await checkQueueDirs(home.jobsDir));
    try {
      queue = await JobQueue.open(home.jobsDir);
    } catch (err) {
      checks.push(
        check(
          "FAIL",
          "queue",
          `cannot open ${home.jobsDir}: ${(err as Error).message}`,
          "check its permissions",
        ),
      );
    }
  }
  checks.push(...await checkTempSpace(queue, config, opts.types));
  if (queue) {
    checks.push(await checkStaleJobs(home.jobsDir, config.worker.staleAfter));
    checks.push(checkDuplicateJobs(home.jobsDir));
    checks.push(checkOrphanTemps(queue, config.jobs.tempDirectory));
    const clock = await checkClock(home.jobsDir);
    clockSkewSec = clock.skewSec;
    checks.push(clock.check);
    checks.push(await checkWorkers(queue));
  } else if (!queueExists) {
    checks.push(check("ok", "queue state", "no queue yet: nothing queued"));
  }
  return { checks, clockSkewSec };
}

/** An optional program: what it does when found, what is lost (a warning) when it is not. */
async function checkOptionalTool(tool: (typeof OPTIONAL_TOOLS)[number]): Promise<Check> {
  const found = await checkTool(tool.name, ["--version"]);
  if (found.kind === "ok") {
    return check("ok", tool.name, `${found.version} (${found.path}): ${tool.role}`);
  }
  const why = found.kind === "missing" ? "not found on PATH" : found.problem;
  return check("warn", tool.name, `${why}: ${tool.without}`, MKVTOOLNIX_HINT);
}

/** The state and helper directories of the queue: each must be a directory (not a file). */
async function checkQueueDirs(jobsDir: string): Promise<Check> {
  const dirs = new QueueLayout(jobsDir).allDirs();
  const missing: string[] = [];
  const wrong: string[] = [];
  for (const dir of dirs) {
    const info = await Deno.lstat(dir).catch(() => null);
    if (!info) missing.push(basename(dir));
    else if (!info.isDirectory) wrong.push(basename(dir));
  }
  if (wrong.length > 0) {
    return check(
      "FAIL",
      "queue directories",
      `not directories: ${wrong.join(", ")} in ${jobsDir}`,
      "move those files away; vpo recreates the directories",
    );
  }
  if (missing.length > 0) {
    return check(
      "ok",
      "queue directories",
      `${missing.join(", ")} missing; created at the next command (now)`,
    );
  }
  return check(
    "ok",
    "queue directories",
    `all ${dirs.length} present (${dirs.map((d) => basename(d)).join(" ")})`,
  );
}

/**
 * Where temp outputs go and whether there is room: `jobs.temp_directory` with every directory
 * check, or (the default) each queued source's own folder against the most any job queued for
 * it needs, as its job type says ({@link JobType.spaceNeeded}).
 */
async function checkTempSpace(
  queue: JobQueue | null,
  config: Config,
  types: JobTypes,
): Promise<Check[]> {
  const sizes = new Map<string, number>(); // source folder -> largest need of a job queued there
  for (const job of queue?.list({ status: "queued" }).jobs ?? []) {
    const need = types.of(job)?.spaceNeeded(job) ?? null;
    if (need === null || !job.file) continue;
    const dir = dirname(job.file);
    sizes.set(dir, Math.max(sizes.get(dir) ?? 0, need));
  }
  const largest = Math.max(0, ...sizes.values());
  const temp = config.jobs.tempDirectory;
  if (temp) {
    return await checkDirectory(temp, {
      label: "temp directory",
      semantics: true,
      needFree: largest > 0 ? { bytes: largest, why: "the largest queued source" } : undefined,
    });
  }
  const short: string[] = [];
  for (const [dir, size] of sizes) {
    let free: number;
    try {
      free = freeBytes(dir);
    } catch {
      continue; // a folder that is gone fails its job with its own reason
    }
    if (free < size) short.push(`${dir} (${formatBytes(free)} free, needs ${formatBytes(size)})`);
  }
  if (short.length > 0) {
    return [
      check(
        "FAIL",
        "temp space",
        `outputs are written beside their sources; no room in ${short.slice(0, 3).join(", ")}`,
        "free space there, or set jobs.temp_directory to a bigger disk",
      ),
    ];
  }
  return [
    check(
      "ok",
      "temp space",
      sizes.size === 0
        ? "outputs are written beside their sources (jobs.temp_directory: null); nothing queued"
        : `outputs are written beside their sources; each of ${
          plural(sizes.size, "source folder")
        } has room for its largest queued source (largest ${formatBytes(largest)})`,
    ),
  ];
}

/** The report as text: one line per check, then the counts. */
export function formatDoctor(report: DoctorReport): string {
  const lines = report.checks.map((c) =>
    `${c.level.padEnd(4)}  ${c.name}: ${c.detail}${c.fix ? ` -> ${c.fix}` : ""}`
  );
  const n = (level: string) => report.checks.filter((c) => c.level === level).length;
  lines.push(`${n("ok")} ok, ${n("warn")} warn, ${n("FAIL")} FAIL`);
  return lines.join("\n");
}

/** True when no check failed (the exit code is 0). */
export const healthy = (report: DoctorReport): boolean =>
  report.checks.every((c) => c.level !== "FAIL");
