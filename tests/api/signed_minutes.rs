//! The minutes as a record: a whole cycle from the live session to the approved, published
//! minutes — versions frozen by the clerk, signatures of the chair and the clerk with their
//! second factor, the signed PDF, publication of the public part, approval by a later meeting —
//! and every refusal on the way.

use chrono::Utc;
use plenum_domain::*;
use plenum_store::{Backend, audit, auth::totp, repo};
use rstest::rstest;
use serde_json::{Value, json};

use crate::decisions::{clerk, get, vote};
use crate::helpers::{TestApp, code_for, fresh_totp_step, spawn_app};
use crate::live::{LiveClient, committee, create_and_open, start_and_check_in};

/// Enables a second factor for `user`; returns the secret and the username for codes.
pub(crate) async fn enrol(app: &TestApp, user: UserId) -> (Vec<u8>, String) {
    let db = &app.db.db;
    let secret: Vec<u8> = uuid::Uuid::new_v4()
        .as_bytes()
        .iter()
        .chain(uuid::Uuid::new_v4().as_bytes())
        .copied()
        .take(20)
        .collect();
    let now = chrono::SubsecRound::trunc_subsecs(Utc::now(), 6);
    totp::begin_enrolment(db, user, app.cipher().encrypt(user, &secret), now)
        .await
        .unwrap();
    totp::enable(db, user, now).await.unwrap();
    let username = repo::users::get(db, user)
        .await
        .unwrap()
        .username
        .as_str()
        .to_owned();
    (secret, username)
}

pub(crate) async fn user_of(app: &TestApp, person: PersonId) -> UserId {
    repo::users::list(&app.db.db)
        .await
        .unwrap()
        .into_iter()
        .find(|u| u.person_id == Some(person))
        .unwrap()
        .id
}

pub(crate) async fn post(
    app: &TestApp,
    path: &str,
    token: Option<&str>,
    body: Value,
) -> (u16, Value) {
    let mut request = app.client.post(app.url(path)).json(&body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let r = request.send().await.unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

pub(crate) async fn get_bytes(
    app: &TestApp,
    path: &str,
    token: Option<&str>,
) -> (u16, String, Vec<u8>) {
    let mut request = app.client.get(app.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let r = request.send().await.unwrap();
    let status = r.status().as_u16();
    let kind = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, kind, r.bytes().await.unwrap().to_vec())
}

pub(crate) async fn record_decision(app: &TestApp, item: AgendaItemId, token: &str, body: Value) {
    let (_, etag, _) = get(app, &format!("/api/v1/agenda-items/{item}"), Some(token)).await;
    let r = app
        .client
        .put(app.url(&format!("/api/v1/agenda-items/{item}/decision")))
        .bearer_auth(token)
        .header("If-Match", etag.unwrap())
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
}

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn minutes_are_frozen_signed_with_the_second_factor_published_and_approved(
    #[case] backend: Backend,
) {
    let Some(app) = spawn_app(backend, false).await else {
        return;
    };
    let c = committee(&app, 4).await;
    let other = committee(&app, 2).await;
    let (clerk_id, clerk_token) = clerk(&app).await;
    let chair_token = c.members[0].1.clone();
    let chair_id = user_of(&app, c.members[0].0).await;
    let (chair_secret, chair_name) = enrol(&app, chair_id).await;
    let (clerk_secret, clerk_name) = enrol(&app, clerk_id).await;
    let member_id = user_of(&app, c.members[1].0).await;
    let (member_secret, member_name) = enrol(&app, member_id).await;

    // A session: a named poll on the public item, a decision on each item.
    let mut chair = LiveClient::connect(&app, Some(&chair_token), c.meeting, None).await;
    start_and_check_in(&app, &c, &mut chair, &[0, 1, 2]).await;
    let poll = create_and_open(&mut chair, c.public_item, "named", "simple", &[]).await;
    vote(&app, c.meeting, &c.members[0].1, poll, "yes").await;
    vote(&app, c.meeting, &c.members[1].1, poll, "yes").await;
    vote(&app, c.meeting, &c.members[2].1, poll, "no").await;
    chair
        .command(json!({"type": "close_poll", "poll": poll}))
        .await;
    let versions = format!("/api/v1/meetings/{}/minutes/versions", c.meeting);

    // Not while the session runs.
    let (status, problem) = post(
        &app,
        &versions,
        Some(&clerk_token),
        json!({"part": "public"}),
    )
    .await;
    assert_eq!(status, 409, "{problem}");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("still running")
    );

    record_decision(
        &app,
        c.public_item,
        &clerk_token,
        json!({"kind": "adopted", "text": "Der Ausschuss beschließt den Neubau.", "poll": poll}),
    )
    .await;
    record_decision(
        &app,
        c.secret_item,
        &clerk_token,
        json!({"kind": "rejected", "text": "Vertraulicher Beschluss Flurstück 9"}),
    )
    .await;
    chair.command(json!({"type": "close_meeting"})).await;

    // Freezing: clerks only (members 403, others 404, the public 401); a bad part 422.
    let (status, _) = post(
        &app,
        &versions,
        Some(&c.members[1].1),
        json!({"part": "public"}),
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = post(
        &app,
        &versions,
        Some(&other.members[1].1),
        json!({"part": "public"}),
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = post(&app, &versions, None, json!({"part": "public"})).await;
    assert_eq!(status, 401);
    let (status, _) = post(
        &app,
        &versions,
        Some(&clerk_token),
        json!({"part": "secret"}),
    )
    .await;
    assert_eq!(status, 422);
    let (status, _) = post(
        &app,
        &versions,
        Some(&clerk_token),
        json!({"part": "public", "x": 1}),
    )
    .await;
    assert_eq!(status, 422);

    let (status, v1) = post(
        &app,
        &versions,
        Some(&clerk_token),
        json!({"part": "public"}),
    )
    .await;
    assert_eq!(status, 201, "{v1}");
    assert_eq!(v1["version"], 1);
    assert_eq!(v1["status"], "awaiting_signatures");
    assert_eq!(v1["content"]["status"], "version");
    assert_eq!(v1["content"]["items"][0]["decision"]["vote"]["yes"], 2);
    assert!(
        !v1.to_string().contains("Flurstück"),
        "the public part only"
    );
    let v1_id = v1["id"].as_str().unwrap().to_owned();

    // A later edit of the draft does not change the frozen version.
    let (_, etag, _) = get(
        &app,
        &format!("/api/v1/agenda-items/{}", c.public_item),
        Some(&clerk_token),
    )
    .await;
    let r = app
        .client
        .put(app.url(&format!(
            "/api/v1/agenda-items/{}/minutes-note",
            c.public_item
        )))
        .bearer_auth(&clerk_token)
        .header("If-Match", etag.unwrap())
        .json(&json!({"text": "Nachträgliche Notiz"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (status, _, frozen) = get(
        &app,
        &format!("/api/v1/minutes/{v1_id}"),
        Some(&clerk_token),
    )
    .await;
    assert_eq!(status, 200);
    assert!(!frozen.to_string().contains("Nachträgliche Notiz"));
    assert_eq!(frozen["content_sha256"], v1["content_sha256"]);

    // v2 supersedes v1 (no signatures yet: no reason needed).
    let (status, v2) = post(
        &app,
        &versions,
        Some(&clerk_token),
        json!({"part": "public"}),
    )
    .await;
    assert_eq!(status, 201, "{v2}");
    assert_eq!(v2["version"], 2);
    assert_eq!(v2["supersedes"], v1_id.as_str());
    assert!(v2.to_string().contains("Nachträgliche Notiz"));
    let v2_id = v2["id"].as_str().unwrap().to_owned();
    let sign = format!("/api/v1/minutes/{v2_id}/signatures");

    fresh_totp_step().await;
    // Signing v1 now: superseded (409), and the code is not used up by the refusal.
    let (status, problem) = post(
        &app,
        &format!("/api/v1/minutes/{v1_id}/signatures"),
        Some(&chair_token),
        json!({"role": "chair", "code": code_for(&chair_secret, &chair_name, 0)}),
    )
    .await;
    assert_eq!(status, 409, "{problem}");
    // A member may not sign; the clerk may not sign as chair; a wrong code is 401.
    let (status, _) = post(
        &app,
        &sign,
        Some(&c.members[1].1),
        json!({"role": "chair", "code": code_for(&member_secret, &member_name, 0)}),
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = post(
        &app,
        &sign,
        Some(&clerk_token),
        json!({"role": "chair", "code": code_for(&clerk_secret, &clerk_name, 0)}),
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = post(
        &app,
        &sign,
        Some(&chair_token),
        json!({"role": "chair", "code": "000000"}),
    )
    .await;
    assert_eq!(status, 401);
    let (status, _) = post(
        &app,
        &sign,
        Some(&other.members[0].1),
        json!({"role": "chair", "code": "000000"}),
    )
    .await;
    assert_eq!(
        status, 404,
        "another committee's chair does not learn the minutes exist"
    );

    // The chair signs.
    let chair_code = code_for(&chair_secret, &chair_name, 0);
    let (status, signed) = post(
        &app,
        &sign,
        Some(&chair_token),
        json!({"role": "chair", "code": chair_code}),
    )
    .await;
    assert_eq!(status, 200, "{signed}");
    assert_eq!(signed["status"], "awaiting_signatures");
    assert_eq!(signed["signatures"][0]["role"], "chair");
    assert_eq!(signed["signatures"][0]["name"], "Mitglied 0");
    let chair_head = signed["signatures"][0]["chain_head"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(chair_head.len(), 64);
    // Twice in the same role: 409; the same code again: refused as replayed.
    let (status, _) = post(
        &app,
        &sign,
        Some(&chair_token),
        json!({"role": "chair", "code": chair_code}),
    )
    .await;
    assert_eq!(status, 409);

    // Before completion the PDF is rendered on request and says it is not signed yet.
    let (status, kind, pdf) = get_bytes(
        &app,
        &format!("/api/v1/minutes/{v2_id}/pdf"),
        Some(&clerk_token),
    )
    .await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&pdf));
    assert_eq!(kind, "application/pdf");
    assert!(pdf.starts_with(b"%PDF"));

    // The clerk signs: the version is complete, its PDF stored for good.
    let (status, complete) = post(
        &app,
        &sign,
        Some(&clerk_token),
        json!({"role": "clerk", "code": code_for(&clerk_secret, &clerk_name, 0)}),
    )
    .await;
    assert_eq!(status, 200, "{complete}");
    assert_eq!(complete["status"], "signed");
    assert!(complete["signed_at"].is_string());
    assert_eq!(complete["signatures"].as_array().unwrap().len(), 2);
    let (status, _, signed_pdf) = get_bytes(
        &app,
        &format!("/api/v1/minutes/{v2_id}/pdf"),
        Some(&c.members[2].1),
    )
    .await;
    assert_eq!(status, 200);
    assert!(signed_pdf.starts_with(b"%PDF"));
    let (_, _, again) = get_bytes(
        &app,
        &format!("/api/v1/minutes/{v2_id}/pdf"),
        Some(&clerk_token),
    )
    .await;
    assert_eq!(
        again, signed_pdf,
        "the signed document is stored, not re-rendered"
    );
    let (status, _, _) = get_bytes(
        &app,
        &format!("/api/v1/minutes/{v2_id}/pdf"),
        Some(&other.members[1].1),
    )
    .await;
    assert_eq!(status, 404);

    // Not yet published: the public sees nothing.
    let public_minutes = format!("/api/v1/public/meetings/{}/minutes", c.meeting);
    let (status, _, _) = get(&app, &public_minutes, None).await;
    assert_eq!(status, 404);
    let (status, _, _) =
        get_bytes(&app, &format!("/api/v1/public/minutes/{v2_id}/pdf"), None).await;
    assert_eq!(status, 404);

    // A signed version never changes: a new version needs a reason (a correction).
    let (status, problem) = post(
        &app,
        &versions,
        Some(&clerk_token),
        json!({"part": "public"}),
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    let (status, _) = post(
        &app,
        &sign,
        Some(&chair_token),
        json!({"role": "chair", "code": code_for(&chair_secret, &chair_name, 1)}),
    )
    .await;
    assert_eq!(status, 409, "complete versions take no signature");

    // Publication: clerks only, the public part only.
    let (status, _) = post(
        &app,
        &format!("/api/v1/minutes/{v2_id}/publication"),
        Some(&c.members[1].1),
        json!({}),
    )
    .await;
    assert_eq!(status, 403);
    let (status, published) = post(
        &app,
        &format!("/api/v1/minutes/{v2_id}/publication"),
        Some(&clerk_token),
        json!({}),
    )
    .await;
    assert_eq!(status, 200, "{published}");
    assert_eq!(published["status"], "published");
    let (status, _) = post(
        &app,
        &format!("/api/v1/minutes/{v2_id}/publication"),
        Some(&clerk_token),
        json!({}),
    )
    .await;
    assert_eq!(status, 409, "once");
    // The members are told, in the app (and by e-mail where they have it on).
    let (status, _, mine) = get(&app, "/api/v1/notifications", Some(&c.members[1].1)).await;
    assert_eq!(status, 200, "{mine}");
    let news: Vec<&Value> = mine["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["kind"] == "minutes_published")
        .collect();
    assert_eq!(news.len(), 1, "one notification of the publication: {mine}");
    assert!(!news[0].to_string().contains("Flurstück"), "{mine}");
    let (_, _, others) = get(&app, "/api/v1/notifications", Some(&other.members[1].1)).await;
    assert!(
        !others.to_string().contains("minutes_published"),
        "not for members of another body: {others}"
    );
    let (status, _, public) = get(&app, &public_minutes, None).await;
    assert_eq!(status, 200, "{public}");
    assert_eq!(public["version"], 2);
    assert_eq!(public["signatures"].as_array().unwrap().len(), 2);
    assert_eq!(
        public["content"]["items"][0]["decision"]["label"],
        "angenommen"
    );
    let (status, kind, public_pdf) = get_bytes(&app, public["pdf"].as_str().unwrap(), None).await;
    assert_eq!(status, 200);
    assert_eq!(kind, "application/pdf");
    assert_eq!(public_pdf, signed_pdf);

    // The non-public part: its own version, never published.
    let (status, n1) = post(
        &app,
        &versions,
        Some(&clerk_token),
        json!({"part": "non_public"}),
    )
    .await;
    assert_eq!(status, 201, "{n1}");
    assert!(n1.to_string().contains("Flurstück"));
    let n1_id = n1["id"].as_str().unwrap().to_owned();
    let (status, _, _) = get(
        &app,
        &format!("/api/v1/minutes/{n1_id}"),
        Some(&other.members[1].1),
    )
    .await;
    assert_eq!(status, 404);
    fresh_totp_step().await;
    for (token, role, secret, name) in [
        (&chair_token, "chair", &chair_secret, &chair_name),
        (&clerk_token, "clerk", &clerk_secret, &clerk_name),
    ] {
        let (status, body) = post(
            &app,
            &format!("/api/v1/minutes/{n1_id}/signatures"),
            Some(token),
            json!({"role": role, "code": code_for(secret, name, 1)}),
        )
        .await;
        assert_eq!(status, 200, "{body}");
    }
    let (status, problem) = post(
        &app,
        &format!("/api/v1/minutes/{n1_id}/publication"),
        Some(&clerk_token),
        json!({}),
    )
    .await;
    assert_eq!(status, 409, "{problem}");
    let (_, _, public) = get(&app, &public_minutes, None).await;
    assert!(!public.to_string().contains("Flurstück"));

    // Approval in a later meeting of the same committee: its item needs an adopting decision.
    let db = &app.db.db;
    let meeting = repo::meetings::get(db, c.meeting).await.unwrap();
    let later = repo::meetings::insert(
        db,
        Meeting {
            id: MeetingId::new(),
            meta: Meta::default(),
            organization_id: meeting.organization_id,
            name: Name::parse("Folgesitzung").unwrap(),
            start: meeting.start + chrono::Duration::days(14),
            end: None,
            location_id: None,
            state: MeetingState::Invited,
            invited_at: None,
        },
    )
    .await
    .unwrap();
    let approval_item = repo::agenda_items::insert(
        db,
        AgendaItem {
            id: AgendaItemId::new(),
            meta: Meta::default(),
            meeting_id: later.id,
            number: AgendaNumber::parse("Ö 1").unwrap(),
            position: 1,
            public: true,
            title: Title::parse("Genehmigung der Niederschrift").unwrap(),
            paper_id: None,
            decision: None,
        },
    )
    .await
    .unwrap();
    let approval = format!("/api/v1/meetings/{}/minutes/approval", c.meeting);
    let body = json!({
        "agenda_item_id": approval_item.id,
        "objections": [{"person_name": "Mitglied 2", "text": "Die Uhrzeit des Endes ist falsch."}],
    });
    let (status, problem) = post(&app, &approval, Some(&clerk_token), body.clone()).await;
    assert_eq!(status, 409, "no decision yet: {problem}");
    let (status, _) = post(&app, &approval, Some(&c.members[1].1), body.clone()).await;
    assert_eq!(status, 403);
    let (status, _) = post(
        &app,
        &approval,
        Some(&clerk_token),
        json!({"agenda_item_id": approval_item.id, "objections": [{"text": " "}]}),
    )
    .await;
    assert_eq!(status, 422);
    // An item of the same meeting does not approve its own minutes.
    let (status, _) = post(
        &app,
        &approval,
        Some(&clerk_token),
        json!({"agenda_item_id": c.public_item}),
    )
    .await;
    assert_eq!(status, 409);
    record_decision(
        &app,
        approval_item.id,
        &clerk_token,
        json!({"kind": "adopted"}),
    )
    .await;
    let (status, approved) = post(&app, &approval, Some(&clerk_token), body.clone()).await;
    assert_eq!(status, 200, "{approved}");
    let current: Vec<&Value> = approved["versions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["status"] != "superseded")
        .collect();
    assert_eq!(current.len(), 2);
    assert!(current.iter().all(|v| v["approved_at"].is_string()));
    assert_eq!(
        approved["objections"][0]["text"],
        "Die Uhrzeit des Endes ist falsch."
    );
    let (status, _) = post(&app, &approval, Some(&clerk_token), body).await;
    assert_eq!(status, 409, "approved once");
    // Approved minutes take no correction.
    let (status, problem) = post(
        &app,
        &versions,
        Some(&clerk_token),
        json!({"part": "public", "correction_reason": "Tippfehler"}),
    )
    .await;
    assert_eq!(status, 409, "{problem}");
    let (_, _, public) = get(&app, &public_minutes, None).await;
    assert!(public["approved_at"].is_string());

    // Members read the record; another committee does not.
    let record = format!("/api/v1/meetings/{}/minutes", c.meeting);
    let (status, _, member_view) = get(&app, &record, Some(&c.members[1].1)).await;
    assert_eq!(status, 200);
    assert_eq!(member_view["may_edit_public"], false);
    let (status, _, _) = get(&app, &record, Some(&other.members[1].1)).await;
    assert_eq!(status, 404);

    // The audit log holds every step, and each signature's chain head is an entry's hash.
    let entries = audit::list(db).await.unwrap();
    let actions: Vec<&str> = entries.iter().map(|e| e.event.action.as_str()).collect();
    for action in [
        "minutes.version_created",
        "minutes.signed",
        "minutes.completed",
        "minutes.published",
        "minutes.approved",
    ] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }
    assert_eq!(
        actions.iter().filter(|a| **a == "minutes.signed").count(),
        4
    );
    assert!(
        entries
            .iter()
            .any(|e| e.hash == chair_head && e.event.action == "minutes.signed")
    );
    app.stop().await;
}
