//! The `read` run: a fixed number of GET requests, a fixed number in flight, against read pages
//! of a server in its own process: the member's meeting page (40 agenda items, 100 files), the
//! public meeting page, an OParl list page (public) and a meeting's live state as a member sees
//! it. Requests/s and latency percentiles per page.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Result, anyhow, bail};
use futures_util::StreamExt;
use serde_json::{Value, json};

use crate::child::ServerProcess;
use crate::{Backend, Percentiles};

#[derive(Debug, Clone)]
pub struct ReadOptions {
    pub backend: Backend,
    pub pg_url: String,
    /// Members of the council (persons on the OParl list).
    pub members: usize,
    /// Requests per page.
    pub requests: usize,
    /// Requests in flight at once.
    pub concurrency: usize,
    /// The benchmark's own binary (runs the server as `serve`).
    pub exe: PathBuf,
}

/// The figures of one page.
#[derive(Debug, Clone)]
pub struct PageFigures {
    pub name: &'static str,
    pub path: String,
    pub ok: usize,
    pub failed: usize,
    pub bytes: usize,
    pub wall: Duration,
    pub latency: Percentiles,
    pub server_cpu_s: f64,
}

impl PageFigures {
    pub fn per_second(&self) -> f64 {
        self.ok as f64 / self.wall.as_secs_f64().max(1e-9)
    }
}

#[derive(Debug, Clone)]
pub struct ReadReport {
    pub options: ReadOptions,
    pub pages: Vec<PageFigures>,
    pub server_peak_rss_mib: f64,
}

impl ReadReport {
    pub fn ok(&self) -> bool {
        self.pages
            .iter()
            .all(|p| p.failed == 0 && p.ok == self.options.requests)
    }

    pub fn json(&self) -> Value {
        let o = &self.options;
        let pages: Vec<Value> = self
            .pages
            .iter()
            .map(|p| {
                json!({
                    "page": p.name,
                    "ok": p.ok,
                    "failed": p.failed,
                    "bytes_per_response": p.bytes / p.ok.max(1),
                    "requests_per_s": p.per_second().round(),
                    "p50_ms": p.latency.p50,
                    "p99_ms": p.latency.p99,
                    "max_ms": p.latency.max,
                    "server_cpu_s": p.server_cpu_s,
                })
            })
            .collect();
        json!({
            "run": "read",
            "backend": o.backend.as_str(),
            "members": o.members,
            "requests": o.requests,
            "concurrency": o.concurrency,
            "pages": pages,
            "server_peak_rss_mib": self.server_peak_rss_mib.round(),
            "ok": self.ok(),
        })
    }

    pub fn table(&self) -> String {
        let o = &self.options;
        let mut t = format!(
            "  run: read, {} backend, {} members, {} requests per page, {} in flight\n",
            o.backend.as_str(),
            o.members,
            o.requests,
            o.concurrency
        );
        t.push_str(&format!(
            "  {:<26} {:>7} {:>9} {:>8} {:>8} {:>8} {:>9}\n",
            "page", "ok/fail", "req/s", "p50 ms", "p99 ms", "max ms", "CPU s"
        ));
        for p in &self.pages {
            t.push_str(&format!(
                "  {:<26} {:>7} {:>9.0} {:>8.1} {:>8.1} {:>8.1} {:>9.2}\n",
                p.name,
                format!("{}/{}", p.ok, p.failed),
                p.per_second(),
                p.latency.p50,
                p.latency.p99,
                p.latency.max,
                p.server_cpu_s
            ));
        }
        t.push_str(&format!(
            "  server peak RSS {:.0} MiB (own process, 2 worker threads; load generator: 2 threads)\n",
            self.server_peak_rss_mib
        ));
        t
    }
}

/// Runs the `read` benchmark; builds its own runtime, so call it outside any.
pub fn run_read(options: &ReadOptions) -> Result<ReadReport> {
    if options.requests == 0 || options.concurrency == 0 {
        bail!("at least one request, one at a time");
    }
    let server = ServerProcess::spawn_bench(
        &options.exe,
        options.backend,
        &options.pg_url,
        options.members,
        false,
    )?;
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

async fn drive(options: &ReadOptions, server: &ServerProcess) -> Result<ReadReport> {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(options.concurrency)
        .build()?;
    let base = server.base();
    let body = server.uuid("body")?;
    let meeting = server.uuid("meeting")?;
    let token = crate::setup::login(&http, &base, &server.chair()?).await?;
    let agenda_meeting = server.uuid("agenda_meeting")?;
    let pages: [(&'static str, String, Option<&str>); 4] = [
        (
            "meeting page (member)",
            format!("/api/v1/meetings/{agenda_meeting}"),
            Some(token.as_str()),
        ),
        (
            "meeting page (public)",
            format!("/api/v1/public/meetings/{agenda_meeting}"),
            None,
        ),
        (
            "OParl person list",
            format!("/oparl/v1/body/{body}/person"),
            None,
        ),
        (
            "live state (member)",
            format!("/api/v1/meetings/{meeting}/live"),
            Some(token.as_str()),
        ),
    ];
    check_meeting_page(&http, &base, agenda_meeting, &token).await?;
    let mut figures = Vec::new();
    for (name, path, token) in pages {
        let url = format!("{base}{path}");
        // Warm-up: connections and caches, not measured.
        for _ in 0..options.concurrency.min(options.requests) {
            let _ = get(&http, &url, token).await;
        }
        let cpu0 = server.cpu_s();
        let started = Instant::now();
        let results: Vec<Result<(Duration, usize)>> =
            futures_util::stream::iter((0..options.requests).map(|_| get(&http, &url, token)))
                .buffer_unordered(options.concurrency)
                .collect()
                .await;
        let wall = started.elapsed();
        let server_cpu_s = server.cpu_s() - cpu0;
        let (mut latencies, mut failed, mut bytes) = (Vec::new(), 0, 0);
        for r in results {
            match r {
                Ok((took, size)) => {
                    latencies.push(took);
                    bytes += size;
                }
                Err(err) => {
                    if failed == 0 {
                        eprintln!("{name}: {err:#}");
                    }
                    failed += 1;
                }
            }
        }
        figures.push(PageFigures {
            name,
            path,
            ok: latencies.len(),
            failed,
            bytes,
            wall,
            latency: Percentiles::of(latencies),
            server_cpu_s,
        });
    }
    Ok(ReadReport {
        options: options.clone(),
        pages: figures,
        server_peak_rss_mib: server.status_mib("VmHWM:"),
    })
}

/// One GET; its latency (until the whole body is read) and size.
async fn get(http: &reqwest::Client, url: &str, token: Option<&str>) -> Result<(Duration, usize)> {
    let started = Instant::now();
    let mut request = http.get(url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await?.error_for_status()?;
    let body = response.bytes().await?;
    Ok((started.elapsed(), body.len()))
}

/// The meeting pages measured are the real thing: 40 items and 100 files for the member, only the
/// 30 public items (with their 75 files) for the public.
async fn check_meeting_page(
    http: &reqwest::Client,
    base: &str,
    meeting: uuid::Uuid,
    token: &str,
) -> Result<()> {
    let counts = |page: &Value| {
        let agenda = page["agenda"].as_array().cloned().unwrap_or_default();
        let files: usize = agenda
            .iter()
            .map(|item| item["files"].as_array().map_or(0, Vec::len))
            .sum();
        (agenda.len(), files)
    };
    let member: Value = http
        .get(format!("{base}/api/v1/meetings/{meeting}"))
        .bearer_auth(token)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let public: Value = http
        .get(format!("{base}/api/v1/public/meetings/{meeting}"))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let (member_counts, public_counts) = (counts(&member), counts(&public));
    if member_counts != (40, 100) || public_counts != (30, 75) {
        bail!(
            "the meeting page shows (items, files) {member_counts:?} to the member and \
             {public_counts:?} to the public, not (40, 100) and (30, 75)"
        );
    }
    Ok(())
}
