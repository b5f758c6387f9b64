// Benchmark of annotations in the viewer (not a test: prints figures). A 20-page paper gets 1,000
// annotations (40 % highlights of 3 rectangles, 30 % drawings of 2 strokes × 30 points with
// pressure, 30 % sticky notes), 200 on each of pages 1–5, written by the demo council's members
// (30 each: the posting limit is per account) and shared with the council; the reader is
// another member. A member opens the
// paper in the viewer in Chromium at tablet size. Measured: the list request alone, the time from
// navigation to page 1 drawn with its 200 annotations (and, alongside, the same pages without
// annotations: what the viewer itself takes), and opening the list of all 1,000.
//
//   cargo build --release -p plenum-server
//   PLENUM_BIN=$PWD/target/release/plenum node tests/browser/bench-annotations.mjs [--runs 3]

import { launch, login } from "./lib/browser.mjs";
import { paperPages, samplePdf } from "./lib/pdf.mjs";
import { startServer } from "./lib/server.mjs";
import { demoCode } from "./lib/totp.mjs";

const arg = (name, fallback) => {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
};
const RUNS = arg("runs", 3);
const TOTAL = arg("annotations", 1000);
const PER_AUTHOR = 30;
const READER = "thomas.schneider";

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (ms) => `${ms.toFixed(0)} ms`;

/** The demo's login name of a person ("Dr. Katharina Brandt" → katharina.brandt). */
function usernameOf(name) {
  const words = name.split(/\s+/).filter((w) => !w.endsWith("."));
  const map = { ä: "ae", ö: "oe", ü: "ue", ß: "ss", ı: "i", ş: "s", ğ: "g", ç: "c" };
  return `${words[0]}.${words.at(-1)}`.toLowerCase().split("")
    .map((c) => map[c] ?? (/[a-z0-9.-]/.test(c) ? c : "")).join("");
}

const server = await startServer();
const browser = await launch();
try {
  const api = async (path, { method = "GET", token, body, type } = {}) => {
    const headers = { Accept: "application/json" };
    if (token) headers.Authorization = `Bearer ${token}`;
    if (type) headers["Content-Type"] = type;
    else if (body) headers["Content-Type"] = "application/json";
    const response = await fetch(`${server.url}${path}`, { method, headers, body: type ? body : body ? JSON.stringify(body) : undefined });
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
    return response.json();
  };
  const signIn = async (username, offset = 0) => {
    const step = await api("/api/v1/auth/login", { method: "POST", body: { username, password: "Musterstadt-Demo-2026" } });
    return (await api("/api/v1/auth/totp", { method: "POST", body: { mfa_token: step.mfa_token, code: demoCode(username, offset) } })).access_token;
  };
  const clerk = await signIn("martina.sommer");
  const paper = (await api("/api/v1/public/search?q=10742&limit=5")).data.find((hit) => hit.kind === "paper").id;
  const pdf = samplePdf(paperPages(20));
  const boundary = "plenum-bench-boundary";
  const body = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="paper_id"\r\n\r\n${paper}\r\n`
      + `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="Annotiert.pdf"\r\n`
      + "Content-Type: application/pdf\r\n\r\n"),
    pdf, Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  const upload = async () => {
    const made = await api("/api/v1/files", { method: "POST", token: clerk, body, type: `multipart/form-data; boundary=${boundary}` });
    while ((await api(`/api/v1/files/${made.id}`, { token: clerk })).text_status === "pending") {
      await new Promise((r) => setTimeout(r, 50));
    }
    return made;
  };
  const file = await upload();
  // The same pages without annotations: the viewer's own opening time, measured alongside.
  const bare = await upload();

  // The authors: council members, 30 annotations each, shared with the council.
  const names = (await api("/api/v1/persons", { token: clerk })).map((p) => usernameOf(p.name))
    .filter((u) => u !== "martina.sommer" && u !== READER);
  let written = 0;
  const writeStarted = performance.now();
  for (const username of names) {
    if (written >= TOTAL) break;
    let token;
    try {
      token = await signIn(username);
    } catch {
      continue; // not an account of this demo
    }
    const council = (await api("/api/v1/notes/audiences", { token })).find((a) => a.organization.kind === "council");
    if (!council) continue;
    for (let i = 0; i < PER_AUTHOR && written < TOTAL; i += 1, written += 1) {
      const n = written;
      const page = 1 + (n % 5);
      const base = { page, shared_with: council.organization.id };
      let annotation;
      if (n % 10 < 4) {
        const y = 60 + (n % 40) * 18;
        annotation = { ...base, kind: "highlight", quote: "Haushaltsplanung und Investitionen",
          rects: [0, 1, 2].map((k) => ({ x: 60 + k * 10, y: y + k * 4, width: 300, height: 12 })) };
      } else if (n % 10 < 7) {
        const strokes = [0, 1].map((k) => {
          const points = [];
          const pressure = [];
          for (let p = 0; p < 30; p += 1) {
            points.push(80 + p * 12, 100 + (n % 30) * 20 + k * 8 + (p % 2) * 6);
            pressure.push(0.3 + (p / 30) * 0.6);
          }
          return { points, pressure, width: 2 };
        });
        annotation = { ...base, kind: "ink", strokes };
      } else {
        annotation = { ...base, kind: "note", point: { x: 40 + (n % 12) * 45, y: 60 + (n % 35) * 21 },
          body: `Anmerkung ${n}: Kosten und Zeitplan mit der Verwaltung klären.` };
      }
      await api(`/api/v1/files/${file.id}/annotations`, { method: "POST", token, body: annotation });
    }
  }
  const writeMs = performance.now() - writeStarted;
  if (written < TOTAL) throw new Error(`only ${written} annotations written`);

  const reader = await signIn(READER, -1);
  const listTimes = [];
  let bytes = 0;
  for (let i = 0; i < 5; i += 1) {
    const started = performance.now();
    const response = await fetch(`${server.url}/api/v1/files/${file.id}/annotations`, { headers: { Authorization: `Bearer ${reader}` } });
    const text = await response.text();
    listTimes.push(performance.now() - started);
    bytes = text.length;
    if (JSON.parse(text).length !== TOTAL) throw new Error("the reader does not see every annotation");
  }

  const context = await browser.newContext({ viewport: { width: 768, height: 1024 }, deviceScaleFactor: 1, locale: "de-DE", hasTouch: true });
  const page = await context.newPage();
  await login(page, server.url, READER, demoCode(READER));
  const open = [];
  const panel = [];
  const baseline = [];
  for (let run = 0; run < RUNS; run += 1) {
    await page.goto(`${server.url}/#/notes`);
    await page.waitForTimeout(300);
    const from = Date.now();
    await page.goto(`${server.url}/#/files/${bare.id}?page=1`);
    await page.waitForFunction(() => {
      const box = document.querySelector(".viewer-page");
      return box && box.dataset.page === "1" && window.__plenumAnnotations?.count === 0
        && box.dataset.annotations === "0";
    }, null, { timeout: 60_000 });
    baseline.push(Date.now() - from);

    await page.goto(`${server.url}/#/notes`);
    await page.waitForTimeout(300);
    const started = Date.now();
    await page.goto(`${server.url}/#/files/${file.id}?page=1`);
    await page.waitForFunction((total) => {
      const box = document.querySelector(".viewer-page");
      return box && box.dataset.page === "1" && window.__plenumAnnotations?.count === total
        && Number(box.dataset.annotations) > 0;
    }, TOTAL, { timeout: 60_000 });
    open.push(Date.now() - started);
    const drawn = await page.evaluate(() => document.querySelector(".viewer-page").dataset.annotations);
    const clicked = Date.now();
    await page.getByRole("button", { name: `Anmerkungen (${TOTAL})` }).click();
    await page.waitForFunction((total) => document.querySelectorAll(".viewer-annot-item").length === total, TOTAL, { timeout: 60_000 });
    panel.push(Date.now() - clicked);
    if (run === 0) console.log(`page 1 shows ${drawn} shapes and markers`);
  }
  console.log(`annotations written: ${written} by ${Math.ceil(written / PER_AUTHOR)} members in ${fmt(writeMs)}`);
  console.log(`GET /api/v1/files/{id}/annotations (${TOTAL}, ${(bytes / 1024).toFixed(0)} KB): median ${fmt(median(listTimes))}, max ${fmt(Math.max(...listTimes))}`);
  console.log(`viewer opened → page 1 drawn with its annotations (${RUNS} runs): median ${fmt(median(open))}, max ${fmt(Math.max(...open))}`);
  console.log(`the same pages without annotations, viewer opened → page 1 drawn (${RUNS} runs): median ${fmt(median(baseline))}, max ${fmt(Math.max(...baseline))}`);
  console.log(`what the ${TOTAL} annotations add to opening (difference of the medians): ${fmt(median(open) - median(baseline))}`);
  console.log(`list of ${TOTAL} opened (${RUNS} runs): median ${fmt(median(panel))}, max ${fmt(Math.max(...panel))}`);
  await context.close();
} finally {
  await browser.close();
  await server.stop();
}
