//! `spawn_app`: a real Plenum on 127.0.0.1:0 with a fresh database of its own.

use std::net::SocketAddr;
use std::path::PathBuf;

use plenum_domain::{AgendaItemId, FileId, PaperId};
use plenum_server::RunningServer;
use plenum_server::config::Config;
use plenum_server::demo::demo_body_id;
use plenum_store::Backend;
use plenum_store::repo;
use plenum_store::testing::TestDb;

pub struct TestApp {
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    pub db: TestDb,
    /// Kept alive (and deleted) with the app.
    _data_dir: tempfile::TempDir,
    pub config: Config,
    server: Option<RunningServer>,
}

/// The repository's `web/` directory.
pub fn web_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../web")
}

/// Starts Plenum on `backend` (None when PostgreSQL is not configured), with or without the
/// demo council.
pub async fn spawn_app(backend: Backend, demo: bool) -> Option<TestApp> {
    spawn_app_with(backend, demo, |_| {}).await
}

/// [`spawn_app`] with the configuration adjusted by `adjust` (e.g. a small upload limit).
pub async fn spawn_app_with(
    backend: Backend,
    demo: bool,
    adjust: impl FnOnce(&mut Config),
) -> Option<TestApp> {
    let db = TestDb::migrated(backend).await?;
    let data_dir = tempfile::tempdir().unwrap();
    let mut config = Config {
        data_dir: data_dir.path().to_owned(),
        database_url: Some(secrecy::SecretString::from(db.url.clone())),
        bind: "127.0.0.1:0".parse().unwrap(),
        web_dir: web_dir(),
        ..Config::default()
    };
    adjust(&mut config);
    let server = plenum_server::start(&config, demo).await.unwrap();
    Some(TestApp {
        addr: server.addr,
        client: reqwest::Client::new(),
        db,
        _data_dir: data_dir,
        config,
        server: Some(server),
    })
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    /// The server's TOTP cipher (from the key file in its data directory).
    pub fn cipher(&self) -> plenum_api::auth::crypto::SecretCipher {
        let keys = plenum_server::keys::Keys::load_or_create(&self.config.data_dir).unwrap();
        plenum_server::demo_cipher(&keys).unwrap()
    }

    /// Stops the server and starts it again on the same database and data directory (on a new
    /// port), as after a crash or an update.
    pub async fn restart(&mut self) {
        if let Some(server) = self.server.take() {
            server.shutdown().await.unwrap();
        }
        let server = plenum_server::start(&self.config, false).await.unwrap();
        self.addr = server.addr;
        self.server = Some(server);
    }

    /// The audit chain checked as `plenum audit verify` does: with the key and the anchor file
    /// in the data directory (the anchor read first).
    pub async fn verify_audit(
        &self,
    ) -> Result<plenum_store::audit::Verified, plenum_store::audit::ChainBreak> {
        use secrecy::ExposeSecret;
        let anchor = plenum_store::audit::Anchor::read(
            &self.config.data_dir.join(plenum_api::AUDIT_ANCHOR_FILE),
        )
        .unwrap();
        let key = plenum_server::keys::Keys::load_audit_key(&self.config.data_dir)
            .unwrap()
            .unwrap();
        let key = plenum_store::audit::AuditKey::from_bytes(key.expose_secret()).unwrap();
        plenum_store::audit::verify(&self.db.db, Some(&key), anchor.as_ref())
            .await
            .unwrap()
    }

    pub async fn stop(mut self) {
        if let Some(server) = self.server.take() {
            server.shutdown().await.unwrap();
        }
    }
}

/// The demo password.
pub const PASSWORD: &str = plenum_server::demo::DEMO_PASSWORD;

/// A signed-in device, as a client holds it.
#[derive(Debug, Clone)]
pub struct Session {
    pub access: String,
    /// `plenum_refresh=…` as sent back in a Cookie header.
    pub cookie: String,
    pub session_id: String,
    pub body: serde_json::Value,
}

/// The TOTP code of a demo user `offset` steps from now (±1 are accepted).
pub fn demo_code(username: &str, offset: i64) -> String {
    code_for(
        &plenum_server::demo::demo_totp_secret(username),
        username,
        offset,
    )
}

/// The TOTP code for a secret `offset` steps from now.
pub fn code_for(secret: &[u8], username: &str, offset: i64) -> String {
    let name = plenum_domain::Username::parse(username).unwrap();
    let totp = plenum_api::auth::totp::totp_for(secret, &name).unwrap();
    let at = chrono::Utc::now().timestamp() + offset * 30;
    totp.generate(at as u64).to_string()
}

/// The `name=value` part of the response's refresh cookie.
pub fn refresh_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("plenum_refresh="))
        .map(|v| v.split(';').next().unwrap().to_owned())
}

impl TestApp {
    pub async fn post_json(&self, path: &str, body: serde_json::Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub async fn get_with(&self, path: &str, access: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .bearer_auth(access)
            .send()
            .await
            .unwrap()
    }

    /// Step 1 only: the mfa token.
    pub async fn password_step(&self, username: &str, password: &str) -> serde_json::Value {
        let response = self
            .post_json(
                "/api/v1/auth/login",
                serde_json::json!({"username": username, "password": password}),
            )
            .await;
        assert_eq!(response.status(), 200, "password step for {username}");
        response.json().await.unwrap()
    }

    /// Full login of a demo user with the code `offset` steps from now.
    pub async fn login(&self, username: &str, offset: i64) -> Session {
        let step1 = self.password_step(username, PASSWORD).await;
        assert_eq!(step1["next"], "totp");
        let response = self
            .post_json(
                "/api/v1/auth/totp",
                serde_json::json!({"mfa_token": step1["mfa_token"], "code": demo_code(username, offset), "device_name": "Test-Tablet"}),
            )
            .await;
        assert_eq!(response.status(), 200, "second factor for {username}");
        let cookie = refresh_cookie(&response).unwrap();
        let body: serde_json::Value = response.json().await.unwrap();
        Session {
            access: body["access_token"].as_str().unwrap().to_owned(),
            session_id: body["device_session_id"].as_str().unwrap().to_owned(),
            cookie,
            body,
        }
    }
}

/// The demo meeting whose name starts with `prefix`.
pub async fn meeting_named(app: &TestApp, prefix: &str) -> plenum_domain::Meeting {
    repo::meetings::list_by_body(&app.db.db, demo_body_id(), false)
        .await
        .unwrap()
        .into_iter()
        .find(|m| m.name.as_str().starts_with(prefix))
        .unwrap_or_else(|| panic!("no meeting {prefix}"))
}

/// Creates a meeting of `organization` over the API as `token` (a clerk): its path
/// (`/api/v1/meetings/{id}`) and the answer.
pub async fn create_meeting(
    app: &TestApp,
    token: &str,
    organization: uuid::Uuid,
    name: &str,
    start: chrono::DateTime<chrono::Utc>,
) -> (String, serde_json::Value) {
    let r = app
        .client
        .post(app.url("/api/v1/meetings"))
        .bearer_auth(token)
        .json(&serde_json::json!({"organization_id": organization, "name": name, "start": start}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "creating {name}");
    let created: serde_json::Value = r.json().await.unwrap();
    let path = format!("/api/v1/meetings/{}", created["id"].as_str().unwrap());
    (path, created)
}

/// Waits until the current TOTP step has at least 10 s left, so a test that reasons about
/// neighbouring steps cannot be split by a step boundary.
pub async fn fresh_totp_step() {
    loop {
        let into_step = chrono::Utc::now().timestamp().rem_euclid(30);
        if into_step < 20 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
}

/// Non-public titles, texts and file names of the demo, and the ids of non-public things: what
/// no public endpoint (portal, OParl, iCalendar, search) may ever serve.
pub struct Secrets {
    pub texts: Vec<String>,
    pub papers: Vec<PaperId>,
    pub items: Vec<AgendaItemId>,
    pub files: Vec<FileId>,
}

pub async fn secrets(app: &TestApp) -> Secrets {
    let db = &app.db.db;
    let body = demo_body_id();
    let mut texts = Vec::new();
    let mut papers = Vec::new();
    for paper in repo::papers::list_by_body(db, body, true).await.unwrap() {
        if !paper.public {
            texts.push(paper.title.to_string());
            texts.push(paper.text.as_str().to_owned());
            texts.push(paper.reference.to_string());
            papers.push(paper.id);
        }
    }
    let mut items = Vec::new();
    for meeting in repo::meetings::list_by_body(db, body, true).await.unwrap() {
        for item in repo::agenda_items::list_by_meeting(db, meeting.id, true)
            .await
            .unwrap()
        {
            if !item.public {
                texts.push(item.title.to_string());
                if let Some(decision) = &item.decision {
                    texts.push(decision.as_str().to_owned());
                }
                items.push(item.id);
            }
        }
    }
    let mut files = Vec::new();
    for file in repo::files::list_by_body(db, body, true).await.unwrap() {
        let hidden = file.paper_id.is_some_and(|p| papers.contains(&p))
            || file.agenda_item_id.is_some_and(|i| items.contains(&i));
        if hidden {
            texts.push(file.name.to_string());
            files.push(file.id);
        }
    }
    assert!(papers.len() >= 2 && items.len() >= 3 && files.len() >= 2);
    texts.retain(|t| t.len() >= 8);
    Secrets {
        texts,
        papers,
        items,
        files,
    }
}

pub fn assert_no_secret(secrets: &Secrets, what: &str, text: &str) {
    for secret in &secrets.texts {
        assert!(
            !text.contains(secret.as_str()),
            "non-public text {secret:?} appears in {what}"
        );
    }
    for id in secrets
        .papers
        .iter()
        .map(|p| p.to_string())
        .chain(secrets.items.iter().map(|i| i.to_string()))
        .chain(secrets.files.iter().map(|f| f.to_string()))
    {
        assert!(!text.contains(&id), "non-public id {id} appears in {what}");
    }
}
