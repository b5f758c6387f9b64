//! Invitations, supplements, notifications and e-mail, against a REAL SMTP server: aiosmtpd
//! (a pinned version, installed by `scripts/ensure-aiosmtpd`) started on a free port as a
//! child process that writes every message it receives, parsed, as a JSON line
//! (`tests/smtp/sink.py`).

use std::collections::{BTreeSet, HashSet};
use std::path::PathBuf;
use std::time::Duration;

use plenum_domain::{Meeting, MeetingState};
use plenum_store::{Backend, repo};
use rstest::rstest;
use serde_json::{Value, json};
use tokio::io::AsyncBufReadExt;

use crate::helpers::{
    TestApp, assert_no_secret, create_meeting, meeting_named, secrets, spawn_app_with,
};

const PUBLIC_URL: &str = "https://ris.musterstadt.example";

/// The SMTP server: aiosmtpd on 127.0.0.1:`port`, appending to `file`.
struct Smtp {
    port: u16,
    file: PathBuf,
    child: Option<tokio::process::Child>,
    _dir: tempfile::TempDir,
}

fn python() -> String {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = std::process::Command::new(root.join("scripts/ensure-aiosmtpd"))
        .output()
        .expect("scripts/ensure-aiosmtpd runs");
    assert!(
        out.status.success(),
        "scripts/ensure-aiosmtpd failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

impl Smtp {
    async fn start() -> Smtp {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = tempfile::tempdir().unwrap();
        let mut smtp = Smtp {
            port,
            file: dir.path().join("received.jsonl"),
            child: None,
            _dir: dir,
        };
        smtp.resume().await;
        smtp
    }

    /// Starts the server (again) on the same port and file.
    async fn resume(&mut self) {
        let sink = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("smtp/sink.py");
        let mut child = tokio::process::Command::new(python())
            .arg(sink)
            .arg(self.port.to_string())
            .arg(&self.file)
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut lines = tokio::io::BufReader::new(stdout).lines();
        let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .expect("the SMTP server starts")
            .unwrap();
        assert_eq!(line.as_deref(), Some("ready"));
        self.child = Some(child);
    }

    /// Stops the server (the port refuses connections until `resume`).
    async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().await.unwrap();
        }
    }

    /// The messages received so far: complete lines only (the server may be writing the next).
    fn messages(&self) -> Vec<Value> {
        let text = std::fs::read_to_string(&self.file).unwrap_or_default();
        let complete = text.rfind('\n').map_or("", |end| &text[..end]);
        complete
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// Waits until at least `n` messages arrived.
    async fn wait_for(&self, n: usize) -> Vec<Value> {
        // Up to a minute: CI runs every test at once on two cores.
        for _ in 0..600 {
            let messages = self.messages();
            if messages.len() >= n {
                return messages;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("only {} of {n} messages arrived", self.messages().len());
    }
}

async fn spawn_with_smtp(backend: Backend, port: u16) -> Option<TestApp> {
    spawn_app_with(backend, true, |config| {
        config.smtp_host = Some("127.0.0.1".into());
        config.smtp_port = Some(port);
        config.smtp_tls = plenum_api::mail::SmtpTls::None;
        config.smtp_from = Some("Ratsinformation Musterstadt <ris@musterstadt.example>".into());
        config.smtp_retry_base_secs = 1;
        config.smtp_retry_max_secs = 2;
        config.public_url = Some(PUBLIC_URL.into());
    })
    .await
}

/// The e-mail addresses of the organization's current members.
async fn member_addresses(app: &TestApp, meeting: &Meeting) -> BTreeSet<String> {
    let today = chrono::Utc::now().date_naive();
    let mut addresses = BTreeSet::new();
    for m in repo::memberships::list_by_organization(&app.db.db, meeting.organization_id, false)
        .await
        .unwrap()
    {
        if !m.is_active_on(today) {
            continue;
        }
        let person = repo::persons::get(&app.db.db, m.person_id).await.unwrap();
        if let Some(email) = person.email {
            addresses.insert(email.as_str().to_owned());
        }
    }
    addresses
}

async fn etag_of(app: &TestApp, path: &str, token: &str) -> String {
    let r = app.get_with(path, token).await;
    assert_eq!(r.status(), 200, "{path}");
    r.headers()["etag"].to_str().unwrap().to_owned()
}

async fn post(
    app: &TestApp,
    path: &str,
    token: &str,
    if_match: Option<&str>,
    body: Option<Value>,
) -> reqwest::Response {
    let mut request = app.client.post(app.url(path)).bearer_auth(token);
    if let Some(tag) = if_match {
        request = request.header("if-match", tag);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.unwrap()
}

async fn deliveries(app: &TestApp, meeting: &Meeting, number: u32, token: &str) -> Value {
    let r = app
        .get_with(
            &format!(
                "/api/v1/meetings/{}/invitations/{number}/deliveries",
                meeting.id
            ),
            token,
        )
        .await;
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

fn recipients(messages: &[Value]) -> Vec<String> {
    messages
        .iter()
        .flat_map(|m| m["to"].as_array().unwrap().clone())
        .map(|t| t.as_str().unwrap().to_owned())
        .collect()
}

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test]
async fn an_invitation_reaches_every_member_by_email_without_non_public_content(
    #[case] backend: Backend,
) {
    let smtp = Smtp::start().await;
    let Some(app) = spawn_with_smtp(backend, smtp.port).await else {
        return;
    };
    let secrets = secrets(&app).await;
    let clerk = app.login("martina.sommer", 0).await;
    let anna = app.login("anna.hartmann", 0).await;
    let meeting = meeting_named(&app, "3. Sitzung des Rates").await;
    let path = format!("/api/v1/meetings/{}", meeting.id);
    let mut expected = member_addresses(&app, &meeting).await;
    assert!(expected.len() >= 5, "{expected:?}");
    assert!(expected.contains("anna.hartmann@musterstadt.example"));

    // Anna switches invitation e-mails off (she still gets the notification in the app).
    let r = app
        .client
        .put(app.url("/api/v1/me/notification-settings"))
        .bearer_auth(&anna.access)
        .json(&json!({"email": {"invitation": false}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let settings: Value = r.json().await.unwrap();
    assert_eq!(settings["email"]["invitation"], false);
    assert_eq!(settings["email"]["supplement"], true);
    assert_eq!(
        settings["email_address"],
        "anna.hartmann@musterstadt.example"
    );
    expected.remove("anna.hartmann@musterstadt.example");
    let r = app
        .client
        .put(app.url("/api/v1/me/notification-settings"))
        .bearer_auth(&anna.access)
        .json(&json!({"email": {"newsletter": true}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422, "an unknown kind is refused");

    // The clerk invites: one e-mail per member, to the right addresses, nothing non-public.
    let tag = etag_of(&app, &path, &clerk.access).await;
    let r = post(
        &app,
        &format!("{path}/invite"),
        &clerk.access,
        Some(&tag),
        None,
    )
    .await;
    assert_eq!(r.status(), 200);
    let detail: Value = r.json().await.unwrap();
    assert_eq!(detail["state"], "invited");
    let messages = smtp.wait_for(expected.len()).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let messages_now = smtp.messages();
    assert_eq!(messages_now.len(), messages.len(), "no message twice");
    let got: BTreeSet<String> = recipients(&messages).into_iter().collect();
    assert_eq!(got, expected);
    assert_eq!(recipients(&messages).len(), expected.len());
    let items = repo::agenda_items::list_by_meeting(&app.db.db, meeting.id, false)
        .await
        .unwrap();
    let public_title = items.iter().find(|i| i.public).unwrap().title.to_string();
    assert!(
        items.iter().any(|i| !i.public),
        "the meeting has a non-public part"
    );
    let ids: HashSet<&str> = messages
        .iter()
        .map(|m| m["message_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), messages.len(), "one Message-ID per message");
    for message in &messages {
        let text = message.to_string();
        assert_no_secret(&secrets, "an invitation e-mail", &text);
        for item in items.iter().filter(|i| !i.public) {
            assert!(!text.contains(item.title.as_str()));
        }
        assert!(
            message["subject"]
                .as_str()
                .unwrap()
                .starts_with("Einladung: 3. Sitzung des Rates")
        );
        let body = message["body"].as_str().unwrap();
        assert!(body.contains(&public_title), "{body}");
        assert!(body.contains("Ratssaal"), "{body}");
        assert!(body.contains(&format!("{PUBLIC_URL}/#/meetings/{}", meeting.id)));
        assert!(
            message["message_id"]
                .as_str()
                .unwrap()
                .contains("@musterstadt.example>")
        );
        assert!(message["from"] == "ris@musterstadt.example");
    }

    // The clerk sees every member's delivery; members may not.
    let list = deliveries(&app, &meeting, 1, &clerk.access).await;
    assert_eq!(list["smtp_configured"], true);
    let rows = list["data"].as_array().unwrap();
    assert_eq!(rows.len(), expected.len());
    for _ in 0..50 {
        let list = deliveries(&app, &meeting, 1, &clerk.access).await;
        if list["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["state"] == "sent")
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let list = deliveries(&app, &meeting, 1, &clerk.access).await;
    for row in list["data"].as_array().unwrap() {
        assert_eq!(row["state"], "sent", "{row}");
        assert_eq!(row["attempts"], 1);
        assert!(row["name"].is_string());
    }
    let r = app
        .get_with(
            &format!("/api/v1/meetings/{}/invitations/1/deliveries", meeting.id),
            &anna.access,
        )
        .await;
    assert_eq!(r.status(), 403);

    // The frozen invitation: the entitled member sees the non-public part.
    let r = app
        .get_with(&format!("{path}/invitations"), &anna.access)
        .await;
    assert_eq!(r.status(), 200);
    let list: Value = r.json().await.unwrap();
    let first = &list["data"][0];
    assert_eq!(first["kind"], "invitation");
    assert_eq!(first["number"], 1);
    assert_eq!(first["late"], false);
    let announced = first["document"]["announced"]["items"].as_array().unwrap();
    assert_eq!(announced.len(), items.len());
    assert!(announced.iter().any(|i| i["public"] == false));

    // Anna has the notification (unread), then reads it.
    let r = app.get_with("/api/v1/notifications", &anna.access).await;
    let mine: Value = r.json().await.unwrap();
    assert_eq!(mine["unread"], 1);
    assert_eq!(mine["data"][0]["kind"], "invitation");
    assert_eq!(mine["data"][0]["meeting_id"], meeting.id.to_string());
    let id = mine["data"][0]["id"].as_str().unwrap().to_owned();
    let r = post(
        &app,
        &format!("/api/v1/notifications/{id}/read"),
        &anna.access,
        None,
        None,
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["unread"], 0);
    // Someone else's notification is not found.
    let r = post(
        &app,
        &format!("/api/v1/notifications/{id}/read"),
        &clerk.access,
        None,
        None,
    )
    .await;
    assert_eq!(r.status(), 404);

    // A supplement: only after a change; its own document and its own messages.
    let tag = etag_of(&app, &path, &clerk.access).await;
    let r = post(
        &app,
        &format!("{path}/supplements"),
        &clerk.access,
        Some(&tag),
        None,
    )
    .await;
    assert_eq!(r.status(), 409, "nothing changed");
    let r = post(
        &app,
        &format!("{path}/agenda"),
        &clerk.access,
        Some(&tag),
        Some(json!({"title": "Benennung eines Straßennamens im Neubaugebiet", "public": true})),
    )
    .await;
    assert_eq!(r.status(), 201);
    let r = post(
        &app,
        &format!("{path}/agenda"),
        &clerk.access,
        Some(&etag_of(&app, &path, &clerk.access).await),
        Some(json!({"title": "Vertrauliche Grundstücksangelegenheit Flur 7", "public": false})),
    )
    .await;
    assert_eq!(r.status(), 201);
    let tag = etag_of(&app, &path, &clerk.access).await;
    let r = post(
        &app,
        &format!("{path}/supplements"),
        &clerk.access,
        Some(&tag),
        None,
    )
    .await;
    assert_eq!(r.status(), 201);
    let supplement: Value = r.json().await.unwrap();
    assert_eq!(supplement["kind"], "supplement");
    assert_eq!(supplement["number"], 2);
    let added = supplement["document"]["changes"]["added"]
        .as_array()
        .unwrap();
    assert_eq!(added.len(), 2);
    // Anna did not switch supplement e-mails off: everyone gets this one.
    let all = member_addresses(&app, &meeting).await;
    let messages = smtp.wait_for(expected.len() + all.len()).await;
    let supplements: Vec<&Value> = messages
        .iter()
        .filter(|m| m["subject"].as_str().unwrap().starts_with("Nachtrag"))
        .collect();
    assert_eq!(supplements.len(), all.len());
    for message in &supplements {
        let text = message.to_string();
        assert!(text.contains("Benennung eines Straßennamens im Neubaugebiet"));
        assert!(!text.contains("Vertrauliche Grundstücksangelegenheit"));
        assert_no_secret(&secrets, "a supplement e-mail", &text);
    }
    let r = app
        .get_with(&format!("{path}/invitations"), &clerk.access)
        .await;
    let list: Value = r.json().await.unwrap();
    assert_eq!(list["data"].as_array().unwrap().len(), 2);
    // The first document is unchanged by the supplement.
    assert_eq!(
        list["data"][0]["document"]["announced"]["items"]
            .as_array()
            .unwrap()
            .len(),
        items.len()
    );

    // The public notice in the portal: time, place, the public agenda only.
    let r = app
        .get(&format!("/api/v1/public/meetings/{}", meeting.id))
        .await;
    assert_eq!(r.status(), 200);
    let public: Value = r.json().await.unwrap();
    assert!(public["notice"]["issued_at"].is_string(), "{public}");
    assert_eq!(public["notice"]["supplements"], 1);
    let text = public["notice"].to_string();
    assert!(text.contains("Benennung eines Straßennamens"));
    assert!(!text.contains("Vertrauliche Grundstücksangelegenheit"));
    assert_no_secret(&secrets, "the public notice", &text);

    // The audit log has the invitation and the supplement.
    let entries = plenum_store::audit::list(&app.db.db).await.unwrap();
    assert!(entries.iter().any(|e| e.event.action == "meeting.invited"));
    assert!(
        entries
            .iter()
            .any(|e| e.event.action == "meeting.supplement_issued")
    );
    assert!(
        entries
            .iter()
            .any(|e| e.event.action == "notification_settings.updated")
    );
    app.stop().await;
}

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test]
async fn a_late_invitation_needs_a_reason_and_cancelling_notifies(#[case] backend: Backend) {
    let smtp = Smtp::start().await;
    let Some(app) = spawn_with_smtp(backend, smtp.port).await else {
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
    let tag = etag_of(&app, &path, &clerk.access).await;

    // Three days ahead with a week's notice: refused without a reason, naming the deadline.
    let r = post(
        &app,
        &format!("{path}/invite"),
        &clerk.access,
        Some(&tag),
        None,
    )
    .await;
    assert_eq!(r.status(), 422);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let problem: Value = r.json().await.unwrap();
    assert_eq!(problem["type"], "/problems/invitation-late");
    let deadline: chrono::DateTime<chrono::Utc> =
        problem["deadline"].as_str().unwrap().parse().unwrap();
    let expected =
        plenum_domain::invitation_deadline(created["start"].as_str().unwrap().parse().unwrap(), 7);
    assert_eq!(deadline, expected);
    let detail = problem["detail"].as_str().unwrap();
    assert!(detail.contains("Ladungsfrist"), "{detail}");
    assert!(detail.contains(&deadline.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)));
    // A blank reason is no reason; a bad body is refused.
    let r = post(
        &app,
        &format!("{path}/invite"),
        &clerk.access,
        Some(&tag),
        Some(json!({"late_reason": "   "})),
    )
    .await;
    assert_eq!(r.status(), 422);
    let r = post(
        &app,
        &format!("{path}/invite"),
        &clerk.access,
        Some(&tag),
        Some(json!({"reason": "Eilt"})),
    )
    .await;
    assert_eq!(r.status(), 422, "an unknown field");
    let r = app
        .client
        .post(app.url(&format!("{path}/invite")))
        .bearer_auth(&clerk.access)
        .header("if-match", &tag)
        .header("content-type", "application/json")
        .body("{late_reason")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400, "malformed JSON");
    // Nothing was written by the refused attempts.
    let r = app
        .get_with(&format!("{path}/invitations"), &clerk.access)
        .await;
    assert_eq!(r.json::<Value>().await.unwrap()["data"], json!([]));
    let meeting_id =
        plenum_domain::MeetingId::from_uuid(created["id"].as_str().unwrap().parse().unwrap());
    assert_eq!(
        repo::meetings::get(&app.db.db, meeting_id)
            .await
            .unwrap()
            .state,
        MeetingState::Planned
    );

    let reason = "Eilbedürftige Entscheidung über Fördermittel (Frist des Landes am Freitag)";
    let r = post(
        &app,
        &format!("{path}/invite"),
        &clerk.access,
        Some(&tag),
        Some(json!({"late_reason": reason})),
    )
    .await;
    assert_eq!(r.status(), 200);
    let r = app
        .get_with(&format!("{path}/invitations"), &anna.access)
        .await;
    let list: Value = r.json().await.unwrap();
    assert_eq!(list["data"][0]["late"], true);
    assert_eq!(list["data"][0]["late_reason"], reason);
    let messages = smtp.wait_for(1).await;
    assert!(messages[0]["body"].as_str().unwrap().contains(reason));
    // The minutes' draft names the invitation's date and the reason.
    let r = app
        .get_with(&format!("{path}/minutes/draft?part=public"), &clerk.access)
        .await;
    assert_eq!(r.status(), 200);
    let draft: Value = r.json().await.unwrap();
    assert!(draft["invited_at"].is_string(), "{draft}");
    assert_eq!(draft["invitation_late_reason"], reason);
    // … and so does its PDF (the record: "Verkürzte Ladungsfrist" with the reason).
    let r = app
        .get_with(
            &format!("{path}/minutes/draft.pdf?part=public"),
            &clerk.access,
        )
        .await;
    assert_eq!(r.status(), 200);
    if let Some(text) = crate::minutes_pdf::pdf_text(&r.bytes().await.unwrap()) {
        assert!(text.contains("Verkürzte Ladungsfrist"), "{text}");
        assert!(text.contains("Frist des Landes am Freitag"), "{text}");
    }

    // Cancelling tells the members too.
    let tag = etag_of(&app, &path, &clerk.access).await;
    let r = app
        .client
        .delete(app.url(&path))
        .bearer_auth(&clerk.access)
        .header("if-match", tag)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let mine: Value = app
        .get_with("/api/v1/notifications", &anna.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine["unread"], 2);
    assert_eq!(mine["data"][0]["kind"], "cancellation");
    assert_eq!(mine["data"][1]["kind"], "invitation");
    let r = post(
        &app,
        "/api/v1/notifications/read-all",
        &anna.access,
        None,
        None,
    )
    .await;
    assert_eq!(r.json::<Value>().await.unwrap()["unread"], 0);
    let all = member_addresses(&app, &council).await.len();
    let messages = smtp.wait_for(2 * all).await;
    assert!(
        messages
            .iter()
            .any(|m| m["subject"].as_str().unwrap().starts_with("Abgesagt"))
    );
    app.stop().await;
}

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test]
async fn cancelling_a_meeting_never_invited_tells_nobody(#[case] backend: Backend) {
    let smtp = Smtp::start().await;
    let Some(app) = spawn_with_smtp(backend, smtp.port).await else {
        return;
    };
    let clerk = app.login("martina.sommer", 0).await;
    let anna = app.login("anna.hartmann", 0).await;
    let council = meeting_named(&app, "3. Sitzung des Rates").await;
    let start = chrono::Utc::now() + chrono::Duration::days(30);
    let (path, _) = create_meeting(
        &app,
        &clerk.access,
        council.organization_id.as_uuid(),
        "Entwurf einer Sondersitzung",
        start,
    )
    .await;
    let tag = etag_of(&app, &path, &clerk.access).await;
    let r = app
        .client
        .delete(app.url(&path))
        .bearer_auth(&clerk.access)
        .header("if-match", tag)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let mine: Value = app
        .get_with("/api/v1/notifications", &anna.access)
        .await
        .json()
        .await
        .unwrap();
    assert!(
        !mine.to_string().contains("Entwurf einer Sondersitzung"),
        "{mine}"
    );
    // E-mail is queued in the transaction that cancels: an empty outbox right after the answer
    // means none will ever be sent.
    use sea_orm::{ConnectionTrait, Statement};
    let queued = app
        .db
        .db
        .query_one_raw(Statement::from_string(
            app.db.db.get_database_backend(),
            "SELECT COUNT(*) AS n FROM outbox",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get::<i64>("", "n")
        .unwrap();
    assert_eq!(queued, 0, "no e-mail queued");
    assert!(smtp.messages().is_empty(), "{:?}", smtp.messages());
    app.stop().await;
}

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test]
async fn e_mail_waits_for_a_down_server_and_is_sent_once_across_a_restart(
    #[case] backend: Backend,
) {
    let mut smtp = Smtp::start().await;
    smtp.stop().await;
    let Some(mut app) = spawn_with_smtp(backend, smtp.port).await else {
        return;
    };
    let clerk = app.login("martina.sommer", 0).await;
    let meeting = meeting_named(&app, "3. Sitzung des Rates").await;
    let path = format!("/api/v1/meetings/{}", meeting.id);
    let expected = member_addresses(&app, &meeting).await;
    let tag = etag_of(&app, &path, &clerk.access).await;
    let r = post(
        &app,
        &format!("{path}/invite"),
        &clerk.access,
        Some(&tag),
        None,
    )
    .await;
    assert_eq!(r.status(), 200);

    // The mail server is down: the clerk sees each e-mail failed with the reason, retried.
    let mut failed = Value::Null;
    for _ in 0..100 {
        failed = deliveries(&app, &meeting, 1, &clerk.access).await;
        let rows = failed["data"].as_array().unwrap();
        if rows.len() == expected.len()
            && rows
                .iter()
                .all(|d| d["state"] == "failed" && d["attempts"].as_u64() >= Some(1))
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for row in failed["data"].as_array().unwrap() {
        assert_eq!(row["state"], "failed", "{row}");
        assert!(!row["last_error"].as_str().unwrap().is_empty());
        assert!(row["next_attempt_at"].is_string(), "retried later: {row}");
    }

    // Plenum restarts while the mail server is still down; then the mail server comes back.
    app.restart().await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(smtp.messages().is_empty());
    smtp.resume().await;
    let messages = smtp.wait_for(expected.len()).await;
    // Retries keep going for a while: nothing arrives twice.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let messages_later = smtp.messages();
    assert_eq!(messages_later.len(), messages.len(), "no message twice");
    let got: Vec<String> = recipients(&messages_later);
    let unique: BTreeSet<String> = got.iter().cloned().collect();
    assert_eq!(got.len(), unique.len());
    assert_eq!(unique, expected);
    let list = deliveries(&app, &meeting, 1, &clerk.access).await;
    for row in list["data"].as_array().unwrap() {
        assert_eq!(row["state"], "sent", "{row}");
        assert!(row["attempts"].as_u64().unwrap() >= 2);
        assert!(row["sent_at"].is_string());
        assert!(row["last_error"].is_null());
    }
    app.stop().await;
}

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[tokio::test]
async fn without_smtp_e_mails_wait_and_the_clerk_sees_it(#[case] backend: Backend) {
    let Some(app) = crate::helpers::spawn_app(backend, true).await else {
        return;
    };
    let clerk = app.login("martina.sommer", 0).await;
    let meeting = meeting_named(&app, "3. Sitzung des Rates").await;
    let path = format!("/api/v1/meetings/{}", meeting.id);
    let tag = etag_of(&app, &path, &clerk.access).await;
    let r = post(
        &app,
        &format!("{path}/invite"),
        &clerk.access,
        Some(&tag),
        None,
    )
    .await;
    assert_eq!(r.status(), 200);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let list = deliveries(&app, &meeting, 1, &clerk.access).await;
    assert_eq!(list["smtp_configured"], false);
    let rows = list["data"].as_array().unwrap();
    assert!(!rows.is_empty());
    assert!(
        rows.iter()
            .all(|d| d["state"] == "queued" && d["attempts"] == 0)
    );
    app.stop().await;
}

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test]
async fn members_and_clerks_set_e_mail_addresses(#[case] backend: Backend) {
    let Some(app) = crate::helpers::spawn_app(backend, true).await else {
        return;
    };
    let clerk = app.login("martina.sommer", 0).await;
    let anna = app.login("anna.hartmann", 0).await;
    let put = |path: String, token: String, body: Value| {
        let request = app
            .client
            .put(app.url(&path))
            .bearer_auth(token)
            .json(&body);
        async move { request.send().await.unwrap() }
    };
    let address = |token: String| {
        let request = app
            .client
            .get(app.url("/api/v1/me/notification-settings"))
            .bearer_auth(token);
        async move {
            let settings: Value = request.send().await.unwrap().json().await.unwrap();
            settings["email_address"].clone()
        }
    };

    // A member sets her own address (checked), or removes it.
    let r = put(
        "/api/v1/me/email".into(),
        anna.access.clone(),
        json!({"email": "kein-at-zeichen"}),
    )
    .await;
    assert_eq!(r.status(), 422);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let r = put(
        "/api/v1/me/email".into(),
        anna.access.clone(),
        json!({"email": "anna@privat.example"}),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(address(anna.access.clone()).await, "anna@privat.example");
    let r = put(
        "/api/v1/me/email".into(),
        anna.access.clone(),
        json!({"email": null}),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(address(anna.access.clone()).await, Value::Null);

    // The clerk sets anyone's; a member may not set someone else's.
    let person = anna.body["user"]["person_id"].as_str().unwrap().to_owned();
    let r = put(
        format!("/api/v1/persons/{person}/email"),
        clerk.access.clone(),
        json!({"email": "a.hartmann@musterstadt.example"}),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        address(anna.access.clone()).await,
        "a.hartmann@musterstadt.example"
    );
    let r = put(
        format!("/api/v1/persons/{person}/email"),
        anna.access.clone(),
        json!({"email": "x@y.example"}),
    )
    .await;
    assert_eq!(r.status(), 403);
    let r = put(
        format!("/api/v1/persons/{}/email", uuid::Uuid::now_v7()),
        clerk.access.clone(),
        json!({"email": "x@y.example"}),
    )
    .await;
    assert_eq!(r.status(), 404);

    // Audited, without the address.
    let entries = plenum_store::audit::list(&app.db.db).await.unwrap();
    let changes: Vec<_> = entries
        .iter()
        .filter(|e| e.event.action == "person.email_changed")
        .collect();
    assert_eq!(changes.len(), 3);
    assert!(changes.iter().all(|e| !e.event.detail.contains('@')));
    app.stop().await;
}
