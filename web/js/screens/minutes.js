// The draft minutes (Niederschrift, Entwurf) of a meeting: the public and the non-public part as
// two tabs, each drafted by the server from the session's record (GET …/minutes/draft). The clerk
// writes the Protokollnotiz of each item inline (PUT …/agenda-items/{id}/minutes-note with the
// item's ETag); a 412 keeps what the clerk typed, shows the current note and saves on the next
// try against the new version. Members read the draft without the editors. Printable.

import { formatDate, formatNumber, formatTime, register, t } from "../i18n.js";
import { el, errorBox, errorMessage, richText } from "../ui.js";
import { kindLabel, pdfButton, voteView } from "./decision.js";
import { recordPanel } from "./record.js";
// The meeting screen's texts (Ja/Nein/Enthaltung of the vote results).
import "./meeting.js";

register({
  de: {
    "minutes.title": "Niederschrift (Entwurf)",
    "minutes.draftHint": "Entwurf aus der Sitzung: Anwesenheit, Beschlussfähigkeit, Beschlüsse und Abstimmungen kommen aus der Live-Sitzung und den festgehaltenen Beschlüssen; Korrekturen dort erscheinen hier sofort. Noch nicht unterschrieben und nicht veröffentlicht.",
    "minutes.tabs": "Teile der Niederschrift",
    "minutes.public": "Öffentlicher Teil",
    "minutes.nonPublic": "Nichtöffentlicher Teil",
    "minutes.print": "Drucken",
    "minutes.pdf": "Als PDF",
    "minutes.back": "Zur Sitzung",
    "minutes.date": "Datum",
    "minutes.place": "Ort",
    "minutes.organization": "Gremium",
    "minutes.scheduled": "Geplanter Beginn",
    "minutes.invited": "Einladung vom",
    "minutes.lateReason": "Verkürzte Ladungsfrist",
    "minutes.start": "Beginn",
    "minutes.end": "Ende",
    "minutes.notYet": "noch nicht",
    "minutes.breaks": "Unterbrechungen",
    "minutes.break": "{from} – {to} Uhr",
    "minutes.breakOpen": "seit {from} Uhr",
    "minutes.attendance": "Anwesenheit",
    "minutes.name": "Name",
    "minutes.role": "Funktion",
    "minutes.fraction": "Fraktion",
    "minutes.status": "Anwesenheit",
    "minutes.times": "Zeiten",
    "minutes.standIns": "Vertretungen",
    "minutes.standIn": "{substitute} vertritt {member} ({from} – {to} Uhr)",
    "minutes.standInOpen": "{substitute} vertritt {member} (ab {from} Uhr)",
    "minutes.noSession": "Die Live-Sitzung wurde noch nicht begonnen.",
    "minutes.status.present": "anwesend",
    "minutes.status.remote": "zugeschaltet",
    "minutes.status.absent": "abwesend",
    "minutes.status.excused": "entschuldigt",
    "minutes.status.left_early": "vorzeitig gegangen",
    "minutes.quorum": "Beschlussfähigkeit",
    "minutes.quorum.declared": "{time} Uhr: Die Vorsitzende Person stellt die Beschlussfähigkeit fest ({present} von {statutory} stimmberechtigten Mitgliedern anwesend, {required} erforderlich).",
    "minutes.quorum.declaredNot": "{time} Uhr: Die Vorsitzende Person stellt fest, dass die Beschlussfähigkeit nicht gegeben ist ({present} von {statutory} anwesend, {required} erforderlich).",
    "minutes.quorum.doubted": "{time} Uhr: {person} bezweifelt die Beschlussfähigkeit ({present} von {statutory} anwesend, {required} erforderlich).",
    "minutes.quorum.none": "Keine Feststellung zur Beschlussfähigkeit.",
    "minutes.quorum.changed": "{time} Uhr: Nach einer Änderung der Anwesenheit: {standing} ({present} von {statutory} anwesend, {required} erforderlich).",
    "minutes.standing.quorate": "beschlussfähig",
    "minutes.standing.presumed": "Beschlussfähigkeit wird vermutet",
    "minutes.standing.undeclared": "Beschlussfähigkeit noch nicht festgestellt",
    "minutes.standing.doubted": "Beschlussfähigkeit angezweifelt",
    "minutes.standing.not_quorate": "nicht beschlussfähig",
    "minutes.standing.waived": "Wiederholungssitzung, ohne Rücksicht auf die Zahl beschlussfähig",
    "minutes.polls": "Weitere Abstimmungen zu diesem Punkt",
    "minutes.items": "Tagesordnung",
    "minutes.noItems": "Keine Tagesordnungspunkte in diesem Teil.",
    "minutes.decision": "Beschluss",
    "minutes.noDecision": "Kein Beschluss festgehalten.",
    "minutes.vote": "Abstimmungsergebnis",
    "minutes.conflicts": "Befangenheit",
    "minutes.speakers": "Wortmeldungen",
    "minutes.pointOfOrder": "zur Geschäftsordnung",
    "minutes.voteRecord": "Auf Verlangen von {name} wird dessen/deren Stimmabgabe protokolliert: {choice}",
    "minutes.nonPublicBegan": "Beginn des nichtöffentlichen Teils",
    "minutes.publicEnded": "Ende des öffentlichen Teils",
    "minutes.conflict": "{name} erklärt sich für befangen und nimmt an Beratung und Abstimmung nicht teil",
    "minutes.note": "Protokollnotiz",
    "minutes.noNote": "Keine Protokollnotiz.",
    "minutes.noteHint": "Markdown, höchstens 20 000 Zeichen. Leer speichern entfernt die Notiz.",
    "minutes.save": "Protokollnotiz speichern",
    "minutes.saving": "Wird gespeichert …",
    "minutes.saved": "Protokollnotiz gespeichert.",
    "minutes.stale": "Jemand anderes hat diesen Tagesordnungspunkt inzwischen geändert. Der aktuelle Stand ist unten zu sehen; Ihr Text ist erhalten. Bitte prüfen und erneut speichern.",
    "minutes.current": "Aktueller Stand auf dem Server:",
  },
  en: {
    "minutes.title": "Draft minutes",
    "minutes.draftHint": "Drafted from the session: attendance, quorum, decisions and votes come from the live session and the recorded decisions; corrections there show here at once. Not signed and not published yet.",
    "minutes.tabs": "Parts of the minutes",
    "minutes.public": "Public part",
    "minutes.nonPublic": "Non-public part",
    "minutes.print": "Print",
    "minutes.pdf": "As PDF",
    "minutes.back": "To the meeting",
    "minutes.date": "Date",
    "minutes.place": "Place",
    "minutes.organization": "Body",
    "minutes.scheduled": "Scheduled start",
    "minutes.invited": "Invitation of",
    "minutes.lateReason": "Shortened notice period",
    "minutes.start": "Start",
    "minutes.end": "End",
    "minutes.notYet": "not yet",
    "minutes.breaks": "Breaks",
    "minutes.break": "{from} – {to}",
    "minutes.breakOpen": "since {from}",
    "minutes.attendance": "Attendance",
    "minutes.name": "Name",
    "minutes.role": "Role",
    "minutes.fraction": "Fraction",
    "minutes.status": "Attendance",
    "minutes.times": "Times",
    "minutes.standIns": "Stand-ins",
    "minutes.standIn": "{substitute} stands in for {member} ({from} – {to})",
    "minutes.standInOpen": "{substitute} stands in for {member} (from {from})",
    "minutes.noSession": "The live session has not started yet.",
    "minutes.status.present": "present",
    "minutes.status.remote": "remote",
    "minutes.status.absent": "absent",
    "minutes.status.excused": "excused",
    "minutes.status.left_early": "left early",
    "minutes.quorum": "Quorum",
    "minutes.quorum.declared": "{time}: the chair declares the quorum ({present} of {statutory} voting members present, {required} needed).",
    "minutes.quorum.declaredNot": "{time}: the chair declares that there is no quorum ({present} of {statutory} present, {required} needed).",
    "minutes.quorum.doubted": "{time}: {person} doubts the quorum ({present} of {statutory} present, {required} needed).",
    "minutes.quorum.none": "No statement on the quorum.",
    "minutes.quorum.changed": "{time}: after a change in attendance: {standing} ({present} of {statutory} present, {required} needed).",
    "minutes.standing.quorate": "quorate",
    "minutes.standing.presumed": "quorum presumed",
    "minutes.standing.undeclared": "quorum not yet declared",
    "minutes.standing.doubted": "quorum doubted",
    "minutes.standing.not_quorate": "not quorate",
    "minutes.standing.waived": "repeat meeting, quorate whatever the count",
    "minutes.polls": "Other votes on this item",
    "minutes.items": "Agenda",
    "minutes.noItems": "No agenda items in this part.",
    "minutes.decision": "Decision",
    "minutes.noDecision": "No decision recorded.",
    "minutes.vote": "Vote result",
    "minutes.conflicts": "Conflict of interest",
    "minutes.speakers": "Speakers",
    "minutes.pointOfOrder": "point of order",
    "minutes.voteRecord": "At the request of {name}, their vote is recorded: {choice}",
    "minutes.nonPublicBegan": "Non-public part began",
    "minutes.publicEnded": "Public part ended",
    "minutes.conflict": "{name} declares a conflict of interest and takes no part in deliberation and vote",
    "minutes.note": "Clerk's note",
    "minutes.noNote": "No clerk's note.",
    "minutes.noteHint": "Markdown, at most 20,000 characters. Saving it empty removes the note.",
    "minutes.save": "Save the clerk's note",
    "minutes.saving": "Saving …",
    "minutes.saved": "Clerk's note saved.",
    "minutes.stale": "Someone else changed this agenda item in the meantime. The current state is shown below; your text is kept. Please check and save again.",
    "minutes.current": "Current state on the server:",
  },
});

const PARTS = [
  ["public", "minutes.public"],
  ["non_public", "minutes.nonPublic"],
];

function fact(label, value) {
  return el("div", {}, el("dt", {}, label), el("dd", {}, value));
}

function time(value) {
  return value ? el("time", { datetime: value }, formatTime(value)) : t("minutes.notYet");
}

function header(draft) {
  const facts = el("dl", { class: "facts-inline minutes-facts" },
    fact(t("minutes.organization"), draft.organization || "–"),
    fact(t("minutes.date"), el("time", { datetime: draft.scheduled_start }, formatDate(draft.started_at ?? draft.scheduled_start))),
    fact(t("minutes.place"), draft.location ?? "–"),
    fact(t("minutes.scheduled"), time(draft.scheduled_start)),
    fact(t("minutes.start"), time(draft.started_at)),
    fact(t("minutes.end"), time(draft.ended_at)));
  if (draft.invited_at) {
    facts.append(fact(t("minutes.invited"), el("time", { datetime: draft.invited_at }, formatDate(draft.invited_at))));
  }
  if (draft.invitation_late_reason) facts.append(fact(t("minutes.lateReason"), draft.invitation_late_reason));
  if (draft.part === "public" && draft.public_ended) {
    facts.append(fact(t("minutes.publicEnded"), time(draft.public_ended)));
  }
  if (draft.part === "non_public" && draft.non_public_began) {
    facts.append(fact(t("minutes.nonPublicBegan"), time(draft.non_public_began)));
  }
  if (draft.breaks?.length) {
    facts.append(fact(t("minutes.breaks"), draft.breaks.map((b) => (b.to
      ? t("minutes.break", { from: formatTime(b.from), to: formatTime(b.to) })
      : t("minutes.breakOpen", { from: formatTime(b.from) }))).join(", ")));
  }
  return facts;
}

function statusLabel(status) {
  return t(`minutes.status.${status}`);
}

function attendanceTable(draft) {
  const section = el("section", { class: "block minutes-block", "aria-labelledby": "minutes-attendance" },
    el("h2", { id: "minutes-attendance", class: "block-title" }, t("minutes.attendance")));
  if (!draft.attendance?.length) {
    section.append(el("p", { class: "notice" }, t("minutes.noSession")));
    return section;
  }
  const rows = draft.attendance.map((a) => el("tr", {},
    el("th", { scope: "row" }, a.name),
    el("td", {}, a.role_label),
    el("td", {}, a.fraction ?? "–"),
    el("td", {}, statusLabel(a.status)),
    el("td", {}, a.changes.map((c) => `${statusLabel(c.status)} ${formatTime(c.at)}`).join(", ") || "–")));
  section.append(el("table", { class: "minutes-table", "data-testid": "minutes-attendance" },
    el("thead", {}, el("tr", {}, ...["name", "role", "fraction", "status", "times"].map((k) => el("th", { scope: "col" }, t(`minutes.${k}`))))),
    el("tbody", {}, ...rows)));
  if (draft.stand_ins?.length) {
    section.append(el("h3", { class: "minutes-subtitle" }, t("minutes.standIns")),
      el("ul", { class: "minutes-list", "data-testid": "minutes-stand-ins" }, ...draft.stand_ins.map((s) => el("li", {},
        t(s.to ? "minutes.standIn" : "minutes.standInOpen", {
          substitute: s.substitute_name, member: s.member_name, from: formatTime(s.from), to: s.to ? formatTime(s.to) : "",
        })))));
  }
  return section;
}

function quorumBlock(draft) {
  const section = el("section", { class: "block minutes-block", "aria-labelledby": "minutes-quorum" },
    el("h2", { id: "minutes-quorum", class: "block-title" }, t("minutes.quorum")));
  if (!draft.quorum?.length) {
    section.append(el("p", {}, t("minutes.quorum.none")));
    return section;
  }
  section.append(el("ul", { class: "minutes-list" }, ...draft.quorum.map((q) => {
    const vars = {
      time: formatTime(q.at), present: formatNumber(q.present_voting),
      statutory: formatNumber(q.statutory), required: formatNumber(q.required), person: q.person ?? "",
    };
    if (q.kind === "changed") vars.standing = t(`minutes.standing.${q.standing}`);
    const key = q.kind === "doubted" ? "minutes.quorum.doubted"
      : q.kind === "changed" ? "minutes.quorum.changed"
        : q.quorate ? "minutes.quorum.declared" : "minutes.quorum.declaredNot";
    return el("li", {}, t(key, vars));
  })));
  return section;
}

function noteView(note) {
  if (!note) return el("p", { class: "field-hint" }, t("minutes.noNote"));
  const box = el("div", { class: "rich minutes-note-text" });
  box.append(richText(note.html));
  return box;
}

/** The inline editor of one item's Protokollnotiz. */
function noteEditor(api, item) {
  const wrap = el("div", { class: "minutes-note-editor" });
  const id = `minutes-note-${item.id}`;
  const text = el("textarea", {
    class: "input textarea", id, name: "minutes-note", rows: "4", maxlength: "20000",
    "aria-describedby": `${id}-hint`, "data-testid": "minutes-note-input",
  });
  text.value = item.note?.text ?? "";
  const status = el("p", { class: "decision-status", role: "status" });
  const alert = el("div", { role: "alert" });
  const shown = el("div", { class: "minutes-note-shown" }, noteView(item.note));
  const save = el("button", { type: "submit", class: "button button-primary", "data-testid": "minutes-note-save" }, t("minutes.save"));
  let etag = null;
  const path = `/api/v1/agenda-items/${encodeURIComponent(item.id)}`;
  const fetchEtag = async () => {
    const current = await api.versioned("GET", path);
    etag = current.etag;
    return current.data;
  };
  const form = el("form", { class: "minutes-note-form", novalidate: true },
    el("label", { for: id, class: "visually-hidden" }, t("minutes.note")), text,
    el("p", { class: "field-hint", id: `${id}-hint` }, t("minutes.noteHint")),
    alert, el("p", { class: "button-row" }, save), status);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    save.disabled = true;
    alert.replaceChildren();
    status.textContent = t("minutes.saving");
    try {
      if (!etag) await fetchEtag();
      const answer = await api.versioned("PUT", `${path}/minutes-note`, { body: { text: text.value }, ifMatch: etag });
      etag = answer.etag;
      shown.replaceChildren(noteView(answer.data.minutes_note));
      status.textContent = t("minutes.saved");
    } catch (error) {
      status.textContent = "";
      if (error?.status === 412) {
        // Keep the text; show what the server has now; the next save goes against it.
        let current = null;
        try {
          current = await fetchEtag();
        } catch {
          etag = null;
        }
        alert.replaceChildren(el("div", { class: "notice notice-error", "data-testid": "minutes-note-stale" },
          el("p", {}, t("minutes.stale")),
          current ? el("p", {}, t("minutes.current")) : null,
          current ? noteView(current.minutes_note) : null));
      } else {
        const detail = error?.problem?.detail;
        alert.replaceChildren(el("p", { class: "notice notice-error form-error" },
          detail ? `${errorMessage(error)} ${detail}` : errorMessage(error)));
      }
    } finally {
      save.disabled = false;
    }
  });
  wrap.append(shown, form);
  return wrap;
}

function itemBlock(api, item, mayEdit) {
  const headingId = `minutes-item-${item.id}`;
  const section = el("section", { class: "minutes-item", "aria-labelledby": headingId, "data-testid": "minutes-item" },
    el("h3", { id: headingId, class: "minutes-item-title" },
      el("span", { class: "agenda-number" }, item.number), " ", item.title));
  if (item.conflicts?.length) {
    section.append(el("h4", {}, t("minutes.conflicts")),
      el("ul", { class: "minutes-list" }, ...item.conflicts.map((c) => el("li", {},
        t("minutes.conflict", { name: c.name }), c.at ? ` (${formatTime(c.at)})` : ""))));
  }
  if (item.speakers?.length) {
    section.append(el("h4", {}, t("minutes.speakers")),
      el("ol", { class: "minutes-list", "data-testid": "minutes-speakers" }, ...item.speakers.map((s) => el("li", {},
        s.name, s.point_of_order ? ` (${t("minutes.pointOfOrder")})` : "", ` – ${formatTime(s.from)}`))));
  }
  const decision = item.decision;
  section.append(decision
    ? el("h4", {}, `${t("minutes.decision")}: `,
      el("strong", { class: `outcome outcome-${decision.kind}` }, kindLabel(decision)),
      decision.referred_to ? ` – ${decision.referred_to}` : "")
    : el("h4", {}, t("minutes.decision")));
  if (item.decision_html) {
    const text = el("div", { class: "rich" });
    text.append(richText(item.decision_html));
    section.append(text);
  } else if (!decision) {
    section.append(el("p", { class: "field-hint" }, t("minutes.noDecision")));
  }
  if (decision?.vote) section.append(el("h4", {}, t("minutes.vote")), voteView(decision.vote));
  const others = (item.polls ?? []).filter((p) => p.poll !== decision?.vote?.poll);
  if (others.length) {
    section.append(el("h4", {}, t("minutes.polls")), ...others.map((p) => voteView(p)));
  }
  if (item.vote_records?.length) {
    section.append(el("ul", { class: "minutes-list", "data-testid": "minutes-vote-records" },
      ...item.vote_records.map((r) => el("li", {},
        t("minutes.voteRecord", { name: r.name, choice: r.choice_label }),
        item.polls?.length > 1 ? ` (${r.poll_title})` : ""))));
  }
  section.append(el("h4", {}, t("minutes.note")));
  section.append(mayEdit ? noteEditor(api, item) : noteView(item.note));
  return section;
}

function render(api, draft) {
  const section = el("section", { class: "block minutes-block", "aria-labelledby": "minutes-items" },
    el("h2", { id: "minutes-items", class: "block-title" }, t("minutes.items")));
  if (!draft.items.length) section.append(el("p", { class: "notice" }, t("minutes.noItems")));
  for (const item of draft.items) section.append(itemBlock(api, item, draft.may_edit));
  return [header(draft), attendanceTable(draft), quorumBlock(draft), section];
}

export async function mount(root, { id }, { api }) {
  let part = new URLSearchParams(window.location.hash.split("?")[1] ?? "").get("part") === "non_public"
    ? "non_public" : "public";
  const title = el("h1", { class: "page-title" }, t("minutes.title"));
  const eyebrow = el("p", { class: "eyebrow-dark" });
  const panel = el("div", { id: "minutes-panel", role: "tabpanel", "data-testid": "minutes-panel" });
  const tabs = el("div", { class: "minutes-tabs button-row", role: "tablist", "aria-label": t("minutes.tabs") });
  const buttons = PARTS.map(([value, key]) => {
    const button = el("button", {
      type: "button", role: "tab", id: `minutes-tab-${value}`, class: "button button-secondary",
      "aria-controls": "minutes-panel", "data-testid": `minutes-tab-${value}`,
    }, t(key));
    button.addEventListener("click", () => {
      part = value;
      load();
    });
    return button;
  });
  tabs.append(...buttons);
  const tools = el("p", { class: "button-row" },
    el("a", { class: "button button-secondary", href: `#/meetings/${encodeURIComponent(id)}` }, t("minutes.back")),
    el("button", { type: "button", class: "button button-secondary", onclick: () => window.print() }, t("minutes.print")),
    pdfButton(api, () => `/api/v1/meetings/${encodeURIComponent(id)}/minutes/draft.pdf?part=${part}`,
      () => `Niederschrift ${part === "public" ? "öffentlicher" : "nichtöffentlicher"} Teil (Entwurf).pdf`,
      t("minutes.pdf"), "minutes-pdf"));
  root.replaceChildren(eyebrow, title, el("p", { class: "notice minutes-hint" }, t("minutes.draftHint")), tools, tabs, panel);

  let generation = 0;
  async function load() {
    const mine = ++generation;
    for (const button of buttons) {
      const selected = button.id === `minutes-tab-${part}`;
      button.setAttribute("aria-selected", String(selected));
      button.className = `button ${selected ? "button-primary" : "button-secondary"}`;
    }
    panel.setAttribute("aria-labelledby", `minutes-tab-${part}`);
    panel.replaceChildren(el("p", { class: "notice", role: "status" }, t("ui.loading")));
    try {
      const draft = await api.get(`/api/v1/meetings/${encodeURIComponent(id)}/minutes/draft?part=${part}`);
      if (mine !== generation) return;
      eyebrow.textContent = draft.meeting_name;
      title.textContent = `${t("minutes.title")} – ${t(part === "public" ? "minutes.public" : "minutes.nonPublic")}`;
      const record = await recordPanel(api, id, part);
      if (mine !== generation) return;
      panel.replaceChildren(record, ...render(api, draft));
    } catch (error) {
      if (mine !== generation) return;
      panel.replaceChildren(errorBox(error, load));
    }
  }
  await load();
}
