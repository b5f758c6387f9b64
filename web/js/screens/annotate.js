// Annotations in the viewer (members only): a highlight from PDF.js's text selection, a sticky
// note at a point, ink with pen or finger (pointer events, the pen's pressure kept). Each is a note
// anchored to a page of the file in PDF units (`POST /api/v1/files/{id}/annotations`; text,
// sharing and deletion through `/api/v1/notes/{id}` with If-Match), drawn per page in an SVG layer
// over the canvas whose viewBox is the page at 100 % — zooming needs no redraw. A panel lists the
// document's annotations to jump to. New and changed annotations of the author's other devices and
// of people sharing with them arrive live on the personal stream (`annotation`,
// `annotation_removed`).
//
// Every change the member makes goes through the outbox (js/outbox.js): stored on the device
// first, then sent; offline it shows as "wartet auf Verbindung" and is sent when the connection
// returns. A conflict (changed or deleted elsewhere meanwhile) is listed with both texts until the
// member keeps theirs or discards it. The list shows a note's text as the server renders it
// (sanitised HTML from the Markdown), a text not yet sent as it was typed.

import { api } from "../api.js";
import { formatDateTime, register, t } from "../i18n.js";
import { onUserMessage } from "../live/socket.js";
import { discard, flushOutbox, keepMine, onOutbox, outboxEntries, queueCreate, queueDelete, queueUpdate } from "../outbox.js";
import { el, errorMessage, richText, svg } from "../ui.js";
import { audienceConfirmed, audienceLabel, myOrganizations, orgName } from "./collab.js";

register({
  de: {
    "annot.toolbar": "Anmerkungen",
    "annot.highlight": "Markieren",
    "annot.highlightLabel": "Markieren: ausgewählten Text hervorheben",
    "annot.note": "Notiz",
    "annot.noteLabel": "Notiz: an eine Stelle der Seite heften",
    "annot.ink": "Stift",
    "annot.inkLabel": "Stift: mit Stift oder Finger auf die Seite zeichnen",
    "annot.share": "Sichtbar für",
    "annot.private": "Privat",
    "annot.list": "Anmerkungen ({n})",
    "annot.listLabel": "Anmerkungen im Dokument",
    "annot.none": "Noch keine Anmerkungen in diesem Dokument.",
    "annot.kind.highlight": "Markierung",
    "annot.kind.note": "Notiz",
    "annot.kind.ink": "Zeichnung",
    "annot.onPage": "Seite {page}",
    "annot.outdated": "frühere Fassung",
    "annot.outdatedHint": "Gehört zu einer früheren Fassung dieser Datei und passt womöglich nicht mehr.",
    "annot.own": "Meine",
    "annot.by": "Von {name}",
    "annot.sharedWith": "Geteilt mit {org}",
    "annot.delete": "Löschen",
    "annot.deleteLabel": "{kind} auf Seite {page} löschen",
    "annot.close": "Schließen",
    "annot.newNote": "Neue Notiz",
    "annot.noteText": "Notiztext",
    "annot.save": "Speichern",
    "annot.cancel": "Abbrechen",
    "annot.saved": "{kind} gespeichert.",
    "annot.deleted": "{kind} gelöscht.",
    "annot.selectFirst": "Markieren: Text auf der Seite auswählen.",
    "annot.tapPlace": "Notiz: auf die Stelle der Seite tippen.",
    "annot.drawNow": "Stift: auf der Seite zeichnen. Gespeichert wird nach einer kurzen Pause.",
    "annot.marker": "Notiz auf Seite {page}, {who}: {text}",
    "annot.stale": "Die Anmerkung wurde inzwischen geändert. Bitte neu laden.",
    "annot.edit": "Bearbeiten",
    "annot.editLabel": "{kind} auf Seite {page} bearbeiten",
    "annot.editTitle": "Anmerkung bearbeiten",
    "annot.waiting": "wartet auf Verbindung",
    "annot.waitingHint": "Auf diesem Gerät gespeichert; wird gesendet, sobald wieder eine Verbindung besteht.",
    "annot.queued": "{kind} auf dem Gerät gespeichert – wartet auf Verbindung.",
    "annot.queuedDelete": "{kind} wird gelöscht, sobald wieder eine Verbindung besteht.",
    "annot.conflict": "Konflikt",
    "annot.conflicts": "{n} Konflikt(e)",
    "annot.conflictSaved": "Konflikt: Eine Anmerkung wurde inzwischen anderswo geändert oder gelöscht. Ihre Fassung steht in der Liste neben der anderen.",
    "annot.conflict.changed": "Diese Anmerkung wurde inzwischen anderswo geändert. Ihre Fassung ist nicht verloren – wählen Sie, welche gilt.",
    "annot.conflict.deleted": "Diese Anmerkung wurde inzwischen anderswo gelöscht. Ihre Fassung ist nicht verloren.",
    "annot.conflict.deleteChanged": "Sie haben diese Anmerkung gelöscht; inzwischen wurde sie anderswo geändert.",
    "annot.conflict.rejected": "Der Server hat die Änderung nicht angenommen: {detail}",
    "annot.mine": "Ihre Fassung",
    "annot.theirs": "Fassung auf dem Server",
    "annot.theirsDeleted": "(gelöscht)",
    "annot.mineDeleted": "(löschen)",
    "annot.keepMine": "Meine Fassung behalten",
    "annot.keepAsNew": "Als neue Anmerkung behalten",
    "annot.deleteAnyway": "Trotzdem löschen",
    "annot.discard": "Meine Änderung verwerfen",
    "annot.kept": "Ihre Fassung wird gesendet.",
    "annot.discarded": "Ihre Änderung wurde verworfen.",
  },
  en: {
    "annot.toolbar": "Annotations",
    "annot.highlight": "Highlight",
    "annot.highlightLabel": "Highlight: mark the selected text",
    "annot.note": "Note",
    "annot.noteLabel": "Note: pin a note to a place on the page",
    "annot.ink": "Pen",
    "annot.inkLabel": "Pen: draw on the page with pen or finger",
    "annot.share": "Visible to",
    "annot.private": "Private",
    "annot.list": "Annotations ({n})",
    "annot.listLabel": "Annotations in the document",
    "annot.none": "No annotations in this document yet.",
    "annot.kind.highlight": "Highlight",
    "annot.kind.note": "Note",
    "annot.kind.ink": "Drawing",
    "annot.onPage": "Page {page}",
    "annot.outdated": "earlier version",
    "annot.outdatedHint": "Belongs to an earlier version of this file and may no longer fit.",
    "annot.own": "Mine",
    "annot.by": "By {name}",
    "annot.sharedWith": "Shared with {org}",
    "annot.delete": "Delete",
    "annot.deleteLabel": "Delete {kind} on page {page}",
    "annot.close": "Close",
    "annot.newNote": "New note",
    "annot.noteText": "Note text",
    "annot.save": "Save",
    "annot.cancel": "Cancel",
    "annot.saved": "{kind} saved.",
    "annot.deleted": "{kind} deleted.",
    "annot.selectFirst": "Highlight: select text on the page.",
    "annot.tapPlace": "Note: tap the place on the page.",
    "annot.drawNow": "Pen: draw on the page. It is saved after a short pause.",
    "annot.marker": "Note on page {page}, {who}: {text}",
    "annot.stale": "The annotation was changed meanwhile. Please reload.",
    "annot.edit": "Edit",
    "annot.editLabel": "Edit {kind} on page {page}",
    "annot.editTitle": "Edit annotation",
    "annot.waiting": "waiting for connection",
    "annot.waitingHint": "Saved on this device; it is sent as soon as there is a connection again.",
    "annot.queued": "{kind} saved on the device – waiting for connection.",
    "annot.queuedDelete": "{kind} will be deleted as soon as there is a connection again.",
    "annot.conflict": "Conflict",
    "annot.conflicts": "{n} conflict(s)",
    "annot.conflictSaved": "Conflict: an annotation was changed or deleted elsewhere meanwhile. Your version is in the list beside the other one.",
    "annot.conflict.changed": "This annotation was changed elsewhere meanwhile. Your version is not lost – choose which one applies.",
    "annot.conflict.deleted": "This annotation was deleted elsewhere meanwhile. Your version is not lost.",
    "annot.conflict.deleteChanged": "You deleted this annotation; meanwhile it was changed elsewhere.",
    "annot.conflict.rejected": "The server did not accept the change: {detail}",
    "annot.mine": "Your version",
    "annot.theirs": "Version on the server",
    "annot.theirsDeleted": "(deleted)",
    "annot.mineDeleted": "(delete)",
    "annot.keepMine": "Keep my version",
    "annot.keepAsNew": "Keep as a new annotation",
    "annot.deleteAnyway": "Delete anyway",
    "annot.discard": "Discard my change",
    "annot.kept": "Your version is being sent.",
    "annot.discarded": "Your change was discarded.",
  },
});

const COLORS = { yellow: "#ffd400", green: "#2fbf4a", blue: "#1f5fcf", red: "#d8262b", black: "#1a1a1a" };
const DEFAULT_COLOR = { highlight: "yellow", note: "yellow", ink: "blue" };
/** The pen's strokes are saved together after this pause. */
const INK_IDLE_MS = 1200;
const INK_WIDTH = 2;
const MAX_POINTS = 5000;
const MAX_RECTS = 200;

const round = (v) => Math.round(v * 100) / 100;
const clamp = (v, max) => Math.min(Math.max(v, 0), max);

/** Rectangles of one line that touch or overlap become one (a selection gives one per span). */
function mergeRects(rects) {
  const sorted = [...rects].sort((a, b) => a.y - b.y || a.x - b.x);
  const out = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && Math.abs(last.y - r.y) < 2 && Math.abs(last.height - r.height) < 2
        && r.x <= last.x + last.width + 2) {
      const right = Math.max(last.x + last.width, r.x + r.width);
      last.y = Math.min(last.y, r.y);
      last.height = Math.max(last.height, r.height);
      last.width = right - last.x;
    } else {
      out.push({ ...r });
    }
  }
  return out;
}

/**
 * The annotation tools of a viewer. `pageBox` is the page element (canvas + text layer), `goTo(n)`
 * turns to a page. Call `onPage(n, {width, height})` after each page is drawn (the page's size at
 * 100 %); `capturing()` says whether a pointer on the page belongs to the pen (so the viewer's
 * swipe and pinch stay out of it).
 */
export function annotations({ fileId, pageBox, goTo }) {
  const state = {
    tool: null, // "highlight" | "note" | "ink" | null
    items: new Map(), // id → note (with .annotation), as the server has it
    queue: [], // the outbox entries of this file (made here, not yet on the server)
    orgs: [],
    page: 0,
    base: null, // {width, height} of the page at 100 %
    selection: null, // the last text selection on the page: {page, rects, quote}
    stroke: null, // the stroke being drawn
    pending: null, // {page, strokes: []} not yet saved
    inkTimer: null,
    form: null,
    popup: null,
    loadedMs: null,
  };
  const disposers = [];

  // --- Controls ---------------------------------------------------------------------------------
  const toolButton = (tool, text, label) => el("button", {
    type: "button", class: "viewer-button viewer-text-button viewer-tool", "aria-pressed": "false",
    "aria-label": label, title: label, "data-tool": tool, onclick: (event) => choose(tool, event),
  }, text);
  const highlightButton = toolButton("highlight", t("annot.highlight"), t("annot.highlightLabel"));
  const noteButton = toolButton("note", t("annot.note"), t("annot.noteLabel"));
  const inkButton = toolButton("ink", t("annot.ink"), t("annot.inkLabel"));
  const share = el("select", { class: "input viewer-annot-share", id: "viewer-annot-share" },
    el("option", { value: "" }, t("annot.private")));
  const listToggle = el("button", {
    type: "button", class: "viewer-button viewer-text-button", "aria-pressed": "false",
    "aria-controls": "viewer-annotations", onclick: () => togglePanel(),
  }, t("annot.list", { n: 0 }));
  const status = el("p", { class: "viewer-annot-status", role: "status" }, "");
  const toolbar = el("div", { class: "viewer-toolbar viewer-annot-bar", role: "toolbar", "aria-label": t("annot.toolbar") },
    el("div", { class: "viewer-group" }, highlightButton, noteButton, inkButton),
    el("div", { class: "viewer-group" },
      el("label", { class: "viewer-page-label", for: "viewer-annot-share" }, t("annot.share")), share),
    el("div", { class: "viewer-group" }, listToggle),
    status);
  const list = el("ol", { class: "viewer-annot-list" });
  const panel = el("nav", { class: "viewer-panel viewer-annot-panel", id: "viewer-annotations", "aria-label": t("annot.listLabel"), hidden: true },
    el("h2", { class: "viewer-annot-title" }, t("annot.listLabel")), list);

  // The layers over the page: shapes (SVG in page units) and the sticky notes' buttons.
  const layer = svg("svg", { class: "viewer-annot-layer", "aria-hidden": "true", focusable: "false", preserveAspectRatio: "none", viewBox: "0 0 1 1" });
  const notesLayer = el("div", { class: "viewer-annot-notes" });
  pageBox.append(layer, notesLayer);

  // --- Loading and live -------------------------------------------------------------------------
  const started = performance.now();
  (async () => {
    state.orgs = await myOrganizations(api);
    share.append(...state.orgs.map((o) => el("option", { value: o.id }, audienceLabel(o))));
  })();
  async function load() {
    try {
      const notes = await api.get(`/api/v1/files/${fileId}/annotations`);
      state.items.clear();
      for (const note of notes) if (note.annotation) state.items.set(note.id, note);
    } catch (error) {
      status.textContent = errorMessage(error);
    }
  }
  async function loadQueue() {
    state.queue = await outboxEntries(fileId);
  }
  const loaded = (async () => {
    await Promise.all([load(), loadQueue()]);
    state.loadedMs = performance.now() - started;
    refresh();
    if (state.queue.some((e) => e.state === "waiting")) flushOutbox();
  })();
  disposers.push(onOutbox(async (event) => {
    if (event.entry && event.entry.file_id !== fileId) return;
    if (event.type === "sent") {
      if (event.note?.annotation) state.items.set(event.note.id, event.note);
      else if (event.entry.op === "delete") state.items.delete(event.entry.note_id);
    }
    const hadConflicts = conflicts().length;
    await loadQueue();
    // A discarded change: show the annotation as the server has it now.
    if (event.type === "discarded" && event.entry.note_id) await load();
    if (conflicts().length > hadConflicts) {
      status.textContent = t("annot.conflictSaved");
      if (panel.hidden) togglePanel();
    }
    refresh();
  }));
  disposers.push(onUserMessage((message) => {
    if (message.file_id !== fileId) return;
    if (message.type === "annotation" && message.note?.annotation) {
      const known = state.items.get(message.note.id);
      if (known && known.version > message.note.version) return;
      state.items.set(message.note.id, message.note);
      refresh();
    } else if (message.type === "annotation_removed") {
      if (state.items.delete(message.id)) refresh();
    }
  }));

  // Asked once when the audience is wider than a fraction (a committee, the council).
  let shareValue = "";
  share.addEventListener("change", async () => {
    if (share.value && !(await audienceConfirmed(state.orgs, null, share.value))) {
      share.value = shareValue;
      return;
    }
    shareValue = share.value;
  });

  // --- Tools ------------------------------------------------------------------------------------
  function choose(tool, event) {
    flushInk();
    closeForm();
    // A selection made before pressing "Markieren" is highlighted at once.
    if (tool === "highlight" && state.selection?.page === state.page) {
      highlightSelection();
      setTool(null);
      return;
    }
    setTool(state.tool === tool ? null : tool);
    if (state.tool === "highlight") status.textContent = t("annot.selectFirst");
    else if (state.tool === "ink") status.textContent = t("annot.drawNow");
    else if (state.tool === "note") {
      status.textContent = t("annot.tapPlace");
      // From the keyboard (no pointer to place it with): the note goes to the page's top left.
      if (event?.detail === 0 && state.base) openForm({ x: 36, y: 36 });
    } else status.textContent = "";
  }

  function setTool(tool) {
    state.tool = tool;
    for (const button of [highlightButton, noteButton, inkButton]) {
      button.setAttribute("aria-pressed", String(button.dataset.tool === tool));
    }
    layer.classList.toggle("viewer-annot-drawing", tool === "ink");
    layer.classList.toggle("viewer-annot-placing", tool === "note");
  }

  function payloadBase(kind) {
    const payload = { kind, page: state.page };
    if (share.value) payload.shared_with = share.value;
    return payload;
  }

  /** Stores the change on the device, sends what waits, and says how far it got. */
  async function settle(entry, kind, { deleted = false } = {}) {
    await loadQueue();
    refresh();
    if (!entry) {
      status.textContent = t(deleted ? "annot.deleted" : "annot.saved", { kind });
      return;
    }
    await flushOutbox();
    const left = (await outboxEntries(fileId)).find((e) => e.seq === entry.seq);
    if (!left) status.textContent = t(deleted ? "annot.deleted" : "annot.saved", { kind });
    else if (left.state === "waiting") status.textContent = t(deleted ? "annot.queuedDelete" : "annot.queued", { kind });
    else if (left.conflict?.reason === "rejected") status.textContent = t("annot.conflict.rejected", { detail: left.conflict.detail || left.conflict.status });
    else status.textContent = t("annot.conflictSaved");
  }

  async function create(payload) {
    try {
      const entry = await queueCreate(fileId, payload);
      await settle(entry, t(`annot.kind.${payload.kind}`));
      return entry;
    } catch (error) {
      status.textContent = errorMessage(error);
      return null;
    }
  }

  // --- Highlight: the text layer's selection as rectangles ------------------------------------
  function selectionOnPage() {
    const selection = window.getSelection();
    if (!selection || selection.isCollapsed || !selection.rangeCount || !state.base) return null;
    const textLayer = pageBox.querySelector(".textLayer");
    const range = selection.getRangeAt(0);
    if (!textLayer || !textLayer.contains(range.commonAncestorContainer)) return null;
    const box = pageBox.getBoundingClientRect();
    const sx = state.base.width / box.width;
    const sy = state.base.height / box.height;
    const rects = [];
    for (const r of range.getClientRects()) {
      if (r.width < 0.5 || r.height < 0.5) continue;
      const x = clamp((r.left - box.left) * sx, state.base.width);
      const y = clamp((r.top - box.top) * sy, state.base.height);
      const right = clamp((r.right - box.left) * sx, state.base.width);
      const bottom = clamp((r.bottom - box.top) * sy, state.base.height);
      if (right - x < 0.5 || bottom - y < 0.5) continue;
      rects.push({ x, y, width: right - x, height: bottom - y });
    }
    const merged = mergeRects(rects).slice(0, MAX_RECTS)
      .map((r) => ({ x: round(r.x), y: round(r.y), width: round(r.width), height: round(r.height) }));
    const quote = selection.toString().replace(/\s+/g, " ").trim().slice(0, 2000);
    return merged.length ? { page: state.page, rects: merged, quote } : null;
  }

  const onSelection = () => {
    const found = selectionOnPage();
    if (found) state.selection = found;
  };
  document.addEventListener("selectionchange", onSelection);
  disposers.push(() => document.removeEventListener("selectionchange", onSelection));
  // In highlight mode, letting go of a selection highlights it.
  const onRelease = () => {
    if (state.tool !== "highlight") return;
    setTimeout(() => {
      const found = selectionOnPage();
      if (found) {
        state.selection = found;
        highlightSelection();
      }
    }, 0);
  };
  pageBox.addEventListener("pointerup", onRelease);
  pageBox.addEventListener("keyup", onRelease);

  async function highlightSelection() {
    const found = state.selection;
    state.selection = null;
    if (!found) return;
    window.getSelection()?.removeAllRanges();
    const payload = { ...payloadBase("highlight"), page: found.page, rects: found.rects };
    if (found.quote) payload.quote = found.quote;
    await create(payload);
  }

  // --- Pointer input: the pen, and placing a note --------------------------------------------
  function toPage(event) {
    const box = layer.getBoundingClientRect();
    return {
      x: round(clamp(((event.clientX - box.left) / box.width) * state.base.width, state.base.width)),
      y: round(clamp(((event.clientY - box.top) / box.height) * state.base.height, state.base.height)),
    };
  }

  layer.addEventListener("pointerdown", (event) => {
    if (!state.base) return;
    if (state.tool === "ink") {
      event.preventDefault();
      layer.setPointerCapture?.(event.pointerId);
      clearTimeout(state.inkTimer);
      if (state.pending && state.pending.page !== state.page) flushInk();
      state.stroke = { id: event.pointerId, points: [], pressure: [], pen: event.pointerType === "pen", path: null };
      addPoint(event);
      drawStroke();
    } else if (state.tool === "note") {
      event.preventDefault();
      openForm(toPage(event));
    }
  });
  layer.addEventListener("pointermove", (event) => {
    const stroke = state.stroke;
    if (!stroke || stroke.id !== event.pointerId) return;
    event.preventDefault();
    const coalesced = event.getCoalescedEvents?.() ?? [];
    for (const e of coalesced.length ? coalesced : [event]) addPoint(e);
    drawStroke();
  });
  const endStroke = (event) => {
    const stroke = state.stroke;
    if (!stroke || stroke.id !== event.pointerId) return;
    state.stroke = null;
    if (!state.pending) state.pending = { page: state.page, strokes: [] };
    const saved = { points: stroke.points };
    if (stroke.pen) saved.pressure = stroke.pressure;
    saved.width = INK_WIDTH;
    state.pending.strokes.push(saved);
    const total = state.pending.strokes.reduce((n, s) => n + s.points.length / 2, 0);
    clearTimeout(state.inkTimer);
    if (total > MAX_POINTS * 0.8 || state.pending.strokes.length >= 150) flushInk();
    else state.inkTimer = setTimeout(flushInk, INK_IDLE_MS);
  };
  layer.addEventListener("pointerup", endStroke);
  layer.addEventListener("pointercancel", endStroke);

  function addPoint(event) {
    const stroke = state.stroke;
    const p = toPage(event);
    const n = stroke.points.length;
    // Points closer than half a unit add nothing but bytes.
    if (n >= 2 && Math.hypot(p.x - stroke.points[n - 2], p.y - stroke.points[n - 1]) < 0.5) return;
    if (n / 2 >= MAX_POINTS / 2) return;
    stroke.points.push(p.x, p.y);
    stroke.pressure.push(round(clamp(event.pressure ?? 0.5, 1)));
  }

  function drawStroke() {
    const stroke = state.stroke;
    if (!stroke) return;
    if (!stroke.path) {
      stroke.path = svg("path", { class: "viewer-annot-ink viewer-annot-pending", fill: "none", stroke: COLORS.blue, "stroke-width": INK_WIDTH, "stroke-linecap": "round", "stroke-linejoin": "round" });
      layer.append(stroke.path);
    }
    stroke.path.setAttribute("d", pathData(stroke.points));
  }

  async function flushInk() {
    clearTimeout(state.inkTimer);
    const pending = state.pending;
    state.pending = null;
    if (!pending?.strokes.length) return;
    const payload = { ...payloadBase("ink"), page: pending.page, strokes: pending.strokes };
    await create(payload);
  }

  // --- Sticky notes -------------------------------------------------------------------------------
  function closeForm() {
    state.form?.remove();
    state.form = null;
  }

  function place(node, point) {
    node.style.left = `${(point.x / state.base.width) * 100}%`;
    node.style.top = `${(point.y / state.base.height) * 100}%`;
    // In the right half, forms and popups open to the left of the point (they stay on the page).
    node.classList.toggle("viewer-annot-leftwards", point.x > state.base.width / 2);
  }

  function openForm(point) {
    closeForm();
    const text = el("textarea", { class: "input textarea", id: "viewer-annot-text", rows: "3", required: true, maxlength: "20000" });
    const form = el("form", { class: "viewer-annot-form", "aria-label": t("annot.newNote") },
      el("label", { for: "viewer-annot-text" }, t("annot.noteText")), text,
      el("div", { class: "button-row" },
        el("button", { type: "submit", class: "button button-primary" }, t("annot.save")),
        el("button", { type: "button", class: "button button-secondary", onclick: () => closeForm() }, t("annot.cancel"))));
    place(form, point);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (!text.value.trim()) {
        text.focus();
        return;
      }
      const note = await create({ ...payloadBase("note"), point, body: text.value });
      if (note) {
        closeForm();
        setTool(null);
      }
    });
    form.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.preventDefault();
        closeForm();
        noteButton.focus();
      }
    });
    state.form = form;
    notesLayer.append(form);
    text.focus();
  }

  function closePopup() {
    state.popup?.remove();
    state.popup = null;
  }

  function openPopup(note, marker) {
    closePopup();
    const popup = el("div", { class: "viewer-annot-popup", role: "group", "aria-label": markerLabel(note) },
      meta(note),
      noteText(note),
      el("div", { class: "button-row" },
        note.own && !note.pending?.conflict ? editButton(note) : null,
        note.own && !note.pending?.conflict ? deleteButton(note) : null,
        el("button", { type: "button", class: "button button-secondary", onclick: () => { closePopup(); marker.focus(); } }, t("annot.close"))));
    place(popup, note.annotation.point);
    popup.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.preventDefault();
        closePopup();
        marker.focus();
      }
    });
    state.popup = popup;
    notesLayer.append(popup);
  }

  // --- Drawing ----------------------------------------------------------------------------------
  function colorOf(a) {
    return COLORS[a.color ?? DEFAULT_COLOR[a.kind]] ?? COLORS.yellow;
  }

  function pathData(points) {
    if (points.length < 2) return "";
    let d = `M${points[0]} ${points[1]}`;
    if (points.length === 2) return `${d}l0.01 0`; // a dot
    for (let i = 2; i < points.length; i += 2) d += `L${points[i]} ${points[i + 1]}`;
    return d;
  }

  /** One path per stroke; with pressure, runs of a few points each get their width. */
  function strokeNodes(stroke, color, extra) {
    const width = stroke.width ?? INK_WIDTH;
    const attrs = { class: `viewer-annot-ink${extra}`, fill: "none", stroke: color, "stroke-linecap": "round", "stroke-linejoin": "round" };
    if (!stroke.pressure) return [svg("path", { ...attrs, "stroke-width": width, d: pathData(stroke.points) })];
    const nodes = [];
    const n = stroke.points.length / 2;
    const run = 4;
    for (let i = 0; i < Math.max(1, n - 1); i += run) {
      const end = Math.min(n - 1, i + run);
      const slice = stroke.points.slice(2 * i, 2 * end + 2);
      const pressures = stroke.pressure.slice(i, end + 1);
      const p = pressures.reduce((a, b) => a + b, 0) / pressures.length;
      nodes.push(svg("path", { ...attrs, "stroke-width": round(width * (0.4 + 1.2 * p)), d: pathData(slice) }));
    }
    return nodes;
  }

  function markerLabel(note) {
    const who = note.own ? t("annot.own") : (note.author?.name ?? "");
    const text = (note.body ?? "").replace(/\s+/g, " ").slice(0, 80);
    const label = t("annot.marker", { page: note.annotation.page, who, text });
    return note.annotation.outdated ? `${label} (${t("annot.outdated")})` : label;
  }

  function draw() {
    if (!state.base) return;
    layer.setAttribute("viewBox", `0 0 ${state.base.width} ${state.base.height}`);
    const shapes = [];
    const markers = [];
    for (const note of sorted()) {
      const a = note.annotation;
      if (a.page !== state.page) continue;
      const color = colorOf(a);
      const extra = (a.outdated ? " viewer-annot-outdated" : "") + (note.pending ? " viewer-annot-pending" : "");
      if (a.kind === "highlight") {
        for (const r of a.rects ?? []) {
          shapes.push(svg("rect", { class: `viewer-annot-highlight${extra}`, x: r.x, y: r.y, width: r.width, height: r.height, fill: color, "data-annotation": note.id }));
        }
      } else if (a.kind === "ink") {
        const group = svg("g", { "data-annotation": note.id });
        for (const stroke of a.strokes ?? []) group.append(...strokeNodes(stroke, color, extra));
        shapes.push(group);
      } else if (a.kind === "note" && a.point) {
        const marker = el("button", {
          type: "button", class: `viewer-annot-marker${extra}`, "data-annotation": note.id,
          "aria-label": markerLabel(note), title: markerLabel(note),
        }, el("span", { "aria-hidden": "true" }, "✎"));
        marker.addEventListener("click", (event) => {
          event.stopPropagation();
          openPopup(note, marker);
        });
        place(marker, a.point);
        markers.push(marker);
      }
    }
    // The strokes not yet saved stay visible.
    for (const stroke of state.pending?.page === state.page ? state.pending.strokes : []) {
      shapes.push(...strokeNodes(stroke, COLORS.blue, " viewer-annot-pending"));
    }
    if (state.stroke?.path) shapes.push(state.stroke.path);
    layer.replaceChildren(...shapes);
    const keep = [state.form, state.popup].filter((node) => node && node.isConnected);
    notesLayer.replaceChildren(...markers, ...keep);
    pageBox.dataset.annotations = String(shapes.length + markers.length);
  }

  /**
   * What the member sees: the server's annotations with the outbox laid over them (a new one not
   * yet sent, a changed text, a deletion not yet sent hides it; a conflict shows the member's).
   */
  function visible() {
    const out = [];
    const byNote = new Map(state.queue.filter((e) => e.note_id).map((e) => [e.note_id, e]));
    for (const note of state.items.values()) {
      const entry = byNote.get(note.id);
      byNote.delete(note.id);
      if (!entry) out.push(note);
      else if (entry.op === "delete" && entry.state === "waiting") continue;
      else if (entry.op === "update") out.push({ ...note, body: entry.body, html: null, pending: entry });
      else out.push({ ...note, pending: entry });
    }
    // Entries whose annotation the server no longer lists (deleted elsewhere): the member's copy.
    for (const entry of byNote.values()) {
      if (!entry.original?.annotation || (entry.op === "delete" && entry.state === "waiting")) continue;
      const body = entry.op === "update" ? entry.body : entry.original.body;
      out.push({ ...entry.original, own: true, body, html: entry.op === "update" ? null : entry.original.html, pending: entry });
    }
    for (const entry of state.queue.filter((e) => e.op === "create")) {
      const p = entry.payload ?? {};
      const annotation = { kind: p.kind, page: p.page, outdated: false };
      for (const key of ["rects", "point", "strokes", "color"]) if (p[key] != null) annotation[key] = p[key];
      out.push({
        id: entry.local_id, own: true, body: p.body ?? "", html: null, quote: p.quote ?? null, annotation,
        shared_with: p.shared_with ? state.orgs.find((o) => o.id === p.shared_with) ?? { id: p.shared_with, name: "…" } : null,
        created: entry.created, modified: entry.created, pending: entry,
      });
    }
    return out;
  }

  function conflicts() {
    return state.queue.filter((e) => e.state !== "waiting");
  }

  function sorted() {
    return visible().sort((a, b) =>
      a.annotation.page - b.annotation.page || (a.created < b.created ? -1 : a.created > b.created ? 1 : 0));
  }

  // --- The list ---------------------------------------------------------------------------------
  function meta(note) {
    return el("p", { class: "viewer-annot-meta" },
      el("span", { class: "badge" }, note.own ? t("annot.own") : t("annot.by", { name: note.author?.name ?? "?" })),
      " ",
      el("span", { class: note.shared_with ? "badge badge-shared" : "badge" },
        note.shared_with ? t("annot.sharedWith", { org: orgName(note.shared_with) }) : t("annot.private")),
      note.annotation.outdated ? " " : null,
      note.annotation.outdated ? el("span", { class: "badge badge-outdated", title: t("annot.outdatedHint") }, t("annot.outdated")) : null,
      note.pending?.state === "waiting" ? " " : null,
      note.pending?.state === "waiting" ? el("span", { class: "badge badge-waiting", title: t("annot.waitingHint"), "data-testid": "annot-waiting" }, t("annot.waiting")) : null,
      note.pending && note.pending.state !== "waiting" ? " " : null,
      note.pending && note.pending.state !== "waiting" ? el("span", { class: "badge badge-conflict", "data-testid": "annot-conflict" }, t("annot.conflict")) : null,
      " ",
      el("time", { datetime: note.modified }, formatDateTime(note.modified)));
  }

  /** The text: as the server renders it (sanitised HTML), or as typed while not yet sent. */
  function noteText(note) {
    if (note.html) return el("div", { class: "rich viewer-annot-body" }, richText(note.html));
    if (note.body) return el("div", { class: "viewer-annot-body viewer-annot-plain" }, note.body);
    return null;
  }

  function editButton(note) {
    const kind = t(`annot.kind.${note.annotation.kind}`);
    return el("button", {
      type: "button", class: "button button-secondary",
      "aria-label": t("annot.editLabel", { kind, page: note.annotation.page }),
      onclick: (event) => openEditor(note, event.currentTarget),
    }, t("annot.edit"));
  }

  /** An inline form to change a note's text (in the list, or in the popup). */
  function openEditor(note, button) {
    const holder = button.closest(".viewer-annot-item, .viewer-annot-popup");
    if (!holder || holder.querySelector(".viewer-annot-edit")) return;
    const id = `viewer-annot-edit-${String(note.id).replace(/[^\w-]/g, "")}`;
    const text = el("textarea", { class: "input textarea", id, rows: "3", maxlength: "20000" });
    text.value = note.body ?? "";
    const kind = t(`annot.kind.${note.annotation.kind}`);
    const form = el("form", { class: "viewer-annot-edit", "aria-label": t("annot.editTitle") },
      el("label", { for: id }, t("annot.noteText")), text,
      el("div", { class: "button-row" },
        el("button", { type: "submit", class: "button button-primary" }, t("annot.save")),
        el("button", { type: "button", class: "button button-secondary", onclick: () => { form.remove(); button.focus(); refresh(); } }, t("annot.cancel"))));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (note.annotation.kind === "note" && !text.value.trim()) {
        text.focus();
        return;
      }
      try {
        const entry = await queueUpdate(fileId, note, text.value);
        form.remove();
        closePopup();
        await settle(note.pending?.op === "create" && !entry ? null : entry, kind);
      } catch (error) {
        status.textContent = errorMessage(error);
      }
    });
    holder.append(form);
    text.focus();
  }

  /** A conflict: what happened, both texts, and the two ways out. */
  function conflictBox(note) {
    const entry = note.pending;
    const c = entry.conflict ?? {};
    let reason;
    if (c.reason === "rejected") reason = t("annot.conflict.rejected", { detail: c.detail || c.status || "" });
    else if (entry.op === "delete") reason = t("annot.conflict.deleteChanged");
    else reason = t(c.reason === "deleted" ? "annot.conflict.deleted" : "annot.conflict.changed");
    const mine = entry.op === "delete" ? t("annot.mineDeleted") : (entry.op === "update" ? entry.body : entry.payload?.body) ?? "";
    const theirs = c.theirs;
    const keepLabel = entry.op === "delete" ? t("annot.deleteAnyway")
      : c.reason === "deleted" ? t("annot.keepAsNew") : t("annot.keepMine");
    return el("div", { class: "viewer-annot-conflict-box", "data-testid": "annot-conflict-box" },
      el("p", { class: "viewer-annot-conflict-reason" }, reason),
      el("div", { class: "viewer-annot-versions" },
        el("div", { class: "viewer-annot-version viewer-annot-version-mine" },
          el("h3", {}, t("annot.mine")), el("div", { class: "viewer-annot-plain" }, mine)),
        c.reason === "rejected" ? null : el("div", { class: "viewer-annot-version viewer-annot-version-theirs" },
          el("h3", {}, t("annot.theirs")),
          theirs ? el("div", { class: "rich" }, richText(theirs.html)) : el("p", {}, t("annot.theirsDeleted")))),
      el("div", { class: "button-row" },
        c.reason === "rejected" ? null : el("button", {
          type: "button", class: "button button-primary", "data-testid": "annot-keep-mine",
          onclick: async () => {
            status.textContent = t("annot.kept");
            await keepMine(entry);
            await settle(entry, t(`annot.kind.${note.annotation.kind}`), { deleted: entry.op === "delete" });
          },
        }, keepLabel),
        el("button", {
          type: "button", class: "button button-secondary", "data-testid": "annot-discard",
          onclick: async () => {
            await discard(entry);
            status.textContent = t("annot.discarded");
          },
        }, t("annot.discard"))));
  }

  function deleteButton(note) {
    const kind = t(`annot.kind.${note.annotation.kind}`);
    return el("button", {
      type: "button", class: "button button-danger-outline",
      "aria-label": t("annot.deleteLabel", { kind, page: note.annotation.page }),
      onclick: async () => {
        try {
          const entry = await queueDelete(fileId, note);
          closePopup();
          await settle(entry, kind, { deleted: true });
        } catch (error) {
          status.textContent = errorMessage(error);
        }
      },
    }, t("annot.delete"));
  }

  function renderList() {
    const items = sorted();
    const open = conflicts().length;
    listToggle.textContent = t("annot.list", { n: items.length }) + (open ? ` · ${t("annot.conflicts", { n: open })}` : "");
    if (panel.hidden) return;
    // An edit under way is not swept away by a redraw (a live change, the outbox); after it.
    if (list.querySelector(".viewer-annot-edit")) return;
    if (!items.length) {
      list.replaceChildren(el("li", { class: "muted" }, t("annot.none")));
      return;
    }
    list.replaceChildren(...items.map((note) => {
      const a = note.annotation;
      // The quote of a highlight is plain text; a note's text is shown below, rendered.
      const quote = a.kind === "highlight" ? (note.quote ?? "") : "";
      const jump = el("button", { type: "button", class: "viewer-annot-jump", onclick: () => jumpTo(note) },
        el("span", { class: `viewer-annot-swatch viewer-annot-swatch-${a.color ?? DEFAULT_COLOR[a.kind]}`, "aria-hidden": "true" }),
        el("strong", {}, `${t("annot.onPage", { page: a.page })} · ${t(`annot.kind.${a.kind}`)}`),
        quote ? el("span", { class: "viewer-annot-text" }, quote.length > 120 ? `${quote.slice(0, 120)} …` : quote) : null);
      const conflicted = note.pending && note.pending.state !== "waiting";
      const item = el("li", {
        class: `viewer-annot-item${note.pending ? " viewer-annot-item-pending" : ""}${conflicted ? " viewer-annot-item-conflict" : ""}`,
        "data-annotation": note.id,
      }, jump, meta(note));
      if (conflicted) {
        item.append(conflictBox(note));
      } else {
        item.append(...[noteText(note)].filter(Boolean));
        if (note.own) item.append(el("div", { class: "button-row viewer-annot-actions" }, editButton(note), deleteButton(note)));
      }
      return item;
    }));
  }

  function jumpTo(note) {
    goTo(note.annotation.page);
    pageBox.dataset.focusAnnotation = note.id;
  }

  function togglePanel() {
    panel.hidden = !panel.hidden;
    listToggle.setAttribute("aria-pressed", String(!panel.hidden));
    renderList();
  }

  function refresh() {
    draw();
    renderList();
    window.__plenumAnnotations = { count: state.items.size, pending: state.queue.length, loadedMs: state.loadedMs, drawnMs: performance.now() - started };
  }

  return {
    toolbar,
    panel,
    loaded,
    /** After a page was drawn: its number and its size at 100 %. */
    onPage(n, base) {
      if (state.page !== n) {
        closeForm();
        closePopup();
        state.selection = null;
        if (state.pending && state.pending.page !== n) flushInk();
      }
      state.page = n;
      state.base = { width: base.width, height: base.height };
      draw();
    },
    /** The pen or note tool owns pointers on the page. */
    capturing: () => state.tool === "ink" || state.tool === "note",
    dispose() {
      flushInk();
      for (const dispose of disposers) dispose();
    },
  };
}
