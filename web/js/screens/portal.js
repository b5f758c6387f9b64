// The public portal (no login): meetings calendar by month, public agendas, papers, decisions
// and results, and the public search. Non-public items never reach the browser: the public API
// leaves them out.

import { formatDate, formatDateTime, formatMonth, register, t } from "../i18n.js";
import { el, errorBox, errorMessage, loading } from "../ui.js";
import { meetingCard, searchForm } from "./home.js";
import { decisionView } from "./decision.js";
import { fileList, paperType, renderMeeting, renderPaper } from "./meeting.js";

register({
  de: {
    "portal.eyebrow": "Bürgerinformationssystem",
    "portal.title": "Öffentliche Ratsinformationen",
    "portal.lead": "Sitzungen, Tagesordnungen, Vorlagen, Beschlüsse und Abstimmungsergebnisse – für alle, ohne Anmeldung. Maschinenlesbar auch über OParl 1.1.",
    "portal.calendar": "Sitzungskalender",
    "portal.prev": "Vorheriger Monat",
    "portal.next": "Nächster Monat",
    "portal.noMeetings": "Keine öffentlichen Sitzungen in diesem Monat.",
    "portal.papers": "Vorlagen",
    "portal.noPapers": "Keine öffentlichen Vorlagen.",
    "portal.more": "Weitere Vorlagen",
    "portal.search": "Suche",
    "portal.back": "Zum Bürgerinformationssystem",
    "portal.ical": "Kalender abonnieren (iCalendar)",
    "portal.minutes": "Niederschrift",
    "portal.minutesFile": "Niederschrift, öffentlicher Teil (PDF, unterschrieben)",
    "portal.minutesSigned": "Unterschrieben von {names}; veröffentlicht am {at}.",
    "portal.minutesApproved": "Genehmigt am {at}.",
    "portal.announced": "Bekanntgegebener Beschluss aus nichtöffentlicher Sitzung",
    "portal.announcedAt": "Bekanntgegeben am {at}.",
    "portal.extract": "Beschlussauszug (PDF)",
  },
  en: {
    "portal.eyebrow": "Council information system",
    "portal.title": "Public council information",
    "portal.lead": "Meetings, agendas, papers, decisions and vote results – for everyone, no sign-in. Also machine-readable via OParl 1.1.",
    "portal.calendar": "Meeting calendar",
    "portal.prev": "Previous month",
    "portal.next": "Next month",
    "portal.noMeetings": "No public meetings in this month.",
    "portal.papers": "Papers",
    "portal.noPapers": "No public papers.",
    "portal.more": "More papers",
    "portal.search": "Search",
    "portal.back": "To the council information system",
    "portal.ical": "Subscribe to the calendar (iCalendar)",
    "portal.minutes": "Minutes",
    "portal.minutesFile": "Minutes, public part (PDF, signed)",
    "portal.minutesSigned": "Signed by {names}; published on {at}.",
    "portal.minutesApproved": "Approved on {at}.",
    "portal.announced": "Announced decision of a non-public session",
    "portal.announcedAt": "Announced on {at}.",
    "portal.extract": "Decision extract (PDF)",
  },
});

const state = { month: null };

function isoDate(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

export async function mount(root, _params, ctx) {
  const { api } = ctx;
  if (!state.month) {
    const now = new Date();
    state.month = new Date(now.getFullYear(), now.getMonth(), 1);
  }
  const monthLabel = el("h3", { class: "month-label", "aria-live": "polite" });
  const meetings = el("div", {});
  const papers = el("div", {});
  const results = el("div", { class: "search-out" });

  async function loadMonth() {
    const from = state.month;
    const to = new Date(from.getFullYear(), from.getMonth() + 1, 0);
    monthLabel.textContent = formatMonth(from);
    meetings.replaceChildren(loading());
    try {
      const answer = await api.get(`/api/v1/public/meetings?from=${isoDate(from)}&to=${isoDate(to)}`);
      const data = answer.data ?? [];
      meetings.replaceChildren(data.length
        ? el("ul", { class: "meeting-list" }, ...data.map((m) => meetingCard(m, { base: "#/portal/meetings", live: false })))
        : el("p", { class: "notice" }, t("portal.noMeetings")));
    } catch (error) {
      meetings.replaceChildren(errorBox(error, loadMonth));
    }
  }

  function shift(delta) {
    state.month = new Date(state.month.getFullYear(), state.month.getMonth() + delta, 1);
    loadMonth();
  }

  async function loadPapers(url, list) {
    const more = list.nextElementSibling;
    try {
      const answer = await api.get(url);
      for (const paper of answer.data ?? []) {
        list.append(el("li", { class: "paper-row" },
          el("a", { href: `#/portal/papers/${paper.id}` }, `${paper.reference} – ${paper.title}`),
          el("span", { class: "paper-meta" }, [paperType(paper.paper_type), paper.date ? formatDate(paper.date) : null].filter(Boolean).join(" · "))));
      }
      if (!list.children.length) papers.replaceChildren(el("p", { class: "notice" }, t("portal.noPapers")));
      if (more) {
        more.hidden = !answer.next;
        more.onclick = null;
        if (answer.next) more.dataset.next = answer.next;
      }
    } catch (error) {
      papers.append(errorBox(error));
    }
  }

  const paperList = el("ul", { class: "paper-list" });
  const moreButton = el("button", { type: "button", class: "button button-secondary", hidden: true }, t("portal.more"));
  moreButton.addEventListener("click", () => loadPapers(moreButton.dataset.next, paperList));
  papers.append(paperList, moreButton);

  root.append(
    el("section", { class: "portal-hero" },
      el("p", { class: "eyebrow-dark" }, t("portal.eyebrow")),
      el("h1", { class: "page-title" }, t("portal.title")),
      el("p", { class: "lead-small" }, t("portal.lead"))),
    el("section", { class: "block", "aria-labelledby": "calendar-title" },
      el("h2", { id: "calendar-title", class: "block-title" }, t("portal.calendar")),
      el("div", { class: "month-nav" },
        el("button", { type: "button", class: "button button-secondary", onclick: () => shift(-1) },
          el("span", { "aria-hidden": "true" }, "‹ "), t("portal.prev")),
        monthLabel,
        el("button", { type: "button", class: "button button-secondary", onclick: () => shift(1) },
          t("portal.next"), el("span", { "aria-hidden": "true" }, " ›"))),
      meetings,
      el("p", {}, el("a", { href: "/api/v1/meetings.ics" }, t("portal.ical")))),
    el("section", { class: "block", "aria-labelledby": "portal-search" },
      el("h2", { id: "portal-search", class: "block-title" }, t("portal.search")),
      searchForm(api, "/api/v1/public/search", results, "#/portal"), results),
    el("section", { class: "block", "aria-labelledby": "papers-title" },
      el("h2", { id: "papers-title", class: "block-title" }, t("portal.papers")), papers),
  );
  await Promise.all([loadMonth(), loadPapers("/api/v1/public/papers", paperList)]);
}

async function show(root, load, render) {
  root.append(el("p", {}, el("a", { href: "#/portal", class: "back-link" }, `‹ ${t("portal.back")}`)));
  const out = el("div", {});
  root.append(out);
  try {
    out.replaceChildren(...render(await load()));
  } catch (error) {
    out.replaceChildren(el("h1", { class: "page-title" }, errorMessage(error)), errorBox(error));
  }
}

/** The published, signed public part of a meeting's minutes, if there is one. */
async function publishedMinutes(api, id) {
  try {
    return await api.get(`/api/v1/public/meetings/${encodeURIComponent(id)}/minutes`);
  } catch {
    return null; // 404: not published (or not yet)
  }
}

function minutesBlock(minutes, api) {
  const names = minutes.signatures.map((s) => `${s.name} (${s.role_label})`).join(", ");
  return el("section", { class: "block", "aria-labelledby": "portal-minutes", "data-testid": "portal-minutes" },
    el("h2", { id: "portal-minutes", class: "block-title" }, t("portal.minutes")),
    fileList([{ name: t("portal.minutesFile"), url: minutes.pdf, media_type: "application/pdf" }], api, { pub: true }),
    el("p", { class: "field-hint" }, t("portal.minutesSigned", { names, at: formatDateTime(minutes.published_at) })),
    minutes.approved_at ? el("p", { class: "field-hint" }, t("portal.minutesApproved", { at: formatDateTime(minutes.approved_at) })) : null);
}

/**
 * The decisions of the non-public part the clerk announced on their own (Bekanntgabe): the
 * public title, the decision, the vote totals, the note and the extract.
 */
function announcedBlock(meeting, api) {
  if (!meeting.announced?.length) return null;
  return el("section", { class: "block", "aria-labelledby": "portal-announced", "data-testid": "portal-announced" },
    el("h2", { id: "portal-announced", class: "block-title" }, t("portal.announced")),
    ...meeting.announced.map((a) => el("article", { class: "agenda-item", "data-testid": "portal-announced-item" },
      el("h3", {}, a.title),
      el("p", { class: "field-hint" }, [a.note, t("portal.announcedAt", { at: formatDate(a.announced_at) })].filter(Boolean).join(" · ")),
      decisionView(a),
      fileList([{ name: t("portal.extract"), url: a.extract, media_type: "application/pdf" }], api, { pub: true }))));
}

export async function mountMeeting(root, params, ctx) {
  const { api } = ctx;
  await show(root, async () => {
    const [meeting, minutes] = await Promise.all([
      api.get(`/api/v1/public/meetings/${encodeURIComponent(params.id)}`),
      publishedMinutes(api, params.id),
    ]);
    return { meeting, minutes };
  }, ({ meeting, minutes }) => {
    const parts = renderMeeting(meeting, api, { pub: true });
    const announced = announcedBlock(meeting, api);
    if (announced) parts.push(announced);
    return minutes ? [...parts, minutesBlock(minutes, api)] : parts;
  });
}

export async function mountPaper(root, params, ctx) {
  const { api } = ctx;
  await show(root, () => api.get(`/api/v1/public/papers/${encodeURIComponent(params.id)}`),
    (paper) => renderPaper(paper, api, { pub: true }));
}
