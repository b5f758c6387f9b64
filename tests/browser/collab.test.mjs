// Browser tests of notes and forums (issue 7): a note shared with a fraction reaches a fellow
// member live and never a member of another fraction; a forum thread with a reply and the unread
// badge; XSS payloads in notes and posts stay inert; axe-core and screenshots of the new screens.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { axeViolations, formatViolations } from "./lib/axe.mjs";
import { launch, login, newContext, screenshot, watchErrors } from "./lib/browser.mjs";
import { startServer } from "./lib/server.mjs";
import { demoCode } from "./lib/totp.mjs";

const XSS = [
  "<script>window.__xss = 'script'</script>",
  "<img src=x onerror=\"window.__xss = 'img'\">",
  "[klick](javascript:window.__xss='link')",
  "<svg onload=\"window.__xss = 'svg'\"></svg>",
].join("\n\n");

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
  await page.waitForTimeout(200);
}

async function check(page, name) {
  await settled(page);
  await screenshot(page, name);
  const violations = await axeViolations(page);
  assert.equal(violations.length, 0, `axe on ${name}:\n${formatViolations(violations)}`);
}

/** A signed-in page that records dialogs and script errors. */
async function member(username, offset = 0) {
  const context = await newContext(browser);
  const page = await context.newPage();
  const errors = watchErrors(page);
  const dialogs = [];
  page.on("dialog", async (dialog) => {
    dialogs.push(dialog.message());
    await dialog.dismiss();
  });
  await login(page, server.url, username, demoCode(username, offset));
  return { context, page, errors, dialogs };
}

async function inert(who) {
  const flag = await who.page.evaluate(() => window.__xss ?? null);
  assert.equal(flag, null, "no XSS payload ran");
  assert.deepEqual(who.dialogs, [], "no dialog fired");
  const live = await who.page.evaluate(() => ({
    scripts: document.querySelectorAll("#main script").length,
    handlers: [...document.querySelectorAll("#main *")].filter((n) => [...n.attributes].some((a) => /^on/i.test(a.name))).length,
    jsLinks: [...document.querySelectorAll("#main a[href]")].filter((a) => /^\s*javascript:/i.test(a.getAttribute("href"))).length,
    svgs: document.querySelectorAll("#main .rich svg").length,
  }));
  assert.deepEqual(live, { scripts: 0, handlers: 0, jsLinks: 0, svgs: 0 });
  const real = who.errors.filter((e) => e.startsWith("pageerror") || /Content Security Policy/.test(e));
  assert.deepEqual(real, [], "no script errors or CSP violations");
}

async function aPaper(page) {
  const meetings = await page.evaluate(async () => {
    const { api } = await import("/js/api.js");
    const all = await api.get("/api/v1/meetings?when=all");
    return all.data.map((m) => m.id);
  });
  for (const id of meetings) {
    await page.goto(`${server.url}/#/meetings/${id}`);
    await settled(page);
    const href = await page.locator(".agenda-paper a").first().getAttribute("href").catch(() => null);
    if (href) return href;
  }
  throw new Error("no paper on any agenda");
}

describe("notes and forums", () => {
  test("a note shared with the fraction reaches a fellow member live, not another fraction; XSS inert", async () => {
    const thomas = await member("thomas.schneider"); // BU
    const sabine = await member("sabine.fischer"); // BU
    const susanne = await member("susanne.richter"); // SM
    const paper = await aPaper(thomas.page);

    await sabine.page.goto(`${server.url}/#/notes`);
    await settled(sabine.page);

    await thomas.page.goto(`${server.url}/${paper}`);
    await settled(thomas.page);
    await thomas.page.getByLabel("Notiz (Markdown)").fill(`Fraktionslinie: **zustimmen**\n\n${XSS}`);
    await thomas.page.getByLabel("Seite (optional)").fill("3");
    await thomas.page.evaluate(() => {
      const select = document.querySelector(".notes-panel select");
      const option = [...select.options].find((o) => o.textContent.includes("BU") || o.textContent.includes("Bürgerunion"));
      select.value = option.value;
    });
    await thomas.page.getByRole("button", { name: "Speichern" }).click();
    const mine = thomas.page.locator(".notes-panel article.note", { hasText: "Fraktionslinie" });
    await mine.waitFor();
    assert.match(await mine.textContent(), /Meine Notiz/);
    assert.match(await mine.textContent(), /Geteilt mit/);
    assert.match(await mine.textContent(), /Seite 3/);
    await check(thomas.page, "30-paper-notes");

    // Live on the fellow member's "My notes", marked with who shared it and where.
    const shared = sabine.page.locator("article.note", { hasText: "Fraktionslinie" });
    await shared.waitFor({ timeout: 10_000 });
    assert.match(await shared.textContent(), /Von Thomas Schneider/);
    assert.equal(await shared.getByRole("button", { name: "Bearbeiten" }).count(), 0, "not editable by others");
    await check(sabine.page, "31-my-notes");
    await inert(sabine);

    // A member of another fraction sees nothing, on the paper and in her notes.
    await susanne.page.goto(`${server.url}/${paper}`);
    await settled(susanne.page);
    await susanne.page.locator(".notes-panel .notes-list").waitFor();
    await susanne.page.waitForTimeout(300);
    assert.equal(await susanne.page.locator("article.note", { hasText: "Fraktionslinie" }).count(), 0);
    await susanne.page.goto(`${server.url}/#/notes`);
    await settled(susanne.page);
    assert.equal(await susanne.page.locator("article.note", { hasText: "Fraktionslinie" }).count(), 0);

    // The author edits it (If-Match with the version) and deletes it.
    await mine.getByRole("button", { name: "Bearbeiten" }).click();
    await thomas.page.locator(".notes-panel article textarea").fill("Fraktionslinie: **ablehnen**");
    await thomas.page.locator(".notes-panel article").getByRole("button", { name: "Speichern" }).click();
    await thomas.page.locator(".notes-panel article.note", { hasText: "ablehnen" }).waitFor();
    await inert(thomas);

    // Audiences in words, with their readers; moving the note out of the fraction asks first.
    const note = thomas.page.locator(".notes-panel article.note", { hasText: "ablehnen" });
    assert.match(await note.textContent(), /Geteilt mit Fraktion Bürgerunion Musterstadt \(BU\)/);
    await note.getByRole("button", { name: "Bearbeiten" }).click();
    const select = thomas.page.locator(".notes-panel article select");
    const labels = await select.locator("option").allTextContents();
    assert.ok(labels.includes("Fraktion Bürgerunion Musterstadt (BU) – 11 Personen"), labels.join(" | "));
    const council = labels.find((l) => /– alle \d+ Ratsmitglieder$/.test(l));
    assert.ok(council, labels.join(" | "));
    assert.ok(!labels.some((l) => /^[A-Za-z]+$/.test(l)), `no bare abbreviations: ${labels.join(" | ")}`);
    await select.selectOption({ label: council });
    await thomas.page.locator(".notes-panel article").getByRole("button", { name: "Speichern" }).click();
    const dialog = thomas.page.getByTestId("audience-dialog");
    await dialog.waitFor();
    assert.match(await dialog.innerText(), /Bisher lesen diese Notiz nur Fraktion Bürgerunion Musterstadt \(BU\)\. Geteilt mit Rat .* lesen sie \d+ Personen – auch Mitglieder anderer Fraktionen/);
    await check(thomas.page, "36-note-leaves-fraction");
    // Going back keeps the note in the fraction.
    await dialog.getByTestId("dialog-cancel").click();
    await dialog.waitFor({ state: "detached" });
    await thomas.page.locator(".notes-panel article").getByRole("button", { name: "Abbrechen" }).click();
    await thomas.page.locator(".notes-panel article.note", { hasText: "Geteilt mit Fraktion Bürgerunion" }).waitFor();
    // Confirmed: the council reads it, the other fraction's member included.
    await thomas.page.locator(".notes-panel article.note", { hasText: "ablehnen" }).getByRole("button", { name: "Bearbeiten" }).click();
    await thomas.page.locator(".notes-panel article select").selectOption({ label: council });
    await thomas.page.locator(".notes-panel article").getByRole("button", { name: "Speichern" }).click();
    await thomas.page.getByTestId("audience-dialog").getByTestId("dialog-confirm").click();
    await thomas.page.locator(".notes-panel article.note", { hasText: "Geteilt mit Rat" }).waitFor();
    await susanne.page.goto(`${server.url}/${paper}`);
    await settled(susanne.page);
    await susanne.page.locator("article.note", { hasText: "ablehnen" }).waitFor({ timeout: 10_000 });

    for (const who of [thomas, sabine, susanne]) await who.context.close();
  });

  test("forum thread with a reply, unread badge, pin for the chair; XSS inert", async () => {
    // Signed in in the test before: the next 30-second code (each code is usable once).
    const thomas = await member("thomas.schneider", 1);
    const sabine = await member("petra.meyer"); // BU, no office
    await sabine.page.goto(`${server.url}/#/forums`);
    await settled(sabine.page);

    await thomas.page.goto(`${server.url}/#/forums`);
    await settled(thomas.page);
    await check(thomas.page, "32-forums");
    await thomas.page.getByRole("link", { name: /Bürgerunion/ }).click();
    await settled(thomas.page);
    await thomas.page.getByLabel("Titel").fill("Haushalt 2027");
    await thomas.page.getByLabel("Beitrag (Markdown)").fill(`Wie stimmen wir ab?\n\n${XSS}`);
    await thomas.page.getByRole("button", { name: "Thema eröffnen" }).click();
    await thomas.page.getByRole("heading", { level: 1, name: "Haushalt 2027" }).waitFor();
    // The chair may pin.
    await thomas.page.getByRole("button", { name: "Anheften" }).click();
    await thomas.page.getByRole("button", { name: "Lösen" }).waitFor();

    // The fellow member's header badge and forum list update live.
    await sabine.page.locator("#nav-unread").waitFor({ timeout: 10_000 });
    await sabine.page.locator(".forum-entry .badge-unread").waitFor({ timeout: 10_000 });
    await check(sabine.page, "33-forums-unread");
    await sabine.page.getByRole("link", { name: /Bürgerunion/ }).click();
    await settled(sabine.page);
    await check(sabine.page, "34-threads");
    await sabine.page.getByRole("link", { name: "Haushalt 2027" }).click();
    await sabine.page.getByRole("heading", { level: 1, name: "Haushalt 2027" }).waitFor();
    assert.equal(await sabine.page.getByRole("button", { name: "Anheften" }).count()
      + await sabine.page.getByRole("button", { name: "Lösen" }).count(), 0, "no moderation for members");
    await sabine.page.getByRole("button", { name: "Antworten" }).first().click();
    await sabine.page.locator("form textarea").fill(`Zustimmen. ${XSS}`);
    await sabine.page.getByRole("button", { name: "Beitrag senden" }).click();
    await sabine.page.locator(".post", { hasText: "Zustimmen." }).waitFor();
    assert.match(await sabine.page.locator(".post", { hasText: "Zustimmen." }).textContent(), /Antwort an Thomas Schneider/);
    await check(sabine.page, "35-thread");
    await inert(sabine);

    // The reply reaches the author live.
    await thomas.page.locator(".post", { hasText: "Zustimmen." }).waitFor({ timeout: 10_000 });
    await inert(thomas);
    for (const who of [thomas, sabine]) await who.context.close();
  });
});
