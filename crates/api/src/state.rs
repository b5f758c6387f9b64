use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use plenum_store::{Backend, DatabaseConnection};

/// What the API needs to know of the configuration.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// Directory of the static web app (`web/`).
    pub web_dir: PathBuf,
    /// Time limit for one HTTP request.
    pub request_timeout: Duration,
    /// Directory of content-addressed file blobs (`<data_dir>/files`).
    pub blob_dir: PathBuf,
}

/// Shared state of every handler.
#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub backend: Backend,
    pub config: Arc<ApiConfig>,
}

impl AppState {
    pub fn new(db: DatabaseConnection, backend: Backend, config: ApiConfig) -> Self {
        Self {
            db,
            backend,
            config: Arc::new(config),
        }
    }
}
