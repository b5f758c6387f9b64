//! The notice period of invitations (Ladungsfrist) per body: set by an admin
//! (`PUT /api/v1/body-settings`), the server's `invitation_notice_days` for bodies without one,
//! and used for the deadline, the refusal of a late invitation, the invitation PDF and the
//! minutes.

use chrono::{DateTime, Duration, Utc};
use plenum_server::demo::demo_body_id;
use plenum_store::{Backend, repo};
use rstest::rstest;
use serde_json::{Value, json};

use crate::helpers::{TestApp, create_meeting, spawn_app};
use crate::minutes_pdf::pdf_text;

const PATH: &str = "/api/v1/body-settings";

async fn put(app: &TestApp, token: Option<&str>, body: &Value) -> reqwest::Response {
    let mut request = app.client.put(app.url(PATH)).json(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

/// The council (the organization of the demo's "3. Sitzung des Rates").
async fn council_id(app: &TestApp) -> uuid::Uuid {
    repo::meetings::list_by_body(&app.db.db, demo_body_id(), false)
        .await
        .unwrap()
        .into_iter()
        .find(|m| m.name.as_str().starts_with("3. Sitzung des Rates"))
        .unwrap()
        .organization_id
        .as_uuid()
}

async fn etag_of(app: &TestApp, path: &str, token: &str) -> String {
    let r = app.get_with(path, token).await;
    assert_eq!(r.status(), 200, "{path}");
    r.headers()["etag"].to_str().unwrap().to_owned()
}

async fn invite(app: &TestApp, path: &str, token: &str) -> reqwest::Response {
    let tag = etag_of(app, path, token).await;
    app.client
        .post(app.url(&format!("{path}/invite")))
        .bearer_auth(token)
        .header("if-match", tag)
        .send()
        .await
        .unwrap()
}

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test]
async fn the_notice_period_is_the_bodys_own(#[case] backend: Backend) {
    let Some(app) = spawn_app(backend, true).await else {
        return;
    };
    let admin = app.login("admin", 0).await;
    let clerk = app.login("martina.sommer", 0).await;
    let anna = app.login("anna.hartmann", 0).await;

    // No value of its own: the server's default (7) applies; members may read it.
    let r = app.get_with(PATH, &anna.access).await;
    assert_eq!(r.status(), 200);
    let settings: Value = r.json().await.unwrap();
    assert_eq!(
        settings,
        json!({"body_id": demo_body_id(), "invitation_notice_days": null,
               "default_invitation_notice_days": 7, "effective_invitation_notice_days": 7})
    );
    assert_eq!(app.get(PATH).await.status(), 401);
    // A body that is not hosted here: 404, as for any unknown id.
    let r = app
        .get_with(
            &format!("{PATH}?body_id={}", uuid::Uuid::new_v4()),
            &anna.access,
        )
        .await;
    assert_eq!(r.status(), 404);

    // Only admins change it: clerks and members 403, anonymous 401.
    for token in [&clerk.access, &anna.access] {
        let r = put(&app, Some(token), &json!({"invitation_notice_days": 3})).await;
        assert_eq!(r.status(), 403);
        assert_eq!(r.headers()["content-type"], "application/problem+json");
    }
    let r = put(&app, None, &json!({"invitation_notice_days": 3})).await;
    assert_eq!(r.status(), 401);

    // Whole days from 0 to 60, else 422 naming the field.
    for bad in [
        json!({"invitation_notice_days": -1}),
        json!({"invitation_notice_days": 61}),
        json!({"invitation_notice_days": 3.5}),
        json!({"invitation_notice_days": "7"}),
        json!({"invitation_notice_days": true}),
    ] {
        let r = put(&app, Some(&admin.access), &bad).await;
        assert_eq!(r.status(), 422, "{bad}");
        assert_eq!(r.headers()["content-type"], "application/problem+json");
        let problem: Value = r.json().await.unwrap();
        let detail = problem["detail"].as_str().unwrap();
        assert!(detail.contains("invitation_notice_days"), "{detail}");
        assert!(detail.contains("0 to 60"), "{detail}");
    }
    let r = put(&app, Some(&admin.access), &json!({"notice": 3})).await;
    assert_eq!(r.status(), 422, "unknown fields are refused");
    assert_eq!(
        app.get_with(PATH, &anna.access)
            .await
            .json::<Value>()
            .await
            .unwrap()["invitation_notice_days"],
        Value::Null,
        "nothing was stored"
    );

    // A meeting four days ahead: the default week refuses it.
    let council = council_id(&app).await;
    let (path, created) = create_meeting(
        &app,
        &clerk.access,
        council,
        "Sondersitzung des Rates",
        Utc::now() + Duration::days(4),
    )
    .await;
    let start: DateTime<Utc> = created["start"].as_str().unwrap().parse().unwrap();
    let r = invite(&app, &path, &clerk.access).await;
    assert_eq!(r.status(), 422);
    let problem: Value = r.json().await.unwrap();
    assert_eq!(problem["type"], "/problems/invitation-late");
    let deadline: DateTime<Utc> = problem["deadline"].as_str().unwrap().parse().unwrap();
    assert_eq!(deadline, start - Duration::days(7));

    // Five days for the body: still late, and the refusal names the body's five days.
    let r = put(
        &app,
        Some(&admin.access),
        &json!({"invitation_notice_days": 5}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let r = invite(&app, &path, &clerk.access).await;
    assert_eq!(r.status(), 422);
    let problem: Value = r.json().await.unwrap();
    let deadline: DateTime<Utc> = problem["deadline"].as_str().unwrap().parse().unwrap();
    assert_eq!(deadline, start - Duration::days(5));
    let detail = problem["detail"].as_str().unwrap();
    assert!(detail.contains("Ladungsfrist von 5 Tagen"), "{detail}");

    // Three days: four days ahead is on time.
    let r = put(
        &app,
        Some(&admin.access),
        &json!({"invitation_notice_days": 3}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let settings: Value = r.json().await.unwrap();
    assert_eq!(settings["invitation_notice_days"], 3);
    assert_eq!(settings["default_invitation_notice_days"], 7);
    assert_eq!(settings["effective_invitation_notice_days"], 3);
    let r = invite(&app, &path, &clerk.access).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());

    let list: Value = app
        .get_with(&format!("{path}/invitations"), &anna.access)
        .await
        .json()
        .await
        .unwrap();
    let first = &list["data"][0];
    assert_eq!(first["late"], false);
    let deadline: DateTime<Utc> = first["deadline"].as_str().unwrap().parse().unwrap();
    assert_eq!(deadline, start - Duration::days(3));

    // The invitation PDF and the minutes name the body's three days.
    let r = app
        .get_with(&format!("{path}/invitations/1/pdf"), &anna.access)
        .await;
    assert_eq!(r.status(), 200);
    if let Some(text) = pdf_text(&r.bytes().await.unwrap()) {
        assert!(text.contains("Die Ladungsfrist von 3 Tagen"), "{text}");
        assert!(text.contains("ist gewahrt"), "{text}");
    }
    let draft: Value = app
        .get_with(&format!("{path}/minutes/draft?part=public"), &clerk.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(draft["invitation_notice_days"], 3, "{draft}");
    let r = app
        .get_with(
            &format!("{path}/minutes/draft.pdf?part=public"),
            &clerk.access,
        )
        .await;
    assert_eq!(r.status(), 200);
    if let Some(text) = pdf_text(&r.bytes().await.unwrap()) {
        // The facts table: labels, then values.
        assert!(text.contains("Ladungsfrist"), "{text}");
        assert!(text.contains(" 3 Tage "), "{text}");
    }

    // Back to the default (null); an issued invitation keeps its deadline.
    let r = put(
        &app,
        Some(&admin.access),
        &json!({"invitation_notice_days": null}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let settings: Value = r.json().await.unwrap();
    assert_eq!(settings["invitation_notice_days"], Value::Null);
    assert_eq!(settings["effective_invitation_notice_days"], 7);
    let list: Value = app
        .get_with(&format!("{path}/invitations"), &anna.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["data"][0]["deadline"], first["deadline"]);

    // Every change is audited with the old and the new value.
    let entries = plenum_store::audit::list(&app.db.db).await.unwrap();
    let changes: Vec<Value> = entries
        .iter()
        .filter(|e| e.event.action == "body.settings_set")
        .map(|e| serde_json::from_str(&e.event.detail).unwrap())
        .collect();
    assert_eq!(changes.len(), 3, "{changes:?}");
    assert_eq!(
        changes[1],
        json!({"before": {"invitation_notice_days": 5}, "after": {"invitation_notice_days": 3}})
    );
    app.stop().await;
}
