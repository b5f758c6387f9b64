// The attendance register (clerks and admins): per member the meetings attended in a period
// (council and committee meetings run in Plenum, fraction meetings as their chair recorded them)
// and the attendance allowance due, with a CSV download for the payroll office.

import { formatDate, register, t } from "../i18n.js";
import { el, errorBox, errorMessage, loading } from "../ui.js";

register({
  de: {
    "attendance.title": "Anwesenheit und Sitzungsgeld",
    "attendance.intro": "Wer an welchen Sitzungen teilgenommen hat: Rats- und Ausschusssitzungen, die in Plenum geführt und geschlossen wurden (anwesend, zugeschaltet oder vorzeitig gegangen), und Fraktionssitzungen, die der Fraktionsvorsitz eingetragen hat.",
    "attendance.from": "Von",
    "attendance.to": "Bis",
    "attendance.show": "Anzeigen",
    "attendance.csv": "CSV für die Lohnbuchhaltung",
    "attendance.rates": "Sitzungsgeld je Sitzung: Rat {council} €, Ausschuss {committee} €, Fraktion {fraction} €",
    "attendance.caption": "Anwesenheit vom {from} bis {to}",
    "attendance.name": "Name",
    "attendance.council": "Rat",
    "attendance.committee": "Ausschüsse",
    "attendance.fraction": "Fraktion",
    "attendance.amount": "Betrag",
    "attendance.meetings": "Sitzungen",
    "attendance.total": "Summe",
    "attendance.none": "In diesem Zeitraum ist keine Teilnahme erfasst.",
    "attendance.downloaded": "Die CSV-Datei wurde heruntergeladen.",
  },
  en: {
    "attendance.title": "Attendance and allowance",
    "attendance.intro": "Who attended which meetings: council and committee meetings run and closed in Plenum (present, remote or left early), and fraction meetings as the fraction's chair recorded them.",
    "attendance.from": "From",
    "attendance.to": "To",
    "attendance.show": "Show",
    "attendance.csv": "CSV for the payroll office",
    "attendance.rates": "Allowance per meeting: council €{council}, committee €{committee}, fraction €{fraction}",
    "attendance.caption": "Attendance from {from} to {to}",
    "attendance.name": "Name",
    "attendance.council": "Council",
    "attendance.committee": "Committees",
    "attendance.fraction": "Fraction",
    "attendance.amount": "Amount",
    "attendance.meetings": "Meetings",
    "attendance.total": "Total",
    "attendance.none": "No attendance is recorded in this period.",
    "attendance.downloaded": "The CSV file was downloaded.",
  },
});

/** 4000 → "40,00" (German) or "40.00". */
function euros(cents) {
  return new Intl.NumberFormat(document.documentElement.lang === "en" ? "en-GB" : "de-DE",
    { minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(cents / 100);
}

function isoDay(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

export async function mount(root, _params, ctx) {
  const { api } = ctx;
  const now = new Date();
  const from = el("input", { type: "date", id: "attendance-from", class: "input", required: true, "data-testid": "attendance-from" });
  const to = el("input", { type: "date", id: "attendance-to", class: "input", required: true, "data-testid": "attendance-to" });
  // The previous month by default, as the payroll office asks for it.
  from.value = isoDay(new Date(now.getFullYear(), now.getMonth() - 1, 1));
  to.value = isoDay(new Date(now.getFullYear(), now.getMonth(), 0));
  const status = el("p", { class: "status-line", role: "status", "data-testid": "attendance-status" });
  const csv = el("button", { type: "button", class: "button button-secondary", "data-testid": "attendance-csv" }, t("attendance.csv"));
  const result = el("div", {});
  const form = el("form", { class: "attendance-form" },
    el("div", { class: "field" }, el("label", { for: "attendance-from" }, t("attendance.from")), from),
    el("div", { class: "field" }, el("label", { for: "attendance-to" }, t("attendance.to")), to),
    el("button", { type: "submit", class: "button button-primary", "data-testid": "attendance-show" }, t("attendance.show")),
    csv);
  root.append(
    el("h1", { class: "page-title" }, t("attendance.title")),
    el("p", { class: "lead-small" }, t("attendance.intro")),
    form,
    status,
    result,
  );

  const query = () => `from=${encodeURIComponent(from.value)}&to=${encodeURIComponent(to.value)}`;

  function table(data) {
    const caption = t("attendance.caption", { from: formatDate(data.from), to: formatDate(data.to) });
    if (!data.lines.length) return el("p", { class: "notice" }, t("attendance.none"));
    const rows = data.lines.map((line) => el("tr", { "data-testid": "attendance-line" },
      el("th", { scope: "row" }, line.name),
      el("td", { class: "num" }, String(line.council)),
      el("td", { class: "num" }, String(line.committee)),
      el("td", { class: "num" }, String(line.fraction)),
      el("td", { class: "num" }, `${euros(line.total_cents)} €`),
      el("td", {}, el("ul", { class: "attendance-meetings" },
        ...line.meetings.map((m) => el("li", {}, `${formatDate(m.date)} – ${m.name} (${m.organization})`))))));
    return el("div", { class: "table-scroll" },
      el("table", { class: "minutes-table attendance-table", "data-testid": "attendance-table" },
        el("caption", {}, caption),
        el("thead", {}, el("tr", {},
          el("th", { scope: "col" }, t("attendance.name")),
          el("th", { scope: "col", class: "num" }, t("attendance.council")),
          el("th", { scope: "col", class: "num" }, t("attendance.committee")),
          el("th", { scope: "col", class: "num" }, t("attendance.fraction")),
          el("th", { scope: "col", class: "num" }, t("attendance.amount")),
          el("th", { scope: "col" }, t("attendance.meetings")))),
        el("tbody", {}, ...rows),
        el("tfoot", {}, el("tr", {},
          el("th", { scope: "row", colspan: "4" }, t("attendance.total")),
          el("td", { class: "num", "data-testid": "attendance-total" }, `${euros(data.total_cents)} €`),
          el("td", {})))));
  }

  async function load() {
    result.replaceChildren(loading());
    try {
      const data = await api.get(`/api/v1/attendance-register?${query()}`);
      const a = data.allowances;
      result.replaceChildren(
        el("p", { class: "field-hint", "data-testid": "attendance-rates" }, t("attendance.rates", {
          council: euros(a.council), committee: euros(a.committee), fraction: euros(a.fraction),
        })),
        table(data));
    } catch (error) {
      result.replaceChildren(errorBox(error, load));
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    load();
  });
  csv.addEventListener("click", async () => {
    csv.disabled = true;
    try {
      const text = await api.get(`/api/v1/attendance-register?${query()}&format=csv`);
      // The server sends a BOM; text() drops it, so it is put back for spreadsheet programs.
      const blob = new Blob(["\ufeff", text.replace(/^\ufeff/, "")], { type: "text/csv;charset=utf-8" });
      const link = el("a", { href: URL.createObjectURL(blob), download: `sitzungsgeld-${from.value}-${to.value}.csv` });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(link.href), 1000);
      status.textContent = t("attendance.downloaded");
    } catch (error) {
      status.textContent = errorMessage(error);
    } finally {
      csv.disabled = false;
    }
  });
  await load();
  return () => {};
}
