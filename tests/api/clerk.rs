//! The clerk API: papers, their Beratungsfolge, atomic `If-Match`, and the audit log of every
//! clerk write.

use plenum_domain::*;
use plenum_server::demo::demo_body_id;
use plenum_store::repo;
use plenum_store::{Backend, audit};
use rstest::rstest;
use serde_json::{Value, json};

use crate::files::{multipart, pdf, upload};
use crate::helpers::{TestApp, secrets, spawn_app};

async fn meetings(app: &TestApp) -> Vec<Meeting> {
    repo::meetings::list_by_body(&app.db.db, demo_body_id(), false)
        .await
        .unwrap()
}

async fn meeting_named(app: &TestApp, prefix: &str) -> Meeting {
    meetings(app)
        .await
        .into_iter()
        .find(|m| m.name.as_str().starts_with(prefix))
        .unwrap_or_else(|| panic!("no meeting {prefix}"))
}

fn etag(r: &reqwest::Response) -> String {
    r.headers()["etag"].to_str().unwrap().to_owned()
}

async fn json_of(r: reqwest::Response) -> Value {
    r.json().await.unwrap()
}

/// A request with a bearer token and, if given, `If-Match`.
fn send(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    token: &str,
    if_match: Option<&str>,
) -> reqwest::RequestBuilder {
    let mut request = app.client.request(method, app.url(path)).bearer_auth(token);
    if let Some(tag) = if_match {
        request = request.header("if-match", tag);
    }
    request
}

async fn current_etag(app: &TestApp, path: &str, token: &str) -> String {
    let r = app.get_with(path, token).await;
    assert_eq!(r.status(), 200, "{path}");
    etag(&r)
}

async fn assert_problem(r: reqwest::Response, status: u16, needle: &str) {
    assert_eq!(r.status(), status);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let body = json_of(r).await;
    let text = body.to_string();
    assert!(text.contains(needle), "{needle:?} not in {text}");
}

fn new_paper(reference: &str, originator: OrganizationId) -> Value {
    json!({
        "reference": reference,
        "paper_type": "resolution",
        "title": "Neubau der Feuerwache Nord",
        "date": "2026-11-20",
        "originator_id": originator,
        "text": "Die Verwaltung wird **beauftragt**, …",
        "public": true,
    })
}

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test]
async fn clerks_create_and_change_papers(#[case] backend: Backend) {
    let Some(app) = spawn_app(backend, true).await else {
        return;
    };
    let clerk = app.login("martina.sommer", 0).await;
    let anna = app.login("anna.hartmann", 0).await;
    let council = meeting_named(&app, "3. Sitzung des Rates")
        .await
        .organization_id;
    let taken = repo::papers::list_by_body(&app.db.db, demo_body_id(), false)
        .await
        .unwrap()[0]
        .reference
        .to_string();
    let post = |token: &str, body: Value| {
        send(&app, reqwest::Method::POST, "/api/v1/papers", token, None)
            .json(&body)
            .send()
    };

    // Members may not; bad fields are 422 naming the field; a taken reference is 409.
    let r = post(&anna.access, new_paper("VO/2026/900", council))
        .await
        .unwrap();
    assert_problem(r, 403, "forbidden").await;
    let mut bad = new_paper("VO/2026/900", council);
    bad["paper_type"] = json!("memo");
    assert_problem(post(&clerk.access, bad).await.unwrap(), 422, "paper_type").await;
    let mut bad = new_paper("VO/2026/900", council);
    bad["title"] = json!("   ");
    assert_problem(post(&clerk.access, bad).await.unwrap(), 422, "title").await;
    let mut bad = new_paper("VO/2026/900", council);
    bad["originator_id"] = json!(uuid::Uuid::now_v7());
    assert_problem(
        post(&clerk.access, bad).await.unwrap(),
        422,
        "originator_id",
    )
    .await;
    let r = post(&clerk.access, new_paper(&taken, council))
        .await
        .unwrap();
    assert_problem(r, 409, "/problems/duplicate-reference").await;
    let r = post(&clerk.access, json!({"reference": "X"}))
        .await
        .unwrap();
    assert!(r.status() == 400 || r.status() == 422, "{}", r.status());

    // Created: 201, Location, ETag and the paper as GET returns it.
    let r = post(&clerk.access, new_paper("VO/2026/900", council))
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    let created_etag = etag(&r);
    let paper = json_of(r).await;
    assert_eq!(
        location,
        format!("/api/v1/papers/{}", paper["id"].as_str().unwrap())
    );
    assert_eq!(paper["reference"], "VO/2026/900");
    assert_eq!(paper["paper_type"], "resolution");
    assert_eq!(paper["originator"]["id"], json!(council));
    assert!(paper["text_html"].as_str().unwrap().contains("<strong>"));
    assert_eq!(paper["consultations"], json!([]));
    assert_eq!(
        current_etag(&app, &location, &clerk.access).await,
        created_etag
    );
    // The reference is taken now.
    let r = post(&clerk.access, new_paper("VO/2026/900", council))
        .await
        .unwrap();
    assert_problem(r, 409, "duplicate-reference").await;

    // PATCH: 428 without If-Match, 412 stale, 403 for members, 409 for a taken reference.
    let patch = |token: &str, tag: Option<&str>, body: Value| {
        send(&app, reqwest::Method::PATCH, &location, token, tag)
            .json(&body)
            .send()
    };
    let body = json!({"title": "Neubau der Feuerwache Nord (geändert)"});
    assert_problem(
        patch(&clerk.access, None, body.clone()).await.unwrap(),
        428,
        "if-match",
    )
    .await;
    assert_problem(
        patch(&clerk.access, Some("\"stale\""), body.clone())
            .await
            .unwrap(),
        412,
        "stale",
    )
    .await;
    assert_eq!(
        patch(&anna.access, Some(&created_etag), body.clone())
            .await
            .unwrap()
            .status(),
        403
    );
    let r = patch(
        &clerk.access,
        Some(&created_etag),
        json!({"reference": taken}),
    )
    .await
    .unwrap();
    assert_problem(r, 409, "duplicate-reference").await;
    let r = patch(
        &clerk.access,
        Some(&created_etag),
        json!({"date": "gestern"}),
    )
    .await
    .unwrap();
    assert!(r.status() == 400 || r.status() == 422, "{}", r.status());
    // A partial update: only the title changes; the ETag moves on.
    let r = patch(&clerk.access, Some(&created_etag), body.clone())
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let changed_etag = etag(&r);
    assert_ne!(changed_etag, created_etag);
    let changed = json_of(r).await;
    assert_eq!(changed["title"], "Neubau der Feuerwache Nord (geändert)");
    assert_eq!(changed["reference"], "VO/2026/900");
    assert_eq!(changed["text"], paper["text"]);
    // Its own reference is not "taken"; removing the originator is `null`.
    let r = patch(
        &clerk.access,
        Some(&changed_etag),
        json!({"reference": "VO/2026/900", "originator_id": null, "public": false}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    let changed = json_of(r).await;
    assert_eq!(changed["originator"], Value::Null);
    assert_eq!(changed["public"], false);
    assert_eq!(
        patch(&clerk.access, Some(&created_etag), body)
            .await
            .unwrap()
            .status(),
        412
    );
    app.stop().await;
}

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test]
async fn clerks_keep_the_beratungsfolge(#[case] backend: Backend) {
    let Some(app) = spawn_app(backend, true).await else {
        return;
    };
    let clerk = app.login("martina.sommer", 0).await;
    let rat3 = meeting_named(&app, "3. Sitzung des Rates").await;
    let council = rat3.organization_id;
    let other = meetings(&app)
        .await
        .into_iter()
        .find(|m| m.organization_id != council)
        .unwrap();
    let rat3_item = repo::agenda_items::list_by_meeting(&app.db.db, rat3.id, false)
        .await
        .unwrap()[0]
        .id;
    let other_item = repo::agenda_items::list_by_meeting(&app.db.db, other.id, false)
        .await
        .unwrap()[0]
        .id;
    let r = send(
        &app,
        reqwest::Method::POST,
        "/api/v1/papers",
        &clerk.access,
        None,
    )
    .json(&new_paper("VO/2026/901", council))
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 201);
    let mut tag = etag(&r);
    let paper = json_of(r).await["id"].as_str().unwrap().to_owned();
    let steps_path = format!("/api/v1/papers/{paper}/consultations");
    let add = |tag: Option<String>, body: Value| {
        send(
            &app,
            reqwest::Method::POST,
            &steps_path,
            &clerk.access,
            tag.as_deref(),
        )
        .json(&body)
        .send()
    };

    // Validation: every reference must fit together.
    assert_eq!(
        add(None, json!({"organization_id": council, "role": "decide"}))
            .await
            .unwrap()
            .status(),
        428
    );
    let cases = [
        (
            json!({"organization_id": uuid::Uuid::now_v7(), "role": "decide"}),
            "organization_id",
        ),
        (json!({"organization_id": council, "role": "vote"}), "role"),
        (
            json!({"organization_id": council, "role": "decide", "meeting_id": other.id}),
            "meeting_id",
        ),
        (
            json!({"organization_id": council, "role": "decide", "meeting_id": uuid::Uuid::now_v7()}),
            "meeting_id",
        ),
        (
            json!({"organization_id": council, "role": "decide", "agenda_item_id": rat3_item}),
            "agenda_item_id",
        ),
        (
            json!({"organization_id": council, "role": "decide", "meeting_id": rat3.id, "agenda_item_id": other_item}),
            "agenda_item_id",
        ),
    ];
    for (body, field) in cases {
        assert_problem(add(Some(tag.clone()), body).await.unwrap(), 422, field).await;
    }

    // Two steps, appended in order; each changes the paper's ETag.
    let r = add(
        Some(tag.clone()),
        json!({"organization_id": other.organization_id, "role": "advise", "meeting_id": other.id}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 201);
    assert_ne!(etag(&r), tag);
    tag = etag(&r);
    let r = add(
        Some(tag.clone()),
        json!({"organization_id": council, "role": "decide", "meeting_id": rat3.id,
               "agenda_item_id": rat3_item}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 201);
    tag = etag(&r);
    let detail = json_of(r).await;
    let steps = detail["consultations"].as_array().unwrap().clone();
    assert_eq!(steps.len(), 2);
    assert_eq!(steps[0]["role"], "advise");
    assert_eq!(steps[0]["meeting"]["id"], json!(other.id));
    assert_eq!(steps[1]["role"], "decide");
    assert_eq!(steps[1]["agenda_item"]["id"], json!(rat3_item));
    let ids: Vec<String> = steps
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        current_etag(&app, &format!("/api/v1/papers/{paper}"), &clerk.access).await,
        tag
    );

    // Reorder: exactly the paper's set, else 422; stale: 412.
    let order_path = format!("{steps_path}/order");
    let order = |tag: &str, ids: Value| {
        send(
            &app,
            reqwest::Method::PUT,
            &order_path,
            &clerk.access,
            Some(tag),
        )
        .json(&json!({ "ids": ids }))
        .send()
    };
    assert_problem(order(&tag, json!([ids[0]])).await.unwrap(), 422, "ids").await;
    assert_problem(
        order(&tag, json!([ids[0], ids[0]])).await.unwrap(),
        422,
        "ids",
    )
    .await;
    assert_problem(
        order(&tag, json!([ids[0], uuid::Uuid::now_v7()]))
            .await
            .unwrap(),
        422,
        "ids",
    )
    .await;
    assert_eq!(
        order("\"stale\"", json!([ids[1], ids[0]]))
            .await
            .unwrap()
            .status(),
        412
    );
    let r = order(&tag, json!([ids[1], ids[0]])).await.unwrap();
    assert_eq!(r.status(), 200);
    assert_ne!(etag(&r), tag);
    tag = etag(&r);
    let now: Vec<String> = json_of(r).await["consultations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(now, vec![ids[1].clone(), ids[0].clone()]);

    // Delete: the paper's ETag; the rest is renumbered.
    let step_path = format!("/api/v1/consultations/{}", ids[1]);
    let delete = |tag: Option<&str>| {
        send(
            &app,
            reqwest::Method::DELETE,
            &step_path,
            &clerk.access,
            tag,
        )
        .send()
    };
    assert_eq!(delete(None).await.unwrap().status(), 428);
    assert_eq!(delete(Some("\"stale\"")).await.unwrap().status(), 412);
    let r = delete(Some(&tag)).await.unwrap();
    assert_eq!(r.status(), 200);
    let left = json_of(r).await["consultations"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0]["id"], json!(ids[0]));
    let stored = repo::consultations::list_by_paper(
        &app.db.db,
        PaperId::from_uuid(paper.parse().unwrap()),
        false,
    )
    .await
    .unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].position, 1);
    assert_eq!(delete(Some(&tag)).await.unwrap().status(), 404);

    // Unknown papers and consultations: 404. Invisible ones too, for someone who may not see them.
    let unknown = uuid::Uuid::now_v7();
    let r = send(
        &app,
        reqwest::Method::POST,
        &format!("/api/v1/papers/{unknown}/consultations"),
        &clerk.access,
        Some("*"),
    )
    .json(&json!({"organization_id": council, "role": "decide"}))
    .send()
    .await
    .unwrap();
    assert_problem(r, 404, "not-found").await;
    let r = send(
        &app,
        reqwest::Method::DELETE,
        &format!("/api/v1/consultations/{unknown}"),
        &clerk.access,
        Some("*"),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 404);
    let oezlem = app.login("oezlem.yildiz", 0).await;
    let secrets = secrets(&app).await;
    for hidden in &secrets.papers {
        let r = send(
            &app,
            reqwest::Method::POST,
            &format!("/api/v1/papers/{hidden}/consultations"),
            &oezlem.access,
            Some("*"),
        )
        .json(&json!({"organization_id": council, "role": "decide"}))
        .send()
        .await
        .unwrap();
        assert_eq!(r.status(), 404, "hidden paper {hidden}");
        let r = send(
            &app,
            reqwest::Method::PATCH,
            &format!("/api/v1/papers/{hidden}"),
            &oezlem.access,
            Some("*"),
        )
        .json(&json!({"title": "x"}))
        .send()
        .await
        .unwrap();
        assert_eq!(r.status(), 404, "hidden paper {hidden}");
        for step in repo::consultations::list_by_paper(&app.db.db, *hidden, false)
            .await
            .unwrap()
        {
            let r = send(
                &app,
                reqwest::Method::DELETE,
                &format!("/api/v1/consultations/{}", step.id),
                &oezlem.access,
                Some("*"),
            )
            .send()
            .await
            .unwrap();
            assert_eq!(r.status(), 404, "step of hidden paper {hidden}");
        }
    }

    // Agenda items link papers (POST and PATCH take `paper_id`).
    let meeting_path = format!("/api/v1/meetings/{}", rat3.id);
    let meeting_tag = current_etag(&app, &meeting_path, &clerk.access).await;
    let r = send(
        &app,
        reqwest::Method::POST,
        &format!("{meeting_path}/agenda"),
        &clerk.access,
        Some(&meeting_tag),
    )
    .json(&json!({"title": "Feuerwache Nord", "public": true, "paper_id": paper}))
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 201);
    let item = json_of(r).await;
    assert_eq!(item["paper"]["id"], json!(paper));
    assert_eq!(item["paper"]["reference"], "VO/2026/901");
    app.stop().await;
}

/// Sends two requests built by `make` at once and returns their statuses, sorted.
async fn race(make: impl Fn(usize) -> reqwest::RequestBuilder) -> Vec<u16> {
    let (a, b) = tokio::join!(make(0).send(), make(1).send());
    let mut statuses = vec![a.unwrap().status().as_u16(), b.unwrap().status().as_u16()];
    statuses.sort_unstable();
    statuses
}

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writes_with_the_same_if_match_one_wins(#[case] backend: Backend) {
    let Some(app) = spawn_app(backend, true).await else {
        return;
    };
    let clerk = app.login("martina.sommer", 0).await;
    let rat3 = meeting_named(&app, "3. Sitzung des Rates").await;
    let meeting_path = format!("/api/v1/meetings/{}", rat3.id);
    let r = send(
        &app,
        reqwest::Method::POST,
        "/api/v1/papers",
        &clerk.access,
        None,
    )
    .json(&new_paper("VO/2026/903", rat3.organization_id))
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 201);
    let paper_path = r.headers()["location"].to_str().unwrap().to_owned();
    let item = repo::agenda_items::list_by_meeting(&app.db.db, rat3.id, false)
        .await
        .unwrap()[0]
        .id;
    let item_path = format!("/api/v1/agenda-items/{item}");
    for round in 0..10 {
        // Meetings.
        let tag = current_etag(&app, &meeting_path, &clerk.access).await;
        let statuses = race(|i| {
            send(
                &app,
                reqwest::Method::PATCH,
                &meeting_path,
                &clerk.access,
                Some(&tag),
            )
            .json(&json!({"name": format!("3. Sitzung des Rates ({round}/{i})")}))
        })
        .await;
        assert_eq!(statuses, [200, 412], "meeting, round {round}");
        // Agenda items (their meeting is the lock).
        let tag = current_etag(&app, &item_path, &clerk.access).await;
        let statuses = race(|i| {
            send(
                &app,
                reqwest::Method::PATCH,
                &item_path,
                &clerk.access,
                Some(&tag),
            )
            .json(&json!({"title": format!("Punkt ({round}/{i})")}))
        })
        .await;
        assert_eq!(statuses, [200, 412], "agenda item, round {round}");
        // Papers, and a paper write against a Beratungsfolge write.
        let tag = current_etag(&app, &paper_path, &clerk.access).await;
        let statuses = race(|i| {
            send(
                &app,
                reqwest::Method::PATCH,
                &paper_path,
                &clerk.access,
                Some(&tag),
            )
            .json(&json!({"title": format!("Vorlage ({round}/{i})")}))
        })
        .await;
        assert_eq!(statuses, [200, 412], "paper, round {round}");
        let tag = current_etag(&app, &paper_path, &clerk.access).await;
        let statuses = race(|i| {
            if i == 0 {
                send(
                    &app,
                    reqwest::Method::PATCH,
                    &paper_path,
                    &clerk.access,
                    Some(&tag),
                )
                .json(&json!({"text": format!("Text {round}")}))
            } else {
                send(
                    &app,
                    reqwest::Method::POST,
                    &format!("{paper_path}/consultations"),
                    &clerk.access,
                    Some(&tag),
                )
                .json(&json!({"organization_id": rat3.organization_id, "role": "advise"}))
            }
        })
        .await;
        assert!(
            statuses == [200, 412] || statuses == [201, 412],
            "paper vs consultation, round {round}: {statuses:?}"
        );
    }
    // The audit chain survived the races.
    let verified = app.verify_audit().await.unwrap();
    // The anchor never went backwards: it ends at the head.
    let anchor =
        plenum_store::audit::Anchor::read(&app.config.data_dir.join(plenum_api::AUDIT_ANCHOR_FILE))
            .unwrap()
            .unwrap();
    assert_eq!(anchor.head, verified.head);
    app.stop().await;
}

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test]
async fn every_clerk_write_is_audited(#[case] backend: Backend) {
    let Some(app) = spawn_app(backend, true).await else {
        return;
    };
    let clerk = app.login("martina.sommer", 0).await;
    let clerk_id =
        repo::users::find_by_username(&app.db.db, &Username::parse("martina.sommer").unwrap())
            .await
            .unwrap()
            .unwrap()
            .id;
    let rat3 = meeting_named(&app, "3. Sitzung des Rates").await;
    let council = rat3.organization_id;
    let before = audit::list(&app.db.db).await.unwrap().len();

    // Meeting: create, update, agenda add/update/order/delete, invite, cancel.
    let r = send(
        &app,
        reqwest::Method::POST,
        "/api/v1/meetings",
        &clerk.access,
        None,
    )
    .json(&json!({"organization_id": council, "name": "Sondersitzung",
                      "start": "2027-01-10T17:00:00Z"}))
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 201);
    let mut tag = etag(&r);
    let meeting = json_of(r).await["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/meetings/{meeting}");
    let r = send(
        &app,
        reqwest::Method::PATCH,
        &path,
        &clerk.access,
        Some(&tag),
    )
    .json(&json!({"name": "Sondersitzung des Rates"}))
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    tag = etag(&r);
    let r = send(
        &app,
        reqwest::Method::POST,
        &format!("{path}/agenda"),
        &clerk.access,
        Some(&tag),
    )
    .json(&json!({"title": "Geheime Personalsache Zander", "public": false}))
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 201);
    let item_tag = etag(&r);
    let item = json_of(r).await["id"].as_str().unwrap().to_owned();
    let item_path = format!("/api/v1/agenda-items/{item}");
    let r = send(
        &app,
        reqwest::Method::PATCH,
        &item_path,
        &clerk.access,
        Some(&item_tag),
    )
    .json(&json!({"decision": "Vertraulich beschlossen"}))
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    tag = current_etag(&app, &path, &clerk.access).await;
    let r = send(
        &app,
        reqwest::Method::PUT,
        &format!("{path}/agenda/order"),
        &clerk.access,
        Some(&tag),
    )
    .json(&json!({"ids": [item]}))
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    let item_tag = current_etag(&app, &item_path, &clerk.access).await;
    let r = send(
        &app,
        reqwest::Method::DELETE,
        &item_path,
        &clerk.access,
        Some(&item_tag),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 204);
    tag = current_etag(&app, &path, &clerk.access).await;
    let r = send(
        &app,
        reqwest::Method::POST,
        &format!("{path}/invite"),
        &clerk.access,
        Some(&tag),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    tag = etag(&r);
    let r = send(
        &app,
        reqwest::Method::DELETE,
        &path,
        &clerk.access,
        Some(&tag),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 200);

    // Paper: create, update, consultation add/order/delete; a file up and gone again.
    let r = send(
        &app,
        reqwest::Method::POST,
        "/api/v1/papers",
        &clerk.access,
        None,
    )
    .json(&new_paper("VO/2026/902", council))
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 201);
    let mut tag = etag(&r);
    let paper = json_of(r).await["id"].as_str().unwrap().to_owned();
    let paper_path = format!("/api/v1/papers/{paper}");
    let r = send(
        &app,
        reqwest::Method::PATCH,
        &paper_path,
        &clerk.access,
        Some(&tag),
    )
    .json(&json!({"text": "Streng vertraulicher Entwurf"}))
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    tag = etag(&r);
    let r = send(
        &app,
        reqwest::Method::POST,
        &format!("{paper_path}/consultations"),
        &clerk.access,
        Some(&tag),
    )
    .json(&json!({"organization_id": council, "role": "decide"}))
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 201);
    tag = etag(&r);
    let step = json_of(r).await["consultations"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = send(
        &app,
        reqwest::Method::PUT,
        &format!("{paper_path}/consultations/order"),
        &clerk.access,
        Some(&tag),
    )
    .json(&json!({"ids": [step]}))
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    tag = etag(&r);
    let r = send(
        &app,
        reqwest::Method::DELETE,
        &format!("/api/v1/consultations/{step}"),
        &clerk.access,
        Some(&tag),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    let r = upload(
        &app,
        &clerk.access,
        multipart(
            "paper_id",
            &paper,
            "Geheimgutachten.pdf",
            "application/pdf",
            &pdf(500),
        ),
    )
    .await;
    assert_eq!(r.status(), 201);
    let file = json_of(r).await["id"].as_str().unwrap().to_owned();
    let r = send(
        &app,
        reqwest::Method::DELETE,
        &format!("/api/v1/files/{file}"),
        &clerk.access,
        None,
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 204);

    // A refused write leaves no entry.
    let r = send(
        &app,
        reqwest::Method::PATCH,
        &paper_path,
        &clerk.access,
        Some("\"stale\""),
    )
    .json(&json!({"title": "x"}))
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 412);

    let entries = audit::list(&app.db.db).await.unwrap();
    let ours: Vec<_> = entries[before..]
        .iter()
        .filter(|e| e.event.actor == Some(clerk_id))
        .filter(|e| !e.event.action.starts_with("login") && !e.event.action.starts_with("device"))
        .collect();
    let actions: Vec<(&str, &str)> = ours
        .iter()
        .map(|e| {
            let subject = e.event.subject.as_deref().unwrap();
            (e.event.action.as_str(), subject.split(':').next().unwrap())
        })
        .collect();
    assert_eq!(
        actions,
        [
            ("meeting.created", "meeting"),
            ("meeting.updated", "meeting"),
            ("agenda_item.created", "agenda_item"),
            ("agenda_item.updated", "agenda_item"),
            ("agenda.reordered", "meeting"),
            ("agenda_item.deleted", "agenda_item"),
            ("meeting.invited", "meeting"),
            ("meeting.cancelled", "meeting"),
            ("paper.created", "paper"),
            ("paper.updated", "paper"),
            ("consultation.created", "consultation"),
            ("consultations.reordered", "paper"),
            ("consultation.deleted", "consultation"),
            ("file.uploaded", "file"),
            ("file.deleted", "file"),
        ]
    );
    assert_eq!(
        ours[0].event.subject.as_deref(),
        Some(format!("meeting:{meeting}").as_str())
    );
    assert_eq!(
        ours[2].event.subject.as_deref(),
        Some(format!("agenda_item:{item}").as_str())
    );
    assert_eq!(
        ours[8].event.subject.as_deref(),
        Some(format!("paper:{paper}").as_str())
    );
    assert_eq!(
        ours[13].event.subject.as_deref(),
        Some(format!("file:{file}").as_str())
    );
    assert!(
        ours[9].event.detail.contains("\"text\""),
        "{}",
        ours[9].event.detail
    );
    // Names of changed fields, never their (possibly non-public) content.
    for entry in &ours {
        for secret in [
            "Zander",
            "Vertraulich",
            "vertraulich",
            "Geheimgutachten",
            "Feuerwache",
        ] {
            assert!(!entry.event.detail.contains(secret), "{entry:?}");
        }
    }
    assert_eq!(
        app.verify_audit().await.unwrap().entries,
        entries.len() as u64
    );
    app.stop().await;
}

#[tokio::test]
async fn openapi_documents_the_paper_writes() {
    let app = spawn_app(Backend::Sqlite, false).await.unwrap();
    let doc: Value = app.get("/api/v1/openapi.json").await.json().await.unwrap();
    for (path, method) in [
        ("/api/v1/papers", "post"),
        ("/api/v1/papers/{id}", "patch"),
        ("/api/v1/papers/{id}/consultations", "post"),
        ("/api/v1/papers/{id}/consultations/order", "put"),
        ("/api/v1/consultations/{id}", "delete"),
    ] {
        assert!(
            doc["paths"][path][method].is_object(),
            "{method} {path} is documented"
        );
    }
    for schema in [
        "PaperCreate",
        "PaperUpdate",
        "ConsultationCreate",
        "ConsultationOrder",
    ] {
        assert!(doc["components"]["schemas"][schema].is_object(), "{schema}");
    }
    app.stop().await;
}
