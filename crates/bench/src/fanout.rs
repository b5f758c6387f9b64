//! The `fanout` run: C anonymous live clients (room displays, livestreams) on one meeting of a
//! server in its own process; the chair changes the current item E times and every client
//! waits for each change. Delivery latency = chair's command sent → event received by a client.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use futures_util::StreamExt;
use serde_json::{Value, json};

use crate::child::{ServerProcess, ensure_open_files};
use crate::live::LiveConn;
use crate::{Backend, Percentiles, ms};

#[derive(Debug, Clone)]
pub struct FanoutOptions {
    pub backend: Backend,
    pub pg_url: String,
    /// Live clients (anonymous).
    pub clients: usize,
    /// Events the chair triggers, one after the other.
    pub events: usize,
    pub connect_concurrency: usize,
    /// The benchmark's own binary (runs the server as `serve`).
    pub exe: PathBuf,
}

#[derive(Debug, Clone)]
pub struct FanoutReport {
    pub options: FanoutOptions,
    pub connected: usize,
    pub connect_wall: Duration,
    /// Deliveries expected (clients × events) and received.
    pub expected: usize,
    pub delivered: usize,
    pub delivery: Percentiles,
    /// Per event: command sent → the last client has it.
    pub last_client: Percentiles,
    pub server_rss_before_mib: f64,
    pub server_rss_connected_mib: f64,
    pub server_peak_rss_mib: f64,
    pub server_cpu_connect_s: f64,
    pub server_cpu_events_s: f64,
}

impl FanoutReport {
    pub fn ok(&self) -> bool {
        self.connected == self.options.clients && self.delivered == self.expected
    }

    pub fn json(&self) -> Value {
        let o = &self.options;
        json!({
            "run": "fanout",
            "backend": o.backend.as_str(),
            "clients": o.clients,
            "events": o.events,
            "connected": self.connected,
            "connect_wall_ms": ms(self.connect_wall),
            "expected": self.expected,
            "delivered": self.delivered,
            "delivery_p50_ms": self.delivery.p50,
            "delivery_p95_ms": self.delivery.p95,
            "delivery_p99_ms": self.delivery.p99,
            "delivery_max_ms": self.delivery.max,
            "last_client_p50_ms": self.last_client.p50,
            "last_client_max_ms": self.last_client.max,
            "server_rss_before_mib": self.server_rss_before_mib.round(),
            "server_rss_connected_mib": self.server_rss_connected_mib.round(),
            "server_peak_rss_mib": self.server_peak_rss_mib.round(),
            "server_cpu_connect_s": self.server_cpu_connect_s,
            "server_cpu_events_s": self.server_cpu_events_s,
            "ok": self.ok(),
        })
    }

    pub fn table(&self) -> String {
        let o = &self.options;
        let mut t = String::new();
        let mut row = |k: &str, v: String| t.push_str(&format!("  {k:<28} {v}\n"));
        row(
            "run",
            format!(
                "fanout, {} backend, {} anonymous live clients, {} events",
                o.backend.as_str(),
                o.clients,
                o.events
            ),
        );
        row(
            "live connections",
            format!(
                "{}/{} in {:.0} ms ({} at once)",
                self.connected,
                o.clients,
                ms(self.connect_wall),
                o.connect_concurrency
            ),
        );
        row(
            "deliveries",
            format!("{}/{}", self.delivered, self.expected),
        );
        row(
            "command → client",
            format!(
                "p50 {:.1} / p95 {:.1} / p99 {:.1} / max {:.1} ms",
                self.delivery.p50, self.delivery.p95, self.delivery.p99, self.delivery.max
            ),
        );
        row(
            "command → last client",
            format!(
                "p50 {:.1} / max {:.1} ms (per event)",
                self.last_client.p50, self.last_client.max
            ),
        );
        row(
            "server RSS",
            format!(
                "{:.0} MiB before, {:.0} MiB with all clients, peak {:.0} MiB",
                self.server_rss_before_mib, self.server_rss_connected_mib, self.server_peak_rss_mib
            ),
        );
        row(
            "server CPU",
            format!(
                "{:.2} s while connecting, {:.2} s for the events",
                self.server_cpu_connect_s, self.server_cpu_events_s
            ),
        );
        row(
            "note",
            "server in its own process (2 worker threads); load generator: 2 threads".into(),
        );
        t
    }
}

/// Runs the `fanout` benchmark; builds its own runtime, so call it outside any.
pub fn run_fanout(options: &FanoutOptions) -> Result<FanoutReport> {
    if options.clients == 0 || options.events == 0 {
        bail!("at least one client and one event");
    }
    // Each side of every connection is a file descriptor; the server process inherits this.
    ensure_open_files(options.clients as u64 + 256)?;
    let server =
        ServerProcess::spawn_bench(&options.exe, options.backend, &options.pg_url, 1, false)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name(crate::proc::CLIENT_THREAD)
        .enable_all()
        .build()?;
    let result = runtime.block_on(async {
        tokio::time::timeout(Duration::from_secs(600), drive(options, &server))
            .await
            .map_err(|_| anyhow!("the run took longer than 10 minutes"))?
    });
    drop(runtime);
    let stopped = server.stop();
    let report = result?;
    stopped?;
    Ok(report)
}

async fn drive(options: &FanoutOptions, server: &ServerProcess) -> Result<FanoutReport> {
    let http = reqwest::Client::new();
    let base = server.base();
    let meeting = server.uuid("meeting")?;
    let item = server.uuid("item")?;
    let token = crate::setup::login(&http, &base, &server.chair()?).await?;
    let mut chair = LiveConn::connect(&http, &base, Some(&token), meeting).await?;
    chair.wait_for(|m| m["type"] == "snapshot").await?;
    chair
        .command(json!({"type": "start_meeting", "confirm_other_day": true}))
        .await?;
    let server_rss_before_mib = server.status_mib("VmRSS:");

    let cpu0 = server.cpu_s();
    let started = Instant::now();
    let connected: Vec<Result<LiveConn>> =
        futures_util::stream::iter((0..options.clients).map(|i| {
            let (http, base) = (&http, &base);
            async move {
                let mut conn = LiveConn::connect(http, base, None, meeting)
                    .await
                    .with_context(|| format!("client {i} connects"))?;
                conn.wait_for(|m| m["type"] == "snapshot")
                    .await
                    .with_context(|| format!("client {i} gets a snapshot"))?;
                Ok(conn)
            }
        }))
        .buffer_unordered(options.connect_concurrency.max(1))
        .collect()
        .await;
    let mut conns = Vec::with_capacity(connected.len());
    for c in connected {
        conns.push(c?);
    }
    let connect_wall = started.elapsed();
    let server_cpu_connect_s = server.cpu_s() - cpu0;
    let server_rss_connected_mib = server.status_mib("VmRSS:");

    let cpu1 = server.cpu_s();
    let mut delivery = Vec::with_capacity(conns.len() * options.events);
    let mut last_client = Vec::with_capacity(options.events);
    for e in 0..options.events {
        // Alternate between the item and none, so that every command changes something.
        let target = if e % 2 == 0 { json!(item) } else { Value::Null };
        let sent = Instant::now();
        let (id, text) =
            LiveConn::command_text(json!({"type": "set_current_item", "item": target}));
        chair.send_text(text).await?;
        let waits = conns.iter_mut().map(|c| {
            let target = target.clone();
            async move {
                c.wait_for(|m| {
                    m["type"] == "event"
                        && m["event"]["type"] == "current_item_changed"
                        && m["event"]["item"] == target
                })
                .await
            }
        });
        let mut last = Duration::ZERO;
        for got in futures_util::future::join_all(waits).await {
            match got {
                Ok(incoming) => {
                    let took = incoming.at.duration_since(sent);
                    last = last.max(took);
                    delivery.push(took);
                }
                Err(err) => eprintln!("a client missed event {e}: {err:#}"),
            }
        }
        last_client.push(last);
        let reply = chair.reply(id).await?;
        if reply.message["type"] != "ack" {
            bail!("set_current_item: {}", reply.message);
        }
    }
    let server_cpu_events_s = server.cpu_s() - cpu1;
    let server_peak_rss_mib = server.status_mib("VmHWM:");
    let connected = conns.len();
    for c in conns {
        c.close().await;
    }
    chair.close().await;
    Ok(FanoutReport {
        options: options.clone(),
        connected,
        connect_wall,
        expected: options.clients * options.events,
        delivered: delivery.len(),
        delivery: Percentiles::of(delivery),
        last_client: Percentiles::of(last_client),
        server_rss_before_mib,
        server_rss_connected_mib,
        server_peak_rss_mib,
        server_cpu_connect_s,
        server_cpu_events_s,
    })
}
