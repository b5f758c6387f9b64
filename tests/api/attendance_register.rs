//! The attendance register and the attendance allowance (issue 15, item 6), black-box: a council
//! meeting run live and closed, a fraction meeting recorded by the fraction's chair, the
//! amounts set by the admin; the register as JSON and as CSV for the payroll office.

use plenum_server::demo::demo_id;
use plenum_store::Backend;
use rstest::rstest;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{TestApp, spawn_app};

async fn live(app: &TestApp, token: &str, meeting: Uuid, command: Value) {
    let response = app
        .client
        .post(app.url(&format!("/api/v1/meetings/{meeting}/live/commands")))
        .bearer_auth(token)
        .json(&json!({"command_id": Uuid::new_v4(), "command": command}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{command}");
}

async fn send(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    token: &str,
    body: Value,
) -> reqwest::Response {
    app.client
        .request(method, app.url(path))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// The OParl organization whose name contains `name`: (id, member person ids).
async fn organization(app: &TestApp, name: &str) -> (String, Vec<String>) {
    let list = app
        .get(&format!(
            "/oparl/v1/body/{}/organization?limit=500",
            plenum_server::demo::demo_body_id()
        ))
        .await
        .json::<Value>()
        .await
        .unwrap();
    let org = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"].as_str().unwrap().contains(name))
        .unwrap_or_else(|| panic!("{name}"))
        .clone();
    let mut persons = Vec::new();
    for m in org["membership"].as_array().unwrap() {
        let m: Value = app
            .client
            .get(m.as_str().unwrap())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        persons.push(
            m["person"]
                .as_str()
                .unwrap()
                .rsplit('/')
                .next()
                .unwrap()
                .to_owned(),
        );
    }
    let id = org["id"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    (id, persons)
}

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test]
async fn the_register_counts_council_and_fraction_meetings_and_pays_the_allowance(
    #[case] backend: Backend,
) {
    let Some(app) = spawn_app(backend, true).await else {
        return;
    };
    let admin = app.login("admin", 0).await;
    let clerk = app.login("martina.sommer", 0).await;
    let mayor = app.login("katharina.brandt", 0).await;
    let anna = app.login("anna.hartmann", 0).await;
    let schneider = app.login("thomas.schneider", 0).await;

    // The amounts: admins only, validated, audited.
    let path = "/api/v1/attendance-allowances";
    let amounts = json!({"council": 4000, "committee": 3000, "fraction": 2000});
    let response = send(
        &app,
        reqwest::Method::PUT,
        path,
        &clerk.access,
        amounts.clone(),
    )
    .await;
    assert_eq!(response.status(), 403);
    let response = send(
        &app,
        reqwest::Method::PUT,
        path,
        &admin.access,
        json!({"council": -1, "committee": 3000, "fraction": 2000}),
    )
    .await;
    assert_eq!(response.status(), 422);
    let response = send(
        &app,
        reqwest::Method::PUT,
        path,
        &admin.access,
        json!({"council": 4000}),
    )
    .await;
    assert!(response.status().is_client_error());
    let response = send(
        &app,
        reqwest::Method::PUT,
        path,
        &admin.access,
        amounts.clone(),
    )
    .await;
    assert_eq!(response.status(), 200);
    let read: Value = app
        .get_with(path, &clerk.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(read, amounts);

    // The council meeting rat-3 runs: the mayor and Anna Hartmann check in; it closes.
    let meeting: Uuid = demo_id("meeting:rat-3");
    let detail: Value = app
        .get_with(&format!("/api/v1/meetings/{meeting}"), &mayor.access)
        .await
        .json()
        .await
        .unwrap();
    let day = detail["start"].as_str().unwrap()[..10].to_owned();
    live(
        &app,
        &mayor.access,
        meeting,
        json!({"type": "start_meeting", "confirm_other_day": true}),
    )
    .await;
    live(
        &app,
        &mayor.access,
        meeting,
        json!({"type": "check_in", "remote": false}),
    )
    .await;
    live(
        &app,
        &anna.access,
        meeting,
        json!({"type": "check_in", "remote": true}),
    )
    .await;
    live(
        &app,
        &mayor.access,
        meeting,
        json!({"type": "close_meeting"}),
    )
    .await;

    // Fraction BU meets; its chair records it.
    let (bu, members) = organization(&app, "Bürgerunion").await;
    let (_, council) = organization(&app, "Rat der Stadt").await;
    let outsider = council
        .iter()
        .find(|p| !members.contains(p))
        .unwrap()
        .clone();
    let fraction = |attendees: Vec<String>| json!({"organization_id": bu, "date": day, "title": "Fraktionssitzung", "attendee_ids": attendees});
    let two = members[..2].to_vec();
    let response = send(
        &app,
        reqwest::Method::POST,
        "/api/v1/fraction-meetings",
        &anna.access,
        fraction(two.clone()),
    )
    .await;
    assert_eq!(response.status(), 403, "not the fraction's chair");
    let response = send(
        &app,
        reqwest::Method::POST,
        "/api/v1/fraction-meetings",
        &clerk.access,
        fraction(two.clone()),
    )
    .await;
    assert_eq!(
        response.status(),
        403,
        "the administration keeps out of fractions"
    );
    for bad in [
        fraction(vec![outsider.clone()]),
        fraction(vec![two[0].clone(), two[0].clone()]),
        json!({"organization_id": bu, "date": day, "title": " ", "attendee_ids": two}),
    ] {
        let response = send(
            &app,
            reqwest::Method::POST,
            "/api/v1/fraction-meetings",
            &schneider.access,
            bad.clone(),
        )
        .await;
        assert_eq!(response.status(), 422, "{bad}");
    }
    let response = send(
        &app,
        reqwest::Method::POST,
        "/api/v1/fraction-meetings",
        &schneider.access,
        fraction(two.clone()),
    )
    .await;
    assert_eq!(response.status(), 201);

    // The register for that day.
    let query = format!("/api/v1/attendance-register?from={day}&to={day}");
    assert_eq!(app.get_with(&query, &anna.access).await.status(), 404);
    let response = app.get_with(&query, &clerk.access).await;
    assert_eq!(response.status(), 200);
    let register: Value = response.json().await.unwrap();
    let line = |family: &str| {
        register["lines"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["family_name"] == family)
            .cloned()
    };
    let brandt = line("Brandt").expect("the mayor attended");
    assert_eq!(brandt["council"], 1);
    assert_eq!(brandt["meetings"][0]["kind"], "council");
    let hartmann = line("Hartmann").expect("remote counts");
    assert_eq!(hartmann["council"], 1);
    assert_eq!(hartmann["total_cents"], 4000);
    let fraction_lines: Vec<&Value> = register["lines"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["fraction"] == 1)
        .collect();
    assert_eq!(fraction_lines.len(), 2, "{register:#}");
    for l in &fraction_lines {
        assert!(two.contains(&l["person_id"].as_str().unwrap().to_owned()));
        assert_eq!(
            l["total_cents"].as_i64().unwrap(),
            2000 + 4000 * l["council"].as_i64().unwrap()
        );
    }
    let total: i64 = register["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["total_cents"].as_i64().unwrap())
        .sum();
    assert_eq!(register["total_cents"], total);
    // Only those who attended: the register does not list everyone.
    assert!(register["lines"].as_array().unwrap().len() <= 4);
    // The day before: nothing.
    let before = chrono::NaiveDate::parse_from_str(&day, "%Y-%m-%d")
        .unwrap()
        .pred_opt()
        .unwrap();
    let empty: Value = app
        .get_with(
            &format!("/api/v1/attendance-register?from={before}&to={before}"),
            &clerk.access,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(empty["lines"], json!([]));

    // The CSV for the payroll office.
    let response = app
        .get_with(&format!("{query}&format=csv"), &clerk.access)
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/csv; charset=utf-8"
    );
    assert!(
        response.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains(".csv")
    );
    let bytes = response.bytes().await.unwrap();
    assert_eq!(&bytes[..3], b"\xEF\xBB\xBF", "UTF-8 with BOM");
    let text = std::str::from_utf8(&bytes[3..]).unwrap();
    let rows: Vec<&str> = text.split("\r\n").filter(|r| !r.is_empty()).collect();
    assert!(rows[0].starts_with("Nachname;Vorname;"), "{text}");
    let hartmann_row = rows
        .iter()
        .find(|r| r.starts_with("Hartmann;Anna;"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(hartmann_row.ends_with(";1;0;0;40,00"), "{hartmann_row}");

    // Bad periods and formats.
    for bad in [
        format!("/api/v1/attendance-register?from={day}&to={before}"),
        "/api/v1/attendance-register?from=2025-01-01&to=2026-12-31".to_owned(),
        format!("{query}&format=xlsx"),
    ] {
        let response = app.get_with(&bad, &clerk.access).await;
        assert_eq!(response.status(), 422, "{bad}");
    }
    let response = app
        .get_with(
            "/api/v1/attendance-register?from=gestern&to=heute",
            &clerk.access,
        )
        .await;
    assert_eq!(response.status(), 400);

    let entries = plenum_store::audit::list(&app.db.db).await.unwrap();
    let actions: Vec<&str> = entries.iter().map(|e| e.event.action.as_str()).collect();
    assert!(actions.contains(&"attendance.allowances_set"));
    assert!(actions.contains(&"fraction_meeting.recorded"));
    app.stop().await;
}
