// Translations: German first, English second. Each module registers its own strings with
// `register({de: {...}, en: {...}})`; `t(key, vars)` looks them up in the current language
// (falling back to German, then to the key itself) and fills `{name}` placeholders.

const STORAGE_KEY = "plenum.lang";
const LANGS = ["de", "en"];
const tables = { de: {}, en: {} };
const listeners = new Set();

function stored() {
  try {
    const value = window.localStorage.getItem(STORAGE_KEY);
    return LANGS.includes(value) ? value : null;
  } catch {
    return null; // storage disabled
  }
}

let current = stored() ?? "de";

export function register(messages) {
  for (const l of LANGS) Object.assign(tables[l], messages?.[l] ?? {});
}

export function t(key, vars = {}) {
  const template = tables[current][key] ?? tables.de[key] ?? key;
  return template.replace(/\{(\w+)\}/g, (match, name) =>
    Object.hasOwn(vars, name) ? String(vars[name]) : match,
  );
}

export function lang() {
  return current;
}

export function setLang(l) {
  const next = LANGS.includes(l) ? l : "de";
  current = next;
  try {
    window.localStorage.setItem(STORAGE_KEY, next);
  } catch {
    // not remembered; not fatal
  }
  document.documentElement.lang = next;
  for (const fn of [...listeners]) fn(next);
}

/** Calls `fn(lang)` after every language change; returns a function that unsubscribes. */
export function onLangChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

function locale() {
  return current === "de" ? "de-DE" : "en-GB";
}

/** "Mo., 23. Nov. 2026, 18:00" */
export function formatDateTime(value) {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return "–";
  return new Intl.DateTimeFormat(locale(), {
    weekday: "short", day: "numeric", month: "short", year: "numeric",
    hour: "2-digit", minute: "2-digit",
  }).format(date);
}

/** "23. November 2026" */
export function formatDate(value) {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return "–";
  return new Intl.DateTimeFormat(locale(), { day: "numeric", month: "long", year: "numeric" })
    .format(date);
}

export function formatTime(value) {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return "–";
  return new Intl.DateTimeFormat(locale(), { hour: "2-digit", minute: "2-digit" }).format(date);
}

export function formatMonth(date) {
  return new Intl.DateTimeFormat(locale(), { month: "long", year: "numeric" }).format(date);
}

export function formatNumber(value) {
  return new Intl.NumberFormat(locale()).format(value);
}

export function formatSize(bytes) {
  const n = Number(bytes);
  if (!Number.isFinite(n)) return "";
  if (n < 1024) return `${formatNumber(n)} B`;
  if (n < 1024 * 1024) return `${formatNumber(Math.round(n / 1024))} KB`;
  return `${new Intl.NumberFormat(locale(), { maximumFractionDigits: 1 }).format(n / 1048576)} MB`;
}
