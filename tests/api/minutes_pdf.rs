//! The draft minutes and the decision extract as PDF/A: who may fetch them, what they hold, and
//! that the public part's PDF holds nothing of the non-public part.

use std::process::Command;

use plenum_store::Backend;
use rstest::rstest;
use serde_json::json;

use crate::decisions::{clerk, get, vote};
use crate::helpers::{TestApp, spawn_app};
use crate::live::{LiveClient, committee, create_and_open, start_and_check_in};

/// Status, headers and body of a GET.
async fn fetch(
    app: &TestApp,
    path: &str,
    token: Option<&str>,
) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let mut request = app.client.get(app.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let r = request.send().await.unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, headers, r.bytes().await.unwrap().to_vec())
}

/// The PDF's text with whitespace collapsed, via Debian's pdftotext (None, with a message,
/// where it is not installed).
pub(crate) fn pdf_text(pdf: &[u8]) -> Option<String> {
    let path = std::env::temp_dir().join(format!("plenum-api-{}.pdf", uuid::Uuid::new_v4()));
    std::fs::write(&path, pdf).unwrap();
    let out = Command::new("pdftotext")
        .args(["-enc", "UTF-8"])
        .arg(&path)
        .arg("-")
        .output();
    let _ = std::fs::remove_file(&path);
    match out {
        Ok(out) if out.status.success() => Some(
            String::from_utf8(out.stdout)
                .unwrap()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" "),
        ),
        Ok(out) => panic!("pdftotext: {}", String::from_utf8_lossy(&out.stderr)),
        Err(_) => {
            eprintln!(
                "SKIPPED text checks: pdftotext is not installed (apt-get install poppler-utils)"
            );
            None
        }
    }
}

fn assert_pdf(headers: &reqwest::header::HeaderMap, body: &[u8], name: &str) {
    assert_eq!(headers["content-type"], "application/pdf");
    let disposition = headers["content-disposition"].to_str().unwrap();
    assert!(
        disposition.starts_with("attachment;") && disposition.contains(name),
        "{disposition}"
    );
    assert!(body.starts_with(b"%PDF-"), "a PDF");
    let head = String::from_utf8_lossy(body);
    assert!(head.contains("pdfaid:part"), "PDF/A identification");
}

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_draft_minutes_and_the_decision_extract_print_as_pdf(#[case] backend: Backend) {
    let Some(app) = spawn_app(backend, false).await else {
        return;
    };
    let c = committee(&app, 4).await;
    let other = committee(&app, 2).await;
    let (_, clerk_token) = clerk(&app).await;
    let mut chair = LiveClient::connect(&app, Some(&c.members[0].1), c.meeting, None).await;
    start_and_check_in(&app, &c, &mut chair, &[0, 1, 2]).await;
    chair
        .command(json!({"type": "declare_quorum", "quorate": true}))
        .await;
    let poll = create_and_open(&mut chair, c.public_item, "named", "simple", &[]).await;
    vote(&app, c.meeting, &c.members[0].1, poll, "yes").await;
    vote(&app, c.meeting, &c.members[1].1, poll, "yes").await;
    vote(&app, c.meeting, &c.members[2].1, poll, "no").await;
    chair
        .command(json!({"type": "close_poll", "poll": poll}))
        .await;
    for (item, body) in [
        (
            c.public_item,
            json!({"kind": "adopted", "text": "Der Ausschuss beschließt den **Neubau** der Feuerwache.", "poll": poll}),
        ),
        (
            c.secret_item,
            json!({"kind": "referred", "referred_to": "Liegenschaftsausschuss", "text": "Vertraulicher Kaufpreis Flurstück 9"}),
        ),
    ] {
        let (_, etag, _) = get(
            &app,
            &format!("/api/v1/agenda-items/{item}"),
            Some(&clerk_token),
        )
        .await;
        let r = app
            .client
            .put(app.url(&format!("/api/v1/agenda-items/{item}/decision")))
            .bearer_auth(&clerk_token)
            .header("If-Match", etag.unwrap())
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }

    // The public part: the item, its decision, the named vote; nothing of the non-public part.
    let draft = format!("/api/v1/meetings/{}/minutes/draft.pdf", c.meeting);
    let (status, headers, pdf) =
        fetch(&app, &format!("{draft}?part=public"), Some(&clerk_token)).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&pdf));
    assert_pdf(&headers, &pdf, "Niederschrift");
    if let Some(text) = pdf_text(&pdf) {
        for expected in [
            "Stadt Prüfstadt",
            "Niederschrift",
            "Prüfsitzung",
            "öffentlicher Teil",
            "ENTWURF",
            "Seite 1 von",
            "Ö 1",
            "Beschluss: angenommen",
            "Neubau der Feuerwache",
            "namentliche Abstimmung",
            "einfache Mehrheit",
            "Mitglied001",
            "Mitglied002",
        ] {
            assert!(
                text.contains(expected),
                "{expected:?} in the public part: {text}"
            );
        }
        for secret in [
            "Flurstück",
            "Kaufpreis",
            "Liegenschaftsausschuss",
            "Grundstücksgeschäft",
        ] {
            assert!(
                !text.contains(secret),
                "{secret} leaked into the public part"
            );
        }
    }

    // The non-public part holds its item.
    let (status, headers, pdf) = fetch(
        &app,
        &format!("{draft}?part=non_public"),
        Some(&clerk_token),
    )
    .await;
    assert_eq!(status, 200);
    assert_pdf(&headers, &pdf, "nicht%C3%B6ffentlicher");
    if let Some(text) = pdf_text(&pdf) {
        assert!(text.contains("Grundstücksgeschäft Flur 9"), "{text}");
        assert!(
            text.contains("verwiesen an Liegenschaftsausschuss"),
            "{text}"
        );
        assert!(!text.contains("Feuerwache"), "{text}");
    }

    // Who may read the JSON draft may read the PDF: members of the committee; others 404,
    // anonymous 401, a bad part 400.
    let (status, _, _) = fetch(&app, &format!("{draft}?part=public"), Some(&c.members[1].1)).await;
    assert_eq!(status, 200);
    for part in ["public", "non_public"] {
        let (status, _, _) = fetch(
            &app,
            &format!("{draft}?part={part}"),
            Some(&other.members[1].1),
        )
        .await;
        assert_eq!(status, 404, "{part}");
    }
    let (status, _, _) = fetch(&app, &format!("{draft}?part=public"), None).await;
    assert_eq!(status, 401);
    let (status, headers, body) =
        fetch(&app, &format!("{draft}?part=secret"), Some(&clerk_token)).await;
    assert_eq!(status, 400);
    assert_eq!(headers["content-type"], "application/problem+json");
    assert!(String::from_utf8_lossy(&body).contains("part"));
    let (status, _, _) = fetch(
        &app,
        &format!(
            "/api/v1/meetings/{}/minutes/draft.pdf",
            uuid::Uuid::new_v4()
        ),
        Some(&clerk_token),
    )
    .await;
    assert_eq!(status, 404);

    // The decision extract: the clerk's.
    let extract = |item: plenum_domain::AgendaItemId| {
        format!("/api/v1/agenda-items/{item}/decision/extract.pdf")
    };
    let (status, headers, pdf) = fetch(&app, &extract(c.public_item), Some(&clerk_token)).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&pdf));
    assert_pdf(&headers, &pdf, "Beschlussauszug");
    if let Some(text) = pdf_text(&pdf) {
        for expected in [
            "Beschlussauszug",
            "Großer Prüfausschuss",
            "Prüfsitzung",
            "Ö 1",
            "Neubau der Feuerwache",
            "Beschluss angenommen",
            "einfache Mehrheit",
            "Ja Nein Enthaltung 2 1 0",
            "Mitglied002",
        ] {
            assert!(
                text.contains(expected),
                "{expected:?} in the extract: {text}"
            );
        }
        assert!(!text.contains("ENTWURF"), "a recorded decision is no draft");
    }
    let (status, _, pdf) = fetch(&app, &extract(c.secret_item), Some(&clerk_token)).await;
    assert_eq!(status, 200);
    if let Some(text) = pdf_text(&pdf) {
        assert!(text.contains("nichtöffentlich"), "{text}");
        assert!(
            text.contains("Vertraulicher Kaufpreis Flurstück 9"),
            "{text}"
        );
    }
    // A member who sees the item: 403; one who does not see the non-public item: 404.
    let (status, headers, _) = fetch(&app, &extract(c.public_item), Some(&c.members[1].1)).await;
    assert_eq!(status, 403);
    assert_eq!(headers["content-type"], "application/problem+json");
    let (status, _, _) = fetch(&app, &extract(c.secret_item), Some(&other.members[1].1)).await;
    assert_eq!(status, 404);
    let (status, _, _) = fetch(&app, &extract(c.public_item), None).await;
    assert_eq!(status, 401);
    let (status, _, _) = fetch(
        &app,
        "/api/v1/agenda-items/not-a-uuid/decision/extract.pdf",
        Some(&clerk_token),
    )
    .await;
    assert_eq!(status, 400);
    app.stop().await;
}
