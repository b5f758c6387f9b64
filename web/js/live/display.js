// The room display (`#/display/{id}`): for the projector or the public livestream, no login. It
// always takes the public view, so a non-public item never shows here. Large type.

import { register, t, lang, onLangChange } from "../i18n.js";
import { el } from "../ui.js";
import { join, currentPoll } from "./socket.js";
import {
  connectionIndicator, section, itemLabel, resultView, rollCallView, outcomeText, progressText, progressBar,
  meetingInfo, useLiveStyles,
} from "./common.js";
import { speakingClock, clockOffset, discardedText } from "./chair-tools.js";

register({
  de: {
    "display.title": "Saalanzeige",
    "display.waiting": "Bitte warten …",
  },
  en: {
    "display.title": "Room display",
    "display.waiting": "Please wait …",
  },
});

export async function mount(root, params, ctx) {
  useLiveStyles();
  document.body.classList.add("live-display-mode");
  const meetingId = params.id;
  const { session, release } = join(meetingId, { anonymous: true });
  const info = await meetingInfo(ctx.api, meetingId, { anonymous: true });

  const conn = el("div", { class: "live-conn-wrap live-conn-corner", role: "status", "aria-live": "polite" });
  const head = el("header", { class: "display-head" });
  const poll = el("section", { class: "display-poll", "aria-live": "polite", "aria-label": t("live.poll.state.open") });
  const speaker = el("section", { class: "display-speaker", "aria-live": "polite" });
  root.replaceChildren(el("div", { class: "live live-display" }, conn, head, speaker, poll));
  const draw = { conn: section(conn), head: section(head), poll: section(poll), speaker: section(speaker) };

  function render() {
    const state = session.state;
    draw.conn(session.status + lang(), () => connectionIndicator(session));
    if (!state) {
      draw.head("wait" + lang(), () => [
        el("h1", { class: "display-meeting", text: info?.name ?? t("display.title") }),
        el("p", { class: "display-item", text: t("display.waiting") }),
      ]);
      return;
    }
    const itemText = state.current_item
      ? itemLabel(state, state.current_item)
      : state.non_public_part ? t("live.item.nonpublic") : t("live.item.none");
    draw.head([itemText, state.status, info?.name, lang()], () => [
      el("p", { class: "display-meeting", text: info ? `${info.organization?.name ?? ""} · ${info.name}` : t("display.title") }),
      el("h1", { class: "display-item", "data-testid": "display-item", text: itemText }),
      state.status !== "running" ? el("p", { class: "display-status", text: t(`live.status.${state.status}`) }) : null,
    ]);
    const s = state.current_speaker;
    offset = clockOffset(state);
    draw.speaker([s?.id, s?.name, lang()], () =>
      s
        ? [
            el("p", { class: "display-label", text: t("live.speaker.current") }),
            el("p", { class: "display-speaker-name", text: s.point_of_order ? `${s.name} (${t("live.speaker.poo")})` : s.name }),
            clockSlot,
          ]
        : null,
    );
    tick();
    const p = currentPoll(state);
    const visible = p && p.state !== "draft" && p.state !== "cancelled" ? p : null;
    const last = state.polls.at(-1);
    const discarded = last?.state === "cancelled" && visible?.state !== "open" ? last : null;
    draw.poll([visible?.id, visible?.state, visible?.voted_count, visible?.eligible_count, visible?.result ? 1 : 0, visible?.roll_call ? 1 : 0, lang(), discarded?.id], () => {
      if (discarded) return el("p", { class: "display-discarded", "data-testid": "display-discarded", text: discardedText(discarded) });
      if (!visible) return null;
      const parts = [
        el("p", { class: "display-label", text: `${t(`live.poll.kind.${visible.kind}`)} · ${t(`live.poll.state.${visible.state}`)}` }),
        el("h2", { class: "display-poll-title", text: visible.title }),
      ];
      if (visible.below_quorum) parts.push(el("p", { class: "display-label display-warn", text: t("quorum.mark") }));
      if (visible.state === "open") {
        parts.push(el("p", { class: "display-progress", "data-testid": "display-progress", text: progressText(visible) }), progressBar(visible));
      } else if (visible.result) {
        // A named poll: the outcome, then the roll call grouped by fraction (its summary line
        // carries the totals, so the bars give way to the names).
        if (visible.roll_call) {
          const accepted = visible.result.outcome === "adopted";
          parts.push(
            el("p", { class: `live-outcome ${accepted ? "live-outcome-yes" : "live-outcome-no"}`, role: "status", text: outcomeText(visible) }),
            rollCallView(visible, { large: true }),
          );
        } else parts.push(resultView(visible, { large: true }));
      }
      return parts;
    });
  }

  // The speaking-time clock, redrawn every second from the speaker's start time.
  let offset = 0;
  const clockSlot = el("div", { class: "display-clock-slot", role: "timer", "aria-live": "off" });
  const tick = () => {
    const state = session.state;
    clockSlot.replaceChildren(...(state ? [speakingClock(state, offset, { large: true })].filter(Boolean) : []));
  };
  const ticker = setInterval(tick, 1000);
  const unsubscribe = session.subscribe(() => render());
  const unlang = onLangChange(() => render());
  return () => {
    clearInterval(ticker);
    unsubscribe();
    unlang();
    release();
    document.body.classList.remove("live-display-mode");
  };
}
