import assert from "node:assert/strict";
import { join } from "node:path";
import { defaultConfig, loadConfig, parseConfig, parseTimeOfDay } from "../../src/config/config.ts";
import { closest } from "../../src/util/suggest.ts";
import { withTempDir } from "../helpers/temp.ts";
import { yamlFileLoader } from "../helpers/yaml_file.ts";

/** Every temp directory this file makes starts with this. */
const TEMP_PREFIX = "vpo-config-test-";

/** `loadText` loads YAML written as config.yaml; `errorFor` is the ConfigError message it gives. */
const { loadText, errorFor } = yamlFileLoader("config.yaml", loadConfig, TEMP_PREFIX);

Deno.test("defaultConfig has the documented defaults", () => {
  assert.deepEqual(defaultConfig(), {
    jobs: {
      retentionDays: 30,
      autoPurge: true,
      tempDirectory: null,
      backupOriginal: true,
      segmentLength: 300,
      sharedGroup: null,
    },
    worker: {
      maxFiles: null,
      maxDuration: null,
      endBy: null,
      cpuCores: null,
      workers: 1,
      preferSegments: false,
      heartbeatInterval: 10,
      staleAfter: 120,
    },
    serve: { listen: "127.0.0.1:8613", tokenFile: null, policies: [], folders: [] },
    notify: { command: null, webhook: null, webhookFormat: "json", timeoutSec: 10 },
    library: { settleSeconds: 120 },
  });
});

Deno.test("a missing config file gives the defaults", async () => {
  await withTempDir(async (dir) => {
    assert.deepEqual(await loadConfig(join(dir, "nope.yaml")), defaultConfig());
  }, TEMP_PREFIX);
});

Deno.test("empty, comment-only and empty-section files give the defaults", async () => {
  for (const text of ["", "\n\n", "# nothing here\n  # indented comment\n", "jobs:\nworker:\n"]) {
    assert.deepEqual(await loadText(text), defaultConfig(), JSON.stringify(text));
  }
});

Deno.test("every key is read and mapped to camelCase", async () => {
  const config = await loadText(`# all keys
jobs:
  retention_days: 7
  auto_purge: false
  temp_directory: /var/tmp/vpo
  backup_original: false
  segment_length: 600
  shared_group: root
worker:
  max_files: 5
  max_duration: 28800
  end_by: "06:00"
  cpu_cores: 4
  workers: auto
  prefer_segments: true
  heartbeat_interval: 0.5
  stale_after: 2
serve:
  listen: "0.0.0.0:9000"
  token_file: /etc/vpo/token
  policies: [/etc/vpo/hevc.yaml]
  folders: [/srv/videos, /srv/tv]
notify:
  command: [/usr/local/bin/vpo-alert, --quiet]
  webhook: https://ntfy.example/vpo
  webhook_format: ntfy
  timeout: 3
library:
  settle_seconds: 0
`);
  assert.deepEqual(config, {
    jobs: {
      retentionDays: 7,
      autoPurge: false,
      tempDirectory: "/var/tmp/vpo",
      backupOriginal: false,
      segmentLength: 600,
      sharedGroup: { name: "root", gid: 0 },
    },
    worker: {
      maxFiles: 5,
      maxDuration: 28800,
      endBy: "06:00",
      cpuCores: 4,
      workers: "auto",
      preferSegments: true,
      heartbeatInterval: 0.5,
      staleAfter: 2,
    },
    serve: {
      listen: "0.0.0.0:9000",
      tokenFile: "/etc/vpo/token",
      policies: ["/etc/vpo/hevc.yaml"],
      folders: ["/srv/videos", "/srv/tv"],
    },
    notify: {
      command: ["/usr/local/bin/vpo-alert", "--quiet"],
      webhook: "https://ntfy.example/vpo",
      webhookFormat: "ntfy",
      timeoutSec: 3,
    },
    library: { settleSeconds: 0 },
  });
});

Deno.test("keys left out keep their defaults; explicit nulls are accepted", async () => {
  const config = await loadText(
    "jobs:\n  retention_days: 0\n  temp_directory: null\nworker:\n  max_files: ~\n  end_by:\n",
  );
  const expected = defaultConfig();
  expected.jobs.retentionDays = 0;
  assert.deepEqual(config, expected);
});

Deno.test("end_by: an unquoted 06:00 is a string in YAML 1.2; H:MM is normalised", async () => {
  assert.equal((await loadText("worker:\n  end_by: 06:00\n")).worker.endBy, "06:00");
  assert.equal((await loadText("worker:\n  end_by: '6:30'\n")).worker.endBy, "06:30");
  assert.equal((await loadText("worker:\n  end_by: 23:59\n")).worker.endBy, "23:59");
  assert.equal((await loadText("worker:\n  end_by: 00:00\n")).worker.endBy, "00:00");
});

Deno.test("parseTimeOfDay serves the --end-by flag with the same rules", () => {
  assert.equal(parseTimeOfDay(" 7:05 "), "07:05");
  assert.throws(() => parseTimeOfDay("7"), {
    message: `"7" is not a time of day (expected "HH:MM" from 00:00 to 23:59)`,
  });
});

Deno.test("temp_directory: ~/ and a quoted ~ are expanded with HOME; a bare ~ is null", async () => {
  const home = Deno.env.get("HOME");
  Deno.env.set("HOME", "/home/tester");
  try {
    const config = await loadText("jobs:\n  temp_directory: ~/transcodes\n");
    assert.equal(config.jobs.tempDirectory, "/home/tester/transcodes");
    assert.equal(
      (await loadText(`jobs:\n  temp_directory: "~"\n`)).jobs.tempDirectory,
      "/home/tester",
    );
    // A bare ~ is YAML's null, not the home directory.
    assert.equal((await loadText("jobs:\n  temp_directory: ~\n")).jobs.tempDirectory, null);
  } finally {
    if (home === undefined) Deno.env.delete("HOME");
    else Deno.env.set("HOME", home);
  }
});

Deno.test("anchors and aliases are resolved", async () => {
  const config = await loadText("worker:\n  max_files: &n 3\n  cpu_cores: *n\n");
  assert.equal(config.worker.maxFiles, 3);
  assert.equal(config.worker.cpuCores, 3);
});

Deno.test("parseConfig names the path it is given", () => {
  assert.throws(() => parseConfig("jobs: 1\n", "/etc/vpo.yaml"), {
    name: "ConfigError",
    message: "/etc/vpo.yaml:1:7: jobs: expected a mapping, got 1",
  });
});

Deno.test("an unreadable config file is a ConfigError naming the path", async () => {
  await withTempDir(async (dir) => {
    await assert.rejects(loadConfig(dir), {
      name: "ConfigError",
      message: `cannot read config file ${dir}: a directory, not a regular file`,
    });
  }, TEMP_PREFIX);
});

Deno.test("a config file anyone can write is refused: its notify command would run as this user", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "config.yaml");
    await Deno.writeTextFile(path, "notify:\n  command: [touch, /tmp/x]\n");
    await Deno.chmod(path, 0o666);
    await assert.rejects(loadConfig(path), {
      name: "ConfigError",
      message: `${path} is writable by everyone (mode 0666); vpo takes a config only its owner ` +
        `can write (run: chmod go-w ${path})`,
    });
    // A private queue's config may be group-writable (a user's own group, umask 002).
    await Deno.chmod(path, 0o664);
    assert.deepEqual((await loadConfig(path)).notify.command, ["touch", "/tmp/x"]);
  }, TEMP_PREFIX);
});

/** The message for a `worker:\n  end_by: <value>` that reads as a string but not as HH:MM. */
const notATimeOfDay = (value: string) =>
  `config.yaml:2:11: worker.end_by: "${value}" is not a time of day ` +
  `(expected "HH:MM" from 00:00 to 23:59)`;

// Each bad file with the exact message it must produce (the temp path shown as config.yaml).
const BAD_FILES: [string, string, string][] = [
  [
    "unknown key with suggestion",
    "jobs:\n  retention_dayz: 3\n",
    `config.yaml:2:3: jobs.retention_dayz: unknown key (did you mean "retention_days"?)`,
  ],
  [
    "unknown key without a near match lists the valid keys",
    "worker:\n  colour: red\n",
    "config.yaml:2:3: worker.colour: unknown key (expected one of max_files, max_duration, " +
    "end_by, cpu_cores, workers, prefer_segments, heartbeat_interval, stale_after)",
  ],
  [
    "unknown section",
    "workers:\n  max_files: 2\n",
    `config.yaml:1:1: workers: unknown key (did you mean "worker"?)`,
  ],
  [
    "integer given as a word",
    "jobs:\n  retention_days: thirty\n",
    `config.yaml:2:19: jobs.retention_days: expected an integer from 0 to 36500, got "thirty"`,
  ],
  [
    "quoted number is a string",
    "jobs:\n  retention_days: '30'\n",
    `config.yaml:2:19: jobs.retention_days: expected an integer from 0 to 36500, got "30"`,
  ],
  [
    "negative retention",
    "jobs:\n  retention_days: -1\n",
    "config.yaml:2:19: jobs.retention_days: expected an integer from 0 to 36500, got -1",
  ],
  [
    "yes is not a boolean in YAML 1.2",
    "jobs:\n  auto_purge: yes\n",
    `config.yaml:2:15: jobs.auto_purge: expected true or false, got "yes"`,
  ],
  [
    "backup_original as a list",
    "jobs:\n  backup_original: [true]\n",
    "config.yaml:2:20: jobs.backup_original: expected true or false, got a list",
  ],
  [
    "relative temp_directory",
    "jobs:\n  temp_directory: tmp/vpo\n",
    `config.yaml:2:19: jobs.temp_directory: "tmp/vpo" is not an absolute path ` +
    "(write /path/to/dir or ~/dir)",
  ],
  [
    "max_files zero",
    "worker:\n  max_files: 0\n",
    "config.yaml:2:14: worker.max_files: expected an integer from 1 to 1000000000, got 0",
  ],
  [
    "fractional max_duration",
    "worker:\n  max_duration: 1.5\n",
    "config.yaml:2:17: worker.max_duration: expected an integer from 1 to 31622400, got 1.5",
  ],
  [
    "cpu_cores as a word",
    "worker:\n  cpu_cores: four\n",
    `config.yaml:2:14: worker.cpu_cores: expected an integer from 1 to 4096, got "four"`,
  ],
  ["end_by hour 24", "worker:\n  end_by: 24:00\n", notATimeOfDay("24:00")],
  ["end_by minute 60", 'worker:\n  end_by: "12:60"\n', notATimeOfDay("12:60")],
  [
    "end_by that YAML reads as a number",
    "worker:\n  end_by: 0600\n",
    `config.yaml:2:11: worker.end_by: 600 is not a time; write it quoted as "HH:MM", e.g. "06:00"`,
  ],
  ["end_by with seconds", "worker:\n  end_by: 06:00:00\n", notATimeOfDay("06:00:00")],
  [
    "end_by as a boolean",
    "worker:\n  end_by: false\n",
    `config.yaml:2:11: worker.end_by: expected a time "HH:MM", got false`,
  ],
  [
    "heartbeat_interval zero",
    "worker:\n  heartbeat_interval: 0\n",
    "config.yaml:2:23: worker.heartbeat_interval: expected a number > 0 and <= 3600, got 0",
  ],
  [
    "heartbeat_interval empty",
    "worker:\n  heartbeat_interval:\n",
    "config.yaml:2:3: worker.heartbeat_interval: expected a number > 0 and <= 3600, got null",
  ],
  [
    "heartbeat_interval infinite",
    "worker:\n  heartbeat_interval: .inf\n",
    "config.yaml:2:23: worker.heartbeat_interval: expected a number > 0 and <= 3600, got Infinity",
  ],
  [
    "stale_after not more than twice the heartbeat",
    "worker:\n  heartbeat_interval: 10\n  stale_after: 20\n",
    "config.yaml:3:16: worker.stale_after: 20 must be more than twice " +
    "worker.heartbeat_interval (10)",
  ],
  [
    "heartbeat_interval too long for the default stale_after",
    "worker:\n  heartbeat_interval: 60\n",
    "config.yaml:2:23: worker.heartbeat_interval: 60 must be less than half of " +
    "worker.stale_after (120)",
  ],
  [
    "YAML syntax error",
    'worker:\n  end_by: "06:00\n',
    'config.yaml:3:1: invalid YAML: Missing closing "quote',
  ],
  [
    "tab indentation",
    "jobs:\n\tretention_days: 3\n",
    "config.yaml:2:1: invalid YAML: Tabs are not allowed as indentation",
  ],
  [
    "two documents",
    "jobs: {}\n---\nworker: {}\n",
    "config.yaml:2:1: invalid YAML: Source contains multiple documents; " +
    "please use YAML.parseAllDocuments()",
  ],
  [
    "duplicate key",
    "jobs:\n  retention_days: 3\n  auto_purge: true\n  retention_days: 4\n",
    "config.yaml:4:3: jobs.retention_days: duplicate key",
  ],
  [
    "duplicate section",
    "jobs:\n  retention_days: 3\njobs:\n  auto_purge: true\n",
    "config.yaml:3:1: jobs: duplicate key",
  ],
  [
    "top level a list",
    "- jobs\n- worker\n",
    "config.yaml:1:1: the top level must be a mapping of keys, got a list",
  ],
  [
    "top level a scalar",
    "retention_days=30\n",
    `config.yaml:1:1: the top level must be a mapping of keys, got "retention_days=30"`,
  ],
  [
    "section that is a list",
    "worker:\n  - max_files: 3\n",
    "config.yaml:2:3: worker: expected a mapping, got a list",
  ],
  [
    "non-scalar key",
    "? [jobs]\n: 1\n",
    "config.yaml:1:3: keys must be plain names",
  ],
  [
    "unknown tag",
    "jobs:\n  retention_days: !days 3\n",
    "config.yaml:2:19: invalid YAML: Unresolved tag: !days",
  ],
  [
    "alias to an unknown anchor",
    "worker:\n  max_files: *limit\n",
    "config.yaml:2:14: worker.max_files: unknown alias *limit",
  ],
  [
    "first problem in file order wins",
    "worker:\n  cpu_cores: 0\njobs:\n  retention_dayz: 1\n",
    "config.yaml:2:14: worker.cpu_cores: expected an integer from 1 to 4096, got 0",
  ],
];

for (const [name, text, expected] of BAD_FILES) {
  Deno.test(`bad config: ${name}`, async () => {
    assert.equal(await errorFor(text), expected);
  });
}

Deno.test("closest suggests near misses only", () => {
  assert.equal(closest("retention_dayz", ["auto_purge", "retention_days"]), "retention_days");
  assert.equal(closest("Workers", ["jobs", "worker"]), "worker");
  assert.equal(closest("fastest", ["fast", "faster"]), "faster");
  assert.equal(closest("retnetion_days", ["retention_days"]), "retention_days");
  assert.equal(closest("mp3", ["aac", "ac3"]), undefined);
  assert.equal(closest("colour", ["max_files", "end_by"]), undefined);
  assert.equal(closest("x", []), undefined);
});

Deno.test("jobs.segment_length: 0 and null turn segmenting off; negatives are refused", async () => {
  assert.equal((await loadText("jobs:\n  segment_length: 0\n")).jobs.segmentLength, null);
  assert.equal((await loadText("jobs:\n  segment_length: null\n")).jobs.segmentLength, null);
  assert.equal((await loadText("jobs:\n  segment_length: 120\n")).jobs.segmentLength, 120);
  await assert.rejects(loadText("jobs:\n  segment_length: -5\n"), /segment_length/);
});

Deno.test("docs/configuration.md: the example is valid, and each of its keys has one table row", async () => {
  const doc = await Deno.readTextFile(new URL("../../docs/configuration.md", import.meta.url));
  const example = /## All keys, with their defaults\n\n```yaml\n([^]*?)```/.exec(doc)![1];
  assert.deepEqual(parseConfig(example, "configuration.md"), defaultConfig());
  const keys = (text: string, section: string) => {
    const body = new RegExp(`^${section}:\\n((?:  .*\\n)*)`, "m").exec(text)![1];
    return [...body.matchAll(/^ {2}(\w+):/gm)].map((m) => m[1]);
  };
  for (const section of ["jobs", "worker", "serve", "notify", "library"]) {
    const table = new RegExp(`^### \`${section}\`\\n([^]*?)(?=^##)`, "m").exec(doc)![1];
    const rows = [...table.matchAll(/^\| `(\w+)` +\|/gm)].map((m) => m[1]);
    assert.deepEqual(rows, keys(example, section), `the ${section} table`);
  }
});
