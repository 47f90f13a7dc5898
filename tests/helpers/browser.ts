/**
 * Debian's Chromium driven by puppeteer-core (which never downloads a browser), for the page
 * tests. `.ci/run` installs the `chromium` package when it is missing.
 *
 * @module
 */
import puppeteer, { type Browser, type Page } from "puppeteer-core";
import { TOKEN } from "./serve.ts";

const CHROMIUM = Deno.env.get("CHROMIUM_PATH") ?? "/usr/bin/chromium";

/** A file name that is HTML: it must show as text and never run. */
export const XSS_NAME = "<img src=x onerror=alert(1)>.mkv";

/** Starts headless Chromium. */
export function launchBrowser(): Promise<Browser> {
  return puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Root in a container has no user namespaces for Chromium's sandbox.
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
}

/** A new page that records every dialog, accepting confirmations. */
export async function recordingPage(browser: Browser): Promise<{ page: Page; dialogs: string[] }> {
  const page = await browser.newPage();
  await page.setViewport({ width: 1000, height: 1200 });
  const dialogs: string[] = [];
  page.on("dialog", async (dialog) => {
    dialogs.push(`${dialog.type()}: ${dialog.message()}`);
    await (dialog.type() === "confirm" ? dialog.accept() : dialog.dismiss());
  });
  return { page, dialogs };
}

/** Opens the page at `url` and signs in with the test token. */
export async function signIn(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await page.waitForSelector("#login:not([hidden])");
  await page.type("#login-token", TOKEN);
  await page.click("#login-form button[type=submit]");
  await page.waitForSelector("#running .card");
}

/** The text of the first running card's progress line, and the percent at its start. */
export async function runningProgress(page: Page): Promise<{ text: string; percent: number }> {
  const text = await page.$eval("#running .card .progress", (e) => e.textContent ?? "");
  return { text, percent: Number(/^([\d.]+)%/.exec(text)?.[1] ?? NaN) };
}
