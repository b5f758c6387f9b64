// Plenum web app: entry point and hash router. Plain ES modules, no build step; runs under the
// strict CSP of crates/api/src/web.rs (no inline script or style).
//
// Routes: #/login, #/ (home), #/meetings/{id}, #/meetings/{id}/live, #/meetings/{id}/chair,
// #/meetings/{id}/minutes,
// #/display/{id}, #/portal, #/portal/meetings/{id}, #/portal/papers/{id}, #/devices,
// #/papers/{id}, #/files/{id}, #/portal/files/{id} (the document viewer), #/notifications, #/persons, #/attendance, #/settings, #/notes, #/forums, #/forums/{org}, #/threads/{id}. Screens export `mount(root, params, ctx)` and return a cleanup function.

import { api } from "./js/api.js";
import { lang, onLangChange, register, setLang, t } from "./js/i18n.js";
import { onUserMessage, userStream } from "./js/live/socket.js";
import { rememberedUser, syncKept } from "./js/offline.js";
import { flushOutbox } from "./js/outbox.js";
import { el, errorBox, focusHeading, loading, svg } from "./js/ui.js";

register({
  de: {
    "app.title": "Plenum – Digitale Ratsarbeit",
    "app.skip": "Zum Inhalt springen",
    "app.home": "Plenum – Startseite",
    "app.nav": "Hauptnavigation",
    "app.nav.home": "Meine Sitzungen",
    "app.nav.portal": "Öffentlich",
    "app.nav.devices": "Meine Geräte",
    "app.nav.persons": "Personen",
    "app.nav.attendance": "Sitzungsgeld",
    "app.nav.settings": "Einstellungen",
    "app.nav.notes": "Meine Notizen",
    "app.nav.forums": "Foren",
    "app.nav.unread": "ungelesen",
    "app.nav.notifications": "Benachrichtigungen",
    "app.nav.login": "Anmelden",
    "app.nav.logout": "Abmelden",
    "app.lang.button": "English",
    "app.lang.buttonLang": "en",
    "app.lang.label": "Switch to English",
    "app.offline": "Offline – offline gespeicherte und bereits geöffnete Unterlagen bleiben lesbar; Anmerkungen werden gesendet, sobald die Verbindung zurück ist. Abstimmen geht nur mit Verbindung.",
    "app.footer": "– freie Software unter der AGPL-3.0-or-later.",
    "app.ical": "Sitzungskalender (iCalendar)",
    "app.notFound": "Diese Seite gibt es nicht.",
    "app.toHome": "Zur Startseite",
    "app.moduleMissing": "Dieser Bereich konnte nicht geladen werden.",
  },
  en: {
    "app.title": "Plenum – Digital council work",
    "app.skip": "Skip to content",
    "app.home": "Plenum – home",
    "app.nav": "Main navigation",
    "app.nav.home": "My meetings",
    "app.nav.portal": "Public",
    "app.nav.devices": "My devices",
    "app.nav.persons": "Persons",
    "app.nav.attendance": "Allowance",
    "app.nav.settings": "Settings",
    "app.nav.notes": "My notes",
    "app.nav.forums": "Forums",
    "app.nav.unread": "unread",
    "app.nav.notifications": "Notifications",
    "app.nav.login": "Sign in",
    "app.nav.logout": "Sign out",
    "app.lang.button": "Deutsch",
    "app.lang.buttonLang": "de",
    "app.lang.label": "Auf Deutsch umschalten",
    "app.offline": "Offline – documents kept offline or opened before stay readable; annotations are sent when the connection returns. Voting needs a connection.",
    "app.footer": "– free software under the AGPL-3.0-or-later.",
    "app.ical": "Meeting calendar (iCalendar)",
    "app.notFound": "This page does not exist.",
    "app.toHome": "To the start page",
    "app.moduleMissing": "This part could not be loaded.",
  },
});

const screen = (path, name = "mount") => ({ load: () => import(path), name });

// [pattern, screen, needs login]
const ROUTES = [
  [/^\/login$/, screen("./js/screens/login.js"), false],
  [/^\/$/, screen("./js/screens/home.js"), "portal"],
  [/^\/meetings\/([\w-]+)$/, screen("./js/screens/meeting.js"), true],
  [/^\/meetings\/([\w-]+)\/live$/, screen("./js/live/member.js"), true],
  [/^\/meetings\/([\w-]+)\/chair$/, screen("./js/live/chair.js"), true],
  [/^\/meetings\/([\w-]+)\/minutes$/, screen("./js/screens/minutes.js"), true],
  [/^\/display\/([\w-]+)$/, screen("./js/live/display.js"), false],
  [/^\/papers\/([\w-]+)$/, screen("./js/screens/meeting.js", "mountPaper"), true],
  [/^\/portal$/, screen("./js/screens/portal.js"), false],
  [/^\/portal\/meetings\/([\w-]+)$/, screen("./js/screens/portal.js", "mountMeeting"), false],
  [/^\/portal\/papers\/([\w-]+)$/, screen("./js/screens/portal.js", "mountPaper"), false],
  [/^\/files\/([\w-]+)$/, screen("./js/screens/viewer.js"), true],
  [/^\/portal\/files\/([\w-]+)$/, screen("./js/screens/viewer.js", "mountPublic"), false],
  [/^\/devices$/, screen("./js/screens/devices.js"), true],
  [/^\/notifications$/, screen("./js/screens/notifications.js"), true],
  [/^\/persons$/, screen("./js/screens/persons.js"), true],
  [/^\/attendance$/, screen("./js/screens/attendance.js"), true],
  [/^\/settings$/, screen("./js/screens/settings.js"), true],
  [/^\/notes$/, screen("./js/screens/collab.js"), true],
  [/^\/forums$/, screen("./js/screens/collab.js", "mountForums"), true],
  [/^\/forums\/([\w-]+)$/, screen("./js/screens/collab.js", "mountForum"), true],
  [/^\/threads\/([\w-]+)$/, screen("./js/screens/collab.js", "mountThread"), true],
];

const state = { cleanup: null, generation: 0, afterLogin: null, routed: 0, unread: 0, notifications: 0 };

function root() {
  return document.querySelector("#main .screen");
}

function currentPath() {
  const hash = window.location.hash.replace(/^#/, "");
  const path = hash.split("?")[0];
  return path === "" ? "/" : path;
}

export function navigate(hash) {
  if (window.location.hash === hash) route();
  else window.location.hash = hash;
}

function context() {
  return { api, t, lang, navigate, user: api.user(), afterLogin: () => takeAfterLogin() };
}

function takeAfterLogin() {
  const target = state.afterLogin ?? "#/";
  state.afterLogin = null;
  return target;
}

async function route() {
  const generation = ++state.generation;
  const path = currentPath();
  if (state.cleanup) {
    try {
      state.cleanup();
    } catch (error) {
      console.warn("Plenum: cleanup failed", error);
    }
    state.cleanup = null;
  }
  const container = root();
  const match = ROUTES.map(([pattern, target, auth]) => [path.match(pattern), target, auth])
    .find(([m]) => m);
  renderNav(path);
  if (!match) {
    container.replaceChildren(
      el("h1", { class: "page-title" }, t("app.notFound")),
      el("p", {}, el("a", { class: "button button-primary", href: "#/" }, t("app.toHome"))),
    );
    focusHeading(container);
    return;
  }
  const [m, target, auth] = match;
  if (auth && !api.user()) {
    if (auth === "portal") {
      // Anonymous visitors start on the public portal.
      window.location.replace("#/portal");
      return;
    }
    state.afterLogin = `#${path}`;
    window.location.replace("#/login");
    return;
  }
  if (path === "/login" && api.user()) {
    window.location.replace(takeAfterLogin());
    return;
  }
  container.replaceChildren(loading());
  container.setAttribute("aria-busy", "true");
  try {
    const module = await target.load();
    if (generation !== state.generation) return;
    container.replaceChildren();
    const cleanup = await module[target.name](container, { id: m[1] }, context());
    if (generation !== state.generation) {
      if (typeof cleanup === "function") cleanup();
      return;
    }
    state.cleanup = typeof cleanup === "function" ? cleanup : null;
  } catch (error) {
    console.error("Plenum: screen failed", error);
    if (generation !== state.generation) return;
    container.replaceChildren(
      el("h1", { class: "page-title" }, t("app.moduleMissing")),
      errorBox(error, () => route()),
    );
  } finally {
    if (generation === state.generation) container.setAttribute("aria-busy", "false");
  }
  if (generation === state.generation) {
    // After a navigation, focus the new heading (screen readers announce it); on the first load
    // focus stays at the top, so the first Tab reaches the skip link.
    if (state.routed++ > 0) focusHeading(container);
    const heading = container.querySelector("h1");
    document.title = heading ? `${heading.textContent} – Plenum` : t("app.title");
  }
}

function navLink(href, label, path, match) {
  const link = el("a", { class: "nav-link", href }, label);
  if (match(path)) link.setAttribute("aria-current", "page");
  return link;
}

function renderNav(path = currentPath()) {
  const nav = document.getElementById("app-nav");
  if (!nav) return;
  nav.setAttribute("aria-label", t("app.nav"));
  const user = api.user();
  const items = [];
  if (user) {
    items.push(navLink("#/", t("app.nav.home"), path,
      (p) => p === "/" || p.startsWith("/meetings") || p.startsWith("/papers")));
  }
  items.push(navLink("#/portal", t("app.nav.portal"), path, (p) => p.startsWith("/portal")));
  if (user) {
    items.push(navLink("#/notes", t("app.nav.notes"), path, (p) => p === "/notes"));
    const forums = navLink("#/forums", t("app.nav.forums"), path,
      (p) => p.startsWith("/forums") || p.startsWith("/threads"));
    if (state.unread > 0) {
      forums.append(" ", el("span", { class: "badge nav-badge", id: "nav-unread" }, String(state.unread),
        el("span", { class: "visually-hidden" }, ` ${t("app.nav.unread")}`)));
    }
    items.push(forums);
    // A bell (its name for screen readers and as a tooltip) with the unread count.
    const bell = navLink("#/notifications", "", path, (p) => p === "/notifications");
    bell.id = "nav-notifications";
    bell.title = t("app.nav.notifications");
    bell.append(
      svg("svg", { class: "nav-bell", viewBox: "0 0 24 24", width: 22, height: 22, "aria-hidden": "true", focusable: "false" },
        svg("path", { fill: "currentColor", d: "M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22Zm7-6V11a7 7 0 0 0-5.5-6.84V3.5a1.5 1.5 0 0 0-3 0v.66A7 7 0 0 0 5 11v5l-2 2v1h18v-1l-2-2Z" })),
      el("span", { class: "visually-hidden" }, t("app.nav.notifications")));
    if (state.notifications > 0) {
      bell.append(" ", el("span", { class: "badge nav-badge", id: "nav-notifications-unread" }, String(state.notifications),
        el("span", { class: "visually-hidden" }, ` ${t("app.nav.unread")}`)));
    }
    items.push(bell);
    if (user.site_role === "clerk" || user.site_role === "admin") {
      items.push(navLink("#/persons", t("app.nav.persons"), path, (p) => p === "/persons"));
      items.push(navLink("#/attendance", t("app.nav.attendance"), path, (p) => p === "/attendance"));
      items.push(navLink("#/settings", t("app.nav.settings"), path, (p) => p === "/settings"));
    }
    items.push(navLink("#/devices", t("app.nav.devices"), path, (p) => p === "/devices"));
    items.push(el("button", {
      type: "button",
      class: "nav-link nav-button",
      onclick: async () => {
        await api.logout();
        navigate("#/login");
      },
    }, t("app.nav.logout")));
  } else {
    items.push(navLink("#/login", t("app.nav.login"), path, (p) => p === "/login"));
  }
  nav.replaceChildren(...items);
}

/** Unread forum posts for the header badge; kept current by the personal live stream. */
async function loadUnread() {
  if (!api.user()) {
    state.unread = 0;
    return;
  }
  try {
    const forums = await api.get("/api/v1/forums");
    state.unread = forums.reduce((sum, f) => sum + (f.unread ?? 0), 0);
  } catch {
    // keep the last figure
  }
  try {
    const notifications = await api.get("/api/v1/notifications");
    state.notifications = Number(notifications.unread) || 0;
  } catch {
    // keep the last figure
  }
  renderNav();
}

function applyStaticTexts() {
  document.documentElement.lang = lang();
  document.getElementById("skip-link").textContent = t("app.skip");
  document.getElementById("brand").setAttribute("aria-label", t("app.home"));
  document.getElementById("footer-text").textContent = t("app.footer");
  document.getElementById("footer-ical").textContent = t("app.ical");
  const toggle = document.getElementById("lang-toggle");
  toggle.textContent = t("app.lang.button");
  toggle.lang = t("app.lang.buttonLang");
  toggle.setAttribute("aria-label", t("app.lang.label"));
  const banner = document.getElementById("offline-banner");
  banner.textContent = t("app.offline");
}

function updateOnline() {
  document.getElementById("offline-banner").hidden = navigator.onLine;
}

/**
 * Online again (or just started): restore the session if the app started without a connection,
 * send the annotations that wait, then bring the meetings kept offline up to date.
 */
async function reconnect() {
  if (!navigator.onLine) return;
  if (api.user() && !api.token()) await api.refresh();
  if (!api.token()) return;
  await flushOutbox();
  await syncKept();
}

async function start() {
  applyStaticTexts();
  document.getElementById("lang-toggle").addEventListener("click", () => {
    setLang(lang() === "de" ? "en" : "de");
  });
  document.getElementById("skip-link").addEventListener("click", (event) => {
    // The hash belongs to the router: move focus without changing it.
    event.preventDefault();
    document.getElementById("main").focus();
  });
  onLangChange(() => {
    applyStaticTexts();
    route();
  });
  window.addEventListener("online", updateOnline);
  window.addEventListener("online", () => reconnect());
  window.addEventListener("offline", updateOnline);
  updateOnline();
  onUserMessage((message) => {
    if (message.type === "unread") {
      state.unread = Number(message.total) || 0;
      renderNav();
    }
    if (message.type === "notification" || message.type === "notifications_read") {
      state.notifications = Number(message.unread) || 0;
      renderNav();
    }
  });
  api.onSession((user) => {
    userStream(Boolean(user));
    if (user) loadUnread();
    else {
      state.unread = 0;
      state.notifications = 0;
    }
    renderNav();
    if (!user && currentPath() !== "/login" && ROUTES.some(([p, , auth]) => auth === true && p.test(currentPath()))) {
      state.afterLogin = `#${currentPath()}`;
      window.location.replace("#/login");
    }
  });
  window.addEventListener("hashchange", () => route());

  root().replaceChildren(loading());
  // Restore the session from the refresh cookie (the access token is never stored).
  await api.refresh();
  if (!api.user() && api.unreachable()) {
    // No connection: the member whose meetings are kept on this device reads them offline.
    const remembered = await rememberedUser();
    if (remembered) api.setOfflineUser(remembered);
  }
  route();
  if (api.user()) {
    userStream(true);
    loadUnread();
  }
  // After the first screen: what waits is sent, the kept meetings are brought up to date.
  setTimeout(() => reconnect(), 2000);
  // Started offline and the `online` event missed (or the server was down): try again now and then.
  setInterval(() => {
    if (navigator.onLine && api.user() && !api.token()) reconnect();
  }, 30_000);

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch((error) => {
      console.warn("Plenum: no service worker", error);
    });
  }
}

start();
