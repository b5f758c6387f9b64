// Settings of the council (body): for now the notice period of invitations (Ladungsfrist). Admins
// change it; clerks see what applies. Empty means the server's default.

import { register, t } from "../i18n.js";
import { el, errorBox, errorMessage, loading } from "../ui.js";

register({
  de: {
    "settings.title": "Einstellungen",
    "settings.intro": "Einstellungen, die für alle Sitzungen des Rates und seiner Ausschüsse gelten.",
    "settings.notice": "Ladungsfrist in Tagen",
    "settings.noticeHint": "Ganze Tage von 0 bis 60. Leer lassen: die Vorgabe des Servers ({days} Tage).",
    "settings.effective": "Es gilt: Einladungen gehen spätestens {days} Tage vor der Sitzung hinaus.",
    "settings.effectiveDefault": "Es gilt die Vorgabe des Servers: {days} Tage.",
    "settings.save": "Speichern",
    "settings.saved": "Gespeichert. Die Ladungsfrist beträgt jetzt {days} Tage.",
    "settings.unchanged": "Nichts geändert.",
    "settings.invalid": "Bitte eine ganze Zahl von 0 bis 60 eingeben oder das Feld leer lassen.",
    "settings.readOnly": "Nur die Administration kann diese Einstellungen ändern.",
  },
  en: {
    "settings.title": "Settings",
    "settings.intro": "Settings that apply to every meeting of the council and its committees.",
    "settings.notice": "Notice period of invitations in days",
    "settings.noticeHint": "Whole days from 0 to 60. Leave empty for the server's default ({days} days).",
    "settings.effective": "In force: invitations go out at least {days} days before the meeting.",
    "settings.effectiveDefault": "The server's default applies: {days} days.",
    "settings.save": "Save",
    "settings.saved": "Saved. The notice period is now {days} days.",
    "settings.unchanged": "Nothing changed.",
    "settings.invalid": "Please enter a whole number from 0 to 60, or leave the field empty.",
    "settings.readOnly": "Only administrators can change these settings.",
  },
});

export async function mount(root, _params, ctx) {
  const { api } = ctx;
  const admin = api.user()?.site_role === "admin";
  const status = el("p", { class: "status-line", role: "status", "data-testid": "settings-status" });
  const body = el("div", {}, loading());
  root.append(
    el("h1", { class: "page-title" }, t("settings.title")),
    el("p", { class: "lead-small" }, t("settings.intro")),
    body,
    status,
  );

  function effective(view) {
    return view.invitation_notice_days == null
      ? t("settings.effectiveDefault", { days: view.default_invitation_notice_days })
      : t("settings.effective", { days: view.effective_invitation_notice_days });
  }

  function show(view) {
    const input = el("input", {
      type: "number", id: "settings-notice", class: "input input-narrow", min: 0, max: 60, step: 1,
      inputmode: "numeric", "aria-describedby": "settings-notice-hint settings-effective",
      disabled: !admin,
    });
    input.value = view.invitation_notice_days == null ? "" : String(view.invitation_notice_days);
    const inForce = el("p", { class: "field-hint", id: "settings-effective", "data-testid": "settings-effective" }, effective(view));
    const save = el("button", { type: "submit", class: "button button-primary" }, t("settings.save"));
    const form = el("form", { class: "settings-form", novalidate: true },
      el("div", { class: "field" },
        el("label", { for: "settings-notice" }, t("settings.notice")),
        input,
        el("p", { class: "field-hint", id: "settings-notice-hint" },
          t("settings.noticeHint", { days: view.default_invitation_notice_days }))),
      inForce,
      admin ? save : el("p", { class: "notice" }, t("settings.readOnly")));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const text = input.value.trim();
      if (text !== "" && !(/^\d{1,2}$/.test(text) && Number(text) <= 60)) {
        status.textContent = t("settings.invalid");
        input.setAttribute("aria-invalid", "true");
        input.focus();
        return;
      }
      input.removeAttribute("aria-invalid");
      const days = text === "" ? null : Number(text);
      if (days === view.invitation_notice_days) {
        status.textContent = t("settings.unchanged");
        return;
      }
      save.disabled = true;
      try {
        const next = await api.put("/api/v1/body-settings", { invitation_notice_days: days });
        view = next;
        inForce.textContent = effective(next);
        status.textContent = t("settings.saved", { days: next.effective_invitation_notice_days });
      } catch (error) {
        status.textContent = errorMessage(error);
        if (error?.status === 422) input.setAttribute("aria-invalid", "true");
      } finally {
        save.disabled = false;
      }
    });
    body.replaceChildren(form);
  }

  async function load() {
    try {
      show(await api.get("/api/v1/body-settings"));
    } catch (error) {
      body.replaceChildren(errorBox(error, load));
    }
  }
  await load();
  return () => {};
}
