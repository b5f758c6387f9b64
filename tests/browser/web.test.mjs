// Browser tests of the web app shell (issue 6): login (with TOTP, and first-time enrolment),
// home, meeting, paper, devices, the public portal; axe-core on every screen; screenshots of
// every screen in target/screenshots/. Real server, real Debian chromium.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { axeViolations, formatViolations } from "./lib/axe.mjs";
import { launch, login, newContext, screenshot, watchErrors } from "./lib/browser.mjs";
import { startServer } from "./lib/server.mjs";
import { demoCode, totp } from "./lib/totp.mjs";

// Titles of non-public demo items and papers (crates/server/src/demo/data.rs).
const NON_PUBLIC = [
  "Personalangelegenheit",
  "Besetzung der Stelle Leitung Fachbereich Finanzen",
  "Verkauf des Grundstücks",
  "Nichtöffentliche Vorlage",
];

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

async function expectNoAxeViolations(page, screen) {
  const violations = await axeViolations(page);
  assert.equal(violations.length, 0, `axe on ${screen}:\n${formatViolations(violations)}`);
}

/** Screenshot + axe for one screen. */
async function check(page, name) {
  await page.waitForFunction(() => document.querySelector("#main .screen")?.getAttribute("aria-busy") === "false");
  await page.waitForTimeout(150);
  await screenshot(page, name);
  await expectNoAxeViolations(page, name);
}

function noPageErrors(errors) {
  const real = errors.filter((e) => e.startsWith("pageerror") || /Content Security Policy/.test(e));
  assert.deepEqual(real, [], "no script errors or CSP violations");
}

function base32Decode(text) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const ch of text.replace(/[\s=]/g, "").toUpperCase()) {
    const v = alphabet.indexOf(ch);
    if (v < 0) throw new Error(`not base32: ${ch}`);
    bits += v.toString(2).padStart(5, "0");
  }
  const bytes = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2));
  return Buffer.from(bytes);
}

async function json(path, { method = "GET", token, body } = {}) {
  const headers = { Accept: "application/json" };
  if (body) headers["Content-Type"] = "application/json";
  if (token) headers.Authorization = `Bearer ${token}`;
  const response = await fetch(`${server.url}${path}`, { method, headers, body: body ? JSON.stringify(body) : undefined });
  const text = await response.text();
  assert.ok(response.ok, `${method} ${path}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

/** Whether the server documents `path` in its OpenAPI (the files/search API lands separately). */
async function hasEndpoint(path) {
  const doc = await json("/api/v1/openapi.json");
  return Object.hasOwn(doc.paths ?? {}, path);
}

describe("web app", () => {
  test("1: a member signs in with a TOTP code, opens a meeting and reads an agenda item", async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    const errors = watchErrors(page);
    await page.goto(`${server.url}/#/login`);
    await check(page, "01-login");

    await page.getByLabel("Benutzername").fill("anna.hartmann");
    await page.getByLabel("Passwort", { exact: true }).fill("wrong password");
    await page.getByRole("button", { name: "Weiter" }).click();
    await page.getByRole("alert").filter({ hasText: "stimmen nicht" }).waitFor();
    await page.getByLabel("Passwort", { exact: true }).fill("Musterstadt-Demo-2026");
    await page.getByRole("button", { name: "Weiter" }).click();
    await page.getByLabel("Code aus Ihrer App").waitFor();
    await check(page, "02-login-code");
    await page.getByLabel("Code aus Ihrer App").fill(demoCode("anna.hartmann"));
    await page.getByRole("button", { name: "Anmelden", exact: true }).click();

    await page.getByRole("heading", { level: 1, name: "Meine Sitzungen" }).waitFor();
    await page.locator(".meeting-card").first().waitFor();
    await check(page, "03-home");

    await page.locator(".meeting-card .meeting-name a").first().click();
    await page.locator(".agenda-item").first().waitFor();
    const title = (await page.locator("h1").textContent()).trim();
    assert.ok(title.length > 0, "the meeting has a title");
    const item = page.locator(".agenda-item").first();
    const itemTitle = (await item.locator(".agenda-title").textContent()).trim();
    await item.locator("summary").click();
    assert.equal(await item.getAttribute("open"), "", "the agenda item opens");
    assert.ok(itemTitle.length > 0);
    await check(page, "04-meeting");

    // An item with a paper: its page opens from the agenda.
    const withPaper = page.locator(".agenda-item", { has: page.locator(".agenda-paper") }).first();
    if (await withPaper.count()) {
      await withPaper.locator("summary").click();
      await withPaper.locator(".agenda-paper a").click();
      await page.locator("h1").filter({ hasNotText: title }).waitFor();
      await page.getByRole("heading", { level: 2, name: "Beratungsfolge" }).waitFor();
      await check(page, "05-paper");
    }
    noPageErrors(errors);
    await context.close();
  });

  test("a member opens a PDF in the app's viewer, also offline once opened", async (t) => {
    if (!(await hasEndpoint("/api/v1/files/{id}"))) {
      t.skip("the file API is not in this build");
      return;
    }
    const context = await newContext(browser);
    const page = await context.newPage();
    await login(page, server.url, "heinz.ehrlich", demoCode("heinz.ehrlich"));
    // Find a meeting with a file (past meetings carry the protocols and papers).
    const meetings = await page.evaluate(async () => {
      const { api } = await import("/js/api.js");
      const all = await api.get("/api/v1/meetings?when=all");
      return all.data.map((m) => m.id);
    });
    // Meetings first, then the papers on their agendas: the first page with a PDF will do.
    const pages = meetings.map((id) => `#/meetings/${id}`);
    const seen = new Set();
    let opened = false;
    while (pages.length && !opened) {
      const hash = pages.shift();
      if (seen.has(hash)) continue;
      seen.add(hash);
      await page.goto(`${server.url}/${hash}`);
      await page.waitForFunction(() => document.querySelector("#main .screen")?.getAttribute("aria-busy") === "false");
      for (const href of await page.locator(".agenda-paper a").evaluateAll((as) => as.map((a) => a.getAttribute("href")))) {
        pages.push(href);
      }
      const viewerLinks = page.locator('a.file-link[href^="#/files/"]');
      if (!(await viewerLinks.count())) continue;
      const href = await viewerLinks.first().getAttribute("href");
      await page.goto(`${server.url}/${href}`);
      const shown = () => page.waitForFunction(() => document.querySelector(".viewer-page")?.dataset.rendered, null, { timeout: 15_000 });
      await shown();
      // The viewer keeps a copy on the device after the first page is on the screen.
      const url = await page.evaluate(async (id) => {
        const { api } = await import("/js/api.js");
        return (await api.get(`/api/v1/files/${id}`)).url;
      }, href.split("/").pop().split("?")[0]);
      const deadline = Date.now() + 15_000;
      while (!(await page.evaluate(async (url) => Boolean(await (await caches.open("plenum-docs-v1")).match(url)), url))) {
        assert.ok(Date.now() < deadline, "the viewer keeps a copy of the file");
        await page.waitForTimeout(200);
      }
      // Offline: the same file still opens in the viewer, from the copy kept on the device.
      await page.goto(`${server.url}/${hash}`);
      await page.waitForFunction(() => document.querySelector("#main .screen")?.getAttribute("aria-busy") === "false");
      await context.setOffline(true);
      await page.evaluate((href) => { window.location.hash = href; }, href);
      await shown();
      await context.setOffline(false);
      opened = true;
    }
    assert.ok(opened, "some meeting or paper of the member has a PDF");
    await context.close();
  });

  test("first login walks through enrolment: QR code, code, recovery codes once", async () => {
    // An admin creates a new account and its password is set through the setup link.
    const step1 = await json("/api/v1/auth/login", { method: "POST", body: { username: "admin", password: "Musterstadt-Demo-2026" } });
    const session = await json("/api/v1/auth/totp", { method: "POST", body: { mfa_token: step1.mfa_token, code: demoCode("admin") } });
    const created = await json("/api/v1/admin/users", {
      method: "POST", token: session.access_token,
      body: { username: "erika.neu", display_name: "Erika Neu" },
    });
    await json("/api/v1/auth/setup", { method: "POST", body: { token: created.setup_token, password: "Ein-sicheres-Passwort-2026" } });

    const context = await newContext(browser);
    const page = await context.newPage();
    const errors = watchErrors(page);
    await page.goto(`${server.url}/#/login`);
    await page.getByLabel("Benutzername").fill("erika.neu");
    await page.getByLabel("Passwort", { exact: true }).fill("Ein-sicheres-Passwort-2026");
    await page.getByRole("button", { name: "Weiter" }).click();
    await page.getByRole("heading", { level: 1, name: "Zweiten Faktor einrichten" }).waitFor();
    await page.locator("img.qr").waitFor();
    assert.ok((await page.locator("img.qr").getAttribute("src")).startsWith("data:image/svg+xml"));
    await check(page, "06-enrol-qr");
    const secret = await page.locator(".secret code").textContent();
    await page.getByLabel("Code aus Ihrer App").fill(totp(base32Decode(secret)));
    await page.getByRole("button", { name: "Einrichtung abschließen" }).click();
    await page.getByRole("heading", { level: 1, name: "Ihre Wiederherstellungscodes" }).waitFor();
    assert.equal(await page.locator(".recovery-codes li").count(), 10);
    const next = page.getByRole("button", { name: "Weiter zu Plenum" });
    assert.ok(await next.isDisabled(), "cannot continue before confirming the codes are saved");
    await check(page, "07-enrol-recovery-codes");
    const codes = await page.locator(".recovery-codes li").allTextContents();
    await page.getByLabel("Ich habe die Codes sicher aufbewahrt.").check();
    await next.click();
    await page.getByRole("heading", { level: 1, name: "Meine Sitzungen" }).waitFor();

    // Sign out; back in with a recovery code ("I don't have my phone").
    await page.getByRole("button", { name: "Abmelden" }).click();
    await page.getByRole("heading", { level: 1, name: "Anmelden" }).waitFor();
    await page.getByLabel("Benutzername").fill("erika.neu");
    await page.getByLabel("Passwort", { exact: true }).fill("Ein-sicheres-Passwort-2026");
    await page.getByRole("button", { name: "Weiter" }).click();
    await page.getByRole("button", { name: /Wiederherstellungscode verwenden/ }).click();
    await page.getByRole("textbox", { name: "Wiederherstellungscode" }).fill(codes[3].trim());
    await page.getByRole("button", { name: "Anmelden", exact: true }).click();
    await page.getByRole("status").filter({ hasText: "noch 9 Wiederherstellungscodes" }).waitFor();
    await check(page, "07b-recovery-code-left");
    await page.getByRole("button", { name: "Weiter zu Plenum" }).click();
    await page.getByRole("heading", { level: 1, name: "Meine Sitzungen" }).waitFor();
    noPageErrors(errors);
    await context.close();
  });

  test("devices: the member sees this device and can sign another one out", async () => {
    // A second session of the same member, opened over the API.
    const step1 = await json("/api/v1/auth/login", { method: "POST", body: { username: "susanne.richter", password: "Musterstadt-Demo-2026" } });
    await json("/api/v1/auth/totp", { method: "POST", body: { mfa_token: step1.mfa_token, code: demoCode("susanne.richter"), device_name: "Altes Tablet" } });

    const context = await newContext(browser, { portrait: true });
    const page = await context.newPage();
    await login(page, server.url, "susanne.richter", demoCode("susanne.richter", 1));
    await page.goto(`${server.url}/#/devices`);
    await page.locator(".device").nth(1).waitFor();
    assert.equal(await page.locator(".device-current").count(), 1);
    await check(page, "08-devices");
    await page.getByRole("button", { name: "Altes Tablet abmelden" }).click();
    await page.getByRole("button", { name: "Ja, abmelden" }).waitFor();
    await check(page, "09-devices-confirm");
    await page.getByRole("button", { name: "Ja, abmelden" }).click();
    await page.getByRole("status").filter({ hasText: "Altes Tablet wurde abgemeldet." }).waitFor();
    assert.equal(await page.locator(".device").count(), 1);

    // English, and the session survives a reload (refresh cookie; token only in memory).
    await page.getByRole("button", { name: "Switch to English" }).click();
    await page.getByRole("heading", { level: 1, name: "My devices" }).waitFor();
    await page.reload();
    await page.getByRole("heading", { level: 1, name: "My devices" }).waitFor();
    await page.goto(`${server.url}/#/`);
    await page.getByRole("heading", { level: 1, name: "My meetings" }).waitFor();
    await check(page, "10-home-english-portrait");
    await context.close();
  });

  test("calendar: a member creates the calendar address (shown once), a calendar app fetches it, the member ends it", async () => {
    const context = await newContext(browser);
    await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: server.url });
    const page = await context.newPage();
    const errors = watchErrors(page);
    await login(page, server.url, "thomas.schneider", demoCode("thomas.schneider"));
    await page.goto(`${server.url}/#/devices`);
    await page.getByRole("heading", { level: 2, name: "Kalender-Abo" }).waitFor();
    await page.getByText("Kein Kalender-Abo aktiv.").waitFor();
    await check(page, "09a-calendar-none");
    await page.getByRole("button", { name: "Kalender-Adresse erstellen" }).click();
    const field = page.getByLabel("Ihre Kalender-Adresse");
    await field.waitFor();
    const url = await field.inputValue();
    assert.match(url, /^http:\/\/[^/]+\/api\/v1\/calendar\/[A-Za-z0-9_-]{43}\.ics$/);
    await page.getByText("Ein Kalender-Abo ist aktiv.").waitFor();
    await check(page, "09b-calendar-created");
    await page.getByRole("button", { name: "Adresse kopieren" }).click();
    await page.getByRole("status").filter({ hasText: /kopiert|von Hand/ }).waitFor();

    // A calendar app: no login, just the URL.
    const response = await fetch(url);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("cache-control"), "private, no-store");
    const ics = await response.text();
    assert.ok(ics.startsWith("BEGIN:VCALENDAR\r\n"), ics.slice(0, 40));
    assert.ok(ics.includes("BEGIN:VEVENT"));
    for (const secret of NON_PUBLIC) assert.ok(!ics.includes(secret), `the feed shows “${secret}”`);

    // Shown once: after a reload the feed is active, its address is not on the screen.
    await page.reload();
    await page.getByText("Ein Kalender-Abo ist aktiv.").waitFor();
    assert.equal(await page.getByLabel("Ihre Kalender-Adresse").count(), 0);
    assert.ok(!(await page.locator("main").innerHTML()).includes(url.split("/").pop()));

    // English, then end the subscription (with a confirm step).
    await page.getByRole("button", { name: "Switch to English" }).click();
    await page.getByRole("heading", { level: 2, name: "Calendar subscription" }).waitFor();
    await page.getByRole("button", { name: "End subscription" }).click();
    await page.getByRole("button", { name: "Yes, end it" }).waitFor();
    await check(page, "09c-calendar-confirm-english");
    await page.getByRole("button", { name: "Yes, end it" }).click();
    await page.getByRole("status").filter({ hasText: "The calendar subscription was ended." }).waitFor();
    await page.getByText("No calendar subscription is active.").waitFor();
    assert.equal((await fetch(url)).status, 404);
    noPageErrors(errors);
    await context.close();
  });

  test("4: the public portal, visited anonymously, shows no non-public item", async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    const errors = watchErrors(page);
    await page.goto(`${server.url}/`);
    await page.getByRole("heading", { level: 1, name: "Öffentliche Ratsinformationen" }).waitFor();
    await check(page, "11-portal");
    // Keyboard: on a fresh load the first Tab reaches the skip link, Enter jumps to the content.
    await page.reload();
    await page.getByRole("heading", { level: 1, name: "Öffentliche Ratsinformationen" }).waitFor();
    await page.keyboard.press("Tab");
    assert.equal(await page.evaluate(() => document.activeElement.id), "skip-link");
    await page.keyboard.press("Enter");
    assert.equal(await page.evaluate(() => document.activeElement.id), "main");

    // Collect the public meetings of the last three and next three months.
    const meetingLinks = new Set();
    const collect = async () => {
      await page.waitForFunction(() => !document.querySelector(".month-nav ~ div p[role=status]"));
      for (const href of await page.locator(".meeting-card a").evaluateAll((as) => as.map((a) => a.getAttribute("href")))) {
        meetingLinks.add(href);
      }
    };
    await collect();
    for (let i = 0; i < 3; i += 1) {
      await page.getByRole("button", { name: "Vorheriger Monat" }).click();
      await page.waitForTimeout(300);
      await collect();
    }
    for (let i = 0; i < 6; i += 1) {
      await page.getByRole("button", { name: "Nächster Monat" }).click();
      await page.waitForTimeout(300);
      await collect();
    }
    assert.ok(meetingLinks.size >= 2, `public meetings found: ${[...meetingLinks]}`);
    const paperLinks = await page.locator(".paper-row a").evaluateAll((as) => as.map((a) => a.getAttribute("href")));
    assert.ok(paperLinks.length >= 1, "public papers are listed");

    let first = true;
    for (const href of meetingLinks) {
      assert.match(href, /^#\/portal\/meetings\//);
      await page.goto(`${server.url}/${href}`);
      await page.locator("h1").waitFor();
      await page.waitForFunction(() => document.querySelector("#main .screen")?.getAttribute("aria-busy") === "false");
      assert.equal(await page.locator(".mark-private").count(), 0, `${href} shows a non-public item`);
      const text = await page.locator("main").textContent();
      for (const secret of NON_PUBLIC) assert.ok(!text.includes(secret), `${href} shows “${secret}”`);
      if (first && (await page.locator(".agenda-item").count())) {
        await page.locator(".agenda-item summary").first().click();
        await check(page, "12-portal-meeting");
        first = false;
      }
    }
    for (const href of paperLinks) {
      await page.goto(`${server.url}/${href}`);
      await page.locator("h1").waitFor();
      await page.waitForFunction(() => document.querySelector("#main .screen")?.getAttribute("aria-busy") === "false");
      const text = await page.locator("main").textContent();
      for (const secret of NON_PUBLIC) assert.ok(!text.includes(secret), `${href} shows “${secret}”`);
    }
    await page.goto(`${server.url}/${paperLinks[0]}`);
    await check(page, "13-portal-paper");

    // Member-only routes send anonymous visitors to the login.
    await page.goto(`${server.url}/#/devices`);
    await page.getByRole("heading", { level: 1, name: "Anmelden" }).waitFor();
    noPageErrors(errors);
    await context.close();
  });

  test("4: the public search, used anonymously, finds no non-public item", async (t) => {
    if (!(await hasEndpoint("/api/v1/public/search"))) {
      t.skip("the search API is not in this build");
      return;
    }
    const context = await newContext(browser);
    const page = await context.newPage();
    await page.goto(`${server.url}/#/portal`);
    await page.getByLabel("Sitzungen, Vorlagen und Dateien durchsuchen").fill("Personalangelegenheit");
    await page.getByRole("button", { name: "Suchen" }).click();
    await page.locator(".search-out [role=status]").waitFor();
    const found = await page.locator(".search-out").textContent();
    assert.ok(!found.includes("Besetzung der Stelle"), "public search shows no non-public item");
    await page.getByLabel("Sitzungen, Vorlagen und Dateien durchsuchen").fill("Haushalt");
    await page.getByRole("button", { name: "Suchen" }).click();
    await page.locator(".search-hit").first().waitFor();
    await check(page, "14-portal-search");
    await context.close();
  });
});
