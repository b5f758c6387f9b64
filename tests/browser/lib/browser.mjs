// The Debian chromium (/usr/bin/chromium), driven by playwright-core. Never a downloaded browser.

import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { REPO } from "./server.mjs";
import { demoCode } from "./totp.mjs";

export const CHROMIUM = process.env.PLENUM_CHROMIUM ?? "/usr/bin/chromium";
export const SCREENSHOTS = join(REPO, "target/screenshots");

export async function launch() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-dev-shm-usage"],
  });
}

/** A tablet-sized context (1280×800 landscape, or portrait), German by default. */
export async function newContext(browser, { portrait = false, locale = "de-DE" } = {}) {
  return browser.newContext({
    viewport: portrait ? { width: 800, height: 1280 } : { width: 1280, height: 800 },
    locale,
    timezoneId: "Europe/Berlin",
    hasTouch: true,
  });
}

/** Collects console errors and CSP violations of a page (a test can assert there are none). */
export function watchErrors(page) {
  const errors = [];
  page.on("pageerror", (error) => errors.push(`pageerror: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error" && !page.plenumAxe) errors.push(`console: ${message.text()}`);
  });
  return errors;
}

export async function screenshot(page, name) {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** Signs a demo account in through the login screen, with a TOTP code computed here. */
export async function login(page, baseUrl, username, code, password = "Musterstadt-Demo-2026") {
  await page.goto(`${baseUrl}/#/login`);
  await page.getByLabel(/Benutzername|User name/).fill(username);
  await page.getByLabel(/^Passwort$|^Password$/).fill(password);
  await page.getByRole("button", { name: /Weiter|Continue/ }).click();
  await page.getByLabel(/Code aus Ihrer App|Code from your app/).fill(code);
  await page.getByRole("button", { name: /^Anmelden$|^Sign in$/ }).click();
  await page.getByRole("heading", { level: 1, name: /Meine Sitzungen|My meetings/ }).waitFor();
}

/**
 * A new context (see `newContext` for `options`) with a page signed in as the demo account
 * `username`, its TOTP code `offset` steps ahead, and the page's collected errors.
 */
export async function signedInPage(browser, baseUrl, username, { offset = 0, options } = {}) {
  const context = await newContext(browser, options);
  const page = await context.newPage();
  const errors = watchErrors(page);
  await login(page, baseUrl, username, demoCode(username, offset));
  return { context, page, errors, username };
}
