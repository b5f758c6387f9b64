//! The record in OParl and the portal: the published minutes as `Meeting.resultsProtocol`, the
//! decision extract as `AgendaItem.resolutionFile` (and its public URL), and the Bekanntgabe of a
//! single non-public decision — checked against the OParl schemas, with every public response
//! searched for what must stay non-public.

use plenum_domain::*;
use plenum_store::{Backend, audit, repo};
use rstest::rstest;
use serde_json::{Value, json};

use crate::decisions::{clerk, get, vote};
use crate::helpers::{TestApp, code_for, fresh_totp_step, spawn_app};
use crate::live::{Committee, LiveClient, committee, create_and_open, start_and_check_in};
use crate::minutes_pdf::pdf_text;
use crate::oparl::Schemas;
use crate::signed_minutes::{enrol, get_bytes, post, record_decision, user_of};

/// Every public response of a test, to search for what must stay non-public.
#[derive(Default)]
struct Public {
    bodies: Vec<(String, String)>,
}

impl Public {
    /// GETs a public URL (absolute or a path) without a token: 200 and JSON.
    async fn json(&mut self, app: &TestApp, url: &str) -> Value {
        let url = if url.starts_with("http") {
            url.to_owned()
        } else {
            app.url(url)
        };
        let r = app.client.get(&url).send().await.unwrap();
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        assert_eq!(status, 200, "GET {url}: {text}");
        self.bodies.push((url, text.clone()));
        serde_json::from_str(&text).unwrap()
    }

    /// GETs a public URL that must not exist: 404, and nothing secret in the answer.
    async fn missing(&mut self, app: &TestApp, url: &str) {
        let url = if url.starts_with("http") {
            url.to_owned()
        } else {
            app.url(url)
        };
        let r = app.client.get(&url).send().await.unwrap();
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        assert_eq!(status, 404, "GET {url} must be 404: {text}");
        self.bodies.push((url, text));
    }

    /// GETs a PDF: 200, `application/pdf`, the disposition's kind; returns the bytes.
    async fn pdf(&mut self, app: &TestApp, url: &str, disposition: &str) -> Vec<u8> {
        let r = app.client.get(url).send().await.unwrap();
        assert_eq!(r.status(), 200, "GET {url}");
        assert_eq!(r.headers()["content-type"], "application/pdf", "{url}");
        let got = r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(got.starts_with(disposition), "{url}: {got}");
        let bytes = r.bytes().await.unwrap().to_vec();
        assert!(bytes.starts_with(b"%PDF"), "{url}");
        if let Some(text) = pdf_text(&bytes) {
            self.bodies.push((url.to_owned(), text));
        }
        bytes
    }

    /// No public response contains any of `secrets`.
    fn assert_none(&self, secrets: &[String]) {
        for (url, body) in &self.bodies {
            for secret in secrets {
                assert!(
                    !body.contains(secret.as_str()),
                    "non-public {secret:?} appears in {url}"
                );
            }
        }
    }
}

/// The agenda item with this id embedded in an OParl meeting.
fn embedded_item<'a>(meeting: &'a Value, base: &str, item: AgendaItemId) -> Option<&'a Value> {
    let id = format!("{base}/agendaItem/{item}");
    meeting["agendaItem"]
        .as_array()?
        .iter()
        .find(|i| i["id"] == id.as_str())
}

/// An object served on its own equals its embedded copy plus the back-reference `back`.
fn assert_same_plus(own: &Value, embedded: &Value, back: &str) {
    assert!(
        own[back].is_array() || own[back].is_string(),
        "{back} on {own}"
    );
    let mut own = own.clone();
    own.as_object_mut().unwrap().remove(back);
    assert_eq!(&own, embedded);
}

fn modified(object: &Value) -> chrono::DateTime<chrono::FixedOffset> {
    chrono::DateTime::parse_from_rfc3339(object["modified"].as_str().unwrap()).unwrap()
}

/// The meeting list of the committee's body, with `modified_since`.
async fn meetings_since(
    public: &mut Public,
    app: &TestApp,
    meeting: &Value,
    since: &str,
) -> Vec<String> {
    let organization = public
        .json(app, meeting["organization"][0].as_str().unwrap())
        .await;
    let body = public
        .json(app, organization["body"].as_str().unwrap())
        .await;
    let url = format!(
        "{}?modified_since={}",
        body["meeting"].as_str().unwrap(),
        since.replace('+', "%2B")
    );
    let page = public.json(app, &url).await;
    page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_owned())
        .collect()
}

/// A closed session: a named poll on the public item and one on the non-public item, each
/// item's decision recorded (texts `public_text` and `secret_text`), and a second non-public
/// item with a decision of its own. Returns the committee, the clerk (user, token) and the
/// second non-public item.
async fn held_meeting(app: &TestApp) -> (Committee, (UserId, String), AgendaItemId) {
    let c = committee(app, 4).await;
    let (clerk_id, clerk_token) = clerk(app).await;
    let db = &app.db.db;
    let other = repo::agenda_items::insert(
        db,
        AgendaItem {
            id: AgendaItemId::new(),
            meta: Meta::default(),
            meeting_id: c.meeting,
            number: AgendaNumber::parse("N 2").unwrap(),
            position: 3,
            public: false,
            title: Title::parse("Personalsache Erika Beispiel").unwrap(),
            paper_id: None,
            decision: None,
        },
    )
    .await
    .unwrap();
    let mut chair = LiveClient::connect(app, Some(&c.members[0].1), c.meeting, None).await;
    start_and_check_in(app, &c, &mut chair, &[0, 1, 2]).await;
    let mut polls = Vec::new();
    for item in [c.public_item, c.secret_item] {
        let poll = create_and_open(&mut chair, item, "named", "simple", &[]).await;
        vote(app, c.meeting, &c.members[0].1, poll, "yes").await;
        vote(app, c.meeting, &c.members[1].1, poll, "yes").await;
        vote(app, c.meeting, &c.members[2].1, poll, "no").await;
        chair
            .command(json!({"type": "close_poll", "poll": poll}))
            .await;
        polls.push(poll);
    }
    record_decision(
        app,
        c.public_item,
        &clerk_token,
        json!({"kind": "adopted", "text": "Der Ausschuss beschließt den **Neubau**.", "poll": polls[0]}),
    )
    .await;
    record_decision(
        app,
        c.secret_item,
        &clerk_token,
        json!({"kind": "adopted", "text": "Der Kaufvertrag wird geschlossen.", "poll": polls[1]}),
    )
    .await;
    record_decision(
        app,
        other.id,
        &clerk_token,
        json!({"kind": "rejected", "text": "Vertraulich: Abmahnung Beispiel"}),
    )
    .await;
    chair.command(json!({"type": "close_meeting"})).await;
    (c, (clerk_id, clerk_token), other.id)
}

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn oparl_serves_the_published_minutes_and_the_decision_extracts(#[case] backend: Backend) {
    let Some(app) = spawn_app(backend, false).await else {
        return;
    };
    let schemas = Schemas::load();
    let base = app.url("/oparl/v1");
    let mut public = Public::default();
    let (c, (clerk_id, clerk_token), other) = held_meeting(&app).await;
    let chair_id = user_of(&app, c.members[0].0).await;
    let (chair_secret, chair_name) = enrol(&app, chair_id).await;
    let (clerk_secret, clerk_name) = enrol(&app, clerk_id).await;

    // The decision is public by the project's rule (recorded, the session closed): result,
    // resolutionText as HTML, resolutionFile pointing at the public extract.
    let meeting_url = format!("{base}/meeting/{}", c.meeting);
    let meeting = public.json(&app, &meeting_url).await;
    schemas.check(&meeting);
    assert!(
        meeting.get("resultsProtocol").is_none(),
        "not published yet"
    );
    let item = embedded_item(&meeting, &base, c.public_item)
        .expect("the public item")
        .clone();
    assert_eq!(item["result"], "angenommen");
    let text = item["resolutionText"].as_str().unwrap();
    assert!(text.contains("<strong>Neubau</strong>"), "{text}");
    assert!(!text.contains("**"), "no raw Markdown: {text}");
    let file = &item["resolutionFile"];
    assert_eq!(
        file["id"],
        format!("{base}/file/{}", c.public_item).as_str()
    );
    assert_eq!(file["mimeType"], "application/pdf");
    assert_eq!(file["name"], "Beschlussauszug Ö 1 Neubau Feuerwache");
    assert_eq!(
        file["fileName"],
        "Beschlussauszug Ö 1 Neubau Feuerwache.pdf"
    );
    assert_eq!(
        file["accessUrl"],
        app.url(&format!(
            "/api/v1/public/agenda-items/{}/extract.pdf",
            c.public_item
        ))
        .as_str()
    );
    schemas.check(file);
    let own = public.json(&app, file["id"].as_str().unwrap()).await;
    schemas.check(&own);
    assert_same_plus(&own, file, "agendaItem");
    let own_item = public.json(&app, item["id"].as_str().unwrap()).await;
    assert_same_plus(&own_item, &item, "meeting");
    let extract = public
        .pdf(&app, file["accessUrl"].as_str().unwrap(), "inline")
        .await;
    public
        .pdf(&app, file["downloadUrl"].as_str().unwrap(), "attachment")
        .await;
    if let Some(text) = pdf_text(&extract) {
        assert!(text.contains("Neubau Feuerwache"), "{text}");
    }
    // Non-public items: no object, no file, no extract.
    for secret in [c.secret_item, other] {
        assert!(embedded_item(&meeting, &base, secret).is_none());
        public
            .missing(&app, &format!("{base}/agendaItem/{secret}"))
            .await;
        public.missing(&app, &format!("{base}/file/{secret}")).await;
        public
            .missing(&app, &format!("{base}/file/{secret}/download"))
            .await;
        public
            .missing(
                &app,
                &format!("/api/v1/public/agenda-items/{secret}/extract.pdf"),
            )
            .await;
    }
    public
        .missing(
            &app,
            &format!(
                "/api/v1/public/agenda-items/{}/extract.pdf",
                uuid::Uuid::new_v4()
            ),
        )
        .await;

    // The minutes: frozen, signed by both, published.
    let versions = format!("/api/v1/meetings/{}/minutes/versions", c.meeting);
    let (status, v1) = post(
        &app,
        &versions,
        Some(&clerk_token),
        json!({"part": "public"}),
    )
    .await;
    assert_eq!(status, 201, "{v1}");
    let v1_id = v1["id"].as_str().unwrap().to_owned();
    let (status, n1) = post(
        &app,
        &versions,
        Some(&clerk_token),
        json!({"part": "non_public"}),
    )
    .await;
    assert_eq!(status, 201, "{n1}");
    let n1_id = n1["id"].as_str().unwrap().to_owned();
    fresh_totp_step().await;
    for (offset, id) in [(0, &v1_id), (1, &n1_id)] {
        if offset == 1 {
            fresh_totp_step().await;
        }
        for (token, role, secret, name) in [
            (&c.members[0].1, "chair", &chair_secret, &chair_name),
            (&clerk_token, "clerk", &clerk_secret, &clerk_name),
        ] {
            let (status, body) = post(
                &app,
                &format!("/api/v1/minutes/{id}/signatures"),
                Some(token),
                json!({"role": role, "code": code_for(secret, name, offset)}),
            )
            .await;
            assert_eq!(status, 200, "{body}");
        }
    }
    // Signed, not published: still no resultsProtocol.
    let before = public.json(&app, &meeting_url).await;
    assert!(before.get("resultsProtocol").is_none());
    public.missing(&app, &format!("{base}/file/{v1_id}")).await;
    let since = before["modified"].as_str().unwrap().to_owned();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let (status, published) = post(
        &app,
        &format!("/api/v1/minutes/{v1_id}/publication"),
        Some(&clerk_token),
        json!({}),
    )
    .await;
    assert_eq!(status, 200, "{published}");

    let after = public.json(&app, &meeting_url).await;
    schemas.check(&after);
    assert!(modified(&after) > modified(&before), "modified moves");
    let protocol = &after["resultsProtocol"];
    assert_eq!(protocol["id"], format!("{base}/file/{v1_id}").as_str());
    assert_eq!(protocol["mimeType"], "application/pdf");
    assert!(
        protocol["name"]
            .as_str()
            .unwrap()
            .starts_with("Niederschrift Prüfsitzung")
    );
    assert!(protocol["fileName"].as_str().unwrap().ends_with(".pdf"));
    assert!(protocol["date"].is_string());
    assert_eq!(
        protocol["accessUrl"],
        app.url(&format!("/api/v1/public/minutes/{v1_id}/pdf"))
            .as_str()
    );
    assert!(modified(protocol) > modified(&before));
    schemas.check(protocol);
    let own = public.json(&app, protocol["id"].as_str().unwrap()).await;
    schemas.check(&own);
    assert_same_plus(&own, protocol, "meeting");
    let (_, _, signed) = get_bytes(
        &app,
        &format!("/api/v1/minutes/{v1_id}/pdf"),
        Some(&clerk_token),
    )
    .await;
    let access = public
        .pdf(&app, protocol["accessUrl"].as_str().unwrap(), "inline")
        .await;
    let download = public
        .pdf(
            &app,
            protocol["downloadUrl"].as_str().unwrap(),
            "attachment",
        )
        .await;
    assert_eq!(access, signed, "the signed document itself");
    assert_eq!(download, signed);
    // A modified_since walk finds the meeting.
    let listed = meetings_since(&mut public, &app, &after, &since).await;
    assert!(listed.contains(&meeting_url), "{listed:?}");
    // The non-public part: signed, never a File.
    public.missing(&app, &format!("{base}/file/{n1_id}")).await;
    public
        .missing(&app, &format!("{base}/file/{n1_id}/access"))
        .await;
    public
        .missing(&app, &format!("/api/v1/public/minutes/{n1_id}/pdf"))
        .await;
    public
        .json(&app, &format!("/api/v1/public/meetings/{}", c.meeting))
        .await;
    public
        .json(
            &app,
            &format!("/api/v1/public/meetings/{}/minutes", c.meeting),
        )
        .await;

    // Nothing of the non-public part in any public answer.
    public.assert_none(&[
        "Geheimes Grundstücksgeschäft".into(),
        "Kaufvertrag".into(),
        "Erika Beispiel".into(),
        "Abmahnung".into(),
        c.secret_item.to_string(),
        other.to_string(),
        n1_id.clone(),
    ]);
    app.stop().await;
}

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_clerk_announces_one_non_public_decision(#[case] backend: Backend) {
    let Some(app) = spawn_app(backend, false).await else {
        return;
    };
    let schemas = Schemas::load();
    let base = app.url("/oparl/v1");
    let mut public = Public::default();
    let (c, (_, clerk_token), other) = held_meeting(&app).await;
    let item_path = format!("/api/v1/agenda-items/{}", c.secret_item);
    let announce = format!("{item_path}/announcement");
    let meeting_url = format!("{base}/meeting/{}", c.meeting);
    let public_meeting = format!("/api/v1/public/meetings/{}", c.meeting);

    // Before: the public knows nothing of it.
    let before = public.json(&app, &meeting_url).await;
    assert!(embedded_item(&before, &base, c.secret_item).is_none());
    let portal = public.json(&app, &public_meeting).await;
    assert!(portal.get("announced").is_none());
    public
        .missing(&app, &format!("{base}/agendaItem/{}", c.secret_item))
        .await;

    let send = |path: String, token: String, etag: Option<String>, body: Value| {
        let app = &app;
        async move {
            let mut request = app
                .client
                .post(app.url(&path))
                .bearer_auth(token)
                .json(&body);
            if let Some(etag) = etag {
                request = request.header("If-Match", etag);
            }
            let r = request.send().await.unwrap();
            let status = r.status().as_u16();
            let etag = r
                .headers()
                .get("etag")
                .map(|v| v.to_str().unwrap().to_owned());
            (status, etag, r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let body = json!({
        "title": "Verkauf eines städtischen Grundstücks",
        "note": "bekanntgegeben in der Sitzung am 12.03.2027",
    });
    let (_, etag, _) = get(&app, &item_path, Some(&clerk_token)).await;
    let etag = etag.unwrap();
    // A member who sees the item: 403. Unknown item: 404. No If-Match: 428; a stale one: 412.
    let (status, _, _) = send(
        announce.clone(),
        c.members[1].1.clone(),
        Some(etag.clone()),
        body.clone(),
    )
    .await;
    assert_eq!(status, 403);
    let (status, _, _) = send(
        format!("/api/v1/agenda-items/{}/announcement", uuid::Uuid::new_v4()),
        clerk_token.clone(),
        Some(etag.clone()),
        body.clone(),
    )
    .await;
    assert_eq!(status, 404);
    let (status, _, _) = send(announce.clone(), clerk_token.clone(), None, body.clone()).await;
    assert_eq!(status, 428);
    let (status, _, _) = send(
        announce.clone(),
        clerk_token.clone(),
        Some("\"stale\"".into()),
        body.clone(),
    )
    .await;
    assert_eq!(status, 412);
    // A blank title, unknown fields: 422. A public item: 409.
    for bad in [json!({"title": "  "}), json!({"title": "x", "extra": 1})] {
        let (status, _, _) = send(
            announce.clone(),
            clerk_token.clone(),
            Some(etag.clone()),
            bad,
        )
        .await;
        assert_eq!(status, 422);
    }
    let public_path = format!("/api/v1/agenda-items/{}", c.public_item);
    let (_, public_etag, _) = get(&app, &public_path, Some(&clerk_token)).await;
    let (status, _, problem) = send(
        format!("{public_path}/announcement"),
        clerk_token.clone(),
        public_etag,
        body.clone(),
    )
    .await;
    assert_eq!(status, 409, "{problem}");

    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let (status, new_etag, announced) = send(
        announce.clone(),
        clerk_token.clone(),
        Some(etag.clone()),
        body.clone(),
    )
    .await;
    assert_eq!(status, 200, "{announced}");
    assert_ne!(new_etag.as_deref(), Some(etag.as_str()));
    assert_eq!(
        announced["announcement"]["title"],
        "Verkauf eines städtischen Grundstücks"
    );
    let (status, _, _) = send(
        announce.clone(),
        clerk_token.clone(),
        new_etag,
        body.clone(),
    )
    .await;
    assert_eq!(status, 409, "once");
    let entries = audit::list(&app.db.db).await.unwrap();
    let entry = entries
        .iter()
        .find(|e| e.event.action == "decision.announced")
        .expect("audited");
    assert_eq!(
        entry.event.subject.as_deref(),
        Some(format!("agenda_item:{}", c.secret_item).as_str())
    );

    // The portal: that decision under the meeting, with the public title and the vote totals.
    let portal = public.json(&app, &public_meeting).await;
    let list = portal["announced"].as_array().unwrap();
    assert_eq!(list.len(), 1, "exactly that decision");
    let a = &list[0];
    assert_eq!(a["id"], c.secret_item.to_string().as_str());
    assert_eq!(a["title"], "Verkauf eines städtischen Grundstücks");
    assert_eq!(a["note"], "bekanntgegeben in der Sitzung am 12.03.2027");
    assert_eq!(a["decision"], "Der Kaufvertrag wird geschlossen.");
    assert_eq!(a["outcome"]["label"], "angenommen");
    assert_eq!(a["outcome"]["vote"]["yes"], 2);
    assert_eq!(a["outcome"]["vote"]["no"], 1);
    assert_eq!(a["outcome"]["vote"]["named"], json!([]));
    assert_eq!(a["outcome"]["vote"]["not_voted"], json!([]));
    assert_eq!(
        a["outcome"]["vote"]["title"],
        "Verkauf eines städtischen Grundstücks"
    );
    assert!(
        portal["agenda"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["public"] == true),
        "the agenda stays public-only"
    );
    let extract = public
        .pdf(&app, &app.url(a["extract"].as_str().unwrap()), "inline")
        .await;
    if let Some(text) = pdf_text(&extract) {
        assert!(
            text.contains("Verkauf eines städtischen Grundstücks"),
            "{text}"
        );
        assert!(text.contains("bekanntgegeben"), "{text}");
        assert!(!text.contains("vertraulich"), "{text}");
    }

    // OParl: the item in its meeting (public: false), at its own URL, with its extract.
    let after = public.json(&app, &meeting_url).await;
    schemas.check(&after);
    assert!(
        modified(&after) > modified(&before),
        "the meeting's modified moves"
    );
    let item = embedded_item(&after, &base, c.secret_item)
        .expect("the announced item")
        .clone();
    schemas.check(&item);
    assert_eq!(item["public"], false);
    assert_eq!(item["name"], "Verkauf eines städtischen Grundstücks");
    assert_eq!(item["result"], "angenommen");
    assert_eq!(
        item["resolutionText"],
        "<p>Der Kaufvertrag wird geschlossen.</p>"
    );
    assert!(item.get("number").is_none());
    assert!(item.get("consultation").is_none());
    let own = public.json(&app, item["id"].as_str().unwrap()).await;
    schemas.check(&own);
    assert_same_plus(&own, &item, "meeting");
    let file = &item["resolutionFile"];
    schemas.check(file);
    assert_eq!(
        file["name"],
        "Beschlussauszug Verkauf eines städtischen Grundstücks"
    );
    let own_file = public.json(&app, file["id"].as_str().unwrap()).await;
    assert_same_plus(&own_file, file, "agendaItem");
    public
        .pdf(&app, file["downloadUrl"].as_str().unwrap(), "attachment")
        .await;
    let listed = meetings_since(
        &mut public,
        &app,
        &after,
        before["modified"].as_str().unwrap(),
    )
    .await;
    assert!(listed.contains(&meeting_url), "{listed:?}");

    // The other non-public decision stays unknown.
    assert!(embedded_item(&after, &base, other).is_none());
    public
        .missing(&app, &format!("{base}/agendaItem/{other}"))
        .await;
    public.missing(&app, &format!("{base}/file/{other}")).await;
    public
        .missing(
            &app,
            &format!("/api/v1/public/agenda-items/{other}/extract.pdf"),
        )
        .await;
    public.assert_none(&[
        "Geheimes Grundstücksgeschäft".into(),
        "Flur 9".into(),
        "N 1".into(),
        "Erika Beispiel".into(),
        "Abmahnung".into(),
        other.to_string(),
    ]);
    app.stop().await;
}
