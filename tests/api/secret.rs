//! Secret ballots against someone who copies everything at one moment of an open poll: the
//! database (SQLite with its WAL; PostgreSQL with every live and dead row version), the data
//! directory with every key file, and the ballot boxes. The attacks of the independent review
//! are run on each copy: decrypt whatever can be decrypted with the keys in the copy, then line
//! the ballots up with the participations by row order (SQLite's rowid, the WAL) or by writing
//! transaction (PostgreSQL's `xmin`). A copy may tell how many voted and who, never who cast
//! which ballot.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use plenum_api::auth::crypto::SecretCipher;
use plenum_api::live::ballot_box::{BallotBox, BallotBoxes, on_memory_fs};
use plenum_domain::{BallotChoice, Choice, PersonId, PollId};
use plenum_store::Backend;
use rstest::rstest;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::json;
use uuid::Uuid;

use crate::helpers::{TestApp, spawn_app};
use crate::live::{Committee, LiveClient, committee, create_and_open, start_and_check_in};

/// Everything someone could take away at one moment.
struct Copy {
    /// Every file of the data directory, the ballot directory and (SQLite) the database
    /// directory, with its bytes.
    files: Vec<(PathBuf, Vec<u8>)>,
    /// Every live row of every table, as text: (table, row).
    rows: Vec<(String, String)>,
    /// PostgreSQL: every tuple version of every table and TOAST table, live or dead:
    /// (relation, xmin, raw bytes).
    tuples: Vec<(String, String, Vec<u8>)>,
}

async fn take_copy(app: &TestApp) -> Copy {
    let mut files = Vec::new();
    let mut dirs = vec![app.config.data_dir.clone(), app.config.ballot_dir()];
    if app.db.backend == Backend::Sqlite {
        let path = app
            .db
            .url
            .trim_start_matches("sqlite://")
            .split('?')
            .next()
            .unwrap()
            .to_owned();
        dirs.push(Path::new(&path).parent().unwrap().to_owned());
    }
    for dir in dirs {
        collect_files(&dir, &mut files);
    }
    let db = &app.db.db;
    let backend = db.get_database_backend();
    let tables_sql = match app.db.backend {
        Backend::Postgres => "SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public'",
        Backend::Sqlite => {
            "SELECT name AS t FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        }
    };
    let tables: Vec<String> = db
        .query_all_raw(Statement::from_string(backend, tables_sql))
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.try_get::<String>("", "t").unwrap())
        .collect();
    let mut rows = Vec::new();
    for table in &tables {
        let sql = match app.db.backend {
            Backend::Postgres => format!("SELECT row_to_json(x)::text AS r FROM \"{table}\" x"),
            Backend::Sqlite => {
                let columns: Vec<String> = db
                    .query_all_raw(Statement::from_string(
                        backend,
                        format!("SELECT name AS t FROM pragma_table_info('{table}')"),
                    ))
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|r| r.try_get::<String>("", "t").unwrap())
                    .collect();
                let quoted: Vec<String> =
                    columns.iter().map(|c| format!("quote(\"{c}\")")).collect();
                format!(
                    "SELECT {} AS r FROM \"{table}\"",
                    quoted.join(" || ',' || ")
                )
            }
        };
        for row in db
            .query_all_raw(Statement::from_string(backend, sql))
            .await
            .unwrap()
        {
            rows.push((table.clone(), row.try_get::<String>("", "r").unwrap()));
        }
    }
    let mut tuples = Vec::new();
    if app.db.backend == Backend::Postgres {
        db.execute_unprepared("CREATE EXTENSION IF NOT EXISTS pageinspect")
            .await
            .unwrap();
        let relations = db
            .query_all_raw(Statement::from_string(
                backend,
                "SELECT c.oid::regclass::text AS name, \
                 (pg_relation_size(c.oid) / current_setting('block_size')::bigint) AS blocks \
                 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
                 WHERE c.relkind IN ('r', 't') AND n.nspname IN ('public', 'pg_toast')",
            ))
            .await
            .unwrap();
        for relation in relations {
            let name: String = relation.try_get("", "name").unwrap();
            let blocks: i64 = relation.try_get("", "blocks").unwrap();
            for block in 0..blocks {
                let sql = format!(
                    "SELECT t_xmin::text AS xmin, t_data AS data FROM \
                     heap_page_items(get_raw_page('{name}', {block})) WHERE t_data IS NOT NULL"
                );
                for tuple in db
                    .query_all_raw(Statement::from_string(backend, sql))
                    .await
                    .unwrap()
                {
                    tuples.push((
                        name.clone(),
                        tuple.try_get::<String>("", "xmin").unwrap(),
                        tuple.try_get::<Vec<u8>>("", "data").unwrap(),
                    ));
                }
            }
        }
    }
    Copy {
        files,
        rows,
        tuples,
    }
}

fn collect_files(dir: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_files(&path, out);
        } else if let Ok(bytes) = std::fs::read(&path) {
            out.push((path, bytes));
        }
    }
}

impl Copy {
    /// Every 32-byte file of the copy: each could be a key.
    fn keys(&self) -> Vec<SecretCipher> {
        self.files
            .iter()
            .filter(|(_, bytes)| bytes.len() == 32)
            .filter_map(|(_, bytes)| SecretCipher::new(bytes))
            .collect()
    }
}

/// The ballots that can be read out of `bytes`: choices written in the clear, and anything
/// sealed (base64) that one of `keys` opens into a choice.
fn ballots_in(bytes: &[u8], keys: &[SecretCipher], poll: PollId) -> Vec<String> {
    let mut found = Vec::new();
    let text = String::from_utf8_lossy(bytes);
    for pattern in ["\"choice\":", "\\\"choice\\\":", "\"candidate\":"] {
        if text.contains(pattern) {
            found.push(format!("a choice in the clear ({pattern})"));
        }
    }
    if keys.is_empty() {
        return found;
    }
    let is_b64 = |b: u8| b.is_ascii_alphanumeric() || b == b'+' || b == b'/' || b == b'=';
    // Every run of base64 characters long enough to hold a sealed short text; its edges may
    // have grown into neighbouring bytes of a page, so a few starts and ends are tried.
    let mut start = 0;
    while start < bytes.len() {
        if !is_b64(bytes[start]) {
            start += 1;
            continue;
        }
        let mut end = start;
        while end < bytes.len() && is_b64(bytes[end]) {
            end += 1;
        }
        if end - start >= 56 {
            for from in start..(start + 8).min(end) {
                for to in (end.saturating_sub(8)..=end).filter(|to| to - from >= 56) {
                    let token = std::str::from_utf8(&bytes[from..to]).unwrap_or_default();
                    for key in keys {
                        if let Ok(plain) = key.open(poll.as_uuid().as_bytes(), token)
                            && serde_json::from_str::<BallotChoice>(
                                String::from_utf8_lossy(&plain).trim(),
                            )
                            .is_ok()
                        {
                            found.push(format!(
                                "a sealed ballot that a key in the copy opens: {token}"
                            ));
                        }
                    }
                }
            }
        }
        start = end;
    }
    found
}

/// Runs every attack on one copy, taken after `cast` (voter, choice) were acknowledged.
fn attack(copy: &Copy, poll: PollId, cast: &[(PersonId, BallotChoice)], when: &str) {
    let keys = copy.keys();
    // 1. No record of a single ballot anywhere in the database, in any form a key of the copy
    //    opens: without one, neither row order nor a shared transaction can link it to a voter.
    for (table, row) in &copy.rows {
        let found = ballots_in(row.as_bytes(), &keys, poll);
        assert!(found.is_empty(), "{when}: table {table} holds {found:?}");
    }
    // 2. Nor in the raw files: SQLite's database and WAL pages (old versions included), the
    //    data directory.
    let box_name = format!("{poll}.box");
    for (path, bytes) in &copy.files {
        if path.file_name().is_some_and(|n| n == box_name.as_str()) {
            continue;
        }
        let found = ballots_in(bytes, &keys, poll);
        assert!(
            found.is_empty(),
            "{when}: {} holds {found:?}",
            path.display()
        );
    }
    // 3. PostgreSQL: every tuple version, live or dead; and what the transactions that wrote a
    //    participation wrote besides it.
    let participation_xmins: BTreeSet<&str> = copy
        .tuples
        .iter()
        .filter(|(relation, _, _)| relation == "poll_participation")
        .map(|(_, xmin, _)| xmin.as_str())
        .collect();
    assert!(
        copy.tuples.is_empty() || participation_xmins.len() >= cast.len().min(1),
        "{when}: the scan sees the participations"
    );
    for (relation, xmin, data) in &copy.tuples {
        let found = ballots_in(data, &keys, poll);
        assert!(
            found.is_empty(),
            "{when}: a row version of {relation} (xmin {xmin}) holds {found:?}"
        );
        if participation_xmins.contains(xmin.as_str()) {
            assert!(
                [
                    "poll_participation",
                    "meeting_event",
                    "live_session",
                    "live_command"
                ]
                .contains(&relation.as_str()),
                "{when}: the transaction of a participation also wrote to {relation}"
            );
        }
    }
    // 4. The box: one file, and its bytes are a function of who voted (a set) and how many
    //    ballots each choice got (a multiset) only, so they hold no order to line up. Built
    //    again in reverse order, it is the same to the byte.
    let boxes: Vec<&(PathBuf, Vec<u8>)> = copy
        .files
        .iter()
        .filter(|(path, _)| path.extension().is_some_and(|e| e == "box" || e == "new"))
        .collect();
    assert_eq!(boxes.len(), 1, "{when}: exactly one version of the box");
    let mut rebuilt = BallotBox::default();
    for (voter, choice) in cast.iter().rev() {
        rebuilt.cast(*voter, choice);
    }
    assert_eq!(
        boxes[0].1,
        serde_json::to_vec(&rebuilt).unwrap(),
        "{when}: the box holds nothing but the voters and the counts"
    );
}

/// PostgreSQL: the current WAL position (flushed), as `pg_waldump` takes it.
async fn wal_position(app: &TestApp) -> String {
    let row = app
        .db
        .db
        .query_one_raw(Statement::from_string(
            app.db.db.get_database_backend(),
            "SELECT pg_current_wal_flush_lsn()::text AS lsn",
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get("", "lsn").unwrap()
}

/// PostgreSQL: the WAL between `from` and `to`, read with `pg_waldump` as someone with the
/// server's files would, and every transaction in it that wrote a participation row: each may
/// have written to the participation, event, state and command tables (and their indexes and
/// TOAST tables), nothing else. `None` when `pg_waldump` or the WAL files cannot be read here.
async fn wal_attack(app: &TestApp, from: &str, to: &str) -> Option<usize> {
    let db = &app.db.db;
    let backend = db.get_database_backend();
    let one = |sql: &str| Statement::from_string(backend, sql.to_owned());
    let data_dir: String = db
        .query_one_raw(one("SELECT current_setting('data_directory') AS d"))
        .await
        .ok()??
        .try_get("", "d")
        .ok()?;
    let version: String = db
        .query_one_raw(one("SELECT current_setting('server_version_num') AS v"))
        .await
        .ok()??
        .try_get("", "v")
        .ok()?;
    let major = version.parse::<u32>().ok()? / 10000;
    let waldump = format!("/usr/lib/postgresql/{major}/bin/pg_waldump");
    let database: String = db
        .query_one_raw(one(
            "SELECT oid::text AS o FROM pg_database WHERE datname = current_database()",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get("", "o")
        .unwrap();
    // The files of each table, its indexes and its TOAST table (and the TOAST index).
    let files_of = |tables: &[&str]| {
        let list = tables
            .iter()
            .map(|t| format!("'{t}'"))
            .collect::<Vec<_>>()
            .join(",");
        format!(
            "SELECT c.relname AS t, pg_relation_filenode(r.oid)::text AS f FROM pg_class c \
             JOIN pg_class r ON r.oid = c.oid OR r.oid = c.reltoastrelid \
               OR r.oid IN (SELECT indexrelid FROM pg_index WHERE indrelid IN (c.oid, c.reltoastrelid)) \
             WHERE c.relname IN ({list}) AND c.relkind = 'r'"
        )
    };
    let rows = db
        .query_all_raw(one(&files_of(&[
            "poll_participation",
            "meeting_event",
            "live_session",
            "live_command",
        ])))
        .await
        .unwrap();
    let allowed: BTreeSet<String> = rows
        .iter()
        .filter_map(|r| r.try_get::<Option<String>>("", "f").ok().flatten())
        .collect();
    let participation: String = db
        .query_one_raw(one(
            "SELECT pg_relation_filenode('poll_participation')::text AS f",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get("", "f")
        .unwrap();
    let output = std::process::Command::new(&waldump)
        .args(["-p", &format!("{data_dir}/pg_wal"), "-s", from, "-e", to])
        .output()
        .ok()?;
    if !output.status.success() && output.stdout.is_empty() {
        eprintln!(
            "pg_waldump could not read the WAL: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        return None;
    }
    let text = String::from_utf8_lossy(&output.stdout);
    // (transaction, relation file) of every record that touches this database.
    let mut records = Vec::new();
    for line in text.lines() {
        let Some(tx) = line
            .split("tx:")
            .nth(1)
            .and_then(|rest| rest.split(',').next())
            .map(|t| t.trim().to_owned())
        else {
            continue;
        };
        for part in line.split("rel ").skip(1) {
            let triple = part.split_whitespace().next().unwrap_or_default();
            let mut ids = triple.split('/');
            if let (Some(_), Some(db_oid), Some(file)) = (ids.next(), ids.next(), ids.next())
                && db_oid == database
            {
                records.push((
                    tx.clone(),
                    file.trim_end_matches(',').to_owned(),
                    line.to_owned(),
                ));
            }
        }
    }
    let voting: BTreeSet<&String> = records
        .iter()
        .filter(|(_, file, _)| *file == participation)
        .map(|(tx, _, _)| tx)
        .collect();
    for (tx, file, line) in &records {
        // A system catalog (relation files below 16384) holds no user data: the notification
        // that announces the batch to other nodes (`pg_notify`) looks itself up in `pg_proc`,
        // and that read may prune a dead row version of the catalog page, logged in the
        // vote's transaction.
        let catalog = file.parse::<u32>().is_ok_and(|f| f < 16384);
        if voting.contains(tx) {
            assert!(
                allowed.contains(file) || catalog,
                "WAL: transaction {tx}, which wrote a participation, also wrote relation file \
                 {file} (allowed: {allowed:?}): {line}"
            );
        }
    }
    Some(voting.len())
}

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_copy_taken_at_any_moment_of_a_secret_poll_links_no_voter_to_a_ballot(
    #[case] backend: Backend,
) {
    let Some(app) = spawn_app(backend, false).await else {
        return;
    };
    let c = committee(&app, 6).await;
    let mut chair = LiveClient::connect(&app, Some(&c.members[0].1), c.meeting, None).await;
    start_and_check_in(&app, &c, &mut chair, &[0, 1, 2, 3, 4, 5]).await;
    let poll = create_and_open(&mut chair, c.public_item, "secret", "simple", &[]).await;
    let ballot_dir = app.config.ballot_dir();
    if Path::new("/dev/shm").is_dir() {
        assert_eq!(
            on_memory_fs(&ballot_dir),
            Some(true),
            "the boxes live in memory: {}",
            ballot_dir.display()
        );
    }
    let wal_from = match backend {
        Backend::Postgres => Some(wal_position(&app).await),
        Backend::Sqlite => None,
    };
    attack(&take_copy(&app).await, poll, &[], "after the poll opened");
    let choices = [
        Choice::Yes,
        Choice::No,
        Choice::Yes,
        Choice::Abstain,
        Choice::No,
        Choice::Yes,
    ];
    let mut cast = Vec::new();
    // One ballot per request, each its own batch and transaction: the easiest case to link.
    for (i, (person, token)) in c.members.iter().enumerate() {
        let choice = BallotChoice::Choice(choices[i]);
        let response = app
            .client
            .post(app.url(&format!("/api/v1/meetings/{}/live/commands", c.meeting)))
            .bearer_auth(token)
            .json(&json!({"command_id": Uuid::new_v4(), "command": {"type": "cast_ballot", "poll": poll, "choice": choice}}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
        cast.push((*person, choice));
        if matches!(i, 0 | 2 | 5) {
            attack(
                &take_copy(&app).await,
                poll,
                &cast,
                &format!("after {} ballots", i + 1),
            );
        }
    }
    if let Some(from) = wal_from {
        let to = wal_position(&app).await;
        match wal_attack(&app, &from, &to).await {
            Some(transactions) => assert!(
                transactions >= 1,
                "the WAL scan sees the transactions that wrote participations"
            ),
            None => eprintln!("skipping the WAL attack: pg_waldump cannot read the WAL here"),
        }
    }
    chair
        .command(json!({"type": "close_poll", "poll": poll}))
        .await;
    let closed = chair.event("poll_closed").await;
    assert_eq!(
        closed["event"]["result"]["tally"],
        json!({"yes": 3, "no": 2, "abstain": 1, "invalid": 0})
    );
    let after = take_copy(&app).await;
    assert!(
        !after
            .files
            .iter()
            .any(|(path, _)| path.extension().is_some_and(|e| e == "box")),
        "no box is left once the tally is durable"
    );
    for (table, row) in &after.rows {
        assert!(
            ballots_in(row.as_bytes(), &after.keys(), poll).is_empty(),
            "{table}"
        );
    }
    app.stop().await;
}

async fn vote(
    app: &TestApp,
    c: &Committee,
    poll: PollId,
    i: usize,
    choice: &str,
) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/api/v1/meetings/{}/live/commands", c.meeting)))
        .bearer_auth(&c.members[i].1)
        .json(&json!({"command_id": Uuid::new_v4(), "command": {"type": "cast_ballot", "poll": poll, "choice": {"choice": choice}}}))
        .send()
        .await
        .unwrap()
}

/// A box written for a batch whose commit never happened (the process died in between) holds
/// voters the database does not know: at the next start they are rolled forward, so every
/// ballot in the box counts once and the poll can be closed. A box that is gone (the machine
/// restarted) makes the poll uncountable, with a problem that says so.
#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ballots_in_a_box_ahead_of_the_database_are_rolled_forward(#[case] backend: Backend) {
    let Some(mut app) = spawn_app(backend, false).await else {
        return;
    };
    let c = committee(&app, 4).await;
    let mut chair = LiveClient::connect(&app, Some(&c.members[0].1), c.meeting, None).await;
    start_and_check_in(&app, &c, &mut chair, &[0, 1, 2, 3]).await;
    let poll = create_and_open(&mut chair, c.public_item, "secret", "simple", &[]).await;
    assert_eq!(vote(&app, &c, poll, 0, "yes").await.status(), 200);
    chair.close().await;
    app.restart().await;

    // As if the process had died after writing the box for member 1's ballot and before its
    // commit.
    let boxes = BallotBoxes::new(app.config.ballot_dir());
    let mut ahead = boxes.load(poll).unwrap().unwrap();
    assert!(ahead.cast(c.members[1].0, &BallotChoice::Choice(Choice::No)));
    boxes.store(poll, &ahead).unwrap();

    let mut chair = LiveClient::connect(&app, Some(&c.members[0].1), c.meeting, None).await;
    let snapshot = chair.wait_for(|m| m["type"] == "snapshot").await;
    let p = snapshot["state"]["polls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == poll.to_string())
        .unwrap()
        .clone();
    assert_eq!(
        p["voted_count"], 2,
        "member 1's ballot was rolled forward: {p}"
    );
    let again = vote(&app, &c, poll, 1, "yes").await;
    assert_eq!(again.status(), 409);
    assert!(again.text().await.unwrap().contains("already-voted"));
    assert_eq!(vote(&app, &c, poll, 2, "yes").await.status(), 200);
    chair
        .command(json!({"type": "close_poll", "poll": poll}))
        .await;
    let closed = chair.event("poll_closed").await;
    assert_eq!(
        closed["event"]["result"]["tally"],
        json!({"yes": 2, "no": 1, "abstain": 0, "invalid": 0})
    );

    // As if the machine had restarted during the next poll: its box (memory) is gone.
    let lost = create_and_open(&mut chair, c.secret_item, "secret", "simple", &[]).await;
    assert_eq!(vote(&app, &c, lost, 0, "no").await.status(), 200);
    chair.close().await;
    app.restart().await;
    boxes.remove(lost).unwrap();
    let mut chair = LiveClient::connect(&app, Some(&c.members[0].1), c.meeting, None).await;
    chair.wait_for(|m| m["type"] == "snapshot").await;
    let refused = vote(&app, &c, lost, 1, "yes").await;
    assert_eq!(refused.status(), 409);
    let problem: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(problem["type"], "/problems/ballots-lost", "{problem}");
    let close = chair
        .send(json!({"type": "close_poll", "poll": lost}))
        .await;
    assert_eq!(
        chair.reply(close).await["problem"]["type"],
        "/problems/ballots-lost"
    );
    // The chair can cancel it and vote again.
    chair
        .command(json!({"type": "cancel_poll", "poll": lost, "reason": "Stimmzettel verloren"}))
        .await;
    app.stop().await;
}

/// The attack itself works: a ballot sealed under a key that lies in the copy (as older
/// versions kept them, one key file per poll beside rows of sealed ballots) is found, inside
/// other bytes as in a database page, and so is a choice in the clear.
#[test]
fn the_attack_finds_a_sealed_or_plain_ballot_where_there_is_one() {
    let poll = PollId::new();
    let key = [7u8; 32];
    let cipher = SecretCipher::new(&key).unwrap();
    let mut padded = serde_json::to_string(&BallotChoice::Choice(Choice::No)).unwrap();
    while padded.len() < 48 {
        padded.push(' ');
    }
    let sealed = cipher.seal(poll.as_uuid().as_bytes(), padded.as_bytes());
    let page = [
        b"\x00\x13\x07row".as_slice(),
        sealed.as_bytes(),
        b"\x01\x02",
    ]
    .concat();
    let copy = Copy {
        files: vec![(PathBuf::from("poll-keys/x.key"), key.to_vec())],
        rows: Vec::new(),
        tuples: Vec::new(),
    };
    assert_eq!(ballots_in(&page, &copy.keys(), poll).len(), 1);
    assert!(ballots_in(&page, &[], poll).is_empty(), "no key, no ballot");
    assert_eq!(
        ballots_in(br#"{"voter":"x","choice":"yes"}"#, &[], poll).len(),
        1
    );
}

/// A secret poll left open by a version that sealed ballots into the database with a key file
/// per poll: at the next start its ballots become a box, and the sealed rows and the key go.
#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_poll_left_open_by_the_sealed_ballot_version_is_converted(#[case] backend: Backend) {
    let Some(mut app) = spawn_app(backend, false).await else {
        return;
    };
    let c = committee(&app, 3).await;
    let mut chair = LiveClient::connect(&app, Some(&c.members[0].1), c.meeting, None).await;
    start_and_check_in(&app, &c, &mut chair, &[0, 1, 2]).await;
    let poll = create_and_open(&mut chair, c.public_item, "secret", "simple", &[]).await;
    assert_eq!(vote(&app, &c, poll, 0, "no").await.status(), 200);
    assert_eq!(vote(&app, &c, poll, 1, "no").await.status(), 200);
    chair.close().await;
    app.restart().await;

    // What the older version left instead of a box: sealed rows and a key file.
    BallotBoxes::new(app.config.ballot_dir())
        .remove(poll)
        .unwrap();
    let keys = plenum_api::live::keys::PollKeys::new(app.config.data_dir.join("poll-keys"));
    let cipher = keys.create(poll).unwrap();
    for _ in 0..2 {
        let mut padded = serde_json::to_string(&BallotChoice::Choice(Choice::No)).unwrap();
        while padded.len() < 48 {
            padded.push(' ');
        }
        let sealed = cipher.seal(poll.as_uuid().as_bytes(), padded.as_bytes());
        let backend_kind = app.db.db.get_database_backend();
        app.db
            .db
            .execute_raw(Statement::from_sql_and_values(
                backend_kind,
                match app.db.backend {
                    Backend::Postgres => {
                        "INSERT INTO secret_ballot (id, poll_id, sealed) VALUES ($1, $2, $3)"
                    }
                    Backend::Sqlite => {
                        "INSERT INTO secret_ballot (id, poll_id, sealed) VALUES (?, ?, ?)"
                    }
                },
                [Uuid::new_v4().into(), poll.as_uuid().into(), sealed.into()],
            ))
            .await
            .unwrap();
    }

    let mut chair = LiveClient::connect(&app, Some(&c.members[0].1), c.meeting, None).await;
    chair.wait_for(|m| m["type"] == "snapshot").await;
    assert!(
        keys.load(poll).unwrap().is_none(),
        "the legacy key is destroyed"
    );
    let left = app
        .db
        .db
        .query_all_raw(Statement::from_string(
            app.db.db.get_database_backend(),
            "SELECT sealed FROM secret_ballot",
        ))
        .await
        .unwrap();
    assert!(left.is_empty(), "the sealed rows are deleted");
    assert_eq!(vote(&app, &c, poll, 2, "yes").await.status(), 200);
    chair
        .command(json!({"type": "close_poll", "poll": poll}))
        .await;
    let closed = chair.event("poll_closed").await;
    assert_eq!(
        closed["event"]["result"]["tally"],
        json!({"yes": 1, "no": 2, "abstain": 0, "invalid": 0})
    );
    app.stop().await;
}
