// The register of persons in a real browser (issue 16): the clerk finds a council member by
// search, withdraws and restores the publication (OParl follows), and records roles, name affix
// and gender, which OParl then serves. A member has no link to the screen and is refused.
// axe-core on the screen; screenshot in target/screenshots/ (docs/persons.png).

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { startServer } from "./lib/server.mjs";
import { launch, screenshot, signedInPage } from "./lib/browser.mjs";
import { axeViolations, formatViolations } from "./lib/axe.mjs";

const CLERK = "martina.sommer";
const MEMBER = "anna.hartmann";

let server;
let browser;

const signedIn = (username) => signedInPage(browser, server.url, username);

async function settled(page) {
  await page.waitForFunction(() => document.querySelector("#main .screen")?.getAttribute("aria-busy") === "false");
  await page.waitForTimeout(150);
}

function noPageErrors(errors) {
  const real = errors.filter((e) => e.startsWith("pageerror") || /Content Security Policy/.test(e));
  assert.deepEqual(real, [], "no script errors or CSP violations");
}

/** The OParl person with this family name in the demo body's person list, or undefined. */
async function oparlPerson(familyName) {
  const system = await fetch(`${server.url}/oparl/v1`).then((r) => r.json());
  const bodies = await fetch(system.body).then((r) => r.json());
  const persons = await fetch(`${bodies.data[0].person}?limit=500`).then((r) => r.json());
  return persons.data.find((p) => p.familyName === familyName);
}

describe("the register of persons", { timeout: 180_000 }, () => {
  before(async () => {
    server = await startServer();
    browser = await launch();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test("the clerk searches, unpublishes and republishes, and records roles", async () => {
    const clerk = await signedIn(CLERK);
    const k = clerk.page;
    await k.getByRole("link", { name: "Personen" }).click();
    await k.getByRole("heading", { level: 1, name: "Personen veröffentlichen" }).waitFor();
    await settled(k);
    const all = await k.getByTestId("person").count();
    assert.ok(all >= 40, `the whole register (${all})`);
    // The clerk herself (staff) is not published.
    const sommer = k.getByTestId("person").filter({ hasText: "Martina Sommer" });
    assert.equal(await sommer.getByTestId("person-published").isChecked(), false);

    await k.getByLabel("Person suchen").fill("hartm");
    await k.getByText(/^1 von \d+ Personen$/).waitFor();
    const anna = k.getByTestId("person").filter({ hasText: "Anna Hartmann" });
    const toggle = anna.getByTestId("person-published");
    assert.equal(await toggle.isChecked(), true);
    await toggle.uncheck();
    await k.getByTestId("persons-status").filter({ hasText: "Anna Hartmann ist nicht mehr veröffentlicht." }).waitFor();
    assert.equal(await oparlPerson("Hartmann"), undefined, "gone from OParl");
    await toggle.check();
    await k.getByTestId("persons-status").filter({ hasText: "Anna Hartmann ist jetzt veröffentlicht." }).waitFor();
    assert.ok(await oparlPerson("Hartmann"), "back in OParl");

    // Roles, affix and gender.
    await anna.getByText("Angaben für OParl").click();
    await anna.getByLabel("Funktionen").fill("Ratsmitglied\nFraktionsvorsitzende");
    await anna.getByLabel("Namenszusatz").fill("von");
    await anna.getByLabel("Geschlecht").selectOption("female");
    await anna.getByTestId("person-save").click();
    await k.getByTestId("persons-status").filter({ hasText: "Die Angaben zu Anna Hartmann wurden gespeichert." }).waitFor();
    const person = await oparlPerson("Hartmann");
    assert.deepEqual(person.status, ["Ratsmitglied", "Fraktionsvorsitzende"]);
    assert.equal(person.affix, "von");
    assert.equal(person.gender, "female");

    // A bad value keeps the form and says why (the server's 422).
    const roles = Array.from({ length: 11 }, (_, i) => `Rolle ${i + 1}`).join("\n");
    await anna.getByLabel("Funktionen").fill(roles);
    await anna.getByTestId("person-save").click();
    await k.getByTestId("persons-status").filter({ hasNotText: "gespeichert" }).waitFor();
    assert.equal(await anna.getByLabel("Funktionen").inputValue(), roles, "nothing typed is lost");
    assert.equal((await oparlPerson("Hartmann")).status.length, 2);

    // The screen after a reload, searched by role.
    await k.reload();
    await settled(k);
    await k.getByLabel("Person suchen").fill("Fraktionsvorsitzende");
    await k.getByTestId("person").filter({ hasText: "Anna Hartmann" }).waitFor();
    await k.getByLabel("Person suchen").fill("");
    const violations = await axeViolations(k);
    assert.equal(violations.length, 0, formatViolations(violations));
    await k.getByTestId("person").filter({ hasText: "Anna Hartmann" }).getByText("Angaben für OParl").click();
    await k.getByLabel("Person suchen").fill("ha");
    const open = await axeViolations(k);
    assert.equal(open.length, 0, formatViolations(open));
    await screenshot(k, "persons");
    noPageErrors(clerk.errors);
  });

  test("a member has no link and is refused", async () => {
    const member = await signedIn(MEMBER);
    const m = member.page;
    assert.equal(await m.getByRole("link", { name: "Personen" }).count(), 0);
    await m.evaluate(() => {
      window.location.hash = "#/persons";
    });
    await m.getByText("Diese Seite ist dem Ratsbüro und der Administration vorbehalten.").waitFor();
    assert.equal(await m.getByTestId("person").count(), 0);
    noPageErrors(member.errors);
  });
});
