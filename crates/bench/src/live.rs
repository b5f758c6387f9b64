//! A benchmark's live client: one WebSocket, read by a task of its own so that the server never
//! sees a slow client, with the interesting messages (everything but ordinary events) forwarded
//! with the instant they arrived.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use uuid::Uuid;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// How long any single wait may take before the benchmark gives up.
pub const WAIT: Duration = Duration::from_secs(60);

/// A message as the reader task saw it.
#[derive(Debug)]
pub struct Incoming {
    pub at: Instant,
    pub message: Value,
}

/// One live connection.
pub struct LiveConn {
    sink: SplitSink<Socket, Message>,
    rx: mpsc::UnboundedReceiver<Incoming>,
    inbox: Vec<Incoming>,
}

/// Whether the reader forwards a text message (acks, errors, snapshots, closes and the poll
/// events the benchmark waits for); other events are only drained.
fn interesting(text: &str) -> bool {
    !text.starts_with("{\"type\":\"event\"")
        || text.contains("\"poll_opened\"")
        || text.contains("\"poll_closed\"")
        || text.contains("\"current_item_changed\"")
}

/// The parts of a `poll_closed` message the benchmark checks (type, seq, poll, tally, voted).
/// A named poll's result lists every voter's choice (about 30 KB at 500 voters); building a
/// full `Value` of it on each of 1,001 clients would measure the load generator's allocator,
/// which shares the server's two cores, more than the server. A tablet parses its own copy.
fn slim_poll_closed(text: &str) -> Option<Value> {
    #[derive(serde::Deserialize)]
    struct Message {
        #[serde(rename = "type")]
        kind: String,
        seq: Option<u64>,
        event: Event,
    }
    #[derive(serde::Deserialize)]
    struct Event {
        #[serde(rename = "type")]
        kind: String,
        poll: Option<String>,
        result: Option<PollResult>,
    }
    #[derive(serde::Deserialize)]
    struct PollResult {
        tally: Option<Value>,
        voted: Option<u64>,
    }
    let m: Message = serde_json::from_str(text).ok()?;
    let result = m
        .event
        .result
        .map(|r| json!({"tally": r.tally, "voted": r.voted}));
    Some(json!({
        "type": m.kind,
        "seq": m.seq,
        "event": {"type": m.event.kind, "poll": m.event.poll, "result": result},
    }))
}

/// The type and seq of a snapshot message.
fn slim_snapshot(text: &str) -> Option<Value> {
    #[derive(serde::Deserialize)]
    struct Message {
        #[serde(rename = "type")]
        kind: String,
        seq: Option<u64>,
    }
    let m: Message = serde_json::from_str(text).ok()?;
    Some(json!({"type": m.kind, "seq": m.seq}))
}

impl LiveConn {
    /// Opens the live WebSocket of `meeting`, with a ticket for `token` or anonymously.
    pub async fn connect(
        http: &reqwest::Client,
        base: &str,
        token: Option<&str>,
        meeting: Uuid,
    ) -> Result<LiveConn> {
        let mut url = format!("ws{}/api/v1/live?meeting={meeting}", &base[4..]);
        if let Some(token) = token {
            let ticket: Value = http
                .post(format!("{base}/api/v1/live/ticket"))
                .bearer_auth(token)
                .send()
                .await?
                .error_for_status()?
                .json()
                .await?;
            let ticket = ticket["ticket"]
                .as_str()
                .ok_or_else(|| anyhow!("no ticket in {ticket}"))?;
            url.push_str(&format!("&ticket={ticket}"));
        }
        // Browsers disable Nagle's algorithm on their sockets; so does the benchmark's client.
        // Small buffers (they grow when needed), as the server's: 10,000 clients with the
        // 128 KiB defaults would hold over a gigabyte in the load generator alone.
        let config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
            .read_buffer_size(4 * 1024)
            .write_buffer_size(4 * 1024);
        let (socket, _) = tokio_tungstenite::connect_async_with_config(url, Some(config), true)
            .await
            .context("WebSocket upgrade")?;
        let (sink, mut stream) = socket.split();
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Some(next) = stream.next().await {
                let at = Instant::now();
                let message = match next {
                    Ok(Message::Text(text)) => {
                        if !interesting(text.as_str()) {
                            continue;
                        }
                        let parsed = if text.starts_with("{\"type\":\"event\"")
                            && text.contains("\"poll_closed\"")
                        {
                            slim_poll_closed(text.as_str())
                        } else if text.starts_with("{\"type\":\"snapshot\"") {
                            // A convention's snapshot lists thousands of members; the benchmark
                            // needs only its arrival and seq (see `slim_poll_closed`).
                            slim_snapshot(text.as_str())
                        } else {
                            serde_json::from_str(text.as_str()).ok()
                        };
                        match parsed {
                            Some(value) => value,
                            None => continue,
                        }
                    }
                    Ok(Message::Close(frame)) => {
                        let (code, reason) = frame
                            .map(|f| (u16::from(f.code), f.reason.to_string()))
                            .unwrap_or((1005, String::new()));
                        json!({"type": "closed", "code": code, "reason": reason})
                    }
                    Ok(_) => continue,
                    Err(err) => json!({"type": "closed", "code": 0, "reason": err.to_string()}),
                };
                let closed = message["type"] == "closed";
                if tx.send(Incoming { at, message }).is_err() || closed {
                    break;
                }
            }
        });
        Ok(LiveConn {
            sink,
            rx,
            inbox: Vec::new(),
        })
    }

    /// The first forwarded message matching `pred`; a closed connection is an error.
    pub async fn wait_for(&mut self, pred: impl Fn(&Value) -> bool) -> Result<Incoming> {
        if let Some(i) = self.inbox.iter().position(|m| pred(&m.message)) {
            return Ok(self.inbox.remove(i));
        }
        loop {
            let next = tokio::time::timeout(WAIT, self.rx.recv())
                .await
                .map_err(|_| anyhow!("timed out; inbox: {:?}", self.inbox))?;
            let Some(incoming) = next else {
                bail!("connection ended; inbox: {:?}", self.inbox);
            };
            if pred(&incoming.message) {
                return Ok(incoming);
            }
            if incoming.message["type"] == "closed" {
                bail!("closed by the server: {}", incoming.message);
            }
            self.inbox.push(incoming);
        }
    }

    /// Sends a prepared text message.
    pub async fn send_text(&mut self, text: String) -> Result<()> {
        self.sink.send(Message::Text(text.into())).await?;
        Ok(())
    }

    /// A command message and its id.
    pub fn command_text(command: Value) -> (Uuid, String) {
        let id = Uuid::new_v4();
        let text = json!({"type": "command", "command_id": id, "command": command}).to_string();
        (id, text)
    }

    /// The ack or error for command `id`.
    pub async fn reply(&mut self, id: Uuid) -> Result<Incoming> {
        let id = id.to_string();
        self.wait_for(move |m| {
            m["command_id"] == id.as_str() && (m["type"] == "ack" || m["type"] == "error")
        })
        .await
    }

    /// Sends a command and requires an ack.
    pub async fn command(&mut self, command: Value) -> Result<Incoming> {
        let (id, text) = Self::command_text(command.clone());
        self.send_text(text).await?;
        let reply = self.reply(id).await?;
        if reply.message["type"] != "ack" {
            bail!("{command} → {}", reply.message);
        }
        Ok(reply)
    }

    /// The next event of type `kind`.
    pub async fn event(&mut self, kind: &str) -> Result<Incoming> {
        self.wait_for(|m| m["type"] == "event" && m["event"]["type"] == kind)
            .await
    }

    pub async fn close(mut self) {
        let _ = self.sink.close().await;
    }
}
