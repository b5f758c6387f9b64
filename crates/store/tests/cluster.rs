//! State that every node on one database shares: rate limits counted in `rate_limit` and the
//! blob store's advisory lock. Run on SQLite and PostgreSQL; "two nodes" are two connection
//! pools on the same database.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use plenum_store::cluster::{self, Quota};
use plenum_store::testing::TestDb;
use plenum_store::{Backend, ConnectionTrait, connect};
use rstest::rstest;

const MINUTE: Duration = Duration::from_secs(60);

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test]
async fn two_pools_share_one_budget(#[case] backend: Backend) {
    let Some(test_db) = TestDb::migrated(backend).await else {
        return;
    };
    let node_a = &test_db.db;
    let node_b = connect(&test_db.url).await.unwrap();
    let quota = Quota {
        burst: 3,
        period: MINUTE,
    };
    assert_eq!(
        cluster::rate_limit(node_a, "k:anna", quota).await.unwrap(),
        Ok(())
    );
    assert_eq!(
        cluster::rate_limit(&node_b, "k:anna", quota).await.unwrap(),
        Ok(())
    );
    assert_eq!(
        cluster::rate_limit(node_a, "k:anna", quota).await.unwrap(),
        Ok(())
    );
    let wait = cluster::rate_limit(&node_b, "k:anna", quota)
        .await
        .unwrap()
        .unwrap_err();
    assert!(
        wait > Duration::from_secs(50) && wait <= MINUTE,
        "the fourth waits about one period: {wait:?}"
    );
    // A refusal is not counted: still one period, not two.
    let again = cluster::rate_limit(node_a, "k:anna", quota)
        .await
        .unwrap()
        .unwrap_err();
    assert!(again <= MINUTE, "{again:?}");
    assert_eq!(
        cluster::rate_limit(node_a, "k:bernd", quota).await.unwrap(),
        Ok(()),
        "other keys are unaffected"
    );
    node_b.close().await.unwrap();
}

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test]
async fn the_budget_refills_one_per_period_and_expired_rows_are_pruned(#[case] backend: Backend) {
    let Some(test_db) = TestDb::migrated(backend).await else {
        return;
    };
    let db = &test_db.db;
    let quota = Quota {
        burst: 2,
        period: Duration::from_millis(300),
    };
    assert!(cluster::rate_limit(db, "k", quota).await.unwrap().is_ok());
    assert!(cluster::rate_limit(db, "k", quota).await.unwrap().is_ok());
    let wait = cluster::rate_limit(db, "k", quota)
        .await
        .unwrap()
        .unwrap_err();
    assert!(wait <= Duration::from_millis(300), "{wait:?}");
    tokio::time::sleep(wait + Duration::from_millis(20)).await;
    assert!(
        cluster::rate_limit(db, "k", quota).await.unwrap().is_ok(),
        "one more after the wait"
    );
    assert!(cluster::rate_limit(db, "k", quota).await.unwrap().is_err());

    // Nothing is pruned while the key's time lies ahead; everything once it has passed.
    assert!(
        cluster::rate_limit(db, "other", quota)
            .await
            .unwrap()
            .is_ok()
    );
    assert_eq!(cluster::prune_rate_limits(db).await.unwrap(), 0);
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(cluster::prune_rate_limits(db).await.unwrap(), 2);
    let rows = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT COUNT(*) AS n FROM rate_limit",
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(rows.try_get::<i64>("", "n").unwrap(), 0);
    // A pruned key starts with a full burst again.
    assert!(cluster::rate_limit(db, "k", quota).await.unwrap().is_ok());
    assert!(cluster::rate_limit(db, "k", quota).await.unwrap().is_ok());
}

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_checks_from_two_pools_count_every_event_once(#[case] backend: Backend) {
    let Some(test_db) = TestDb::migrated(backend).await else {
        return;
    };
    let node_b = connect(&test_db.url).await.unwrap();
    let quota = Quota {
        burst: 5,
        period: MINUTE,
    };
    let attempts = (0..20).map(|i| {
        let db = if i % 2 == 0 {
            test_db.db.clone()
        } else {
            node_b.clone()
        };
        tokio::spawn(async move { cluster::rate_limit(&db, "k:race", quota).await.unwrap() })
    });
    let mut allowed = 0;
    for attempt in attempts.collect::<Vec<_>>() {
        if attempt.await.unwrap().is_ok() {
            allowed += 1;
        }
    }
    assert_eq!(
        allowed, 5,
        "exactly the burst, however the checks interleave"
    );
    node_b.close().await.unwrap();
}

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_blob_lock_serialises_two_nodes(#[case] backend: Backend) {
    let Some(test_db) = TestDb::migrated(backend).await else {
        return;
    };
    let node_b = connect(&test_db.url).await.unwrap();
    let first = cluster::blob_lock(&test_db.db).await.unwrap();
    assert_eq!(first.is_shared(), backend == Backend::Postgres);
    let (taken_tx, mut taken_rx) = tokio::sync::oneshot::channel();
    let second = tokio::spawn(async move {
        let lock = cluster::blob_lock(&node_b).await.unwrap();
        let _ = taken_tx.send(());
        lock.release().await.unwrap();
        node_b.close().await.unwrap();
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    match backend {
        Backend::Postgres => {
            assert!(
                taken_rx.try_recv().is_err(),
                "the second node waits while the first holds the lock"
            );
            first.release().await.unwrap();
            tokio::time::timeout(Duration::from_secs(5), taken_rx)
                .await
                .expect("the second node gets the lock once the first releases it")
                .unwrap();
        }
        Backend::Sqlite => {
            // One node: the lock is this node's mutex alone (in the API), nothing in the database.
            assert!(taken_rx.try_recv().is_ok());
            first.release().await.unwrap();
        }
    }
    second.await.unwrap();

    // A dropped guard releases the lock as well (its transaction is rolled back).
    if backend == Backend::Postgres {
        let dropped = cluster::blob_lock(&test_db.db).await.unwrap();
        drop(dropped);
        let again = tokio::time::timeout(Duration::from_secs(5), cluster::blob_lock(&test_db.db))
            .await
            .expect("a dropped guard does not keep the lock")
            .unwrap();
        again.release().await.unwrap();
    }
}
