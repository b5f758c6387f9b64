// Pieces the three live screens share: strings, the connection indicator, result bars and a
// section renderer that only rebuilds what changed (so focus and scroll stay put).

import { register, t } from "../i18n.js";
import { el, svg } from "../ui.js";
import { Status } from "./socket.js";
import { countText } from "./chair-tools.js";

/** Problems of the chair's console with their own wording (see chair-tools.js). */
const CHAIR_ERRORS = ["quorum-not-reached", "quorum-doubted", "quorum-not-met", "reason-required", "meeting-other-day", "amendment-out-of-order"];

register({
  de: {
    "live.conn.connecting": "Verbinde …",
    "live.conn.online": "Verbunden",
    "live.conn.reconnecting": "Verbindung unterbrochen – neuer Versuch …",
    "live.conn.offline": "Offline – keine Verbindung",
    "live.conn.failed": "Keine Verbindung möglich",
    "live.status.not_started": "Die Sitzung hat noch nicht begonnen",
    "live.status.running": "Sitzung läuft",
    "live.status.paused": "Sitzung unterbrochen",
    "live.status.closed": "Sitzung geschlossen",
    "live.item.none": "Kein Tagesordnungspunkt aufgerufen",
    "live.item.nonpublic": "Nichtöffentlicher Teil",
    "live.item.current": "Aktueller Tagesordnungspunkt",
    "live.speaker.current": "Es spricht",
    "live.speaker.none": "Niemand spricht gerade",
    "live.speaker.poo": "zur Geschäftsordnung",
    "live.poll.kind.open": "Offene Abstimmung",
    "live.poll.kind.named": "Namentliche Abstimmung",
    "live.rollcall.title": "Namentliche Abstimmung – wer wie gestimmt hat",
    "live.rollcall.none": "ohne Fraktion",
    "live.rollcall.not_voted": "nicht abgestimmt",
    "live.rollcall.mark.yes": "JA",
    "live.rollcall.mark.no": "NEIN",
    "live.rollcall.mark.abstain": "ENTH.",
    "live.rollcall.mark.none": "—",
    "live.rollcall.summary": "{yes} Ja · {no} Nein · {abstain} Enthaltung · {none} nicht abgestimmt (—)",
    "live.ineligible.arrived_late": "Sie sind erst nach Beginn der Abstimmung eingetroffen. Wer stimmberechtigt ist, steht beim Öffnen der Abstimmung fest.",
    "live.ineligible.absent": "Sie waren beim Öffnen der Abstimmung nicht anwesend.",
    "live.ineligible.conflicted": "Sie haben sich für diesen Punkt als befangen erklärt.",
    "live.ineligible.advisory": "Als beratendes Mitglied haben Sie kein Stimmrecht.",
    "live.ineligible.no_voting_right": "Ihre Mitgliedschaft hat kein Stimmrecht.",
    "live.ineligible.short.arrived_late": "nach Öffnen eingetroffen",
    "live.ineligible.short.absent": "abwesend",
    "live.ineligible.short.conflicted": "befangen",
    "live.ineligible.short.advisory": "beratendes Mitglied",
    "live.ineligible.short.no_voting_right": "ohne Stimmrecht",
    "live.ineligible.not_standing_in": "Als stellvertretendes Mitglied stimmen Sie nur ab, wenn Sie ein abwesendes Mitglied vertreten. Die Sitzungsleitung trägt die Vertretung ein.",
    "live.ineligible.stand_in_active": "Beim Öffnen dieser Abstimmung wurden Sie vertreten (Vertretung aktiv): Ihre Vertretung stimmt hier ab. Ab der nächsten Abstimmung stimmen Sie wieder selbst.",
    "live.ineligible.remote": "Sie waren beim Öffnen dieser Wahl online zugeschaltet. An Wahlen nehmen nach den Regeln dieses Landes nur die im Saal Anwesenden teil.",
    "live.ineligible.short.not_standing_in": "stellv. Mitglied ohne Vertretung",
    "live.ineligible.short.stand_in_active": "wird vertreten",
    "live.ineligible.short.remote": "online, keine Wahl",
    "live.rollcall.stands_in": "(Vertretung für {name})",

    "live.poll.kind.secret": "Geheime Abstimmung",
    "live.poll.kind.election": "Wahl",
    "live.poll.kind.manual": "Abstimmung per Handzeichen",
    "live.poll.state.draft": "Vorbereitet",
    "live.poll.state.open": "Abstimmung läuft",
    "live.poll.state.closed": "Abstimmung beendet",
    "live.poll.state.cancelled": "Abgebrochen",
    "live.poll.progress": "{voted} von {eligible} haben abgestimmt",
    "live.choice.yes": "Ja",
    "live.choice.no": "Nein",
    "live.choice.abstain": "Enthaltung",
    "live.choice.invalid": "Ungültig",
    "live.outcome.adopted": "Angenommen",
    "live.outcome.rejected": "Abgelehnt",
    "live.outcome.elected": "Gewählt: {name}",
    "live.outcome.runoff": "Stichwahl: {a} und {b}",
    "live.outcome.tie": "Stimmengleichheit – das Los entscheidet",
    "live.outcome.lot": "Durch Los entschieden: {name}",
    "live.outcome.none_elected": "Niemand gewählt",
    "live.result.title": "Ergebnis",
    "live.result.votes": "{n} Stimmen",
    "live.result.bars": "Ergebnis als Balkendiagramm",
    "live.rule.simple": "Einfache Mehrheit",
    "live.rule.absolute_statutory": "Mehrheit der gesetzlichen Mitglieder",
    "live.rule.two_thirds_cast": "Zwei Drittel der abgegebenen Stimmen",
    "live.rule.two_thirds_statutory": "Zwei Drittel der gesetzlichen Mitglieder",
    "live.quorum.yes": "Beschlussfähig: {present} von {statutory} anwesend (nötig: {required})",
    "live.quorum.no": "Nicht beschlussfähig: {present} von {statutory} anwesend (nötig: {required})",
    "live.attendance.present": "Anwesend im Saal",
    "live.attendance.remote": "Online zugeschaltet",
    "live.attendance.absent": "Abwesend",
    "live.attendance.excused": "Entschuldigt",
    "live.attendance.left_early": "Vorzeitig gegangen",
    "live.attendance.unknown": "Nicht eingecheckt",
    "live.error.generic": "Das hat nicht geklappt: {title}",
    "live.error.ballots-lost": "Die Stimmzettel dieser geheimen Abstimmung sind verloren: Der Server wurde während der Abstimmung neu gestartet. Bitte die Abstimmung abbrechen und wiederholen.",
  },
  en: {
    "live.conn.connecting": "Connecting …",
    "live.conn.online": "Connected",
    "live.conn.reconnecting": "Connection lost – trying again …",
    "live.conn.offline": "Offline – no connection",
    "live.conn.failed": "Cannot connect",
    "live.status.not_started": "The meeting has not started yet",
    "live.status.running": "Meeting in progress",
    "live.status.paused": "Meeting paused",
    "live.status.closed": "Meeting closed",
    "live.item.none": "No agenda item called",
    "live.item.nonpublic": "Closed session",
    "live.item.current": "Current agenda item",
    "live.speaker.current": "Speaking",
    "live.speaker.none": "Nobody is speaking",
    "live.speaker.poo": "point of order",
    "live.poll.kind.open": "Open vote",
    "live.poll.kind.named": "Roll-call vote",
    "live.rollcall.title": "Roll-call vote – who voted how",
    "live.rollcall.none": "no fraction",
    "live.rollcall.not_voted": "did not vote",
    "live.rollcall.mark.yes": "YES",
    "live.rollcall.mark.no": "NO",
    "live.rollcall.mark.abstain": "ABST.",
    "live.rollcall.mark.none": "—",
    "live.rollcall.summary": "{yes} yes · {no} no · {abstain} abstained · {none} did not vote (—)",
    "live.ineligible.arrived_late": "You arrived after the poll opened. Who may vote is fixed when a poll opens.",
    "live.ineligible.absent": "You were not present when the poll opened.",
    "live.ineligible.conflicted": "You declared a conflict of interest for this item.",
    "live.ineligible.advisory": "As an advisory member you have no vote.",
    "live.ineligible.no_voting_right": "Your membership carries no voting right.",
    "live.ineligible.short.arrived_late": "arrived after opening",
    "live.ineligible.short.absent": "absent",
    "live.ineligible.short.conflicted": "conflict of interest",
    "live.ineligible.short.advisory": "advisory member",
    "live.ineligible.short.no_voting_right": "no voting right",
    "live.ineligible.not_standing_in": "As a substitute member you vote only while standing in for an absent member. The chair records the stand-in.",
    "live.ineligible.stand_in_active": "You were represented when this poll opened (stand-in active): your substitute votes here. From the next poll on you vote yourself.",
    "live.ineligible.remote": "You took part online when this election opened. Under this state's rules, only members in the room vote in elections.",
    "live.ineligible.short.not_standing_in": "substitute, not standing in",
    "live.ineligible.short.stand_in_active": "represented",
    "live.ineligible.short.remote": "online, no election",
    "live.rollcall.stands_in": "(standing in for {name})",

    "live.poll.kind.secret": "Secret ballot",
    "live.poll.kind.election": "Election",
    "live.poll.kind.manual": "Vote by show of hands",
    "live.poll.state.draft": "Prepared",
    "live.poll.state.open": "Voting open",
    "live.poll.state.closed": "Voting closed",
    "live.poll.state.cancelled": "Cancelled",
    "live.poll.progress": "{voted} of {eligible} have voted",
    "live.choice.yes": "Yes",
    "live.choice.no": "No",
    "live.choice.abstain": "Abstain",
    "live.choice.invalid": "Invalid",
    "live.outcome.adopted": "Adopted",
    "live.outcome.rejected": "Rejected",
    "live.outcome.elected": "Elected: {name}",
    "live.outcome.runoff": "Runoff: {a} and {b}",
    "live.outcome.tie": "Tie – to be decided by lot",
    "live.outcome.lot": "Decided by lot: {name}",
    "live.outcome.none_elected": "Nobody elected",
    "live.result.title": "Result",
    "live.result.votes": "{n} votes",
    "live.result.bars": "Result as a bar chart",
    "live.rule.simple": "Simple majority",
    "live.rule.absolute_statutory": "Majority of the statutory members",
    "live.rule.two_thirds_cast": "Two thirds of the votes cast",
    "live.rule.two_thirds_statutory": "Two thirds of the statutory members",
    "live.quorum.yes": "Quorum reached: {present} of {statutory} present (needed: {required})",
    "live.quorum.no": "No quorum: {present} of {statutory} present (needed: {required})",
    "live.attendance.present": "Present in the room",
    "live.attendance.remote": "Joined online",
    "live.attendance.absent": "Absent",
    "live.attendance.excused": "Excused",
    "live.attendance.left_early": "Left early",
    "live.attendance.unknown": "Not checked in",
    "live.error.generic": "That did not work: {title}",
    "live.error.ballots-lost": "The ballots of this secret poll are lost: the server restarted during the poll. Please cancel the poll and vote again.",
  },
});

/** Loads web/live.css once (a <link>, which the CSP allows). */
export function useLiveStyles() {
  if (document.querySelector('link[data-live-css]')) return;
  const link = el("link", { rel: "stylesheet", href: "live.css", "data-live-css": "1" });
  document.head.append(link);
}

/** The connection indicator: a live region announcing changes. */
export function connectionIndicator(session) {
  const status = session.status;
  const cls = status === Status.ONLINE ? "ok" : status === Status.CONNECTING ? "wait" : "bad";
  return el(
    "p",
    { class: `live-conn live-conn-${cls}`, "data-status": status },
    el("span", { class: "live-conn-dot", "aria-hidden": "true" }),
    el("span", { text: t(`live.conn.${status}`) }),
  );
}

/**
 * A section that is rebuilt only when `key` changes. Returns `update(key, build)`, where `build()`
 * returns the new children.
 */
export function section(container) {
  let last;
  return (key, build) => {
    const k = typeof key === "string" ? key : JSON.stringify(key);
    if (k === last) return;
    last = k;
    container.replaceChildren(...[build()].flat().filter(Boolean));
  };
}

export function itemLabel(state, id) {
  const item = state?.agenda.find((i) => i.id === id);
  return item ? `${item.number} ${item.title}` : "";
}

/** One row per answer: [label, count, class]. */
function rows(poll) {
  const r = poll.result;
  if (!r) return [];
  if (r.election) {
    const e = r.election;
    return [
      ...poll.options.map((name, i) => [name, e.candidates[i] ?? 0, "cand"]),
      [t("live.choice.no"), e.no, "no"],
      [t("live.choice.abstain"), e.abstain, "abstain"],
      ...(e.invalid ? [[t("live.choice.invalid"), e.invalid, "invalid"]] : []),
    ];
  }
  const tally = r.tally ?? { yes: 0, no: 0, abstain: 0, invalid: 0 };
  return [
    [t("live.choice.yes"), tally.yes, "yes"],
    [t("live.choice.no"), tally.no, "no"],
    [t("live.choice.abstain"), tally.abstain, "abstain"],
    ...(tally.invalid ? [[t("live.choice.invalid"), tally.invalid, "invalid"]] : []),
  ];
}

/** "Angenommen", "Gewählt: …", … */
export function outcomeText(poll) {
  const r = poll.result;
  if (!r) return "";
  const name = (i) => poll.options[i] ?? `#${i + 1}`;
  if (r.lot) return t("live.outcome.lot", { name: name(r.lot.winner) });
  if (r.outcome) return t(`live.outcome.${r.outcome}`);
  const e = r.election_outcome;
  if (e && typeof e === "object") {
    if ("elected" in e) return t("live.outcome.elected", { name: name(e.elected) });
    if ("runoff" in e) return t("live.outcome.runoff", { a: name(e.runoff[0]), b: name(e.runoff[1]) });
    return t("live.outcome.tie");
  }
  if (e === "none_elected") return t("live.outcome.none_elected");
  return "";
}

/** The result of a closed poll: the outcome and one SVG bar per answer. */
export function resultView(poll, { large = false } = {}) {
  const list = rows(poll);
  const max = Math.max(1, ...list.map(([, n]) => n));
  const outcome = outcomeText(poll);
  const accepted = poll.result?.outcome === "adopted" || (poll.result?.election_outcome && "elected" in poll.result.election_outcome);
  const table = el(
    "ul",
    { class: large ? "live-bars live-bars-large" : "live-bars", "aria-label": t("live.result.bars") },
    ...list.map(([label, n, cls]) =>
      el(
        "li",
        { class: `live-bar live-bar-${cls}` },
        el("span", { class: "live-bar-label", text: label }),
        svg(
          "svg",
          { class: "live-bar-svg", viewBox: "0 0 100 10", preserveAspectRatio: "none", "aria-hidden": "true", focusable: "false" },
          svg("rect", { x: 0, y: 0, width: 100, height: 10, class: "live-bar-track" }),
          svg("rect", { x: 0, y: 0, width: Math.round((n / max) * 1000) / 10, height: 10, class: "live-bar-fill" }),
        ),
        el("span", { class: "live-bar-count", text: String(n) }),
      ),
    ),
  );
  return el(
    "div",
    { class: "live-result" },
    outcome
      ? el("p", { class: `live-outcome ${accepted ? "live-outcome-yes" : "live-outcome-no"}`, role: "status", text: outcome })
      : null,
    table,
  );
}

/**
 * The roll call of a closed named poll (`poll.roll_call`): one block per fraction, one row per
 * member with the choice as a word and a mark (JA / NEIN / ENTH. / –), so it reads without
 * colour. `large` is the room display's size.
 */
export function rollCallView(poll, { large = false } = {}) {
  const call = poll.roll_call;
  if (!call) return null;
  const count = { yes: 0, no: 0, abstain: 0, none: 0 };
  for (const g of call.groups) for (const l of g.lines) count[l.choice ?? "none"] += 1;
  return el(
    "section",
    { class: large ? "live-rollcall live-rollcall-large" : "live-rollcall", "aria-label": t("live.rollcall.title"), "data-testid": "roll-call" },
    el(large ? "h2" : "h3", { text: t("live.rollcall.title") }),
    el("p", { class: "live-rollcall-summary", text: t("live.rollcall.summary", count) }),
    el(
      "div",
      { class: "live-rollcall-groups" },
      ...call.groups.map((g) =>
        el(
          "div",
          { class: "live-rollcall-group" },
          el(large ? "h3" : "h4", { text: g.fraction ?? t("live.rollcall.none") }),
          el(
            "ul",
            {},
            ...g.lines.map((l) => {
              const choice = l.choice ?? "none";
              return el(
                "li",
                { class: `live-rollcall-line live-rollcall-${choice}`, "data-choice": choice },
                el("span", { class: "live-rollcall-mark", "aria-hidden": "true", text: t(`live.rollcall.mark.${choice}`) }),
                el("span", { class: "live-rollcall-name" }, l.name,
                  l.stands_in_for ? el("span", { class: "live-rollcall-standin", "data-testid": "rollcall-standin", text: ` ${t("live.rollcall.stands_in", { name: l.stands_in_for })}` }) : null),
                el("span", { class: "live-rollcall-choice", text: choice === "none" ? t("live.rollcall.not_voted") : t(`live.choice.${choice}`) }),
              );
            }),
          ),
        ),
      ),
    ),
  );
}

export function progressText(poll) {
  return t("live.poll.progress", { voted: poll.voted_count, eligible: poll.eligible_count });
}

/** A progress bar (SVG) for "27 von 31 haben abgestimmt". */
export function progressBar(poll) {
  const share = poll.eligible_count ? poll.voted_count / poll.eligible_count : 0;
  return svg(
    "svg",
    { class: "live-progress", viewBox: "0 0 100 4", preserveAspectRatio: "none", "aria-hidden": "true", focusable: "false" },
    svg("rect", { x: 0, y: 0, width: 100, height: 4, class: "live-bar-track" }),
    svg("rect", { x: 0, y: 0, width: Math.round(share * 1000) / 10, height: 4, class: "live-bar-fill" }),
  );
}

export function errorText(error) {
  if (error?.kind === "ballots-lost") return t("live.error.ballots-lost");
  if (CHAIR_ERRORS.includes(error?.kind)) return t(`live.error.${error.kind}`, { count: countText(error.problem?.quorum) });
  const title = error?.problem?.detail ?? error?.problem?.title ?? String(error?.message ?? error);
  return t("live.error.generic", { title });
}

/** The meeting's name and organization from the REST API (best effort). */
export async function meetingInfo(api, id, { anonymous = false } = {}) {
  try {
    return await api.get(anonymous ? `/api/v1/public/meetings/${id}` : `/api/v1/meetings/${id}`);
  } catch {
    return null;
  }
}
