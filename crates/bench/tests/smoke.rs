//! The vote benchmark still works: every ballot acked, every client sees the right tally.
//! No timing assertions.

use plenum_bench::{Backend, VoteOptions, run_vote};

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
