//! Files: upload (streamed, limited, type-checked), dedup, download with ETag and ranges,
//! visibility, and interrupted uploads, against the real server.

use std::path::Path;
use std::time::Duration;

use plenum_domain::*;
use plenum_server::demo::demo_body_id;
use plenum_store::Backend;
use plenum_store::repo;
use rstest::rstest;
use serde_json::Value;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{TestApp, spawn_app_with};

const BOUNDARY: &str = "plenum-test-boundary-7f3a";
const LIMIT: u64 = 64 * 1024;

/// A PDF-looking body of `len` bytes whose content is unique to this call.
pub fn pdf(len: usize) -> Vec<u8> {
    let mut bytes = format!("%PDF-1.7\n% {}\n", uuid::Uuid::new_v4()).into_bytes();
    let mut i = 0u32;
    while bytes.len() < len {
        bytes.extend_from_slice(format!("{i} 0 obj\n").as_bytes());
        i += 1;
    }
    bytes.truncate(len);
    bytes
}

/// `multipart/form-data`: the attachment field, then the file part.
pub fn multipart(field: &str, id: &str, name: &str, media_type: &str, content: &[u8]) -> Vec<u8> {
    let mut body = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{field}\"\r\n\r\n{id}\r\n\
         --{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
         Content-Type: {media_type}\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(content);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    body
}

pub async fn upload(app: &TestApp, access: &str, body: Vec<u8>) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/files"))
        .bearer_auth(access)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(body)
        .send()
        .await
        .unwrap()
}

/// The demo paper whose reference starts with `prefix` (the demo appends the year).
pub async fn paper_id(app: &TestApp, prefix: &str) -> PaperId {
    repo::papers::list_by_body(&app.db.db, demo_body_id(), false)
        .await
        .unwrap()
        .into_iter()
        .find(|paper| paper.reference.as_str().starts_with(&format!("{prefix}/")))
        .unwrap()
        .id
}

/// Every regular file below `dir` (none if it does not exist).
fn files_below(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(files_below(&path));
        } else {
            found.push(path);
        }
    }
    found
}

async fn spawn(backend: Backend) -> Option<TestApp> {
    spawn_app_with(backend, true, |config| config.upload_limit = LIMIT).await
}

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test]
async fn upload_download_round_trip_with_dedup_ranges_and_delete(#[case] backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let clerk = app.login("martina.sommer", 0).await;
    let paper = paper_id(&app, "VO/10742").await.as_uuid().to_string();
    let blob_dir = app.config.blob_dir();
    let blobs_before = files_below(&blob_dir).len();

    let content = pdf(40_000);
    let digest = hex::encode(Sha256::digest(&content));
    // (Quotes in names are covered by the unit test: browsers send them as %22 in multipart.)
    let name = "Haushaltssatzung 2027 – Entwurf Größe.pdf";
    let response = upload(
        &app,
        &clerk.access,
        multipart("paper_id", &paper, name, "application/pdf", &content),
    )
    .await;
    assert_eq!(response.status(), 201);
    let etag = response.headers()["etag"].to_str().unwrap().to_owned();
    assert_eq!(etag, format!("\"{digest}\""));
    let first: Value = response.json().await.unwrap();
    assert_eq!(first["name"], name);
    assert_eq!(first["media_type"], "application/pdf");
    assert_eq!(first["size"], 40_000);
    let url = first["url"].as_str().unwrap().to_owned();
    assert_eq!(
        url,
        format!("/api/v1/files/{}/content", first["id"].as_str().unwrap())
    );

    // The same content again: a second file, one blob.
    let response = upload(
        &app,
        &clerk.access,
        multipart(
            "paper_id",
            &paper,
            "Kopie.pdf",
            "application/octet-stream",
            &content,
        ),
    )
    .await;
    assert_eq!(response.status(), 201);
    let second: Value = response.json().await.unwrap();
    assert_ne!(first["id"], second["id"]);
    assert_eq!(files_below(&blob_dir).len(), blobs_before + 1);
    assert!(
        files_below(&app.config.data_dir.join("uploads")).is_empty(),
        "no temporary upload files remain"
    );

    // Download: the same bytes, with safe headers.
    let member = app.login("anna.hartmann", 0).await;
    let response = app.get_with(&url, &member.access).await;
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    assert_eq!(headers["etag"], etag.as_str());
    assert_eq!(headers["accept-ranges"], "bytes");
    assert_eq!(headers["content-type"], "application/pdf");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert!(
        headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'none'")
    );
    let disposition = headers["content-disposition"].to_str().unwrap();
    assert!(
        disposition.starts_with("inline; filename=\""),
        "{disposition}"
    );
    assert!(
        disposition.contains(
            "filename*=UTF-8''Haushaltssatzung%202027%20%E2%80%93%20Entwurf%20Gr%C3%B6%C3%9Fe.pdf"
        ),
        "{disposition}"
    );
    let bytes = response.bytes().await.unwrap();
    assert_eq!(hex::encode(Sha256::digest(&bytes)), digest);

    // Conditional request and ranges.
    let get = |headers: Vec<(&'static str, String)>| {
        let mut request = app.client.get(app.url(&url)).bearer_auth(&member.access);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        request.send()
    };
    let response = get(vec![("if-none-match", etag.clone())]).await.unwrap();
    assert_eq!(response.status(), 304);
    let response = get(vec![("range", "bytes=100-199".into())]).await.unwrap();
    assert_eq!(response.status(), 206);
    assert_eq!(response.headers()["content-range"], "bytes 100-199/40000");
    assert_eq!(response.bytes().await.unwrap(), &content[100..200]);
    let response = get(vec![("range", "bytes=-10".into())]).await.unwrap();
    assert_eq!(response.status(), 206);
    assert_eq!(response.bytes().await.unwrap(), &content[39_990..]);
    let response = get(vec![("range", "bytes=40000-".into())]).await.unwrap();
    assert_eq!(response.status(), 416);
    assert_eq!(response.headers()["content-range"], "bytes */40000");

    // The public paper's file is public too.
    let public_url = url.replace("/api/v1/files/", "/api/v1/public/files/");
    let response = app.get(&public_url).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.bytes().await.unwrap(), content);

    // Members may not upload or delete.
    let response = upload(
        &app,
        &member.access,
        multipart("paper_id", &paper, "x.pdf", "application/pdf", &pdf(100)),
    )
    .await;
    assert_eq!(response.status(), 403);

    // Deleting one file keeps the shared blob; deleting the other removes it.
    let delete = |id: &Value, if_match: &str| {
        app.client
            .delete(app.url(&format!("/api/v1/files/{}", id.as_str().unwrap())))
            .bearer_auth(&clerk.access)
            .header("if-match", if_match.to_owned())
            .send()
    };
    assert_eq!(
        delete(&first["id"], "\"stale\"").await.unwrap().status(),
        412
    );
    assert_eq!(delete(&first["id"], &etag).await.unwrap().status(), 204);
    assert_eq!(files_below(&blob_dir).len(), blobs_before + 1);
    assert_eq!(app.get_with(&url, &member.access).await.status(), 404);
    assert_eq!(delete(&second["id"], "*").await.unwrap().status(), 204);
    assert_eq!(files_below(&blob_dir).len(), blobs_before);
    app.stop().await;
}

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test]
async fn uploads_are_refused_by_size_and_by_content(#[case] backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let clerk = app.login("martina.sommer", 0).await;
    let paper = paper_id(&app, "VO/10742").await.as_uuid().to_string();
    let blobs_before = files_below(&app.config.blob_dir()).len();

    let response = upload(
        &app,
        &clerk.access,
        multipart(
            "paper_id",
            &paper,
            "gross.pdf",
            "application/pdf",
            &pdf(LIMIT as usize + 1),
        ),
    )
    .await;
    assert_eq!(response.status(), 413);
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["type"], "/problems/too-large");

    let mut exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00".to_vec();
    exe.extend_from_slice(&[0; 200]);
    for (name, media_type, content) in [
        ("programm.pdf", "application/pdf", exe.clone()),
        ("programm.exe", "application/octet-stream", exe),
        (
            "notiz.pdf",
            "application/pdf",
            b"Nur Text, kein PDF.".to_vec(),
        ),
        ("echt.docx", "application/pdf", pdf(500)),
        ("echt.pdf", "image/png", pdf(500)),
    ] {
        let response = upload(
            &app,
            &clerk.access,
            multipart("paper_id", &paper, name, media_type, &content),
        )
        .await;
        assert_eq!(response.status(), 415, "{name} as {media_type}");
    }
    assert_eq!(files_below(&app.config.blob_dir()).len(), blobs_before);
    assert!(files_below(&app.config.data_dir.join("uploads")).is_empty());
    app.stop().await;
}

/// Sends the request head and `body` on a raw connection; returns the connection.
async fn raw_upload(
    app: &TestApp,
    access: &str,
    declared: usize,
    body: &[u8],
) -> tokio::net::TcpStream {
    let mut stream = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let head = format!(
        "POST /api/v1/files HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {access}\r\n\
         Content-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: {declared}\r\n\r\n",
        app.addr
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    stream.flush().await.unwrap();
    stream
}

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test]
async fn interrupted_and_oversized_uploads_leave_nothing_behind(#[case] backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let clerk = app.login("martina.sommer", 0).await;
    let paper = paper_id(&app, "VO/10742").await.as_uuid().to_string();
    let blob_dir = app.config.blob_dir();
    let uploads = app.config.data_dir.join("uploads");
    let blobs_before = files_below(&blob_dir).len();

    // Half a body, then the client hangs up.
    let body = multipart(
        "paper_id",
        &paper,
        "halb.pdf",
        "application/pdf",
        &pdf(40_000),
    );
    let stream = raw_upload(&app, &clerk.access, body.len(), &body[..body.len() / 2]).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    drop(stream);
    let mut clean = false;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if files_below(&uploads).is_empty() {
            clean = true;
            break;
        }
    }
    assert!(
        clean,
        "the partial upload was removed: {:?}",
        files_below(&uploads)
    );
    assert_eq!(files_below(&blob_dir).len(), blobs_before);

    // A body announced far over the limit is refused as soon as the limit is crossed, without
    // waiting for the rest.
    let body = multipart(
        "paper_id",
        &paper,
        "riesig.pdf",
        "application/pdf",
        &pdf(100_000),
    );
    let mut stream = raw_upload(&app, &clerk.access, 10 * 1024 * 1024, &body).await;
    let mut response = vec![0; 4096];
    let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut response))
        .await
        .expect("the server answers before the body is complete")
        .unwrap();
    let response = String::from_utf8_lossy(&response[..n]);
    assert!(response.starts_with("HTTP/1.1 413"), "{response}");
    drop(stream);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(files_below(&uploads).is_empty());
    assert_eq!(files_below(&blob_dir).len(), blobs_before);
    app.stop().await;
}

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test]
async fn non_public_files_are_invisible_to_outsiders(#[case] backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let clerk = app.login("martina.sommer", 0).await;
    // VO/10746 (Personalangelegenheit) is non-public and consulted in the finance committee only.
    let paper = paper_id(&app, "VO/10746").await.as_uuid().to_string();
    let response = upload(
        &app,
        &clerk.access,
        multipart(
            "paper_id",
            &paper,
            "Bewerbung.pdf",
            "application/pdf",
            &pdf(2_000),
        ),
    )
    .await;
    assert_eq!(response.status(), 201);
    let file: Value = response.json().await.unwrap();
    let id = file["id"].as_str().unwrap();
    let member_url = format!("/api/v1/files/{id}/content");

    // The finance committee's chair sees it.
    let chair = app.login("thomas.schneider", 0).await;
    assert_eq!(app.get_with(&member_url, &chair.access).await.status(), 200);
    // An advisory member of another committee, not in the council, does not even learn it exists.
    let outsider = app.login("oezlem.yildiz", 0).await;
    let response = app.get_with(&member_url, &outsider.access).await;
    assert_eq!(response.status(), 404);
    // Neither do citizens, on either path.
    assert_eq!(app.get(&member_url).await.status(), 401);
    assert_eq!(
        app.get(&format!("/api/v1/public/files/{id}/content"))
            .await
            .status(),
        404
    );
    assert_eq!(
        app.get(&format!("/oparl/v1/file/{id}/access"))
            .await
            .status(),
        404
    );
    // The demo's own file of that paper is just as hidden.
    let demo_files = repo::files::list_by_paper(
        &app.db.db,
        PaperId::from_uuid(uuid::Uuid::parse_str(&paper).unwrap()),
        false,
    )
    .await
    .unwrap();
    for demo_file in demo_files {
        let url = format!("/api/v1/public/files/{}/content", demo_file.id.as_uuid());
        assert_eq!(app.get(&url).await.status(), 404);
    }
    app.stop().await;
}

#[tokio::test]
async fn a_slow_upload_finishes_and_a_stalled_one_is_cut() {
    // One second without data cuts an upload; the upload as a whole has no time limit.
    let Some(app) = spawn_app_with(Backend::Sqlite, true, |config| {
        config.upload_limit = LIMIT;
        config.request_timeout_secs = 1;
    })
    .await
    else {
        return;
    };
    let clerk = app.login("martina.sommer", 0).await;
    let paper = paper_id(&app, "VO/10742").await.as_uuid().to_string();
    let uploads = app.config.data_dir.join("uploads");

    // 2.4 s in all, never more than 0.6 s without data: stored.
    let body = multipart(
        "paper_id",
        &paper,
        "langsam.pdf",
        "application/pdf",
        &pdf(40_000),
    );
    let quarter = body.len() / 4;
    let mut stream = raw_upload(&app, &clerk.access, body.len(), &body[..quarter]).await;
    for part in body[quarter..].chunks(quarter) {
        tokio::time::sleep(Duration::from_millis(600)).await;
        stream.write_all(part).await.unwrap();
        stream.flush().await.unwrap();
    }
    let mut response = vec![0; 8192];
    let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut response))
        .await
        .expect("an answer")
        .unwrap();
    let response = String::from_utf8_lossy(&response[..n]);
    assert!(response.starts_with("HTTP/1.1 201"), "{response}");

    // Half a body, then silence: 408 after the idle time, nothing left behind.
    let body = multipart(
        "paper_id",
        &paper,
        "haengt.pdf",
        "application/pdf",
        &pdf(40_000),
    );
    let mut stream = raw_upload(&app, &clerk.access, body.len(), &body[..body.len() / 2]).await;
    let mut response = vec![0; 8192];
    let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut response))
        .await
        .expect("the server gives up on a stalled upload")
        .unwrap();
    let response = String::from_utf8_lossy(&response[..n]);
    assert!(response.starts_with("HTTP/1.1 408"), "{response}");
    assert!(response.contains("/problems/upload-stalled"), "{response}");
    drop(stream);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        files_below(&uploads).is_empty(),
        "{:?}",
        files_below(&uploads)
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn deleting_a_file_while_its_content_is_uploaded_again_keeps_the_content() {
    let Some(app) = spawn(Backend::Sqlite).await else {
        return;
    };
    let clerk = app.login("martina.sommer", 0).await;
    let paper = paper_id(&app, "VO/10742").await.as_uuid().to_string();
    for round in 0..10u8 {
        // A content of its own each round, uploaded once.
        let mut content = pdf(20_000);
        content.push(round);
        let body = || {
            multipart(
                "paper_id",
                &paper,
                "gleich.pdf",
                "application/pdf",
                &content,
            )
        };
        let first: Value = upload(&app, &clerk.access, body())
            .await
            .json()
            .await
            .unwrap();
        let first_id = first["id"].as_str().unwrap().to_owned();
        // Delete it while the same content is uploaded again.
        let delete = app
            .client
            .delete(app.url(&format!("/api/v1/files/{first_id}")))
            .bearer_auth(&clerk.access)
            .send();
        let again = upload(&app, &clerk.access, body());
        let (deleted, again) = tokio::join!(delete, again);
        assert_eq!(deleted.unwrap().status(), 204, "round {round}");
        assert_eq!(again.status(), 201, "round {round}");
        let again: Value = again.json().await.unwrap();
        let download = app
            .client
            .get(app.url(again["url"].as_str().unwrap()))
            .bearer_auth(&clerk.access)
            .send()
            .await
            .unwrap();
        assert_eq!(download.status(), 200, "round {round}");
        assert_eq!(download.bytes().await.unwrap().as_ref(), content.as_slice());
    }
    app.stop().await;
}
