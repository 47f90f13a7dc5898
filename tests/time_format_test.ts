/**
 * One way to show a time to a person: local time as `YYYY-MM-DD HH:MM` (log lines add `:SS`),
 * in every command, whatever the locale (the page is checked in serve_page_test.ts).
 */
import assert from "node:assert/strict";
import { TempHome } from "./helpers/vpo.ts";
import { jobRecord, writeJobFile } from "./helpers/queue.ts";

// India: UTC+05:30 all year, so the expected local times need no clock of their own. A US
// locale is what printed `11/29/2026, 4:13:53 PM` before.
const env = { TZ: "Asia/Kolkata", LANG: "en_US.UTF-8", LC_ALL: "en_US.UTF-8" };

Deno.test("times: list, show and the worker's deadline read YYYY-MM-DD HH:MM in local time", async () => {
  await using home = await TempHome.create();
  const id = "abcdef00000000000000000000000001";
  await writeJobFile(
    home.jobsDir,
    "failed",
    jobRecord(id, { file: "/v/film.mkv", createdAt: "2026-11-29T16:13:00Z" }),
  );
  const list = await home.run(["jobs", "list"], { env });
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, /^abcdef00 +failed +transcode +film\.mkv +- +2026-11-29 21:43$/m);
  const show = await home.run(["jobs", "show", "abcdef00"], { env });
  assert.equal(show.code, 0, show.stderr);
  assert.match(show.stdout, /^Created +2026-11-29 21:43$/m);
  assert.match(show.stdout, /^ {2}2026-11-29 21:43 {2}/m, "the history");

  const start = await home.run(["jobs", "start", "--end-by", "06:00"], { env });
  assert.equal(start.code, 0, start.stderr);
  const lines = start.stdout.trimEnd().split("\n");
  for (const line of lines) assert.match(line, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d /, line);
  assert.match(start.stdout, / worker +stops by \d{4}-\d\d-\d\d 06:00 \(/);
  assert.doesNotMatch(start.stdout, /AM|PM|\d\/\d/);
});
