//! Stand-ins (Vertretung) against the real server (issue 14): a substitute member votes and
//! counts for the quorum only while the chair has recorded them standing in for an absent
//! member; the named record says whom they stood in for; every refusal is its own problem; every
//! stand-in set and ended is audited.

use plenum_domain::*;
use plenum_store::Backend;
use plenum_store::repo;
use rstest::rstest;
use serde_json::{Value, json};

use crate::chair::{audited, command, ok, poll_of};
use crate::helpers::{TestApp, spawn_app};
use crate::live::{Committee, committee};

/// A committee of five: 0 chairs, 1 and 2 are members, 3 and 4 substitute members (three
/// statutory seats: the substitutes hold none).
async fn with_substitutes(app: &TestApp) -> Committee {
    let c = committee(app, 5).await;
    let db = &app.db.db;
    for who in [3, 4] {
        let person = c.members[who].0;
        let mut membership = repo::memberships::list_by_person(db, person, false)
            .await
            .unwrap()
            .remove(0);
        membership.role = MembershipRole::Substitute;
        repo::memberships::update(db, membership).await.unwrap();
    }
    let meeting = repo::meetings::get(db, c.meeting).await.unwrap();
    let mut org = repo::organizations::get(db, meeting.organization_id)
        .await
        .unwrap();
    org.statutory_seats = Some(3);
    repo::organizations::update(db, org).await.unwrap();
    c
}

async fn state(app: &TestApp, c: &Committee, who: usize) -> Value {
    let response = app
        .get_with(
            &format!("/api/v1/meetings/{}/live", c.meeting),
            &c.members[who].1,
        )
        .await;
    assert_eq!(response.status(), 200);
    response.json::<Value>().await.unwrap()["state"].clone()
}

async fn refused(app: &TestApp, c: &Committee, who: usize, cmd: Value, status: u16, kind: &str) {
    let (got, body) = command(app, c, who, cmd.clone()).await;
    assert_eq!(
        (got, body["type"].as_str()),
        (status, Some(kind)),
        "{cmd} → {body}"
    );
    assert!(
        body["detail"].as_str().is_some_and(|d| !d.is_empty()),
        "a clear reason: {body}"
    );
}

fn row(state: &Value, person: PersonId) -> Value {
    state["attendance"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["person"] == json!(person))
        .cloned()
        .unwrap()
}

async fn open_named(app: &TestApp, c: &Committee, title: &str) -> PollId {
    let poll = PollId::new();
    ok(app, c, 0, json!({"type": "create_poll", "poll": poll, "item": c.public_item, "title": title, "kind": "named", "rule": "simple"})).await;
    ok(
        app,
        c,
        0,
        json!({"type": "open_poll", "poll": poll, "confirm_below_quorum": true}),
    )
    .await;
    poll
}

fn vote(poll: PollId, choice: &str) -> Value {
    json!({"type": "cast_ballot", "poll": poll, "choice": {"choice": choice}})
}

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test(flavor = "multi_thread")]
async fn a_substitute_votes_only_while_standing_in_and_the_record_names_them(
    #[case] backend: Backend,
) {
    let Some(app) = spawn_app(backend, false).await else {
        return;
    };
    let c = with_substitutes(&app).await;
    let (member, substitute) = (c.members[2].0, c.members[3].0);
    ok(&app, &c, 0, json!({"type": "start_meeting"})).await;
    for who in [0, 1, 3] {
        ok(&app, &c, who, json!({"type": "check_in", "remote": false})).await;
    }
    // The present substitute fills no seat of their own.
    let s = state(&app, &c, 0).await;
    assert_eq!(s["quorum"]["present_voting"], 2, "{}", s["quorum"]);

    // Without a stand-in the substitute may not vote, and learns why; the chair sees it too.
    let first = open_named(&app, &c, "Ohne Vertretung").await;
    refused(
        &app,
        &c,
        3,
        vote(first, "yes"),
        403,
        "/problems/voter-not-standing-in",
    )
    .await;
    let p = poll_of(&state(&app, &c, 3).await, first);
    assert_eq!(p["my_ineligibility"], "not_standing_in");
    assert_eq!(p["i_am_eligible"], false);
    let p = poll_of(&state(&app, &c, 0).await, first);
    assert!(
        p["ineligible"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["person"] == json!(substitute) && i["reason"] == "not_standing_in"),
        "{}",
        p["ineligible"]
    );
    assert_eq!(p["eligible_count"], 2);
    ok(&app, &c, 0, json!({"type": "close_poll", "poll": first})).await;

    // The chair records the stand-in (the brief's field names work too).
    ok(
        &app,
        &c,
        0,
        json!({"type": "set_stand_in", "member_id": member, "substitute_id": substitute}),
    )
    .await;
    let s = state(&app, &c, 3).await;
    assert_eq!(s["quorum"]["present_voting"], 3, "the seat is filled once");
    assert_eq!(row(&s, substitute)["stands_in_for"], json!(member));
    assert_eq!(row(&s, member)["represented_by"], json!(substitute));
    assert_eq!(s["stand_ins"][0]["member_name"], "Test Mitglied002");
    assert_eq!(s["stand_ins"][0]["substitute_name"], "Test Mitglied003");
    let set = audited(&app, "live.stand_in_set", 1).await;
    assert_eq!(
        set[0],
        json!({"member": member, "substitute": substitute}),
        "the audit names both"
    );
    // The public room display sees the attendance as before, stand-ins included.
    let public: Value = app
        .get(&format!("/api/v1/meetings/{}/live", c.meeting))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(public["state"]["stand_ins"].as_array().unwrap().len(), 1);

    let second = open_named(&app, &c, "Mit Vertretung").await;
    let p = poll_of(&state(&app, &c, 3).await, second);
    assert_eq!(p["i_am_eligible"], true);
    assert_eq!(p["stand_ins"], json!([[substitute, member]]));
    ok(&app, &c, 3, vote(second, "no")).await;
    ok(&app, &c, 0, vote(second, "yes")).await;
    ok(&app, &c, 1, vote(second, "yes")).await;

    // The member arrives during the poll: the stand-in ends, this poll stays the substitute's.
    ok(&app, &c, 2, json!({"type": "check_in", "remote": false})).await;
    let ended = audited(&app, "live.stand_in_ended", 1).await;
    assert_eq!(
        ended[0],
        json!({"member": member, "substitute": substitute, "reason": "member_arrived"})
    );
    refused(
        &app,
        &c,
        2,
        vote(second, "yes"),
        403,
        "/problems/voter-represented",
    )
    .await;
    let s = state(&app, &c, 2).await;
    assert_eq!(s["stand_ins"], json!([]));
    assert_eq!(s["quorum"]["present_voting"], 3, "still once");
    assert_eq!(poll_of(&s, second)["my_ineligibility"], "stand_in_active");
    let p = poll_of(&state(&app, &c, 0).await, second);
    assert!(
        p["ineligible"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["person"] == json!(member) && i["reason"] == "stand_in_active"),
        "{}",
        p["ineligible"]
    );

    ok(&app, &c, 0, json!({"type": "close_poll", "poll": second})).await;
    let p = poll_of(&state(&app, &c, 1).await, second);
    let lines: Vec<Value> = p["roll_call"]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["lines"].as_array().unwrap().clone())
        .collect();
    let line = lines
        .iter()
        .find(|l| l["person"] == json!(substitute))
        .unwrap();
    assert_eq!(line["choice"], "no");
    assert_eq!(line["stands_in_for"], "Test Mitglied002");
    assert!(
        lines
            .iter()
            .filter(|l| l["person"] != json!(substitute))
            .all(|l| l.get("stands_in_for").is_none())
    );
    assert_eq!(p["result"]["eligible"], 3);

    // The next poll is the member's again; the substitute is back to not voting.
    let third = open_named(&app, &c, "Danach").await;
    ok(&app, &c, 2, vote(third, "yes")).await;
    refused(
        &app,
        &c,
        3,
        vote(third, "yes"),
        403,
        "/problems/voter-not-standing-in",
    )
    .await;
    ok(&app, &c, 0, json!({"type": "close_poll", "poll": third})).await;

    // The draft minutes list the stand-in with its times and the vote with whom it stood for.
    let response = app
        .get_with(
            &format!("/api/v1/meetings/{}/minutes/draft?part=public", c.meeting),
            &c.members[0].1,
        )
        .await;
    assert_eq!(response.status(), 200);
    let draft: Value = response.json().await.unwrap();
    let stand_ins = draft["stand_ins"].as_array().unwrap();
    assert_eq!(stand_ins.len(), 1, "{stand_ins:?}");
    assert_eq!(stand_ins[0]["member_name"], "Test Mitglied002");
    assert_eq!(stand_ins[0]["substitute_name"], "Test Mitglied003");
    assert!(stand_ins[0]["to"].is_string(), "ended when the member came");
    let polls = draft["items"][0]["polls"].as_array().unwrap();
    let named = polls
        .iter()
        .find(|p| p["title"] == "Mit Vertretung")
        .unwrap()["named"]
        .as_array()
        .unwrap()
        .clone();
    let vote = named
        .iter()
        .find(|n| n["person"] == json!(substitute))
        .unwrap();
    assert_eq!(vote["stands_in_for"], "Test Mitglied002");
    app.stop().await;
}

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test(flavor = "multi_thread")]
async fn every_refusal_of_a_stand_in_is_its_own_problem(#[case] backend: Backend) {
    let Some(app) = spawn_app(backend, false).await else {
        return;
    };
    let c = with_substitutes(&app).await;
    let p = |who: usize| c.members[who].0;
    let set = |member: PersonId, substitute: PersonId| json!({"type": "set_stand_in", "member": member, "substitute": substitute});
    ok(&app, &c, 0, json!({"type": "start_meeting"})).await;
    refused(&app, &c, 1, set(p(2), p(3)), 403, "/problems/not-chair").await;
    refused(&app, &c, 0, set(p(2), p(2)), 422, "/problems/stand-in-self").await;
    refused(
        &app,
        &c,
        0,
        set(p(3), p(4)),
        422,
        "/problems/stand-in-no-seat",
    )
    .await;
    refused(
        &app,
        &c,
        0,
        set(c.advisory.0, p(3)),
        422,
        "/problems/stand-in-no-seat",
    )
    .await;
    refused(
        &app,
        &c,
        0,
        set(p(2), p(1)),
        422,
        "/problems/stand-in-not-substitute",
    )
    .await;
    refused(
        &app,
        &c,
        0,
        set(p(2), PersonId::new()),
        422,
        "/problems/stand-in-not-substitute",
    )
    .await;
    ok(&app, &c, 1, json!({"type": "check_in", "remote": true})).await;
    refused(
        &app,
        &c,
        0,
        set(p(1), p(3)),
        409,
        "/problems/stand-in-member-present",
    )
    .await;
    ok(&app, &c, 0, set(p(2), p(3))).await;
    ok(&app, &c, 0, set(p(2), p(3))).await; // the same again changes nothing
    refused(
        &app,
        &c,
        0,
        set(p(2), p(4)),
        409,
        "/problems/stand-in-exists",
    )
    .await;
    ok(&app, &c, 1, json!({"type": "check_out"})).await;
    refused(
        &app,
        &c,
        0,
        set(p(1), p(3)),
        409,
        "/problems/substitute-busy",
    )
    .await;
    refused(
        &app,
        &c,
        1,
        json!({"type": "end_stand_in", "member": p(2)}),
        403,
        "/problems/not-chair",
    )
    .await;
    ok(&app, &c, 0, json!({"type": "end_stand_in", "member": p(2)})).await;
    refused(
        &app,
        &c,
        0,
        json!({"type": "end_stand_in", "member": p(2)}),
        404,
        "/problems/stand-in-not-found",
    )
    .await;
    assert_eq!(audited(&app, "live.stand_in_set", 1).await.len(), 1);
    let ended = audited(&app, "live.stand_in_ended", 1).await;
    assert_eq!(
        ended,
        vec![json!({"member": p(2), "substitute": p(3), "reason": "chair"})]
    );
    // Once the session is closed, stand-ins are history.
    ok(&app, &c, 0, json!({"type": "close_meeting"})).await;
    refused(
        &app,
        &c,
        0,
        set(p(2), p(3)),
        409,
        "/problems/meeting-not-running",
    )
    .await;
    app.verify_audit().await.unwrap();
    app.stop().await;
}
