//! Decisions on agenda items: the live session proposes, the clerk records, members read it at
//! once, the public only after the session — and never a non-public item's decision.

use chrono::Utc;
use plenum_domain::*;
use plenum_store::{Backend, audit, repo};
use rstest::rstest;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{TestApp, spawn_app};
use crate::live::{LiveClient, committee, create_and_open, start_and_check_in};

/// A clerk account with a signed-in device: (user, access token).
async fn clerk(app: &TestApp) -> (UserId, String) {
    let db = &app.db.db;
    let user = repo::users::insert(
        db,
        User {
            id: UserId::new(),
            meta: Meta::default(),
            username: Username::parse(&format!(
                "clerk-{}",
                &Uuid::new_v4().simple().to_string()[..8]
            ))
            .unwrap(),
            display_name: Name::parse("Sitzungsdienst").unwrap(),
            person_id: None,
            site_role: SiteRole::Clerk,
            password_hash: None,
        },
    )
    .await
    .unwrap();
    let now = chrono::SubsecRound::trunc_subsecs(Utc::now(), 6);
    let session = DeviceSession {
        id: DeviceSessionId::new(),
        user_id: user.id,
        name: "Test".into(),
        user_agent: "test".into(),
        created: now,
        last_used: now,
        expires_at: now + chrono::Duration::days(1),
        revoked_at: None,
        revoked_reason: None,
    };
    plenum_store::auth::sessions::insert(db, &session, "x")
        .await
        .unwrap();
    let key = std::fs::read(app.config.data_dir.join("signing.key")).unwrap();
    let keys = plenum_api::auth::tokens::TokenKeys::new(&key);
    (user.id, keys.access(user.id, session.id, Utc::now()))
}

async fn vote(app: &TestApp, meeting: MeetingId, token: &str, poll: PollId, choice: &str) {
    let r = app
        .client
        .post(app.url(&format!("/api/v1/meetings/{meeting}/live/commands")))
        .bearer_auth(token)
        .json(&json!({"command_id": Uuid::new_v4(), "command": {"type": "cast_ballot", "poll": poll, "choice": {"choice": choice}}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
}

async fn get(app: &TestApp, path: &str, token: Option<&str>) -> (u16, Option<String>, Value) {
    let mut request = app.client.get(app.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
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

async fn put(
    app: &TestApp,
    item: AgendaItemId,
    token: &str,
    etag: Option<&str>,
    body: Value,
) -> (u16, Value) {
    let mut request = app
        .client
        .put(app.url(&format!("/api/v1/agenda-items/{item}/decision")))
        .bearer_auth(token)
        .json(&body);
    if let Some(etag) = etag {
        request = request.header("If-Match", etag);
    }
    let r = request.send().await.unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn public_item(meeting: &Value, item: AgendaItemId) -> &Value {
    meeting["agenda"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == item.to_string())
        .expect("the public item")
}

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_named_vote_becomes_the_recorded_decision_and_is_published_after_the_session(
    #[case] backend: Backend,
) {
    let Some(app) = spawn_app(backend, false).await else {
        return;
    };
    let c = committee(&app, 4).await;
    let (clerk_id, clerk_token) = clerk(&app).await;
    let chair_token = c.members[0].1.clone();
    let mut chair = LiveClient::connect(&app, Some(&chair_token), c.meeting, None).await;
    start_and_check_in(&app, &c, &mut chair, &[0, 1, 2, 3]).await;
    let poll = create_and_open(&mut chair, c.public_item, "named", "simple", &[]).await;
    vote(&app, c.meeting, &c.members[0].1, poll, "yes").await;
    vote(&app, c.meeting, &c.members[1].1, poll, "yes").await;
    vote(&app, c.meeting, &c.members[2].1, poll, "no").await;
    chair
        .command(json!({"type": "close_poll", "poll": poll}))
        .await;

    // While the session runs the public sees neither the poll result nor a decision.
    let public_path = format!("/api/v1/public/meetings/{}", c.meeting);
    let (status, _, public) = get(&app, &public_path, None).await;
    assert_eq!(status, 200);
    let item = public_item(&public, c.public_item);
    assert_eq!(item["results"], json!([]), "{item}");
    assert!(item["outcome"].is_null(), "{item}");

    // The clerk gets the proposal from the live session; a member may not.
    let proposal_path = format!("/api/v1/agenda-items/{}/decision/proposal", c.public_item);
    let (status, _, proposal) = get(&app, &proposal_path, Some(&clerk_token)).await;
    assert_eq!(status, 200, "{proposal}");
    assert_eq!(proposal["kind"], "adopted");
    assert_eq!(proposal["label"], "angenommen");
    assert_eq!(proposal["vote"]["poll"], poll.to_string());
    assert_eq!(
        (
            proposal["vote"]["yes"].as_u64(),
            proposal["vote"]["no"].as_u64()
        ),
        (Some(2), Some(1))
    );
    assert_eq!(proposal["vote"]["named"].as_array().unwrap().len(), 3);
    assert_eq!(proposal["vote"]["not_voted"].as_array().unwrap().len(), 1);
    assert_eq!(
        proposal["vote"]["not_voted"][0]["person"],
        c.members[3].0.to_string(),
        "the member who did not vote"
    );
    assert!(proposal["recorded"].is_null());
    let (status, _, _) = get(&app, &proposal_path, Some(&c.members[1].1)).await;
    assert_eq!(status, 403, "members do not record decisions");

    // Recording: If-Match required, bad kinds, foreign polls and bare referrals refused.
    let item_path = format!("/api/v1/agenda-items/{}", c.public_item);
    let (_, etag, _) = get(&app, &item_path, Some(&clerk_token)).await;
    let etag = etag.unwrap();
    let body = json!({"kind": "adopted", "text": "Der Ausschuss beschließt den Neubau der Feuerwache.", "poll": poll});
    assert_eq!(
        put(&app, c.public_item, &clerk_token, None, body.clone())
            .await
            .0,
        428
    );
    assert_eq!(
        put(
            &app,
            c.public_item,
            &clerk_token,
            Some("\"stale\""),
            body.clone()
        )
        .await
        .0,
        412
    );
    let (status, problem) = put(
        &app,
        c.public_item,
        &clerk_token,
        Some(&etag),
        json!({"kind": "accepted"}),
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    let (status, problem) = put(
        &app,
        c.public_item,
        &clerk_token,
        Some(&etag),
        json!({"kind": "adopted", "poll": Uuid::new_v4()}),
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("poll"),
        "{problem}"
    );
    let (status, problem) = put(
        &app,
        c.public_item,
        &clerk_token,
        Some(&etag),
        json!({"kind": "referred"}),
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(
        put(
            &app,
            c.public_item,
            &c.members[1].1,
            Some(&etag),
            body.clone()
        )
        .await
        .0,
        403
    );
    let (status, recorded) = put(&app, c.public_item, &clerk_token, Some(&etag), body).await;
    assert_eq!(status, 200, "{recorded}");
    assert_eq!(recorded["outcome"]["kind"], "adopted");
    assert_eq!(
        recorded["outcome"]["vote"]["named"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    assert_eq!(
        recorded["decision"],
        "Der Ausschuss beschließt den Neubau der Feuerwache."
    );

    // Members read it at once; the public still not while the session runs.
    let (_, _, member_view) = get(&app, &item_path, Some(&c.members[2].1)).await;
    assert_eq!(member_view["outcome"]["label"], "angenommen");
    let (_, _, public) = get(&app, &public_path, None).await;
    assert!(public_item(&public, c.public_item)["outcome"].is_null());

    // A decision on the non-public item.
    let secret_path = format!("/api/v1/agenda-items/{}", c.secret_item);
    let (_, secret_etag, _) = get(&app, &secret_path, Some(&clerk_token)).await;
    let (status, _) = put(
        &app,
        c.secret_item,
        &clerk_token,
        secret_etag.as_deref(),
        json!({"kind": "referred", "referred_to": "Liegenschaftsausschuss Flurstück 9", "text": "Vertraulicher Beschluss Flurstück 9"}),
    )
    .await;
    assert_eq!(status, 200);

    // After the session the public reads the public decision with its named vote, and nothing
    // of the non-public one.
    chair.command(json!({"type": "close_meeting"})).await;
    let (status, _, public) = get(&app, &public_path, None).await;
    assert_eq!(status, 200);
    let item = public_item(&public, c.public_item);
    assert_eq!(item["outcome"]["kind"], "adopted", "{item}");
    assert_eq!(item["outcome"]["vote"]["yes"], 2);
    assert_eq!(
        item["outcome"]["vote"]["named"].as_array().unwrap().len(),
        3
    );
    assert_eq!(
        item["results"],
        json!([]),
        "the public reads the record, not the session"
    );
    let text = public.to_string();
    assert!(!text.contains("Flurstück 9"), "{text}");
    assert!(!text.contains("Liegenschaftsausschuss"), "{text}");

    // Both writes are audited, by the clerk, naming only kinds and ids.
    let entries = audit::list(&app.db.db).await.unwrap();
    let recorded: Vec<_> = entries
        .iter()
        .filter(|e| e.event.action == "decision.recorded")
        .collect();
    assert_eq!(recorded.len(), 2);
    assert!(recorded.iter().all(|e| e.event.actor == Some(clerk_id)));
    assert!(
        recorded
            .iter()
            .all(|e| !e.event.detail.contains("Flurstück"))
    );
    app.stop().await;
}
