// Meetings kept offline ("Für offline speichern", issue 18): the meeting, its agenda, the papers on
// it, every file the member may read with its metadata and the member's annotations, stored on the
// device so the reading room works without a connection.
//
// Where: IndexedDB "plenum-offline" holds the JSON answers of the API (store `docs`, keyed by the
// GET path, e.g. `/api/v1/meetings/{id}`), which meetings are kept (`meetings`) and the member
// they belong to (`meta`); the files' bytes go to Cache Storage "plenum-docs-v1" under their
// content URL (the cache js/api.js fileBlob already reads offline). Each stored entry lists the
// kept meetings that need it, so removing one meeting keeps what another still uses.
//
// Reading: js/api.js asks `lookup(path)` when a GET finds no connection. Freshness: every GET
// answered online refreshes a kept copy (`seen`), and `sync()` (on app start and when the
// connection returns) fetches each kept meeting again; whatever the API now answers with 404 or
// 403 (no longer there, or no longer the member's to read) is deleted from the device.
//
// The queue of annotations made offline lives in the same database (js/outbox.js).

import { api, ApiError, DOCS_CACHE, setOfflineSource } from "./api.js";

const DB_NAME = "plenum-offline";
const DB_VERSION = 1;
const AUDIENCES = "/api/v1/notes/audiences";

let dbPromise = null;
const listeners = new Set();

/** The database, or a rejected promise where there is no IndexedDB. */
export function db() {
  if (!dbPromise) {
    dbPromise = new Promise((resolve, reject) => {
      if (typeof indexedDB === "undefined") {
        reject(new Error("no IndexedDB"));
        return;
      }
      const request = indexedDB.open(DB_NAME, DB_VERSION);
      request.onupgradeneeded = () => {
        const d = request.result;
        if (!d.objectStoreNames.contains("meetings")) d.createObjectStore("meetings", { keyPath: "id" });
        if (!d.objectStoreNames.contains("docs")) d.createObjectStore("docs", { keyPath: "key" });
        if (!d.objectStoreNames.contains("meta")) d.createObjectStore("meta", { keyPath: "key" });
        if (!d.objectStoreNames.contains("queue")) d.createObjectStore("queue", { keyPath: "seq", autoIncrement: true });
      };
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
      request.onblocked = () => reject(new Error("IndexedDB blocked"));
    });
    dbPromise.catch(() => {
      dbPromise = null;
    });
  }
  return dbPromise;
}

/** Runs `fn(stores…)` in one transaction; resolves with what `fn` returned once it committed. */
export async function transact(names, mode, fn) {
  const d = await db();
  return new Promise((resolve, reject) => {
    const tx = d.transaction(names, mode);
    let result;
    tx.oncomplete = () => resolve(result);
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error ?? new Error("aborted"));
    Promise.resolve(fn(...names.map((n) => tx.objectStore(n)))).then((r) => {
      result = r;
    }, (error) => {
      try {
        tx.abort();
      } catch {
        // already finished
      }
      reject(error);
    });
  });
}

/** A request as a promise (inside a transaction). */
export function req(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

function emit(event) {
  for (const fn of [...listeners]) {
    try {
      fn(event);
    } catch (error) {
      console.warn("Plenum: offline listener", error);
    }
  }
}

/** Calls `fn()` when the kept meetings change; returns an unsubscribe function. */
export function onOfflineChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

const gone = (error) => error?.status === 404 || error?.status === 403 || error?.status === 410;
const unreachable = (error) => error?.status === 0;

function currentUserId() {
  return api.user()?.id ?? null;
}

/** The meetings kept on this device for the signed-in member, newest first. */
export async function keptMeetings() {
  const user = currentUserId();
  if (!user) return [];
  try {
    const all = await transact(["meetings"], "readonly", (m) => req(m.getAll()));
    return all.filter((m) => m.user === user).sort((a, b) => (a.start < b.start ? -1 : 1));
  } catch {
    return [];
  }
}

export async function keptMeeting(id) {
  try {
    const record = await transact(["meetings"], "readonly", (m) => req(m.get(id)));
    return record && record.user === currentUserId() ? record : null;
  } catch {
    return null;
  }
}

async function getDoc(key) {
  return transact(["docs"], "readonly", (d) => req(d.get(key)));
}

/**
 * Stores `fields` (merged with what is there) and notes that meeting `owner` needs it; without an
 * owner only an entry that is still there is updated.
 */
async function putDoc(key, fields, owner) {
  await transact(["docs"], "readwrite", async (d) => {
    const old = await req(d.get(key));
    if (!old && !owner) return;
    const meetings = new Set(old?.meetings ?? []);
    if (owner) meetings.add(owner);
    d.put({ ...(old ?? {}), ...fields, key, meetings: [...meetings], stored: new Date().toISOString() });
  });
}

/** Meeting `owner` no longer needs these entries; those nobody needs are deleted. */
async function release(keys, owner) {
  const files = [];
  await transact(["docs"], "readwrite", async (d) => {
    for (const key of keys) {
      const old = await req(d.get(key));
      if (!old) continue;
      const meetings = (old.meetings ?? []).filter((m) => m !== owner);
      if (meetings.length) {
        d.put({ ...old, meetings });
      } else {
        d.delete(key);
        if (old.kind === "file") files.push(key);
      }
    }
  });
  if (files.length) {
    try {
      const cache = await caches.open(DOCS_CACHE);
      await Promise.all(files.map((url) => cache.delete(url)));
    } catch {
      // no Cache Storage
    }
  }
}

async function cacheHas(url) {
  try {
    const cache = await caches.open(DOCS_CACHE);
    return Boolean(await cache.match(url));
  } catch {
    return false;
  }
}

/** The files of a meeting (its own, its items', its papers'), once each. */
function filesOf(meeting, papers) {
  const byId = new Map();
  const add = (file) => {
    if (file?.id && !byId.has(file.id)) byId.set(file.id, file);
  };
  for (const file of meeting.files ?? []) add(file);
  for (const item of meeting.agenda ?? []) {
    for (const file of item.files ?? []) add(file);
  }
  for (const paper of papers) {
    for (const file of paper.files ?? []) add(file);
  }
  return [...byId.values()];
}

const running = new Map(); // meeting id → promise of the keep/sync under way

/**
 * Stores meeting `id` for offline reading (or brings the stored copy up to date). `onProgress`
 * gets `{done, total, bytes, totalBytes, file}`. Resolves with the meeting's record, or null when
 * the member may no longer read the meeting (its copy is then deleted). Throws ApiError(0)
 * without a connection; what was stored before stays.
 */
export function keepMeeting(id, onProgress = () => {}, { sync = false } = {}) {
  if (running.has(id)) return running.get(id);
  const work = store(id, onProgress, sync).finally(() => running.delete(id));
  running.set(id, work);
  return work;
}

export function keeping(id) {
  return running.get(id) ?? null;
}

async function store(id, onProgress, sync) {
  const user = api.user();
  if (!user) throw new ApiError(401, { title: "signed out" });
  const previous = await keptMeeting(id);
  // A sync never brings back a meeting removed meanwhile.
  if (sync && !previous) return null;
  const keys = new Set();
  // An entry that could not be fetched now for another reason than 404/403 (a server error, the
  // connection lost halfway) keeps its old copy.
  const keepOld = (key) => {
    if (previous?.keys?.includes(key)) keys.add(key);
  };
  const meetingPath = `/api/v1/meetings/${encodeURIComponent(id)}`;
  let meeting;
  try {
    meeting = await fresh(meetingPath);
  } catch (error) {
    if (gone(error)) {
      await removeMeeting(id);
      return null;
    }
    throw error;
  }
  await rememberUser(user);
  await putDoc(meetingPath, { kind: "json", data: meeting }, id);
  keys.add(meetingPath);

  const papers = [];
  const paperIds = [...new Set((meeting.agenda ?? []).map((item) => item.paper?.id).filter(Boolean))];
  for (const paperId of paperIds) {
    const path = `/api/v1/papers/${encodeURIComponent(paperId)}`;
    try {
      const paper = await fresh(path);
      papers.push(paper);
      await putDoc(path, { kind: "json", data: paper }, id);
      keys.add(path);
    } catch (error) {
      if (unreachable(error)) throw error;
      if (!gone(error)) keepOld(path);
    }
  }

  const files = filesOf(meeting, papers);
  const totalBytes = files.reduce((sum, f) => sum + (Number(f.size) || 0), 0);
  let done = 0;
  let bytes = 0;
  let failed = 0;
  const report = (file) => onProgress({ done, total: files.length, bytes, totalBytes, file });
  report(null);
  for (const file of files) {
    const infoPath = `/api/v1/files/${encodeURIComponent(file.id)}`;
    const annotationsPath = `${infoPath}/annotations`;
    const before = bytes;
    try {
      const info = await fresh(infoPath);
      await putDoc(infoPath, { kind: "json", data: info }, id);
      keys.add(infoPath);
      const url = info.url ?? file.url;
      const old = await getDoc(url);
      if (old?.sha256 && old.sha256 === info.sha256 && (await cacheHas(url))) {
        bytes += Number(old.bytes) || Number(info.size) || 0;
        await putDoc(url, {}, id);
      } else {
        const blob = await api.fileBlob(url, {
          fallback: false, // a lost connection must not pass the old copy off as the new one
          onProgress: (received) => {
            bytes = before + received;
            report(file);
          },
        });
        bytes = before + blob.size;
        await putDoc(url, { kind: "file", sha256: info.sha256, bytes: blob.size, media_type: info.media_type }, id);
      }
      keys.add(url);
      if (info.media_type === "application/pdf") {
        try {
          const notes = await fresh(annotationsPath);
          await putDoc(annotationsPath, { kind: "json", data: notes }, id);
          keys.add(annotationsPath);
        } catch (error) {
          if (unreachable(error)) throw error;
          if (!gone(error)) keepOld(annotationsPath);
        }
      }
      done += 1;
    } catch (error) {
      if (unreachable(error)) {
        // Keep what was stored before; the new record is not written.
        throw error;
      }
      if (!gone(error)) {
        failed += 1;
        for (const key of [infoPath, file.url, annotationsPath]) keepOld(key);
      }
      bytes = before + (Number(file.size) || 0);
      if (gone(error)) done += 1;
    }
    report(file);
  }
  try {
    const audiences = await fresh(AUDIENCES);
    await putDoc(AUDIENCES, { kind: "json", data: audiences }, id);
    keys.add(AUDIENCES);
  } catch {
    keepOld(AUDIENCES);
  }

  if (sync && !(await keptMeeting(id))) {
    await release([...keys], id);
    return null;
  }
  const storedBytes = await bytesOf([...keys]);
  const record = {
    id,
    user: user.id,
    name: meeting.name,
    start: meeting.start,
    organization: meeting.organization?.name ?? "",
    kept: previous?.kept ?? new Date().toISOString(),
    synced: new Date().toISOString(),
    files: files.length - failed,
    total: files.length,
    bytes: storedBytes,
    complete: failed === 0,
    keys: [...keys],
  };
  await transact(["meetings"], "readwrite", (m) => {
    m.put(record);
  });
  const dropped = (previous?.keys ?? []).filter((key) => !keys.has(key));
  if (dropped.length) await release(dropped, id);
  emit({ type: "kept", id });
  return record;
}

/** A GET that never answers from the offline copy (a sync must see 404s). */
async function fresh(path) {
  const result = await api.versioned("GET", path);
  if (result.offline) throw new ApiError(0, { title: "offline" });
  return result.data;
}

async function bytesOf(keys) {
  let sum = 0;
  await transact(["docs"], "readonly", async (d) => {
    for (const key of keys) {
      const doc = await req(d.get(key));
      if (!doc) continue;
      sum += doc.kind === "file" ? Number(doc.bytes) || 0 : JSON.stringify(doc.data ?? null).length;
    }
  });
  return sum;
}

/** Deletes a kept meeting and whatever no other kept meeting needs. */
export async function removeMeeting(id) {
  // A keep or sync under way finishes first (else it would write back what is removed here).
  await running.get(id)?.catch(() => {});
  let record = null;
  try {
    record = await transact(["meetings"], "readwrite", async (m) => {
      const old = await req(m.get(id));
      m.delete(id);
      return old;
    });
  } catch {
    return;
  }
  if (record?.keys?.length) await release(record.keys, id);
  emit({ type: "removed", id });
}

/**
 * Brings every kept meeting of the member up to date; a meeting the member may no longer read is
 * deleted. Quietly does nothing without a connection.
 */
export async function syncKept() {
  if (!api.token()) return;
  for (const meeting of await keptMeetings()) {
    try {
      await keepMeeting(meeting.id, () => {}, { sync: true });
    } catch (error) {
      if (unreachable(error)) return;
      console.warn("Plenum: offline sync of a meeting failed", error);
    }
  }
}

/** Bytes used on the device: the browser's estimate where it gives one, else the sum stored. */
export async function spaceUsed() {
  let kept = 0;
  for (const meeting of await keptMeetings()) kept += Number(meeting.bytes) || 0;
  try {
    if (navigator.storage?.estimate) {
      const { usage, quota } = await navigator.storage.estimate();
      if (Number.isFinite(usage)) return { usage, quota: Number.isFinite(quota) ? quota : null, kept, estimated: true };
    }
  } catch {
    // no estimate
  }
  return { usage: kept, quota: null, kept, estimated: false };
}

/** Asks the browser to keep this site's storage under pressure (where it is offered). */
export async function askPersistent() {
  try {
    if (navigator.storage?.persist && !(await navigator.storage.persisted())) await navigator.storage.persist();
  } catch {
    // not offered
  }
}

async function rememberUser(user) {
  await transact(["meta"], "readwrite", (m) => {
    m.put({ key: "user", value: user });
  });
}

/** The member the kept meetings belong to (for starting without a connection). */
export async function rememberedUser() {
  try {
    const entry = await transact(["meta"], "readonly", (m) => req(m.get("user")));
    return entry?.value ?? null;
  } catch {
    return null;
  }
}

/** Forgets every kept meeting (sign-out, or another member signs in on this device). */
export async function clearKept() {
  let urls = [];
  try {
    urls = await transact(["meetings", "docs", "meta"], "readwrite", async (m, d, meta) => {
      const docs = await req(d.getAll());
      m.clear();
      d.clear();
      meta.delete("user");
      return docs.filter((doc) => doc.kind === "file").map((doc) => doc.key);
    });
  } catch {
    return;
  }
  try {
    const cache = await caches.open(DOCS_CACHE);
    await Promise.all(urls.map((url) => cache.delete(url)));
  } catch {
    // no Cache Storage
  }
  emit({ type: "cleared" });
}

/** The JSON kept for a GET path, or undefined. Only for the member the copies belong to. */
async function lookup(path) {
  if (!currentUserId()) return undefined;
  const doc = await getDoc(path);
  if (!doc || doc.kind !== "json" || !doc.meetings?.length) return undefined;
  const owner = await rememberedUser();
  if (!owner || owner.id !== currentUserId()) return undefined;
  return doc.data;
}

/** A GET answered online: refresh the kept copy, if there is one. */
async function seen(path, data) {
  if (!currentUserId()) return; // visitors of the portal keep nothing
  try {
    const doc = await getDoc(path);
    if (doc?.kind === "json") await putDoc(path, { data }, null);
  } catch {
    // nothing kept
  }
}

/** Updates the kept annotation list of a file after a change the member made or received. */
export async function patchKeptAnnotations(fileId, change) {
  const path = `/api/v1/files/${encodeURIComponent(fileId)}/annotations`;
  try {
    const doc = await getDoc(path);
    if (doc?.kind !== "json" || !Array.isArray(doc.data)) return;
    await putDoc(path, { data: change(doc.data) }, null);
  } catch {
    // nothing kept
  }
}

setOfflineSource({ lookup, seen: (path, data) => { seen(path, data); }, clear: clearKept });

// Another member signing in on this device does not see (or get) the previous member's copies.
api.onSession(async (user) => {
  if (!user) return;
  const owner = await rememberedUser();
  if (owner && owner.id !== user.id) await clearKept();
});
