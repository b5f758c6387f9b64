//! Shared setup of the notes and forums tests: two fractions of the demo council.

use std::time::Duration;

use futures_util::StreamExt;
use plenum_domain::*;
use plenum_server::demo::demo_body_id;
use plenum_store::repo;
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::TestApp;

pub struct Fractions {
    /// BU: its chair, and a plain member.
    pub bu: OrganizationId,
    pub bu_chair: String,
    pub bu_member: String,
    pub bu_member_person: PersonId,
    pub bu_member_name: String,
    /// SM: its chair (a member of another fraction).
    pub sm: OrganizationId,
    pub outsider: String,
    /// A paper every council member may see.
    pub paper: PaperId,
}

async fn fraction(app: &TestApp, short: &str) -> Organization {
    repo::organizations::list_by_body(&app.db.db, demo_body_id(), false)
        .await
        .unwrap()
        .into_iter()
        .find(|o| o.short_name.as_ref().is_some_and(|s| s.as_str() == short))
        .unwrap()
}

pub async fn fractions(app: &TestApp) -> Fractions {
    let db = &app.db.db;
    let bu = fraction(app, "BU").await;
    let sm = fraction(app, "SM").await;
    let members = repo::memberships::list_by_organization(db, bu.id, false)
        .await
        .unwrap();
    let plain = members
        .iter()
        .find(|m| m.role == MembershipRole::Member)
        .unwrap();
    let user = repo::users::list(db)
        .await
        .unwrap()
        .into_iter()
        .find(|u| u.person_id == Some(plain.person_id))
        .unwrap();
    let person = repo::persons::get(db, plain.person_id).await.unwrap();
    let paper = repo::papers::list_by_body(db, demo_body_id(), false)
        .await
        .unwrap()
        .into_iter()
        .find(|p| p.public)
        .unwrap();
    Fractions {
        bu: bu.id,
        bu_chair: app.login("thomas.schneider", 0).await.access,
        bu_member: app.login(user.username.as_str(), 0).await.access,
        bu_member_person: plain.person_id,
        bu_member_name: person.full_name(),
        sm: sm.id,
        outsider: app.login("susanne.richter", 0).await.access,
        paper: paper.id,
    }
}

/// Sends a request with a bearer token (and an optional `If-Match`).
pub async fn call(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    token: &str,
    body: Option<Value>,
    if_match: Option<&str>,
) -> (u16, String) {
    let mut request = app.client.request(method, app.url(path)).bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    if let Some(version) = if_match {
        request = request.header("If-Match", version);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

pub fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or(Value::Null)
}

/// The XSS payloads every rendered text must defuse.
pub const XSS: &str = "<script>alert('x')</script>\n\n<img src=x onerror=alert(1)>\n\n\
    [klick](javascript:alert(1))\n\n<svg onload=alert(1)></svg>\n\n\
    [daten](data:text/html;base64,PHNjcmlwdD4=)\n\n<a href=\"JAVASCRIPT:alert(1)\">a</a>";

pub fn assert_inert(html: &str) {
    let lower = html.to_lowercase();
    for bad in [
        "<script",
        "onerror",
        "onload",
        "javascript:",
        "<svg",
        "data:text",
    ] {
        assert!(!lower.contains(bad), "{bad} survived in {html}");
    }
}

/// A signed-in WebSocket without a meeting: personal messages only.
pub struct Personal {
    socket: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
}

impl Personal {
    pub async fn connect(app: &TestApp, token: &str) -> Personal {
        let ticket: Value = app
            .client
            .post(app.url("/api/v1/live/ticket"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let url = format!(
            "ws://{}/api/v1/live?ticket={}",
            app.addr,
            ticket["ticket"].as_str().unwrap()
        );
        let (socket, _) = tokio_tungstenite::connect_async(url).await.unwrap();
        let mut me = Personal { socket };
        let hello = me.next(Duration::from_secs(10)).await.unwrap();
        assert_eq!(hello["type"], "hello");
        me
    }

    /// The next text message within `wait`, if any.
    pub async fn next(&mut self, wait: Duration) -> Option<Value> {
        loop {
            let message = tokio::time::timeout(wait, self.socket.next())
                .await
                .ok()??
                .ok()?;
            if let Message::Text(text) = message {
                return serde_json::from_str(text.as_str()).ok();
            }
        }
    }

    /// Waits for a message of `kind` (others are skipped).
    pub async fn wait_for(&mut self, kind: &str) -> Value {
        loop {
            let message = self
                .next(Duration::from_secs(10))
                .await
                .unwrap_or_else(|| panic!("no {kind} message"));
            if message["type"] == kind {
                return message;
            }
        }
    }

    /// Every message that arrives within `wait`.
    pub async fn drain(&mut self, wait: Duration) -> Vec<Value> {
        let mut out = Vec::new();
        while let Some(message) = self.next(wait).await {
            out.push(message);
        }
        out
    }
}
