//! Several nodes on one PostgreSQL database share their rate limits: an attacker cannot multiply
//! login guesses (or a member posts) by the number of nodes. On SQLite (one node) the limits stay
//! in memory, as before.

use std::net::IpAddr;
use std::time::Duration;

use plenum_api::auth::ratelimit::{GuessLimiter, GuessLimits};
use plenum_api::routes::collab::PostLimiter;
use plenum_domain::UserId;
use plenum_store::testing::TestDb;
use plenum_store::{Backend, connect};
use rstest::rstest;
use serde_json::json;

use crate::helpers::spawn_app_with;

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test]
async fn two_nodes_share_the_guess_budget_on_postgres_only(#[case] backend: Backend) {
    let Some(test_db) = TestDb::migrated(backend).await else {
        return;
    };
    let other_pool = connect(&test_db.url).await.unwrap();
    let limits = GuessLimits {
        account_burst: 3,
        account_period: Duration::from_secs(60),
        ..GuessLimits::default()
    };
    let node_a = GuessLimiter::new(limits).shared(&test_db.db, backend);
    let node_b = GuessLimiter::new(limits).shared(&other_pool, backend);
    let ip: IpAddr = "192.0.2.7".parse().unwrap();
    assert!(node_a.check(Some("anna"), ip).await.is_ok());
    assert!(node_a.check(Some("Anna"), ip).await.is_ok());
    assert!(node_b.check(Some("ANNA"), ip).await.is_ok());
    let fourth = node_b.check(Some("anna"), ip).await;
    match backend {
        Backend::Postgres => {
            let wait = fourth.expect_err("the fourth guess on any node is refused");
            assert!(wait > Duration::from_secs(50), "{wait:?}");
            assert!(node_a.check(Some("anna"), ip).await.is_err());
        }
        Backend::Sqlite => {
            // In memory, per limiter, exactly as before.
            assert!(fourth.is_ok(), "each in-memory limiter has its own budget");
            assert!(node_a.check(Some("anna"), ip).await.is_ok());
            assert!(node_a.check(Some("anna"), ip).await.is_err());
        }
    }
    assert!(
        node_b.check(Some("bernd"), ip).await.is_ok(),
        "other accounts are unaffected"
    );

    // The per-address budget is shared the same way.
    let limits = GuessLimits {
        address_burst: 2,
        address_period: Duration::from_secs(60),
        ..GuessLimits::default()
    };
    let node_a = GuessLimiter::new(limits).shared(&test_db.db, backend);
    let node_b = GuessLimiter::new(limits).shared(&other_pool, backend);
    let ip: IpAddr = "2001:db8::1".parse().unwrap();
    assert!(node_a.check(None, ip).await.is_ok());
    assert!(node_b.check(None, ip).await.is_ok());
    assert_eq!(
        node_b.check(None, ip).await.is_err(),
        backend == Backend::Postgres
    );

    // And so is the posting limit.
    let user = UserId::new();
    let node_a = PostLimiter::new(2, Duration::from_secs(60)).shared(&test_db.db, backend);
    let node_b = PostLimiter::new(2, Duration::from_secs(60)).shared(&other_pool, backend);
    assert!(node_a.check(user).await.is_ok());
    assert!(node_b.check(user).await.is_ok());
    assert_eq!(
        node_a.check(user).await.is_err(),
        backend == Backend::Postgres
    );
    other_pool.close().await.unwrap();
}

/// Two real servers on one PostgreSQL database: wrong passwords sent to either count against one
/// budget per account.
#[tokio::test]
async fn login_guesses_across_two_servers_are_limited_together() {
    let Some(app) = spawn_app_with(Backend::Postgres, true, |config| {
        config.login_burst_per_account = 3;
    })
    .await
    else {
        return;
    };
    // A second node: its own data directory with the same keys, the same database.
    let data_dir = tempfile::tempdir().unwrap();
    for key in ["signing.key", "totp.key", "audit.key"] {
        let from = app.config.data_dir.join(key);
        if from.exists() {
            std::fs::copy(&from, data_dir.path().join(key)).unwrap();
        }
    }
    let mut config = app.config.clone();
    config.data_dir = data_dir.path().to_owned();
    let second = plenum_server::start(&config, false).await.unwrap();
    let login = |addr: std::net::SocketAddr| {
        let client = app.client.clone();
        async move {
            client
                .post(format!("http://{addr}/api/v1/auth/login"))
                .json(&json!({"username": "susanne.richter", "password": "wrong guess"}))
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(login(app.addr).await.status(), 401);
    assert_eq!(login(second.addr).await.status(), 401);
    assert_eq!(login(app.addr).await.status(), 401);
    let refused = login(second.addr).await;
    assert_eq!(refused.status(), 429, "the fourth guess, on either node");
    assert!(refused.headers().contains_key("retry-after"));
    assert_eq!(login(app.addr).await.status(), 429);
    second.shutdown().await.unwrap();
    app.stop().await;
}
