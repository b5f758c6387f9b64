//! The live session hub: one actor task per meeting owns the meeting's live state, applies
//! commands in batches (one transaction per batch: group commit), acknowledges each command only
//! after the batch is durable, and then broadcasts the events to every subscriber.

mod actor;
pub mod ballot_box;
pub mod cluster;
pub mod keys;
pub mod view;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use plenum_domain::{
    Command, CommandActor, CommandId, DeviceSessionId, LiveState, MeetingId, PersonId, UserId,
};
use plenum_store::{DatabaseConnection, StoreError};
use tokio::sync::{broadcast, mpsc, oneshot, watch};

pub use actor::LiveFailure;
use axum::extract::ws::{Message, Utf8Bytes};
use ballot_box::BallotBoxes;
use keys::PollKeys;

/// How many events a slow subscriber may fall behind before it is dropped to resynchronise.
pub const SUBSCRIBER_BUFFER: usize = 4096;

/// An event as sent to subscribers: its message for each kind of viewer, built once.
#[derive(Debug)]
pub struct Broadcast {
    pub seq: u64,
    /// The server message for the chair, and for everyone entitled where members see the
    /// event whole (shared bytes: cloning per subscriber is cheap).
    pub json: Utf8Bytes,
    /// The server message for the public, if they may see this event at all.
    pub public_json: Option<Utf8Bytes>,
    /// Events members see with less than the chair (`ballots_cast`, see
    /// [`plenum_domain::Event::for_member`]).
    member: Option<Box<MemberFrames>>,
    /// A `ballots_cast`: may wait a moment to go out with the next ones (see [`Relay`]).
    paced: bool,
}

#[derive(Debug)]
struct MemberFrames {
    /// The event as members not among its voters get it (no voters listed).
    others: plenum_domain::Event,
    /// The event's voters, sorted, to find a member among them without a scan.
    voters: Vec<PersonId>,
    /// The message for every other member.
    json: Utf8Bytes,
}

impl Broadcast {
    /// The messages of event `seq`, whose JSON is `payload`. `event` is the parsed event where
    /// viewers may see it differently; `None` sends `payload` to everyone who may see it.
    pub(crate) fn new(
        seq: u64,
        payload: &str,
        event: Option<&plenum_domain::Event>,
        public: bool,
    ) -> Self {
        let json = Utf8Bytes::from(event_frame(seq, payload));
        let frame = |e: &plenum_domain::Event| {
            Utf8Bytes::from(event_frame(
                seq,
                &serde_json::to_string(e).unwrap_or_default(),
            ))
        };
        let public_json = public.then(|| {
            event
                .and_then(|e| e.for_public())
                .map_or_else(|| json.clone(), |e| frame(&e))
        });
        let member = event.and_then(|whole| {
            let others = whole.for_member(None)?;
            let mut voters = whole.voters().to_vec();
            voters.sort_unstable();
            Some(Box::new(MemberFrames {
                json: frame(&others),
                others,
                voters,
            }))
        });
        Self {
            seq,
            json,
            public_json,
            member,
            paced: event.is_some_and(|e| matches!(e, plenum_domain::Event::BallotsCast { .. })),
        }
    }

    /// The messages of a stored event (written by this node or another).
    pub(crate) fn of_stored(stored: &plenum_store::live::StoredEvent) -> Self {
        if !may_differ(&stored.payload) {
            return Self::new(stored.seq, &stored.payload, None, stored.public);
        }
        match serde_json::from_str::<plenum_domain::Event>(&stored.payload) {
            Ok(event) => Self::new(stored.seq, &stored.payload, Some(&event), stored.public),
            // Unreadable: the public gets nothing rather than what may be hidden from them.
            Err(_) => Self::new(stored.seq, &stored.payload, None, false),
        }
    }

    /// The message for `viewer`; `None` when they may not see the event.
    pub(crate) fn frame_for(&self, viewer: view::Viewer) -> Option<Utf8Bytes> {
        let person = match viewer {
            view::Viewer::Public => return self.public_json.clone(),
            view::Viewer::Entitled { chair: true, .. } => return Some(self.json.clone()),
            view::Viewer::Entitled { person, .. } => person,
        };
        let Some(member) = &self.member else {
            return Some(self.json.clone());
        };
        match person.filter(|p| member.voters.binary_search(p).is_ok()) {
            Some(me) => {
                // What `Event::for_member(Some(me))` gives a voter of the batch, without a
                // second scan of the batch's voters.
                let mine = member.others.clone().with_voters(vec![me]);
                Some(Utf8Bytes::from(event_frame(
                    self.seq,
                    &serde_json::to_string(&mine).unwrap_or_default(),
                )))
            }
            None => Some(member.json.clone()),
        }
    }
}

/// The server message of an event, given the event's JSON: `{"type":"event","seq":…,"event":…}`.
pub(crate) fn event_frame(seq: u64, payload: &str) -> String {
    format!("{{\"type\":\"event\",\"seq\":{seq},\"event\":{payload}}}")
}

/// Whether viewers may see a stored event differently (see [`plenum_domain::Event::for_member`]
/// and [`plenum_domain::Event::for_public`]): every other event needs no parsing in a replay.
fn may_differ(payload: &str) -> bool {
    payload.contains("\"ballots_cast\"") || payload.contains("\"poll_opened\"")
}

/// A stored event's payload as `viewer` may see it; `None` when they may not see it at all.
pub(crate) fn visible_payload(
    stored: &plenum_store::live::StoredEvent,
    viewer: view::Viewer,
) -> Option<std::borrow::Cow<'_, str>> {
    use std::borrow::Cow;
    let person = match viewer {
        view::Viewer::Public if !stored.public => return None,
        view::Viewer::Public => None,
        view::Viewer::Entitled { chair: true, .. } => return Some(Cow::Borrowed(&stored.payload)),
        view::Viewer::Entitled { person, .. } => Some(person),
    };
    if !may_differ(&stored.payload) {
        return Some(Cow::Borrowed(&stored.payload));
    }
    let Ok(event) = serde_json::from_str::<plenum_domain::Event>(&stored.payload) else {
        // Unreadable: the public gets nothing rather than what may be hidden from them.
        return person.map(|_| Cow::Borrowed(stored.payload.as_str()));
    };
    let redacted = match person {
        None => event.for_public(),
        Some(me) => event.for_member(me),
    };
    Some(match redacted {
        Some(event) => Cow::Owned(serde_json::to_string(&event).unwrap_or_default()),
        None => Cow::Borrowed(&stored.payload),
    })
}

/// A command on its way to a meeting's actor.
pub struct Job {
    pub command_id: CommandId,
    pub user: UserId,
    pub actor: CommandActor,
    pub command: Command,
    pub reply: oneshot::Sender<Result<serde_json::Value, LiveFailure>>,
    /// A command sent over a WebSocket of this node: where its ack goes straight away.
    pub ack: Option<DirectAck>,
}

/// The `ack` message of a command, as a live connection sends it.
pub fn ack_message(command_id: uuid::Uuid, result: &serde_json::Value) -> Message {
    Message::Text(
        serde_json::json!({"type": "ack", "command_id": command_id, "result": result})
            .to_string()
            .into(),
    )
}

/// The way back to the WebSocket that sent a command. Whoever learns first that the command
/// succeeded (the actor right after its commit, or the courier that forwarded the command to
/// the node running the meeting) puts the `ack` straight into the connection's outgoing queue,
/// before the batch's events go out to every subscriber. Otherwise the ack would pass through
/// one more task first, and at a convention wait behind the wake-ups of thousands of
/// connections for the same batch's events. Failures are not sent this way: the command may be
/// tried again (another node, a retry), and the task that waits for it answers.
#[derive(Clone)]
pub struct DirectAck {
    out: mpsc::Sender<Message>,
    command_id: uuid::Uuid,
    sent: Arc<AtomicBool>,
}

impl DirectAck {
    pub fn new(out: mpsc::Sender<Message>, command_id: uuid::Uuid) -> Self {
        DirectAck {
            out,
            command_id,
            sent: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Queues the ack without waiting (a full queue: the waiting task sends it instead).
    pub(crate) fn send(&self, result: &serde_json::Value) {
        if !self.sent.load(Ordering::Acquire)
            && self
                .out
                .try_send(ack_message(self.command_id, result))
                .is_ok()
        {
            self.sent.store(true, Ordering::Release);
        }
    }

    /// Whether the ack is already on its way.
    pub fn sent(&self) -> bool {
        self.sent.load(Ordering::Acquire)
    }
}

pub(crate) enum Msg {
    Job(Box<Job>),
    Snapshot(oneshot::Sender<(u64, Arc<LiveState>)>),
}

/// What the actors of this node share.
pub(crate) struct Shared {
    pub(crate) db: DatabaseConnection,
    pub(crate) boxes: BallotBoxes,
    /// Key files of secret polls left open by older versions (converted into boxes).
    pub(crate) legacy_keys: PollKeys,
    pub(crate) audit: Arc<plenum_store::audit::AuditLog>,
    /// Several nodes on PostgreSQL: leases, forwarding and notifications. `None` on SQLite.
    pub(crate) cluster: Option<Arc<cluster::Cluster>>,
}

/// A meeting's events on this node, in order and without gaps, whoever wrote them: this node's
/// actor, or (several nodes) another node's, read from the event table when PostgreSQL
/// announces them.
///
/// Pacing: every event sent costs each subscriber's connection a wake-up and a write, and at a
/// convention that is ten thousand of each, the bulk of the server's work while a crowd votes.
/// So a `ballots_cast` (the running count of who voted) may wait a moment, at most
/// [`PACE_PER_SUBSCRIBER`] per subscriber of this node and [`PACE_MAX`] in all, and go out
/// together with the ones that follow: one wake-up and one write per connection for several
/// batches of ballots. Any other event (a poll closing, the next speaker) sends what waits and
/// itself at once, in order. Below [`PACE_FROM`] subscribers nothing waits. Acks never wait
/// here: they go to their connection directly (see [`DirectAck`]).
pub(crate) struct Relay {
    meeting: MeetingId,
    events: broadcast::Sender<Arc<Broadcast>>,
    /// The seq of the last event accepted, and the paced events not yet sent.
    sent: Mutex<Sent>,
    /// Rung when events may be waiting in the table (a notification, a gap).
    wake: tokio::sync::Notify,
    /// One catch-up at a time.
    catching: tokio::sync::Mutex<()>,
}

/// The events a relay accepted.
#[derive(Default)]
struct Sent {
    /// The seq of the last event accepted (sent, or held to be sent shortly).
    last: u64,
    /// Paced events accepted and not yet sent, in order.
    held: Vec<Arc<Broadcast>>,
    /// Whether a flush of `held` is scheduled.
    flushing: bool,
}

/// How many events one read of a catch-up takes.
const CATCH_UP_PAGE: u64 = 1000;

/// How long a `ballots_cast` may wait per subscriber of the meeting on this node.
pub const PACE_PER_SUBSCRIBER: Duration = Duration::from_micros(40);

/// The longest a `ballots_cast` waits (the count of who voted is at most this late).
pub const PACE_MAX: Duration = Duration::from_millis(200);

/// From how many subscribers on this node `ballots_cast` events are paced.
pub const PACE_FROM: usize = 100;

impl Relay {
    fn new(meeting: MeetingId) -> Self {
        Self {
            meeting,
            events: broadcast::channel(SUBSCRIBER_BUFFER).0,
            sent: Mutex::new(Sent::default()),
            wake: tokio::sync::Notify::new(),
            catching: tokio::sync::Mutex::new(()),
        }
    }

    /// The seq of the last event accepted.
    pub(crate) fn last(&self) -> u64 {
        self.sent.lock().map(|s| s.last).unwrap_or(0)
    }

    /// Starts counting at `seq` (nobody subscribed yet, or they have it already).
    fn skip_to(&self, seq: u64) {
        if let Ok(mut sent) = self.sent.lock() {
            sent.last = sent.last.max(seq);
        }
    }

    /// How long a paced event may wait now (zero: send at once).
    fn pace(&self) -> Duration {
        let subscribers = self.events.receiver_count();
        if subscribers < PACE_FROM {
            return Duration::ZERO;
        }
        (PACE_PER_SUBSCRIBER * subscribers as u32).min(PACE_MAX)
    }

    /// Sends the event if it is the next one (a paced event maybe a moment later, with those
    /// that follow); an event already accepted is ignored; an event after a gap is not sent but
    /// makes the relay read the gap and it from the table.
    pub(crate) fn publish(self: &Arc<Self>, event: Arc<Broadcast>) {
        let Ok(mut sent) = self.sent.lock() else {
            return;
        };
        if event.seq <= sent.last {
            return;
        }
        if event.seq != sent.last + 1 {
            drop(sent);
            self.wake.notify_one();
            return;
        }
        sent.last = event.seq;
        let pace = if event.paced {
            self.pace()
        } else {
            Duration::ZERO
        };
        if pace.is_zero() {
            for held in sent.held.drain(..) {
                let _ = self.events.send(held);
            }
            let _ = self.events.send(event);
            return;
        }
        sent.held.push(event);
        if !sent.flushing {
            sent.flushing = true;
            let relay = self.clone();
            tokio::spawn(async move {
                tokio::time::sleep(pace).await;
                relay.flush();
            });
        }
    }

    /// Sends the paced events that wait.
    fn flush(&self) {
        if let Ok(mut sent) = self.sent.lock() {
            sent.flushing = false;
            for held in sent.held.drain(..) {
                let _ = self.events.send(held);
            }
        }
    }

    /// Sends what the event table holds after the last event accepted.
    pub(crate) async fn catch_up(
        self: &Arc<Self>,
        db: &DatabaseConnection,
    ) -> Result<(), StoreError> {
        let _one = self.catching.lock().await;
        loop {
            let after = self.last();
            let found =
                plenum_store::live::events_since(db, self.meeting, after, CATCH_UP_PAGE).await?;
            let complete = (found.len() as u64) < CATCH_UP_PAGE;
            for stored in &found {
                self.publish(Arc::new(Broadcast::of_stored(stored)));
            }
            if complete {
                return Ok(());
            }
        }
    }
}

/// What the database keeps of a ticket: its SHA-256, so a copy of the table opens nothing.
fn ticket_hash(ticket: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(ticket.as_bytes()))
}

/// A meeting's live session as this node sees it: its events, and its actor when the meeting
/// runs here (always on one node; with several nodes, where this node holds the lease).
pub struct MeetingHandle {
    meeting: MeetingId,
    rule_set: plenum_domain::RuleSet,
    speaking_time_secs: u32,
    shared: Arc<Shared>,
    relay: Arc<Relay>,
    /// This node's actor of the meeting, while it runs here.
    local: tokio::sync::Mutex<Option<mpsc::Sender<Msg>>>,
    /// Several nodes: until when this node's lease of the meeting holds (by its own clock).
    lease: Arc<LeaseClock>,
    /// Several nodes, where the actor runs elsewhere: the last state read from the database.
    cached: Mutex<Option<(u64, Arc<LiveState>)>>,
    /// Several nodes, where the actor runs elsewhere: the URL of the node that runs it, as last
    /// read from the lease; kept until a forward to it fails, so that a vote costs no lease
    /// query.
    holder: Mutex<Option<String>>,
    /// The snapshot's attendance list as serialized for the last state asked for, by seq.
    attendance: Mutex<Option<(u64, Arc<serde_json::value::RawValue>)>>,
    /// Held while this node reads the state for `cached`.
    loading: tokio::sync::Mutex<()>,
}

/// Until when a lease holds, as the node that renews it counts.
#[derive(Debug, Default)]
pub(crate) struct LeaseClock {
    until: Mutex<Option<Instant>>,
}

impl LeaseClock {
    pub(crate) fn holds(&self) -> bool {
        self.until
            .lock()
            .is_ok_and(|until| until.is_some_and(|u| Instant::now() < u))
    }

    /// Until when the lease holds (`None`: not held).
    pub(crate) fn until(&self) -> Option<Instant> {
        self.until.lock().ok().and_then(|until| *until)
    }

    pub(crate) fn extend(&self, until: Instant) {
        if let Ok(mut held) = self.until.lock() {
            *held = Some(held.map_or(until, |h| h.max(until)));
        }
    }

    pub(crate) fn end(&self) {
        if let Ok(mut held) = self.until.lock() {
            *held = None;
        }
    }
}

/// How long a command waits for the meeting's actor (several nodes: through a takeover).
const COMMAND_DEADLINE: Duration = Duration::from_secs(15);

impl MeetingHandle {
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Broadcast>> {
        self.relay.events.subscribe()
    }

    /// The running local actor, started here on one node.
    async fn local_actor(&self) -> Result<Option<mpsc::Sender<Msg>>, LiveFailure> {
        let mut local = self.local.lock().await;
        if let Some(tx) = local.as_ref()
            && !tx.is_closed()
            && (self.shared.cluster.is_none() || self.lease.holds())
        {
            return Ok(Some(tx.clone()));
        }
        *local = None;
        if self.shared.cluster.is_some() {
            return Ok(None);
        }
        let tx = actor::start(
            &self.shared,
            self.meeting,
            self.rule_set,
            self.speaking_time_secs,
            self.relay.clone(),
            None,
        )
        .await?;
        *local = Some(tx.clone());
        Ok(Some(tx))
    }

    /// Several nodes: takes the meeting's lease if it is free and starts the actor here.
    async fn take_over(&self, cluster: &cluster::Cluster) -> Result<bool, LiveFailure> {
        let mut local = self.local.lock().await;
        if local.as_ref().is_some_and(|tx| !tx.is_closed()) && self.lease.holds() {
            return Ok(true);
        }
        let asked = Instant::now();
        let Some(epoch) = cluster.acquire(&self.shared.db, self.meeting).await? else {
            return Ok(false);
        };
        self.lease.extend(asked + cluster::LEASE_TTL);
        let started = async {
            // Whatever the previous holder wrote reaches this node's subscribers first.
            self.relay.catch_up(&self.shared.db).await?;
            actor::start(
                &self.shared,
                self.meeting,
                self.rule_set,
                self.speaking_time_secs,
                self.relay.clone(),
                Some(self.lease.clone()),
            )
            .await
        };
        match started.await {
            Ok(tx) => {
                tracing::info!(meeting = %self.meeting, epoch, "this node runs the meeting's live session");
                *local = Some(tx);
                Ok(true)
            }
            Err(err) => {
                // A lease without an actor would answer every forwarded command with "not
                // here": give it up, so that the next command anywhere takes the meeting over.
                self.lease.end();
                if let Err(release) =
                    plenum_store::lease::release(&self.shared.db, self.meeting, cluster.node).await
                {
                    tracing::warn!(meeting = %self.meeting, error = %release, "could not give up a live lease");
                }
                Err(err)
            }
        }
    }

    /// Several nodes: a renewal asked at `asked` did not find this meeting's lease with this
    /// node. Stops the actor here unless the lease was taken meanwhile (decided under the
    /// actor's lock, so a takeover under way is seen whole, and asked again of the database
    /// while the lease still seems held: the renewal may have missed a takeover committing).
    pub(crate) async fn stop_unless_renewed_after(
        &self,
        cluster: &cluster::Cluster,
        asked: Instant,
    ) {
        let mut local = self.local.lock().await;
        if local.is_none() && self.lease.until().is_none() {
            return;
        }
        if self
            .lease
            .until()
            .is_some_and(|until| until > asked + cluster::LEASE_TTL)
        {
            return;
        }
        if self.lease.holds()
            && let Ok(Some(holder)) =
                plenum_store::lease::holder(&self.shared.db, self.meeting).await
            && holder.valid
            && holder.node == cluster.node
        {
            return;
        }
        self.lease.end();
        if local.take().is_some() {
            tracing::warn!(meeting = %self.meeting, "this node no longer runs the meeting's live session");
        }
    }

    /// Stops this node's actor (several nodes: the lease is gone).
    pub(crate) async fn stop_local(&self) {
        self.lease.end();
        if self.local.lock().await.take().is_some() {
            tracing::warn!(meeting = %self.meeting, "this node no longer runs the meeting's live session");
        }
    }

    /// Whether this node runs the meeting's actor now.
    pub(crate) async fn runs_here(&self) -> bool {
        self.local
            .lock()
            .await
            .as_ref()
            .is_some_and(|tx| !tx.is_closed())
    }

    /// The current state and its sequence number.
    pub async fn snapshot(&self) -> Result<(u64, Arc<LiveState>), LiveFailure> {
        if let Some(tx) = self.local_actor().await? {
            let (reply, rx) = oneshot::channel();
            if tx.send(Msg::Snapshot(reply)).await.is_ok()
                && let Ok(snapshot) = rx.await
            {
                return Ok(snapshot);
            }
            if self.shared.cluster.is_none() {
                return Err(LiveFailure::Stopped);
            }
        }
        // Several nodes, the actor elsewhere: the state as last committed (parsed again only
        // when it changed).
        let seq = plenum_store::live::stored_seq(&self.shared.db, self.meeting)
            .await?
            .unwrap_or(0);
        let cached = || {
            self.cached.lock().ok().and_then(|cached| {
                cached
                    .as_ref()
                    .filter(|(at, _)| *at == seq)
                    .map(|(_, state)| state.clone())
            })
        };
        if let Some(state) = cached() {
            return Ok((seq, state));
        }
        // One load at a time: a thousand connections arriving together wait for the first
        // one's load instead of each reading the whole roster.
        let _loading = self.loading.lock().await;
        if let Some(state) = cached() {
            return Ok((seq, state));
        }
        let stored = plenum_store::live::load(&self.shared.db, self.meeting).await?;
        let seq = stored.as_ref().map_or(0, |(seq, _)| *seq);
        let state = match stored {
            Some((_, state)) => state,
            None => {
                actor::fresh_state(
                    &self.shared.db,
                    self.meeting,
                    self.rule_set,
                    self.speaking_time_secs,
                )
                .await?
            }
        };
        let state = Arc::new(state);
        if let Ok(mut cached) = self.cached.lock() {
            *cached = Some((seq, state.clone()));
        }
        Ok((seq, state))
    }

    /// The live message of a snapshot of `state` (at `seq`, as [`Self::snapshot`] gave it) for
    /// `viewer`. The attendance list, the same for everyone and the bulk of it at a convention,
    /// is serialized once per state rather than once per connection.
    pub fn snapshot_frame(&self, seq: u64, state: &LiveState, viewer: view::Viewer) -> String {
        let known = self.attendance.lock().ok().and_then(|a| {
            a.as_ref()
                .filter(|(at, _)| *at == seq)
                .map(|(_, a)| a.clone())
        });
        let attendance = match known {
            Some(attendance) => attendance,
            None => {
                let text = serde_json::to_string(&view::attendance(state))
                    .unwrap_or_else(|_| "[]".to_owned());
                let Ok(raw) = serde_json::value::RawValue::from_string(text) else {
                    return view::snapshot(state, seq, viewer).to_string();
                };
                let raw: Arc<serde_json::value::RawValue> = Arc::from(raw);
                if let Ok(mut cached) = self.attendance.lock()
                    && cached.as_ref().is_none_or(|(at, _)| *at < seq)
                {
                    *cached = Some((seq, raw.clone()));
                }
                raw
            }
        };
        view::snapshot_frame(state, seq, viewer, &attendance)
    }

    /// Sends a command; resolves with its acknowledgement once it is durable. With several
    /// nodes, a command for a meeting another node runs is forwarded to it; when that node is
    /// gone, this one takes over once its lease has expired.
    /// Applies a command (at this node's actor, or forwarded to the node running the meeting)
    /// and answers once it is durable. `ack`: a WebSocket's, which gets the ack straight away.
    pub async fn command(
        &self,
        command_id: CommandId,
        user: UserId,
        actor: CommandActor,
        command: Command,
        ack: Option<&DirectAck>,
    ) -> Result<serde_json::Value, LiveFailure> {
        let Some(cluster) = self.shared.cluster.clone() else {
            let tx = self.local_actor().await?.ok_or(LiveFailure::Stopped)?;
            return send_job(&tx, command_id, user, actor, command, ack.cloned()).await;
        };
        let deadline = Instant::now() + COMMAND_DEADLINE;
        loop {
            let outcome = match self.local_actor().await? {
                Some(tx) => {
                    send_job(&tx, command_id, user, actor, command.clone(), ack.cloned()).await
                }
                None => match self.holder_elsewhere(&cluster).await {
                    Ok(Some(url)) => {
                        let outcome = cluster
                            .forward(
                                &url,
                                self.meeting,
                                &cluster::Forwarded {
                                    command_id,
                                    user,
                                    actor,
                                    command: command.clone(),
                                },
                                ack,
                            )
                            .await;
                        if outcome.as_ref().is_err_and(LiveFailure::may_have_moved)
                            && let Ok(mut holder) = self.holder.lock()
                        {
                            *holder = None;
                        }
                        outcome
                    }
                    Ok(None) => match self.take_over(&cluster).await {
                        Ok(true) => continue,
                        Ok(false) => Err(LiveFailure::NotLeader),
                        Err(err) => Err(err),
                    },
                    Err(err) => Err(LiveFailure::Store(err)),
                },
            };
            match outcome {
                Err(LiveFailure::NotLeader | LiveFailure::Stopped) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                // The database is unreachable here or at the node that runs the meeting: that
                // node's lease runs out, and another node takes over.
                Err(LiveFailure::Store(StoreError::Unreachable(_)))
                    if Instant::now() < deadline =>
                {
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
                Err(LiveFailure::Remote(problem))
                    if problem.status == 503 && Instant::now() < deadline =>
                {
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
                other => return other,
            }
        }
    }

    /// Several nodes: the URL of the other node that holds the meeting's lease (`None`: no
    /// valid lease elsewhere, so this node may take the meeting over). Remembered until a
    /// forward to it fails.
    async fn holder_elsewhere(
        &self,
        cluster: &cluster::Cluster,
    ) -> Result<Option<String>, StoreError> {
        if let Some(url) = self.holder.lock().ok().and_then(|h| h.clone()) {
            return Ok(Some(url));
        }
        let holder = plenum_store::lease::holder(&self.shared.db, self.meeting)
            .await?
            .filter(|h| h.valid && h.node != cluster.node)
            .map(|h| h.url);
        if let (Some(url), Ok(mut known)) = (&holder, self.holder.lock()) {
            *known = Some(url.clone());
        }
        Ok(holder)
    }

    /// A command forwarded by another node: applied here if this node runs the meeting,
    /// else `NotLeader` (never forwarded again). A node whose lease outlived its actor (the
    /// actor stopped while the database was out of reach, and the lease, taken by nobody else,
    /// was renewed once it was back) starts the actor again: the forwarding node asks this one
    /// as long as the lease is here.
    pub(crate) async fn command_here(
        &self,
        command_id: CommandId,
        user: UserId,
        actor: CommandActor,
        command: Command,
    ) -> Result<serde_json::Value, LiveFailure> {
        let tx = match self.local_actor().await? {
            Some(tx) => tx,
            None => {
                let Some(cluster) = self.shared.cluster.clone() else {
                    return Err(LiveFailure::NotLeader);
                };
                if !self.take_over(&cluster).await? {
                    return Err(LiveFailure::NotLeader);
                }
                self.local_actor().await?.ok_or(LiveFailure::NotLeader)?
            }
        };
        send_job(&tx, command_id, user, actor, command, None).await
    }
}

async fn send_job(
    tx: &mpsc::Sender<Msg>,
    command_id: CommandId,
    user: UserId,
    actor: CommandActor,
    command: Command,
    ack: Option<DirectAck>,
) -> Result<serde_json::Value, LiveFailure> {
    let (reply, rx) = oneshot::channel();
    tx.send(Msg::Job(Box::new(Job {
        command_id,
        user,
        actor,
        command,
        reply,
        ack,
    })))
    .await
    .map_err(|_| LiveFailure::Stopped)?;
    rx.await.map_err(|_| LiveFailure::Stopped)?
}

/// One-time tickets for the WebSocket upgrade (no long-lived token in the URL).
#[derive(Default)]
struct Tickets {
    issued: HashMap<String, (UserId, DeviceSessionId, Instant)>,
}

/// All live meetings of this node.
pub struct LiveHub {
    shared: Arc<Shared>,
    meetings: tokio::sync::Mutex<HashMap<MeetingId, Arc<MeetingHandle>>>,
    tickets: Mutex<Tickets>,
    /// Per device session: a signal that closes its live connections when it is revoked.
    kicks: Mutex<HashMap<DeviceSessionId, watch::Sender<bool>>>,
    /// Per person: messages meant for them alone (shared notes, forum posts, unread counts).
    /// Not meeting events: never in a meeting's event log.
    personal: Mutex<HashMap<PersonId, broadcast::Sender<Arc<str>>>>,
}

/// How many personal messages a slow connection may fall behind before it misses some (and is
/// told to resync). Personal messages come one per note, post or unread change, and each
/// connection forwards them at once. The buffer is allocated whole for every signed-in person
/// with a connection (about 48 bytes a slot): 256 slots were 12 KiB per person, 36 MB at a
/// convention node with 3,000 members connected.
pub const PERSONAL_BUFFER: usize = 64;

/// How long a WebSocket ticket is valid.
pub const TICKET_TTL: Duration = Duration::from_secs(30);

impl LiveHub {
    pub fn new(
        db: DatabaseConnection,
        boxes: BallotBoxes,
        legacy_keys: PollKeys,
        audit: Arc<plenum_store::audit::AuditLog>,
        cluster: Option<Arc<cluster::Cluster>>,
    ) -> Self {
        Self {
            shared: Arc::new(Shared {
                db,
                boxes,
                legacy_keys,
                audit,
                cluster,
            }),
            meetings: tokio::sync::Mutex::new(HashMap::new()),
            tickets: Mutex::new(Tickets::default()),
            kicks: Mutex::new(HashMap::new()),
            personal: Mutex::new(HashMap::new()),
        }
    }

    /// Several nodes: this node's part of the cluster (`None` on one node).
    pub fn cluster(&self) -> Option<&Arc<cluster::Cluster>> {
        self.shared.cluster.as_ref()
    }

    /// The meeting's live session on this node (on one node its actor is started, from the
    /// stored snapshot or fresh, if needed).
    pub async fn meeting(
        &self,
        meeting: MeetingId,
        rule_set: plenum_domain::RuleSet,
        speaking_time_secs: u32,
    ) -> Result<Arc<MeetingHandle>, LiveFailure> {
        let mut meetings = self.meetings.lock().await;
        if let Some(handle) = meetings.get(&meeting) {
            return Ok(handle.clone());
        }
        let relay = Arc::new(Relay::new(meeting));
        let handle = Arc::new(MeetingHandle {
            meeting,
            rule_set,
            speaking_time_secs,
            shared: self.shared.clone(),
            relay: relay.clone(),
            local: tokio::sync::Mutex::new(None),
            lease: Arc::new(LeaseClock::default()),
            cached: Mutex::new(None),
            holder: Mutex::new(None),
            attendance: Mutex::new(None),
            loading: tokio::sync::Mutex::new(()),
        });
        match &self.shared.cluster {
            None => {
                handle.local_actor().await?;
            }
            Some(_) => {
                // Subscribers from now on get what is written after the stored state.
                let stored = plenum_store::live::stored_seq(&self.shared.db, meeting).await?;
                relay.skip_to(stored.unwrap_or(0));
                let (db, follower) = (self.shared.db.clone(), relay.clone());
                tokio::spawn(async move {
                    loop {
                        follower.wake.notified().await;
                        if let Err(err) = follower.catch_up(&db).await {
                            tracing::warn!(meeting = %follower.meeting, error = %err, "could not read new live events");
                            tokio::time::sleep(Duration::from_millis(250)).await;
                            follower.wake.notify_one();
                        }
                    }
                });
            }
        }
        meetings.insert(meeting, handle.clone());
        drop(meetings);
        if let Some(cluster) = &self.shared.cluster {
            // Nobody runs the meeting yet (or its node is gone): this node does, so that a
            // crash's leftovers are recovered before anyone asks.
            match plenum_store::lease::holder(&self.shared.db, meeting).await {
                Ok(Some(holder)) if holder.valid => {}
                _ => {
                    if let Err(err) = handle.take_over(cluster).await {
                        tracing::warn!(%meeting, error = %err, "could not take over a live session");
                    }
                }
            }
        }
        Ok(handle)
    }

    /// At shutdown: stops the actors and (several nodes) gives up the leases, so that another
    /// node takes the meetings over at once.
    pub async fn shutdown(&self) {
        for handle in self.handles().await {
            handle.stop_local().await;
        }
        if let Some(cluster) = &self.shared.cluster {
            cluster.stop();
            if let Err(err) = plenum_store::lease::release_all(&self.shared.db, cluster.node).await
            {
                tracing::warn!(error = %err, "could not give up the live leases");
            }
            if let Err(err) =
                plenum_store::presence::forget_node(&self.shared.db, cluster.node).await
            {
                tracing::warn!(error = %err, "could not forget this node's connections");
            }
        }
    }

    /// How many meetings' actors run on this node.
    pub async fn running_here(&self) -> usize {
        let mut n = 0;
        for handle in self.handles().await {
            if handle.runs_here().await {
                n += 1;
            }
        }
        n
    }

    /// The meetings this node has a live session of.
    pub(crate) async fn handles(&self) -> Vec<Arc<MeetingHandle>> {
        self.meetings.lock().await.values().cloned().collect()
    }

    /// The meeting's session on this node, if it has one.
    pub(crate) async fn handle_of(&self, meeting: MeetingId) -> Option<Arc<MeetingHandle>> {
        self.meetings.lock().await.get(&meeting).cloned()
    }

    /// A one-time ticket for the WebSocket upgrade. Several nodes: kept (as a hash) in the
    /// database, since the upgrade may arrive at another node.
    pub async fn issue_ticket(
        &self,
        user: UserId,
        session: DeviceSessionId,
    ) -> Result<String, StoreError> {
        let ticket = crate::routes::auth::random_token();
        if self.shared.cluster.is_some() {
            plenum_store::lease::issue_ticket(
                &self.shared.db,
                &ticket_hash(&ticket),
                user.as_uuid(),
                session.as_uuid(),
                TICKET_TTL,
            )
            .await?;
            return Ok(ticket);
        }
        if let Ok(mut tickets) = self.tickets.lock() {
            let now = Instant::now();
            tickets
                .issued
                .retain(|_, (_, _, at)| now.duration_since(*at) < TICKET_TTL);
            tickets.issued.insert(ticket.clone(), (user, session, now));
        }
        Ok(ticket)
    }

    /// Redeems a ticket once.
    pub async fn redeem_ticket(&self, ticket: &str) -> Option<(UserId, DeviceSessionId)> {
        if self.shared.cluster.is_some() {
            return match plenum_store::lease::redeem_ticket(&self.shared.db, &ticket_hash(ticket))
                .await
            {
                Ok(found) => found.map(|(user, session)| {
                    (UserId::from_uuid(user), DeviceSessionId::from_uuid(session))
                }),
                Err(err) => {
                    tracing::warn!(error = %err, "could not redeem a live ticket");
                    None
                }
            };
        }
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

    /// Closes the live connections of a revoked device session (on every node).
    pub fn kick_session(&self, session: DeviceSessionId) {
        self.kick_here(session);
        if self.shared.cluster.is_some() {
            cluster::announce_kick(&self.shared.db, session);
        }
    }

    /// Closes the revoked session's live connections on this node.
    pub(crate) fn kick_here(&self, session: DeviceSessionId) {
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
    /// Several nodes: once this returns, the other nodes know that `person` is connected here
    /// (their first connection to this node waits until that is written, at most two seconds).
    pub async fn subscribe_person(&self, person: PersonId) -> broadcast::Receiver<Arc<str>> {
        let (receiver, change) = {
            let Ok(mut personal) = self.personal.lock() else {
                return broadcast::channel(1).1;
            };
            let sender = personal
                .entry(person)
                .or_insert_with(|| broadcast::channel(PERSONAL_BUFFER).0);
            let first = sender.receiver_count() == 0;
            let receiver = sender.subscribe();
            // Under the lock: this node's changes for a person reach the cluster in order.
            let change = match &self.shared.cluster {
                Some(cluster) if first => Some(cluster.presence(person, true)),
                _ => None,
            };
            (receiver, change)
        };
        if let (Some(cluster), Some(change)) = (&self.shared.cluster, change) {
            cluster
                .presence_recorded(change, Duration::from_secs(2))
                .await;
        }
        receiver
    }

    /// Which of `persons` have a live connection now, to this node or (several nodes) another.
    /// When the other nodes' connections cannot be read, everyone counts as connected: a
    /// message too many is better than one lost.
    pub async fn connected_among(
        &self,
        persons: &[PersonId],
    ) -> std::collections::HashSet<PersonId> {
        let (mut connected, elsewhere): (std::collections::HashSet<PersonId>, Vec<PersonId>) = {
            let here = self.personal.lock();
            let mut connected = std::collections::HashSet::new();
            let mut elsewhere = Vec::new();
            for person in persons {
                let is_here = here
                    .as_ref()
                    .is_ok_and(|p| p.get(person).is_some_and(|s| s.receiver_count() > 0));
                if is_here {
                    connected.insert(*person);
                } else {
                    elsewhere.push(*person);
                }
            }
            (connected, elsewhere)
        };
        if let Some(cluster) = &self.shared.cluster
            && !elsewhere.is_empty()
        {
            match plenum_store::presence::connected_elsewhere(
                &self.shared.db,
                cluster.node,
                &elsewhere,
            )
            .await
            {
                Ok(found) => connected.extend(found),
                Err(err) => {
                    tracing::warn!(error = %err, "could not read who is connected to other nodes");
                    connected.extend(elsewhere);
                }
            }
        }
        connected
    }

    /// Whether `person` has a live connection now (see [`Self::connected_among`]).
    pub async fn is_connected(&self, person: PersonId) -> bool {
        !self.connected_among(&[person]).await.is_empty()
    }

    /// Sends a message to `person`'s live connections, if any (on every node).
    pub fn send_to_person(&self, person: PersonId, message: Arc<str>) {
        if let Some(cluster) = &self.shared.cluster {
            cluster::announce_personal(&self.shared.db, cluster, person, &message);
        }
        self.send_here(person, message);
    }

    /// Sends a message to `person`'s live connections on this node.
    pub(crate) fn send_here(&self, person: PersonId, message: Arc<str>) {
        if let Ok(mut personal) = self.personal.lock()
            && let Some(sender) = personal.get(&person)
            && sender.send(message).is_err()
        {
            // Nobody listens any more.
            personal.remove(&person);
        }
    }

    /// Forgets a person's channel once their last connection to this node is gone.
    pub fn forget_person(&self, person: PersonId) {
        if let Ok(mut personal) = self.personal.lock()
            && personal
                .get(&person)
                .is_none_or(|s| s.receiver_count() == 0)
        {
            personal.remove(&person);
            if let Some(cluster) = &self.shared.cluster {
                cluster.presence(person, false);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use plenum_domain::{Event, PollId};

    fn ballots(seq: u64, poll: PollId) -> Arc<Broadcast> {
        let event = Event::BallotsCast {
            poll,
            voters: vec![PersonId::new()],
            voted: seq as u32,
            eligible: 500,
            interim: None,
        };
        let payload = serde_json::to_string(&event).unwrap();
        Arc::new(Broadcast::new(seq, &payload, Some(&event), true))
    }

    fn closed(seq: u64) -> Arc<Broadcast> {
        Arc::new(Broadcast::new(
            seq,
            "{\"type\":\"meeting_paused\"}",
            None,
            true,
        ))
    }

    fn received(rx: &mut broadcast::Receiver<Arc<Broadcast>>) -> Vec<u64> {
        std::iter::from_fn(|| rx.try_recv().ok().map(|b| b.seq)).collect()
    }

    /// With many subscribers, running counts wait a moment and go out together; any other
    /// event sends them and itself at once; nothing is lost or reordered, and with few
    /// subscribers nothing waits.
    #[tokio::test]
    async fn ballots_events_are_paced_only_for_a_crowd_and_never_reordered() {
        let poll = PollId::new();
        let relay = Arc::new(Relay::new(MeetingId::new()));
        let mut few = relay.events.subscribe();
        relay.publish(ballots(1, poll));
        assert_eq!(received(&mut few), [1], "a handful of subscribers: at once");

        // 2,500 more: a count waits 100 ms, long enough to look before it goes.
        let mut crowd: Vec<_> = (0..2_500).map(|_| relay.events.subscribe()).collect();
        let pace = relay.pace();
        assert_eq!(pace, PACE_PER_SUBSCRIBER * 2_501);
        relay.publish(ballots(2, poll));
        relay.publish(ballots(3, poll));
        assert_eq!(
            received(&mut crowd[0]),
            Vec::<u64>::new(),
            "held for a moment"
        );
        assert_eq!(
            relay.last(),
            3,
            "accepted, so a catch-up does not read them again"
        );
        tokio::time::sleep(pace + Duration::from_millis(50)).await;
        assert_eq!(received(&mut crowd[0]), [2, 3]);

        // Another event does not wait, and what waited goes before it.
        relay.publish(ballots(4, poll));
        relay.publish(closed(5));
        assert_eq!(received(&mut crowd[1]), [2, 3, 4, 5]);
        // The scheduled flush finds nothing left; the next count waits again.
        tokio::time::sleep(pace + Duration::from_millis(50)).await;
        relay.publish(ballots(6, poll));
        assert_eq!(received(&mut crowd[2]), [2, 3, 4, 5]);
        tokio::time::sleep(pace + Duration::from_millis(50)).await;
        assert_eq!(received(&mut crowd[2]), [6]);
        assert_eq!(received(&mut few), [2, 3, 4, 5, 6]);
        // An event after a gap is not sent (the relay reads the gap from the table instead).
        relay.publish(closed(8));
        assert_eq!(received(&mut crowd[3]), [2, 3, 4, 5, 6]);
    }

    /// The longest a count waits, however many watch.
    #[test]
    fn pace_is_bounded() {
        let relay = Relay::new(MeetingId::new());
        let _crowd: Vec<_> = (0..20_000).map(|_| relay.events.subscribe()).collect();
        assert_eq!(relay.pace(), PACE_MAX);
    }
}
