// The chair console (`#/meetings/{id}/chair`): session control, attendance with quorum, agenda
// navigation, polls (create, open, close, manual tallies, interim, show on display) and the
// speakers list.

import { register, t, lang, onLangChange } from "../i18n.js";
import { el } from "../ui.js";
import { join, Status, uuid } from "./socket.js";
import {
  quorumPanel, quorumLine, confirmDialog, countText, speakingClock, clockOffset, itemPicker, dateText,
  MOTIONS, motionTitle,
} from "./chair-tools.js";
import { amendmentPanel } from "./amendments.js";
import {
  connectionIndicator, section, itemLabel, resultView, rollCallView, progressText, progressBar, errorText,
  meetingInfo, useLiveStyles,
} from "./common.js";

register({
  de: {
    "chair.title": "Sitzungsleitung",
    "chair.member": "Zur Mitgliederansicht",
    "chair.display": "Saalanzeige öffnen",
    "chair.session": "Sitzung",
    "chair.start": "Sitzung eröffnen",
    "chair.pause": "Unterbrechen",
    "chair.resume": "Fortsetzen",
    "chair.close": "Sitzung schließen",
    "chair.close.confirm": "Sitzung wirklich schließen? Das kann nicht rückgängig gemacht werden.",
    "chair.close.yes": "Ja, schließen",
    "chair.cancel": "Abbrechen",
    "chair.agenda": "Tagesordnung",
    "chair.call": "Aufrufen",
    "chair.current": "Aktuell",
    "chair.attendance": "Anwesenheit",
    "chair.attendance.set": "Anwesenheit von {name}",
    "chair.att.count": "{present} von {total} anwesend",
    "chair.att.search": "Mitglied suchen",
    "chair.att.all": "Alle als anwesend",
    "chair.att.all.hint": "Setzt alle, die noch nicht eingecheckt oder abwesend sind, auf „Anwesend im Saal“.",
    "chair.att.none": "Ohne Fraktion",
    "chair.att.nomatch": "Niemand gefunden.",
    "chair.att.arrived": "da seit {time}",
    "chair.att.late": "verspätet",
    "chair.att.at": "Uhrzeit für {name} (optional, wenn früher als jetzt)",
    "chair.att.left": "gegangen um {time}",
    "chair.att.early": "vorzeitig",
    "chair.att.me": "Sie sind noch nicht eingecheckt.",
    "chair.att.me.in": "Mich als anwesend eintragen",
    "chair.conflicted": "befangen",
    "chair.advisory": "beratend",
    "chair.substitute": "stellv. Mitglied",
    "chair.standin.by": "vertreten durch {name}",
    "chair.standin.for": "vertritt {name}",
    "chair.standin.add": "Vertretung eintragen",
    "chair.standin.add.for": "Vertretung eintragen ({name})",
    "chair.standin.pick": "Vertretung für {name}",
    "chair.standin.save": "Eintragen",
    "chair.standin.end": "Vertretung beenden",
    "chair.standin.end.for": "Vertretung beenden ({name})",
    "chair.polls": "Abstimmungen",
    "chair.poll.new": "Neue Abstimmung",
    "chair.poll.title": "Gegenstand der Abstimmung",
    "chair.poll.kind": "Art",
    "chair.poll.rule": "Mehrheit",
    "chair.poll.options": "Kandidatinnen und Kandidaten (eine Zeile je Person)",
    "chair.poll.create": "Abstimmung anlegen",
    "chair.poll.open": "Abstimmung öffnen",
    "chair.poll.close": "Abstimmung schließen",
    "chair.poll.cancel": "Abbrechen (verwerfen)",
    "chair.poll.interim.show": "Zwischenstand zeigen",
    "chair.poll.interim.hide": "Zwischenstand verbergen",
    "chair.poll.display": "Auf der Saalanzeige zeigen",
    "chair.poll.display.off": "Von der Saalanzeige nehmen",
    "chair.poll.on_display": "wird auf der Saalanzeige gezeigt",
    "chair.poll.not_voted": "Noch nicht abgestimmt: {names}",
    "chair.poll.all_voted": "Alle haben abgestimmt.",
    "chair.poll.ineligible": "Anwesend, aber nicht stimmberechtigt: {list}",
    "chair.poll.interim": "Zwischenstand: Ja {yes}, Nein {no}, Enthaltung {abstain}",
    "chair.poll.manual": "Ergebnis der Handabstimmung eintragen",
    "chair.poll.manual.save": "Ergebnis speichern",
    "chair.poll.lot": "Los ziehen",
    "chair.poll.none": "Noch keine Abstimmung.",
    "chair.speakers": "Redeliste",
    "chair.speakers.next": "Nächste Wortmeldung aufrufen",
    "chair.speakers.end": "Redebeitrag beenden",
    "chair.speakers.empty": "Keine Wortmeldungen.",
    "chair.speakers.up": "Nach oben: {name}",
    "chair.speakers.down": "Nach unten: {name}",
    "chair.speakers.remove": "Entfernen: {name}",
  },
  en: {
    "chair.title": "Chair console",
    "chair.member": "To the member view",
    "chair.display": "Open the room display",
    "chair.session": "Meeting",
    "chair.start": "Open the meeting",
    "chair.pause": "Pause",
    "chair.resume": "Resume",
    "chair.close": "Close the meeting",
    "chair.close.confirm": "Really close the meeting? This cannot be undone.",
    "chair.close.yes": "Yes, close it",
    "chair.cancel": "Cancel",
    "chair.agenda": "Agenda",
    "chair.call": "Call",
    "chair.current": "Current",
    "chair.attendance": "Attendance",
    "chair.attendance.set": "Attendance of {name}",
    "chair.att.count": "{present} of {total} present",
    "chair.att.search": "Find a member",
    "chair.att.all": "All present",
    "chair.att.all.hint": "Sets everyone not checked in yet or absent to “present in the room”.",
    "chair.att.none": "No fraction",
    "chair.att.nomatch": "Nobody found.",
    "chair.att.arrived": "here since {time}",
    "chair.att.late": "late",
    "chair.att.at": "Time for {name} (optional, if earlier than now)",
    "chair.att.left": "left at {time}",
    "chair.att.early": "early",
    "chair.att.me": "You are not checked in yet.",
    "chair.att.me.in": "Check me in as present",
    "chair.conflicted": "conflicted",
    "chair.advisory": "advisory",
    "chair.substitute": "substitute",
    "chair.standin.by": "represented by {name}",
    "chair.standin.for": "stands in for {name}",
    "chair.standin.add": "Record a stand-in",
    "chair.standin.add.for": "Record a stand-in ({name})",
    "chair.standin.pick": "Stand-in for {name}",
    "chair.standin.save": "Record",
    "chair.standin.end": "End the stand-in",
    "chair.standin.end.for": "End the stand-in ({name})",
    "chair.polls": "Votes",
    "chair.poll.new": "New vote",
    "chair.poll.title": "Subject of the vote",
    "chair.poll.kind": "Kind",
    "chair.poll.rule": "Majority",
    "chair.poll.options": "Candidates (one per line)",
    "chair.poll.create": "Create the vote",
    "chair.poll.open": "Open the vote",
    "chair.poll.close": "Close the vote",
    "chair.poll.cancel": "Cancel (discard)",
    "chair.poll.interim.show": "Show interim result",
    "chair.poll.interim.hide": "Hide interim result",
    "chair.poll.display": "Show on the room display",
    "chair.poll.display.off": "Take off the room display",
    "chair.poll.on_display": "shown on the room display",
    "chair.poll.not_voted": "Not voted yet: {names}",
    "chair.poll.ineligible": "Present but not entitled to vote: {list}",
    "chair.poll.all_voted": "Everyone has voted.",
    "chair.poll.interim": "Interim: yes {yes}, no {no}, abstain {abstain}",
    "chair.poll.manual": "Enter the show-of-hands result",
    "chair.poll.manual.save": "Save the result",
    "chair.poll.lot": "Draw lots",
    "chair.poll.none": "No votes yet.",
    "chair.speakers": "Speakers list",
    "chair.speakers.next": "Call the next speaker",
    "chair.speakers.end": "End the speech",
    "chair.speakers.empty": "No requests to speak.",
    "chair.speakers.up": "Move up: {name}",
    "chair.speakers.down": "Move down: {name}",
    "chair.speakers.remove": "Remove: {name}",
  },
});

const KINDS = ["open", "named", "secret", "election", "manual"];
const RULES = ["simple", "absolute_statutory", "two_thirds_cast", "two_thirds_statutory"];
const STATUSES = ["present", "remote", "absent", "excused", "left_early"];

function select(id, values, labelOf, value) {
  return el("select", { id, class: "live-input" }, ...values.map((v) => el("option", { value: v, selected: v === value, text: labelOf(v) })));
}

export async function mount(root, params, ctx) {
  useLiveStyles();
  document.body.classList.add("live-wide-mode");
  const meetingId = params.id;
  const { session, release } = join(meetingId);
  const info = await meetingInfo(ctx.api, meetingId);
  const ui = { error: null, busy: false, confirmClose: false, form: { kind: "open", rule: "simple", item: undefined }, offset: 0, attSearch: "", standInFor: null };

  const conn = el("div", { class: "live-conn-wrap", role: "status", "aria-live": "polite" });
  const head = el("div", { class: "live-head" });
  const errorBox = el("div", { class: "live-error-wrap", role: "alert" });
  const quorum = el("section", { class: "live-card live-card-quorum", "aria-labelledby": "c-quorum" });
  const settings = el("section", { class: "live-card", "aria-labelledby": "c-settings" });
  const amend = el("section", { class: "live-card", "aria-labelledby": "c-amend" });
  const polls = el("section", { class: "live-card", "aria-labelledby": "c-polls" });
  const create = el("section", { class: "live-card", "aria-labelledby": "c-new" });
  const speakers = el("section", { class: "live-card", "aria-labelledby": "c-speakers" });
  const agenda = el("section", { class: "live-card", "aria-labelledby": "c-agenda" });
  const attendanceHead = el("div");
  const attendanceList = el("div", { class: "live-att-groups" });
  const attSearch = el("input", { id: "att-search", type: "search", class: "live-input", autocomplete: "off", "data-testid": "att-search" });
  const attSearchLabel = el("label", { for: "att-search" });
  const attendance = el("section", { class: "live-card", "aria-labelledby": "c-att" },
    attendanceHead, el("div", { class: "live-field" }, attSearchLabel, attSearch), attendanceList);
  root.replaceChildren(
    el(
      "div",
      { class: "live live-chair" },
      conn, head, errorBox,
      el("div", { class: "live-grid" },
        el("div", { class: "live-col" }, quorum, polls, amend, create, speakers),
        el("div", { class: "live-col" }, agenda, attendance, settings)),
    ),
  );
  const draw = {
    conn: section(conn), head: section(head), error: section(errorBox), polls: section(polls),
    create: section(create), speakers: section(speakers), agenda: section(agenda),
    attendanceHead: section(attendanceHead), attendance: section(attendanceList),
    quorum: section(quorum), settings: section(settings), amend: section(amend),
  };

  // Sends `command`; when the server asks for a confirmation (`kind`), asks with a dialog and
  // sends it again with `confirm` set.
  const confirmed = async (command, kind, ask, confirm) => {
    ui.error = null;
    ui.busy = true;
    render();
    try {
      return await session.command(command);
    } catch (error) {
      if (error?.kind !== kind) {
        ui.error = errorText(error);
        return null;
      }
      ui.busy = false;
      render();
      const answer = await confirmDialog(ask(error.problem));
      if (!answer.ok) return null;
      return await run({ ...command, [confirm]: true });
    } finally {
      ui.busy = false;
      render();
    }
  };
  const startMeeting = async () => {
    const state = session.state;
    const ask = () => ({
      title: t("start.other.title"), confirmLabel: t("start.other.yes"), testid: "other-day-dialog",
      text: t("start.other.text", { date: dateText(state.scheduled), today: dateText(new Date().toISOString()) }),
    });
    // Ask first when the scheduled day is not today; the server checks again.
    if (state?.scheduled && dateText(state.scheduled) !== dateText(new Date().toISOString())) {
      const answer = await confirmDialog(ask());
      if (answer.ok) await run({ type: "start_meeting", confirm_other_day: true });
      return;
    }
    await confirmed({ type: "start_meeting" }, "meeting-other-day", ask, "confirm_other_day");
  };
  const openPoll = (p) => confirmed({ type: "open_poll", poll: p.id }, "quorum-not-met", (problem) => ({
    title: t("quorum.poll.title"), confirmLabel: t("quorum.poll.yes"), testid: "quorum-dialog",
    text: t(/declared not quorate/.test(problem?.detail ?? "") ? "quorum.poll.declared" : "quorum.poll.text", { count: countText(problem?.quorum ?? session.state?.quorum) }),
  }), "confirm_below_quorum");
  // One tap: a procedural motion's vote on the current item, created and opened.
  const moveProcedural = async (motion) => {
    const id = uuid();
    const title = motionTitle(motion);
    const created = await run({ type: "create_poll", poll: id, item: session.state?.current_item ?? null, title, kind: "open", rule: "simple", motion });
    if (created) await openPoll({ id, title });
  };
  const discardPoll = async (p) => {
    const answer = await confirmDialog({
      title: t("poll.discard.title"), text: t("poll.discard.text", { title: p.title }),
      confirmLabel: t("poll.discard.yes"), reasonLabel: t("poll.discard.reason"), testid: "discard-dialog",
    });
    if (answer.ok) await run({ type: "cancel_poll", poll: p.id, reason: answer.reason });
  };

  const run = async (command) => {
    ui.error = null;
    ui.busy = true;
    render();
    try {
      return await session.command(command);
    } catch (error) {
      ui.error = errorText(error);
      return null;
    } finally {
      ui.busy = false;
      render();
    }
  };
  const button = (label, command, { cls = "", disabled = false, testid } = {}) =>
    el("button", {
      type: "button", class: `button live-btn ${cls}`, "data-testid": testid,
      disabled: disabled || ui.busy || session.status !== Status.ONLINE,
      onclick: () => (typeof command === "function" ? command() : run(command)), text: label,
    });

  function render() {
    const state = session.state;
    const online = session.status === Status.ONLINE;
    draw.conn(session.status + lang(), () => connectionIndicator(session));
    draw.error(ui.error ?? "", () => (ui.error ? el("p", { class: "live-error", text: ui.error }) : null));
    if (!state) {
      draw.head("loading", () => el("h1", { text: t("chair.title") }));
      return;
    }
    const base = [online, ui.busy, lang()];
    const q = state.quorum;
    draw.head([state.status, ui.confirmClose, JSON.stringify(q), state.quorum_standing, info?.name, ...base], () => [
      el("p", { class: "live-eyebrow", text: `${t("chair.title")}${info?.organization?.name ? ` · ${info.organization.name}` : ""}` }),
      el("h1", { class: "live-title", text: info?.name ?? t("chair.title") }),
      el("p", { class: `live-status live-status-${state.status}`, text: t(`live.status.${state.status}`) }),
      quorumLine(state),
      el(
        "div",
        { class: "live-actions" },
        state.status === "not_started" ? button(t("chair.start"), startMeeting, { cls: "live-btn-primary", testid: "start-meeting" }) : null,
        state.status === "running" ? button(t("chair.pause"), { type: "pause_meeting" }) : null,
        state.status === "paused" ? button(t("chair.resume"), { type: "resume_meeting" }, { cls: "live-btn-primary" }) : null,
        state.status !== "closed" && state.status !== "not_started" && !ui.confirmClose
          ? button(t("chair.close"), () => { ui.confirmClose = true; render(); }, { cls: "live-btn-quiet" })
          : null,
      ),
      ui.confirmClose
        ? el("div", { class: "live-confirm" }, el("p", { text: t("chair.close.confirm") }), el("div", { class: "live-actions" },
            button(t("chair.close.yes"), () => { ui.confirmClose = false; run({ type: "close_meeting" }); }, { cls: "live-btn-warn" }),
            button(t("chair.cancel"), () => { ui.confirmClose = false; render(); }, { cls: "live-btn-quiet" })))
        : null,
      el("p", { class: "live-links" },
        el("a", { href: `#/meetings/${meetingId}/live`, text: t("chair.member") }),
        el("a", { href: `#/display/${meetingId}`, target: "_blank", rel: "noopener", text: t("chair.display") })),
    ]);
    ui.offset = clockOffset(state);
    draw.quorum([state.quorum_standing, JSON.stringify(state.quorum), JSON.stringify(state.quorum_doubts), JSON.stringify(state.quorum_declared), state.status, ...base],
      () => quorumPanel(state, button));
    renderSettings(state, base);
    draw.amend([state.current_item, JSON.stringify(state.amendments), JSON.stringify(state.amendment_order),
      state.polls.map((p) => [p.amendment, p.state]), ...base], () => amendmentPanel(state, { button, run }));
    renderPolls(state, base);
    renderCreate(state, base);
    renderSpeakers(state, base);
    renderAgenda(state, base);
    attSearchLabel.textContent = t("chair.att.search");
    renderAttendance(state, base);
  }

  function renderPolls(state, base) {
    const list = state.polls.filter((p) => p.state !== "cancelled").slice().reverse();
    const key = [list.map((p) => [p.id, p.state, p.voted_count, p.eligible_count, p.not_voted?.length, p.interim, p.result ? 1 : 0, p.roll_call ? 1 : 0, (p.ineligible ?? []).map((i) => i.person + i.reason).join()]), state.display_poll, ...base];
    draw.polls(key, () => {
      const parts = [el("h2", { id: "c-polls", text: t("chair.polls") })];
      if (!list.length) parts.push(el("p", { class: "live-note", text: t("chair.poll.none") }));
      for (const p of list.slice(0, 6)) parts.push(pollCard(state, p));
      return parts;
    });
  }

  function pollCard(state, p) {
    const onDisplay = state.display_poll === p.id;
    const card = el("article", { class: `live-poll live-poll-${p.state}`, "data-poll": p.id },
      el("h3", { text: p.title }),
      el("p", { class: "live-meta", text: `${t(`live.poll.kind.${p.kind}`)} · ${t(`live.rule.${p.rule}`)} · ${t(`live.poll.state.${p.state}`)}${p.item ? ` · ${itemLabel(state, p.item)}` : ""}` }));
    if (onDisplay) card.append(el("p", { class: "live-badge", text: t("chair.poll.on_display") }));
    if (p.below_quorum) card.append(el("p", { class: "live-badge live-badge-warn", "data-testid": "below-quorum", text: t("quorum.mark") }));
    const actions = el("div", { class: "live-actions" });
    if (p.state === "draft") {
      actions.append(button(t("chair.poll.open"), () => openPoll(p), { cls: "live-btn-primary", testid: "open-poll" }));
      actions.append(button(t("chair.poll.cancel"), () => discardPoll(p), { cls: "live-btn-quiet", testid: "discard-poll" }));
    } else if (p.state === "open") {
      card.append(el("p", { class: "live-progress-text", "data-testid": "chair-progress", text: progressText(p) }), progressBar(p));
      if (p.kind !== "manual") {
        // A substitute votes for the member they stand in for: say so (fixed at opening).
        const standsIn = new Map(Array.isArray(p.stand_ins) ? p.stand_ins : []);
        const names = (p.not_voted ?? []).map((n) => (standsIn.has(n.person)
          ? `${n.name} ${t("live.rollcall.stands_in", { name: state.attendance.find((x) => x.person === standsIn.get(n.person))?.name ?? "?" })}`
          : n.name));
        card.append(el("p", { class: "live-note", "data-testid": "chair-not-voted", text: names.length ? t("chair.poll.not_voted", { names: names.join(", ") }) : t("chair.poll.all_voted") }));
      }
      const ineligible = (p.ineligible ?? []).map((i) => `${i.name} (${t(`live.ineligible.short.${i.reason}`)})`);
      if (ineligible.length) card.append(el("p", { class: "live-note", "data-testid": "chair-ineligible", text: t("chair.poll.ineligible", { list: ineligible.join(", ") }) }));
      if (p.interim) card.append(el("p", { class: "live-note", text: t("chair.poll.interim", p.interim) }));
      if (p.kind === "manual") card.append(manualForm(p));
      else actions.append(button(t("chair.poll.close"), { type: "close_poll", poll: p.id }, { cls: "live-btn-primary", testid: "close-poll" }));
      if (p.kind === "open" || p.kind === "named") {
        actions.append(button(p.interim ? t("chair.poll.interim.hide") : t("chair.poll.interim.show"), { type: "show_interim", poll: p.id, show: !p.interim }, { cls: "live-btn-quiet" }));
      }
      actions.append(button(t("chair.poll.cancel"), () => discardPoll(p), { cls: "live-btn-quiet", testid: "discard-poll" }));
    } else if (p.state === "closed" && p.result) {
      card.append(resultView(p));
      if (p.roll_call) card.append(rollCallView(p));
      const o = p.result.election_outcome;
      if (o && typeof o === "object" && "tie" in o && !p.result.lot) {
        actions.append(button(t("chair.poll.lot"), { type: "draw_lot", poll: p.id, winner: null }));
      }
    }
    if (p.state !== "draft") {
      actions.append(onDisplay
        ? button(t("chair.poll.display.off"), { type: "show_on_display", poll: null }, { cls: "live-btn-quiet" })
        : button(t("chair.poll.display"), { type: "show_on_display", poll: p.id }, { cls: "live-btn-quiet", testid: "show-on-display" }));
    }
    card.append(actions);
    return card;
  }

  function manualForm(p) {
    const field = (name, label) => el("label", { class: "live-field live-field-small" }, el("span", { text: label }),
      el("input", { class: "live-input", type: "number", min: "0", step: "1", inputmode: "numeric", name, value: "0" }));
    const form = el("form", { class: "live-form live-manual", "aria-label": t("chair.poll.manual") },
      el("p", { class: "live-label", text: t("chair.poll.manual") }),
      el("div", { class: "live-row" }, field("yes", t("live.choice.yes")), field("no", t("live.choice.no")), field("abstain", t("live.choice.abstain")), field("invalid", t("live.choice.invalid"))),
      el("button", { type: "submit", class: "button live-btn live-btn-primary", disabled: ui.busy || session.status !== Status.ONLINE, text: t("chair.poll.manual.save") }));
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const n = (k) => Math.max(0, Number.parseInt(form.elements[k].value, 10) || 0);
      run({ type: "enter_manual_tally", poll: p.id, tally: { yes: n("yes"), no: n("no"), abstain: n("abstain"), invalid: n("invalid") } });
    });
    return form;
  }

  /** The poll kinds the meeting's rules allow now (the server's list; all where it sent none). */
  function allowedKinds(state) {
    const list = state.remote_participation ? state.poll_kinds_with_remote : state.poll_kinds;
    return Array.isArray(list) ? KINDS.filter((k) => list.includes(k)) : KINDS;
  }

  function renderCreate(state, base) {
    const kinds = allowedKinds(state);
    draw.create([state.current_item, state.agenda.map((i) => i.id), state.status, kinds, ...base], () => {
      const item = itemPicker(state, "c-item", ui.form.item);
      item.addEventListener("change", () => { ui.form.item = item.value; });
      const title = el("input", { id: "c-title", class: "live-input", type: "text", required: true, maxlength: "300", autocomplete: "off" });
      if (!kinds.includes(ui.form.kind)) ui.form.kind = kinds[0];
      const kind = select("c-kind", kinds, (k) => t(`live.poll.kind.${k}`), ui.form.kind);
      const rule = select("c-rule", RULES, (r) => t(`live.rule.${r}`), ui.form.rule);
      const options = el("textarea", { id: "c-options", class: "live-input", rows: "3" });
      const optionsField = el("div", { class: "live-field", hidden: ui.form.kind !== "election" },
        el("label", { for: "c-options", text: t("chair.poll.options") }), options);
      kind.addEventListener("change", () => { ui.form.kind = kind.value; optionsField.hidden = kind.value !== "election"; });
      rule.addEventListener("change", () => { ui.form.rule = rule.value; });
      const form = el("form", { class: "live-form" },
        el("div", { class: "live-field" }, el("label", { for: "c-title", text: t("chair.poll.title") }), title),
        el("div", { class: "live-row" },
          el("div", { class: "live-field" }, el("label", { for: "c-kind", text: t("chair.poll.kind") }), kind),
          el("div", { class: "live-field" }, el("label", { for: "c-rule", text: t("chair.poll.rule") }), rule)),
        el("div", { class: "live-field" }, el("label", { for: "c-item", text: t("poll.item") }), item),
        optionsField,
        el("button", { type: "submit", class: "button live-btn live-btn-primary", "data-testid": "create-poll", disabled: ui.busy || session.status !== Status.ONLINE || state.status !== "running", text: t("chair.poll.create") }));
      form.addEventListener("submit", async (e) => {
        e.preventDefault();
        const text = title.value.trim();
        if (!text) { title.focus(); return; }
        const list = kind.value === "election" ? options.value.split("\n").map((s) => s.trim()).filter(Boolean) : [];
        const id = uuid();
        const done = await run({ type: "create_poll", poll: id, item: item.value || null, title: text, kind: kind.value, rule: rule.value, options: list });
        if (done) { title.value = ""; ui.form.item = undefined; }
      });
      const running = state.status === "running";
      const motions = el("div", { class: "live-motions", role: "group", "aria-labelledby": "c-motions" },
        el("p", { id: "c-motions", class: "live-label", text: t("motion.title") }),
        el("p", { class: "live-note", text: t("motion.hint") }),
        el("div", { class: "live-actions" }, ...MOTIONS.map((m) =>
          button(t(`motion.${m}`), () => moveProcedural(m), { cls: "live-btn-quiet live-btn-small", disabled: !running, testid: `motion-${m}` }))));
      return [el("h2", { id: "c-new", text: t("chair.poll.new") }), form, motions];
    });
  }

  function renderSpeakers(state, base) {
    const key = [state.speakers.map((s) => s.id), state.current_speaker?.id, state.status, ...base];
    draw.speakers(key, () => {
      const parts = [el("h2", { id: "c-speakers", text: t("chair.speakers") })];
      const s = state.current_speaker;
      if (s) {
        parts.push(el("p", { class: "live-speaker" }, `${t("live.speaker.current")}: `, el("strong", { text: s.name })));
        parts.push(clockSlot);
      }
      parts.push(el("div", { class: "live-actions" },
        button(t("chair.speakers.next"), { type: "call_next_speaker" }, { cls: "live-btn-primary", disabled: !state.speakers.length || state.status !== "running" }),
        s ? button(t("chair.speakers.end"), { type: "end_speech" }, { cls: "live-btn-quiet" }) : null));
      if (!state.speakers.length) parts.push(el("p", { class: "live-note", text: t("chair.speakers.empty") }));
      else {
        parts.push(el("ol", { class: "live-list" }, ...state.speakers.map((entry, i) =>
          el("li", { class: "live-list-row" },
            el("span", { class: "live-list-name", text: entry.point_of_order ? `${entry.name} (${t("live.speaker.poo")})` : entry.name }),
            el("span", { class: "live-list-actions" },
              i > 0 ? iconButton("↑", t("chair.speakers.up", { name: entry.name }), { type: "move_speaker", entry: entry.id, position: i - 1 }) : null,
              i < state.speakers.length - 1 ? iconButton("↓", t("chair.speakers.down", { name: entry.name }), { type: "move_speaker", entry: entry.id, position: i + 1 }) : null,
              iconButton("✕", t("chair.speakers.remove", { name: entry.name }), { type: "remove_speaker", entry: entry.id }))))));
      }
      return parts;
    });
  }

  // The clock: re-drawn every second from the speaker's start time (no server ticker).
  const clockSlot = el("div", { class: "live-clock-slot", role: "timer", "aria-live": "off" });
  const tick = () => {
    const state = session.state;
    clockSlot.replaceChildren(...(state ? [speakingClock(state, ui.offset)].filter(Boolean) : []));
  };
  const ticker = setInterval(tick, 1000);

  function renderSettings(state, base) {
    draw.settings([JSON.stringify(state.settings), state.status, ...base], () => {
      const current = state.settings ?? { repeat_meeting: false, speaking_time_secs: 300 };
      const repeat = el("input", { id: "c-repeat", type: "checkbox", checked: current.repeat_meeting });
      const minutes = el("input", { id: "c-speaking", class: "live-input", type: "number", min: "1", max: "120", step: "1", inputmode: "numeric", value: String(Math.round(current.speaking_time_secs / 60) || 5) });
      const form = el("form", { class: "live-form" },
        el("div", { class: "live-field live-check" }, repeat, el("label", { for: "c-repeat", text: t("settings.repeat") })),
        el("div", { class: "live-field live-field-small" }, el("label", { for: "c-speaking", text: t("settings.speaking") }), minutes),
        el("button", { type: "submit", class: "button live-btn live-btn-quiet", "data-testid": "save-settings", disabled: ui.busy || session.status !== Status.ONLINE || state.status === "closed", text: t("settings.save") }));
      form.addEventListener("submit", (e) => {
        e.preventDefault();
        const secs = Math.max(1, Math.min(120, Number.parseInt(minutes.value, 10) || 5)) * 60;
        run({ type: "set_session_settings", repeat_meeting: repeat.checked, speaking_time_secs: secs });
      });
      return [el("h2", { id: "c-settings", text: t("settings.title") }), form];
    });
  }

  function iconButton(symbol, label, command) {
    return el("button", {
      type: "button", class: "button live-icon-btn", "aria-label": label, title: label,
      disabled: ui.busy || session.status !== Status.ONLINE, onclick: () => run(command), text: symbol,
    });
  }

  function renderAgenda(state, base) {
    draw.agenda([state.agenda.map((i) => i.id), state.current_item, state.status, ...base], () => [
      el("h2", { id: "c-agenda", text: t("chair.agenda") }),
      el("ol", { class: "live-list" }, ...state.agenda.map((item) => {
        const current = item.id === state.current_item;
        return el("li", { class: `live-list-row${current ? " live-current" : ""}`, "aria-current": current ? "true" : undefined },
          el("span", { class: "live-list-name" }, el("strong", { text: item.number }), ` ${item.title}`),
          current
            ? el("span", { class: "live-badge", text: t("chair.current") })
            : button(t("chair.call"), { type: "set_current_item", item: item.id }, { cls: "live-btn-quiet live-btn-small", disabled: state.status !== "running" }));
      })),
    ]);
  }

  function renderAttendance(state, base) {
    const conflicted = new Set(state.conflicts.filter((c) => c.item === state.current_item).map((c) => c.person));
    const rows = state.attendance;
    const here = (a) => a.status === "present" || a.status === "remote";
    const pending = rows.filter((a) => !a.status || a.status === "absent").map((a) => a.person);
    // The chair herself: prompted to check in while the session runs and she is not.
    const mine = rows.find((a) => a.person === state.viewer?.person);
    const askMe = state.status === "running" && mine && !here(mine) && mine.status !== "left_early";
    draw.attendanceHead([rows.filter(here).length, rows.length, pending.length, state.status, askMe, ...base], () => [
      el("h2", { id: "c-att", text: t("chair.attendance") }),
      askMe ? el("div", { class: "live-prompt", "data-testid": "chair-checkin-prompt" },
        el("p", { text: t("chair.att.me") }),
        button(t("chair.att.me.in"), { type: "check_in", remote: false }, { testid: "chair-checkin" })) : null,
      el("p", { class: "live-att-total", "data-testid": "att-total", text: t("chair.att.count", { present: rows.filter(here).length, total: rows.length }) }),
      el("div", { class: "live-actions" },
        button(t("chair.att.all"), { type: "set_attendance_bulk", persons: pending, status: "present" }, {
          cls: "live-btn-primary", testid: "att-all", disabled: !pending.length || state.status !== "running",
        })),
      el("p", { class: "live-muted live-small", text: t("chair.att.all.hint") }),
    ]);
    const needle = ui.attSearch.trim().toLocaleLowerCase();
    const key = [rows.map((a) => [a.person, a.status, a.arrived_at, a.left_at, a.stands_in_for, a.represented_by]), [...conflicted], needle, state.started_at, state.status, ui.standInFor, ...base];
    draw.attendance(key, () => {
      const groups = new Map();
      for (const a of rows) {
        const f = a.fraction ?? "";
        if (!groups.has(f)) groups.set(f, []);
        groups.get(f).push(a);
      }
      const lastName = (a) => a.name.split(" ").at(-1);
      const sorted = [...groups.entries()].sort(([a], [b]) => (a === "" ? 1 : b === "" ? -1 : a.localeCompare(b, "de")));
      const parts = [];
      for (const [fraction, members] of sorted) {
        const shown = members
          .filter((a) => !needle || a.name.toLocaleLowerCase().includes(needle) || fraction.toLocaleLowerCase().includes(needle))
          .sort((a, b) => lastName(a).localeCompare(lastName(b), "de") || a.name.localeCompare(b.name, "de"));
        if (!shown.length) continue;
        const label = fraction || t("chair.att.none");
        const headId = `att-g-${parts.length}`;
        parts.push(el("section", { class: "live-att-group", "aria-labelledby": headId, "data-fraction": label },
          el("h3", { id: headId, class: "live-att-group-head" }, label, " ",
            el("span", { class: "live-badge", "data-testid": "att-group-count", text: `${members.filter(here).length}/${members.length}` })),
          el("ul", { class: "live-list live-att-list" }, ...shown.map((a) => attendanceRow(state, a, conflicted)))));
      }
      return parts.length ? parts : el("p", { class: "live-muted", text: t("chair.att.nomatch") });
    });
  }

  function attendanceRow(state, a, conflicted) {
    const id = `att-${a.person}`;
    const status = select(id, ["", ...STATUSES], (s) => t(`live.attendance.${s || "unknown"}`), a.status ?? "");
    status.disabled = ui.busy || session.status !== Status.ONLINE;
    // Optional: when it happened, for a late arrival or an early departure entered afterwards
    // (hh:mm on the session's day; the server refuses a time before the opening or in the future).
    const at = el("input", {
      type: "time", class: "input live-att-at", "data-testid": "att-at",
      "aria-label": t("chair.att.at", { name: a.name }),
    });
    at.disabled = status.disabled;
    status.addEventListener("change", () => {
      if (!status.value) return;
      const command = { type: "set_attendance", person: a.person, status: status.value };
      const [hours, minutes] = at.value.split(":").map(Number);
      if (at.value && Number.isFinite(hours) && Number.isFinite(minutes)) {
        const when = new Date(state.started_at ?? Date.now());
        when.setHours(hours, minutes, 0, 0);
        command.at = when.toISOString();
      }
      run(command);
    });
    const time = (at) => new Date(at).toLocaleTimeString(lang() === "de" ? "de-DE" : "en-GB", { hour: "2-digit", minute: "2-digit" });
    // Late: more than five minutes after the opening. Early: left before the close.
    const late = a.arrived_at && state.started_at && Date.parse(a.arrived_at) - Date.parse(state.started_at) > 5 * 60 * 1000;
    const times = [];
    if (a.arrived_at) times.push(el("span", { class: late ? "live-att-late" : null }, t("chair.att.arrived", { time: time(a.arrived_at) }), late ? ` (${t("chair.att.late")})` : ""));
    if (a.left_at && a.status === "left_early") times.push(el("span", { class: "live-att-early" }, ` · ${t("chair.att.left", { time: time(a.left_at) })} (${t("chair.att.early")})`));
    const substitute = a.role === "substitute";
    const notes = [
      !a.voting_right ? t("chair.advisory") : null,
      substitute && !a.stands_in_for ? t("chair.substitute") : null,
      conflicted.has(a.person) ? t("chair.conflicted") : null,
    ].filter(Boolean);
    const nameOf = (person) => state.attendance.find((x) => x.person === person)?.name ?? "?";
    return el("li", { class: `live-list-row live-att-${a.status ?? "unknown"}`, "data-testid": "att-row", "data-person": a.person },
      el("span", { class: "live-list-name" },
        el("label", { for: id }, a.name, notes.length ? el("span", { class: "live-muted", text: ` (${notes.join(", ")})` }) : null),
        times.length ? el("span", { class: "live-muted live-small live-att-times" }, ...times) : null,
        standInPart(state, a, nameOf)),
      el("span", { class: "live-att-controls" }, at, status));
  }

  // Stand-ins (Vertretung): "vertreten durch X" with an end button, "vertritt Y", and for an
  // absent member holding a seat the choice among the free substitute members.
  function standInPart(state, a, nameOf) {
    const open = state.status !== "closed";
    if (a.stands_in_for) {
      return el("span", { class: "live-att-standin", "data-testid": "att-stands-in", text: t("chair.standin.for", { name: nameOf(a.stands_in_for) }) });
    }
    if (a.represented_by) {
      return el("span", { class: "live-att-standin" },
        el("span", { "data-testid": "att-represented", text: t("chair.standin.by", { name: nameOf(a.represented_by) }) }), " ",
        open ? el("button", {
          type: "button", class: "button live-btn live-btn-quiet live-btn-small", "data-testid": "standin-end",
          "aria-label": t("chair.standin.end.for", { name: a.name }),
          disabled: ui.busy || session.status !== Status.ONLINE,
          onclick: () => run({ type: "end_stand_in", member: a.person }), text: t("chair.standin.end"),
        }) : null);
    }
    const seat = a.voting_right && ["member", "chair", "deputy_chair"].includes(a.role);
    const here = a.status === "present" || a.status === "remote";
    if (!seat || here || !open) return null;
    const free = state.attendance.filter((x) => x.role === "substitute" && x.voting_right && !x.stands_in_for);
    // Offered only while a substitute member is free (none: the organization has none, or all
    // stand in already).
    if (!free.length) return null;
    if (ui.standInFor !== a.person) {
      return el("button", {
        type: "button", class: "button live-btn live-btn-quiet live-btn-small", "data-testid": "standin-add",
        "aria-label": t("chair.standin.add.for", { name: a.name }),
        disabled: ui.busy || session.status !== Status.ONLINE,
        onclick: () => { ui.standInFor = a.person; render(); }, text: t("chair.standin.add"),
      });
    }
    // Substitutes of the member's fraction first, then the others.
    free.sort((x, y) => (x.fraction !== a.fraction) - (y.fraction !== a.fraction) || x.name.localeCompare(y.name, "de"));
    const pickId = `standin-${a.person}`;
    const pick = el("select", { id: pickId, class: "live-input", "data-testid": "standin-pick" },
      ...free.map((x) => el("option", { value: x.person, text: x.fraction ? `${x.name} (${x.fraction})` : x.name })));
    return el("span", { class: "live-att-standin-form" },
      el("label", { for: pickId, class: "live-small", text: t("chair.standin.pick", { name: a.name }) }), pick,
      el("span", { class: "live-actions" },
        el("button", {
          type: "button", class: "button live-btn live-btn-primary live-btn-small", "data-testid": "standin-save",
          disabled: ui.busy || session.status !== Status.ONLINE,
          onclick: async () => {
            const done = await run({ type: "set_stand_in", member: a.person, substitute: pick.value });
            if (done) { ui.standInFor = null; render(); }
          },
          text: t("chair.standin.save"),
        }),
        el("button", { type: "button", class: "button live-btn live-btn-quiet live-btn-small", onclick: () => { ui.standInFor = null; render(); }, text: t("chair.cancel") })));
  }

  attSearch.addEventListener("input", () => {
    ui.attSearch = attSearch.value;
    render();
  });
  const unsubscribe = session.subscribe(() => { render(); tick(); });
  const unlang = onLangChange(() => render());
  return () => {
    clearInterval(ticker);
    unsubscribe();
    unlang();
    release();
    document.body.classList.remove("live-wide-mode");
  };
}
