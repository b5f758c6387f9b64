// Meeting: agenda with Ö/N marks, each item's paper, files and results; files open in the
// browser's own viewer (fetched with the bearer token, kept for offline reading); a filter over
// the agenda. Also the paper view (#/papers/{id}). The renderers are shared with the portal.

import { formatDate, formatDateTime, formatNumber, formatSize, register, t } from "../i18n.js";
import { notesPanel } from "./collab.js";
import { consultationStanding, decisionBlock, decisionEditor, mayRecord, pdfButton } from "./decision.js";
import { el, errorBox, errorMessage, richText } from "../ui.js";
import { keepBlock } from "./keep.js";

register({
  de: {
    "meeting.agenda": "Tagesordnung",
    "meeting.files": "Unterlagen zur Sitzung",
    "meeting.notice": "Öffentliche Bekanntmachung",
    "meeting.invitations": "Einladung und Nachträge",
    "meeting.bundle": "Sitzungsmappe (PDF)",
    "meeting.bundleHint": "Alle Unterlagen, die Sie lesen dürfen, in einer Datei; einmal geladen auch offline verfügbar.",
    "meeting.invitation.invitation": "Einladung vom {date}",
    "meeting.invitation.supplement": "Nachtrag {n} vom {date}",
    "meeting.invitation.late": "Verkürzte Ladungsfrist: {reason}",
    "meeting.invitation.changes": "Neu: {added} · verschoben: {moved} · abgesetzt: {withdrawn}",
    "meeting.invitation.pdf": "Einladung (PDF)",
    "meeting.invitation.supplementPdf": "Nachtrag {n} (PDF)",
    "meeting.noticePdf": "Bekanntmachung (PDF)",
    "meeting.deliveries": "E-Mail-Zustellung",
    "meeting.issue.title": "Einladung",
    "meeting.issue.invite": "Einladung versenden",
    "meeting.issue.supplement": "Nachtrag versenden",
    "meeting.issue.inviteHint": "Die Mitglieder erhalten die Einladung in der App und per E-Mail; die öffentliche Bekanntmachung erscheint im Bürgerportal.",
    "meeting.issue.supplementHint": "Ein Nachtrag enthält, was sich seit der letzten Einladung an Tagesordnung, Zeit oder Ort geändert hat.",
    "meeting.issue.late": "Die Ladungsfrist ist am {date} abgelaufen. Eine verkürzte Ladung braucht eine Begründung; sie steht in der Einladung und in der Niederschrift.",
    "meeting.issue.reason": "Begründung der verkürzten Ladungsfrist",
    "meeting.issue.sendLate": "Mit Begründung versenden",
    "meeting.issue.done": "Versendet. Die Zustellung an jedes Mitglied steht unten.",
    "meeting.issue.working": "Wird versendet …",
    "meeting.deliveries.none": "Keine E-Mails (keine Adressen oder abbestellt).",
    "meeting.deliveries.notConfigured": "E-Mail-Versand nicht konfiguriert: die Nachrichten warten, bis ein SMTP-Server eingerichtet ist.",
    "meeting.deliveries.member": "Mitglied",
    "meeting.deliveries.address": "Adresse",
    "meeting.deliveries.state": "Zustand",
    "meeting.deliveries.queued": "wartet",
    "meeting.deliveries.sending": "wird gesendet",
    "meeting.deliveries.sent": "gesendet {date}",
    "meeting.deliveries.failed": "fehlgeschlagen ({attempts}×): {reason}",
    "meeting.noticeIssued": "Eingeladen am {date}",
    "meeting.noticeSupplements": "{n} Nachtrag/Nachträge",
    "meeting.noticeLate": "Verkürzte Ladungsfrist: {reason}",
    "meeting.noticeAgenda": "Öffentliche Tagesordnung",
    "meeting.noticePaper": "Drucksache {reference}",
    "meeting.filter": "Tagesordnung durchsuchen",
    "meeting.filterHint": "Filtert nach Nummer, Titel und Vorlage.",
    "meeting.filterNone": "Kein Tagesordnungspunkt passt zu „{q}“.",
    "meeting.noAgenda": "Noch keine Tagesordnung.",
    "meeting.public": "öffentlich",
    "meeting.nonPublic": "nichtöffentlich",
    "meeting.paper": "Vorlage",
    "meeting.decision": "Beschluss",
    "meeting.results": "Abstimmungsergebnis",
    "meeting.live": "Zur Live-Sitzung",
    "meeting.chair": "Sitzungsleitung",
    "meeting.minutes": "Niederschrift (Entwurf)",
    "meeting.display": "Saalanzeige",
    "meeting.location": "Ort",
    "meeting.organization": "Gremium",
    "meeting.when": "Beginn",
    "meeting.fileOpen": "{name} öffnen",
    "meeting.fileOpening": "Wird geöffnet …",
    "meeting.fileReady": "{name} ist bereit – hier öffnen",
    "meeting.fileBlocked": "Ihr Browser hat das Öffnen blockiert.",
    "meeting.download": "Herunterladen",
    "meeting.fileDownload": "{name} herunterladen",
    "meeting.back": "Zurück zu meinen Sitzungen",
    "result.yes": "Ja",
    "result.no": "Nein",
    "result.abstain": "Enthaltung",
    "result.adopted": "angenommen",
    "result.rejected": "abgelehnt",
    "result.tie": "Stimmengleichheit",
    "result.elected": "gewählt",
    "result.none": "kein Ergebnis",
    "result.runoff": "Stichwahl nötig",
    "result.lot": "Losentscheid",
    "paperType.resolution": "Beschlussvorlage",
    "paperType.information": "Mitteilungsvorlage",
    "paperType.motion": "Antrag",
    "paperType.inquiry": "Anfrage",
    "paperType.other": "Vorlage",
    "paper.title": "Vorlage",
    "paper.date": "Datum",
    "paper.type": "Art",
    "paper.originator": "Eingereicht von",
    "paper.text": "Text",
    "paper.consultations": "Beratungsfolge",
    "paper.files": "Anlagen",
    "paper.main_file": "Hauptdokument",
    "paper.role.advise": "Vorberatung",
    "paper.role.decide": "Entscheidung",
    "paper.noMeeting": "noch kein Termin",
  },
  en: {
    "meeting.agenda": "Agenda",
    "meeting.files": "Meeting documents",
    "meeting.notice": "Public notice",
    "meeting.invitations": "Invitation and supplements",
    "meeting.bundle": "Meeting pack (PDF)",
    "meeting.bundleHint": "Every document you may read in one file; once loaded, also available offline.",
    "meeting.invitation.invitation": "Invitation of {date}",
    "meeting.invitation.supplement": "Supplement {n} of {date}",
    "meeting.invitation.late": "Shortened notice period: {reason}",
    "meeting.invitation.changes": "Added: {added} · moved: {moved} · withdrawn: {withdrawn}",
    "meeting.invitation.pdf": "Invitation (PDF)",
    "meeting.invitation.supplementPdf": "Supplement {n} (PDF)",
    "meeting.noticePdf": "Public notice (PDF)",
    "meeting.deliveries": "E-mail delivery",
    "meeting.issue.title": "Invitation",
    "meeting.issue.invite": "Send the invitation",
    "meeting.issue.supplement": "Send a supplement",
    "meeting.issue.inviteHint": "Members receive the invitation in the app and by e-mail; the public notice appears in the citizens' portal.",
    "meeting.issue.supplementHint": "A supplement holds what changed on the agenda, the time or the place since the last invitation.",
    "meeting.issue.late": "The notice period ended on {date}. A shortened notice needs a reason; it is printed in the invitation and the minutes.",
    "meeting.issue.reason": "Reason for the shortened notice",
    "meeting.issue.sendLate": "Send with reason",
    "meeting.issue.done": "Sent. Delivery to each member is listed below.",
    "meeting.issue.working": "Sending …",
    "meeting.deliveries.none": "No e-mails (no addresses, or switched off).",
    "meeting.deliveries.notConfigured": "E-mail is not configured: messages wait until an SMTP server is set up.",
    "meeting.deliveries.member": "Member",
    "meeting.deliveries.address": "Address",
    "meeting.deliveries.state": "State",
    "meeting.deliveries.queued": "waiting",
    "meeting.deliveries.sending": "sending",
    "meeting.deliveries.sent": "sent {date}",
    "meeting.deliveries.failed": "failed ({attempts}×): {reason}",
    "meeting.noticeIssued": "Invited on {date}",
    "meeting.noticeSupplements": "{n} supplement(s)",
    "meeting.noticeLate": "Shortened notice period: {reason}",
    "meeting.noticeAgenda": "Public agenda",
    "meeting.noticePaper": "Paper {reference}",
    "meeting.filter": "Search the agenda",
    "meeting.filterHint": "Filters by number, title and paper.",
    "meeting.filterNone": "No agenda item matches “{q}”.",
    "meeting.noAgenda": "No agenda yet.",
    "meeting.public": "public",
    "meeting.nonPublic": "non-public",
    "meeting.paper": "Paper",
    "meeting.decision": "Decision",
    "meeting.results": "Vote result",
    "meeting.live": "Join the live session",
    "meeting.chair": "Chair console",
    "meeting.minutes": "Draft minutes",
    "meeting.display": "Room display",
    "meeting.location": "Location",
    "meeting.organization": "Body",
    "meeting.when": "Start",
    "meeting.fileOpen": "Open {name}",
    "meeting.fileOpening": "Opening …",
    "meeting.fileReady": "{name} is ready – open it here",
    "meeting.fileBlocked": "Your browser blocked opening it.",
    "meeting.download": "Download",
    "meeting.fileDownload": "Download {name}",
    "meeting.back": "Back to my meetings",
    "result.yes": "Yes",
    "result.no": "No",
    "result.abstain": "Abstain",
    "result.adopted": "adopted",
    "result.rejected": "rejected",
    "result.tie": "tie",
    "result.elected": "elected",
    "result.none": "no result",
    "result.runoff": "run-off needed",
    "result.lot": "decided by lot",
    "paperType.resolution": "Draft resolution",
    "paperType.information": "Information paper",
    "paperType.motion": "Motion",
    "paperType.inquiry": "Inquiry",
    "paperType.other": "Paper",
    "paper.title": "Paper",
    "paper.date": "Date",
    "paper.type": "Type",
    "paper.originator": "Submitted by",
    "paper.text": "Text",
    "paper.consultations": "Consultations",
    "paper.files": "Attachments",
    "paper.main_file": "Main document",
    "paper.role.advise": "advises",
    "paper.role.decide": "decides",
    "paper.noMeeting": "no date yet",
  },
});

/**
 * A file link. PDFs open in the app's viewer (#/files/{id}), with a download link beside it.
 * Other public files are plain links; other member files are fetched with the bearer token and
 * shown from a blob URL in the browser's own viewer.
 */
export function fileItem(file, api, { pub = false } = {}) {
  const size = file.size !== undefined ? formatSize(file.size) : "";
  const meta = el("span", { class: "file-meta" }, [file.media_type === "application/pdf" ? "PDF" : file.media_type, size].filter(Boolean).join(" · "));
  // Stored files open in the viewer; documents made on request (signed minutes) have no file id.
  if (file.media_type === "application/pdf" && file.id) {
    const viewer = el("a", { class: "file-link", href: `${pub ? "#/portal" : "#"}/files/${file.id}` },
      el("span", { class: "file-name" }, file.name), meta);
    return el("li", { class: "file" }, viewer, downloadLink(file, api, pub));
  }
  if (pub) {
    return el("li", { class: "file" },
      el("a", { class: "file-link", href: file.url, target: "_blank", rel: "noopener" },
        el("span", { class: "file-name" }, file.name), meta));
  }
  const status = el("span", { class: "file-status", role: "status" });
  const button = el("button", { type: "button", class: "file-link" }, el("span", { class: "file-name" }, file.name), meta);
  button.addEventListener("click", async () => {
    status.textContent = t("meeting.fileOpening");
    status.classList.remove("file-error");
    try {
      const blob = await api.fileBlob(file.url);
      const typed = blob.type ? blob : new Blob([blob], { type: file.media_type });
      const url = URL.createObjectURL(typed);
      const link = el("a", { href: url, target: "_blank", rel: "noopener", class: "file-ready" },
        t("meeting.fileReady", { name: file.name }));
      status.replaceChildren(link);
      const opened = window.open(url, "_blank", "noopener");
      if (opened === null) {
        // Blocked, or "noopener" (which returns null even on success): the link stays.
      }
    } catch (error) {
      status.classList.add("file-error");
      status.textContent = errorMessage(error);
    }
  });
  return el("li", { class: "file" }, button, status);
}

/** "Herunterladen": a plain link for public files, a fetch with the token for members. */
function downloadLink(file, api, pub) {
  const label = t("meeting.fileDownload", { name: file.name });
  if (pub) {
    return el("a", { class: "file-download", href: file.url, download: file.name, "aria-label": label }, t("meeting.download"));
  }
  const status = el("span", { class: "file-status", role: "status" });
  const button = el("button", { type: "button", class: "file-download", "aria-label": label }, t("meeting.download"));
  button.addEventListener("click", async () => {
    status.textContent = "";
    try {
      const blob = await api.fileBlob(file.url);
      const url = URL.createObjectURL(blob);
      const link = el("a", { href: url, download: file.name, hidden: true });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
    } catch (error) {
      status.classList.add("file-error");
      status.textContent = errorMessage(error);
    }
  });
  return el("span", { class: "file-download-wrap" }, button, status);
}

export function fileList(files, api, options) {
  return el("ul", { class: "file-list" }, ...files.map((f) => fileItem(f, api, options)));
}

/** Yes/No/Abstain as labelled bars (widths via SVG attributes: no inline style needed). */
export function resultView(result) {
  const total = Math.max(1, (result.yes ?? 0) + (result.no ?? 0) + (result.abstain ?? 0));
  const rows = ["yes", "no", "abstain"].map((key) => {
    const n = result[key] ?? 0;
    const width = Math.round((n / total) * 100);
    const bar = el("span", { class: "bar-track" });
    bar.append(svgBar(width, key));
    return el("div", { class: "result-row" },
      el("dt", {}, t(`result.${key}`)), el("dd", {}, bar, el("span", { class: "result-n" }, formatNumber(n))));
  });
  const outcomeKey = `result.${result.outcome ?? "none"}`;
  const outcome = t(outcomeKey) === outcomeKey ? result.outcome : t(outcomeKey);
  return el("div", { class: "result" },
    el("p", { class: "result-title" }, result.title ? `${result.title}: ` : "",
      el("strong", { class: `outcome outcome-${result.outcome}` }, outcome ?? t("result.none"))),
    el("dl", { class: "result-bars" }, ...rows));
}

function svgBar(percent, key) {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 100 10");
  svg.setAttribute("preserveAspectRatio", "none");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("class", "bar");
  const rect = document.createElementNS(ns, "rect");
  rect.setAttribute("width", String(percent));
  rect.setAttribute("height", "10");
  rect.setAttribute("class", `bar-${key}`);
  svg.append(rect);
  return svg;
}

/** "resolution" → "Beschlussvorlage" (unknown codes as they are). */
export function paperType(code) {
  const key = `paperType.${code}`;
  const text = t(key);
  return text === key ? code ?? "–" : text;
}

/** The Ö/N mark of an agenda item, with a spoken label. */
export function publicMark(item) {
  return el("span", {
    class: `mark ${item.public ? "mark-public" : "mark-private"}`,
    title: item.public ? t("meeting.public") : t("meeting.nonPublic"),
  }, el("span", { "aria-hidden": "true" }, item.public ? "Ö" : "N"),
  el("span", { class: "visually-hidden" }, item.public ? t("meeting.public") : t("meeting.nonPublic")));
}

/** The agenda as a list of expandable items. `base`: "#" (member) or "#/portal". */
export function agendaList(items, api, { base = "#", pub = false } = {}) {
  return el("ol", { class: "agenda" }, ...items.map((item) => {
    const body = el("div", { class: "agenda-body" });
    if (item.paper) {
      body.append(el("p", { class: "agenda-paper" }, `${t("meeting.paper")}: `,
        el("a", { href: `${base}/papers/${item.paper.id}` }, `${item.paper.reference} – ${item.paper.title}`)));
    }
    if (item.files?.length) body.append(fileList(item.files, api, { pub }));
    // The decision: recorded (kind, text, vote result) or the proposed text; the clerk's editor
    // replaces this slot when the item is opened.
    const slot = el("div", { class: "decision-slot" });
    const block = decisionBlock(item);
    if (block) slot.append(block);
    // The live session's own counts (members), until the clerk records the decision with its
    // vote result.
    if (!item.outcome) {
      for (const result of item.results ?? []) {
        slot.append(el("div", { class: "results" }, el("h4", {}, t("meeting.results")), resultView(result)));
      }
    }
    body.append(slot);
    const summary = el("summary", { class: "agenda-summary" },
      publicMark(item),
      // The mark carries Ö/N: the number shows without it ("Ö 2" → mark Ö, "2").
      el("span", { class: "agenda-number" }, (item.number ?? "").replace(/^[ÖN]\s*/, "")),
      el("span", { class: "agenda-title" }, item.title));
    const details = el("details", { class: "agenda-item", id: `item-${item.id}` }, summary, body);
    const wrap = el("li", { class: "agenda-entry" }, details);
    wrap.dataset.search = [item.number, item.title, item.paper?.reference, item.paper?.title]
      .filter(Boolean).join(" ").toLowerCase();
    return wrap;
  }));
}

/** The meeting header facts. */
export function meetingFacts(meeting) {
  const facts = el("dl", { class: "facts-inline" },
    el("div", {}, el("dt", {}, t("meeting.when")),
      el("dd", {}, el("time", { datetime: meeting.start }, formatDateTime(meeting.start)))),
    el("div", {}, el("dt", {}, t("meeting.organization")), el("dd", {}, meeting.organization?.name ?? "–")));
  if (meeting.location) {
    facts.append(el("div", {}, el("dt", {}, t("meeting.location")), el("dd", {}, meeting.location.description)));
  }
  return facts;
}

/** A filter box over an agenda list. */
export function agendaFilter(list) {
  const none = el("p", { class: "notice", role: "status", hidden: true });
  const input = el("input", {
    type: "search", id: "agenda-filter", class: "input", autocomplete: "off",
    "aria-describedby": "agenda-filter-hint",
  });
  input.addEventListener("input", () => {
    const q = input.value.trim().toLowerCase();
    let shown = 0;
    for (const entry of list.children) {
      const match = q === "" || entry.dataset.search.includes(q);
      entry.hidden = !match;
      if (match) shown += 1;
    }
    none.hidden = shown > 0;
    none.textContent = t("meeting.filterNone", { q: input.value.trim() });
  });
  return el("div", { class: "field filter" },
    el("label", { for: "agenda-filter" }, t("meeting.filter")), input,
    el("p", { class: "field-hint", id: "agenda-filter-hint" }, t("meeting.filterHint")), none);
}

/** Sets the title (tooltip) of the button inside `wrap`; returns `wrap`. */
function titled(wrap, title) {
  wrap.querySelector("button")?.setAttribute("title", title);
  return wrap;
}

export function renderMeeting(meeting, api, { pub = false } = {}) {
  const base = pub ? "#/portal" : "#";
  const nodes = [];
  nodes.push(el("p", { class: "eyebrow-dark" }, meeting.organization?.name ?? ""));
  nodes.push(el("h1", { class: "page-title" }, meeting.name));
  nodes.push(meetingFacts(meeting));
  const actions = el("p", { class: "button-row" });
  if (!pub && meeting.live) {
    actions.append(el("a", { class: "button button-primary", href: `#/meetings/${meeting.id}/live` }, t("meeting.live")));
  }
  if (!pub && meeting.may_chair && meeting.state !== "cancelled" && meeting.state !== "completed") {
    actions.append(el("a", { class: "button button-secondary", href: `#/meetings/${meeting.id}/chair` }, t("meeting.chair")));
  }
  if (meeting.live || meeting.state === "running") {
    actions.append(el("a", { class: "button button-secondary", href: `#/display/${meeting.id}` }, t("meeting.display")));
  }
  if (!pub && (meeting.live || meeting.state === "running" || meeting.state === "completed")) {
    actions.append(el("a", { class: "button button-secondary", href: `#/meetings/${meeting.id}/minutes`, "data-testid": "minutes-link" }, t("meeting.minutes")));
  }
  // The Sitzungsmappe: the member's own (fetched with the token and kept for offline reading by
  // api.fileBlob), or the public one as a plain link.
  if (meeting.state !== "cancelled") {
    const url = `/api/v1/${pub ? "public/" : ""}meetings/${encodeURIComponent(meeting.id)}/bundle.pdf`;
    const name = `Sitzungsmappe ${meeting.name}.pdf`;
    actions.append(pub
      ? el("a", { class: "button button-secondary", href: url, download: name, "data-testid": "bundle-pdf", title: t("meeting.bundleHint") }, t("meeting.bundle"))
      : titled(pdfButton(api, url, name, t("meeting.bundle"), "bundle-pdf"), t("meeting.bundleHint")));
  }
  if (actions.children.length) nodes.push(actions);
  if (pub && meeting.notice) nodes.push(noticeSection(meeting.notice, meeting.id));
  if (meeting.files?.length) {
    nodes.push(el("section", { class: "block", "aria-labelledby": "meeting-files" },
      el("h2", { id: "meeting-files", class: "block-title" }, t("meeting.files")),
      fileList(meeting.files, api, { pub })));
  }
  const agenda = meeting.agenda ?? [];
  const section = el("section", { class: "block", "aria-labelledby": "agenda-title" },
    el("h2", { id: "agenda-title", class: "block-title" }, t("meeting.agenda")));
  if (agenda.length) {
    const list = agendaList(agenda, api, { base, pub });
    section.append(agendaFilter(list), list);
  } else {
    section.append(el("p", { class: "notice" }, t("meeting.noAgenda")));
  }
  nodes.push(section);
  return nodes;
}

/** The public notice (öffentliche Bekanntmachung): when invited, and the public agenda announced. */
function noticeSection(notice, meetingId) {
  const pdf = `/api/v1/public/meetings/${encodeURIComponent(meetingId)}/invitation.pdf`;
  const section = el("section", { class: "block", "aria-labelledby": "notice-title", "data-testid": "notice" },
    el("h2", { id: "notice-title", class: "block-title" }, t("meeting.notice")),
    el("p", {}, el("time", { datetime: notice.issued_at }, t("meeting.noticeIssued", { date: formatDateTime(notice.issued_at) })),
      notice.supplements ? ` · ${t("meeting.noticeSupplements", { n: notice.supplements })}` : ""),
    el("p", {}, el("a", { class: "file-link", href: pdf, target: "_blank", rel: "noopener", "data-testid": "notice-pdf" },
      t("meeting.noticePdf"))));
  if (notice.late_reason) section.append(el("p", {}, t("meeting.noticeLate", { reason: notice.late_reason })));
  const items = notice.announced?.items ?? [];
  if (items.length) {
    section.append(el("h3", {}, t("meeting.noticeAgenda")),
      el("ul", { class: "notice-agenda" }, ...items.map((item) => el("li", {},
        `${item.number} ${item.title}`,
        item.paper_reference ? ` (${t("meeting.noticePaper", { reference: item.paper_reference })})` : ""))));
  }
  return section;
}

export function renderPaper(paper, api, { pub = false } = {}) {
  const base = pub ? "#/portal" : "#";
  const nodes = [
    el("p", { class: "eyebrow-dark" }, `${t("paper.title")} ${paper.reference}`),
    el("h1", { class: "page-title" }, paper.title),
  ];
  const facts = el("dl", { class: "facts-inline" },
    el("div", {}, el("dt", {}, t("paper.type")), el("dd", {}, paperType(paper.paper_type))),
    el("div", {}, el("dt", {}, t("paper.date")), el("dd", {}, paper.date ? formatDate(paper.date) : "–")));
  // Submitted by: the originating organization, then the persons (e.g. who signed a motion).
  const submitters = [
    ...(paper.originator ? [paper.originator.name] : []),
    ...(paper.originator_persons || []).map((p) => p.name),
  ];
  if (submitters.length) {
    facts.append(el("div", {}, el("dt", {}, t("paper.originator")), el("dd", {}, submitters.join(", "))));
  }
  nodes.push(facts);
  if (paper.text_html || paper.text) {
    const text = el("div", { class: "rich paper-text" });
    if (paper.text_html) text.append(richText(paper.text_html));
    else text.textContent = paper.text;
    nodes.push(el("section", { class: "block", "aria-labelledby": "paper-text" },
      el("h2", { id: "paper-text", class: "block-title" }, t("paper.text")), text));
  }
  // The main document (Hauptdokument) first, then the attachments.
  const mainFiles = (paper.files || []).filter((f) => f.id === paper.main_file_id);
  const attachments = (paper.files || []).filter((f) => f.id !== paper.main_file_id);
  if (mainFiles.length) {
    nodes.push(el("section", { class: "block", "aria-labelledby": "paper-main-file" },
      el("h2", { id: "paper-main-file", class: "block-title" }, t("paper.main_file")),
      fileList(mainFiles, api, { pub })));
  }
  if (attachments.length) {
    nodes.push(el("section", { class: "block", "aria-labelledby": "paper-files" },
      el("h2", { id: "paper-files", class: "block-title" }, t("paper.files")),
      fileList(attachments, api, { pub })));
  }
  if (paper.consultations?.length) {
    nodes.push(el("section", { class: "block", "aria-labelledby": "paper-consultations" },
      el("h2", { id: "paper-consultations", class: "block-title" }, t("paper.consultations")),
      el("ol", { class: "consultations" }, ...paper.consultations.map((c) => el("li", { class: "consultation" },
        el("p", {}, el("strong", {}, c.organization?.name ?? "–"), ` – ${t(`paper.role.${c.role}`)}`),
        el("p", {}, c.meeting
          ? el("a", { href: `${base}/meetings/${c.meeting.id}` }, `${c.meeting.name}, ${formatDate(c.meeting.start)}`)
          : t("paper.noMeeting")),
        c.agenda_item ? el("p", {}, `${c.agenda_item.number}: ${c.agenda_item.title}`) : null,
        consultationStanding(c) ? el("p", { class: "consultation-standing", "data-testid": "consultation-standing" },
          el("strong", {}, consultationStanding(c))) : null,
        c.agenda_item?.decision ? el("p", { class: "decision-short" }, c.agenda_item.decision) : null,
      )))));
  }
  return nodes;
}

async function show(root, load, render) {
  try {
    const data = await load();
    root.replaceChildren(...render(data));
  } catch (error) {
    root.replaceChildren(el("h1", { class: "page-title" }, errorMessage(error)), errorBox(error, () => show(root, load, render)));
  }
}

function deliveryState(d) {
  if (d.state === "sent") return t("meeting.deliveries.sent", { date: formatDateTime(d.sent_at) });
  if (d.state === "failed") return t("meeting.deliveries.failed", { attempts: d.attempts, reason: d.last_error ?? "" });
  return t(`meeting.deliveries.${d.state}`);
}

/** The clerk's view of who got the e-mail of invitation or supplement `number`. */
async function deliveries(api, meetingId, number) {
  const box = el("div", { class: "deliveries" });
  try {
    const list = await api.get(`/api/v1/meetings/${encodeURIComponent(meetingId)}/invitations/${number}/deliveries`);
    box.append(el("h4", {}, t("meeting.deliveries")));
    if (!list.smtp_configured) box.append(el("p", { class: "notice" }, t("meeting.deliveries.notConfigured")));
    if (!list.data.length) {
      box.append(el("p", {}, t("meeting.deliveries.none")));
      return box;
    }
    box.append(el("table", { class: "deliveries-table" },
      el("thead", {}, el("tr", {},
        el("th", { scope: "col" }, t("meeting.deliveries.member")),
        el("th", { scope: "col" }, t("meeting.deliveries.address")),
        el("th", { scope: "col" }, t("meeting.deliveries.state")))),
      el("tbody", {}, ...list.data.map((d) => el("tr", { "data-state": d.state },
        el("td", {}, d.name ?? "–"), el("td", {}, d.recipient), el("td", {}, deliveryState(d)))))));
  } catch {
    return null; // members do not see deliveries
  }
  return box;
}

/**
 * "Einladung (PDF)" / "Nachtrag N (PDF)": the invitation or supplement `doc` (`kind`, `number`)
 * as the server renders it for this member (without the non-public part for those not entitled).
 */
export function invitationPdfButton(api, meetingId, doc) {
  const supplement = doc.kind === "supplement";
  const n = doc.number - 1;
  const label = supplement ? t("meeting.invitation.supplementPdf", { n }) : t("meeting.invitation.pdf");
  const name = supplement ? `Nachtrag ${n}.pdf` : "Einladung.pdf";
  return pdfButton(api, `/api/v1/meetings/${encodeURIComponent(meetingId)}/invitations/${doc.number}/pdf`,
    name, label, `invitation-pdf-${doc.number}`);
}

/** The issued invitation and supplements (members), with e-mail delivery for clerks. */
async function invitationsSection(api, meetingId, clerk) {
  let list;
  try {
    list = await api.get(`/api/v1/meetings/${encodeURIComponent(meetingId)}/invitations`);
  } catch {
    return null;
  }
  if (!list.data.length) return null;
  const section = el("section", { class: "block", "aria-labelledby": "invitations-title", "data-testid": "invitations" },
    el("h2", { id: "invitations-title", class: "block-title" }, t("meeting.invitations")));
  for (const doc of list.data) {
    const date = formatDateTime(doc.issued_at);
    const item = el("div", { class: "invitation-doc" },
      el("h3", {}, doc.kind === "supplement"
        ? t("meeting.invitation.supplement", { n: doc.number - 1, date })
        : t("meeting.invitation.invitation", { date })));
    if (doc.late_reason) item.append(el("p", {}, t("meeting.invitation.late", { reason: doc.late_reason })));
    const changes = doc.document?.changes;
    if (changes) {
      item.append(el("p", {}, t("meeting.invitation.changes", {
        added: changes.added.map((i) => `${i.number} ${i.title}`).join(", ") || "–",
        moved: changes.moved.map((m) => `${m.previous_number} → ${m.item.number}`).join(", ") || "–",
        withdrawn: changes.withdrawn.map((i) => `${i.number} ${i.title}`).join(", ") || "–",
      })));
    }
    item.append(el("p", {}, invitationPdfButton(api, meetingId, doc)));
    if (clerk) {
      const box = await deliveries(api, meetingId, doc.number);
      if (box) item.append(box);
    }
    section.append(item);
  }
  return section;
}

/**
 * The clerk's controls to issue the invitation (while the meeting is scheduled) or a supplement
 * (while it is invited). After the notice period the server answers `invitation-late` with the
 * deadline: the form then asks for the reason and sends again with it.
 */
function issueControls(api, meeting, reload) {
  const kind = meeting.state === "scheduled" ? "invite" : meeting.state === "invited" ? "supplements" : null;
  if (!kind) return null;
  const id = encodeURIComponent(meeting.id);
  const status = el("p", { role: "status", class: "notice", hidden: true, "data-testid": "issue-status" });
  const reason = el("textarea", { id: "late-reason", class: "input", rows: 3, maxlength: 2000, "aria-describedby": "late-hint" });
  const lateHint = el("p", { id: "late-hint", class: "field-hint" });
  const reasonField = el("div", { class: "field", hidden: true },
    lateHint, el("label", { for: "late-reason" }, t("meeting.issue.reason")), reason);
  const label = t(kind === "invite" ? "meeting.issue.invite" : "meeting.issue.supplement");
  const button = el("button", { type: "button", class: "button button-primary", "data-testid": "issue" }, label);
  button.addEventListener("click", async () => {
    const late = !reasonField.hidden;
    if (late && !reason.value.trim()) {
      reason.focus();
      return;
    }
    button.disabled = true;
    status.hidden = false;
    status.classList.remove("notice-error");
    status.textContent = t("meeting.issue.working");
    try {
      const { etag } = await api.versioned("GET", `/api/v1/meetings/${id}`);
      const body = late ? { late_reason: reason.value.trim() } : {};
      await api.versioned("POST", `/api/v1/meetings/${id}/${kind}`, { body, ifMatch: etag });
      await reload();
      // The screen is drawn anew: the issued document heads the list with its deliveries.
      document.querySelector('[data-testid="invitations"] .block-title')?.after(
        el("p", { role: "status", class: "notice", "data-testid": "issue-status" }, t("meeting.issue.done")));
    } catch (error) {
      if (error.kind === "invitation-late") {
        lateHint.textContent = t("meeting.issue.late", { date: formatDateTime(error.problem.deadline) });
        reasonField.hidden = false;
        button.textContent = t("meeting.issue.sendLate");
        status.hidden = true;
        reason.focus();
      } else {
        status.classList.add("notice-error");
        status.textContent = errorMessage(error);
      }
    } finally {
      button.disabled = false;
    }
  });
  return el("section", { class: "block issue-controls", "aria-labelledby": "issue-title", "data-testid": "issue-controls" },
    el("h2", { id: "issue-title", class: "block-title" }, t("meeting.issue.title")),
    el("p", { class: "field-hint" }, t(kind === "invite" ? "meeting.issue.inviteHint" : "meeting.issue.supplementHint")),
    reasonField, el("p", { class: "button-row" }, button), status);
}

export async function mount(root, params, ctx) {
  const { api } = ctx;
  await show(root, () => api.get(`/api/v1/meetings/${encodeURIComponent(params.id)}`),
    (meeting) => renderMeeting(meeting, api));
  // "Für offline speichern": the meeting with everything the member may read, on the device.
  let keep = null;
  if (root.querySelector("h1.page-title") && root.querySelector('[aria-labelledby="agenda-title"]')) {
    keep = keepBlock(params.id);
    const first = root.querySelector("section.block");
    if (first) first.before(keep);
    else root.append(keep);
  }
  // Notes beside each agenda item, loaded when the item is opened; for clerks the decision
  // editor too.
  const clerk = mayRecord(api.user());
  const agenda = root.querySelector('[aria-labelledby="agenda-title"]');
  if (agenda) {
    const invitations = await invitationsSection(api, params.id, clerk);
    if (invitations) agenda.before(invitations);
    if (clerk) {
      const meeting = await api.get(`/api/v1/meetings/${encodeURIComponent(params.id)}`).catch(() => null);
      const controls = meeting && issueControls(api, meeting, () => mount(root, params, ctx));
      if (controls) agenda.before(controls);
    }
  }
  for (const details of root.querySelectorAll("details.agenda-item")) {
    details.addEventListener("toggle", () => {
      if (!details.open || details.querySelector(".notes-panel")) return;
      const id = details.id.replace(/^item-/, "");
      const slot = details.querySelector(".decision-slot");
      if (clerk && slot) decisionEditor(api, id, slot);
      details.querySelector(".agenda-body")?.append(notesPanel(api, { agenda_item_id: id }));
    });
  }
  return () => keep?.dispose();
}

export async function mountPaper(root, params, ctx) {
  const { api } = ctx;
  await show(root, () => api.get(`/api/v1/papers/${encodeURIComponent(params.id)}`),
    (paper) => [...renderPaper(paper, api), notesPanel(api, { paper_id: paper.id })]);
}
