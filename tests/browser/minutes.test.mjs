// The draft minutes in a real browser (issue 15, item 2): the chair starts the live session and
// checks in; the clerk opens the draft from the meeting, writes a Protokollnotiz inline and sees
// it in the draft, loses nothing when someone else saved in between (412), and finds the
// non-public item only in the non-public tab. A member reads the draft without editors.
// axe-core on the screen; screenshots in target/screenshots/ (docs/minutes-draft.png).

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { startServer } from "./lib/server.mjs";
import { join } from "node:path";
import { SCREENSHOTS, launch, login, screenshot, signedInPage } from "./lib/browser.mjs";
import { axeViolations, formatViolations } from "./lib/axe.mjs";
import { apiLogin as signIn } from "./lib/api.mjs";
import { demoId } from "./lib/demo.mjs";

const MEETING = demoId("meeting:rat-3");
const CHAIR = "katharina.brandt";
const CLERK = "martina.sommer";
const MEMBER = "anna.hartmann";
const NOTE = "Frau Hartmann verlässt um 18:40 Uhr den Saal.";

let server;
let browser;

const signedIn = (username) => signedInPage(browser, server.url, username);

/** An access token over the REST API (the next TOTP step: the browser may have used this one). */
const apiLogin = (username, offset = 1) => signIn(server.url, username, offset);

async function live(token, command) {
  const r = await fetch(`${server.url}/api/v1/meetings/${MEETING}/live/commands`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ command_id: crypto.randomUUID(), command }),
  });
  assert.equal(r.status, 200, await r.text());
}

async function go(page, hash) {
  await page.evaluate((h) => {
    window.location.hash = h;
  }, hash);
}

async function settled(page) {
  await page.waitForFunction(() => document.querySelector("#main .screen")?.getAttribute("aria-busy") === "false");
  await page.waitForTimeout(150);
}

function noPageErrors(errors) {
  const real = errors.filter((e) => e.startsWith("pageerror") || /Content Security Policy/.test(e));
  assert.deepEqual(real, [], "no script errors or CSP violations");
}

describe("the draft minutes", { timeout: 240_000 }, () => {
  before(async () => {
    server = await startServer();
    browser = await launch();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test("the clerk writes a Protokollnotiz and sees it in the draft; parts stay apart", async () => {
    const chairToken = await apiLogin(CHAIR);
    await live(chairToken, { type: "start_meeting", confirm_other_day: true });
    await live(chairToken, { type: "check_in", remote: false });
    // A named poll on Ö 2 (the chair alone votes, below quorum with confirmation), and its
    // decision recorded by the clerk over the API.
    const meeting = await fetch(`${server.url}/api/v1/meetings/${MEETING}`, { headers: { authorization: `Bearer ${chairToken}` } }).then((r) => r.json());
    const budget = meeting.agenda.find((i) => i.number === "Ö 2").id;
    const poll = crypto.randomUUID();
    await live(chairToken, { type: "create_poll", poll, item: budget, title: "Haushaltssatzung 2027", kind: "named", rule: "simple", options: [] });
    await live(chairToken, { type: "open_poll", poll, confirm_below_quorum: true });
    await live(chairToken, { type: "cast_ballot", poll, choice: { choice: "yes" } });
    await live(chairToken, { type: "close_poll", poll });
    // The clerk signs in in the browser first (the API login takes the next TOTP step).
    const clerk = await signedIn(CLERK);
    const k = clerk.page;
    const clerkApi = await apiLogin(CLERK);
    const before = await fetch(`${server.url}/api/v1/agenda-items/${budget}`, { headers: { authorization: `Bearer ${clerkApi}` } });
    const recorded = await fetch(`${server.url}/api/v1/agenda-items/${budget}/decision`, {
      method: "PUT",
      headers: { "content-type": "application/json", authorization: `Bearer ${clerkApi}`, "if-match": before.headers.get("etag") },
      body: JSON.stringify({ kind: "adopted", text: "Der Rat beschließt die Haushaltssatzung 2027.", poll }),
    });
    assert.equal(recorded.status, 200, await recorded.text());

    await go(k, `#/meetings/${MEETING}`);
    await settled(k);
    await k.getByTestId("minutes-link").click();
    await k.getByTestId("minutes-panel").locator("[data-testid=minutes-item]").first().waitFor();
    await settled(k);
    const panel = k.getByTestId("minutes-panel");
    // The session's record: the chair present since the check-in.
    await panel.getByTestId("minutes-attendance").locator("tr", { hasText: "Brandt" })
      .filter({ hasText: "anwesend" }).waitFor();
    assert.equal(await panel.getByText("Vertragsangelegenheiten").count(), 0, "no non-public item in the public part");

    // Ö 2 with its decision and the named vote.
    const item = panel.locator("[data-testid=minutes-item]", { hasText: "Haushaltssatzung" });
    await item.locator(".outcome", { hasText: "angenommen" }).waitFor();
    await item.getByText("Der Rat beschließt die Haushaltssatzung 2027.").waitFor();
    await item.locator(".vote-named", { hasText: "Brandt" }).waitFor();
    // Write the note on Ö 2 and see it rendered.
    await item.getByTestId("minutes-note-input").fill(NOTE);
    await item.getByTestId("minutes-note-save").click();
    await item.getByText("Protokollnotiz gespeichert.").waitFor();
    await item.locator(".minutes-note-shown", { hasText: NOTE }).waitFor();

    // Someone else saves in between: 412, the text stays, the current note shows.
    const clerkToken = clerkApi;
    const itemId = await item.getAttribute("aria-labelledby").then((id) => id.replace("minutes-item-", ""));
    const current = await fetch(`${server.url}/api/v1/agenda-items/${itemId}`, { headers: { authorization: `Bearer ${clerkToken}` } });
    const etag = current.headers.get("etag");
    const put = await fetch(`${server.url}/api/v1/agenda-items/${itemId}/minutes-note`, {
      method: "PUT",
      headers: { "content-type": "application/json", authorization: `Bearer ${clerkToken}`, "if-match": etag },
      body: JSON.stringify({ text: "Zwischendurch geändert." }),
    });
    assert.equal(put.status, 200, await put.text());
    const mine = `${NOTE} Die Sitzung wird fortgesetzt.`;
    await item.getByTestId("minutes-note-input").fill(mine);
    await item.getByTestId("minutes-note-save").click();
    await item.getByTestId("minutes-note-stale").filter({ hasText: "Zwischendurch geändert." }).waitFor();
    assert.equal(await item.getByTestId("minutes-note-input").inputValue(), mine, "nothing typed is lost");
    await item.getByTestId("minutes-note-save").click();
    await item.locator(".minutes-note-shown", { hasText: "fortgesetzt" }).waitFor();

    // A reload shows the note from the server, in the draft.
    await k.reload();
    await settled(k);
    await k.getByTestId("minutes-panel").locator(".minutes-note-shown", { hasText: "fortgesetzt" }).waitFor();
    const violations = await axeViolations(k);
    assert.equal(violations.length, 0, formatViolations(violations));
    await screenshot(k, "minutes-draft");
    await k.locator("section[aria-labelledby=minutes-quorum]").screenshot({ path: join(SCREENSHOTS, "minutes-draft-quorum.png") });
    await k.locator("section[aria-labelledby=minutes-quorum]").getByText("Beschlussfähigkeit wird vermutet").waitFor();
    await k.getByTestId("minutes-panel").locator("[data-testid=minutes-item]", { hasText: "Haushaltssatzung" })
      .screenshot({ path: join(SCREENSHOTS, "minutes-draft-item.png") });

    // The non-public part holds the non-public item and none of the public ones.
    await k.getByTestId("minutes-tab-non_public").click();
    await k.getByTestId("minutes-panel").getByText("Vertragsangelegenheiten").waitFor();
    assert.equal(await k.getByTestId("minutes-panel").getByText("Haushaltssatzung").count(), 0);
    await screenshot(k, "minutes-draft-non-public");

    // "Als PDF": the open tab's part as PDF/A, offered as a download.
    const pdfResponse = k.waitForResponse((r) => r.url().includes("/minutes/draft.pdf?part=non_public"));
    await k.getByTestId("minutes-pdf").click();
    const pdf = await (await pdfResponse).body();
    assert.equal((await pdfResponse).headers()["content-type"], "application/pdf");
    assert.equal(pdf.subarray(0, 5).toString(), "%PDF-");
    const pdfLink = k.getByTestId("minutes-pdf-link");
    await pdfLink.waitFor();
    assert.match(await pdfLink.getAttribute("download"), /nichtöffentlicher Teil/);
    noPageErrors(clerk.errors);

    // A member of the council reads the draft, without editors.
    const member = await signedIn(MEMBER);
    const m = member.page;
    await go(m, `#/meetings/${MEETING}/minutes`);
    await m.getByTestId("minutes-panel").locator(".minutes-note-shown, .minutes-note-text", { hasText: "fortgesetzt" }).first().waitFor();
    assert.equal(await m.getByTestId("minutes-note-input").count(), 0, "members read only");
    noPageErrors(member.errors);
  });
});
