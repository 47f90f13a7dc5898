/**
 * The page of `vpo serve` in headless Chromium, fast: a running job made of a job file and a
 * live file the test rewrites (the full run with a real worker is tests/browser/, in
 * `deno task test:browser`). Progress arrives without a reload, names that are HTML stay text,
 * and Stop asks first, then leaves the same stop request as `vpo jobs cancel --running`.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { Browser } from "puppeteer-core";
import { TempHome } from "./helpers/vpo.ts";
import { jobRecord, writeJobFile } from "./helpers/queue.ts";
import { fakeRunningJob, ServeProcess, writeToken } from "./helpers/serve.ts";
import { waitUntil } from "./helpers/worker.ts";
import { JobQueue } from "../src/queue/store.ts";
import {
  launchBrowser,
  recordingPage,
  runningProgress,
  signIn,
  XSS_NAME,
} from "./helpers/browser.ts";

Deno.test({
  name: "page: pushed progress, HTML names as text, Stop after a confirmation",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using home = await TempHome.create();
    await JobQueue.open(home.jobsDir);
    const id = "abcdef0000000001";
    const live = await fakeRunningJob(home, id, `/v/${XSS_NAME}`);
    await writeJobFile(
      home.jobsDir,
      "queued",
      jobRecord("abcdef0000000002", { file: "/v/q.mkv", createdAt: "2026-11-29T16:13:00Z" }),
    );
    await live(12.5);
    const server = await ServeProcess.start(home, ["--token-file", await writeToken(home)]);
    let browser: Browser | null = null;
    try {
      browser = await launchBrowser();
      const { page, dialogs } = await recordingPage(browser);
      // India: UTC+05:30 all year, so the expected local time needs no clock of its own.
      await page.emulateTimezone("Asia/Kolkata");
      await signIn(page, server.url);
      // Times as the CLI shows them: local, YYYY-MM-DD HH:MM.
      await page.waitForSelector('#queue .row[data-id="abcdef0000000002"] .path');
      assert.equal(
        await page.$eval('#queue .row[data-id="abcdef0000000002"] .path', (e) => e.textContent),
        "/v \u00b7 priority 100 \u00b7 queued 2026-11-29 21:43",
      );
      await waitUntil(
        "12.5% on the page",
        async () => (await runningProgress(page)).percent === 12.5,
      );
      assert.equal(
        (await runningProgress(page)).text,
        "12.5% \u00b7 48.5 fps \u00b7 1.94x \u00b7 ETA 2m05s",
      );
      await live(55);
      await waitUntil(
        "55% pushed to the page",
        async () => (await runningProgress(page)).percent === 55,
      );
      assert.equal(
        await page.$eval("#running .fill", (e) => e.getAttribute("style")),
        "width: 55%;",
      );
      assert.equal(await page.$eval("#running .card .name", (e) => e.textContent), XSS_NAME);
      assert.equal(await page.$$eval("img", (els) => els.length), 0);
      // Stop asks first; accepted, it leaves the stop request the worker polls for.
      await page.click(`#running .card[data-id="${id}"] button.danger`);
      const request = join(home.jobsDir, "requests", `${id}.cancel`);
      await waitUntil("the stop request", () => Deno.stat(request).then(() => true, () => false));
      assert.deepEqual(dialogs, [
        `confirm: Stop ${XSS_NAME}? The partial output is removed; the original stays.`,
      ]);
    } finally {
      await browser?.close();
      await server.stop();
    }
  },
});
