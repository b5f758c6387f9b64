//! `spawn_app`: a real Plenum on 127.0.0.1:0 with a fresh database of its own.

use std::net::SocketAddr;
use std::path::PathBuf;

use plenum_server::RunningServer;
use plenum_server::config::Config;
use plenum_store::Backend;
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
    let db = TestDb::migrated(backend).await?;
    let data_dir = tempfile::tempdir().unwrap();
    let config = Config {
        data_dir: data_dir.path().to_owned(),
        database_url: Some(secrecy::SecretString::from(db.url.clone())),
        bind: "127.0.0.1:0".parse().unwrap(),
        web_dir: web_dir(),
        ..Config::default()
    };
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

    pub async fn stop(mut self) {
        if let Some(server) = self.server.take() {
            server.shutdown().await.unwrap();
        }
    }
}
