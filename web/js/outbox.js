// The outbox of annotations (issue 18): every annotation the member makes, edits or deletes goes
// through here. It is stored first (IndexedDB "plenum-offline", store `queue`, in order), then
// sent; without a connection it waits ("wartet auf Verbindung") and is sent in order when the
// connection returns (the `online` event, app start, sign-in, and every 30 s while something
// waits). Nothing is lost on a conflict: an edit or deletion the server refuses with 412 (the
// annotation was changed elsewhere meanwhile) or 404 (deleted elsewhere) stays in the outbox,
// flagged, with the server's text beside the member's, until the member keeps theirs (sent again
// on top of the new version, or as a new annotation) or discards it.
//
// Entry: {seq, user, file_id, op: "create"|"update"|"delete", local_id (create), note_id,
// payload (create), body (update), base_version, original (the note as the member saw it),
// state: "waiting"|"conflict"|"failed", conflict: {reason, theirs, detail}, created}.

import { api } from "./api.js";
import { patchKeptAnnotations, req, transact } from "./offline.js";

const listeners = new Set();
let memory = []; // where there is no IndexedDB: the outbox of this page only
let memorySeq = 1;
let useMemory = false;

function emit(event) {
  for (const fn of [...listeners]) {
    try {
      fn(event);
    } catch (error) {
      console.warn("Plenum: outbox listener", error);
    }
  }
}

/** Calls `fn(event)` on every change: `{type: "queued"|"sent"|"conflict"|"discarded"|…, entry, note}`. */
export function onOutbox(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

async function all() {
  if (!useMemory) {
    try {
      return await transact(["queue"], "readonly", (q) => req(q.getAll()));
    } catch {
      useMemory = true;
    }
  }
  return memory.map((e) => ({ ...e }));
}

async function put(entry) {
  if (!useMemory) {
    try {
      return await transact(["queue"], "readwrite", async (q) => {
        const seq = await req(q.put(entry));
        return { ...entry, seq };
      });
    } catch {
      useMemory = true;
    }
  }
  const stored = { ...entry, seq: entry.seq ?? memorySeq++ };
  memory = memory.filter((e) => e.seq !== stored.seq).concat([stored]);
  return stored;
}

async function drop(seq) {
  if (!useMemory) {
    try {
      await transact(["queue"], "readwrite", (q) => {
        q.delete(seq);
      });
      return;
    } catch {
      useMemory = true;
    }
  }
  memory = memory.filter((e) => e.seq !== seq);
}

/** The member's entries, oldest first; those of one file with `fileId`. */
export async function outboxEntries(fileId = null) {
  const user = api.user()?.id;
  if (!user) return [];
  return (await all())
    .filter((e) => e.user === user && (!fileId || e.file_id === fileId))
    .sort((a, b) => a.seq - b.seq);
}

/** The note as the member saw it, without what only the server may say. */
function snapshot(note) {
  return {
    id: note.id,
    body: note.body ?? "",
    html: note.html ?? null,
    quote: note.quote ?? null,
    annotation: note.annotation,
    shared_with: note.shared_with ?? null,
    version: note.version,
    created: note.created,
    modified: note.modified,
  };
}

/**
 * A random UUID (v4) for a new annotation. The server takes it as the annotation's id, so a
 * create sent again — the connection dropped before the answer came — is answered with the
 * annotation made the first time instead of making a second one.
 */
function newId() {
  if (globalThis.crypto?.randomUUID) return globalThis.crypto.randomUUID();
  const b = globalThis.crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function localId() {
  const random = globalThis.crypto?.randomUUID?.() ?? `${Date.now()}-${Math.random().toString(16).slice(2)}`;
  return `local-${random}`;
}

/** Queues a new annotation of file `fileId`; resolves with the entry (sent at once if it can be). */
export async function queueCreate(fileId, payload) {
  const entry = await put({
    user: api.user()?.id, file_id: fileId, op: "create", local_id: localId(), note_id: null,
    payload: { ...payload, id: newId() }, state: "waiting", created: new Date().toISOString(),
  });
  emit({ type: "queued", entry });
  return entry;
}

/** Queues a new text for `note` (a note from the server, or one still waiting to be created). */
export async function queueUpdate(fileId, note, body) {
  const entries = await outboxEntries(fileId);
  const pending = note.pending;
  if (pending && pending.op === "create") {
    const entry = await put({ ...pending, payload: { ...pending.payload, body } });
    emit({ type: "queued", entry });
    return entry;
  }
  const existing = entries.find((e) => e.note_id === note.id && e.op === "update" && e.state === "waiting");
  if (existing) {
    const entry = await put({ ...existing, body });
    emit({ type: "queued", entry });
    return entry;
  }
  const entry = await put({
    user: api.user()?.id, file_id: fileId, op: "update", note_id: note.id, body,
    base_version: note.version, original: snapshot(note), state: "waiting", created: new Date().toISOString(),
  });
  emit({ type: "queued", entry });
  return entry;
}

/** Queues the deletion of `note` (or drops a creation that was never sent). */
export async function queueDelete(fileId, note) {
  const pending = note.pending;
  if (pending && pending.op === "create") {
    await drop(pending.seq);
    emit({ type: "discarded", entry: pending });
    return null;
  }
  const entries = await outboxEntries(fileId);
  const existing = entries.find((e) => e.note_id === note.id && e.op === "update" && e.state === "waiting");
  if (existing) {
    const entry = await put({ ...existing, op: "delete", body: undefined });
    emit({ type: "queued", entry });
    return entry;
  }
  const entry = await put({
    user: api.user()?.id, file_id: fileId, op: "delete", note_id: note.id,
    base_version: note.version, original: snapshot(note), state: "waiting", created: new Date().toISOString(),
  });
  emit({ type: "queued", entry });
  return entry;
}

const notePath = (id) => `/api/v1/notes/${encodeURIComponent(id)}`;

async function serverNote(id) {
  try {
    return await api.get(notePath(id));
  } catch (error) {
    if (error?.status === 404 || error?.status === 403) return null;
    throw error;
  }
}

/** Sends one entry. Returns false when it could not be sent for want of a connection. */
async function send(entry) {
  try {
    if (entry.op === "create") {
      const note = await api.post(`/api/v1/files/${encodeURIComponent(entry.file_id)}/annotations`, entry.payload);
      await drop(entry.seq);
      await patchKeptAnnotations(entry.file_id, (list) => [...list.filter((n) => n.id !== note.id), note]);
      emit({ type: "sent", entry, note });
    } else if (entry.op === "update") {
      const note = await api.patch(notePath(entry.note_id), { body: entry.body }, { ifMatch: `"${entry.base_version}"` });
      await drop(entry.seq);
      await patchKeptAnnotations(entry.file_id, (list) => list.map((n) => (n.id === note.id ? note : n)));
      emit({ type: "sent", entry, note });
    } else if (entry.op === "delete") {
      try {
        await api.del(notePath(entry.note_id), { ifMatch: `"${entry.base_version}"` });
      } catch (error) {
        if (error?.status !== 404) throw error; // deleted elsewhere too: done
      }
      await drop(entry.seq);
      await patchKeptAnnotations(entry.file_id, (list) => list.filter((n) => n.id !== entry.note_id));
      emit({ type: "sent", entry, note: null });
    }
    return true;
  } catch (error) {
    if (error?.status === 0) return false;
    if (error?.status === 401) return false; // signed out: waits for the next sign-in
    let conflict;
    if (error?.status === 412 && entry.note_id) {
      const theirs = await serverNote(entry.note_id).catch(() => undefined);
      if (theirs === undefined) return false;
      conflict = theirs ? { reason: "changed", theirs } : { reason: "deleted", theirs: null };
    } else if (error?.status === 404 && entry.op === "update") {
      conflict = { reason: "deleted", theirs: null };
    } else {
      conflict = { reason: "rejected", theirs: null, detail: error?.problem?.detail ?? error?.message ?? "", status: error?.status ?? null };
    }
    const stored = await put({ ...entry, state: conflict.reason === "rejected" ? "failed" : "conflict", conflict });
    emit({ type: "conflict", entry: stored });
    return true;
  }
}

let flushing = null;
let again = false;

/** Sends what waits, oldest first; stops at the first entry that finds no connection. */
export function flushOutbox() {
  if (flushing) {
    again = true;
    return flushing;
  }
  flushing = (async () => {
    do {
      again = false;
      if (!api.token()) break;
      for (const entry of await outboxEntries()) {
        if (entry.state !== "waiting") continue;
        if (!(await send(entry))) {
          again = false;
          break;
        }
      }
    } while (again);
  })().finally(() => {
    flushing = null;
    emit({ type: "flushed" });
  });
  return flushing;
}

/**
 * Resolves a conflict by keeping the member's version: an edit goes on top of the server's new
 * version (or becomes a new annotation when the old one was deleted); a deletion is sent again.
 */
export async function keepMine(entry) {
  const theirs = entry.conflict?.theirs;
  let next;
  if (entry.conflict?.reason === "changed" && theirs) {
    next = { ...entry, base_version: theirs.version, state: "waiting", conflict: null };
  } else if (entry.conflict?.reason === "deleted" && entry.op === "update") {
    const a = entry.original?.annotation ?? {};
    const payload = { kind: a.kind, page: a.page };
    for (const key of ["rects", "point", "strokes", "color"]) if (a[key] != null) payload[key] = a[key];
    if (entry.original?.quote) payload.quote = entry.original.quote;
    if (entry.body) payload.body = entry.body;
    if (entry.original?.shared_with?.id) payload.shared_with = entry.original.shared_with.id;
    payload.id = newId();
    next = { ...entry, op: "create", note_id: null, local_id: localId(), payload, state: "waiting", conflict: null };
  } else {
    return discard(entry);
  }
  const stored = await put(next);
  emit({ type: "queued", entry: stored });
  return flushOutbox();
}

/** Drops an entry the member no longer wants sent. */
export async function discard(entry) {
  await drop(entry.seq);
  emit({ type: "discarded", entry });
}

// Sent when the connection returns, when a session starts, and now and then while something waits.
if (typeof window !== "undefined") {
  window.addEventListener("online", () => flushOutbox());
  api.onSession((user) => {
    if (user && api.token()) flushOutbox();
  });
  setInterval(async () => {
    if (!navigator.onLine || !api.token()) return;
    if ((await outboxEntries()).some((e) => e.state === "waiting")) flushOutbox();
  }, 30_000);
}
