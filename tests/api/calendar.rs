//! The personal iCalendar feed: `POST/GET/DELETE /api/v1/me/calendar` and
//! `GET /api/v1/calendar/{token}.ics`.

use std::collections::BTreeSet;

use chrono::{Duration, Utc};
use plenum_domain::*;
use plenum_server::demo::demo_body_id;
use plenum_store::Backend;
use plenum_store::repo;
use rstest::rstest;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::helpers::{TestApp, assert_no_secret, secrets, spawn_app};

async fn organization_named(app: &TestApp, name: &str) -> Organization {
    repo::organizations::list_by_body(&app.db.db, demo_body_id(), false)
        .await
        .unwrap()
        .into_iter()
        .find(|o| o.name.as_str() == name)
        .unwrap_or_else(|| panic!("no organization {name}"))
}

/// A meeting of a fraction: not in the member list of anyone outside the fraction.
async fn fraction_meeting(
    app: &TestApp,
    organization: &Organization,
    name: &str,
    days: i64,
    state: MeetingState,
) -> Meeting {
    let start = Utc::now() + Duration::days(days);
    repo::meetings::insert(
        &app.db.db,
        Meeting {
            id: MeetingId::new(),
            meta: Meta::default(),
            organization_id: organization.id,
            name: Name::parse(name).unwrap(),
            start,
            end: Some(start + Duration::hours(2)),
            location_id: None,
            state,
            invited_at: None,
        },
    )
    .await
    .unwrap()
}

/// `POST /api/v1/me/calendar`: the answer, checked.
async fn create_feed(app: &TestApp, access: &str) -> (String, String) {
    let response = app
        .client
        .post(app.url("/api/v1/me/calendar"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    let token = body["token"].as_str().unwrap().to_owned();
    let url = body["url"].as_str().unwrap().to_owned();
    assert_eq!(
        url,
        format!("http://{}/api/v1/calendar/{token}.ics", app.addr)
    );
    assert!(body["created"].is_string());
    // 32 random bytes, base64url without padding.
    assert_eq!(token.len(), 43);
    assert!(
        token
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    );
    (url, token)
}

/// Fetches a feed without any credentials but the URL.
async fn fetch(app: &TestApp, url: &str) -> reqwest::Response {
    app.client.get(url).send().await.unwrap()
}

/// Unfolded content lines of a calendar.
fn unfold(text: &str) -> Vec<String> {
    text.replace("\r\n ", "")
        .split("\r\n")
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

fn unescape(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') | Some('N') => out.push('\n'),
                Some(other) => out.push(other),
                None => {}
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The SUMMARY of every event.
fn summaries(text: &str) -> BTreeSet<String> {
    unfold(text)
        .iter()
        .filter_map(|l| l.strip_prefix("SUMMARY:"))
        .map(unescape)
        .collect()
}

/// RFC 5545 basics: CRLF line ends only, lines of at most 75 octets, folded with one space,
/// one VCALENDAR, balanced VEVENTs.
fn assert_rfc5545(text: &str) {
    assert!(text.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"));
    assert!(text.ends_with("END:VCALENDAR\r\n"));
    assert!(!text.replace("\r\n", "").contains('\n'), "bare LF");
    assert!(!text.replace("\r\n", "").contains('\r'), "bare CR");
    let physical: Vec<&str> = text.strip_suffix("\r\n").unwrap().split("\r\n").collect();
    for line in &physical {
        assert!(line.len() <= 75, "{} octets: {line}", line.len());
    }
    assert!(
        physical.iter().any(|l| l.starts_with(' ')),
        "a long line is folded"
    );
    let lines = unfold(text);
    let count = |what: &str| lines.iter().filter(|l| *l == what).count();
    assert_eq!(count("BEGIN:VCALENDAR"), 1);
    assert_eq!(count("END:VCALENDAR"), 1);
    assert!(count("BEGIN:VEVENT") > 0);
    assert_eq!(count("BEGIN:VEVENT"), count("END:VEVENT"));
    assert_eq!(
        lines.iter().filter(|l| l.starts_with("UID:")).count(),
        count("BEGIN:VEVENT")
    );
}

/// Names of the member's meetings as `GET /api/v1/meetings?when=all` lists them.
async fn member_list(app: &TestApp, access: &str) -> BTreeSet<String> {
    let list: Value = app
        .get_with("/api/v1/meetings?when=all", access)
        .await
        .json()
        .await
        .unwrap();
    list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap().to_owned())
        .collect()
}

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test]
async fn the_personal_feed_lists_the_members_meetings(#[case] backend: Backend) {
    let Some(app) = spawn_app(backend, true).await else {
        return;
    };
    let gz = organization_named(&app, "Fraktion Grüne Zukunft").await;
    let bu = organization_named(&app, "Fraktion Bürgerunion Musterstadt").await;
    let gz_meeting = fraction_meeting(
        &app,
        &gz,
        "Fraktionssitzung Grüne Zukunft: Haushaltsklausur",
        3,
        MeetingState::Invited,
    )
    .await;
    let gz_cancelled = fraction_meeting(
        &app,
        &gz,
        "Fraktionssitzung Grüne Zukunft: Sondersitzung",
        4,
        MeetingState::Cancelled,
    )
    .await;
    let bu_meeting = fraction_meeting(
        &app,
        &bu,
        "Fraktionssitzung Bürgerunion: Strategie",
        5,
        MeetingState::Invited,
    )
    .await;
    let anna = app.login("anna.hartmann", 0).await;

    // No feed yet; the endpoints need a signed-in user.
    let state: Value = app
        .get_with("/api/v1/me/calendar", &anna.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(state["active"], false);
    assert_eq!(app.get("/api/v1/me/calendar").await.status(), 401);
    let anonymous = app
        .client
        .post(app.url("/api/v1/me/calendar"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);

    let (url, token) = create_feed(&app, &anna.access).await;

    // The state says a feed is active, and never shows the token.
    let response = app.get_with("/api/v1/me/calendar", &anna.access).await;
    let text = response.text().await.unwrap();
    assert!(!text.contains(&token));
    let state: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(state["active"], true);
    assert!(state["created"].is_string());
    assert!(state["last_used"].is_null());

    // Only the token's SHA-256 is stored.
    {
        use sea_orm::{ConnectionTrait, Statement};
        let kind = app.db.db.get_database_backend();
        let rows = app
            .db
            .db
            .query_all_raw(Statement::from_string(
                kind,
                "SELECT token_hash FROM calendar_feed",
            ))
            .await
            .unwrap();
        let hashes: Vec<String> = rows
            .iter()
            .map(|r| r.try_get::<String>("", "token_hash").unwrap())
            .collect();
        assert_eq!(
            hashes,
            [hex::encode(Sha256::digest(token.as_bytes()))],
            "one feed, stored as the hash of its token"
        );
    }

    // Fetched without any Authorization header.
    let response = fetch(&app, &url).await;
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/calendar")
    );
    assert_eq!(headers["cache-control"], "private, no-store");
    assert_eq!(headers["referrer-policy"], "no-referrer");
    let ics = response.text().await.unwrap();
    assert_rfc5545(&ics);

    // Exactly the meetings of the member's list: the council's and committees', her fraction's
    // (the cancelled one marked so), none of another fraction's.
    let expected = member_list(&app, &anna.access).await;
    assert_eq!(summaries(&ics), expected);
    assert!(expected.contains(gz_meeting.name.as_str()));
    assert!(expected.contains(gz_cancelled.name.as_str()));
    assert!(!ics.contains("Bürgerunion: Strategie"));
    assert!(!ics.contains(&bu_meeting.id.to_string()));
    let lines = unfold(&ics);
    assert!(lines.contains(&format!("UID:{}@plenum", gz_meeting.id)));
    assert!(lines.contains(&format!(
        "URL:http://{}/#/meetings/{}",
        app.addr, gz_meeting.id
    )));
    let cancelled_event: Vec<&String> = lines
        .iter()
        .skip_while(|l| **l != format!("UID:{}@plenum", gz_cancelled.id))
        .take_while(|l| *l != "END:VEVENT")
        .collect();
    assert!(cancelled_event.iter().any(|l| *l == "STATUS:CANCELLED"));
    assert!(lines.contains(&"STATUS:TENTATIVE".to_owned()));
    assert!(lines.contains(&"STATUS:CONFIRMED".to_owned()));
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("LOCATION:Rathaus Musterstadt"))
    );
    // Name, time, location, state and link only: no agenda, no descriptions.
    assert!(!lines.iter().any(|l| l.starts_with("DESCRIPTION")));
    assert_no_secret(&secrets(&app).await, "the personal feed", &ics);
    for meeting in repo::meetings::list_by_body(&app.db.db, demo_body_id(), false)
        .await
        .unwrap()
    {
        for item in repo::agenda_items::list_by_meeting(&app.db.db, meeting.id, false)
            .await
            .unwrap()
        {
            assert!(!ics.contains(item.title.as_str()), "agenda item {item:?}");
        }
    }

    // The fetch is recorded, at most once a minute.
    let state: Value = app
        .get_with("/api/v1/me/calendar", &anna.access)
        .await
        .json()
        .await
        .unwrap();
    let last_used = state["last_used"].as_str().unwrap().to_owned();
    assert_eq!(fetch(&app, &url).await.status(), 200);
    let state: Value = app
        .get_with("/api/v1/me/calendar", &anna.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(state["last_used"], last_used.as_str());

    // Another member's token gives that member's view only.
    let thomas = app.login("thomas.schneider", 0).await;
    let (thomas_url, _) = create_feed(&app, &thomas.access).await;
    let thomas_ics = fetch(&app, &thomas_url).await.text().await.unwrap();
    assert_rfc5545(&thomas_ics);
    assert_eq!(
        summaries(&thomas_ics),
        member_list(&app, &thomas.access).await
    );
    assert!(thomas_ics.contains(&bu_meeting.id.to_string()));
    assert!(!thomas_ics.contains(&gz_meeting.id.to_string()));
    // … and Anna's feed is unchanged by it.
    assert_eq!(
        summaries(&fetch(&app, &url).await.text().await.unwrap()),
        expected
    );

    app.stop().await;
}

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test]
async fn revoked_replaced_and_unknown_feeds_are_not_found(#[case] backend: Backend) {
    let Some(app) = spawn_app(backend, true).await else {
        return;
    };
    let anna = app.login("anna.hartmann", 0).await;
    let unknown = fetch(
        &app,
        &app.url("/api/v1/calendar/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.ics"),
    )
    .await;
    assert_eq!(unknown.status(), 404);
    assert_eq!(unknown.headers()["cache-control"], "private, no-store");
    assert_eq!(unknown.headers()["referrer-policy"], "no-referrer");
    let unknown_body = unknown.text().await.unwrap();

    // Re-creating revokes the old URL.
    let (first, first_token) = create_feed(&app, &anna.access).await;
    assert_eq!(fetch(&app, &first).await.status(), 200);
    // Without the `.ics` suffix the token is not a feed.
    let bare = fetch(&app, &app.url(&format!("/api/v1/calendar/{first_token}"))).await;
    assert_eq!(bare.status(), 404);
    let (second, _) = create_feed(&app, &anna.access).await;
    assert_ne!(first, second);
    let old = fetch(&app, &first).await;
    assert_eq!(old.status(), 404);
    assert_eq!(old.text().await.unwrap(), unknown_body);
    assert_eq!(fetch(&app, &second).await.status(), 200);

    // Revoking: 404, with the same body as an unknown token; revoking again is fine.
    for _ in 0..2 {
        let response = app
            .client
            .delete(app.url("/api/v1/me/calendar"))
            .bearer_auth(&anna.access)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 204);
    }
    let revoked = fetch(&app, &second).await;
    assert_eq!(revoked.status(), 404);
    assert_eq!(revoked.text().await.unwrap(), unknown_body);
    let state: Value = app
        .get_with("/api/v1/me/calendar", &anna.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(state["active"], false);

    // An admin signing a user out everywhere revokes the feed too.
    let (third, _) = create_feed(&app, &anna.access).await;
    let admin = app.login("admin", 0).await;
    let response = app
        .client
        .post(app.url(&format!(
            "/api/v1/admin/users/{}/revoke-sessions",
            anna.body["user"]["id"].as_str().unwrap()
        )))
        .bearer_auth(&admin.access)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(fetch(&app, &third).await.status(), 404);

    // A deleted account's feed is gone with it.
    let thomas = app.login("thomas.schneider", 0).await;
    let (url, _) = create_feed(&app, &thomas.access).await;
    assert_eq!(fetch(&app, &url).await.status(), 200);
    let user = UserId::from_uuid(thomas.body["user"]["id"].as_str().unwrap().parse().unwrap());
    repo::users::delete(&app.db.db, user).await.unwrap();
    let gone = fetch(&app, &url).await;
    assert_eq!(gone.status(), 404);
    assert_eq!(gone.text().await.unwrap(), unknown_body);

    app.stop().await;
}
