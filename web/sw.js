// Service worker: keeps the app shell for offline use. Network first (files are revalidated on
// every use anyway), the cached copy when offline. API requests are never cached here; the
// documents a member opened — files and the Sitzungsmappe (meetings/{id}/bundle.pdf) — are
// cached by the page itself (api.fileBlob in js/api.js, Cache "plenum-docs-v1"), since only the
// page holds the access token; offline, the page reads them from there. So are meetings kept
// offline (js/offline.js: their JSON in IndexedDB "plenum-offline", their files in the same cache).

const SHELL_CACHE = "plenum-shell-v5";
const SHELL = [
  "/",
  "/index.html",
  "/app.js",
  "/style.css",
  "/live.css",
  "/favicon.svg",
  "/js/api.js",
  "/js/offline.js",
  "/js/outbox.js",
  "/js/i18n.js",
  "/js/ui.js",
  "/js/screens/login.js",
  "/js/screens/home.js",
  "/js/screens/meeting.js",
  "/js/screens/keep.js",
  "/js/screens/collab.js",
  "/js/screens/decision.js",
  "/js/screens/minutes.js",
  "/js/screens/record.js",
  "/js/screens/portal.js",
  "/js/screens/devices.js",
  "/js/screens/notifications.js",
  "/js/screens/persons.js",
  "/js/screens/attendance.js",
  "/js/screens/settings.js",
  "/js/screens/viewer.js",
  "/js/screens/annotate.js",
  "/viewer.css",
  // PDF.js (1.7 MB): kept so the viewer's code is there offline too.
  "/vendor/pdfjs/pdf.min.mjs",
  "/vendor/pdfjs/pdf.worker.min.mjs",
  "/js/live/socket.js",
  "/js/live/common.js",
  "/js/live/member.js",
  "/js/live/chair.js",
  "/js/live/chair-tools.js",
  "/js/live/amendments.js",
  "/js/live/display.js",
];

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(SHELL_CACHE);
    // One by one: a file that is missing must not keep the rest out.
    await Promise.all(SHELL.map(async (url) => {
      try {
        const response = await fetch(url, { cache: "no-cache" });
        if (response.ok) await cache.put(url, response);
      } catch {
        // offline during install: cached on first use instead
      }
    }));
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith("plenum-shell-") && name !== SHELL_CACHE) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.startsWith("/api/") || url.pathname.startsWith("/oparl/")
      || url.pathname === "/healthz" || url.pathname === "/readyz") return;
  event.respondWith((async () => {
    const cache = await caches.open(SHELL_CACHE);
    const key = request.mode === "navigate" ? "/index.html" : url.pathname;
    try {
      const response = await fetch(request);
      if (response.ok && (request.mode === "navigate" || SHELL.includes(url.pathname))) {
        await cache.put(key, response.clone());
      }
      return response;
    } catch (error) {
      const hit = await cache.match(key);
      if (hit) return hit;
      throw error;
    }
  })());
});
