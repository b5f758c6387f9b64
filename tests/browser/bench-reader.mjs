// Benchmark of the reading room (not a test: prints figures). A 100-page, 10 MB paper is
// uploaded to a fresh demo server; a member opens it in the viewer in Chromium at tablet size.
// Measured: time from navigation to the first page drawn (and how many bytes of the file had
// arrived by then: PDF.js reads ranges), and page turns (key press to page drawn).
//
//   cargo build --release -p plenum-server
//   PLENUM_BIN=$PWD/target/release/plenum node tests/browser/bench-reader.mjs [--runs 5] [--turns 30]

import { launch, login } from "./lib/browser.mjs";
import { paperPages, samplePdf } from "./lib/pdf.mjs";
import { startServer } from "./lib/server.mjs";
import { demoCode } from "./lib/totp.mjs";

const arg = (name, fallback) => {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
};
const RUNS = arg("runs", 5);
const TURNS = arg("turns", 30);

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const p95 = (xs) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil(xs.length * 0.95) - 1)];
const fmt = (ms) => `${ms.toFixed(0)} ms`;

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
  const step = await api("/api/v1/auth/login", { method: "POST", body: { username: "martina.sommer", password: "Musterstadt-Demo-2026" } });
  const clerk = (await api("/api/v1/auth/totp", { method: "POST", body: { mfa_token: step.mfa_token, code: demoCode("martina.sommer") } })).access_token;
  const paper = (await api("/api/v1/public/search?q=10742&limit=5")).data.find((hit) => hit.kind === "paper").id;
  const pdf = samplePdf(paperPages(100), { padding: 100_000 });
  const boundary = "plenum-bench-boundary";
  const body = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="paper_id"\r\n\r\n${paper}\r\n`
      + `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="Haushaltsplan 2027.pdf"\r\n`
      + "Content-Type: application/pdf\r\n\r\n"),
    pdf, Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  const uploadStarted = performance.now();
  const file = await api("/api/v1/files", { method: "POST", token: clerk, body, type: `multipart/form-data; boundary=${boundary}` });
  const uploadMs = performance.now() - uploadStarted;
  let searchableMs = null;
  for (;;) {
    const info = await api(`/api/v1/files/${file.id}`, { token: clerk });
    if (info.text_status !== "pending") {
      searchableMs = performance.now() - uploadStarted;
      break;
    }
    await new Promise((r) => setTimeout(r, 20));
  }

  const context = await browser.newContext({ viewport: { width: 1024, height: 768 }, hasTouch: true, locale: "de-DE" });
  const page = await context.newPage();
  await login(page, server.url, "anna.hartmann", demoCode("anna.hartmann"));
  // Bytes of the file that actually arrived (a cancelled full response counts only what came).
  let bytes = 0;
  const requests = new Map();
  const cdp = await context.newCDPSession(page);
  await cdp.send("Network.enable");
  cdp.on("Network.requestWillBeSent", (event) => {
    if (event.request.url.includes(`/files/${file.id}/content`)) requests.set(event.requestId, event.request.headers.Range ?? event.request.headers.range ?? "whole");
  });
  const count = (event) => {
    if (requests.has(event.requestId)) bytes += event.encodedDataLength ?? 0;
  };
  cdp.on("Network.loadingFinished", count);
  cdp.on("Network.loadingFailed", (event) => {
    if (requests.has(event.requestId) && process.env.BENCH_VERBOSE) console.log("cancelled", requests.get(event.requestId));
  });
  cdp.on("Network.dataReceived", (event) => {
    if (requests.has(event.requestId) && event.encodedDataLength === 0) bytes += event.dataLength;
  });
  const firstPage = [];
  const bytesAtFirstPage = [];
  for (let run = 0; run < RUNS; run += 1) {
    await page.goto(`${server.url}/#/`);
    await page.waitForFunction(() => document.querySelector("#main .screen")?.getAttribute("aria-busy") === "false");
    bytes = 0;
    requests.clear();
    const started = Date.now();
    await page.evaluate((id) => { window.location.hash = `#/files/${id}`; }, file.id);
    await page.waitForFunction(() => document.querySelector(".viewer-page")?.dataset.rendered, null, { timeout: 30_000, polling: 10 });
    firstPage.push(Date.now() - started);
    await page.waitForTimeout(300);
    bytesAtFirstPage.push(bytes);
    if (process.env.BENCH_VERBOSE) console.log([...requests.values()].join(", "));
  }
  const turns = [];
  await page.locator(".viewer-stage").focus();
  for (let i = 0; i < TURNS; i += 1) {
    const before = await page.evaluate(() => document.querySelector(".viewer-page").dataset.rendered);
    const started = Date.now();
    await page.keyboard.press("ArrowRight");
    await page.waitForFunction((b) => document.querySelector(".viewer-page").dataset.rendered !== b, before, { polling: 5 });
    turns.push(Date.now() - started);
  }
  const inPage = await page.evaluate(() => window.__plenumViewer);
  console.log(`paper: 100 pages, ${(pdf.length / 1e6).toFixed(1)} MB`);
  console.log(`upload answered: ${fmt(uploadMs)}; searchable (text extracted) after: ${fmt(searchableMs)}`);
  console.log(`first page visible after opening (${RUNS} runs): median ${fmt(median(firstPage))}, max ${fmt(Math.max(...firstPage))}; ${(median(bytesAtFirstPage) / 1e6).toFixed(2)} MB of ${(pdf.length / 1e6).toFixed(1)} MB loaded by then`);
  console.log(`page turn (${TURNS} turns, key press to page drawn): median ${fmt(median(turns))}, p95 ${fmt(p95(turns))}, max ${fmt(Math.max(...turns))} (viewer's own render time of the last: ${fmt(inPage.lastTurnMs)})`);
  console.log(JSON.stringify({ bench: "reader", bytes: pdf.length, upload_ms: Math.round(uploadMs), searchable_ms: Math.round(searchableMs), first_page_ms: firstPage, first_page_bytes: bytesAtFirstPage, turn_median_ms: median(turns), turn_p95_ms: p95(turns) }));
  await context.close();
} finally {
  await browser.close();
  await server.stop();
}
