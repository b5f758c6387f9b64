//! Several Plenum nodes on one PostgreSQL database.
//!
//! Every node serves anyone: HTTP requests and live connections may land on any node. Each
//! meeting's actor runs on exactly one node, the holder of the meeting's lease
//! (`plenum_store::lease`); a command that arrives at another node is forwarded to the holder
//! over HTTP (`POST /internal/v1/live/{meeting}/commands/batch`, authenticated with a token
//! derived from the shared signing key) and answered as the holder answers it. Commands that
//! queue up for the same node and meeting while a request is under way go together in the next
//! one, as the actor takes queued commands into one transaction. Events reach the other
//! nodes through PostgreSQL: the holder announces each committed batch with `NOTIFY`, and every
//! node that has subscribers of the meeting reads the new rows itself (`Relay::catch_up`), so a
//! notification never has to carry an event.
//!
//! When the holder dies or loses the database it stops renewing its lease; the next command
//! that arrives anywhere after the lease expired makes that node take the meeting over: it
//! reads the stored state, the applied command ids and the ballot boxes (a directory every node
//! shares) and goes on. Clients of the dead node reconnect to any node and resume from their
//! last `seq`. A node that lost its lease stops writing; should it still commit a batch it
//! computed before, the conditional `seq` update refuses it (the fence).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use hmac::{Hmac, Mac};
use plenum_domain::{
    Command, CommandActor, CommandId, DeviceSessionId, MeetingId, PersonId, UserId,
};
use plenum_store::lease::{self, Heard};
use plenum_store::presence;
use plenum_store::{DatabaseConnection, StoreError};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use super::{LiveFailure, LiveHub};
use crate::Problem;

/// How long a lease holds without renewal: the longest a meeting waits for a takeover after
/// its node died.
pub const LEASE_TTL: Duration = Duration::from_secs(3);

/// How often a node renews its leases.
pub const RENEW_EVERY: Duration = Duration::from_secs(1);

/// How long a forwarded command may take: a node that cannot commit within it (it lost the
/// database) is passed over, and its lease runs out meanwhile.
const FORWARD_TIMEOUT: Duration = Duration::from_secs(4);

/// The header that carries the node token.
pub const NODE_TOKEN_HEADER: &str = "x-plenum-node";

/// Notification payloads must stay below PostgreSQL's limit (8000 bytes).
const MAX_NOTIFY: usize = 7900;

/// The largest personal message sent to the other nodes (in parts of [`PART`] bytes): a note or
/// forum post (at most 1 MiB of Markdown, sent with its HTML) stays below it.
const MAX_PERSONAL: usize = 4 << 20;

/// The size of one part of a large personal message (leaving room for its header).
const PART: usize = 7700;

/// How long a node keeps the parts of a large personal message waiting for the rest.
const PARTS_KEPT: Duration = Duration::from_secs(30);

/// How many commands one forwarding request carries at most: as many as the actor takes into
/// one transaction.
pub const FORWARD_BATCH: usize = super::actor::MAX_BATCH;

/// How many bytes of commands one forwarding request carries at most (a single larger command
/// goes alone); the receiving route accepts [`FORWARD_BODY_LIMIT`].
const FORWARD_BYTES: usize = 1 << 20;

/// The body limit of the receiving route: a full batch, or one command of the largest size the
/// public API accepts (2 MB) with its envelope.
pub const FORWARD_BODY_LIMIT: usize = 4 << 20;

/// How many forwarding requests for one meeting to one node are under way at once. Enough that
/// a command never waits for a free request while the holder's actor is busy (a request takes
/// whatever queued up meanwhile; with four, the first single commands of a crowd held all four
/// and the rest waited for them), and still a bound.
const FORWARDS_IN_FLIGHT: usize = 64;

/// How long a request waits for more commands while other requests are under way.
const FORWARD_LINGER: Duration = Duration::from_millis(5);

/// How long an outbox waits for commands before it ends (a new one starts with the next).
const OUTBOX_IDLE: Duration = Duration::from_secs(10);

/// A command waiting to be forwarded: its serialized [`Forwarded`] and who waits for the answer.
struct Outgoing {
    body: String,
    reply: oneshot::Sender<Result<serde_json::Value, LiveFailure>>,
    ack: Option<super::DirectAck>,
}

/// The outboxes of this node: per holder's address and meeting, the queue its courier takes the
/// next request's commands from.
type Outboxes =
    Arc<std::sync::Mutex<HashMap<(String, MeetingId), mpsc::UnboundedSender<Outgoing>>>>;

/// This node's part in the cluster.
pub struct Cluster {
    /// New at every start of the process.
    pub node: Uuid,
    /// Where other nodes reach this one (`node_url`).
    pub url: String,
    token: String,
    http: reqwest::Client,
    /// Whether the notification connection is up.
    listening: AtomicBool,
    /// When the leases were last renewed.
    renewed: std::sync::Mutex<Option<Instant>>,
    /// Turns true when the node shuts down: its background work ends.
    stopping: tokio::sync::watch::Sender<bool>,
    /// Large personal messages from other nodes, by id, while their parts arrive.
    parts: std::sync::Mutex<std::collections::HashMap<String, Parts>>,
    /// Commands on their way to the nodes that run their meetings.
    outboxes: Outboxes,
    /// Persons whose first connection to this node opened (true) or whose last one closed
    /// (false) since `live_presence` was last written, and the number of the latest change.
    presence: std::sync::Mutex<(HashMap<PersonId, bool>, u64)>,
    /// Rung when `presence` has something to write.
    presence_changed: tokio::sync::Notify,
    /// The number of the latest change written to `live_presence`.
    presence_written: tokio::sync::watch::Sender<u64>,
}

/// The parts of one large personal message received so far.
struct Parts {
    person: PersonId,
    since: Instant,
    parts: Vec<Option<String>>,
}

/// A command forwarded from one node to the node that runs the meeting.
#[derive(Debug, Serialize, Deserialize)]
pub struct Forwarded {
    pub command_id: CommandId,
    pub user: UserId,
    pub actor: CommandActor,
    pub command: Command,
}

/// The answer to a forwarded command.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ForwardAnswer {
    Ok(serde_json::Value),
    Problem(Box<Problem>),
}

/// The answer to one command of a forwarded batch: the status the single request would have
/// had (421: this node does not run the meeting) and the answer.
#[derive(Debug, Serialize, Deserialize)]
pub struct BatchAnswer {
    pub status: u16,
    pub answer: ForwardAnswer,
}

impl BatchAnswer {
    fn outcome(self) -> Result<serde_json::Value, LiveFailure> {
        if self.status == StatusCode::MISDIRECTED_REQUEST.as_u16() {
            return Err(LiveFailure::NotLeader);
        }
        match self.answer {
            ForwardAnswer::Ok(value) => Ok(value),
            ForwardAnswer::Problem(problem) => Err(LiveFailure::Remote(problem)),
        }
    }
}

/// The node token: every node derives the same one from the shared signing key.
fn node_token(signing_key: &[u8]) -> String {
    // HMAC takes keys of any length; an empty token is never accepted.
    let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(signing_key) else {
        return String::new();
    };
    mac.update(b"plenum node forwarding v1");
    hex::encode(mac.finalize().into_bytes())
}

/// What `/readyz` says about the cluster.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ClusterHealth {
    /// This node's id (new at every start).
    pub node: Uuid,
    /// Where other nodes forward commands to this one.
    pub url: String,
    /// Whether the PostgreSQL notification connection is up.
    pub notifications: bool,
    /// Whether the leases were renewed within their lifetime.
    pub leases_renewed: bool,
    /// How many meetings' live sessions this node runs.
    pub leases_held: usize,
}

impl Cluster {
    pub fn new(url: String, signing_key: &[u8]) -> Self {
        Self {
            node: Uuid::new_v4(),
            url: url.trim_end_matches('/').to_owned(),
            token: node_token(signing_key),
            http: reqwest::Client::builder()
                .timeout(FORWARD_TIMEOUT)
                .connect_timeout(Duration::from_secs(2))
                .build()
                .unwrap_or_default(),
            listening: AtomicBool::new(false),
            renewed: std::sync::Mutex::new(None),
            stopping: tokio::sync::watch::channel(false).0,
            parts: std::sync::Mutex::new(std::collections::HashMap::new()),
            outboxes: Arc::default(),
            presence: std::sync::Mutex::new((HashMap::new(), 0)),
            presence_changed: tokio::sync::Notify::new(),
            presence_written: tokio::sync::watch::channel(0).0,
        }
    }

    /// `person` now has a connection to this node (`true`) or no longer any (`false`); written
    /// to `live_presence` shortly after, together with the other changes. Returns the change's
    /// number (see [`Self::presence_recorded`]).
    pub(crate) fn presence(&self, person: PersonId, connected: bool) -> u64 {
        let number = match self.presence.lock() {
            Ok(mut presence) => {
                presence.0.insert(person, connected);
                presence.1 += 1;
                presence.1
            }
            Err(_) => 0,
        };
        self.presence_changed.notify_one();
        number
    }

    /// Waits until change `number` is written (at most `limit`: the database may be away).
    pub(crate) async fn presence_recorded(&self, number: u64, limit: Duration) {
        let mut written = self.presence_written.subscribe();
        let _ = tokio::time::timeout(limit, written.wait_for(|w| *w >= number)).await;
    }

    /// Ends the background work (at shutdown).
    pub(crate) fn stop(&self) {
        self.stopping.send_replace(true);
    }

    /// Resolves when the node shuts down.
    async fn stopped(&self) {
        let mut rx = self.stopping.subscribe();
        let _ = rx.wait_for(|stopping| *stopping).await;
    }

    /// Whether `presented` is the node token (constant time).
    pub fn accepts(&self, presented: &str) -> bool {
        let (a, b) = (self.token.as_bytes(), presented.as_bytes());
        !a.is_empty()
            && a.len() == b.len()
            && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }

    pub(crate) async fn acquire(
        &self,
        db: &DatabaseConnection,
        meeting: MeetingId,
    ) -> Result<Option<i64>, StoreError> {
        lease::acquire(db, meeting, self.node, &self.url, LEASE_TTL).await
    }

    /// Sends a command to the node that runs the meeting: into the outbox for that node and
    /// meeting, whose courier sends it with whatever else queued up meanwhile.
    pub(crate) async fn forward(
        &self,
        url: &str,
        meeting: MeetingId,
        command: &Forwarded,
        ack: Option<&super::DirectAck>,
    ) -> Result<serde_json::Value, LiveFailure> {
        let body = serde_json::to_string(command).map_err(|_| LiveFailure::Stopped)?;
        let (reply, answered) = oneshot::channel();
        {
            let Ok(mut outboxes) = self.outboxes.lock() else {
                return Err(LiveFailure::Stopped);
            };
            let key = (url.to_owned(), meeting);
            let outbox = outboxes.entry(key.clone()).or_insert_with(|| {
                let (tx, rx) = mpsc::unbounded_channel();
                let courier = Arc::new(Courier {
                    http: self.http.clone(),
                    token: self.token.clone(),
                    url: url.to_owned(),
                    meeting,
                });
                tokio::spawn(courier.deliver(rx, self.outboxes.clone(), key.clone()));
                tx
            });
            // An outbox leaves the map (under this lock) before its courier stops receiving,
            // so this send always reaches a courier.
            let ack = ack.cloned();
            if outbox.send(Outgoing { body, reply, ack }).is_err() {
                outboxes.remove(&key);
                return Err(LiveFailure::Stopped);
            }
        }
        answered.await.map_err(|_| LiveFailure::Stopped)?
    }

    pub fn health(&self, held: usize) -> ClusterHealth {
        let renewed = self
            .renewed
            .lock()
            .is_ok_and(|r| r.is_some_and(|at| at.elapsed() < LEASE_TTL));
        ClusterHealth {
            node: self.node,
            url: self.url.clone(),
            notifications: self.listening.load(Ordering::Relaxed),
            leases_renewed: renewed,
            leases_held: held,
        }
    }
}

/// Starts the node's background work, renewing leases and listening to notifications, and
/// waits (up to 5 seconds) until the node hears the others, so that it is ready when it serves.
pub async fn start(hub: Arc<LiveHub>) {
    let Some(cluster) = hub.cluster().cloned() else {
        return;
    };
    if let Err(err) = presence::node_alive(&hub.shared.db, cluster.node, LEASE_TTL).await {
        tracing::warn!(error = %err, "could not announce this node");
    }
    let renewing = hub.clone();
    let renew_cluster = cluster.clone();
    tokio::spawn(async move { renew(renewing, renew_cluster).await });
    let (db, presence_cluster) = (hub.shared.db.clone(), cluster.clone());
    tokio::spawn(async move { write_presence(db, presence_cluster).await });
    let listening = cluster.clone();
    tokio::spawn(async move { listen(hub, listening).await });
    let deadline = Instant::now() + Duration::from_secs(5);
    while !cluster.listening.load(Ordering::Relaxed) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// How long connection changes gather before they are written to `live_presence` together.
const PRESENCE_GATHER: Duration = Duration::from_millis(50);

/// Writes this node's connection changes to `live_presence`, in batches; what could not be
/// written is tried again (unless it changed again meanwhile).
async fn write_presence(db: DatabaseConnection, cluster: Arc<Cluster>) {
    loop {
        tokio::select! {
            _ = cluster.presence_changed.notified() => {}
            _ = cluster.stopped() => return,
        }
        tokio::time::sleep(PRESENCE_GATHER).await;
        let (changes, number) = match cluster.presence.lock() {
            Ok(mut presence) => (std::mem::take(&mut presence.0), presence.1),
            Err(_) => return,
        };
        let (joined, left): (Vec<_>, Vec<_>) = changes.iter().partition(|(_, c)| **c);
        let joined: Vec<PersonId> = joined.into_iter().map(|(p, _)| *p).collect();
        let left: Vec<PersonId> = left.into_iter().map(|(p, _)| *p).collect();
        match presence::record(&db, cluster.node, &joined, &left).await {
            Ok(()) => {
                cluster.presence_written.send_replace(number);
            }
            Err(err) => {
                tracing::warn!(error = %err, "could not record who is connected to this node");
                if let Ok(mut presence) = cluster.presence.lock() {
                    for (person, connected) in changes {
                        presence.0.entry(person).or_insert(connected);
                    }
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
                cluster.presence_changed.notify_one();
            }
        }
    }
}

/// How many renewals pass between two prunings of dead nodes' presence.
const PRUNE_PRESENCE_EVERY: u32 = 60;

/// Renews this node's leases every second; stops the actors whose lease is gone. Says that
/// the node is alive (its `live_presence` counts while it is).
async fn renew(hub: Arc<LiveHub>, cluster: Arc<Cluster>) {
    let mut tick = tokio::time::interval(RENEW_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut ticks = 0u32;
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = cluster.stopped() => return,
        }
        ticks = ticks.wrapping_add(1);
        if let Err(err) = presence::node_alive(&hub.shared.db, cluster.node, LEASE_TTL).await {
            tracing::warn!(error = %err, "could not say that this node is alive");
        }
        if ticks.is_multiple_of(PRUNE_PRESENCE_EVERY)
            && let Err(err) = presence::prune(&hub.shared.db).await
        {
            tracing::warn!(error = %err, "could not prune dead nodes' presence");
        }
        let asked = Instant::now();
        match lease::renew(&hub.shared.db, cluster.node, LEASE_TTL).await {
            Ok(held) => {
                if let Ok(mut renewed) = cluster.renewed.lock() {
                    *renewed = Some(asked);
                }
                for handle in hub.handles().await {
                    if held.contains(&handle.meeting) {
                        handle.lease.extend(asked + LEASE_TTL);
                    } else {
                        // Unless taken while this renewal was on its way (the next one covers
                        // it), the lease is another node's now.
                        handle.stop_unless_renewed_after(&cluster, asked).await;
                    }
                }
            }
            Err(err) => {
                tracing::warn!(error = %err, "could not renew the live leases");
                // The leases run out on their own (`LeaseClock`): the actors stop writing then.
                for handle in hub.handles().await {
                    if !handle.lease.holds() && handle.runs_here().await {
                        handle.stop_local().await;
                    }
                }
            }
        }
    }
}

/// Listens to the cluster's notifications; after a lost connection, every meeting catches up.
async fn listen(hub: Arc<LiveHub>, cluster: Arc<Cluster>) {
    let channels = [
        lease::LIVE_CHANNEL,
        lease::KICK_CHANNEL,
        lease::PERSONAL_CHANNEL,
    ];
    loop {
        if *cluster.stopping.borrow() {
            return;
        }
        let mut listener = match lease::Listener::connect(&hub.shared.db, &channels).await {
            Ok(listener) => listener,
            Err(err) => {
                cluster.listening.store(false, Ordering::Relaxed);
                tracing::warn!(error = %err, "cannot listen to the cluster's notifications");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        cluster.listening.store(true, Ordering::Relaxed);
        // Whatever was announced while nobody listened.
        for handle in hub.handles().await {
            handle.relay.wake.notify_one();
        }
        loop {
            let received = tokio::select! {
                received = listener.recv() => received,
                _ = cluster.stopped() => return,
            };
            match received {
                Ok(Heard::Notification { channel, payload }) => {
                    heard(&hub, &cluster, &channel, &payload).await;
                }
                Ok(Heard::Lost) => {
                    cluster.listening.store(false, Ordering::Relaxed);
                    tracing::warn!("the cluster's notification connection was lost");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    break;
                }
                Err(err) => {
                    cluster.listening.store(false, Ordering::Relaxed);
                    tracing::warn!(error = %err, "the cluster's notification connection failed");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    break;
                }
            }
        }
    }
}

async fn heard(hub: &LiveHub, cluster: &Cluster, channel: &str, payload: &str) {
    match channel {
        lease::LIVE_CHANNEL => {
            let Some((meeting, seq)) = payload.split_once(' ') else {
                return;
            };
            let (Ok(meeting), Ok(seq)) = (meeting.parse::<Uuid>(), seq.parse::<u64>()) else {
                return;
            };
            if let Some(handle) = hub.handle_of(MeetingId::from_uuid(meeting)).await
                && handle.relay.last() < seq
            {
                handle.relay.wake.notify_one();
            }
        }
        lease::KICK_CHANNEL => {
            if let Ok(session) = payload.parse::<Uuid>() {
                hub.kick_here(DeviceSessionId::from_uuid(session));
            }
        }
        lease::PERSONAL_CHANNEL => {
            let mut parts = payload.splitn(3, ' ');
            let (Some(origin), Some(person), Some(message)) =
                (parts.next(), parts.next(), parts.next())
            else {
                return;
            };
            if origin == cluster.node.to_string() {
                return;
            }
            let Ok(person) = person.parse::<Uuid>() else {
                return;
            };
            let person = PersonId::from_uuid(person);
            match message.strip_prefix('~') {
                // One part of a large message: `~{id} {index}/{count} {text}`.
                Some(part) => {
                    if let Some(whole) = cluster.join_part(person, part) {
                        hub.send_here(person, Arc::from(whole.as_str()));
                    }
                }
                None => hub.send_here(person, Arc::from(message)),
            }
        }
        _ => {}
    }
}

/// Tells the other nodes to close a revoked session's connections.
pub(crate) fn announce_kick(db: &DatabaseConnection, session: DeviceSessionId) {
    let db = db.clone();
    tokio::spawn(async move {
        if let Err(err) =
            lease::notify(&db, lease::KICK_CHANNEL, &session.as_uuid().to_string()).await
        {
            tracing::warn!(error = %err, "could not tell the other nodes about a revoked session");
        }
    });
}

impl Cluster {
    /// Adds one part of a large personal message (`{id} {index}/{count} {text}`); the whole
    /// message once every part is here. Parts of messages that stay incomplete are dropped after
    /// [`PARTS_KEPT`].
    fn join_part(&self, person: PersonId, part: &str) -> Option<String> {
        let mut fields = part.splitn(3, ' ');
        let (id, position, text) = (fields.next()?, fields.next()?, fields.next()?);
        let (index, count) = position.split_once('/')?;
        let (index, count) = (index.parse::<usize>().ok()?, count.parse::<usize>().ok()?);
        if count == 0 || index >= count || count > MAX_PERSONAL / PART + 1 {
            return None;
        }
        let mut all = self.parts.lock().ok()?;
        all.retain(|_, p| p.since.elapsed() < PARTS_KEPT);
        let entry = all.entry(id.to_owned()).or_insert_with(|| Parts {
            person,
            since: Instant::now(),
            parts: vec![None; count],
        });
        if entry.person != person || entry.parts.len() != count {
            return None;
        }
        entry.parts[index] = Some(text.to_owned());
        if entry.parts.iter().any(Option::is_none) {
            return None;
        }
        let parts = all.remove(id)?;
        Some(parts.parts.into_iter().flatten().collect())
    }
}

/// The notification payloads of a personal message: one, or for a message too large for one
/// notification, parts of at most [`PART`] bytes (split at character boundaries) that the
/// receiving nodes put together again.
fn personal_payloads(node: Uuid, person: PersonId, message: &str) -> Vec<String> {
    let head = format!("{node} {}", person.as_uuid());
    if head.len() + 1 + message.len() <= MAX_NOTIFY {
        return vec![format!("{head} {message}")];
    }
    let mut parts = Vec::new();
    let mut rest = message;
    while !rest.is_empty() {
        let mut end = rest.len().min(PART);
        while !rest.is_char_boundary(end) {
            end -= 1;
        }
        parts.push(&rest[..end]);
        rest = &rest[end..];
    }
    let id = Uuid::new_v4();
    let count = parts.len();
    parts
        .into_iter()
        .enumerate()
        .map(|(index, text)| format!("{head} ~{id} {index}/{count} {text}"))
        .collect()
}

/// Sends a personal message to the person's connections on the other nodes.
pub(crate) fn announce_personal(
    db: &DatabaseConnection,
    cluster: &Cluster,
    person: PersonId,
    message: &str,
) {
    if message.len() > MAX_PERSONAL {
        tracing::warn!(
            %person,
            bytes = message.len(),
            "a personal message is too large for the other nodes; only this node's connections get it"
        );
        return;
    }
    let payloads = personal_payloads(cluster.node, person, message);
    let db = db.clone();
    tokio::spawn(async move {
        if let Err(err) = lease::notify_all(&db, lease::PERSONAL_CHANNEL, &payloads).await {
            tracing::warn!(error = %err, "could not send a personal message to the other nodes");
        }
    });
}

/// Carries one meeting's commands to the node that runs it.
struct Courier {
    http: reqwest::Client,
    token: String,
    url: String,
    meeting: MeetingId,
}

impl Courier {
    /// Takes the commands queued in `rx` and sends them in batches, up to
    /// [`FORWARDS_IN_FLIGHT`] requests at a time; ends after [`OUTBOX_IDLE`] without commands.
    async fn deliver(
        self: Arc<Self>,
        mut rx: mpsc::UnboundedReceiver<Outgoing>,
        outboxes: Outboxes,
        key: (String, MeetingId),
    ) {
        let in_flight = Arc::new(tokio::sync::Semaphore::new(FORWARDS_IN_FLIGHT));
        loop {
            let first = match tokio::time::timeout(OUTBOX_IDLE, rx.recv()).await {
                Ok(Some(first)) => first,
                Ok(None) => return,
                Err(_) => {
                    let Ok(mut outboxes) = outboxes.lock() else {
                        return;
                    };
                    if rx.is_empty() {
                        outboxes.remove(&key);
                        return;
                    }
                    continue;
                }
            };
            // While all requests are under way, more commands queue up for the next one.
            let Ok(permit) = in_flight.clone().acquire_owned().await else {
                return;
            };
            let mut bytes = first.body.len();
            let mut batch = vec![first];
            // With other requests under way the holder's actor is busy with them anyway: a few
            // milliseconds spent collecting what else arrives cost nothing and save requests.
            // (Without this, a crowd's first commands went one request each, took every
            // permit, and the rest of the crowd waited for the holder's whole batch.)
            let linger = (in_flight.available_permits() + 1 < FORWARDS_IN_FLIGHT)
                .then(|| tokio::time::Instant::now() + FORWARD_LINGER);
            while batch.len() < FORWARD_BATCH && bytes < FORWARD_BYTES {
                let next = match rx.try_recv() {
                    Ok(next) => next,
                    Err(_) => match linger {
                        Some(until) => match tokio::time::timeout_at(until, rx.recv()).await {
                            Ok(Some(next)) => next,
                            _ => break,
                        },
                        None => break,
                    },
                };
                bytes += next.body.len() + 1;
                batch.push(next);
            }
            let courier = self.clone();
            tokio::spawn(async move {
                courier.send(batch).await;
                drop(permit);
            });
        }
    }

    /// Sends one batch and hands each command its answer.
    async fn send(&self, batch: Vec<Outgoing>) {
        let outcomes = self.post(&batch).await;
        tracing::debug!(
            target: "plenum::live::forward",
            url = %self.url,
            meeting = %self.meeting,
            size = batch.len(),
            ok = outcomes.is_ok(),
            "forwarded a batch of live commands"
        );
        match outcomes {
            Ok(outcomes) => {
                for (outgoing, outcome) in batch.into_iter().zip(outcomes) {
                    if let (Ok(result), Some(ack)) = (&outcome, &outgoing.ack) {
                        ack.send(result);
                    }
                    let _ = outgoing.reply.send(outcome);
                }
            }
            Err(failure) => {
                for outgoing in batch {
                    let _ = outgoing.reply.send(Err(match failure {
                        LiveFailure::NotLeader => LiveFailure::NotLeader,
                        _ => LiveFailure::Stopped,
                    }));
                }
            }
        }
    }

    /// The answers to a batch, in order.
    async fn post(
        &self,
        batch: &[Outgoing],
    ) -> Result<Vec<Result<serde_json::Value, LiveFailure>>, LiveFailure> {
        let mut body =
            String::with_capacity(batch.iter().map(|o| o.body.len() + 1).sum::<usize>() + 1);
        body.push('[');
        for (i, outgoing) in batch.iter().enumerate() {
            if i > 0 {
                body.push(',');
            }
            body.push_str(&outgoing.body);
        }
        body.push(']');
        let response = self
            .request(
                &format!(
                    "{}/internal/v1/live/{}/commands/batch",
                    self.url, self.meeting
                ),
                body,
            )
            .await?;
        if response.status() == StatusCode::NOT_FOUND {
            // A node of an older version (during an upgrade): one request per command.
            let each = batch
                .iter()
                .map(|outgoing| self.post_one(outgoing.body.clone()));
            return Ok(futures_util::future::join_all(each).await);
        }
        let answers: Vec<BatchAnswer> = Self::accepted(response)?.json().await.map_err(|err| {
            tracing::warn!(url = %self.url, error = %err, "a node's answer to forwarded commands is not readable");
            LiveFailure::Stopped
        })?;
        if answers.len() != batch.len() {
            tracing::warn!(url = %self.url, sent = batch.len(), answered = answers.len(), "a node answered another number of forwarded commands");
            return Err(LiveFailure::Stopped);
        }
        Ok(answers.into_iter().map(BatchAnswer::outcome).collect())
    }

    /// One command through the single-command endpoint.
    async fn post_one(&self, body: String) -> Result<serde_json::Value, LiveFailure> {
        let response = self
            .request(
                &format!("{}/internal/v1/live/{}/commands", self.url, self.meeting),
                body,
            )
            .await?;
        match Self::accepted(response)?.json::<ForwardAnswer>().await {
            Ok(ForwardAnswer::Ok(value)) => Ok(value),
            Ok(ForwardAnswer::Problem(problem)) => Err(LiveFailure::Remote(problem)),
            Err(_) => Err(LiveFailure::Stopped),
        }
    }

    async fn request(&self, url: &str, body: String) -> Result<reqwest::Response, LiveFailure> {
        self.http
            .post(url)
            .header(NODE_TOKEN_HEADER, &self.token)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await
            .map_err(|err| {
                tracing::debug!(%url, error = %err, "could not forward live commands");
                LiveFailure::Stopped
            })
    }

    /// The response if the node took the commands (421: it does not run the meeting).
    fn accepted(response: reqwest::Response) -> Result<reqwest::Response, LiveFailure> {
        if response.status() == StatusCode::MISDIRECTED_REQUEST {
            return Err(LiveFailure::NotLeader);
        }
        if !response.status().is_success() {
            tracing::warn!(url = %response.url(), status = %response.status(), "a node refused forwarded commands");
            return Err(LiveFailure::Stopped);
        }
        Ok(response)
    }
}

/// The answer of the forwarding endpoint.
pub fn answer(outcome: Result<serde_json::Value, LiveFailure>) -> (StatusCode, ForwardAnswer) {
    match outcome {
        Ok(value) => (StatusCode::OK, ForwardAnswer::Ok(value)),
        Err(LiveFailure::NotLeader) => (
            StatusCode::MISDIRECTED_REQUEST,
            ForwardAnswer::Problem(Box::new(crate::routes::live::live_problem(
                &LiveFailure::NotLeader,
            ))),
        ),
        Err(failure) => (
            StatusCode::OK,
            ForwardAnswer::Problem(Box::new(crate::routes::live::live_problem(&failure))),
        ),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// What a receiving node does with the payloads: the message of each, put together.
    fn receive(cluster: &Cluster, payloads: &[String]) -> Vec<(PersonId, String)> {
        let mut got = Vec::new();
        for payload in payloads {
            let mut fields = payload.splitn(3, ' ');
            let (_, person, message) = (
                fields.next().unwrap(),
                fields.next().unwrap(),
                fields.next().unwrap(),
            );
            let person = PersonId::from_uuid(person.parse().unwrap());
            match message.strip_prefix('~') {
                Some(part) => got.extend(cluster.join_part(person, part).map(|m| (person, m))),
                None => got.push((person, message.to_owned())),
            }
        }
        got
    }

    #[test]
    fn a_large_personal_message_reaches_the_other_nodes_in_parts_and_whole() {
        let sender = Uuid::new_v4();
        let receiver = Cluster::new("http://127.0.0.1:1".into(), b"key");
        let anna = PersonId::new();

        let small = r#"{"type":"unread","total":3}"#;
        let payloads = personal_payloads(sender, anna, small);
        assert_eq!(payloads.len(), 1, "a small message is one notification");
        assert_eq!(
            receive(&receiver, &payloads),
            vec![(anna, small.to_owned())]
        );

        // A shared note of 40,000 characters, with umlauts across every part boundary.
        let text: String = "Änderungsantrag für den Haushalt – ".repeat(1200);
        let large = serde_json::json!({"type": "note_shared", "note": {"text": text}}).to_string();
        let mut payloads = personal_payloads(sender, anna, &large);
        assert!(payloads.len() > 5, "{} parts", payloads.len());
        assert!(
            payloads.iter().all(|p| p.len() <= MAX_NOTIFY),
            "each fits one notification"
        );
        // In any order (a part sent twice is harmless too).
        payloads.reverse();
        let mut again = payloads.clone();
        assert_eq!(receive(&receiver, &payloads), vec![(anna, large.clone())]);
        assert!(
            receiver.parts.lock().unwrap().is_empty(),
            "nothing kept once whole"
        );

        // A part claiming another person, or a forged position, is ignored.
        let bruno = PersonId::new();
        let first = again.remove(0);
        let forged = first.replacen(&anna.as_uuid().to_string(), &bruno.as_uuid().to_string(), 1);
        assert!(receive(&receiver, &[first]).is_empty());
        assert!(
            receive(&receiver, &[forged]).is_empty(),
            "not joined with anna's parts"
        );
        let head = format!("{sender} {}", anna.as_uuid());
        assert!(receive(&receiver, &[format!("{head} ~x 5/3 text")]).is_empty());
        assert!(receive(&receiver, &[format!("{head} ~x 0/0 text")]).is_empty());
        assert!(receive(&receiver, &[format!("{head} ~garbage")]).is_empty());
    }

    /// A holder that answers forwarded batches after `delay`, recording each request's size:
    /// `check_out` is refused with 421 (as a node that lost the meeting meanwhile answers it),
    /// everything else acknowledged with its command id. Meetings in `not_here` get 421 whole.
    async fn holder(
        delay: Duration,
        not_here: MeetingId,
    ) -> (String, Arc<std::sync::Mutex<Vec<usize>>>) {
        use axum::Json;
        use axum::extract::Path;
        use axum::response::IntoResponse;
        let sizes = Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = sizes.clone();
        let app = axum::Router::new().route(
            "/internal/v1/live/{meeting}/commands/batch",
            axum::routing::post(
                move |Path(meeting): Path<Uuid>,
                      headers: axum::http::HeaderMap,
                      Json(jobs): Json<Vec<Forwarded>>| {
                    let seen = seen.clone();
                    async move {
                        assert!(headers.contains_key(NODE_TOKEN_HEADER));
                        seen.lock().unwrap().push(jobs.len());
                        tokio::time::sleep(delay).await;
                        if meeting == not_here.as_uuid() {
                            let (status, answer) = answer(Err(LiveFailure::NotLeader));
                            return (status, Json(answer)).into_response();
                        }
                        let answers: Vec<BatchAnswer> = jobs
                            .iter()
                            .map(|job| {
                                let outcome = match job.command {
                                    Command::CheckOut => Err(LiveFailure::NotLeader),
                                    _ => Ok(serde_json::json!({"command_id": job.command_id})),
                                };
                                let (status, answer) = answer(outcome);
                                BatchAnswer {
                                    status: status.as_u16(),
                                    answer,
                                }
                            })
                            .collect();
                        Json(answers).into_response()
                    }
                },
            ),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        (url, sizes)
    }

    #[tokio::test]
    async fn commands_queued_together_reach_the_holder_in_one_request_each_with_its_answer() {
        let not_here = MeetingId::new();
        let (url, sizes) = holder(Duration::from_millis(50), not_here).await;
        let cluster = Cluster::new("http://127.0.0.1:1".into(), b"key");
        let meeting = MeetingId::new();
        let actor = CommandActor {
            person: Some(PersonId::new()),
            chair: false,
        };
        let ids: Vec<CommandId> = (0..300).map(|_| CommandId::new()).collect();
        let check_in = Command::CheckIn { remote: false };
        let answers = futures_util::future::join_all(ids.iter().enumerate().map(|(i, id)| {
            let command = if i == 7 {
                &Command::CheckOut
            } else {
                &check_in
            };
            let forwarded = Forwarded {
                command_id: *id,
                user: UserId::new(),
                actor,
                command: command.clone(),
            };
            let (cluster, url) = (&cluster, &url);
            async move { cluster.forward(url, meeting, &forwarded, None).await }
        }))
        .await;
        for (i, (id, answer)) in ids.iter().zip(answers).enumerate() {
            if i == 7 {
                assert!(matches!(answer, Err(LiveFailure::NotLeader)), "{answer:?}");
            } else {
                assert_eq!(
                    answer.unwrap()["command_id"],
                    id.as_uuid().to_string(),
                    "command {i}"
                );
            }
        }
        assert_eq!(
            *sizes.lock().unwrap(),
            vec![300],
            "300 commands queued at once go in one request"
        );

        // A node that does not run the meeting: every command learns so.
        let answers = futures_util::future::join_all((0..3).map(|_| {
            let forwarded = Forwarded {
                command_id: CommandId::new(),
                user: UserId::new(),
                actor,
                command: check_in.clone(),
            };
            let (cluster, url) = (&cluster, &url);
            async move { cluster.forward(url, not_here, &forwarded, None).await }
        }))
        .await;
        assert!(
            answers
                .iter()
                .all(|a| matches!(a, Err(LiveFailure::NotLeader))),
            "{answers:?}"
        );
        assert_eq!(*sizes.lock().unwrap(), vec![300, 3]);

        // Nobody answers at all: the commands fail (and the caller retries), none hangs.
        let gone = cluster
            .forward(
                "http://127.0.0.1:1",
                meeting,
                &Forwarded {
                    command_id: CommandId::new(),
                    user: UserId::new(),
                    actor,
                    command: check_in.clone(),
                },
                None,
            )
            .await;
        assert!(matches!(gone, Err(LiveFailure::Stopped)), "{gone:?}");
    }
}
