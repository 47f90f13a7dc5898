/**
 * What a webhook is sent: the URL and JSON body each service expects.
 *
 * @module
 */
import type { WebhookFormat } from "../config/notify.ts";
import type { NotifyEvent } from "./events.ts";

/** Discord refuses a message over 2000 characters. */
const DISCORD_MAX = 2000;

/** The request for `event` in `format`: where to POST and the JSON body. */
export function webhookRequest(
  url: string,
  format: WebhookFormat,
  event: NotifyEvent,
): { url: string; body: unknown } {
  const failed = event.event === "job_failed";
  switch (format) {
    case "json":
      return { url, body: event };
    case "ntfy": {
      // ntfy takes JSON at its root URL with the topic in the body; the configured URL is the
      // topic's (https://ntfy.sh/my-topic), as people copy it from the app.
      const u = new URL(url);
      const parts = u.pathname.split("/").filter(Boolean);
      const topic = parts.pop() ?? "";
      u.pathname = "/" + parts.map((p) => p + "/").join("");
      return {
        url: u.href,
        body: {
          topic,
          title: event.title,
          message: event.message,
          priority: failed ? 4 : 3,
          tags: [failed ? "warning" : "white_check_mark"],
        },
      };
    }
    case "gotify":
      // https://gotify.example/message?token=<app token>
      return {
        url,
        body: { title: event.title, message: event.message, priority: failed ? 8 : 4 },
      };
    case "slack":
      return { url, body: { text: `*${event.title}*\n${event.message}` } };
    case "discord":
      return {
        url,
        body: { content: `**${event.title}**\n${event.message}`.slice(0, DISCORD_MAX) },
      };
  }
}
