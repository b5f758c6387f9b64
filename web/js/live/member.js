// The live screen for members (`#/meetings/{id}/live`): the current item, my attendance, "Ich bin
// befangen", voting with a confirm step (counted only after the server's ack), the result, and
// asking to speak.

import { register, t, lang, onLangChange } from "../i18n.js";
import { el } from "../ui.js";
import { join, currentPoll, Status } from "./socket.js";
import {
  connectionIndicator, section, itemLabel, resultView, rollCallView, progressText, progressBar, errorText,
  meetingInfo, useLiveStyles,
} from "./common.js";
import { confirmDialog, discardedText } from "./chair-tools.js";
import { amendmentForm } from "./amendments.js";

register({
  de: {
    "member.title": "Live-Sitzung",
    "member.back": "Zur Tagesordnung",
    "member.chair": "Sitzungsleitung",
    "member.attendance": "Meine Anwesenheit",
    "member.checkin.room": "Ich bin im Saal",
    "member.checkin.prompt": "Die Sitzung läuft. Bitte checken Sie ein.",
    "member.checkin.remote": "Ich nehme online teil",
    "member.checkout": "Ich gehe (auschecken)",
    "member.conflict": "Ich bin befangen",
    "member.standin.for": "Sie vertreten heute {name} und stimmen in Vertretung ab.",
    "member.standin.by": "Sie werden vertreten durch {name}. Wenn Sie einchecken, endet die Vertretung.",
    "member.conflict.confirm": "Wirklich für diesen Punkt als befangen erklären? Sie stimmen dann nicht mit ab.",
    "member.conflict.yes": "Ja, ich bin befangen",
    "member.conflict.declared": "Sie haben sich für diesen Punkt als befangen erklärt.",
    "member.cancel": "Abbrechen",
    "member.vote": "Abstimmung",
    "member.vote.none": "Gerade läuft keine Abstimmung.",
    "member.vote.confirm": "Ihre Wahl: {choice}",
    "member.vote.send": "Stimme abgeben",
    "member.vote.change": "Ändern",
    "member.vote.sending": "Ihre Stimme wird übermittelt … bitte warten.",
    "member.vote.counted": "Ihre Stimme wurde gezählt.",
    "member.vote.counted.choice": "Ihre Stimme wurde gezählt: {choice}",
    "member.vote.done": "Sie haben abgestimmt.",
    "member.vote.not_eligible": "Sie sind bei dieser Abstimmung nicht stimmberechtigt.",
    "member.vote.needs_connection": "Zum Abstimmen wird eine Verbindung benötigt. Sobald sie wieder steht, können Sie abstimmen.",
    "member.vote.pending_offline": "Ihre Stimme ist noch nicht bestätigt. Sie wird gesendet, sobald die Verbindung wieder steht.",
    "member.vote.manual": "Abstimmung per Handzeichen – bitte im Saal abstimmen.",
    "member.speak": "Wortmeldungen",
    "member.speak.ask": "Wortmeldung",
    "member.speak.poo": "Zur Geschäftsordnung",
    "member.speak.withdraw": "Wortmeldung zurückziehen",
    "member.speak.position": "Sie stehen auf Platz {n} der Redeliste.",
    "member.speak.queue": "{n} Wortmeldungen",
  },
  en: {
    "member.title": "Live meeting",
    "member.back": "To the agenda",
    "member.chair": "Chair console",
    "member.attendance": "My attendance",
    "member.checkin.room": "I am in the room",
    "member.checkin.prompt": "The meeting is running. Please check in.",
    "member.checkin.remote": "I am joining online",
    "member.checkout": "I am leaving (check out)",
    "member.conflict": "I have a conflict of interest",
    "member.standin.for": "Today you stand in for {name}. You vote in their place.",
    "member.standin.by": "{name} stands in for you. When you check in, the stand-in ends.",
    "member.conflict.confirm": "Really declare a conflict of interest for this item? You will not vote on it.",
    "member.conflict.yes": "Yes, I have a conflict",
    "member.conflict.declared": "You declared a conflict of interest for this item.",
    "member.cancel": "Cancel",
    "member.vote": "Vote",
    "member.vote.none": "No vote is open right now.",
    "member.vote.confirm": "Your choice: {choice}",
    "member.vote.send": "Cast my vote",
    "member.vote.change": "Change",
    "member.vote.sending": "Sending your vote … please wait.",
    "member.vote.counted": "Your vote has been counted.",
    "member.vote.counted.choice": "Your vote has been counted: {choice}",
    "member.vote.done": "You have voted.",
    "member.vote.not_eligible": "You are not entitled to vote in this poll.",
    "member.vote.needs_connection": "Voting needs a connection. You can vote as soon as it is back.",
    "member.vote.pending_offline": "Your vote is not confirmed yet. It will be sent as soon as the connection is back.",
    "member.vote.manual": "Vote by show of hands – please vote in the room.",
    "member.speak": "Requests to speak",
    "member.speak.ask": "Ask to speak",
    "member.speak.poo": "Point of order",
    "member.speak.withdraw": "Withdraw my request",
    "member.speak.position": "You are number {n} on the speakers list.",
    "member.speak.queue": "{n} requests to speak",
  },
});

function choiceLabel(poll, choice) {
  if (choice == null) return "";
  if (typeof choice === "object" && "candidate" in choice) return poll.options[choice.candidate] ?? "?";
  const c = typeof choice === "object" ? choice.choice : choice;
  return t(`live.choice.${c}`);
}

export async function mount(root, params, ctx) {
  useLiveStyles();
  const meetingId = params.id;
  const { session, release } = join(meetingId);
  const info = await meetingInfo(ctx.api, meetingId);

  // Local UI state: the choice awaiting confirmation, the ballot being sent, the last error.
  const ui = { picked: null, sending: null, counted: null, conflictAsk: false, error: null, busy: false };

  const conn = el("div", { class: "live-conn-wrap", role: "status", "aria-live": "polite" });
  const head = el("div", { class: "live-head" });
  const attendance = el("section", { class: "live-card", "aria-labelledby": "m-att" });
  const vote = el("section", { class: "live-card live-vote", "aria-labelledby": "m-vote" });
  const speak = el("section", { class: "live-card", "aria-labelledby": "m-speak" });
  const amend = el("section", { class: "live-card", "aria-labelledby": "m-amend" });
  const errorBox = el("div", { class: "live-error-wrap", role: "alert" });
  root.replaceChildren(
    el("div", { class: "live live-member" }, conn, head, errorBox, vote, attendance, speak, amend),
  );
  const draw = {
    conn: section(conn), head: section(head), attendance: section(attendance), vote: section(vote),
    speak: section(speak), error: section(errorBox), amend: section(amend),
  };
  const amendDraft = {};

  const run = async (command, after) => {
    ui.error = null;
    ui.busy = true;
    render();
    try {
      const result = await session.command(command);
      after?.(result);
    } catch (error) {
      ui.error = errorText(error);
    } finally {
      ui.busy = false;
      render();
    }
  };

  function me(state) {
    return state.attendance.find((a) => a.person === session.person) ?? null;
  }

  function render() {
    const state = session.state;
    const online = session.status === Status.ONLINE;
    draw.conn(session.status + lang(), () => connectionIndicator(session));
    draw.error(ui.error ?? "", () => (ui.error ? el("p", { class: "live-error", text: ui.error }) : null));
    if (!state) {
      draw.head("loading", () => el("h1", { text: info?.name ?? t("member.title") }));
      return;
    }
    draw.head([state.status, state.current_item, state.current_speaker?.id, info?.name, lang()], () => [
      info?.organization?.name ? el("p", { class: "live-eyebrow", text: info.organization.name }) : null,
      el("h1", { class: "live-title", text: info?.name ?? t("member.title") }),
      el("p", { class: `live-status live-status-${state.status}`, text: t(`live.status.${state.status}`) }),
      el(
        "div",
        { class: "live-item" },
        el("p", { class: "live-label", text: t("live.item.current") }),
        el("p", { class: "live-item-title", text: state.current_item ? itemLabel(state, state.current_item) : t("live.item.none") }),
      ),
      state.current_speaker
        ? el("p", { class: "live-speaker" }, `${t("live.speaker.current")}: `, el("strong", { text: state.current_speaker.name }))
        : null,
      el(
        "p",
        { class: "live-links" },
        el("a", { href: `#/meetings/${meetingId}`, text: t("member.back") }),
        state.viewer?.chair && state.status !== "closed"
          ? el("a", { href: `#/meetings/${meetingId}/chair`, text: t("member.chair") })
          : null,
      ),
    ]);
    renderVote(state, online);
    renderAttendance(state, online);
    renderSpeak(state, online);
    if (me(state)) {
      const mine = (state.amendments ?? []).filter((a) => a.filed_by === session.person).map((a) => [a.id, a.withdrawn]);
      draw.amend([state.current_item, JSON.stringify(mine), online, ui.busy, lang(), state.status], () =>
        amendmentForm(state, { run, me: session.person, draft: amendDraft, disabled: !online || ui.busy || state.status === "closed" }));
    }
  }

  function renderAttendance(state, online) {
    const mine = me(state);
    const item = state.current_item;
    const conflicted = item && state.conflicts.some((c) => c.item === item && c.person === session.person);
    const status = mine?.status ?? null;
    const nameOf = (person) => state.attendance.find((a) => a.person === person)?.name ?? "?";
    const key = [status, item, conflicted, ui.conflictAsk, online, ui.busy, lang(), !!mine, state.status, mine?.stands_in_for, mine?.represented_by];
    draw.attendance(key, () => {
      const parts = [el("h2", { id: "m-att", text: t("member.attendance") })];
      if (!mine) return parts;
      parts.push(el("p", { class: `live-att live-att-${status ?? "unknown"}`, text: t(`live.attendance.${status ?? "unknown"}`) }));
      // Stand-ins (Vertretung): the substitute learns whose vote they hold, the member who holds theirs.
      if (mine.stands_in_for) parts.push(el("p", { class: "live-prompt", "data-testid": "standin-note", text: t("member.standin.for", { name: nameOf(mine.stands_in_for) }) }));
      if (mine.represented_by) parts.push(el("p", { class: "live-note", "data-testid": "represented-note", text: t("member.standin.by", { name: nameOf(mine.represented_by) }) }));
      // The self check-in prompt: the meeting runs and the member has not checked in yet.
      if (state.status === "running" && (status === null || status === "absent")) {
        parts.push(el("p", { class: "live-prompt", "data-testid": "checkin-prompt", text: t("member.checkin.prompt") }));
      }
      const here = status === "present" || status === "remote";
      const buttons = el("div", { class: "live-actions" });
      const disabled = !online || ui.busy || state.status === "closed";
      if (status !== "present") {
        buttons.append(el("button", { type: "button", class: "button live-btn", disabled, onclick: () => run({ type: "check_in", remote: false }), text: t("member.checkin.room") }));
      }
      if (status !== "remote") {
        buttons.append(el("button", { type: "button", class: "button live-btn", disabled, onclick: () => run({ type: "check_in", remote: true }), text: t("member.checkin.remote") }));
      }
      if (here) {
        buttons.append(el("button", { type: "button", class: "button live-btn live-btn-quiet", disabled, onclick: () => run({ type: "check_out" }), text: t("member.checkout") }));
      }
      parts.push(buttons);
      if (item) {
        if (conflicted) parts.push(el("p", { class: "live-note", text: t("member.conflict.declared") }));
        else if (ui.conflictAsk) {
          parts.push(
            el(
              "div",
              { class: "live-confirm" },
              el("p", { text: t("member.conflict.confirm") }),
              el(
                "div",
                { class: "live-actions" },
                el("button", {
                  type: "button", class: "button live-btn live-btn-warn", disabled,
                  onclick: () => {
                    ui.conflictAsk = false;
                    run({ type: "declare_conflict", item, person: null });
                  },
                  text: t("member.conflict.yes"),
                }),
                el("button", { type: "button", class: "button live-btn live-btn-quiet", onclick: () => { ui.conflictAsk = false; render(); }, text: t("member.cancel") }),
              ),
            ),
          );
        } else {
          parts.push(el("button", { type: "button", class: "button live-btn live-btn-quiet", disabled, onclick: () => { ui.conflictAsk = true; render(); }, text: t("member.conflict") }));
        }
      }
      return parts;
    });
  }

  function renderVote(state, online) {
    const poll = currentPoll(state);
    const pending = session.unacknowledged > 0 && ui.sending;
    const key = [
      poll?.id, poll?.state, poll?.voted_count, poll?.eligible_count, poll?.i_voted, poll?.i_am_eligible,
      poll?.result ? 1 : 0, poll?.roll_call ? 1 : 0, poll?.my_ineligibility, ui.picked, ui.sending, ui.counted, online, lang(), pending,
      state.polls.at(-1)?.id, state.polls.at(-1)?.state,
    ];
    draw.vote(key, () => {
      const parts = [el("h2", { id: "m-vote", text: poll ? poll.title : t("member.vote") })];
      const last = state.polls.at(-1);
      if (last?.state === "cancelled" && poll?.state !== "open") {
        parts.push(el("p", { class: "live-alert", role: "status", "data-testid": "poll-discarded", text: discardedText(last) }));
      }
      if (!poll) {
        parts.push(el("p", { class: "live-note", text: t("member.vote.none") }));
        return parts;
      }
      parts.push(el("p", { class: "live-meta", text: `${t(`live.poll.kind.${poll.kind}`)} · ${t(`live.rule.${poll.rule}`)} · ${t(`live.poll.state.${poll.state}`)}` }));
      if (poll.below_quorum) parts.push(el("p", { class: "live-badge live-badge-warn", text: t("quorum.mark") }));
      if (poll.state === "open") {
        parts.push(el("p", { class: "live-progress-text", text: progressText(poll) }), progressBar(poll));
        const mine = ui.counted?.poll === poll.id ? ui.counted : null;
        if (mine) {
          parts.push(el("p", { class: "live-counted", role: "status", "data-testid": "vote-counted", text: t("member.vote.counted.choice", { choice: choiceLabel(poll, mine.choice) }) }));
        } else if (ui.sending?.poll === poll.id) {
          parts.push(el("p", { class: "live-sending", role: "status", text: online ? t("member.vote.sending") : t("member.vote.pending_offline") }));
        } else if (poll.i_voted) {
          parts.push(el("p", { class: "live-counted", role: "status", "data-testid": "vote-counted", text: poll.my_choice ? t("member.vote.counted.choice", { choice: choiceLabel(poll, poll.my_choice) }) : t("member.vote.done") }));
        } else if (poll.kind === "manual") {
          parts.push(el("p", { class: "live-note", text: t("member.vote.manual") }));
        } else if (!poll.i_am_eligible) {
          parts.push(el("p", { class: "live-note", "data-testid": "not-eligible", text: t("member.vote.not_eligible") }));
          if (poll.my_ineligibility) parts.push(el("p", { class: "live-note", "data-testid": "not-eligible-reason", text: t(`live.ineligible.${poll.my_ineligibility}`) }));
        } else if (!online) {
          parts.push(el("p", { class: "live-warn", text: t("member.vote.needs_connection") }));
        } else if (ui.picked && ui.picked.poll === poll.id) {
          parts.push(
            el(
              "div",
              { class: "live-confirm" },
              el("p", { class: "live-confirm-choice", text: t("member.vote.confirm", { choice: choiceLabel(poll, ui.picked.choice) }) }),
              el(
                "div",
                { class: "live-actions" },
                el("button", { type: "button", class: "button live-btn live-btn-primary", "data-testid": "vote-send", onclick: () => castBallot(poll, ui.picked.choice), text: t("member.vote.send") }),
                el("button", { type: "button", class: "button live-btn live-btn-quiet", onclick: () => { ui.picked = null; render(); }, text: t("member.vote.change") }),
              ),
            ),
          );
        } else {
          const choices = poll.kind === "election"
            ? [...poll.options.map((name, i) => [{ candidate: i }, name, "cand"]), [{ choice: "no" }, t("live.choice.no"), "no"], [{ choice: "abstain" }, t("live.choice.abstain"), "abstain"]]
            : [[{ choice: "yes" }, t("live.choice.yes"), "yes"], [{ choice: "no" }, t("live.choice.no"), "no"], [{ choice: "abstain" }, t("live.choice.abstain"), "abstain"]];
          parts.push(
            el(
              "div",
              { class: "live-choices", role: "group", "aria-label": poll.title },
              ...choices.map(([choice, label, cls]) =>
                el("button", { type: "button", class: `live-choice live-choice-${cls}`, "data-choice": cls === "cand" ? `candidate-${choice.candidate}` : cls, onclick: () => { ui.picked = { poll: poll.id, choice }; render(); }, text: label }),
              ),
            ),
          );
        }
      } else if (poll.state === "closed" && poll.result) {
        parts.push(el("h3", { text: t("live.result.title") }), resultView(poll), rollCallView(poll));
        if (poll.i_voted && poll.my_choice) parts.push(el("p", { class: "live-note", text: t("member.vote.counted.choice", { choice: choiceLabel(poll, poll.my_choice) }) }));
      } else if (poll.state === "draft") {
        parts.push(el("p", { class: "live-note", text: t("live.poll.state.draft") }));
      }
      return parts;
    });
  }

  function castBallot(poll, choice) {
    ui.picked = null;
    ui.sending = { poll: poll.id, choice };
    ui.error = null;
    render();
    session.command({ type: "cast_ballot", poll: poll.id, choice }).then(
      () => {
        ui.counted = { poll: poll.id, choice };
        ui.sending = null;
        render();
      },
      (error) => {
        ui.sending = null;
        // A retry after a lost ack may meet its own earlier ballot: that one counted.
        if (error.kind === "already-voted") ui.counted = { poll: poll.id, choice };
        else ui.error = errorText(error);
        render();
      },
    );
  }

  function renderSpeak(state, online) {
    const position = state.speakers.findIndex((s) => s.person === session.person);
    const speaking = state.current_speaker?.person === session.person;
    const doubted = (state.quorum_doubts ?? []).some((d) => d.person === session.person);
    const key = [position, speaking, state.speakers.length, online, ui.busy, lang(), state.status, doubted];
    draw.speak(key, () => {
      const disabled = !online || ui.busy || state.status !== "running";
      const parts = [el("h2", { id: "m-speak", text: t("member.speak") })];
      parts.push(el("p", { class: "live-note", text: t("member.speak.queue", { n: state.speakers.length }) }));
      if (position >= 0) {
        parts.push(el("p", { class: "live-note", text: t("member.speak.position", { n: position + 1 }) }));
        parts.push(el("button", { type: "button", class: "button live-btn live-btn-quiet", disabled, onclick: () => run({ type: "withdraw_request" }), text: t("member.speak.withdraw") }));
      } else if (!speaking) {
        parts.push(
          el(
            "div",
            { class: "live-actions" },
            el("button", { type: "button", class: "button live-btn", disabled, onclick: () => run({ type: "request_to_speak", point_of_order: false }), text: t("member.speak.ask") }),
            el("button", { type: "button", class: "button live-btn live-btn-quiet", disabled, onclick: () => run({ type: "request_to_speak", point_of_order: true }), text: t("member.speak.poo") }),
          ),
        );
      }
      if (doubted) parts.push(el("p", { class: "live-note", role: "status", text: t("quorum.doubt.sent") }));
      else if (me(state)) {
        parts.push(el("button", {
          type: "button", class: "button live-btn live-btn-quiet", disabled, "data-testid": "doubt-quorum", text: t("quorum.doubt.action"),
          onclick: async () => {
            const answer = await confirmDialog({ title: t("quorum.doubt.action"), text: t("quorum.doubt.confirm"), confirmLabel: t("quorum.doubt.yes") });
            if (answer.ok) run({ type: "doubt_quorum" });
          },
        }));
      }
      return parts;
    });
  }

  const unsubscribe = session.subscribe(() => render());
  const unlang = onLangChange(() => render());
  return () => {
    unsubscribe();
    unlang();
    release();
  };
}
