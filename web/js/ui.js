// Small DOM helpers. Server data goes in as text (textContent) or through `richText`, which
// keeps only an allow-list of elements and never an attribute that could run or style anything.

import { register, t } from "./i18n.js";

register({
  de: {
    "ui.loading": "Wird geladen …",
    "ui.retry": "Erneut versuchen",
    "ui.error.offline": "Keine Verbindung zum Server. Bitte prüfen Sie das WLAN und versuchen Sie es erneut.",
    "ui.error.not-found": "Nicht gefunden – oder Sie haben keinen Zugriff darauf.",
    "ui.error.rate-limited": "Zu viele Versuche. Bitte warten Sie einen Moment.",
    "ui.error.generic": "Das hat leider nicht geklappt ({status}).",
  },
  en: {
    "ui.loading": "Loading …",
    "ui.retry": "Try again",
    "ui.error.offline": "No connection to the server. Please check the WiFi and try again.",
    "ui.error.not-found": "Not found – or you have no access to it.",
    "ui.error.rate-limited": "Too many attempts. Please wait a moment.",
    "ui.error.generic": "Sorry, that did not work ({status}).",
  },
});

/**
 * `el("a", {href: "#/", class: "x", onclick: fn}, "text", child)`. Attributes: `class`, `text`,
 * `on<event>` (listener), booleans (`hidden: true`), everything else via setAttribute.
 */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") node.className = value;
    else if (name === "text") node.textContent = value;
    else if (name.startsWith("on") && typeof value === "function") {
      node.addEventListener(name.slice(2), value);
    } else if (value === true) node.setAttribute(name, "");
    else node.setAttribute(name, String(value));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

const SVG_NS = "http://www.w3.org/2000/svg";

/** An SVG element with attributes. */
export function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  for (const child of children) node.append(child);
  return node;
}

/** A user-facing message for an error (ApiError or other). */
export function errorMessage(error) {
  const kind = error?.kind ?? "";
  const key = `ui.error.${kind}`;
  const text = t(key);
  if (text !== key) return text;
  if (error?.status === 404) return t("ui.error.not-found");
  return t("ui.error.generic", { status: error?.status ?? "?" });
}

export function loading() {
  return el("p", { class: "notice", role: "status" }, t("ui.loading"));
}

/** An error box with an optional retry button. */
export function errorBox(error, retry) {
  const box = el("div", { class: "notice notice-error", role: "alert" },
    el("p", { class: "notice-text" }, errorMessage(error)));
  if (retry) {
    box.append(el("button", { type: "button", class: "retry", onclick: retry }, t("ui.retry")));
  }
  return box;
}

const ALLOWED = new Set([
  "P", "BR", "STRONG", "B", "EM", "I", "U", "UL", "OL", "LI", "H1", "H2", "H3", "H4", "H5", "H6",
  "BLOCKQUOTE", "CODE", "PRE", "TABLE", "THEAD", "TBODY", "TR", "TH", "TD", "A", "HR", "DEL", "SUP", "SUB",
]);

const DROPPED = new Set(["SCRIPT", "STYLE", "TEMPLATE", "NOSCRIPT", "IFRAME", "OBJECT", "EMBED", "SVG", "MATH"]);

/** Sanitised HTML from the server, re-checked against an allow-list, as a fragment. */
export function richText(html) {
  const fragment = document.createDocumentFragment();
  if (typeof html !== "string" || html === "") return fragment;
  // Template content is inert: nothing in it loads, runs or applies.
  const template = document.createElement("template");
  template.innerHTML = html;
  const doc = { body: template.content };
  const copy = (source, target) => {
    for (const child of source.childNodes) {
      if (child.nodeType === Node.TEXT_NODE) {
        target.append(document.createTextNode(child.textContent));
      } else if (child.nodeType === Node.ELEMENT_NODE) {
        if (DROPPED.has(child.tagName.toUpperCase())) continue; // neither the element nor its text
        if (!ALLOWED.has(child.tagName)) {
          copy(child, target); // keep the text, drop the element
          continue;
        }
        // Headings inside content sit below the screen's own h1/h2.
        const tag = /^H[1-6]$/.test(child.tagName) ? "h4" : child.tagName.toLowerCase();
        const node = document.createElement(tag);
        if (child.tagName === "A") {
          const href = child.getAttribute("href") ?? "";
          if (/^(https?:|mailto:|#)/i.test(href)) node.setAttribute("href", href);
          node.setAttribute("rel", "noopener noreferrer");
        }
        copy(child, node);
        target.append(node);
      }
    }
  };
  copy(doc.body, fragment);
  return fragment;
}

/** Moves focus to the screen's heading after navigation (screen readers announce it). */
export function focusHeading(root) {
  const heading = root.querySelector("h1");
  if (heading) {
    heading.setAttribute("tabindex", "-1");
    heading.focus({ preventScroll: false });
  }
}
