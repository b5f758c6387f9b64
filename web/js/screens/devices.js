// My devices: the signed-in device sessions; sign out a lost tablet (with a confirm step).

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
  },
});

export async function mount(root, _params, ctx) {
  const { api, navigate } = ctx;
  const status = el("p", { class: "status-line", role: "status" });
  const list = el("div", {}, loading());
  root.append(
    el("h1", { class: "page-title" }, t("devices.title")),
    el("p", { class: "lead-small" }, t("devices.intro")),
    status,
    list,
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
          status.textContent = t("devices.revoked", { name: device.name });
          await load();
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
  await load();
}
