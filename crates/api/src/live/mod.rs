//! The live session hub: one actor task per meeting owns the meeting's live state, applies
//! commands in batches (one transaction per batch: group commit), acknowledges each command only
//! after the batch is durable, and then broadcasts the events to every subscriber.

mod actor;
pub mod ballot_box;
pub mod keys;
pub mod view;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use plenum_domain::{
    Command, CommandActor, CommandId, DeviceSessionId, LiveState, MeetingId, PersonId, UserId,
};
use plenum_store::DatabaseConnection;
use tokio::sync::{broadcast, mpsc, oneshot, watch};

pub use actor::LiveFailure;
use axum::extract::ws::Utf8Bytes;
use ballot_box::BallotBoxes;
use keys::PollKeys;

/// How many events a slow subscriber may fall behind before it is dropped to resynchronise.
pub const SUBSCRIBER_BUFFER: usize = 4096;

/// An event as sent to subscribers.
#[derive(Debug)]
pub struct Broadcast {
    pub seq: u64,
    /// The server message for entitled viewers (shared bytes: cloning per subscriber is cheap).
    pub json: Utf8Bytes,
    /// The server message for the public, if they may see this event at all.
    pub public_json: Option<Utf8Bytes>,
}

/// The server message of an event, given the event's JSON: `{"type":"event","seq":…,"event":…}`.
pub(crate) fn event_frame(seq: u64, payload: &str) -> String {
    format!("{{\"type\":\"event\",\"seq\":{seq},\"event\":{payload}}}")
}

/// A stored event's payload as `viewer` may see it; `None` when they may not see it at all.
pub(crate) fn visible_payload(
    stored: &plenum_store::live::StoredEvent,
    entitled: bool,
) -> Option<std::borrow::Cow<'_, str>> {
    if entitled {
        return Some(std::borrow::Cow::Borrowed(&stored.payload));
    }
    if !stored.public {
        return None;
    }
    // Only `ballots_cast` differs for the public: skip parsing every other event of a replay.
    let redacted = stored
        .payload
        .contains("\"ballots_cast\"")
        .then(|| serde_json::from_str::<plenum_domain::Event>(&stored.payload).ok())
        .flatten()
        .and_then(|event| event.for_public());
    Some(match redacted {
        Some(event) => std::borrow::Cow::Owned(serde_json::to_string(&event).unwrap_or_default()),
        None => std::borrow::Cow::Borrowed(&stored.payload),
    })
}

/// A command on its way to a meeting's actor.
pub struct Job {
    pub command_id: CommandId,
    pub user: UserId,
    pub actor: CommandActor,
    pub command: Command,
    pub reply: oneshot::Sender<Result<serde_json::Value, LiveFailure>>,
}

pub(crate) enum Msg {
    Job(Job),
    Snapshot(oneshot::Sender<(u64, Arc<LiveState>)>),
}

/// A running meeting actor.
pub struct MeetingHandle {
    tx: mpsc::Sender<Msg>,
    events: broadcast::Sender<Arc<Broadcast>>,
}

impl MeetingHandle {
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Broadcast>> {
        self.events.subscribe()
    }

    /// The current state and its sequence number.
    pub async fn snapshot(&self) -> Result<(u64, Arc<LiveState>), LiveFailure> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Msg::Snapshot(reply))
            .await
            .map_err(|_| LiveFailure::Stopped)?;
        rx.await.map_err(|_| LiveFailure::Stopped)
    }

    /// Sends a command; resolves with its acknowledgement once it is durable.
    pub async fn command(
        &self,
        command_id: CommandId,
        user: UserId,
        actor: CommandActor,
        command: Command,
    ) -> Result<serde_json::Value, LiveFailure> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Msg::Job(Job {
                command_id,
                user,
                actor,
                command,
                reply,
            }))
            .await
            .map_err(|_| LiveFailure::Stopped)?;
        rx.await.map_err(|_| LiveFailure::Stopped)?
    }
}

/// One-time tickets for the WebSocket upgrade (no long-lived token in the URL).
#[derive(Default)]
struct Tickets {
    issued: HashMap<String, (UserId, DeviceSessionId, Instant)>,
}

/// All live meetings of this node.
pub struct LiveHub {
    db: DatabaseConnection,
    boxes: BallotBoxes,
    /// Key files of secret polls left open by older versions (converted into boxes).
    legacy_keys: PollKeys,
    audit: Arc<plenum_store::audit::AuditLog>,
    meetings: tokio::sync::Mutex<HashMap<MeetingId, Arc<MeetingHandle>>>,
    tickets: Mutex<Tickets>,
    /// Per device session: a signal that closes its live connections when it is revoked.
    kicks: Mutex<HashMap<DeviceSessionId, watch::Sender<bool>>>,
    /// Per person: messages meant for them alone (shared notes, forum posts, unread counts).
    /// Not meeting events: never in a meeting's event log.
    personal: Mutex<HashMap<PersonId, broadcast::Sender<Arc<str>>>>,
}

/// How many personal messages a slow connection may fall behind before it misses some.
pub const PERSONAL_BUFFER: usize = 256;

/// How long a WebSocket ticket is valid.
pub const TICKET_TTL: Duration = Duration::from_secs(30);

impl LiveHub {
    pub fn new(
        db: DatabaseConnection,
        boxes: BallotBoxes,
        legacy_keys: PollKeys,
        audit: Arc<plenum_store::audit::AuditLog>,
    ) -> Self {
        Self {
            db,
            boxes,
            legacy_keys,
            audit,
            meetings: tokio::sync::Mutex::new(HashMap::new()),
            tickets: Mutex::new(Tickets::default()),
            kicks: Mutex::new(HashMap::new()),
            personal: Mutex::new(HashMap::new()),
        }
    }

    /// The meeting's actor, started (from the stored snapshot, or fresh) if needed.
    pub async fn meeting(
        &self,
        meeting: MeetingId,
        rule_set: plenum_domain::RuleSet,
        speaking_time_secs: u32,
    ) -> Result<Arc<MeetingHandle>, LiveFailure> {
        let mut meetings = self.meetings.lock().await;
        if let Some(handle) = meetings.get(&meeting)
            && !handle.tx.is_closed()
        {
            return Ok(handle.clone());
        }
        let handle = actor::start(
            self.db.clone(),
            self.boxes.clone(),
            self.legacy_keys.clone(),
            self.audit.clone(),
            meeting,
            rule_set,
            speaking_time_secs,
        )
        .await?;
        meetings.insert(meeting, handle.clone());
        Ok(handle)
    }

    /// A one-time ticket for the WebSocket upgrade.
    pub fn issue_ticket(&self, user: UserId, session: DeviceSessionId) -> String {
        let ticket = crate::routes::auth::random_token();
        if let Ok(mut tickets) = self.tickets.lock() {
            let now = Instant::now();
            tickets
                .issued
                .retain(|_, (_, _, at)| now.duration_since(*at) < TICKET_TTL);
            tickets.issued.insert(ticket.clone(), (user, session, now));
        }
        ticket
    }

    /// Redeems a ticket once.
    pub fn redeem_ticket(&self, ticket: &str) -> Option<(UserId, DeviceSessionId)> {
        let mut tickets = self.tickets.lock().ok()?;
        let (user, session, at) = tickets.issued.remove(ticket)?;
        (at.elapsed() < TICKET_TTL).then_some((user, session))
    }

    /// A receiver that turns true when the session is revoked.
    pub fn watch_session(&self, session: DeviceSessionId) -> watch::Receiver<bool> {
        match self.kicks.lock() {
            Ok(mut kicks) => kicks
                .entry(session)
                .or_insert_with(|| watch::channel(false).0)
                .subscribe(),
            Err(_) => watch::channel(true).1,
        }
    }

    /// Closes the live connections of a revoked device session.
    pub fn kick_session(&self, session: DeviceSessionId) {
        if let Ok(mut kicks) = self.kicks.lock()
            && let Some(sender) = kicks.remove(&session)
        {
            let _ = sender.send(true);
        }
    }

    /// Forgets sessions whose connections are gone.
    pub fn forget_session(&self, session: DeviceSessionId) {
        if let Ok(mut kicks) = self.kicks.lock()
            && kicks.get(&session).is_some_and(|s| s.receiver_count() == 0)
        {
            kicks.remove(&session);
        }
    }

    /// Personal messages for `person`, for one live connection.
    pub fn subscribe_person(&self, person: PersonId) -> broadcast::Receiver<Arc<str>> {
        match self.personal.lock() {
            Ok(mut personal) => personal
                .entry(person)
                .or_insert_with(|| broadcast::channel(PERSONAL_BUFFER).0)
                .subscribe(),
            Err(_) => broadcast::channel(1).1,
        }
    }

    /// Whether `person` has a live connection now.
    pub fn is_connected(&self, person: PersonId) -> bool {
        self.personal
            .lock()
            .is_ok_and(|p| p.get(&person).is_some_and(|s| s.receiver_count() > 0))
    }

    /// Sends a message to `person`'s live connections, if any.
    pub fn send_to_person(&self, person: PersonId, message: Arc<str>) {
        if let Ok(mut personal) = self.personal.lock()
            && let Some(sender) = personal.get(&person)
            && sender.send(message).is_err()
        {
            // Nobody listens any more.
            personal.remove(&person);
        }
    }

    /// Forgets a person's channel once their last connection is gone.
    pub fn forget_person(&self, person: PersonId) {
        if let Ok(mut personal) = self.personal.lock()
            && personal
                .get(&person)
                .is_some_and(|s| s.receiver_count() == 0)
        {
            personal.remove(&person);
        }
    }
}
