//! Minutes: the clerk's Protokollnotiz per item and the draft of the public and the non-public
//! part, drafted from the live session, the recorded decisions and the notes.

use plenum_domain::*;
use plenum_store::{Backend, audit};
use rstest::rstest;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::decisions::{clerk, get, vote};
use crate::helpers::{TestApp, spawn_app};
use crate::live::{LiveClient, committee, create_and_open, start_and_check_in};

async fn put_note(
    app: &TestApp,
    item: AgendaItemId,
    token: &str,
    etag: Option<&str>,
    body: Value,
) -> (u16, Option<String>, Value) {
    let mut request = app
        .client
        .put(app.url(&format!("/api/v1/agenda-items/{item}/minutes-note")))
        .bearer_auth(token)
        .json(&body);
    if let Some(etag) = etag {
        request = request.header("If-Match", etag);
    }
    let r = request.send().await.unwrap();
    let status = r.status().as_u16();
    let etag = r
        .headers()
        .get("etag")
        .map(|v| v.to_str().unwrap().to_owned());
    let text = r.text().await.unwrap();
    (
        status,
        etag,
        serde_json::from_str(&text).unwrap_or(Value::Null),
    )
}

async fn command(app: &TestApp, meeting: MeetingId, token: &str, command: Value) {
    let r = app
        .client
        .post(app.url(&format!("/api/v1/meetings/{meeting}/live/commands")))
        .bearer_auth(token)
        .json(&json!({"command_id": Uuid::new_v4(), "command": command}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
}

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_draft_holds_the_session_the_decisions_and_the_clerks_notes_and_keeps_parts_apart(
    #[case] backend: Backend,
) {
    let Some(app) = spawn_app(backend, false).await else {
        return;
    };
    let c = committee(&app, 4).await;
    let other = committee(&app, 2).await;
    let (clerk_id, clerk_token) = clerk(&app).await;
    let chair_token = c.members[0].1.clone();
    let mut chair = LiveClient::connect(&app, Some(&chair_token), c.meeting, None).await;
    start_and_check_in(&app, &c, &mut chair, &[0, 1, 2]).await;
    chair
        .command(json!({"type": "declare_quorum", "quorate": true}))
        .await;
    command(
        &app,
        c.meeting,
        &c.members[2].1,
        json!({"type": "declare_conflict", "item": c.secret_item}),
    )
    .await;
    let poll = create_and_open(&mut chair, c.public_item, "named", "simple", &[]).await;
    vote(&app, c.meeting, &c.members[0].1, poll, "yes").await;
    vote(&app, c.meeting, &c.members[1].1, poll, "yes").await;
    vote(&app, c.meeting, &c.members[2].1, poll, "no").await;
    chair
        .command(json!({"type": "close_poll", "poll": poll}))
        .await;

    // The clerk records both decisions.
    for (item, body) in [
        (
            c.public_item,
            json!({"kind": "adopted", "text": "Der Ausschuss beschließt den Neubau.", "poll": poll}),
        ),
        (
            c.secret_item,
            json!({"kind": "referred", "referred_to": "Liegenschaftsausschuss Flurstück 9", "text": "Vertraulicher Beschluss Flurstück 9"}),
        ),
    ] {
        let (_, etag, _) = get(
            &app,
            &format!("/api/v1/agenda-items/{item}"),
            Some(&clerk_token),
        )
        .await;
        let r = app
            .client
            .put(app.url(&format!("/api/v1/agenda-items/{item}/decision")))
            .bearer_auth(&clerk_token)
            .header("If-Match", etag.unwrap())
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }

    // The Protokollnotiz: If-Match required and checked; members 403; outsiders 404; bounded.
    let item_path = format!("/api/v1/agenda-items/{}", c.public_item);
    let (_, etag, _) = get(&app, &item_path, Some(&clerk_token)).await;
    let etag = etag.unwrap();
    let note = json!({"text": "Herr Mitglied002 verlässt um 19:05 den Saal.\n\n<script>alert(1)</script>"});
    assert_eq!(
        put_note(&app, c.public_item, &clerk_token, None, note.clone())
            .await
            .0,
        428
    );
    assert_eq!(
        put_note(
            &app,
            c.public_item,
            &clerk_token,
            Some("\"stale\""),
            note.clone()
        )
        .await
        .0,
        412
    );
    assert_eq!(
        put_note(
            &app,
            c.public_item,
            &c.members[1].1,
            Some(&etag),
            note.clone()
        )
        .await
        .0,
        403,
        "a member does not write the minutes"
    );
    let (status, _, problem) = put_note(
        &app,
        c.public_item,
        &clerk_token,
        Some(&etag),
        json!({"text": "x".repeat(20_001)}),
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(
        put_note(
            &app,
            c.public_item,
            &clerk_token,
            Some(&etag),
            json!({"txt": "x"})
        )
        .await
        .0,
        422
    );
    let (status, new_etag, written) =
        put_note(&app, c.public_item, &clerk_token, Some(&etag), note.clone()).await;
    assert_eq!(status, 200, "{written}");
    assert_ne!(
        new_etag.as_deref(),
        Some(etag.as_str()),
        "the note is part of the item"
    );
    let html = written["minutes_note"]["html"].as_str().unwrap();
    assert!(html.contains("verlässt um 19:05"), "{html}");
    assert!(!html.contains("<script"), "sanitised: {html}");
    // The old ETag is stale now: a second clerk's overwrite is refused.
    assert_eq!(
        put_note(
            &app,
            c.public_item,
            &clerk_token,
            Some(&etag),
            json!({"text": "Überschrieben"})
        )
        .await
        .0,
        412
    );

    let secret_path = format!("/api/v1/agenda-items/{}", c.secret_item);
    let (_, secret_etag, _) = get(&app, &secret_path, Some(&clerk_token)).await;
    let secret_etag = secret_etag.unwrap();
    assert_eq!(
        put_note(
            &app,
            c.secret_item,
            &other.members[1].1,
            Some(&secret_etag),
            json!({"text": "x"})
        )
        .await
        .0,
        404,
        "a member of another committee does not learn the item exists"
    );
    let (status, _, _) = put_note(
        &app,
        c.secret_item,
        &clerk_token,
        Some(&secret_etag),
        json!({"text": "Vertrauliche Notiz zum Kaufpreis Flurstück 9"}),
    )
    .await;
    assert_eq!(status, 200);

    // Members of the committee read the note on the item; the public never.
    let (_, _, member_item) = get(&app, &item_path, Some(&c.members[1].1)).await;
    assert!(
        member_item["minutes_note"]["text"]
            .as_str()
            .unwrap()
            .starts_with("Herr Mitglied002")
    );
    let (_, _, public_meeting) = get(
        &app,
        &format!("/api/v1/public/meetings/{}", c.meeting),
        None,
    )
    .await;
    assert!(!public_meeting.to_string().contains("minutes_note"));
    assert!(!public_meeting.to_string().contains("19:05"));

    // The draft of the public part: session, attendance, quorum, decision with the named vote,
    // the note — and nothing of the non-public part.
    let draft_path = format!("/api/v1/meetings/{}/minutes/draft", c.meeting);
    let (status, _, draft) = get(
        &app,
        &format!("{draft_path}?part=public"),
        Some(&clerk_token),
    )
    .await;
    assert_eq!(status, 200, "{draft}");
    assert_eq!(draft["part"], "public");
    assert_eq!(draft["status"], "draft");
    assert_eq!(draft["may_edit"], true);
    assert_eq!(draft["meeting_name"], "Prüfsitzung");
    assert!(draft["started_at"].is_string());
    assert!(draft["ended_at"].is_null());
    let attendance = draft["attendance"].as_array().unwrap();
    assert_eq!(attendance.len(), 5, "four members and the advisory one");
    let present = attendance
        .iter()
        .filter(|a| a["status"] == "present")
        .count();
    assert_eq!(present, 3);
    let chair_line = attendance
        .iter()
        .find(|a| a["person"] == c.members[0].0.to_string())
        .unwrap();
    assert_eq!(chair_line["role_label"], "Vorsitz");
    assert!(chair_line["changes"][0]["at"].is_string());
    let quorum = draft["quorum"].as_array().unwrap();
    let declared = quorum.iter().find(|q| q["kind"] == "declared").unwrap();
    assert_eq!(declared["quorate"], true);
    assert_eq!(declared["present_voting"], 3);
    assert!(
        quorum
            .iter()
            .any(|q| q["kind"] == "changed" && q["standing"] == "quorate"),
        "the arrival that made the quorum: {quorum:?}"
    );
    let items = draft["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    let item = &items[0];
    assert_eq!(item["number"], "Ö 1");
    assert_eq!(item["decision"]["label"], "angenommen");
    assert_eq!(item["decision"]["vote"]["yes"], 2);
    assert_eq!(
        item["decision"]["vote"]["named"].as_array().unwrap().len(),
        3
    );
    assert_eq!(
        item["decision_text"],
        "Der Ausschuss beschließt den Neubau."
    );
    assert!(
        item["note"]["text"]
            .as_str()
            .unwrap()
            .contains("verlässt um 19:05")
    );
    let text = draft.to_string();
    for secret in [
        "Flurstück",
        "Flur 9",
        "Liegenschaftsausschuss",
        "Vertrauliche",
        "Grundstücksgeschäft",
    ] {
        assert!(
            !text.contains(secret),
            "{secret} in the public part: {text}"
        );
    }

    // The non-public part: its item, the conflict declared on it, its note.
    let (status, _, secret) = get(
        &app,
        &format!("{draft_path}?part=non_public"),
        Some(&clerk_token),
    )
    .await;
    assert_eq!(status, 200, "{secret}");
    let items = secret["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["title"], "Geheimes Grundstücksgeschäft Flur 9");
    assert_eq!(items[0]["decision"]["kind"], "referred");
    assert_eq!(
        items[0]["decision"]["referred_to"],
        "Liegenschaftsausschuss Flurstück 9"
    );
    assert_eq!(items[0]["conflicts"].as_array().unwrap().len(), 1);
    assert_eq!(
        items[0]["conflicts"][0]["person"],
        c.members[2].0.to_string()
    );
    assert!(items[0]["conflicts"][0]["at"].is_string());
    assert!(
        items[0]["note"]["text"]
            .as_str()
            .unwrap()
            .contains("Kaufpreis")
    );
    assert!(
        !secret.to_string().contains("19:05"),
        "the public item stays in its part"
    );

    // A member of the committee reads both parts, read-only; a member of another committee
    // neither; a bad part is a 400.
    for part in ["public", "non_public"] {
        let (status, _, d) = get(
            &app,
            &format!("{draft_path}?part={part}"),
            Some(&c.members[1].1),
        )
        .await;
        assert_eq!(status, 200, "{d}");
        assert_eq!(d["may_edit"], false);
        let (status, _, _) = get(
            &app,
            &format!("{draft_path}?part={part}"),
            Some(&other.members[1].1),
        )
        .await;
        assert_eq!(status, 404, "{part}");
    }
    let (status, _, problem) = get(
        &app,
        &format!("{draft_path}?part=secret"),
        Some(&clerk_token),
    )
    .await;
    assert_eq!(status, 400, "{problem}");
    let (status, _, _) = get(&app, &format!("{draft_path}?part=public"), None).await;
    assert_eq!(status, 401);

    // Live corrections show: the chair closes the meeting, the draft has its end.
    chair.command(json!({"type": "close_meeting"})).await;
    let (_, _, closed) = get(
        &app,
        &format!("{draft_path}?part=public"),
        Some(&clerk_token),
    )
    .await;
    assert!(closed["ended_at"].is_string(), "{closed}");

    // Removing a note: a blank text.
    let (_, etag, _) = get(&app, &item_path, Some(&clerk_token)).await;
    let (status, _, removed) = put_note(
        &app,
        c.public_item,
        &clerk_token,
        etag.as_deref(),
        json!({"text": "  "}),
    )
    .await;
    assert_eq!(status, 200);
    assert!(removed.get("minutes_note").is_none(), "{removed}");

    // Every write audited, by the clerk, without the text.
    let entries = audit::list(&app.db.db).await.unwrap();
    let notes: Vec<_> = entries
        .iter()
        .filter(|e| e.event.action == "minutes_note.updated")
        .collect();
    assert_eq!(notes.len(), 3);
    assert!(notes.iter().all(|e| e.event.actor == Some(clerk_id)));
    assert!(
        notes
            .iter()
            .all(|e| !e.event.detail.contains("Kaufpreis") && !e.event.detail.contains("19:05"))
    );
    assert!(
        notes[2].event.detail.contains("\"removed\":true"),
        "{}",
        notes[2].event.detail
    );
    app.stop().await;
}

async fn try_command(
    app: &TestApp,
    meeting: MeetingId,
    token: &str,
    command: Value,
) -> (u16, Value) {
    let r = app
        .client
        .post(app.url(&format!("/api/v1/meetings/{meeting}/live/commands")))
        .bearer_auth(token)
        .json(&json!({"command_id": Uuid::new_v4(), "command": command}))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_draft_lists_speakers_recorded_votes_and_when_the_non_public_part_began(
    #[case] backend: Backend,
) {
    let Some(app) = spawn_app(backend, false).await else {
        return;
    };
    let c = committee(&app, 4).await;
    let (_, clerk_token) = clerk(&app).await;
    let mut chair = LiveClient::connect(&app, Some(&c.members[0].1), c.meeting, None).await;
    start_and_check_in(&app, &c, &mut chair, &[0, 1, 2]).await;
    chair
        .command(json!({"type": "set_current_item", "item": c.public_item}))
        .await;
    for i in [1, 2] {
        command(
            &app,
            c.meeting,
            &c.members[i].1,
            json!({"type": "request_to_speak", "point_of_order": false}),
        )
        .await;
    }
    chair.command(json!({"type": "call_next_speaker"})).await;
    chair.command(json!({"type": "call_next_speaker"})).await;
    chair.command(json!({"type": "end_speech"})).await;

    // An open poll: a member who voted may have the vote recorded, once; who did not vote may not.
    let poll = create_and_open(&mut chair, c.public_item, "open", "simple", &[]).await;
    vote(&app, c.meeting, &c.members[0].1, poll, "yes").await;
    vote(&app, c.meeting, &c.members[1].1, poll, "no").await;
    vote(&app, c.meeting, &c.members[2].1, poll, "yes").await;
    let record = json!({"type": "request_vote_record", "poll": poll});
    command(&app, c.meeting, &c.members[1].1, record.clone()).await;
    let (status, problem) = try_command(&app, c.meeting, &c.members[1].1, record.clone()).await;
    assert_eq!(status, 409, "once per member and poll: {problem}");
    assert!(
        problem["type"]
            .as_str()
            .unwrap()
            .ends_with("vote-record-refused"),
        "{problem}"
    );
    let (status, problem) = try_command(&app, c.meeting, &c.members[3].1, record.clone()).await;
    assert_eq!(status, 409, "only who voted: {problem}");
    chair
        .command(json!({"type": "close_poll", "poll": poll}))
        .await;
    // After the close, while the item is still current.
    command(&app, c.meeting, &c.members[2].1, record.clone()).await;

    // Never in a secret poll.
    let secret_poll = create_and_open(&mut chair, c.public_item, "secret", "simple", &[]).await;
    vote(&app, c.meeting, &c.members[0].1, secret_poll, "yes").await;
    let (status, problem) = try_command(
        &app,
        c.meeting,
        &c.members[0].1,
        json!({"type": "request_vote_record", "poll": secret_poll}),
    )
    .await;
    assert_eq!(status, 409, "{problem}");
    assert!(
        problem["detail"].as_str().unwrap().contains("secret"),
        "{problem}"
    );
    chair
        .command(json!({"type": "close_poll", "poll": secret_poll}))
        .await;

    chair
        .command(json!({"type": "set_current_item", "item": c.secret_item}))
        .await;
    // Once the session moved on, it is too late.
    let (status, _) = try_command(&app, c.meeting, &c.members[0].1, record.clone()).await;
    assert_eq!(status, 409);

    let draft_path = format!("/api/v1/meetings/{}/minutes/draft", c.meeting);
    let (status, _, draft) = get(
        &app,
        &format!("{draft_path}?part=public"),
        Some(&clerk_token),
    )
    .await;
    assert_eq!(status, 200, "{draft}");
    let item = &draft["items"][0];
    let speakers: Vec<&str> = item["speakers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["person"].as_str().unwrap())
        .collect();
    let (m1, m2) = (c.members[1].0.to_string(), c.members[2].0.to_string());
    assert_eq!(speakers, [m1.as_str(), m2.as_str()], "who spoke, in order");
    assert!(item["speakers"][0]["to"].is_string());
    let records: Vec<(&str, &str)> = item["vote_records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["person"].as_str().unwrap(),
                r["choice_label"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(records, [(m1.as_str(), "Nein"), (m2.as_str(), "Ja")]);
    let ended = draft["public_ended"]
        .as_str()
        .expect("the public part ended");
    assert_eq!(draft["non_public_began"].as_str(), Some(ended));
    let (_, _, secret) = get(
        &app,
        &format!("{draft_path}?part=non_public"),
        Some(&clerk_token),
    )
    .await;
    assert_eq!(secret["non_public_began"].as_str(), Some(ended));

    // Audited: who asked, in which poll.
    // (The audit writer follows each batch just after it committed.)
    let mut entries = Vec::new();
    for _ in 0..100 {
        entries = audit::list(&app.db.db).await.unwrap();
        if entries
            .iter()
            .filter(|e| e.event.action == "poll.vote_record_requested")
            .count()
            >= 2
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let asked: Vec<_> = entries
        .iter()
        .filter(|e| e.event.action == "poll.vote_record_requested")
        .collect();
    assert_eq!(asked.len(), 2);
    assert!(
        asked[0].event.detail.contains(&m1),
        "{}",
        asked[0].event.detail
    );
    assert!(asked[0].event.actor.is_some());
    app.stop().await;
}
