// Browser test of the offline reading room (issue 18), on a tablet (portrait, touch): a member
// keeps a meeting offline ("Für offline speichern", the progress bar reaching 100 %), goes offline,
// opens the meeting, its paper and a PDF from the stored copy, pins a note (queued: "wartet auf
// Verbindung") and edits an annotation that is edited meanwhile through the API. The app is
// reloaded offline: the queue survives. Back online the note reaches the server, the edit shows as
// a conflict with both texts, and keeping the member's version sends it on top of the other.
// A file deleted meanwhile is deleted from the device by the sync; removing the copy empties it.
// Screenshots: target/screenshots/offline-*.png; docs/offline.png.

import assert from "node:assert/strict";
import { copyFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { axeViolations, formatViolations } from "./lib/axe.mjs";
import { SCREENSHOTS, launch, login, screenshot, watchErrors } from "./lib/browser.mjs";
import { paperPages, samplePdf } from "./lib/pdf.mjs";
import { REPO, startServer } from "./lib/server.mjs";
import { demoCode } from "./lib/totp.mjs";

const USER = "thomas.schneider";

let server;
let browser;
let clerk;
let member;
let meeting;
let paper;
let fileId;
let extraId;
let serverNote;

async function call(path, { method = "GET", auth, body, raw, ifMatch } = {}) {
  const headers = { Accept: "application/json" };
  if (body && !raw) headers["Content-Type"] = "application/json";
  if (raw) headers["Content-Type"] = raw.type;
  if (auth) headers.Authorization = `Bearer ${auth}`;
  if (ifMatch) headers["If-Match"] = ifMatch;
  const response = await fetch(`${server.url}${path}`, {
    method, headers, body: raw ? raw.body : body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  return { status: response.status, data: text ? JSON.parse(text) : null };
}

async function json(path, options) {
  const { status, data } = await call(path, options);
  assert.ok(status >= 200 && status < 300, `${options?.method ?? "GET"} ${path}: ${status} ${JSON.stringify(data)}`);
  return data;
}

async function signIn(username, offset = 0) {
  const step = await json("/api/v1/auth/login", { method: "POST", body: { username, password: "Musterstadt-Demo-2026" } });
  const session = await json("/api/v1/auth/totp", { method: "POST", body: { mfa_token: step.mfa_token, code: demoCode(username, offset) } });
  return session.access_token;
}

async function upload(name, pdf) {
  const boundary = "plenum-browser-boundary";
  const body = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="paper_id"\r\n\r\n${paper.id}\r\n`
      + `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\n`
      + "Content-Type: application/pdf\r\n\r\n"),
    pdf, Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  const file = await json("/api/v1/files", { method: "POST", auth: clerk, raw: { type: `multipart/form-data; boundary=${boundary}`, body } });
  const deadline = Date.now() + 30_000;
  while ((await json(`/api/v1/files/${file.id}`, { auth: clerk })).text_status === "pending") {
    assert.ok(Date.now() < deadline, "text extraction finished");
    await new Promise((r) => setTimeout(r, 200));
  }
  return file.id;
}

before(async () => {
  server = await startServer();
  browser = await launch();
  clerk = await signIn("martina.sommer");
  member = await signIn(USER, -1);
  // The member's next meeting with a paper on its agenda.
  const upcoming = await json("/api/v1/meetings?when=upcoming", { auth: member });
  for (const m of upcoming.data) {
    if (m.state === "cancelled") continue;
    const detail = await json(`/api/v1/meetings/${m.id}`, { auth: member });
    const item = detail.agenda.find((i) => i.paper);
    if (item) {
      meeting = detail;
      paper = item.paper;
      break;
    }
  }
  assert.ok(meeting, "the member has an upcoming meeting with a paper");
  fileId = await upload("Haushalt Offline.pdf", samplePdf(paperPages(4, { 1: "Der Haushalt 2027 im Überblick." }), { padding: 60_000 }));
  extraId = await upload("Anlage Entwurf.pdf", samplePdf(paperPages(2, {})));
  // An annotation the member made before, online: edited offline later, and meanwhile elsewhere.
  serverNote = await json(`/api/v1/files/${fileId}/annotations`, {
    method: "POST", auth: member, body: { kind: "note", page: 1, point: { x: 400, y: 120 }, body: "Erste Fassung" },
  });
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

async function settled(page) {
  await page.waitForFunction(() => document.querySelector("#main .screen")?.getAttribute("aria-busy") === "false");
}

async function pageShown(page, n) {
  await page.waitForFunction((n) => {
    const box = document.querySelector(".viewer-page");
    return box && box.dataset.page === String(n) && box.dataset.rendered;
  }, n, { timeout: 20_000 });
}

function noPageErrors(errors) {
  const real = errors.filter((e) => e.startsWith("pageerror") || /Content Security Policy/.test(e));
  assert.deepEqual(real, [], "no script errors or CSP violations");
}

/** What the offline store holds: the kept JSON paths and the cached file URLs. */
async function stored(page) {
  return page.evaluate(async () => {
    const db = await new Promise((ok, fail) => {
      const r = indexedDB.open("plenum-offline");
      r.onsuccess = () => ok(r.result);
      r.onerror = () => fail(r.error);
    });
    const all = (name) => new Promise((ok) => {
      const r = db.transaction(name).objectStore(name).getAll();
      r.onsuccess = () => ok(r.result);
    });
    const docs = await all("docs");
    const meetings = await all("meetings");
    const queue = await all("queue");
    db.close();
    const cache = await caches.open("plenum-docs-v1");
    const urls = (await cache.keys()).map((r) => new URL(r.url).pathname);
    return { keys: docs.map((d) => d.key), meetings, queue, urls };
  });
}

test("a member keeps a meeting offline, reads and annotates without a connection, and resolves a conflict", async () => {
  const context = await tablet();
  const page = await context.newPage();
  const errors = watchErrors(page);
  await login(page, server.url, USER, demoCode(USER));

  // 1. Keep the meeting offline: the progress bar reaches 100 %.
  await page.goto(`${server.url}/#/meetings/${meeting.id}`);
  await settled(page);
  const block = page.getByTestId("keep-block");
  await block.getByRole("heading", { name: /Offline lesen/ }).waitFor();
  await block.getByRole("button", { name: "Für offline speichern" }).tap();
  await page.getByTestId("keep-status").filter({ hasText: "Offline gespeichert" }).waitFor({ timeout: 60_000 });
  const progress = await page.getByTestId("keep-progress-text").textContent();
  assert.match(progress, /\(100 %\)/, `progress: ${progress}`);
  const [, done, total] = progress.match(/^(\d+) von (\d+) Dateien/);
  assert.equal(done, total, "every file stored");
  assert.ok(Number(total) >= 2, "the paper's files are among them");
  assert.equal(await page.getByTestId("keep-progress").evaluate((p) => p.value), 100);
  assert.match(await page.getByTestId("keep-space").textContent(), /Belegt auf diesem Gerät: .+B/);
  await block.getByTestId("keep-badge").waitFor();
  await block.scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(SCREENSHOTS, "offline-progress.png") });
  const violations = await axeViolations(page);
  assert.equal(violations.length, 0, `axe on the meeting with the offline block:\n${formatViolations(violations)}`);

  let store = await stored(page);
  for (const key of [`/api/v1/meetings/${meeting.id}`, `/api/v1/papers/${paper.id}`, `/api/v1/files/${fileId}`,
    `/api/v1/files/${fileId}/annotations`, `/api/v1/files/${extraId}`]) {
    assert.ok(store.keys.includes(key), `${key} is kept`);
  }
  assert.ok(store.urls.includes(`/api/v1/files/${fileId}/content`), "the file's bytes are kept");
  assert.ok(store.urls.includes(`/api/v1/files/${extraId}/content`), "the attachment's bytes are kept");

  // The home screen lists it, and its card carries the badge.
  await page.goto(`${server.url}/#/`);
  await settled(page);
  await page.getByTestId("kept").getByRole("link", { name: meeting.name }).waitFor();
  await page.locator(".meeting-card", { hasText: meeting.name }).getByTestId("kept-badge").first().waitFor();
  await screenshot(page, "offline-home");

  // 2. Offline: the meeting, the paper and the file open from the stored copy.
  await context.setOffline(true);
  await page.evaluate((id) => { window.location.hash = `#/meetings/${id}`; }, meeting.id);
  await settled(page);
  await page.getByRole("heading", { level: 1, name: meeting.name }).waitFor();
  await page.getByTestId("keep-state").filter({ hasText: "Ohne Verbindung" }).waitFor();
  await page.evaluate((id) => { window.location.hash = `#/papers/${id}`; }, paper.id);
  await settled(page);
  await page.getByRole("heading", { level: 1, name: paper.title }).waitFor();
  await page.locator("a.file-link", { hasText: "Haushalt Offline.pdf" }).tap();
  await pageShown(page, 1);

  // A note pinned offline: stored on the device, waiting.
  const toolbar = page.getByRole("toolbar", { name: "Anmerkungen" });
  await toolbar.getByRole("button", { name: /^Notiz/ }).tap();
  const box = await page.locator(".viewer-page").boundingBox();
  await page.touchscreen.tap(box.x + box.width * 0.25, box.y + 300);
  await page.getByLabel("Notiztext").fill("Offline notiert: **Rücklage** prüfen");
  await page.getByRole("button", { name: "Speichern" }).tap();
  await page.getByRole("status").filter({ hasText: "wartet auf Verbindung" }).waitFor();

  // The annotation made online before is edited offline.
  await toolbar.getByRole("button", { name: /^Anmerkungen \(2\)/ }).tap();
  const list = page.getByRole("navigation", { name: "Anmerkungen im Dokument" });
  const old = list.locator(`[data-annotation="${serverNote.id}"]`);
  await old.locator(".rich", { hasText: "Erste Fassung" }).waitFor();
  await old.getByRole("button", { name: "Notiz auf Seite 1 bearbeiten" }).tap();
  await old.getByLabel("Notiztext").fill("Meine Offline-Fassung");
  await old.getByRole("button", { name: "Speichern" }).tap();
  await old.getByTestId("annot-waiting").waitFor();
  assert.equal(await list.getByTestId("annot-waiting").count(), 2, "both changes wait");
  // The list shows the server's rendered text, not Markdown; a text not yet sent as typed.
  await page.waitForTimeout(200);
  await page.screenshot({ path: join(SCREENSHOTS, "offline-queued.png") });

  // Meanwhile, on another device, the same annotation is edited.
  await json(`/api/v1/notes/${serverNote.id}`, { method: "PATCH", auth: member, ifMatch: `"${serverNote.version}"`, body: { body: "Fassung vom Laptop" } });
  // And the clerk deletes the draft attachment.
  const removed = await call(`/api/v1/files/${extraId}`, { method: "DELETE", auth: clerk });
  assert.ok(removed.status === 204 || removed.status === 200, `file deleted: ${removed.status}`);

  // 3. The app restarts without a connection: the kept copy and the queue are still there.
  await page.reload();
  await pageShown(page, 1);
  await toolbar.getByRole("button", { name: /^Anmerkungen \(2\)/ }).tap();
  await list.getByTestId("annot-waiting").nth(1).waitFor();
  store = await stored(page);
  assert.equal(store.queue.length, 2, "two changes wait in the durable queue");
  const before = await json(`/api/v1/files/${fileId}/annotations`, { auth: member });
  assert.equal(before.length, 1, "nothing reached the server yet");

  // 4. Online again: sent in order; the edit is a conflict with both texts.
  await context.setOffline(false);
  const deadline = Date.now() + 30_000;
  let notes;
  for (;;) {
    notes = await json(`/api/v1/files/${fileId}/annotations`, { auth: member });
    if (notes.length === 2) break;
    assert.ok(Date.now() < deadline, "the queued note reaches the server");
    await new Promise((r) => setTimeout(r, 300));
  }
  const created = notes.find((n) => n.id !== serverNote.id);
  assert.equal(created.body, "Offline notiert: **Rücklage** prüfen");
  assert.equal(created.annotation.kind, "note");
  const conflict = list.locator(`[data-annotation="${serverNote.id}"]`);
  await conflict.getByTestId("annot-conflict").waitFor({ timeout: 20_000 });
  await conflict.getByText("Meine Offline-Fassung").waitFor();
  await conflict.getByText("Fassung vom Laptop").waitFor();
  // The new note is listed as the server rendered it.
  await list.locator(`[data-annotation="${created.id}"] .rich strong`, { hasText: "Rücklage" }).waitFor();
  assert.equal((await json(`/api/v1/notes/${serverNote.id}`, { auth: member })).body, "Fassung vom Laptop", "the other edit is not overwritten unasked");
  await conflict.scrollIntoViewIfNeeded();
  await page.waitForTimeout(200);
  await page.screenshot({ path: join(SCREENSHOTS, "offline-conflict.png") });
  copyFileSync(join(SCREENSHOTS, "offline-conflict.png"), join(REPO, "docs/offline.png"));
  const viewerViolations = await axeViolations(page);
  assert.equal(viewerViolations.length, 0, `axe on the viewer with a conflict:\n${formatViolations(viewerViolations)}`);

  // Keeping the member's version sends it on top of the other one.
  await conflict.getByRole("button", { name: "Meine Fassung behalten" }).tap();
  await conflict.getByTestId("annot-conflict").waitFor({ state: "detached", timeout: 15_000 });
  await page.getByRole("status").filter({ hasText: "Notiz gespeichert." }).waitFor();
  let after;
  const sent = Date.now() + 15_000;
  while ((after = await json(`/api/v1/notes/${serverNote.id}`, { auth: member })).body !== "Meine Offline-Fassung") {
    assert.ok(Date.now() < sent, `the member's version reaches the server (${after.body})`);
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.ok(after.version > serverNote.version + 1, "a new version on top of the other edit");
  const history = await json(`/api/v1/notes/${serverNote.id}/history`, { auth: member });
  assert.ok(JSON.stringify(history).includes("Fassung vom Laptop"), "the other edit stays in the history");
  store = await stored(page);
  assert.equal(store.queue.length, 0, "the queue is empty");

  // 5. The sync after reconnecting deleted the file the member can no longer read.
  const syncDeadline = Date.now() + 30_000;
  for (;;) {
    store = await stored(page);
    if (!store.keys.includes(`/api/v1/files/${extraId}`)) break;
    assert.ok(Date.now() < syncDeadline, "the deleted file leaves the device");
    await page.waitForTimeout(300);
  }
  assert.ok(!store.urls.includes(`/api/v1/files/${extraId}/content`), "its bytes too");
  assert.ok(store.keys.includes(`/api/v1/files/${fileId}`), "the rest stays");

  // 6. Removing the offline copy empties the store.
  await page.goto(`${server.url}/#/meetings/${meeting.id}`);
  await settled(page);
  await page.getByTestId("keep-remove").tap();
  await page.getByTestId("keep-status").filter({ hasText: "entfernt" }).waitFor();
  store = await stored(page);
  assert.equal(store.meetings.length, 0);
  assert.deepEqual(store.keys, [], "nothing is left of it");
  assert.ok(!store.urls.includes(`/api/v1/files/${fileId}/content`));

  noPageErrors(errors);
  await context.close();
});

test("conflicts: an annotation edited offline was deleted elsewhere, one deleted offline was edited elsewhere", async () => {
  const deletedElsewhere = await json(`/api/v1/files/${fileId}/annotations`, {
    method: "POST", auth: member, body: { kind: "note", page: 2, point: { x: 100, y: 200 }, body: "Wird anderswo gelöscht" },
  });
  const editedElsewhere = await json(`/api/v1/files/${fileId}/annotations`, {
    method: "POST", auth: member, body: { kind: "note", page: 2, point: { x: 300, y: 200 }, body: "Wird anderswo geändert" },
  });
  const context = await tablet();
  const page = await context.newPage();
  const errors = watchErrors(page);
  await login(page, server.url, USER, demoCode(USER, 1));
  await page.goto(`${server.url}/#/meetings/${meeting.id}`);
  await settled(page);
  await page.getByRole("button", { name: "Für offline speichern" }).tap();
  await page.getByTestId("keep-status").filter({ hasText: "Offline gespeichert" }).waitFor({ timeout: 60_000 });

  await context.setOffline(true);
  await page.evaluate((id) => { window.location.hash = `#/files/${id}?page=2`; }, fileId);
  await pageShown(page, 2);
  const toolbar = page.getByRole("toolbar", { name: "Anmerkungen" });
  await toolbar.getByRole("button", { name: /^Anmerkungen \(\d+\)/ }).tap();
  const list = page.getByRole("navigation", { name: "Anmerkungen im Dokument" });
  const a = list.locator(`[data-annotation="${deletedElsewhere.id}"]`);
  const b = list.locator(`[data-annotation="${editedElsewhere.id}"]`);
  await a.getByRole("button", { name: "Notiz auf Seite 2 bearbeiten" }).tap();
  await a.getByLabel("Notiztext").fill("Meine Ergänzung zu A");
  await a.getByRole("button", { name: "Speichern" }).tap();
  await a.getByTestId("annot-waiting").waitFor();
  await b.getByRole("button", { name: "Notiz auf Seite 2 löschen" }).tap();
  await b.waitFor({ state: "detached" });
  await page.getByRole("status").filter({ hasText: "sobald wieder eine Verbindung besteht" }).waitFor();

  // Meanwhile, elsewhere: A deleted, B edited.
  const gone = await call(`/api/v1/notes/${deletedElsewhere.id}`, { method: "DELETE", auth: member, ifMatch: `"${deletedElsewhere.version}"` });
  assert.equal(gone.status, 204);
  await json(`/api/v1/notes/${editedElsewhere.id}`, { method: "PATCH", auth: member, ifMatch: `"${editedElsewhere.version}"`, body: { body: "Anderswo geändert" } });

  await context.setOffline(false);
  await a.getByTestId("annot-conflict").waitFor({ timeout: 30_000 });
  await b.getByTestId("annot-conflict").waitFor({ timeout: 30_000 });
  await a.getByText("Meine Ergänzung zu A").waitFor();
  await a.getByText("(gelöscht)").waitFor();
  await b.getByText("Anderswo geändert", { exact: true }).waitFor();
  await screenshot(page, "offline-conflicts-deleted");

  // A: kept as a new annotation at the same place; B: the deletion is discarded.
  await a.getByRole("button", { name: "Als neue Anmerkung behalten" }).tap();
  await b.getByRole("button", { name: "Meine Änderung verwerfen" }).tap();
  await b.getByTestId("annot-conflict").waitFor({ state: "detached", timeout: 15_000 });
  await b.locator(".rich", { hasText: "Anderswo geändert" }).waitFor();
  const deadline = Date.now() + 15_000;
  let recreated;
  for (;;) {
    const notes = await json(`/api/v1/files/${fileId}/annotations`, { auth: member });
    recreated = notes.find((n) => n.body === "Meine Ergänzung zu A");
    if (recreated) break;
    assert.ok(Date.now() < deadline, "the member's text comes back as a new annotation");
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.deepEqual(recreated.annotation.point, { x: 100, y: 200 }, "at the same place");
  assert.equal(recreated.annotation.page, 2);
  assert.equal((await json(`/api/v1/notes/${editedElsewhere.id}`, { auth: member })).body, "Anderswo geändert", "B stays as edited elsewhere");
  assert.equal((await stored(page)).queue.length, 0, "the queue is empty");
  noPageErrors(errors);
  await context.close();
});
