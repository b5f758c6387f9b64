// The register of persons (clerks and admins): who is published in OParl and the public portal,
// and what OParl says about them besides the name: roles (status), name affix and gender, only
// as entered. A search field filters the list; each person has a publication switch and a small
// form. Every change is one request and is audited by the server.

import { register, t } from "../i18n.js";
import { el, errorBox, errorMessage, loading } from "../ui.js";

register({
  de: {
    "persons.title": "Personen veröffentlichen",
    "persons.intro": "Wer hier veröffentlicht ist, erscheint mit Namen und Mitgliedschaften im öffentlichen Bereich und in der OParl-Schnittstelle. Ratsmitglieder sind als Inhaber eines öffentlichen Amtes veröffentlicht, Beschäftigte der Verwaltung nur, wenn Sie es hier wählen.",
    "persons.search": "Person suchen",
    "persons.searchHint": "Name oder Funktion",
    "persons.count": "{n} von {total} Personen",
    "persons.none": "Keine Person passt zur Suche.",
    "persons.published": "Veröffentlicht",
    "persons.publishedLabel": "{name} veröffentlichen",
    "persons.isPublished": "{name} ist jetzt veröffentlicht.",
    "persons.isUnpublished": "{name} ist nicht mehr veröffentlicht.",
    "persons.status": "Funktionen",
    "persons.statusHint": "Eine pro Zeile, z. B. Bürgermeisterin",
    "persons.affix": "Namenszusatz",
    "persons.affixHint": "z. B. von",
    "persons.gender": "Geschlecht",
    "persons.gender.none": "nicht angegeben",
    "persons.gender.female": "weiblich",
    "persons.gender.male": "männlich",
    "persons.gender.other": "divers",
    "persons.save": "Speichern",
    "persons.saveLabel": "Angaben zu {name} speichern",
    "persons.saved": "Die Angaben zu {name} wurden gespeichert.",
    "persons.details": "Angaben für OParl",
    "persons.forbidden": "Diese Seite ist dem Ratsbüro und der Administration vorbehalten.",
  },
  en: {
    "persons.title": "Publish persons",
    "persons.intro": "Whoever is published here appears with name and memberships in the public portal and the OParl interface. Council members are published as holders of a public office; staff of the administration only if you choose so here.",
    "persons.search": "Search persons",
    "persons.searchHint": "Name or role",
    "persons.count": "{n} of {total} persons",
    "persons.none": "No person matches the search.",
    "persons.published": "Published",
    "persons.publishedLabel": "Publish {name}",
    "persons.isPublished": "{name} is published now.",
    "persons.isUnpublished": "{name} is no longer published.",
    "persons.status": "Roles",
    "persons.statusHint": "One per line, e.g. Mayor",
    "persons.affix": "Name affix",
    "persons.affixHint": "e.g. von",
    "persons.gender": "Gender",
    "persons.gender.none": "not stated",
    "persons.gender.female": "female",
    "persons.gender.male": "male",
    "persons.gender.other": "diverse",
    "persons.save": "Save",
    "persons.saveLabel": "Save details of {name}",
    "persons.saved": "The details of {name} were saved.",
    "persons.details": "Details for OParl",
    "persons.forbidden": "This page is for the council office and administrators.",
  },
});

const GENDERS = ["", "female", "male", "other"];

export async function mount(root, _params, ctx) {
  const { api } = ctx;
  const status = el("p", { class: "status-line", role: "status", "data-testid": "persons-status" });
  const search = el("input", {
    type: "search", id: "persons-search", class: "input", autocomplete: "off",
    "aria-describedby": "persons-search-hint", "data-testid": "persons-search",
  });
  const count = el("p", { class: "result-count", "aria-live": "polite" });
  const list = el("div", {}, loading());
  root.append(
    el("h1", { class: "page-title" }, t("persons.title")),
    el("p", { class: "lead-small" }, t("persons.intro")),
    el("div", { class: "field persons-search" },
      el("label", { for: "persons-search" }, t("persons.search")),
      search,
      el("p", { class: "field-hint", id: "persons-search-hint" }, t("persons.searchHint"))),
    status,
    count,
    list,
  );

  let persons = [];

  function matches(person, q) {
    if (!q) return true;
    const text = [person.name, person.affix ?? "", ...(person.status ?? [])].join(" ").toLowerCase();
    return q.toLowerCase().split(/\s+/).filter(Boolean).every((word) => text.includes(word));
  }

  function card(person) {
    const key = person.id;
    const toggle = el("input", {
      type: "checkbox", id: `pub-${key}`, class: "switch-input",
      "aria-label": t("persons.publishedLabel", { name: person.name }),
      "data-testid": "person-published",
    });
    toggle.checked = person.published;
    toggle.addEventListener("change", async () => {
      toggle.disabled = true;
      try {
        const { data } = await api.versioned("PUT", `/api/v1/persons/${encodeURIComponent(key)}/publication`,
          { body: { published: toggle.checked } });
        Object.assign(person, data);
        status.textContent = t(data.published ? "persons.isPublished" : "persons.isUnpublished", { name: person.name });
      } catch (error) {
        toggle.checked = person.published;
        status.textContent = errorMessage(error);
      } finally {
        toggle.disabled = false;
      }
    });
    const statusField = el("textarea", {
      id: `status-${key}`, class: "input", rows: "2", "aria-describedby": `status-hint-${key}`,
      "data-testid": "person-status",
    });
    statusField.value = (person.status ?? []).join("\n");
    const affix = el("input", {
      type: "text", id: `affix-${key}`, class: "input", maxlength: "200",
      "aria-describedby": `affix-hint-${key}`, "data-testid": "person-affix",
    });
    affix.value = person.affix ?? "";
    const gender = el("select", { id: `gender-${key}`, class: "input", "data-testid": "person-gender" },
      ...GENDERS.map((g) => el("option", { value: g }, t(`persons.gender.${g || "none"}`))));
    gender.value = person.gender ?? "";
    const save = el("button", {
      type: "submit", class: "button button-secondary",
      "aria-label": t("persons.saveLabel", { name: person.name }), "data-testid": "person-save",
    }, t("persons.save"));
    const form = el("form", { class: "person-form" },
      el("div", { class: "field" },
        el("label", { for: `status-${key}` }, t("persons.status")),
        statusField,
        el("p", { class: "field-hint", id: `status-hint-${key}` }, t("persons.statusHint"))),
      el("div", { class: "field" },
        el("label", { for: `affix-${key}` }, t("persons.affix")),
        affix,
        el("p", { class: "field-hint", id: `affix-hint-${key}` }, t("persons.affixHint"))),
      el("div", { class: "field" },
        el("label", { for: `gender-${key}` }, t("persons.gender")),
        gender),
      save);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      save.disabled = true;
      try {
        const body = {
          status: statusField.value.split("\n").map((s) => s.trim()).filter(Boolean),
          affix: affix.value.trim() || null,
          gender: gender.value || null,
        };
        person = Object.assign(person, await api.patch(`/api/v1/persons/${encodeURIComponent(key)}`, body));
        status.textContent = t("persons.saved", { name: person.name });
      } catch (error) {
        status.textContent = errorMessage(error);
      } finally {
        save.disabled = false;
      }
    });
    return el("li", { class: "person-card", "data-testid": "person", "data-person": key },
      el("div", { class: "person-head" },
        el("h2", { class: "person-name" }, person.name),
        el("div", { class: "switch" },
          toggle,
          el("label", { for: `pub-${key}` }, t("persons.published")))),
      el("details", { class: "person-details" },
        el("summary", {}, t("persons.details")),
        form));
  }

  function render() {
    const q = search.value.trim();
    const shown = persons.filter((p) => matches(p, q));
    count.textContent = t("persons.count", { n: shown.length, total: persons.length });
    list.replaceChildren(shown.length
      ? el("ul", { class: "person-list" }, ...shown.map(card))
      : el("p", { class: "notice" }, t("persons.none")));
  }

  async function load() {
    try {
      persons = await api.get("/api/v1/persons");
      render();
    } catch (error) {
      if (error.status === 403) {
        list.replaceChildren(el("p", { class: "notice" }, t("persons.forbidden")));
        return;
      }
      list.replaceChildren(errorBox(error, load));
    }
  }

  search.addEventListener("input", render);
  await load();
  return () => {};
}
