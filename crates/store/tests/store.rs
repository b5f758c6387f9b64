#![allow(clippy::unwrap_used, clippy::expect_used)]

//! The store suite. Every test runs on SQLite and on PostgreSQL (`PLENUM_TEST_PG_URL`), each case
//! on a fresh database of its own.

use chrono::{NaiveDate, SubsecRound, TimeZone, Utc};
use plenum_domain::*;
use plenum_migrations::{Migrator, MigratorTrait};
use plenum_store::repo::{self, *};
use plenum_store::testing::TestDb;
use plenum_store::{Backend, ConnectionTrait, StoreError, TransactionTrait};
use rstest::rstest;
use sea_orm::{DatabaseConnection, DbBackend, Statement};

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn name(s: &str) -> Name {
    Name::parse(s).unwrap()
}

/// One of every object, linked as in a real council.
struct Council {
    body: Body,
    term: LegislativeTerm,
    council: Organization,
    committee: Organization,
    person: Person,
    user: User,
    membership: Membership,
    location: Location,
    meeting: Meeting,
    paper: Paper,
    item: AgendaItem,
    consultation: Consultation,
    file: File,
}

async fn seed(db: &impl ConnectionTrait) -> Council {
    let body = bodies::insert(
        db,
        Body {
            id: BodyId::new(),
            meta: Meta::default(),
            name: name("Stadt Musterstadt"),
            short_name: Some(name("Musterstadt")),
            website: Some("https://www.musterstadt.example".into()),
            contact_email: Some(Email::parse("rat@musterstadt.example").unwrap()),
            ags: None,
            rgs: None,
            classification: None,
        },
    )
    .await
    .unwrap();
    let term = legislative_terms::insert(
        db,
        LegislativeTerm {
            id: LegislativeTermId::new(),
            meta: Meta::default(),
            body_id: body.id,
            name: name("Wahlperiode 2021–2026"),
            start_date: day(2021, 11, 1),
            end_date: day(2026, 10, 31),
        },
    )
    .await
    .unwrap();
    let council = organizations::insert(
        db,
        Organization {
            id: OrganizationId::new(),
            meta: Meta::default(),
            body_id: body.id,
            name: name("Rat der Stadt Musterstadt"),
            short_name: Some(name("Rat")),
            kind: OrganizationKind::Council,
            statutory_seats: Some(38),
            parent_id: None,
            start_date: None,
            end_date: None,
        },
    )
    .await
    .unwrap();
    let committee = organizations::insert(
        db,
        Organization {
            id: OrganizationId::new(),
            meta: Meta::default(),
            body_id: body.id,
            name: name("Ausschuss für Finanzen"),
            short_name: Some(name("FinA")),
            kind: OrganizationKind::Committee,
            statutory_seats: Some(11),
            parent_id: Some(council.id),
            start_date: Some(day(2021, 11, 1)),
            end_date: None,
        },
    )
    .await
    .unwrap();
    let person = persons::insert(
        db,
        Person {
            id: PersonId::new(),
            meta: Meta::default(),
            body_id: body.id,
            family_name: name("Schmidt"),
            given_name: name("Anna"),
            title: Some(name("Dr.")),
            form_of_address: Some(name("Frau")),
            email: None,
            published: true,
            status: Vec::new(),
            affix: None,
            gender: None,
        },
    )
    .await
    .unwrap();
    let user = users::insert(
        db,
        User {
            id: UserId::new(),
            meta: Meta::default(),
            username: Username::parse("anna.schmidt").unwrap(),
            display_name: name("Dr. Anna Schmidt"),
            person_id: Some(person.id),
            site_role: SiteRole::Member,
            password_hash: Some(
                PasswordHash::parse("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA").unwrap(),
            ),
        },
    )
    .await
    .unwrap();
    let membership = memberships::insert(
        db,
        Membership {
            id: MembershipId::new(),
            meta: Meta::default(),
            person_id: person.id,
            organization_id: council.id,
            role: MembershipRole::Chair,
            voting_right: true,
            start_date: Some(day(2021, 11, 1)),
            end_date: None,
        },
    )
    .await
    .unwrap();
    let location = locations::insert(
        db,
        Location {
            id: LocationId::new(),
            meta: Meta::default(),
            body_id: body.id,
            description: name("Rathaus, Ratssaal"),
            street_address: Some(name("Marktplatz 1")),
            room: Some(name("Ratssaal")),
            postal_code: Some(name("12345")),
            locality: Some(name("Musterstadt")),
        },
    )
    .await
    .unwrap();
    let start = Utc.with_ymd_and_hms(2026, 12, 3, 17, 0, 0).unwrap();
    let meeting = meetings::insert(
        db,
        Meeting {
            id: MeetingId::new(),
            meta: Meta::default(),
            organization_id: council.id,
            name: name("7. Sitzung des Rates"),
            start,
            end: Some(start + chrono::Duration::hours(3)),
            location_id: Some(location.id),
            state: MeetingState::Planned,
            invited_at: None,
        },
    )
    .await
    .unwrap();
    let paper = papers::insert(
        db,
        Paper {
            id: PaperId::new(),
            meta: Meta::default(),
            body_id: body.id,
            reference: PaperReference::parse("VO/10742/23").unwrap(),
            paper_type: PaperType::Resolution,
            title: Title::parse("Haushaltssatzung 2027").unwrap(),
            date: day(2026, 11, 2),
            originator_id: Some(committee.id),
            text: Markdown::parse("# Beschlussvorschlag\n\nDer Rat beschließt …").unwrap(),
            public: true,
            main_file_id: None,
            under_direction_of_id: None,
        },
    )
    .await
    .unwrap();
    let item = agenda_items::insert(
        db,
        AgendaItem {
            id: AgendaItemId::new(),
            meta: Meta::default(),
            meeting_id: meeting.id,
            number: AgendaNumber::parse("Ö 7").unwrap(),
            position: 7,
            public: true,
            title: Title::parse("Haushaltssatzung 2027").unwrap(),
            paper_id: Some(paper.id),
            decision: None,
        },
    )
    .await
    .unwrap();
    let consultation = consultations::insert(
        db,
        Consultation {
            id: ConsultationId::new(),
            meta: Meta::default(),
            paper_id: paper.id,
            organization_id: council.id,
            meeting_id: Some(meeting.id),
            agenda_item_id: Some(item.id),
            role: ConsultationRole::Decide,
            position: 2,
        },
    )
    .await
    .unwrap();
    let file = files::insert(
        db,
        File {
            id: FileId::new(),
            meta: Meta::default(),
            body_id: body.id,
            name: FileName::parse("Haushaltsplan 2027.pdf").unwrap(),
            media_type: MediaType::pdf(),
            size: 123_456,
            sha256: Sha256Digest::from_bytes([7; 32]),
            sha512: None,
            storage_key: "sha256/07/0707".into(),
            paper_id: Some(paper.id),
            meeting_id: None,
            agenda_item_id: None,
            license: None,
        },
    )
    .await
    .unwrap();
    Council {
        body,
        term,
        council,
        committee,
        person,
        user,
        membership,
        location,
        meeting,
        paper,
        item,
        consultation,
        file,
    }
}

macro_rules! backends {
    ($(#[$attr:meta])* async fn $name:ident($db:ident) $body:block) => {
        #[rstest]
        #[case::sqlite(Backend::Sqlite)]
        #[case::postgres(Backend::Postgres)]
        #[tokio::test]
        $(#[$attr])*
        async fn $name(#[case] backend: Backend) {
            let Some(test_db) = TestDb::migrated(backend).await else { return };
            let $db: &DatabaseConnection = &test_db.db;
            $body
        }
    };
}

backends! {
    async fn every_object_reads_back_as_written(db) {
        let c = seed(db).await;
        assert_eq!(bodies::get(db, c.body.id).await.unwrap(), c.body);
        assert_eq!(legislative_terms::get(db, c.term.id).await.unwrap(), c.term);
        assert_eq!(organizations::get(db, c.council.id).await.unwrap(), c.council);
        assert_eq!(organizations::get(db, c.committee.id).await.unwrap(), c.committee);
        assert_eq!(persons::get(db, c.person.id).await.unwrap(), c.person);
        assert_eq!(users::get(db, c.user.id).await.unwrap(), c.user);
        assert_eq!(memberships::get(db, c.membership.id).await.unwrap(), c.membership);
        assert_eq!(locations::get(db, c.location.id).await.unwrap(), c.location);
        assert_eq!(meetings::get(db, c.meeting.id).await.unwrap(), c.meeting);
        assert_eq!(papers::get(db, c.paper.id).await.unwrap(), c.paper);
        assert_eq!(agenda_items::get(db, c.item.id).await.unwrap(), c.item);
        assert_eq!(consultations::get(db, c.consultation.id).await.unwrap(), c.consultation);
        assert_eq!(files::get(db, c.file.id).await.unwrap(), c.file);
        assert!(c.body.meta.created <= c.body.meta.modified);
        assert!(!c.body.meta.is_deleted());
    }
}

backends! {
    async fn lists_follow_their_order_and_scope(db) {
        let c = seed(db).await;
        let orgs = organizations::list_by_body(db, c.body.id, false).await.unwrap();
        let names: Vec<_> = orgs.iter().map(|o| o.name.as_str()).collect();
        assert_eq!(names, ["Ausschuss für Finanzen", "Rat der Stadt Musterstadt"]);
        let second = agenda_items::insert(db, AgendaItem {
            id: AgendaItemId::new(),
            meta: Meta::default(),
            meeting_id: c.meeting.id,
            number: AgendaNumber::parse("Ö 1").unwrap(),
            position: 1,
            public: true,
            title: Title::parse("Eröffnung").unwrap(),
            paper_id: None,
            decision: None,
        }).await.unwrap();
        let agenda = agenda_items::list_by_meeting(db, c.meeting.id, false).await.unwrap();
        assert_eq!(agenda.iter().map(|i| i.id).collect::<Vec<_>>(), [second.id, c.item.id]);
        assert_eq!(meetings::list_by_body(db, c.body.id, false).await.unwrap(), vec![c.meeting.clone()]);
        assert_eq!(memberships::list_by_person(db, c.person.id, false).await.unwrap(), vec![c.membership.clone()]);
        assert_eq!(consultations::list_by_paper(db, c.paper.id, false).await.unwrap(), vec![c.consultation.clone()]);
        assert_eq!(files::list_by_paper(db, c.paper.id, false).await.unwrap(), vec![c.file.clone()]);
        assert_eq!(files::find_by_sha256(db, &c.file.sha256).await.unwrap(), Some(c.file.clone()));
        assert_eq!(
            users::find_by_username(db, &Username::parse("Anna.Schmidt").unwrap()).await.unwrap(),
            Some(c.user.clone())
        );
        let counts = repo::count_body(db, c.body.id).await.unwrap();
        assert_eq!(counts, BodyCounts { organizations: 2, persons: 1, meetings: 1, papers: 1 });
        let other_body = bodies::insert(db, Body { id: BodyId::new(), ..c.body.clone() }).await.unwrap();
        assert!(organizations::list_by_body(db, other_body.id, false).await.unwrap().is_empty());
    }
}

backends! {
    async fn update_keeps_created_and_advances_modified(db) {
        let c = seed(db).await;
        let mut paper = c.paper.clone();
        paper.title = Title::parse("Haushaltssatzung 2027 (geändert)").unwrap();
        paper.meta.created = Utc.with_ymd_and_hms(2000, 1, 1, 0, 0, 0).unwrap();
        let updated = papers::update(db, paper).await.unwrap();
        assert_eq!(updated.meta.created, c.paper.meta.created, "created is not writable");
        assert!(updated.meta.modified >= c.paper.meta.modified);
        let stored = papers::get(db, c.paper.id).await.unwrap();
        assert_eq!(stored, updated);
        assert_eq!(stored.title.as_str(), "Haushaltssatzung 2027 (geändert)");
    }
}

backends! {
    async fn soft_delete_leaves_a_tombstone(db) {
        let c = seed(db).await;
        let deleted = files::delete(db, c.file.id).await.unwrap();
        assert!(deleted.meta.is_deleted());
        let tombstone = files::get(db, c.file.id).await.unwrap();
        assert_eq!(tombstone.meta.deleted, deleted.meta.deleted);
        assert!(tombstone.meta.modified >= c.file.meta.modified);
        assert!(matches!(files::get_live(db, c.file.id).await, Err(StoreError::NotFound { .. })));
        assert!(files::list_by_paper(db, c.paper.id, false).await.unwrap().is_empty());
        assert_eq!(files::list_by_paper(db, c.paper.id, true).await.unwrap().len(), 1);
        assert!(matches!(files::delete(db, c.file.id).await, Err(StoreError::NotFound { .. })));
        assert!(matches!(files::update(db, c.file.clone()).await, Err(StoreError::NotFound { .. })));
    }
}

backends! {
    async fn unique_violations_become_conflicts(db) {
        let c = seed(db).await;
        let twin = User { id: UserId::new(), person_id: None, ..c.user.clone() };
        assert!(matches!(users::insert(db, twin).await, Err(StoreError::Conflict(_))));
        let same_reference = Paper { id: PaperId::new(), ..c.paper.clone() };
        assert!(matches!(papers::insert(db, same_reference).await, Err(StoreError::Conflict(_))));
        let same_id = Body { name: name("Doppelt"), ..c.body.clone() };
        assert!(matches!(bodies::insert(db, same_id).await, Err(StoreError::Conflict(_))));
        // The same reference in another body is fine.
        let other = bodies::insert(db, Body { id: BodyId::new(), ..c.body.clone() }).await.unwrap();
        papers::insert(db, Paper { id: PaperId::new(), body_id: other.id, originator_id: None, ..c.paper.clone() })
            .await
            .unwrap();
    }
}

backends! {
    async fn dangling_references_are_refused(db) {
        let c = seed(db).await;
        let orphan = Membership { id: MembershipId::new(), organization_id: OrganizationId::new(), ..c.membership.clone() };
        assert!(matches!(memberships::insert(db, orphan).await, Err(StoreError::Conflict(_))));
        assert!(memberships::list_by_person(db, c.person.id, true).await.unwrap().len() == 1);
    }
}

backends! {
    async fn missing_rows_are_not_found(db) {
        let _c = seed(db).await;
        match meetings::get(db, MeetingId::new()).await {
            Err(StoreError::NotFound { entity, .. }) => assert_eq!(entity, "meeting"),
            other => panic!("expected NotFound, got {other:?}"),
        }
        let ghost = Person {
            id: PersonId::new(),
            meta: Meta::default(),
            body_id: BodyId::new(),
            family_name: name("Geist"),
            given_name: name("Gustav"),
            title: None,
            form_of_address: None,
            email: None,
            published: true,
            status: Vec::new(),
            affix: None,
            gender: None,
        };
        assert!(matches!(persons::update(db, ghost).await, Err(StoreError::NotFound { .. })));
    }
}

backends! {
    async fn invalid_objects_are_never_written(db) {
        let c = seed(db).await;
        let advisory_with_vote = Membership {
            id: MembershipId::new(),
            role: MembershipRole::Advisory,
            voting_right: true,
            ..c.membership.clone()
        };
        let id = advisory_with_vote.id;
        assert!(matches!(memberships::insert(db, advisory_with_vote).await, Err(StoreError::Invalid(_))));
        assert!(matches!(memberships::get(db, id).await, Err(StoreError::NotFound { .. })));
        let mut mismatched = c.item.clone();
        mismatched.public = false;
        assert!(matches!(agenda_items::update(db, mismatched).await, Err(StoreError::Invalid(_))));
        assert!(agenda_items::get(db, c.item.id).await.unwrap().public);
    }
}

backends! {
    async fn meeting_state_follows_the_state_machine(db) {
        let c = seed(db).await;
        assert!(matches!(
            meetings::transition(db, c.meeting.id, MeetingState::Closed).await,
            Err(StoreError::Invalid(DomainError::InvalidTransition { .. }))
        ));
        let invited = meetings::transition(db, c.meeting.id, MeetingState::Invited).await.unwrap();
        assert_eq!(invited.state, MeetingState::Invited);
        assert!(invited.invited_at.is_some());
        let running = meetings::transition(db, c.meeting.id, MeetingState::Running).await.unwrap();
        assert_eq!(meetings::get(db, c.meeting.id).await.unwrap(), running);
    }
}

backends! {
    async fn a_rolled_back_transaction_leaves_nothing(db) {
        let c = seed(db).await;
        let txn = db.begin().await.unwrap();
        let mut renamed = c.body.clone();
        renamed.name = name("Umbenannt");
        bodies::update(&txn, renamed).await.unwrap();
        assert_eq!(bodies::get(&txn, c.body.id).await.unwrap().name.as_str(), "Umbenannt");
        txn.rollback().await.unwrap();
        assert_eq!(bodies::get(db, c.body.id).await.unwrap(), c.body);
    }
}

backends! {
    async fn rows_edited_into_nonsense_surface_as_corrupt(db) {
        let c = seed(db).await;
        let backend = db.get_database_backend();
        let sql = match backend {
            DbBackend::Postgres => "UPDATE organization SET kind = 'kaffeeklatsch'",
            _ => "UPDATE organization SET kind = 'kaffeeklatsch'",
        };
        db.execute_unprepared(sql).await.unwrap();
        assert!(matches!(organizations::get(db, c.council.id).await, Err(StoreError::Corrupt(_))));
    }
}

/// Migrations that change only a PostgreSQL setting (SQLite has nothing to change).
const POSTGRES_ONLY: &[&str] = &["m20261207_000003_live_state_lz4"];

/// The schema as the database describes it, without the migration bookkeeping table.
async fn schema(db: &DatabaseConnection) -> Vec<String> {
    let backend = db.get_database_backend();
    let queries: &[&str] = match backend {
        DbBackend::Postgres => &[
            "SELECT table_name::text || '.' || column_name::text || ' ' || data_type::text || ' ' || is_nullable::text AS line \
             FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> 'seaql_migrations'",
            "SELECT indexdef::text AS line FROM pg_indexes WHERE schemaname = 'public' AND tablename <> 'seaql_migrations'",
            "SELECT conrelid::regclass::text || ' ' || pg_get_constraintdef(oid)::text AS line FROM pg_constraint \
             WHERE connamespace = 'public'::regnamespace AND conrelid::regclass::text <> 'seaql_migrations'",
            "SELECT c.relname::text || '.' || a.attname::text || ' compression ' || a.attcompression::text AS line \
             FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid \
             WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r' AND a.attnum > 0 \
             AND NOT a.attisdropped AND a.attcompression <> ''",
        ],
        _ => &[
            "SELECT type || ' ' || name || ' ' || COALESCE(sql, '') AS line FROM sqlite_master \
             WHERE name NOT LIKE 'sqlite_%' AND tbl_name <> 'seaql_migrations'",
        ],
    };
    let mut lines = Vec::new();
    for sql in queries {
        for row in db
            .query_all_raw(Statement::from_string(backend, *sql))
            .await
            .unwrap()
        {
            lines.push(row.try_get::<String>("", "line").unwrap());
        }
    }
    lines.sort();
    lines
}

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test]
async fn every_migration_down_restores_the_previous_schema(#[case] backend: Backend) {
    let count = Migrator::migrations().len() as u32;
    for applied in 0..count {
        let Some(test_db) = TestDb::empty(backend).await else {
            return;
        };
        let db = &test_db.db;
        if applied > 0 {
            Migrator::up(db, Some(applied)).await.unwrap();
        }
        let before = schema(db).await;
        Migrator::up(db, Some(1)).await.unwrap();
        let after_up = schema(db).await;
        let name = Migrator::migrations()[applied as usize].name().to_owned();
        if backend == Backend::Sqlite && POSTGRES_ONLY.contains(&name.as_str()) {
            assert_eq!(before, after_up, "{name} is for PostgreSQL only");
        } else {
            assert_ne!(
                before,
                after_up,
                "migration {} changed nothing",
                applied + 1
            );
        }
        Migrator::down(db, Some(1)).await.unwrap();
        assert_eq!(
            schema(db).await,
            before,
            "down of migration {} left changes",
            applied + 1
        );
    }
}

/// A body inserted with the columns of the first schema (later migrations add more), as it
/// reads back once every migration ran.
async fn old_body(db: &DatabaseConnection, title: &str) -> Body {
    let body = Body {
        id: BodyId::new(),
        meta: Meta::new(Utc.with_ymd_and_hms(2026, 1, 1, 9, 0, 0).unwrap()),
        name: name(title),
        short_name: None,
        website: None,
        contact_email: None,
        ags: None,
        rgs: None,
        classification: None,
    };
    let placeholders = match db.get_database_backend() {
        DbBackend::Postgres => "$1, $2, $3, $4",
        _ => "?, ?, ?, ?",
    };
    db.execute_raw(Statement::from_sql_and_values(
        db.get_database_backend(),
        format!("INSERT INTO body (id, created, modified, name) VALUES ({placeholders})"),
        vec![
            sea_orm::Value::from(body.id.as_uuid()),
            sea_orm::Value::from(body.meta.created),
            sea_orm::Value::from(body.meta.modified),
            sea_orm::Value::from(title.to_owned()),
        ],
    ))
    .await
    .unwrap();
    body
}

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test]
async fn later_migrations_run_over_existing_data(#[case] backend: Backend) {
    let Some(test_db) = TestDb::empty(backend).await else {
        return;
    };
    let db = &test_db.db;
    Migrator::up(db, Some(1)).await.unwrap();
    let body = old_body(db, "Stadt Altdorf").await;
    Migrator::up(db, None).await.unwrap();
    assert_eq!(bodies::get(db, body.id).await.unwrap(), body);
    assert!(
        Migrator::get_pending_migrations(db)
            .await
            .unwrap()
            .is_empty()
    );
}

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test]
async fn notes_and_forums_filter_by_organization_and_keep_history(#[case] backend: Backend) {
    use plenum_store::collab::{NoteTarget, forums, notes};
    let Some(test) = TestDb::migrated(backend).await else {
        return;
    };
    let db = &test.db;
    let (a, b) = (PersonId::new(), PersonId::new());
    let (fa, fb) = (OrganizationId::new(), OrganizationId::new());
    let paper = PaperId::new();
    let now = Utc.with_ymd_and_hms(2026, 11, 24, 10, 0, 0).unwrap();
    let new = |shared_with, body: &str| notes::NewNote {
        author: a,
        target: NoteTarget::Paper(paper),
        page: Some(2),
        quote: None,
        anchor: None,
        shared_with,
        body: body.to_owned(),
        id: None,
    };
    notes::insert(db, new(None, "privat 100% Kosten"), now)
        .await
        .unwrap();
    let shared = notes::insert(db, new(Some(fa), "für A"), now)
        .await
        .unwrap();
    let target = NoteTarget::Paper(paper);
    assert_eq!(
        notes::list_for_target(db, target, a, &[fa])
            .await
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        notes::list_for_target(db, target, b, &[fa])
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(
        notes::list_for_target(db, target, b, &[fb])
            .await
            .unwrap()
            .is_empty()
    );
    // LIKE wildcards in the query are literal.
    assert_eq!(notes::search(db, a, &[], "100%").await.unwrap().len(), 1);
    assert!(notes::search(db, a, &[], "1_0").await.unwrap().is_empty());
    assert!(
        notes::search(db, b, &[fb], "KOSTEN")
            .await
            .unwrap()
            .is_empty()
    );
    // Edits need the current version and keep every version.
    assert!(
        notes::update(db, shared.id, 7, "x".into(), Some(fa), now)
            .await
            .unwrap()
            .is_none()
    );
    let edited = notes::update(db, shared.id, 1, "für A, neu".into(), Some(fa), now)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(edited.version, 2);
    assert_eq!(notes::history(db, shared.id).await.unwrap().len(), 2);

    // Forums: unread counts per person, read markers, tombstones.
    let (thread, _) = forums::create_thread(
        db,
        forums::NewThread {
            organization: fa,
            author: a,
            title: "Klausur".into(),
            paper_id: None,
            meeting_id: None,
            agenda_item_id: None,
            body: "Wann?".into(),
            mentions: vec![b],
        },
        now,
    )
    .await
    .unwrap();
    let later = now + chrono::Duration::minutes(1);
    let reply = forums::add_post(db, &thread, b, None, "Montag".into(), &[], later)
        .await
        .unwrap();
    // Replying marks the thread read for its author; the other member has one unread post.
    assert!(forums::unread(db, b, &[fa]).await.unwrap().is_empty());
    let unread_a = forums::unread(db, a, &[fa]).await.unwrap();
    assert_eq!(unread_a.get(&thread.id).map(|(_, n)| *n), Some(1));
    forums::mark_read(db, thread.id, a, later).await.unwrap();
    assert!(forums::unread(db, a, &[fa]).await.unwrap().is_empty());
    assert!(forums::unread(db, b, &[fb]).await.unwrap().is_empty());
    assert!(
        forums::search(db, &[fb], "montag")
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(forums::search(db, &[fa], "montag").await.unwrap().len(), 1);
    assert!(forums::delete_post(db, reply.id, later).await.unwrap());
    let posts = forums::list_posts(db, thread.id).await.unwrap();
    assert_eq!(posts.len(), 2);
    assert!(posts[1].deleted.is_some() && posts[1].body.is_empty());
}

/// Migration 000060 (`person.published`) over existing data: persons who hold an office stay
/// published; staff who belong only to the administration, and persons without memberships, are
/// unpublished and recorded as withdrawn (OParl serves their tombstones from then on).
#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test]
async fn publication_migration_unpublishes_staff_only(#[case] backend: Backend) {
    use sea_orm::Value as V;
    let Some(test_db) = TestDb::empty(backend).await else {
        return;
    };
    let db = &test_db.db;
    let position = Migrator::migrations()
        .iter()
        .position(|m| m.name() == "m20261205_000060_person_published")
        .expect("the migration exists") as u32;
    Migrator::up(db, Some(position)).await.unwrap();
    let body = old_body(db, "Stadt Altdorf").await;
    let org = |kind: OrganizationKind, title: &str| Organization {
        id: OrganizationId::new(),
        meta: Meta::default(),
        body_id: body.id,
        name: name(title),
        short_name: None,
        kind,
        statutory_seats: None,
        parent_id: None,
        start_date: None,
        end_date: None,
    };
    let council = organizations::insert(db, org(OrganizationKind::Council, "Rat"))
        .await
        .unwrap();
    let administration =
        organizations::insert(db, org(OrganizationKind::Administration, "Verwaltung"))
            .await
            .unwrap();
    // Persons as the schema before the migration holds them (no `published` column yet).
    let created = Utc.with_ymd_and_hms(2026, 1, 1, 9, 0, 0).unwrap();
    let person = |family: &str| {
        let id = PersonId::new();
        let sql = format!(
            "INSERT INTO person (id, created, modified, body_id, family_name, given_name) \
             VALUES ({})",
            match backend {
                Backend::Postgres => "$1, $2, $3, $4, $5, $6",
                Backend::Sqlite => "?, ?, ?, ?, ?, ?",
            }
        );
        let values = vec![
            V::from(id.as_uuid()),
            V::from(created),
            V::from(created),
            V::from(body.id.as_uuid()),
            V::from(family.to_owned()),
            V::from("Test".to_owned()),
        ];
        (
            id,
            Statement::from_sql_and_values(db.get_database_backend(), sql, values),
        )
    };
    let (mayor, a) = person("Bürgermeisterin");
    let (clerk, b) = person("Sachbearbeiter");
    let (loner, c) = person("Ohneamt");
    for statement in [a, b, c] {
        db.execute_raw(statement).await.unwrap();
    }
    let membership = |person: PersonId, organization: OrganizationId| Membership {
        id: MembershipId::new(),
        meta: Meta::default(),
        person_id: person,
        organization_id: organization,
        role: MembershipRole::Member,
        voting_right: false,
        start_date: None,
        end_date: None,
    };
    memberships::insert(db, membership(mayor, council.id))
        .await
        .unwrap();
    memberships::insert(db, membership(mayor, administration.id))
        .await
        .unwrap();
    memberships::insert(db, membership(clerk, administration.id))
        .await
        .unwrap();

    Migrator::up(db, None).await.unwrap();
    assert!(persons::get(db, mayor).await.unwrap().published);
    for staff in [clerk, loner] {
        let person = persons::get(db, staff).await.unwrap();
        assert!(!person.published);
        assert!(
            person.meta.modified > created,
            "modified moves for importers"
        );
    }
    let withdrawn =
        plenum_store::withdrawn::times(db, &[mayor.as_uuid(), clerk.as_uuid(), loner.as_uuid()])
            .await
            .unwrap();
    assert!(!withdrawn.contains_key(&mayor.as_uuid()));
    assert!(withdrawn.contains_key(&clerk.as_uuid()));
    assert!(withdrawn.contains_key(&loner.as_uuid()));
}

/// Many members editing their notes and forum posts at the same moment: every edit lands. On
/// SQLite a transaction that reads before it writes must take the write lock up front; begun
/// deferred, it fails with "database is locked" whenever another connection commits between
/// its read and its write.
#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_edits_of_notes_and_posts_all_land(#[case] backend: Backend) {
    use plenum_store::collab::{NoteTarget, forums, notes};
    let Some(test) = TestDb::migrated(backend).await else {
        return;
    };
    let db = &test.db;
    let fraction = OrganizationId::new();
    let paper = PaperId::new();
    let now = Utc::now();
    let mut notes_made = Vec::new();
    let mut posts_made = Vec::new();
    for i in 0..8 {
        let author = PersonId::new();
        let note = notes::insert(
            db,
            notes::NewNote {
                author,
                target: NoteTarget::Paper(paper),
                page: None,
                quote: None,
                anchor: None,
                shared_with: Some(fraction),
                body: format!("Notiz {i}"),
                id: None,
            },
            now,
        )
        .await
        .unwrap();
        notes_made.push(note.id);
        let (_, post) = forums::create_thread(
            db,
            forums::NewThread {
                organization: fraction,
                author,
                title: format!("Thema {i}"),
                paper_id: None,
                meeting_id: None,
                agenda_item_id: None,
                body: "Anfang".into(),
                mentions: vec![],
            },
            now,
        )
        .await
        .unwrap();
        posts_made.push(post.id);
    }
    let rounds = 12u32;
    let mut tasks = Vec::new();
    for (note, post) in notes_made.iter().copied().zip(posts_made.iter().copied()) {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            for round in 1..=rounds {
                let edited = notes::update(
                    &db,
                    note,
                    round,
                    format!("Fassung {round}"),
                    Some(fraction),
                    Utc::now(),
                )
                .await
                .unwrap_or_else(|err| panic!("note edit {round} failed: {err}"));
                assert!(edited.is_some(), "note edit {round} saw a stale version");
                let edited = forums::update_post(
                    &db,
                    post,
                    round,
                    format!("Beitrag {round}"),
                    &[],
                    Utc::now(),
                )
                .await
                .unwrap_or_else(|err| panic!("post edit {round} failed: {err}"));
                assert!(edited.is_some(), "post edit {round} saw a stale version");
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    for note in notes_made {
        assert_eq!(
            notes::history(db, note).await.unwrap().len(),
            rounds as usize + 1,
            "every version is kept"
        );
    }
}

/// A running server's SQLite pool leaves checkpoints to a background task: no commit (a vote's)
/// copies the write-ahead log itself, and what was written reaches the database file within a
/// few seconds all the same.
#[tokio::test]
async fn the_server_pool_checkpoints_sqlite_in_the_background() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plenum.sqlite3");
    let url = format!("sqlite://{}?mode=rwc", path.display());
    let db = plenum_store::connect_server(&url).await.unwrap();
    assert_eq!(autocheckpoint(&db).await, 0);
    db.execute_unprepared("CREATE TABLE filler (data BLOB NOT NULL)")
        .await
        .unwrap();
    for _ in 0..16 {
        db.execute_unprepared("INSERT INTO filler VALUES (randomblob(65536))")
            .await
            .unwrap();
    }
    let size = || std::fs::metadata(&path).unwrap().len();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while size() < 1_000_000 {
        assert!(
            std::time::Instant::now() < deadline,
            "the log never reached the database file ({} bytes)",
            size()
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // The plain pool (command-line tools, tests) keeps SQLite's own checkpoints.
    let plain = plenum_store::connect(&url).await.unwrap();
    assert_eq!(autocheckpoint(&plain).await, 1000);
}

/// The WAL size (in pages) at which a commit of this connection checkpoints; 0: never.
async fn autocheckpoint(db: &DatabaseConnection) -> i64 {
    db.query_one_raw(Statement::from_string(
        DbBackend::Sqlite,
        "PRAGMA wal_autocheckpoint",
    ))
    .await
    .unwrap()
    .unwrap()
    .try_get_by_index::<i64>(0)
    .unwrap()
}

/// The fence between live writers: a batch computed from an older state than the stored one is
/// refused as a whole (nothing of it is written), so a node that lost its lease but still
/// commits cannot write an event twice or over another node's.
#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test]
async fn a_live_batch_from_an_older_state_is_refused_whole(#[case] backend: Backend) {
    use plenum_store::live::{self, Batch, StateParts, StoredEvent};
    let Some(test) = TestDb::migrated(backend).await else {
        return;
    };
    let db = &test.db;
    let c = seed(db).await;
    let meeting = c.meeting.id;
    let now = Utc::now();
    let empty = || StateParts {
        state: "{}".into(),
        members: None,
        attendance: None,
    };
    let batch = |seq: u64, text: &str| Batch {
        events: vec![StoredEvent {
            seq,
            at: now,
            public: true,
            payload: format!("{{\"type\":\"{text}\"}}"),
        }],
        ..Batch::default()
    };
    // The first node writes seq 1 and 2.
    live::commit(db, meeting, None, 1, empty(), batch(1, "a"), now)
        .await
        .unwrap();
    live::commit(db, meeting, Some(1), 2, empty(), batch(2, "b"), now)
        .await
        .unwrap();
    // The deposed node computed seq 2 from seq 1 too: refused, in a transaction that then
    // rolls back, so its event never lands.
    let txn = db.begin().await.unwrap();
    let refused = live::commit(&txn, meeting, Some(1), 2, empty(), batch(2, "x"), now).await;
    assert!(
        matches!(refused, Err(StoreError::Conflict(_))),
        "{refused:?}"
    );
    txn.rollback().await.unwrap();
    // A node that believes there is no state yet is refused too.
    let refused = live::commit(db, meeting, None, 1, empty(), batch(1, "y"), now).await;
    assert!(
        matches!(refused, Err(StoreError::Conflict(_))),
        "{refused:?}"
    );
    let events = live::events_since(db, meeting, 0, 10).await.unwrap();
    let payloads: Vec<&str> = events.iter().map(|e| e.payload.as_str()).collect();
    assert_eq!(payloads, ["{\"type\":\"a\"}", "{\"type\":\"b\"}"]);
    assert_eq!(live::stored_seq(db, meeting).await.unwrap(), Some(2));
}

/// The roster's members and the attendance are stored apart from the rest of a live state and
/// written only when a batch gives them, so a batch of ballots does not write them again. A
/// state stored whole, as versions before kept it, still loads whole.
#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test]
async fn live_state_parts_are_written_only_when_they_change(#[case] backend: Backend) {
    use plenum_store::live::{self, Batch, StateParts};
    let Some(test) = TestDb::migrated(backend).await else {
        return;
    };
    let db = &test.db;
    let c = seed(db).await;
    let meeting = c.meeting.id;
    let now = Utc::now().trunc_subsecs(6);
    let member = |name: &str| RosterMember {
        person: PersonId::new(),
        name: name.into(),
        role: MembershipRole::Member,
        voting_right: true,
        fraction: Some("Grüne".into()),
    };
    let mut state = LiveState::new(
        meeting,
        Roster {
            organization: c.council.id,
            organization_kind: OrganizationKind::Council,
            statutory_seats: 2,
            rule_set: RuleSet::NordrheinWestfalen,
            members: vec![member("Erika Mustermann"), member("Max Muster")],
        },
        Vec::new(),
    );
    let erika = state.roster.members[0].person;
    state.attendance.insert(
        erika,
        Attendance {
            status: AttendanceStatus::Present,
            since: now,
            arrived: Some(now),
            left: None,
        },
    );
    async fn loaded(db: &DatabaseConnection, meeting: MeetingId) -> (u64, LiveState, StateParts) {
        let (seq, state) = live::load(db, meeting).await.unwrap().unwrap();
        let (_, parts) = live::load_parts(db, meeting).await.unwrap().unwrap();
        (seq, state, parts)
    }

    // The first write keeps both parts apart.
    let parts = StateParts::split(&mut state, true, true).unwrap();
    assert!(!parts.state.contains("Erika"), "{}", parts.state);
    assert!(parts.members.as_ref().unwrap().contains("Erika"));
    assert!(
        state.roster.members.len() == 2 && state.attendance.len() == 1,
        "split gives the state back whole"
    );
    live::commit(db, meeting, None, 1, parts, Batch::default(), now)
        .await
        .unwrap();
    let (seq, whole, parts) = loaded(db, meeting).await;
    assert_eq!((seq, &whole), (1, &state));
    assert!(parts.apart());

    // A batch that changes neither part writes neither; the stored ones stay.
    state.status = SessionStatus::Running;
    let parts = StateParts::split(&mut state, false, false).unwrap();
    assert_eq!(
        (parts.members.as_ref(), parts.attendance.as_ref()),
        (None, None)
    );
    live::commit(db, meeting, Some(1), 2, parts, Batch::default(), now)
        .await
        .unwrap();
    let (seq, whole, _) = loaded(db, meeting).await;
    assert_eq!((seq, &whole), (2, &state));

    // A check-out changes the attendance only: written, the members stay.
    if let Some(a) = state.attendance.get_mut(&erika) {
        a.status = AttendanceStatus::LeftEarly;
        a.left = Some(now);
    }
    let parts = StateParts::split(&mut state, false, true).unwrap();
    live::commit(db, meeting, Some(2), 3, parts, Batch::default(), now)
        .await
        .unwrap();
    let (seq, whole, parts) = loaded(db, meeting).await;
    assert_eq!((seq, &whole), (3, &state));
    assert_eq!(parts.attendance().unwrap(), state.attendance);
    let many = live::load_many(db, &[meeting]).await.unwrap();
    assert_eq!(many.len(), 1);
    assert_eq!(many[0].1.attendance().unwrap(), state.attendance);

    // Stored whole by a version before: loads whole, and the next write keeps the parts apart.
    let whole_json = serde_json::to_string(&state).unwrap();
    let sql = match db.get_database_backend() {
        DbBackend::Postgres => {
            "UPDATE live_session SET state = $1, members = NULL, attendance = NULL"
        }
        _ => "UPDATE live_session SET state = ?, members = NULL, attendance = NULL",
    };
    db.execute_raw(Statement::from_sql_and_values(
        db.get_database_backend(),
        sql,
        [whole_json.into()],
    ))
    .await
    .unwrap();
    let (_, whole, parts) = loaded(db, meeting).await;
    assert_eq!(whole, state);
    assert!(!parts.apart());
    assert_eq!(parts.attendance().unwrap(), state.attendance);
}

/// Who is connected at which node (PostgreSQL only: several nodes need it): a person counts as
/// connected elsewhere while a row of theirs belongs to another node that is alive; the rows of
/// a node that died count for nothing and are pruned a minute later.
#[tokio::test]
async fn presence_counts_only_other_nodes_that_are_alive() {
    use plenum_store::presence;
    use std::time::Duration;
    let Some(test) = TestDb::migrated(Backend::Postgres).await else {
        return;
    };
    let db = &test.db;
    let (a, b) = (uuid::Uuid::new_v4(), uuid::Uuid::new_v4());
    let (anna, ben, cem) = (PersonId::new(), PersonId::new(), PersonId::new());
    let everyone = [anna, ben, cem];
    let sorted = |mut v: Vec<PersonId>| {
        v.sort();
        v
    };
    presence::node_alive(db, a, Duration::from_secs(5))
        .await
        .unwrap();
    presence::node_alive(db, b, Duration::from_millis(300))
        .await
        .unwrap();
    presence::record(db, a, &[anna, ben], &[]).await.unwrap();
    presence::record(db, b, &[ben, cem], &[]).await.unwrap();
    // Twice is no error (a change written again after a failure).
    presence::record(db, b, &[cem], &[]).await.unwrap();
    // Node a asks: its own connections are not in the table's answer, b's are.
    assert_eq!(
        sorted(
            presence::connected_elsewhere(db, a, &everyone)
                .await
                .unwrap()
        ),
        sorted(vec![ben, cem])
    );
    assert_eq!(
        sorted(
            presence::connected_elsewhere(db, b, &everyone)
                .await
                .unwrap()
        ),
        sorted(vec![anna, ben])
    );
    assert!(
        presence::connected_elsewhere(db, a, &[])
            .await
            .unwrap()
            .is_empty()
    );
    // Ben's last connection to b closes.
    presence::record(db, b, &[], &[ben]).await.unwrap();
    assert_eq!(
        presence::connected_elsewhere(db, a, &everyone)
            .await
            .unwrap(),
        vec![cem]
    );
    // b stops saying it is alive: its connections no longer count.
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(
        presence::connected_elsewhere(db, a, &everyone)
            .await
            .unwrap()
            .is_empty()
    );
    // Pruned only once dead for a minute; a node that ends cleanly forgets its rows at once.
    assert_eq!(presence::prune(db).await.unwrap(), 0);
    presence::forget_node(db, a).await.unwrap();
    assert!(
        presence::connected_elsewhere(db, b, &everyone)
            .await
            .unwrap()
            .is_empty()
    );
    db.execute_unprepared("UPDATE live_node SET expires = now() - interval '2 minutes'")
        .await
        .unwrap();
    assert_eq!(presence::prune(db).await.unwrap(), 1);
    let left = db
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT person_id FROM live_presence",
        ))
        .await
        .unwrap();
    assert!(left.is_empty(), "the dead node's rows went with it");
}

/// Leases of meeting actors (PostgreSQL only: several nodes need it): one holder at a time,
/// taken over only once expired, with a higher epoch; the deposed holder's renewal no longer
/// names the meeting. WebSocket tickets are redeemed once, at any node.
#[tokio::test]
async fn leases_have_one_holder_and_move_only_when_expired() {
    use plenum_store::lease;
    use std::time::Duration;
    let Some(test) = TestDb::migrated(Backend::Postgres).await else {
        return;
    };
    let db = &test.db;
    let meeting = MeetingId::new();
    let (a, b) = (uuid::Uuid::new_v4(), uuid::Uuid::new_v4());
    let ttl = Duration::from_millis(300);
    assert_eq!(
        lease::acquire(db, meeting, a, "http://a", ttl)
            .await
            .unwrap(),
        Some(1)
    );
    assert_eq!(
        lease::acquire(db, meeting, b, "http://b", ttl)
            .await
            .unwrap(),
        None,
        "held by a"
    );
    assert_eq!(
        lease::acquire(db, meeting, a, "http://a", ttl)
            .await
            .unwrap(),
        Some(1),
        "a again: same epoch"
    );
    let holder = lease::holder(db, meeting).await.unwrap().unwrap();
    assert_eq!(
        (holder.node, holder.url.as_str(), holder.valid),
        (a, "http://a", true)
    );
    assert_eq!(lease::renew(db, a, ttl).await.unwrap(), vec![meeting]);
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(
        !lease::holder(db, meeting).await.unwrap().unwrap().valid,
        "expired"
    );
    assert_eq!(
        lease::acquire(db, meeting, b, "http://b", ttl)
            .await
            .unwrap(),
        Some(2),
        "taken over with a higher epoch"
    );
    assert_eq!(lease::renew(db, a, ttl).await.unwrap(), vec![], "a lost it");
    assert_eq!(lease::renew(db, b, ttl).await.unwrap(), vec![meeting]);
    lease::release_all(db, b).await.unwrap();
    assert!(!lease::holder(db, meeting).await.unwrap().unwrap().valid);

    let (user, session) = (uuid::Uuid::new_v4(), uuid::Uuid::new_v4());
    lease::issue_ticket(db, "hash-1", user, session, Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(
        lease::redeem_ticket(db, "hash-1").await.unwrap(),
        Some((user, session))
    );
    assert_eq!(
        lease::redeem_ticket(db, "hash-1").await.unwrap(),
        None,
        "once"
    );
    lease::issue_ticket(db, "hash-2", user, session, Duration::from_millis(1))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(
        lease::redeem_ticket(db, "hash-2").await.unwrap(),
        None,
        "expired"
    );
}
