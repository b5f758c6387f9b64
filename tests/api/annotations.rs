//! Annotations in the PDF viewer (highlights, sticky notes, ink): notes anchored to a page of a
//! file in PDF units. Anchors are validated; scopes are the notes' (private by default, shared
//! with an organization, sealed between fractions); the author's other devices and the readers
//! get them live; an annotation on content that changed later is flagged as outdated.

use std::time::{Duration, Instant};

use plenum_store::Backend;
use plenum_store::file_text::sample_pdf;
use reqwest::Method;
use rstest::rstest;
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

use crate::collab::{Fractions, Personal, call, fractions, json};
use crate::files::{multipart, upload};
use crate::helpers::{TestApp, spawn_app};

/// A three-page PDF attached by the clerk to the public paper every member may see, its text
/// extracted (so its page count is known); the file's id and SHA-256.
async fn three_pages(app: &TestApp, f: &Fractions, words: &str) -> (String, String) {
    let clerk = app.login("martina.sommer", 0).await;
    let pdf = sample_pdf(
        &[
            format!("Seite eins: {words}"),
            "Seite zwei: Die Lärmschutzwand wird 2027 gebaut.".to_owned(),
            "Seite drei: Anlage".to_owned(),
        ],
        0,
    );
    let response = upload(
        app,
        &clerk.access,
        multipart(
            "paper_id",
            &f.paper.to_string(),
            "Anlage.pdf",
            "application/pdf",
            &pdf,
        ),
    )
    .await;
    assert_eq!(response.status(), 201);
    let file: Value = response.json().await.unwrap();
    let id = file["id"].as_str().unwrap().to_owned();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let info: Value = app
            .get_with(&format!("/api/v1/files/{id}"), &clerk.access)
            .await
            .json()
            .await
            .unwrap();
        if info["text_status"] == "done" {
            assert_eq!(info["page_count"], 3);
            return (id, info["sha256"].as_str().unwrap().to_owned());
        }
        assert!(Instant::now() < deadline, "text extraction did not finish");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn highlight(page: u32) -> Value {
    json!({"kind": "highlight", "page": page,
        "rects": [{"x": 72.0, "y": 100.5, "width": 200.25, "height": 12.0}],
        "quote": "Die Lärmschutzwand"})
}

/// A raw JSON body (for what `json!` cannot write, like 1e400).
async fn post_raw(app: &TestApp, path: &str, token: &str, body: &str) -> (u16, String) {
    let response = app
        .client
        .post(app.url(path))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anchors_are_validated(#[case] backend: Backend) {
    let Some(app) = spawn_app(backend, true).await else {
        return;
    };
    let f = fractions(&app).await;
    let (file, sha256) = three_pages(&app, &f, "Validierung").await;
    let path = format!("/api/v1/files/{file}/annotations");
    let me = &f.bu_chair;

    // Each kind with its shapes: 201, the anchor as sent (rounded to 1/100 unit), the ETag.
    let (status, body) = call(&app, Method::POST, &path, me, Some(highlight(2)), None).await;
    assert_eq!(status, 201, "{body}");
    let created = json(&body);
    assert_eq!(created["file_id"], file.as_str());
    assert_eq!(created["page"], 2);
    assert_eq!(created["quote"], "Die Lärmschutzwand");
    assert_eq!(created["visibility"], "private");
    assert_eq!(created["annotation"]["kind"], "highlight");
    assert_eq!(created["annotation"]["page"], 2);
    assert_eq!(created["annotation"]["rects"][0]["width"], 200.25);
    assert_eq!(created["annotation"]["sha256"], sha256.as_str());
    assert_eq!(created["annotation"]["outdated"], false);
    let (status, body) = call(&app, Method::POST, &path, me,
        Some(json!({"kind": "note", "page": 3, "point": {"x": 300.123, "y": 20}, "body": "Kosten **prüfen**"})), None).await;
    assert_eq!(status, 201, "{body}");
    let note = json(&body);
    assert_eq!(note["annotation"]["point"], json!({"x": 300.12, "y": 20.0}));
    assert!(
        note["html"]
            .as_str()
            .unwrap()
            .contains("<strong>prüfen</strong>")
    );
    let (status, body) = call(
        &app,
        Method::POST,
        &path,
        me,
        Some(
            json!({"kind": "ink", "page": 1, "color": "red", "strokes": [
            {"points": [10, 10, 20, 25.5, 30, 40], "pressure": [0.2, 0.5, 0.9], "width": 2},
            {"points": [50, 50]}]}),
        ),
        None,
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let ink = json(&body);
    assert_eq!(ink["annotation"]["color"], "red");
    assert_eq!(
        ink["annotation"]["strokes"][0]["pressure"],
        json!([0.2, 0.5, 0.9])
    );
    assert_eq!(
        ink["annotation"]["strokes"][1]["points"],
        json!([50.0, 50.0])
    );
    assert_eq!(ink["body"], "");

    // Pages: from 1 to the file's page count.
    for page in [0, 4, 100_000, 100_001] {
        let (status, body) = call(&app, Method::POST, &path, me, Some(highlight(page)), None).await;
        assert_eq!(status, 422, "page {page}: {body}");
        assert!(
            body.contains("validation") || body.contains("invalid"),
            "{body}"
        );
    }
    let (status, _) = call(&app, Method::POST, &path, me,
        Some(json!({"kind": "highlight", "page": -1, "rects": [{"x": 1, "y": 1, "width": 1, "height": 1}]})), None).await;
    assert_eq!(status, 422);

    // Wrong kinds, shapes that do not fit the kind, missing or absent values, out of range,
    // more than the bounds allow (201 rectangles, 5 001 points, 201 strokes).
    let many_rects: Vec<Value> = (0..201)
        .map(|i| json!({"x": 1, "y": i, "width": 5, "height": 1}))
        .collect();
    let too_many_points: Vec<f64> = (0..5_001)
        .flat_map(|i| [f64::from(i % 500), 10.0])
        .collect();
    let many_strokes: Vec<Value> = (0..201).map(|_| json!({"points": [1, 1]})).collect();
    let rect = |x: Value| json!({"kind": "highlight", "page": 1, "rects": [{"x": x, "y": 1, "width": 1, "height": 1}]});
    for (what, request) in [
        (
            "unknown kind",
            json!({"kind": "circle", "page": 1, "point": {"x": 1, "y": 1}}),
        ),
        (
            "kind missing",
            json!({"page": 1, "point": {"x": 1, "y": 1}}),
        ),
        (
            "kind as a number",
            json!({"kind": 1, "page": 1, "point": {"x": 1, "y": 1}}),
        ),
        (
            "highlight without rects",
            json!({"kind": "highlight", "page": 1}),
        ),
        (
            "highlight with no rects",
            json!({"kind": "highlight", "page": 1, "rects": []}),
        ),
        (
            "highlight with a point",
            json!({"kind": "highlight", "page": 1, "point": {"x": 1, "y": 1}, "rects": [{"x": 1, "y": 1, "width": 1, "height": 1}]}),
        ),
        (
            "note without a point",
            json!({"kind": "note", "page": 1, "body": "x"}),
        ),
        (
            "note without text",
            json!({"kind": "note", "page": 1, "point": {"x": 1, "y": 1}}),
        ),
        (
            "note with blank text",
            json!({"kind": "note", "page": 1, "point": {"x": 1, "y": 1}, "body": "  "}),
        ),
        (
            "ink with rects",
            json!({"kind": "ink", "page": 1, "rects": [{"x": 1, "y": 1, "width": 1, "height": 1}]}),
        ),
        (
            "ink without strokes",
            json!({"kind": "ink", "page": 1, "strokes": []}),
        ),
        (
            "a point without y",
            json!({"kind": "note", "page": 1, "point": {"x": 1}, "body": "x"}),
        ),
        (
            "a rect without height",
            json!({"kind": "highlight", "page": 1, "rects": [{"x": 1, "y": 1, "width": 1}]}),
        ),
        ("a null coordinate", rect(Value::Null)),
        ("a coordinate as text", rect(json!("12"))),
        ("a huge coordinate", rect(json!(1e300))),
        (
            "a coordinate beyond the largest page",
            rect(json!(14_400.5)),
        ),
        ("a negative coordinate", rect(json!(-0.5))),
        (
            "an unknown field",
            json!({"kind": "note", "page": 1, "point": {"x": 1, "y": 1, "z": 1}, "body": "x"}),
        ),
        (
            "an unknown colour",
            json!({"kind": "note", "page": 1, "point": {"x": 1, "y": 1}, "body": "x", "color": "#fff"}),
        ),
        (
            "odd points",
            json!({"kind": "ink", "page": 1, "strokes": [{"points": [1, 2, 3]}]}),
        ),
        (
            "an empty stroke",
            json!({"kind": "ink", "page": 1, "strokes": [{"points": []}]}),
        ),
        (
            "pressure per point",
            json!({"kind": "ink", "page": 1, "strokes": [{"points": [1, 2, 3, 4], "pressure": [0.5]}]}),
        ),
        (
            "pressure above 1",
            json!({"kind": "ink", "page": 1, "strokes": [{"points": [1, 2], "pressure": [1.5]}]}),
        ),
        (
            "a line too wide",
            json!({"kind": "ink", "page": 1, "strokes": [{"points": [1, 2], "width": 51}]}),
        ),
        (
            "201 rectangles",
            json!({"kind": "highlight", "page": 1, "rects": many_rects}),
        ),
        (
            "5 001 points",
            json!({"kind": "ink", "page": 1, "strokes": [{"points": too_many_points}]}),
        ),
        (
            "201 strokes",
            json!({"kind": "ink", "page": 1, "strokes": many_strokes}),
        ),
        (
            "sharing with another fraction",
            json!({"kind": "note", "page": 1, "point": {"x": 1, "y": 1}, "body": "x", "shared_with": f.sm}),
        ),
    ] {
        let (status, body) = call(&app, Method::POST, &path, me, Some(request), None).await;
        // 422 for a wrong shape or value; the JSON extractor answers some type errors with 400.
        assert!(status == 422 || status == 400, "{what}: {status} {body}");
        assert!(
            body.contains("\"type\""),
            "{what}: a problem document: {body}"
        );
    }

    // The most allowed: 5 000 points.
    let points: Vec<f64> = (0..5_000)
        .flat_map(|i| [f64::from(i % 500), 10.0])
        .collect();
    let (status, body) = call(
        &app,
        Method::POST,
        &path,
        me,
        Some(json!({"kind": "ink", "page": 1, "strokes": [{"points": points}]})),
        None,
    )
    .await;
    assert_eq!(status, 201, "5 000 points are allowed: {body}");

    // JSON has no NaN or infinity: those and numbers beyond f64 are not accepted either.
    for raw in [
        r#"{"kind": "note", "page": 1, "point": {"x": NaN, "y": 1}, "body": "x"}"#,
        r#"{"kind": "note", "page": 1, "point": {"x": Infinity, "y": 1}, "body": "x"}"#,
        r#"{"kind": "note", "page": 1, "point": {"x": 1e400, "y": 1}, "body": "x"}"#,
        r#"{"kind": "note", "page": 1.5, "point": {"x": 1, "y": 1}, "body": "x"}"#,
    ] {
        let (status, body) = post_raw(&app, &path, me, raw).await;
        assert!(status == 400 || status == 422, "{raw}: {status} {body}");
        assert!(body.contains("\"type\""), "{body}");
    }

    // Unknown files: 404; the list holds what was created (the valid ones only).
    let unknown = format!("/api/v1/files/{}/annotations", uuid::Uuid::now_v7());
    let (status, _) = call(&app, Method::POST, &unknown, me, Some(highlight(1)), None).await;
    assert_eq!(status, 404);
    let (status, _) = call(&app, Method::GET, &unknown, me, None, None).await;
    assert_eq!(status, 404);
    let (status, list) = call(&app, Method::GET, &path, me, None, None).await;
    assert_eq!(status, 200);
    let list = json(&list);
    let kinds: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["annotation"]["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["highlight", "note", "ink", "ink"]);
    // Anonymous callers get 401.
    let response = app.get(&path).await;
    assert_eq!(response.status(), 401);

    // Editing the text through the notes API: If-Match required; a highlight may lose its
    // comment, a sticky note may not.
    let id = created["id"].as_str().unwrap();
    let note_path = format!("/api/v1/notes/{id}");
    let (status, _) = call(
        &app,
        Method::PATCH,
        &note_path,
        me,
        Some(json!({"body": "Wichtig"})),
        None,
    )
    .await;
    assert_eq!(status, 428);
    let (status, body) = call(
        &app,
        Method::PATCH,
        &note_path,
        me,
        Some(json!({"body": "Wichtig"})),
        Some("\"1\""),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        json(&body)["annotation"]["rects"][0]["x"],
        72.0,
        "the anchor stays"
    );
    let (status, _) = call(
        &app,
        Method::PATCH,
        &note_path,
        me,
        Some(json!({"body": ""})),
        Some("\"1\""),
    )
    .await;
    assert_eq!(status, 412);
    let (status, _) = call(
        &app,
        Method::PATCH,
        &note_path,
        me,
        Some(json!({"body": ""})),
        Some("\"2\""),
    )
    .await;
    assert_eq!(status, 200);
    let sticky = format!("/api/v1/notes/{}", note["id"].as_str().unwrap());
    let (status, _) = call(
        &app,
        Method::PATCH,
        &sticky,
        me,
        Some(json!({"body": ""})),
        Some("\"1\""),
    )
    .await;
    assert_eq!(status, 422);
    let (_, history) = call(
        &app,
        Method::GET,
        &format!("{note_path}/history"),
        me,
        None,
        None,
    )
    .await;
    assert_eq!(json(&history).as_array().unwrap().len(), 3, "{history}");
    app.stop().await;
}

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn annotations_are_private_or_shared_sealed_and_live(#[case] backend: Backend) {
    let Some(app) = spawn_app(backend, true).await else {
        return;
    };
    let f = fractions(&app).await;
    let (file, _) = three_pages(&app, &f, "Sichtbarkeit").await;
    let path = format!("/api/v1/files/{file}/annotations");
    // The chair's second device, a fellow BU member, and SM's chair are connected.
    let other_device = app.login("thomas.schneider", 1).await.access;
    let mut chair_tablet = Personal::connect(&app, &other_device).await;
    let mut fellow = Personal::connect(&app, &f.bu_member).await;
    let mut outsider = Personal::connect(&app, &f.outsider).await;

    // Private: the author's other device sees it live, nobody else does.
    let (status, body) = call(
        &app,
        Method::POST,
        &path,
        &f.bu_chair,
        Some(highlight(1)),
        None,
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let private = json(&body);
    let message = chair_tablet.wait_for("annotation").await;
    assert_eq!(message["file_id"], file.as_str());
    assert_eq!(message["note"]["id"], private["id"]);
    assert_eq!(message["note"]["own"], true);
    for (who, token) in [("fellow", &f.bu_member), ("outsider", &f.outsider)] {
        let (status, list) = call(&app, Method::GET, &path, token, None, None).await;
        assert_eq!(status, 200);
        assert_eq!(json(&list), json!([]), "{who} sees no private annotation");
    }
    let private_path = format!("/api/v1/notes/{}", private["id"].as_str().unwrap());
    let (status, _) = call(&app, Method::GET, &private_path, &f.bu_member, None, None).await;
    assert_eq!(status, 404);

    // Shared with the fraction: the fellow member gets it live and in the list, SM never.
    let (status, body) = call(&app, Method::POST, &path, &f.bu_chair,
        Some(json!({"kind": "note", "page": 2, "point": {"x": 100, "y": 200}, "body": "Fraktionsgeheimnis Lärmschutz", "shared_with": f.bu})), None).await;
    assert_eq!(status, 201, "{body}");
    let shared = json(&body);
    let id = shared["id"].as_str().unwrap().to_owned();
    let message = fellow.wait_for("annotation").await;
    assert_eq!(message["note"]["id"], id.as_str());
    assert_eq!(message["note"]["own"], false);
    assert_eq!(message["note"]["shared_with"]["short_name"], "BU");
    assert_eq!(
        chair_tablet.wait_for("annotation").await["note"]["id"],
        id.as_str()
    );
    let (_, list) = call(&app, Method::GET, &path, &f.bu_member, None, None).await;
    let list = json(&list);
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list[0]["author"]["name"], "Thomas Schneider");
    let (status, list) = call(&app, Method::GET, &path, &f.outsider, None, None).await;
    assert_eq!(status, 200, "the file itself is public");
    assert_eq!(json(&list), json!([]), "sealed from another fraction");
    let note_path = format!("/api/v1/notes/{id}");
    for (method, body) in [
        (Method::GET, None),
        (Method::PATCH, Some(json!({"body": "übernommen"}))),
        (Method::DELETE, None),
    ] {
        let (status, text) = call(
            &app,
            method.clone(),
            &note_path,
            &f.outsider,
            body,
            Some("\"1\""),
        )
        .await;
        assert_eq!(status, 404, "{method}: {text}");
        assert!(!text.contains("Fraktionsgeheimnis"));
    }
    // A fellow member reads but does not edit.
    let (status, _) = call(
        &app,
        Method::PATCH,
        &note_path,
        &f.bu_member,
        Some(json!({"body": "x"})),
        Some("\"1\""),
    )
    .await;
    assert_eq!(status, 403);

    // An edit reaches the readers live.
    let (status, _) = call(
        &app,
        Method::PATCH,
        &note_path,
        &f.bu_chair,
        Some(json!({"body": "Fraktionsgeheimnis, korrigiert"})),
        Some("\"1\""),
    )
    .await;
    assert_eq!(status, 200);
    let message = fellow.wait_for("annotation").await;
    assert_eq!(message["note"]["version"], 2);
    assert_eq!(message["note"]["body"], "Fraktionsgeheimnis, korrigiert");

    // Made private again: the fellow member is told it is gone; deleted: the other device too.
    let (status, _) = call(
        &app,
        Method::PATCH,
        &note_path,
        &f.bu_chair,
        Some(json!({"shared_with": null})),
        Some("\"2\""),
    )
    .await;
    assert_eq!(status, 200);
    let gone = fellow.wait_for("annotation_removed").await;
    assert_eq!(gone["id"], id.as_str());
    assert_eq!(gone["file_id"], file.as_str());
    let (_, list) = call(&app, Method::GET, &path, &f.bu_member, None, None).await;
    assert_eq!(json(&list), json!([]));
    let (status, _) = call(
        &app,
        Method::DELETE,
        &note_path,
        &f.bu_chair,
        None,
        Some("\"3\""),
    )
    .await;
    assert_eq!(status, 204);
    loop {
        let message = chair_tablet.wait_for("annotation_removed").await;
        if message["id"] == id.as_str() {
            break;
        }
    }

    // The other fraction heard nothing of it, ever.
    for message in outsider.drain(Duration::from_millis(500)).await {
        assert!(
            !message.to_string().contains(&id)
                && !message.to_string().contains("Fraktionsgeheimnis"),
            "{message}"
        );
    }
    app.stop().await;
}

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test]
async fn annotations_on_changed_content_belong_to_the_earlier_version(#[case] backend: Backend) {
    let Some(app) = spawn_app(backend, true).await else {
        return;
    };
    let f = fractions(&app).await;
    let (file, sha256) = three_pages(&app, &f, "Fassung").await;
    let path = format!("/api/v1/files/{file}/annotations");
    let (status, body) = call(
        &app,
        Method::POST,
        &path,
        &f.bu_chair,
        Some(highlight(1)),
        None,
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(json(&body)["annotation"]["outdated"], false);

    // The file's content changes (as when a corrected version replaces it).
    let newer = "ab".repeat(32);
    app.db
        .db
        .execute_unprepared(&format!(
            "UPDATE file SET sha256 = '{newer}' WHERE sha256 = '{sha256}'"
        ))
        .await
        .unwrap();
    let (status, list) = call(&app, Method::GET, &path, &f.bu_chair, None, None).await;
    assert_eq!(status, 200);
    let list = json(&list);
    assert_eq!(list.as_array().unwrap().len(), 1, "kept: {list}");
    assert_eq!(list[0]["annotation"]["outdated"], true);
    assert_eq!(list[0]["annotation"]["sha256"], sha256.as_str());
    // New annotations belong to the new content.
    let (_, body) = call(
        &app,
        Method::POST,
        &path,
        &f.bu_chair,
        Some(highlight(1)),
        None,
    )
    .await;
    assert_eq!(json(&body)["annotation"]["sha256"], newer.as_str());
    assert_eq!(json(&body)["annotation"]["outdated"], false);
    app.stop().await;
}

/// A tablet that lost its connection before the answer sends the same annotation again, with
/// the id it chose: the annotation exists once, and the repeat is answered with it.
#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_sent_again_with_its_id_makes_one_annotation(#[case] backend: Backend) {
    let Some(app) = spawn_app(backend, true).await else {
        return;
    };
    let f = fractions(&app).await;
    let (file, _) = three_pages(&app, &f, "Wiederholung").await;
    let path = format!("/api/v1/files/{file}/annotations");
    let id = uuid::Uuid::new_v4();
    let mut sent = highlight(1);
    sent["id"] = json!(id);
    sent["body"] = json!("offline geschrieben");
    let (status, body) = call(
        &app,
        Method::POST,
        &path,
        &f.bu_chair,
        Some(sent.clone()),
        None,
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(json(&body)["id"], id.to_string());
    // Sent again, also after an edit elsewhere: 200 with the annotation as stored now.
    let note = format!("/api/v1/notes/{id}");
    let (status, _) = call(
        &app,
        Method::PATCH,
        &note,
        &f.bu_chair,
        Some(json!({"body": "am Laptop ergänzt"})),
        Some("\"1\""),
    )
    .await;
    assert_eq!(status, 200);
    for _ in 0..2 {
        let (status, body) = call(
            &app,
            Method::POST,
            &path,
            &f.bu_chair,
            Some(sent.clone()),
            None,
        )
        .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(json(&body)["body"], "am Laptop ergänzt");
        assert_eq!(json(&body)["version"], 2);
    }
    let (_, list) = call(&app, Method::GET, &path, &f.bu_chair, None, None).await;
    assert_eq!(json(&list).as_array().unwrap().len(), 1, "{list}");

    // Another member cannot use (or probe) the id; nor may a deleted annotation come back.
    let (status, body) = call(
        &app,
        Method::POST,
        &path,
        &f.bu_member,
        Some(sent.clone()),
        None,
    )
    .await;
    assert_eq!(status, 409, "{body}");
    assert!(!body.contains("ergänzt"), "{body}");
    let (status, _) = call(
        &app,
        Method::DELETE,
        &note,
        &f.bu_chair,
        None,
        Some("\"2\""),
    )
    .await;
    assert_eq!(status, 204);
    let (status, body) = call(&app, Method::POST, &path, &f.bu_chair, Some(sent), None).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(
        json(&body)["type"].as_str().unwrap().rsplit('/').next(),
        Some("id-taken")
    );
    // Two sent at the same moment: one annotation.
    let twin = uuid::Uuid::new_v4();
    let mut again = highlight(2);
    again["id"] = json!(twin);
    let (a, b) = tokio::join!(
        call(
            &app,
            Method::POST,
            &path,
            &f.bu_chair,
            Some(again.clone()),
            None
        ),
        call(
            &app,
            Method::POST,
            &path,
            &f.bu_chair,
            Some(again.clone()),
            None
        )
    );
    let mut statuses = [a.0, b.0];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 201], "{a:?} {b:?}");
    let (_, list) = call(&app, Method::GET, &path, &f.bu_chair, None, None).await;
    let list = json(&list);
    assert_eq!(
        list.as_array()
            .unwrap()
            .iter()
            .filter(|n| n["id"] == twin.to_string())
            .count(),
        1,
        "{list}"
    );
    app.stop().await;
}
