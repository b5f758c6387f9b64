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
pub(crate) async fn clerk(app: &TestApp) -> (UserId, String) {
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

pub(crate) async fn vote(
    app: &TestApp,
    meeting: MeetingId,
    token: &str,
    poll: PollId,
    choice: &str,
) {
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

pub(crate) async fn get(
    app: &TestApp,
    path: &str,
    token: Option<&str>,
) -> (u16, Option<String>, Value) {
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

/// A paper with one consultation, held on `item` of `meeting`.
async fn paper_on(
    app: &TestApp,
    body: BodyId,
    organization: OrganizationId,
    meeting: MeetingId,
    item: AgendaItemId,
    title: &str,
) -> PaperId {
    let db = &app.db.db;
    let tag = &Uuid::new_v4().simple().to_string()[..6];
    let paper = repo::papers::insert(
        db,
        Paper {
            id: PaperId::new(),
            meta: Meta::default(),
            body_id: body,
            reference: PaperReference::parse(&format!("VO/{tag}")).unwrap(),
            paper_type: PaperType::Resolution,
            title: Title::parse(title).unwrap(),
            date: Utc::now().date_naive(),
            originator_id: None,
            text: Markdown::parse("Beschlussvorschlag der Verwaltung.").unwrap(),
            public: true,
            main_file_id: None,
            under_direction_of_id: None,
        },
    )
    .await
    .unwrap();
    repo::consultations::insert(
        db,
        Consultation {
            id: ConsultationId::new(),
            meta: Meta::default(),
            paper_id: paper.id,
            organization_id: organization,
            meeting_id: Some(meeting),
            agenda_item_id: Some(item),
            role: ConsultationRole::Decide,
            position: 1,
        },
    )
    .await
    .unwrap();
    paper.id
}

/// The ids of every object an OParl list walk returns (all pages).
async fn walk_ids(app: &TestApp, first: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut next = Some(first.to_owned());
    while let Some(url) = next {
        let page: Value = app
            .client
            .get(&url)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        for object in page["data"].as_array().unwrap() {
            ids.push(object["id"].as_str().unwrap().to_owned());
        }
        next = page["links"]["next"].as_str().map(str::to_owned);
    }
    ids
}

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn decisions_reach_oparl_and_the_paper_and_move_modified_but_never_a_non_public_one(
    #[case] backend: Backend,
) {
    let Some(app) = spawn_app(backend, false).await else {
        return;
    };
    let db = &app.db.db;
    let c = committee(&app, 3).await;
    let (_, clerk_token) = clerk(&app).await;
    let meeting = repo::meetings::get(db, c.meeting).await.unwrap();
    let organization = repo::organizations::get(db, meeting.organization_id)
        .await
        .unwrap();
    let body = organization.body_id;
    let paper = paper_on(
        &app,
        body,
        organization.id,
        c.meeting,
        c.public_item,
        "Neubau der Feuerwache",
    )
    .await;
    // A public paper consulted on the non-public item: the paper is public, the item's decision
    // is not.
    let other = paper_on(
        &app,
        body,
        organization.id,
        c.meeting,
        c.secret_item,
        "Grundstücksangelegenheit",
    )
    .await;

    let base = app.url("/oparl/v1");
    let item_url = format!("{base}/agendaItem/{}", c.public_item);
    let item_path = format!("/api/v1/agenda-items/{}", c.public_item);
    let lists = format!("{base}/body/{body}");
    let oparl_get = |url: String| {
        let client = app.client.clone();
        async move {
            client
                .get(&url)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };

    // A decision recorded before the session (no poll) is public at once, and hidden while the
    // session runs: the start is a change an importer sees.
    let (_, etag, _) = get(&app, &item_path, Some(&clerk_token)).await;
    let (status, _) = put(
        &app,
        c.public_item,
        &clerk_token,
        etag.as_deref(),
        json!({"kind": "noted"}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        oparl_get(item_url.clone()).await["result"],
        "zur Kenntnis genommen"
    );
    let before_start = Utc::now();
    let chair_token = c.members[0].1.clone();
    let mut chair = LiveClient::connect(&app, Some(&chair_token), c.meeting, None).await;
    start_and_check_in(&app, &c, &mut chair, &[0, 1, 2]).await;
    assert!(oparl_get(item_url.clone()).await.get("result").is_none());
    let start_param = format!(
        "modified_since={}",
        before_start
            .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
            .replace('+', "%2B")
            .replace(':', "%3A")
    );
    let items = walk_ids(&app, &format!("{lists}/agendaItem?{start_param}")).await;
    assert!(items.contains(&item_url), "{items:?}");

    chair
        .command(json!({"type": "set_current_item", "item": c.public_item}))
        .await;
    let poll = create_and_open(&mut chair, c.public_item, "open", "simple", &[]).await;
    vote(&app, c.meeting, &c.members[0].1, poll, "yes").await;
    vote(&app, c.meeting, &c.members[1].1, poll, "yes").await;
    vote(&app, c.meeting, &c.members[2].1, poll, "abstain").await;
    chair
        .command(json!({"type": "close_poll", "poll": poll}))
        .await;
    let (_, etag, _) = get(&app, &item_path, Some(&clerk_token)).await;
    let (status, _) = put(
        &app,
        c.public_item,
        &clerk_token,
        etag.as_deref(),
        json!({"kind": "adopted", "text": "Die Feuerwache wird neu gebaut.", "poll": poll}),
    )
    .await;
    assert_eq!(status, 200);
    // Recorded while the session runs: OParl, like the portal, does not show it yet.
    let oparl_item: Value = app
        .client
        .get(&item_url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(oparl_item.get("result").is_none(), "{oparl_item}");

    // The non-public item's decision, with a text that must never leave.
    let secret_path = format!("/api/v1/agenda-items/{}", c.secret_item);
    let (_, secret_etag, _) = get(&app, &secret_path, Some(&clerk_token)).await;
    let (status, _) = put(
        &app,
        c.secret_item,
        &clerk_token,
        secret_etag.as_deref(),
        json!({"kind": "rejected", "text": "Verkauf Flurstück 77 an Geheim GmbH"}),
    )
    .await;
    assert_eq!(status, 200);
    let before_close = Utc::now();
    chair.command(json!({"type": "close_meeting"})).await;

    // Closing the session publishes the decision recorded during it: an importer that walked
    // the lists before sees the item and its paper again.
    let close_param = format!(
        "modified_since={}",
        before_close
            .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
            .replace('+', "%2B")
            .replace(':', "%3A")
    );
    let items = walk_ids(&app, &format!("{lists}/agendaItem?{close_param}")).await;
    assert!(items.contains(&item_url), "{items:?}");
    // The closed meeting names who took part (the three checked in, not the advisory member
    // who never came), and is listed as changed.
    let meetings = walk_ids(&app, &format!("{lists}/meeting?{close_param}")).await;
    let meeting_url = format!("{base}/meeting/{}", c.meeting);
    assert!(meetings.contains(&meeting_url), "{meetings:?}");
    let oparl_meeting = oparl_get(meeting_url).await;
    let mut participants: Vec<String> = oparl_meeting["participant"]
        .as_array()
        .unwrap_or_else(|| panic!("{oparl_meeting:#}"))
        .iter()
        .map(|p| p.as_str().unwrap().to_owned())
        .collect();
    participants.sort();
    let mut expected: Vec<String> = c.members[..3]
        .iter()
        .map(|(p, _)| format!("{base}/person/{p}"))
        .collect();
    expected.sort();
    assert_eq!(participants, expected);
    // Its public item shows when it was discussed: from being made current to the close.
    let item = oparl_get(item_url.clone()).await;
    let start = item["start"].as_str().unwrap_or_else(|| panic!("{item:#}"));
    let parse = |t: &str| {
        chrono::DateTime::parse_from_rfc3339(t)
            .unwrap()
            .with_timezone(&Utc)
    };
    assert!(
        parse(start) >= before_start - chrono::Duration::seconds(1),
        "{item:#}"
    );
    let end = item["end"].as_str().unwrap_or_else(|| panic!("{item:#}"));
    assert!(parse(end) >= parse(start), "{item:#}");
    assert!(parse(end) <= Utc::now(), "{item:#}");
    let items = walk_ids(&app, &format!("{lists}/agendaItem?{close_param}")).await;
    assert!(
        items.contains(&item_url),
        "the item moved at the close: {items:?}"
    );
    let papers = walk_ids(&app, &format!("{lists}/paper?{close_param}")).await;
    assert!(
        papers.contains(&format!("{base}/paper/{paper}")),
        "{papers:?}"
    );
    let oparl_item: Value = app
        .client
        .get(&item_url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(oparl_item["result"], "angenommen", "{oparl_item}");

    // After the session: the change (here a corrected text) shows in every modified_since walk
    // — the agenda item, its meeting and the paper consulted on it.
    let since = Utc::now();
    let since_param = format!(
        "modified_since={}",
        since
            .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
            .replace('+', "%2B")
            .replace(':', "%3A")
    );
    for list in ["agendaItem", "meeting", "paper"] {
        let ids = walk_ids(&app, &format!("{lists}/{list}?{since_param}")).await;
        assert!(
            !ids.contains(&item_url),
            "{list}: nothing changed yet: {ids:?}"
        );
    }
    let (_, etag, _) = get(&app, &item_path, Some(&clerk_token)).await;
    let (status, _) = put(
        &app,
        c.public_item,
        &clerk_token,
        etag.as_deref(),
        json!({"kind": "adopted_amended", "text": "Die Feuerwache wird mit Änderungen neu gebaut.", "poll": poll}),
    )
    .await;
    assert_eq!(status, 200);
    let items = walk_ids(&app, &format!("{lists}/agendaItem?{since_param}")).await;
    assert!(items.contains(&item_url), "{items:?}");
    let meetings = walk_ids(&app, &format!("{lists}/meeting?{since_param}")).await;
    assert!(
        meetings.contains(&format!("{base}/meeting/{}", c.meeting)),
        "{meetings:?}"
    );
    let papers = walk_ids(&app, &format!("{lists}/paper?{since_param}")).await;
    assert!(
        papers.contains(&format!("{base}/paper/{paper}")),
        "{papers:?}"
    );

    // OParl: the result in German and the decision's text, valid against the schemas.
    let schemas = crate::oparl::Schemas::load();
    let oparl_item: Value = app
        .client
        .get(&item_url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(oparl_item["result"], "angenommen mit Änderungen");
    // The decision text as sanitised HTML (it is kept as Markdown).
    assert_eq!(
        oparl_item["resolutionText"],
        "<p>Die Feuerwache wird mit Änderungen neu gebaut.</p>"
    );
    schemas.check(&oparl_item);
    let oparl_meeting: Value = app
        .client
        .get(format!("{base}/meeting/{}", c.meeting))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    schemas.check(&oparl_meeting);
    let embedded = oparl_meeting["agendaItem"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == item_url.as_str())
        .expect("the public item in its meeting");
    assert_eq!(embedded["result"], "angenommen mit Änderungen");

    // The paper shows where it stands, for members and the public.
    let (status, _, public_paper) =
        get(&app, &format!("/api/v1/public/papers/{paper}"), None).await;
    assert_eq!(status, 200);
    let step = &public_paper["consultations"][0];
    assert_eq!(
        step["agenda_item"]["outcome"]["label"],
        "angenommen mit Änderungen"
    );
    assert_eq!(step["meeting"]["id"], c.meeting.to_string());
    let (_, _, member_other) = get(
        &app,
        &format!("/api/v1/papers/{other}"),
        Some(&c.members[1].1),
    )
    .await;
    assert_eq!(
        member_other["consultations"][0]["agenda_item"]["outcome"]["kind"], "rejected",
        "members see the non-public item's decision"
    );

    // Nothing of the non-public decision in any public or OParl answer.
    let (status, _, public_other) =
        get(&app, &format!("/api/v1/public/papers/{other}"), None).await;
    assert_eq!(status, 200);
    assert!(
        public_other["consultations"][0]["agenda_item"].is_null(),
        "{public_other}"
    );
    let mut answers = vec![public_other.to_string()];
    for path in [
        format!("/api/v1/public/meetings/{}", c.meeting),
        format!("/api/v1/public/papers/{paper}"),
        format!("/oparl/v1/meeting/{}", c.meeting),
        format!("/oparl/v1/paper/{other}"),
        format!("/oparl/v1/agendaItem/{}", c.secret_item),
        format!("/oparl/v1/body/{body}/agendaItem"),
        format!("/oparl/v1/body/{body}/paper"),
        format!("/oparl/v1/body/{body}/consultation"),
        format!("/oparl/v1/body/{body}/agendaItem?{since_param}"),
        format!("/oparl/v1/body/{body}/meeting?{since_param}"),
        format!("/oparl/v1/body/{body}/paper?{since_param}"),
    ] {
        let r = app.client.get(app.url(&path)).send().await.unwrap();
        answers.push(format!("{path}: {}", r.text().await.unwrap()));
    }
    for answer in &answers {
        assert!(!answer.contains("Flurstück 77"), "{answer}");
        assert!(!answer.contains("Geheim GmbH"), "{answer}");
        assert!(!answer.contains("abgelehnt"), "{answer}");
    }

    // Removing the decision is a change too: OParl drops the result, the walk sees it.
    let since = Utc::now();
    let since_param = format!(
        "modified_since={}",
        since
            .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
            .replace('+', "%2B")
            .replace(':', "%3A")
    );
    let (_, etag, _) = get(&app, &item_path, Some(&clerk_token)).await;
    let r = app
        .client
        .delete(app.url(&format!("/api/v1/agenda-items/{}/decision", c.public_item)))
        .bearer_auth(&clerk_token)
        .header("If-Match", etag.unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let items = walk_ids(&app, &format!("{lists}/agendaItem?{since_param}")).await;
    assert!(items.contains(&item_url), "{items:?}");
    let papers = walk_ids(&app, &format!("{lists}/paper?{since_param}")).await;
    assert!(
        papers.contains(&format!("{base}/paper/{paper}")),
        "{papers:?}"
    );
    let oparl_item: Value = app
        .client
        .get(&item_url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(oparl_item.get("result").is_none(), "{oparl_item}");
    app.stop().await;
}
