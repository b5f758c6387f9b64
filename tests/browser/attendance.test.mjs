// The attendance register in a real browser (issue 15, item 6): the admin sets the allowance,
// the mayor runs and closes a council meeting with a member checked in, the clerk picks the
// period, sees the table with the amounts and downloads the CSV for the payroll office.
// axe-core on the screen; screenshot in target/screenshots/ (docs/attendance.png).

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { startServer } from "./lib/server.mjs";
import { launch, login, newContext, screenshot, watchErrors } from "./lib/browser.mjs";
import { demoCode } from "./lib/totp.mjs";
import { axeViolations, formatViolations } from "./lib/axe.mjs";
import { apiLogin as signIn } from "./lib/api.mjs";
import { demoId } from "./lib/demo.mjs";

const MEETING = demoId("meeting:rat-3");

let server;
let browser;

/** The access token of a demo account signed in over the API (TOTP step `offset`). */
const apiLogin = (username, offset = 1) => signIn(server.url, username, offset);

async function call(token, method, path, body) {
  const r = await fetch(`${server.url}${path}`, {
    method,
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  assert.ok(r.ok, `${method} ${path}: ${r.status} ${await r.clone().text()}`);
  return r.json();
}

async function settled(page) {
  await page.waitForFunction(() => document.querySelector("#main .screen")?.getAttribute("aria-busy") === "false");
  await page.waitForTimeout(150);
}

describe("the attendance register", { timeout: 180_000 }, () => {
  before(async () => {
    server = await startServer();
    browser = await launch();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test("the clerk sees who attended and downloads the CSV", async () => {
    const admin = await apiLogin("admin");
    await call(admin, "PUT", "/api/v1/attendance-allowances", { council: 4000, committee: 3000, fraction: 2000 });
    const mayor = await apiLogin("katharina.brandt");
    const anna = await apiLogin("anna.hartmann");
    const meeting = await call(mayor, "GET", `/api/v1/meetings/${MEETING}`);
    const day = meeting.start.slice(0, 10);
    const live = (token, command) => call(token, "POST", `/api/v1/meetings/${MEETING}/live/commands`,
      { command_id: crypto.randomUUID(), command });
    await live(mayor, { type: "start_meeting", confirm_other_day: true });
    await live(mayor, { type: "check_in", remote: false });
    await live(anna, { type: "check_in", remote: false });
    await live(mayor, { type: "close_meeting" });

    const context = await newContext(browser);
    const k = await context.newPage();
    const errors = watchErrors(k);
    await login(k, server.url, "martina.sommer", demoCode("martina.sommer"));
    await k.getByRole("link", { name: "Sitzungsgeld" }).click();
    await k.getByRole("heading", { level: 1, name: "Anwesenheit und Sitzungsgeld" }).waitFor();
    await settled(k);
    await k.getByLabel("Von").fill(day);
    await k.getByLabel("Bis").fill(day);
    await k.getByTestId("attendance-show").click();
    const table = k.getByTestId("attendance-table");
    await table.waitFor();
    const hartmann = table.getByTestId("attendance-line").filter({ hasText: "Anna Hartmann" });
    await hartmann.getByText("40,00 €").waitFor();
    await table.getByTestId("attendance-line").filter({ hasText: "Brandt" }).waitFor();
    assert.equal(await table.getByTestId("attendance-line").count(), 2);
    assert.equal(await k.getByTestId("attendance-total").textContent(), "80,00 €");
    await k.getByText("Sitzungsgeld je Sitzung: Rat 40,00 €, Ausschuss 30,00 €, Fraktion 20,00 €").waitFor();

    const [download] = await Promise.all([
      k.waitForEvent("download"),
      k.getByTestId("attendance-csv").click(),
    ]);
    const csv = readFileSync(await download.path());
    assert.deepEqual([...csv.subarray(0, 3)], [0xef, 0xbb, 0xbf], "UTF-8 with BOM");
    const text = csv.subarray(3).toString("utf8");
    assert.match(text, /^Nachname;Vorname;/);
    assert.match(text, /\r\nHartmann;Anna;[^\r]*;1;0;0;40,00\r\n/);

    const violations = await axeViolations(k);
    assert.equal(violations.length, 0, formatViolations(violations));
    await screenshot(k, "attendance");
    const real = errors.filter((e) => e.startsWith("pageerror") || /Content Security Policy/.test(e));
    assert.deepEqual(real, [], "no script errors or CSP violations");
  });
});
