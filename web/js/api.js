// The REST client of the web app. JSON in and out; errors are `ApiError {status, problem}` with
// the server's RFC 9457 problem. The access token lives in this module only (never in storage);
// a 401 triggers one refresh through the httpOnly cookie and one retry.

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.title ?? `HTTP ${status}`);
    this.name = "ApiError";
    this.status = status; // 0: no connection
    this.problem = problem ?? {};
  }

  /** The problem's slug: "invalid-credentials", "not-found", … ("offline" without a connection). */
  get kind() {
    if (this.status === 0) return "offline";
    const type = typeof this.problem.type === "string" ? this.problem.type : "";
    return type.split("/").filter(Boolean).pop() ?? "";
  }
}

export const DOCS_CACHE = "plenum-docs-v1";
let accessToken = null;
let currentUser = null;
let refreshing = null;
const sessionListeners = new Set();
/** The offline store (js/offline.js): kept copies of GET answers for meetings kept offline. */
let offlineSource = null;
/** The last refresh failed for want of a connection (not because the session ended). */
let unreachable = false;

/** Registers `{lookup(path), seen(path, data), clear()}` (see js/offline.js). */
export function setOfflineSource(source) {
  offlineSource = source;
}

function notify() {
  for (const fn of [...sessionListeners]) fn(currentUser);
}

async function problemOf(response) {
  try {
    const body = await response.json();
    return body && typeof body === "object" ? body : {};
  } catch {
    return { title: response.statusText };
  }
}

async function send(method, path, body, { ifMatch, retry = true, withEtag = false } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (accessToken) headers.Authorization = `Bearer ${accessToken}`;
  if (ifMatch) headers["If-Match"] = ifMatch;
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
      cache: "no-store",
    });
  } catch {
    // No connection: a GET may be answered from the copy kept for offline reading.
    if (method === "GET" && offlineSource) {
      const copy = await offlineSource.lookup(path).catch(() => undefined);
      if (copy !== undefined) return withEtag ? { data: copy, etag: null, offline: true } : copy;
    }
    throw new ApiError(0, { title: "offline" });
  }
  if (response.status === 401 && retry && accessToken !== null && !path.startsWith("/api/v1/auth/")) {
    if (await api.refresh()) return send(method, path, body, { ifMatch, retry: false, withEtag });
  }
  if (!response.ok) throw new ApiError(response.status, await problemOf(response));
  if (response.status === 204) return withEtag ? { data: null, etag: response.headers.get("ETag") } : null;
  const type = response.headers.get("Content-Type") ?? "";
  const data = await (type.includes("json") ? response.json() : response.text());
  // A kept copy is refreshed whenever the member sees the resource online.
  if (method === "GET" && offlineSource) offlineSource.seen(path, data);
  return withEtag ? { data, etag: response.headers.get("ETag") } : data;
}

export const api = {
  get: (path) => send("GET", path),
  post: (path, body = {}) => send("POST", path, body),
  put: (path, body = {}) => send("PUT", path, body),
  del: (path, { ifMatch } = {}) => send("DELETE", path, undefined, { ifMatch }),
  patch: (path, body, { ifMatch } = {}) => send("PATCH", path, body, { ifMatch }),

  /**
   * Versioned resources: `{data, etag}` instead of the body alone. `method` GET, PUT or DELETE;
   * writes send `ifMatch`, the ETag the change is based on.
   */
  versioned: (method, path, { body, ifMatch } = {}) =>
    send(method, path, body, { ifMatch, withEtag: true }),

  /** The access token (for the live ticket / WebSocket), or null when signed out. */
  token: () => accessToken,

  /** The signed-in user (`MeResponse`), or null. */
  user: () => currentUser,

  /** A new access token from the refresh cookie. Resolves to true when signed in. */
  async refresh() {
    if (!refreshing) {
      refreshing = (async () => {
        try {
          const response = await fetch("/api/v1/auth/refresh", {
            method: "POST",
            credentials: "same-origin",
            cache: "no-store",
          });
          unreachable = false;
          if (!response.ok) {
            // Offline: keep what we have; rejected: signed out.
            if (response.status === 401) api.clearSession();
            return false;
          }
          api.setSession(await response.json());
          return true;
        } catch {
          unreachable = true;
          return false;
        } finally {
          refreshing = null;
        }
      })();
    }
    return refreshing;
  },

  /** The last attempt to restore the session found no connection (not a rejection). */
  unreachable: () => unreachable,

  /**
   * Started without a connection: the member remembered with the meetings kept offline, without
   * an access token (nothing can be sent until `refresh()` succeeds online).
   */
  setOfflineUser(user) {
    accessToken = null;
    currentUser = user ?? null;
    notify();
  },

  /** Takes a `SessionResponse` from login, enrolment or refresh. */
  setSession(session) {
    accessToken = session?.access_token ?? null;
    currentUser = session?.user ?? null;
    notify();
  },

  clearSession() {
    const was = accessToken !== null;
    accessToken = null;
    currentUser = null;
    if (was) notify();
  },

  /**
   * Signs this device out and forgets the documents kept for offline reading (annotations still
   * waiting to be sent stay, for the same member's next sign-in).
   */
  async logout() {
    try {
      if (accessToken) await send("POST", "/api/v1/auth/logout", {}, { retry: false });
    } catch {
      // the session ends locally anyway
    }
    api.clearSession();
    try {
      await caches.delete(DOCS_CACHE);
    } catch {
      // no Cache Storage (e.g. insecure context)
    }
    try {
      await offlineSource?.clear();
    } catch {
      // nothing kept
    }
  },

  /** Calls `fn(user|null)` when the session starts or ends; returns an unsubscribe function. */
  onSession(fn) {
    sessionListeners.add(fn);
    return () => sessionListeners.delete(fn);
  },

  /**
   * A file's content as a Blob, fetched with the bearer token. Copies are kept in Cache Storage
   * so documents the member opened once stay readable offline.
   */
  async fileBlob(url, { onProgress, fallback = true } = {}) {
    let response;
    try {
      const headers = accessToken ? { Authorization: `Bearer ${accessToken}` } : {};
      response = await fetch(url, { headers, credentials: "same-origin", cache: "no-store" });
      if (response.status === 401 && accessToken && (await api.refresh())) {
        response = await fetch(url, {
          headers: { Authorization: `Bearer ${accessToken}` },
          credentials: "same-origin",
          cache: "no-store",
        });
      }
    } catch {
      const cached = fallback ? await cachedFile(url) : null;
      if (cached) return cached;
      throw new ApiError(0, { title: "offline" });
    }
    if (!response.ok) throw new ApiError(response.status, await problemOf(response));
    if (onProgress && response.body) {
      // Read piece by piece to tell how far it got (the offline download's progress bar).
      const reader = response.body.getReader();
      const parts = [];
      let received = 0;
      for (;;) {
        let chunk;
        try {
          chunk = await reader.read();
        } catch {
          throw new ApiError(0, { title: "offline" });
        }
        if (chunk.done) break;
        parts.push(chunk.value);
        received += chunk.value.byteLength;
        onProgress(received);
      }
      const type = response.headers.get("Content-Type") ?? "application/octet-stream";
      const blob = new Blob(parts, { type });
      try {
        const cache = await caches.open(DOCS_CACHE);
        await cache.put(url, new Response(blob, { headers: { "Content-Type": type, "Content-Length": String(blob.size) } }));
      } catch {
        // not cached
      }
      return blob;
    }
    try {
      const cache = await caches.open(DOCS_CACHE);
      await cache.put(url, response.clone());
    } catch {
      // not cached; still shown
    }
    return response.blob();
  },
};

async function cachedFile(url) {
  try {
    const cache = await caches.open(DOCS_CACHE);
    const hit = await cache.match(url);
    return hit ? hit.blob() : null;
  } catch {
    return null;
  }
}
