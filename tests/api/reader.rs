//! The reading room: text inside uploaded PDFs is extracted after the upload (off the request
//! path), page by page, into the search index; members find a passage with its page, the public
//! only in public files. File metadata reports pages without text. Ranges with If-Range.

use std::time::{Duration, Instant};

use plenum_store::Backend;
use plenum_store::file_text::sample_pdf;
use rstest::rstest;
use serde_json::Value;

use crate::files::{multipart, paper_id, upload};
use crate::helpers::{TestApp, spawn_app};

async fn search(app: &TestApp, access: Option<&str>, q: &str) -> Vec<Value> {
    let path = match access {
        Some(_) => "/api/v1/search",
        None => "/api/v1/public/search",
    };
    let mut request = app
        .client
        .get(app.url(path))
        .query(&[("q", q), ("limit", "50")]);
    if let Some(access) = access {
        request = request.bearer_auth(access);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), 200, "search {q:?}");
    let body: Value = response.json().await.unwrap();
    body["data"].as_array().unwrap().clone()
}

/// The hits for the file `id`.
fn hits_for<'a>(hits: &'a [Value], id: &str) -> Vec<&'a Value> {
    hits.iter().filter(|hit| hit["id"] == id).collect()
}

/// Uploads `pdf` to the paper as `name`; the new file's id.
async fn upload_pdf(app: &TestApp, access: &str, paper: &str, name: &str, pdf: &[u8]) -> String {
    let started = Instant::now();
    let response = upload(
        app,
        access,
        multipart("paper_id", paper, name, "application/pdf", pdf),
    )
    .await;
    assert_eq!(response.status(), 201);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the upload answers without waiting for the extraction"
    );
    let file: Value = response.json().await.unwrap();
    file["id"].as_str().unwrap().to_owned()
}

/// The file's metadata once its text is extracted (polled; extraction runs in the background).
async fn extracted(app: &TestApp, access: &str, id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let response = app.get_with(&format!("/api/v1/files/{id}"), access).await;
        assert_eq!(response.status(), 200);
        let info: Value = response.json().await.unwrap();
        if info["text_status"] != "pending" {
            return info;
        }
        assert!(Instant::now() < deadline, "text extraction did not finish");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn pages(texts: &[&str]) -> Vec<String> {
    texts.iter().map(|text| (*text).to_owned()).collect()
}

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test]
async fn a_passage_inside_a_pdf_is_found_by_those_who_may_read_it(#[case] backend: Backend) {
    let Some(app) = spawn_app(backend, true).await else {
        return;
    };
    let clerk = app.login("martina.sommer", 0).await;
    // VO/10742 is public; VO/10746 (Personalangelegenheit) is non-public, consulted in the finance
    // committee only.
    let public_paper = paper_id(&app, "VO/10742").await.as_uuid().to_string();
    let secret_paper = paper_id(&app, "VO/10746").await.as_uuid().to_string();
    let public_pdf = sample_pdf(
        &pages(&[
            "Begründung der Vorlage. Die Verwaltung schlägt vor, den Haushalt zu beschließen.",
            "",
            "Anlage 3: Das Zisternenförderprogramm Lindenhof fördert Regenwasserspeicher \
             mit bis zu 500 Euro je Grundstück.",
        ]),
        0,
    );
    let public_id = upload_pdf(
        &app,
        &clerk.access,
        &public_paper,
        "Anlagen zur Vorlage.pdf",
        &public_pdf,
    )
    .await;
    let secret_pdf = sample_pdf(
        &pages(&[
            "Vertraulich.",
            "Die Bewerberin erfüllt das Anforderungsprofil Kanalsanierungsrücklage vollständig.",
        ]),
        0,
    );
    let secret_id = upload_pdf(
        &app,
        &clerk.access,
        &secret_paper,
        "Bewerbung.pdf",
        &secret_pdf,
    )
    .await;

    // The metadata tells which pages have text: page 2 is like a scan.
    let member = app.login("anna.hartmann", 0).await;
    let info = extracted(&app, &member.access, &public_id).await;
    assert_eq!(info["text_status"], "done");
    assert_eq!(info["page_count"], 3);
    assert_eq!(info["text_pages"], 2);
    assert_eq!(info["pages_without_text"], serde_json::json!([2]));
    assert_eq!(info["paper_id"], public_paper.as_str());
    assert_eq!(
        info["url"],
        format!("/api/v1/files/{public_id}/content").as_str()
    );
    let chair = app.login("thomas.schneider", 0).await;
    let info = extracted(&app, &chair.access, &secret_id).await;
    assert_eq!(info["text_pages"], 2);

    // A member finds the phrase that occurs only inside the PDF, on its page, with a snippet.
    let hits = search(
        &app,
        Some(&member.access),
        "Zisternenförderprogramm Lindenhof",
    )
    .await;
    let found = hits_for(&hits, &public_id);
    assert_eq!(found.len(), 1, "one hit per file: {hits:?}");
    let hit = found[0];
    assert_eq!(hit["kind"], "file");
    assert_eq!(hit["page"], 3);
    assert_eq!(hit["title"], "Anlagen zur Vorlage.pdf");
    assert_eq!(hit["paper_id"], public_paper.as_str());
    let snippet = hit["snippet"].as_str().unwrap();
    assert!(
        snippet.contains("Zisternenförderprogramm Lindenhof"),
        "{snippet}"
    );
    assert!(!hit["highlights"].as_array().unwrap().is_empty());
    // Umlauts either way, and prefixes, as everywhere in the search.
    let hits = search(&app, Some(&member.access), "zisternenfoerder").await;
    let folded = search(&app, Some(&member.access), "Zisternenförder").await;
    assert!(
        !hits_for(&hits, &public_id).is_empty() || !hits_for(&folded, &public_id).is_empty(),
        "a prefix finds the passage"
    );
    // The public finds it too: the file hangs on a public paper.
    let hits = search(&app, None, "Zisternenförderprogramm").await;
    assert_eq!(hits_for(&hits, &public_id).len(), 1);
    assert_eq!(hits_for(&hits, &public_id)[0]["page"], 3);
    let public_info = app.get(&format!("/api/v1/public/files/{public_id}")).await;
    assert_eq!(public_info.status(), 200);
    let public_info: Value = public_info.json().await.unwrap();
    assert_eq!(
        public_info["url"],
        format!("/api/v1/public/files/{public_id}/content").as_str()
    );

    // The non-public file's text: its committee finds it; the public and outsiders do not.
    let hits = search(&app, Some(&chair.access), "Kanalsanierungsrücklage").await;
    assert_eq!(hits_for(&hits, &secret_id).len(), 1, "{hits:?}");
    assert_eq!(hits_for(&hits, &secret_id)[0]["page"], 2);
    let hits = search(&app, None, "Kanalsanierungsrücklage").await;
    assert!(hits.is_empty(), "the public learns nothing: {hits:?}");
    let outsider = app.login("oezlem.yildiz", 0).await;
    let hits = search(&app, Some(&outsider.access), "Kanalsanierungsrücklage").await;
    assert!(hits.is_empty(), "an outsider learns nothing: {hits:?}");
    assert_eq!(
        app.get(&format!("/api/v1/public/files/{secret_id}"))
            .await
            .status(),
        404
    );
    assert_eq!(
        app.get_with(&format!("/api/v1/files/{secret_id}"), &outsider.access)
            .await
            .status(),
        404
    );

    // A deleted file's text leaves the index.
    let response = app
        .client
        .delete(app.url(&format!("/api/v1/files/{public_id}")))
        .bearer_auth(&clerk.access)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    let hits = search(&app, Some(&member.access), "Zisternenförderprogramm").await;
    assert!(hits_for(&hits, &public_id).is_empty(), "{hits:?}");
    app.stop().await;
}

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test]
async fn unreadable_pdfs_are_reported_and_ranges_honour_if_range(#[case] backend: Backend) {
    let Some(app) = spawn_app(backend, true).await else {
        return;
    };
    let clerk = app.login("martina.sommer", 0).await;
    let paper = paper_id(&app, "VO/10742").await.as_uuid().to_string();
    // Looks like a PDF (magic bytes) but is not one: extraction fails and says so.
    let damaged = crate::files::pdf(3_000);
    let damaged_id = upload_pdf(&app, &clerk.access, &paper, "Kaputt.pdf", &damaged).await;
    let info = extracted(&app, &clerk.access, &damaged_id).await;
    assert_eq!(info["text_status"], "failed");
    assert_eq!(info["page_count"], 0);

    // Ranges: what the viewer's PDF.js asks for.
    let pdf = sample_pdf(&pages(&["Seite eins", "Seite zwei"]), 20_000);
    let id = upload_pdf(&app, &clerk.access, &paper, "Bilder.pdf", &pdf).await;
    let url = format!("/api/v1/files/{id}/content");
    let member = app.login("anna.hartmann", 0).await;
    let get = |headers: Vec<(&'static str, String)>| {
        let mut request = app.client.get(app.url(&url)).bearer_auth(&member.access);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        request.send()
    };
    let whole = get(vec![]).await.unwrap();
    assert_eq!(whole.status(), 200);
    assert_eq!(whole.headers()["accept-ranges"], "bytes");
    assert!(whole.headers().get("content-encoding").is_none());
    let etag = whole.headers()["etag"].to_str().unwrap().to_owned();
    let size = pdf.len();
    // The tail first (PDF.js reads the cross-reference table at the end).
    let response = get(vec![("range", "bytes=-1024".into())]).await.unwrap();
    assert_eq!(response.status(), 206);
    assert_eq!(
        response.headers()["content-range"],
        format!("bytes {}-{}/{size}", size - 1024, size - 1).as_str()
    );
    assert_eq!(response.bytes().await.unwrap(), &pdf[size - 1024..]);
    // If-Range with the current ETag: the part; with another: the whole (new) content.
    let response = get(vec![
        ("range", "bytes=0-99".into()),
        ("if-range", etag.clone()),
    ])
    .await
    .unwrap();
    assert_eq!(response.status(), 206);
    assert_eq!(response.bytes().await.unwrap(), &pdf[..100]);
    let response = get(vec![
        ("range", "bytes=0-99".into()),
        ("if-range", "\"something-else\"".into()),
    ])
    .await
    .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.bytes().await.unwrap().len(), size);
    // Beyond the end: 416 with the size, as a problem document.
    let response = get(vec![("range", format!("bytes={size}-"))])
        .await
        .unwrap();
    assert_eq!(response.status(), 416);
    assert_eq!(
        response.headers()["content-range"],
        format!("bytes */{size}").as_str()
    );
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    app.stop().await;
}
