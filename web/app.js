// Plenum landing page: language toggle, system overview and readiness status.
// Plain ES module, no dependencies. Runs under a strict CSP (no inline code or styles)
// and writes server data only via textContent, never as HTML.

const STORAGE_KEY = "plenum.lang";
const LANGS = ["de", "en"];
const FETCH_TIMEOUT_MS = 8000;
const READINESS_INTERVAL_MS = 30000;

const MESSAGES = {
  de: {
    "doc.title": "Plenum – Digitale Ratsarbeit",
    "doc.description":
      "Plenum ist eine Open-Source-Plattform für digitale Ratsarbeit: papierlose Sitzungen, elektronische Abstimmungen, Fraktionsarbeit und ein Bürgerinformationssystem mit OParl 1.1.",
    "nav.skip": "Zum Inhalt springen",
    "nav.home": "Plenum – Startseite",
    "lang.button": "English",
    "lang.buttonLang": "en",
    "lang.buttonLabel": "Switch to English",
    "hero.eyebrow": "Freie Software für Kommunen",
    "hero.title": "Digitale Ratsarbeit – von der Einladung bis zum Beschluss",
    "hero.lead":
      "Plenum unterstützt Räte, Kreistage und Ausschüsse bei der gesamten Sitzungsarbeit: papierlose Sitzungen auf dem Tablet, elektronische Abstimmungen in Echtzeit, Zusammenarbeit in Fraktionen und ein öffentliches Bürgerinformationssystem mit OParl-1.1-Schnittstelle.",
    "hero.cta.api": "API-Beschreibung (OpenAPI)",
    "hero.cta.interfaces": "Schnittstellen & Betrieb",
    "status.title": "Systemstatus",
    "status.nojs": "Status unter /readyz abrufbar",
    "status.checking": "Status wird geprüft …",
    "status.ready": "Bereit",
    "status.dbDown": "Datenbank nicht erreichbar",
    "status.unreachable": "Server nicht erreichbar",
    "status.version": "Version",
    "status.database": "Datenbank",
    "status.bodies": "Körperschaften",
    "status.unknown": "unbekannt",
    "status.note": "Live aus dem laufenden Server gelesen.",
    "features.title": "Was Plenum kann",
    "features.intro":
      "Eine Plattform für alle, die an Ratsarbeit beteiligt sind – Mandatsträgerinnen und Mandatsträger, Vorsitz, Sitzungsdienst und die Öffentlichkeit.",
    "feature.paperless.title": "Papierlose Sitzungen",
    "feature.paperless.text":
      "Einladungen, Tagesordnungen, Vorlagen und Anlagen auf dem Tablet – mit persönlichen Notizen und Zugriff genau nach Berechtigung.",
    "feature.voting.title": "Live-Abstimmungen",
    "feature.voting.text":
      "Offene, namentliche und geheime Abstimmungen sowie Wahlen elektronisch durchführen – mit Anwesenheit, Beschlussfähigkeit, Befangenheit und Redeliste.",
    "feature.fractions.title": "Fraktionsarbeit",
    "feature.fractions.text":
      "Notizen teilen und in Foren von Fraktionen, Gruppen und Ausschüssen diskutieren – vertraulich und nur für deren Mitglieder sichtbar.",
    "feature.public.title": "Bürger\u00ADinformations\u00ADsystem",
    "feature.public.text":
      "Öffentliche Sitzungen, Tagesordnungen, Vorlagen, Beschlüsse und Abstimmungsergebnisse für alle – und maschinenlesbar über OParl 1.1.",
    "bodies.title": "Körperschaften auf diesem Server",
    "bodies.nojs":
      "Die Übersicht wird mit JavaScript geladen. Die Schnittstellen weiter unten funktionieren auch ohne.",
    "bodies.loading": "Daten werden geladen …",
    "bodies.empty":
      "Auf diesem Server ist noch keine Körperschaft eingerichtet. Tipp: „plenum demo“ lädt den Demo-Rat der Stadt Musterstadt.",
    "bodies.error":
      "Die Übersicht konnte gerade nicht geladen werden. Der Server ist vielleicht noch beim Starten – bitte versuchen Sie es gleich noch einmal.",
    "bodies.retry": "Erneut versuchen",
    "bodies.listLabel": "Körperschaften",
    "count.organizations": "Gremien",
    "count.persons": "Personen",
    "count.meetings": "Sitzungen",
    "count.papers": "Vorlagen",
    "interfaces.title": "Schnittstellen & Betrieb",
    "interfaces.openapi.name": "API-Beschreibung (OpenAPI)",
    "interfaces.openapi.text": "Maschinenlesbare Beschreibung der REST-API von Plenum.",
    "interfaces.oparl.name": "OParl 1.1",
    "interfaces.oparl.text":
      "Standardisierte, offene Schnittstelle für parlamentarische Informationssysteme.",
    "badge.public": "öffentlich",
    "interfaces.ical.name": "Sitzungskalender (iCalendar)",
    "interfaces.ical.text": "Alle Sitzungen zum Abonnieren in Ihrem Kalender.",
    "interfaces.healthz.name": "Lebenszeichen (Liveness)",
    "interfaces.healthz.text": "Antwortet, solange der Dienst läuft.",
    "interfaces.readyz.name": "Betriebs\u00ADbereitschaft (Readiness)",
    "interfaces.readyz.text": "Meldet, ob die Datenbank erreichbar ist.",
    "footer.version": "Version {version}",
    "footer.license": "freie Software unter der AGPL-3.0-or-later.",
    "footer.tagline": "Digitale Ratsarbeit für deutsche Kommunen.",
  },
  en: {
    "doc.title": "Plenum – Digital council work",
    "doc.description":
      "Plenum is an open-source platform for digital council work: paperless sessions, electronic voting, fraction collaboration and a public council information system with OParl 1.1.",
    "nav.skip": "Skip to content",
    "nav.home": "Plenum – home",
    "lang.button": "Deutsch",
    "lang.buttonLang": "de",
    "lang.buttonLabel": "Auf Deutsch umschalten",
    "hero.eyebrow": "Free software for municipalities",
    "hero.title": "Digital council work – from the invitation to the decision",
    "hero.lead":
      "Plenum supports city and county councils and their committees in all of their session work: paperless sessions on tablets, live electronic voting, collaboration within fractions and a public council information system with an OParl 1.1 interface.",
    "hero.cta.api": "API description (OpenAPI)",
    "hero.cta.interfaces": "Interfaces & operations",
    "status.title": "System status",
    "status.nojs": "Status available at /readyz",
    "status.checking": "Checking status …",
    "status.ready": "Ready",
    "status.dbDown": "Database unreachable",
    "status.unreachable": "Server unreachable",
    "status.version": "Version",
    "status.database": "Database",
    "status.bodies": "Bodies",
    "status.unknown": "unknown",
    "status.note": "Read live from the running server.",
    "features.title": "What Plenum does",
    "features.intro":
      "One platform for everyone involved in council work – council members, chairs, clerks and the public.",
    "feature.paperless.title": "Paperless sessions",
    "feature.paperless.text":
      "Invitations, agendas, papers and attachments on the tablet – with private notes and access strictly by permission.",
    "feature.voting.title": "Live voting",
    "feature.voting.text":
      "Run open, named and secret votes as well as elections electronically – with attendance, quorum, conflicts of interest and a speakers list.",
    "feature.fractions.title": "Fraction collaboration",
    "feature.fractions.text":
      "Share notes and discuss in forums of fractions, groups and committees – confidential and visible to their members only.",
    "feature.public.title": "Council information system",
    "feature.public.text":
      "Public meetings, agendas, papers, decisions and vote results for everyone – and machine-readable via OParl 1.1.",
    "bodies.title": "Bodies on this server",
    "bodies.nojs":
      "This overview is loaded with JavaScript. The interfaces below work without it.",
    "bodies.loading": "Loading data …",
    "bodies.empty":
      "No body has been set up on this server yet. Tip: “plenum demo” loads the demo council of Musterstadt.",
    "bodies.error":
      "The overview could not be loaded right now. The server may still be starting – please try again in a moment.",
    "bodies.retry": "Try again",
    "bodies.listLabel": "Bodies",
    "count.organizations": "Organizations",
    "count.persons": "Persons",
    "count.meetings": "Meetings",
    "count.papers": "Papers",
    "interfaces.title": "Interfaces & operations",
    "interfaces.openapi.name": "API description (OpenAPI)",
    "interfaces.openapi.text": "Machine-readable description of Plenum's REST API.",
    "interfaces.oparl.name": "OParl 1.1",
    "interfaces.oparl.text": "Standardised, open interface for parliamentary information systems.",
    "badge.public": "public",
    "interfaces.ical.name": "Meeting calendar (iCalendar)",
    "interfaces.ical.text": "All meetings, to subscribe to in your calendar.",
    "interfaces.healthz.name": "Liveness",
    "interfaces.healthz.text": "Answers as long as the service is running.",
    "interfaces.readyz.name": "Readiness",
    "interfaces.readyz.text": "Reports whether the database is reachable.",
    "footer.version": "version {version}",
    "footer.license": "free software under the AGPL-3.0-or-later.",
    "footer.tagline": "Digital council work for German municipalities.",
  },
};

const COUNT_FIELDS = ["organizations", "persons", "meetings", "papers"];
const DATABASE_NAMES = { sqlite: "SQLite", postgres: "PostgreSQL", postgresql: "PostgreSQL" };

const state = {
  lang: "de",
  /** "checking" | "ready" | "dbDown" | "unreachable" */
  readiness: "checking",
  /** "loading" | "loaded" | "error" */
  systemStatus: "loading",
  system: null,
};

function t(key, params = {}) {
  const table = MESSAGES[state.lang] ?? MESSAGES.de;
  const template = table[key] ?? MESSAGES.de[key] ?? key;
  return template.replace(/\{(\w+)\}/g, (match, name) =>
    Object.hasOwn(params, name) ? String(params[name]) : match,
  );
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

// ---- language ---------------------------------------------------------------

function storedLang() {
  try {
    const value = window.localStorage.getItem(STORAGE_KEY);
    return LANGS.includes(value) ? value : null;
  } catch {
    return null; // storage disabled (e.g. strict privacy settings)
  }
}

function storeLang(lang) {
  try {
    window.localStorage.setItem(STORAGE_KEY, lang);
  } catch {
    // Not fatal: the choice just isn't remembered.
  }
}

function applyStaticTexts() {
  document.documentElement.lang = state.lang;
  document.title = t("doc.title");
  for (const node of document.querySelectorAll("[data-i18n]")) {
    node.textContent = t(node.dataset.i18n);
  }
  for (const node of document.querySelectorAll("[data-i18n-content]")) {
    node.setAttribute("content", t(node.dataset.i18nContent));
  }
  for (const node of document.querySelectorAll("[data-i18n-aria-label]")) {
    node.setAttribute("aria-label", t(node.dataset.i18nAriaLabel));
  }
  const toggle = document.getElementById("lang-toggle");
  if (toggle) {
    toggle.textContent = t("lang.button");
    toggle.lang = t("lang.buttonLang");
    toggle.setAttribute("aria-label", t("lang.buttonLabel"));
  }
}

function setLang(lang) {
  state.lang = LANGS.includes(lang) ? lang : "de";
  applyStaticTexts();
  renderStatus();
  renderSystem();
}

// ---- data -------------------------------------------------------------------

async function fetchWithTimeout(url, options = {}) {
  const controller = new AbortController();
  const timer = window.setTimeout(() => controller.abort(), FETCH_TIMEOUT_MS);
  try {
    return await fetch(url, { cache: "no-store", ...options, signal: controller.signal });
  } finally {
    window.clearTimeout(timer);
  }
}

async function loadReadiness() {
  try {
    const response = await fetchWithTimeout("/readyz");
    state.readiness = response.ok ? "ready" : "dbDown";
  } catch {
    state.readiness = "unreachable";
  }
  renderStatus();
}

function isSystem(value) {
  return (
    value !== null &&
    typeof value === "object" &&
    (value.bodies === undefined || Array.isArray(value.bodies))
  );
}

async function loadSystem() {
  state.systemStatus = "loading";
  renderSystem();
  try {
    const response = await fetchWithTimeout("/api/v1/system", {
      headers: { Accept: "application/json" },
    });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const data = await response.json();
    if (!isSystem(data)) throw new Error("unexpected response");
    state.system = data;
    state.systemStatus = "loaded";
  } catch (error) {
    console.warn("Plenum: could not load /api/v1/system:", error);
    state.systemStatus = "error";
  }
  renderStatus();
  renderSystem();
}

// ---- rendering --------------------------------------------------------------

function formatCount(value) {
  const number = Number(value);
  if (!Number.isFinite(number)) return "–";
  return new Intl.NumberFormat(state.lang === "de" ? "de-DE" : "en-GB").format(number);
}

function databaseName(value) {
  if (typeof value !== "string" || value === "") return t("status.unknown");
  return DATABASE_NAMES[value.toLowerCase()] ?? value;
}

function renderStatus() {
  const pill = document.getElementById("ready-pill");
  const text = document.getElementById("ready-text");
  if (pill && text) {
    pill.classList.remove("pill-ok", "pill-bad", "pill-neutral", "pill-checking");
    const cls = { ready: "pill-ok", dbDown: "pill-bad", unreachable: "pill-bad" }[state.readiness];
    pill.classList.add(cls ?? "pill-checking");
    text.removeAttribute("data-i18n");
    text.textContent = t(`status.${state.readiness}`);
  }

  const system = state.systemStatus === "loaded" ? state.system : null;
  const version = typeof system?.version === "string" ? system.version : null;
  const setFact = (id, value) => {
    const node = document.getElementById(id);
    if (node) node.textContent = value;
  };
  if (state.systemStatus === "loading") {
    setFact("fact-version", "…");
    setFact("fact-database", "…");
    setFact("fact-bodies", "…");
  } else {
    setFact("fact-version", version ?? t("status.unknown"));
    setFact("fact-database", system ? databaseName(system.database) : t("status.unknown"));
    setFact(
      "fact-bodies",
      system ? formatCount((system.bodies ?? []).length) : t("status.unknown"),
    );
  }
  const facts = document.getElementById("facts");
  if (facts) facts.hidden = false;
  const note = document.getElementById("status-note");
  if (note) note.hidden = state.systemStatus !== "loaded";

  const footerVersion = document.getElementById("footer-version");
  if (footerVersion) {
    footerVersion.textContent = version ? t("footer.version", { version }) : "";
  }
}

const SVG_NS = "http://www.w3.org/2000/svg";

// A small town-hall icon, built with DOM calls (no HTML parsing).
function bodyIcon() {
  const wrap = el("span", "body-icon");
  wrap.setAttribute("aria-hidden", "true");
  const svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("focusable", "false");
  const path = document.createElementNS(SVG_NS, "path");
  path.setAttribute("d", "M3 21h18M4 10h16M12 3l8 5H4l8-5zM6 10v8M10 10v8M14 10v8M18 10v8M4 18h16");
  svg.append(path);
  wrap.append(svg);
  return wrap;
}

function renderBodyCard(body) {
  const card = el("li", "body-card");
  const name = typeof body?.name === "string" && body.name !== "" ? body.name : "–";
  const head = el("div", "body-head");
  const titles = el("div");
  titles.append(el("h3", null, name));
  const short = typeof body?.short_name === "string" ? body.short_name : "";
  if (short && !name.includes(short)) {
    titles.append(el("p", "body-short", short));
  }
  head.append(bodyIcon(), titles);
  card.append(head);

  const counts = el("dl", "counts");
  for (const field of COUNT_FIELDS) {
    const item = el("div", "count");
    item.append(el("dt", null, t(`count.${field}`)), el("dd", null, formatCount(body?.[field])));
    counts.append(item);
  }
  card.append(counts);
  return card;
}

function renderNotice(container, message, { error = false, retry = false } = {}) {
  const box = el("div", error ? "notice notice-error" : "notice");
  if (error) box.setAttribute("role", "alert");
  box.append(el("p", "notice-text", message));
  if (retry) {
    const button = el("button", "retry", t("bodies.retry"));
    button.type = "button";
    button.addEventListener("click", () => {
      loadSystem();
      loadReadiness();
    });
    box.append(button);
  }
  container.append(box);
}

function renderSystem() {
  const container = document.getElementById("bodies");
  if (!container) return;
  container.replaceChildren();
  container.setAttribute("aria-busy", state.systemStatus === "loading" ? "true" : "false");

  if (state.systemStatus === "loading") {
    renderNotice(container, t("bodies.loading"));
    return;
  }
  if (state.systemStatus === "error") {
    renderNotice(container, t("bodies.error"), { error: true, retry: true });
    return;
  }
  const bodies = Array.isArray(state.system?.bodies) ? state.system.bodies : [];
  if (bodies.length === 0) {
    renderNotice(container, t("bodies.empty"));
    return;
  }
  const list = el("ul", "body-grid");
  list.setAttribute("role", "list");
  list.setAttribute("aria-label", t("bodies.listLabel"));
  for (const body of bodies) list.append(renderBodyCard(body));
  container.append(list);
}

// ---- start ------------------------------------------------------------------

function start() {
  state.lang = storedLang() ?? "de";
  applyStaticTexts();
  renderStatus();
  renderSystem();

  const toggle = document.getElementById("lang-toggle");
  if (toggle) toggle.hidden = false;
  toggle?.addEventListener("click", () => {
    const next = state.lang === "de" ? "en" : "de";
    storeLang(next);
    setLang(next);
  });

  loadSystem();
  loadReadiness();
  window.setInterval(() => {
    if (document.visibilityState === "visible") loadReadiness();
  }, READINESS_INTERVAL_MS);
}

start();
