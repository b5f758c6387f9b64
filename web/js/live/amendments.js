// Amendments (Änderungsanträge) to the current item's proposal: members file them (and withdraw
// their own), the chair sees them in voting order (most far-reaching first unless reordered with
// a reason), creates one poll per amendment and the final vote on the proposal as amended last.

import { register, t } from "../i18n.js";
import { el } from "../ui.js";
import { uuid } from "./socket.js";
import { confirmDialog } from "./chair-tools.js";

register({
  de: {
    "amend.title": "Änderungsanträge",
    "amend.none": "Keine Änderungsanträge zu diesem Punkt.",
    "amend.noitem": "Rufen Sie zuerst einen Tagesordnungspunkt auf.",
    "amend.kind.replace": "ersetzend",
    "amend.kind.change": "ändernd",
    "amend.kind.add": "ergänzend",
    "amend.by": "von {name}",
    "amend.by.for": "von {name} für {group}",
    "amend.order.default": "Reihenfolge: der weitestgehende zuerst (ersetzend, ändernd, ergänzend).",
    "amend.order.chair": "Reihenfolge von der Sitzungsleitung festgelegt: {reason}",
    "amend.poll": "Änderungsantrag: {title}",
    "amend.poll.create": "Abstimmung anlegen",
    "amend.voted": "abgestimmt",
    "amend.final": "Schlussabstimmung anlegen (Vorlage in geänderter Fassung)",
    "amend.final.poll": "Schlussabstimmung: {title} (in geänderter Fassung)",
    "amend.up": "Früher abstimmen: {title}",
    "amend.down": "Später abstimmen: {title}",
    "amend.order.title": "Reihenfolge ändern?",
    "amend.order.text": "Die Reihenfolge der Abstimmungen über die Änderungsanträge ändert sich. Alle sehen den Grund.",
    "amend.order.reason": "Grund (Pflicht)",
    "amend.order.yes": "Reihenfolge ändern",
    "amend.file": "Änderungsantrag stellen",
    "amend.file.kind": "Art",
    "amend.file.title": "Kurztitel",
    "amend.file.text": "Wortlaut",
    "amend.file.for": "Für (z. B. Fraktion, freiwillig)",
    "amend.file.send": "Änderungsantrag einreichen",
    "amend.mine": "Ihre Änderungsanträge",
    "amend.withdraw": "Zurückziehen: {title}",
    "amend.withdrawn": "zurückgezogen",
  },
  en: {
    "amend.title": "Amendments",
    "amend.none": "No amendments to this item.",
    "amend.noitem": "Call an agenda item first.",
    "amend.kind.replace": "replacing",
    "amend.kind.change": "changing",
    "amend.kind.add": "adding",
    "amend.by": "by {name}",
    "amend.by.for": "by {name} for {group}",
    "amend.order.default": "Order: the most far-reaching first (replacing, changing, adding).",
    "amend.order.chair": "Order set by the chair: {reason}",
    "amend.poll": "Amendment: {title}",
    "amend.poll.create": "Create the vote",
    "amend.voted": "voted",
    "amend.final": "Create the final vote (proposal as amended)",
    "amend.final.poll": "Final vote: {title} (as amended)",
    "amend.up": "Vote earlier: {title}",
    "amend.down": "Vote later: {title}",
    "amend.order.title": "Change the order?",
    "amend.order.text": "The order of the votes on the amendments changes. Everyone sees the reason.",
    "amend.order.reason": "Reason (required)",
    "amend.order.yes": "Change the order",
    "amend.file": "File an amendment",
    "amend.file.kind": "Kind",
    "amend.file.title": "Short title",
    "amend.file.text": "Wording",
    "amend.file.for": "On behalf of (e.g. fraction, optional)",
    "amend.file.send": "File the amendment",
    "amend.mine": "Your amendments",
    "amend.withdraw": "Withdraw: {title}",
    "amend.withdrawn": "withdrawn",
  },
});

const KINDS = ["replace", "change", "add"];

function byLine(a) {
  return a.on_behalf_of ? t("amend.by.for", { name: a.filed_by_name, group: a.on_behalf_of }) : t("amend.by", { name: a.filed_by_name });
}

/** The chair's panel for the current item. `button(label, command|fn, opts)` and `run(command)` come from the console. */
export function amendmentPanel(state, { button, run }) {
  const parts = [el("h2", { id: "c-amend", text: t("amend.title") })];
  const item = state.agenda.find((i) => i.id === state.current_item);
  if (!item) {
    parts.push(el("p", { class: "live-note", text: t("amend.noitem") }));
    return parts;
  }
  const entry = (state.amendment_order ?? []).find((o) => o.item === item.id);
  const byId = new Map((state.amendments ?? []).map((a) => [a.id, a]));
  const order = (entry?.order ?? []).map((id) => byId.get(id)).filter(Boolean);
  if (!order.length) {
    parts.push(el("p", { class: "live-note", text: t("amend.none") }));
    return parts;
  }
  parts.push(el("p", { class: "live-note", "data-testid": "amend-order-note", text: entry.reason ? t("amend.order.chair", { reason: entry.reason }) : t("amend.order.default") }));
  const reorder = async (from, to) => {
    const answer = await confirmDialog({
      title: t("amend.order.title"), text: t("amend.order.text"), confirmLabel: t("amend.order.yes"),
      reasonLabel: t("amend.order.reason"), testid: "amend-order-dialog",
    });
    if (!answer.ok) return;
    const ids = order.map((a) => a.id);
    const [moved] = ids.splice(from, 1);
    ids.splice(to, 0, moved);
    await run({ type: "order_amendments", item: item.id, order: ids, reason: answer.reason });
  };
  const pollOf = (id) => state.polls.find((p) => p.amendment === id && p.state !== "cancelled");
  parts.push(el("ol", { class: "live-list", "data-testid": "amend-list" }, ...order.map((a, i) => {
    const poll = pollOf(a.id);
    return el("li", { class: "live-list-row live-amend", "data-amendment": a.id },
      el("span", { class: "live-list-name" },
        el("strong", { text: a.title }), ` (${t(`amend.kind.${a.kind}`)}, ${byLine(a)})`,
        el("span", { class: "live-amend-text", text: a.text })),
      el("span", { class: "live-list-actions" },
        poll
          ? el("span", { class: "live-badge", text: poll.state === "closed" ? t("amend.voted") : t(`live.poll.state.${poll.state}`) })
          : button(t("amend.poll.create"), () => run({ type: "create_poll", poll: uuid(), item: item.id, title: t("amend.poll", { title: a.title }), kind: "open", rule: "simple", amendment: a.id }), { cls: "live-btn-quiet live-btn-small", testid: "amend-poll" }),
        i > 0 && !poll ? iconButton(button, "↑", t("amend.up", { title: a.title }), () => reorder(i, i - 1)) : null,
        i < order.length - 1 && !poll ? iconButton(button, "↓", t("amend.down", { title: a.title }), () => reorder(i, i + 1)) : null));
  })));
  // The final vote; the server opens it only after every amendment was voted on.
  parts.push(el("div", { class: "live-actions" }, button(t("amend.final"), () => run({
    type: "create_poll", poll: uuid(), item: item.id, title: t("amend.final.poll", { title: item.title }), kind: "open", rule: "simple",
  }), { cls: "live-btn-quiet", testid: "amend-final" })));
  return parts;
}

function iconButton(button, symbol, label, action) {
  const b = button(symbol, action, { cls: "live-icon-btn" });
  b.setAttribute("aria-label", label);
  b.title = label;
  return b;
}

/** The member's form to file an amendment to the current item, and their own amendments. */
export function amendmentForm(state, { run, me, disabled, draft }) {
  const parts = [el("h2", { id: "m-amend", text: t("amend.file") })];
  const item = state.agenda.find((i) => i.id === state.current_item);
  if (!item) {
    parts.push(el("p", { class: "live-note", text: t("amend.noitem") }));
    return parts;
  }
  // What the member typed survives a redraw (`draft` lives as long as the screen).
  const kind = el("select", { id: "m-amend-kind", class: "live-input" }, ...KINDS.map((k) => el("option", { value: k, selected: k === (draft.kind ?? "change"), text: t(`amend.kind.${k}`) })));
  const title = el("input", { id: "m-amend-title", class: "live-input", type: "text", maxlength: "200", autocomplete: "off", value: draft.title ?? "" });
  const text = el("textarea", { id: "m-amend-text", class: "live-input", rows: "3", maxlength: "20000" });
  text.value = draft.text ?? "";
  const group = el("input", { id: "m-amend-for", class: "live-input", type: "text", maxlength: "200", autocomplete: "off", value: draft.group ?? "" });
  for (const [key, field] of [["kind", kind], ["title", title], ["text", text], ["group", group]]) {
    field.addEventListener("input", () => { draft[key] = field.value; });
  }
  const form = el("form", { class: "live-form" },
    el("p", { class: "live-meta", text: `${item.number} ${item.title}` }),
    el("div", { class: "live-field" }, el("label", { for: "m-amend-kind", text: t("amend.file.kind") }), kind),
    el("div", { class: "live-field" }, el("label", { for: "m-amend-title", text: t("amend.file.title") }), title),
    el("div", { class: "live-field" }, el("label", { for: "m-amend-text", text: t("amend.file.text") }), text),
    el("div", { class: "live-field" }, el("label", { for: "m-amend-for", text: t("amend.file.for") }), group),
    el("button", { type: "submit", class: "button live-btn", disabled, "data-testid": "amend-file", text: t("amend.file.send") }));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!title.value.trim()) { title.focus(); return; }
    if (!text.value.trim()) { text.focus(); return; }
    // Cleared once the server acknowledged it.
    await run({
      type: "file_amendment", amendment: uuid(), item: item.id, kind: kind.value, title: title.value.trim(),
      text: text.value.trim(), on_behalf_of: group.value.trim() || null,
    }, () => { draft.title = ""; draft.text = ""; });
  });
  parts.push(form);
  const mine = (state.amendments ?? []).filter((a) => a.filed_by === me && a.item === item.id);
  if (mine.length) {
    parts.push(el("p", { class: "live-label", text: t("amend.mine") }), el("ul", { class: "live-list" }, ...mine.map((a) =>
      el("li", { class: "live-list-row" },
        el("span", { class: "live-list-name", text: a.withdrawn ? `${a.title} (${t("amend.withdrawn")})` : a.title }),
        a.withdrawn ? null : el("button", {
          type: "button", class: "button live-btn live-btn-quiet live-btn-small", disabled, text: t("amend.withdraw", { title: a.title }),
          onclick: () => run({ type: "withdraw_amendment", amendment: a.id }),
        })))));
  }
  return parts;
}
