//! Full-text search against the demo council: German words and prefixes, umlauts, snippets with
//! highlights, and visibility (members only see what they may open; the public only public data).

use std::collections::HashSet;

use plenum_server::demo::demo_body_id;
use plenum_store::Backend;
use plenum_store::repo;
use rstest::rstest;
use serde_json::Value;

use crate::files::{multipart, paper_id, pdf, upload};
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

fn ids(hits: &[Value]) -> HashSet<String> {
    hits.iter()
        .map(|hit| hit["id"].as_str().unwrap().to_owned())
        .collect()
}

/// The highlighted parts of a hit's snippet (offsets are UTF-16 code units).
fn marked(hit: &Value) -> Vec<String> {
    let units: Vec<u16> = hit["snippet"].as_str().unwrap().encode_utf16().collect();
    hit["highlights"]
        .as_array()
        .unwrap()
        .iter()
        .map(|pair| {
            let (start, end) = (
                pair[0].as_u64().unwrap() as usize,
                pair[1].as_u64().unwrap() as usize,
            );
            String::from_utf16(&units[start..end]).unwrap()
        })
        .collect()
}

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test]
async fn search_finds_german_words_by_prefix_with_safe_snippets(#[case] backend: Backend) {
    let Some(app) = spawn_app(backend, true).await else {
        return;
    };
    let member = app.login("anna.hartmann", 0).await;
    let haushalt = paper_id(&app, "VO/10742").await.as_uuid().to_string();

    // "Haushalt" finds "Haushaltssatzung und Haushaltsplan 2027".
    let hits = search(&app, Some(&member.access), "Haushalt").await;
    let paper = hits
        .iter()
        .find(|hit| hit["kind"] == "paper" && hit["id"] == haushalt.as_str())
        .expect("the budget paper is found");
    assert_eq!(paper["paper_id"], haushalt.as_str());
    assert!(paper["meeting_id"].is_null());
    let marks = marked(paper);
    assert!(!marks.is_empty());
    assert!(
        marks
            .iter()
            .all(|m| m.to_lowercase().starts_with("haushalt")),
        "{marks:?}"
    );
    assert!(
        !paper["snippet"].as_str().unwrap().contains('#'),
        "Markdown is stripped"
    );
    // Agenda items that consult it are found, with their meeting.
    assert!(hits.iter().any(|hit| hit["kind"] == "agenda_item"
        && hit["paper_id"] == haushalt.as_str()
        && hit["meeting_id"].is_string()));

    // Umlauts: the word without them finds the word with them.
    let hits = search(&app, None, "Einfuhrung papierloser").await;
    let digital = paper_id(&app, "VO/10744").await.as_uuid().to_string();
    assert!(ids(&hits).contains(&digital), "{hits:?}");

    // Meetings by name, and nothing for gibberish or an empty query.
    let hits = search(&app, None, "Sitzung Rates").await;
    assert!(
        hits.iter()
            .any(|hit| hit["kind"] == "meeting" && hit["meeting_id"] == hit["id"])
    );
    assert!(search(&app, None, "Xylophonquartett").await.is_empty());
    assert!(search(&app, None, "  \"*' ").await.is_empty());

    // A newly uploaded file is found by name, from now on.
    let clerk = app.login("martina.sommer", 0).await;
    let response = upload(
        &app,
        &clerk.access,
        multipart(
            "paper_id",
            &haushalt,
            "Lärmschutzgutachten Nordring.pdf",
            "application/pdf",
            &pdf(500),
        ),
    )
    .await;
    assert_eq!(response.status(), 201);
    let file: Value = response.json().await.unwrap();
    let hits = search(&app, None, "Lärmschutz").await;
    let hit = hits
        .iter()
        .find(|hit| hit["id"] == file["id"])
        .expect("the file is found");
    assert_eq!(hit["kind"], "file");
    assert_eq!(hit["paper_id"], haushalt.as_str());
    assert_eq!(marked(hit), ["Lärmschutzgutachten"]);
    // Deleted: gone from the index.
    let response = app
        .client
        .delete(app.url(&format!("/api/v1/files/{}", file["id"].as_str().unwrap())))
        .bearer_auth(&clerk.access)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    assert!(search(&app, None, "Lärmschutzgutachten").await.is_empty());
    app.stop().await;
}

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test]
async fn search_never_shows_what_the_caller_may_not_open(#[case] backend: Backend) {
    let Some(app) = spawn_app(backend, true).await else {
        return;
    };
    let db = &app.db.db;
    // Everything non-public in the demo: papers, agenda items, and the files of those papers.
    let mut hidden = HashSet::new();
    let mut words = Vec::new();
    for paper in repo::papers::list_by_body(db, demo_body_id(), false)
        .await
        .unwrap()
    {
        if !paper.public {
            hidden.insert(paper.id.as_uuid().to_string());
            words.push(paper.title.as_str().to_owned());
            for file in repo::files::list_by_paper(db, paper.id, false)
                .await
                .unwrap()
            {
                hidden.insert(file.id.as_uuid().to_string());
            }
        }
    }
    for meeting in repo::meetings::list_by_body(db, demo_body_id(), false)
        .await
        .unwrap()
    {
        for item in repo::agenda_items::list_by_meeting(db, meeting.id, false)
            .await
            .unwrap()
        {
            if !item.public {
                hidden.insert(item.id.as_uuid().to_string());
                words.push(item.title.as_str().to_owned());
            }
        }
    }
    assert!(hidden.len() >= 4, "the demo has non-public material");
    words.extend(
        [
            "Personalangelegenheit",
            "Grundstück",
            "Verkauf",
            "Nichtöffentliche",
        ]
        .map(String::from),
    );

    for q in &words {
        let hits = search(&app, None, q).await;
        let leaked: Vec<_> = ids(&hits).intersection(&hidden).cloned().collect();
        assert!(
            leaked.is_empty(),
            "public search for {q:?} leaked {leaked:?}"
        );
    }

    // The finance committee's chair finds the committee's non-public personnel matter …
    let personal = paper_id(&app, "VO/10746").await.as_uuid().to_string();
    let chair = app.login("thomas.schneider", 0).await;
    let hits = search(&app, Some(&chair.access), "Personalangelegenheit").await;
    assert!(ids(&hits).contains(&personal), "{hits:?}");
    assert!(hits.iter().any(|hit| hit["kind"] == "agenda_item"));
    // … an advisory member of another committee, not in the council, does not.
    let outsider = app.login("oezlem.yildiz", 0).await;
    let hits = search(&app, Some(&outsider.access), "Personalangelegenheit").await;
    assert!(ids(&hits).is_disjoint(&hidden), "{hits:?}");
    assert!(hits.is_empty(), "{hits:?}");
    // Signed-out callers get 401 on the member search.
    let response = app
        .client
        .get(app.url("/api/v1/search?q=Haushalt"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    app.stop().await;
}
