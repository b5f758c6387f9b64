//! The Sitzungsmappe (`GET /api/v1/meetings/{id}/bundle.pdf`): each reader gets exactly what
//! they may read — committee member, advisory member and council member everything, a member of
//! another committee and the public only the public part — with one bookmark per agenda item,
//! the reader's name on every non-public page, and a new ETag when the agenda or a file changes.

use chrono::Utc;
use plenum_domain::*;
use plenum_store::file_text::{extract_pdf, sample_pdf};
use plenum_store::{Backend, repo};
use rstest::rstest;
use serde_json::Value;
use uuid::Uuid;

use crate::decisions::clerk;
use crate::files::{multipart, upload};
use crate::helpers::{TestApp, spawn_app};
use crate::live::committee;

/// A person with a signed-in account and one membership in a new organization of `kind` in
/// `body`: their access token.
async fn reader(app: &TestApp, body: BodyId, kind: OrganizationKind, name: &str) -> String {
    let db = &app.db.db;
    let org = repo::organizations::insert(
        db,
        Organization {
            id: OrganizationId::new(),
            meta: Meta::default(),
            body_id: body,
            name: Name::parse(&format!("{kind:?} {name}")).unwrap(),
            short_name: None,
            kind,
            statutory_seats: Some(1),
            parent_id: None,
            start_date: None,
            end_date: None,
        },
    )
    .await
    .unwrap();
    let person = repo::persons::insert(
        db,
        Person {
            id: PersonId::new(),
            meta: Meta::default(),
            body_id: body,
            family_name: Name::parse(name).unwrap(),
            given_name: Name::parse("Leserin").unwrap(),
            title: None,
            form_of_address: None,
            email: None,
            published: true,
            status: Vec::new(),
            affix: None,
            gender: None,
        },
    )
    .await
    .unwrap();
    repo::memberships::insert(
        db,
        Membership {
            id: MembershipId::new(),
            meta: Meta::default(),
            person_id: person.id,
            organization_id: org.id,
            role: MembershipRole::Member,
            voting_right: true,
            start_date: None,
            end_date: None,
        },
    )
    .await
    .unwrap();
    let tag = &Uuid::new_v4().simple().to_string()[..8];
    let user = repo::users::insert(
        db,
        User {
            id: UserId::new(),
            meta: Meta::default(),
            username: Username::parse(&format!("leser-{tag}")).unwrap(),
            display_name: Name::parse(name).unwrap(),
            person_id: Some(person.id),
            site_role: SiteRole::Member,
            password_hash: None,
        },
    )
    .await
    .unwrap();
    let now = chrono::SubsecRound::trunc_subsecs(Utc::now(), 6);
    let session = DeviceSession {
        id: DeviceSessionId::new(),
        user_id: user.id,
        name: "Test".into(),
        user_agent: "test".into(),
        created: now,
        last_used: now,
        expires_at: now + chrono::Duration::days(1),
        revoked_at: None,
        revoked_reason: None,
    };
    plenum_store::auth::sessions::insert(db, &session, "x")
        .await
        .unwrap();
    let key = std::fs::read(app.config.data_dir.join("signing.key")).unwrap();
    plenum_api::auth::tokens::TokenKeys::new(&key).access(user.id, session.id, Utc::now())
}

/// A paper of `organization` on `item` (the item names it as its paper).
async fn paper_on(
    app: &TestApp,
    body: BodyId,
    organization: OrganizationId,
    item: AgendaItemId,
    title: &str,
    public: bool,
) -> PaperId {
    let db = &app.db.db;
    let tag = &Uuid::new_v4().simple().to_string()[..6];
    let paper = repo::papers::insert(
        db,
        Paper {
            id: PaperId::new(),
            meta: Meta::default(),
            body_id: body,
            reference: PaperReference::parse(&format!("VO/{tag}")).unwrap(),
            paper_type: PaperType::Resolution,
            title: Title::parse(title).unwrap(),
            date: Utc::now().date_naive(),
            originator_id: Some(organization),
            text: Markdown::parse("Beschlussvorschlag der Verwaltung.").unwrap(),
            public,
            main_file_id: None,
            under_direction_of_id: None,
        },
    )
    .await
    .unwrap();
    let mut agenda_item = repo::agenda_items::get(db, item).await.unwrap();
    agenda_item.paper_id = Some(paper.id);
    repo::agenda_items::update(db, agenda_item).await.unwrap();
    paper.id
}

/// Uploads a file as the clerk; its id.
async fn attach(
    app: &TestApp,
    clerk: &str,
    field: &str,
    to: &str,
    name: &str,
    media_type: &str,
    content: &[u8],
) -> FileId {
    let response = upload(app, clerk, multipart(field, to, name, media_type, content)).await;
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
    let file: Value = response.json().await.unwrap();
    FileId::from_uuid(file["id"].as_str().unwrap().parse().unwrap())
}

fn one_page_pdf(text: &str) -> Vec<u8> {
    sample_pdf(&[text.to_owned()], 0)
}

/// Status, ETag and body of a GET of the bundle.
async fn fetch(
    app: &TestApp,
    path: &str,
    token: Option<&str>,
    etag: Option<&str>,
) -> (u16, Option<String>, Vec<u8>) {
    let mut request = app.client.get(app.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(etag) = etag {
        request = request.header("if-none-match", etag);
    }
    let r = request.send().await.unwrap();
    let status = r.status().as_u16();
    if status == 200 {
        assert_eq!(r.headers()["content-type"], "application/pdf");
        let disposition = r.headers()["content-disposition"].to_str().unwrap();
        assert!(disposition.contains("Sitzungsmappe"), "{disposition}");
    }
    let etag = r
        .headers()
        .get("etag")
        .map(|v| v.to_str().unwrap().to_owned());
    (status, etag, r.bytes().await.unwrap().to_vec())
}

/// Each page's text as Plenum's search reads it (pdf-extract; a page it cannot read, such as
/// the picture's, is empty).
fn pages(pdf: &[u8]) -> Vec<String> {
    let extraction = extract_pdf(pdf);
    assert!(extraction.error.is_none(), "{:?}", extraction.error);
    let mut pages = vec![String::new(); extraction.page_count as usize];
    for (page, text) in extraction.pages {
        pages[page as usize - 1] = text;
    }
    pages
}

fn text_string(object: &lopdf::Object) -> String {
    let bytes = object.as_str().unwrap();
    if let Some(utf16) = bytes.strip_prefix(&[0xfe, 0xff]) {
        let units: Vec<u16> = utf16
            .chunks(2)
            .map(|c| u16::from_be_bytes([c[0], c.get(1).copied().unwrap_or(0)]))
            .collect();
        String::from_utf16(&units).unwrap()
    } else {
        bytes.iter().map(|b| *b as char).collect()
    }
}

/// The bookmarks: top-level titles, each with its children's titles.
fn outline(pdf: &[u8]) -> Vec<(String, Vec<String>)> {
    let doc = lopdf::Document::load_mem(pdf).unwrap();
    let root = doc.catalog().unwrap();
    let Ok(outlines) = root.get(b"Outlines") else {
        return Vec::new();
    };
    let outlines = doc
        .get_dictionary(outlines.as_reference().unwrap())
        .unwrap();
    let siblings = |first: Option<&lopdf::Object>| {
        let mut out = Vec::new();
        let mut next = first.map(|f| f.as_reference().unwrap());
        while let Some(id) = next {
            let node = doc.get_dictionary(id).unwrap();
            out.push(node.clone());
            next = node.get(b"Next").ok().map(|n| n.as_reference().unwrap());
        }
        out
    };
    siblings(outlines.get(b"First").ok())
        .iter()
        .map(|node| {
            let children = siblings(node.get(b"First").ok())
                .iter()
                .map(|child| text_string(child.get(b"Title").unwrap()))
                .collect();
            (text_string(node.get(b"Title").unwrap()), children)
        })
        .collect()
}

const PUBLIC_MAIN: &str = "Hauptdokument Feuerwache Nord";
const PUBLIC_ANNEX: &str = "Anlage Kostenschaetzung Feuerwache";
const SECRET_TEXT: &str = "Vertraulicher Kaufpreis Flur neun";

/// Asserts the bundle of a reader who may read everything: both items, every file, the
/// reader's name on the non-public pages (and the cover, which lists the non-public item).
fn assert_everything(pdf: &[u8], name: &str) {
    let pages = pages(pdf);
    let all = pages.join("\n");
    for text in [
        "Neubau Feuerwache",
        "Geheimes Grundstücksgeschäft Flur 9",
        PUBLIC_MAIN,
        PUBLIC_ANNEX,
        SECRET_TEXT,
    ] {
        assert!(all.contains(text), "{name}: {text:?} missing in {all}");
    }
    let mark = format!("Persönliches Exemplar für Leserin {name} – nichtöffentlich");
    let secret = pages
        .iter()
        .position(|p| p.contains("Nichtöffentlicher Teil"))
        .unwrap();
    let blank = pages.iter().filter(|p| p.is_empty()).count();
    assert!(
        blank <= 1,
        "{name}: {blank} pages without text (only the picture's may be)"
    );
    for (i, page) in pages.iter().enumerate().filter(|(_, p)| !p.is_empty()) {
        let non_public = i == 0 || i >= secret;
        assert_eq!(
            page.contains(&mark),
            non_public,
            "{name}, page {}: {page}",
            i + 1
        );
        assert!(page.contains(&format!("Seite {} von {}", i + 1, pages.len())));
    }
    let outline = outline(pdf);
    let titles: Vec<&str> = outline.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(
        titles,
        [
            "Tagesordnung",
            "Ö 1 Neubau Feuerwache",
            "N 1 Geheimes Grundstücksgeschäft Flur 9"
        ],
        "one bookmark per item"
    );
    assert_eq!(
        outline[1].1,
        ["Z-Vorlage.pdf", "A-Anlage.pdf", "Lageplan.png"],
        "the main file first, then the attachments, then the item's own files"
    );
    assert_eq!(outline[2].1, ["Kaufvertrag.pdf"]);
}

/// Asserts a bundle of the public part only.
fn assert_public_only(pdf: &[u8], who: &str) {
    let all = pages(pdf).join("\n");
    assert!(all.contains(PUBLIC_MAIN), "{who}: {all}");
    assert!(all.contains(PUBLIC_ANNEX), "{who}");
    assert!(!all.contains("Geheimes"), "{who}: a non-public title");
    assert!(!all.contains(SECRET_TEXT), "{who}: a non-public file");
    assert!(!all.contains("nichtöffentlich"), "{who}: {all}");
    let titles: Vec<String> = outline(pdf).into_iter().map(|(t, _)| t).collect();
    assert_eq!(titles, ["Tagesordnung", "Ö 1 Neubau Feuerwache"], "{who}");
}

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn each_reader_gets_exactly_their_bundle(#[case] backend: Backend) {
    let Some(app) = spawn_app(backend, false).await else {
        return;
    };
    let db = &app.db.db;
    let c = committee(&app, 2).await;
    let meeting = repo::meetings::get(db, c.meeting).await.unwrap();
    let org = repo::organizations::get(db, meeting.organization_id)
        .await
        .unwrap();
    let body = org.body_id;
    let council = reader(&app, body, OrganizationKind::Council, "Ratsfrau").await;
    let outsider = reader(&app, body, OrganizationKind::Committee, "Fremd").await;
    // The committee's members are "Test Mitglied00n"; rename the first member's person to match
    // the other readers' pattern.
    for (person, name) in [(c.members[1].0, "Mitglied"), (c.advisory.0, "Beraterin")] {
        let mut p = repo::persons::get(db, person).await.unwrap();
        p.given_name = Name::parse("Leserin").unwrap();
        p.family_name = Name::parse(name).unwrap();
        repo::persons::update(db, p).await.unwrap();
    }
    let (_, clerk) = clerk(&app).await;

    let public_paper = paper_on(&app, body, org.id, c.public_item, "Feuerwache Nord", true).await;
    let secret_paper = paper_on(&app, body, org.id, c.secret_item, "Flur 9", false).await;
    let pp = public_paper.to_string();
    attach(
        &app,
        &clerk,
        "paper_id",
        &pp,
        "A-Anlage.pdf",
        "application/pdf",
        &one_page_pdf(PUBLIC_ANNEX),
    )
    .await;
    let main = attach(
        &app,
        &clerk,
        "paper_id",
        &pp,
        "Z-Vorlage.pdf",
        "application/pdf",
        &sample_pdf(
            &[PUBLIC_MAIN.to_owned(), "Seite zwei der Vorlage".to_owned()],
            0,
        ),
    )
    .await;
    let mut paper = repo::papers::get(db, public_paper).await.unwrap();
    paper.main_file_id = Some(main);
    repo::papers::update(db, paper).await.unwrap();
    attach(
        &app,
        &clerk,
        "agenda_item_id",
        &c.public_item.to_string(),
        "Lageplan.png",
        "image/png",
        plenum_render::sample::PNG,
    )
    .await;
    attach(
        &app,
        &clerk,
        "paper_id",
        &secret_paper.to_string(),
        "Kaufvertrag.pdf",
        "application/pdf",
        &one_page_pdf(SECRET_TEXT),
    )
    .await;

    let path = format!("/api/v1/meetings/{}/bundle.pdf", c.meeting);
    let public_path = format!("/api/v1/public/meetings/{}/bundle.pdf", c.meeting);

    // Committee member, advisory member, council member: everything, each with their name.
    let (status, etag, member_pdf) = fetch(&app, &path, Some(&c.members[1].1), None).await;
    assert_eq!(status, 200);
    assert_everything(&member_pdf, "Mitglied");
    let (status, _, pdf) = fetch(&app, &path, Some(&c.advisory.1), None).await;
    assert_eq!(status, 200);
    assert_everything(&pdf, "Beraterin");
    let (status, _, pdf) = fetch(&app, &path, Some(&council), None).await;
    assert_eq!(status, 200);
    assert_everything(&pdf, "Ratsfrau");

    // A member of another committee and the public: the public part only.
    let (status, _, pdf) = fetch(&app, &path, Some(&outsider), None).await;
    assert_eq!(status, 200);
    assert_public_only(&pdf, "member of another committee");
    let (status, public_etag, pdf) = fetch(&app, &public_path, None, None).await;
    assert_eq!(status, 200);
    assert_public_only(&pdf, "public");
    assert!(!pages(&pdf).join(" ").contains("Persönliches Exemplar"));

    // Not signed in, or an unknown meeting.
    let (status, _, _) = fetch(&app, &path, None, None).await;
    assert_eq!(status, 401);
    let unknown = Uuid::new_v4();
    let (status, _, _) = fetch(
        &app,
        &format!("/api/v1/meetings/{unknown}/bundle.pdf"),
        Some(&c.members[1].1),
        None,
    )
    .await;
    assert_eq!(status, 404);
    let (status, _, _) = fetch(
        &app,
        &format!("/api/v1/public/meetings/{unknown}/bundle.pdf"),
        None,
        None,
    )
    .await;
    assert_eq!(status, 404);

    // Unchanged: 304; again: the kept copy, byte for byte.
    let etag = etag.unwrap();
    let (status, _, _) = fetch(&app, &path, Some(&c.members[1].1), Some(&etag)).await;
    assert_eq!(status, 304);
    let (status, again, pdf) = fetch(&app, &path, Some(&c.members[1].1), None).await;
    assert_eq!((status, again.as_deref()), (200, Some(etag.as_str())));
    assert_eq!(pdf, member_pdf, "the kept bundle");

    // A changed agenda: a new ETag and the new title; one kept bundle per reader.
    let mut item = repo::agenda_items::get(db, c.public_item).await.unwrap();
    item.title = Title::parse("Neubau Feuerwache Nord, geänderte Fassung").unwrap();
    repo::agenda_items::update(db, item).await.unwrap();
    let (status, changed, pdf) = fetch(&app, &path, Some(&c.members[1].1), Some(&etag)).await;
    assert_eq!(status, 200);
    assert_ne!(changed.as_deref(), Some(etag.as_str()), "a new ETag");
    assert!(pages(&pdf).join(" ").contains("geänderte Fassung"));
    // A supplement's file changes the public bundle too.
    attach(
        &app,
        &clerk,
        "paper_id",
        &pp,
        "B-Nachtrag.pdf",
        "application/pdf",
        &one_page_pdf("Nachtrag zur Vorlage"),
    )
    .await;
    let public_etag = public_etag.unwrap();
    let (status, new_public, pdf) = fetch(&app, &public_path, None, Some(&public_etag)).await;
    assert_eq!(status, 200);
    assert_ne!(new_public.as_deref(), Some(public_etag.as_str()));
    assert!(pages(&pdf).join(" ").contains("Nachtrag zur Vorlage"));

    let kept = std::fs::read_dir(app.config.data_dir.join("bundles"))
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".pdf"))
        .count();
    assert_eq!(
        kept, 5,
        "one kept bundle per reader (four members and the public)"
    );
    app.stop().await;
}

/// Posts to a meeting's `invite` or `supplements` as the clerk, with the meeting's ETag.
async fn issue(app: &TestApp, clerk: &str, meeting: MeetingId, what: &str) -> u16 {
    let path = format!("/api/v1/meetings/{meeting}");
    let r = app.get_with(&path, clerk).await;
    assert_eq!(r.status(), 200);
    let tag = r.headers()["etag"].to_str().unwrap().to_owned();
    let r = app
        .client
        .post(app.url(&format!("{path}/{what}")))
        .bearer_auth(clerk)
        .header("if-match", tag)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    assert!(status < 300, "{what}: {}", r.text().await.unwrap());
    status
}

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn once_invited_the_cover_is_the_invitation(#[case] backend: Backend) {
    let Some(app) = spawn_app(backend, false).await else {
        return;
    };
    let db = &app.db.db;
    let c = committee(&app, 1).await;
    // A meeting still to be invited, a month ahead.
    let mut meeting = repo::meetings::get(db, c.meeting).await.unwrap();
    meeting.state = MeetingState::Planned;
    meeting.start = chrono::SubsecRound::trunc_subsecs(Utc::now(), 0) + chrono::Duration::days(30);
    let meeting = repo::meetings::update(db, meeting).await.unwrap();
    let org = repo::organizations::get(db, meeting.organization_id)
        .await
        .unwrap();
    let outsider = reader(&app, org.body_id, OrganizationKind::Committee, "Fremd").await;
    let (_, clerk) = clerk(&app).await;
    let member = c.members[0].1.clone();
    let path = format!("/api/v1/meetings/{}/bundle.pdf", c.meeting);
    let public_path = format!("/api/v1/public/meetings/{}/bundle.pdf", c.meeting);
    const SECRET_TITLE: &str = "Geheimes Grundstücksgeschäft Flur 9";
    let first_title = |pdf: &[u8]| outline(pdf).first().unwrap().0.clone();

    // Not invited yet: Plenum's own cover with the agenda.
    let (status, before, pdf) = fetch(&app, &path, Some(&member), None).await;
    assert_eq!(status, 200);
    assert_eq!(first_title(&pdf), "Tagesordnung");
    assert!(pages(&pdf)[0].contains("Sitzungsmappe"));
    let (status, public_before, pdf) = fetch(&app, &public_path, None, None).await;
    assert_eq!(status, 200);
    assert_eq!(first_title(&pdf), "Tagesordnung");

    issue(&app, &clerk, c.meeting, "invite").await;

    // The member: the full invitation is the cover (with the watermark: it lists the
    // non-public item), then the items as before. A new ETag.
    let (status, invited, pdf) = fetch(&app, &path, Some(&member), before.as_deref()).await;
    assert_eq!(status, 200, "the invitation gives a new version");
    assert_ne!(invited, before);
    let titles: Vec<String> = outline(&pdf).into_iter().map(|(t, _)| t).collect();
    assert_eq!(
        titles,
        [
            "Einladung".to_owned(),
            "Ö 1 Neubau Feuerwache".to_owned(),
            format!("N 1 {SECRET_TITLE}")
        ]
    );
    let cover = &pages(&pdf)[0];
    for text in ["Einladung", "Prüfsitzung", "Ladungsfrist", SECRET_TITLE] {
        assert!(
            cover.contains(text),
            "{text:?} missing on the cover: {cover}"
        );
    }
    assert!(cover.contains("Persönliches Exemplar für"), "{cover}");

    // A member of another committee: the invitation without the non-public part.
    let (status, _, pdf) = fetch(&app, &path, Some(&outsider), None).await;
    assert_eq!(status, 200);
    assert_eq!(first_title(&pdf), "Einladung");
    let all = pages(&pdf).join("\n");
    assert!(pages(&pdf)[0].contains("Einladung"), "{all}");
    assert!(!all.contains("Geheimes"), "a non-public title: {all}");
    assert!(!all.contains("– nichtöffentlich"), "no watermark: {all}");

    // The public: the public notice, nothing non-public.
    let (status, public_invited, pdf) =
        fetch(&app, &public_path, None, public_before.as_deref()).await;
    assert_eq!(status, 200);
    assert_ne!(public_invited, public_before);
    assert_eq!(first_title(&pdf), "Öffentliche Bekanntmachung");
    let all = pages(&pdf).join("\n");
    let cover = &pages(&pdf)[0];
    assert!(cover.contains("Öffentliche Bekanntmachung"), "{cover}");
    assert!(cover.contains("Neubau Feuerwache"), "{cover}");
    assert!(!all.contains("Geheimes"), "a non-public title: {all}");
    assert!(!all.contains("Persönliches Exemplar"), "{all}");

    // Unchanged: 304.
    let (status, _, _) = fetch(&app, &path, Some(&member), invited.as_deref()).await;
    assert_eq!(status, 304);

    // A supplement: a new ETag for everyone, and it is the cover now.
    let mut item = repo::agenda_items::get(db, c.public_item).await.unwrap();
    item.title = Title::parse("Neubau Feuerwache Nord").unwrap();
    repo::agenda_items::update(db, item).await.unwrap();
    issue(&app, &clerk, c.meeting, "supplements").await;
    let (status, supplemented, pdf) = fetch(&app, &path, Some(&member), invited.as_deref()).await;
    assert_eq!(status, 200);
    assert_ne!(supplemented, invited);
    assert_eq!(first_title(&pdf), "Nachtrag Nr. 1 zur Einladung");
    let cover = &pages(&pdf)[0];
    assert!(cover.contains("Nachtrag Nr. 1 zur Einladung"), "{cover}");
    assert!(cover.contains("Neubau Feuerwache Nord"), "{cover}");
    let (status, public_supplemented, pdf) =
        fetch(&app, &public_path, None, public_invited.as_deref()).await;
    assert_eq!(status, 200);
    assert_ne!(public_supplemented, public_invited);
    assert!(pages(&pdf)[0].contains("Nachtrag Nr. 1"));
    assert!(!pages(&pdf).join("\n").contains("Geheimes"));
    app.stop().await;
}
