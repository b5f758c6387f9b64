// The Bekanntgabe of a non-public decision in real browsers (issue 16): the clerk announces the
// recorded decision of a non-public item under a public title; a citizen then reads it in the
// portal under the meeting, labelled "Bekanntgegebener Beschluss aus nichtöffentlicher Sitzung",
// and never the item's internal title. axe-core on both screens; screenshots in
// target/screenshots/.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { startServer } from "./lib/server.mjs";
import { launch, login, newContext, screenshot, watchErrors } from "./lib/browser.mjs";
import { demoCode } from "./lib/totp.mjs";
import { axeViolations, formatViolations } from "./lib/axe.mjs";
import { apiLogin as signIn } from "./lib/api.mjs";
import { demoId } from "./lib/demo.mjs";

const MEETING = demoId("meeting:rat-3");
const ITEM = demoId(`item:${MEETING}:N 1`); // "Vertragsangelegenheiten", non-public
const INTERNAL = "Vertragsangelegenheiten";
const CLERK = "martina.sommer";
const TEXT = "Der Rat stimmt dem Verkauf des Grundstücks Am Markt 3 zu.";
const PUBLIC_TITLE = "Verkauf eines städtischen Grundstücks";

let server;
let browser;

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

/** An access token over the REST API (this TOTP step; the browser signs in with the next one). */
const apiLogin = (username, offset = 0) => signIn(server.url, username, offset);

describe("the Bekanntgabe of a non-public decision", { timeout: 300_000 }, () => {
  before(async () => {
    server = await startServer();
    browser = await launch();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test("the clerk announces one non-public decision; the portal shows it under its public title", async () => {
    // The decision on the non-public item, recorded over the API.
    const token = await apiLogin(CLERK);
    const headers = { authorization: `Bearer ${token}` };
    const current = await fetch(`${server.url}/api/v1/agenda-items/${ITEM}`, { headers });
    assert.equal(current.status, 200, await current.clone().text());
    const put = await fetch(`${server.url}/api/v1/agenda-items/${ITEM}/decision`, {
      method: "PUT",
      headers: { ...headers, "content-type": "application/json", "if-match": current.headers.get("etag") },
      body: JSON.stringify({ kind: "adopted", text: TEXT }),
    });
    assert.equal(put.status, 200, await put.text());

    // Before: the portal knows nothing of it.
    const citizenContext = await newContext(browser);
    const citizen = await citizenContext.newPage();
    const citizenErrors = watchErrors(citizen);
    await citizen.goto(`${server.url}/#/portal/meetings/${MEETING}`);
    await settled(citizen);
    assert.equal(await citizen.getByTestId("portal-announced").count(), 0);

    // The clerk opens the item: the recorded decision offers "Beschluss bekanntgeben".
    const context = await newContext(browser);
    const k = await context.newPage();
    const errors = watchErrors(k);
    await login(k, server.url, CLERK, demoCode(CLERK, 1));
    await k.evaluate((h) => {
      window.location.hash = h;
    }, `#/meetings/${MEETING}`);
    await settled(k);
    const item = k.locator(`details#item-${ITEM}`);
    await item.locator("summary").click();
    const editor = item.getByTestId("decision-editor");
    await editor.getByTestId("decision").waitFor();
    await editor.getByTestId("decision-announce").click();
    const form = editor.getByTestId("announce-form");
    await form.waitFor();
    // A title is required: the form says so before sending anything.
    await form.getByTestId("announce-submit").click();
    await form.getByText("Bitte einen öffentlichen Titel angeben.").waitFor();
    assert.equal(await form.getByLabel("Öffentlicher Titel").getAttribute("aria-invalid"), "true");
    await form.getByLabel("Öffentlicher Titel").fill(PUBLIC_TITLE);
    await form.getByLabel("Vermerk (optional)").fill("bekanntgegeben in der Sitzung am 12.03.2027");
    await screenshot(k, "announcement-clerk-form");
    await checkA11y(k, "clerk: announcement form");
    await form.getByTestId("announce-submit").click();
    const done = editor.getByTestId("decision-announced");
    await done.waitFor();
    assert.match(await done.innerText(), new RegExp(`Bekanntgegeben am .+ als „${PUBLIC_TITLE}“`));
    assert.equal(await editor.getByTestId("decision-announce").count(), 0, "once");
    noPageErrors(errors);
    await context.close();

    // The citizen reads it under the meeting, and nothing of the internal title.
    await citizen.reload();
    await settled(citizen);
    const block = citizen.getByTestId("portal-announced");
    await block.waitFor();
    const shown = await block.innerText();
    assert.match(shown, /Bekanntgegebener Beschluss aus nichtöffentlicher Sitzung/);
    assert.match(shown, new RegExp(PUBLIC_TITLE));
    assert.match(shown, /Beschluss: angenommen/);
    assert.match(shown, new RegExp(TEXT));
    assert.match(shown, /bekanntgegeben in der Sitzung am 12\.03\.2027/);
    assert.ok(!(await citizen.content()).includes(INTERNAL), "the internal title never reaches the portal");
    await block.scrollIntoViewIfNeeded();
    await screenshot(citizen, "portal-announced-decision");
    await checkA11y(citizen, "portal: announced decision");
    noPageErrors(citizenErrors);
    await citizenContext.close();
  });
});
