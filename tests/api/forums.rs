//! Forums: members only, unread counts, pin and lock by the chair, tombstones, live delivery to
//! the right members only, and access ending with the membership.

use std::time::Duration;

use plenum_store::{Backend, repo};
use reqwest::Method;
use rstest::rstest;
use serde_json::json;

use crate::collab::{Personal, XSS, assert_inert, call, fractions, json};
use crate::helpers::spawn_app;

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fraction_forum_is_for_its_members_only(#[case] backend: Backend) {
    let Some(app) = spawn_app(backend, true).await else {
        return;
    };
    let f = fractions(&app).await;
    let threads = format!("/api/v1/forums/{}/threads", f.bu);

    // The chair's forums include the fraction's, as moderator.
    let (_, forums) = call(&app, Method::GET, "/api/v1/forums", &f.bu_chair, None, None).await;
    let forums = json(&forums);
    let bu = forums
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["organization"]["id"] == f.bu.to_string())
        .unwrap();
    assert_eq!(bu["moderator"], true);

    // Live: a fellow member is told, the other fraction is not.
    let mut member_live = Personal::connect(&app, &f.bu_member).await;
    let mut outsider_live = Personal::connect(&app, &f.outsider).await;

    let (status, body) = call(&app, Method::POST, &threads, &f.bu_chair,
        Some(json!({"title": "Haushaltsklausur", "body": format!("Treffen am Montag, @{}\n\n{XSS}", f.bu_member_name),
            "paper_id": f.paper, "mentions": [f.bu_member_person]})), None).await;
    assert_eq!(status, 201, "{body}");
    let created = json(&body);
    let thread = created["thread"]["id"].as_str().unwrap().to_owned();
    let first_post = created["posts"][0]["id"].as_str().unwrap().to_owned();
    assert_inert(created["posts"][0]["html"].as_str().unwrap());

    let pushed = member_live.wait_for("forum_post").await;
    assert_eq!(pushed["thread"]["id"], thread.as_str());
    assert_eq!(pushed["mentioned"], true);
    assert_inert(pushed["post"]["html"].as_str().unwrap());
    let unread = member_live.wait_for("unread").await;
    assert_eq!(unread["total"], 1, "{unread}");
    let leaked = outsider_live.drain(Duration::from_millis(1500)).await;
    assert!(
        leaked
            .iter()
            .all(|m| m["type"] != "forum_post" && m["type"] != "unread"),
        "{leaked:?}"
    );

    // Unread counts per member: reading the thread clears them.
    let (_, forums) = call(
        &app,
        Method::GET,
        "/api/v1/forums",
        &f.bu_member,
        None,
        None,
    )
    .await;
    let forums = json(&forums);
    let bu = forums
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["organization"]["id"] == f.bu.to_string())
        .unwrap();
    assert_eq!(bu["unread"], 1);
    assert_eq!(bu["moderator"], false);
    let (status, detail) = call(
        &app,
        Method::GET,
        &format!("/api/v1/threads/{thread}"),
        &f.bu_member,
        None,
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(json(&detail)["posts"].as_array().unwrap().len(), 1);
    let (_, forums) = call(
        &app,
        Method::GET,
        "/api/v1/forums",
        &f.bu_member,
        None,
        None,
    )
    .await;
    let forums = json(&forums);
    let bu = forums
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["organization"]["id"] == f.bu.to_string())
        .unwrap();
    assert_eq!(bu["unread"], 0);

    // A reply by the member; the chair sees one unread.
    let posts = format!("/api/v1/threads/{thread}/posts");
    let (status, body) = call(
        &app,
        Method::POST,
        &posts,
        &f.bu_member,
        Some(json!({"body": "Ich komme.", "reply_to": first_post})),
        None,
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let reply = json(&body)["id"].as_str().unwrap().to_owned();
    let (_, list) = call(&app, Method::GET, &threads, &f.bu_chair, None, None).await;
    assert_eq!(json(&list)[0]["unread"], 1);

    // The other fraction: every forum endpoint answers 404, lists and searches are empty.
    let thread_path = format!("/api/v1/threads/{thread}");
    let pin = format!("/api/v1/threads/{thread}/pin");
    let lock = format!("/api/v1/threads/{thread}/lock");
    let post_path = format!("/api/v1/posts/{reply}");
    let post_history = format!("/api/v1/posts/{reply}/history");
    for (method, path, body) in [
        (Method::GET, threads.as_str(), None),
        (
            Method::POST,
            threads.as_str(),
            Some(json!({"title": "t", "body": "b"})),
        ),
        (Method::GET, thread_path.as_str(), None),
        (Method::POST, posts.as_str(), Some(json!({"body": "b"}))),
        (Method::POST, pin.as_str(), Some(json!({"value": true}))),
        (Method::POST, lock.as_str(), Some(json!({"value": true}))),
        (
            Method::PATCH,
            post_path.as_str(),
            Some(json!({"body": "b"})),
        ),
        (Method::DELETE, post_path.as_str(), None),
        (Method::GET, post_history.as_str(), None),
    ] {
        let (status, text) =
            call(&app, method.clone(), path, &f.outsider, body, Some("\"1\"")).await;
        assert_eq!(status, 404, "{method} {path}: {text}");
        assert!(
            !text.contains("Haushaltsklausur") && !text.contains("komme"),
            "{text}"
        );
    }
    let (_, forums) = call(&app, Method::GET, "/api/v1/forums", &f.outsider, None, None).await;
    assert!(
        json(&forums)
            .as_array()
            .unwrap()
            .iter()
            .all(|x| x["organization"]["id"] != f.bu.to_string())
    );
    let (_, hits) = call(
        &app,
        Method::GET,
        "/api/v1/forums/search?q=komme",
        &f.outsider,
        None,
        None,
    )
    .await;
    assert_eq!(json(&hits), json!([]));
    let (_, hits) = call(
        &app,
        Method::GET,
        "/api/v1/forums/search?q=komme",
        &f.bu_chair,
        None,
        None,
    )
    .await;
    assert_eq!(json(&hits).as_array().unwrap().len(), 1);

    // Moderation: the chair pins and locks; a member may not.
    let (status, _) = call(
        &app,
        Method::POST,
        &pin,
        &f.bu_member,
        Some(json!({"value": true})),
        None,
    )
    .await;
    assert_eq!(status, 403);
    let (status, body) = call(
        &app,
        Method::POST,
        &pin,
        &f.bu_chair,
        Some(json!({"value": true})),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(json(&body)["pinned"], true);
    let (status, _) = call(
        &app,
        Method::POST,
        &lock,
        &f.bu_chair,
        Some(json!({"value": true})),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let (status, body) = call(
        &app,
        Method::POST,
        &posts,
        &f.bu_member,
        Some(json!({"body": "noch was"})),
        None,
    )
    .await;
    assert_eq!(status, 409, "{body}");

    // Editing: the author only, with If-Match, history kept; the chair may delete (tombstone).
    let (status, _) = call(
        &app,
        Method::PATCH,
        &post_path,
        &f.bu_chair,
        Some(json!({"body": "x"})),
        Some("\"1\""),
    )
    .await;
    assert_eq!(status, 403);
    let (status, body) = call(
        &app,
        Method::PATCH,
        &post_path,
        &f.bu_member,
        Some(json!({"body": "Ich komme später."})),
        Some("\"1\""),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(json(&body)["edited"], true);
    let (status, _) = call(
        &app,
        Method::PATCH,
        &post_path,
        &f.bu_member,
        Some(json!({"body": "y"})),
        Some("\"1\""),
    )
    .await;
    assert_eq!(status, 412);
    let (_, history) = call(&app, Method::GET, &post_history, &f.bu_chair, None, None).await;
    assert_eq!(json(&history)[0]["body"], "Ich komme.");
    let (status, _) = call(&app, Method::DELETE, &post_path, &f.bu_chair, None, None).await;
    assert_eq!(status, 204);
    let (_, detail) = call(&app, Method::GET, &thread_path, &f.bu_chair, None, None).await;
    let detail = json(&detail);
    assert_eq!(
        detail["posts"].as_array().unwrap().len(),
        2,
        "the tombstone keeps its place"
    );
    assert!(detail["posts"][1]["deleted"].is_string());
    assert_eq!(detail["posts"][1]["body"], "");
    // Once deleted, the post is gone for editing, deleting and its history alike.
    for (method, path) in [(Method::GET, &post_history), (Method::DELETE, &post_path)] {
        let (status, _) = call(&app, method.clone(), path, &f.bu_chair, None, None).await;
        assert_eq!(status, 404, "{method} {path} of a deleted post");
    }

    // Size limits.
    let (status, _) = call(
        &app,
        Method::POST,
        &threads,
        &f.bu_chair,
        Some(json!({"title": "t".repeat(201), "body": "b"})),
        None,
    )
    .await;
    assert_eq!(status, 413);

    // Leaving the fraction ends access from that day; the past posts stay, by their author.
    let db = &app.db.db;
    let memberships = repo::memberships::list_by_person(db, f.bu_member_person, false)
        .await
        .unwrap();
    let mut membership = memberships
        .into_iter()
        .find(|m| m.organization_id == f.bu)
        .unwrap();
    membership.end_date = Some(chrono::Utc::now().date_naive() - chrono::Duration::days(1));
    repo::memberships::update(db, membership).await.unwrap();
    let (status, _) = call(&app, Method::GET, &thread_path, &f.bu_member, None, None).await;
    assert_eq!(status, 404);
    let (status, _) = call(&app, Method::GET, &threads, &f.bu_member, None, None).await;
    assert_eq!(status, 404);
    let (_, detail) = call(&app, Method::GET, &thread_path, &f.bu_chair, None, None).await;
    assert_eq!(
        json(&detail)["posts"][1]["author"]["name"],
        f.bu_member_name.as_str()
    );
    let (status, _) = call(
        &app,
        Method::POST,
        &threads,
        &f.bu_chair,
        Some(json!({"title": "Neu", "body": "Neu"})),
        None,
    )
    .await;
    assert_eq!(status, 201);
    let after = member_live.drain(Duration::from_millis(1500)).await;
    assert!(
        after.iter().all(|m| m["type"] != "forum_post"),
        "a former member gets no posts: {after:?}"
    );
    app.stop().await;
}
