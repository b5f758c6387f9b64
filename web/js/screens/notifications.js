// #/notifications: the member's notifications (invitations, supplements, cancellations,
// published minutes), newest first, unread ones marked; live over the personal stream. Below,
// the e-mail choice per kind.

import { onUserMessage } from "../live/socket.js";
import { register, t, lang } from "../i18n.js";
import { el, errorBox, errorMessage, loading } from "../ui.js";
import { invitationPdfButton } from "./meeting.js";

register({
  de: {
    "notifications.title": "Benachrichtigungen",
    "notifications.none": "Keine Benachrichtigungen.",
    "notifications.unread": "ungelesen",
    "notifications.unreadCount": "{n} ungelesen",
    "notifications.readAll": "Alle als gelesen markieren",
    "notifications.open": "Sitzung öffnen",
    "notifications.markRead": "Als gelesen markieren",
    "notifications.kind.invitation": "Einladung",
    "notifications.kind.supplement": "Nachtrag",
    "notifications.kind.cancellation": "Absage",
    "notifications.kind.minutes_published": "Niederschrift",
    "notifications.email.title": "Per E-Mail benachrichtigen",
    "notifications.email.intro": "E-Mails enthalten nur Öffentliches: Sitzung, Zeit, Ort, die öffentliche Tagesordnung und einen Link.",
    "notifications.email.to": "E-Mails gehen an {address}.",
    "notifications.email.noAddress": "Für Sie ist keine E-Mail-Adresse hinterlegt; wenden Sie sich an das Ratsbüro.",
    "notifications.email.saved": "Gespeichert.",
  },
  en: {
    "notifications.title": "Notifications",
    "notifications.none": "No notifications.",
    "notifications.unread": "unread",
    "notifications.unreadCount": "{n} unread",
    "notifications.readAll": "Mark all as read",
    "notifications.open": "Open meeting",
    "notifications.markRead": "Mark as read",
    "notifications.kind.invitation": "Invitation",
    "notifications.kind.supplement": "Supplement",
    "notifications.kind.cancellation": "Cancellation",
    "notifications.kind.minutes_published": "Minutes",
    "notifications.email.title": "Notify by e-mail",
    "notifications.email.intro": "E-mails carry public content only: meeting, time, place, the public agenda and a link.",
    "notifications.email.to": "E-mails go to {address}.",
    "notifications.email.noAddress": "No e-mail address is on file for you; please ask the council office.",
    "notifications.email.saved": "Saved.",
  },
});

const KINDS = ["invitation", "supplement", "cancellation", "minutes_published"];

function when(iso) {
  return new Date(iso).toLocaleString(lang() === "de" ? "de-DE" : "en-GB", {
    dateStyle: "medium", timeStyle: "short",
  });
}

export async function mount(root, _params, ctx) {
  const { api, navigate } = ctx;
  const status = el("p", { class: "status-line", role: "status" });
  const count = el("p", { class: "lead-small", id: "notifications-count" });
  const readAll = el("button", { type: "button", class: "button button-secondary", id: "notifications-read-all" },
    t("notifications.readAll"));
  const list = el("div", { id: "notifications-list" }, loading());
  const settings = el("div", { class: "notification-settings" }, loading());
  root.append(
    el("h1", { class: "page-title" }, t("notifications.title")),
    count,
    el("p", {}, readAll),
    status,
    list,
    el("section", { class: "calendar-section", "aria-labelledby": "notification-email-title" },
      el("h2", { class: "calendar-title", id: "notification-email-title" }, t("notifications.email.title")),
      el("p", { class: "lead-small" }, t("notifications.email.intro")),
      settings),
  );

  readAll.addEventListener("click", async () => {
    readAll.disabled = true;
    try {
      await api.post("/api/v1/notifications/read-all");
      await load();
    } catch (error) {
      status.textContent = errorMessage(error);
    } finally {
      readAll.disabled = false;
    }
  });

  function row(n) {
    const unread = !n.read_at;
    const open = el("a", { class: "notification-title", href: `#/meetings/${encodeURIComponent(n.meeting_id)}` }, n.title);
    open.addEventListener("click", async (event) => {
      if (!unread) return;
      event.preventDefault();
      try {
        await api.post(`/api/v1/notifications/${encodeURIComponent(n.id)}/read`);
      } catch {
        // open the meeting anyway
      }
      navigate(`#/meetings/${encodeURIComponent(n.meeting_id)}`);
    });
    return el("li", { class: unread ? "notification notification-unread" : "notification", "data-kind": n.kind },
      open,
      unread ? el("span", { class: "badge notification-new" }, t("notifications.unread")) : null,
      el("div", { class: "notification-meta" }, when(n.created_at)),
      n.invitation_number
        ? el("div", { class: "notification-pdf" }, invitationPdfButton(api, n.meeting_id, { kind: n.kind, number: n.invitation_number }))
        : null);
  }

  async function load() {
    try {
      const answer = await api.get("/api/v1/notifications");
      count.textContent = t("notifications.unreadCount", { n: answer.unread });
      readAll.hidden = answer.unread === 0;
      list.replaceChildren(answer.data.length
        ? el("ul", { class: "notification-list" }, ...answer.data.map(row))
        : el("p", { class: "notice" }, t("notifications.none")));
    } catch (error) {
      list.replaceChildren(errorBox(error, load));
    }
  }

  async function loadSettings() {
    try {
      const current = await api.get("/api/v1/me/notification-settings");
      const boxes = KINDS.map((kind) => {
        const id = `email-${kind}`;
        const box = el("input", { type: "checkbox", id, name: kind });
        box.checked = Boolean(current.email[kind]);
        box.disabled = !current.email_address;
        box.addEventListener("change", async () => {
          try {
            await api.put("/api/v1/me/notification-settings", { email: { [kind]: box.checked } });
            status.textContent = t("notifications.email.saved");
          } catch (error) {
            box.checked = !box.checked;
            status.textContent = errorMessage(error);
          }
        });
        return el("div", { class: "checkbox-row" }, box, " ", el("label", { for: id }, t(`notifications.kind.${kind}`)));
      });
      settings.replaceChildren(
        el("p", {}, current.email_address
          ? t("notifications.email.to", { address: current.email_address })
          : t("notifications.email.noAddress")),
        el("fieldset", { class: "checkbox-group" },
          el("legend", { class: "visually-hidden" }, t("notifications.email.title")), ...boxes));
    } catch (error) {
      settings.replaceChildren(errorBox(error, loadSettings));
    }
  }

  const off = onUserMessage((message) => {
    if (message.type === "notification" || message.type === "notifications_read") load();
  });
  await Promise.all([load(), loadSettings()]);
  return off;
}
