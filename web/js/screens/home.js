// Home: my upcoming meetings, the running one on top; past meetings on request; search.

import { formatDateTime, register, t } from "../i18n.js";
import { el, errorBox, loading } from "../ui.js";
import { keptIds, keptSection } from "./keep.js";

register({
  de: {
    "home.title": "Meine Sitzungen",
    "home.greeting": "Guten Tag, {name}.",
    "home.upcoming": "Anstehende Sitzungen",
    "home.past": "Vergangene Sitzungen",
    "home.showPast": "Vergangene Sitzungen anzeigen",
    "home.none": "Keine anstehenden Sitzungen.",
    "home.nonePast": "Keine vergangenen Sitzungen.",
    "home.running": "Läuft jetzt",
    "home.live": "Zur Live-Sitzung",
    "home.open": "Unterlagen",
    "home.kept": "offline",
    "home.search": "Suche",
    "home.searchLabel": "Sitzungen, Vorlagen und Dateien durchsuchen",
    "home.searchButton": "Suchen",
    "home.searchNone": "Nichts gefunden für „{q}“.",
    "home.searchCount": "{n} Treffer",
    "home.searchPage": "Seite {n}",
    "state.scheduled": "geplant",
    "state.invited": "eingeladen",
    "state.running": "läuft",
    "state.completed": "abgeschlossen",
    "state.cancelled": "abgesagt",
    "kind.meeting": "Sitzung",
    "kind.agenda_item": "Tagesordnungspunkt",
    "kind.paper": "Vorlage",
    "kind.file": "Datei",
  },
  en: {
    "home.title": "My meetings",
    "home.greeting": "Hello, {name}.",
    "home.upcoming": "Upcoming meetings",
    "home.past": "Past meetings",
    "home.showPast": "Show past meetings",
    "home.none": "No upcoming meetings.",
    "home.nonePast": "No past meetings.",
    "home.running": "Running now",
    "home.live": "Join the live session",
    "home.open": "Documents",
    "home.kept": "offline",
    "home.search": "Search",
    "home.searchLabel": "Search meetings, papers and files",
    "home.searchButton": "Search",
    "home.searchNone": "Nothing found for “{q}”.",
    "home.searchCount": "{n} results",
    "home.searchPage": "page {n}",
    "state.scheduled": "scheduled",
    "state.invited": "invited",
    "state.running": "running",
    "state.completed": "completed",
    "state.cancelled": "cancelled",
    "kind.meeting": "Meeting",
    "kind.agenda_item": "Agenda item",
    "kind.paper": "Paper",
    "kind.file": "File",
  },
});

/** One meeting as a card; `base` is "#/meetings" or "#/portal/meetings". */
export function meetingCard(meeting, { base = "#/meetings", live = true, kept = null } = {}) {
  const running = meeting.state === "running" || meeting.live;
  const card = el("li", { class: `meeting-card${running ? " meeting-running" : ""}` });
  const head = el("div", { class: "meeting-head" });
  if (running) head.append(el("span", { class: "badge badge-live" }, t("home.running")));
  else head.append(el("span", { class: `badge badge-state state-${meeting.state}` }, t(`state.${meeting.state}`)));
  if (kept?.has(meeting.id)) head.append(el("span", { class: "badge badge-ok", "data-testid": "kept-badge" }, t("home.kept")));
  head.append(el("time", { class: "meeting-time", datetime: meeting.start }, formatDateTime(meeting.start)));
  card.append(head);
  card.append(el("h3", { class: "meeting-name" },
    el("a", { href: `${base}/${meeting.id}`, class: "stretched" }, meeting.name)));
  const meta = [meeting.organization?.name, meeting.location?.description].filter(Boolean).join(" · ");
  if (meta) card.append(el("p", { class: "meeting-meta" }, meta));
  if (live && meeting.live) {
    card.append(el("p", { class: "meeting-actions" },
      el("a", { class: "button button-primary", href: `#/meetings/${meeting.id}/live` }, t("home.live"))));
  }
  return card;
}

/** Search results as a list of links (member or public). */
export function searchResults(data, q, { base = "#" } = {}) {
  if (!data.length) return el("p", { class: "notice", role: "status" }, t("home.searchNone", { q }));
  const link = (hit) => {
    switch (hit.kind) {
      case "meeting": return `${base}/meetings/${hit.id}`;
      case "paper": return `${base}/papers/${hit.id}`;
      case "agenda_item": return hit.meeting_id ? `${base}/meetings/${hit.meeting_id}` : null;
      case "file":
        // A PDF opens in the viewer (on the passage's page, the words highlighted).
        if (hit.page || /\.pdf$/i.test(hit.title)) {
          const query = new URLSearchParams({ page: String(hit.page ?? 1) });
          if (hit.page) query.set("q", q);
          return `${base}/files/${hit.id}?${query}`;
        }
        if (hit.paper_id) return `${base}/papers/${hit.paper_id}`;
        return hit.meeting_id ? `${base}/meetings/${hit.meeting_id}` : null;
      default: return null;
    }
  };
  return el("div", {},
    el("p", { class: "result-count", role: "status" }, t("home.searchCount", { n: data.length })),
    el("ul", { class: "search-results" }, ...data.map((hit) => {
      const href = link(hit);
      return el("li", { class: "search-hit" },
        el("span", { class: "badge" }, t(`kind.${hit.kind}`)),
        href ? el("a", { href }, hit.title) : el("span", {}, hit.title),
        hit.page ? el("span", { class: "search-page" }, t("home.searchPage", { n: hit.page })) : null,
        hit.snippet ? el("p", { class: "snippet" }, ...marked(hit.snippet, hit.highlights)) : null);
    })));
}

/** The snippet as text nodes with the matched words in <mark> (offsets are UTF-16 indices). */
function marked(snippet, highlights) {
  const parts = [];
  let at = 0;
  for (const [start, end] of highlights ?? []) {
    if (start < at || end > snippet.length || start >= end) continue;
    if (start > at) parts.push(snippet.slice(at, start));
    parts.push(el("mark", {}, snippet.slice(start, end)));
    at = end;
  }
  if (at < snippet.length) parts.push(snippet.slice(at));
  return parts;
}

/** A search form that renders into `out`; `path` is the search endpoint. */
export function searchForm(api, path, out, base) {
  const input = el("input", { type: "search", id: "search-q", class: "input", name: "q", autocomplete: "off" });
  const form = el("form", { class: "search-form", role: "search" },
    el("label", { for: "search-q", class: "search-label" }, t("home.searchLabel")),
    el("div", { class: "search-row" }, input,
      el("button", { type: "submit", class: "button button-primary" }, t("home.searchButton"))));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const q = input.value.trim();
    if (!q) return;
    out.replaceChildren(loading());
    try {
      const answer = await api.get(`${path}?q=${encodeURIComponent(q)}&limit=20`);
      out.replaceChildren(searchResults(answer.data ?? [], q, { base }));
    } catch (error) {
      out.replaceChildren(errorBox(error));
    }
  });
  return form;
}

export async function mount(root, _params, ctx) {
  const { api } = ctx;
  const list = el("div", { "aria-live": "polite" }, loading());
  const pastBox = el("div", {});
  const results = el("div", { class: "search-out" });
  const pastButton = el("button", { type: "button", class: "button button-secondary" }, t("home.showPast"));
  const kept = keptSection();

  root.append(
    el("h1", { class: "page-title" }, t("home.title")),
    el("p", { class: "lead-small" }, t("home.greeting", { name: ctx.user?.display_name ?? "" })),
    el("section", { "aria-labelledby": "upcoming-title", class: "block" },
      el("h2", { id: "upcoming-title", class: "block-title" }, t("home.upcoming")), list),
    kept,
    el("section", { "aria-labelledby": "search-title", class: "block" },
      el("h2", { id: "search-title", class: "block-title" }, t("home.search")),
      searchForm(api, "/api/v1/search", results, "#"), results),
    el("section", { "aria-labelledby": "past-title", class: "block" },
      el("h2", { id: "past-title", class: "block-title" }, t("home.past")), pastButton, pastBox),
  );

  async function load(when, target, empty, { quiet = false } = {}) {
    if (!quiet) target.replaceChildren(loading());
    try {
      const answer = await api.get(`/api/v1/meetings?when=${when}`);
      const meetings = answer.data ?? [];
      const keptNow = await keptIds();
      target.replaceChildren(meetings.length
        ? el("ul", { class: "meeting-list" }, ...meetings.map((m) => meetingCard(m, { kept: keptNow })))
        : el("p", { class: "notice" }, t(empty)));
    } catch (error) {
      // A failed background refresh keeps what is shown (bad WiFi); a failed first load says so.
      if (!quiet) target.replaceChildren(errorBox(error, () => load(when, target, empty)));
    }
  }

  pastButton.addEventListener("click", () => {
    pastButton.remove();
    load("past", pastBox, "home.nonePast");
  });
  await load("upcoming", list, "home.none");
  // Refresh now and then: a meeting may start while the tablet lies on the table.
  const timer = window.setInterval(() => {
    if (document.visibilityState === "visible") load("upcoming", list, "home.none", { quiet: true });
  }, 60000);
  return () => {
    window.clearInterval(timer);
    kept.dispose();
  };
}
