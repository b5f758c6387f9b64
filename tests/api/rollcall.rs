//! The named record and eligibility reasons against the real server (issue 14, items 2 and 6):
//! a closed named poll carries its roll call grouped by fraction for every viewer (the room
//! display included); an open one shows nobody's choice; the chair sees who has not voted yet
//! (names only, in secret polls too) and who is present but may not vote, and why; a member
//! who may not vote learns why.

use plenum_domain::*;
use plenum_store::Backend;
use plenum_store::repo;
use rstest::rstest;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::chair::{audited, ok, poll_of};
use crate::helpers::{TestApp, spawn_app};
use crate::live::{Committee, committee};

/// A command over REST as the holder of `token` (the advisory member is not in `members`).
async fn command_as(
    app: &TestApp,
    token: &str,
    meeting: MeetingId,
    command: Value,
) -> (u16, Value) {
    let response = app
        .client
        .post(app.url(&format!("/api/v1/meetings/{meeting}/live/commands")))
        .bearer_auth(token)
        .json(&json!({"command_id": Uuid::new_v4(), "command": command}))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// The live state as `token` sees it (`None`: anonymously, as the room display does).
async fn state(app: &TestApp, c: &Committee, token: Option<&str>) -> Value {
    let url = format!("/api/v1/meetings/{}/live", c.meeting);
    let response = match token {
        Some(token) => app.get_with(&url, token).await,
        None => app.get(&url).await,
    };
    assert_eq!(response.status(), 200);
    response.json::<Value>().await.unwrap()["state"].clone()
}

/// Puts the committee's members into fractions: 0 and 2 in "GZ" (short name of "Fraktion
/// Grünes Zentrum"), 1 in "SPD"; 3 in none.
async fn fractions(app: &TestApp, c: &Committee) {
    let db = &app.db.db;
    let person = repo::persons::get(db, c.members[0].0).await.unwrap();
    let fraction = |name: &str, short: Option<&str>| Organization {
        id: OrganizationId::new(),
        meta: Meta::default(),
        body_id: person.body_id,
        name: Name::parse(name).unwrap(),
        short_name: short.map(|s| Name::parse(s).unwrap()),
        kind: OrganizationKind::Fraction,
        statutory_seats: None,
        parent_id: None,
        start_date: None,
        end_date: None,
    };
    let gz = repo::organizations::insert(db, fraction("Fraktion Grünes Zentrum", Some("GZ")))
        .await
        .unwrap();
    let spd = repo::organizations::insert(db, fraction("SPD", None))
        .await
        .unwrap();
    for (who, org) in [(0, gz.id), (2, gz.id), (1, spd.id)] {
        repo::memberships::insert(
            db,
            Membership {
                id: MembershipId::new(),
                meta: Meta::default(),
                person_id: c.members[who].0,
                organization_id: org,
                role: MembershipRole::Member,
                voting_right: true,
                start_date: None,
                end_date: None,
            },
        )
        .await
        .unwrap();
    }
}

/// The pairs `(a, b)` of the string fields `a` and `b` of each object in `list`, sorted.
fn pairs(list: &Value, a: &str, b: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i[a].as_str().unwrap().to_owned(),
                i[b].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    out.sort();
    out
}

async fn create_and_open(app: &TestApp, c: &Committee, kind: &str) -> PollId {
    let poll = PollId::new();
    ok(app, c, 0, json!({"type": "create_poll", "poll": poll, "item": c.public_item, "title": format!("Feuerwache ({kind})"), "kind": kind, "rule": "simple"})).await;
    ok(
        app,
        c,
        0,
        json!({"type": "open_poll", "poll": poll, "confirm_below_quorum": true}),
    )
    .await;
    poll
}

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test(flavor = "multi_thread")]
async fn a_named_poll_shows_its_roll_call_by_fraction_once_closed(#[case] backend: Backend) {
    let Some(app) = spawn_app(backend, false).await else {
        return;
    };
    let c = committee(&app, 4).await;
    fractions(&app, &c).await;
    ok(&app, &c, 0, json!({"type": "start_meeting"})).await;
    for who in 0..3 {
        ok(&app, &c, who, json!({"type": "check_in", "remote": false})).await;
    }
    let poll = create_and_open(&app, &c, "named").await;
    ok(
        &app,
        &c,
        0,
        json!({"type": "cast_ballot", "poll": poll, "choice": {"choice": "yes"}}),
    )
    .await;
    ok(
        &app,
        &c,
        1,
        json!({"type": "cast_ballot", "poll": poll, "choice": {"choice": "no"}}),
    )
    .await;

    // While open: nobody sees a roll call or anyone else's choice; the chair sees who is missing.
    let chair = poll_of(&state(&app, &c, Some(&c.members[0].1)).await, poll);
    assert_eq!(chair["roll_call"], Value::Null);
    assert_eq!(
        chair["not_voted"],
        json!([{"person": c.members[2].0, "name": "Test Mitglied002"}])
    );
    let public = poll_of(&state(&app, &c, None).await, poll);
    assert_eq!(public["roll_call"], Value::Null);
    assert_eq!(public["not_voted"], json!([]));

    ok(&app, &c, 0, json!({"type": "close_poll", "poll": poll})).await;
    // The room display (anonymous), the chair and a member all see the same roll call: GZ first
    // (fractions by name), then SPD; Mitglied 2 eligible but did not vote. Mitglied 3 was absent
    // and the advisory member has no vote: neither is listed.
    let expected = json!({
        "poll": poll,
        "groups": [
            {"fraction": "GZ", "lines": [
                {"person": c.members[0].0, "name": "Test Mitglied000", "choice": "yes"},
                {"person": c.members[2].0, "name": "Test Mitglied002", "choice": null},
            ]},
            {"fraction": "SPD", "lines": [
                {"person": c.members[1].0, "name": "Test Mitglied001", "choice": "no"},
            ]},
        ],
        "not_voted": 1,
    });
    for token in [
        None,
        Some(c.members[0].1.as_str()),
        Some(c.members[3].1.as_str()),
    ] {
        let p = poll_of(&state(&app, &c, token).await, poll);
        assert_eq!(p["roll_call"], expected, "{token:?}");
    }

    // The attendance rows name each member's fraction (clients build the roll call from the
    // poll_closed event with it).
    let public = state(&app, &c, None).await;
    let fraction_of = |person: PersonId| {
        public["attendance"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["person"] == json!(person))
            .unwrap()["fraction"]
            .clone()
    };
    assert_eq!(fraction_of(c.members[0].0), "GZ");
    assert_eq!(fraction_of(c.members[1].0), "SPD");
    assert_eq!(fraction_of(c.members[3].0), Value::Null);

    // An open (show of hands) poll has no roll call.
    let open = create_and_open(&app, &c, "open").await;
    ok(
        &app,
        &c,
        0,
        json!({"type": "cast_ballot", "poll": open, "choice": {"choice": "yes"}}),
    )
    .await;
    ok(&app, &c, 0, json!({"type": "close_poll", "poll": open})).await;
    let p = poll_of(&state(&app, &c, None).await, open);
    assert_eq!(p["roll_call"], Value::Null);
    app.stop().await;
}

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test(flavor = "multi_thread")]
async fn members_who_may_not_vote_are_told_why_and_the_chair_sees_the_list(
    #[case] backend: Backend,
) {
    let Some(app) = spawn_app(backend, false).await else {
        return;
    };
    let c = committee(&app, 4).await;
    ok(&app, &c, 0, json!({"type": "start_meeting"})).await;
    for who in 0..3 {
        ok(&app, &c, who, json!({"type": "check_in", "remote": false})).await;
    }
    let (status, body) = command_as(
        &app,
        &c.advisory.1,
        c.meeting,
        json!({"type": "check_in", "remote": false}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    ok(
        &app,
        &c,
        2,
        json!({"type": "declare_conflict", "item": c.public_item}),
    )
    .await;
    let poll = create_and_open(&app, &c, "secret").await;

    // Mitglied 3 arrives after the poll opened: not eligible, and told why.
    ok(&app, &c, 3, json!({"type": "check_in", "remote": false})).await;
    let late = poll_of(&state(&app, &c, Some(&c.members[3].1)).await, poll);
    assert_eq!(late["i_am_eligible"], json!(false));
    assert_eq!(late["my_ineligibility"], json!("arrived_late"));
    // Members do not see the others' reasons; their own as fixed at opening lets a client keep
    // the reason current.
    assert_eq!(late["ineligible"], json!([]));
    assert_eq!(
        late["ineligible_at_open"],
        json!([[c.members[3].0, "absent"]])
    );
    let (status, body) = command_as(
        &app,
        &c.members[3].1,
        c.meeting,
        json!({"type": "cast_ballot", "poll": poll, "choice": {"choice": "yes"}}),
    )
    .await;
    assert_eq!(
        (status, body["type"].as_str()),
        (403, Some("/problems/voter-absent")),
        "{body}"
    );

    let conflicted = poll_of(&state(&app, &c, Some(&c.members[2].1)).await, poll);
    assert_eq!(conflicted["my_ineligibility"], json!("conflicted"));
    let advisory = poll_of(&state(&app, &c, Some(&c.advisory.1)).await, poll);
    assert_eq!(advisory["my_ineligibility"], json!("advisory"));
    let eligible = poll_of(&state(&app, &c, Some(&c.members[1].1)).await, poll);
    assert_eq!(eligible["my_ineligibility"], Value::Null);
    assert_eq!(eligible["ineligible_at_open"], json!([]));
    let public = poll_of(&state(&app, &c, None).await, poll);
    assert_eq!(public["ineligible"], json!([]));
    assert_eq!(public["ineligible_at_open"], json!([]));

    // The chair: everyone present who may not vote, with the reason; and in this secret poll
    // who has not voted yet — names only.
    ok(
        &app,
        &c,
        1,
        json!({"type": "cast_ballot", "poll": poll, "choice": {"choice": "no"}}),
    )
    .await;
    let chair = poll_of(&state(&app, &c, Some(&c.members[0].1)).await, poll);
    let reasons = pairs(&chair["ineligible"], "name", "reason");
    assert_eq!(chair["ineligible_at_open"].as_array().unwrap().len(), 3);
    assert_eq!(
        reasons,
        vec![
            ("Test Mitglied002".to_owned(), "conflicted".to_owned()),
            ("Test Mitglied003".to_owned(), "arrived_late".to_owned()),
            ("Test Mitglied004".to_owned(), "advisory".to_owned()),
        ]
    );
    assert_eq!(
        chair["not_voted"],
        json!([{"person": c.members[0].0, "name": "Test Mitglied000"}])
    );
    assert_eq!(chair["my_choice"], Value::Null);
    assert!(!chair.to_string().contains("\"no\""), "{chair}");

    // The audit entry of the opening records who could not vote and why.
    let opened = audited(&app, "poll.opened", 1).await.pop().unwrap();
    assert_eq!(opened["poll"], json!(poll));
    let audited = pairs(&opened["ineligible"], "person", "reason");
    let mut want = vec![
        (c.members[2].0.to_string(), "conflicted".to_owned()),
        (c.members[3].0.to_string(), "absent".to_owned()),
        (c.advisory.0.to_string(), "advisory".to_owned()),
    ];
    want.sort();
    assert_eq!(audited, want);

    // Closed: no reasons any more, and a secret poll has no roll call.
    ok(&app, &c, 0, json!({"type": "close_poll", "poll": poll})).await;
    let late = poll_of(&state(&app, &c, Some(&c.members[3].1)).await, poll);
    assert_eq!(late["my_ineligibility"], Value::Null);
    assert_eq!(late["roll_call"], Value::Null);
    app.stop().await;
}
