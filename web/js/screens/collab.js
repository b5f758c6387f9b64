// Notes and forums: the notes panel beside a paper or agenda item, "My notes" (#/notes), the
// forums (#/forums), a forum's threads (#/forums/{org}) and a thread (#/threads/{id}).
// Markdown is rendered by the server (`html`, sanitised by ammonia) and goes into the DOM only
// through `richText` (ui.js), which re-checks it against an allow-list.

import { formatDateTime, register, t } from "../i18n.js";
import { onUserMessage } from "../live/socket.js";
import { el, errorBox, errorMessage, loading, richText } from "../ui.js";
import { confirmDialog } from "../live/chair-tools.js";
import { useLiveStyles } from "../live/common.js";

register({
  de: {
    "notes.title": "Meine Notizen",
    "notes.panel": "Notizen",
    "notes.none": "Noch keine Notizen.",
    "notes.add": "Notiz hinzufügen",
    "notes.body": "Notiz (Markdown)",
    "notes.page": "Seite (optional)",
    "notes.quote": "Zitat (optional)",
    "notes.share": "Sichtbar für",
    "notes.private": "Nur für mich (privat)",
    "notes.save": "Speichern",
    "notes.edit": "Bearbeiten",
    "notes.delete": "Löschen",
    "notes.cancel": "Abbrechen",
    "notes.own": "Meine Notiz",
    "notes.by": "Von {name}",
    "notes.sharedWith": "Geteilt mit {org}",
    "notes.audience": "{name} – {n} Personen",
    "notes.audience.one": "{name} – 1 Person",
    "notes.audience.council": "{name} – alle {n} Ratsmitglieder",
    "notes.leave.title": "Notiz aus der Fraktion geben?",
    "notes.leave.text": "Bisher lesen diese Notiz nur {from}. Geteilt mit {to} lesen sie {n} Personen – auch Mitglieder anderer Fraktionen.",
    "notes.wide.title": "Mit {to} teilen?",
    "notes.wide.text": "Diese Notiz lesen dann {n} Personen – auch Mitglieder anderer Fraktionen.",
    "notes.wide.confirm": "Ja, teilen",
    "notes.privateMark": "Privat",
    "notes.onPaper": "Zur Vorlage",
    "notes.onItem": "Zum Tagesordnungspunkt",
    "notes.pageMark": "Seite {page}",
    "notes.saved": "Notiz gespeichert.",
    "notes.deleted": "Notiz gelöscht.",
    "notes.stale": "Die Notiz wurde inzwischen geändert. Bitte neu laden.",
    "forums.title": "Foren",
    "forums.none": "Sie gehören keinem Forum an.",
    "forums.threads": "{n} Themen",
    "forums.unread": "{n} ungelesen",
    "forums.newThread": "Neues Thema",
    "forums.threadTitle": "Titel",
    "forums.firstPost": "Beitrag (Markdown)",
    "forums.open": "Thema eröffnen",
    "forums.noThreads": "Noch keine Themen.",
    "forums.pinned": "Angeheftet",
    "forums.locked": "Gesperrt",
    "forums.pin": "Anheften",
    "forums.unpin": "Lösen",
    "forums.lock": "Sperren",
    "forums.unlock": "Entsperren",
    "forums.reply": "Antworten",
    "forums.replyTo": "Antwort an {name}",
    "forums.post": "Beitrag senden",
    "forums.yourPost": "Ihr Beitrag (Markdown)",
    "forums.deletedPost": "Dieser Beitrag wurde gelöscht.",
    "forums.back": "Zurück zum Forum",
    "forums.lockedHint": "Dieses Thema ist gesperrt.",
  },
  en: {
    "notes.title": "My notes",
    "notes.panel": "Notes",
    "notes.none": "No notes yet.",
    "notes.add": "Add a note",
    "notes.body": "Note (Markdown)",
    "notes.page": "Page (optional)",
    "notes.quote": "Quote (optional)",
    "notes.share": "Visible to",
    "notes.private": "Only me (private)",
    "notes.save": "Save",
    "notes.edit": "Edit",
    "notes.delete": "Delete",
    "notes.cancel": "Cancel",
    "notes.own": "My note",
    "notes.by": "By {name}",
    "notes.sharedWith": "Shared with {org}",
    "notes.audience": "{name} – {n} people",
    "notes.audience.one": "{name} – 1 person",
    "notes.audience.council": "{name} – all {n} council members",
    "notes.leave.title": "Let the note leave the fraction?",
    "notes.leave.text": "So far only {from} read this note. Shared with {to}, {n} people read it – members of other fractions too.",
    "notes.wide.title": "Share with {to}?",
    "notes.wide.text": "{n} people will read this note – members of other fractions too.",
    "notes.wide.confirm": "Yes, share",
    "notes.privateMark": "Private",
    "notes.onPaper": "To the paper",
    "notes.onItem": "To the agenda item",
    "notes.pageMark": "Page {page}",
    "notes.saved": "Note saved.",
    "notes.deleted": "Note deleted.",
    "notes.stale": "The note was changed meanwhile. Please reload.",
    "forums.title": "Forums",
    "forums.none": "You belong to no forum.",
    "forums.threads": "{n} threads",
    "forums.unread": "{n} unread",
    "forums.newThread": "New thread",
    "forums.threadTitle": "Title",
    "forums.firstPost": "Post (Markdown)",
    "forums.open": "Open thread",
    "forums.noThreads": "No threads yet.",
    "forums.pinned": "Pinned",
    "forums.locked": "Locked",
    "forums.pin": "Pin",
    "forums.unpin": "Unpin",
    "forums.lock": "Lock",
    "forums.unlock": "Unlock",
    "forums.reply": "Reply",
    "forums.replyTo": "Reply to {name}",
    "forums.post": "Send post",
    "forums.yourPost": "Your post (Markdown)",
    "forums.deletedPost": "This post was deleted.",
    "forums.back": "Back to the forum",
    "forums.lockedHint": "This thread is locked.",
  },
});

let uid = 0;
const nextId = (prefix) => `${prefix}-${++uid}`;

function field(label, input) {
  const id = input.id || nextId("f");
  input.id = id;
  return el("div", { class: "field" }, el("label", { for: id }, label), input);
}

function textarea(value = "", required = true) {
  const node = el("textarea", { class: "input textarea", rows: "4", required });
  node.value = value;
  return node;
}

/**
 * Whom I can share a note with: the organizations I belong to, each with its number of readers
 * (`GET /api/v1/notes/audiences`, smallest audience first).
 */
export async function myOrganizations(api) {
  try {
    const audiences = await api.get("/api/v1/notes/audiences");
    return audiences.map((a) => ({ ...a.organization, readers: a.readers }));
  } catch {
    return [];
  }
}

/** "Fraktion Grüne Zukunft (GZ)", "Rat der Stadt Musterstadt". */
export function orgName(o) {
  return o.short_name && !o.name.includes(o.short_name) ? `${o.name} (${o.short_name})` : o.name;
}

/** "Fraktion Grüne Zukunft (GZ) – 7 Personen", "Rat der Stadt … – alle 38 Ratsmitglieder". */
export function audienceLabel(o) {
  const name = orgName(o);
  if (o.readers == null) return name;
  if (o.kind === "council") return t("notes.audience.council", { name, n: o.readers });
  return o.readers === 1 ? t("notes.audience.one", { name }) : t("notes.audience", { name, n: o.readers });
}

/** Fractions and groups keep a note among their own. */
const withinFraction = (o) => o?.kind === "fraction" || o?.kind === "group";

/**
 * Asks before a note reaches people outside a fraction: when it leaves the fraction (or group) it
 * is shared with, or goes from private straight to a wider audience. True: go ahead.
 */
export async function audienceConfirmed(orgs, current, chosenId) {
  const chosen = orgs.find((o) => o.id === chosenId);
  if (!chosen || chosen.id === current?.id) return true;
  const leaving = withinFraction(current);
  if (!leaving && withinFraction(chosen)) return true;
  useLiveStyles();
  const from = orgs.find((o) => o.id === current?.id) ?? current;
  const answer = await confirmDialog({
    title: leaving ? t("notes.leave.title") : t("notes.wide.title", { to: orgName(chosen) }),
    text: leaving
      ? t("notes.leave.text", { from: from ? orgName(from) : "", to: orgName(chosen), n: chosen.readers })
      : t("notes.wide.text", { n: chosen.readers }),
    confirmLabel: t("notes.wide.confirm"),
    testid: "audience-dialog",
  });
  return answer.ok;
}

function shareSelect(orgs, selected) {
  const select = el("select", { class: "input" },
    el("option", { value: "" }, t("notes.private")),
    ...orgs.map((o) => el("option", { value: o.id }, audienceLabel(o))));
  select.value = selected ?? "";
  return select;
}

/** One note as an article: who, where shared, anchor, the sanitised text, actions if own. */
function noteView(note, { api, orgs, onChange, status, links = false }) {
  const meta = el("p", { class: "note-meta" },
    el("span", { class: "badge" }, note.own ? t("notes.own") : t("notes.by", { name: note.author?.name ?? "?" })),
    " ",
    note.shared_with
      ? el("span", { class: "badge badge-shared" }, t("notes.sharedWith", { org: orgName(note.shared_with) }))
      : el("span", { class: "badge" }, t("notes.privateMark")),
    " ",
    el("time", { datetime: note.modified }, formatDateTime(note.modified)));
  const article = el("article", { class: "note card", "data-note": note.id }, meta);
  if (note.page) article.append(el("p", { class: "note-anchor" }, t("notes.pageMark", { page: note.page })));
  if (note.quote) article.append(el("blockquote", { class: "note-quote" }, note.quote));
  article.append(el("div", { class: "note-body rich" }, richText(note.html)));
  if (links) {
    if (note.paper_id) article.append(el("p", {}, el("a", { href: `#/papers/${note.paper_id}` }, t("notes.onPaper"))));
  }
  if (note.own && api) {
    const edit = el("button", { type: "button", class: "button button-secondary", onclick: () => {
      article.replaceChildren(noteForm({ api, orgs, note, status, onDone: onChange }));
    } }, t("notes.edit"));
    const del = el("button", { type: "button", class: "button button-danger-outline", onclick: async () => {
      try {
        await api.del(`/api/v1/notes/${note.id}`, { ifMatch: `"${note.version}"` });
        status.textContent = t("notes.deleted");
        onChange();
      } catch (error) {
        status.textContent = error.status === 412 ? t("notes.stale") : errorMessage(error);
      }
    } }, t("notes.delete"));
    article.append(el("div", { class: "button-row" }, edit, del));
  }
  return article;
}

/** The form to add a note on `target` or edit `note`. */
function noteForm({ api, orgs, target, note, status, onDone }) {
  const body = textarea(note?.body ?? "");
  const page = el("input", { class: "input", type: "number", min: "1", inputmode: "numeric" });
  const quote = el("input", { class: "input", type: "text", maxlength: "2000" });
  const share = shareSelect(orgs, note?.shared_with?.id);
  const form = el("form", { class: "note-form stack", novalidate: true },
    field(t("notes.body"), body));
  if (!note) form.append(field(t("notes.page"), page), field(t("notes.quote"), quote));
  form.append(field(t("notes.share"), share));
  const row = el("div", { class: "button-row" },
    el("button", { type: "submit", class: "button button-primary" }, t("notes.save")));
  if (note) row.append(el("button", { type: "button", class: "button button-secondary", onclick: () => onDone() }, t("notes.cancel")));
  form.append(row);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!body.value.trim()) {
      body.focus();
      return;
    }
    // Asked again before the note reaches people outside the fraction.
    if (!(await audienceConfirmed(orgs, note?.shared_with, share.value))) return;
    try {
      if (note) {
        const leaving = withinFraction(note.shared_with) && share.value && share.value !== note.shared_with.id;
        await api.patch(`/api/v1/notes/${note.id}`,
          { body: body.value, shared_with: share.value || null, ...(leaving ? { confirm_audience: true } : {}) },
          { ifMatch: `"${note.version}"` });
      } else {
        const payload = { ...target, body: body.value };
        if (page.value) payload.page = Number(page.value);
        if (quote.value.trim()) payload.quote = quote.value.trim();
        if (share.value) payload.shared_with = share.value;
        await api.post("/api/v1/notes", payload);
        body.value = "";
        page.value = "";
        quote.value = "";
        share.value = "";
      }
      status.textContent = t("notes.saved");
      onDone();
    } catch (error) {
      status.textContent = error.status === 412 ? t("notes.stale") : errorMessage(error);
    }
  });
  return form;
}

/**
 * The notes panel for a paper (`{paper_id}`) or agenda item (`{agenda_item_id}`): my notes and
 * those shared with me, plus a form to add one. Returns a section element that loads itself.
 */
export function notesPanel(api, target, headingId = nextId("notes")) {
  const status = el("p", { class: "status-line", role: "status" });
  const list = el("div", { class: "notes-list" }, loading());
  const formSlot = el("div");
  const section = el("section", { class: "block notes-panel", "aria-labelledby": headingId },
    el("h2", { id: headingId, class: "block-title" }, t("notes.panel")), status, list, formSlot);
  const query = new URLSearchParams(target).toString();
  let orgs = [];
  const reload = async () => {
    try {
      const notes = await api.get(`/api/v1/notes?${query}`);
      list.replaceChildren(...(notes.length
        ? notes.map((n) => noteView(n, { api, orgs, status, onChange: reload }))
        : [el("p", { class: "muted" }, t("notes.none"))]));
    } catch (error) {
      list.replaceChildren(errorBox(error, reload));
    }
  };
  (async () => {
    orgs = await myOrganizations(api);
    formSlot.replaceChildren(el("h3", { class: "notes-add-title" }, t("notes.add")), noteForm({ api, orgs, target, status, onDone: reload }));
    await reload();
  })();
  section.reload = reload;
  return section;
}

/** #/notes: every note I may see. */
export async function mount(root, _params, ctx) {
  const { api } = ctx;
  const status = el("p", { class: "status-line", role: "status" });
  const list = el("div", { class: "notes-list" }, loading());
  root.append(el("h1", { class: "page-title" }, t("notes.title")), status, list);
  const orgs = await myOrganizations(api);
  const reload = async () => {
    try {
      const notes = await api.get("/api/v1/notes/mine");
      list.replaceChildren(...(notes.length
        ? notes.map((n) => noteView(n, { api, orgs, status, onChange: reload, links: true }))
        : [el("p", { class: "muted" }, t("notes.none"))]));
    } catch (error) {
      list.replaceChildren(errorBox(error, reload));
    }
  };
  await reload();
  const off = onLive((message) => {
    if (message.type === "note_shared") reload();
  });
  return off;
}

/** #/forums: my forums with thread and unread counts. */
export async function mountForums(root, _params, ctx) {
  const { api } = ctx;
  const list = el("ul", { class: "forum-list plain-list" }, el("li", {}, loading()));
  root.append(el("h1", { class: "page-title" }, t("forums.title")), list);
  const reload = async () => {
    try {
      const forums = await api.get("/api/v1/forums");
      list.replaceChildren(...(forums.length ? forums.map((f) => el("li", { class: "card forum-entry" },
        el("a", { class: "forum-link", href: `#/forums/${f.organization.id}` }, f.organization.name),
        " ", el("span", { class: "muted" }, t("forums.threads", { n: f.threads })),
        f.unread ? el("span", { class: "badge badge-unread", "data-unread": f.unread }, t("forums.unread", { n: f.unread })) : null,
      )) : [el("li", {}, t("forums.none"))]));
    } catch (error) {
      list.replaceChildren(el("li", {}, errorBox(error, reload)));
    }
  };
  await reload();
  return onLive((message) => {
    if (message.type === "unread" || message.type === "forum_post") reload();
  });
}

/** #/forums/{org}: threads of one forum, pinned first; open a new one. */
export async function mountForum(root, params, ctx) {
  const { api, navigate } = ctx;
  const org = params.id;
  const heading = el("h1", { class: "page-title" }, t("forums.title"));
  const status = el("p", { class: "status-line", role: "status" });
  const list = el("ul", { class: "thread-list plain-list" }, el("li", {}, loading()));
  root.append(heading, status, list);
  try {
    const forums = await api.get("/api/v1/forums");
    const forum = forums.find((f) => f.organization.id === org);
    if (forum) heading.textContent = `${t("forums.title")}: ${forum.organization.name}`;
  } catch {
    // the heading stays generic
  }
  const reload = async () => {
    try {
      const threads = await api.get(`/api/v1/forums/${encodeURIComponent(org)}/threads`);
      list.replaceChildren(...(threads.length ? threads.map((th) => el("li", { class: "card thread-entry" },
        el("a", { class: "thread-link", href: `#/threads/${th.id}` }, th.title),
        " ", el("span", { class: "muted" }, `${th.author?.name ?? ""} · ${formatDateTime(th.last_post)}`),
        th.pinned ? el("span", { class: "badge" }, t("forums.pinned")) : null,
        th.locked ? el("span", { class: "badge" }, t("forums.locked")) : null,
        th.unread ? el("span", { class: "badge badge-unread" }, t("forums.unread", { n: th.unread })) : null,
      )) : [el("li", {}, t("forums.noThreads"))]));
    } catch (error) {
      list.replaceChildren(el("li", {}, errorBox(error, reload)));
    }
  };
  await reload();
  const title = el("input", { class: "input", type: "text", maxlength: "200", required: true });
  const body = textarea();
  const form = el("form", { class: "stack", novalidate: true },
    el("h2", { class: "block-title" }, t("forums.newThread")),
    field(t("forums.threadTitle"), title), field(t("forums.firstPost"), body),
    el("button", { type: "submit", class: "button button-primary" }, t("forums.open")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!title.value.trim() || !body.value.trim()) return;
    try {
      const created = await api.post(`/api/v1/forums/${encodeURIComponent(org)}/threads`,
        { title: title.value.trim(), body: body.value });
      navigate(`#/threads/${created.thread?.id ?? created.id}`);
    } catch (error) {
      status.textContent = errorMessage(error);
    }
  });
  root.append(el("section", { class: "block" }, form));
  return onLive((message) => {
    if (message.type === "forum_post" && message.organization_id === org) reload();
  });
}

/** #/threads/{id}: posts with replies; reply form; pin/lock for moderators. */
export async function mountThread(root, params, ctx) {
  const { api } = ctx;
  const id = params.id;
  const status = el("p", { class: "status-line", role: "status" });
  const container = el("div", {}, loading());
  root.append(container);
  let replyTo = null;
  const render = async () => {
    let detail;
    let moderator = false;
    try {
      detail = await api.get(`/api/v1/threads/${encodeURIComponent(id)}`);
      const forums = await api.get("/api/v1/forums");
      moderator = forums.some((f) => f.organization.id === detail.thread.organization_id && f.moderator);
    } catch (error) {
      container.replaceChildren(el("h1", { class: "page-title" }, errorMessage(error)), errorBox(error, render));
      return;
    }
    const { thread, posts } = detail;
    const byId = new Map(posts.map((p) => [p.id, p]));
    const marks = el("p", {},
      thread.pinned ? el("span", { class: "badge" }, t("forums.pinned")) : null, " ",
      thread.locked ? el("span", { class: "badge" }, t("forums.locked")) : null);
    const nodes = [
      el("p", {}, el("a", { href: `#/forums/${thread.organization_id}` }, t("forums.back"))),
      el("h1", { class: "page-title" }, thread.title), marks, status,
    ];
    if (moderator) {
      const flag = (kind, value, label) => el("button", { type: "button", class: "button button-secondary", onclick: async () => {
        try {
          await api.post(`/api/v1/threads/${id}/${kind}`, { value });
          await render();
        } catch (error) {
          status.textContent = errorMessage(error);
        }
      } }, label);
      nodes.push(el("div", { class: "button-row" },
        flag("pin", !thread.pinned, thread.pinned ? t("forums.unpin") : t("forums.pin")),
        flag("lock", !thread.locked, thread.locked ? t("forums.unlock") : t("forums.lock"))));
    }
    const list = el("ol", { class: "post-list plain-list" }, ...posts.map((post) => {
      const parent = post.reply_to ? byId.get(post.reply_to) : null;
      const item = el("li", { class: "card post", id: `post-${post.id}` },
        el("p", { class: "note-meta" }, el("strong", {}, post.author?.name ?? "?"), " ",
          el("time", { datetime: post.created }, formatDateTime(post.created))),
        parent ? el("p", { class: "muted" }, t("forums.replyTo", { name: parent.author?.name ?? "?" })) : null,
        post.deleted
          ? el("p", { class: "muted" }, t("forums.deletedPost"))
          : el("div", { class: "post-body rich" }, richText(post.html)));
      if (!thread.locked && !post.deleted) {
        item.append(el("button", { type: "button", class: "button button-secondary", onclick: () => {
          replyTo = post;
          replyLabel.textContent = t("forums.replyTo", { name: post.author?.name ?? "?" });
          body.focus();
        } }, t("forums.reply")));
      }
      return item;
    }));
    nodes.push(list);
    const body = textarea();
    body.id = nextId("reply");
    const replyLabel = el("label", { for: body.id }, t("forums.yourPost"));
    if (thread.locked) {
      nodes.push(el("p", { class: "notice" }, t("forums.lockedHint")));
    } else {
      const form = el("form", { class: "stack", novalidate: true },
        el("div", { class: "field" }, replyLabel, body),
        el("button", { type: "submit", class: "button button-primary" }, t("forums.post")));
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        if (!body.value.trim()) return;
        try {
          const payload = { body: body.value };
          if (replyTo) payload.reply_to = replyTo.id;
          await api.post(`/api/v1/threads/${encodeURIComponent(id)}/posts`, payload);
          replyTo = null;
          await render();
        } catch (error) {
          status.textContent = errorMessage(error);
        }
      });
      nodes.push(el("section", { class: "block" }, form));
    }
    container.replaceChildren(...nodes);
  };
  await render();
  return onLive((message) => {
    if (message.type === "forum_post" && message.thread?.id === id) render();
  });
}

// ---- live user stream ------------------------------------------------------------------------

/** Subscribes to per-user live messages (note_shared, forum_post, unread). */
export function onLive(fn) {
  return onUserMessage(fn);
}
