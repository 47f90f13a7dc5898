/**
 * The page of `vpo serve` in a real headless Chromium (Debian's, driven by puppeteer-core, which
 * never downloads a browser), over a real queue with a real worker encoding a lavfi clip:
 * progress moves on the page, a cancel works with the token and is refused without it, a
 * running job stops only after a confirmation, and a file name made of HTML stays text.
 *
 * Run with `deno task test:browser`. With VPO_SCREENSHOT=docs/serve.png it also saves the
 * screenshot the README shows.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { Browser } from "puppeteer-core";
import {
  launchBrowser,
  recordingPage,
  runningProgress,
  signIn,
  XSS_NAME,
} from "../helpers/browser.ts";
import { jobRecord, writeJobFile } from "../helpers/queue.ts";
import { ServeProcess, writeToken } from "../helpers/serve.ts";
import {
  disposeHome,
  longClip,
  makeMediaHome,
  slowPolicy,
  waitUntil,
  WorkerProcess,
} from "../helpers/worker.ts";
import { JobQueue } from "../../src/queue/store.ts";
import { plantRunningFilm } from "../helpers/segments.ts";

/** Finished jobs over the last days, so the stats section and its chart have something to show. */
async function seedHistory(jobsDir: string, media: string): Promise<void> {
  for (let day = 6; day >= 1; day--) {
    const at = new Date(Date.now() - day * 86_400_000);
    const source = 1_500_000_000 + day * 90_000_000;
    const output = Math.round(source * (0.35 + day * 0.04));
    const path = await writeJobFile(
      jobsDir,
      "completed",
      jobRecord(`b0${day}`.padEnd(16, "0"), { file: join(media, `Show/Episode ${day}.mkv`) }, {
        payload: { policy: { targetVideoCodec: "hevc" } },
        started_at: new Date(at.getTime() - 1800_000).toISOString(),
        finished_at: at.toISOString(),
        progress: 100,
        result: {
          outcome: "replaced",
          source_size: source,
          output_size: output,
          saved_bytes: source - output,
          wall_sec: 1800,
        },
      }),
    );
    // As a worker would have left it: the file written when the job finished.
    await Deno.utime(path, at, at);
  }
}

Deno.test({
  name: "the page: live progress, cancel with and without the token, names stay text",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const { home, media } = await makeMediaHome();
    let worker: WorkerProcess | null = null;
    let server: ServeProcess | null = null;
    let browser: Browser | null = null;
    try {
      const queue = await JobQueue.open(home.jobsDir);
      await seedHistory(home.jobsDir, media);
      // A failed and a queued job whose file names are HTML; the queued one runs last.
      await writeJobFile(
        home.jobsDir,
        "failed",
        jobRecord("badbadbad0000001", { file: join(media, XSS_NAME) }, {
          finished_at: new Date().toISOString(),
          error: "<b>boom</b> ffmpeg exited with code 1",
        }),
      );
      const xssQueued = await queue.enqueue({
        type: "transcode",
        file: join(media, "later", XSS_NAME),
        priority: 900,
      });
      const clip = await longClip(join(media, "Big Movie (2024).mkv"), { duration: 30, audio: [] });
      const policy = await slowPolicy(home.dir);
      const queued = await home.run(["transcode", "--policy", policy, clip]);
      assert.equal(queued.code, 0, queued.stderr);
      const movieId = queue.list({ status: "queued" }).jobs[0].id;
      worker = WorkerProcess.start(home, ["--cpu-cores", "1"]);
      server = await ServeProcess.start(home, ["--token-file", await writeToken(home)]);

      browser = await launchBrowser();
      const { page, dialogs } = await recordingPage(browser);
      await signIn(page, server.url);

      // Progress moves on the page, pushed by the event stream (no reload).
      const first = await waitUntil("a percent on the page", async () => {
        const p = (await runningProgress(page)).percent;
        return p > 0 ? p : null;
      }, 60_000);
      const later = await waitUntil("the percent to move", async () => {
        const p = (await runningProgress(page)).percent;
        return p > first ? p : null;
      }, 60_000);
      assert.ok(later > first);
      assert.match((await runningProgress(page)).text, /fps .* ETA /);
      const barWidth = await page.$eval(
        "#running .fill",
        (e) => (e as unknown as { style: { width: string } }).style.width,
      );
      assert.match(barWidth, /^[\d.]+%$/);
      assert.match(
        await page.$eval("#workers", (e) => e.textContent ?? ""),
        new RegExp(`alive.*pid ${worker.pid}`),
      );

      // File names made of HTML are shown as text: no element made of them, no alert.
      await page.waitForSelector("#finished .row .failed");
      const names = await page.$$eval(
        "#finished .name, #queue .name",
        (els) => els.map((e) => e.textContent),
      );
      assert.ok(names.includes(XSS_NAME), JSON.stringify(names));
      assert.equal(await page.$$eval("img", (els) => els.length), 0);
      await page.click("#finished details summary");
      await page.waitForFunction(
        `document.querySelector("#finished details pre").textContent.includes("<b>boom</b>")`,
      );
      assert.equal(await page.$$eval("#finished b", (els) => els.length), 0);
      // The stats section shows the seeded days.
      assert.ok((await page.$$eval("#chart rect", (els) => els.length)) >= 6);
      assert.match(await page.$eval("#stats-totals", (e) => e.textContent ?? ""), /^Saved \d/);

      const shot = Deno.env.get("VPO_SCREENSHOT");
      if (shot) await page.screenshot({ path: shot as `${string}.png`, fullPage: true });

      // A phone: nothing wider than the screen (long names wrap, rows stack).
      await page.setViewport({ width: 390, height: 844, isMobile: true, hasTouch: true });
      const overflow = await page.evaluate(
        `document.documentElement.scrollWidth - document.documentElement.clientWidth`,
      );
      assert.equal(overflow, 0);
      await page.setViewport({ width: 1000, height: 1200 });

      // Without the token (a fresh profile, no sign-in cookie): the same POST is refused.
      const stranger = await browser.createBrowserContext();
      const other = await stranger.newPage();
      await other.goto(server.url);
      const refused = await other.evaluate(async (id) => {
        const res = await fetch(`/api/jobs/${id}/cancel`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: "{}",
        });
        return res.status;
      }, xssQueued.id);
      assert.equal(refused, 401);
      assert.equal(queue.find(xssQueued.id).state, "queued");
      await stranger.close();

      // With the token: the queue row's Cancel button cancels it.
      await page.waitForSelector(`#queue .row[data-id="${xssQueued.id}"] button.cancel`);
      await page.click(`#queue .row[data-id="${xssQueued.id}"] button.cancel`);
      await waitUntil(
        "the queued job to be cancelled",
        () => queue.find(xssQueued.id).state === "cancelled",
      );

      // A running job stops only after the confirmation.
      await page.click(`#running .card[data-id="${movieId}"] button.danger`);
      await waitUntil(
        "the running job to be cancelled",
        () => queue.find(movieId).state === "cancelled",
        30_000,
      );
      assert.ok(
        dialogs.some((d) => d.startsWith("confirm: Stop Big Movie (2024).mkv?")),
        dialogs.join(),
      );
      assert.ok(!dialogs.some((d) => d.startsWith("alert")), dialogs.join());
      assert.match(await Deno.readTextFile(clip).then(() => "kept", () => "gone"), /kept/);
    } finally {
      await browser?.close();
      await server?.stop();
      await worker?.dispose();
      await disposeHome(home);
    }
  },
});

Deno.test({
  name: "the page: a film encoded by several workers shows its segments and where they run",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const { home, media } = await makeMediaHome();
    let server: ServeProcess | null = null;
    let browser: Browser | null = null;
    try {
      await plantRunningFilm(home, media);
      server = await ServeProcess.start(home);
      browser = await launchBrowser();
      const { page } = await recordingPage(browser);
      await page.goto(server.url);
      await page.waitForSelector("#running .card .segments");
      assert.equal(
        await page.$eval("#running .card .segments", (e) => e.textContent ?? ""),
        "segments 3/8 done \u00b7 2 running: 4 on nas 51%, 5 on desktop 12%",
      );
      assert.match((await runningProgress(page)).text, /^45\.5% .* ETA 2h10m$/);
    } finally {
      await browser?.close();
      await server?.stop();
      await disposeHome(home);
    }
  },
});
