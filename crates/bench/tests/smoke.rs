//! The benchmarks still work, at tiny sizes: every ballot acked, every client sees the right
//! tally; every fan-out event reaches every client; every read request succeeds; the idle
//! server's RSS can be read. No timing assertions.

use std::path::PathBuf;
use std::time::Duration;

use plenum_bench::fanout::{FanoutOptions, run_fanout};
use plenum_bench::idle::{IdleOptions, run_idle};
use plenum_bench::read::{ReadOptions, run_read};
use plenum_bench::{Backend, VoteOptions, run_vote};

fn exe() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_plenum-bench"))
}

fn pg_url() -> String {
    std::env::var(plenum_store::testing::PG_URL_VAR).unwrap_or_default()
}

fn smoke(backend: Backend, kind: &str) {
    let report = match run_vote(&VoteOptions::new(backend, 20, 10, kind)) {
        Ok(report) => report,
        Err(err) => panic!("the vote benchmark failed: {err:#}"),
    };
    assert_eq!(report.acked, 20, "{}", report.table());
    assert_eq!(report.rejected, 0);
    assert_eq!(report.clients, 31, "chair + 20 voters + 10 watchers");
    assert_eq!(report.result_received, 31, "{}", report.table());
    assert_eq!(report.tally_ok, 31, "{}", report.table());
    assert!(report.ok());
    assert_eq!(report.json()["ok"], true);
}

#[test]
fn vote_benchmark_on_sqlite() {
    smoke(Backend::Sqlite, "named");
    smoke(Backend::Sqlite, "secret");
}

#[test]
fn vote_benchmark_on_postgres() {
    if std::env::var(plenum_store::testing::PG_URL_VAR).is_err() {
        eprintln!("skipping the PostgreSQL case: PLENUM_TEST_PG_URL is not set");
        return;
    }
    smoke(Backend::Postgres, "secret");
}

/// The multi-node smoke (CI): two nodes on one PostgreSQL database, clients spread over both,
/// a secret poll; every ballot acked once and every client on either node gets the tally.
#[test]
fn vote_benchmark_on_two_nodes() {
    if std::env::var(plenum_store::testing::PG_URL_VAR).is_err() {
        eprintln!("skipping the several-nodes case: PLENUM_TEST_PG_URL is not set");
        return;
    }
    let mut options = VoteOptions::new(Backend::Postgres, 20, 10, "secret");
    options.nodes = 2;
    let report =
        run_vote(&options).unwrap_or_else(|err| panic!("the vote benchmark failed: {err:#}"));
    assert_eq!(report.acked, 20, "{}", report.table());
    assert_eq!(report.result_received, 31, "{}", report.table());
    assert_eq!(report.tally_ok, 31, "{}", report.table());
    assert!(report.ok());
    assert_eq!(report.json()["nodes"], 2);
    // In-process runs measure the server on the system allocator, as the `plenum` binary has.
    assert_eq!(report.json()["allocator"], "system");
}

/// The convention run's shape at a tiny size, through the binary as a user runs it: each node a
/// process of its own, the load generator on its own allocator (`src/allocator.rs`), the
/// figures on stdout (the table, then a line of JSON) and the phases on stderr.
#[test]
fn vote_benchmark_with_nodes_in_processes_of_their_own() {
    if std::env::var(plenum_store::testing::PG_URL_VAR).is_err() {
        eprintln!("skipping the several-nodes case: PLENUM_TEST_PG_URL is not set");
        return;
    }
    let output = std::process::Command::new(exe())
        .args([
            "vote",
            "--backend",
            "postgres",
            "--nodes",
            "2",
            "--processes",
        ])
        .args([
            "--voters",
            "8",
            "--watchers",
            "4",
            "--kind",
            "named",
            "--json",
        ])
        .args(["--pg-url", &pg_url()])
        .output()
        .unwrap_or_else(|err| panic!("plenum-bench does not start: {err}"));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "plenum-bench failed: {stderr}");
    // The table, then the figures as one line of JSON.
    let stdout = String::from_utf8_lossy(&output.stdout);
    let last = stdout.lines().last().unwrap_or_default();
    let report: serde_json::Value = serde_json::from_str(last)
        .unwrap_or_else(|err| panic!("the last line is not JSON ({err}): {stdout}"));
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(report["nodes"], 2, "{report}");
    assert_eq!(report["in_process"], false, "{report}");
    assert_eq!(report["allocator"], "mimalloc", "{report}");
    assert_eq!(report["acked"], 8, "{report}");
    assert_eq!(
        report["tally_ok"], 13,
        "chair + 8 voters + 4 watchers: {report}"
    );
    for phase in [
        "members log in",
        "clients connect",
        "8 voters vote",
        "closes the poll",
    ] {
        assert!(stderr.contains(phase), "no phase {phase:?} in: {stderr}");
    }
}

#[test]
fn fanout_reaches_every_client() {
    let report = run_fanout(&FanoutOptions {
        backend: Backend::Sqlite,
        pg_url: pg_url(),
        clients: 20,
        events: 3,
        connect_concurrency: 8,
        exe: exe(),
    })
    .unwrap_or_else(|err| panic!("the fanout benchmark failed: {err:#}"));
    assert_eq!(report.connected, 20, "{}", report.table());
    assert_eq!(report.delivered, 60, "{}", report.table());
    assert!(
        report.server_rss_connected_mib > 0.0,
        "the server's own RSS"
    );
    assert_eq!(report.json()["ok"], true);
}

#[test]
fn read_pages_answer_every_request() {
    let report = run_read(&ReadOptions {
        backend: Backend::Sqlite,
        pg_url: pg_url(),
        members: 5,
        requests: 40,
        concurrency: 4,
        exe: exe(),
    })
    .unwrap_or_else(|err| panic!("the read benchmark failed: {err:#}"));
    assert_eq!(report.pages.len(), 4);
    for page in &report.pages {
        assert_eq!((page.ok, page.failed), (40, 0), "{}", report.table());
        assert!(page.bytes > 40, "{} has a body", page.name);
    }
    assert!(report.ok());
}

#[test]
fn idle_server_rss_is_measured() {
    let report = run_idle(&IdleOptions {
        plenum: None,
        exe: exe(),
        settle: Duration::from_millis(100),
    })
    .unwrap_or_else(|err| panic!("the idle benchmark failed: {err:#}"));
    assert!(report.rss_mib > 1.0, "{}", report.table());
    assert!(report.threads > 1, "{}", report.table());
    assert_eq!(report.json()["run"], "idle");
}
