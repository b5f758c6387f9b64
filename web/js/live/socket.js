// The live connection: one WebSocket per app (a module singleton, one meeting at a time).
//
// - Signed in: a one-time ticket from `POST /api/v1/live/ticket`; anonymous: the public view.
// - Reconnects with exponential backoff and jitter, resuming with `last_seq` (the server replays
//   the missed events, or sends a fresh snapshot when too far behind).
// - Keeps a local copy of the state: the snapshot, then each event applied by `reduce`; an event
//   it cannot apply exactly asks the server for a fresh snapshot.
// - Commands carry a client-generated id and are re-sent after every reconnect until the server
//   answers `ack` or `error`; the server applies an id at most once. A command is never reported
//   as done before its ack.
// - A dead link is noticed by `navigator.onLine` and by pings without an answer.

import { api } from "../api.js";

const PING_EVERY = 10_000;
const DEAD_AFTER = 25_000;
const BACKOFF_MIN = 500;
const BACKOFF_MAX = 15_000;

/** Connection states, for the indicator. */
export const Status = Object.freeze({
  CONNECTING: "connecting",
  ONLINE: "online",
  RECONNECTING: "reconnecting",
  OFFLINE: "offline",
  FAILED: "failed",
});

/** A random UUID (v4); `crypto.randomUUID` needs a secure context, plain HTTP on a LAN has none. */
export function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** A refused command: `problem` is the server's RFC 9457 document. */
export class CommandError extends Error {
  constructor(problem) {
    super(problem?.title ?? "command failed");
    this.name = "CommandError";
    this.problem = problem ?? {};
  }

  get kind() {
    const type = typeof this.problem.type === "string" ? this.problem.type : "";
    return type.split("/").filter(Boolean).pop() ?? "";
  }
}

class LiveSession {
  constructor(meeting, anonymous) {
    this.meeting = meeting;
    this.anonymous = anonymous;
    this.state = null;
    this.seq = null;
    this.person = null;
    this.status = Status.CONNECTING;
    this.problem = null;
    this.users = 0;
    this.ws = null;
    this.closed = false;
    this.attempt = 0;
    this.timer = null;
    this.pinger = null;
    this.lastHeard = 0;
    this.pending = new Map(); // command_id -> {command, resolve, reject}
    this.listeners = new Set();
    this.onOnline = () => this.reconnectNow();
    this.onOffline = () => this.drop(Status.OFFLINE);
    window.addEventListener("online", this.onOnline);
    window.addEventListener("offline", this.onOffline);
    if (navigator.onLine === false) this.setStatus(Status.OFFLINE);
    else this.open();
  }

  /** `fn(session)` after every change of state or connection status; returns unsubscribe. */
  subscribe(fn) {
    this.listeners.add(fn);
    fn(this);
    return () => this.listeners.delete(fn);
  }

  emit() {
    for (const fn of [...this.listeners]) {
      try {
        fn(this);
      } catch (error) {
        console.error(error);
      }
    }
  }

  setStatus(status) {
    if (this.status === status) return;
    this.status = status;
    this.emit();
  }

  async open() {
    if (this.closed) return;
    clearTimeout(this.timer);
    this.timer = null;
    if (this.ws) return;
    if (this.status !== Status.CONNECTING) this.setStatus(Status.RECONNECTING);
    let ticket = null;
    if (!this.anonymous) {
      try {
        if (!api.token()) await api.refresh();
        ticket = (await api.post("/api/v1/live/ticket", {})).ticket;
      } catch (error) {
        if (error?.status === 401 || error?.status === 403) {
          this.problem = error.problem;
          this.setStatus(Status.FAILED);
          return;
        }
        this.retryLater();
        return;
      }
    }
    if (this.closed || this.ws) return;
    // meeting === null: the personal stream only (notes shared with me, forum posts, unread).
    const params = new URLSearchParams(this.meeting ? { meeting: this.meeting } : {});
    if (ticket) params.set("ticket", ticket);
    if (this.seq !== null) params.set("last_seq", String(this.seq));
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    let ws;
    try {
      ws = new WebSocket(`${scheme}//${location.host}/api/v1/live?${params}`);
    } catch {
      this.retryLater();
      return;
    }
    this.ws = ws;
    this.fresh = true; // the first snapshot / caught_up on this socket re-sends pending commands
    this.lastHeard = Date.now();
    ws.addEventListener("message", (e) => {
      if (this.ws !== ws) return;
      this.lastHeard = Date.now();
      let message;
      try {
        message = JSON.parse(e.data);
      } catch {
        return;
      }
      this.handle(message);
    });
    ws.addEventListener("close", (e) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.stopPinger();
      if (this.closed) return;
      if (e.code === 4001) {
        this.problem = { type: "/problems/session-revoked", title: e.reason };
        this.setStatus(Status.FAILED);
        return;
      }
      if (navigator.onLine === false) this.setStatus(Status.OFFLINE);
      else this.retryLater();
    });
    this.stopPinger();
    this.pinger = setInterval(() => this.ping(), PING_EVERY / 2);
  }

  ping() {
    const ws = this.ws;
    if (!ws) return;
    if (Date.now() - this.lastHeard > DEAD_AFTER) {
      this.drop(navigator.onLine === false ? Status.OFFLINE : null);
      return;
    }
    if (ws.readyState === WebSocket.OPEN && Date.now() - this.lastHeard > PING_EVERY) {
      ws.send(JSON.stringify({ type: "ping" }));
    }
  }

  stopPinger() {
    clearInterval(this.pinger);
    this.pinger = null;
  }

  /** Closes the socket and, unless offline, tries again after a backoff. */
  drop(status) {
    const ws = this.ws;
    this.ws = null;
    this.stopPinger();
    if (ws) {
      try {
        ws.close();
      } catch {
        // already closed
      }
    }
    if (this.closed) return;
    if (status === Status.OFFLINE) {
      clearTimeout(this.timer);
      this.setStatus(Status.OFFLINE);
    } else this.retryLater();
  }

  retryLater() {
    if (this.closed) return;
    this.setStatus(navigator.onLine === false ? Status.OFFLINE : Status.RECONNECTING);
    clearTimeout(this.timer);
    const base = Math.min(BACKOFF_MAX, BACKOFF_MIN * 2 ** this.attempt);
    this.attempt += 1;
    const delay = base / 2 + Math.random() * (base / 2);
    this.timer = setTimeout(() => this.open(), delay);
  }

  reconnectNow() {
    if (this.closed) return;
    this.attempt = 0;
    if (this.ws) {
      // The link may be half dead after an outage: check it right away.
      if (this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify({ type: "ping" }));
      return;
    }
    this.open();
  }

  handle(message) {
    switch (message.type) {
      case "hello":
        this.person = message.person ?? null;
        break;
      case "snapshot":
        if (this.seq === null || message.seq >= this.seq || this.status !== Status.ONLINE) {
          this.state = message.state;
          this.seq = message.seq;
        }
        this.connected();
        break;
      case "caught_up":
        this.connected();
        break;
      case "event":
        if (this.seq !== null && message.seq <= this.seq) return;
        if (this.state && reduce(this.state, message.event, this.person)) {
          this.seq = message.seq;
        } else {
          this.seq = message.seq;
          this.resync();
        }
        this.emit();
        break;
      case "ack":
      case "error": {
        const id = message.command_id;
        const entry = id ? this.pending.get(id) : null;
        const kind = String(message.problem?.type ?? "").split("/").pop();
        if (entry && message.type === "error" && kind === "rate-limited") {
          // Refused unread: the same id goes again once the server allows it.
          const seconds = Number(message.problem?.retry_after ?? 1);
          setTimeout(() => {
            if (this.pending.get(id) === entry) this.transmit(id, entry.command);
          }, Math.max(1, seconds) * 1000);
        } else if (entry) {
          this.pending.delete(id);
          if (message.type === "ack") entry.resolve(message.result);
          else entry.reject(new CommandError(message.problem));
        } else if (message.type === "error" && !id) {
          if (kind === "rate-limited") break;
          this.problem = message.problem;
          if (this.state === null) this.setStatus(Status.FAILED);
        }
        break;
      }
      case "note_shared":
      case "forum_post":
      case "unread":
      case "notification":
      case "notifications_read":
      case "annotation":
      case "annotation_removed":
        for (const fn of [...userListeners]) {
          try {
            fn(message);
          } catch (error) {
            console.warn("Plenum: user stream listener failed", error);
          }
        }
        break;
      default:
        break;
    }
  }

  connected() {
    this.attempt = 0;
    this.problem = null;
    this.status = Status.ONLINE;
    if (this.fresh) {
      this.fresh = false;
      // Anything not yet acknowledged goes again; the server applies each id at most once.
      for (const [id, entry] of this.pending) this.transmit(id, entry.command);
    }
    this.emit();
  }

  /** Asks the server for a fresh snapshot on the same socket. */
  resync() {
    if (this.ws?.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify({ type: "subscribe", meeting: this.meeting }));
    }
  }

  transmit(id, command) {
    if (this.ws?.readyState !== WebSocket.OPEN || this.status !== Status.ONLINE) return;
    this.ws.send(JSON.stringify({ type: "command", command_id: id, command }));
  }

  /**
   * Sends a command; resolves with the server's ack result, rejects with `CommandError`. Survives
   * reconnects (it is re-sent with the same id until answered).
   */
  command(command) {
    const id = uuid();
    return new Promise((resolve, reject) => {
      this.pending.set(id, { command, resolve, reject });
      this.transmit(id, command);
    });
  }

  /** Commands sent but not yet acknowledged. */
  get unacknowledged() {
    return this.pending.size;
  }

  close() {
    this.closed = true;
    clearTimeout(this.timer);
    this.stopPinger();
    window.removeEventListener("online", this.onOnline);
    window.removeEventListener("offline", this.onOffline);
    const ws = this.ws;
    this.ws = null;
    if (ws) ws.close(1000);
    for (const entry of this.pending.values()) {
      entry.reject(new CommandError({ title: "closed", type: "/problems/closed" }));
    }
    this.pending.clear();
    this.listeners.clear();
  }
}

let current = null;
let wantUserStream = false;
const userListeners = new Set();

/**
 * `fn(message)` for every per-user message (`note_shared`, `forum_post`, `unread`,
 * `notification`, `notifications_read`, `annotation`, `annotation_removed`); these arrive
 * on whichever socket the app has open (a meeting's or the personal stream).
 */
export function onUserMessage(fn) {
  userListeners.add(fn);
  return () => userListeners.delete(fn);
}

/**
 * Keeps the personal stream open while signed in and no meeting socket is open (one WebSocket
 * per app: a meeting's socket carries the per-user messages too). `false` closes it.
 */
export function userStream(on) {
  wantUserStream = on;
  if (on && (!current || current.closed)) current = new LiveSession(null, false);
  else if (!on && current && current.meeting === null) {
    current.close();
    current = null;
  }
}

/**
 * The live session of a meeting, shared by every screen that shows it. `anonymous: true` is the
 * public view (room display). Call the returned `release()` when the screen goes away.
 */
export function join(meeting, { anonymous = false } = {}) {
  if (!current || current.closed || current.meeting !== meeting || current.anonymous !== anonymous) {
    if (current && !current.closed) current.close();
    current = new LiveSession(meeting, anonymous);
  }
  const session = current;
  session.users += 1;
  let released = false;
  return {
    session,
    release() {
      if (released) return;
      released = true;
      session.users -= 1;
      // Keep it a moment: switching between the member and chair screens reuses the socket.
      setTimeout(() => {
        if (session.users === 0 && !session.closed) {
          session.close();
          if (current === session) {
            current = null;
            if (wantUserStream) userStream(true);
          }
        }
      }, 2_000);
    },
  };
}

// --- applying events to the viewer's state (the shape of `view::snapshot`) -----------------------

function nameOf(state, person) {
  return state.attendance.find((a) => a.person === person)?.name ?? "?";
}

function speakerView(state, entry) {
  return {
    id: entry.id,
    person: entry.person,
    name: nameOf(state, entry.person),
    point_of_order: entry.point_of_order,
    requested_at: entry.requested_at,
    started_at: entry.started_at ?? null,
  };
}

/**
 * Why members may not vote in an open poll (the server's `ineligibility`): the reason fixed at
 * opening, and "arrived late" for someone absent then and present now. The viewer's own reason
 * goes to `my_ineligibility`; the chair also gets everyone present who may not vote.
 */
function refreshIneligible(state, p, me) {
  if (!Array.isArray(p.ineligible_at_open)) return;
  const present = (person) => {
    const status = state.attendance.find((a) => a.person === person)?.status;
    return status === "present" || status === "remote";
  };
  const reasons = p.state !== "open" ? [] : p.ineligible_at_open.map(([person, reason]) => ({
    person, name: nameOf(state, person),
    reason: reason === "absent" && present(person) ? "arrived_late"
      : reason === "represented" ? "stand_in_active" : reason,
  }));
  p.my_ineligibility = reasons.find((r) => r.person === me)?.reason ?? null;
  p.ineligible = state.viewer?.chair ? reasons.filter((r) => present(r.person)) : [];
}

/** Byte-order comparison, as Rust sorts strings. */
const cmp = (a, b) => (a < b ? -1 : a > b ? 1 : 0);

/** Who voted what: `result.roll` (a character per eligible member, ids ascending), else `named`. */
function namedChoices(p, result) {
  if (typeof result?.roll !== "string") {
    return new Map((result?.named ?? []).map(([person, c]) => [person, c?.choice ?? null]));
  }
  const word = { y: "yes", n: "no", a: "abstain" };
  const ids = [...p.eligible].sort(); // code-unit order: the server's order of ids
  const choices = new Map();
  ids.forEach((person, i) => {
    if (word[result.roll[i]]) choices.set(person, word[result.roll[i]]);
  });
  return choices;
}

/**
 * The roll call of a closed named poll from its result: everyone eligible with their choice (or
 * none), grouped by fraction — fractions by name, those without one last — members by name.
 */
function rollCallOf(state, p, result) {
  const choices = namedChoices(p, result);
  const people = [...new Set([...p.eligible, ...choices.keys()])];
  // Substitutes who stood in when the poll opened: whom for (`[substitute, member]` pairs).
  const standsIn = new Map(Array.isArray(p.stand_ins) ? p.stand_ins : []);
  const groups = new Map();
  for (const person of people) {
    const fraction = state.attendance.find((a) => a.person === person)?.fraction ?? null;
    if (!groups.has(fraction)) groups.set(fraction, []);
    const line = { person, name: nameOf(state, person), choice: choices.get(person) ?? null };
    if (standsIn.has(person)) line.stands_in_for = nameOf(state, standsIn.get(person));
    groups.get(fraction).push(line);
  }
  const list = [...groups].map(([fraction, lines]) => ({ fraction, lines: lines.sort((a, b) => cmp(a.name, b.name)) }));
  list.sort((a, b) => (a.fraction === null) - (b.fraction === null) || cmp(a.fraction ?? "", b.fraction ?? ""));
  return { poll: p.id, groups: list, not_voted: people.filter((person) => !choices.has(person)).length };
}

function pollOf(state, id) {
  return state.polls.find((p) => p.id === id);
}

/**
 * Applies one event to `state` in place. Returns false when it cannot do so exactly (the caller
 * then fetches a fresh snapshot).
 */
export function reduce(state, event, me) {
  switch (event.type) {
    case "meeting_started":
      state.status = "running";
      state.started_at ??= event.at;
      return true;
    case "meeting_paused":
      state.status = "paused";
      return true;
    case "meeting_resumed":
      state.status = "running";
      return true;
    case "meeting_closed":
      state.status = "closed";
      return true;
    case "current_item_changed":
      state.current_item = event.item ?? null;
      state.non_public_part = false;
      return true;
    case "non_public_part_started":
      // Sent to everyone; the public view never learns which item.
      if (!state.viewer?.entitled) {
        state.current_item = null;
        state.non_public_part = true;
      }
      return true;
    case "attendance_changed":
    case "attendance_bulk_changed": {
      const persons = event.type === "attendance_bulk_changed" ? event.persons : [event.person];
      const rows = persons.map((person) => state.attendance.find((a) => a.person === person));
      if (rows.some((row) => !row)) return false;
      for (const row of rows) recordAttendance(row, event.status, event.at);
      state.quorum = event.quorum;
      if (event.standing) state.quorum_standing = event.standing;
      if (event.status === "remote") state.remote_participation = true;
      for (const p of state.polls) refreshIneligible(state, p, me);
      return true;
    }
    case "conflict_declared":
      state.conflicts.push({ item: event.item, person: event.person, name: nameOf(state, event.person) });
      return true;
    case "speaker_requested": {
      const entry = speakerView(state, event.entry);
      if (entry.point_of_order) {
        const at = state.speakers.findIndex((s) => !s.point_of_order);
        state.speakers.splice(at < 0 ? state.speakers.length : at, 0, entry);
      } else state.speakers.push(entry);
      return true;
    }
    case "speaker_withdrawn":
    case "speaker_removed":
      state.speakers = state.speakers.filter((s) => s.id !== event.entry);
      return true;
    case "speaker_moved": {
      const at = state.speakers.findIndex((s) => s.id === event.entry);
      if (at < 0) return false;
      const [entry] = state.speakers.splice(at, 1);
      state.speakers.splice(Math.min(event.position, state.speakers.length), 0, entry);
      return true;
    }
    case "speaker_called":
      state.speakers = state.speakers.filter((s) => s.id !== event.entry.id);
      state.current_speaker = speakerView(state, { ...event.entry, started_at: event.at });
      return true;
    case "speech_ended":
      if (state.current_speaker?.id === event.entry) state.current_speaker = null;
      return true;
    case "poll_created": {
      const p = event.poll;
      state.polls.push({
        id: p.id, item: p.item ?? null, title: p.title, kind: p.kind, rule: p.rule,
        options: p.options ?? [], allow_change: !!p.allow_change, state: p.state,
        eligible_count: 0, voted_count: 0, voted: [], not_voted: [], i_am_eligible: false,
        i_voted: false, my_choice: null, interim: null, result: null, round: p.round,
        runoff_of: p.runoff_of ?? null, corrects: p.corrects ?? null, opened_at: null, closed_at: null,
        below_quorum: false, cancel_reason: null, motion: p.motion ?? null,
      });
      return true;
    }
    case "poll_opened": {
      const p = pollOf(state, event.poll);
      if (!p) return false;
      p.state = "open";
      p.opened_at = event.at;
      p.below_quorum = !!event.below_quorum;
      p.eligible = event.eligible;
      p.eligible_count = event.eligible.length;
      p.stand_ins = Array.isArray(event.stand_ins) ? event.stand_ins : [];
      p.i_am_eligible = me != null && event.eligible.includes(me);
      p.not_voted = event.eligible.map((person) => ({ person, name: nameOf(state, person) }));
      // The chair keeps every reason, a member their own (as the snapshot gives them).
      p.ineligible_at_open = (Array.isArray(event.ineligible) ? event.ineligible : [])
        .filter(([person]) => state.viewer?.chair || person === me);
      refreshIneligible(state, p, me);
      return true;
    }
    case "ballots_cast": {
      // One event per committed batch of ballots: the voters of the batch, the running count.
      const p = pollOf(state, event.poll);
      if (!p) return false;
      const voters = Array.isArray(event.voters) ? event.voters : [];
      p.voted_count = event.voted;
      p.eligible_count = event.eligible;
      if (Array.isArray(p.voted)) {
        for (const voter of voters) if (!p.voted.includes(voter)) p.voted.push(voter);
      }
      if (me != null && voters.includes(me)) p.i_voted = true;
      p.not_voted = (p.not_voted ?? []).filter((n) => !voters.includes(n.person));
      p.interim = event.interim ?? null;
      return true;
    }
    case "ballot_changed": {
      const p = pollOf(state, event.poll);
      if (!p) return false;
      p.interim = event.interim ?? null;
      return true;
    }
    case "vote_record_requested": {
      const p = pollOf(state, event.poll);
      if (!p) return false;
      if (event.person === me) p.my_vote_recorded = true;
      return true;
    }
    case "poll_closed": {
      const p = pollOf(state, event.poll);
      if (!p) return false;
      p.state = "closed";
      p.result = event.result;
      p.closed_at = event.at;
      p.not_voted = [];
      p.interim = null;
      p.my_ineligibility = null;
      p.ineligible = [];
      // A first round that may go into a second one (a runoff, or, where nobody was elected,
      // Niedersachsen's second round): the server may have added a draft poll, which a fresh
      // snapshot brings. (`none_elected` is a string, the other outcomes are objects.)
      const outcome = event.result?.election_outcome;
      if (p.round === 1 && (outcome?.runoff || outcome === "none_elected")) return false;
      if (p.kind !== "named") return true;
      // A named poll's roll call, as the server builds it (`roll_call` in rollcall.rs); without
      // the eligible list from the opening (joined mid-poll), a fresh snapshot brings it.
      if (!Array.isArray(p.eligible)) return false;
      p.roll_call = rollCallOf(state, p, event.result);
      return true;
    }
    case "poll_cancelled": {
      const p = pollOf(state, event.poll);
      if (!p) return false;
      p.state = "cancelled";
      p.closed_at = event.at;
      p.cancel_reason = event.reason ?? null;
      p.not_voted = [];
      return true;
    }
    case "interim_shown": {
      const p = pollOf(state, event.poll);
      if (!p) return false;
      p.interim = event.show ? (event.interim ?? null) : null;
      return true;
    }
    case "display_changed":
      state.display_poll = event.poll ?? null;
      return true;
    case "stand_in_set":
    case "stand_in_ended": {
      // A stand-in (Vertretung) began or ended: the two attendance rows, the list, the quorum.
      if (!Array.isArray(state.stand_ins)) return false;
      const { member, substitute } = event.type === "stand_in_set" ? event.stand_in : event;
      const rows = [member, substitute].map((person) => state.attendance.find((a) => a.person === person));
      if (rows.some((row) => !row)) return false;
      const set = event.type === "stand_in_set";
      rows[0].represented_by = set ? substitute : null;
      rows[1].stands_in_for = set ? member : null;
      state.stand_ins = state.stand_ins.filter((s) => s.member !== member);
      if (set) {
        state.stand_ins.push({
          member, member_name: nameOf(state, member), substitute, substitute_name: nameOf(state, substitute),
          since: event.stand_in.since,
        });
      }
      state.quorum = event.quorum;
      if (event.standing) state.quorum_standing = event.standing;
      return true;
    }
    default:
      // lot_drawn (may create a runoff) and anything newer: take a fresh snapshot.
      return false;
  }
}

// --- helpers shared by the screens ---------------------------------------------------------------

/** The poll that matters now: an open one, else the one on the display, else the newest. */
export function currentPoll(state) {
  if (!state) return null;
  const open = state.polls.filter((p) => p.state === "open");
  if (open.length) return open[open.length - 1];
  if (state.display_poll) {
    const shown = state.polls.find((p) => p.id === state.display_poll);
    if (shown) return shown;
  }
  const live = state.polls.filter((p) => p.state !== "cancelled");
  return live.length ? live[live.length - 1] : null;
}

export function itemOf(state, id) {
  return state?.agenda.find((i) => i.id === id) ?? null;
}

/** A member's new attendance, keeping the first arrival and the last early departure (as the
 * server does). */
function recordAttendance(row, status, at) {
  const here = status === "present" || status === "remote";
  row.status = status;
  if (here) {
    row.arrived_at ??= at;
    row.left_at = null;
  } else if (status === "left_early") {
    row.left_at = at;
  }
}
