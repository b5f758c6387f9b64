//! The `idle` run: the server started on an empty SQLite database, left alone for a moment, then
//! its RSS. By default the real `plenum` binary (next to `plenum-bench`), else
//! `plenum-bench serve --bare` (the same server code, started the same way).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Result;
use serde_json::{Value, json};

use crate::child::ServerProcess;
use crate::{Backend, ms};

#[derive(Debug, Clone)]
pub struct IdleOptions {
    /// `Some(path)`: the `plenum` binary; `None`: this benchmark's `serve --bare`.
    pub plenum: Option<PathBuf>,
    /// The benchmark's own binary.
    pub exe: PathBuf,
    /// How long the server sits idle before the reading.
    pub settle: Duration,
}

#[derive(Debug, Clone)]
pub struct IdleReport {
    pub options: IdleOptions,
    pub started_in: Duration,
    pub rss_mib: f64,
    pub peak_rss_mib: f64,
    pub threads: usize,
}

impl IdleReport {
    pub fn ok(&self) -> bool {
        self.rss_mib > 0.0
    }

    fn server(&self) -> String {
        match &self.options.plenum {
            Some(path) => format!("{} serve", path.display()),
            None => "plenum-bench serve --bare".into(),
        }
    }

    pub fn json(&self) -> Value {
        json!({
            "run": "idle",
            "server": self.server(),
            "backend": Backend::Sqlite.as_str(),
            "started_in_ms": ms(self.started_in),
            "settle_ms": ms(self.options.settle),
            "rss_mib": (self.rss_mib * 10.0).round() / 10.0,
            "peak_rss_mib": (self.peak_rss_mib * 10.0).round() / 10.0,
            "threads": self.threads,
            "ok": self.ok(),
        })
    }

    pub fn table(&self) -> String {
        let mut t = String::new();
        let mut row = |k: &str, v: String| t.push_str(&format!("  {k:<28} {v}\n"));
        row(
            "run",
            format!("idle, {} on an empty SQLite database", self.server()),
        );
        row(
            "started (healthy) in",
            format!("{:.0} ms", ms(self.started_in)),
        );
        row(
            "RSS after start",
            format!(
                "{:.1} MiB after {:.0} ms idle (peak {:.1} MiB), {} threads",
                self.rss_mib,
                ms(self.options.settle),
                self.peak_rss_mib,
                self.threads
            ),
        );
        t
    }
}

/// Runs the `idle` benchmark.
pub fn run_idle(options: &IdleOptions) -> Result<IdleReport> {
    let data_dir = tempfile::tempdir()?;
    let started = Instant::now();
    let mut server = match &options.plenum {
        Some(plenum) => ServerProcess::spawn_plenum(plenum, data_dir.path())?,
        None => ServerProcess::spawn_bench(&options.exe, Backend::Sqlite, "", 0, true)?,
    };
    let started_in = started.elapsed();
    std::thread::sleep(options.settle);
    let report = IdleReport {
        options: options.clone(),
        started_in,
        rss_mib: server.status_mib("VmRSS:"),
        peak_rss_mib: server.status_mib("VmHWM:"),
        threads: server.threads(),
    };
    match options.plenum {
        Some(_) => server.kill(),
        None => server.stop()?,
    }
    Ok(report)
}
