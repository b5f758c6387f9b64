// Browser test of notifications (issue 17): a member has the notifications screen open; the
// clerk issues the invitation of the next council meeting; the member sees it arrive live (the
// bell's unread badge and the list, over the personal stream), opens it, and it is read; the
// meeting page lists the invitation with "Einladung (PDF)", the clerk sees each member's e-mail
// delivery, and the portal links the public notice as PDF ("Bekanntmachung (PDF)").
// axe-core and screenshots of the screen before and after.

import assert from "node:assert/strict";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { after, before, test } from "node:test";
import { axeViolations, formatViolations } from "./lib/axe.mjs";
import { join } from "node:path";
import { SCREENSHOTS, launch, newContext, screenshot, signedInPage } from "./lib/browser.mjs";
import { startServer } from "./lib/server.mjs";

let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function settled(page) {
  await page.waitForFunction(() => document.querySelector("#main .screen")?.getAttribute("aria-busy") === "false");
  await page.waitForTimeout(200);
}

async function check(page, name) {
  await settled(page);
  await screenshot(page, name);
  const violations = await axeViolations(page);
  assert.equal(violations.length, 0, `axe on ${name}:\n${formatViolations(violations)}`);
}

/** Signed in with the code of the step `offset` steps ahead (each step is usable once). */
const signedIn = (username, offset = 0) => signedInPage(browser, server.url, username, { offset });

test("a member sees a new invitation live in the notifications", async () => {
  const member = await signedIn("anna.hartmann");
  await member.page.goto(`${server.url}/#/notifications`);
  await member.page.getByRole("heading", { level: 1, name: "Benachrichtigungen" }).waitFor();
  await member.page.getByText("Keine Benachrichtigungen.").waitFor();
  assert.equal(await member.page.locator("#nav-notifications-unread").count(), 0);
  await check(member.page, "notifications-empty");

  // The clerk opens the third council meeting and sends the invitation from its page.
  const clerk = await signedIn("martina.sommer");
  const meetingId = await clerk.page.evaluate(async () => {
    const { api } = await import("/js/api.js");
    const all = await api.get("/api/v1/meetings?when=all");
    return all.data.find((m) => m.name.startsWith("3. Sitzung des Rates")).id;
  });
  await clerk.page.goto(`${server.url}/#/meetings/${meetingId}`);
  const controls = clerk.page.locator('[data-testid="issue-controls"]');
  await controls.waitFor();
  await check(clerk.page, "meeting-issue-controls");
  await controls.getByRole("button", { name: "Einladung versenden" }).click();
  await clerk.page.locator('[data-testid="issue-status"]').filter({ hasText: "Versendet" }).waitFor();
  // Invited now: the page offers a supplement instead, and lists the invitation.
  await clerk.page.getByRole("button", { name: "Nachtrag versenden" }).waitFor();
  const invited = await clerk.page.evaluate(async (id) => {
    const { api } = await import("/js/api.js");
    return api.get(`/api/v1/meetings/${id}`);
  }, meetingId);
  assert.equal(invited.state, "invited");

  // Live: the badge and the list update without a reload.
  const badge = member.page.locator("#nav-notifications-unread");
  await badge.waitFor({ timeout: 10_000 });
  assert.match(await badge.innerText(), /^1/);
  const item = member.page.locator(".notification-unread .notification-title");
  await item.waitFor();
  assert.match(await item.innerText(), /^Einladung: 3\. Sitzung des Rates der Stadt Musterstadt am /);
  assert.equal(await member.page.locator("#notifications-count").innerText(), "1 ungelesen");
  // The invitation as PDF, beside the notification (rendered by the server, fetched with the token).
  const listPdf = member.page.locator('.notification [data-testid="invitation-pdf-1"]');
  assert.equal(await listPdf.innerText(), "Einladung (PDF)");
  await check(member.page, "notifications-invitation");

  // Opening it goes to the meeting and marks it read (the badge goes away).
  await item.click();
  await member.page.waitForURL(`**/#/meetings/${invited.id}`);
  await member.page.locator("#nav-notifications-unread").waitFor({ state: "detached", timeout: 10_000 });
  const after = await member.page.evaluate(async () => {
    const { api } = await import("/js/api.js");
    return api.get("/api/v1/notifications");
  });
  assert.equal(after.unread, 0);
  assert.ok(after.data[0].read_at);

  // The member's meeting page lists the invitation (no delivery details for members).
  const docs = member.page.locator('[data-testid="invitations"]');
  await docs.waitFor();
  assert.match(await docs.innerText(), /Einladung vom /);
  assert.equal(await member.page.locator(".deliveries").count(), 0);
  // "Einladung (PDF)": the server renders it; the download link appears.
  const download = member.page.waitForEvent("download");
  await docs.locator('[data-testid="invitation-pdf-1"]').click();
  const link = docs.locator('[data-testid="invitation-pdf-1-link"]');
  await link.waitFor({ timeout: 30_000 });
  const downloaded = await download;
  assert.equal(downloaded.suggestedFilename(), "Einladung.pdf");
  // Kept for a look at the first page (pdftoppm, as docs/invitation-pdf.png was made).
  const bytes = await readFile(await downloaded.path());
  assert.equal(bytes.subarray(0, 5).toString(), "%PDF-");
  await mkdir(SCREENSHOTS, { recursive: true });
  await writeFile(join(SCREENSHOTS, "invitation.pdf"), bytes);
  await check(member.page, "meeting-invitations-member");

  // The clerk sees each member's e-mail delivery: no SMTP server here, so they wait.
  await clerk.page.goto(`${server.url}/#/meetings/${invited.id}`);
  const table = clerk.page.locator(".deliveries-table");
  await table.waitFor();
  assert.match(await clerk.page.locator(".deliveries").innerText(), /nicht konfiguriert/);
  const rows = await clerk.page.locator(".deliveries-table tbody tr").count();
  assert.ok(rows >= 5, `${rows} deliveries`);
  assert.equal(await clerk.page.locator('.deliveries-table tbody tr[data-state="queued"]').count(), rows);
  assert.match(await table.innerText(), /anna\.hartmann@musterstadt\.example/);
  await check(clerk.page, "meeting-invitations-clerk");

  // The portal's meeting page links the public notice as PDF.
  const visitor = await newContext(browser);
  const portal = await visitor.newPage();
  await portal.goto(`${server.url}/#/portal/meetings/${invited.id}`);
  const notice = portal.locator('[data-testid="notice-pdf"]');
  await notice.waitFor();
  assert.equal(await notice.innerText(), "Bekanntmachung (PDF)");
  const response = await portal.request.get(new URL(await notice.getAttribute("href"), server.url).href);
  assert.equal(response.status(), 200);
  assert.equal(response.headers()["content-type"], "application/pdf");
  await visitor.close();

  const real = [...member.errors, ...clerk.errors].filter((e) => e.startsWith("pageerror") || /Content Security Policy/.test(e));
  assert.deepEqual(real, [], "no script errors or CSP violations");
  await member.context.close();
  await clerk.context.close();
});

test("a late invitation asks the clerk for the reason and shows it to the members", async () => {
  const clerk = await signedIn("martina.sommer", 1);
  // A special meeting two days ahead (through the API): the notice period is a week.
  const id = await clerk.page.evaluate(async () => {
    const { api } = await import("/js/api.js");
    const all = await api.get("/api/v1/meetings?when=all");
    const council = all.data.find((m) => m.name.startsWith("3. Sitzung des Rates"));
    const start = new Date(Date.now() + 2 * 24 * 3600 * 1000).toISOString();
    const created = await api.post("/api/v1/meetings", {
      organization_id: council.organization.id, name: "Sondersitzung des Rates", start,
    });
    return created.id;
  });
  await clerk.page.goto(`${server.url}/#/meetings/${id}`);
  const controls = clerk.page.locator('[data-testid="issue-controls"]');
  await controls.getByRole("button", { name: "Einladung versenden" }).click();
  // Refused: the deadline is named and a reason is asked for.
  const reason = clerk.page.getByLabel("Begründung der verkürzten Ladungsfrist");
  await reason.waitFor();
  assert.match(await controls.innerText(), /Ladungsfrist ist am .* abgelaufen/);
  await check(clerk.page, "meeting-issue-late");
  // Sending without a reason does not go out.
  await controls.getByRole("button", { name: "Mit Begründung versenden" }).click();
  assert.equal(await clerk.page.locator('[data-testid="invitations"]').count(), 0);
  await reason.fill("Eilbedürftige Entscheidung über Fördermittel");
  await controls.getByRole("button", { name: "Mit Begründung versenden" }).click();
  const docs = clerk.page.locator('[data-testid="invitations"]');
  await docs.waitFor();
  assert.match(await docs.innerText(), /Eilbedürftige Entscheidung über Fördermittel/);
  assert.deepEqual(clerk.errors.filter((e) => e.startsWith("pageerror")), []);
  await clerk.context.close();
});
