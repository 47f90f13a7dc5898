/**
 * The `notify:` section of config.yaml: who hears about failed jobs and finished worker runs.
 *
 * @module
 */
import { defaultNotify } from "./defaults.ts";
import { choice, list, nullable, number, parsed, type Section } from "./yaml_schema.ts";

/** Body shapes a webhook can be sent in. */
export const WEBHOOK_FORMATS = ["json", "ntfy", "gotify", "slack", "discord"] as const;
/** The body shape of a webhook. */
export type WebhookFormat = typeof WEBHOOK_FORMATS[number];

/** Effective `notify:` settings. */
export interface NotifyConfig {
  /** Program and arguments run for each event (never through a shell); null for none. */
  command: string[] | null;
  /** URL each event is POSTed to as JSON; null for none. */
  webhook: string | null;
  /** The shape of the webhook's body. */
  webhookFormat: WebhookFormat;
  /** Seconds one delivery attempt may take before it is abandoned. */
  timeoutSec: number;
}

function argvItem(value: string | number): string {
  const text = String(value);
  if (text === "") throw new Error("an empty argument");
  return text;
}

function httpUrl(value: string | number): string {
  let url: URL;
  try {
    url = new URL(String(value));
  } catch {
    throw new Error(`"${value}" is not a URL (expected http://... or https://...)`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new Error(`"${value}" is not an http or https URL`);
  }
  return url.href;
}

/** Keys of the `notify:` section and their readers. */
export const NOTIFY_SPEC = {
  command: nullable(list(parsed("a program or argument", argvItem))),
  webhook: nullable(parsed("a URL", httpUrl)),
  webhook_format: choice("a webhook format", WEBHOOK_FORMATS),
  // Ten minutes: a delivery must never hold a worker's exit for long.
  timeout: number(0, 600),
};

/** The effective settings from a validated `notify:` section (absent keys get defaults). */
export function readNotify(section: Section<typeof NOTIFY_SPEC> | undefined): NotifyConfig {
  const v = section?.values ?? {};
  const d = defaultNotify();
  if (v.command && v.command.length === 0) {
    section!.at("command").fail("an empty list: give the program and its arguments, or null");
  }
  // Hooks run in / (src/util/spawn.ts), like every child: a relative path would name another
  // program than the one beside the directory cron or systemd happened to start vpo in.
  const program = v.command?.[0];
  if (program?.includes("/") && !program.startsWith("/")) {
    section!.at("command").fail(
      `"${program}" is a relative path: write the program's absolute path, or a name on PATH`,
    );
  }
  return {
    command: v.command ?? d.command,
    webhook: v.webhook ?? d.webhook,
    webhookFormat: v.webhook_format ?? d.webhookFormat,
    timeoutSec: v.timeout ?? d.timeoutSec,
  };
}
