// Annotations in the viewer (members only): a highlight from PDF.js's text selection, a sticky
// note at a point, ink with pen or finger (pointer events, the pen's pressure kept). Each is a note
// anchored to a page of the file in PDF units (`POST /api/v1/files/{id}/annotations`; text,
// sharing and deletion through `/api/v1/notes/{id}` with If-Match), drawn per page in an SVG layer
// over the canvas whose viewBox is the page at 100 % — zooming needs no redraw. A panel lists the
// document's annotations to jump to. New and changed annotations of the author's other devices and
// of people sharing with them arrive live on the personal stream (`annotation`,
// `annotation_removed`).

import { api } from "../api.js";
import { formatDateTime, register, t } from "../i18n.js";
import { onUserMessage } from "../live/socket.js";
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
    items: new Map(), // id → note (with .annotation)
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
  const loaded = (async () => {
    try {
      const notes = await api.get(`/api/v1/files/${fileId}/annotations`);
      for (const note of notes) if (note.annotation) state.items.set(note.id, note);
    } catch (error) {
      status.textContent = errorMessage(error);
    }
    state.loadedMs = performance.now() - started;
    refresh();
  })();
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

  async function create(payload) {
    try {
      const note = await api.post(`/api/v1/files/${fileId}/annotations`, payload);
      state.items.set(note.id, note);
      status.textContent = t("annot.saved", { kind: t(`annot.kind.${payload.kind}`) });
      refresh();
      return note;
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
      el("div", { class: "rich" }, richText(note.html)),
      el("div", { class: "button-row" },
        note.own ? deleteButton(note) : null,
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
      const extra = a.outdated ? " viewer-annot-outdated" : "";
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

  function sorted() {
    return [...state.items.values()].sort((a, b) =>
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
      " ",
      el("time", { datetime: note.modified }, formatDateTime(note.modified)));
  }

  function deleteButton(note) {
    const kind = t(`annot.kind.${note.annotation.kind}`);
    return el("button", {
      type: "button", class: "button button-danger-outline",
      "aria-label": t("annot.deleteLabel", { kind, page: note.annotation.page }),
      onclick: async () => {
        try {
          await api.del(`/api/v1/notes/${note.id}`, { ifMatch: `"${note.version}"` });
          state.items.delete(note.id);
          closePopup();
          status.textContent = t("annot.deleted", { kind });
          refresh();
        } catch (error) {
          status.textContent = error.status === 412 ? t("annot.stale") : errorMessage(error);
        }
      },
    }, t("annot.delete"));
  }

  function renderList() {
    listToggle.textContent = t("annot.list", { n: state.items.size });
    if (panel.hidden) return;
    const items = sorted();
    if (!items.length) {
      list.replaceChildren(el("li", { class: "muted" }, t("annot.none")));
      return;
    }
    list.replaceChildren(...items.map((note) => {
      const a = note.annotation;
      const text = a.kind === "highlight" ? (note.quote ?? "") : (note.body ?? "");
      const jump = el("button", { type: "button", class: "viewer-annot-jump", onclick: () => jumpTo(note) },
        el("span", { class: `viewer-annot-swatch viewer-annot-swatch-${a.color ?? DEFAULT_COLOR[a.kind]}`, "aria-hidden": "true" }),
        el("strong", {}, `${t("annot.onPage", { page: a.page })} · ${t(`annot.kind.${a.kind}`)}`),
        text ? el("span", { class: "viewer-annot-text" }, text.length > 120 ? `${text.slice(0, 120)} …` : text) : null);
      return el("li", { class: "viewer-annot-item", "data-annotation": note.id }, jump, meta(note),
        note.own ? deleteButton(note) : null);
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
    window.__plenumAnnotations = { count: state.items.size, loadedMs: state.loadedMs, drawnMs: performance.now() - started };
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
