// Live session in real browsers: the chair runs a named vote, three members vote from their own
// contexts, the room display follows; a member goes offline mid-poll and catches up; the
// anonymous room display never shows a non-public item; axe-core on every live screen.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { startServer } from "./lib/server.mjs";
import { launch, login, newContext, screenshot, watchErrors, signedInPage } from "./lib/browser.mjs";
import { demoCode } from "./lib/totp.mjs";
import { axeViolations, formatViolations } from "./lib/axe.mjs";
import { apiLogin as signIn } from "./lib/api.mjs";
import { demoId } from "./lib/demo.mjs";

const MEETING = demoId("meeting:rat-3"); // "3. Sitzung des Rates der Stadt Musterstadt"
const CHAIR = "katharina.brandt";
const MEMBERS = ["anna.hartmann", "heinz.ehrlich", "thomas.schneider"];

let server;
let browser;
const chair = {};
const members = [];
const display = {};

const signedIn = (username) => signedInPage(browser, server.url, username);

/** An access token over the REST API (the next TOTP step: the browser used this one). */
const apiLogin = (username, offset = 1) => signIn(server.url, username, offset);

async function go(page, hash) {
  await page.evaluate((h) => {
    window.location.hash = h;
  }, hash);
}

async function checkA11y(page, name) {
  const violations = await axeViolations(page);
  assert.equal(violations.length, 0, `${name}: ${formatViolations(violations)}`);
}

/**
 * Opens the chair's newest draft poll. The demo council has far fewer members checked in than
 * its quorum, so the console first asks, naming the count; nothing opens before the answer.
 */
async function openBelowQuorum(c, { shot = null } = {}) {
  await c.getByTestId("open-poll").click();
  const dialog = c.getByTestId("quorum-dialog");
  await dialog.waitFor();
  assert.match(await dialog.innerText(), /Nicht beschlussfähig: \d+ von \d+ anwesend, nötig \d+/);
  assert.equal(await c.locator("[data-poll].live-poll-open").count(), 0, "nothing opened before the answer");
  if (shot) {
    await screenshot(c, shot);
    await checkA11y(c, "chair (quorum dialog)");
  }
  await dialog.getByTestId("dialog-confirm").click();
  await c.locator("[data-poll].live-poll-open").waitFor();
}

describe("live session", { timeout: 240_000 }, () => {
  before(async () => {
    server = await startServer();
    browser = await launch();
    Object.assign(chair, await signedIn(CHAIR));
    for (const username of MEMBERS) members.push(await signedIn(username));
    display.context = await newContext(browser);
    display.page = await display.context.newPage();
    display.errors = watchErrors(display.page);
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test("the chair runs a named vote; three members vote; the result reaches everyone within a second", async () => {
    const c = chair.page;
    await go(c, `#/meetings/${MEETING}/chair`);
    await c.getByRole("heading", { level: 1 }).waitFor();
    await c.locator(".live-conn-ok").waitFor();
    // The demo meeting is scheduled weeks ahead: the console asks before opening it today.
    await c.getByTestId("start-meeting").click();
    const otherDay = c.getByTestId("other-day-dialog");
    await otherDay.waitFor();
    assert.match(await otherDay.innerText(), /angesetzt/);
    await screenshot(c, "live-chair-other-day");
    await otherDay.getByTestId("dialog-confirm").click();
    await c.getByText("Sitzung läuft").first().waitFor();
    await c.locator("li", { hasText: "Ö 2" }).getByRole("button", { name: "Aufrufen" }).click();
    await c.locator("li.live-current", { hasText: "Ö 2" }).waitFor();

    await display.page.goto(`${server.url}/#/display/${MEETING}`);
    await display.page.getByTestId("display-item").filter({ hasText: "Ö 2" }).waitFor();

    for (const m of members) {
      await go(m.page, `#/meetings/${MEETING}/live`);
      await m.page.locator(".live-conn-ok").waitFor();
      await m.page.getByRole("button", { name: "Ich bin im Saal" }).click();
      await m.page.getByText("Anwesend im Saal").first().waitFor();
      await m.page.getByText(/Ö 2/).first().waitFor();
    }
    await c.getByTestId("quorum").waitFor();

    await c.locator("#c-title").fill("Beschlussvorschlag der Verwaltung");
    await c.locator("#c-kind").selectOption("named");
    // The item picker preselects the current item.
    assert.equal(await c.getByTestId("poll-item").locator("option:checked").innerText(), await c.locator("li.live-current .live-list-name").innerText());
    await c.getByTestId("create-poll").click();
    // Going back leaves the poll a draft.
    await c.getByTestId("open-poll").click();
    await c.getByTestId("quorum-dialog").getByTestId("dialog-cancel").click();
    await c.getByTestId("quorum-dialog").waitFor({ state: "detached" });
    assert.equal(await c.locator("[data-poll].live-poll-draft").count(), 1);
    await openBelowQuorum(c, { shot: "live-chair-quorum-dialog" });
    await c.getByTestId("chair-progress").filter({ hasText: "0 von 3 haben abgestimmt" }).waitFor();
    await display.page.getByTestId("display-progress").filter({ hasText: "0 von 3 haben abgestimmt" }).waitFor();
    await screenshot(display.page, "live-display-poll-open");

    const choices = ["yes", "yes", "no"];
    for (const [i, m] of members.entries()) {
      await m.page.locator(`[data-choice="${choices[i]}"]`).click();
      // The confirm step: nothing is sent before it.
      await m.page.getByText(/Ihre Wahl: (Ja|Nein)/).waitFor();
      if (i === 0) await screenshot(m.page, "live-member-confirm");
      await m.page.getByTestId("vote-send").click();
      await m.page.getByTestId("vote-counted").waitFor();
    }
    await screenshot(members[0].page, "live-member-counted");
    await c.getByTestId("chair-progress").filter({ hasText: "3 von 3 haben abgestimmt" }).waitFor();
    await display.page.getByTestId("display-progress").filter({ hasText: "3 von 3 haben abgestimmt" }).waitFor();
    await screenshot(c, "live-chair-poll-open");

    await c.getByTestId("close-poll").click();
    const started = Date.now();
    await Promise.all(
      [...members.map((m) => m.page), display.page].map((page) =>
        page.locator(".live-outcome", { hasText: "Angenommen" }).waitFor({ timeout: 1_000 }),
      ),
    );
    const elapsed = Date.now() - started;
    assert.ok(elapsed < 1_000, `result took ${elapsed} ms`);
    for (const page of members.map((m) => m.page)) {
      const counts = await page.locator(".live-bar-count").allTextContents();
      assert.deepEqual(counts.slice(0, 3), ["2", "1", "0"], "Ja 2, Nein 1, Enthaltung 0");
    }
    // A named poll: the room display shows the totals above the roll call, which names everyone.
    await display.page.getByTestId("roll-call").filter({ hasText: "2 Ja · 1 Nein · 0 Enthaltung · 0 nicht abgestimmt" }).waitFor();
    await screenshot(members[0].page, "live-member-result");
    await screenshot(display.page, "live-display-result");
    await screenshot(c, "live-chair-result");
  });

  test("a member offline during a poll catches up; the vote cast before the drop counts once", async () => {
    const c = chair.page;
    const [a, b, d] = members;
    await c.locator("#c-title").fill("Änderungsantrag der Fraktion");
    await c.locator("#c-kind").selectOption("open");
    await c.getByTestId("create-poll").click();
    await openBelowQuorum(c);
    await a.page.locator('[data-choice="yes"]').waitFor();

    // Member A votes, then loses the network.
    await a.page.locator('[data-choice="yes"]').click();
    await a.page.getByTestId("vote-send").click();
    await a.page.getByTestId("vote-counted").waitFor();
    await a.context.setOffline(true);
    await a.page.locator(".live-conn-bad").waitFor();
    await screenshot(a.page, "live-member-offline");

    // Meanwhile the others vote and the chair closes the poll.
    for (const m of [b, d]) {
      await m.page.locator('[data-choice="no"]').click();
      await m.page.getByTestId("vote-send").click();
      await m.page.getByTestId("vote-counted").waitFor();
    }
    // In an open poll a member who voted may have the vote recorded in the minutes.
    await b.page.getByTestId("vote-record").filter({ hasText: "Meine Stimme protokollieren lassen" }).click();
    await b.page.getByTestId("vote-recorded").waitFor();
    assert.equal(await b.page.getByTestId("vote-record").count(), 0, "once per member and poll");
    await c.getByTestId("chair-progress").filter({ hasText: "3 von 3 haben abgestimmt" }).waitFor();
    await c.getByTestId("close-poll").click();
    await b.page.locator(".live-outcome", { hasText: "Abgelehnt" }).waitFor();
    // A, still offline, has not seen it.
    assert.equal(await a.page.locator(".live-outcome", { hasText: "Abgelehnt" }).count(), 0);

    await a.context.setOffline(false);
    await a.page.locator(".live-conn-ok").waitFor({ timeout: 20_000 });
    await a.page.locator(".live-outcome", { hasText: "Abgelehnt" }).waitFor({ timeout: 5_000 });
    const counts = await a.page.locator(".live-bar-count").allTextContents();
    assert.deepEqual(counts.slice(0, 3), ["1", "2", "0"], "A's yes counted exactly once");
    await screenshot(a.page, "live-member-caught-up");
  });

  test("a member asks to speak; the chair calls them; the display shows the speaker", async () => {
    const c = chair.page;
    const [a, b] = members;
    await a.page.getByRole("button", { name: "Wortmeldung", exact: true }).click();
    await a.page.getByText("Sie stehen auf Platz 1 der Redeliste.").waitFor();
    await b.page.getByRole("button", { name: "Zur Geschäftsordnung" }).click();
    // A point of order goes first.
    await c.locator(".live-list-name", { hasText: "zur Geschäftsordnung" }).waitFor();
    const order = await c.locator("section[aria-labelledby=c-speakers] .live-list-name").allTextContents();
    assert.match(order[0], /Heinz Ehrlich/);
    assert.match(order[1], /Anna Hartmann/);
    await screenshot(c, "live-chair-speakers");
    await c.getByRole("button", { name: "Nächste Wortmeldung aufrufen" }).click();
    await display.page.locator(".display-speaker-name", { hasText: "Heinz Ehrlich" }).waitFor();
    await c.getByRole("button", { name: "Nächste Wortmeldung aufrufen" }).click();
    await display.page.locator(".display-speaker-name", { hasText: "Anna Hartmann" }).waitFor();
    await a.page.getByText(/Es spricht: ?Anna Hartmann/).waitFor();
    // The speaking-time clock runs from the call, against the limit (5 minutes by default).
    await c.getByTestId("speaking-clock").filter({ hasText: /Redezeit 0:0\d von 5:00/ }).waitFor();
    await display.page.getByTestId("speaking-clock").filter({ hasText: /Redezeit 0:0\d von 5:00/ }).waitFor();
    await screenshot(display.page, "live-display-speaker");
    await screenshot(c, "live-chair-speaking-clock");
    // Over the limit: the clerk sets 2 seconds (over the REST API), and the clock turns red.
    const token = await apiLogin(CHAIR);
    const put = await fetch(`${server.url}/api/v1/meetings/${MEETING}/session-settings`, {
      method: "PUT", headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify({ repeat_meeting: false, speaking_time_secs: 2 }),
    });
    assert.equal(put.status, 200, await put.text());
    for (const page of [c, display.page]) {
      const over = page.getByTestId("speaking-clock").filter({ hasText: /Redezeit überschritten: 0:0\d von 0:02/ });
      await over.waitFor({ timeout: 10_000 });
      assert.match(await over.getAttribute("class"), /live-clock-over/);
    }
    await screenshot(display.page, "live-display-speaking-over");
    await screenshot(c, "live-chair-speaking-over");
    const back = await fetch(`${server.url}/api/v1/meetings/${MEETING}/session-settings`, {
      method: "PUT", headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify({ repeat_meeting: false, speaking_time_secs: 300 }),
    });
    assert.equal(back.status, 200);
    await c.getByRole("button", { name: "Redebeitrag beenden" }).click();
    await display.page.locator(".display-speaker-name").waitFor({ state: "detached" });
    // "Show on display": the chair puts the first (adopted) vote back on the room display.
    await c.locator("[data-poll]", { hasText: "Beschlussvorschlag der Verwaltung" }).getByTestId("show-on-display").click();
    await display.page.locator(".display-poll-title", { hasText: "Beschlussvorschlag der Verwaltung" }).waitFor();
    await display.page.locator(".live-outcome", { hasText: "Angenommen" }).waitFor();
  });

  test("discarding a vote needs a confirmation and a reason, which members and the display see", async () => {
    const c = chair.page;
    await c.locator("#c-title").fill("Versehentlich angelegt");
    await c.locator("#c-kind").selectOption("open");
    await c.getByTestId("create-poll").click();
    // The chair declared the council not quorate earlier: the console asks, then opens.
    await c.getByTestId("open-poll").click();
    await c.getByTestId("quorum-dialog").getByTestId("dialog-confirm").click();
    const card = c.locator("[data-poll].live-poll-open", { hasText: "Versehentlich angelegt" });
    await card.getByTestId("discard-poll").click();
    const dialog = c.getByTestId("discard-dialog");
    await dialog.waitFor();
    // Without a reason nothing is sent.
    await dialog.getByTestId("dialog-confirm").click();
    await dialog.getByText("Bitte einen Grund angeben.").waitFor();
    assert.equal(await card.count(), 1, "still open");
    await checkA11y(c, "chair (discard dialog)");
    // Going back keeps the poll open.
    await dialog.getByTestId("dialog-cancel").click();
    await dialog.waitFor({ state: "detached" });
    assert.equal(await card.count(), 1, "still open after going back");
    await card.getByTestId("discard-poll").click();
    await c.getByTestId("dialog-reason").fill("Falsche Vorlage aufgerufen");
    await screenshot(c, "live-chair-discard-dialog");
    await c.getByTestId("discard-dialog").getByTestId("dialog-confirm").click();
    await card.waitFor({ state: "detached" });
    const line = "Abstimmung verworfen: Versehentlich angelegt – Grund: Falsche Vorlage aufgerufen";
    await members[0].page.getByTestId("poll-discarded").filter({ hasText: line }).waitFor();
    await display.page.getByTestId("display-discarded").filter({ hasText: line }).waitFor();
    await screenshot(members[0].page, "live-member-discarded");
    await screenshot(display.page, "live-display-discarded");
  });

  test("a member doubts the quorum; the chair sees it at once and states it", async () => {
    const c = chair.page;
    const m = members[2].page;
    await m.getByTestId("doubt-quorum").click();
    await m.getByTestId("confirm-dialog").getByTestId("dialog-confirm").click();
    await m.getByText("Ihr Zweifel an der Beschlussfähigkeit ist vermerkt.").waitFor();
    await c.getByTestId("quorum-doubt").filter({ hasText: "Angezweifelt von Thomas Schneider" }).waitFor();
    await c.getByTestId("quorum-standing").filter({ hasText: "angezweifelt" }).waitFor();
    await screenshot(c, "live-chair-quorum-doubted");
    // Too few are present to state a quorum; the chair states the lack of one.
    await c.getByTestId("declare-quorate").click();
    await c.locator(".live-error", { hasText: "Beschlussfähigkeit kann nicht festgestellt werden – zu wenige anwesend" }).waitFor();
    await c.getByTestId("declare-not-quorate").click();
    await c.getByTestId("quorum-doubt").waitFor({ state: "detached" });
    await c.getByTestId("quorum-standing").filter({ hasText: "Nicht beschlussfähig" }).waitFor();
  });

  test("a procedural motion is one tap: created on the current item and opened", async () => {
    const c = chair.page;
    await c.getByTestId("motion-end_of_debate").click();
    // Declared not quorate just before: the console says so and asks.
    const dialog = c.getByTestId("quorum-dialog");
    await dialog.getByText(/Beschlussunfähigkeit wurde festgestellt/).waitFor();
    await dialog.getByTestId("dialog-confirm").click();
    const card = c.locator("[data-poll].live-poll-open", { hasText: "Antrag zur Geschäftsordnung: Schluss der Debatte" });
    await card.waitFor();
    assert.match(await card.innerText(), /Offene Abstimmung · Einfache Mehrheit · Abstimmung läuft · Ö 2/);
    await members[0].page.getByRole("heading", { name: "Antrag zur Geschäftsordnung: Schluss der Debatte" }).waitFor();
    await screenshot(c, "live-chair-procedural-motion");
    await card.getByTestId("close-poll").click();
    await c.locator("[data-poll].live-poll-closed", { hasText: "Schluss der Debatte" }).waitFor();
  });

  test("members file amendments; the chair reorders with a reason; each is voted, the proposal last", async () => {
    const c = chair.page;
    const [a, b] = members;
    const file = async (m, kind, title, text) => {
      await m.page.locator("#m-amend-kind").selectOption(kind);
      await m.page.locator("#m-amend-title").fill(title);
      await m.page.locator("#m-amend-text").fill(text);
      await m.page.getByTestId("amend-file").click();
      await m.page.getByRole("button", { name: `Zurückziehen: ${title}` }).waitFor();
    };
    await file(a, "add", "Radweg", "Ergänze: Der Radweg wird mitgeplant.");
    await file(b, "replace", "Neufassung", "Der Beschlussvorschlag erhält folgende Fassung: …");
    await screenshot(a.page, "live-member-amendment");
    // The replacing one is the most far-reaching: it goes first.
    const names = () => c.getByTestId("amend-list").locator("li strong").allTextContents();
    await c.getByTestId("amend-list").locator("li", { hasText: "Radweg" }).waitFor();
    assert.deepEqual(await names(), ["Neufassung", "Radweg"]);
    // The chair puts the other first, with a reason.
    await c.getByRole("button", { name: "Später abstimmen: Neufassung" }).click();
    await c.getByTestId("amend-order-dialog").getByTestId("dialog-reason").fill("Sachzusammenhang");
    await c.getByTestId("amend-order-dialog").getByTestId("dialog-confirm").click();
    await c.getByTestId("amend-order-note").filter({ hasText: "Sachzusammenhang" }).waitFor();
    assert.deepEqual(await names(), ["Radweg", "Neufassung"]);
    await screenshot(c, "live-chair-amendments");
    // The proposal cannot come before the amendments.
    await c.getByTestId("amend-final").click();
    await c.getByTestId("open-poll").click();
    await c.locator(".live-error", { hasText: "Erst über die Änderungsanträge" }).waitFor();
    await c.locator("[data-poll].live-poll-draft").getByTestId("discard-poll").click();
    await c.getByTestId("dialog-reason").fill("Zu früh angelegt");
    await c.getByTestId("discard-dialog").getByTestId("dialog-confirm").click();
    await c.locator("[data-poll].live-poll-draft").waitFor({ state: "detached" });
    const vote = async () => {
      await c.getByTestId("open-poll").click();
      await c.getByTestId("quorum-dialog").getByTestId("dialog-confirm").click();
      await c.locator("[data-poll].live-poll-open").getByTestId("close-poll").click();
      await c.locator("[data-poll].live-poll-open").waitFor({ state: "detached" });
    };
    for (const title of ["Radweg", "Neufassung"]) {
      await c.getByTestId("amend-list").locator("li", { hasText: title }).getByTestId("amend-poll").click();
      await c.locator("[data-poll].live-poll-draft", { hasText: `Änderungsantrag: ${title}` }).waitFor();
      await vote();
    }
    await c.getByTestId("amend-final").click();
    await c.locator("[data-poll].live-poll-draft", { hasText: "Schlussabstimmung" }).waitFor();
    await vote();
    await c.locator("[data-poll].live-poll-closed", { hasText: "Schlussabstimmung" }).waitFor();
  });

  test("the anonymous room display shows no non-public item", async () => {
    const c = chair.page;
    const shown = display.page;
    await shown.getByTestId("display-item").filter({ hasText: "Ö 2" }).waitFor();
    // Into the non-public part: the display must say so and show nothing of the item.
    await c.locator("li", { hasText: "N 1" }).getByRole("button", { name: "Aufrufen" }).click();
    await shown.getByTestId("display-item").filter({ hasText: "Nichtöffentlicher Teil" }).waitFor();
    await c.locator("#c-title").fill("Vertrag mit der Firma X");
    await c.locator("#c-kind").selectOption("open");
    await c.getByTestId("create-poll").click();
    await c.getByTestId("open-poll").click();
    // Declared not quorate: the console asks, saying so.
    const dialog = c.getByTestId("quorum-dialog");
    await dialog.getByText(/Beschlussunfähigkeit wurde festgestellt/).waitFor();
    await dialog.getByTestId("dialog-confirm").click();
    // The vote buttons (until the poll arrives, the page may still show an earlier roll call,
    // whose lines carry `data-choice` too).
    await members[1].page.locator('button[data-choice="yes"]').waitFor();
    await new Promise((r) => setTimeout(r, 300));
    const text = await shown.locator("body").innerText();
    assert.doesNotMatch(text, /Vertragsangelegenheiten|Vertrag mit der Firma X/);
    assert.doesNotMatch(text, /N 1/);
    await screenshot(shown, "live-display-nonpublic");
    // A fresh anonymous visit (snapshot, not events) shows the same.
    const fresh = await display.context.newPage();
    await fresh.goto(`${server.url}/#/display/${MEETING}`);
    await fresh.getByTestId("display-item").filter({ hasText: "Nichtöffentlicher Teil" }).waitFor();
    assert.doesNotMatch(await fresh.locator("body").innerText(), /Vertragsangelegenheiten|Vertrag mit der Firma X|N 1/);
    await fresh.close();
    // And the members still see it all.
    await members[1].page.getByText("Vertrag mit der Firma X").first().waitFor();
    await c.getByTestId("close-poll").click();
  });

  test("a named vote of most of the council: the room display shows the roll call by fraction; a late arrival is told why", async () => {
    const c = chair.page;
    const [a, b, late] = members;
    await c.locator("li", { hasText: "Ö 2" }).getByRole("button", { name: "Aufrufen" }).click();
    await display.page.getByTestId("display-item").filter({ hasText: "Ö 2" }).waitFor();
    // Fourteen more members join over the REST API, from every fraction.
    const voters = [
      "sabine.fischer", "michael.weber", "petra.meyer", "andreas.wagner", // BU
      "susanne.richter", "uwe.klein", "heike.wolf", // SM
      "ralf.lange", "sandra.schmitt", "oliver.werner", // GZ
      "holger.lehmann", "anja.schmid", // LB
      "nadine.herrmann", "christian.koenig", // FWM
    ];
    const tokens = await Promise.all(voters.map((u) => apiLogin(u)));
    const command = async (token, cmd) => {
      const r = await fetch(`${server.url}/api/v1/meetings/${MEETING}/live/commands`, {
        method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        body: JSON.stringify({ command_id: crypto.randomUUID(), command: cmd }),
      });
      assert.equal(r.status, 200, `${JSON.stringify(cmd)}: ${await r.text()}`);
    };
    for (const token of tokens) await command(token, { type: "check_in", remote: false });
    // Thomas Schneider steps out before the vote opens.
    await late.page.getByRole("button", { name: "Ich gehe (auschecken)" }).click();
    await late.page.getByRole("button", { name: "Ich bin im Saal" }).waitFor();

    await c.locator("#c-title").fill("Haushaltssatzung 2027");
    await c.locator("#c-kind").selectOption("named");
    await c.getByTestId("create-poll").click();
    // The chair declared the council not quorate earlier: the console asks, then opens.
    await c.getByTestId("open-poll").click();
    await c.getByTestId("quorum-dialog").getByTestId("dialog-confirm").click();
    const card = c.locator("[data-poll].live-poll-open", { hasText: "Haushaltssatzung 2027" });
    const poll = await card.getAttribute("data-poll");

    // He comes back: he may not vote, and the screen says why; the chair sees it too.
    await late.page.getByRole("button", { name: "Ich bin im Saal" }).click();
    await late.page.getByTestId("not-eligible-reason").filter({ hasText: "erst nach Beginn der Abstimmung eingetroffen" }).waitFor();
    await screenshot(late.page, "live-member-arrived-late");
    await card.getByTestId("chair-ineligible").filter({ hasText: "Thomas Schneider (nach Öffnen eingetroffen)" }).waitFor();

    const choices = ["yes", "yes", "no", "yes", "no", "no", "abstain", "yes", "yes", "abstain", "no", "yes"];
    for (const [i, choice] of choices.entries()) {
      await command(tokens[i], { type: "cast_ballot", poll, choice: { choice } });
    }
    for (const [m, choice] of [[a, "yes"], [b, "no"]]) {
      await m.page.locator(`[data-choice="${choice}"]`).click();
      await m.page.getByTestId("vote-send").click();
      await m.page.getByTestId("vote-counted").waitFor();
    }
    // While open, the chair sees who has not voted yet, by name; nobody sees any choice.
    await card.getByTestId("chair-not-voted").filter({ hasText: "Nadine Herrmann" }).waitFor();
    assert.match(await card.getByTestId("chair-not-voted").innerText(), /Christian König/);
    assert.equal(await display.page.getByTestId("roll-call").count(), 0);
    await screenshot(c, "live-chair-named-open");

    await card.getByTestId("close-poll").click();
    // An earlier vote is still pinned to the room display: the chair puts this one there.
    const closed = c.locator("[data-poll].live-poll-closed", { hasText: "Haushaltssatzung 2027" });
    await closed.getByTestId("show-on-display").click();
    await display.page.locator(".display-poll-title", { hasText: "Haushaltssatzung 2027" }).waitFor();
    const call = display.page.getByTestId("roll-call");
    await call.waitFor();
    const text = await call.innerText();
    // Grouped by fraction, fractions by short name; those who did not vote are named too.
    for (const group of ["BU", "SM", "GZ", "LB", "FWM"]) assert.match(text, new RegExp(`^${group}$`, "m"));
    assert.match(text, /7 Ja · 5 Nein · 2 Enthaltung · 2 nicht abgestimmt/);
    const line = (name) => call.locator("li", { hasText: name });
    assert.equal(await line("Sabine Fischer").getAttribute("data-choice"), "yes");
    assert.match(await line("Sabine Fischer").innerText(), /JA\s+Sabine Fischer/);
    assert.match(await line("Sabine Fischer").textContent(), /Ja$/, "the choice in words, for screen readers");
    assert.match(await line("Heike Wolf").innerText(), /ENTH\.\s+Heike Wolf/);
    assert.match(await line("Nadine Herrmann").textContent(), /—Nadine Herrmannnicht abgestimmt/);
    assert.equal(await line("Thomas Schneider").count(), 0, "not eligible: not in the roll call");
    // Built from the events on this screen; a display that connects now gets it in its snapshot:
    // the same roll call.
    const fresh = await display.context.newPage();
    await fresh.goto(`${server.url}/#/display/${MEETING}`);
    await fresh.getByTestId("roll-call").waitFor();
    assert.equal(await fresh.getByTestId("roll-call").innerText(), text);
    await fresh.close();
    await screenshot(display.page, "live-display-rollcall");
    await display.page.screenshot({ path: new URL("../../docs/live-rollcall.png", import.meta.url).pathname, fullPage: true });
    await checkA11y(display.page, "display (roll call)");
    // The members and the chair get the same roll call.
    await a.page.getByTestId("roll-call").waitFor();
    await screenshot(a.page, "live-member-rollcall");
    await closed.getByTestId("roll-call").waitFor();
    await checkA11y(c, "chair (roll call)");
    await checkA11y(a.page, "member (roll call)");
    await screenshot(c, "live-chair-rollcall");
  });

  test("axe-core finds no violations on the live screens; no console errors", async () => {
    await checkA11y(members[0].page, "member");
    await checkA11y(chair.page, "chair");
    await checkA11y(display.page, "display");
    // Portrait tablet.
    await members[0].page.setViewportSize({ width: 800, height: 1280 });
    await screenshot(members[0].page, "live-member-portrait");
    await checkA11y(members[0].page, "member (portrait)");
    for (const who of [chair, ...members, display]) {
      const errors = who.errors.filter((e) => !/WebSocket|net::ERR_INTERNET_DISCONNECTED|Failed to load resource/.test(e));
      assert.deepEqual(errors, [], `${who.username ?? "display"}: console errors`);
    }
  });
});

describe("attendance for the whole council", { timeout: 240_000 }, () => {
  let own;
  let ownBrowser;
  before(async () => {
    own = await startServer();
    ownBrowser = await launch();
  });
  after(async () => {
    await ownBrowser?.close();
    await own?.stop();
  });

  test("the chair is prompted to check in on opening, a member checks herself in, 'alle als anwesend' does the rest; counts by fraction follow live", async () => {
    const open = async (username) => {
      const context = await newContext(ownBrowser);
      const page = await context.newPage();
      const errors = watchErrors(page);
      await login(page, own.url, username, demoCode(username));
      return { page, errors };
    };
    const { page: c, errors } = await open(CHAIR);
    await go(c, `#/meetings/${MEETING}/chair`);
    await c.locator(".live-conn-ok").waitFor();
    const total = c.getByTestId("att-total");
    const [, all] = (await total.innerText()).match(/^0 von (\d+) anwesend$/);
    await c.getByTestId("start-meeting").click();
    await c.getByTestId("other-day-dialog").getByTestId("dialog-confirm").click();
    await c.getByText("Sitzung läuft").first().waitFor();
    // The chair who opened the meeting is asked to check in, and is, with the time she arrived.
    await c.getByTestId("chair-checkin-prompt").waitFor();
    await c.getByTestId("chair-checkin").click();
    await c.getByTestId("chair-checkin-prompt").waitFor({ state: "detached" });
    await total.filter({ hasText: `1 von ${all} anwesend` }).waitFor();
    await c.locator("[data-testid=att-row]", { hasText: "Katharina Brandt" }).filter({ hasText: /da seit \d\d:\d\d/ }).waitFor();

    // A member is asked to check in on her tablet and does; the chair's list follows.
    const { page: m, errors: memberErrors } = await open("anna.hartmann");
    await go(m, `#/meetings/${MEETING}/live`);
    await m.getByTestId("checkin-prompt").waitFor();
    await checkA11y(m, "member (check-in prompt)");
    await m.getByRole("button", { name: "Ich bin im Saal" }).click();
    await m.getByTestId("checkin-prompt").waitFor({ state: "detached" });
    await total.filter({ hasText: `2 von ${all} anwesend` }).waitFor();

    // Grouped by fraction, each with its count.
    const groups = c.locator(".live-att-group");
    assert.ok(await groups.count() >= 5, "one group per fraction");
    const counts = await c.getByTestId("att-group-count").allInnerTexts();
    assert.equal(counts.reduce((sum, s) => sum + Number(s.split("/")[0]), 0), 2);
    assert.equal(counts.reduce((sum, s) => sum + Number(s.split("/")[1]), 0), Number(all));

    // One tap for everyone else: one command, everyone present, every group full.
    await c.getByTestId("att-all").click();
    await total.filter({ hasText: `${all} von ${all} anwesend` }).waitFor();
    for (const s of await c.getByTestId("att-group-count").allInnerTexts()) {
      const [here, of] = s.split("/");
      assert.equal(here, of, s);
    }
    assert.ok(await c.getByTestId("att-all").isDisabled(), "nothing left to do");
    await screenshot(c, "live-chair-attendance");
    await checkA11y(c, "chair (attendance)");

    // Search finds one member among forty; she leaves early and the list says when.
    await c.getByTestId("att-search").fill("Hartmann");
    assert.equal(await c.getByTestId("att-row").count(), 1);
    await m.getByRole("button", { name: "Ich gehe (auschecken)" }).click();
    await c.getByTestId("att-row").filter({ hasText: /gegangen um \d\d:\d\d \(vorzeitig\)/ }).waitFor();
    await total.filter({ hasText: `${Number(all) - 1} von ${all} anwesend` }).waitFor();
    // As in the axe test above: the login's 401 probe and socket noise are not errors of the page.
    const real = (list) => list.filter((e) => !/WebSocket|net::ERR_INTERNET_DISCONNECTED|Failed to load resource/.test(e));
    assert.deepEqual(real(errors), []);
    assert.deepEqual(real(memberErrors), []);
  });
});
