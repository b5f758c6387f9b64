// The reading room: a file opens inside the app, rendered by Mozilla's PDF.js (the display API of
// the vendored copy in /vendor/pdfjs/, its worker from the same origin, so the CSP stays 'self').
// One page at a time (canvas + text layer), thumbnails, outline, page number, fit width/page,
// zoom buttons and pinch, swipe to turn pages, search with highlighted hits, a way back to the
// agenda item or paper. PDF.js loads the file with Range requests and renders the first page
// without waiting for the rest.
//
// Routes: #/files/{id} (members) and #/portal/files/{id} (public), each with optional
// `?page=N&q=words` (a search hit opens the viewer on its page with the words highlighted).
// Members annotate (highlight, sticky note, pen): js/screens/annotate.js.

import { api } from "../api.js";
import { register, t } from "../i18n.js";
import { el, errorBox, errorMessage, loading } from "../ui.js";
import { annotations } from "./annotate.js";

register({
  de: {
    "viewer.toolbar": "Dokument-Werkzeuge",
    "viewer.back": "Zurück",
    "viewer.back.item": "Zurück zum Tagesordnungspunkt",
    "viewer.back.paper": "Zurück zur Vorlage",
    "viewer.back.meeting": "Zurück zur Sitzung",
    "viewer.thumbnails": "Seitenübersicht",
    "viewer.outline": "Inhaltsverzeichnis",
    "viewer.outlineNone": "Dieses Dokument hat kein Inhaltsverzeichnis.",
    "viewer.prev": "Vorherige Seite",
    "viewer.next": "Nächste Seite",
    "viewer.page": "Seite",
    "viewer.pageOf": "von {n}",
    "viewer.pageN": "Seite {n}",
    "viewer.pageLabel": "Seite {n} von {total}",
    "viewer.zoomIn": "Vergrößern",
    "viewer.zoomOut": "Verkleinern",
    "viewer.fitWidth": "Breite",
    "viewer.fitWidthLabel": "An Breite anpassen",
    "viewer.fitPage": "Ganze Seite",
    "viewer.fitPageLabel": "Ganze Seite zeigen",
    "viewer.search": "Suchen",
    "viewer.searchLabel": "Im Dokument suchen",
    "viewer.searchPrev": "Vorheriger Treffer",
    "viewer.searchNext": "Nächster Treffer",
    "viewer.searchClose": "Suche schließen",
    "viewer.searching": "Suche läuft …",
    "viewer.hits": "Treffer {i} von {n}",
    "viewer.noHits": "Kein Treffer für „{q}“.",
    "viewer.download": "Herunterladen",
    "viewer.document": "Dokument, {label}",
    "viewer.noText": "Ohne Text (z. B. eingescannt, bei der Suche nicht auffindbar): Seite {pages}.",
    "viewer.notPdf": "Diese Datei ist kein PDF und kann nur heruntergeladen werden.",
    "viewer.loadFailed": "Das Dokument konnte nicht geöffnet werden.",
  },
  en: {
    "viewer.toolbar": "Document tools",
    "viewer.back": "Back",
    "viewer.back.item": "Back to the agenda item",
    "viewer.back.paper": "Back to the paper",
    "viewer.back.meeting": "Back to the meeting",
    "viewer.thumbnails": "Page overview",
    "viewer.outline": "Contents",
    "viewer.outlineNone": "This document has no table of contents.",
    "viewer.prev": "Previous page",
    "viewer.next": "Next page",
    "viewer.page": "Page",
    "viewer.pageOf": "of {n}",
    "viewer.pageN": "Page {n}",
    "viewer.pageLabel": "Page {n} of {total}",
    "viewer.zoomIn": "Zoom in",
    "viewer.zoomOut": "Zoom out",
    "viewer.fitWidth": "Width",
    "viewer.fitWidthLabel": "Fit to width",
    "viewer.fitPage": "Whole page",
    "viewer.fitPageLabel": "Show the whole page",
    "viewer.search": "Search",
    "viewer.searchLabel": "Search in the document",
    "viewer.searchPrev": "Previous hit",
    "viewer.searchNext": "Next hit",
    "viewer.searchClose": "Close search",
    "viewer.searching": "Searching …",
    "viewer.hits": "Hit {i} of {n}",
    "viewer.noHits": "No hit for “{q}”.",
    "viewer.download": "Download",
    "viewer.document": "Document, {label}",
    "viewer.noText": "Without text (e.g. scanned, not found by search): page {pages}.",
    "viewer.notPdf": "This file is not a PDF and can only be downloaded.",
    "viewer.loadFailed": "The document could not be opened.",
  },
});

const PDFJS = "/vendor/pdfjs/pdf.min.mjs";
const MIN_SCALE = 0.25;
const MAX_SCALE = 5;
const THUMB_WIDTH = 112;

let pdfjsPromise = null;

/** The PDF.js display library, loaded once (a dynamic import keeps it out of the app shell). */
function pdfjs() {
  if (!pdfjsPromise) {
    pdfjsPromise = import(PDFJS).then((lib) => {
      lib.GlobalWorkerOptions.workerSrc = "/vendor/pdfjs/pdf.worker.min.mjs";
      return lib;
    }).catch((error) => {
      pdfjsPromise = null;
      throw error;
    });
  }
  return pdfjsPromise;
}

/** `?page=3&q=Haushalt` of the current hash. */
function hashParams() {
  const query = window.location.hash.split("?")[1] ?? "";
  return new URLSearchParams(query);
}

/** Lower case, umlauts and accents folded, one char for one char (offsets stay valid). */
function fold(text) {
  let out = "";
  for (const c of text) {
    const lower = c.toLowerCase();
    const base = lower.normalize("NFD").replace(/[\u0300-\u036f]/g, "");
    out += base.length === 1 && lower.length === 1 ? base : (lower.length === 1 ? lower : c);
  }
  return out;
}

/** Where the back link goes for this file. */
function backLink(info, pub) {
  const base = pub ? "#/portal" : "#";
  if (info.agenda_item_id && info.meeting_id) {
    return { href: `${base}/meetings/${info.meeting_id}`, label: t("viewer.back.item") };
  }
  if (info.paper_id) return { href: `${base}/papers/${info.paper_id}`, label: t("viewer.back.paper") };
  if (info.meeting_id) return { href: `${base}/meetings/${info.meeting_id}`, label: t("viewer.back.meeting") };
  return { href: pub ? "#/portal" : "#/", label: t("viewer.back") };
}

function iconButton(label, text, onclick, extra = {}) {
  return el("button", { type: "button", class: "viewer-button", "aria-label": label, title: label, onclick, ...extra },
    el("span", { "aria-hidden": "true" }, text));
}

export function mountPublic(root, params, ctx) {
  return mount(root, params, ctx, { pub: true });
}

export async function mount(root, { id }, _ctx, { pub = false } = {}) {
  const disposers = [];
  let destroyed = false;
  const infoPath = pub ? `/api/v1/public/files/${id}` : `/api/v1/files/${id}`;
  let info;
  try {
    info = await api.get(infoPath);
    if (!pub) keep(infoPath, info);
  } catch (error) {
    // Offline: a document the member opened before is still there.
    info = error?.status === 0 && !pub ? await kept(infoPath) : null;
    if (!info) {
      root.replaceChildren(el("h1", { class: "page-title" }, t("viewer.loadFailed")), errorBox(error));
      return () => {};
    }
  }
  const back = backLink(info, pub);
  const heading = el("h1", { class: "viewer-title" }, info.name);
  const backAnchor = el("a", { class: "viewer-back", href: back.href }, `← ${back.label}`);
  const download = downloadControl(info, pub);
  if (info.media_type !== "application/pdf") {
    root.replaceChildren(backAnchor, heading, el("p", { class: "notice" }, t("viewer.notPdf")), download);
    return () => {};
  }

  // --- Layout -----------------------------------------------------------------------------
  const params = hashParams();
  const state = {
    pdf: null,
    page: Math.max(1, Number.parseInt(params.get("page") ?? "1", 10) || 1),
    total: 0,
    scale: 1,
    fit: "width", // "width" | "page" | null (manual zoom)
    renderTask: null,
    textLayer: null,
    pageProxy: null,
    renderSerial: 0,
    hits: [], // [{page, start, end}] in the page's folded text
    hit: -1,
    query: "",
    pageTexts: new Map(), // page → {text, items: [{start, end}]} (item offsets in text)
    firstPageMs: null,
    lastTurnMs: null,
  };

  const pageInput = el("input", {
    type: "number", class: "input viewer-page-input", id: "viewer-page", min: 1, value: state.page,
    inputmode: "numeric", "aria-describedby": "viewer-page-total",
  });
  const pageTotal = el("span", { id: "viewer-page-total", class: "viewer-page-total" }, "");
  const zoomLabel = el("output", { class: "viewer-zoom", "aria-live": "off" }, "100 %");
  const thumbsToggle = iconButton(t("viewer.thumbnails"), "▦", () => togglePanel("thumbs"), { "aria-pressed": "false", "aria-controls": "viewer-thumbs" });
  const outlineToggle = iconButton(t("viewer.outline"), "☰", () => togglePanel("outline"), { "aria-pressed": "false", "aria-controls": "viewer-outline" });
  const searchToggle = el("button", {
    type: "button", class: "viewer-button viewer-text-button", title: t("viewer.searchLabel"),
    "aria-expanded": "false", "aria-controls": "viewer-search", onclick: () => openSearch(),
  }, t("viewer.search"));
  const prevButton = iconButton(t("viewer.prev"), "‹", () => goTo(state.page - 1));
  const nextButton = iconButton(t("viewer.next"), "›", () => goTo(state.page + 1));
  const fitWidthButton = el("button", { type: "button", class: "viewer-button viewer-text-button", "aria-pressed": "true", title: t("viewer.fitWidthLabel"), onclick: () => setFit("width") }, t("viewer.fitWidth"));
  const fitPageButton = el("button", { type: "button", class: "viewer-button viewer-text-button", "aria-pressed": "false", title: t("viewer.fitPageLabel"), onclick: () => setFit("page") }, t("viewer.fitPage"));

  const toolbar = el("div", { class: "viewer-toolbar", role: "toolbar", "aria-label": t("viewer.toolbar") },
    el("div", { class: "viewer-group" }, thumbsToggle, outlineToggle),
    el("div", { class: "viewer-group" }, prevButton,
      el("label", { class: "viewer-page-label", for: "viewer-page" }, t("viewer.page")),
      pageInput, pageTotal, nextButton),
    el("div", { class: "viewer-group" },
      iconButton(t("viewer.zoomOut"), "−", () => zoomBy(1 / 1.25)), zoomLabel,
      iconButton(t("viewer.zoomIn"), "+", () => zoomBy(1.25)), fitWidthButton, fitPageButton),
    el("div", { class: "viewer-group" }, searchToggle, download));

  const searchInput = el("input", { type: "search", class: "input", id: "viewer-search-q", autocomplete: "off", enterkeyhint: "search" });
  const searchStatus = el("span", { class: "viewer-search-status", role: "status" }, "");
  const searchForm = el("form", { class: "viewer-search", id: "viewer-search", role: "search", hidden: true },
    el("label", { for: "viewer-search-q", class: "visually-hidden" }, t("viewer.searchLabel")),
    searchInput,
    iconButton(t("viewer.searchPrev"), "↑", () => stepHit(-1)),
    iconButton(t("viewer.searchNext"), "↓", () => stepHit(1)),
    searchStatus,
    iconButton(t("viewer.searchClose"), "✕", () => closeSearch()));

  const thumbs = el("nav", { class: "viewer-panel viewer-thumbs", id: "viewer-thumbs", "aria-label": t("viewer.thumbnails"), hidden: true },
    el("ol", { class: "viewer-thumb-list" }));
  const outline = el("nav", { class: "viewer-panel viewer-outline", id: "viewer-outline", "aria-label": t("viewer.outline"), hidden: true });
  const canvas = el("canvas", { class: "viewer-canvas", "aria-hidden": "true" });
  const textLayerDiv = el("div", { class: "textLayer" });
  const pageBox = el("div", { class: "viewer-page" }, canvas, textLayerDiv);
  const stage = el("section", {
    class: "viewer-stage", tabindex: "0", "aria-roledescription": "PDF", "aria-label": t("viewer.document", { label: "" }),
  }, pageBox);
  const live = el("p", { class: "visually-hidden", "aria-live": "polite" });
  const noText = info.pages_without_text?.length
    ? el("p", { class: "notice viewer-notext" }, t("viewer.noText", { pages: info.pages_without_text.join(", ") }))
    : null;

  // Members annotate; the public portal only reads.
  const annot = pub ? null : annotations({ fileId: id, pageBox, goTo: (n) => goTo(n) });
  if (annot) disposers.push(() => annot.dispose());
  root.replaceChildren(
    el("div", { class: "viewer" },
      el("div", { class: "viewer-head" }, backAnchor, heading),
      toolbar, annot?.toolbar, searchForm, noText,
      el("div", { class: "viewer-body" }, thumbs, outline, stage, annot?.panel), live));
  root.classList.add("screen-viewer");
  disposers.push(() => root.classList.remove("screen-viewer"));
  const status = el("p", { class: "notice viewer-loading", role: "status" }, t("ui.loading"));
  stage.prepend(status);

  // --- Loading ------------------------------------------------------------------------------
  const opened = performance.now();
  let lib;
  try {
    lib = await pdfjs();
    state.pdf = await openDocument(lib, info.url);
  } catch (error) {
    if (destroyed) return () => {};
    status.replaceWith(errorBox(error?.status ? error : { status: error?.status ?? "PDF" }));
    console.error("Plenum: cannot open the PDF", error);
    return () => {
      for (const dispose of disposers) dispose();
    };
  }
  if (destroyed) {
    state.pdf.destroy();
    return () => {};
  }
  status.remove();
  state.total = state.pdf.numPages;
  state.page = Math.min(state.page, state.total);
  pageInput.max = String(state.total);
  pageTotal.textContent = t("viewer.pageOf", { n: state.total });

  async function openDocument(lib, url) {
    const attempt = () => {
      const token = api.token();
      return lib.getDocument({
        url,
        httpHeaders: !pub && token ? { Authorization: `Bearer ${token}` } : undefined,
        withCredentials: false,
        // Only the ranges a page needs: the first page shows before the rest arrived.
        disableAutoFetch: true,
        disableStream: true,
        rangeChunkSize: 256 * 1024,
        isEvalSupported: false,
        cMapUrl: "/vendor/pdfjs/cmaps/",
        cMapPacked: true,
        standardFontDataUrl: "/vendor/pdfjs/standard_fonts/",
        enableXfa: false,
      }).promise;
    };
    // No connection: the copy kept on the device (opened before, or the meeting kept offline).
    const fromCopy = async () => {
      const blob = await api.fileBlob(url);
      return lib.getDocument({
        data: new Uint8Array(await blob.arrayBuffer()),
        isEvalSupported: false,
        cMapUrl: "/vendor/pdfjs/cmaps/",
        cMapPacked: true,
        standardFontDataUrl: "/vendor/pdfjs/standard_fonts/",
        enableXfa: false,
      }).promise;
    };
    // Known to be offline: straight to the copy (PDF.js's own fetch would fail, noisily).
    if (!pub && !navigator.onLine) return fromCopy();
    try {
      return await attempt();
    } catch (error) {
      // An expired access token: refresh once and try again.
      if (!pub && error?.status === 401 && (await api.refresh())) return attempt();
      if (pub || error?.status) throw error;
      return fromCopy();
    }
  }

  // --- Rendering ----------------------------------------------------------------------------
  function fitScale(page) {
    const base = page.getViewport({ scale: 1 });
    const width = Math.max(200, stage.clientWidth - 24);
    const height = Math.max(200, stage.clientHeight - 24);
    if (state.fit === "page") return Math.min(width / base.width, height / base.height);
    return width / base.width;
  }

  async function render() {
    const serial = ++state.renderSerial;
    const started = performance.now();
    state.renderTask?.cancel();
    state.textLayer?.cancel();
    const page = await state.pdf.getPage(state.page);
    if (serial !== state.renderSerial || destroyed) return;
    state.pageProxy = page;
    if (state.fit) state.scale = fitScale(page);
    const viewport = page.getViewport({ scale: state.scale });
    const ratio = window.devicePixelRatio || 1;
    // A new canvas per render: the old one stays visible until the new page is drawn.
    const next = el("canvas", { class: "viewer-canvas", "aria-hidden": "true" });
    next.width = Math.floor(viewport.width * ratio);
    next.height = Math.floor(viewport.height * ratio);
    next.style.width = `${Math.floor(viewport.width)}px`;
    next.style.height = `${Math.floor(viewport.height)}px`;
    const task = page.render({
      canvasContext: next.getContext("2d"),
      canvas: next,
      viewport,
      transform: ratio !== 1 ? [ratio, 0, 0, ratio, 0, 0] : null,
    });
    state.renderTask = task;
    try {
      await task.promise;
    } catch (error) {
      if (error?.name === "RenderingCancelledException") return;
      throw error;
    }
    if (serial !== state.renderSerial || destroyed) return;
    pageBox.querySelector("canvas")?.replaceWith(next);
    pageBox.style.width = `${Math.floor(viewport.width)}px`;
    pageBox.style.height = `${Math.floor(viewport.height)}px`;
    pageBox.style.setProperty("--total-scale-factor", String(viewport.scale));
    pageBox.style.setProperty("--scale-round-x", "1px");
    pageBox.style.setProperty("--scale-round-y", "1px");
    pageBox.dataset.page = String(state.page);
    annot?.onPage(state.page, page.getViewport({ scale: 1 }));
    // Wider than the stage: horizontal panning scrolls; otherwise a horizontal swipe is ours.
    stage.classList.toggle("viewer-wide", Math.floor(viewport.width) + 24 > stage.clientWidth);
    const elapsed = performance.now() - started;
    if (state.firstPageMs === null) {
      state.firstPageMs = performance.now() - opened;
      performance.mark("plenum-viewer-first-page");
    } else {
      state.lastTurnMs = elapsed;
    }
    pageBox.dataset.rendered = String(state.renderSerial);
    window.__plenumViewer = { firstPageMs: state.firstPageMs, lastTurnMs: state.lastTurnMs, page: state.page };
    prefetch(state.page + 1);
    // The text layer: selectable text, search hits, read by screen readers.
    const layer = el("div", { class: "textLayer" });
    pageBox.querySelector(".textLayer")?.replaceWith(layer);
    const textLayer = new lib.TextLayer({
      textContentSource: page.streamTextContent({ includeMarkedContent: true, disableNormalization: true }),
      container: layer,
      viewport,
    });
    state.textLayer = textLayer;
    try {
      await textLayer.render();
    } catch (error) {
      if (error?.name !== "AbortException") console.warn("Plenum: text layer", error);
      return;
    }
    if (serial !== state.renderSerial || destroyed) return;
    markHits(textLayer.textDivs);
    pageBox.dataset.textReady = String(state.renderSerial);
  }

  /** Loads the next page's data (its ranges, fonts, images) while the reader reads this one. */
  const prefetched = new Set();
  function prefetch(n) {
    if (n < 1 || n > state.total || prefetched.has(n)) return;
    prefetched.add(n);
    state.pdf.getPage(n).then((page) => page.getOperatorList()).catch(() => prefetched.delete(n));
  }

  function updateControls() {
    pageInput.value = String(state.page);
    prevButton.disabled = state.page <= 1;
    nextButton.disabled = state.page >= state.total;
    zoomLabel.textContent = `${Math.round(state.scale * 100)} %`;
    fitWidthButton.setAttribute("aria-pressed", String(state.fit === "width"));
    fitPageButton.setAttribute("aria-pressed", String(state.fit === "page"));
    stage.setAttribute("aria-label", t("viewer.document", { label: t("viewer.pageLabel", { n: state.page, total: state.total }) }));
    for (const item of thumbs.querySelectorAll("[data-page]")) {
      if (Number(item.dataset.page) === state.page) item.setAttribute("aria-current", "page");
      else item.removeAttribute("aria-current");
    }
    // Keep the address current without a new history entry (and without re-routing).
    const hash = window.location.hash.split("?")[0];
    const query = new URLSearchParams(window.location.hash.split("?")[1] ?? "");
    query.set("page", String(state.page));
    history.replaceState(history.state, "", `${hash}?${query}`);
  }

  async function show() {
    updateControls();
    try {
      await render();
    } catch (error) {
      console.error("Plenum: render failed", error);
      live.textContent = errorMessage(error);
    }
  }

  function goTo(page) {
    const target = Math.min(Math.max(1, Math.trunc(page) || 1), state.total);
    if (target === state.page) {
      updateControls();
      return;
    }
    state.page = target;
    live.textContent = t("viewer.pageLabel", { n: state.page, total: state.total });
    stage.scrollTo({ top: 0, left: 0 });
    show();
  }

  function setFit(mode) {
    state.fit = mode;
    show();
  }

  function zoomBy(factor) {
    state.fit = null;
    state.scale = Math.min(MAX_SCALE, Math.max(MIN_SCALE, state.scale * factor));
    show();
  }

  // --- Panels: thumbnails and outline ---------------------------------------------------------
  let thumbsBuilt = false;
  let outlineBuilt = false;

  function togglePanel(which) {
    const panel = which === "thumbs" ? thumbs : outline;
    const button = which === "thumbs" ? thumbsToggle : outlineToggle;
    const open = panel.hidden;
    for (const [p, b] of [[thumbs, thumbsToggle], [outline, outlineToggle]]) {
      p.hidden = true;
      b.setAttribute("aria-pressed", "false");
    }
    if (!open) return;
    panel.hidden = false;
    button.setAttribute("aria-pressed", "true");
    if (which === "thumbs" && !thumbsBuilt) buildThumbs();
    if (which === "outline" && !outlineBuilt) buildOutline();
    updateControls();
  }

  function buildThumbs() {
    thumbsBuilt = true;
    const list = thumbs.querySelector("ol");
    const observer = new IntersectionObserver((entries) => {
      for (const entry of entries) {
        if (!entry.isIntersecting) continue;
        observer.unobserve(entry.target);
        drawThumb(entry.target);
      }
    }, { root: thumbs, rootMargin: "200px" });
    disposers.push(() => observer.disconnect());
    for (let n = 1; n <= state.total; n += 1) {
      const button = el("button", { type: "button", class: "viewer-thumb", "data-page": n, "aria-label": t("viewer.pageN", { n }), onclick: () => goTo(n) },
        el("span", { class: "viewer-thumb-canvas" }),
        el("span", { class: "viewer-thumb-number", "aria-hidden": "true" }, String(n)));
      list.append(el("li", {}, button));
      observer.observe(button);
    }
    thumbs.querySelector(`[data-page="${state.page}"]`)?.scrollIntoView({ block: "nearest" });
  }

  async function drawThumb(button) {
    const n = Number(button.dataset.page);
    try {
      const page = await state.pdf.getPage(n);
      const base = page.getViewport({ scale: 1 });
      const viewport = page.getViewport({ scale: THUMB_WIDTH / base.width });
      const ratio = window.devicePixelRatio || 1;
      const thumb = el("canvas", { class: "viewer-thumb-image", "aria-hidden": "true" });
      thumb.width = Math.floor(viewport.width * ratio);
      thumb.height = Math.floor(viewport.height * ratio);
      thumb.style.width = `${Math.floor(viewport.width)}px`;
      thumb.style.height = `${Math.floor(viewport.height)}px`;
      await page.render({
        canvasContext: thumb.getContext("2d"), canvas: thumb, viewport,
        transform: ratio !== 1 ? [ratio, 0, 0, ratio, 0, 0] : null,
      }).promise;
      if (!destroyed) button.querySelector(".viewer-thumb-canvas")?.replaceChildren(thumb);
    } catch (error) {
      console.warn("Plenum: thumbnail", n, error);
    }
  }

  async function buildOutline() {
    outlineBuilt = true;
    outline.replaceChildren(loading());
    let items = null;
    try {
      items = await state.pdf.getOutline();
    } catch {
      items = null;
    }
    if (destroyed) return;
    if (!items?.length) {
      outline.replaceChildren(el("p", { class: "viewer-outline-none" }, t("viewer.outlineNone")));
      return;
    }
    const list = (entries) => el("ul", { class: "viewer-outline-list" }, ...entries.map((entry) => {
      const link = el("button", { type: "button", class: "viewer-outline-item", onclick: () => goToDest(entry.dest) }, entry.title || "–");
      return el("li", {}, link, entry.items?.length ? list(entry.items) : null);
    }));
    outline.replaceChildren(list(items));
  }

  async function goToDest(dest) {
    try {
      const explicit = typeof dest === "string" ? await state.pdf.getDestination(dest) : dest;
      if (!Array.isArray(explicit)) return;
      const ref = explicit[0];
      const index = typeof ref === "object" && ref !== null ? await state.pdf.getPageIndex(ref) : Number(ref);
      if (Number.isFinite(index)) goTo(index + 1);
    } catch (error) {
      console.warn("Plenum: outline destination", error);
    }
  }

  // --- Search ---------------------------------------------------------------------------------
  function openSearch() {
    searchForm.hidden = false;
    searchToggle.setAttribute("aria-expanded", "true");
    searchInput.focus();
    searchInput.select();
  }

  function closeSearch() {
    searchForm.hidden = true;
    searchToggle.setAttribute("aria-expanded", "false");
    state.hits = [];
    state.hit = -1;
    state.query = "";
    searchStatus.textContent = "";
    if (state.textLayer) markHits(state.textLayer.textDivs);
    searchToggle.focus();
  }

  /** The page's text as one folded string, with each text item's offsets in it. */
  async function pageText(n) {
    if (state.pageTexts.has(n)) return state.pageTexts.get(n);
    const page = await state.pdf.getPage(n);
    const content = await page.getTextContent({ disableNormalization: true });
    let text = "";
    const items = [];
    for (const item of content.items) {
      if (typeof item.str !== "string") continue;
      const start = text.length;
      text += fold(item.str);
      items.push({ start, end: text.length });
      text += item.hasEOL ? "\n" : "";
    }
    const entry = { text, items };
    state.pageTexts.set(n, entry);
    return entry;
  }

  async function runSearch(query) {
    const words = fold(query.trim());
    state.query = words;
    state.hits = [];
    state.hit = -1;
    if (!words) {
      searchStatus.textContent = "";
      if (state.textLayer) markHits(state.textLayer.textDivs);
      return;
    }
    searchStatus.textContent = t("viewer.searching");
    const hits = [];
    for (let n = 1; n <= state.total; n += 1) {
      const { text } = await pageText(n);
      if (destroyed || state.query !== words) return;
      let from = 0;
      for (;;) {
        const at = text.indexOf(words, from);
        if (at < 0) break;
        hits.push({ page: n, start: at, end: at + words.length });
        from = at + words.length;
      }
    }
    state.hits = hits;
    if (!hits.length) {
      searchStatus.textContent = t("viewer.noHits", { q: query.trim() });
      if (state.textLayer) markHits(state.textLayer.textDivs);
      return;
    }
    // The first hit on or after the current page.
    const next = hits.findIndex((hit) => hit.page >= state.page);
    selectHit(next >= 0 ? next : 0);
  }

  function selectHit(index) {
    if (!state.hits.length) return;
    state.hit = (index + state.hits.length) % state.hits.length;
    const hit = state.hits[state.hit];
    searchStatus.textContent = t("viewer.hits", { i: state.hit + 1, n: state.hits.length });
    if (hit.page !== state.page) goTo(hit.page);
    else if (state.textLayer) markHits(state.textLayer.textDivs);
  }

  function stepHit(delta) {
    if (!state.hits.length) {
      if (searchInput.value.trim()) runSearch(searchInput.value);
      return;
    }
    selectHit(state.hit + delta);
  }

  /** Wraps the hits on the current page in <mark> inside the text layer's spans. */
  function markHits(divs) {
    const entry = state.pageTexts.get(state.page);
    for (const div of divs) {
      if (div.dataset.original !== undefined) {
        div.textContent = div.dataset.original;
        delete div.dataset.original;
      }
    }
    if (!entry || !state.query) return;
    const hits = state.hits.filter((hit) => hit.page === state.page);
    if (!hits.length) return;
    const current = state.hits[state.hit];
    // Text items and the layer's divs correspond one to one (in order).
    const count = Math.min(entry.items.length, divs.length);
    let currentMark = null;
    for (let i = 0; i < count; i += 1) {
      const { start, end } = entry.items[i];
      const inside = hits.filter((hit) => hit.start < end && hit.end > start);
      if (!inside.length) continue;
      const div = divs[i];
      const original = div.textContent;
      if (original.length !== end - start) continue; // folding changed the length: skip
      div.dataset.original = original;
      const parts = [];
      let at = 0;
      for (const hit of inside) {
        const from = Math.max(hit.start - start, 0);
        const to = Math.min(hit.end - start, original.length);
        if (from > at) parts.push(document.createTextNode(original.slice(at, from)));
        const mark = el("mark", { class: hit === current ? "viewer-hit viewer-hit-current" : "viewer-hit" }, original.slice(from, to));
        if (hit === current && !currentMark) currentMark = mark;
        parts.push(mark);
        at = to;
      }
      if (at < original.length) parts.push(document.createTextNode(original.slice(at)));
      div.replaceChildren(...parts);
    }
    currentMark?.scrollIntoView({ block: "center", inline: "nearest" });
  }

  let searchTimer = null;
  searchForm.addEventListener("submit", (event) => {
    event.preventDefault();
    if (state.hits.length && fold(searchInput.value.trim()) === state.query) stepHit(1);
    else runSearch(searchInput.value);
  });
  searchInput.addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => runSearch(searchInput.value), 300);
  });
  searchInput.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      closeSearch();
    } else if (event.key === "Enter" && event.shiftKey) {
      event.preventDefault();
      stepHit(-1);
    }
  });
  disposers.push(() => clearTimeout(searchTimer));

  // --- Input: page field, keyboard, touch -----------------------------------------------------
  pageInput.addEventListener("change", () => goTo(Number.parseInt(pageInput.value, 10)));
  pageInput.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault();
      goTo(Number.parseInt(pageInput.value, 10));
    }
  });

  const onKey = (event) => {
    if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "f") {
      event.preventDefault();
      openSearch();
      return;
    }
    const target = event.target;
    if (target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement) return;
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    const scrollable = stage.scrollHeight > stage.clientHeight + 2;
    switch (event.key) {
      case "ArrowRight":
      case "PageDown":
        if (event.key === "PageDown" && scrollable && stage.scrollTop + stage.clientHeight < stage.scrollHeight - 2) return;
        event.preventDefault();
        goTo(state.page + 1);
        break;
      case "ArrowLeft":
      case "PageUp":
        if (event.key === "PageUp" && scrollable && stage.scrollTop > 2) return;
        event.preventDefault();
        goTo(state.page - 1);
        break;
      case "Home":
        if (target === stage) {
          event.preventDefault();
          goTo(1);
        }
        break;
      case "End":
        if (target === stage) {
          event.preventDefault();
          goTo(state.total);
        }
        break;
      case "+":
        event.preventDefault();
        zoomBy(1.25);
        break;
      case "-":
        event.preventDefault();
        zoomBy(1 / 1.25);
        break;
      default:
    }
  };
  document.addEventListener("keydown", onKey);
  disposers.push(() => document.removeEventListener("keydown", onKey));

  // Pinch (two pointers) zooms, a horizontal swipe (one pointer, page not wider than the stage)
  // turns the page. Scrolling stays with the browser (touch-action: pan-y, or pan-x pan-y when
  // the page is wider than the stage).
  const pointers = new Map();
  let pinch = null;
  let swipe = null;
  stage.addEventListener("pointerdown", (event) => {
    if (event.pointerType === "mouse" || annot?.capturing()) return;
    pointers.set(event.pointerId, { x: event.clientX, y: event.clientY });
    if (pointers.size === 2) {
      const [a, b] = [...pointers.values()];
      pinch = { distance: Math.hypot(a.x - b.x, a.y - b.y), scale: state.scale };
      swipe = null;
    } else if (pointers.size === 1) {
      swipe = { x: event.clientX, y: event.clientY, time: performance.now() };
    }
  });
  stage.addEventListener("pointermove", (event) => {
    if (!pointers.has(event.pointerId)) return;
    pointers.set(event.pointerId, { x: event.clientX, y: event.clientY });
    if (pinch && pointers.size === 2) {
      const [a, b] = [...pointers.values()];
      const ratio = Math.hypot(a.x - b.x, a.y - b.y) / Math.max(1, pinch.distance);
      pinch.ratio = ratio;
      pageBox.style.transform = `scale(${ratio})`;
    }
  });
  const endPointer = (event) => {
    if (!pointers.has(event.pointerId)) return;
    pointers.delete(event.pointerId);
    if (pinch && pointers.size < 2) {
      const ratio = pinch.ratio ?? 1;
      pageBox.style.transform = "";
      const scale = Math.min(MAX_SCALE, Math.max(MIN_SCALE, pinch.scale * ratio));
      pinch = null;
      swipe = null;
      if (Math.abs(ratio - 1) > 0.05) {
        state.fit = null;
        state.scale = scale;
        show();
      }
      return;
    }
    if (swipe && pointers.size === 0 && event.type === "pointerup") {
      const dx = event.clientX - swipe.x;
      const dy = event.clientY - swipe.y;
      const quick = performance.now() - swipe.time < 800;
      const fits = stage.scrollWidth <= stage.clientWidth + 2;
      swipe = null;
      if (quick && fits && Math.abs(dx) > 60 && Math.abs(dx) > 2 * Math.abs(dy)) {
        goTo(state.page + (dx < 0 ? 1 : -1));
      }
    }
  };
  for (const type of ["pointerup", "pointercancel", "pointerleave"]) stage.addEventListener(type, endPointer);

  // Refit on rotation / resize (tablets turn).
  let resizeTimer = null;
  const resize = new ResizeObserver(() => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => {
      if (state.fit) show();
    }, 150);
  });
  resize.observe(stage);
  disposers.push(() => {
    resize.disconnect();
    clearTimeout(resizeTimer);
  });

  await show();
  if (!pub && navigator.onLine) {
    // Kept on the device for reading offline (a session without network), fetched after the
    // first page is on the screen so it does not compete with it.
    const copy = setTimeout(() => api.fileBlob(info.url).catch(() => {}), 1500);
    disposers.push(() => clearTimeout(copy));
  }
  const initial = params.get("q");
  if (initial) {
    searchForm.hidden = false;
    searchToggle.setAttribute("aria-expanded", "true");
    searchInput.value = initial;
    runSearch(initial);
  }

  return () => {
    destroyed = true;
    for (const dispose of disposers) dispose();
    state.renderTask?.cancel();
    state.textLayer?.cancel();
    state.pdf?.destroy();
  };
}

const DOCS_CACHE = "plenum-docs-v1";

/** Keeps a file's metadata with its content (js/api.js keeps the content) for offline reading. */
async function keep(path, info) {
  try {
    const cache = await caches.open(DOCS_CACHE);
    await cache.put(path, new Response(JSON.stringify(info), { headers: { "Content-Type": "application/json" } }));
  } catch {
    // no Cache Storage: online only
  }
}

async function kept(path) {
  try {
    const cache = await caches.open(DOCS_CACHE);
    const hit = await cache.match(path);
    return hit ? await hit.json() : null;
  } catch {
    return null;
  }
}

/** A download control: a plain link for public files, a fetch with the token for members. */
function downloadControl(info, pub) {
  if (pub) {
    return el("a", { class: "viewer-button viewer-text-button viewer-download", href: info.url, download: info.name }, t("viewer.download"));
  }
  const button = el("button", { type: "button", class: "viewer-button viewer-text-button viewer-download" }, t("viewer.download"));
  button.addEventListener("click", async () => {
    try {
      const blob = await api.fileBlob(info.url);
      const url = URL.createObjectURL(blob);
      const link = el("a", { href: url, download: info.name, hidden: true });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
    } catch (error) {
      button.setAttribute("title", errorMessage(error));
    }
  });
  return button;
}
