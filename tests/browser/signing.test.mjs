// The minutes from the session to the portal in a real browser (issue 15, items 3 and 5): after
// the live session closed, the clerk creates the final version of the public part, signs it
// with a code of the second factor, the chair signs in her own browser, the clerk publishes,
// and a citizen reads the signed minutes and the decision in the portal. axe-core on the record
// panel; screenshots in target/screenshots/ (docs/minutes-signed.png, docs/portal-minutes.png).

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { startServer } from "./lib/server.mjs";
import { launch, login, newContext, screenshot, watchErrors, signedInPage } from "./lib/browser.mjs";
import { demoCode } from "./lib/totp.mjs";
import { axeViolations, formatViolations } from "./lib/axe.mjs";
import { apiLogin as signIn } from "./lib/api.mjs";
import { demoId } from "./lib/demo.mjs";

const MEETING = demoId("meeting:rat-3");
const CHAIR = "katharina.brandt";
const CLERK = "martina.sommer";

let server;
let browser;

const signedIn = (username, options) => signedInPage(browser, server.url, username, { options });

/**
 * An access token over the REST API with the code of step `offset` (each step is usable once:
 * the API login takes the previous step so that the browser login and the signature after it
 * get newer ones).
 */
/** The access token of a demo account signed in over the API (TOTP step `offset`). */
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

describe("signing and publishing the minutes", { timeout: 240_000 }, () => {
  before(async () => {
    server = await startServer();
    browser = await launch();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test("the clerk freezes and signs, the chair signs, the clerk publishes, a citizen reads", async () => {
    // The session, over the API: started, a named vote, a recorded decision, closed.
    const chairToken = await apiLogin(CHAIR, -1);
    await live(chairToken, { type: "start_meeting", confirm_other_day: true });
    await live(chairToken, { type: "check_in", remote: false });
    const meeting = await fetch(`${server.url}/api/v1/meetings/${MEETING}`, { headers: { authorization: `Bearer ${chairToken}` } }).then((r) => r.json());
    const budget = meeting.agenda.find((i) => i.number === "Ö 2").id;
    const poll = crypto.randomUUID();
    await live(chairToken, { type: "create_poll", poll, item: budget, title: "Haushaltssatzung 2027", kind: "named", rule: "simple", options: [] });
    await live(chairToken, { type: "open_poll", poll, confirm_below_quorum: true });
    await live(chairToken, { type: "cast_ballot", poll, choice: { choice: "yes" } });
    await live(chairToken, { type: "close_poll", poll });
    await live(chairToken, { type: "close_meeting" });
    const clerkToken = await apiLogin(CLERK, -1);
    const before = await fetch(`${server.url}/api/v1/agenda-items/${budget}`, { headers: { authorization: `Bearer ${clerkToken}` } });
    const recorded = await fetch(`${server.url}/api/v1/agenda-items/${budget}/decision`, {
      method: "PUT",
      headers: { "content-type": "application/json", authorization: `Bearer ${clerkToken}`, "if-match": before.headers.get("etag") },
      body: JSON.stringify({ kind: "adopted", text: "Der Rat beschließt die Haushaltssatzung 2027.", poll }),
    });
    assert.equal(recorded.status, 200, await recorded.text());

    // The clerk creates the final version of the public part and signs it.
    const clerk = await signedIn(CLERK);
    const k = clerk.page;
    await go(k, `#/meetings/${MEETING}/minutes`);
    const panel = k.getByTestId("record-panel");
    await panel.getByTestId("record-freeze").click();
    const version = panel.getByTestId("record-version").first();
    await version.filter({ hasText: "Fassung 1" }).waitFor();
    assert.equal(await version.getAttribute("data-status"), "awaiting_signatures");
    await version.getByTestId("record-sign-clerk").click();
    // A wrong code is refused and the form stays.
    await version.getByTestId("record-code").fill("000000");
    await version.getByTestId("record-sign-confirm").click();
    await version.locator(".form-error").waitFor();
    await version.getByTestId("record-code").fill(demoCode(CLERK, 1));
    await version.getByTestId("record-sign-confirm").click();
    await panel.getByTestId("record-signature-clerk").filter({ hasText: "Sommer" }).waitFor();
    await panel.getByTestId("record-signature-chair").filter({ hasText: "noch nicht unterschrieben" }).waitFor();
    assert.equal(await panel.getByTestId("record-sign-chair").count(), 0, "the clerk does not sign for the chair");
    noPageErrors(clerk.errors);

    // The chair signs in her own browser.
    const chair = await signedIn(CHAIR);
    const c = chair.page;
    await go(c, `#/meetings/${MEETING}/minutes`);
    const chairPanel = c.getByTestId("record-panel");
    await chairPanel.getByTestId("record-sign-chair").click();
    await chairPanel.getByTestId("record-code").fill(demoCode(CHAIR, 1));
    await chairPanel.getByTestId("record-sign-confirm").click();
    await chairPanel.locator("[data-testid=record-version][data-status=signed]").waitFor();
    await chairPanel.getByTestId("record-signature-chair").filter({ hasText: "Brandt" }).waitFor();
    noPageErrors(chair.errors);

    // The clerk publishes (confirming the question).
    await k.reload();
    await settled(k);
    k.once("dialog", (dialog) => dialog.accept());
    await panel.getByTestId("record-publish").click();
    await panel.locator("[data-testid=record-version][data-status=published]").waitFor();
    const violations = await axeViolations(k);
    assert.equal(violations.length, 0, formatViolations(violations));
    await panel.screenshot({ path: "target/screenshots/minutes-signed.png" });
    noPageErrors(clerk.errors);

    // A citizen reads the decision and the signed minutes in the portal.
    const context = await newContext(browser);
    const p = await context.newPage();
    const errors = watchErrors(p);
    await p.goto(`${server.url}/#/portal/meetings/${MEETING}`);
    const minutes = p.getByTestId("portal-minutes");
    await minutes.waitFor();
    await minutes.getByText("Brandt").waitFor();
    // The decision is in the item (collapsed until opened).
    await p.getByText("Der Rat beschließt die Haushaltssatzung 2027.").first().waitFor({ state: "attached" });
    const href = await minutes.locator("a.file-link").getAttribute("href");
    const pdf = await fetch(`${server.url}${href}`);
    assert.equal(pdf.status, 200);
    assert.equal(pdf.headers.get("content-type"), "application/pdf");
    const bytes = Buffer.from(await pdf.arrayBuffer());
    assert.equal(bytes.subarray(0, 4).toString(), "%PDF");
    const portalViolations = await axeViolations(p);
    assert.equal(portalViolations.length, 0, formatViolations(portalViolations));
    await screenshot(p, "portal-minutes");

    // Printing the page (issue 17, item 4): no navigation, the agenda and the minutes stay.
    await p.emulateMedia({ media: "print" });
    assert.equal(await p.locator(".site-header").isVisible(), false, "no header in print");
    assert.equal(await p.locator(".app-nav").isVisible(), false, "no navigation in print");
    assert.equal(await p.locator(".site-footer").isVisible(), false, "no footer in print");
    assert.ok(await minutes.isVisible(), "the minutes print");
    const linkText = await minutes.locator("a.file-link").evaluate((a) => getComputedStyle(a, "::after").content);
    assert.match(linkText, /\/api\/v1\/public\/minutes\//, "the link is written out");
    await p.pdf({ path: "target/screenshots/portal-meeting-print.pdf" }).catch(() => {});
    noPageErrors(errors);
  });
});
