/**
 * `$VPO_HOME/config.yaml`: worker and job settings. Every key is optional; a missing file means
 * all defaults. Command-line flags override what this file says.
 *
 * @module
 */
import { dirname, isAbsolute, join } from "node:path";
import {
  boolean,
  integer,
  list,
  nullable,
  number,
  parsed,
  parseYaml,
  readYamlFileInfo,
  section,
} from "./yaml_schema.ts";
import { ConfigError } from "../errors.ts";
import type { FileRead } from "../util/safe_open.ts";
import { lookUpGroup } from "../util/groups.ts";
import type { Config } from "./types.ts";
import { CONFIG_LIMITS, defaultConfig, parseTimeOfDay, parseWorkers } from "./defaults.ts";
import { parseListenAddress } from "./listen.ts";
import { NOTIFY_SPEC, readNotify } from "./notify.ts";

export { CONFIG_LIMITS, defaultConfig, parseTimeOfDay, parseWorkers };

// A relative path would depend on the current directory of the worker (cron, systemd) or server,
// so only absolute paths and ~ are accepted.
function directoryPath(value: string | number): string {
  const raw = String(value).trim();
  let path = raw;
  if (raw === "~" || raw.startsWith("~/")) {
    const home = Deno.env.get("HOME");
    if (!home) throw new Error(`cannot expand "${raw}": HOME is not set`);
    path = join(home, raw.slice(1));
  }
  if (!isAbsolute(path)) {
    throw new Error(`"${raw}" is not an absolute path (write /path/to/dir or ~/dir)`);
  }
  return path;
}

const L = CONFIG_LIMITS;
const SPEC = {
  jobs: section({
    retention_days: integer({ min: 0, max: L.retentionDays }),
    auto_purge: boolean(),
    temp_directory: nullable(parsed("a directory path", directoryPath)),
    backup_original: boolean(),
    segment_length: nullable(integer({ min: 0, max: L.segmentLengthSec })),
    shared_group: nullable(parsed("a group name", lookUpGroup)),
  }),
  worker: section({
    max_files: nullable(integer({ min: 1, max: L.maxFiles })),
    max_duration: nullable(integer({ min: 1, max: L.maxDurationSec })),
    end_by: nullable(parsed(`a time "HH:MM"`, parseTimeOfDay)),
    cpu_cores: nullable(integer({ min: 1, max: L.cpuCores })),
    workers: parsed(`a number of workers or "auto"`, parseWorkers),
    prefer_segments: boolean(),
    heartbeat_interval: number(0, L.heartbeatIntervalSec),
    stale_after: number(0, L.staleAfterSec),
  }),
  serve: section({
    listen: parsed("an address HOST:PORT", (v) => {
      parseListenAddress(v);
      return String(v).trim();
    }),
    token_file: nullable(parsed("a file path", directoryPath)),
    policies: list(parsed("a policy file path", directoryPath)),
    folders: list(parsed("a folder path", directoryPath)),
  }),
  notify: section(NOTIFY_SPEC),
  library: section({
    settle_seconds: integer({ min: 0, max: L.settleSeconds }),
  }),
};

/**
 * Validates config.yaml text (`path` is only used in messages) and merges it over the defaults.
 * Throws a {@link ConfigError} `<path>:<line>:<col>: <key>: <problem>` for the first problem.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const config = parseConfig("worker:\n  cpu_cores: 2\n", "config.yaml");
 * assert.equal(config.worker.cpuCores, 2);
 * assert.throws(() => parseConfig("worker:\n  cpu_core: 2\n", "config.yaml"), /config.yaml:2:3/);
 * ```
 */
export function parseConfig(text: string, path: string): Config {
  const file = parseYaml(text, path, SPEC);
  const jobs = file.values.jobs?.values ?? {};
  const worker = file.values.worker;
  const w = worker?.values ?? {};
  const s = file.values.serve?.values ?? {};
  const d = defaultConfig();
  const config: Config = {
    jobs: {
      retentionDays: jobs.retention_days ?? d.jobs.retentionDays,
      autoPurge: jobs.auto_purge ?? d.jobs.autoPurge,
      tempDirectory: jobs.temp_directory ?? d.jobs.tempDirectory,
      backupOriginal: jobs.backup_original ?? d.jobs.backupOriginal,
      // 0 and null both turn segmenting off.
      segmentLength: jobs.segment_length === undefined
        ? d.jobs.segmentLength
        : jobs.segment_length || null,
      sharedGroup: jobs.shared_group ?? d.jobs.sharedGroup,
    },
    worker: {
      maxFiles: w.max_files ?? d.worker.maxFiles,
      maxDuration: w.max_duration ?? d.worker.maxDuration,
      endBy: w.end_by ?? d.worker.endBy,
      cpuCores: w.cpu_cores ?? d.worker.cpuCores,
      workers: w.workers ?? d.worker.workers,
      preferSegments: w.prefer_segments ?? d.worker.preferSegments,
      heartbeatInterval: w.heartbeat_interval ?? d.worker.heartbeatInterval,
      staleAfter: w.stale_after ?? d.worker.staleAfter,
    },
    serve: {
      listen: s.listen ?? d.serve.listen,
      tokenFile: s.token_file ?? d.serve.tokenFile,
      policies: s.policies ?? d.serve.policies,
      folders: s.folders ?? d.serve.folders,
    },
    notify: readNotify(file.values.notify),
    library: {
      settleSeconds: file.values.library?.values.settle_seconds ?? d.library.settleSeconds,
    },
  };
  // A job is judged stale after staleAfter seconds without a heartbeat; with less than two
  // intervals of slack one late heartbeat (a busy disk, NFS) would get a live job taken over.
  const { heartbeatInterval: beat, staleAfter: stale } = config.worker;
  if (worker && stale <= beat * 2) {
    if (w.stale_after !== undefined) {
      worker.at("stale_after").fail(
        `${stale} must be more than twice worker.heartbeat_interval (${beat})`,
      );
    }
    worker.at("heartbeat_interval").fail(
      `${beat} must be less than half of worker.stale_after (${stale})`,
    );
  }
  return config;
}

/**
 * Loads config.yaml from `path`. A missing file gives the defaults; a file that exists but
 * cannot be read, or is invalid, is a {@link ConfigError} naming the path.
 */
export async function loadConfig(path: string): Promise<Config> {
  const file = await readYamlFileInfo(path, "config file");
  if (file === null) return defaultConfig();
  const config = parseConfig(file.text, path);
  checkConfigWriter(path, file, config.jobs.sharedGroup !== null);
  return config;
}

/**
 * Who may have written the config, whose `notify.command` vpo runs as its user: never everyone
 * (as cron refuses a crontab anyone can write). And every member of a shared queue may rename
 * names in its home, so a member could set the admin's config.yaml aside for one of their own,
 * which every other member's worker would then obey: there it must belong to root, to this user,
 * or to the home directory's owner (who made the home, a member can neither be nor become), and
 * no one else may write it.
 */
function checkConfigWriter(path: string, file: FileRead, shared: boolean): void {
  const mode = (file.mode & 0o7777).toString(8).padStart(4, "0");
  const writable = (who: string) =>
    new ConfigError(
      `${path} is writable by ${who} (mode ${mode}); vpo takes a config only its owner can ` +
        `write (run: chmod go-w ${path})`,
    );
  if (file.mode & 0o002) throw writable("everyone");
  if (!shared) return;
  const homeOwner = Deno.statSync(dirname(path)).uid;
  if (file.uid !== 0 && file.uid !== Deno.uid() && file.uid !== homeOwner) {
    throw new ConfigError(
      `${path} belongs to uid ${file.uid}, not to root, you or the home's owner: in a shared ` +
        "queue any member could otherwise make every member's worker run its notify command",
    );
  }
  if (file.mode & 0o020) throw writable("its group");
}
