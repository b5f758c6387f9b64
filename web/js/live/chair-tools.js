// The chair console's safety tools: the quorum panel (standing, doubts, statements), a modal
// confirmation dialog (with an optional reason), the speaking-time clock and the agenda-item
// picker for new polls. Shared by the chair console, the member screen and the room display.

import { register, t } from "../i18n.js";
import { el } from "../ui.js";

register({
  de: {
    "quorum.title": "Beschlussfähigkeit",
    "quorum.count": "{present} von {statutory} anwesend, nötig {required}",
    "quorum.standing.quorate": "Beschlussfähig",
    "quorum.standing.presumed": "Gilt als beschlussfähig – zu wenige anwesend",
    "quorum.standing.undeclared": "Beschlussfähigkeit noch nicht festgestellt – zu wenige anwesend",
    "quorum.standing.doubted": "Beschlussfähigkeit angezweifelt – bitte feststellen",
    "quorum.standing.not_quorate": "Nicht beschlussfähig",
    "quorum.standing.waived": "Wiederholungssitzung: beschlussfähig ohne Rücksicht auf die Zahl ({law})",
    "quorum.declared": "Festgestellt um {time}: {what} ({count})",
    "quorum.declared.yes": "beschlussfähig",
    "quorum.declared.no": "nicht beschlussfähig",
    "quorum.doubt": "Angezweifelt von {name} um {time}",
    "quorum.declare.yes": "Beschlussfähigkeit feststellen",
    "quorum.declare.no": "Beschlussunfähigkeit feststellen",
    "quorum.doubt.action": "Beschlussfähigkeit anzweifeln",
    "quorum.doubt.confirm": "Sie zweifeln die Beschlussfähigkeit an. Die Sitzungsleitung muss sie dann vor der nächsten Abstimmung feststellen.",
    "quorum.doubt.yes": "Ja, anzweifeln",
    "quorum.doubt.sent": "Ihr Zweifel an der Beschlussfähigkeit ist vermerkt.",
    "quorum.poll.title": "Abstimmung ohne Beschlussfähigkeit?",
    "quorum.poll.text": "Nicht beschlussfähig: {count}. Die Abstimmung wird als „unter Beschlussfähigkeit“ vermerkt. Trotzdem öffnen?",
    "quorum.poll.declared": "Die Beschlussunfähigkeit wurde festgestellt ({count}). Die Abstimmung wird als „unter Beschlussfähigkeit“ vermerkt. Trotzdem öffnen?",
    "quorum.poll.yes": "Trotzdem öffnen",
    "quorum.mark": "Unter Beschlussfähigkeit abgestimmt",
    "dialog.cancel": "Zurück",
    "poll.discard.title": "Abstimmung verwerfen?",
    "poll.discard.text": "„{title}“ wird verworfen. Abgegebene Stimmen zählen nicht. Alle sehen den Grund.",
    "poll.discard.reason": "Grund (Pflicht)",
    "poll.discard.yes": "Verwerfen",
    "poll.discard.missing": "Bitte einen Grund angeben.",
    "poll.discarded": "Abstimmung verworfen: {title} – Grund: {reason}",
    "start.other.title": "Sitzung an einem anderen Tag eröffnen?",
    "start.other.text": "Die Sitzung ist für den {date} angesetzt, heute ist der {today}. Trotzdem eröffnen?",
    "start.other.yes": "Trotzdem eröffnen",
    "speaking.clock": "Redezeit {elapsed} von {limit}",
    "speaking.over": "Redezeit überschritten: {elapsed} von {limit}",
    "poll.item": "Tagesordnungspunkt",
    "poll.item.none": "Ohne Tagesordnungspunkt",
    "settings.title": "Sitzungseinstellungen",
    "settings.repeat": "Wiederholungssitzung (beschlussfähig ohne Rücksicht auf die Zahl)",
    "settings.speaking": "Redezeit je Beitrag (Minuten)",
    "settings.save": "Einstellungen speichern",
    "motion.title": "Anträge zur Geschäftsordnung",
    "motion.hint": "Ein Tipp legt die Abstimmung zum aktuellen Punkt an und öffnet sie (offen, einfache Mehrheit).",
    "motion.poll": "Antrag zur Geschäftsordnung: {name}",
    "motion.end_of_debate": "Schluss der Debatte",
    "motion.end_of_speakers_list": "Schluss der Rednerliste",
    "motion.adjournment": "Vertagung",
    "motion.referral_to_committee": "Verweisung in den Ausschuss",
    "motion.recess": "Unterbrechung der Sitzung",
    "live.error.quorum-not-reached": "Beschlussfähigkeit kann nicht festgestellt werden – zu wenige anwesend: {count}",
    "live.error.quorum-doubted": "Die Beschlussfähigkeit wurde angezweifelt. Bitte zuerst feststellen.",
    "live.error.quorum-not-met": "Nicht beschlussfähig: {count}",
    "live.error.reason-required": "Bitte einen Grund angeben.",
    "live.error.meeting-other-day": "Die Sitzung ist für einen anderen Tag angesetzt.",
    "live.error.amendment-out-of-order": "Erst über die Änderungsanträge in ihrer Reihenfolge abstimmen, über die Vorlage zuletzt.",
  },
  en: {
    "quorum.title": "Quorum",
    "quorum.count": "{present} of {statutory} present, {required} needed",
    "quorum.standing.quorate": "Quorate",
    "quorum.standing.presumed": "Presumed quorate – too few present",
    "quorum.standing.undeclared": "Quorum not yet established – too few present",
    "quorum.standing.doubted": "Quorum doubted – please state it",
    "quorum.standing.not_quorate": "Not quorate",
    "quorum.standing.waived": "Repeat meeting: quorate regardless of numbers ({law})",
    "quorum.declared": "Stated at {time}: {what} ({count})",
    "quorum.declared.yes": "quorate",
    "quorum.declared.no": "not quorate",
    "quorum.doubt": "Doubted by {name} at {time}",
    "quorum.declare.yes": "State: quorate",
    "quorum.declare.no": "State: not quorate",
    "quorum.doubt.action": "Doubt the quorum",
    "quorum.doubt.confirm": "You doubt the quorum. The chair must then state it before the next vote.",
    "quorum.doubt.yes": "Yes, doubt it",
    "quorum.doubt.sent": "Your doubt of the quorum is on record.",
    "quorum.poll.title": "Vote without a quorum?",
    "quorum.poll.text": "Not quorate: {count}. The vote will be marked as taken below quorum. Open it anyway?",
    "quorum.poll.declared": "The council was declared not quorate ({count}). The vote will be marked as taken below quorum. Open it anyway?",
    "quorum.poll.yes": "Open anyway",
    "quorum.mark": "Voted below quorum",
    "dialog.cancel": "Back",
    "poll.discard.title": "Discard the vote?",
    "poll.discard.text": "“{title}” will be discarded. Ballots cast do not count. Everyone sees the reason.",
    "poll.discard.reason": "Reason (required)",
    "poll.discard.yes": "Discard",
    "poll.discard.missing": "Please give a reason.",
    "poll.discarded": "Vote discarded: {title} – reason: {reason}",
    "start.other.title": "Open the meeting on another day?",
    "start.other.text": "The meeting is scheduled for {date}; today is {today}. Open it anyway?",
    "start.other.yes": "Open anyway",
    "speaking.clock": "Speaking time {elapsed} of {limit}",
    "speaking.over": "Speaking time exceeded: {elapsed} of {limit}",
    "poll.item": "Agenda item",
    "poll.item.none": "No agenda item",
    "settings.title": "Session settings",
    "settings.repeat": "Repeat meeting (quorate regardless of numbers)",
    "settings.speaking": "Speaking time per contribution (minutes)",
    "settings.save": "Save settings",
    "motion.title": "Procedural motions",
    "motion.hint": "One tap creates the vote on the current item and opens it (open vote, simple majority).",
    "motion.poll": "Procedural motion: {name}",
    "motion.end_of_debate": "End of debate",
    "motion.end_of_speakers_list": "Close the speakers list",
    "motion.adjournment": "Adjournment",
    "motion.referral_to_committee": "Referral to committee",
    "motion.recess": "Recess",
    "live.error.quorum-not-reached": "The quorum cannot be stated – too few present: {count}",
    "live.error.quorum-doubted": "The quorum was doubted. Please state it first.",
    "live.error.quorum-not-met": "Not quorate: {count}",
    "live.error.reason-required": "Please give a reason.",
    "live.error.meeting-other-day": "The meeting is scheduled for another day.",
    "live.error.amendment-out-of-order": "Vote on the amendments in their order first, on the proposal last.",
  },
});

/** "3 von 38 anwesend, nötig 20" from a quorum count. */
export function countText(q) {
  return t("quorum.count", { present: q?.present_voting ?? 0, statutory: q?.statutory ?? 0, required: q?.required ?? 0 });
}

function clock(at) {
  try {
    return new Date(at).toLocaleTimeString(document.documentElement.lang || "de", { hour: "2-digit", minute: "2-digit" });
  } catch {
    return "";
  }
}

/** One line: where the quorum stands, with the count. */
export function quorumLine(state, testid = "quorum") {
  const standing = state.quorum_standing ?? (state.quorum?.reached ? "quorate" : "presumed");
  const good = standing === "quorate" || standing === "waived";
  return el("p", {
    class: `live-quorum ${good ? "live-quorum-yes" : "live-quorum-no"}`, "data-testid": testid,
    text: `${t(`quorum.standing.${standing}`, { law: state.quorum_law?.repeat_meeting ?? "" })} · ${countText(state.quorum)}`,
  });
}

/** The quorum panel of the chair console: standing, the latest statement, open doubts. */
export function quorumPanel(state, button) {
  const parts = [
    el("h2", { id: "c-quorum", text: t("quorum.title") }),
    quorumLine(state, "quorum-standing"),
  ];
  for (const d of state.quorum_doubts ?? []) {
    parts.push(el("p", { class: "live-alert", role: "alert", "data-testid": "quorum-doubt", text: t("quorum.doubt", { name: d.name, time: clock(d.at) }) }));
  }
  const declared = state.quorum_declared;
  if (declared) {
    parts.push(el("p", { class: "live-note", text: t("quorum.declared", {
      time: clock(declared.at), what: t(declared.quorate ? "quorum.declared.yes" : "quorum.declared.no"), count: countText(declared.count),
    }) }));
  }
  const live = state.status === "running" || state.status === "paused";
  parts.push(el("div", { class: "live-actions" },
    button(t("quorum.declare.yes"), { type: "declare_quorum", quorate: true }, { cls: "live-btn-quiet", disabled: !live, testid: "declare-quorate" }),
    button(t("quorum.declare.no"), { type: "declare_quorum", quorate: false }, { cls: "live-btn-quiet", disabled: !live, testid: "declare-not-quorate" })));
  return parts;
}

let dialogCount = 0;

/**
 * A modal dialog that asks before something that cannot be undone. Resolves with
 * `{ ok: true, reason }` or `{ ok: false }`. With `reasonLabel`, a reason is required.
 */
export function confirmDialog({ title, text, confirmLabel, reasonLabel = null, testid = "confirm-dialog" }) {
  return new Promise((resolve) => {
    const n = ++dialogCount;
    const reason = reasonLabel
      ? el("textarea", { id: `dlg-reason-${n}`, class: "live-input", rows: "3", maxlength: "500", "aria-required": "true", "data-testid": "dialog-reason" })
      : null;
    const hint = el("p", { class: "live-error", role: "alert", hidden: true, text: t("poll.discard.missing") });
    const ok = el("button", { type: "submit", class: "button live-btn live-btn-warn", "data-testid": "dialog-confirm", text: confirmLabel });
    const back = el("button", { type: "button", class: "button live-btn live-btn-quiet", "data-testid": "dialog-cancel", text: t("dialog.cancel") });
    const form = el("form", { method: "dialog", class: "live-form" },
      el("h2", { id: `dlg-title-${n}`, text: title }),
      el("p", { id: `dlg-text-${n}`, text }),
      reason ? el("div", { class: "live-field" }, el("label", { for: `dlg-reason-${n}`, text: reasonLabel }), reason, hint) : null,
      el("div", { class: "live-actions" }, ok, back));
    const dialog = el("dialog", {
      class: "live-dialog", "data-testid": testid, "aria-labelledby": `dlg-title-${n}`, "aria-describedby": `dlg-text-${n}`,
    }, form);
    let done = false;
    const finish = (result) => {
      if (done) return;
      done = true;
      dialog.close();
      dialog.remove();
      resolve(result);
    };
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const given = reason ? reason.value.trim() : null;
      if (reason && !given) {
        hint.hidden = false;
        reason.focus();
        return;
      }
      finish({ ok: true, reason: given });
    });
    back.addEventListener("click", () => finish({ ok: false }));
    dialog.addEventListener("cancel", (e) => {
      e.preventDefault();
      finish({ ok: false });
    });
    document.body.append(dialog);
    dialog.showModal();
    (reason ?? back).focus();
  });
}

function mmss(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

/**
 * The speaking-time clock of the current speaker, computed from the event time (`started_at`)
 * and the server's clock as the snapshot gave it (`offset` ms: server minus client).
 */
export function speakingClock(state, offset, { large = false } = {}) {
  const s = state.current_speaker;
  if (!s?.started_at) return null;
  const limit = state.settings?.speaking_time_secs ?? 300;
  const elapsed = (Date.now() + offset - Date.parse(s.started_at)) / 1000;
  const over = elapsed > limit;
  return el("p", {
    class: `live-clock${over ? " live-clock-over" : ""}${large ? " display-clock" : ""}`, "data-testid": "speaking-clock",
    text: t(over ? "speaking.over" : "speaking.clock", { elapsed: mmss(elapsed), limit: mmss(limit) }),
  });
}

/** Server minus client clock, in ms, from a snapshot's `server_time` (0 if unknown). */
export function clockOffset(state) {
  const server = Date.parse(state?.server_time ?? "");
  return Number.isFinite(server) ? server - Date.now() : 0;
}

/** A select of the agenda items, the current one preselected. */
export function itemPicker(state, id, value) {
  const chosen = value === undefined ? (state.current_item ?? "") : value;
  return el("select", { id, class: "live-input", "data-testid": "poll-item" },
    el("option", { value: "", selected: chosen === "", text: t("poll.item.none") }),
    ...state.agenda.map((i) => el("option", { value: i.id, selected: i.id === chosen, text: `${i.number} ${i.title}` })));
}

/** The procedural motions the console offers as one-tap votes (`motion` on the poll). */
export const MOTIONS = ["end_of_debate", "end_of_speakers_list", "adjournment", "referral_to_committee", "recess"];

/** The poll title of a procedural motion. */
export function motionTitle(motion) {
  return t("motion.poll", { name: t(`motion.${motion}`) });
}

/** The line shown for a discarded poll (members and the room display). */
export function discardedText(p) {
  return t("poll.discarded", { title: p.title, reason: p.cancel_reason ?? "—" });
}

/** German date of an ISO time, e.g. "25.12.2026". */
export function dateText(at) {
  try {
    return new Date(at).toLocaleDateString(document.documentElement.lang || "de", { timeZone: "Europe/Berlin" });
  } catch {
    return String(at ?? "");
  }
}
