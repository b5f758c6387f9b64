//! Test support: a fresh, migrated database per test, on SQLite or PostgreSQL.
//!
//! PostgreSQL tests use `PLENUM_TEST_PG_URL` (e.g. `postgres://postgres@127.0.0.1:5432/postgres`);
//! each test creates its own database and drops it again, even when the test panics.

use sea_orm::{ConnectionTrait, Database, DatabaseConnection};

/// For tests that query the database themselves.
pub use sea_orm;

use crate::{Backend, connect, migrate};

/// The environment variable naming the PostgreSQL server for tests.
pub const PG_URL_VAR: &str = "PLENUM_TEST_PG_URL";

/// A database that exists for one test.
pub struct TestDb {
    pub db: DatabaseConnection,
    pub url: String,
    pub backend: Backend,
    cleanup: Cleanup,
}

enum Cleanup {
    Dir(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin_url: String, name: String },
}

impl TestDb {
    /// A fresh database with every migration applied, or `None` when the backend is PostgreSQL
    /// and `PLENUM_TEST_PG_URL` is unset (the README's test command always sets it).
    pub async fn migrated(backend: Backend) -> Option<TestDb> {
        let test_db = Self::empty(backend).await?;
        if let Err(err) = migrate(&test_db.db).await {
            panic!("migrating the test database failed: {err}");
        }
        Some(test_db)
    }

    /// A fresh, empty database (no migrations), or `None` as for [`TestDb::migrated`].
    pub async fn empty(backend: Backend) -> Option<TestDb> {
        match backend {
            Backend::Sqlite => {
                let dir = match tempfile::tempdir() {
                    Ok(dir) => dir,
                    Err(err) => panic!("cannot create a temporary directory: {err}"),
                };
                let url = format!(
                    "sqlite://{}?mode=rwc",
                    dir.path().join("test.sqlite3").display()
                );
                let db = match connect(&url).await {
                    Ok(db) => db,
                    Err(err) => panic!("cannot open the test SQLite database: {err}"),
                };
                Some(TestDb {
                    db,
                    url,
                    backend,
                    cleanup: Cleanup::Dir(dir),
                })
            }
            Backend::Postgres => {
                let Ok(admin_url) = std::env::var(PG_URL_VAR) else {
                    eprintln!("skipping the PostgreSQL case: {PG_URL_VAR} is not set");
                    return None;
                };
                let name = format!("plenum_test_{}", uuid::Uuid::new_v4().simple());
                let admin = match Database::connect(admin_url.as_str()).await {
                    Ok(admin) => admin,
                    Err(err) => panic!("{PG_URL_VAR}={admin_url} is not reachable: {err}"),
                };
                if let Err(err) = admin
                    .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                    .await
                {
                    panic!("cannot create test database {name}: {err}");
                }
                let _ = admin.close().await;
                let url = with_database(&admin_url, &name);
                let db = match connect(&url).await {
                    Ok(db) => db,
                    Err(err) => panic!("cannot connect to test database {name}: {err}"),
                };
                Some(TestDb {
                    db,
                    url,
                    backend,
                    cleanup: Cleanup::Postgres { admin_url, name },
                })
            }
        }
    }
}

/// The same server URL with another database name.
pub fn with_database(server_url: &str, name: &str) -> String {
    let (base, query) = match server_url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (server_url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let base = match base[scheme_end..].find('/') {
        Some(slash) => &base[..scheme_end + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{base}/{name}?{query}"),
        None => format!("{base}/{name}"),
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Cleanup::Postgres { admin_url, name } = &self.cleanup {
            let (admin_url, name) = (admin_url.clone(), name.clone());
            // Drop runs outside any async context we could await in: use a thread of its own.
            let dropper = std::thread::spawn(move || {
                let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                else {
                    return;
                };
                runtime.block_on(async move {
                    if let Ok(admin) = Database::connect(admin_url.as_str()).await {
                        let _ = admin
                            .execute_unprepared(&format!(
                                "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                            ))
                            .await;
                        let _ = admin.close().await;
                    }
                });
            });
            let _ = dropper.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn database_name_is_swapped_in_the_url() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/postgres", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            with_database("postgres://u:p@h:5432/db?sslmode=disable", "x"),
            "postgres://u:p@h:5432/x?sslmode=disable"
        );
        assert_eq!(with_database("postgres://h", "x"), "postgres://h/x");
    }
}
