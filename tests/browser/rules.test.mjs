// The rule set reaches the screens: under Bayern's rules (PLENUM_RULE_SET=bayern) the chair's
// console offers no secret vote on a motion, and a member taking part online when an election
// opens reads why they may not vote in it, while the chair sees them listed with the reason.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { startServer } from "./lib/server.mjs";
import { launch, screenshot, signedInPage } from "./lib/browser.mjs";
import { demoId } from "./lib/demo.mjs";

const MEETING = demoId("meeting:rat-3");

let server;
let browser;

const signedIn = (username) => signedInPage(browser, server.url, username);

async function go(page, hash) {
  await page.evaluate((h) => {
    window.location.hash = h;
  }, hash);
}

describe("election outcomes in the client", () => {
  // `reduce` applies a live event to the client's state; `false` means "take a fresh snapshot".
  test("a closed first round that may add a second round asks for a snapshot; others apply in place", async () => {
    const { reduce } = await import("../../web/js/live/socket.js");
    const closing = (round, election_outcome) => {
      const state = {
        rule_set: "bayern", viewer: { chair: true }, attendance: [],
        polls: [{ id: "p", kind: "election", state: "open", round, options: ["Anna", "Bernd"] }],
      };
      const event = { type: "poll_closed", poll: "p", at: "2026-12-06T10:00:00Z", result: { election_outcome } };
      return reduce(state, event, null);
    };
    assert.equal(closing(1, { elected: 0 }), true);
    assert.equal(closing(1, { lot: [0, 1] }), true, "the lot comes as its own event");
    assert.equal(closing(1, { runoff: [0, 1] }), false);
    assert.equal(closing(1, "none_elected"), false, "Niedersachsen adds a second round");
    assert.equal(closing(2, "none_elected"), true, "no third round");
  });
});

describe("rule sets on screen", { timeout: 180_000 }, () => {
  before(async () => {
    server = await startServer({ env: { PLENUM_RULE_SET: "bayern" } });
    browser = await launch();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test("Bayern: no secret vote on a motion; a member online does not vote in an election", async () => {
    const chair = await signedIn("katharina.brandt");
    const c = chair.page;
    await go(c, `#/meetings/${MEETING}/chair`);
    await c.locator(".live-conn-ok").waitFor();
    await c.getByTestId("start-meeting").click();
    await c.getByTestId("other-day-dialog").getByTestId("dialog-confirm").click();
    await c.getByText("Sitzung läuft").first().waitFor();
    const kinds = await c.locator("#c-kind option").evaluateAll((options) => options.map((o) => o.value));
    assert.deepEqual(kinds, ["open", "named", "election", "manual"], "no secret vote on a motion");

    const member = await signedIn("anna.hartmann");
    const m = member.page;
    await go(m, `#/meetings/${MEETING}/live`);
    await m.locator(".live-conn-ok").waitFor();
    await m.getByRole("button", { name: "Ich nehme online teil" }).click();
    await m.getByText("Online zugeschaltet").first().waitFor();

    await c.locator("#c-title").fill("Wahl der Schriftführung");
    await c.locator("#c-kind").selectOption("election");
    await c.locator("#c-options").fill("Heinz Ehrlich\nThomas Schneider");
    await c.getByTestId("create-poll").click();
    await c.getByTestId("open-poll").click();
    await c.getByTestId("quorum-dialog").getByTestId("dialog-confirm").click();
    await c.locator("[data-poll].live-poll-open").waitFor();

    const reason = m.getByTestId("not-eligible-reason");
    await reason.waitFor();
    assert.match(await reason.innerText(), /online zugeschaltet/);
    assert.equal(await m.locator("[data-choice]").count(), 0, "no ballot to cast");
    await c.getByTestId("chair-ineligible").filter({ hasText: "online, keine Wahl" }).waitFor();
    await screenshot(m, "live-member-remote-election");
    await screenshot(c, "live-chair-remote-election");
    // (A refresh attempt before signing in answers 401; the browser logs that as a failed load.)
    for (const who of [chair, member]) {
      assert.deepEqual(who.errors.filter((e) => !/Failed to load resource/.test(e)), [], "console errors");
    }
  });
});
