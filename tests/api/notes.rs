//! Notes: private by default, shared with an organization, sealed from other fractions,
//! rendered inert, limited in size and rate, edited with a version precondition.

use plenum_store::Backend;
use reqwest::Method;
use rstest::rstest;
use serde_json::json;

use crate::collab::{XSS, assert_inert, call, fractions, json};
use crate::helpers::spawn_app;

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notes_are_private_or_shared_and_sealed_between_fractions(#[case] backend: Backend) {
    let Some(app) = spawn_app(backend, true).await else {
        return;
    };
    let f = fractions(&app).await;
    let on_paper = format!("/api/v1/notes?paper_id={}", f.paper);

    // A private note: only its author sees it.
    let (status, body) = call(
        &app,
        Method::POST,
        "/api/v1/notes",
        &f.bu_chair,
        Some(json!({"paper_id": f.paper, "body": "Privat: Kosten prüfen", "page": 3})),
        None,
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let private = json(&body);
    assert_eq!(private["visibility"], "private");
    assert_eq!(private["page"], 3);
    let (_, list) = call(&app, Method::GET, &on_paper, &f.bu_member, None, None).await;
    assert_eq!(json(&list), json!([]), "a private note stays private");

    // Shared with the fraction: its members see it, marked by who and with whom.
    let (status, body) = call(&app, Method::POST, "/api/v1/notes", &f.bu_chair,
        Some(json!({"paper_id": f.paper, "body": "Geheimtipp Haushaltsloch", "quote": "Seite 3, Absatz 2", "shared_with": f.bu})), None).await;
    assert_eq!(status, 201, "{body}");
    let shared = json(&body);
    let id = shared["id"].as_str().unwrap().to_owned();
    let (_, list) = call(&app, Method::GET, &on_paper, &f.bu_member, None, None).await;
    let list = json(&list);
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list[0]["author"]["name"], "Thomas Schneider");
    assert_eq!(list[0]["shared_with"]["short_name"], "BU");
    assert_eq!(list[0]["own"], false);
    let (_, mine) = call(
        &app,
        Method::GET,
        "/api/v1/notes/mine",
        &f.bu_member,
        None,
        None,
    )
    .await;
    assert_eq!(json(&mine).as_array().unwrap().len(), 1);
    let (_, found) = call(
        &app,
        Method::GET,
        "/api/v1/notes/search?q=haushaltsloch",
        &f.bu_member,
        None,
        None,
    )
    .await;
    assert_eq!(json(&found).as_array().unwrap().len(), 1, "{found}");

    // Sharing with a fraction one is not in is refused.
    let (status, _) = call(
        &app,
        Method::POST,
        "/api/v1/notes",
        &f.bu_chair,
        Some(json!({"paper_id": f.paper, "body": "x", "shared_with": f.sm})),
        None,
    )
    .await;
    assert_eq!(status, 422);

    // The other fraction's chair: every endpoint answers as if the note did not exist.
    let note = format!("/api/v1/notes/{id}");
    let history = format!("/api/v1/notes/{id}/history");
    for (method, path, body) in [
        (Method::GET, note.as_str(), None),
        (
            Method::PATCH,
            note.as_str(),
            Some(json!({"body": "übernommen"})),
        ),
        (Method::DELETE, note.as_str(), None),
        (Method::GET, history.as_str(), None),
    ] {
        let (status, text) =
            call(&app, method.clone(), path, &f.outsider, body, Some("\"2\"")).await;
        assert_eq!(status, 404, "{method} {path}: {text}");
        assert!(
            !text.contains("Haushaltsloch") && !text.contains("Schneider"),
            "{text}"
        );
    }
    let missing = format!("/api/v1/notes/{}", uuid::Uuid::now_v7());
    let (_, unknown) = call(&app, Method::GET, &missing, &f.outsider, None, None).await;
    let (_, sealed) = call(&app, Method::GET, &note, &f.outsider, None, None).await;
    assert_eq!(
        json(&unknown),
        json(&sealed),
        "a sealed note looks exactly like a missing one"
    );
    for path in [
        on_paper.as_str(),
        "/api/v1/notes/mine",
        "/api/v1/notes/search?q=haushaltsloch",
        "/api/v1/notes/search?q=kosten",
    ] {
        let (status, text) = call(&app, Method::GET, path, &f.outsider, None, None).await;
        assert_eq!(status, 200);
        assert_eq!(json(&text), json!([]), "{path}: {text}");
    }

    // A fellow member may read but not edit or delete.
    let (status, _) = call(
        &app,
        Method::PATCH,
        &note,
        &f.bu_member,
        Some(json!({"body": "x"})),
        Some("\"1\""),
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = call(
        &app,
        Method::DELETE,
        &note,
        &f.bu_member,
        None,
        Some("\"1\""),
    )
    .await;
    assert_eq!(status, 403);

    // The author edits with If-Match; a stale or missing version is refused; history is kept.
    let (status, _) = call(
        &app,
        Method::PATCH,
        &note,
        &f.bu_chair,
        Some(json!({"body": "neu"})),
        None,
    )
    .await;
    assert_eq!(status, 428);
    let (status, _) = call(
        &app,
        Method::PATCH,
        &note,
        &f.bu_chair,
        Some(json!({"body": "neu"})),
        Some("\"7\""),
    )
    .await;
    assert_eq!(status, 412);
    let (status, body) = call(
        &app,
        Method::PATCH,
        &note,
        &f.bu_chair,
        Some(json!({"body": "Geheimtipp, **korrigiert**"})),
        Some("\"1\""),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(json(&body)["version"], 2);
    assert_eq!(
        json(&body)["html"],
        "<p>Geheimtipp, <strong>korrigiert</strong></p>\n"
    );
    let (_, versions) = call(&app, Method::GET, &history, &f.bu_member, None, None).await;
    let versions = json(&versions);
    assert_eq!(versions.as_array().unwrap().len(), 2);
    assert_eq!(versions[0]["body"], "Geheimtipp Haushaltsloch");

    // Made private again: the fraction loses it.
    let (status, _) = call(
        &app,
        Method::PATCH,
        &note,
        &f.bu_chair,
        Some(json!({"shared_with": null})),
        Some("\"2\""),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = call(&app, Method::GET, &note, &f.bu_member, None, None).await;
    assert_eq!(status, 404);

    // XSS payloads are rendered inert.
    let (status, body) = call(
        &app,
        Method::POST,
        "/api/v1/notes",
        &f.bu_chair,
        Some(json!({"paper_id": f.paper, "body": XSS})),
        None,
    )
    .await;
    assert_eq!(status, 201);
    assert_inert(json(&body)["html"].as_str().unwrap());

    // Size limits: clear 413 for too long a text, 422 for an empty one or no target.
    let (status, text) = call(
        &app,
        Method::POST,
        "/api/v1/notes",
        &f.bu_chair,
        Some(json!({"paper_id": f.paper, "body": "x".repeat(20_001)})),
        None,
    )
    .await;
    assert_eq!(status, 413, "{text}");
    assert!(json(&text)["detail"].as_str().unwrap().contains("20000"));
    let (status, _) = call(
        &app,
        Method::POST,
        "/api/v1/notes",
        &f.bu_chair,
        Some(json!({"paper_id": f.paper, "body": "  "})),
        None,
    )
    .await;
    assert_eq!(status, 422);
    let (status, _) = call(
        &app,
        Method::POST,
        "/api/v1/notes",
        &f.bu_chair,
        Some(json!({"body": "x"})),
        None,
    )
    .await;
    assert_eq!(status, 422);
    let (status, _) = call(
        &app,
        Method::POST,
        "/api/v1/notes",
        &f.bu_chair,
        Some(json!({"paper_id": uuid::Uuid::now_v7(), "body": "x"})),
        None,
    )
    .await;
    assert_eq!(status, 404);

    // Deleting needs the current version.
    let (status, _) = call(
        &app,
        Method::DELETE,
        &note,
        &f.bu_chair,
        None,
        Some("\"3\""),
    )
    .await;
    assert_eq!(status, 204);
    let (status, _) = call(&app, Method::GET, &note, &f.bu_chair, None, None).await;
    assert_eq!(status, 404);
    app.stop().await;
}

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn posting_too_fast_is_rate_limited_per_account(#[case] backend: Backend) {
    let Some(app) = spawn_app(backend, true).await else {
        return;
    };
    let f = fractions(&app).await;
    let mut limited = None;
    for i in 0..60 {
        let (status, text) = call(
            &app,
            Method::POST,
            "/api/v1/notes",
            &f.bu_chair,
            Some(json!({"paper_id": f.paper, "body": format!("Notiz {i}")})),
            None,
        )
        .await;
        if status == 429 {
            limited = Some((i, text));
            break;
        }
        assert_eq!(status, 201);
    }
    let (i, text) = limited.expect("never rate limited");
    assert!(i >= 30, "the burst allows 30, limited at {i}");
    assert_eq!(
        json(&text)["type"].as_str().unwrap().rsplit('/').next(),
        Some("posting-too-fast")
    );
    // Another account is not affected.
    let (status, _) = call(
        &app,
        Method::POST,
        "/api/v1/notes",
        &f.bu_member,
        Some(json!({"paper_id": f.paper, "body": "meine"})),
        None,
    )
    .await;
    assert_eq!(status, 201);
    app.stop().await;
}

/// Persons with a membership in `organization` today.
async fn readers(
    app: &crate::helpers::TestApp,
    organization: plenum_domain::OrganizationId,
) -> u64 {
    let today = chrono::Utc::now().date_naive();
    let mut persons: Vec<_> =
        plenum_store::repo::memberships::list_by_organization(&app.db.db, organization, false)
            .await
            .unwrap()
            .into_iter()
            .filter(|m| m.is_active_on(today))
            .map(|m| m.person_id)
            .collect();
    persons.sort();
    persons.dedup();
    persons.len() as u64
}

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audiences_are_named_with_their_readers_and_leaving_a_fraction_is_asked_again(
    #[case] backend: Backend,
) {
    let Some(app) = spawn_app(backend, true).await else {
        return;
    };
    let f = fractions(&app).await;
    let council = plenum_store::repo::organizations::list_by_body(
        &app.db.db,
        plenum_server::demo::demo_body_id(),
        false,
    )
    .await
    .unwrap()
    .into_iter()
    .find(|o| o.kind == plenum_domain::OrganizationKind::Council)
    .unwrap();

    // The audiences: full names, kinds and how many read along, the smallest first.
    let (status, body) = call(
        &app,
        Method::GET,
        "/api/v1/notes/audiences",
        &f.bu_chair,
        None,
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let audiences = json(&body);
    let list = audiences.as_array().unwrap();
    let bu = list
        .iter()
        .find(|a| a["organization"]["id"] == json!(f.bu))
        .unwrap();
    assert_eq!(
        bu["organization"]["name"],
        "Fraktion Bürgerunion Musterstadt"
    );
    assert_eq!(bu["organization"]["short_name"], "BU");
    assert_eq!(bu["organization"]["kind"], "fraction");
    assert_eq!(bu["readers"], json!(readers(&app, f.bu).await));
    assert_eq!(bu["readers"], 11);
    let rat = list
        .iter()
        .find(|a| a["organization"]["id"] == json!(council.id))
        .unwrap();
    assert_eq!(rat["organization"]["kind"], "council");
    assert_eq!(rat["readers"], json!(readers(&app, council.id).await));
    let counts: Vec<u64> = list
        .iter()
        .map(|a| a["readers"].as_u64().unwrap())
        .collect();
    assert!(counts.is_sorted(), "{counts:?}");
    // Another fraction's member is offered their own fraction, never BU.
    let (_, other) = call(
        &app,
        Method::GET,
        "/api/v1/notes/audiences",
        &f.outsider,
        None,
        None,
    )
    .await;
    let other = json(&other);
    assert!(
        other
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["organization"]["id"] != json!(f.bu))
    );
    assert!(
        other
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["organization"]["id"] == json!(f.sm))
    );

    // A fraction's note moved to the council: refused until confirmed, and nothing changes.
    let (status, body) = call(
        &app,
        Method::POST,
        "/api/v1/notes",
        &f.bu_chair,
        Some(json!({"paper_id": f.paper, "body": "Unsere Linie: ablehnen", "shared_with": f.bu})),
        None,
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let note = format!("/api/v1/notes/{}", json(&body)["id"].as_str().unwrap());
    let (status, body) = call(
        &app,
        Method::PATCH,
        &note,
        &f.bu_chair,
        Some(json!({"shared_with": council.id})),
        Some("\"1\""),
    )
    .await;
    assert_eq!(status, 409, "{body}");
    let problem = json(&body);
    assert_eq!(problem["type"], "/problems/audience-confirmation-required");
    let detail = problem["detail"].as_str().unwrap();
    assert!(
        detail.contains("Fraktion Bürgerunion Musterstadt"),
        "{detail}"
    );
    assert!(
        detail.contains(&format!("{} people", readers(&app, council.id).await)),
        "{detail}"
    );
    let (_, still) = call(&app, Method::GET, &note, &f.outsider, None, None).await;
    assert_eq!(
        json(&still)["type"],
        "/problems/not-found",
        "other fractions still cannot read it"
    );
    let (_, mine) = call(&app, Method::GET, &note, &f.bu_chair, None, None).await;
    assert_eq!(json(&mine)["version"], 1);

    let (status, body) = call(
        &app,
        Method::PATCH,
        &note,
        &f.bu_chair,
        Some(json!({"shared_with": council.id, "confirm_audience": true})),
        Some("\"1\""),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(json(&body)["shared_with"]["id"], json!(council.id));
    let (status, _) = call(&app, Method::GET, &note, &f.outsider, None, None).await;
    assert_eq!(status, 200, "now the council reads it");
    // Audited: from where to where, and how many read it now.
    let entry = plenum_store::audit::list(&app.db.db)
        .await
        .unwrap()
        .into_iter()
        .rfind(|e| e.event.action == "note.left_fraction")
        .unwrap();
    let detail = json(&entry.event.detail);
    assert_eq!(detail["from"], json!(f.bu));
    assert_eq!(detail["to"], json!(council.id));
    assert_eq!(detail["readers"], json!(readers(&app, council.id).await));

    // A private note is not in a fraction: sharing it needs no second question from the server
    // (the web app asks before any audience wider than a fraction).
    let (_, body) = call(
        &app,
        Method::POST,
        "/api/v1/notes",
        &f.bu_chair,
        Some(json!({"paper_id": f.paper, "body": "Privat"})),
        None,
    )
    .await;
    let private = format!("/api/v1/notes/{}", json(&body)["id"].as_str().unwrap());
    let (status, body) = call(
        &app,
        Method::PATCH,
        &private,
        &f.bu_chair,
        Some(json!({"shared_with": council.id})),
        Some("\"1\""),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    app.stop().await;
}
