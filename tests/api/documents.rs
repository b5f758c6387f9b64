//! The documents API: meetings, agendas and papers for members, clerks and the public portal.

use plenum_domain::*;
use plenum_server::demo::demo_body_id;
use plenum_store::Backend;
use plenum_store::repo;
use rstest::rstest;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_no_secret, meeting_named, secrets, spawn_app};

async fn meetings(app: &TestApp) -> Vec<Meeting> {
    repo::meetings::list_by_body(&app.db.db, demo_body_id(), false)
        .await
        .unwrap()
}

async fn json_of(response: reqwest::Response) -> Value {
    response.json().await.unwrap()
}

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test]
async fn members_see_their_meetings_with_non_public_items(#[case] backend: Backend) {
    let Some(app) = spawn_app(backend, true).await else {
        return;
    };
    let anna = app.login("anna.hartmann", 0).await;

    // Upcoming: soonest first; past: newest first; all: both.
    let upcoming = json_of(app.get_with("/api/v1/meetings", &anna.access).await).await;
    let names: Vec<&str> = upcoming["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "1. Sitzung des Ausschusses für Bau und Umwelt",
            "3. Sitzung des Rates der Stadt Musterstadt"
        ]
    );
    let first = &upcoming["data"][0];
    assert_eq!(first["state"], "invited");
    assert_eq!(first["live"], false);
    assert!(
        first["organization"]["name"]
            .as_str()
            .unwrap()
            .contains("Bau")
    );
    assert!(first["location"]["description"].is_string());
    assert_eq!(upcoming["data"][1]["state"], "scheduled");
    let past = json_of(
        app.get_with("/api/v1/meetings?when=past", &anna.access)
            .await,
    )
    .await;
    let past: Vec<&str> = past["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        past,
        [
            "2. Sitzung des Rates der Stadt Musterstadt",
            "1. Sitzung des Ausschusses für Finanzen, Personal und Digitalisierung"
        ]
    );
    let all = json_of(
        app.get_with("/api/v1/meetings?when=all", &anna.access)
            .await,
    )
    .await;
    assert_eq!(all["data"].as_array().unwrap().len(), 4);
    let bad = app
        .get_with("/api/v1/meetings?when=soon", &anna.access)
        .await;
    assert_eq!(bad.status(), 400);
    assert_eq!(app.get("/api/v1/meetings").await.status(), 401);

    // The past council meeting: the non-public item is there for a council member, with its
    // decision rendered, and the meeting carries an ETag.
    let rat2 = meeting_named(&app, "2. Sitzung des Rates").await;
    let response = app
        .get_with(&format!("/api/v1/meetings/{}", rat2.id), &anna.access)
        .await;
    assert_eq!(response.status(), 200);
    let etag = response.headers()["etag"].to_str().unwrap().to_owned();
    let detail = json_of(response).await;
    assert_eq!(detail["state"], "completed");
    assert!(detail["invited_at"].is_string());
    // Only who may chair the live session is offered the chair console.
    assert_eq!(detail["may_chair"], false);
    let mayor = app.login("katharina.brandt", 0).await;
    let as_chair = json_of(
        app.get_with(&format!("/api/v1/meetings/{}", rat2.id), &mayor.access)
            .await,
    )
    .await;
    assert_eq!(as_chair["may_chair"], true);
    let agenda = detail["agenda"].as_array().unwrap();
    let numbers: Vec<&str> = agenda
        .iter()
        .map(|i| i["number"].as_str().unwrap())
        .collect();
    assert_eq!(numbers, ["Ö 1", "Ö 2", "Ö 3", "Ö 4", "N 1"]);
    let secret_item = &agenda[4];
    assert_eq!(secret_item["public"], false);
    assert!(
        secret_item["title"]
            .as_str()
            .unwrap()
            .starts_with("Verkauf des Grundstücks")
    );
    assert!(
        secret_item["decision_html"]
            .as_str()
            .unwrap()
            .contains("<p>Der Rat beschließt den Verkauf.</p>")
    );
    assert!(secret_item["paper"]["reference"].is_string());
    let klima = &agenda[2];
    assert_eq!(klima["paper"]["paper_type"], "motion");
    for file in klima["files"].as_array().unwrap() {
        let url = file["url"].as_str().unwrap();
        assert_eq!(
            url,
            format!("/api/v1/files/{}/content", file["id"].as_str().unwrap())
        );
    }

    // Same ETag again; If-None-Match gives 304.
    let again = app
        .client
        .get(app.url(&format!("/api/v1/meetings/{}", rat2.id)))
        .bearer_auth(&anna.access)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    assert_eq!(again.headers()["etag"].to_str().unwrap(), etag);

    // The item and its paper on their own.
    let item_id = secret_item["id"].as_str().unwrap();
    let item = json_of(
        app.get_with(&format!("/api/v1/agenda-items/{item_id}"), &anna.access)
            .await,
    )
    .await;
    assert_eq!(item["number"], "N 1");
    assert_eq!(item["meeting"]["id"], rat2.id.to_string());
    let paper_id = secret_item["paper"]["id"].as_str().unwrap();
    let response = app
        .get_with(&format!("/api/v1/papers/{paper_id}"), &anna.access)
        .await;
    assert_eq!(response.status(), 200);
    assert!(response.headers().contains_key("etag"));
    let paper = json_of(response).await;
    assert_eq!(paper["public"], false);
    assert!(paper["text_html"].as_str().unwrap().contains("<p>"));
    let consultations = paper["consultations"].as_array().unwrap();
    assert!(!consultations.is_empty());
    assert!(
        consultations
            .iter()
            .any(|c| c["agenda_item"]["id"] == item_id && c["meeting"]["id"] == rat2.id.to_string())
    );
    for c in consultations {
        assert!(["advise", "decide"].contains(&c["role"].as_str().unwrap()));
    }
    app.stop().await;
}

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test]
async fn outsiders_get_404_for_what_they_may_not_see(#[case] backend: Backend) {
    let Some(app) = spawn_app(backend, true).await else {
        return;
    };
    let secrets = secrets(&app).await;
    // Özlem Yıldız is an advisory member of the school committee only: no council membership.
    let oezlem = app.login("oezlem.yildiz", 0).await;
    let mine = json_of(
        app.get_with("/api/v1/meetings?when=all", &oezlem.access)
            .await,
    )
    .await;
    assert_eq!(mine["data"], json!([]), "she belongs to no meeting's body");
    for item in &secrets.items {
        let response = app
            .get_with(&format!("/api/v1/agenda-items/{item}"), &oezlem.access)
            .await;
        assert_eq!(response.status(), 404, "non-public item {item}");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
    }
    for paper in &secrets.papers {
        let response = app
            .get_with(&format!("/api/v1/papers/{paper}"), &oezlem.access)
            .await;
        assert_eq!(response.status(), 404, "non-public paper {paper}");
    }
    // She still sees every meeting's public agenda, and nothing else of it.
    for meeting in meetings(&app).await {
        let response = app
            .get_with(&format!("/api/v1/meetings/{}", meeting.id), &oezlem.access)
            .await;
        assert_eq!(response.status(), 200);
        let text = response.text().await.unwrap();
        assert_no_secret(&secrets, "an outsider's meeting view", &text);
    }
    // Unknown and malformed ids.
    let unknown = uuid::Uuid::now_v7();
    for path in [
        format!("/api/v1/meetings/{unknown}"),
        format!("/api/v1/agenda-items/{unknown}"),
        format!("/api/v1/papers/{unknown}"),
        format!("/api/v1/public/meetings/{unknown}"),
        format!("/api/v1/public/papers/{unknown}"),
    ] {
        assert_eq!(
            app.get_with(&path, &oezlem.access).await.status(),
            404,
            "{path}"
        );
    }
    for path in ["/api/v1/meetings/nope", "/api/v1/public/papers/42"] {
        assert_eq!(
            app.get_with(path, &oezlem.access).await.status(),
            400,
            "{path}"
        );
    }
    // Clerks see everything.
    let clerk = app.login("martina.sommer", 0).await;
    for item in &secrets.items {
        let response = app
            .get_with(&format!("/api/v1/agenda-items/{item}"), &clerk.access)
            .await;
        assert_eq!(response.status(), 200, "clerk, item {item}");
    }
    let all = json_of(
        app.get_with("/api/v1/meetings?when=all", &clerk.access)
            .await,
    )
    .await;
    assert_eq!(all["data"].as_array().unwrap().len(), 4);
    app.stop().await;
}

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test]
async fn the_public_portal_shows_public_things_only(#[case] backend: Backend) {
    let Some(app) = spawn_app(backend, true).await else {
        return;
    };
    let secrets = secrets(&app).await;
    let list = json_of(app.get("/api/v1/public/meetings").await).await;
    assert_eq!(list["data"].as_array().unwrap().len(), 4);
    let rat2 = meeting_named(&app, "2. Sitzung des Rates").await;
    let day = rat2.start.date_naive();
    let only = json_of(
        app.get(&format!("/api/v1/public/meetings?from={day}&to={day}"))
            .await,
    )
    .await;
    assert_eq!(only["data"].as_array().unwrap().len(), 1);
    assert_eq!(only["data"][0]["id"], rat2.id.to_string());
    for bad in ["from=2026-13-01", "to=gestern", "from=1.1.2026"] {
        let response = app.get(&format!("/api/v1/public/meetings?{bad}")).await;
        assert_eq!(response.status(), 400, "{bad}");
    }

    let detail = json_of(
        app.get(&format!("/api/v1/public/meetings/{}", rat2.id))
            .await,
    )
    .await;
    let numbers: Vec<&str> = detail["agenda"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["number"].as_str().unwrap())
        .collect();
    assert_eq!(numbers, ["Ö 1", "Ö 2", "Ö 3", "Ö 4"]);
    let klima = &detail["agenda"][2];
    assert!(
        klima["decision_html"]
            .as_str()
            .unwrap()
            .contains("Klimabeirat")
    );
    for file in klima["files"].as_array().unwrap() {
        assert!(
            file["url"]
                .as_str()
                .unwrap()
                .starts_with("/api/v1/public/files/")
        );
    }

    // Papers: public ones only, paginated; non-public ones 404.
    let papers = json_of(app.get("/api/v1/public/papers").await).await;
    let entries = papers["data"].as_array().unwrap();
    assert!(!entries.is_empty());
    assert_eq!(papers["next"], Value::Null);
    for entry in entries {
        assert!(entry["date"].is_string() && entry["reference"].is_string());
        let id = entry["id"].as_str().unwrap();
        let response = app.get(&format!("/api/v1/public/papers/{id}")).await;
        assert_eq!(response.status(), 200);
        let paper = json_of(response).await;
        assert_eq!(paper["public"], true);
    }
    for paper in &secrets.papers {
        let response = app.get(&format!("/api/v1/public/papers/{paper}")).await;
        assert_eq!(response.status(), 404);
    }
    assert_eq!(app.get("/api/v1/public/papers?page=0").await.status(), 400);
    assert_eq!(app.get("/api/v1/public/papers?page=x").await.status(), 400);
    // Past what the database takes as an offset: a problem document, not a dropped connection.
    for huge in ["1000001", "9223372036854775807", "9223372036854775808"] {
        let response = app
            .client
            .get(app.url(&format!("/api/v1/public/papers?page={huge}")))
            .send()
            .await
            .expect("an answer, not a dropped connection");
        assert!(
            response.status().is_client_error(),
            "page={huge}: {}",
            response.status()
        );
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json",
            "page={huge}"
        );
    }
    assert_eq!(
        app.get("/api/v1/public/papers?page=1000000").await.status(),
        200
    );
    let beyond = json_of(app.get("/api/v1/public/papers?page=99").await).await;
    assert_eq!(beyond["data"], json!([]));
    app.stop().await;
}

/// As an anonymous client, walk everything public (portal API, OParl, the calendar feed) and
/// search every response for non-public titles, texts, file names and ids.
#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test]
async fn visibility_walk_finds_nothing_non_public(#[case] backend: Backend) {
    let Some(app) = spawn_app(backend, true).await else {
        return;
    };
    let secrets = secrets(&app).await;
    let mut served = 0;
    let mut check = |what: &str, text: &str| {
        assert_no_secret(&secrets, what, text);
        served += 1;
    };

    // The portal API.
    let meetings_page = app
        .get("/api/v1/public/meetings")
        .await
        .text()
        .await
        .unwrap();
    check("public meetings", &meetings_page);
    let meetings: Value = serde_json::from_str(&meetings_page).unwrap();
    for meeting in meetings["data"].as_array().unwrap() {
        let path = format!(
            "/api/v1/public/meetings/{}",
            meeting["id"].as_str().unwrap()
        );
        let response = app.get(&path).await;
        assert_eq!(response.status(), 200, "{path}");
        let text = response.text().await.unwrap();
        check(&path, &text);
        let detail: Value = serde_json::from_str(&text).unwrap();
        for item in detail["agenda"].as_array().unwrap() {
            assert_eq!(item["public"], true, "{path}");
            assert!(item["number"].as_str().unwrap().starts_with("Ö "), "{path}");
            if let Some(paper) = item["paper"]["id"].as_str() {
                let path = format!("/api/v1/public/papers/{paper}");
                let text = app.get(&path).await.text().await.unwrap();
                check(&path, &text);
            }
        }
    }
    let mut next = Some("/api/v1/public/papers".to_owned());
    while let Some(path) = next {
        let text = app.get(&path).await.text().await.unwrap();
        check(&path, &text);
        let page: Value = serde_json::from_str(&text).unwrap();
        for paper in page["data"].as_array().unwrap() {
            let path = format!("/api/v1/public/papers/{}", paper["id"].as_str().unwrap());
            let text = app.get(&path).await.text().await.unwrap();
            check(&path, &text);
        }
        next = page["next"].as_str().map(str::to_owned);
    }

    // The calendar feed.
    let ics = app.get("/api/v1/meetings.ics").await.text().await.unwrap();
    check("meetings.ics", &ics);

    // OParl: every list and every object reachable from the system object, following every URL
    // that points back into /oparl/v1.
    let base = app.url("/oparl/v1");
    let mut queue = vec![base.clone()];
    let mut seen = std::collections::HashSet::new();
    while let Some(url) = queue.pop() {
        if !seen.insert(url.clone()) || seen.len() > 5000 {
            continue;
        }
        let response = app.client.get(&url).send().await.unwrap();
        if response.status() != 200 {
            continue;
        }
        let is_json = response
            .headers()
            .get("content-type")
            .is_some_and(|t| t.to_str().unwrap_or("").contains("json"));
        let text = response.text().await.unwrap_or_default();
        check(&url, &text);
        if !is_json {
            continue;
        }
        let Ok(value) = serde_json::from_str::<Value>(&text) else {
            continue;
        };
        let mut strings = Vec::new();
        collect_strings(&value, &mut strings);
        for s in strings {
            if s.starts_with(&base) && !seen.contains(&s) {
                queue.push(s);
            }
        }
    }
    assert!(
        seen.len() > 50,
        "the OParl walk reached only {} URLs",
        seen.len()
    );
    assert!(served > 60);
    app.stop().await;
}

fn collect_strings(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|v| collect_strings(v, out)),
        Value::Object(map) => map.values().for_each(|v| collect_strings(v, out)),
        _ => {}
    }
}

#[tokio::test]
async fn openapi_documents_the_documents_api() {
    let app = spawn_app(Backend::Sqlite, false).await.unwrap();
    let doc: Value = app.get("/api/v1/openapi.json").await.json().await.unwrap();
    for (path, method) in [
        ("/api/v1/meetings", "get"),
        ("/api/v1/meetings/{id}", "get"),
        ("/api/v1/agenda-items/{id}", "get"),
        ("/api/v1/agenda-items/{id}", "patch"),
        ("/api/v1/meetings/{id}/agenda/order", "put"),
        ("/api/v1/papers/{id}", "get"),
        ("/api/v1/public/meetings", "get"),
        ("/api/v1/public/meetings/{id}", "get"),
        ("/api/v1/public/papers", "get"),
        ("/api/v1/public/papers/{id}", "get"),
    ] {
        assert!(
            doc["paths"][path][method].is_object(),
            "{method} {path} is documented"
        );
    }
    for schema in [
        "MeetingSummary",
        "MeetingDetail",
        "AgendaItemView",
        "PaperDetail",
    ] {
        assert!(doc["components"]["schemas"][schema].is_object(), "{schema}");
    }
    app.stop().await;
}

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test]
async fn clerks_edit_meetings_with_optimistic_concurrency(#[case] backend: Backend) {
    let Some(app) = spawn_app(backend, true).await else {
        return;
    };
    let clerk = app.login("martina.sommer", 0).await;
    let anna = app.login("anna.hartmann", 0).await;
    let rat3 = meeting_named(&app, "3. Sitzung des Rates").await;
    let send = |method: reqwest::Method, path: String, token: &str, etag: Option<&str>| {
        let mut request = app
            .client
            .request(method, app.url(&path))
            .bearer_auth(token);
        if let Some(etag) = etag {
            request = request.header("if-match", etag);
        }
        request
    };
    let path = format!("/api/v1/meetings/{}", rat3.id);
    let etag = app.get_with(&path, &clerk.access).await.headers()["etag"]
        .to_str()
        .unwrap()
        .to_owned();

    // Missing If-Match: 428; stale: 412; malformed JSON: 400; bad date: 400.
    let body = json!({"name": "3. Sitzung des Rates (verlegt)"});
    let r = send(reqwest::Method::PATCH, path.clone(), &clerk.access, None)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 428);
    let r = send(
        reqwest::Method::PATCH,
        path.clone(),
        &clerk.access,
        Some("\"stale\""),
    )
    .json(&body)
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 412);
    let r = send(
        reqwest::Method::PATCH,
        path.clone(),
        &clerk.access,
        Some(&etag),
    )
    .header("content-type", "application/json")
    .body("{not json")
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 400);
    let r = send(
        reqwest::Method::PATCH,
        path.clone(),
        &clerk.access,
        Some(&etag),
    )
    .json(&json!({"start": "morgen"}))
    .send()
    .await
    .unwrap();
    assert!(r.status() == 400 || r.status() == 422, "{}", r.status());
    // A member may not.
    let r = send(
        reqwest::Method::PATCH,
        path.clone(),
        &anna.access,
        Some(&etag),
    )
    .json(&body)
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 403);
    // The clerk may; the ETag changes.
    let r = send(
        reqwest::Method::PATCH,
        path.clone(),
        &clerk.access,
        Some(&etag),
    )
    .json(&body)
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    let etag2 = r.headers()["etag"].to_str().unwrap().to_owned();
    assert_ne!(etag, etag2);
    assert_eq!(json_of(r).await["name"], "3. Sitzung des Rates (verlegt)");
    // The old ETag is stale now.
    let r = send(
        reqwest::Method::PATCH,
        path.clone(),
        &clerk.access,
        Some(&etag),
    )
    .json(&body)
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 412);

    // A new non-public item is numbered after the existing one.
    let r = send(
        reqwest::Method::POST,
        format!("{path}/agenda"),
        &clerk.access,
        Some(&etag2),
    )
    .json(&json!({"title": "Personalangelegenheiten der Stadtwerke", "public": false}))
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 201);
    let item = json_of(r).await;
    assert_eq!(item["number"], "N 2");
    let item_path = format!("/api/v1/agenda-items/{}", item["id"].as_str().unwrap());
    let item_etag = app.get_with(&item_path, &clerk.access).await.headers()["etag"]
        .to_str()
        .unwrap()
        .to_owned();
    let r = send(
        reqwest::Method::DELETE,
        item_path.clone(),
        &clerk.access,
        Some(&item_etag),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(app.get_with(&item_path, &clerk.access).await.status(), 404);

    // Invite (scheduled -> invited), then invite again: 409. Cancel works from invited.
    let etag = app.get_with(&path, &clerk.access).await.headers()["etag"]
        .to_str()
        .unwrap()
        .to_owned();
    let r = send(
        reqwest::Method::POST,
        format!("{path}/invite"),
        &clerk.access,
        Some(&etag),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    let etag = r.headers()["etag"].to_str().unwrap().to_owned();
    let invited = json_of(r).await;
    assert_eq!(invited["state"], "invited");
    assert!(invited["invited_at"].is_string());
    let r = send(
        reqwest::Method::POST,
        format!("{path}/invite"),
        &clerk.access,
        Some(&etag),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 409);
    let r = send(
        reqwest::Method::DELETE,
        path.clone(),
        &clerk.access,
        Some(&etag),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(json_of(r).await["state"], "cancelled");

    // Creating: validation names the field.
    let r = app
        .client
        .post(app.url("/api/v1/meetings"))
        .bearer_auth(&clerk.access)
        .json(
            &json!({"organization_id": rat3.organization_id, "name": "Sondersitzung",
                      "start": "2027-01-10T17:00:00Z", "end": "2027-01-10T16:00:00Z"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let r = app
        .client
        .post(app.url("/api/v1/meetings"))
        .bearer_auth(&clerk.access)
        .json(
            &json!({"organization_id": uuid::Uuid::now_v7(), "name": "Sondersitzung",
                      "start": "2027-01-10T17:00:00Z"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(
        json_of(r).await["detail"]
            .as_str()
            .unwrap()
            .contains("organization_id")
    );
    let r = app
        .client
        .post(app.url("/api/v1/meetings"))
        .bearer_auth(&clerk.access)
        .json(
            &json!({"organization_id": rat3.organization_id, "name": "Sondersitzung",
                      "start": "2027-01-10T17:00:00Z"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    assert_eq!(json_of(r).await["state"], "scheduled");
    app.stop().await;
}

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test]
async fn clerks_edit_and_reorder_agenda_items(#[case] backend: Backend) {
    let Some(app) = spawn_app(backend, true).await else {
        return;
    };
    let clerk = app.login("martina.sommer", 0).await;
    let anna = app.login("anna.hartmann", 0).await;
    let rat3 = meeting_named(&app, "3. Sitzung des Rates").await;
    let path = format!("/api/v1/meetings/{}", rat3.id);
    let etag_of = |r: &reqwest::Response| r.headers()["etag"].to_str().unwrap().to_owned();
    let detail = app.get_with(&path, &clerk.access).await;
    let agenda = json_of(detail).await["agenda"].as_array().unwrap().clone();
    assert!(agenda.len() >= 2);
    let first = agenda.iter().find(|i| i["public"] == true).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let item_path = format!("/api/v1/agenda-items/{first}");
    let r = app.get_with(&item_path, &clerk.access).await;
    let item_etag = etag_of(&r);
    let patch = |token: &str, etag: Option<&str>, body: Value| {
        let mut request = app
            .client
            .patch(app.url(&item_path))
            .bearer_auth(token)
            .json(&body);
        if let Some(etag) = etag {
            request = request.header("if-match", etag);
        }
        request.send()
    };

    // Missing If-Match: 428; stale: 412; a member: 403; empty title: 422 naming the field.
    let body = json!({"title": "Neuer Titel", "public": false});
    assert_eq!(
        patch(&clerk.access, None, body.clone())
            .await
            .unwrap()
            .status(),
        428
    );
    assert_eq!(
        patch(&clerk.access, Some("\"stale\""), body.clone())
            .await
            .unwrap()
            .status(),
        412
    );
    assert_eq!(
        patch(&anna.access, Some(&item_etag), body.clone())
            .await
            .unwrap()
            .status(),
        403
    );
    let r = patch(&clerk.access, Some(&item_etag), json!({"title": "  "}))
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(
        json_of(r).await["detail"]
            .as_str()
            .unwrap()
            .contains("title")
    );
    let r = patch(
        &clerk.access,
        Some(&item_etag),
        json!({"paper_id": uuid::Uuid::now_v7()}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 422);
    assert!(
        json_of(r).await["detail"]
            .as_str()
            .unwrap()
            .contains("paper_id")
    );

    // Making the first item non-public renumbers the agenda.
    let r = patch(&clerk.access, Some(&item_etag), body).await.unwrap();
    assert_eq!(r.status(), 200);
    assert_ne!(etag_of(&r), item_etag);
    let item = json_of(r).await;
    assert_eq!(item["title"], "Neuer Titel");
    assert_eq!(item["public"], false);
    assert!(item["number"].as_str().unwrap().starts_with("N "));
    let r = app.get_with(&path, &clerk.access).await;
    let meeting_etag = etag_of(&r);
    let agenda = json_of(r).await["agenda"].as_array().unwrap().clone();
    let numbers = |agenda: &[Value], public: bool| -> Vec<String> {
        agenda
            .iter()
            .filter(|i| i["public"] == public)
            .map(|i| i["number"].as_str().unwrap().to_owned())
            .collect()
    };
    let expected = |prefix: &str, n: usize| -> Vec<String> {
        (1..=n).map(|k| format!("{prefix} {k}")).collect()
    };
    let public = numbers(&agenda, true);
    assert_eq!(public, expected("Ö", public.len()));
    let closed = numbers(&agenda, false);
    assert_eq!(closed, expected("N", closed.len()));

    // Reordering: the full list, reversed.
    let mut ids: Vec<String> = agenda
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect();
    ids.reverse();
    let order = format!("{path}/agenda/order");
    let put = |etag: Option<&str>, body: Value| {
        let mut request = app
            .client
            .put(app.url(&order))
            .bearer_auth(&clerk.access)
            .json(&body);
        if let Some(etag) = etag {
            request = request.header("if-match", etag);
        }
        request.send()
    };
    assert_eq!(put(None, json!({"ids": ids})).await.unwrap().status(), 428);
    let r = put(Some(&meeting_etag), json!({"ids": ids[1..]}))
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(json_of(r).await["detail"].as_str().unwrap().contains("ids"));
    let mut twice = ids.clone();
    twice[0] = twice[1].clone();
    let r = put(Some(&meeting_etag), json!({"ids": twice}))
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let r = put(Some(&meeting_etag), json!({"ids": ids})).await.unwrap();
    assert_eq!(r.status(), 200);
    let agenda = json_of(r).await["agenda"].as_array().unwrap().clone();
    let now: Vec<&str> = agenda.iter().map(|i| i["id"].as_str().unwrap()).collect();
    assert_eq!(now, ids);
    // The public items are numbered Ö 1… in their new order.
    let public = numbers(&agenda, true);
    assert_eq!(public, expected("Ö", public.len()));
    // The old meeting ETag is stale now.
    assert_eq!(
        put(Some(&meeting_etag), json!({"ids": ids}))
            .await
            .unwrap()
            .status(),
        412
    );
    app.stop().await;
}
