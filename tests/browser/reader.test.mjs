// Browser tests of the reading room (issue 18): a member opens a paper's PDF in the app's viewer
// on a tablet (portrait 768×1024 and landscape 1024×768, touch), the first page shows, a word
// found inside the PDF is highlighted, page input, swipe and thumbnails turn pages, the back link
// leads to the paper; the search finds a passage inside the PDF and opens the viewer on its page;
// axe finds nothing; no CSP violations. Screenshots in target/screenshots/reader-*.png.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { axeViolations, formatViolations } from "./lib/axe.mjs";
import { launch, login, screenshot, watchErrors } from "./lib/browser.mjs";
import { paperPages, samplePdf } from "./lib/pdf.mjs";
import { startServer } from "./lib/server.mjs";
import { demoCode } from "./lib/totp.mjs";

const WORD = "Lärmschutzwand";
const WORD_PAGE = 42;

let server;
let browser;
let paper;
let fileId;

async function json(path, { method = "GET", token, body, raw } = {}) {
  const headers = { Accept: "application/json" };
  if (body && !raw) headers["Content-Type"] = "application/json";
  if (raw) headers["Content-Type"] = raw.type;
  if (token) headers.Authorization = `Bearer ${token}`;
  const response = await fetch(`${server.url}${path}`, {
    method, headers, body: raw ? raw.body : body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  assert.ok(response.ok, `${method} ${path}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

async function token(username) {
  const step = await json("/api/v1/auth/login", { method: "POST", body: { username, password: "Musterstadt-Demo-2026" } });
  const session = await json("/api/v1/auth/totp", { method: "POST", body: { mfa_token: step.mfa_token, code: demoCode(username) } });
  return session.access_token;
}

before(async () => {
  server = await startServer();
  browser = await launch();
  // The clerk attaches a 100-page paper to the public paper VO/10742.
  const clerk = await token("martina.sommer");
  const found = await json("/api/v1/public/search?q=10742&limit=5");
  paper = found.data.find((hit) => hit.kind === "paper").id;
  const pdf = samplePdf(paperPages(100, { [WORD_PAGE]: `Anlage: Die ${WORD} an der Lindenallee wird 2027 gebaut.`, 7: "" }), {
    outline: [{ title: "Einleitung", page: 1 }, { title: "Abschnitt Lärmschutz", page: WORD_PAGE }],
  });
  const boundary = "plenum-browser-boundary";
  const body = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="paper_id"\r\n\r\n${paper}\r\n`
      + `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="Lärmaktionsplan.pdf"\r\n`
      + "Content-Type: application/pdf\r\n\r\n"),
    pdf, Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  const file = await json("/api/v1/files", { method: "POST", token: clerk, raw: { type: `multipart/form-data; boundary=${boundary}`, body } });
  fileId = file.id;
  // Extraction runs in the background: wait until the file is searchable.
  const deadline = Date.now() + 30_000;
  for (;;) {
    const info = await json(`/api/v1/files/${fileId}`, { token: clerk });
    if (info.text_status !== "pending") {
      assert.equal(info.text_status, "done");
      assert.deepEqual(info.pages_without_text, [7]);
      break;
    }
    assert.ok(Date.now() < deadline, "text extraction finished");
    await new Promise((r) => setTimeout(r, 200));
  }
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function tablet({ portrait }) {
  return browser.newContext({
    viewport: portrait ? { width: 768, height: 1024 } : { width: 1024, height: 768 },
    deviceScaleFactor: 1,
    locale: "de-DE",
    timezoneId: "Europe/Berlin",
    hasTouch: true,
    isMobile: false,
  });
}

async function expectNoAxeViolations(page, screen) {
  const violations = await axeViolations(page);
  assert.equal(violations.length, 0, `axe on ${screen}:\n${formatViolations(violations)}`);
}

function noPageErrors(errors) {
  const real = errors.filter((e) => e.startsWith("pageerror") || /Content Security Policy/.test(e));
  assert.deepEqual(real, [], "no script errors or CSP violations");
}

/** Waits until the viewer shows `n` with its text layer. */
async function pageShown(page, n) {
  await page.waitForFunction((n) => {
    const box = document.querySelector(".viewer-page");
    return box && box.dataset.page === String(n) && box.dataset.textReady === box.dataset.rendered;
  }, n, { timeout: 15_000 });
}

/** A horizontal one-finger swipe on the page area (real touch events through the DevTools protocol). */
async function swipe(page, fromX, toX, y) {
  const cdp = await page.context().newCDPSession(page);
  const steps = 6;
  await cdp.send("Input.dispatchTouchEvent", { type: "touchStart", touchPoints: [{ x: fromX, y }] });
  for (let i = 1; i <= steps; i += 1) {
    await cdp.send("Input.dispatchTouchEvent", { type: "touchMove", touchPoints: [{ x: fromX + ((toX - fromX) * i) / steps, y }] });
  }
  await cdp.send("Input.dispatchTouchEvent", { type: "touchEnd", touchPoints: [] });
  await cdp.detach();
}

for (const portrait of [true, false]) {
  const name = portrait ? "portrait" : "landscape";
  describe(`reading room on a tablet, ${name}`, () => {
    test("a member opens the paper's PDF, searches a word in it, turns pages and goes back", async () => {
      const context = await tablet({ portrait });
      const page = await context.newPage();
      const errors = watchErrors(page);
      // One account per test: a TOTP code is accepted once.
      const user = portrait ? "anna.hartmann" : "heinz.ehrlich";
      await login(page, server.url, user, demoCode(user));
      await page.goto(`${server.url}/#/papers/${paper}`);
      const link = page.locator("a.file-link", { hasText: "Lärmaktionsplan.pdf" });
      await link.waitFor();
      await link.click();
      await page.getByRole("heading", { level: 1, name: "Lärmaktionsplan.pdf" }).waitFor();
      await pageShown(page, 1);
      // The first page is drawn: a canvas as wide as the page area allows, not blank.
      const drawn = await page.evaluate(() => {
        const canvas = document.querySelector(".viewer-page canvas");
        const ctx = canvas.getContext("2d");
        const { data } = ctx.getImageData(0, 0, canvas.width, Math.min(canvas.height, 200));
        let dark = 0;
        for (let i = 0; i < data.length; i += 4) if (data[i] < 128) dark += 1;
        return { width: canvas.getBoundingClientRect().width, dark };
      });
      assert.ok(drawn.width > (portrait ? 500 : 600), `the page is fitted to the width: ${drawn.width}`);
      assert.ok(drawn.dark > 50, "the first page shows text");
      assert.equal(await page.getByLabel("Seite", { exact: true }).inputValue(), "1");
      await page.waitForTimeout(200);
      await screenshot(page, `reader-${name}-first-page`);
      await expectNoAxeViolations(page, `viewer ${name}`);

      // Search inside the document (Ctrl+F opens the search field).
      await page.locator(".viewer-stage").focus();
      await page.keyboard.press("Control+f");
      const search = page.getByRole("searchbox", { name: "Im Dokument suchen" });
      assert.ok(await search.evaluate((el) => el === document.activeElement), "Ctrl+F focuses the search");
      await search.fill("lärmschutz");
      await page.keyboard.press("Enter");
      await pageShown(page, WORD_PAGE);
      const current = page.locator("mark.viewer-hit-current");
      await current.waitFor();
      assert.equal((await current.textContent()).toLowerCase(), "lärmschutz");
      await page.getByRole("status").filter({ hasText: "Treffer 1 von 1" }).waitFor();
      assert.equal(await page.getByLabel("Seite", { exact: true }).inputValue(), String(WORD_PAGE));
      assert.match(page.url(), new RegExp(`page=${WORD_PAGE}`), "the address names the page");
      await screenshot(page, `reader-${name}-search`);
      await expectNoAxeViolations(page, `viewer search ${name}`);

      // Go to a page by number, then swipe to the next one.
      await page.getByLabel("Seite", { exact: true }).fill("10");
      await page.keyboard.press("Enter");
      await pageShown(page, 10);
      const box = await page.locator(".viewer-stage").boundingBox();
      await swipe(page, box.x + box.width * 0.8, box.x + box.width * 0.2, box.y + box.height / 2);
      await pageShown(page, 11);
      await page.locator(".viewer-stage").focus();
      await page.keyboard.press("ArrowLeft");
      await pageShown(page, 10);

      // Thumbnails: tap page 3.
      await page.getByRole("button", { name: "Seitenübersicht" }).click();
      const thumb = page.getByRole("button", { name: "Seite 3", exact: true });
      await thumb.waitFor();
      await page.locator(".viewer-thumb canvas").first().waitFor();
      await screenshot(page, `reader-${name}-thumbnails`);
      await expectNoAxeViolations(page, `viewer thumbnails ${name}`);
      await thumb.tap();
      await pageShown(page, 3);
      // The outline leads to its section.
      await page.getByRole("button", { name: "Inhaltsverzeichnis" }).click();
      await page.getByRole("button", { name: "Abschnitt Lärmschutz" }).click();
      await pageShown(page, WORD_PAGE);
      // Fit the whole page, then zoom in.
      await page.getByRole("button", { name: "Ganze Seite" }).click();
      await page.waitForFunction(() => document.querySelector(".viewer-page").getBoundingClientRect().height
        <= document.querySelector(".viewer-stage").clientHeight);
      await page.getByRole("button", { name: "Vergrößern" }).click();
      await page.waitForFunction(() => document.querySelector(".viewer-zoom").textContent !== "");

      // Back to the paper.
      await page.getByRole("link", { name: /Zurück zur Vorlage/ }).click();
      await page.getByRole("heading", { level: 2, name: "Beratungsfolge" }).waitFor();
      noPageErrors(errors);
      await context.close();
    });
  });
}

describe("search inside documents", () => {
  test("the member search finds the passage and opens the viewer on its page", async () => {
    const context = await tablet({ portrait: false });
    const page = await context.newPage();
    const errors = watchErrors(page);
    await login(page, server.url, "thomas.schneider", demoCode("thomas.schneider"));
    await page.getByLabel(/durchsuchen/).fill(WORD);
    await page.getByRole("button", { name: "Suchen", exact: true }).click();
    const hit = page.locator(".search-hit", { hasText: "Lärmaktionsplan.pdf" });
    await hit.waitFor();
    assert.match(await hit.textContent(), /Seite 42/);
    assert.ok(await hit.locator("mark").count(), "the word is marked in the snippet");
    await screenshot(page, "reader-search-results");
    await hit.getByRole("link").click();
    await pageShown(page, WORD_PAGE);
    await page.locator("mark.viewer-hit-current").waitFor();
    await expectNoAxeViolations(page, "viewer from search");
    noPageErrors(errors);
    await context.close();
  });

  test("the public portal opens a public PDF in the viewer", async () => {
    const context = await tablet({ portrait: true });
    const page = await context.newPage();
    const errors = watchErrors(page);
    await page.goto(`${server.url}/#/portal/files/${fileId}?page=5`);
    await pageShown(page, 5);
    await page.getByRole("link", { name: /Zurück zur Vorlage/ }).waitFor();
    await expectNoAxeViolations(page, "public viewer");
    noPageErrors(errors);
    await context.close();
  });
});
