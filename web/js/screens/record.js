// The minutes as a record (Fassungen und Unterschriften): for one part of a meeting's minutes,
// the frozen versions with their state; the clerk freezes the draft as a version ("Endfassung
// erstellen", a correction with a reason once signed), the chair and the clerk sign with a code
// of their second factor, the clerk publishes the signed public part. GET …/minutes,
// POST …/minutes/versions, POST /minutes/{id}/signatures, POST /minutes/{id}/publication.

import { formatDateTime, register, t } from "../i18n.js";
import { el, errorMessage } from "../ui.js";
import { fileItem } from "./meeting.js";

register({
  de: {
    "record.title": "Fassungen und Unterschriften",
    "record.none": "Noch keine Endfassung. Der Entwurf unten wird zur Endfassung, sobald der Sitzungsdienst sie erstellt; danach unterschreiben Vorsitz und Schriftführung.",
    "record.version": "Fassung {n}",
    "record.status.awaiting_signatures": "wartet auf Unterschriften",
    "record.status.signed": "unterschrieben",
    "record.status.published": "unterschrieben und veröffentlicht",
    "record.status.superseded": "ersetzt durch eine neuere Fassung",
    "record.approved": "Genehmigt am {at}",
    "record.created": "Erstellt am {at}",
    "record.correction": "Berichtigung: {reason}",
    "record.signedBy": "{role}: {name}, {at} (Prüfkette Nr. {seq}, {head})",
    "record.missing": "{role}: noch nicht unterschrieben",
    "record.role.chair": "Vorsitz",
    "record.role.clerk": "Schriftführung",
    "record.freeze": "Endfassung erstellen",
    "record.freezeCorrection": "Berichtigte Fassung erstellen",
    "record.reason": "Grund der Berichtigung",
    "record.reasonHint": "Eine unterschriebene Fassung ändert sich nie. Eine Berichtigung ist eine neue Fassung, die die alte behält.",
    "record.sign": "Unterschreiben als {role}",
    "record.code": "Code aus Ihrer Authenticator-App",
    "record.codeHint": "Ihre Unterschrift wird mit dem zweiten Faktor bestätigt und im Prüfprotokoll festgehalten.",
    "record.confirmSign": "Jetzt unterschreiben",
    "record.cancel": "Abbrechen",
    "record.publish": "Öffentlichen Teil veröffentlichen",
    "record.confirmPublish": "Den unterschriebenen öffentlichen Teil jetzt im Bürgerinformationssystem und über OParl veröffentlichen?",
    "record.pdf": "Niederschrift, Fassung {n} (PDF)",
    "record.done": "Gespeichert.",
    "record.objections": "Einwendungen bei der Genehmigung",
    "record.objection": "{person}: {text}",
  },
  en: {
    "record.title": "Versions and signatures",
    "record.none": "No final version yet. The draft below becomes the final version once the clerk creates it; then the chair and the clerk sign.",
    "record.version": "Version {n}",
    "record.status.awaiting_signatures": "awaiting signatures",
    "record.status.signed": "signed",
    "record.status.published": "signed and published",
    "record.status.superseded": "superseded by a newer version",
    "record.approved": "Approved on {at}",
    "record.created": "Created on {at}",
    "record.correction": "Correction: {reason}",
    "record.signedBy": "{role}: {name}, {at} (audit chain no. {seq}, {head})",
    "record.missing": "{role}: not signed yet",
    "record.role.chair": "Chair",
    "record.role.clerk": "Clerk",
    "record.freeze": "Create final version",
    "record.freezeCorrection": "Create corrected version",
    "record.reason": "Reason for the correction",
    "record.reasonHint": "A signed version never changes. A correction is a new version that keeps the old one.",
    "record.sign": "Sign as {role}",
    "record.code": "Code from your authenticator app",
    "record.codeHint": "Your signature is confirmed with your second factor and kept in the audit log.",
    "record.confirmSign": "Sign now",
    "record.cancel": "Cancel",
    "record.publish": "Publish the public part",
    "record.confirmPublish": "Publish the signed public part in the citizens' portal and through OParl now?",
    "record.pdf": "Minutes, version {n} (PDF)",
    "record.done": "Saved.",
    "record.objections": "Objections at approval",
    "record.objection": "{person}: {text}",
  },
});

function failure(error) {
  const detail = error?.problem?.detail;
  return el("p", { class: "notice notice-error form-error" },
    detail ? `${errorMessage(error)} ${detail}` : errorMessage(error));
}

/** The signing form of one role: a six-digit code, then POST …/signatures. */
function signForm(api, version, role, done) {
  const id = `record-code-${version.id}-${role}`;
  const code = el("input", {
    class: "input", id, name: "code", inputmode: "numeric", autocomplete: "one-time-code",
    pattern: "[0-9]{6}", maxlength: "6", required: true, "aria-describedby": `${id}-hint`,
    "data-testid": "record-code",
  });
  const alert = el("div", { role: "alert" });
  const submit = el("button", { type: "submit", class: "button button-primary", "data-testid": "record-sign-confirm" }, t("record.confirmSign"));
  const form = el("form", { class: "record-sign-form", novalidate: true },
    el("label", { for: id, class: "label" }, t("record.code")), code,
    el("p", { class: "field-hint", id: `${id}-hint` }, t("record.codeHint")),
    alert,
    el("p", { class: "button-row" }, submit,
      el("button", { type: "button", class: "button button-secondary", onclick: () => form.remove() }, t("record.cancel"))));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    submit.disabled = true;
    alert.replaceChildren();
    try {
      await api.post(`/api/v1/minutes/${encodeURIComponent(version.id)}/signatures`, { role, code: code.value.trim() });
      done();
    } catch (error) {
      alert.replaceChildren(failure(error));
      code.value = "";
      code.focus();
    } finally {
      submit.disabled = false;
    }
  });
  queueMicrotask(() => code.focus());
  return form;
}

function versionBlock(api, record, version, reload) {
  const roles = ["chair", "clerk"];
  const block = el("li", { class: "record-version", "data-testid": "record-version", "data-status": version.status },
    el("p", {},
      el("strong", {}, t("record.version", { n: version.version })), " – ",
      el("span", { class: `record-status record-status-${version.status}` }, t(`record.status.${version.status}`))),
    el("p", { class: "field-hint" }, t("record.created", { at: formatDateTime(version.created_at) })));
  if (version.correction_reason) block.append(el("p", {}, t("record.correction", { reason: version.correction_reason })));
  if (version.approved_at) block.append(el("p", {}, el("strong", {}, t("record.approved", { at: formatDateTime(version.approved_at) }))));
  block.append(el("ul", { class: "minutes-list" }, ...roles.map((role) => {
    const s = version.signatures.find((x) => x.role === role);
    return el("li", { "data-testid": `record-signature-${role}` }, s
      ? t("record.signedBy", {
        role: t(`record.role.${role}`), name: s.name, at: formatDateTime(s.signed_at),
        seq: s.chain_seq, head: `${s.chain_head.slice(0, 16)}…`,
      })
      : t("record.missing", { role: t(`record.role.${role}`) }));
  })));
  if (version.status !== "superseded") {
    block.append(el("ul", { class: "file-list" }, fileItem({
      name: t("record.pdf", { n: version.version }), url: version.pdf, media_type: "application/pdf",
    }, api)));
  }
  const tools = el("p", { class: "button-row" });
  const slot = el("div");
  if (version.status === "awaiting_signatures") {
    for (const role of record.may_sign_as) {
      if (version.signatures.some((s) => s.role === role)) continue;
      tools.append(el("button", {
        type: "button", class: "button button-primary", "data-testid": `record-sign-${role}`,
        onclick: () => slot.replaceChildren(signForm(api, version, role, reload)),
      }, t("record.sign", { role: t(`record.role.${role}`) })));
    }
  }
  const mayEdit = version.part === "public" ? record.may_edit_public : record.may_edit_non_public;
  if (version.status === "signed" && version.part === "public" && mayEdit) {
    const alert = el("div", { role: "alert" });
    tools.append(el("button", {
      type: "button", class: "button button-primary", "data-testid": "record-publish",
      onclick: async () => {
        if (!window.confirm(t("record.confirmPublish"))) return;
        try {
          await api.post(`/api/v1/minutes/${encodeURIComponent(version.id)}/publication`, {});
          reload();
        } catch (error) {
          alert.replaceChildren(failure(error));
        }
      },
    }, t("record.publish")));
    slot.append(alert);
  }
  block.append(tools, slot);
  return block;
}

function freezeForm(api, meetingId, part, current, reload) {
  const correction = current && (current.status === "signed" || current.status === "published");
  const alert = el("div", { role: "alert" });
  const button = el("button", { type: "submit", class: "button button-secondary", "data-testid": "record-freeze" },
    t(correction ? "record.freezeCorrection" : "record.freeze"));
  const form = el("form", { class: "record-freeze", novalidate: true });
  let reason = null;
  if (correction) {
    const id = `record-reason-${part}`;
    reason = el("textarea", { class: "input textarea", id, rows: "2", maxlength: "2000", required: true, "aria-describedby": `${id}-hint` });
    form.append(el("label", { for: id, class: "label" }, t("record.reason")), reason,
      el("p", { class: "field-hint", id: `${id}-hint` }, t("record.reasonHint")));
  }
  form.append(alert, el("p", { class: "button-row" }, button));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    button.disabled = true;
    alert.replaceChildren();
    try {
      const body = { part };
      if (reason) body.correction_reason = reason.value;
      await api.post(`/api/v1/meetings/${encodeURIComponent(meetingId)}/minutes/versions`, body);
      reload();
    } catch (error) {
      alert.replaceChildren(failure(error));
    } finally {
      button.disabled = false;
    }
  });
  return form;
}

/** The record panel of one part; `reload` is called after every change. */
export async function recordPanel(api, meetingId, part) {
  const section = el("section", { class: "block minutes-block record", "aria-labelledby": "record-title", "data-testid": "record-panel" },
    el("h2", { id: "record-title", class: "block-title" }, t("record.title")));
  const body = el("div");
  section.append(body);
  async function reload() {
    try {
      const record = await api.get(`/api/v1/meetings/${encodeURIComponent(meetingId)}/minutes`);
      const versions = record.versions.filter((v) => v.part === part);
      const current = versions.find((v) => v.status !== "superseded");
      const parts = [];
      if (!versions.length) parts.push(el("p", { class: "field-hint" }, t("record.none")));
      else parts.push(el("ol", { class: "record-versions" }, ...versions.map((v) => versionBlock(api, record, v, reload))));
      const mayEdit = part === "public" ? record.may_edit_public : record.may_edit_non_public;
      if (mayEdit && !current?.approved_at) parts.push(freezeForm(api, meetingId, part, current, reload));
      if (part === "public" && record.objections.length) {
        parts.push(el("h3", {}, t("record.objections")),
          el("ul", { class: "minutes-list" }, ...record.objections.map((o) => el("li", {},
            t("record.objection", { person: o.person_name ?? "–", text: o.text })))));
      }
      body.replaceChildren(...parts);
    } catch (error) {
      body.replaceChildren(failure(error));
    }
  }
  await reload();
  return section;
}
