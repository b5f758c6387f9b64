// Browser test of the Sitzungsmappe (issue 17): a council member opens the next meeting, presses
// "Sitzungsmappe (PDF)", gets the PDF (their own, named after the meeting), and the copy is kept
// on the device: offline, the same button hands out the kept copy. axe-core on the meeting page
// with the button; a screenshot in target/screenshots/bundle-meeting.png.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { axeViolations, formatViolations } from "./lib/axe.mjs";
import { launch, login, newContext, screenshot, watchErrors } from "./lib/browser.mjs";
import { startServer } from "./lib/server.mjs";
import { demoCode } from "./lib/totp.mjs";

let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function settled(page) {
  await page.waitForFunction(() => document.querySelector("#main .screen")?.getAttribute("aria-busy") === "false");
}

/** The bytes kept in the app's document cache under `url` (null if none). */
async function kept(page, url) {
  return page.evaluate(async (url) => {
    const hit = await (await caches.open("plenum-docs-v1")).match(url);
    if (!hit) return null;
    const bytes = new Uint8Array(await hit.arrayBuffer());
    return { size: bytes.length, head: String.fromCharCode(...bytes.slice(0, 5)) };
  }, url);
}

test("a member downloads the Sitzungsmappe, and it is there offline too", async () => {
  const context = await newContext(browser);
  const page = await context.newPage();
  const errors = watchErrors(page);
  await login(page, server.url, "heinz.ehrlich", demoCode("heinz.ehrlich"));
  const meeting = await page.evaluate(async () => {
    const { api } = await import("/js/api.js");
    const list = await api.get("/api/v1/meetings?when=upcoming");
    return list.data.find((m) => m.state !== "cancelled");
  });
  assert.ok(meeting, "the member has an upcoming meeting");
  await page.goto(`${server.url}/#/meetings/${meeting.id}`);
  await settled(page);

  const button = page.getByRole("button", { name: "Sitzungsmappe (PDF)" });
  await button.waitFor();
  const violations = await axeViolations(page);
  assert.equal(violations.length, 0, `axe on the meeting page:\n${formatViolations(violations)}`);
  await screenshot(page, "bundle-meeting");

  // Online: rendered for this member, downloaded under the meeting's name, and kept.
  const url = `/api/v1/meetings/${meeting.id}/bundle.pdf`;
  const download = page.waitForEvent("download", { timeout: 120_000 });
  await button.click();
  const file = await download;
  assert.equal(file.suggestedFilename(), `Sitzungsmappe ${meeting.name}.pdf`);
  await page.getByTestId("bundle-pdf-link").waitFor();
  const copy = await kept(page, url);
  assert.ok(copy, "the bundle is kept on the device");
  assert.equal(copy.head, "%PDF-");
  assert.ok(copy.size > 1000, `a real PDF (${copy.size} bytes)`);

  // Offline: the same button hands out the kept copy.
  await context.setOffline(true);
  try {
    await page.getByTestId("bundle-pdf-link").evaluate((a) => a.remove());
    const again = page.waitForEvent("download", { timeout: 30_000 });
    await button.click();
    const offline = await again;
    assert.equal(offline.suggestedFilename(), `Sitzungsmappe ${meeting.name}.pdf`);
    await page.getByTestId("bundle-pdf-link").waitFor();
    assert.equal(await page.locator(".pdf-action .file-error").count(), 0, "no error offline");
  } finally {
    await context.setOffline(false);
  }

  const real = errors.filter((e) => e.startsWith("pageerror") || /Content Security Policy/.test(e));
  assert.deepEqual(real, [], "no script errors or CSP violations");
  await context.close();
});
