// Stand-ins (Vertretung) in real browsers at tablet size: in the building committee the chair
// records that the substitute member Karin Koch stands in for the absent Petra Meyer; the
// substitute is told whom she represents and votes in a named poll; the roll call names her
// "(Vertretung für Petra Meyer)". Before the stand-in, the present substitute may not vote and
// is told why. axe-core on the chair console and the member screen.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { startServer } from "./lib/server.mjs";
import { launch, screenshot, signedInPage } from "./lib/browser.mjs";
import { axeViolations, formatViolations } from "./lib/axe.mjs";
import { apiLogin as signIn } from "./lib/api.mjs";
import { demoId } from "./lib/demo.mjs";

const MEETING = demoId("meeting:bau-1"); // "1. Sitzung des Ausschusses für Bau und Umwelt"
const CHAIR = "klaus.schroeder"; // chairs the building committee
const SUBSTITUTE = "karin.koch"; // substitute member (BU) of the building committee
const MEMBER = "andreas.wagner"; // member (BU) of the building committee
const ABSENT = demoId("person:petra.meyer"); // member (BU) of the building committee, absent
const row = (page, person) => page.locator(`[data-testid="att-row"][data-person="${person}"]`);

let server;
let browser;
const people = {};

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

/** The chair creates a named poll and opens it (below quorum: confirmed in the dialog). */
async function namedPoll(c, title) {
  await c.locator("#c-title").fill(title);
  await c.locator("#c-kind").selectOption("named");
  await c.getByTestId("create-poll").click();
  await c.getByTestId("open-poll").click();
  const dialog = c.getByTestId("quorum-dialog");
  await dialog.waitFor();
  await dialog.getByTestId("dialog-confirm").click();
  await c.locator("[data-poll].live-poll-open").waitFor();
}

async function vote(page, choice) {
  await page.locator(`[data-choice="${choice}"]`).click();
  await page.getByTestId("vote-send").click();
  await page.getByTestId("vote-counted").waitFor();
}

describe("stand-ins", { timeout: 240_000 }, () => {
  before(async () => {
    server = await startServer();
    browser = await launch();
    people.chair = await signedIn(CHAIR);
    people.substitute = await signedIn(SUBSTITUTE);
    people.member = await signedIn(MEMBER);
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test("the chair records a stand-in and the substitute votes in the absent member's place", async () => {
    const c = people.chair.page;
    await go(c, `#/meetings/${MEETING}/chair`);
    await c.locator(".live-conn-ok").waitFor();
    // The meeting is scheduled days ahead: the console asks before opening it today.
    await c.getByTestId("start-meeting").click();
    await c.getByTestId("other-day-dialog").getByTestId("dialog-confirm").click();
    await c.getByText("Sitzung läuft").first().waitFor();
    await c.getByTestId("chair-checkin").click();

    const s = people.substitute.page;
    const m = people.member.page;
    for (const page of [s, m]) {
      await go(page, `#/meetings/${MEETING}/live`);
      await page.locator(".live-conn-ok").waitFor();
      await page.getByRole("button", { name: "Ich bin im Saal" }).click();
      await page.getByText("Anwesend im Saal").first().waitFor();
    }

    // Without a stand-in, the present substitute holds no vote and is told why.
    await namedPoll(c, "Bebauungsplan Nr. 12 – ohne Vertretung");
    await s.getByTestId("not-eligible-reason").filter({ hasText: "nur ab, wenn Sie ein abwesendes Mitglied vertreten" }).waitFor();
    assert.equal(await s.locator('[data-choice="yes"]').count(), 0, "no ballot for her");
    await c.getByTestId("chair-ineligible").filter({ hasText: "Karin Koch (stellv. Mitglied ohne Vertretung)" }).waitFor();
    await c.getByTestId("close-poll").click();
    await c.locator("[data-poll].live-poll-closed").first().waitFor();

    // The chair records the stand-in from the absent member's row, choosing among substitutes.
    const petra = row(c, ABSENT);
    await petra.getByTestId("standin-add").click();
    const pick = petra.getByTestId("standin-pick");
    assert.deepEqual(await pick.locator("option").allInnerTexts(), ["Karin Koch (BU)"], "the free substitutes");
    await checkA11y(c, "chair (recording a stand-in)");
    await petra.getByTestId("standin-save").click();
    await petra.getByTestId("att-represented").filter({ hasText: "vertreten durch Karin Koch" }).waitFor();
    await row(c, demoId(`person:${SUBSTITUTE}`)).getByTestId("att-stands-in")
      .filter({ hasText: "vertritt Petra Meyer" }).waitFor();
    await petra.scrollIntoViewIfNeeded();
    await screenshot(c, "live-chair-standin");
    await checkA11y(c, "chair (stand-in recorded)");

    // The substitute learns whom she represents, and gets the ballot of the next poll.
    await s.getByTestId("standin-note").filter({ hasText: "Sie vertreten heute Petra Meyer" }).waitFor();
    await namedPoll(c, "Bebauungsplan Nr. 12 – Satzungsbeschluss");
    await s.locator('[data-choice="no"]').waitFor();
    // While the poll is open, the chair's "not voted yet" list marks the substitute.
    await c.getByTestId("chair-not-voted").filter({ hasText: "Karin Koch (Vertretung für Petra Meyer)" }).waitFor();
    await screenshot(s, "live-member-standin");
    await checkA11y(s, "member (standing in)");
    await vote(s, "no");
    await vote(m, "yes");
    await c.getByTestId("close-poll").click();

    // The roll call names the substitute's vote with whom it stood for, everywhere.
    for (const page of [c, s, m]) {
      await page.getByTestId("roll-call").getByTestId("rollcall-standin")
        .filter({ hasText: "(Vertretung für Petra Meyer)" }).first().waitFor();
    }
    const line = s.locator(".live-rollcall-line", { hasText: "Karin Koch" }).first();
    assert.equal(await line.getAttribute("data-choice"), "no");
    await screenshot(c, "live-chair-standin-result");

    // The chair ends the stand-in; the row offers it again.
    await petra.getByTestId("standin-end").click();
    await petra.getByTestId("standin-add").waitFor();
    await s.getByTestId("standin-note").waitFor({ state: "detached" });

    // The draft minutes list the stand-in with its times under the attendance.
    await go(c, `#/meetings/${MEETING}`);
    await c.getByTestId("minutes-link").click();
    await c.getByTestId("minutes-panel").getByTestId("minutes-stand-ins")
      .filter({ hasText: /Karin Koch vertritt Petra Meyer \(\d\d:\d\d – \d\d:\d\d Uhr\)/ }).waitFor();
    await checkA11y(c, "minutes draft with stand-ins");

    // As in live.test.mjs: a refused request (e.g. a token refresh) logs "Failed to load
    // resource"; anything else, a page error or a CSP violation, fails the test.
    for (const who of Object.values(people)) {
      const errors = who.errors.filter((e) => !/WebSocket|Failed to load resource/.test(e));
      assert.deepEqual(errors, [], `${who.username}: console errors`);
    }
  });

  test("clients apply stand-in events exactly as a fresh snapshot shows them", async () => {
    const { reduce } = await import("../../web/js/live/socket.js");
    const token = await apiLogin(CHAIR);
    const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
    const get = (path) => fetch(`${server.url}/api/v1/meetings/${MEETING}${path}`, { headers }).then((r) => r.json());
    const send = async (command) => {
      const r = await fetch(`${server.url}/api/v1/meetings/${MEETING}/live/commands`, {
        method: "POST", headers, body: JSON.stringify({ command_id: crypto.randomUUID(), command }),
      });
      assert.equal(r.status, 200, await r.text());
    };
    const before = await get("/live");
    const state = before.state;
    const me = state.viewer.person;
    // Set, then the member arrives (the stand-in ends), then set again.
    await send({ type: "set_stand_in", member: ABSENT, substitute: demoId(`person:${SUBSTITUTE}`) });
    await send({ type: "set_attendance", person: ABSENT, status: "present" });
    await send({ type: "set_attendance", person: ABSENT, status: "excused" });
    await send({ type: "set_stand_in", member: ABSENT, substitute: demoId(`person:${SUBSTITUTE}`) });
    const { events } = await get(`/live/events?after=${before.seq}`);
    assert.deepEqual(events.map((e) => e.event.type),
      ["stand_in_set", "attendance_changed", "stand_in_ended", "attendance_changed", "stand_in_set"]);
    for (const { event } of events) assert.equal(reduce(state, event, me), true, `${event.type} applied in place`);
    const after = (await get("/live")).state;
    const pick = (s) => ({
      quorum: s.quorum,
      stand_ins: s.stand_ins.map(({ member, substitute, member_name, substitute_name }) => ({ member, substitute, member_name, substitute_name })),
      rows: s.attendance.map((a) => [a.person, a.status ?? null, a.stands_in_for ?? null, a.represented_by ?? null]),
    });
    assert.deepEqual(pick(state), pick(after));
  });
});
