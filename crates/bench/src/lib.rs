//! `plenum-bench`: load benchmarks against a real Plenum started in this process.
//!
//! The `vote` benchmark: N voting members, a chair and M watchers (half of them advisory
//! members, half anonymous room displays) log in for real (password + TOTP), connect to one
//! meeting's live WebSocket, and all N cast a ballot at the same instant; then the chair closes
//! the poll and every client waits for the result.
//!
//! Server and load generator run in one process but on separate runtimes (two worker threads
//! each): CPU seconds are split by thread name (see [`proc`]); peak RSS is the whole process's.
//!
//! The `fanout` ([`fanout`]), `read` ([`read`]) and `idle` ([`idle`]) runs start the server in a
//! process of its own ([`child`]), so its RSS and CPU are measured alone.

pub mod allocator;
pub mod bundle;
pub mod child;
pub mod extract;
pub mod fanout;
pub mod idle;
pub mod live;
pub mod proc;
pub mod read;
pub mod render;
mod setup;

/// The allocator of every binary that links this crate (see [`allocator`]).
#[global_allocator]
pub static ALLOCATOR: allocator::BenchAllocator = allocator::BenchAllocator::new();

use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use futures_util::StreamExt;
use serde_json::{Value, json};
use uuid::Uuid;

pub use plenum_store::Backend;

use crate::live::LiveConn;
use crate::setup::{Participant, World};

/// The default PostgreSQL server (a fresh database is created on it and dropped afterwards).
pub const DEFAULT_PG_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// What to run.
#[derive(Debug, Clone)]
pub struct VoteOptions {
    pub backend: Backend,
    /// The PostgreSQL server when `backend` is PostgreSQL.
    pub pg_url: String,
    pub voters: usize,
    pub watchers: usize,
    /// `named`, `secret` or `open`.
    pub kind: String,
    /// Logins in flight at once.
    pub login_concurrency: usize,
    /// WebSocket connects in flight at once.
    pub connect_concurrency: usize,
    /// Plenum nodes sharing the database (PostgreSQL only); clients are spread over them.
    pub nodes: usize,
    /// Voters check in themselves, each over their own connection (`false`), or the chair
    /// records them all present at once (`true`, as a convention's registration desk does).
    pub bulk_check_in: bool,
    /// Run each node in a process of its own (this program, `node` subcommand), so that every
    /// node's RSS and CPU are its own; `None`: the nodes run in this process.
    pub processes: Option<std::path::PathBuf>,
}

impl VoteOptions {
    pub fn new(backend: Backend, voters: usize, watchers: usize, kind: &str) -> VoteOptions {
        VoteOptions {
            backend,
            pg_url: std::env::var(plenum_store::testing::PG_URL_VAR)
                .unwrap_or_else(|_| DEFAULT_PG_URL.to_owned()),
            voters,
            watchers,
            kind: kind.to_owned(),
            login_concurrency: 16,
            connect_concurrency: 32,
            nodes: 1,
            processes: None,
            bulk_check_in: false,
        }
    }
}

/// Latency percentiles in milliseconds.
#[derive(Debug, Clone, Copy, Default)]
pub struct Percentiles {
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub max: f64,
}

impl Percentiles {
    pub fn of(mut samples: Vec<Duration>) -> Percentiles {
        if samples.is_empty() {
            return Percentiles::default();
        }
        samples.sort();
        let at = |q: f64| {
            let i = ((samples.len() as f64 * q).ceil() as usize).clamp(1, samples.len()) - 1;
            ms(samples[i])
        };
        Percentiles {
            p50: at(0.50),
            p95: at(0.95),
            p99: at(0.99),
            max: at(1.0),
        }
    }
}

pub(crate) fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1000.0 * 100.0).round() / 100.0
}

/// The figures of one `vote` run.
#[derive(Debug, Clone)]
pub struct VoteReport {
    pub options: VoteOptions,
    /// Everyone who logged in (chair, voters, advisory watchers).
    pub logins: usize,
    pub login_wall: Duration,
    pub login: Percentiles,
    /// Live connections (chair + voters + watchers).
    pub clients: usize,
    pub connect_wall: Duration,
    pub check_in_wall: Duration,
    /// Ballots sent, acked, and rejected.
    pub ballots: usize,
    pub acked: usize,
    pub rejected: usize,
    /// From the first ballot sent until the last ack.
    pub all_acked: Duration,
    pub ack: Percentiles,
    pub votes_per_second: f64,
    /// Clients that received `poll_closed`, and when (from sending `close_poll`).
    pub result_received: usize,
    pub result: Percentiles,
    /// Clients whose `poll_closed` tally equals the ballots sent.
    pub tally_ok: usize,
    pub expected_tally: (u64, u64, u64),
    pub server_cpu_login_s: f64,
    pub server_cpu_vote_s: f64,
    pub client_cpu_vote_s: f64,
    /// Peak RSS of the whole process (server and clients), over the run and over vote + close.
    pub peak_rss_mib: f64,
    pub peak_rss_vote_mib: f64,
    /// With `--processes`: each node's peak RSS over the run, and its CPU seconds during
    /// vote + close.
    pub node_peak_rss_mib: Vec<f64>,
    pub node_cpu_vote_s: Vec<f64>,
    /// With `--processes`: each node's RSS after the logins, after the live connections, and
    /// at the end.
    pub node_rss_phases_mib: Vec<[f64; 3]>,
    /// With `--processes`: each node's peak RSS within each phase: logins, connections,
    /// check-ins and opening the poll, vote and close.
    pub node_phase_peaks_mib: Vec<[f64; 4]>,
}

impl VoteReport {
    /// Every ballot acked, every client got the result, every tally right.
    pub fn ok(&self) -> bool {
        self.acked == self.ballots
            && self.rejected == 0
            && self.result_received == self.clients
            && self.tally_ok == self.clients
    }

    pub fn json(&self) -> Value {
        let o = &self.options;
        json!({
            "run": "vote",
            "backend": o.backend.as_str(),
            "nodes": o.nodes,
            "voters": o.voters,
            "watchers": o.watchers,
            "kind": o.kind,
            "clients": self.clients,
            "logins": self.logins,
            "login_wall_ms": ms(self.login_wall),
            "login_p50_ms": self.login.p50,
            "login_p99_ms": self.login.p99,
            "connect_wall_ms": ms(self.connect_wall),
            "check_in_wall_ms": ms(self.check_in_wall),
            "bulk_check_in": o.bulk_check_in,
            "ballots": self.ballots,
            "acked": self.acked,
            "rejected": self.rejected,
            "all_acked_ms": ms(self.all_acked),
            "ack_p50_ms": self.ack.p50,
            "ack_p95_ms": self.ack.p95,
            "ack_p99_ms": self.ack.p99,
            "ack_max_ms": self.ack.max,
            "votes_per_s": (self.votes_per_second * 10.0).round() / 10.0,
            "result_received": self.result_received,
            "result_p50_ms": self.result.p50,
            "result_p99_ms": self.result.p99,
            "result_max_ms": self.result.max,
            "tally_ok": self.tally_ok,
            "server_cpu_login_s": self.server_cpu_login_s,
            "server_cpu_vote_s": self.server_cpu_vote_s,
            "client_cpu_vote_s": self.client_cpu_vote_s,
            "peak_rss_mib": self.peak_rss_mib.round(),
            "peak_rss_vote_mib": self.peak_rss_vote_mib.round(),
            "node_peak_rss_mib": self.node_peak_rss_mib.iter().map(|m| m.round()).collect::<Vec<_>>(),
            "node_cpu_vote_s": self.node_cpu_vote_s,
            "node_rss_phases_mib": self.node_rss_phases_mib.iter().map(|p| p.map(f64::round)).collect::<Vec<_>>(),
            "node_phase_peaks_mib": self.node_phase_peaks_mib.iter().map(|p| p.map(f64::round)).collect::<Vec<_>>(),
            "in_process": o.processes.is_none(),
            "allocator": ALLOCATOR.name(),
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
                "vote, {} backend, {} node(s), {} voters + chair, {} watchers, {} poll",
                o.backend.as_str(),
                o.nodes,
                o.voters,
                o.watchers,
                o.kind
            ),
        );
        row(
            "logins (password + TOTP)",
            format!(
                "{} in {:.0} ms ({:.0}/s, {} at once), p50 {:.1} ms, p99 {:.1} ms",
                self.logins,
                ms(self.login_wall),
                self.logins as f64 / self.login_wall.as_secs_f64().max(1e-9),
                o.login_concurrency,
                self.login.p50,
                self.login.p99
            ),
        );
        row(
            "live connections",
            format!("{} in {:.0} ms", self.clients, ms(self.connect_wall)),
        );
        row(
            if o.bulk_check_in {
                "check-in (chair, in bulk)"
            } else {
                "check-in (all voters)"
            },
            format!("{:.0} ms", ms(self.check_in_wall)),
        );
        row(
            "ballots acked",
            format!(
                "{}/{} ({} rejected)",
                self.acked, self.ballots, self.rejected
            ),
        );
        row(
            "first send → last ack",
            format!(
                "{:.1} ms ({:.0} votes/s)",
                ms(self.all_acked),
                self.votes_per_second
            ),
        );
        row(
            "ack latency",
            format!(
                "p50 {:.1} / p95 {:.1} / p99 {:.1} / max {:.1} ms",
                self.ack.p50, self.ack.p95, self.ack.p99, self.ack.max
            ),
        );
        row(
            "close → result on client",
            format!(
                "{}/{} clients, p50 {:.1} / p99 {:.1} / max {:.1} ms",
                self.result_received,
                self.clients,
                self.result.p50,
                self.result.p99,
                self.result.max
            ),
        );
        row(
            "tally correct",
            format!(
                "{}/{} clients (yes {}, no {}, abstain {})",
                self.tally_ok,
                self.clients,
                self.expected_tally.0,
                self.expected_tally.1,
                self.expected_tally.2
            ),
        );
        row(
            "server CPU",
            format!(
                "{:.2} s during logins, {:.2} s during vote + close (clients: {:.2} s)",
                self.server_cpu_login_s, self.server_cpu_vote_s, self.client_cpu_vote_s
            ),
        );
        row(
            "peak RSS (whole process)",
            format!(
                "{:.0} MiB over the run, {:.0} MiB during vote + close",
                self.peak_rss_mib, self.peak_rss_vote_mib
            ),
        );
        if o.processes.is_some() {
            let list = |v: &[f64], unit: &str| {
                v.iter()
                    .map(|x| format!("{x:.1} {unit}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            row("each node: peak RSS", list(&self.node_peak_rss_mib, "MiB"));
            row(
                "each node: RSS after phases",
                self.node_rss_phases_mib
                    .iter()
                    .map(|[a, b, c]| format!("{a:.0}/{b:.0}/{c:.0} MiB"))
                    .collect::<Vec<_>>()
                    .join(", ")
                    + " (logins/connections/end)",
            );
            row(
                "each node: peak RSS per phase",
                self.node_phase_peaks_mib
                    .iter()
                    .map(|[a, b, c, d]| format!("{a:.0}/{b:.0}/{c:.0}/{d:.0} MiB"))
                    .collect::<Vec<_>>()
                    .join(", ")
                    + " (logins/connections/check-ins/vote + close)",
            );
            row(
                "each node: CPU vote + close",
                list(&self.node_cpu_vote_s, "s"),
            );
            row(
                "note",
                format!(
                    "each node in a process of its own; the figures above named 'server' are the \
                     benchmark's setup only; the load generator allocates with {}",
                    ALLOCATOR.name()
                ),
            );
        } else {
            row(
                "note",
                "server and clients share one process (separate runtimes, 2 threads each)".into(),
            );
        }
        t
    }
}

/// Runs the `vote` benchmark; builds its own runtimes, so call it outside any.
pub fn run_vote(options: &VoteOptions) -> Result<VoteReport> {
    if !matches!(options.kind.as_str(), "named" | "secret" | "open") {
        bail!("unknown poll kind {:?}", options.kind);
    }
    if options.voters == 0 {
        bail!("at least one voter");
    }
    if options.nodes == 0 || (options.nodes > 1 && options.backend != Backend::Postgres) {
        bail!("several nodes need PostgreSQL (--backend postgres)");
    }
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name(proc::SERVER_THREAD)
        .enable_all()
        .build()?;
    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name(proc::CLIENT_THREAD)
        .enable_all()
        .build()?;
    let world = server_rt.block_on(World::create(options))?;
    let result = client_rt.block_on(async {
        // Ten minutes, and a tenth of a second more per client (a convention's 10,000 log in
        // and connect first).
        let limit = Duration::from_secs(600)
            + Duration::from_millis(100) * (options.voters + options.watchers) as u32;
        tokio::time::timeout(limit, drive(options, &world))
            .await
            .map_err(|_| anyhow!("the run took longer than {} s", limit.as_secs()))?
    });
    drop(client_rt);
    server_rt.block_on(world.destroy())?;
    result
}

async fn login_all(
    options: &VoteOptions,
    world: &World,
    http: &reqwest::Client,
) -> Result<(Vec<String>, Vec<Duration>)> {
    let people: Vec<&Participant> = world.people.iter().collect();
    let results: Vec<Result<(usize, String, Duration)>> =
        futures_util::stream::iter(people.into_iter().enumerate().map(|(i, p)| {
            // Spread over the nodes, as a load balancer would.
            let (http, base) = (http.clone(), world.base_url_of(i));
            async move {
                let started = Instant::now();
                let token = setup::login(&http, &base, p).await?;
                Ok((i, token, started.elapsed()))
            }
        }))
        .buffer_unordered(options.login_concurrency.max(1))
        .collect()
        .await;
    let mut tokens = vec![String::new(); world.people.len()];
    let mut times = Vec::new();
    for r in results {
        let (i, token, took) = r?;
        tokens[i] = token;
        times.push(took);
    }
    Ok((tokens, times))
}

/// A line on stderr when a phase of the benchmark begins (the figures go to stdout).
fn progress(phase: &str) {
    eprintln!("plenum-bench: {phase}");
}

async fn drive(options: &VoteOptions, world: &World) -> Result<VoteReport> {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()?;
    let n = options.voters;

    // 1. Logins, for real.
    progress(&format!("{} members log in", world.people.len()));
    let cpu0 = proc::CpuSample::now();
    let started = Instant::now();
    let (tokens, login_times) = login_all(options, world, &http).await?;
    let login_wall = started.elapsed();
    let (server_cpu_login_s, _) = cpu0.split_since(&proc::CpuSample::now());
    let node_rss = |world: &World| -> Vec<f64> {
        world
            .processes
            .iter()
            .map(|p| p.status_mib("VmRSS:"))
            .collect()
    };
    let rss_after_login = node_rss(world);
    // Each node's peak within a phase: VmHWM read and reset at the phase's end.
    let take_peaks =
        |world: &World| -> Vec<f64> { world.processes.iter().map(|p| p.take_peak_rss()).collect() };
    let peak_until_login = take_peaks(world);

    // 2. Everyone connects: index 0 is the chair, 1..=n the voters, then advisory members, then
    // anonymous displays.
    progress(&format!(
        "{} clients connect",
        world.people.len() + world.displays
    ));
    let started = Instant::now();
    let mut who: Vec<Option<String>> = tokens.into_iter().map(Some).collect();
    who.extend((0..world.displays).map(|_| None));
    let meeting = world.meeting;
    let connected: Vec<Result<(usize, LiveConn)>> =
        futures_util::stream::iter(who.iter().enumerate().map(|(i, token)| {
            let (http, base) = (&http, world.base_url_of(i + 1));
            async move {
                let mut conn = LiveConn::connect(http, &base, token.as_deref(), meeting)
                    .await
                    .with_context(|| format!("client {i} connects"))?;
                conn.wait_for(|m| m["type"] == "snapshot")
                    .await
                    .with_context(|| format!("client {i} gets a snapshot"))?;
                Ok((i, conn))
            }
        }))
        .buffer_unordered(options.connect_concurrency.max(1))
        .collect()
        .await;
    let mut slots: Vec<Option<LiveConn>> = (0..who.len()).map(|_| None).collect();
    for c in connected {
        let (i, conn) = c?;
        slots[i] = Some(conn);
    }
    let mut conns: Vec<LiveConn> = slots.into_iter().flatten().collect();
    let connect_wall = started.elapsed();
    let clients = conns.len();
    let rss_after_connect = node_rss(world);
    let peak_connect = take_peaks(world);

    // 3. The chair starts the meeting, every voter checks in over its own connection, the chair
    // creates and opens the poll.
    let (chair, rest) = conns.split_first_mut().ok_or_else(|| anyhow!("no chair"))?;
    chair
        .command(json!({"type": "start_meeting", "confirm_other_day": true}))
        .await?;
    let started = Instant::now();
    if options.bulk_check_in {
        // A thousand persons per command keeps each message under the 64 KiB limit.
        let voters: Vec<Uuid> = world.people[1..=n].iter().map(|p| p.person).collect();
        for persons in voters.chunks(1_000) {
            chair
                .command(
                    json!({"type": "set_attendance_bulk", "persons": persons, "status": "present"}),
                )
                .await
                .context("bulk check-in")?;
        }
    } else {
        let check_ins = rest[..n]
            .iter_mut()
            .map(|c| c.command(json!({"type": "check_in", "remote": false})));
        for r in futures_util::future::join_all(check_ins).await {
            r.context("check-in")?;
        }
    }
    let check_in_wall = started.elapsed();
    let poll = plenum_domain::PollId::new();
    chair
        .command(
            json!({"type": "create_poll", "poll": poll, "item": world.item,
            "title": format!("Benchmark {}", options.kind), "kind": options.kind,
            "rule": "simple", "options": []}),
        )
        .await?;
    chair
        .command(json!({"type": "open_poll", "poll": poll, "confirm_below_quorum": true}))
        .await?;
    for c in rest.iter_mut() {
        c.event("poll_opened").await.context("poll_opened")?;
    }
    let peak_check_in = take_peaks(world);

    // 4. All voters at the same instant, each over its own connection.
    let mut expected = (0u64, 0u64, 0u64);
    let ballots: Vec<(Uuid, String)> = (0..n)
        .map(|i| {
            let choice = match i % 4 {
                0 | 1 => {
                    expected.0 += 1;
                    "yes"
                }
                2 => {
                    expected.1 += 1;
                    "no"
                }
                _ => {
                    expected.2 += 1;
                    "abstain"
                }
            };
            LiveConn::command_text(
                json!({"type": "cast_ballot", "poll": poll, "choice": {"choice": choice}}),
            )
        })
        .collect();
    let peak_rss_before_vote = proc::status_mib("VmHWM:");
    proc::reset_peak_rss();
    let cpu1 = proc::CpuSample::now();
    let node_cpu1: Vec<f64> = world.processes.iter().map(|p| p.cpu_s()).collect();
    progress(&format!("{n} voters vote"));
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(n));
    let votes = rest[..n].iter_mut().zip(ballots).map(|(conn, (id, text))| {
        let barrier = barrier.clone();
        async move {
            barrier.wait().await;
            let sent = Instant::now();
            conn.send_text(text).await?;
            let reply = conn.reply(id).await?;
            Ok::<_, anyhow::Error>((sent, reply))
        }
    });
    let replies = futures_util::future::join_all(votes).await;
    let mut first_send: Option<Instant> = None;
    let mut last_ack: Option<Instant> = None;
    let (mut acked, mut rejected) = (0, 0);
    let mut latencies = Vec::new();
    for r in replies {
        let (sent, reply) = r.context("ballot")?;
        first_send = Some(first_send.map_or(sent, |f| f.min(sent)));
        if reply.message["type"] == "ack" {
            acked += 1;
            latencies.push(reply.at.duration_since(sent));
            last_ack = Some(last_ack.map_or(reply.at, |l| l.max(reply.at)));
        } else {
            rejected += 1;
            eprintln!("ballot rejected: {}", reply.message);
        }
    }
    let all_acked = match (first_send, last_ack) {
        (Some(f), Some(l)) => l.duration_since(f),
        _ => Duration::ZERO,
    };

    // 5. Close; every client waits for the result.
    progress("the chair closes the poll");
    let (close_id, close_text) =
        LiveConn::command_text(json!({"type": "close_poll", "poll": poll}));
    let close_sent = Instant::now();
    chair.send_text(close_text).await?;
    let waits = std::iter::once(&mut *chair)
        .chain(rest.iter_mut())
        .map(|c| async move { c.event("poll_closed").await });
    let closed = futures_util::future::join_all(waits).await;
    let close_reply = chair.reply(close_id).await?;
    if close_reply.message["type"] != "ack" {
        bail!("close_poll: {}", close_reply.message);
    }
    let (server_cpu_vote_s, client_cpu_vote_s) = cpu1.split_since(&proc::CpuSample::now());
    let peak_rss_vote_mib = proc::status_mib("VmHWM:");
    let node_cpu_vote_s = world
        .processes
        .iter()
        .zip(node_cpu1)
        .map(|(p, before)| ((p.cpu_s() - before) * 100.0).round() / 100.0)
        .collect();
    let peak_vote = take_peaks(world);
    let node_phase_peaks_mib: Vec<[f64; 4]> = (0..world.processes.len())
        .map(|i| {
            [
                peak_until_login[i],
                peak_connect[i],
                peak_check_in[i],
                peak_vote[i],
            ]
        })
        .collect();
    let node_peak_rss_mib = node_phase_peaks_mib
        .iter()
        .map(|p| p.iter().copied().fold(0.0, f64::max))
        .collect();
    let node_rss_phases_mib = rss_after_login
        .into_iter()
        .zip(rss_after_connect)
        .zip(node_rss(world))
        .map(|((a, b), c)| [a, b, c])
        .collect();
    let mut result_times = Vec::new();
    let mut tally_ok = 0;
    for (i, c) in closed.into_iter().enumerate() {
        match c {
            Ok(incoming) => {
                result_times.push(incoming.at.duration_since(close_sent));
                let result = &incoming.message["event"]["result"];
                let tally = &result["tally"];
                if tally["yes"] == expected.0
                    && tally["no"] == expected.1
                    && tally["abstain"] == expected.2
                    && result["voted"] == n
                {
                    tally_ok += 1;
                } else if tally_ok == 0 && i < 3 {
                    eprintln!("client {i}: unexpected result {result}");
                }
            }
            Err(err) => eprintln!("client {i} got no result: {err:#}"),
        }
    }
    let result_received = result_times.len();
    for c in conns {
        c.close().await;
    }
    Ok(VoteReport {
        options: options.clone(),
        logins: login_times.len(),
        login_wall,
        login: Percentiles::of(login_times),
        clients,
        connect_wall,
        check_in_wall,
        ballots: n,
        acked,
        rejected,
        all_acked,
        votes_per_second: acked as f64 / all_acked.as_secs_f64().max(1e-9),
        ack: Percentiles::of(latencies),
        result_received,
        result: Percentiles::of(result_times),
        tally_ok,
        expected_tally: expected,
        server_cpu_login_s,
        server_cpu_vote_s,
        client_cpu_vote_s,
        // VmHWM was reset before the vote; the run's peak is the larger of both readings.
        peak_rss_mib: peak_rss_before_vote.max(peak_rss_vote_mib),
        peak_rss_vote_mib,
        node_peak_rss_mib,
        node_cpu_vote_s,
        node_rss_phases_mib,
        node_phase_peaks_mib,
    })
}
