// My devices: the signed-in device sessions; sign out a lost tablet (with a confirm step). Below
// them the personal calendar feed: create it (its address is shown once), see whether one is
// active, end it.

import { formatDateTime, register, t } from "../i18n.js";
import { el, errorBox, errorMessage, loading } from "../ui.js";

register({
  de: {
    "devices.title": "Meine Geräte",
    "devices.intro": "Hier sind alle Geräte angemeldet, die Sie benutzen. Ist ein Tablet verloren gegangen, melden Sie es hier ab.",
    "devices.current": "Dieses Gerät",
    "devices.created": "Angemeldet seit",
    "devices.lastUsed": "Zuletzt benutzt",
    "devices.revoke": "Abmelden",
    "devices.revokeLabel": "{name} abmelden",
    "devices.confirm": "Wirklich abmelden?",
    "devices.confirmYes": "Ja, abmelden",
    "devices.cancel": "Abbrechen",
    "devices.revoked": "{name} wurde abgemeldet.",
    "devices.none": "Keine angemeldeten Geräte.",
    "calendar.title": "Kalender-Abo",
    "calendar.intro": "Abonnieren Sie Ihre Sitzungstermine in der Kalender-App Ihres Telefons oder Computers. Die Adresse ist persönlich: Wer sie kennt, sieht Ihre Sitzungstermine (Name, Zeit, Ort – keine Tagesordnung). Geben Sie sie nicht weiter.",
    "calendar.none": "Kein Kalender-Abo aktiv.",
    "calendar.active": "Ein Kalender-Abo ist aktiv.",
    "calendar.created": "Erstellt",
    "calendar.lastUsed": "Zuletzt abgerufen",
    "calendar.never": "noch nie",
    "calendar.create": "Kalender-Adresse erstellen",
    "calendar.renew": "Neue Adresse erstellen",
    "calendar.renewHint": "Eine neue Adresse ersetzt die bisherige; die alte funktioniert dann nicht mehr.",
    "calendar.revoke": "Abo beenden",
    "calendar.confirm": "Kalender-Abo wirklich beenden? Die Adresse funktioniert dann nicht mehr.",
    "calendar.confirmYes": "Ja, beenden",
    "calendar.revoked": "Das Kalender-Abo wurde beendet.",
    "calendar.url": "Ihre Kalender-Adresse",
    "calendar.urlHint": "Diese Adresse wird nur jetzt angezeigt. Kopieren Sie sie in Ihre Kalender-App („Kalender abonnieren“ bzw. „Kalender per URL hinzufügen“).",
    "calendar.copy": "Adresse kopieren",
    "calendar.copied": "Die Adresse wurde kopiert.",
    "calendar.copyFailed": "Kopieren ging nicht – bitte markieren und von Hand kopieren.",
  },
  en: {
    "devices.title": "My devices",
    "devices.intro": "These are the devices you are signed in on. If a tablet got lost, sign it out here.",
    "devices.current": "This device",
    "devices.created": "Signed in since",
    "devices.lastUsed": "Last used",
    "devices.revoke": "Sign out",
    "devices.revokeLabel": "Sign out {name}",
    "devices.confirm": "Really sign out?",
    "devices.confirmYes": "Yes, sign out",
    "devices.cancel": "Cancel",
    "devices.revoked": "{name} was signed out.",
    "devices.none": "No signed-in devices.",
    "calendar.title": "Calendar subscription",
    "calendar.intro": "Subscribe to your meeting dates in the calendar app of your phone or computer. The address is personal: whoever knows it sees your meeting dates (name, time, place – no agenda). Do not share it.",
    "calendar.none": "No calendar subscription is active.",
    "calendar.active": "A calendar subscription is active.",
    "calendar.created": "Created",
    "calendar.lastUsed": "Last fetched",
    "calendar.never": "never",
    "calendar.create": "Create calendar address",
    "calendar.renew": "Create a new address",
    "calendar.renewHint": "A new address replaces the current one; the old one stops working.",
    "calendar.revoke": "End subscription",
    "calendar.confirm": "Really end the calendar subscription? The address will stop working.",
    "calendar.confirmYes": "Yes, end it",
    "calendar.revoked": "The calendar subscription was ended.",
    "calendar.url": "Your calendar address",
    "calendar.urlHint": "This address is shown only now. Copy it into your calendar app (\"Subscribe to calendar\" or \"Add calendar from URL\").",
    "calendar.copy": "Copy address",
    "calendar.copied": "The address was copied.",
    "calendar.copyFailed": "Copying did not work – please select and copy it by hand.",
  },
});

export async function mount(root, _params, ctx) {
  const { api, navigate } = ctx;
  const status = el("p", { class: "status-line", role: "status" });
  const list = el("div", {}, loading());
  const calendarStatus = el("p", { class: "status-line", role: "status" });
  const calendar = el("div", { class: "calendar-feed" }, loading());
  root.append(
    el("h1", { class: "page-title" }, t("devices.title")),
    el("p", { class: "lead-small" }, t("devices.intro")),
    status,
    list,
    el("section", { class: "calendar-section", "aria-labelledby": "calendar-title" },
      el("h2", { class: "calendar-title", id: "calendar-title" }, t("calendar.title")),
      el("p", { class: "lead-small" }, t("calendar.intro")),
      calendarStatus,
      calendar),
  );

  function actions(device, box) {
    const revoke = el("button", {
      type: "button", class: "button button-danger-outline",
      "aria-label": t("devices.revokeLabel", { name: device.name }),
    }, t("devices.revoke"));
    revoke.addEventListener("click", () => {
      const yes = el("button", { type: "button", class: "button button-danger" }, t("devices.confirmYes"));
      const no = el("button", { type: "button", class: "button button-secondary" }, t("devices.cancel"));
      no.addEventListener("click", () => {
        box.replaceChildren(...actions(device, box));
        box.querySelector("button")?.focus();
      });
      yes.addEventListener("click", async () => {
        yes.disabled = true;
        try {
          await api.del(`/api/v1/me/devices/${encodeURIComponent(device.id)}`);
          if (device.current) {
            api.clearSession();
            navigate("#/login");
            return;
          }
          // The list first, then the message: what it announces is already on the screen.
          await load();
          status.textContent = t("devices.revoked", { name: device.name });
        } catch (error) {
          yes.disabled = false;
          status.textContent = errorMessage(error);
        }
      });
      box.replaceChildren(el("span", { class: "confirm-text" }, t("devices.confirm")), yes, no);
      yes.focus();
    });
    return [revoke];
  }

  async function load() {
    try {
      const answer = await api.get("/api/v1/me/devices");
      const devices = Array.isArray(answer) ? answer : answer.data ?? [];
      if (!devices.length) {
        list.replaceChildren(el("p", { class: "notice" }, t("devices.none")));
        return;
      }
      devices.sort((a, b) => Number(b.current) - Number(a.current));
      list.replaceChildren(el("ul", { class: "device-list" }, ...devices.map((device) => {
        const box = el("div", { class: "device-actions" });
        box.append(...actions(device, box));
        return el("li", { class: `device${device.current ? " device-current" : ""}` },
          el("div", { class: "device-info" },
            el("h2", { class: "device-name" }, device.name,
              device.current ? el("span", { class: "badge badge-ok" }, t("devices.current")) : null),
            el("p", { class: "device-meta" }, `${t("devices.created")}: ${formatDateTime(device.created)}`),
            el("p", { class: "device-meta" }, `${t("devices.lastUsed")}: ${formatDateTime(device.last_used)}`)),
          box);
      })));
    } catch (error) {
      list.replaceChildren(errorBox(error, load));
    }
  }
  /** The address, shown once right after it was created, with a copy button. */
  function created(feed) {
    const input = el("input", {
      id: "calendar-url", class: "input calendar-url", type: "text", readonly: true,
      value: feed.url, spellcheck: "false", autocomplete: "off",
    });
    const copy = el("button", { type: "button", class: "button button-primary" }, t("calendar.copy"));
    copy.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(feed.url);
        calendarStatus.textContent = t("calendar.copied");
      } catch {
        input.focus();
        input.select();
        calendarStatus.textContent = t("calendar.copyFailed");
      }
    });
    input.addEventListener("focus", () => input.select());
    return el("div", { class: "field calendar-created" },
      el("label", { for: "calendar-url" }, t("calendar.url")),
      input,
      el("p", { class: "field-hint" }, t("calendar.urlHint")),
      el("div", { class: "button-row" }, copy));
  }

  async function createFeed(button) {
    button.disabled = true;
    try {
      const feed = await api.post("/api/v1/me/calendar");
      calendarStatus.textContent = "";
      await loadCalendar(feed);
      document.getElementById("calendar-url")?.focus();
    } catch (error) {
      button.disabled = false;
      calendarStatus.textContent = errorMessage(error);
    }
  }

  function calendarActions(state, box) {
    const create = el("button", { type: "button", class: "button button-primary" },
      t(state.active ? "calendar.renew" : "calendar.create"));
    create.addEventListener("click", () => createFeed(create));
    if (!state.active) return [create];
    const revoke = el("button", { type: "button", class: "button button-danger-outline" }, t("calendar.revoke"));
    revoke.addEventListener("click", () => {
      const yes = el("button", { type: "button", class: "button button-danger" }, t("calendar.confirmYes"));
      const no = el("button", { type: "button", class: "button button-secondary" }, t("devices.cancel"));
      no.addEventListener("click", () => {
        box.replaceChildren(...calendarActions(state, box));
        box.querySelector("button")?.focus();
      });
      yes.addEventListener("click", async () => {
        yes.disabled = true;
        try {
          await api.del("/api/v1/me/calendar");
          calendarStatus.textContent = t("calendar.revoked");
          await loadCalendar();
        } catch (error) {
          yes.disabled = false;
          calendarStatus.textContent = errorMessage(error);
        }
      });
      box.replaceChildren(el("span", { class: "confirm-text" }, t("calendar.confirm")), yes, no);
      yes.focus();
    });
    return [create, revoke];
  }

  /** The feed's state; `fresh` is the answer of a create, whose address is shown this once. */
  async function loadCalendar(fresh) {
    try {
      const state = await api.get("/api/v1/me/calendar");
      const box = el("div", { class: "button-row" });
      box.append(...calendarActions(state, box));
      const parts = [];
      if (fresh) parts.push(created(fresh));
      if (state.active) {
        parts.push(el("p", { class: "calendar-state" }, t("calendar.active")),
          el("p", { class: "device-meta" }, `${t("calendar.created")}: ${formatDateTime(state.created)}`),
          el("p", { class: "device-meta" }, `${t("calendar.lastUsed")}: ${
            state.last_used ? formatDateTime(state.last_used) : t("calendar.never")}`),
          el("p", { class: "field-hint" }, t("calendar.renewHint")));
      } else {
        parts.push(el("p", { class: "calendar-state" }, t("calendar.none")));
      }
      calendar.replaceChildren(...parts, box);
    } catch (error) {
      calendar.replaceChildren(errorBox(error, () => loadCalendar()));
    }
  }

  await Promise.all([load(), loadCalendar()]);
}
