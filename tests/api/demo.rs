//! The demo council: its shape, its files, and loading it twice or into foreign data.

use chrono::Utc;
use plenum_domain::*;
use plenum_server::demo::{self, DemoError, DemoOutcome, demo_body_id};
use plenum_store::Backend;
use plenum_store::blob::LocalBlobs;
use plenum_store::repo::{self, *};
use rstest::rstest;
use sha2::{Digest, Sha256};

use crate::helpers::spawn_app;

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test]
async fn demo_council_has_the_promised_shape(#[case] backend: Backend) {
    let Some(app) = spawn_app(backend, true).await else {
        return;
    };
    let db = &app.db.db;
    let body = demo_body_id();
    let orgs = organizations::list_by_body(db, body, false).await.unwrap();
    let of_kind = |kind| orgs.iter().filter(|o| o.kind == kind).collect::<Vec<_>>();

    // The council: 38 statutory seats, 38 voting members including the mayor as chair.
    let councils = of_kind(OrganizationKind::Council);
    assert_eq!(councils.len(), 1);
    let council = councils[0];
    assert_eq!(council.statutory_seats, Some(38));
    let council_members = memberships::list_by_organization(db, council.id, false)
        .await
        .unwrap();
    assert_eq!(council_members.len(), 38);
    assert!(council_members.iter().all(|m| m.voting_right));
    assert_eq!(
        council_members
            .iter()
            .filter(|m| m.role == MembershipRole::Chair)
            .count(),
        1
    );

    // Five fractions of different sizes, and exactly one council member in none of them.
    let fractions = of_kind(OrganizationKind::Fraction);
    assert_eq!(fractions.len(), 5);
    let mut sizes = Vec::new();
    let mut in_fraction = std::collections::HashSet::new();
    for fraction in &fractions {
        let members = memberships::list_by_organization(db, fraction.id, false)
            .await
            .unwrap();
        assert_eq!(
            members
                .iter()
                .filter(|m| m.role == MembershipRole::Chair)
                .count(),
            1,
            "{} has one chair",
            fraction.name
        );
        sizes.push(members.len());
        in_fraction.extend(members.iter().map(|m| m.person_id));
    }
    let mut distinct = sizes.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 5, "fraction sizes differ: {sizes:?}");
    let outside: Vec<_> = council_members
        .iter()
        .filter(|m| !in_fraction.contains(&m.person_id) && m.role != MembershipRole::Chair)
        .collect();
    assert_eq!(outside.len(), 1, "one independent member besides the mayor");

    // Four committees, each with a chair and a deputy; one advisory member without a vote.
    let committees = of_kind(OrganizationKind::Committee);
    assert_eq!(committees.len(), 4);
    let mut advisory = 0;
    for committee in &committees {
        let members = memberships::list_by_organization(db, committee.id, false)
            .await
            .unwrap();
        let count = |role| members.iter().filter(|m| m.role == role).count();
        assert_eq!(count(MembershipRole::Chair), 1, "{} chair", committee.name);
        assert_eq!(
            count(MembershipRole::DeputyChair),
            1,
            "{} deputy",
            committee.name
        );
        assert_eq!(committee.parent_id, Some(council.id));
        for m in &members {
            if m.role == MembershipRole::Advisory {
                assert!(!m.voting_right);
                advisory += 1;
            }
        }
        let voting = members
            .iter()
            .filter(|m| m.voting_right && m.role != MembershipRole::Substitute)
            .count();
        assert_eq!(
            Some(voting as u32),
            committee.statutory_seats,
            "{}",
            committee.name
        );
    }
    assert_eq!(advisory, 1);

    // Accounts: an admin, a clerk, and a login for every person.
    let users = users::list(db).await.unwrap();
    assert_eq!(
        users
            .iter()
            .filter(|u| u.site_role == SiteRole::Admin)
            .count(),
        1
    );
    assert_eq!(
        users
            .iter()
            .filter(|u| u.site_role == SiteRole::Clerk)
            .count(),
        1
    );
    let persons = persons::list_by_body(db, body, false).await.unwrap();
    assert_eq!(persons.len(), 40);
    for person in &persons {
        assert!(
            users.iter().any(|u| u.person_id == Some(person.id)),
            "{}",
            person.full_name()
        );
    }
    assert!(users.iter().all(|u| u.password_hash.is_some()));

    // Meetings: two past (closed), two upcoming.
    let now = Utc::now();
    let meetings = meetings::list_by_body(db, body, false).await.unwrap();
    let past: Vec<_> = meetings.iter().filter(|m| m.start < now).collect();
    let upcoming: Vec<_> = meetings.iter().filter(|m| m.start > now).collect();
    assert_eq!(past.len(), 2);
    assert_eq!(upcoming.len(), 2);
    assert!(past.iter().all(|m| m.state == MeetingState::Closed));
    assert!(
        upcoming
            .iter()
            .all(|m| matches!(m.state, MeetingState::Planned | MeetingState::Invited))
    );
    for meeting in &past {
        let agenda = agenda_items::list_by_meeting(db, meeting.id, false)
            .await
            .unwrap();
        assert!(
            agenda.iter().any(|i| i.public),
            "{} has public items",
            meeting.name
        );
        assert!(
            agenda.iter().any(|i| !i.public),
            "{} has non-public items",
            meeting.name
        );
        assert!(
            agenda.iter().any(|i| i
                .decision
                .as_ref()
                .is_some_and(|d| d.as_str().contains("Ergebnis"))),
            "{} has decisions with results",
            meeting.name
        );
        let positions: Vec<u32> = agenda.iter().map(|i| i.position).collect();
        let mut sorted = positions.clone();
        sorted.sort();
        assert_eq!(positions, sorted);
    }

    // Papers: references, a Beratungsfolge across committees, a non-public paper.
    let papers = papers::list_by_body(db, body, false).await.unwrap();
    assert!(papers.len() >= 6);
    assert!(papers.iter().any(|p| !p.public));
    let budget = papers
        .iter()
        .find(|p| p.title.as_str().starts_with("Haushaltssatzung"))
        .unwrap();
    assert!(budget.reference.as_str().starts_with("VO/10742/"));
    let steps = consultations::list_by_paper(db, budget.id, false)
        .await
        .unwrap();
    assert_eq!(steps.len(), 3);
    assert_eq!(steps.last().unwrap().role, ConsultationRole::Decide);
    assert_eq!(steps.last().unwrap().organization_id, council.id);
    let step_orgs: std::collections::HashSet<_> = steps.iter().map(|s| s.organization_id).collect();
    assert_eq!(step_orgs.len(), 3);

    // Files: real PDFs on disk whose hashes match the metadata.
    let blobs = LocalBlobs::new(app.config.blob_dir());
    let files = files::list_by_body(db, body, false).await.unwrap();
    assert!(files.len() >= 7);
    for file in &files {
        let bytes = blobs.read(&file.storage_key).unwrap();
        assert!(bytes.starts_with(b"%PDF-1."), "{} is a PDF", file.name);
        assert_eq!(bytes.len() as u64, file.size);
        let digest: [u8; 32] = Sha256::digest(&bytes).into();
        assert_eq!(Sha256Digest::from_bytes(digest), file.sha256);
    }
    app.stop().await;
}

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test]
async fn loading_the_demo_twice_changes_nothing(#[case] backend: Backend) {
    let Some(app) = spawn_app(backend, true).await else {
        return;
    };
    let db = &app.db.db;
    let before = repo::count_body(db, demo_body_id()).await.unwrap();
    let users_before = users::list(db).await.unwrap().len();
    let blobs = LocalBlobs::new(app.config.blob_dir());
    let outcome = demo::load(db, &blobs, &app.cipher(), false, Utc::now())
        .await
        .unwrap();
    assert_eq!(outcome, DemoOutcome::AlreadyLoaded);
    assert_eq!(repo::count_body(db, demo_body_id()).await.unwrap(), before);
    assert_eq!(users::list(db).await.unwrap().len(), users_before);
    app.stop().await;
}

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test]
async fn the_demo_refuses_a_database_with_other_data_unless_forced(#[case] backend: Backend) {
    let Some(app) = spawn_app(backend, false).await else {
        return;
    };
    let db = &app.db.db;
    let other = bodies::insert(
        db,
        Body {
            id: BodyId::new(),
            meta: Meta::default(),
            name: Name::parse("Landkreis Beispiel").unwrap(),
            short_name: None,
            website: None,
            contact_email: None,
            ags: None,
            rgs: None,
            classification: None,
        },
    )
    .await
    .unwrap();
    let blobs = LocalBlobs::new(app.config.blob_dir());
    match demo::load(db, &blobs, &app.cipher(), false, Utc::now()).await {
        Err(DemoError::NonDemoData(found)) => assert!(found.contains("Landkreis Beispiel")),
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(
        bodies::list(db, true).await.unwrap(),
        vec![other.clone()],
        "nothing was added"
    );
    assert_eq!(
        demo::load(db, &blobs, &app.cipher(), true, Utc::now())
            .await
            .unwrap(),
        DemoOutcome::Loaded
    );
    assert_eq!(bodies::list(db, false).await.unwrap().len(), 2);
    app.stop().await;
}
