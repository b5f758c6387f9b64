//! Several Plenum nodes on one PostgreSQL database.
//!
//! Every node serves anyone: HTTP requests and live connections may land on any node. Each
//! meeting's actor runs on exactly one node, the holder of the meeting's lease
//! (`plenum_store::lease`); a command that arrives at another node is forwarded to the holder
//! over HTTP (`POST /internal/v1/live/{meeting}/commands`, authenticated with a token derived
//! from the shared signing key) and answered as the holder answers it. Events reach the other
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

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use hmac::{Hmac, Mac};
use plenum_domain::{
    Command, CommandActor, CommandId, DeviceSessionId, MeetingId, PersonId, UserId,
};
use plenum_store::lease::{self, Heard};
use plenum_store::{DatabaseConnection, StoreError};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
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
        }
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

    /// Sends a command to the node that runs the meeting.
    pub(crate) async fn forward(
        &self,
        url: &str,
        meeting: MeetingId,
        command_id: CommandId,
        user: UserId,
        actor: CommandActor,
        command: &Command,
    ) -> Result<serde_json::Value, LiveFailure> {
        let body = Forwarded {
            command_id,
            user,
            actor,
            command: command.clone(),
        };
        let response = self
            .http
            .post(format!("{url}/internal/v1/live/{meeting}/commands"))
            .header(NODE_TOKEN_HEADER, &self.token)
            .json(&body)
            .send()
            .await
            .map_err(|err| {
                tracing::debug!(%url, error = %err, "could not forward a live command");
                LiveFailure::Stopped
            })?;
        if response.status() == StatusCode::MISDIRECTED_REQUEST {
            return Err(LiveFailure::NotLeader);
        }
        if !response.status().is_success() {
            tracing::warn!(%url, status = %response.status(), "a node refused a forwarded command");
            return Err(LiveFailure::Stopped);
        }
        match response.json::<ForwardAnswer>().await {
            Ok(ForwardAnswer::Ok(value)) => Ok(value),
            Ok(ForwardAnswer::Problem(problem)) => Err(LiveFailure::Remote(problem)),
            Err(_) => Err(LiveFailure::Stopped),
        }
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
    let renewing = hub.clone();
    let renew_cluster = cluster.clone();
    tokio::spawn(async move { renew(renewing, renew_cluster).await });
    let listening = cluster.clone();
    tokio::spawn(async move { listen(hub, listening).await });
    let deadline = Instant::now() + Duration::from_secs(5);
    while !cluster.listening.load(Ordering::Relaxed) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Renews this node's leases every second; stops the actors whose lease is gone.
async fn renew(hub: Arc<LiveHub>, cluster: Arc<Cluster>) {
    let mut tick = tokio::time::interval(RENEW_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = cluster.stopped() => return,
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
}
