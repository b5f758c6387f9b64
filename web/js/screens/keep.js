// "Für offline speichern" (issue 18): the block on a meeting that keeps it on the device, with its
// progress (files and bytes) and the space used, and the home screen's list of meetings kept
// offline with the annotations still waiting to be sent. The store itself: js/offline.js; the
// annotations' outbox: js/outbox.js.

import { formatDateTime, formatSize, register, t } from "../i18n.js";
import { keepMeeting, keeping, keptMeeting, keptMeetings, onOfflineChange, removeMeeting, askPersistent, spaceUsed } from "../offline.js";
import { onOutbox, outboxEntries } from "../outbox.js";
import { el, errorMessage } from "../ui.js";

register({
  de: {
    "keep.title": "Offline lesen",
    "keep.hint": "Speichert die Sitzung, die Tagesordnung, die Vorlagen, alle Dateien, die Sie lesen dürfen, und Ihre Anmerkungen auf diesem Gerät – zum Lesen und Anmerken ohne Verbindung. Abstimmen und die Live-Sitzung brauchen eine Verbindung.",
    "keep.button": "Für offline speichern",
    "keep.update": "Offline-Kopie aktualisieren",
    "keep.remove": "Offline-Kopie entfernen",
    "keep.removed": "Die Offline-Kopie wurde von diesem Gerät entfernt.",
    "keep.badge": "Offline verfügbar",
    "keep.state": "Gespeichert {date}: {files} von {total} Dateien, {size}.",
    "keep.incomplete": "Nicht alle Dateien konnten gespeichert werden; „Aktualisieren“ versucht es erneut.",
    "keep.progress": "Fortschritt beim Speichern",
    "keep.progressText": "{done} von {total} Dateien · {bytes} von {totalBytes} ({percent} %)",
    "keep.working": "Wird gespeichert …",
    "keep.done": "Offline gespeichert: {files} von {total} Dateien, {size}.",
    "keep.gone": "Diese Sitzung steht Ihnen nicht mehr zur Verfügung; die Offline-Kopie wurde gelöscht.",
    "keep.offlineNow": "Ohne Verbindung: Sie lesen die Offline-Kopie vom {date}.",
    "keep.needsConnection": "Zum Speichern braucht es eine Verbindung.",
    "keep.space": "Belegt auf diesem Gerät: {usage}",
    "keep.spaceQuota": "Belegt auf diesem Gerät: {usage} von {quota} verfügbar",
    "keep.spaceKept": "davon offline gespeicherte Sitzungen: {kept}",
    "keep.unsupported": "Dieser Browser kann nichts für offline speichern.",
    "keep.home": "Offline gespeichert",
    "keep.homeNone": "Keine Sitzung offline gespeichert. Öffnen Sie eine Sitzung und wählen Sie „Für offline speichern“.",
    "keep.homeEntry": "{files} von {total} Dateien · {size} · Stand {date}",
    "keep.outbox": "Anmerkungen auf diesem Gerät",
    "keep.outboxWaiting": "{n} wartet/warten auf Verbindung",
    "keep.outboxConflicts": "{n} Konflikt(e) – bitte entscheiden",
    "keep.outboxFile": "Zum Dokument",
  },
  en: {
    "keep.title": "Read offline",
    "keep.hint": "Stores the meeting, the agenda, the papers, every file you may read and your annotations on this device – for reading and annotating without a connection. Voting and the live session need a connection.",
    "keep.button": "Keep offline",
    "keep.update": "Update the offline copy",
    "keep.remove": "Remove the offline copy",
    "keep.removed": "The offline copy was removed from this device.",
    "keep.badge": "Available offline",
    "keep.state": "Stored {date}: {files} of {total} files, {size}.",
    "keep.incomplete": "Not every file could be stored; “Update” tries again.",
    "keep.progress": "Storing progress",
    "keep.progressText": "{done} of {total} files · {bytes} of {totalBytes} ({percent} %)",
    "keep.working": "Storing …",
    "keep.done": "Kept offline: {files} of {total} files, {size}.",
    "keep.gone": "This meeting is no longer available to you; the offline copy was deleted.",
    "keep.offlineNow": "No connection: you are reading the offline copy of {date}.",
    "keep.needsConnection": "Storing needs a connection.",
    "keep.space": "Used on this device: {usage}",
    "keep.spaceQuota": "Used on this device: {usage} of {quota} available",
    "keep.spaceKept": "of which meetings kept offline: {kept}",
    "keep.unsupported": "This browser cannot keep anything offline.",
    "keep.home": "Kept offline",
    "keep.homeNone": "No meeting kept offline. Open a meeting and choose “Keep offline”.",
    "keep.homeEntry": "{files} of {total} files · {size} · as of {date}",
    "keep.outbox": "Annotations on this device",
    "keep.outboxWaiting": "{n} waiting for connection",
    "keep.outboxConflicts": "{n} conflict(s) – please decide",
    "keep.outboxFile": "To the document",
  },
});

const supported = () => typeof indexedDB !== "undefined" && typeof caches !== "undefined";

/** "Belegt auf diesem Gerät: 12 MB von 2 GB verfügbar · davon …" */
async function spaceText() {
  const space = await spaceUsed();
  const usage = formatSize(space.usage);
  const first = space.quota ? t("keep.spaceQuota", { usage, quota: formatSize(space.quota) }) : t("keep.space", { usage });
  return space.estimated ? `${first} · ${t("keep.spaceKept", { kept: formatSize(space.kept) })}` : first;
}

function percentOf(p) {
  if (p.totalBytes > 0) return Math.min(100, Math.round((p.bytes / p.totalBytes) * 100));
  return p.total > 0 ? Math.round((p.done / p.total) * 100) : 100;
}

/** The "Offline lesen" block of meeting `meetingId`. */
export function keepBlock(meetingId) {
  const state = el("p", { class: "keep-state", "data-testid": "keep-state" });
  const progress = el("progress", { class: "keep-bar", max: "100", value: "0", "aria-labelledby": "keep-progress-label", "data-testid": "keep-progress" });
  const progressText = el("span", { class: "keep-progress-text", "data-testid": "keep-progress-text" });
  const progressBox = el("div", { class: "keep-progress", hidden: true },
    el("span", { id: "keep-progress-label", class: "visually-hidden" }, t("keep.progress")), progress, progressText);
  const space = el("p", { class: "field-hint keep-space", "data-testid": "keep-space" });
  const status = el("p", { class: "keep-status", role: "status", "data-testid": "keep-status" });
  const keepButton = el("button", { type: "button", class: "button button-primary", "data-testid": "keep" }, t("keep.button"));
  const removeButton = el("button", { type: "button", class: "button button-secondary", "data-testid": "keep-remove", hidden: true }, t("keep.remove"));
  const badge = el("span", { class: "badge badge-ok keep-badge", hidden: true, "data-testid": "keep-badge" }, t("keep.badge"));
  const section = el("section", { class: "block keep-block", "aria-labelledby": "keep-title", "data-testid": "keep-block" },
    el("h2", { id: "keep-title", class: "block-title" }, t("keep.title"), " ", badge),
    el("p", { class: "field-hint" }, t("keep.hint")),
    state, progressBox,
    el("p", { class: "button-row" }, keepButton, removeButton),
    space, status);

  const show = (p) => {
    progressBox.hidden = false;
    const percent = percentOf(p);
    progress.value = percent;
    progress.setAttribute("aria-valuetext", `${percent} %`);
    progressText.textContent = t("keep.progressText", {
      done: p.done, total: p.total, bytes: formatSize(p.bytes), totalBytes: formatSize(p.totalBytes), percent,
    });
  };

  async function update() {
    if (!supported()) {
      state.textContent = t("keep.unsupported");
      keepButton.disabled = true;
      return;
    }
    const record = await keptMeeting(meetingId);
    badge.hidden = !record;
    removeButton.hidden = !record;
    keepButton.textContent = record ? t("keep.update") : t("keep.button");
    if (record) {
      state.textContent = t("keep.state", { date: formatDateTime(record.synced), files: record.files, total: record.total, size: formatSize(record.bytes) });
      if (!record.complete) state.append(" ", t("keep.incomplete"));
      if (!navigator.onLine) {
        state.prepend(el("strong", {}, t("keep.offlineNow", { date: formatDateTime(record.synced) })), " ");
      }
    } else {
      state.textContent = "";
    }
    keepButton.disabled = !navigator.onLine || Boolean(keeping(meetingId));
    if (!navigator.onLine && !record) state.textContent = t("keep.needsConnection");
    space.textContent = await spaceText();
  }

  async function run() {
    keepButton.disabled = true;
    removeButton.disabled = true;
    status.textContent = t("keep.working");
    show({ done: 0, total: 0, bytes: 0, totalBytes: 0 });
    progress.value = 0;
    askPersistent();
    try {
      const record = await keepMeeting(meetingId, show);
      if (!record) {
        status.textContent = t("keep.gone");
        progressBox.hidden = true;
      } else {
        status.textContent = t("keep.done", { files: record.files, total: record.total, size: formatSize(record.bytes) });
      }
    } catch (error) {
      status.textContent = errorMessage(error);
    } finally {
      removeButton.disabled = false;
      await update();
    }
  }

  keepButton.addEventListener("click", run);
  removeButton.addEventListener("click", async () => {
    await removeMeeting(meetingId);
    progressBox.hidden = true;
    status.textContent = t("keep.removed");
    await update();
    keepButton.focus();
  });
  const onNet = () => update();
  window.addEventListener("online", onNet);
  window.addEventListener("offline", onNet);
  const stop = onOfflineChange((event) => {
    if (event.id === meetingId || event.type === "cleared") update();
  });
  // A keep under way (started before the screen was opened again) shows its progress.
  const under = keeping(meetingId);
  if (under) {
    keepButton.disabled = true;
    status.textContent = t("keep.working");
    under.then(() => update(), () => update());
  }
  update();
  section.dispose = () => {
    window.removeEventListener("online", onNet);
    window.removeEventListener("offline", onNet);
    stop();
  };
  return section;
}

/** The ids of the meetings kept offline (for a badge on the home screen's cards). */
export async function keptIds() {
  return new Set((await keptMeetings()).map((m) => m.id));
}

/** The home screen's section: meetings kept offline, the space used, annotations waiting. */
export function keptSection() {
  const body = el("div", { class: "kept-body" });
  const section = el("section", { class: "block kept-block", "aria-labelledby": "kept-title", "data-testid": "kept" },
    el("h2", { id: "kept-title", class: "block-title" }, t("keep.home")), body);

  async function update() {
    if (!supported()) {
      body.replaceChildren(el("p", { class: "notice" }, t("keep.unsupported")));
      return;
    }
    const meetings = await keptMeetings();
    const nodes = [];
    if (meetings.length) {
      nodes.push(el("ul", { class: "kept-list" }, ...meetings.map((m) => el("li", { class: "kept-entry", "data-meeting": m.id },
        el("a", { href: `#/meetings/${m.id}` }, m.name),
        " ", el("span", { class: "badge badge-ok" }, t("keep.badge")),
        el("p", { class: "kept-meta" }, [m.organization, formatDateTime(m.start)].filter(Boolean).join(" · ")),
        el("p", { class: "kept-meta" }, t("keep.homeEntry", { files: m.files, total: m.total, size: formatSize(m.bytes), date: formatDateTime(m.synced) }))))));
      nodes.push(el("p", { class: "field-hint" }, await spaceText()));
    } else {
      nodes.push(el("p", { class: "field-hint" }, t("keep.homeNone")));
    }
    const entries = await outboxEntries();
    if (entries.length) {
      const waiting = entries.filter((e) => e.state === "waiting");
      const conflicts = entries.filter((e) => e.state !== "waiting");
      const files = [...new Set(entries.map((e) => e.file_id))];
      nodes.push(el("div", { class: "kept-outbox", "data-testid": "kept-outbox" },
        el("h3", {}, t("keep.outbox")),
        waiting.length ? el("p", {}, el("span", { class: "badge badge-waiting" }, t("keep.outboxWaiting", { n: waiting.length }))) : null,
        conflicts.length ? el("p", {}, el("span", { class: "badge badge-conflict" }, t("keep.outboxConflicts", { n: conflicts.length }))) : null,
        el("ul", {}, ...files.map((id) => el("li", {}, el("a", { href: `#/files/${id}` }, t("keep.outboxFile")))))));
    }
    body.replaceChildren(...nodes);
    section.hidden = !meetings.length && !entries.length && navigator.onLine;
  }

  const stops = [onOfflineChange(() => update()), onOutbox((event) => {
    if (event.type !== "queued") update();
  })];
  update();
  section.dispose = () => stops.forEach((stop) => stop());
  return section;
}
