// The council's record in real browsers (issue 15): the chair closes a named poll in the live
// session and closes the meeting; the clerk records the decision from the proposal (and loses
// nothing when someone else changed the item in between); a member reads it; a citizen reads
// the decision, the vote result and the paper's standing in the public portal, and never a
// non-public item. axe-core on every screen; screenshots in target/screenshots/.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { startServer } from "./lib/server.mjs";
import { launch, newContext, screenshot, watchErrors, signedInPage } from "./lib/browser.mjs";
import { axeViolations, formatViolations } from "./lib/axe.mjs";
import { apiLogin as signIn } from "./lib/api.mjs";
import { demoId } from "./lib/demo.mjs";

const MEETING = demoId("meeting:rat-3"); // "3. Sitzung des Rates der Stadt Musterstadt"
const PAPER = demoId("paper:haushalt"); // VO/10742, decided in Ö 2 of that meeting
const CHAIR = "katharina.brandt";
const CLERK = "martina.sommer";
const MEMBERS = ["anna.hartmann", "heinz.ehrlich", "thomas.schneider"];
const DECISION_TEXT = "Der Rat beschließt die Haushaltssatzung 2027 in der vorgelegten Fassung.";

let server;
let browser;

const signedIn = (username) => signedInPage(browser, server.url, username);

/** An access token over the REST API (the next TOTP step: the browser used this one). */
const apiLogin = (username, offset = 1) => signIn(server.url, username, offset);

async function go(page, hash) {
  await page.evaluate((h) => {
    window.location.hash = h;
  }, hash);
}

async function settled(page) {
  await page.waitForFunction(() => document.querySelector("#main .screen")?.getAttribute("aria-busy") === "false");
  await page.waitForTimeout(150);
}

async function checkA11y(page, name) {
  const violations = await axeViolations(page);
  assert.equal(violations.length, 0, `${name}: ${formatViolations(violations)}`);
}

function noPageErrors(errors) {
  const real = errors.filter((e) => e.startsWith("pageerror") || /Content Security Policy/.test(e));
  assert.deepEqual(real, [], "no script errors or CSP violations");
}

/** Opens agenda item `number` of the meeting on screen; returns its <details>. */
async function openItem(page, number) {
  const details = page.locator("details.agenda-item", { has: page.locator(".agenda-number", { hasText: new RegExp(`^${number}$`) }) });
  await details.locator("summary").click();
  return details;
}

describe("the council's record", { timeout: 300_000 }, () => {
  before(async () => {
    server = await startServer();
    browser = await launch();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test("chair closes a named poll, clerk records the decision, a citizen reads it in the portal", async () => {
    // The chair runs the vote on Ö 2 (the budget) in the live session.
    const chair = await signedIn(CHAIR);
    const c = chair.page;
    await go(c, `#/meetings/${MEETING}/chair`);
    await c.locator(".live-conn-ok").waitFor();
    await c.getByTestId("start-meeting").click();
    const otherDay = c.getByTestId("other-day-dialog");
    await otherDay.waitFor();
    await otherDay.getByTestId("dialog-confirm").click();
    await c.getByText("Sitzung läuft").first().waitFor();
    await c.locator("li", { hasText: "Ö 2" }).getByRole("button", { name: "Aufrufen" }).click();
    await c.locator("li.live-current", { hasText: "Ö 2" }).waitFor();

    const members = [];
    for (const username of MEMBERS) {
      const m = await signedIn(username);
      await go(m.page, `#/meetings/${MEETING}/live`);
      await m.page.locator(".live-conn-ok").waitFor();
      await m.page.getByRole("button", { name: "Ich bin im Saal" }).click();
      await m.page.getByText("Anwesend im Saal").first().waitFor();
      members.push(m);
    }

    await c.locator("#c-title").fill("Haushaltssatzung 2027");
    await c.locator("#c-kind").selectOption("named");
    await c.getByTestId("create-poll").click();
    await c.getByTestId("open-poll").click();
    await c.getByTestId("quorum-dialog").getByTestId("dialog-confirm").click();
    await c.locator("[data-poll].live-poll-open").waitFor();
    const choices = ["yes", "yes", "no"];
    for (const [i, m] of members.entries()) {
      await m.page.locator(`[data-choice="${choices[i]}"]`).click();
      await m.page.getByTestId("vote-send").click();
      await m.page.getByTestId("vote-counted").waitFor();
    }
    await c.getByTestId("chair-progress").filter({ hasText: "3 von 3 haben abgestimmt" }).waitFor();
    await c.getByTestId("close-poll").click();
    await members[0].page.locator(".live-outcome", { hasText: "Angenommen" }).waitFor();

    // While the session runs, the public portal shows neither the poll's result nor a decision.
    const citizenContext = await newContext(browser);
    const citizen = await citizenContext.newPage();
    const citizenErrors = watchErrors(citizen);
    await citizen.goto(`${server.url}/#/portal/meetings/${MEETING}`);
    await settled(citizen);
    const during = await openItem(citizen, "2");
    await during.locator(".agenda-body").waitFor();
    assert.equal(await during.getByTestId("decision").count(), 0);
    assert.equal(await during.locator(".results").count(), 0);

    // The chair closes the meeting.
    await c.getByRole("button", { name: "Sitzung schließen" }).click();
    await c.getByRole("button", { name: "Ja, schließen" }).click();
    await c.getByText("Sitzung geschlossen").first().waitFor();
    noPageErrors(chair.errors);
    await chair.context.close();
    for (const m of members) await m.context.close();

    // The clerk opens Ö 2: the form is prefilled from the proposal of the closed poll.
    const clerk = await signedIn(CLERK);
    const k = clerk.page;
    await go(k, `#/meetings/${MEETING}`);
    await settled(k);
    const item = await openItem(k, "2");
    const editor = item.getByTestId("decision-editor");
    await editor.waitFor();
    const kind = editor.getByLabel("Ergebnis", { exact: true });
    assert.equal(await kind.inputValue(), "adopted", "the closed poll proposes „angenommen“");
    assert.equal(await kind.locator("option:checked").innerText(), "angenommen");
    const text = editor.getByLabel("Beschlusstext");
    assert.match(await text.inputValue(), /Haushaltssatzung/, "prefilled from the paper's text");
    const vote = editor.locator(".vote-record");
    assert.match(await vote.innerText(), /Ja\s*2/);
    assert.match(await vote.innerText(), /Nein\s*1/);
    assert.match(await vote.innerText(), /Namentliche Abstimmung/);
    // A referral needs to say to whom: the form asks before sending anything.
    await kind.selectOption("referred");
    const referred = editor.getByLabel("Verwiesen an");
    await referred.waitFor();
    await editor.getByTestId("decision-save").click();
    await editor.getByText("Bitte angeben, an wen der Punkt verwiesen wird.").waitFor();
    assert.equal(await referred.getAttribute("aria-invalid"), "true");
    assert.equal(await k.evaluate(() => document.activeElement?.name), "referred_to", "focus on the missing field");
    await kind.selectOption("adopted");
    await referred.waitFor({ state: "hidden" });
    assert.equal(await editor.getByText("Bitte angeben, an wen").count(), 0, "the hint goes with the referral");
    await text.fill(DECISION_TEXT);
    await screenshot(k, "record-clerk-form");
    await checkA11y(k, "clerk: decision form");

    // Meanwhile someone else changes the item: saving answers 412, the typed text stays.
    const token = await apiLogin(CLERK);
    const itemId = (await item.getAttribute("id")).replace(/^item-/, "");
    const current = await fetch(`${server.url}/api/v1/agenda-items/${itemId}`, { headers: { authorization: `Bearer ${token}` } });
    const put = await fetch(`${server.url}/api/v1/agenda-items/${itemId}/decision`, {
      method: "PUT",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}`, "if-match": current.headers.get("etag") },
      body: JSON.stringify({ kind: "postponed" }),
    });
    assert.equal(put.status, 200, await put.text());
    await editor.getByTestId("decision-save").click();
    const stale = editor.getByTestId("decision-stale");
    await stale.waitFor();
    assert.match(await stale.innerText(), /inzwischen geändert/);
    assert.equal(await editor.getByLabel("Beschlusstext").inputValue(), DECISION_TEXT, "nothing typed is lost");
    assert.equal(await editor.getByLabel("Ergebnis", { exact: true }).inputValue(), "adopted");
    await screenshot(k, "record-clerk-stale");
    await checkA11y(k, "clerk: stale");

    // Recording again works; the decision shows with edit and remove.
    await editor.getByTestId("decision-save").click();
    const recorded = editor.getByTestId("decision");
    await recorded.waitFor();
    assert.match(await recorded.innerText(), /Beschluss: angenommen/);
    assert.match(await recorded.innerText(), new RegExp(DECISION_TEXT));
    await editor.getByTestId("decision-edit").waitFor();
    await editor.getByTestId("decision-remove").waitFor();
    assert.equal(await k.evaluate(() => document.activeElement?.dataset.testid), "decision-edit", "focus on the result");
    await screenshot(k, "record-clerk-recorded");
    await checkA11y(k, "clerk: recorded");
    noPageErrors(clerk.errors);

    // The decision extract (Beschlussauszug) as PDF/A, offered as a download.
    const pdfResponse = k.waitForResponse((r) => r.url().includes("/decision/extract.pdf"));
    await editor.getByTestId("decision-pdf").click();
    const pdf = await (await pdfResponse).body();
    assert.equal((await pdfResponse).headers()["content-type"], "application/pdf");
    assert.equal(pdf.subarray(0, 5).toString(), "%PDF-");
    const pdfLink = editor.getByTestId("decision-pdf-link");
    await pdfLink.waitFor();
    assert.match(await pdfLink.getAttribute("download"), /^Beschlussauszug .+\.pdf$/);

    // The live session's own counts gave way to the recorded vote result.
    assert.equal(await item.locator(".results").count(), 0);

    // A decision recorded by mistake can be removed (after a confirmation) and recorded again.
    k.once("dialog", (dialog) => dialog.accept());
    await editor.getByTestId("decision-remove").click();
    await editor.getByText("Beschluss entfernt.").waitFor();
    assert.equal(await editor.getByTestId("decision").count(), 0);
    assert.equal(await editor.getByLabel("Beschlusstext").inputValue(), DECISION_TEXT, "the text stays on the item");
    await editor.getByTestId("decision-save").click();
    await editor.getByTestId("decision").waitFor();

    // A member reads it, without the clerk's actions.
    const member = await signedIn("susanne.richter"); // a council member who has not signed in yet (one TOTP code per step)
    await go(member.page, `#/meetings/${MEETING}`);
    await settled(member.page);
    const memberItem = await openItem(member.page, "2");
    await memberItem.getByTestId("decision").waitFor();
    assert.match(await memberItem.getByTestId("decision").innerText(), /Beschluss: angenommen/);
    assert.equal(await memberItem.getByTestId("decision-editor").count(), 0);
    assert.equal(await memberItem.getByTestId("decision-save").count(), 0);
    noPageErrors(member.errors);

    // A citizen reads the decision and the vote result in the portal (the page they opened
    // during the session, reloaded).
    await citizen.reload();
    await settled(citizen);
    const publicItem = await openItem(citizen, "2");
    const decision = publicItem.getByTestId("decision");
    await decision.waitFor();
    const shown = await decision.innerText();
    assert.match(shown, /Beschluss: angenommen/);
    assert.match(shown, new RegExp(DECISION_TEXT));
    assert.match(shown, /Abstimmungsergebnis/);
    assert.match(shown, /Ja \(2\): .+, .+/, "the named list, grouped");
    assert.match(shown, /Nein \(1\): /);
    const page = await citizen.content();
    assert.ok(!page.includes("Vertragsangelegenheiten"), "the non-public item never reaches the portal");
    await publicItem.scrollIntoViewIfNeeded();
    await screenshot(citizen, "portal-decision");
    await checkA11y(citizen, "portal: decision");

    // The paper shows where it stands.
    await go(citizen, `#/portal/papers/${PAPER}`);
    await settled(citizen);
    const standing = citizen.getByTestId("consultation-standing");
    await standing.first().waitFor();
    assert.match(await standing.first().innerText(), /^Ergebnis: angenommen am \d+\. \S+ \d{4}$/);
    await screenshot(citizen, "portal-paper-standing");
    await checkA11y(citizen, "portal: paper");
    noPageErrors(citizenErrors);
  });
});
