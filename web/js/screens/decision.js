// Decisions (Beschlüsse) on agenda items: the recorded decision as everyone who may see it reads
// it (kind, text, vote result with the named list), and the clerk's editor, prefilled from the
// live session's proposal (GET …/decision/proposal) and saved with the item's ETag
// (PUT/DELETE …/decision). A 412 keeps what the clerk typed and reloads the current state.

import { formatDate, formatNumber, register, t } from "../i18n.js";
import { el, errorBox, errorMessage, richText } from "../ui.js";

register({
  de: {
    "decision.title": "Beschluss",
    "decision.proposed": "Beschlussvorschlag",
    "decision.vote": "Abstimmungsergebnis",
    "decision.kind": "Ergebnis",
    "decision.text": "Beschlusstext",
    "decision.textHint": "Markdown. Vorbelegt aus dem Beschlussvorschlag bzw. dem Text der Vorlage.",
    "decision.referredTo": "Verwiesen an",
    "decision.referredToHint": "Zum Beispiel „Ausschuss für Finanzen“.",
    "decision.referredMissing": "Bitte angeben, an wen der Punkt verwiesen wird.",
    "decision.poll": "Abstimmung",
    "decision.noPoll": "ohne Abstimmung",
    "decision.noVote": "Keine geschlossene Abstimmung zu diesem Punkt.",
    "decision.record": "Beschluss festhalten",
    "decision.edit": "Beschluss bearbeiten",
    "decision.remove": "Beschluss entfernen",
    "decision.removeConfirm": "Den festgehaltenen Beschluss wirklich entfernen? Der Text bleibt am Tagesordnungspunkt.",
    "decision.cancel": "Abbrechen",
    "decision.saving": "Wird gespeichert …",
    "decision.saved": "Beschluss festgehalten.",
    "decision.removed": "Beschluss entfernt.",
    "decision.none": "Noch kein Beschluss festgehalten.",
    "decision.stale": "Jemand anderes hat diesen Tagesordnungspunkt inzwischen geändert. Der aktuelle Stand ist neu geladen; Ihre Eingaben sind erhalten. Bitte prüfen und erneut festhalten.",
    "decision.recordedAt": "festgehalten am {date}",
    "decision.rule.simple": "einfache Mehrheit",
    "decision.rule.absolute_statutory": "Mehrheit der gesetzlichen Mitgliederzahl",
    "decision.rule.two_thirds_cast": "Zweidrittelmehrheit der abgegebenen Stimmen",
    "decision.rule.two_thirds_statutory": "Zweidrittelmehrheit der gesetzlichen Mitgliederzahl",
    "decision.ruleLabel": "Mehrheit",
    "decision.turnout": "{voted} von {eligible} Stimmberechtigten haben abgestimmt",
    "decision.invalid": "ungültig",
    "decision.named": "Namentliche Abstimmung",
    "decision.notVoted": "Nicht abgestimmt",
    "decision.standsIn": "(Vertretung für {name})",
    "decision.elected": "Gewählt: {name}",
    "decision.byLot": "durch Los entschieden",
    "decision.candidates": "Stimmen je Kandidat",
    "kind.adopted": "angenommen",
    "kind.adopted_amended": "angenommen mit Änderungen",
    "kind.rejected": "abgelehnt",
    "kind.elected": "gewählt",
    "kind.postponed": "vertagt",
    "kind.referred": "verwiesen",
    "kind.noted": "zur Kenntnis genommen",
    "kind.withdrawn": "zurückgezogen",
    "kind.no_decision": "ohne Beschluss",
    "decision.pdf": "Beschlussauszug als PDF",
    "decision.announce": "Beschluss bekanntgeben",
    "decision.announceLead": "Der Beschluss wurde nichtöffentlich gefasst. Ist der Grund für die Geheimhaltung entfallen, wird er hier bekanntgegeben: Portal und OParl zeigen dann den Beschluss, seinen Text und das Abstimmungsergebnis (ohne namentliche Liste) unter dem hier angegebenen Titel – sonst nichts aus dem nichtöffentlichen Teil. Das lässt sich nicht zurücknehmen.",
    "decision.announceTitle": "Öffentlicher Titel",
    "decision.announceTitleHint": "Ohne personenbezogene Angaben; der interne Titel wird nicht veröffentlicht.",
    "decision.announceNote": "Vermerk (optional)",
    "decision.announceNoteHint": "Zum Beispiel „bekanntgegeben in der Sitzung am 12.03.2027“.",
    "decision.announceSubmit": "Jetzt bekanntgeben",
    "decision.announceMissing": "Bitte einen öffentlichen Titel angeben.",
    "decision.announced": "Bekanntgegeben am {date} als „{title}“.",
    "decision.announcedNow": "Beschluss bekanntgegeben.",
    "pdf.loading": "PDF wird erstellt …",
    "pdf.ready": "{name} öffnen",
  },
  en: {
    "decision.pdf": "Decision extract as PDF",
    "decision.announce": "Announce the decision",
    "decision.announceLead": "This decision was taken in a non-public session. Once the reason for secrecy has gone, announce it here: the portal and OParl then show the decision, its text and the vote result (without the named list) under the title given here – nothing else of the non-public part. This cannot be undone.",
    "decision.announceTitle": "Public title",
    "decision.announceTitleHint": "Without personal data; the internal title is not published.",
    "decision.announceNote": "Note (optional)",
    "decision.announceNoteHint": "For example “announced in the meeting of 12 March 2027”.",
    "decision.announceSubmit": "Announce now",
    "decision.announceMissing": "Please give a public title.",
    "decision.announced": "Announced on {date} as “{title}”.",
    "decision.announcedNow": "Decision announced.",
    "pdf.loading": "Creating the PDF …",
    "pdf.ready": "Open {name}",
    "decision.title": "Decision",
    "decision.proposed": "Proposed resolution",
    "decision.vote": "Vote result",
    "decision.kind": "Result",
    "decision.text": "Decision text",
    "decision.textHint": "Markdown. Prefilled from the proposed resolution or the paper's text.",
    "decision.referredTo": "Referred to",
    "decision.referredToHint": "For example “Finance committee”.",
    "decision.referredMissing": "Please say to whom the item is referred.",
    "decision.poll": "Vote",
    "decision.noPoll": "without a vote",
    "decision.noVote": "No closed vote on this item.",
    "decision.record": "Record the decision",
    "decision.edit": "Edit the decision",
    "decision.remove": "Remove the decision",
    "decision.removeConfirm": "Really remove the recorded decision? The text stays on the agenda item.",
    "decision.cancel": "Cancel",
    "decision.saving": "Saving …",
    "decision.saved": "Decision recorded.",
    "decision.removed": "Decision removed.",
    "decision.none": "No decision recorded yet.",
    "decision.stale": "Someone else changed this agenda item in the meantime. The current state has been reloaded; what you typed is kept. Please check and record again.",
    "decision.recordedAt": "recorded on {date}",
    "decision.rule.simple": "simple majority",
    "decision.rule.absolute_statutory": "majority of the statutory members",
    "decision.rule.two_thirds_cast": "two-thirds of the votes cast",
    "decision.rule.two_thirds_statutory": "two-thirds of the statutory members",
    "decision.ruleLabel": "Majority",
    "decision.turnout": "{voted} of {eligible} entitled to vote voted",
    "decision.invalid": "invalid",
    "decision.named": "Roll-call vote",
    "decision.notVoted": "Did not vote",
    "decision.standsIn": "(standing in for {name})",
    "decision.elected": "Elected: {name}",
    "decision.byLot": "decided by lot",
    "decision.candidates": "Votes per candidate",
    "kind.adopted": "adopted",
    "kind.adopted_amended": "adopted with amendments",
    "kind.rejected": "rejected",
    "kind.elected": "elected",
    "kind.postponed": "postponed",
    "kind.referred": "referred",
    "kind.noted": "noted",
    "kind.withdrawn": "withdrawn",
    "kind.no_decision": "no decision",
  },
});

export const KINDS = [
  "adopted", "adopted_amended", "rejected", "elected", "postponed", "referred", "noted",
  "withdrawn", "no_decision",
];

/** "angenommen" (the server's German label when the language is German). */
export function kindLabel(outcome) {
  const key = `kind.${outcome.kind}`;
  const text = t(key);
  return text === key ? outcome.label ?? outcome.kind : text;
}

function ruleLabel(rule) {
  const key = `decision.rule.${rule}`;
  const text = t(key);
  return text === key ? rule : text;
}

function choiceLabel(choice) {
  const key = `result.${choice}`;
  const text = t(key);
  return text === key ? choice : text;
}

let seq = 0;

/** The vote result of the record: totals, rule, turnout, and for named polls who voted how. */
export function voteView(vote) {
  const id = `vote-${++seq}`;
  const box = el("div", { class: "vote-record" });
  if (vote.title) box.append(el("p", { class: "result-title" }, vote.title));
  const totals = el("dl", { class: "vote-totals" },
    ...["yes", "no", "abstain"].map((key) => el("div", { class: `vote-total vote-${key}` },
      el("dt", {}, t(`result.${key}`)), el("dd", {}, formatNumber(vote[key] ?? 0)))));
  if (vote.invalid) {
    totals.append(el("div", { class: "vote-total" }, el("dt", {}, t("decision.invalid")), el("dd", {}, formatNumber(vote.invalid))));
  }
  box.append(totals);
  const facts = [];
  if (vote.rule) facts.push(`${t("decision.ruleLabel")}: ${ruleLabel(vote.rule)}`);
  if (vote.eligible) facts.push(t("decision.turnout", { voted: formatNumber(vote.voted ?? 0), eligible: formatNumber(vote.eligible) }));
  if (facts.length) box.append(el("p", { class: "vote-facts" }, facts.join(" · ")));
  if (vote.candidates?.length) {
    box.append(el("p", { class: "vote-group-title" }, t("decision.candidates")),
      el("ul", { class: "vote-names" }, ...vote.candidates.map((c) => el("li", {}, `${c.name}: ${formatNumber(c.votes)}`))));
  }
  if (vote.elected) {
    box.append(el("p", {}, el("strong", {}, t("decision.elected", { name: vote.elected })),
      vote.by_lot ? ` (${t("decision.byLot")})` : ""));
  }
  if (vote.named?.length || vote.not_voted?.length) {
    const groups = new Map();
    for (const n of vote.named ?? []) {
      if (!groups.has(n.choice)) groups.set(n.choice, []);
      groups.get(n.choice).push(n.stands_in_for ? `${n.name} ${t("decision.standsIn", { name: n.stands_in_for })}` : n.name);
    }
    const order = ["yes", "no", "abstain", ...[...groups.keys()].filter((k) => !["yes", "no", "abstain"].includes(k))];
    const named = el("div", { class: "vote-named", role: "group", "aria-labelledby": id },
      el("p", { class: "vote-group-title", id }, t("decision.named")));
    for (const choice of order) {
      const names = groups.get(choice);
      if (!names?.length) continue;
      named.append(el("p", { class: "vote-group" },
        el("strong", {}, `${choiceLabel(choice)} (${formatNumber(names.length)}): `), names.join(", ")));
    }
    if (vote.not_voted?.length) {
      named.append(el("p", { class: "vote-group" },
        el("strong", {}, `${t("decision.notVoted")} (${formatNumber(vote.not_voted.length)}): `),
        vote.not_voted.map((p) => (p.stands_in_for ? `${p.name} ${t("decision.standsIn", { name: p.stands_in_for })}` : p.name)).join(", ")));
    }
    box.append(named);
  }
  return box;
}

/**
 * The recorded decision of an item, read-only: "Beschluss: angenommen", the text, the vote.
 * `item` gives the text (`decision_html`/`decision`).
 */
export function decisionView(item, { heading = "h4" } = {}) {
  const outcome = item.outcome;
  const box = el("div", { class: "decision decision-recorded", "data-testid": "decision" });
  box.append(el(heading, {}, `${t("decision.title")}: `,
    el("strong", { class: `outcome outcome-${outcome.kind}` }, kindLabel(outcome)),
    outcome.referred_to ? ` – ${outcome.referred_to}` : ""));
  const text = decisionText(item);
  if (text) box.append(text);
  if (outcome.vote) {
    box.append(el(heading, { class: "vote-heading" }, t("decision.vote")), voteView(outcome.vote));
  }
  return box;
}

function decisionText(item) {
  if (!item.decision_html && !item.decision) return null;
  const text = el("div", { class: "rich" });
  if (item.decision_html) text.append(richText(item.decision_html));
  else text.textContent = item.decision;
  return text;
}

/** The decision block of an agenda item, for members and the public. */
export function decisionBlock(item) {
  if (item.outcome) return decisionView(item);
  const text = decisionText(item);
  if (!text) return null;
  return el("div", { class: "decision" }, el("h4", {}, t("decision.proposed")), text);
}

/** Whether the signed-in user may keep meetings (the server decides per organization). */
export function mayRecord(user) {
  return user?.site_role === "clerk" || user?.site_role === "admin";
}

/**
 * The clerk's panel for one agenda item: the recorded decision with edit and remove, or the
 * form prefilled from the proposal. Replaces `slot`'s content; non-clerks of this item's
 * organization (403) keep the read-only view.
 */
/**
 * A button that fetches a PDF the server renders (with the bearer token) and offers it as a
 * download named `name`; the status line says what happens and keeps a link if the browser
 * blocks the download. `url` and `name` may be functions, read at the click.
 */
export function pdfButton(api, url, name, label, testid) {
  const status = el("span", { class: "file-status", role: "status" });
  const button = el("button", { type: "button", class: "button button-secondary", "data-testid": testid }, label);
  button.addEventListener("click", async () => {
    button.disabled = true;
    status.classList.remove("file-error");
    status.textContent = t("pdf.loading");
    try {
      const source = typeof url === "function" ? url() : url;
      const file = typeof name === "function" ? name() : name;
      const blob = await api.fileBlob(source);
      const href = URL.createObjectURL(blob.type ? blob : new Blob([blob], { type: "application/pdf" }));
      const link = el("a", { href, download: file, class: "file-ready", "data-testid": `${testid}-link` }, t("pdf.ready", { name: file }));
      status.replaceChildren(link);
      link.click();
    } catch (error) {
      status.classList.add("file-error");
      status.textContent = errorMessage(error);
    } finally {
      button.disabled = false;
    }
  });
  return el("span", { class: "pdf-action" }, button, status);
}

export async function decisionEditor(api, itemId, slot) {
  const base = `/api/v1/agenda-items/${encodeURIComponent(itemId)}`;
  const panel = el("section", { class: "decision-editor", "aria-label": t("decision.title"), "data-testid": "decision-editor" });
  const status = el("p", { class: "decision-status", role: "status" });
  let item;
  let etag;
  let proposal;
  let draft = null; // what the clerk typed, kept over a reload

  async function load() {
    const [detail, prop] = await Promise.all([
      api.versioned("GET", base),
      api.get(`${base}/decision/proposal`),
    ]);
    item = detail.data;
    etag = detail.etag;
    proposal = prop;
  }

  try {
    await load();
  } catch (error) {
    if (error?.status === 403) return; // not a clerk of this body: the read-only view stays
    slot.replaceChildren(errorBox(error, () => decisionEditor(api, itemId, slot)));
    return;
  }
  slot.replaceChildren(panel);

  function showRecorded(message = "") {
    const edit = el("button", { type: "button", class: "button button-secondary", "data-testid": "decision-edit" }, t("decision.edit"));
    const remove = el("button", { type: "button", class: "button button-secondary", "data-testid": "decision-remove" }, t("decision.remove"));
    edit.addEventListener("click", () => showForm({ focus: true }));
    remove.addEventListener("click", async () => {
      if (!window.confirm(t("decision.removeConfirm"))) return;
      remove.disabled = true;
      try {
        const answer = await api.versioned("DELETE", `${base}/decision`, { ifMatch: etag });
        item = answer.data;
        etag = answer.etag;
        proposal = await api.get(`${base}/decision/proposal`);
        showForm({ message: t("decision.removed") });
      } catch (error) {
        remove.disabled = false;
        if (error?.status === 412) {
          await reload();
          showCurrent(t("decision.stale"));
        } else {
          status.textContent = errorMessage(error);
        }
      }
    });
    const stale = message === t("decision.stale");
    status.textContent = stale ? "" : message;
    panel.replaceChildren(
      ...(stale ? [el("p", { class: "notice notice-error", role: "alert", "data-testid": "decision-stale" }, message)] : []),
      decisionView(item), el("p", { class: "button-row" }, edit, remove,
        pdfButton(api, `${base}/decision/extract.pdf`, `Beschlussauszug ${item.number}.pdf`, t("decision.pdf"), "decision-pdf")),
      ...announcementPart(),
      status);
  }

  // A non-public item's decision: announced (Bekanntgabe), or the button that announces it.
  function announcementPart() {
    if (item.public) return [];
    if (item.announcement) {
      return [el("p", { class: "field-hint", "data-testid": "decision-announced" },
        t("decision.announced", { date: formatDate(item.announcement.announced_at), title: item.announcement.title }))];
    }
    const open = el("button", { type: "button", class: "button button-secondary", "data-testid": "decision-announce" }, t("decision.announce"));
    const slot = el("div", {});
    open.addEventListener("click", () => {
      open.hidden = true;
      slot.replaceChildren(announceForm(() => {
        open.hidden = false;
        slot.replaceChildren();
      }));
    });
    return [el("p", { class: "button-row" }, open), slot];
  }

  function announceForm(cancel) {
    const n = ++seq;
    const title = el("input", {
      class: "input", id: `announce-title-${n}`, name: "title", autocomplete: "off", maxlength: "300",
      required: true, "aria-describedby": `announce-title-hint-${n}`,
    });
    const note = el("input", {
      class: "input", id: `announce-note-${n}`, name: "note", autocomplete: "off", maxlength: "500",
      "aria-describedby": `announce-note-hint-${n}`,
    });
    const errorSlot = el("div", { role: "alert" });
    const submit = el("button", { type: "submit", class: "button button-primary", "data-testid": "announce-submit" }, t("decision.announceSubmit"));
    const back = el("button", { type: "button", class: "button button-secondary", onclick: cancel }, t("decision.cancel"));
    const form = el("form", { class: "decision-form announce-form", novalidate: true, "data-testid": "announce-form" },
      el("h5", {}, t("decision.announce")),
      el("p", { class: "field-hint" }, t("decision.announceLead")),
      el("div", { class: "field" }, el("label", { for: title.id }, t("decision.announceTitle")), title,
        el("p", { class: "field-hint", id: `announce-title-hint-${n}` }, t("decision.announceTitleHint"))),
      el("div", { class: "field" }, el("label", { for: note.id }, t("decision.announceNote")), note,
        el("p", { class: "field-hint", id: `announce-note-hint-${n}` }, t("decision.announceNoteHint"))),
      errorSlot, el("p", { class: "button-row" }, submit, back));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      errorSlot.replaceChildren();
      title.removeAttribute("aria-invalid");
      if (title.value.trim() === "") {
        title.setAttribute("aria-invalid", "true");
        errorSlot.replaceChildren(el("p", { class: "notice notice-error form-error" }, t("decision.announceMissing")));
        title.focus();
        return;
      }
      submit.disabled = true;
      const body = { title: title.value };
      if (note.value.trim() !== "") body.note = note.value;
      try {
        const answer = await api.versioned("POST", `${base}/announcement`, { body, ifMatch: etag });
        item = answer.data;
        etag = answer.etag;
        showRecorded(t("decision.announcedNow"));
      } catch (error) {
        submit.disabled = false;
        if (error?.status === 412) {
          await reload();
          showRecorded(t("decision.stale"));
          return;
        }
        const detail = error?.problem?.detail;
        errorSlot.replaceChildren(el("p", { class: "notice notice-error form-error" },
          detail ? `${errorMessage(error)} ${detail}` : errorMessage(error)));
      }
    });
    queueMicrotask(() => title.focus());
    return form;
  }

  function showCurrent(message) {
    if (item.outcome && !draft) showRecorded(message);
    else showForm({ message, focus: false });
  }

  async function reload() {
    try {
      await load();
    } catch (error) {
      status.textContent = errorMessage(error);
    }
  }

  function showForm({ message = "", focus = false } = {}) {
    const recorded = item.outcome;
    const n = ++seq;
    const kind = el("select", { class: "input", id: `decision-kind-${n}`, name: "kind" },
      ...KINDS.map((k) => el("option", { value: k }, t(`kind.${k}`))));
    kind.value = draft?.kind ?? recorded?.kind ?? proposal.kind ?? "no_decision";
    const referred = el("input", {
      class: "input", id: `decision-referred-${n}`, name: "referred_to", autocomplete: "off",
      maxlength: "200", "aria-describedby": `decision-referred-hint-${n}`,
    });
    referred.value = draft?.referred_to ?? recorded?.referred_to ?? "";
    const referredField = el("div", { class: "field" },
      el("label", { for: referred.id }, t("decision.referredTo")), referred,
      el("p", { class: "field-hint", id: `decision-referred-hint-${n}` }, t("decision.referredToHint")));
    const text = el("textarea", {
      class: "input textarea", id: `decision-text-${n}`, name: "text", rows: "6",
      "aria-describedby": `decision-text-hint-${n}`,
    });
    text.value = draft?.text ?? (recorded ? item.decision ?? "" : proposal.text ?? item.decision ?? "");
    // The vote: the standing poll by default; another closed poll or none by choice.
    const polls = proposal.polls ?? [];
    const poll = el("select", { class: "input", id: `decision-poll-${n}`, name: "poll" },
      el("option", { value: "" }, t("decision.noPoll")),
      ...polls.map((p) => el("option", { value: p.id }, p.title)));
    poll.value = draft?.poll ?? recorded?.vote?.poll ?? proposal.vote?.poll ?? "";
    const vote = el("div", { class: "decision-vote", "aria-live": "polite" });
    const showVote = () => {
      const chosen = poll.value;
      const record = chosen && recorded?.vote?.poll === chosen ? recorded.vote
        : chosen && proposal.vote?.poll === chosen ? proposal.vote : null;
      if (record) vote.replaceChildren(voteView(record));
      else if (chosen) vote.replaceChildren(el("p", { class: "field-hint" }, polls.find((p) => p.id === chosen)?.title ?? ""));
      else vote.replaceChildren(el("p", { class: "field-hint" }, polls.length ? t("decision.noPoll") : t("decision.noVote")));
    };
    const syncReferral = () => {
      referredField.hidden = kind.value !== "referred";
    };
    kind.addEventListener("change", syncReferral);
    poll.addEventListener("change", showVote);
    syncReferral();
    showVote();
    const keep = () => {
      draft = { kind: kind.value, referred_to: referred.value, text: text.value, poll: poll.value };
    };
    const submit = el("button", { type: "submit", class: "button button-primary", "data-testid": "decision-save" }, t("decision.record"));
    const actions = el("p", { class: "button-row" }, submit);
    if (recorded) {
      actions.append(el("button", {
        type: "button", class: "button button-secondary",
        onclick: () => {
          draft = null;
          showRecorded();
        },
      }, t("decision.cancel")));
    }
    const errorSlot = el("div", { role: "alert" });
    kind.addEventListener("change", () => {
      errorSlot.replaceChildren();
      referred.removeAttribute("aria-invalid");
    });
    const form = el("form", { class: "decision-form", novalidate: true },
      el("div", { class: "field" }, el("label", { for: kind.id }, t("decision.kind")), kind),
      referredField,
      el("div", { class: "field" }, el("label", { for: text.id }, t("decision.text")), text,
        el("p", { class: "field-hint", id: `decision-text-hint-${n}` }, t("decision.textHint"))),
      el("div", { class: "field" }, el("label", { for: poll.id }, t("decision.poll")), poll),
      el("div", { class: "decision-vote-wrap" }, el("p", { class: "vote-group-title" }, t("decision.vote")), vote),
      errorSlot, actions);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      keep();
      errorSlot.replaceChildren();
      referred.removeAttribute("aria-invalid");
      if (kind.value === "referred" && referred.value.trim() === "") {
        referred.setAttribute("aria-invalid", "true");
        errorSlot.replaceChildren(el("p", { class: "notice notice-error form-error" }, t("decision.referredMissing")));
        referred.focus();
        return;
      }
      submit.disabled = true;
      status.textContent = t("decision.saving");
      const body = {
        kind: kind.value,
        text: text.value.trim() === "" ? null : text.value,
        poll: poll.value || null,
      };
      if (kind.value === "referred") body.referred_to = referred.value;
      try {
        const answer = await api.versioned("PUT", `${base}/decision`, { body, ifMatch: etag });
        item = answer.data;
        etag = answer.etag;
        draft = null;
        proposal = await api.get(`${base}/decision/proposal`).catch(() => proposal);
        showRecorded(t("decision.saved"));
        panel.querySelector("[data-testid=decision-edit]")?.focus();
      } catch (error) {
        submit.disabled = false;
        status.textContent = "";
        if (error?.status === 412) {
          await reload();
          showForm({ message: t("decision.stale"), focus: true });
          return;
        }
        const detail = error?.problem?.detail;
        errorSlot.replaceChildren(el("p", { class: "notice notice-error form-error" },
          detail ? `${errorMessage(error)} ${detail}` : errorMessage(error)));
      }
    });
    status.textContent = message;
    const children = [];
    if (message === t("decision.stale")) {
      children.push(el("p", { class: "notice notice-error", role: "alert", "data-testid": "decision-stale" }, message));
      status.textContent = "";
    } else if (!recorded) {
      children.push(el("p", { class: "field-hint" }, t("decision.none")));
    }
    panel.replaceChildren(el("h4", {}, t("decision.title")), ...children, form, status);
    if (focus) kind.focus();
  }

  if (item.outcome) showRecorded();
  else showForm();
}

/**
 * Where a paper stands in one consultation: "Ergebnis: angenommen am 12. Dezember 2026" (the
 * body is named above it), from the decision recorded on the consultation's agenda item.
 */
export function consultationStanding(consultation) {
  const outcome = consultation.agenda_item?.outcome;
  if (!outcome) return null;
  const kind = outcome.referred_to ? `${kindLabel(outcome)} (${outcome.referred_to})` : kindLabel(outcome);
  const date = consultation.meeting?.start ? formatDate(consultation.meeting.start) : null;
  return date ? t("decision.standing", { kind, date }) : t("decision.standingUndated", { kind });
}

register({
  de: { "decision.standing": "Ergebnis: {kind} am {date}", "decision.standingUndated": "Ergebnis: {kind}" },
  en: { "decision.standing": "Result: {kind} on {date}", "decision.standingUndated": "Result: {kind}" },
});
