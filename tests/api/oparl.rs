//! OParl 1.1 and the iCalendar feed, black-box: every object the demo council serves is walked,
//! checked against the OParl JSON schemas (`tests/fixtures/oparl/schema`, copied from the OParl spec) and against the rules the schemas
//! cannot express, and searched for anything non-public.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;

use chrono::{SecondsFormat, Utc};
use plenum_domain::*;
use plenum_server::demo::demo_body_id;
use plenum_store::Backend;
use plenum_store::repo;
use rstest::rstest;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::helpers::{TestApp, assert_no_secret, secrets, spawn_app};

const TYPE_PREFIX: &str = "https://schema.oparl.org/1.1/";
const TYPES: [&str; 12] = [
    "System",
    "Body",
    "LegislativeTerm",
    "Organization",
    "Person",
    "Membership",
    "Location",
    "Meeting",
    "AgendaItem",
    "Paper",
    "Consultation",
    "File",
];

// --- JSON schemas ------------------------------------------------------------------------------

fn schema_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/oparl/schema")
}

/// Resolves `$ref`s between the schema files (`Location.json`, `…/1.1/Organization`) from disk.
struct SchemaFiles(PathBuf);

impl jsonschema::Retrieve for SchemaFiles {
    fn retrieve(
        &self,
        uri: &jsonschema::Uri<String>,
    ) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        let name = uri.as_str().rsplit('/').next().unwrap_or_default();
        let name = name.trim_end_matches(".json");
        let text = std::fs::read_to_string(self.0.join(format!("{name}.json")))?;
        Ok(serde_json::from_str(&text)?)
    }
}

/// One validator per type and schema folder: `1.1` (the published schemas, whose embedded objects
/// are only typed as `object`) and `1.1-draft7` (the same with real `$ref`s, so embedded objects
/// are checked too).
pub(crate) struct Schemas(Vec<(String, HashMap<String, jsonschema::Validator>)>);

impl Schemas {
    pub(crate) fn load() -> Schemas {
        let mut folders = Vec::new();
        for folder in ["1.1", "1.1-draft7"] {
            let dir = schema_root().join(folder);
            let mut validators = HashMap::new();
            for name in TYPES {
                let text = std::fs::read_to_string(dir.join(format!("{name}.json")))
                    .unwrap_or_else(|err| panic!("{folder}/{name}.json: {err}"));
                let schema: Value = serde_json::from_str(&text).unwrap();
                let validator = jsonschema::options()
                    .with_retriever(SchemaFiles(dir.clone()))
                    .should_validate_formats(true)
                    .with_format("url", |s: &str| {
                        s.starts_with("https://") || s.starts_with("http://")
                    })
                    .build(&schema)
                    .unwrap_or_else(|err| panic!("{folder}/{name}.json does not compile: {err}"));
                validators.insert(name.to_owned(), validator);
            }
            folders.push((folder.to_owned(), validators));
        }
        Schemas(folders)
    }

    /// Validates an object against the schema of its `type`, in both folders.
    pub(crate) fn check(&self, object: &Value) {
        let kind = type_name(object);
        for (folder, validators) in &self.0 {
            let validator = &validators[kind];
            let errors: Vec<String> = validator
                .iter_errors(object)
                .map(|e| format!("{} at {}", e, e.instance_path()))
                .collect();
            assert!(
                errors.is_empty(),
                "{} is not a valid {kind} ({folder}): {errors:#?}\n{object:#}",
                object["id"]
            );
        }
    }
}

fn type_name(object: &Value) -> &str {
    let url = object["type"]
        .as_str()
        .unwrap_or_else(|| panic!("no type: {object}"));
    let name = url
        .strip_prefix(TYPE_PREFIX)
        .unwrap_or_else(|| panic!("type {url} is not an OParl 1.1 type URL"));
    assert!(TYPES.contains(&name), "unknown type {url}");
    name
}

// --- Fetching ----------------------------------------------------------------------------------

/// Every response body served during a test, to search for non-public text.
#[derive(Default)]
struct Seen {
    bodies: Vec<String>,
}

impl Seen {
    /// GETs an absolute OParl URL: 200, JSON, CORS open to all.
    async fn get(&mut self, app: &TestApp, url: &str) -> Value {
        let response = app.client.get(url).send().await.unwrap();
        assert_eq!(response.status(), 200, "GET {url}");
        let headers = response.headers().clone();
        assert_eq!(headers["access-control-allow-origin"], "*", "CORS on {url}");
        assert_eq!(headers["content-type"], "application/json", "type of {url}");
        let text = response.text().await.unwrap();
        let value: Value = serde_json::from_str(&text).unwrap();
        self.bodies.push(text);
        value
    }

    /// Walks a list from its first page along `links.next`; checks the page documents and that
    /// no object comes twice. Returns the objects in order.
    async fn walk(&mut self, app: &TestApp, first: &str) -> Vec<Value> {
        let mut objects = Vec::new();
        let mut ids = HashSet::new();
        let mut url = first.to_owned();
        let mut pages = 0;
        let mut per_page = None;
        let mut previous: Option<String> = None;
        let total;
        loop {
            pages += 1;
            assert!(pages < 1000, "{first} does not end");
            let page = self.get(app, &url).await;
            let data = page["data"]
                .as_array()
                .unwrap_or_else(|| panic!("{url}: no data"));
            let pagination = page["pagination"].as_object().expect("pagination");
            let links = page["links"].as_object().expect("links");
            assert_eq!(links["self"], url.as_str(), "links.self of {url}");
            assert_eq!(links["first"], first, "links.first of {url}");
            match &previous {
                Some(prev) => assert_eq!(links["prev"], prev.as_str(), "links.prev of {url}"),
                None => assert!(links.get("prev").is_none(), "prev on the first page"),
            }
            let this_per_page = pagination["elementsPerPage"].as_u64().unwrap();
            assert!(data.len() as u64 <= this_per_page);
            if let Some(size) = per_page {
                assert_eq!(size, this_per_page, "elementsPerPage changes in {first}");
            }
            per_page = Some(this_per_page);
            assert_eq!(pagination["currentPage"].as_u64().unwrap(), pages as u64);
            for object in data {
                let id = object["id"].as_str().unwrap().to_owned();
                assert!(ids.insert(id.clone()), "{id} appears twice in {first}");
                objects.push(object.clone());
            }
            match links.get("next") {
                Some(next) => {
                    assert_eq!(
                        data.len() as u64,
                        this_per_page,
                        "short page before the end"
                    );
                    previous = Some(url.clone());
                    url = next.as_str().unwrap().to_owned();
                }
                None => {
                    total = pagination["totalElements"].as_u64().unwrap();
                    assert_eq!(pagination["totalPages"].as_u64().unwrap(), pages as u64);
                    break;
                }
            }
        }
        assert_eq!(objects.len() as u64, total, "totalElements of {first}");
        objects
    }
}

/// `url` with one more query parameter.
fn with_param(url: &str, param: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{param}")
}

/// Every OParl object in `value`, embedded ones included (path, object).
fn objects_in<'a>(value: &'a Value, path: &str, out: &mut Vec<(String, &'a Value)>) {
    match value {
        Value::Object(map) => {
            if map.contains_key("type") && map.contains_key("id") && !path.is_empty() {
                out.push((path.to_owned(), value));
            }
            for (key, inner) in map {
                objects_in(inner, &format!("{path}/{key}"), out);
            }
        }
        Value::Array(items) => {
            for (i, inner) in items.iter().enumerate() {
                objects_in(inner, &format!("{path}/{i}"), out);
            }
        }
        _ => {}
    }
}

fn strings_in(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|v| strings_in(v, out)),
        Value::Object(map) => map.values().for_each(|v| strings_in(v, out)),
        _ => {}
    }
}

/// An OParl error object (JSON, `type` …/Error, a `message`, maybe `debug`, nothing else).
pub async fn oparl_error(response: reqwest::Response) -> Value {
    assert_eq!(response.headers()["content-type"], "application/json");
    let error: Value = response.json().await.unwrap();
    assert_eq!(
        error["type"], "https://schema.oparl.org/1.1/Error",
        "{error}"
    );
    assert!(error["message"].is_string(), "{error}");
    for key in error.as_object().unwrap().keys() {
        assert!(
            ["type", "message", "debug"].contains(&key.as_str()),
            "{key} in {error}"
        );
    }
    error
}

// --- Tests -------------------------------------------------------------------------------------

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test]
async fn every_object_is_valid_reachable_and_public(#[case] backend: Backend) {
    let Some(app) = spawn_app(backend, true).await else {
        return;
    };
    let schemas = Schemas::load();
    let base = app.url("/oparl/v1");
    let mut seen = Seen::default();

    // System → bodies → every list (and every organization's meetings).
    let system = seen.get(&app, &base).await;
    assert_eq!(system["id"], base.as_str());
    assert_eq!(system["oparlVersion"], "https://schema.oparl.org/1.1/");
    assert!(system["license"].as_str().unwrap().starts_with("https://"));
    schemas.check(&system);
    let mut listed: BTreeMap<String, Value> = BTreeMap::new();
    let bodies = seen.walk(&app, system["body"].as_str().unwrap()).await;
    assert_eq!(bodies.len(), 1);
    let mut list_sizes = BTreeMap::new();
    for body in &bodies {
        assert!(body["license"].is_string());
        for field in [
            "organization",
            "person",
            "meeting",
            "paper",
            "agendaItem",
            "consultation",
            "file",
            "locationList",
            "legislativeTermList",
            "membership",
        ] {
            let url = body[field]
                .as_str()
                .unwrap_or_else(|| panic!("Body.{field} missing"));
            let objects = seen.walk(&app, url).await;
            // The same list in small pages: the same objects in the same order.
            let paged = seen.walk(&app, &with_param(url, "limit=3")).await;
            assert_eq!(objects, paged, "{field} paged by 3 differs");
            list_sizes.insert(field, objects.len());
            for object in objects {
                if field == "organization" {
                    let meetings = seen.walk(&app, object["meeting"].as_str().unwrap()).await;
                    for meeting in meetings {
                        listed.insert(meeting["id"].as_str().unwrap().to_owned(), meeting);
                    }
                }
                listed.insert(object["id"].as_str().unwrap().to_owned(), object);
            }
        }
        listed.insert(body["id"].as_str().unwrap().to_owned(), body.clone());
    }
    // The demo council, less what is not public: 5 of 7 papers, 7 of 9 files, 39 of 40 persons
    // (the clerk is staff, not published).
    assert_eq!(list_sizes["organization"], 11);
    assert_eq!(list_sizes["person"], 39);
    assert_eq!(list_sizes["meeting"], 4);
    assert_eq!(list_sizes["paper"], 5);
    assert_eq!(list_sizes["file"], 7);
    assert_eq!(list_sizes["locationList"], 2);
    assert_eq!(list_sizes["legislativeTermList"], 1);
    assert!(list_sizes["membership"] > 60);
    assert!(list_sizes["agendaItem"] >= 12);

    // Every object, listed or embedded: valid, typed, and served at its id.
    let mut all: Vec<(String, Value)> = Vec::new();
    for object in listed.values() {
        let mut found = Vec::new();
        objects_in(object, "", &mut found);
        for (_, embedded) in found {
            all.push(("embedded".into(), embedded.clone()));
        }
        all.push(("listed".into(), object.clone()));
    }
    let mut fetched: HashMap<String, Value> = HashMap::new();
    for (how, object) in &all {
        schemas.check(object);
        let id = object["id"].as_str().unwrap();
        assert!(
            id.starts_with(&format!("{base}/")),
            "id {id} is not an absolute URL of this server"
        );
        assert!(
            object.get("deleted").is_none(),
            "no tombstones without modified_since"
        );
        if !fetched.contains_key(id) {
            let own = seen.get(&app, id).await;
            schemas.check(&own);
            fetched.insert(id.to_owned(), own);
        }
        let own = &fetched[id];
        if how == "listed" {
            assert_eq!(own, object, "{id} differs from its list entry");
        } else {
            // Embedded copies leave out back-references; everything else is the same.
            for (key, value) in object.as_object().unwrap() {
                assert_eq!(
                    &own[key], value,
                    "{id}.{key} differs from the embedded copy"
                );
            }
        }
    }
    let types: HashSet<&str> = fetched.values().map(type_name).collect();
    for kind in &TYPES[1..] {
        assert!(types.contains(kind), "no {kind} was served");
    }
    // Back-references are present on objects served on their own.
    for own in fetched.values() {
        match type_name(own) {
            "AgendaItem" => assert!(own["meeting"].is_string()),
            "Consultation" => assert!(own["paper"].is_string()),
            "Membership" => assert!(own["person"].is_string()),
            "LegislativeTerm" => assert!(own["body"].is_string()),
            "File" => assert!(own["paper"].is_array() || own["meeting"].is_array()),
            _ => {}
        }
        // No e-mail addresses of persons.
        if type_name(own) == "Person" {
            assert!(own.get("email").is_none());
        }
    }

    // Non-public things: never served, not even by their own URL.
    let secrets = secrets(&app).await;
    for text in &seen.bodies {
        let value: Value = serde_json::from_str(text).unwrap();
        let mut strings = Vec::new();
        strings_in(&value, &mut strings);
        for s in strings {
            assert_no_secret(&secrets, "an OParl response", &s);
        }
    }
    let hidden = secrets
        .papers
        .iter()
        .map(|p| format!("{base}/paper/{p}"))
        .chain(
            secrets
                .items
                .iter()
                .map(|i| format!("{base}/agendaItem/{i}")),
        )
        .chain(secrets.files.iter().flat_map(|f| {
            [
                format!("{base}/file/{f}"),
                format!("{base}/file/{f}/access"),
                format!("{base}/file/{f}/download"),
            ]
        }));
    for url in hidden {
        let response = app.client.get(&url).send().await.unwrap();
        assert_eq!(response.status(), 404, "{url} must not be served");
        assert_eq!(response.headers()["content-type"], "application/json");
        let text = response.text().await.unwrap();
        assert_no_secret(&secrets, &url, &text);
    }
    let ics = app.get("/api/v1/meetings.ics").await.text().await.unwrap();
    assert_no_secret(&secrets, "the calendar feed", &ics.replace("\r\n ", ""));

    // Files: the bytes behind accessUrl (inline) and downloadUrl (attachment).
    let file = fetched
        .values()
        .find(|o| type_name(o) == "File")
        .unwrap()
        .clone();
    let download = app
        .client
        .get(file["downloadUrl"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(download.status(), 200);
    assert_eq!(download.headers()["content-type"], "application/pdf");
    let disposition = download.headers()["content-disposition"].to_str().unwrap();
    assert!(
        disposition.starts_with("attachment; filename="),
        "{disposition}"
    );
    let bytes = download.bytes().await.unwrap();
    assert_eq!(bytes.len() as u64, file["size"].as_u64().unwrap());
    assert_eq!(
        hex_digest(&bytes),
        file["plenum:sha256Checksum"].as_str().unwrap()
    );
    let access = app
        .client
        .get(file["accessUrl"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(access.status(), 200);
    let disposition = access.headers()["content-disposition"].to_str().unwrap();
    assert!(disposition.starts_with("inline"), "{disposition}");
    app.stop().await;
}

fn hex_digest(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test]
async fn modified_since_lists_changes_and_tombstones(#[case] backend: Backend) {
    let Some(app) = spawn_app(backend, true).await else {
        return;
    };
    let schemas = Schemas::load();
    let db = &app.db.db;
    let body = demo_body_id();
    let base = app.url("/oparl/v1");
    let lists = format!("{base}/body/{body}");
    let mut seen = Seen::default();
    let papers_before = seen.walk(&app, &format!("{lists}/paper")).await;
    let meetings_before = seen.walk(&app, &format!("{lists}/meeting")).await;

    let since = Utc::now();
    let since_param = format!(
        "modified_since={}",
        urlencode(&since.to_rfc3339_opts(SecondsFormat::Micros, false))
    );
    // Nothing changed yet.
    let empty = seen
        .walk(&app, &format!("{lists}/paper?{since_param}"))
        .await;
    assert!(empty.is_empty(), "{empty:#?}");

    // Delete one public paper; delete a consultation of another (embedded: bumps its paper);
    // delete a public agenda item (embedded: bumps its meeting).
    let papers = repo::papers::list_by_body(db, body, false).await.unwrap();
    let public: Vec<&Paper> = papers.iter().filter(|p| p.public).collect();
    let gone = public[0];
    let changed = public.iter().find(|p| p.id != gone.id).copied().unwrap();
    repo::papers::delete(db, gone.id).await.unwrap();
    let steps = repo::consultations::list_by_paper(db, changed.id, false)
        .await
        .unwrap();
    repo::consultations::delete(db, steps[0].id).await.unwrap();
    let meeting = repo::meetings::list_by_body(db, body, false).await.unwrap()[0].clone();
    let agenda = repo::agenda_items::list_by_meeting(db, meeting.id, false)
        .await
        .unwrap();
    let item = agenda.iter().find(|i| i.public).unwrap();
    repo::agenda_items::delete(db, item.id).await.unwrap();

    let changes = seen
        .walk(&app, &format!("{lists}/paper?{since_param}"))
        .await;
    let by_id: HashMap<&str, &Value> = changes
        .iter()
        .map(|p| (p["id"].as_str().unwrap(), p))
        .collect();
    assert_eq!(changes.len(), 2, "{changes:#?}");
    let tombstone = by_id[format!("{base}/paper/{}", gone.id).as_str()];
    assert_eq!(tombstone["deleted"], true);
    assert_eq!(tombstone["type"], "https://schema.oparl.org/1.1/Paper");
    assert!(
        tombstone.get("name").is_none(),
        "a tombstone carries no content"
    );
    schemas.check(tombstone);
    let bumped = by_id[format!("{base}/paper/{}", changed.id).as_str()];
    assert!(bumped.get("deleted").is_none());
    let consultation_url = format!("{base}/consultation/{}", steps[0].id);
    assert!(
        !bumped.to_string().contains(&consultation_url),
        "deleted consultation still embedded"
    );
    schemas.check(bumped);
    // The tombstone at its own URL; the deleted consultation and agenda item likewise.
    let own = seen.get(&app, &format!("{base}/paper/{}", gone.id)).await;
    assert_eq!(&own, tombstone);
    for url in [
        consultation_url.clone(),
        format!("{base}/agendaItem/{}", item.id),
    ] {
        let own = seen.get(&app, &url).await;
        assert_eq!(own["deleted"], true, "{url}");
        schemas.check(&own);
    }
    // Without modified_since, deleted objects are not listed.
    let papers_after = seen.walk(&app, &format!("{lists}/paper")).await;
    assert_eq!(papers_after.len(), papers_before.len() - 1);
    assert!(
        papers_after
            .iter()
            .all(|p| p["id"] != format!("{base}/paper/{}", gone.id).as_str())
    );
    let consultations = seen.walk(&app, &format!("{lists}/consultation")).await;
    assert!(
        consultations
            .iter()
            .all(|c| c["id"] != consultation_url.as_str())
    );
    let consultations = seen
        .walk(&app, &format!("{lists}/consultation?{since_param}"))
        .await;
    assert!(
        consultations
            .iter()
            .any(|c| c["id"] == consultation_url.as_str() && c["deleted"] == true)
    );
    // Changed meetings: the one whose agenda lost an item, and the one whose agenda item lost
    // its consultation (an agenda item links its consultation). No others.
    let mut expected: HashSet<String> = HashSet::from([format!("{base}/meeting/{}", meeting.id)]);
    if let Some(m) = steps[0].meeting_id {
        expected.insert(format!("{base}/meeting/{m}"));
    }
    // And the meetings of the agenda items the deleted paper was consulted on: deleting changes
    // the paper's visibility, which raises those items (see `plenum_store::visibility`).
    for step in repo::consultations::list_by_paper(db, gone.id, true)
        .await
        .unwrap()
    {
        if let Some(item) = step.agenda_item_id {
            let item = repo::agenda_items::get(db, item).await.unwrap();
            expected.insert(format!("{base}/meeting/{}", item.meeting_id));
        }
    }
    let meetings = seen
        .walk(&app, &format!("{lists}/meeting?{since_param}"))
        .await;
    let got: HashSet<String> = meetings
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(got, expected);
    let deleted_item = format!("{base}/agendaItem/{}", item.id);
    assert!(
        !meetings
            .iter()
            .any(|m| m.to_string().contains(&deleted_item))
    );
    let agenda_items = seen
        .walk(&app, &format!("{lists}/agendaItem?{since_param}"))
        .await;
    assert!(agenda_items.iter().any(|i| i["deleted"] == true));
    for object in agenda_items.iter().chain(&meetings) {
        schemas.check(object);
    }
    // modified_until before the changes: the old state of the list, without tombstones.
    let until = format!(
        "modified_until={}",
        urlencode(&since.to_rfc3339_opts(SecondsFormat::Micros, false))
    );
    let old = seen.walk(&app, &format!("{lists}/meeting?{until}")).await;
    assert_eq!(old.len(), meetings_before.len() - expected.len());
    // created_since in the future: nothing.
    let none = seen
        .walk(
            &app,
            &format!("{lists}/meeting?created_since=2999-01-01T00%3A00%3A00%2B01%3A00"),
        )
        .await;
    assert!(none.is_empty());
    // Filters are carried into the links.
    let page = seen
        .get(&app, &format!("{lists}/person?limit=5&{until}"))
        .await;
    let next = page["links"]["next"].as_str().unwrap();
    assert!(
        next.contains("modified_until=") && next.contains("limit=5"),
        "{next}"
    );

    // omit_internal=true leaves out embedded lists, and the objects stay valid.
    let lean = seen
        .walk(&app, &format!("{lists}/meeting?omit_internal=true"))
        .await;
    assert_eq!(lean.len(), meetings_before.len());
    for meeting in &lean {
        assert!(meeting.get("agendaItem").is_none() && meeting.get("auxiliaryFile").is_none());
        schemas.check(meeting);
    }
    let lean = seen
        .walk(&app, &format!("{lists}/person?limit=7&omit_internal=true"))
        .await;
    assert!(lean.iter().all(|p| p.get("membership").is_none()));

    // Bad dates and limits: 400 problem documents, with CORS.
    for query in [
        "modified_since=yesterday",
        "created_until=2026-13-01T00:00:00Z",
        "modified_until=2026-01-01",
        "limit=0",
        "limit=many",
        "after=not-an-id",
    ] {
        let url = format!("{lists}/paper?{query}");
        let response = app.client.get(&url).send().await.unwrap();
        assert_eq!(response.status(), 400, "{url}");
        assert_eq!(response.headers()["access-control-allow-origin"], "*");
        let error = oparl_error(response).await;
        assert!(error["debug"].is_string(), "{url}: {error}");
    }
    // Unknown ids, types and lists: 404 problem documents, with CORS.
    let unknown = uuid::Uuid::new_v4();
    for path in [
        format!("/oparl/v1/paper/{unknown}"),
        format!("/oparl/v1/meeting/{unknown}"),
        format!("/oparl/v1/body/{unknown}"),
        format!("/oparl/v1/body/{unknown}/paper"),
        format!("/oparl/v1/body/{body}/nonsense"),
        format!("/oparl/v1/file/{unknown}/download"),
        "/oparl/v1/paper/not-a-uuid".to_owned(),
        "/oparl/v1/user/1".to_owned(),
        "/oparl/v1/no/such/path".to_owned(),
    ] {
        let response = app.get(&path).await;
        assert_eq!(response.status(), 404, "{path}");
        assert_eq!(response.headers()["access-control-allow-origin"], "*");
        let error = oparl_error(response).await;
        assert_eq!(error["message"], "Das angeforderte Objekt existiert nicht.");
    }
    // The deleted paper's file content is gone; the System has one canonical URL.
    let gone_file = repo::files::list_by_paper(db, gone.id, false)
        .await
        .unwrap();
    assert!(!gone_file.is_empty());
    let response = app
        .get(&format!("/oparl/v1/file/{}/download", gone_file[0].id))
        .await;
    assert_eq!(response.status(), 200, "the file itself was not deleted");
    repo::files::delete(db, gone_file[0].id).await.unwrap();
    let response = app
        .get(&format!("/oparl/v1/file/{}/download", gone_file[0].id))
        .await;
    assert_eq!(response.status(), 410);
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for path in ["/oparl/v1/system", "/oparl/v1/"] {
        let response = no_redirects.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 301, "{path}");
        assert_eq!(response.headers()["location"], base.as_str());
    }
    // A CORS preflight from any origin is answered.
    let response = app
        .client
        .request(reqwest::Method::OPTIONS, format!("{lists}/paper"))
        .header("origin", "https://example.org")
        .header("access-control-request-method", "GET")
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
    assert_eq!(response.headers()["access-control-allow-origin"], "*");
    app.stop().await;
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

// --- iCalendar ---------------------------------------------------------------------------------

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test]
async fn calendar_feed_lists_meetings_that_are_not_cancelled(#[case] backend: Backend) {
    let Some(app) = spawn_app(backend, true).await else {
        return;
    };
    let db = &app.db.db;
    let meetings = repo::meetings::list_by_body(db, demo_body_id(), false)
        .await
        .unwrap();
    assert_eq!(meetings.len(), 4);
    // Cancel the planned meeting; give another a name that needs escaping.
    let planned = meetings
        .iter()
        .find(|m| m.state == MeetingState::Planned)
        .unwrap();
    repo::meetings::transition(db, planned.id, MeetingState::Cancelled)
        .await
        .unwrap();
    let mut renamed = meetings
        .iter()
        .find(|m| m.state == MeetingState::Invited)
        .unwrap()
        .clone();
    renamed.name = Name::parse(
        "Sondersitzung; Haushalt, Teil 2 – Bürgerbeteiligung und Stellungnahmen der Ortsräte",
    )
    .unwrap();
    repo::meetings::update(db, renamed.clone()).await.unwrap();

    let response = app.get("/api/v1/meetings.ics").await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/calendar; charset=utf-8"
    );
    let bytes = response.bytes().await.unwrap();
    let text = std::str::from_utf8(&bytes).unwrap();
    assert!(text.ends_with("\r\n"));
    // Physical lines: CRLF only, at most 75 octets.
    let physical: Vec<&str> = text.strip_suffix("\r\n").unwrap().split("\r\n").collect();
    for line in &physical {
        assert!(line.len() <= 75, "{} octets: {line:?}", line.len());
        assert!(!line.contains('\n') && !line.contains('\r'));
    }
    assert!(
        physical.iter().any(|l| l.starts_with(' ')),
        "something was folded"
    );
    // Unfold, then parse line by line.
    let unfolded = text.replace("\r\n ", "");
    let lines: Vec<&str> = unfolded
        .strip_suffix("\r\n")
        .unwrap()
        .split("\r\n")
        .collect();
    assert_eq!(lines.first(), Some(&"BEGIN:VCALENDAR"));
    assert_eq!(lines.last(), Some(&"END:VCALENDAR"));
    assert!(lines.contains(&"VERSION:2.0"));
    assert!(lines.iter().any(|l| l.starts_with("PRODID:")));
    let mut events: Vec<HashMap<String, String>> = Vec::new();
    let mut current: Option<HashMap<String, String>> = None;
    for line in &lines {
        let (name, value) = line
            .split_once(':')
            .unwrap_or_else(|| panic!("bad line {line:?}"));
        match (name, value) {
            ("BEGIN", "VEVENT") => {
                assert!(current.is_none());
                current = Some(HashMap::new());
            }
            ("END", "VEVENT") => events.push(current.take().unwrap()),
            _ => {
                if let Some(event) = current.as_mut() {
                    assert!(
                        event.insert(name.to_owned(), value.to_owned()).is_none(),
                        "{name} twice"
                    );
                }
            }
        }
    }
    assert_eq!(
        events.len(),
        3,
        "one event per meeting that is not cancelled"
    );
    let mut uids = HashSet::new();
    for event in &events {
        for property in ["UID", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY", "LOCATION"] {
            assert!(
                event.contains_key(property),
                "{property} missing: {event:?}"
            );
        }
        assert!(uids.insert(event["UID"].clone()));
        for property in ["DTSTAMP", "DTSTART", "DTEND"] {
            let value = &event[property];
            assert!(
                value.len() == 16 && value.ends_with('Z') && value.as_bytes()[8] == b'T',
                "{property}:{value} is not a UTC date-time"
            );
        }
        // Commas and semicolons in text values are escaped.
        for property in ["SUMMARY", "LOCATION"] {
            let value = event[property]
                .replace("\\\\", "")
                .replace("\\,", "")
                .replace("\\;", "");
            assert!(
                !value.contains(',') && !value.contains(';'),
                "{property}: {}",
                event[property]
            );
        }
    }
    assert!(
        !events
            .iter()
            .any(|e| e["UID"].contains(&planned.id.to_string()))
    );
    let special = events
        .iter()
        .find(|e| e["UID"].contains(&renamed.id.to_string()))
        .unwrap();
    assert_eq!(
        special["SUMMARY"],
        "Sondersitzung\\; Haushalt\\, Teil 2 – Bürgerbeteiligung und Stellungnahmen der Ortsräte"
    );
    assert!(special["LOCATION"].contains("Marktplatz 1\\, 12345 Musterstadt"));
    let start = renamed.start.format("%Y%m%dT%H%M%SZ").to_string();
    assert_eq!(special["DTSTART"], start);

    // The feed and the OParl endpoints are in the OpenAPI document.
    let doc: Value = app.get("/api/v1/openapi.json").await.json().await.unwrap();
    for path in [
        "/api/v1/meetings.ics",
        "/oparl/v1",
        "/oparl/v1/body",
        "/oparl/v1/body/{id}/{list}",
        "/oparl/v1/{type}/{id}",
        "/oparl/v1/file/{id}/download",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} is documented");
    }
    app.stop().await;
}

/// Objects that turn non-public, and what belongs to a deleted meeting, look to OParl exactly
/// like deleted objects: tombstones in `modified_since` lists and at their own URL, gone from
/// the plain lists, nothing of their content anywhere.
#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test]
async fn withdrawn_objects_and_children_of_deleted_meetings_are_tombstones(
    #[case] backend: Backend,
) {
    let Some(app) = spawn_app(backend, true).await else {
        return;
    };
    let schemas = Schemas::load();
    let db = &app.db.db;
    let body = demo_body_id();
    let base = app.url("/oparl/v1");
    let lists = format!("{base}/body/{body}");
    // What was never public, before anything turns non-public.
    let never_public = secrets(&app).await;
    let files = repo::files::list_by_body(db, body, false).await.unwrap();
    let meetings = repo::meetings::list_by_body(db, body, false).await.unwrap();

    // A public paper with a file.
    let papers = repo::papers::list_by_body(db, body, false).await.unwrap();
    let paper = papers
        .iter()
        .find(|p| p.public && files.iter().any(|f| f.paper_id == Some(p.id)))
        .expect("a public paper with a file")
        .clone();
    let paper_steps = repo::consultations::list_by_paper(db, paper.id, false)
        .await
        .unwrap();
    assert!(!paper_steps.is_empty(), "the paper has a Beratungsfolge");
    let paper_files: Vec<FileId> = files
        .iter()
        .filter(|f| f.paper_id == Some(paper.id))
        .map(|f| f.id)
        .collect();
    // A meeting with public agenda items and a file of its own; and a public item of another
    // meeting.
    let mut doomed = None;
    for meeting in &meetings {
        let items = repo::agenda_items::list_by_meeting(db, meeting.id, false)
            .await
            .unwrap();
        let with_file = files
            .iter()
            .any(|f| f.meeting_id == Some(meeting.id) && f.paper_id.is_none());
        if with_file && items.iter().any(|i| i.public) {
            doomed = Some((meeting.clone(), items));
            break;
        }
    }
    let (doomed, doomed_items) = doomed.expect("a meeting with public items and a file");
    let doomed_public: Vec<AgendaItemId> = doomed_items
        .iter()
        .filter(|i| i.public)
        .map(|i| i.id)
        .collect();
    let doomed_files: Vec<FileId> = files
        .iter()
        .filter(|f| f.meeting_id == Some(doomed.id) && f.paper_id.is_none())
        .map(|f| f.id)
        .collect();
    let mut item = None;
    for meeting in meetings.iter().filter(|m| m.id != doomed.id) {
        let items = repo::agenda_items::list_by_meeting(db, meeting.id, false)
            .await
            .unwrap();
        if let Some(i) = items.into_iter().find(|i| i.public) {
            item = Some(i);
            break;
        }
    }
    let mut item = item.expect("a public item of another meeting");

    let mut seen = Seen::default();
    let before = Utc::now();
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let since_param = format!(
        "modified_since={}",
        urlencode(&before.to_rfc3339_opts(SecondsFormat::Micros, false))
    );

    // The paper and the item turn non-public; the meeting is deleted.
    let mut hidden = paper.clone();
    hidden.public = false;
    let hidden = repo::papers::update(db, hidden).await.unwrap();
    item.public = false;
    item.number = AgendaNumber::numbered(false, item.position);
    let item = repo::agenda_items::update(db, item).await.unwrap();
    let deleted = repo::meetings::delete(db, doomed.id).await.unwrap();

    let check_tombstone = |object: &Value, url: &str, at: chrono::DateTime<Utc>| {
        assert_eq!(object["id"], url);
        assert_eq!(object["deleted"], true, "{object:#}");
        let modified = chrono::DateTime::parse_from_rfc3339(object["modified"].as_str().unwrap())
            .unwrap()
            .with_timezone(&Utc);
        assert!(
            modified.timestamp() >= before.timestamp(),
            "{url}: modified {modified} before the change"
        );
        assert_eq!(
            modified.timestamp(),
            at.timestamp(),
            "{url}: modified is the time it went"
        );
        let keys: HashSet<&str> = object
            .as_object()
            .unwrap()
            .keys()
            .map(|k| k.as_str())
            .collect();
        // `order` (AgendaItem) and `accessUrl` (File) are required by the schemas.
        let allowed: HashSet<&str> = HashSet::from([
            "id",
            "type",
            "created",
            "modified",
            "deleted",
            "order",
            "accessUrl",
        ]);
        assert!(
            keys.is_subset(&allowed),
            "{url}: more than a tombstone: {keys:?}"
        );
        schemas.check(object);
    };

    // Papers: the withdrawn one is a tombstone in the modified_since list and at its URL.
    let paper_url = format!("{base}/paper/{}", paper.id);
    let changed = seen
        .walk(&app, &format!("{lists}/paper?{since_param}"))
        .await;
    let tomb = changed
        .iter()
        .find(|p| p["id"] == paper_url.as_str())
        .expect("the withdrawn paper in the modified_since list");
    check_tombstone(tomb, &paper_url, hidden.meta.modified);
    let own = seen.get(&app, &paper_url).await;
    assert_eq!(&own, tomb);
    let plain = seen.walk(&app, &format!("{lists}/paper")).await;
    assert!(plain.iter().all(|p| p["id"] != paper_url.as_str()));

    // Its consultations likewise.
    let changed = seen
        .walk(&app, &format!("{lists}/consultation?{since_param}"))
        .await;
    let plain = seen.walk(&app, &format!("{lists}/consultation")).await;
    for step in &paper_steps {
        let url = format!("{base}/consultation/{}", step.id);
        let tomb = changed
            .iter()
            .find(|c| c["id"] == url.as_str())
            .unwrap_or_else(|| panic!("{url} not listed as a tombstone"));
        check_tombstone(tomb, &url, hidden.meta.modified);
        assert_eq!(&seen.get(&app, &url).await, tomb);
        assert!(
            plain.iter().all(|c| c["id"] != url.as_str()),
            "{url} listed"
        );
    }

    // Agenda items: the withdrawn one, and every public item of the deleted meeting.
    let changed = seen
        .walk(&app, &format!("{lists}/agendaItem?{since_param}"))
        .await;
    let by_id: HashMap<&str, &Value> = changed
        .iter()
        .map(|o| (o["id"].as_str().unwrap(), o))
        .collect();
    let item_url = format!("{base}/agendaItem/{}", item.id);
    check_tombstone(by_id[item_url.as_str()], &item_url, item.meta.modified);
    assert_eq!(&seen.get(&app, &item_url).await, by_id[item_url.as_str()]);
    let at = deleted.meta.deleted.unwrap();
    for id in &doomed_public {
        let url = format!("{base}/agendaItem/{id}");
        let tomb = by_id
            .get(url.as_str())
            .unwrap_or_else(|| panic!("{url} (of the deleted meeting) not listed"));
        check_tombstone(tomb, &url, at);
        assert_eq!(&&seen.get(&app, &url).await, tomb);
    }
    let plain = seen.walk(&app, &format!("{lists}/agendaItem")).await;
    for object in &plain {
        let id = object["id"].as_str().unwrap();
        assert!(id != item_url, "the withdrawn item is still listed");
        assert!(
            doomed_public
                .iter()
                .all(|i| id != format!("{base}/agendaItem/{i}")),
            "an item of the deleted meeting is still listed"
        );
    }

    // Files: the withdrawn paper's and the deleted meeting's.
    let changed = seen
        .walk(&app, &format!("{lists}/file?{since_param}"))
        .await;
    let by_id: HashMap<&str, &Value> = changed
        .iter()
        .map(|o| (o["id"].as_str().unwrap(), o))
        .collect();
    for (ids, went) in [(&paper_files, hidden.meta.modified), (&doomed_files, at)] {
        for id in ids {
            let url = format!("{base}/file/{id}");
            let tomb = by_id
                .get(url.as_str())
                .unwrap_or_else(|| panic!("{url} not listed as a tombstone"));
            check_tombstone(tomb, &url, went);
            assert_eq!(&&seen.get(&app, &url).await, tomb);
            // Its bytes are gone too.
            let access = app.get(&format!("/oparl/v1/file/{id}/access")).await;
            assert_eq!(access.status(), 410, "{url}/access");
        }
    }
    let plain = seen.walk(&app, &format!("{lists}/file")).await;
    for id in paper_files.iter().chain(&doomed_files) {
        let url = format!("{base}/file/{id}");
        assert!(
            plain.iter().all(|f| f["id"] != url.as_str()),
            "{url} listed"
        );
    }

    // Nothing of their content anywhere, and nothing that never was public.
    let mut texts = vec![paper.title.to_string(), paper.reference.to_string()];
    texts.push(item.title.to_string());
    for i in doomed_items.iter().filter(|i| i.public) {
        texts.push(i.title.to_string());
    }
    for meeting_list in [
        format!("{lists}/meeting?{since_param}"),
        format!("{lists}/consultation?{since_param}"),
    ] {
        seen.walk(&app, &meeting_list).await;
    }
    for text in &seen.bodies {
        assert_no_secret(&never_public, "OParl", text);
    }
    for body_text in seen
        .bodies
        .iter()
        .filter(|b| b.contains("\"deleted\":true"))
    {
        let value: Value = serde_json::from_str(body_text).unwrap();
        let objects: Vec<&Value> = match value.get("data").and_then(Value::as_array) {
            Some(data) => data.iter().collect(),
            None => vec![&value],
        };
        for object in objects.into_iter().filter(|o| o["deleted"] == true) {
            let object_text = object.to_string();
            for text in &texts {
                assert!(
                    !object_text.contains(text.as_str()),
                    "a tombstone shows {text:?}"
                );
            }
        }
    }

    // Public again: the paper is back, with its content.
    let mut again = hidden.clone();
    again.public = true;
    repo::papers::update(db, again).await.unwrap();
    let back = seen.get(&app, &paper_url).await;
    assert!(back.get("deleted").is_none(), "{back:#}");
    assert_eq!(back["name"], paper.title.as_str());
    schemas.check(&back);
    let plain = seen.walk(&app, &format!("{lists}/paper")).await;
    assert!(plain.iter().any(|p| p["id"] == paper_url.as_str()));
    app.stop().await;
}

/// The clerk's `PATCH /api/v1/agenda-items/{id}` with `public: false` turns the item into an
/// OParl tombstone at once (without its new title); `public: true` brings it back.
#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test]
async fn a_clerk_making_an_item_non_public_leaves_a_tombstone(#[case] backend: Backend) {
    let Some(app) = spawn_app(backend, true).await else {
        return;
    };
    let schemas = Schemas::load();
    let clerk = app.login("martina.sommer", 0).await;
    let db = &app.db.db;
    let mut item = None;
    for meeting in repo::meetings::list_by_body(db, demo_body_id(), false)
        .await
        .unwrap()
        .iter()
        .filter(|m| m.state == MeetingState::Planned)
    {
        let items = repo::agenda_items::list_by_meeting(db, meeting.id, false)
            .await
            .unwrap();
        item = items.into_iter().find(|i| i.public).or(item);
    }
    let item = item.expect("a public item of a planned meeting");
    let url = app.url(&format!("/oparl/v1/agendaItem/{}", item.id));
    let mut seen = Seen::default();
    let live = seen.get(&app, &url).await;
    assert_eq!(live["name"], item.title.as_str());

    let path = format!("/api/v1/agenda-items/{}", item.id);
    let secret_title = "Vertrauliche Grundstücksangelegenheit Nordstadt";
    let response = patch_item(
        &app,
        &path,
        &clerk.access,
        serde_json::json!({"public": false, "title": secret_title}),
    )
    .await;
    assert_eq!(response.status(), 200);
    let tomb = seen.get(&app, &url).await;
    assert_eq!(tomb["deleted"], true, "{tomb:#}");
    assert!(tomb.get("name").is_none());
    schemas.check(&tomb);
    for text in &seen.bodies {
        assert!(!text.contains(secret_title));
    }

    let response = patch_item(
        &app,
        &path,
        &clerk.access,
        serde_json::json!({"public": true}),
    )
    .await;
    assert_eq!(response.status(), 200);
    let back = seen.get(&app, &url).await;
    assert!(back.get("deleted").is_none(), "{back:#}");
    assert_eq!(back["name"], secret_title);
    app.stop().await;
}

/// `PATCH` with the current ETag.
async fn patch_item(app: &TestApp, path: &str, token: &str, body: Value) -> reqwest::Response {
    let response = app.get_with(path, token).await;
    let etag = response.headers()["etag"].to_str().unwrap().to_owned();
    app.client
        .patch(app.url(path))
        .bearer_auth(token)
        .header("if-match", etag)
        .json(&body)
        .send()
        .await
        .unwrap()
}

// --- Public base URL and trusted proxies -------------------------------------------------------

/// Headers a client might forge to move OParl ids to its own host.
const FORGED: [(&str, &str); 5] = [
    ("host", "evil.example"),
    ("x-forwarded-host", "evil.example"),
    ("x-forwarded-proto", "https"),
    ("forwarded", "for=6.6.6.6;host=evil.example;proto=https"),
    ("x-forwarded-for", "6.6.6.6"),
];

async fn get_forged(app: &TestApp, url: &str) -> reqwest::Response {
    let mut request = app.client.get(url);
    for (name, value) in FORGED {
        request = request.header(name, value);
    }
    request.send().await.unwrap()
}

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test]
async fn with_a_public_url_every_id_and_link_starts_with_it(#[case] backend: Backend) {
    const PUBLIC: &str = "https://ris.example.org/ris";
    let Some(app) = crate::helpers::spawn_app_with(backend, true, |config| {
        config.public_url = Some(format!("{PUBLIC}/"));
    })
    .await
    else {
        return;
    };
    let local = app.url("");
    // URLs of other sites the data names on purpose.
    let foreign = [
        "https://schema.oparl.org/",
        "https://creativecommons.org/",
        "https://www.musterstadt.example",
    ];
    let mut queue = vec![format!("{PUBLIC}/oparl/v1")];
    let mut visited = HashSet::new();
    let mut urls_seen = 0;
    while let Some(url) = queue.pop() {
        if !visited.insert(url.clone()) {
            continue;
        }
        let path = url.strip_prefix(PUBLIC).unwrap();
        let response = get_forged(&app, &format!("{local}{path}")).await;
        assert_eq!(response.status(), 200, "GET {url}");
        let text = response.text().await.unwrap();
        assert!(!text.contains("evil.example"), "{url}: {text}");
        assert!(!text.contains(&local), "{url} names the local address");
        let value: Value = serde_json::from_str(&text).unwrap();
        let mut strings = Vec::new();
        strings_in(&value, &mut strings);
        for s in strings {
            if !(s.starts_with("http://") || s.starts_with("https://")) {
                continue;
            }
            urls_seen += 1;
            if foreign.iter().any(|f| s.starts_with(f)) {
                continue;
            }
            assert!(
                s == format!("{PUBLIC}/oparl/v1") || s.starts_with(&format!("{PUBLIC}/")),
                "{s} (in {url}) does not start with the public URL"
            );
            if s.starts_with(&format!("{PUBLIC}/oparl/v1"))
                && !s.ends_with("/access")
                && !s.ends_with("/download")
            {
                queue.push(s);
            }
        }
    }
    assert!(
        visited.len() > 100,
        "only {} documents walked",
        visited.len()
    );
    assert!(urls_seen > 1000);

    // The System's other URL redirects to the public one.
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = client
        .get(app.url("/oparl/v1/system"))
        .header("host", "evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 301);
    assert_eq!(response.headers()["location"], format!("{PUBLIC}/oparl/v1"));

    // The public iCalendar feed links meetings under the public URL.
    let ics = get_forged(&app, &app.url("/api/v1/meetings.ics"))
        .await
        .text()
        .await
        .unwrap()
        .replace("\r\n ", "");
    assert!(
        ics.contains(&format!("URL:{PUBLIC}/oparl/v1/meeting/")),
        "{ics}"
    );
    assert!(!ics.contains("evil.example") && !ics.contains(&local));

    // A personal calendar feed's URL, and the links in it.
    let anna = app.login("anna.hartmann", 0).await;
    let mut request = app.client.post(app.url("/api/v1/me/calendar"));
    for (name, value) in FORGED {
        request = request.header(name, value);
    }
    let response = request.bearer_auth(&anna.access).send().await.unwrap();
    assert_eq!(response.status(), 201);
    let created: Value = response.json().await.unwrap();
    let feed_url = created["url"].as_str().unwrap();
    assert!(
        feed_url.starts_with(&format!("{PUBLIC}/api/v1/calendar/")),
        "{feed_url}"
    );
    let path = feed_url.strip_prefix(PUBLIC).unwrap();
    let ics = get_forged(&app, &app.url(path))
        .await
        .text()
        .await
        .unwrap()
        .replace("\r\n ", "");
    assert!(ics.contains(&format!("URL:{PUBLIC}/#/meetings/")), "{ics}");
    assert!(!ics.contains("evil.example") && !ics.contains(&local));
    app.stop().await;
}

#[tokio::test]
async fn a_forged_host_from_an_untrusted_client_does_not_change_ids() {
    let Some(app) = spawn_app(Backend::Sqlite, true).await else {
        return;
    };
    let base = app.url("/oparl/v1");
    for url in [base.clone(), format!("{base}/body")] {
        let response = get_forged(&app, &url).await;
        assert_eq!(response.status(), 200);
        let text = response.text().await.unwrap();
        assert!(!text.contains("evil.example"), "{text}");
    }
    let system: Value = get_forged(&app, &base).await.json().await.unwrap();
    assert_eq!(system["id"], base.as_str());
    assert_eq!(system["body"], format!("{base}/body"));
    let ics = get_forged(&app, &app.url("/api/v1/meetings.ics"))
        .await
        .text()
        .await
        .unwrap()
        .replace("\r\n ", "");
    assert!(ics.contains(&format!("URL:{base}/meeting/")));
    assert!(!ics.contains("evil.example"));
    app.stop().await;
}

#[tokio::test]
async fn a_trusted_proxy_is_believed() {
    let Some(app) = crate::helpers::spawn_app_with(Backend::Sqlite, true, |config| {
        config.trusted_proxies = vec!["127.0.0.0/8".into(), "::1".into()];
    })
    .await
    else {
        return;
    };
    let base = app.url("/oparl/v1");
    let system_with = |headers: Vec<(&'static str, &'static str)>| {
        let mut request = app.client.get(&base);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        request.send()
    };
    // RFC 7239 `Forwarded`; a client's own element in front of the proxy's is ignored.
    let response = system_with(vec![(
        "forwarded",
        "for=6.6.6.6;host=evil.example, for=198.51.100.7;host=ris.example.org;proto=https",
    )])
    .await
    .unwrap();
    assert_eq!(response.status(), 200);
    let system: Value = response.json().await.unwrap();
    assert_eq!(system["id"], "https://ris.example.org/oparl/v1");
    assert_eq!(system["body"], "https://ris.example.org/oparl/v1/body");
    // `X-Forwarded-Host` / `X-Forwarded-Proto`.
    let system: Value = system_with(vec![
        ("x-forwarded-host", "ris.example.org:8443"),
        ("x-forwarded-proto", "https"),
    ])
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(system["id"], "https://ris.example.org:8443/oparl/v1");
    // Only the proxy's Host.
    let system: Value = system_with(vec![("host", "ris.example.org")])
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(system["id"], "http://ris.example.org/oparl/v1");
    // A host that cannot be part of a URL is a 400, never an id.
    let response = system_with(vec![("forwarded", "host=\"evil.example/x y\"")])
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    app.stop().await;
}

// --- Change tracking follows visibility --------------------------------------------------------

/// Every OParl object the public can know (tombstones included), by id, as its body's lists
/// serve it (list entries equal the objects at their own URL, see above).
async fn every_object(app: &TestApp, since: &str) -> BTreeMap<String, Value> {
    let base = app.url("/oparl/v1");
    let lists = format!("{base}/body/{}", demo_body_id());
    let mut seen = Seen::default();
    let mut all = BTreeMap::new();
    let system = seen.get(app, &base).await;
    all.insert(base.clone(), system);
    let query = format!("limit=500&modified_since={}", urlencode(since));
    for body in seen.walk(app, &format!("{base}/body?{query}")).await {
        all.insert(body["id"].as_str().unwrap().to_owned(), body);
    }
    for list in [
        "organization",
        "person",
        "meeting",
        "paper",
        "agendaItem",
        "consultation",
        "file",
        "location",
        "legislativeTerm",
        "membership",
    ] {
        for object in seen.walk(app, &format!("{lists}/{list}?{query}")).await {
            all.insert(object["id"].as_str().unwrap().to_owned(), object);
        }
    }
    all
}

const EPOCH: &str = "1970-01-01T00:00:00+00:00";

/// Where two JSON values differ, one line per difference.
fn diff(old: &Value, new: &Value, path: &str) -> String {
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => {
            let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            keys.into_iter()
                .map(|k| {
                    let path = format!("{path}/{k}");
                    match (a.get(k), b.get(k)) {
                        (Some(x), Some(y)) => diff(x, y, &path),
                        (x, y) => format!("{path}: {x:?} -> {y:?}\n"),
                    }
                })
                .collect()
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => a
            .iter()
            .zip(b)
            .enumerate()
            .map(|(i, (x, y))| diff(x, y, &format!("{path}/{i}")))
            .collect(),
        (a, b) if a == b => String::new(),
        (a, b) => format!("{path}: {a} -> {b}\n"),
    }
}

/// The object without its `modified`.
fn content(object: &Value) -> Value {
    let mut object = object.clone();
    object.as_object_mut().unwrap().remove("modified");
    object
}

/// Applies `change` and checks that every object whose JSON changed has a newer `modified` and
/// is listed by `modified_since` the time before the change. Returns how many objects changed.
async fn check_change<F: std::future::Future<Output = ()>>(
    app: &TestApp,
    what: &str,
    change: F,
) -> usize {
    let before = every_object(app, EPOCH).await;
    // OParl's `modified` has whole seconds.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let start = Utc::now().to_rfc3339_opts(SecondsFormat::Micros, false);
    change.await;
    let after = every_object(app, EPOCH).await;
    let listed = every_object(app, &start).await;
    let mut changed = 0;
    for (id, old) in &before {
        let new = after
            .get(id)
            .unwrap_or_else(|| panic!("{what}: {id} is no longer known"));
        if content(old) == content(new) {
            continue;
        }
        changed += 1;
        let old_modified = old["modified"].as_str().unwrap();
        let new_modified = new["modified"].as_str().unwrap();
        let parse = |t: &str| chrono::DateTime::parse_from_rfc3339(t).unwrap();
        assert!(
            parse(new_modified) > parse(old_modified),
            "{what}: {id} changed but its modified stayed {old_modified}\n{}",
            diff(old, new, "")
        );
        if type_name(new) != "System" {
            assert!(
                listed.contains_key(id),
                "{what}: {id} changed but is not listed with modified_since={start}"
            );
        }
    }
    for id in after.keys().filter(|id| !before.contains_key(*id)) {
        if type_name(&after[id]) != "System" {
            assert!(listed.contains_key(id), "{what}: new {id} not listed since");
        }
    }
    changed
}

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test]
async fn modified_moves_wherever_the_json_changes(#[case] backend: Backend) {
    let Some(app) = spawn_app(backend, true).await else {
        return;
    };
    let db = &app.db.db;
    let body = demo_body_id();
    // A public paper consulted on a public agenda item.
    let papers = repo::papers::list_by_body(db, body, false).await.unwrap();
    let mut target = None;
    for paper in papers.iter().filter(|p| p.public) {
        let steps = repo::consultations::list_by_paper(db, paper.id, false)
            .await
            .unwrap();
        for step in steps {
            if let Some(item) = step.agenda_item_id {
                let item = repo::agenda_items::get(db, item).await.unwrap();
                if item.public {
                    target = Some((paper.clone(), item));
                }
            }
        }
    }
    let (paper, item) = target.expect("a public paper consulted on a public agenda item");
    let meetings = repo::meetings::list_by_body(db, body, false).await.unwrap();

    let n = check_change(&app, "rename a meeting", async {
        let mut meeting = meetings[0].clone();
        meeting.name = Name::parse("Umbenannte Sitzung").unwrap();
        repo::meetings::update(db, meeting).await.unwrap();
    })
    .await;
    assert!(n >= 1);
    let n = check_change(&app, "rename a paper", async {
        let mut p = repo::papers::get(db, paper.id).await.unwrap();
        p.title = Title::parse("Neuer Titel der Vorlage").unwrap();
        repo::papers::update(db, p).await.unwrap();
    })
    .await;
    assert!(n >= 1);
    let n = check_change(&app, "a paper turns non-public", async {
        let mut p = repo::papers::get(db, paper.id).await.unwrap();
        p.public = false;
        repo::papers::update(db, p).await.unwrap();
    })
    .await;
    // The paper, its consultations, the agenda item and its meeting at least.
    assert!(n >= 4, "{n}");
    let n = check_change(&app, "the paper is public again", async {
        let mut p = repo::papers::get(db, paper.id).await.unwrap();
        p.public = true;
        repo::papers::update(db, p).await.unwrap();
    })
    .await;
    assert!(n >= 4, "{n}");
    let n = check_change(&app, "an agenda item turns non-public", async {
        let mut i = repo::agenda_items::get(db, item.id).await.unwrap();
        i.public = false;
        i.number = AgendaNumber::parse(&i.number.as_str().replacen('Ö', "N", 1)).unwrap();
        repo::agenda_items::update(db, i).await.unwrap();
    })
    .await;
    // The item, its meeting, the consultation and its paper at least.
    assert!(n >= 4, "{n}");
    let n = check_change(&app, "the agenda item is public again", async {
        let mut i = repo::agenda_items::get(db, item.id).await.unwrap();
        i.public = true;
        i.number = AgendaNumber::parse(&i.number.as_str().replacen('N', "Ö", 1)).unwrap();
        repo::agenda_items::update(db, i).await.unwrap();
    })
    .await;
    assert!(n >= 4, "{n}");
    let n = check_change(&app, "a new file on the paper", async {
        let template = repo::files::list_by_body(db, body, false).await.unwrap()[0].clone();
        let file = File {
            id: FileId::new(),
            paper_id: Some(paper.id),
            meeting_id: None,
            agenda_item_id: None,
            ..template
        };
        repo::files::insert(db, file).await.unwrap();
    })
    .await;
    // The paper embeds it (the file itself is new).
    assert!(n >= 1, "{n}");
    let n = check_change(&app, "a membership ends", async {
        let person = repo::persons::list_by_body(db, body, false).await.unwrap()[0].clone();
        let membership = repo::memberships::list_by_person(db, person.id, false)
            .await
            .unwrap()
            .into_iter()
            .find(|m| m.end_date.is_none())
            .unwrap();
        let ended = Membership {
            end_date: Some(chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap()),
            ..membership
        };
        repo::memberships::update(db, ended).await.unwrap();
    })
    .await;
    // The membership and its person (embeds it; the organization only lists its URL).
    assert!(n >= 2, "{n}");
    // A committee member leaves their fraction: their other memberships lose `onBehalfOf`.
    let mut fraction_membership = None;
    'persons: for person in repo::persons::list_by_body(db, body, false).await.unwrap() {
        let held = repo::memberships::list_by_person(db, person.id, false)
            .await
            .unwrap();
        if held.len() < 2 {
            continue;
        }
        for m in held {
            let organization = repo::organizations::get(db, m.organization_id)
                .await
                .unwrap();
            if organization.kind == OrganizationKind::Fraction {
                fraction_membership = Some(m);
                break 'persons;
            }
        }
    }
    let fraction_membership = fraction_membership.expect("a member of a fraction and more");
    let base = app.url("/oparl/v1");
    let on_behalf: Value = app
        .get(&format!(
            "/oparl/v1/person/{}",
            fraction_membership.person_id
        ))
        .await
        .json()
        .await
        .unwrap();
    let fraction_url = format!(
        "{base}/organization/{}",
        fraction_membership.organization_id
    );
    assert!(
        on_behalf["membership"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["onBehalfOf"] == fraction_url.as_str()),
        "no membership on behalf of the fraction: {on_behalf:#}"
    );
    let n = check_change(&app, "a fraction membership is deleted", async {
        repo::memberships::delete(db, fraction_membership.id)
            .await
            .unwrap();
    })
    .await;
    // The membership, its person, its organization, and the person's other memberships.
    assert!(n >= 4, "{n}");
    let n = check_change(&app, "a location is renamed", async {
        let location = repo::locations::list_by_body(db, body, false)
            .await
            .unwrap()[0]
            .clone();
        let renamed = Location {
            description: Name::parse("Neuer Sitzungssaal").unwrap(),
            ..location
        };
        repo::locations::update(db, renamed).await.unwrap();
    })
    .await;
    assert!(n >= 1, "{n}");
    let n = check_change(&app, "a meeting is cancelled", async {
        let upcoming = meetings
            .iter()
            .find(|m| matches!(m.state, MeetingState::Planned | MeetingState::Invited))
            .unwrap();
        repo::meetings::transition(db, upcoming.id, MeetingState::Cancelled)
            .await
            .unwrap();
    })
    .await;
    assert!(n >= 1, "{n}");
    let n = check_change(&app, "the agenda item is deleted", async {
        repo::agenda_items::delete(db, item.id).await.unwrap();
    })
    .await;
    assert!(n >= 4, "{n}");
    let n = check_change(&app, "a meeting is deleted", async {
        repo::meetings::delete(db, item.meeting_id).await.unwrap();
    })
    .await;
    assert!(n >= 1, "{n}");
    let n = check_change(&app, "the paper is deleted", async {
        repo::papers::delete(db, paper.id).await.unwrap();
    })
    .await;
    assert!(n >= 1, "{n}");
    app.stop().await;
}

// --- Errors, compression, caching --------------------------------------------------------------

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Read;
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .unwrap();
    out
}

fn unbrotli(bytes: &[u8]) -> Vec<u8> {
    use std::io::Read;
    let mut out = Vec::new();
    brotli::Decompressor::new(bytes, 4096)
        .read_to_end(&mut out)
        .unwrap();
    out
}

#[tokio::test]
async fn oparl_errors_compression_and_conditional_requests() {
    let Some(app) = spawn_app(Backend::Sqlite, true).await else {
        return;
    };
    let base = app.url("/oparl/v1");
    let lists = format!("{base}/body/{}", demo_body_id());

    // Errors are OParl error objects, whatever produced them.
    let response = app.client.post(&base).send().await.unwrap();
    assert_eq!(response.status(), 405);
    let error = oparl_error(response).await;
    assert_eq!(
        error["message"],
        "Die OParl-Schnittstelle kann nur gelesen werden."
    );
    let response = app.get("/oparl/v1/nothing/here").await;
    assert_eq!(response.status(), 404);
    oparl_error(response).await;
    let response = app
        .get(&format!("/oparl/v1/body/{}/paper?limit=0", demo_body_id()))
        .await;
    assert_eq!(response.status(), 400);
    let error = oparl_error(response).await;
    assert!(
        error["debug"].as_str().unwrap().contains("limit"),
        "{error}"
    );
    // Elsewhere problems stay problems.
    let response = app.get("/api/v1/no/such/thing").await;
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );

    // Compression: gzip and brotli, same content; none without Accept-Encoding.
    let url = format!("{lists}/membership?limit=500");
    let plain = app.client.get(&url).send().await.unwrap();
    assert!(plain.headers().get("content-encoding").is_none());
    let etag = plain.headers()["etag"].to_str().unwrap().to_owned();
    let last_modified = plain.headers()["last-modified"]
        .to_str()
        .unwrap()
        .to_owned();
    let plain = plain.bytes().await.unwrap().to_vec();
    assert_eq!(
        etag,
        format!("\"{}\"", hex_digest(&plain)),
        "the strong ETag is the body's SHA-256"
    );
    let mut sizes = vec![("identity", plain.len())];
    for (encoding, decode) in [("gzip", gunzip as fn(&[u8]) -> Vec<u8>), ("br", unbrotli)] {
        let response = app
            .client
            .get(&url)
            .header("accept-encoding", encoding)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-encoding"], encoding);
        assert!(
            response.headers()["vary"]
                .to_str()
                .unwrap()
                .to_ascii_lowercase()
                .contains("accept-encoding")
        );
        let tagged = response.headers()["etag"].to_str().unwrap().to_owned();
        assert_eq!(
            tagged,
            format!("{}-{encoding}\"", etag.trim_end_matches('"'))
        );
        let bytes = response.bytes().await.unwrap().to_vec();
        sizes.push((encoding, bytes.len()));
        assert_eq!(decode(&bytes), plain, "{encoding} decodes to the same body");
        assert!(bytes.len() * 4 < plain.len(), "{encoding}: {sizes:?}");
        // A 304 for the compressed variant's tag too.
        let response = app
            .client
            .get(&url)
            .header("accept-encoding", encoding)
            .header("if-none-match", &tagged)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 304);
    }
    println!("membership list (500 per page): {sizes:?} bytes");
    // The public API is compressed too; file contents are not.
    let response = app
        .client
        .get(app.url("/api/v1/public/papers"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-encoding"], "gzip");
    let papers: Value = app.get("/api/v1/public/papers").await.json().await.unwrap();
    assert!(papers.is_object() || papers.is_array());

    // Conditional requests: If-None-Match and If-Modified-Since give 304 with the validators.
    for (name, value) in [
        ("if-none-match", etag.clone()),
        ("if-none-match", format!("\"other\", {etag}")),
        ("if-none-match", "*".to_owned()),
        ("if-modified-since", last_modified.clone()),
    ] {
        let response = app
            .client
            .get(&url)
            .header(name, &value)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 304, "{name}: {value}");
        assert_eq!(response.headers()["etag"], etag.as_str());
        assert_eq!(response.headers()["access-control-allow-origin"], "*");
        assert!(response.bytes().await.unwrap().is_empty());
    }
    for (name, value) in [
        ("if-none-match", "\"other\"".to_owned()),
        (
            "if-modified-since",
            "Thu, 01 Jan 2009 00:00:00 GMT".to_owned(),
        ),
    ] {
        let response = app
            .client
            .get(&url)
            .header(name, &value)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{name}: {value}");
    }
    // Objects too; after a change the old tag no longer matches.
    let system = app.client.get(&base).send().await.unwrap();
    assert!(system.headers().get("last-modified").is_some());
    let body: Value = app
        .client
        .get(format!("{base}/body"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let paper_url = {
        let papers: Value = app
            .client
            .get(body["data"][0]["paper"].as_str().unwrap())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        papers["data"][0]["id"].as_str().unwrap().to_owned()
    };
    let response = app.client.get(&paper_url).send().await.unwrap();
    let paper_tag = response.headers()["etag"].to_str().unwrap().to_owned();
    let paper: Value = response.json().await.unwrap();
    let modified = chrono::DateTime::parse_from_rfc3339(paper["modified"].as_str().unwrap())
        .unwrap()
        .with_timezone(&Utc);
    let response = app.client.get(&paper_url).send().await.unwrap();
    assert_eq!(
        response.headers()["last-modified"],
        modified
            .format("%a, %d %b %Y %H:%M:%S GMT")
            .to_string()
            .as_str()
    );
    // The clerk renames the paper, as in real use.
    let clerk = app.login("martina.sommer", 0).await;
    let path = format!("/api/v1/papers/{}", paper_url.rsplit('/').next().unwrap());
    let response = patch_item(
        &app,
        &path,
        &clerk.access,
        serde_json::json!({"title": "Geänderter Titel"}),
    )
    .await;
    assert_eq!(response.status(), 200);
    let response = app
        .client
        .get(&paper_url)
        .header("if-none-match", &paper_tag)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_ne!(response.headers()["etag"], paper_tag.as_str());
    app.stop().await;
}

// --- Licences ----------------------------------------------------------------------------------

/// An upload to a paper with a `license` field between the attachment and the file.
fn multipart_with_license(paper: &str, license: &str, content: &[u8]) -> (String, Vec<u8>) {
    let boundary = "plenum-license-boundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"paper_id\"\r\n\r\n{paper}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"license\"\r\n\r\n{license}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"Karte.pdf\"\r\n\
         Content-Type: application/pdf\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(content);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test]
async fn licences_come_from_the_settings_and_the_file(#[case] backend: Backend) {
    const DL_DE: &str = "https://www.govdata.de/dl-de/by-2-0";
    let Some(app) = crate::helpers::spawn_app_with(backend, true, |config| {
        config.license = DL_DE.into();
        config.license_valid_since = Some("2026-01-01T00:00:00+01:00".into());
    })
    .await
    else {
        return;
    };
    let schemas = Schemas::load();
    let base = app.url("/oparl/v1");
    let mut seen = Seen::default();
    let system = seen.get(&app, &base).await;
    assert_eq!(system["license"], DL_DE);
    schemas.check(&system);
    let bodies = seen.walk(&app, &format!("{base}/body")).await;
    assert_eq!(bodies[0]["license"], DL_DE);
    assert_eq!(bodies[0]["licenseValidSince"], "2025-12-31T23:00:00+00:00");
    schemas.check(&bodies[0]);

    // A file with a licence of its own.
    let papers = seen.walk(&app, bodies[0]["paper"].as_str().unwrap()).await;
    let paper_url = papers[0]["id"].as_str().unwrap().to_owned();
    let paper_id = paper_url.rsplit('/').next().unwrap().to_owned();
    let clerk = app.login("martina.sommer", 0).await;
    let content = crate::files::pdf(2000);
    let upload = |license: &str| {
        let (content_type, body) = multipart_with_license(&paper_id, license, &content);
        app.client
            .post(app.url("/api/v1/files"))
            .bearer_auth(&clerk.access)
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let response = upload("Karte: Geobasis NRW").await.unwrap();
    assert_eq!(response.status(), 400);
    let response = upload("https://www.govdata.de/dl-de/zero-2-0")
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let created: Value = response.json().await.unwrap();
    assert_eq!(created["license"], "https://www.govdata.de/dl-de/zero-2-0");
    let file = seen
        .get(
            &app,
            &format!("{base}/file/{}", created["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(file["license"], "https://www.govdata.de/dl-de/zero-2-0");
    assert_eq!(
        file["sha512Checksum"],
        plenum_store::blob::sha512_hex(&content),
        "the upload's SHA-512"
    );
    schemas.check(&file);
    // Embedded in its paper, too; other files name none (the body's applies).
    let paper = seen.get(&app, &paper_url).await;
    let files = paper["auxiliaryFile"].as_array().unwrap();
    assert!(
        files
            .iter()
            .any(|f| f["license"] == "https://www.govdata.de/dl-de/zero-2-0")
    );
    // The paper's main document names none.
    assert!(paper["mainFile"].is_object(), "{paper:#}");
    assert!(paper["mainFile"].get("license").is_none());
    app.stop().await;
}

// --- Web links and the System's contact ----------------------------------------------------------

#[tokio::test]
async fn objects_link_their_portal_page_and_the_system_names_its_contact() {
    const PUBLIC: &str = "https://ris.example.org/ris";
    let Some(app) = crate::helpers::spawn_app_with(Backend::Sqlite, true, |config| {
        config.public_url = Some(PUBLIC.into());
        config.system_contact_email = Some("ris@musterstadt.example".into());
        config.system_contact_name = Some("Ratsbüro Musterstadt".into());
        config.system_vendor = Some("https://www.musterstadt.example".into());
        config.system_product = Some("https://plenum.example.org".into());
    })
    .await
    else {
        return;
    };
    let schemas = Schemas::load();
    let local = |url: &str| app.url(url.strip_prefix(PUBLIC).unwrap());
    let get = |url: String| {
        let client = app.client.clone();
        async move {
            let response = client.get(url).send().await.unwrap();
            assert_eq!(response.status(), 200);
            response.json::<Value>().await.unwrap()
        }
    };
    let system = get(app.url("/oparl/v1")).await;
    schemas.check(&system);
    assert_eq!(system["contactEmail"], "ris@musterstadt.example");
    assert_eq!(system["contactName"], "Ratsbüro Musterstadt");
    assert_eq!(system["vendor"], "https://www.musterstadt.example");
    assert_eq!(system["product"], "https://plenum.example.org");
    assert_eq!(system["web"], format!("{PUBLIC}/#/portal"));
    let bodies = get(local(system["body"].as_str().unwrap())).await;
    let body = &bodies["data"][0];
    assert_eq!(body["web"], format!("{PUBLIC}/#/portal"));
    let meetings = get(local(body["meeting"].as_str().unwrap())).await;
    for meeting in meetings["data"].as_array().unwrap() {
        schemas.check(meeting);
        let id = meeting["id"].as_str().unwrap().rsplit('/').next().unwrap();
        assert_eq!(meeting["web"], format!("{PUBLIC}/#/portal/meetings/{id}"));
        for item in meeting["agendaItem"].as_array().into_iter().flatten() {
            assert_eq!(item["web"], meeting["web"]);
        }
        // The portal page answers for that id (the public API behind it).
        let page = app.get(&format!("/api/v1/public/meetings/{id}")).await;
        assert_eq!(page.status(), 200);
    }
    let papers = get(local(body["paper"].as_str().unwrap())).await;
    for paper in papers["data"].as_array().unwrap() {
        schemas.check(paper);
        let id = paper["id"].as_str().unwrap().rsplit('/').next().unwrap();
        assert_eq!(paper["web"], format!("{PUBLIC}/#/portal/papers/{id}"));
        assert_eq!(
            app.get(&format!("/api/v1/public/papers/{id}"))
                .await
                .status(),
            200
        );
        for file in paper["auxiliaryFile"].as_array().into_iter().flatten() {
            let date = file["date"].as_str().unwrap();
            assert!(
                chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").is_ok(),
                "{date}"
            );
        }
    }
    app.stop().await;
}

// --- Persons published by choice ---------------------------------------------------------------

/// The entry of the person whose name contains `name` in `GET /api/v1/persons`.
fn register_entry(register: &Value, name: &str) -> Value {
    register
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"].as_str().unwrap().contains(name))
        .cloned()
        .unwrap_or_else(|| panic!("{name} in {register:#}"))
}

async fn set_publication(
    app: &TestApp,
    token: &str,
    person: &str,
    body: Value,
) -> reqwest::Response {
    app.client
        .put(app.url(&format!("/api/v1/persons/{person}/publication")))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// Staff are not published: the demo's clerk is in no OParl list (persons, memberships, the
/// administration's members). The clerk withdraws a council member: the person and their
/// memberships become tombstones, every object whose JSON changed moves its `modified`, and the
/// name is gone from every list; published again, they are back. Members may not choose.
#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test]
async fn persons_are_published_by_choice(#[case] backend: Backend) {
    let Some(app) = spawn_app(backend, true).await else {
        return;
    };
    let schemas = Schemas::load();
    let everything = every_object(&app, EPOCH).await;
    let text = serde_json::to_string(&everything).unwrap();
    assert!(
        !text.contains("Sommer"),
        "the clerk (staff) is not published"
    );
    let people = everything
        .values()
        .filter(|o| type_name(o) == "Person")
        .count();
    assert_eq!(people, 39, "the mayor and 38 council members");

    let clerk = app.login("martina.sommer", 0).await;
    let member = app.login("anna.hartmann", 0).await;
    // The register as the clerk sees it.
    let response = app.get_with("/api/v1/persons", &clerk.access).await;
    assert_eq!(response.status(), 200);
    let register: Value = response.json().await.unwrap();
    let entry = |name: &str| register_entry(&register, name);
    assert_eq!(entry("Martina Sommer")["published"], false);
    let anna = entry("Anna Hartmann");
    assert_eq!(anna["published"], true);
    let anna_id = anna["id"].as_str().unwrap().to_owned();
    assert_eq!(
        app.get_with("/api/v1/persons", &member.access)
            .await
            .status(),
        403
    );
    let response = set_publication(
        &app,
        &member.access,
        &anna_id,
        serde_json::json!({"published": false}),
    )
    .await;
    assert_eq!(response.status(), 403);
    let response = set_publication(
        &app,
        &clerk.access,
        &uuid::Uuid::new_v4().to_string(),
        serde_json::json!({"published": false}),
    )
    .await;
    assert_eq!(response.status(), 404);
    let response = set_publication(
        &app,
        &clerk.access,
        &anna_id,
        serde_json::json!({"published": "nein"}),
    )
    .await;
    assert!(response.status().is_client_error(), "{}", response.status());
    let problem: Value = response.json().await.unwrap();
    assert!(
        problem["type"].as_str().unwrap().contains("invalid-body"),
        "{problem}"
    );

    let url = app.url(&format!("/oparl/v1/person/{anna_id}"));
    let n = check_change(&app, "a person is no longer published", async {
        let response = set_publication(
            &app,
            &clerk.access,
            &anna_id,
            serde_json::json!({"published": false}),
        )
        .await;
        assert_eq!(response.status(), 200);
        let entry: Value = response.json().await.unwrap();
        assert_eq!(entry["published"], false);
    })
    .await;
    // The person, their memberships, and the organizations listing them.
    assert!(n >= 5, "{n}");
    let mut seen = Seen::default();
    let tomb = seen.get(&app, &url).await;
    assert_eq!(tomb["deleted"], true, "{tomb:#}");
    assert!(tomb.get("name").is_none(), "{tomb:#}");
    schemas.check(&tomb);
    let now = every_object(&app, EPOCH).await;
    for object in now.values().filter(|o| o.get("deleted").is_none()) {
        let text = object.to_string();
        assert!(!text.contains("Hartmann"), "{text}");
        assert!(
            !text.contains(&anna_id),
            "a live object links the withdrawn person: {text}"
        );
    }
    let memberships: Vec<&Value> = now
        .values()
        .filter(|o| type_name(o) == "Membership" && o.get("deleted").is_some())
        .collect();
    assert!(
        !memberships.is_empty(),
        "the memberships are tombstones too"
    );
    for m in &memberships {
        schemas.check(m);
    }
    // Setting it again changes nothing.
    let response = set_publication(
        &app,
        &clerk.access,
        &anna_id,
        serde_json::json!({"published": false}),
    )
    .await;
    assert_eq!(response.status(), 200);

    let n = check_change(&app, "the person is published again", async {
        let response = set_publication(
            &app,
            &clerk.access,
            &anna_id,
            serde_json::json!({"published": true}),
        )
        .await;
        assert_eq!(response.status(), 200);
    })
    .await;
    assert!(n >= 5, "{n}");
    let back = seen.get(&app, &url).await;
    assert!(back.get("deleted").is_none(), "{back:#}");
    assert_eq!(back["familyName"], "Hartmann");

    // Both changes are in the audit log, with the clerk as actor.
    let entries = plenum_store::audit::list(&app.db.db).await.unwrap();
    let actions: Vec<&str> = entries
        .iter()
        .filter(|e| e.event.subject.as_deref() == Some(&format!("person:{anna_id}")))
        .map(|e| e.event.action.as_str())
        .collect();
    assert_eq!(actions, ["person.unpublished", "person.published"]);
    app.stop().await;
}

/// Files stored before Plenum recorded their SHA-512 get it from the background pass at start:
/// `sha512Checksum` then matches the bytes served, and the file's `modified` has moved.
#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test]
async fn older_files_get_their_sha512_at_start(#[case] backend: Backend) {
    use sea_orm::ConnectionTrait;
    let Some(mut app) = spawn_app(backend, true).await else {
        return;
    };
    let schemas = Schemas::load();
    let list = app.url(&format!("/oparl/v1/body/{}/file", demo_body_id()));
    let mut seen = Seen::default();
    let before = seen.walk(&app, &list).await;
    assert!(before.len() >= 5);
    for file in &before {
        assert_eq!(
            file["sha512Checksum"].as_str().map(str::len),
            Some(128),
            "{file:#}"
        );
    }
    app.db
        .db
        .execute_unprepared("UPDATE file SET sha512 = NULL")
        .await
        .unwrap();
    let stripped = Seen::default().walk(&app, &list).await;
    assert!(stripped.iter().all(|f| f.get("sha512Checksum").is_none()));
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    app.restart().await;
    let list = app.url(&format!("/oparl/v1/body/{}/file", demo_body_id()));
    let mut after = Vec::new();
    for _ in 0..50 {
        after = Seen::default().walk(&app, &list).await;
        if after.iter().all(|f| f.get("sha512Checksum").is_some()) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(after.len(), before.len());
    for (old, new) in before.iter().zip(&after) {
        // The restarted server listens on another port: compare the paths.
        let path = |v: &Value| {
            v["id"]
                .as_str()
                .unwrap()
                .split("/oparl/")
                .nth(1)
                .unwrap()
                .to_owned()
        };
        assert_eq!(path(old), path(new));
        assert_eq!(new["sha512Checksum"], old["sha512Checksum"], "{new:#}");
        assert!(
            new["modified"].as_str() > old["modified"].as_str(),
            "{new:#}"
        );
        let bytes = app
            .client
            .get(new["downloadUrl"].as_str().unwrap())
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        assert_eq!(
            new["sha512Checksum"],
            plenum_store::blob::sha512_hex(&bytes)
        );
        schemas.check(new);
    }
    app.stop().await;
}

/// A paper's main document is `mainFile`, its other files `auxiliaryFile`; the clerk chooses it
/// among the paper's own files (422 for another paper's file), and the change moves `modified`.
#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test]
async fn a_paper_names_its_main_file(#[case] backend: Backend) {
    let Some(app) = spawn_app(backend, true).await else {
        return;
    };
    let schemas = Schemas::load();
    let list = app.url(&format!("/oparl/v1/body/{}/paper", demo_body_id()));
    let papers = Seen::default().walk(&app, &list).await;
    assert!(!papers.is_empty());
    for paper in &papers {
        let main = &paper["mainFile"];
        assert_eq!(
            main["type"], "https://schema.oparl.org/1.1/File",
            "{paper:#}"
        );
        let aux = paper["auxiliaryFile"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert!(aux.iter().all(|f| f["id"] != main["id"]), "{paper:#}");
        schemas.check(paper);
    }
    let paper = &papers[0];
    let paper_id = paper["id"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    let main_id = paper["mainFile"]["id"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    let other_file = papers[1]["mainFile"]["id"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    let clerk = app.login("martina.sommer", 0).await;
    let path = format!("/api/v1/papers/{paper_id}");
    let detail: Value = app
        .get_with(&path, &clerk.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(detail["main_file_id"], main_id.as_str());

    let response = patch_item(
        &app,
        &path,
        &clerk.access,
        serde_json::json!({"main_file_id": other_file}),
    )
    .await;
    assert_eq!(response.status(), 422);
    let problem: Value = response.json().await.unwrap();
    assert!(problem.to_string().contains("main_file_id"), "{problem}");
    let response = patch_item(
        &app,
        &path,
        &clerk.access,
        serde_json::json!({"main_file_id": uuid::Uuid::new_v4()}),
    )
    .await;
    assert_eq!(response.status(), 422);

    let n = check_change(&app, "the paper's main file is unset", async {
        let response = patch_item(
            &app,
            &path,
            &clerk.access,
            serde_json::json!({"main_file_id": null}),
        )
        .await;
        assert_eq!(response.status(), 200);
        let detail: Value = response.json().await.unwrap();
        assert_eq!(detail["main_file_id"], Value::Null);
    })
    .await;
    assert!(n >= 1, "{n}");
    let url = paper["id"].as_str().unwrap();
    let now = Seen::default().get(&app, url).await;
    assert!(now.get("mainFile").is_none(), "{now:#}");
    let aux = now["auxiliaryFile"].as_array().unwrap();
    assert!(
        aux.iter()
            .any(|f| f["id"].as_str().unwrap().ends_with(&main_id))
    );

    let response = patch_item(
        &app,
        &path,
        &clerk.access,
        serde_json::json!({"main_file_id": main_id}),
    )
    .await;
    assert_eq!(response.status(), 200);
    let back = Seen::default().get(&app, url).await;
    assert!(back["mainFile"]["id"].as_str().unwrap().ends_with(&main_id));
    app.stop().await;
}

/// The persons who submitted a paper are `originatorPerson` (published persons only); the clerk
/// sets them with the paper, checked; withdrawing a person's publication moves the paper's
/// `modified` and drops them from it.
#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test]
async fn a_paper_names_the_persons_who_submitted_it(#[case] backend: Backend) {
    let Some(app) = spawn_app(backend, true).await else {
        return;
    };
    let schemas = Schemas::load();
    let clerk = app.login("martina.sommer", 0).await;
    let register: Value = app
        .get_with("/api/v1/persons", &clerk.access)
        .await
        .json()
        .await
        .unwrap();
    let id_of = |name: &str| {
        register_entry(&register, name)["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (anna, sommer) = (id_of("Anna Hartmann"), id_of("Martina Sommer"));
    let list = app.url(&format!("/oparl/v1/body/{}/paper", demo_body_id()));
    let papers = Seen::default().walk(&app, &list).await;
    let url = papers[0]["id"].as_str().unwrap().to_owned();
    let paper_id = url.rsplit('/').next().unwrap().to_owned();
    let path = format!("/api/v1/papers/{paper_id}");

    for bad in [
        serde_json::json!([anna, anna]),
        serde_json::json!([uuid::Uuid::new_v4()]),
        serde_json::json!((0..51).map(|_| uuid::Uuid::new_v4()).collect::<Vec<_>>()),
    ] {
        let response = patch_item(
            &app,
            &path,
            &clerk.access,
            serde_json::json!({"originator_person_ids": bad}),
        )
        .await;
        assert_eq!(response.status(), 422, "{bad}");
    }
    let response = patch_item(
        &app,
        &path,
        &clerk.access,
        serde_json::json!({"originator_person_ids": [anna, sommer]}),
    )
    .await;
    assert_eq!(response.status(), 200);
    let detail: Value = response.json().await.unwrap();
    let names: Vec<&str> = detail["originator_persons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Anna Hartmann", "Martina Sommer"]);
    // The public reads published persons only: the clerk (staff) is not among them.
    let public: Value = app
        .get(&format!("/api/v1/public/papers/{paper_id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        public["originator_persons"].as_array().unwrap().len(),
        1,
        "{public:#}"
    );
    let paper = Seen::default().get(&app, &url).await;
    let originators = paper["originatorPerson"].as_array().unwrap();
    assert_eq!(originators.len(), 1, "{paper:#}");
    assert!(originators[0].as_str().unwrap().ends_with(&anna));
    schemas.check(&paper);

    let n = check_change(&app, "an originator is no longer published", async {
        let response = set_publication(
            &app,
            &clerk.access,
            &anna,
            serde_json::json!({"published": false}),
        )
        .await;
        assert_eq!(response.status(), 200);
    })
    .await;
    assert!(n >= 3, "{n}");
    let paper = Seen::default().get(&app, &url).await;
    assert!(paper.get("originatorPerson").is_none(), "{paper:#}");
    app.stop().await;
}

/// `PATCH /api/v1/persons/{id}` with the clerk's token.
async fn patch_person(app: &TestApp, token: &str, person: &str, body: Value) -> reqwest::Response {
    app.client
        .patch(app.url(&format!("/api/v1/persons/{person}")))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// The body's official keys come from the settings; a changed setting moves its `modified`.
#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test]
async fn the_body_names_its_official_keys_from_the_settings(#[case] backend: Backend) {
    let Some(mut app) = crate::helpers::spawn_app_with(backend, true, |config| {
        config.body_ags = Some("05315000".into());
        config.body_rgs = Some("053150000000".into());
        config.body_classification = Some("Kreisfreie Stadt".into());
    })
    .await
    else {
        return;
    };
    let schemas = Schemas::load();
    let url = app.url(&format!("/oparl/v1/body/{}", demo_body_id()));
    let body = Seen::default().get(&app, &url).await;
    assert_eq!(body["ags"], "05315000", "{body:#}");
    assert_eq!(body["rgs"], "053150000000");
    assert_eq!(body["classification"], "Kreisfreie Stadt");
    schemas.check(&body);

    // The same settings again: nothing changes.
    app.restart().await;
    let url = app.url(&format!("/oparl/v1/body/{}", demo_body_id()));
    let same = Seen::default().get(&app, &url).await;
    assert_eq!(same["modified"], body["modified"]);

    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    app.config.body_classification = Some("Gemeinde".into());
    app.config.body_rgs = None;
    app.restart().await;
    let url = app.url(&format!("/oparl/v1/body/{}", demo_body_id()));
    let after = Seen::default().get(&app, &url).await;
    assert_eq!(after["classification"], "Gemeinde");
    assert!(after.get("rgs").is_none(), "{after:#}");
    let parse = |v: &Value| chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap()).unwrap();
    assert!(parse(&after["modified"]) > parse(&body["modified"]));
    schemas.check(&after);
    app.stop().await;
}

/// The clerk records a person's roles, name affix and gender: OParl serves them (valid against
/// the schema) and the person's `modified` moves; nothing is served that was not entered. Bad
/// values are 422, members may not write, and the audit entry names the fields, not the values.
#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test]
async fn a_person_shows_status_affix_and_gender_where_recorded(#[case] backend: Backend) {
    let Some(app) = spawn_app(backend, true).await else {
        return;
    };
    let schemas = Schemas::load();
    let clerk = app.login("martina.sommer", 0).await;
    let member = app.login("anna.hartmann", 0).await;
    let register: Value = app
        .get_with("/api/v1/persons", &clerk.access)
        .await
        .json()
        .await
        .unwrap();
    let anna = register_entry(&register, "Anna Hartmann");
    assert_eq!(anna["status"], serde_json::json!([]));
    assert_eq!(anna["gender"], Value::Null, "never guessed");
    let anna = anna["id"].as_str().unwrap().to_owned();
    let url = app.url(&format!("/oparl/v1/person/{anna}"));
    let before = Seen::default().get(&app, &url).await;
    for field in ["status", "affix", "gender"] {
        assert!(
            before.get(field).is_none(),
            "{field} unrecorded: {before:#}"
        );
    }

    for bad in [
        serde_json::json!({"gender": "weiblich"}),
        serde_json::json!({"status": ["Ratsmitglied", "Ratsmitglied"]}),
        serde_json::json!({"status": (0..11).map(|i| format!("Rolle {i}")).collect::<Vec<_>>()}),
        serde_json::json!({"status": ["  "]}),
        serde_json::json!({"affix": ""}),
    ] {
        let response = patch_person(&app, &clerk.access, &anna, bad.clone()).await;
        assert_eq!(response.status(), 422, "{bad}");
        let problem: Value = response.json().await.unwrap();
        assert!(problem["title"].is_string(), "{problem}");
    }
    let response = patch_person(
        &app,
        &clerk.access,
        &anna,
        serde_json::json!({"nickname": "Anni"}),
    )
    .await;
    assert!(response.status().is_client_error());
    let response = patch_person(
        &app,
        &member.access,
        &anna,
        serde_json::json!({"gender": "female"}),
    )
    .await;
    assert_eq!(response.status(), 403);

    let n = check_change(&app, "a person's roles, affix and gender", async {
        let response = patch_person(
            &app,
            &clerk.access,
            &anna,
            serde_json::json!({
                "status": ["Ratsmitglied", "Fraktionsvorsitzende"],
                "affix": "von",
                "gender": "female",
            }),
        )
        .await;
        assert_eq!(response.status(), 200);
        let entry: Value = response.json().await.unwrap();
        assert_eq!(entry["gender"], "female");
    })
    .await;
    assert_eq!(n, 1, "only the person's JSON changes");
    let person = Seen::default().get(&app, &url).await;
    assert_eq!(
        person["status"],
        serde_json::json!(["Ratsmitglied", "Fraktionsvorsitzende"])
    );
    assert_eq!(person["affix"], "von");
    assert_eq!(person["gender"], "female");
    schemas.check(&person);

    // Removing them: gone from OParl again.
    let n = check_change(&app, "a person's gender removed", async {
        let response = patch_person(
            &app,
            &clerk.access,
            &anna,
            serde_json::json!({"gender": null, "status": []}),
        )
        .await;
        assert_eq!(response.status(), 200);
    })
    .await;
    assert_eq!(n, 1);
    let person = Seen::default().get(&app, &url).await;
    assert!(person.get("gender").is_none() && person.get("status").is_none());
    assert_eq!(person["affix"], "von");

    let entries = plenum_store::audit::list(&app.db.db).await.unwrap();
    let updates: Vec<&AuditEntry> = entries
        .iter()
        .filter(|e| {
            e.event.subject.as_deref() == Some(&format!("person:{anna}"))
                && e.event.action == "person.updated"
        })
        .collect();
    assert_eq!(updates.len(), 2);
    let details = &updates[0].event.detail;
    assert!(
        details.contains("gender") && !details.contains("female"),
        "{details}"
    );
    app.stop().await;
}

/// The clerk names the organization in charge of a paper and links papers: both papers list
/// each other, both move their `modified`; a non-public paper is never named to the public,
/// and a linked paper turning non-public leaves the other's list (moving its `modified`).
#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test]
async fn papers_name_the_organization_in_charge_and_related_papers(#[case] backend: Backend) {
    let Some(app) = spawn_app(backend, true).await else {
        return;
    };
    let schemas = Schemas::load();
    let clerk = app.login("martina.sommer", 0).await;
    let base = app.url(&format!("/oparl/v1/body/{}", demo_body_id()));
    let papers = Seen::default().walk(&app, &format!("{base}/paper")).await;
    let organizations = Seen::default()
        .walk(&app, &format!("{base}/organization"))
        .await;
    let id_of = |object: &Value| {
        object["id"]
            .as_str()
            .unwrap()
            .rsplit('/')
            .next()
            .unwrap()
            .to_owned()
    };
    let (a_url, b_url) = (
        papers[0]["id"].as_str().unwrap().to_owned(),
        papers[1]["id"].as_str().unwrap().to_owned(),
    );
    let (a, b) = (id_of(&papers[0]), id_of(&papers[1]));
    let committee = organizations
        .iter()
        .find(|o| o["classification"] == "Ausschuss")
        .unwrap();
    let committee_url = committee["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/papers/{a}");

    for bad in [
        serde_json::json!({"under_direction_of_id": uuid::Uuid::new_v4()}),
        serde_json::json!({"related_paper_ids": [a]}),
        serde_json::json!({"related_paper_ids": [b, b]}),
        serde_json::json!({"related_paper_ids": [uuid::Uuid::new_v4()]}),
    ] {
        let response = patch_item(&app, &path, &clerk.access, bad.clone()).await;
        assert_eq!(response.status(), 422, "{bad}");
    }

    let n = check_change(&app, "a paper gets an organization in charge and a link", async {
        let response = patch_item(
            &app,
            &path,
            &clerk.access,
            serde_json::json!({"under_direction_of_id": id_of(committee), "related_paper_ids": [b]}),
        )
        .await;
        assert_eq!(response.status(), 200);
        let detail: Value = response.json().await.unwrap();
        assert_eq!(detail["under_direction_of"]["id"], id_of(committee).as_str());
        assert_eq!(detail["related_papers"][0]["id"], b.as_str());
    })
    .await;
    assert_eq!(n, 2, "both papers");
    let mut seen = Seen::default();
    let paper_a = seen.get(&app, &a_url).await;
    assert_eq!(
        paper_a["underDirectionOf"],
        serde_json::json!([committee_url])
    );
    assert_eq!(paper_a["relatedPaper"], serde_json::json!([b_url]));
    let paper_b = seen.get(&app, &b_url).await;
    assert_eq!(paper_b["relatedPaper"], serde_json::json!([a_url]));
    schemas.check(&paper_a);
    schemas.check(&paper_b);
    // The clerk's view of B shows the link too.
    let detail: Value = app
        .get_with(&format!("/api/v1/papers/{b}"), &clerk.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(detail["related_papers"][0]["id"], a.as_str());

    // A non-public paper linked to A: never named publicly.
    let response = app
        .client
        .post(app.url("/api/v1/papers"))
        .bearer_auth(&clerk.access)
        .json(&serde_json::json!({
            "reference": "VO/2026/999", "paper_type": "resolution",
            "title": "Grundstücksangelegenheit Geheimweg", "date": "2026-11-30",
            "public": false, "body_id": demo_body_id().as_uuid(),
            "under_direction_of_id": id_of(committee),
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let secret: Value = response.json().await.unwrap();
    assert_eq!(
        secret["under_direction_of"]["id"],
        id_of(committee).as_str()
    );
    let secret = secret["id"].as_str().unwrap().to_owned();
    let response = patch_item(
        &app,
        &path,
        &clerk.access,
        serde_json::json!({"related_paper_ids": [b, secret]}),
    )
    .await;
    assert_eq!(response.status(), 200);
    let everything = serde_json::to_string(&every_object(&app, EPOCH).await).unwrap();
    assert!(
        !everything.contains(&secret),
        "the non-public paper is named"
    );
    let public: Value = app
        .get(&format!("/api/v1/public/papers/{a}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        public["related_papers"].as_array().unwrap().len(),
        1,
        "{public:#}"
    );
    assert!(!public.to_string().contains("Geheimweg"));

    // B turns non-public: A's list loses it and A's modified moves.
    let n = check_change(&app, "a linked paper turns non-public", async {
        let response = patch_item(
            &app,
            &format!("/api/v1/papers/{b}"),
            &clerk.access,
            serde_json::json!({"public": false}),
        )
        .await;
        assert_eq!(response.status(), 200);
    })
    .await;
    assert!(n >= 2, "{n}");
    let paper_a = Seen::default().get(&app, &a_url).await;
    assert!(paper_a.get("relatedPaper").is_none(), "{paper_a:#}");
    schemas.check(&paper_a);

    // Removing the links changes the other side too.
    let response = patch_item(
        &app,
        &path,
        &clerk.access,
        serde_json::json!({"related_paper_ids": [], "under_direction_of_id": null}),
    )
    .await;
    assert_eq!(response.status(), 200);
    let detail: Value = app
        .get_with(&format!("/api/v1/papers/{secret}"), &clerk.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(detail["related_papers"], serde_json::json!([]));
    let paper_a = Seen::default().get(&app, &a_url).await;
    assert!(paper_a.get("underDirectionOf").is_none());
    app.stop().await;
}

/// A membership is served the same wherever it appears: standalone and embedded in its person
/// both carry the latest `modified` of the person's memberships (it names the fraction the person
/// sits for). The demo's memberships are written one by one; when a person's straddled a second,
/// the embedded copy used to show the earlier second.
#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test]
async fn a_membership_embedded_in_its_person_equals_its_own(#[case] backend: Backend) {
    use sea_orm::{ConnectionTrait, Statement};
    let Some(app) = spawn_app(backend, true).await else {
        return;
    };
    let db = &app.db.db;
    // A published person with two memberships or more; one of them written a second later.
    let person = repo::persons::list(db, false)
        .await
        .unwrap()
        .into_iter()
        .find(|p| p.full_name() == "Anna Hartmann")
        .unwrap();
    let theirs = repo::memberships::list_by_person(db, person.id, false)
        .await
        .unwrap();
    assert!(theirs.len() >= 2, "{theirs:?}");
    let later = Utc::now() + chrono::Duration::seconds(2);
    let sql = match db.get_database_backend() {
        sea_orm::DbBackend::Postgres => "UPDATE membership SET modified = $1 WHERE id = $2",
        _ => "UPDATE membership SET modified = ? WHERE id = ?",
    };
    db.execute_raw(Statement::from_sql_and_values(
        db.get_database_backend(),
        sql,
        [later.into(), theirs[0].id.as_uuid().into()],
    ))
    .await
    .unwrap();

    let person_url = app.url(&format!("/oparl/v1/person/{}", person.id.as_uuid()));
    let embedded: Value = app
        .client
        .get(&person_url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let expected = later.to_rfc3339_opts(SecondsFormat::Secs, false);
    let list = embedded["membership"].as_array().unwrap();
    assert_eq!(list.len(), theirs.len(), "{embedded}");
    for copy in list {
        let own: Value = app
            .client
            .get(copy["id"].as_str().unwrap())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(own["modified"], copy["modified"], "{own} vs {copy}");
        assert_eq!(
            own["modified"].as_str().unwrap()[..19],
            expected[..19],
            "{own}"
        );
    }
    app.stop().await;
}
