//! Login state and the audit chain, on SQLite and PostgreSQL: every "once" rule holds under
//! concurrent use.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{Duration, Utc};
use plenum_domain::*;
use plenum_store::audit::{self, Anchor, AuditKey, AuditLog};
use plenum_store::auth::{
    known_devices, pending_logins, recovery_codes, second_factor_guards, sessions, setup_links,
    totp,
};
use plenum_store::repo::users;
use plenum_store::testing::TestDb;
use plenum_store::{Backend, ConnectionTrait};
use rstest::rstest;

async fn user(db: &impl ConnectionTrait, name: &str) -> UserId {
    users::insert(
        db,
        User {
            id: UserId::new(),
            meta: Meta::default(),
            username: Username::parse(name).unwrap(),
            display_name: Name::parse(name).unwrap(),
            person_id: None,
            site_role: SiteRole::Member,
            password_hash: None,
        },
    )
    .await
    .unwrap()
    .id
}

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_totp_step_is_accepted_once_even_in_parallel(#[case] backend: Backend) {
    let Some(test_db) = TestDb::migrated(backend).await else {
        return;
    };
    let db = &test_db.db;
    let u = user(db, "anna").await;
    let now = Utc::now();
    totp::begin_enrolment(db, u, "enc".into(), now)
        .await
        .unwrap();
    assert!(!totp::get(db, u).await.unwrap().unwrap().enabled);
    totp::enable(db, u, now).await.unwrap();
    assert!(
        totp::enable(db, u, now).await.is_err(),
        "enabling twice is a conflict"
    );
    assert!(
        totp::begin_enrolment(db, u, "other".into(), now)
            .await
            .is_err()
    );

    for step in [100u64, 101, 105] {
        let attempts = (0..8).map(|_| {
            let db = db.clone();
            tokio::spawn(async move { totp::accept_step(&db, u, step).await.unwrap() })
        });
        let accepted = futures_count(attempts).await;
        assert_eq!(accepted, 1, "step {step} accepted exactly once");
    }
    assert!(
        !totp::accept_step(db, u, 104).await.unwrap(),
        "older steps stay refused"
    );
    assert_eq!(totp::get(db, u).await.unwrap().unwrap().last_step, 105);
    assert!(totp::remove(db, u).await.unwrap());
    assert!(totp::get(db, u).await.unwrap().is_none());
}

async fn futures_count(handles: impl Iterator<Item = tokio::task::JoinHandle<bool>>) -> usize {
    let mut count = 0;
    for handle in handles.collect::<Vec<_>>() {
        if handle.await.unwrap() {
            count += 1;
        }
    }
    count
}

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn recovery_codes_and_setup_links_work_once(#[case] backend: Backend) {
    let Some(test_db) = TestDb::migrated(backend).await else {
        return;
    };
    let db = &test_db.db;
    let u = user(db, "bernd").await;
    let now = Utc::now();
    let hashes: Vec<String> = (0..10).map(|i| format!("{i:064}")).collect();
    recovery_codes::replace(db, u, &hashes, now).await.unwrap();
    assert_eq!(recovery_codes::remaining(db, u).await.unwrap(), 10);
    let attempts = (0..6).map(|_| {
        let db = db.clone();
        let hash = hashes[3].clone();
        tokio::spawn(async move {
            recovery_codes::consume(&db, u, &hash, Utc::now())
                .await
                .unwrap()
        })
    });
    assert_eq!(futures_count(attempts).await, 1);
    assert_eq!(recovery_codes::remaining(db, u).await.unwrap(), 9);
    assert!(
        !recovery_codes::consume(db, u, "unknown", now)
            .await
            .unwrap()
    );
    let other = user(db, "carla").await;
    assert!(
        !recovery_codes::consume(db, other, &hashes[4], now)
            .await
            .unwrap(),
        "codes are per user"
    );

    setup_links::insert(db, u, "tok-1", now, now + Duration::hours(72))
        .await
        .unwrap();
    setup_links::insert(db, u, "tok-2", now, now + Duration::hours(72))
        .await
        .unwrap();
    assert_eq!(
        setup_links::consume(db, "tok-1", now).await.unwrap(),
        None,
        "superseded"
    );
    assert_eq!(
        setup_links::consume(db, "tok-2", now).await.unwrap(),
        Some(u)
    );
    assert_eq!(
        setup_links::consume(db, "tok-2", now).await.unwrap(),
        None,
        "used once"
    );
    setup_links::insert(db, u, "tok-3", now, now + Duration::hours(1))
        .await
        .unwrap();
    assert_eq!(
        setup_links::consume(db, "tok-3", now + Duration::hours(2))
            .await
            .unwrap(),
        None,
        "expired"
    );
}

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn refresh_tokens_rotate_once_and_sessions_revoke(#[case] backend: Backend) {
    let Some(test_db) = TestDb::migrated(backend).await else {
        return;
    };
    let db = &test_db.db;
    let u = user(db, "dora").await;
    let now = chrono::SubsecRound::trunc_subsecs(Utc::now(), 6);
    let session = DeviceSession {
        id: DeviceSessionId::new(),
        user_id: u,
        name: "Tablet".into(),
        user_agent: "test".into(),
        created: now,
        last_used: now,
        expires_at: now + Duration::days(30),
        revoked_at: None,
        revoked_reason: None,
    };
    sessions::insert(db, &session, "h0").await.unwrap();
    assert_eq!(sessions::get(db, session.id).await.unwrap(), session);
    let exp = now + Duration::days(30);
    let attempts = (0..6).map(|i| {
        let db = db.clone();
        let id = session.id;
        tokio::spawn(async move {
            sessions::rotate(&db, id, "h0", &format!("h1-{i}"), now, exp)
                .await
                .unwrap()
        })
    });
    assert_eq!(
        futures_count(attempts).await,
        1,
        "a refresh token rotates once"
    );
    assert!(
        !sessions::rotate(db, session.id, "h0", "h2", now, exp)
            .await
            .unwrap()
    );
    let second = DeviceSession {
        id: DeviceSessionId::new(),
        ..session.clone()
    };
    sessions::insert(db, &second, "x0").await.unwrap();
    assert_eq!(sessions::list_by_user(db, u).await.unwrap().len(), 2);
    assert!(
        sessions::revoke(db, session.id, "logout", now)
            .await
            .unwrap()
    );
    assert!(
        !sessions::revoke(db, session.id, "logout", now)
            .await
            .unwrap()
    );
    let revoked = sessions::get(db, session.id).await.unwrap();
    assert!(!revoked.is_active(now));
    assert_eq!(revoked.revoked_reason.as_deref(), Some("logout"));
    assert_eq!(sessions::revoke_all(db, u, "admin", now).await.unwrap(), 1);
    let current = sessions::refresh_hash(db, second.id)
        .await
        .unwrap()
        .unwrap();
    assert!(
        !sessions::rotate(db, second.id, &current, "y", now, exp)
            .await
            .unwrap(),
        "revoked sessions do not rotate"
    );
}

/// An audit log with a test key, anchored in `dir`.
fn audit_log(dir: &std::path::Path) -> std::sync::Arc<AuditLog> {
    std::sync::Arc::new(AuditLog::open(test_key(), dir.join("audit-head")).unwrap())
}

fn test_key() -> AuditKey {
    AuditKey::from_bytes(&[7; audit::KEY_BYTES]).unwrap()
}

fn event(n: u64) -> AuditEvent {
    AuditEvent {
        actor: None,
        action: "paper.updated".into(),
        subject: Some(format!("paper:{n}")),
        detail: format!("{{\"n\":{n}}}"),
    }
}

/// The chain checked as `plenum audit verify` does: the anchor file first, then the database.
async fn verify(
    db: &impl ConnectionTrait,
    dir: &std::path::Path,
) -> Result<audit::Verified, audit::ChainBreak> {
    let anchor = Anchor::read(&dir.join("audit-head")).unwrap();
    audit::verify(db, Some(&test_key()), anchor.as_ref())
        .await
        .unwrap()
}

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn audit_entries_commit_or_roll_back_with_their_transaction(#[case] backend: Backend) {
    let Some(test_db) = TestDb::migrated(backend).await else {
        return;
    };
    let db = &test_db.db;
    let dir = tempfile::tempdir().unwrap();
    let log = audit_log(dir.path());
    // Concurrent writers, each appending inside its own transaction (racing plain appends too);
    // every third rolls back, and its entry must vanish without leaving a gap.
    let writers = (0..24u64).map(|i| {
        let db = db.clone();
        let log = log.clone();
        tokio::spawn(async move {
            if i % 4 == 3 {
                log.append(&db, event(i), Utc::now()).await.unwrap();
                return true;
            }
            let txn = plenum_store::begin_write(&db).await.unwrap();
            log.append_in(&txn, event(i), Utc::now()).await.unwrap();
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            if i.is_multiple_of(3) {
                txn.rollback().await.unwrap();
                false
            } else {
                txn.commit().await.unwrap();
                log.update_anchor(&db).await;
                true
            }
        })
    });
    let mut kept = 0;
    for handle in writers.collect::<Vec<_>>() {
        kept += u64::from(handle.await.unwrap());
    }
    let entries = audit::list(db).await.unwrap();
    assert_eq!(entries.len() as u64, kept);
    assert!(entries.iter().all(|e| {
        let n: u64 = e.event.subject.as_deref().unwrap()[6..].parse().unwrap();
        n % 4 == 3 || !n.is_multiple_of(3)
    }));
    let verified = verify(db, dir.path()).await.unwrap();
    assert_eq!((verified.entries, verified.legacy), (kept, 0));
    // The anchor ends at the head, whatever order the writers finished in.
    let anchor = Anchor::read(&dir.path().join("audit-head"))
        .unwrap()
        .unwrap();
    assert_eq!(anchor.head, audit::head(db).await.unwrap());
    assert_eq!(anchor.keyed_from, 1);
    assert_eq!(log.anchor().await, Some(anchor));
}

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_audit_chain_is_gap_free_and_detects_tampering(#[case] backend: Backend) {
    let Some(test_db) = TestDb::migrated(backend).await else {
        return;
    };
    let db = &test_db.db;
    let dir = tempfile::tempdir().unwrap();
    let log = audit_log(dir.path());
    let appends = (0..20).map(|i| {
        let db = db.clone();
        let log = log.clone();
        tokio::spawn(async move { log.append(&db, event(i), Utc::now()).await.unwrap() })
    });
    for handle in appends.collect::<Vec<_>>() {
        handle.await.unwrap();
    }
    let entries = audit::list(db).await.unwrap();
    assert_eq!(
        entries.iter().map(|e| e.seq).collect::<Vec<_>>(),
        (1..=20).collect::<Vec<_>>()
    );
    assert_eq!(verify(db, dir.path()).await.unwrap().entries, 20);
    db.execute_unprepared("UPDATE audit_log SET subject = 'someone-else' WHERE seq = 7")
        .await
        .unwrap();
    let broken = verify(db, dir.path()).await.unwrap_err();
    assert_eq!(broken.seq, 7);
}

/// 195 entries, anchored, in batches as the live session writes them.
async fn chain_of_195(db: &plenum_store::DatabaseConnection, log: &AuditLog) {
    for batch in 0..13u64 {
        let events: Vec<_> = (0..15)
            .map(|i| (Utc::now(), event(batch * 15 + i)))
            .collect();
        log.append_all(db, &events).await.unwrap();
    }
    assert_eq!(audit::head(db).await.unwrap().seq, 195);
}

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test]
async fn a_removed_tail_is_detected_by_the_anchor(#[case] backend: Backend) {
    let Some(test_db) = TestDb::migrated(backend).await else {
        return;
    };
    let db = &test_db.db;
    let dir = tempfile::tempdir().unwrap();
    let log = audit_log(dir.path());
    chain_of_195(db, &log).await;
    assert_eq!(verify(db, dir.path()).await.unwrap().entries, 195);
    db.execute_unprepared("DELETE FROM audit_log WHERE seq > 175")
        .await
        .unwrap();
    let broken = verify(db, dir.path()).await.unwrap_err();
    assert_eq!(broken.seq, 176, "{broken:?}");
    assert!(broken.reason.contains("removed"), "{broken:?}");
    // New entries on top of the cut chain do not move the anchor past the gap.
    log.append(db, event(1000), Utc::now()).await.unwrap();
    for _ in 0..25 {
        log.append(db, event(1001), Utc::now()).await.unwrap();
    }
    let anchor = Anchor::read(&dir.path().join("audit-head"))
        .unwrap()
        .unwrap();
    assert_eq!(anchor.head.seq, 195);
    let broken = verify(db, dir.path()).await.unwrap_err();
    assert_eq!(broken.seq, 195, "{broken:?}");
}

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test]
async fn a_chain_rewritten_without_the_key_is_detected(#[case] backend: Backend) {
    let Some(test_db) = TestDb::migrated(backend).await else {
        return;
    };
    let db = &test_db.db;
    let dir = tempfile::tempdir().unwrap();
    let log = audit_log(dir.path());
    chain_of_195(db, &log).await;
    // Edit entry 100 and recompute every later hash, with plain SHA-256 (marked as such, or
    // not) and with a guessed key: each is refused.
    let wrong = AuditKey::from_bytes(&[8; audit::KEY_BYTES]).unwrap();
    for (scheme, key) in [(1, None), (2, None), (2, Some(&wrong))] {
        let mut prev = audit::list(db).await.unwrap()[98].hash.clone();
        for mut entry in audit::list(db).await.unwrap().into_iter().skip(99) {
            if entry.seq == 100 {
                entry.event.subject = Some("someone-else".into());
            }
            let hash = match key {
                None => audit::legacy_hash(&prev, entry.seq, entry.at, &entry.event),
                Some(key) => audit::keyed_hash(key, &prev, entry.seq, entry.at, &entry.event),
            };
            db.execute_unprepared(&format!(
                "UPDATE audit_log SET subject = '{}', prev_hash = '{prev}', hash = '{hash}', \
                 scheme = {scheme} WHERE seq = {}",
                entry.event.subject.unwrap(),
                entry.seq
            ))
            .await
            .unwrap();
            prev = hash;
        }
        let broken = verify(db, dir.path()).await.unwrap_err();
        assert_eq!(broken.seq, 100, "scheme {scheme}: {broken:?}");
        // Even without the anchor, the keyed chain does not accept it.
        let broken = audit::verify(db, Some(&test_key()), None)
            .await
            .unwrap()
            .unwrap_err();
        assert_eq!(broken.seq, 100, "scheme {scheme}: {broken:?}");
    }
}

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test]
async fn old_entries_stay_valid_and_are_frozen_by_the_first_keyed_one(#[case] backend: Backend) {
    let Some(test_db) = TestDb::migrated(backend).await else {
        return;
    };
    let db = &test_db.db;
    // A database from before the audit key: plain SHA-256 entries, no anchor.
    for i in 0..10 {
        audit::append_legacy(db, event(i), Utc::now())
            .await
            .unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let verified = verify(db, dir.path()).await.unwrap();
    assert_eq!((verified.entries, verified.legacy), (10, 10));
    // The upgraded server anchors at start, then appends keyed entries.
    let log = audit_log(dir.path());
    log.update_anchor(db).await;
    let anchor = Anchor::read(&dir.path().join("audit-head"))
        .unwrap()
        .unwrap();
    assert_eq!((anchor.head.seq, anchor.keyed_from), (10, 11));
    for i in 10..15 {
        log.append(db, event(i), Utc::now()).await.unwrap();
    }
    let verified = verify(db, dir.path()).await.unwrap();
    assert_eq!((verified.entries, verified.legacy), (15, 10));
    assert_eq!(verified.head, audit::head(db).await.unwrap());

    // Turning the keyed entries into plain ones (a downgrade) is refused.
    let mut prev = audit::list(db).await.unwrap()[9].hash.clone();
    for entry in audit::list(db).await.unwrap().into_iter().skip(10) {
        let hash = audit::legacy_hash(&prev, entry.seq, entry.at, &entry.event);
        db.execute_unprepared(&format!(
            "UPDATE audit_log SET prev_hash = '{prev}', hash = '{hash}', scheme = 1 WHERE seq = {}",
            entry.seq
        ))
        .await
        .unwrap();
        prev = hash;
    }
    let broken = verify(db, dir.path()).await.unwrap_err();
    assert_eq!(broken.seq, 11, "{broken:?}");

    // An old entry edited and its successors recomputed: the first keyed entry breaks.
    let test_db = TestDb::migrated(backend).await.unwrap();
    let db = &test_db.db;
    let dir = tempfile::tempdir().unwrap();
    for i in 0..10 {
        audit::append_legacy(db, event(i), Utc::now())
            .await
            .unwrap();
    }
    let log = audit_log(dir.path());
    log.update_anchor(db).await;
    log.append(db, event(10), Utc::now()).await.unwrap();
    let mut prev = audit::list(db).await.unwrap()[3].hash.clone();
    for mut entry in audit::list(db).await.unwrap().into_iter().skip(4).take(6) {
        if entry.seq == 5 {
            entry.event.detail = "{}".into();
        }
        let hash = audit::legacy_hash(&prev, entry.seq, entry.at, &entry.event);
        db.execute_unprepared(&format!(
            "UPDATE audit_log SET detail = '{}', prev_hash = '{prev}', hash = '{hash}' WHERE seq = {}",
            entry.event.detail, entry.seq
        ))
        .await
        .unwrap();
        prev = hash;
    }
    for anchor in [Anchor::read(&dir.path().join("audit-head")).unwrap(), None] {
        let broken = audit::verify(db, Some(&test_key()), anchor.as_ref())
            .await
            .unwrap()
            .unwrap_err();
        assert_eq!(broken.seq, 11, "the first keyed entry: {broken:?}");
    }
}

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_pending_login_is_consumed_once_even_in_parallel(#[case] backend: Backend) {
    let Some(test_db) = TestDb::migrated(backend).await else {
        return;
    };
    let db = &test_db.db;
    let u = user(db, "anna").await;
    let now = Utc::now();
    let id = pending_logins::create(db, u, false, now, now + Duration::minutes(5))
        .await
        .unwrap();
    let open = pending_logins::get_open(db, id, now)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((open.user_id, open.enrol), (u, false));
    let attempts = (0..8).map(|_| {
        let db = db.clone();
        tokio::spawn(async move { pending_logins::consume(&db, id, now).await.unwrap() })
    });
    assert_eq!(futures_count(attempts).await, 1, "consumed exactly once");
    assert!(
        pending_logins::get_open(db, id, now)
            .await
            .unwrap()
            .is_none()
    );

    let late = pending_logins::create(db, u, true, now, now + Duration::minutes(5))
        .await
        .unwrap();
    let after = now + Duration::minutes(6);
    assert!(
        pending_logins::get_open(db, late, after)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        !pending_logins::consume(db, late, after).await.unwrap(),
        "an expired pending login cannot be used"
    );
    // Long-expired rows are cleared out by the next password step.
    pending_logins::create(
        db,
        u,
        false,
        now + Duration::hours(2),
        now + Duration::hours(3),
    )
    .await
    .unwrap();
    assert!(!pending_logins::consume(db, late, now).await.unwrap());
}

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn second_factor_attempts_are_claimed_one_at_a_time(#[case] backend: Backend) {
    let Some(test_db) = TestDb::migrated(backend).await else {
        return;
    };
    let db = &test_db.db;
    let u = user(db, "anna").await;
    let other = user(db, "bernd").await;
    let new = second_factor_guards::NEW_DEVICES;
    let t0 = chrono::SubsecRound::trunc_subsecs(Utc::now() - Duration::hours(1), 6);
    assert_eq!(
        second_factor_guards::get(db, u, new).await.unwrap(),
        SecondFactorBudget::default()
    );
    // Eight parallel attempts that all saw no failures: one gets through.
    let attempts = (0..8).map(|_| {
        let db = db.clone();
        tokio::spawn(async move {
            second_factor_guards::claim(&db, u, second_factor_guards::NEW_DEVICES, 0, t0)
                .await
                .unwrap()
        })
    });
    assert_eq!(futures_count(attempts).await, 1);
    second_factor_guards::failed(db, u, new).await.unwrap();
    for seen in 1..SECOND_FACTOR_LOCK_AFTER {
        assert!(
            second_factor_guards::claim(db, u, new, seen, t0)
                .await
                .unwrap()
        );
        second_factor_guards::failed(db, u, new).await.unwrap();
    }
    let budget = second_factor_guards::get(db, u, new).await.unwrap();
    assert_eq!(budget.failures, SECOND_FACTOR_LOCK_AFTER);
    assert!(budget.is_locked());
    assert_eq!(
        budget.verdict(SecondFactorKind::Code, Utc::now()),
        SecondFactorVerdict::Locked
    );
    // A known device has its own budget; other accounts are untouched.
    assert_eq!(
        second_factor_guards::get(db, u, "some-device")
            .await
            .unwrap(),
        SecondFactorBudget::default()
    );
    assert_eq!(
        second_factor_guards::get(db, other, new).await.unwrap(),
        SecondFactorBudget::default()
    );
    assert!(
        second_factor_guards::claim(db, u, "some-device", 0, t0)
            .await
            .unwrap()
    );
    second_factor_guards::passed(db, u, "some-device")
        .await
        .unwrap();
    assert_eq!(
        second_factor_guards::get(db, u, "some-device")
            .await
            .unwrap()
            .failures,
        0
    );
    let failing = second_factor_guards::list_failing(db).await.unwrap();
    assert_eq!(failing.len(), 1);
    assert_eq!((failing[0].user_id, failing[0].bucket.as_str()), (u, new));

    // The notice: ten failures, told once.
    let (unseen, last) = second_factor_guards::take_unseen(db, u).await.unwrap();
    assert_eq!((unseen, last), (SECOND_FACTOR_LOCK_AFTER, Some(t0)));
    assert_eq!(second_factor_guards::take_unseen(db, u).await.unwrap().0, 0);

    // A recovery code ends every lock; an admin's unlock clears the rows.
    second_factor_guards::reset_all(db, u).await.unwrap();
    assert!(
        !second_factor_guards::get(db, u, new)
            .await
            .unwrap()
            .is_locked()
    );
    assert!(
        second_factor_guards::claim(db, u, new, 0, t0)
            .await
            .unwrap()
    );
    assert_eq!(second_factor_guards::clear(db, u).await.unwrap(), 2);
    assert!(
        second_factor_guards::list_by_user(db, u)
            .await
            .unwrap()
            .is_empty()
    );
}

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test]
async fn a_known_device_is_recognised_only_with_its_cookie_and_user(#[case] backend: Backend) {
    let Some(test_db) = TestDb::migrated(backend).await else {
        return;
    };
    let db = &test_db.db;
    let u = user(db, "anna").await;
    let other = user(db, "bernd").await;
    let now = Utc::now();
    let id = known_devices::register(db, u, "hash-a", now).await.unwrap();
    assert_eq!(
        known_devices::find(db, id, u, "hash-a", now).await.unwrap(),
        Some(id)
    );
    assert_eq!(
        known_devices::find(db, id, u, "hash-b", now).await.unwrap(),
        None
    );
    assert_eq!(
        known_devices::find(db, id, other, "hash-a", now)
            .await
            .unwrap(),
        None,
        "a device is known for the user who signed in on it"
    );
    let later = now + known_devices::KEEP + Duration::days(1);
    assert_eq!(
        known_devices::find(db, id, u, "hash-a", later)
            .await
            .unwrap(),
        None,
        "forgotten after a long time unused"
    );
    known_devices::touch(db, id, later).await.unwrap();
    assert_eq!(
        known_devices::find(db, id, u, "hash-a", later)
            .await
            .unwrap(),
        Some(id)
    );
    assert_eq!(known_devices::forget_all(db, u).await.unwrap(), 1);
    assert_eq!(
        known_devices::find(db, id, u, "hash-a", later)
            .await
            .unwrap(),
        None
    );
}
