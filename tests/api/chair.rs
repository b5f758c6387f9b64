//! The chair's console against the real server: the quorum as the statutes treat it (declared,
//! doubted, a poll below quorum only with confirmation), the repeat meeting, discarding a poll
//! with a reason, starting on another day, and closing the session closing the meeting.

use std::time::Duration;

use chrono::Utc;

use plenum_domain::*;
use plenum_store::Backend;
use plenum_store::repo;
use rstest::rstest;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{TestApp, spawn_app};
use crate::live::{Committee, LiveClient, committee};

/// A command over REST: the status and the body (ack or problem).
pub(crate) async fn command(
    app: &TestApp,
    c: &Committee,
    who: usize,
    command: Value,
) -> (u16, Value) {
    let response = app
        .client
        .post(app.url(&format!("/api/v1/meetings/{}/live/commands", c.meeting)))
        .bearer_auth(&c.members[who].1)
        .json(&json!({"command_id": Uuid::new_v4(), "command": command}))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

pub(crate) async fn ok(app: &TestApp, c: &Committee, who: usize, cmd: Value) {
    let (status, body) = command(app, c, who, cmd.clone()).await;
    assert_eq!(status, 200, "{cmd} → {body}");
}

async fn refused(
    app: &TestApp,
    c: &Committee,
    who: usize,
    cmd: Value,
    status: u16,
    kind: &str,
) -> Value {
    let (got, body) = command(app, c, who, cmd.clone()).await;
    assert_eq!(
        (got, body["type"].as_str()),
        (status, Some(kind)),
        "{cmd} → {body}"
    );
    body
}

async fn snapshot(app: &TestApp, c: &Committee) -> Value {
    app.get_with(
        &format!("/api/v1/meetings/{}/live", c.meeting),
        &c.members[0].1,
    )
    .await
    .json::<Value>()
    .await
    .unwrap()["state"]
        .clone()
}

pub(crate) fn poll_of(state: &Value, poll: PollId) -> Value {
    state["polls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == poll.to_string())
        .cloned()
        .unwrap()
}

async fn create(app: &TestApp, c: &Committee, title: &str) -> PollId {
    let poll = PollId::new();
    ok(app, c, 0, json!({"type": "create_poll", "poll": poll, "item": c.public_item, "title": title, "kind": "open", "rule": "simple"})).await;
    poll
}

/// The audit entries with `action`, waiting briefly: they are written just after each batch.
pub(crate) async fn audited(app: &TestApp, action: &str, at_least: usize) -> Vec<Value> {
    let mut found = Vec::new();
    for _ in 0..100 {
        found = plenum_store::audit::list(&app.db.db)
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.event.action == action)
            .map(|e| serde_json::from_str::<Value>(&e.event.detail).unwrap())
            .collect();
        if found.len() >= at_least {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(found.len() >= at_least, "{action}: {found:?}");
    found
}

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_poll_below_quorum_needs_confirmation_and_a_doubt_needs_a_statement(
    #[case] backend: Backend,
) {
    let Some(app) = spawn_app(backend, false).await else {
        return;
    };
    // Five seats: three must be present.
    let c = committee(&app, 5).await;
    let mut watcher = LiveClient::connect(&app, Some(&c.members[4].1), c.meeting, None).await;
    ok(&app, &c, 0, json!({"type": "start_meeting"})).await;
    for i in [0, 1] {
        ok(&app, &c, i, json!({"type": "check_in", "remote": false})).await;
    }
    let state = snapshot(&app, &c).await;
    assert_eq!(state["quorum"]["present_voting"], 2);
    assert_eq!(
        state["quorum_standing"], "presumed",
        "GO NRW § 49 (1): presumed until established"
    );

    // Below quorum: refused with the count, unless the chair confirms.
    let first = create(&app, &c, "Haushaltssatzung").await;
    let problem = refused(
        &app,
        &c,
        0,
        json!({"type": "open_poll", "poll": first}),
        409,
        "/problems/quorum-not-met",
    )
    .await;
    assert_eq!(problem["quorum"]["present_voting"], 2);
    assert_eq!(problem["quorum"]["required"], 3);
    assert_eq!(problem["quorum"]["statutory"], 5);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .starts_with("2 of 5 voting members present, 3 needed"),
        "{problem}"
    );
    assert_eq!(
        poll_of(&snapshot(&app, &c).await, first)["state"],
        "draft",
        "nothing opened"
    );
    // Nor can the chair declare a quorum the count does not show.
    refused(
        &app,
        &c,
        0,
        json!({"type": "declare_quorum", "quorate": true}),
        409,
        "/problems/quorum-not-reached",
    )
    .await;
    ok(
        &app,
        &c,
        0,
        json!({"type": "open_poll", "poll": first, "confirm_below_quorum": true}),
    )
    .await;
    let opened = watcher.event("poll_opened").await;
    assert_eq!(opened["event"]["below_quorum"], true);
    ok(
        &app,
        &c,
        1,
        json!({"type": "cast_ballot", "poll": first, "choice": {"choice": "yes"}}),
    )
    .await;
    ok(&app, &c, 0, json!({"type": "close_poll", "poll": first})).await;
    let closed = poll_of(&snapshot(&app, &c).await, first);
    assert_eq!(closed["below_quorum"], true);
    assert_eq!(
        closed["result"]["below_quorum"], true,
        "the result carries the mark"
    );

    // Enough members now; a member doubts the quorum: no poll opens until the chair states it.
    for i in [2, 3] {
        ok(&app, &c, i, json!({"type": "check_in", "remote": false})).await;
    }
    ok(&app, &c, 3, json!({"type": "doubt_quorum"})).await;
    let doubted = watcher.event("quorum_doubted").await;
    assert_eq!(
        doubted["event"]["doubt"]["person"],
        c.members[3].0.to_string()
    );
    assert_eq!(doubted["event"]["doubt"]["count"]["present_voting"], 4);
    let state = snapshot(&app, &c).await;
    assert_eq!(state["quorum_standing"], "doubted");
    assert_eq!(state["quorum_doubts"][0]["name"], "Test Mitglied003");
    let second = create(&app, &c, "Bebauungsplan").await;
    refused(
        &app,
        &c,
        0,
        json!({"type": "open_poll", "poll": second, "confirm_below_quorum": true}),
        409,
        "/problems/quorum-doubted",
    )
    .await;
    // Only the chair states the quorum.
    refused(
        &app,
        &c,
        3,
        json!({"type": "declare_quorum", "quorate": true}),
        403,
        "/problems/not-chair",
    )
    .await;
    ok(
        &app,
        &c,
        0,
        json!({"type": "declare_quorum", "quorate": true}),
    )
    .await;
    let declared = watcher.event("quorum_declared").await;
    assert_eq!(declared["event"]["declaration"]["quorate"], true);
    assert_eq!(
        declared["event"]["declaration"]["count"]["present_voting"],
        4
    );
    assert_eq!(declared["event"]["declaration"]["count"]["required"], 3);
    let state = snapshot(&app, &c).await;
    assert_eq!(state["quorum_standing"], "quorate");
    assert_eq!(
        state["quorum_doubts"],
        json!([]),
        "the statement settles the doubt"
    );
    ok(&app, &c, 0, json!({"type": "open_poll", "poll": second})).await;
    let opened = watcher.event("poll_opened").await;
    assert_eq!(opened["event"]["below_quorum"], false);
    ok(&app, &c, 0, json!({"type": "close_poll", "poll": second})).await;

    // Declared not quorate: even with enough present, a poll needs the confirmation.
    ok(
        &app,
        &c,
        0,
        json!({"type": "declare_quorum", "quorate": false}),
    )
    .await;
    assert_eq!(snapshot(&app, &c).await["quorum_standing"], "not_quorate");
    let third = create(&app, &c, "Dritte Abstimmung").await;
    let problem = refused(
        &app,
        &c,
        0,
        json!({"type": "open_poll", "poll": third}),
        409,
        "/problems/quorum-not-met",
    )
    .await;
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("declared not quorate"),
        "{problem}"
    );

    // Every statement and doubt is audited with its count, and the confirmed poll as such.
    let declarations = audited(&app, "live.quorum_declared", 2).await;
    assert_eq!(declarations[0]["quorate"], true);
    assert_eq!(
        (
            declarations[0]["present"].as_u64(),
            declarations[0]["required"].as_u64()
        ),
        (Some(4), Some(3))
    );
    assert_eq!(declarations[1]["quorate"], false);
    let doubts = audited(&app, "live.quorum_doubted", 1).await;
    assert_eq!(doubts[0]["person"], c.members[3].0.to_string());
    let opened = audited(&app, "poll.opened", 2).await;
    let marks: Vec<(String, bool)> = opened
        .iter()
        .map(|o| {
            (
                o["poll"].as_str().unwrap().to_owned(),
                o["below_quorum"].as_bool().unwrap(),
            )
        })
        .collect();
    assert!(marks.contains(&(first.to_string(), true)), "{marks:?}");
    assert!(marks.contains(&(second.to_string(), false)), "{marks:?}");
    assert!(app.verify_audit().await.is_ok());
    app.stop().await;
}

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_repeat_meeting_decides_regardless_of_the_quorum(#[case] backend: Backend) {
    let Some(app) = spawn_app(backend, false).await else {
        return;
    };
    let c = committee(&app, 5).await;
    let path = format!("/api/v1/meetings/{}/session-settings", c.meeting);
    let put = |who: usize, body: Value| {
        let request = app
            .client
            .put(app.url(&path))
            .bearer_auth(&c.members[who].1)
            .json(&body);
        async move {
            let response = request.send().await.unwrap();
            (
                response.status().as_u16(),
                response.json::<Value>().await.unwrap(),
            )
        }
    };
    // Defaults before anyone set anything.
    let defaults: Value = app.get(&path).await.json().await.unwrap();
    assert_eq!(
        defaults,
        json!({"repeat_meeting": false, "speaking_time_secs": 300})
    );
    let (status, body) = put(1, json!({"repeat_meeting": true})).await;
    assert_eq!(
        (status, body["type"].as_str()),
        (403, Some("/problems/not-chair"))
    );
    let (status, body) = put(0, json!({"repeat_meeting": true, "speaking_time_secs": 0})).await;
    assert_eq!(
        (status, body["type"].as_str()),
        (422, Some("/problems/validation-failed"))
    );
    // Set before the session starts; stored with the meeting.
    let (status, body) = put(
        0,
        json!({"repeat_meeting": true, "speaking_time_secs": 180}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({"repeat_meeting": true, "speaking_time_secs": 180})
    );
    let stored = plenum_store::chair::settings(&app.db.db, c.meeting)
        .await
        .unwrap();
    assert_eq!(
        stored,
        Some(SessionSettings {
            repeat_meeting: true,
            speaking_time_secs: 180
        })
    );
    let settings = audited(&app, "live.settings_changed", 1).await;
    assert_eq!(settings[0]["repeat_meeting"], true);

    ok(&app, &c, 0, json!({"type": "start_meeting"})).await;
    ok(&app, &c, 0, json!({"type": "check_in", "remote": false})).await;
    let state = snapshot(&app, &c).await;
    assert_eq!(state["quorum_standing"], "waived");
    assert_eq!(state["settings"]["speaking_time_secs"], 180);
    assert_eq!(state["quorum_law"]["repeat_meeting"], "GO NRW § 49 (2)");
    // One of five present: the poll opens without confirmation, and says how few were there.
    let poll = create(&app, &c, "Erneute Beratung").await;
    ok(&app, &c, 0, json!({"type": "open_poll", "poll": poll})).await;
    assert_eq!(
        poll_of(&snapshot(&app, &c).await, poll)["below_quorum"],
        true
    );
    // The flag goes off again: now the confirmation is needed.
    ok(
        &app,
        &c,
        0,
        json!({"type": "cancel_poll", "poll": poll, "reason": "Probe"}),
    )
    .await;
    let (status, _) = put(0, json!({"repeat_meeting": false})).await;
    assert_eq!(status, 200);
    let again = create(&app, &c, "Ohne Wiederholung").await;
    refused(
        &app,
        &c,
        0,
        json!({"type": "open_poll", "poll": again}),
        409,
        "/problems/quorum-not-met",
    )
    .await;
    assert_eq!(
        plenum_store::chair::settings(&app.db.db, c.meeting)
            .await
            .unwrap(),
        Some(SessionSettings {
            repeat_meeting: false,
            speaking_time_secs: 300
        })
    );
    app.stop().await;
}

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn niedersachsen_declares_the_quorum_at_the_start(#[case] backend: Backend) {
    let Some(app) = crate::helpers::spawn_app_with(backend, false, |config| {
        config.rule_set = RuleSet::Niedersachsen;
        config.speaking_time_secs = 240;
    })
    .await
    else {
        return;
    };
    let c = committee(&app, 5).await;
    ok(&app, &c, 0, json!({"type": "start_meeting"})).await;
    for i in [0, 1, 2] {
        ok(&app, &c, i, json!({"type": "check_in", "remote": false})).await;
    }
    ok(
        &app,
        &c,
        0,
        json!({"type": "declare_quorum", "quorate": true}),
    )
    .await;
    // Two leave: the council still counts as quorate (NKomVG § 65 (1)), but the count is short,
    // so the chair confirms; a doubt stops the votes until the chair states the quorum again.
    for i in [1, 2] {
        ok(&app, &c, i, json!({"type": "check_out"})).await;
    }
    let state = snapshot(&app, &c).await;
    assert_eq!(state["quorum_standing"], "presumed");
    assert_eq!(state["quorum_law"]["provision"], "NKomVG § 65 (1)");
    assert_eq!(
        state["settings"]["speaking_time_secs"], 240,
        "the body's default from the configuration"
    );
    let poll = create(&app, &c, "Nach dem Gehen").await;
    refused(
        &app,
        &c,
        0,
        json!({"type": "open_poll", "poll": poll}),
        409,
        "/problems/quorum-not-met",
    )
    .await;
    ok(&app, &c, 0, json!({"type": "doubt_quorum"})).await;
    refused(
        &app,
        &c,
        0,
        json!({"type": "open_poll", "poll": poll, "confirm_below_quorum": true}),
        409,
        "/problems/quorum-doubted",
    )
    .await;
    ok(
        &app,
        &c,
        0,
        json!({"type": "declare_quorum", "quorate": false}),
    )
    .await;
    assert_eq!(snapshot(&app, &c).await["quorum_standing"], "not_quorate");
    app.stop().await;
}

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn discarding_a_poll_needs_a_reason_that_everyone_sees(#[case] backend: Backend) {
    let Some(app) = spawn_app(backend, false).await else {
        return;
    };
    let c = committee(&app, 3).await;
    let mut public = LiveClient::connect(&app, None, c.meeting, None).await;
    ok(&app, &c, 0, json!({"type": "start_meeting"})).await;
    for i in [0, 1, 2] {
        ok(&app, &c, i, json!({"type": "check_in", "remote": false})).await;
    }
    let poll = create(&app, &c, "Falsch angelegt").await;
    ok(&app, &c, 0, json!({"type": "open_poll", "poll": poll})).await;
    for reason in [json!(null), json!("   "), json!("x".repeat(501))] {
        refused(
            &app,
            &c,
            0,
            json!({"type": "cancel_poll", "poll": poll, "reason": reason}),
            422,
            "/problems/reason-required",
        )
        .await;
    }
    refused(
        &app,
        &c,
        0,
        json!({"type": "cancel_poll", "poll": poll}),
        422,
        "/problems/reason-required",
    )
    .await;
    refused(
        &app,
        &c,
        1,
        json!({"type": "cancel_poll", "poll": poll, "reason": "Ich will nicht"}),
        403,
        "/problems/not-chair",
    )
    .await;
    assert_eq!(
        poll_of(&snapshot(&app, &c).await, poll)["state"],
        "open",
        "still open"
    );
    ok(
        &app,
        &c,
        0,
        json!({"type": "cancel_poll", "poll": poll, "reason": " Falsche Vorlage aufgerufen "}),
    )
    .await;
    // The room display (public) learns it with the reason; the snapshot keeps it.
    let cancelled = public.event("poll_cancelled").await;
    assert_eq!(cancelled["event"]["reason"], "Falsche Vorlage aufgerufen");
    let p = poll_of(&snapshot(&app, &c).await, poll);
    assert_eq!(
        (p["state"].as_str(), p["cancel_reason"].as_str()),
        (Some("cancelled"), Some("Falsche Vorlage aufgerufen"))
    );
    let audit = audited(&app, "poll.cancelled", 1).await;
    assert_eq!(audit[0]["reason"], "Falsche Vorlage aufgerufen");
    assert_eq!(audit[0]["poll"], poll.to_string());
    app.stop().await;
}

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_meeting_on_another_day_starts_only_when_confirmed_and_closing_closes_it(
    #[case] backend: Backend,
) {
    let Some(app) = spawn_app(backend, false).await else {
        return;
    };
    let c = committee(&app, 3).await;
    // The live state exists already (settings set), then the clerk moves the meeting to next week.
    let settings = app
        .client
        .put(app.url(&format!("/api/v1/meetings/{}/session-settings", c.meeting)))
        .bearer_auth(&c.members[0].1)
        .json(&json!({"speaking_time_secs": 240}))
        .send()
        .await
        .unwrap();
    assert_eq!(settings.status(), 200);
    let db = &app.db.db;
    let mut meeting = repo::meetings::get_live(db, c.meeting).await.unwrap();
    meeting.start += chrono::Duration::days(7);
    repo::meetings::update(db, meeting).await.unwrap();
    let problem = refused(
        &app,
        &c,
        0,
        json!({"type": "start_meeting"}),
        409,
        "/problems/meeting-other-day",
    )
    .await;
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("scheduled for"),
        "{problem}"
    );
    assert_eq!(snapshot(&app, &c).await["status"], "not_started");
    ok(
        &app,
        &c,
        0,
        json!({"type": "start_meeting", "confirm_other_day": true}),
    )
    .await;
    assert_eq!(
        repo::meetings::get_live(db, c.meeting).await.unwrap().state,
        MeetingState::Running,
        "the meeting runs in the database too"
    );
    ok(&app, &c, 0, json!({"type": "close_meeting"})).await;
    // Closed before its scheduled start: closed, the end stays as it was (none).
    let closed = repo::meetings::get_live(db, c.meeting).await.unwrap();
    assert_eq!(closed.state, MeetingState::Closed);
    assert_eq!(closed.end, None);
    app.stop().await;

    // Today's meeting: no confirmation; closing records the end time.
    let Some(app) = spawn_app(backend, false).await else {
        return;
    };
    let c = committee(&app, 3).await;
    let db = &app.db.db;
    let mut meeting = repo::meetings::get_live(db, c.meeting).await.unwrap();
    meeting.start = Utc::now() - chrono::Duration::minutes(1);
    repo::meetings::update(db, meeting).await.unwrap();
    ok(&app, &c, 0, json!({"type": "start_meeting"})).await;
    ok(&app, &c, 0, json!({"type": "close_meeting"})).await;
    let closed = repo::meetings::get_live(db, c.meeting).await.unwrap();
    assert_eq!(closed.state, MeetingState::Closed);
    let end = closed.end.expect("the end time");
    assert!((Utc::now() - end).num_seconds().abs() < 60, "{end}");
    // The member app's meeting view no longer offers the chair console.
    let detail: Value = app
        .get_with(&format!("/api/v1/meetings/{}", c.meeting), &c.members[0].1)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(detail["state"], "completed", "{detail}");
    // OParl shows the meeting with its end.
    let oparl: Value = app
        .get(&format!("/oparl/v1/meeting/{}", c.meeting))
        .await
        .json()
        .await
        .unwrap();
    let oparl_end: chrono::DateTime<Utc> = oparl["end"].as_str().unwrap().parse().unwrap();
    assert_eq!(oparl_end.timestamp(), end.timestamp(), "{oparl}");
    app.stop().await;
}

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_procedural_motion_is_an_open_simple_majority_poll_marked_as_such(
    #[case] backend: Backend,
) {
    let Some(app) = spawn_app(backend, false).await else {
        return;
    };
    let c = committee(&app, 3).await;
    ok(&app, &c, 0, json!({"type": "start_meeting"})).await;
    for i in [0, 1, 2] {
        ok(&app, &c, i, json!({"type": "check_in", "remote": false})).await;
    }
    let motion = |poll: PollId, kind: &str, rule: &str, motion: &str| {
        json!({"type": "create_poll", "poll": poll, "item": c.public_item,
               "title": "Antrag zur Geschäftsordnung: Schluss der Debatte",
               "kind": kind, "rule": rule, "motion": motion})
    };
    for (kind, rule) in [
        ("secret", "simple"),
        ("named", "simple"),
        ("open", "two_thirds_cast"),
    ] {
        refused(
            &app,
            &c,
            0,
            motion(PollId::new(), kind, rule, "end_of_debate"),
            422,
            "/problems/validation-failed",
        )
        .await;
    }
    let (status, body) = command(
        &app,
        &c,
        0,
        motion(PollId::new(), "open", "simple", "filibuster"),
    )
    .await;
    assert_eq!(
        (status, body["type"].as_str()),
        (422, Some("/problems/invalid-body")),
        "{body}"
    );
    let poll = PollId::new();
    ok(&app, &c, 0, motion(poll, "open", "simple", "end_of_debate")).await;
    ok(&app, &c, 0, json!({"type": "open_poll", "poll": poll})).await;
    for i in [0, 1] {
        ok(
            &app,
            &c,
            i,
            json!({"type": "cast_ballot", "poll": poll, "choice": {"choice": "yes"}}),
        )
        .await;
    }
    ok(&app, &c, 0, json!({"type": "close_poll", "poll": poll})).await;
    let p = poll_of(&snapshot(&app, &c).await, poll);
    assert_eq!(p["motion"], "end_of_debate");
    assert_eq!(p["result"]["outcome"], "adopted");
    // An ordinary poll has none.
    let plain = create(&app, &c, "Sachantrag").await;
    assert_eq!(
        poll_of(&snapshot(&app, &c).await, plain)["motion"],
        Value::Null
    );
    let created = audited(&app, "poll.created", 2).await;
    let of = |id: PollId| {
        created
            .iter()
            .find(|e| e["poll"] == id.to_string())
            .unwrap()["motion"]
            .clone()
    };
    assert_eq!(of(poll), "end_of_debate");
    assert_eq!(of(plain), Value::Null);
    app.stop().await;
}

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn amendments_are_voted_most_far_reaching_first_and_the_proposal_last(
    #[case] backend: Backend,
) {
    let Some(app) = spawn_app(backend, false).await else {
        return;
    };
    let c = committee(&app, 3).await;
    let item = c.public_item;
    let file = |amendment: Uuid, kind: &str, title: &str| {
        json!({"type": "file_amendment", "amendment": amendment, "item": item, "kind": kind,
               "title": title, "text": format!("{title}: neuer Wortlaut"), "on_behalf_of": "Fraktion A"})
    };
    let (add, change, replace) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    // Before the session: members file; an outsider may not; the text is required.
    ok(&app, &c, 1, file(add, "add", "Ergänzung")).await;
    ok(&app, &c, 2, file(change, "change", "Änderung")).await;
    refused(&app, &c, 1, json!({"type": "file_amendment", "amendment": Uuid::new_v4(), "item": item, "kind": "add", "title": "Leer", "text": "  "}), 422, "/problems/validation-failed").await;
    let other = committee(&app, 1).await;
    let outsider = app
        .client
        .post(app.url(&format!("/api/v1/meetings/{}/live/commands", c.meeting)))
        .bearer_auth(&other.members[0].1)
        .json(
            &json!({"command_id": Uuid::new_v4(), "command": file(Uuid::new_v4(), "add", "Fremd")}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(outsider.status(), 403);
    ok(&app, &c, 0, json!({"type": "start_meeting"})).await;
    for i in [0, 1, 2] {
        ok(&app, &c, i, json!({"type": "check_in", "remote": false})).await;
    }
    // During the session: the replacing one, filed last, goes first by default.
    ok(&app, &c, 1, file(replace, "replace", "Neufassung")).await;
    let state = snapshot(&app, &c).await;
    assert_eq!(state["amendments"].as_array().unwrap().len(), 3);
    assert_eq!(
        state["amendment_order"][0]["order"],
        json!([replace, change, add])
    );
    assert_eq!(state["amendment_order"][0]["reason"], Value::Null);
    let first = state["amendments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == replace.to_string())
        .unwrap()
        .clone();
    assert_eq!(
        (
            first["filed_by_name"].as_str(),
            first["on_behalf_of"].as_str()
        ),
        (Some("Test Mitglied001"), Some("Fraktion A"))
    );

    // The chair reorders, with a reason only, naming each open amendment once.
    refused(
        &app,
        &c,
        0,
        json!({"type": "order_amendments", "item": item, "order": [change, replace, add]}),
        422,
        "/problems/reason-required",
    )
    .await;
    refused(&app, &c, 0, json!({"type": "order_amendments", "item": item, "order": [change, replace], "reason": "Zusammenhang"}), 422, "/problems/validation-failed").await;
    refused(&app, &c, 1, json!({"type": "order_amendments", "item": item, "order": [change, replace, add], "reason": "Zusammenhang"}), 403, "/problems/not-chair").await;
    ok(&app, &c, 0, json!({"type": "order_amendments", "item": item, "order": [change, replace, add], "reason": "Sachzusammenhang"})).await;
    let state = snapshot(&app, &c).await;
    assert_eq!(
        state["amendment_order"][0]["order"],
        json!([change, replace, add])
    );
    assert_eq!(state["amendment_order"][0]["reason"], "Sachzusammenhang");

    // Each amendment its own poll, in order; the proposal as amended last.
    let poll_on = |amendment: Option<Uuid>, title: &str| {
        let poll = PollId::new();
        (
            poll,
            json!({"type": "create_poll", "poll": poll, "item": item, "title": title, "kind": "open", "rule": "simple", "amendment": amendment}),
        )
    };
    let (p_replace, cmd) = poll_on(Some(replace), "Änderungsantrag: Neufassung");
    ok(&app, &c, 0, cmd).await;
    let (p_final, cmd) = poll_on(None, "Schlussabstimmung");
    ok(&app, &c, 0, cmd).await;
    let problem = refused(
        &app,
        &c,
        0,
        json!({"type": "open_poll", "poll": p_replace}),
        409,
        "/problems/amendment-out-of-order",
    )
    .await;
    assert!(
        problem["detail"].as_str().unwrap().contains("Änderung"),
        "{problem}"
    );
    refused(
        &app,
        &c,
        0,
        json!({"type": "open_poll", "poll": p_final}),
        409,
        "/problems/amendment-out-of-order",
    )
    .await;
    // The filer withdraws the adding one; nobody else but the chair may.
    refused(
        &app,
        &c,
        2,
        json!({"type": "withdraw_amendment", "amendment": add}),
        403,
        "/problems/not-chair",
    )
    .await;
    ok(
        &app,
        &c,
        1,
        json!({"type": "withdraw_amendment", "amendment": add}),
    )
    .await;
    let (p_change, cmd) = poll_on(Some(change), "Änderungsantrag: Änderung");
    ok(&app, &c, 0, cmd).await;
    for poll in [p_change, p_replace, p_final] {
        ok(&app, &c, 0, json!({"type": "open_poll", "poll": poll})).await;
        ok(&app, &c, 0, json!({"type": "close_poll", "poll": poll})).await;
    }
    let state = snapshot(&app, &c).await;
    assert_eq!(poll_of(&state, p_change)["amendment"], change.to_string());
    assert_eq!(poll_of(&state, p_final)["amendment"], Value::Null);
    assert_eq!(
        state["amendment_order"][0]["order"],
        json!([change, replace]),
        "withdrawn ones leave the order"
    );
    // A voted amendment cannot be withdrawn; an unknown one is not found.
    refused(
        &app,
        &c,
        1,
        json!({"type": "withdraw_amendment", "amendment": replace}),
        422,
        "/problems/validation-failed",
    )
    .await;
    refused(
        &app,
        &c,
        0,
        json!({"type": "withdraw_amendment", "amendment": Uuid::new_v4()}),
        404,
        "/problems/amendment-not-found",
    )
    .await;

    let filed = audited(&app, "amendment.filed", 3).await;
    assert!(filed.iter().any(|a| a["amendment"] == replace.to_string()
        && a["kind"] == "replace"
        && a["filed_by"] == c.members[1].0.to_string()));
    assert!(
        filed.iter().all(|a| a.get("title").is_none()),
        "an amendment's title may be non-public: not in the audit log"
    );
    let ordered = audited(&app, "amendment.ordered", 1).await;
    assert_eq!(ordered[0]["reason"], "Sachzusammenhang");
    assert_eq!(ordered[0]["order"], json!([change, replace, add]));
    let withdrawn = audited(&app, "amendment.withdrawn", 1).await;
    assert_eq!(withdrawn[0]["amendment"], add.to_string());
    app.stop().await;
}

/// Bayern: the console offers no secret poll on a motion; a member online when an election
/// opens may not vote in it (and learns why), while members in the room do; on a motion the
/// member online votes.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn in_bayern_a_member_online_does_not_vote_in_an_election() {
    let Some(app) = crate::helpers::spawn_app_with(Backend::Sqlite, false, |config| {
        config.rule_set = RuleSet::Bayern;
    })
    .await
    else {
        return;
    };
    let c = committee(&app, 4).await;
    ok(&app, &c, 0, json!({"type": "start_meeting"})).await;
    ok(&app, &c, 0, json!({"type": "check_in", "remote": false})).await;
    ok(&app, &c, 1, json!({"type": "check_in", "remote": true})).await;
    ok(&app, &c, 2, json!({"type": "check_in", "remote": false})).await;
    let state = snapshot(&app, &c).await;
    assert_eq!(
        state["poll_kinds"],
        json!(["open", "named", "election", "manual"]),
        "no secret vote on a motion"
    );
    assert_eq!(state["poll_kinds_with_remote"], state["poll_kinds"]);

    let election = PollId::new();
    ok(&app, &c, 0, json!({"type": "create_poll", "poll": election, "item": c.public_item, "title": "Wahl der Stellvertretung", "kind": "election", "rule": "simple", "options": ["Anna", "Bernd"]})).await;
    ok(
        &app,
        &c,
        0,
        json!({"type": "open_poll", "poll": election, "confirm_below_quorum": true}),
    )
    .await;
    let ballot = json!({"type": "cast_ballot", "poll": election, "choice": {"candidate": 0}});
    refused(&app, &c, 1, ballot.clone(), 403, "/problems/voter-remote").await;
    ok(&app, &c, 2, ballot).await;

    let mut online = LiveClient::connect(&app, Some(&c.members[1].1), c.meeting, None).await;
    let seen = online.wait_for(|m| m["type"] == "snapshot").await;
    let poll = poll_of(&seen["state"], election);
    assert_eq!(poll["my_ineligibility"], "remote");
    assert_eq!(poll["i_am_eligible"], false);
    let poll = poll_of(&snapshot(&app, &c).await, election);
    assert_eq!(poll["eligible_count"], 2);
    assert_eq!(poll["ineligible"][0]["person"], json!(c.members[1].0));
    assert_eq!(poll["ineligible"][0]["reason"], "remote");
    ok(
        &app,
        &c,
        0,
        json!({"type": "cancel_poll", "poll": election, "reason": "Test"}),
    )
    .await;

    let motion = PollId::new();
    ok(&app, &c, 0, json!({"type": "create_poll", "poll": motion, "item": c.public_item, "title": "Antrag", "kind": "named", "rule": "simple"})).await;
    ok(
        &app,
        &c,
        0,
        json!({"type": "open_poll", "poll": motion, "confirm_below_quorum": true}),
    )
    .await;
    ok(
        &app,
        &c,
        1,
        json!({"type": "cast_ballot", "poll": motion, "choice": {"choice": "yes"}}),
    )
    .await;
    app.stop().await;
}

/// Niedersachsen (NKomVG § 67): nobody has more than half of the members' votes in the first
/// round, so the chair finds the second round with every candidate as a draft, opens it, and
/// the most votes win.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn in_niedersachsen_an_undecided_election_goes_into_a_second_round() {
    let Some(app) = crate::helpers::spawn_app_with(Backend::Sqlite, false, |config| {
        config.rule_set = RuleSet::Niedersachsen;
    })
    .await
    else {
        return;
    };
    let c = committee(&app, 6).await;
    ok(&app, &c, 0, json!({"type": "start_meeting"})).await;
    for i in 0..6 {
        ok(&app, &c, i, json!({"type": "check_in", "remote": false})).await;
    }
    ok(
        &app,
        &c,
        0,
        json!({"type": "declare_quorum", "quorate": true}),
    )
    .await;
    let first = PollId::new();
    ok(&app, &c, 0, json!({"type": "create_poll", "poll": first, "item": c.public_item, "title": "Wahl", "kind": "election", "rule": "simple", "options": ["Anna", "Bernd", "Clara"]})).await;
    let round = |poll: PollId| {
        let app = &app;
        let c = &c;
        async move {
            ok(app, c, 0, json!({"type": "open_poll", "poll": poll})).await;
            // 3 / 2 / 1 of six members: nobody has more than half of them.
            for (i, candidate) in [0, 0, 0, 1, 1, 2].into_iter().enumerate() {
                ok(app, c, i, json!({"type": "cast_ballot", "poll": poll, "choice": {"candidate": candidate}})).await;
            }
            ok(app, c, 0, json!({"type": "close_poll", "poll": poll})).await;
            poll_of(&snapshot(app, c).await, poll)
        }
    };
    let closed = round(first).await;
    assert_eq!(
        closed["result"]["election_outcome"], "none_elected",
        "{closed}"
    );
    let state = snapshot(&app, &c).await;
    let second = state["polls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["runoff_of"] == json!(first))
        .expect("the second round, as a draft")
        .clone();
    assert_eq!(second["state"], "draft");
    assert_eq!(second["round"], 2);
    assert_eq!(second["options"], json!(["Anna", "Bernd", "Clara"]));
    let second: PollId = serde_json::from_value(second["id"].clone()).unwrap();
    let closed = round(second).await;
    assert_eq!(
        closed["result"]["election_outcome"],
        json!({"elected": 0}),
        "{closed}"
    );
    app.stop().await;
}
