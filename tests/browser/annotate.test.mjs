// Browser test of annotations in the viewer (issue 18): on a tablet (portrait, touch), a member
// opens a paper's PDF, highlights a passage (text layer selection → "Markieren"), draws with the pen
// (pointer events with pressure) and with a finger, and pins a note shared with the fraction; the
// same member's second device (another browser context) sees each appear live, and the deletion
// too. The list jumps to an annotation's page. axe finds nothing in the viewer with annotations.
// Screenshot: docs/reader-annotations.png (and target/screenshots/annotate-*.png).

import assert from "node:assert/strict";
import { copyFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { axeViolations, formatViolations } from "./lib/axe.mjs";
import { SCREENSHOTS, launch, login, screenshot, watchErrors } from "./lib/browser.mjs";
import { paperPages, samplePdf } from "./lib/pdf.mjs";
import { REPO, startServer } from "./lib/server.mjs";
import { demoCode } from "./lib/totp.mjs";

const USER = "thomas.schneider";
const PASSAGE = "Lärmschutzwand an der Lindenallee";

let server;
let browser;
let paper;
let fileId;
let token;

async function json(path, { method = "GET", auth, body, raw } = {}) {
  const headers = { Accept: "application/json" };
  if (body && !raw) headers["Content-Type"] = "application/json";
  if (raw) headers["Content-Type"] = raw.type;
  if (auth) headers.Authorization = `Bearer ${auth}`;
  const response = await fetch(`${server.url}${path}`, {
    method, headers, body: raw ? raw.body : body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  assert.ok(response.ok, `${method} ${path}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

async function signIn(username, offset = 0) {
  const step = await json("/api/v1/auth/login", { method: "POST", body: { username, password: "Musterstadt-Demo-2026" } });
  const session = await json("/api/v1/auth/totp", { method: "POST", body: { mfa_token: step.mfa_token, code: demoCode(username, offset) } });
  return session.access_token;
}

before(async () => {
  server = await startServer();
  browser = await launch();
  const clerk = await signIn("martina.sommer");
  const found = await json("/api/v1/public/search?q=10742&limit=5");
  paper = found.data.find((hit) => hit.kind === "paper").id;
  const pdf = samplePdf(paperPages(5, { 1: `Anlage: Die ${PASSAGE} wird 2027 gebaut.` }));
  const boundary = "plenum-browser-boundary";
  const body = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="paper_id"\r\n\r\n${paper}\r\n`
      + `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="Lärmschutz.pdf"\r\n`
      + "Content-Type: application/pdf\r\n\r\n"),
    pdf, Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  const file = await json("/api/v1/files", { method: "POST", auth: clerk, raw: { type: `multipart/form-data; boundary=${boundary}`, body } });
  fileId = file.id;
  const deadline = Date.now() + 30_000;
  while ((await json(`/api/v1/files/${fileId}`, { auth: clerk })).text_status === "pending") {
    assert.ok(Date.now() < deadline, "text extraction finished");
    await new Promise((r) => setTimeout(r, 200));
  }
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function tablet() {
  return browser.newContext({
    viewport: { width: 768, height: 1024 },
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

async function pageShown(page, n) {
  await page.waitForFunction((n) => {
    const box = document.querySelector(".viewer-page");
    return box && box.dataset.page === String(n) && box.dataset.textReady === box.dataset.rendered;
  }, n, { timeout: 15_000 });
}

/** The count of shapes of a kind in the page's annotation layer. */
const count = (page, selector) => page.locator(selector).count();

async function waitForCount(page, selector, n) {
  await page.waitForFunction(([s, n]) => document.querySelectorAll(s).length === n, [selector, n], { timeout: 10_000 });
}

/** A pen stroke with rising pressure (pointerType "pen" through the DevTools protocol). */
async function penStroke(page, points) {
  const cdp = await page.context().newCDPSession(page);
  const [first, ...rest] = points;
  await cdp.send("Input.dispatchMouseEvent", { type: "mousePressed", x: first.x, y: first.y, button: "left", buttons: 1, clickCount: 1, pointerType: "pen", force: 0.3 });
  for (const [i, p] of rest.entries()) {
    await cdp.send("Input.dispatchMouseEvent", { type: "mouseMoved", x: p.x, y: p.y, button: "left", buttons: 1, pointerType: "pen", force: 0.3 + (0.6 * (i + 1)) / rest.length });
  }
  const last = points[points.length - 1];
  await cdp.send("Input.dispatchMouseEvent", { type: "mouseReleased", x: last.x, y: last.y, button: "left", buttons: 0, clickCount: 1, pointerType: "pen" });
  await cdp.detach();
}

/** A finger stroke (real touch events). */
async function fingerStroke(page, points) {
  const cdp = await page.context().newCDPSession(page);
  const [first, ...rest] = points;
  await cdp.send("Input.dispatchTouchEvent", { type: "touchStart", touchPoints: [first] });
  for (const p of rest) await cdp.send("Input.dispatchTouchEvent", { type: "touchMove", touchPoints: [p] });
  await cdp.send("Input.dispatchTouchEvent", { type: "touchEnd", touchPoints: [] });
  await cdp.detach();
}

describe("annotations on a tablet", () => {
  test("a member highlights, draws and pins a note; the second device sees it live", async () => {
    token = await signIn(USER, -1);
    const contextA = await tablet();
    const contextB = await tablet();
    const a = await contextA.newPage();
    const b = await contextB.newPage();
    const errorsA = watchErrors(a);
    const errorsB = watchErrors(b);
    await login(a, server.url, USER, demoCode(USER));
    await login(b, server.url, USER, demoCode(USER, 1));

    // Device B already has the document open.
    await b.goto(`${server.url}/#/files/${fileId}`);
    await pageShown(b, 1);
    await b.getByRole("button", { name: "Anmerkungen (0)" }).waitFor();

    // Device A opens the paper's PDF from the paper.
    await a.goto(`${server.url}/#/papers/${paper}`);
    await a.locator("a.file-link", { hasText: "Lärmschutz.pdf" }).click();
    await pageShown(a, 1);
    const toolbar = a.getByRole("toolbar", { name: "Anmerkungen" });
    await toolbar.waitFor();

    // 1. Highlight: select the passage in the text layer, then "Markieren".
    const selected = await a.evaluate((passage) => {
      const spans = [...document.querySelectorAll(".textLayer span")];
      for (const span of spans) {
        const node = span.firstChild;
        const at = node?.textContent.indexOf(passage) ?? -1;
        if (at >= 0) {
          const range = document.createRange();
          range.setStart(node, at);
          range.setEnd(node, at + passage.length);
          const selection = window.getSelection();
          selection.removeAllRanges();
          selection.addRange(range);
          return selection.toString();
        }
      }
      return null;
    }, PASSAGE);
    assert.equal(selected, PASSAGE, "the passage is in the text layer");
    await toolbar.getByRole("button", { name: /^Markieren/ }).tap();
    await a.getByRole("status").filter({ hasText: "Markierung gespeichert." }).waitFor();
    await waitForCount(a, ".viewer-annot-layer rect.viewer-annot-highlight", 1);
    await waitForCount(b, ".viewer-annot-layer rect.viewer-annot-highlight", 1);

    // 2. Pen (with pressure) and finger: two strokes, saved together after a pause.
    const pen = toolbar.getByRole("button", { name: /^Stift/ });
    await pen.tap();
    assert.equal(await pen.getAttribute("aria-pressed"), "true");
    const box = await a.locator(".viewer-page").boundingBox();
    const wave = (y0) => Array.from({ length: 12 }, (_, i) => ({ x: box.x + 120 + i * 25, y: box.y + y0 + (i % 2 ? 18 : 0) }));
    // Below the text, within the viewport (the page is taller than the screen).
    await penStroke(a, wave(200));
    await fingerStroke(a, wave(260));
    await a.getByRole("status").filter({ hasText: "Zeichnung gespeichert." }).waitFor({ timeout: 10_000 });
    await pen.tap();
    assert.equal(await pen.getAttribute("aria-pressed"), "false");
    await b.waitForFunction(() => document.querySelectorAll(".viewer-annot-layer g[data-annotation] path").length > 0);
    const saved = await json(`/api/v1/files/${fileId}/annotations`, { auth: token });
    const ink = saved.find((n) => n.annotation.kind === "ink");
    assert.equal(ink.annotation.strokes.length, 2, "both strokes in one drawing");
    assert.equal(ink.annotation.strokes[0].pressure?.length, ink.annotation.strokes[0].points.length / 2, "the pen's pressure is kept");
    assert.ok(ink.annotation.strokes[0].pressure.at(-1) > ink.annotation.strokes[0].pressure[0], "pressure rises along the stroke");
    // Page units, not screen pixels: inside the page at 100 % (the page is wider on screen).
    const width = 595; // A4 at 100 %
    assert.ok(ink.annotation.strokes[0].points.every((v, i) => i % 2 || v <= width), "x within the page's width at 100 %");

    // 3. A note shared with the fraction: choose the audience, "Notiz", tap the place, write.
    const share = toolbar.getByLabel("Sichtbar für");
    const fraction = await share.evaluate((select) => [...select.options].find((o) => o.textContent.includes("Fraktion"))?.value);
    assert.ok(fraction, "the fraction is offered");
    await share.selectOption(fraction);
    await toolbar.getByRole("button", { name: /^Notiz/ }).tap();
    await a.touchscreen.tap(box.x + box.width * 0.3, box.y + 360);
    const text = a.getByLabel("Notiztext");
    await text.waitFor();
    await text.fill("Kosten der **Lärmschutzwand** prüfen");
    await a.getByRole("button", { name: "Speichern" }).tap();
    await a.getByRole("status").filter({ hasText: "Notiz gespeichert." }).waitFor();
    const marker = b.locator(".viewer-annot-marker");
    await marker.waitFor();
    assert.match(await marker.getAttribute("aria-label"), /Kosten der \*\*Lärmschutzwand\*\* prüfen/);

    // The list on device A: three annotations; jump to one from another page.
    await a.getByLabel("Seite", { exact: true }).fill("3");
    await a.keyboard.press("Enter");
    await pageShown(a, 3);
    await a.getByRole("button", { name: "Anmerkungen (3)" }).tap();
    const list = a.getByRole("navigation", { name: "Anmerkungen im Dokument" });
    await list.getByRole("listitem").nth(2).waitFor();
    assert.equal(await list.getByRole("listitem").count(), 3);
    await list.getByText("Geteilt mit", { exact: false }).first().waitFor();
    await list.getByRole("button", { name: /Seite 1 · Notiz/ }).tap();
    await pageShown(a, 1);
    await waitForCount(a, ".viewer-annot-marker", 1);
    // Opening the note shows its text, rendered.
    await a.locator(".viewer-annot-marker").tap();
    await a.locator(".viewer-annot-popup strong", { hasText: "Lärmschutzwand" }).waitFor();
    await a.waitForTimeout(200);
    await a.screenshot({ path: join(SCREENSHOTS, "annotate-tablet.png") });
    copyFileSync(join(SCREENSHOTS, "annotate-tablet.png"), join(REPO, "docs/reader-annotations.png"));
    await expectNoAxeViolations(a, "viewer with annotations, list and note open");
    await b.getByRole("button", { name: "Anmerkungen (3)" }).tap();
    await screenshot(b, "annotate-second-device");
    await expectNoAxeViolations(b, "second device");

    // Deleting on A removes it on B.
    await a.getByRole("button", { name: "Markierung auf Seite 1 löschen" }).tap();
    await a.getByRole("status").filter({ hasText: "Markierung gelöscht." }).waitFor();
    await waitForCount(b, ".viewer-annot-layer rect.viewer-annot-highlight", 0);
    await b.getByRole("button", { name: "Anmerkungen (2)" }).waitFor();
    assert.equal(await count(b, ".viewer-annot-marker"), 1);

    noPageErrors(errorsA);
    noPageErrors(errorsB);
    await contextA.close();
    await contextB.close();
  });
});
