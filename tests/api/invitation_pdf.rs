//! The invitation and its supplements as PDF/A: the member's copy (with the non-public part only
//! for those entitled to it), the public notice (öffentliche Bekanntmachung) for everyone, and
//! OParl's `Meeting.invitation` pointing at it.

use plenum_server::demo::demo_body_id;
use plenum_store::{Backend, repo};
use rstest::rstest;
use serde_json::{Value, json};

use crate::helpers::{
    TestApp, assert_no_secret, create_meeting, meeting_named, secrets, spawn_app,
};
use crate::live::committee;
use crate::minutes_pdf::pdf_text;
use crate::oparl::Schemas;

/// Status, headers and body of a GET, with a bearer token and an `If-None-Match` if given.
async fn fetch(
    app: &TestApp,
    path: &str,
    token: Option<&str>,
    if_none_match: Option<&str>,
) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let url = if path.starts_with("http") {
        path.to_owned()
    } else {
        app.url(path)
    };
    let mut request = app.client.get(url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(tag) = if_none_match {
        request = request.header("if-none-match", tag);
    }
    let r = request.send().await.unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, headers, r.bytes().await.unwrap().to_vec())
}

/// A PDF/A answer: its text (whitespace collapsed; None without pdftotext).
fn pdf(
    status: u16,
    headers: &reqwest::header::HeaderMap,
    body: &[u8],
    name: &str,
) -> Option<String> {
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(body));
    assert_eq!(headers["content-type"], "application/pdf");
    let disposition = headers["content-disposition"].to_str().unwrap();
    assert!(disposition.contains(name), "{disposition}");
    assert!(headers.get("etag").is_some());
    assert!(body.starts_with(b"%PDF-"));
    let head = String::from_utf8_lossy(body);
    assert!(head.contains("pdfaid:part"), "PDF/A identification");
    pdf_text(body)
}

async fn post(app: &TestApp, path: &str, token: &str, body: Option<Value>) -> reqwest::Response {
    let r = app.get_with(path.rsplit_once('/').unwrap().0, token).await;
    let tag = r.headers()["etag"].to_str().unwrap().to_owned();
    let mut request = app
        .client
        .post(app.url(path))
        .bearer_auth(token)
        .header("if-match", tag);
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.unwrap()
}

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn invitations_print_as_pdf_for_members_and_the_public(#[case] backend: Backend) {
    let Some(app) = spawn_app(backend, true).await else {
        return;
    };
    let secrets = secrets(&app).await;
    let schemas = Schemas::load();
    let clerk = app.login("martina.sommer", 0).await;
    let anna = app.login("anna.hartmann", 0).await;
    // A member of another body's committee: sees the council's meeting, not its non-public part.
    let outsider = committee(&app, 1).await.members[0].1.clone();
    let meeting = meeting_named(&app, "3. Sitzung des Rates").await;
    let path = format!("/api/v1/meetings/{}", meeting.id);
    let member_pdf = |n: u32| format!("{path}/invitations/{n}/pdf");
    let public_pdf = format!("/api/v1/public/meetings/{}/invitation.pdf", meeting.id);
    let oparl_meeting = app.url(&format!("/oparl/v1/meeting/{}", meeting.id));
    let items = repo::agenda_items::list_by_meeting(&app.db.db, meeting.id, false)
        .await
        .unwrap();
    let public_title = items.iter().find(|i| i.public).unwrap().title.to_string();
    let secret_titles: Vec<String> = items
        .iter()
        .filter(|i| !i.public)
        .map(|i| i.title.to_string())
        .collect();
    assert!(!secret_titles.is_empty());

    // Not invited yet: nothing to print, no Meeting.invitation.
    assert_eq!(
        fetch(&app, &member_pdf(1), Some(&anna.access), None)
            .await
            .0,
        404
    );
    assert_eq!(fetch(&app, &public_pdf, None, None).await.0, 404);
    let (_, _, body) = fetch(&app, &oparl_meeting, None, None).await;
    let before: Value = serde_json::from_slice(&body).unwrap();
    assert!(before.get("invitation").is_none(), "{before}");
    assert_eq!(
        fetch(&app, &format!("{oparl_meeting}/invitation"), None, None)
            .await
            .0,
        404
    );

    let r = post(&app, &format!("{path}/invite"), &clerk.access, None).await;
    assert_eq!(r.status(), 200);

    // The entitled member: both parts.
    let started = std::time::Instant::now();
    let (status, headers, body) = fetch(&app, &member_pdf(1), Some(&anna.access), None).await;
    eprintln!("invitation PDF served in {:?}", started.elapsed());
    let etag = headers["etag"].to_str().unwrap().to_owned();
    if let Some(text) = pdf(status, &headers, &body, "Einladung") {
        for expected in [
            "Einladung",
            "3. Sitzung des Rates",
            "Ladungsfrist",
            "ist gewahrt",
            "Öffentlicher Teil",
            "Nichtöffentlicher Teil",
            public_title.as_str(),
        ] {
            assert!(
                text.contains(expected),
                "{expected:?} in the invitation: {text}"
            );
        }
        for title in &secret_titles {
            assert!(
                text.contains(title.as_str()),
                "{title:?} for the entitled member: {text}"
            );
        }
    }
    // Cached: 304 without a body.
    let (status, headers, body) =
        fetch(&app, &member_pdf(1), Some(&anna.access), Some(&etag)).await;
    assert_eq!(status, 304);
    assert_eq!(headers["etag"].to_str().unwrap(), etag);
    assert!(body.is_empty());

    // A member not entitled to the non-public part: the public part only.
    let (status, headers, body) = fetch(&app, &member_pdf(1), Some(&outsider), None).await;
    assert_ne!(headers["etag"].to_str().unwrap(), etag);
    if let Some(text) = pdf(status, &headers, &body, "Einladung") {
        assert!(text.contains(&public_title), "{text}");
        assert!(text.contains("Ohne den nichtöffentlichen Teil"), "{text}");
        assert!(!text.contains("Nichtöffentlicher Teil"), "{text}");
        for title in &secret_titles {
            assert!(!text.contains(title.as_str()), "{title:?} leaked: {text}");
        }
        assert_no_secret(&secrets, "a non-entitled member's invitation", &text);
    }

    // The public notice, for everyone.
    let (status, headers, body) = fetch(&app, &public_pdf, None, None).await;
    assert!(
        headers["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("inline;")
    );
    if let Some(text) = pdf(status, &headers, &body, "Bekanntmachung") {
        assert!(text.contains("Öffentliche Bekanntmachung"), "{text}");
        assert!(text.contains("3. Sitzung des Rates"), "{text}");
        assert!(text.contains(&public_title), "{text}");
        assert!(!text.contains("Nichtöffentlicher Teil"), "{text}");
        assert_no_secret(&secrets, "the public notice", &text);
    }

    // 404: an unknown number or meeting; 400: a malformed number; 401: anonymous.
    assert_eq!(
        fetch(&app, &member_pdf(2), Some(&anna.access), None)
            .await
            .0,
        404
    );
    let unknown = uuid::Uuid::new_v4();
    for path in [
        format!("/api/v1/meetings/{unknown}/invitations/1/pdf"),
        format!("/api/v1/public/meetings/{unknown}/invitation.pdf"),
    ] {
        let (status, headers, _) = fetch(&app, &path, Some(&anna.access), None).await;
        assert_eq!(status, 404, "{path}");
        assert_eq!(headers["content-type"], "application/problem+json");
    }
    let bad = format!("{path}/invitations/first/pdf");
    assert_eq!(fetch(&app, &bad, Some(&anna.access), None).await.0, 400);
    assert_eq!(fetch(&app, &member_pdf(1), None, None).await.0, 401);

    // OParl: Meeting.invitation is the public notice, a File served at its own id.
    let (_, _, body) = fetch(&app, &oparl_meeting, None, None).await;
    let invited: Value = serde_json::from_slice(&body).unwrap();
    schemas.check(&invited);
    let file = invited["invitation"].clone();
    assert_eq!(file["type"], "https://schema.oparl.org/1.1/File");
    assert_eq!(file["mimeType"], "application/pdf");
    assert_eq!(file["accessUrl"], app.url(&public_pdf));
    assert_eq!(file["downloadUrl"], app.url(&public_pdf));
    let (status, _, body) = fetch(&app, file["id"].as_str().unwrap(), None, None).await;
    assert_eq!(status, 200);
    let own: Value = serde_json::from_slice(&body).unwrap();
    schemas.check(&own);
    assert_eq!(own["meeting"], json!([oparl_meeting]));
    for (key, value) in file.as_object().unwrap() {
        assert_eq!(&own[key], value, "invitation.{key}");
    }
    let (status, headers, _) = fetch(&app, file["accessUrl"].as_str().unwrap(), None, None).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "application/pdf");
    let first_modified = file["modified"].as_str().unwrap().to_owned();

    // A supplement: its changes, the non-public ones for the entitled member only.
    let added_public = "Benennung eines Straßennamens im Neubaugebiet";
    let added_secret = "Vertrauliche Grundstücksangelegenheit Flur 7";
    for (title, public) in [(added_public, true), (added_secret, false)] {
        let r = post(
            &app,
            &format!("{path}/agenda"),
            &clerk.access,
            Some(json!({"title": title, "public": public})),
        )
        .await;
        assert_eq!(r.status(), 201);
    }
    // The clock moves on by at least a second (OParl's times have seconds).
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let r = post(&app, &format!("{path}/supplements"), &clerk.access, None).await;
    assert_eq!(r.status(), 201);
    let (status, headers, body) = fetch(&app, &member_pdf(2), Some(&anna.access), None).await;
    if let Some(text) = pdf(status, &headers, &body, "Nachtrag") {
        for expected in [
            "Nachtrag Nr. 1 zur Einladung",
            "Änderungen gegenüber der bisherigen Einladung",
            "Neu aufgenommen",
            added_public,
            added_secret,
        ] {
            assert!(
                text.contains(expected),
                "{expected:?} in the supplement: {text}"
            );
        }
    }
    let (status, headers, body) = fetch(&app, &member_pdf(2), Some(&outsider), None).await;
    if let Some(text) = pdf(status, &headers, &body, "Nachtrag") {
        assert!(text.contains(added_public), "{text}");
        assert!(!text.contains(added_secret), "{text}");
    }
    let (status, headers, body) = fetch(&app, &public_pdf, None, None).await;
    if let Some(text) = pdf(status, &headers, &body, "Bekanntmachung") {
        assert!(text.contains("Nachtrag Nr. 1"), "{text}");
        assert!(text.contains(added_public), "{text}");
        assert!(!text.contains(added_secret), "{text}");
        assert_no_secret(&secrets, "the public notice of a supplement", &text);
    }
    // The first invitation is still there, unchanged.
    let (status, headers, body) = fetch(&app, &member_pdf(1), Some(&anna.access), None).await;
    if let Some(text) = pdf(status, &headers, &body, "Einladung") {
        assert!(!text.contains(added_public), "{text}");
    }

    // OParl: the invitation's and the meeting's `modified` moved with the supplement.
    let (_, _, body) = fetch(&app, &oparl_meeting, None, None).await;
    let supplemented: Value = serde_json::from_slice(&body).unwrap();
    schemas.check(&supplemented);
    let file = &supplemented["invitation"];
    let modified = file["modified"].as_str().unwrap();
    assert!(
        modified > first_modified.as_str(),
        "{modified} after {first_modified}"
    );
    assert_eq!(file["created"], invited["invitation"]["created"]);
    assert!(supplemented["modified"].as_str().unwrap() >= modified);
    assert!(
        file["name"].as_str().unwrap().contains("Nachtrag Nr. 1"),
        "{file}"
    );
    let since = app.url(&format!(
        "/oparl/v1/body/{}/meeting?modified_since={}",
        demo_body_id(),
        urlencoding(modified)
    ));
    let (status, _, body) = fetch(&app, &since, None, None).await;
    assert_eq!(status, 200);
    let list: Value = serde_json::from_slice(&body).unwrap();
    assert!(
        list["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["id"] == oparl_meeting.as_str()),
        "the supplemented meeting is listed as modified since its supplement: {list}"
    );
    app.stop().await;
}

fn urlencoding(text: &str) -> String {
    text.replace(':', "%3A").replace('+', "%2B")
}

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_late_invitation_prints_its_reason(#[case] backend: Backend) {
    let Some(app) = spawn_app(backend, true).await else {
        return;
    };
    let clerk = app.login("martina.sommer", 0).await;
    let anna = app.login("anna.hartmann", 0).await;
    let council = meeting_named(&app, "3. Sitzung des Rates").await;
    let start = chrono::Utc::now() + chrono::Duration::days(3);
    let (path, created) = create_meeting(
        &app,
        &clerk.access,
        council.organization_id.as_uuid(),
        "Sondersitzung des Rates",
        start,
    )
    .await;
    let reason = "Eilbedürftige Entscheidung über Fördermittel (Frist des Landes am Freitag)";
    let r = post(
        &app,
        &format!("{path}/invite"),
        &clerk.access,
        Some(json!({"late_reason": reason})),
    )
    .await;
    assert_eq!(r.status(), 200);
    let (status, headers, body) = fetch(
        &app,
        &format!("{path}/invitations/1/pdf"),
        Some(&anna.access),
        None,
    )
    .await;
    if let Some(text) = pdf(status, &headers, &body, "Einladung") {
        assert!(text.contains("Sondersitzung des Rates"), "{text}");
        assert!(text.contains("ist verkürzt"), "{text}");
        assert!(
            text.contains("Begründung der verkürzten Ladungsfrist"),
            "{text}"
        );
        assert!(text.contains(reason), "{text}");
        assert!(text.contains("Keine Tagesordnungspunkte"), "{text}");
    }
    let public = format!(
        "/api/v1/public/meetings/{}/invitation.pdf",
        created["id"].as_str().unwrap()
    );
    let (status, headers, body) = fetch(&app, &public, None, None).await;
    if let Some(text) = pdf(status, &headers, &body, "Bekanntmachung") {
        assert!(text.contains(reason), "{text}");
    }
    app.stop().await;
}
