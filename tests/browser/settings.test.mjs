// The council's settings in a real browser (issue 17: the notice period is a per-body setting):
// the admin sets the Ladungsfrist, a wrong value is explained, the value is stored for the body
// and back on the server's default when emptied; the clerk sees what applies but cannot change
// it. axe-core on the screen; screenshot in target/screenshots/.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { startServer } from "./lib/server.mjs";
import { launch, login, newContext, screenshot, watchErrors } from "./lib/browser.mjs";
import { demoCode } from "./lib/totp.mjs";
import { axeViolations, formatViolations } from "./lib/axe.mjs";
import { apiLogin as signIn } from "./lib/api.mjs";

let server;
let browser;

/** The access token of a demo account signed in over the API (TOTP step `offset`). */
const apiLogin = (username, offset = 1) => signIn(server.url, username, offset);

async function stored(token) {
  const r = await fetch(`${server.url}/api/v1/body-settings`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(r.status, 200);
  return r.json();
}

describe("the council's settings", { timeout: 180_000 }, () => {
  before(async () => {
    server = await startServer();
    browser = await launch();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test("the admin sets the notice period; the clerk sees it", async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    const errors = watchErrors(page);
    await login(page, server.url, "admin", demoCode("admin"));
    await page.getByRole("link", { name: "Einstellungen" }).click();
    await page.getByRole("heading", { level: 1, name: "Einstellungen" }).waitFor();
    const field = page.getByLabel("Ladungsfrist in Tagen");
    await field.waitFor();
    assert.equal(await field.inputValue(), "");
    await page.getByText("Es gilt die Vorgabe des Servers: 7 Tage.").waitFor();

    // A value out of range is explained, and nothing is stored.
    await field.fill("99");
    await page.getByRole("button", { name: "Speichern" }).click();
    await page.getByRole("status").filter({ hasText: "ganze Zahl von 0 bis 60" }).waitFor();
    assert.equal(await field.getAttribute("aria-invalid"), "true");
    const reader = await apiLogin("martina.sommer", -1);
    assert.equal((await stored(reader)).invitation_notice_days, null);

    await field.fill("3");
    await page.getByRole("button", { name: "Speichern" }).click();
    await page.getByRole("status").filter({ hasText: "Gespeichert. Die Ladungsfrist beträgt jetzt 3 Tage." }).waitFor();
    await page.getByText("Es gilt: Einladungen gehen spätestens 3 Tage vor der Sitzung hinaus.").waitFor();
    const after = await stored(reader);
    assert.equal(after.invitation_notice_days, 3);
    assert.equal(after.effective_invitation_notice_days, 3);
    const violations = await axeViolations(page);
    assert.equal(violations.length, 0, formatViolations(violations));
    await screenshot(page, "settings-notice");

    // The clerk reads what applies; only administrators change it.
    const clerkContext = await newContext(browser);
    const clerk = await clerkContext.newPage();
    await login(clerk, server.url, "martina.sommer", demoCode("martina.sommer", 1));
    await clerk.getByRole("link", { name: "Einstellungen" }).click();
    await clerk.getByText("Es gilt: Einladungen gehen spätestens 3 Tage vor der Sitzung hinaus.").waitFor();
    assert.equal(await clerk.getByLabel("Ladungsfrist in Tagen").isDisabled(), true);
    await clerk.getByText("Nur die Administration kann diese Einstellungen ändern.").waitFor();
    assert.equal(await clerk.getByRole("button", { name: "Speichern" }).count(), 0);
    await clerkContext.close();

    // Emptied: back on the server's default.
    await field.fill("");
    await page.getByRole("button", { name: "Speichern" }).click();
    await page.getByRole("status").filter({ hasText: "beträgt jetzt 7 Tage" }).waitFor();
    await page.getByText("Es gilt die Vorgabe des Servers: 7 Tage.").waitFor();
    assert.equal((await stored(reader)).invitation_notice_days, null);
    const real = errors.filter((e) => e.startsWith("pageerror") || /Content Security Policy/.test(e));
    assert.deepEqual(real, [], "no script errors or CSP violations");
    await context.close();
  });
});
