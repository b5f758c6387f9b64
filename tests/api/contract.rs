//! The API contract at its edges: out-of-range, negative and non-numeric paging values, malformed
//! path and query parameters, unknown paths and methods. Every one answers a 4xx problem document
//! (`application/problem+json`), never a 5xx or a dropped connection.

use plenum_server::demo::demo_body_id;
use plenum_store::Backend;
use reqwest::Method;
use rstest::rstest;
use serde_json::Value;

use crate::helpers::{TestApp, spawn_app};

/// Sends the request and checks that it answers `expected` with a problem document whose
/// `status` matches; returns the problem.
async fn problem(
    app: &TestApp,
    method: Method,
    path: &str,
    access: Option<&str>,
    expected: u16,
) -> Value {
    let mut request = app.client.request(method.clone(), app.url(path));
    if let Some(access) = access {
        request = request.bearer_auth(access);
    }
    let response = request
        .send()
        .await
        .unwrap_or_else(|err| panic!("{method} {path}: no answer ({err})"));
    let status = response.status().as_u16();
    assert_eq!(status, expected, "{method} {path}");
    assert_eq!(
        response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/problem+json"),
        "{method} {path}"
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], expected, "{method} {path}: {body}");
    assert!(
        body["type"]
            .as_str()
            .is_some_and(|t| t.starts_with("/problems/"))
    );
    body
}

/// Numbers no paging parameter accepts: beyond `u64` and `i64`, negative, zero where counting
/// starts at 1, not numbers at all.
const BAD_NUMBERS: [&str; 9] = [
    "9223372036854775808",
    "18446744073709551615",
    "18446744073709551616",
    "99999999999999999999999999999",
    "-1",
    "-9223372036854775809",
    "1e3",
    "many",
    "",
];

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test]
async fn every_paging_parameter_rejects_out_of_range_values_with_a_problem(
    #[case] backend: Backend,
) {
    let Some(app) = spawn_app(backend, true).await else {
        return;
    };
    let member = app.login("thomas.schneider", 0).await;
    let meeting = uuid::Uuid::new_v4();
    // (path, parameter, signed in, smallest and largest accepted value)
    let lists: [(String, &str, bool, u64, u64); 4] = [
        ("/api/v1/public/papers".into(), "page", false, 1, 1_000_000),
        ("/api/v1/public/search".into(), "limit", false, 1, 50),
        ("/api/v1/search".into(), "limit", true, 1, 50),
        (
            format!("/api/v1/meetings/{meeting}/live/events"),
            "after",
            false,
            0,
            9_007_199_254_740_991,
        ),
    ];
    for (path, name, signed_in, min, max) in &lists {
        let access = signed_in.then_some(member.access.as_str());
        let below = min.checked_sub(1).map(|n| n.to_string());
        let above = (max + 1).to_string();
        for value in BAD_NUMBERS
            .iter()
            .copied()
            .chain(below.as_deref())
            .chain([above.as_str()])
        {
            let url = format!("{path}?{name}={value}");
            let body = problem(&app, Method::GET, &url, access, 400).await;
            assert_eq!(body["type"], "/problems/invalid-query", "{url}");
        }
        // The bounds themselves are accepted (the live events of an unknown meeting: 404).
        for value in [min, max] {
            let url = format!("{path}?{name}={value}");
            let mut request = app.client.get(app.url(&url));
            if let Some(access) = access {
                request = request.bearer_auth(access);
            }
            let status = request.send().await.unwrap().status().as_u16();
            assert!(status == 200 || status == 404, "{url}: {status}");
        }
    }
    // The anonymous report of issue 13 in particular.
    problem(
        &app,
        Method::GET,
        "/api/v1/public/papers?page=9223372036854775808",
        None,
        400,
    )
    .await;

    // OParl lists: `limit` from 1 to 2^63 - 1 (int64); OParl lets a server serve fewer than
    // asked, so a larger limit is served as 500 (as the OpenAPI document says). Anything else: 400.
    let lists = format!("/oparl/v1/body/{}", demo_body_id().as_uuid());
    for value in [
        "0",
        "-1",
        "many",
        "1e3",
        "",
        "-9223372036854775809",
        "9223372036854775808",
        "99999999999999999999999999999",
    ] {
        let response = app.get(&format!("{lists}/paper?limit={value}")).await;
        assert_eq!(response.status(), 400, "limit={value}");
        crate::oparl::oparl_error(response).await;
    }
    for value in ["501", "9223372036854775807"] {
        let response = app.get(&format!("{lists}/paper?limit={value}")).await;
        assert_eq!(response.status(), 200, "limit={value}");
        let page: Value = response.json().await.unwrap();
        assert_eq!(page["pagination"]["elementsPerPage"], 500, "limit={value}");
    }
    app.stop().await;
}

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test]
async fn path_and_query_rejections_are_problem_documents(#[case] backend: Backend) {
    let Some(app) = spawn_app(backend, true).await else {
        return;
    };
    let member = app.login("thomas.schneider", 0).await;
    let access = Some(member.access.as_str());
    // Malformed path parameters: 400 invalid-path.
    for (path, signed_in) in [
        ("/api/v1/public/meetings/not-a-uuid", false),
        ("/api/v1/public/papers/42", false),
        ("/api/v1/public/files/not-a-uuid/content", false),
        ("/api/v1/meetings/not-a-uuid/live", false),
        ("/api/v1/meetings/not-a-uuid/live/events", false),
        ("/api/v1/notes/not-a-uuid", true),
        ("/api/v1/threads/not-a-uuid", true),
        ("/api/v1/posts/not-a-uuid/history", true),
        ("/api/v1/forums/not-a-uuid/threads", true),
        ("/api/v1/meetings/not-a-uuid", true),
        ("/api/v1/files/not-a-uuid/content", true),
    ] {
        let body = problem(
            &app,
            Method::GET,
            path,
            signed_in.then_some(member.access.as_str()),
            400,
        )
        .await;
        assert_eq!(body["type"], "/problems/invalid-path", "{path}");
    }
    for (method, path) in [
        (Method::DELETE, "/api/v1/me/devices/not-a-uuid"),
        (Method::DELETE, "/api/v1/posts/not-a-uuid"),
        (Method::DELETE, "/api/v1/files/not-a-uuid"),
    ] {
        let body = problem(&app, method, path, access, 400).await;
        assert_eq!(body["type"], "/problems/invalid-path", "{path}");
    }
    // Malformed or missing query parameters: 400 invalid-query.
    for (path, signed_in) in [
        ("/api/v1/public/meetings?from=yesterday", false),
        ("/api/v1/public/search?limit=x", false),
        ("/api/v1/notes?paper_id=not-a-uuid", true),
        ("/api/v1/forums/search", true),
        ("/api/v1/notes/search", true),
        ("/api/v1/meetings?when=tomorrow", true),
    ] {
        let body = problem(
            &app,
            Method::GET,
            path,
            signed_in.then_some(member.access.as_str()),
            400,
        )
        .await;
        assert_eq!(body["type"], "/problems/invalid-query", "{path}");
    }
    // OParl: a path segment that is not UTF-8 once decoded, and a bad omit_internal.
    let lists = format!("/oparl/v1/body/{}", demo_body_id().as_uuid());
    for path in [
        "/oparl/v1/paper/%FF%FE".to_owned(),
        format!("{lists}/paper?omit_internal=maybe"),
    ] {
        let response = app.get(&path).await;
        assert_eq!(response.status(), 400, "{path}");
        crate::oparl::oparl_error(response).await;
    }
    // Unknown paths and methods under /api: problems too.
    problem(&app, Method::GET, "/api/v1/no/such/thing", None, 404).await;
    problem(&app, Method::PUT, "/api/v1/public/papers", None, 405).await;
    problem(&app, Method::DELETE, "/api/v1/search", access, 405).await;
    app.stop().await;
}
