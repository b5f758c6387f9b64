//! Probes, the system overview, problem documents and the web app's headers.

use plenum_store::Backend;
use rstest::rstest;
use serde_json::Value;

use crate::helpers::spawn_app;

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test]
async fn probes_answer_and_name_the_database(#[case] backend: Backend) {
    let Some(app) = spawn_app(backend, false).await else {
        return;
    };
    let health = app.get("/healthz").await;
    assert_eq!(health.status(), 200);
    assert_eq!(health.json::<Value>().await.unwrap()["status"], "ok");
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), 200);
    let body: Value = ready.json().await.unwrap();
    assert_eq!(body["status"], "ready");
    assert_eq!(body["database"], backend.as_str());
    app.stop().await;
}

#[tokio::test]
async fn readiness_fails_closed_when_the_database_goes_away() {
    let Some(app) = spawn_app(Backend::Postgres, false).await else {
        return;
    };
    assert_eq!(app.get("/readyz").await.status(), 200);
    // Pull the database out from under the running server.
    let admin_url = std::env::var(plenum_store::testing::PG_URL_VAR).unwrap();
    let name = app.db.url.rsplit('/').next().unwrap().to_owned();
    let admin = sea_orm::Database::connect(admin_url.as_str())
        .await
        .unwrap();
    use sea_orm::ConnectionTrait;
    admin
        .execute_unprepared(&format!("DROP DATABASE \"{name}\" WITH (FORCE)"))
        .await
        .unwrap();
    let response = app.get("/readyz").await;
    assert_eq!(response.status(), 503);
    assert_eq!(response.headers()["retry-after"], "5");
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["type"], "/problems/database-unavailable");
    let system = app.get("/api/v1/system").await;
    assert_eq!(system.status(), 503, "reads fail closed too");
    // Liveness does not depend on the database.
    assert_eq!(app.get("/healthz").await.status(), 200);
    app.stop().await;
}

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test]
async fn system_overview_lists_the_demo_council(#[case] backend: Backend) {
    let Some(app) = spawn_app(backend, true).await else {
        return;
    };
    let system: Value = app.get("/api/v1/system").await.json().await.unwrap();
    assert_eq!(system["product"], "Plenum");
    assert_eq!(system["version"], env!("CARGO_PKG_VERSION"));
    let bodies = system["bodies"].as_array().unwrap();
    assert_eq!(bodies.len(), 1);
    let body = &bodies[0];
    assert_eq!(body["name"], "Stadt Musterstadt");
    assert_eq!(body["organizations"], 11);
    assert_eq!(body["persons"], 40);
    assert_eq!(body["meetings"], 4);
    assert_eq!(body["papers"], 7);
    app.stop().await;
}

#[tokio::test]
async fn empty_database_lists_no_bodies() {
    let app = spawn_app(Backend::Sqlite, false).await.unwrap();
    let system: Value = app.get("/api/v1/system").await.json().await.unwrap();
    assert_eq!(system["bodies"].as_array().unwrap().len(), 0);
    app.stop().await;
}

#[tokio::test]
async fn unknown_api_paths_and_methods_are_problem_documents() {
    let app = spawn_app(Backend::Sqlite, false).await.unwrap();
    let response = app.get("/api/v1/no-such-thing").await;
    assert_eq!(response.status(), 404);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["type"], "/problems/not-found");
    assert_eq!(problem["status"], 404);

    let response = app
        .client
        .delete(app.url("/api/v1/system"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["type"], "/problems/method-not-allowed");
    app.stop().await;
}

#[tokio::test]
async fn openapi_document_describes_the_endpoints() {
    let app = spawn_app(Backend::Sqlite, false).await.unwrap();
    let doc: Value = app.get("/api/v1/openapi.json").await.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for path in [
        "/healthz",
        "/readyz",
        "/api/v1/system",
        "/api/v1/openapi.json",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} is documented");
    }
    assert!(doc["components"]["schemas"]["Problem"].is_object());
    app.stop().await;
}

#[tokio::test]
async fn web_app_is_served_with_a_strict_policy_and_client_routes_fall_back() {
    let app = spawn_app(Backend::Sqlite, false).await.unwrap();
    let index = app.get("/").await;
    assert_eq!(index.status(), 200);
    let csp = index.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("script-src 'self'"));
    assert!(!csp.contains("unsafe-inline"));
    assert_eq!(index.headers()["x-content-type-options"], "nosniff");
    assert_eq!(index.headers()["cache-control"], "no-cache");
    assert!(index.headers().contains_key("etag") || index.headers().contains_key("last-modified"));
    let html = index.text().await.unwrap();
    assert!(html.contains("Plenum"));
    assert!(html.contains("/healthz"));

    let script = app.get("/app.js").await;
    assert_eq!(script.status(), 200);
    assert!(
        script.headers()["content-type"]
            .to_str()
            .unwrap()
            .contains("javascript")
    );

    let client_route = app.get("/sitzungen/123").await;
    assert_eq!(client_route.status(), 200);
    assert!(client_route.text().await.unwrap().contains("Plenum"));
    app.stop().await;
}

#[tokio::test]
async fn api_and_oparl_responses_carry_nosniff_and_a_policy_that_loads_nothing() {
    let app = spawn_app(Backend::Sqlite, false).await.unwrap();
    for (path, status) in [
        ("/api/v1/system", 200),
        ("/api/v1/no-such-thing", 404),
        ("/api/v1/me", 401),
        ("/oparl/v1", 200),
        ("/oparl/v1/no-such-thing", 404),
        ("/healthz", 200),
    ] {
        let response = app.get(path).await;
        assert_eq!(response.status(), status, "{path}");
        let headers = response.headers();
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(
            headers["content-security-policy"], "default-src 'none'; frame-ancestors 'none'",
            "{path}"
        );
        assert!(
            !headers.contains_key("strict-transport-security"),
            "{path}: no HSTS over plain HTTP"
        );
    }
    // The web app keeps its own policy.
    let index = app.get("/").await;
    let csp = index.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    app.stop().await;
}

#[tokio::test]
async fn hsts_is_sent_when_plenum_is_served_over_https() {
    let app = crate::helpers::spawn_app_with(Backend::Sqlite, false, |config| {
        config.cookie_secure = true;
    })
    .await
    .unwrap();
    for path in ["/api/v1/system", "/oparl/v1", "/", "/api/v1/no-such-thing"] {
        let response = app.get(path).await;
        assert_eq!(
            response.headers()["strict-transport-security"],
            "max-age=31536000; includeSubDomains",
            "{path}"
        );
    }
    app.stop().await;
}

/// The service worker keeps the app shell for offline use, and only what it lists: a module the
/// app imports but the list lacks breaks that screen offline (a meeting opened on the tablet
/// before a session without network). Every script under `web/js` must be listed.
#[test]
fn the_service_worker_keeps_every_module_of_the_app() {
    let web = crate::helpers::web_dir();
    let sw = std::fs::read_to_string(web.join("sw.js")).unwrap();
    let mut missing = Vec::new();
    let mut dirs = vec![web.join("js")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "js") {
                let rel = path
                    .strip_prefix(&web)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                if !sw.contains(&format!("\"/{rel}\"")) {
                    missing.push(rel);
                }
            }
        }
    }
    assert!(missing.is_empty(), "not in web/sw.js SHELL: {missing:?}");
}
