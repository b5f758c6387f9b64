//! The demo council's content.

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use plenum_api::auth::crypto::SecretCipher;
use plenum_domain::*;
use plenum_store::auth::totp as totp_store;
use plenum_store::blob::LocalBlobs;
use plenum_store::repo;
use plenum_store::{ConnectionTrait, StoreError};
use sha2::{Digest, Sha256};

use super::{DemoLogin, demo_body_id, demo_id};

/// The date in the metadata of the demo's PDF files (1 November 2026).
fn demo_file_date() -> DateTime<Utc> {
    DateTime::from_timestamp(1_793_491_200, 0).unwrap_or_default()
}

/// The password of every demo account. Demo only.
pub const DEMO_PASSWORD: &str = "Musterstadt-Demo-2026";

/// The demo's clerk (Sitzungsdienst): staff of the administration.
const CLERK_USERNAME: &str = "martina.sommer";

/// Fractions: name, short name, seats on the council.
const FRACTIONS: [(&str, &str, usize); 5] = [
    ("Fraktion Bürgerunion Musterstadt", "BU", 11),
    ("Fraktion Soziale Mitte", "SM", 9),
    ("Fraktion Grüne Zukunft", "GZ", 7),
    ("Fraktion Liberale Bürger", "LB", 5),
    ("Fraktion Freie Wähler Musterstadt", "FWM", 4),
];

/// The 36 fraction members, in fraction order (first of each: fraction chair, second: deputy).
const MEMBERS: [(&str, &str, &str); 36] = [
    ("Herr", "Thomas", "Schneider"),
    ("Frau", "Sabine", "Fischer"),
    ("Herr", "Michael", "Weber"),
    ("Frau", "Petra", "Meyer"),
    ("Herr", "Andreas", "Wagner"),
    ("Frau", "Monika", "Becker"),
    ("Herr", "Frank", "Schulz"),
    ("Frau", "Birgit", "Hoffmann"),
    ("Herr", "Jürgen", "Schäfer"),
    ("Frau", "Karin", "Koch"),
    ("Herr", "Markus", "Bauer"),
    ("Frau", "Susanne", "Richter"),
    ("Herr", "Uwe", "Klein"),
    ("Frau", "Heike", "Wolf"),
    ("Herr", "Klaus", "Schröder"),
    ("Frau", "Julia", "Neumann"),
    ("Herr", "Matthias", "Schwarz"),
    ("Frau", "Kerstin", "Zimmermann"),
    ("Herr", "Dirk", "Braun"),
    ("Frau", "Nicole", "Krüger"),
    ("Frau", "Anna", "Hartmann"),
    ("Herr", "Ralf", "Lange"),
    ("Frau", "Sandra", "Schmitt"),
    ("Herr", "Oliver", "Werner"),
    ("Frau", "Lea", "Schmitz"),
    ("Herr", "Jan", "Krause"),
    ("Frau", "Katrin", "Meier"),
    ("Herr", "Holger", "Lehmann"),
    ("Frau", "Anja", "Schmid"),
    ("Herr", "Sven", "Schulze"),
    ("Frau", "Melanie", "Maier"),
    ("Herr", "Tobias", "Köhler"),
    ("Frau", "Nadine", "Herrmann"),
    ("Herr", "Christian", "König"),
    ("Frau", "Yvonne", "Walter"),
    ("Herr", "Lars", "Kaiser"),
];

/// A login name from a person's name: lower case, umlauts spelled out.
pub fn username_of(given: &str, family: &str) -> String {
    let mut out = String::new();
    for c in format!("{given}.{family}").to_lowercase().chars() {
        match c {
            'ä' => out.push_str("ae"),
            'ö' => out.push_str("oe"),
            'ü' => out.push_str("ue"),
            'ß' => out.push_str("ss"),
            'ı' => out.push('i'),
            'ş' => out.push('s'),
            'ğ' => out.push('g'),
            'ç' => out.push('c'),
            c if c.is_ascii_alphanumeric() || c == '.' || c == '-' => out.push(c),
            _ => {}
        }
    }
    out
}

/// Every demo person: (form of address, title, given name, family name).
fn people() -> Vec<(
    &'static str,
    Option<&'static str>,
    &'static str,
    &'static str,
)> {
    let mut people = vec![("Frau", Some("Dr."), "Katharina", "Brandt")]; // the mayor
    people.extend(
        MEMBERS
            .iter()
            .map(|(form, given, family)| (*form, None, *given, *family)),
    );
    people.push(("Herr", None, "Heinz", "Ehrlich")); // independent member (fraktionslos)
    people.push(("Frau", None, "Özlem", "Yıldız")); // advisory member, Schule und Kultur
    people.push(("Frau", None, "Martina", "Sommer")); // clerk (Sitzungsdienst)
    people
}

/// Every demo login name (one per person, plus `admin`).
pub fn all_usernames() -> Vec<String> {
    let mut names: Vec<String> = people()
        .iter()
        .map(|(_, _, given, family)| username_of(given, family))
        .collect();
    names.push("admin".to_owned());
    names
}

/// The demo account's TOTP secret (160 bits derived from the name). Demo only: anyone can
/// compute it, which is the point.
pub fn demo_totp_secret(username: &str) -> Vec<u8> {
    Sha256::digest(format!("plenum-demo-totp:{username}").as_bytes())[..20].to_vec()
}

/// The accounts worth trying in a demo.
pub fn demo_logins() -> Vec<DemoLogin> {
    let login = |username: &str, display: &str, what: &'static str| DemoLogin {
        username: username.to_owned(),
        display_name: display.to_owned(),
        what,
        totp_secret: plenum_api::auth::totp::secret_base32(&demo_totp_secret(username)),
    };
    vec![
        login("admin", "Administration", "Administrator / Admin"),
        login(CLERK_USERNAME, "Martina Sommer", "Sitzungsdienst / clerk"),
        login(
            "katharina.brandt",
            "Dr. Katharina Brandt",
            "Bürgermeisterin, Ratsvorsitz / mayor, chairs the council",
        ),
        login(
            "thomas.schneider",
            "Thomas Schneider",
            "Vorsitz Fraktion BU und Finanzausschuss / fraction and committee chair",
        ),
        login(
            "susanne.richter",
            "Susanne Richter",
            "Vorsitz Fraktion SM, stellv. Vorsitz Finanzausschuss / fraction chair, deputy chair",
        ),
        login(
            "anna.hartmann",
            "Anna Hartmann",
            "Ratsmitglied GZ / council member",
        ),
        login(
            "heinz.ehrlich",
            "Heinz Ehrlich",
            "fraktionslos / independent member",
        ),
        login(
            "oezlem.yildiz",
            "Özlem Yıldız",
            "beratendes Mitglied, kein Stimmrecht / advisory, no vote",
        ),
    ]
}

fn name(text: &str) -> Result<Name, DomainError> {
    Name::parse(text)
}

fn at(day: NaiveDate, hour: u32) -> DateTime<Utc> {
    // Council meetings start in the evening, local time; stored in UTC.
    Utc.from_utc_datetime(&day.and_hms_opt(hour, 0, 0).unwrap_or_default())
}

/// Everything the demo inserts, in insertion order.
pub struct DemoCouncil {
    body: Body,
    terms: Vec<LegislativeTerm>,
    organizations: Vec<Organization>,
    persons: Vec<Person>,
    users: Vec<User>,
    memberships: Vec<Membership>,
    locations: Vec<Location>,
    meetings: Vec<Meeting>,
    papers: Vec<Paper>,
    /// Who submitted which paper (a fraction's motion is signed by its chair and deputy).
    originators: Vec<(PaperId, Vec<PersonId>)>,
    agenda: Vec<AgendaItem>,
    consultations: Vec<Consultation>,
    files: Vec<File>,
    /// Every account's enabled second factor: (user, encrypted secret).
    second_factors: Vec<(UserId, String)>,
    now: DateTime<Utc>,
}

impl DemoCouncil {
    pub async fn insert(self, db: &impl ConnectionTrait) -> Result<(), StoreError> {
        repo::bodies::insert(db, self.body).await?;
        for x in self.terms {
            repo::legislative_terms::insert(db, x).await?;
        }
        for x in self.organizations {
            repo::organizations::insert(db, x).await?;
        }
        for x in self.persons {
            repo::persons::insert(db, x).await?;
        }
        for x in self.users {
            repo::users::insert(db, x).await?;
        }
        for (user, secret_enc) in self.second_factors {
            totp_store::begin_enrolment(db, user, secret_enc, self.now).await?;
            totp_store::enable(db, user, self.now).await?;
        }
        for x in self.memberships {
            repo::memberships::insert(db, x).await?;
        }
        for x in self.locations {
            repo::locations::insert(db, x).await?;
        }
        for x in self.meetings {
            repo::meetings::insert(db, x).await?;
        }
        for x in self.papers {
            repo::papers::insert(db, x).await?;
        }
        for (paper, persons) in self.originators {
            plenum_store::originators::set(db, paper, &persons).await?;
        }
        for x in self.agenda {
            repo::agenda_items::insert(db, x).await?;
        }
        for x in self.consultations {
            repo::consultations::insert(db, x).await?;
        }
        for x in self.files {
            repo::files::insert(db, x).await?;
        }
        Ok(())
    }
}

/// Builds the demo council for `now`, writing its PDF files into `blobs`.
pub fn build(
    now: DateTime<Utc>,
    password_hash: &PasswordHash,
    cipher: &SecretCipher,
    blobs: &LocalBlobs,
) -> Result<DemoCouncil, super::DemoError> {
    let mut council = build_inner(now, password_hash, blobs)?;
    council.second_factors = council
        .users
        .iter()
        .map(|u| {
            let secret = demo_totp_secret(u.username.as_str());
            (u.id, cipher.encrypt(u.id, &secret))
        })
        .collect();
    Ok(council)
}

#[derive(Debug, thiserror::Error)]
enum BuildError {
    #[error(transparent)]
    Domain(#[from] DomainError),
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Render(#[from] plenum_render::RenderError),
}

impl From<BuildError> for super::DemoError {
    fn from(err: BuildError) -> Self {
        match err {
            BuildError::Domain(err) => super::DemoError::Store(StoreError::Invalid(err)),
            BuildError::Io(err) => super::DemoError::Blob(err),
            BuildError::Render(err) => super::DemoError::Blob(std::io::Error::other(err)),
        }
    }
}

fn build_inner(
    now: DateTime<Utc>,
    password_hash: &PasswordHash,
    blobs: &LocalBlobs,
) -> Result<DemoCouncil, BuildError> {
    let meta = Meta::new(now);
    let today = now.date_naive();
    let body_id = demo_body_id();

    let body = Body {
        id: body_id,
        meta,
        name: name("Stadt Musterstadt")?,
        short_name: Some(name("Musterstadt")?),
        website: Some("https://www.musterstadt.example".into()),
        contact_email: Some(Email::parse("ratsbuero@musterstadt.example")?),
        ags: None,
        rgs: None,
        classification: None,
    };

    // The current term started on 1 November of the last local election year (2021, 2026, …).
    let election_year = 2021 + (today.year() - 2021).max(0) / 5 * 5;
    let term_start = NaiveDate::from_ymd_opt(election_year, 11, 1).unwrap_or(today);
    let term_start = if term_start > today - Duration::days(45) {
        // Keep past demo meetings inside the term even right after an election.
        today - Duration::days(60)
    } else {
        term_start
    };
    let term_end = NaiveDate::from_ymd_opt(term_start.year() + 5, 10, 31).unwrap_or(today);
    let terms = vec![LegislativeTerm {
        id: demo_id("term:current"),
        meta,
        body_id,
        name: name(&format!(
            "Wahlperiode {}–{}",
            term_start.year(),
            term_end.year()
        ))?,
        start_date: term_start,
        end_date: term_end,
    }];

    let org = |key: &str,
               full: &str,
               short: &str,
               kind: OrganizationKind,
               seats: Option<u32>,
               parent: Option<OrganizationId>|
     -> Result<Organization, DomainError> {
        Ok(Organization {
            id: demo_id(&format!("org:{key}")),
            meta,
            body_id,
            name: name(full)?,
            short_name: Some(name(short)?),
            kind,
            statutory_seats: seats,
            parent_id: parent,
            start_date: Some(term_start),
            end_date: None,
        })
    };
    let council = org(
        "council",
        "Rat der Stadt Musterstadt",
        "Rat",
        OrganizationKind::Council,
        Some(38),
        None,
    )?;
    let fin = org(
        "fin",
        "Ausschuss für Finanzen, Personal und Digitalisierung",
        "FinA",
        OrganizationKind::Committee,
        Some(11),
        Some(council.id),
    )?;
    let bau = org(
        "bau",
        "Ausschuss für Bau und Umwelt",
        "BauA",
        OrganizationKind::Committee,
        Some(11),
        Some(council.id),
    )?;
    let schule = org(
        "schule",
        "Ausschuss für Schule und Kultur",
        "SchulA",
        OrganizationKind::Committee,
        Some(11),
        Some(council.id),
    )?;
    let va = org(
        "va",
        "Verwaltungsausschuss",
        "VA",
        OrganizationKind::Committee,
        Some(11),
        Some(council.id),
    )?;
    let admin_org = org(
        "administration",
        "Stadtverwaltung Musterstadt",
        "Verwaltung",
        OrganizationKind::Administration,
        None,
        None,
    )?;
    let mut fractions = Vec::new();
    for (full, short, _) in FRACTIONS {
        fractions.push(org(
            &format!("fraction:{short}"),
            full,
            short,
            OrganizationKind::Fraction,
            None,
            None,
        )?);
    }

    // Persons and their accounts.
    let mut persons = Vec::new();
    let mut users = Vec::new();
    for (form, title, given, family) in people() {
        let username = username_of(given, family);
        let person = Person {
            id: demo_id(&format!("person:{username}")),
            meta,
            body_id,
            family_name: name(family)?,
            given_name: name(given)?,
            title: title.map(name).transpose()?,
            form_of_address: Some(name(form)?),
            email: Some(Email::parse(&format!("{username}@musterstadt.example"))?),
            // The clerk is staff of the administration: not published (a choice per person).
            published: username != CLERK_USERNAME,
            status: Vec::new(),
            affix: None,
            gender: None,
        };
        users.push(User {
            id: demo_id(&format!("user:{username}")),
            meta,
            username: Username::parse(&username)?,
            display_name: name(&person.full_name())?,
            person_id: Some(person.id),
            site_role: if username == CLERK_USERNAME {
                SiteRole::Clerk
            } else {
                SiteRole::Member
            },
            password_hash: Some(password_hash.clone()),
        });
        persons.push(person);
    }
    users.push(User {
        id: demo_id("user:admin"),
        meta,
        username: Username::parse("admin")?,
        display_name: name("Administration")?,
        person_id: None,
        site_role: SiteRole::Admin,
        password_hash: Some(password_hash.clone()),
    });

    let mayor = persons[0].id;
    let member_ids: Vec<PersonId> = persons[1..=36].iter().map(|p| p.id).collect();
    let independent = persons[37].id;
    let advisory = persons[38].id;
    let clerk = persons[39].id;

    let mut memberships = Vec::new();
    let mut membership = |person: PersonId,
                          organization: &Organization,
                          role: MembershipRole,
                          voting_right: bool| {
        memberships.push(Membership {
            id: demo_id(&format!("membership:{}:{}", person, organization.id)),
            meta,
            person_id: person,
            organization_id: organization.id,
            role,
            voting_right,
            start_date: Some(term_start),
            end_date: None,
        });
    };

    // The council: the mayor chairs; 37 elected members, one of them the deputy chair.
    membership(mayor, &council, MembershipRole::Chair, true);
    for (i, person) in member_ids.iter().enumerate() {
        let role = if i == 1 {
            MembershipRole::DeputyChair
        } else {
            MembershipRole::Member
        };
        membership(*person, &council, role, true);
    }
    membership(independent, &council, MembershipRole::Member, true);

    // Fractions: first member chairs, second deputises.
    let mut fraction_members: Vec<Vec<PersonId>> = Vec::new();
    let mut next = 0;
    for (fraction, (_, _, seats)) in fractions.iter().zip(FRACTIONS) {
        let members: Vec<PersonId> = member_ids[next..next + seats].to_vec();
        next += seats;
        for (i, person) in members.iter().enumerate() {
            let role = match i {
                0 => MembershipRole::Chair,
                1 => MembershipRole::DeputyChair,
                _ => MembershipRole::Member,
            };
            membership(*person, fraction, role, true);
        }
        fraction_members.push(members);
    }

    // Committees: 11 seats by fraction strength (BU 3, SM 3, GZ 2, LB 2, FWM 1); `offset` picks
    // different members for different committees; `chair`/`deputy` index into the seat list.
    let committee_seats = [3usize, 3, 2, 2, 1];
    let mut seat_committee =
        |committee: &Organization, offset: usize, chair: usize, deputy: usize| {
            let mut seat = 0;
            for (members, count) in fraction_members.iter().zip(committee_seats) {
                for k in 0..count {
                    let person = members[(offset + k) % members.len()];
                    let role = if seat == chair {
                        MembershipRole::Chair
                    } else if seat == deputy {
                        MembershipRole::DeputyChair
                    } else {
                        MembershipRole::Member
                    };
                    membership(person, committee, role, true);
                    seat += 1;
                }
            }
        };
    seat_committee(&fin, 0, 0, 3); // chair: Thomas Schneider (BU), deputy: Susanne Richter (SM)
    seat_committee(&bau, 3, 3, 6); // chair: SM, deputy: GZ
    seat_committee(&schule, 6, 6, 0); // chair: GZ, deputy: BU
    membership(advisory, &schule, MembershipRole::Advisory, false);
    // The Verwaltungsausschuss: the mayor chairs, ten council members.
    membership(mayor, &va, MembershipRole::Chair, true);
    let va_seats = [3usize, 3, 2, 1, 1];
    for (i, (members, count)) in fraction_members.iter().zip(va_seats).enumerate() {
        for (k, person) in members.iter().take(count).enumerate() {
            let role = if i == 0 && k == 0 {
                MembershipRole::DeputyChair
            } else {
                MembershipRole::Member
            };
            membership(*person, &va, role, true);
        }
    }
    // One substitute (stellvertretendes Mitglied) of the BU fraction in the finance committee
    // and in the building committee, whose session is still to come (stand-ins in the live
    // session).
    for committee in [&fin, &bau] {
        membership(
            fraction_members[0][9],
            committee,
            MembershipRole::Substitute,
            true,
        );
    }
    // The administration: the mayor leads it, the clerk works in it.
    membership(mayor, &admin_org, MembershipRole::Chair, false);
    membership(clerk, &admin_org, MembershipRole::Member, false);

    let location = |key: &str, room: &str| -> Result<Location, DomainError> {
        Ok(Location {
            id: demo_id(&format!("location:{key}")),
            meta,
            body_id,
            description: name(&format!("Rathaus Musterstadt, {room}"))?,
            street_address: Some(name("Marktplatz 1")?),
            room: Some(name(room)?),
            postal_code: Some(name("12345")?),
            locality: Some(name("Musterstadt")?),
        })
    };
    let ratssaal = location("ratssaal", "Ratssaal")?;
    let zimmer = location("sitzungszimmer", "Sitzungszimmer 2")?;

    // Meetings, relative to today: two past (closed), two upcoming.
    let meeting = |key: &str,
                   organization: &Organization,
                   title: &str,
                   days: i64,
                   place: &Location,
                   state: MeetingState|
     -> Result<Meeting, DomainError> {
        let start = at(today + Duration::days(days), 16);
        Ok(Meeting {
            id: demo_id(&format!("meeting:{key}")),
            meta,
            organization_id: organization.id,
            name: name(title)?,
            start,
            end: Some(start + Duration::hours(3)),
            location_id: Some(place.id),
            state,
            invited_at: match state {
                MeetingState::Planned => None,
                _ => Some(start - Duration::days(8)),
            },
        })
    };
    let m_fin = meeting(
        "fin-1",
        &fin,
        "1. Sitzung des Ausschusses für Finanzen, Personal und Digitalisierung",
        -21,
        &zimmer,
        MeetingState::Closed,
    )?;
    let m_rat2 = meeting(
        "rat-2",
        &council,
        "2. Sitzung des Rates der Stadt Musterstadt",
        -8,
        &ratssaal,
        MeetingState::Closed,
    )?;
    let m_bau = meeting(
        "bau-1",
        &bau,
        "1. Sitzung des Ausschusses für Bau und Umwelt",
        6,
        &zimmer,
        MeetingState::Invited,
    )?;
    let m_rat3 = meeting(
        "rat-3",
        &council,
        "3. Sitzung des Rates der Stadt Musterstadt",
        20,
        &ratssaal,
        MeetingState::Planned,
    )?;

    // Papers.
    let year = today.year() % 100;
    let paper = |key: &str,
                 reference: &str,
                 kind: PaperType,
                 title: &str,
                 days: i64,
                 originator: &Organization,
                 text: &str,
                 public: bool|
     -> Result<Paper, DomainError> {
        Ok(Paper {
            id: demo_id(&format!("paper:{key}")),
            meta,
            body_id,
            reference: PaperReference::parse(&format!("{reference}/{year:02}"))?,
            paper_type: kind,
            title: Title::parse(title)?,
            date: today + Duration::days(days),
            originator_id: Some(originator.id),
            text: Markdown::parse(text)?,
            public,
            // The paper's PDF (attached below) is its main document.
            main_file_id: Some(demo_id(&format!("file:paper:{reference}/{year:02}"))),
            under_direction_of_id: None,
        })
    };
    let p_haushalt = paper(
        "haushalt",
        "VO/10742",
        PaperType::Resolution,
        "Haushaltssatzung und Haushaltsplan 2027",
        -30,
        &admin_org,
        "## Beschlussvorschlag\n\nDer Rat beschließt die Haushaltssatzung der Stadt Musterstadt \
         für das Haushaltsjahr 2027 mit dem Haushaltsplan in der vorliegenden Fassung.\n\n\
         ## Begründung\n\nDer Ergebnishaushalt schließt mit ordentlichen Erträgen von \
         184,2 Mio. € und ordentlichen Aufwendungen von 186,9 Mio. € ab. Der Fehlbetrag wird \
         aus der Überschussrücklage gedeckt. Schwerpunkte sind der Neubau der Grundschule \
         Am Lindenhof und die Sanierung der Stadtbibliothek.",
        true,
    )?;
    let p_schule = paper(
        "grundschule",
        "VO/10743",
        PaperType::Resolution,
        "Neubau der Grundschule Am Lindenhof – Vergabe der Planungsleistungen",
        -20,
        &admin_org,
        "## Beschlussvorschlag\n\nDie Verwaltung wird beauftragt, die Planungsleistungen für den \
         Neubau der vierzügigen Grundschule Am Lindenhof europaweit auszuschreiben.\n\n\
         ## Finanzielle Auswirkungen\n\nGeschätzte Gesamtkosten: 21,5 Mio. €; \
         Planungskosten 2027: 1,2 Mio. €.",
        true,
    )?;
    let p_digital = paper(
        "digital",
        "VO/10744",
        PaperType::Information,
        "Sachstand Digitalisierung der Ratsarbeit",
        -28,
        &admin_org,
        "Die Verwaltung berichtet über die Einführung papierloser Sitzungen: Tablets für alle \
         Ratsmitglieder, elektronische Abstimmungen und das Bürgerinformationssystem.",
        true,
    )?;
    let p_klima = paper(
        "klimabeirat",
        "AN/0051",
        PaperType::Motion,
        "Antrag der Fraktion Grüne Zukunft: Einrichtung eines Klimabeirats",
        -25,
        &fractions[2],
        "Der Rat möge beschließen: Die Stadt Musterstadt richtet einen Klimabeirat ein, der den \
         Rat und seine Ausschüsse in Fragen des Klimaschutzes berät.",
        true,
    )?;
    let p_grundstueck = paper(
        "grundstueck",
        "VO/10745",
        PaperType::Resolution,
        "Verkauf des Grundstücks Gemarkung Musterstadt, Flur 3, Flurstück 112",
        -15,
        &admin_org,
        "Nichtöffentliche Vorlage. Der Verwaltungsausschuss empfiehlt, das Grundstück zum \
         Verkehrswert an die Musterstädter Wohnungsbaugesellschaft zu veräußern.",
        false,
    )?;
    let p_radwege = paper(
        "radwege",
        "AF/0012",
        PaperType::Inquiry,
        "Anfrage: Zustand der Radwege in der Innenstadt",
        -12,
        &fractions[3],
        "Wie viele Kilometer Radweg in der Innenstadt gelten als sanierungsbedürftig, und bis \
         wann sollen sie saniert werden?",
        true,
    )?;
    let p_personal = paper(
        "personal",
        "VO/10746",
        PaperType::Resolution,
        "Personalangelegenheit: Besetzung der Stelle Leitung Fachbereich Finanzen",
        -24,
        &admin_org,
        "Nichtöffentliche Vorlage zur Stellenbesetzung.",
        false,
    )?;

    // Agendas.
    let mut agenda = Vec::new();
    let mut item = |meeting: &Meeting,
                    number: &str,
                    position: u32,
                    title: &str,
                    paper: Option<&Paper>,
                    decision: Option<&str>|
     -> Result<AgendaItemId, DomainError> {
        let number = AgendaNumber::parse(number)?;
        let id: AgendaItemId = demo_id(&format!("item:{}:{}", meeting.id, number));
        agenda.push(AgendaItem {
            id,
            meta,
            meeting_id: meeting.id,
            public: number.stated_public().unwrap_or(true),
            number,
            position,
            title: Title::parse(title)?,
            paper_id: paper.map(|p| p.id),
            decision: decision.map(Markdown::parse).transpose()?,
        });
        Ok(id)
    };
    let opening = "Eröffnung, Feststellung der ordnungsgemäßen Ladung und der Beschlussfähigkeit";
    item(
        &m_fin,
        "Ö 1",
        1,
        opening,
        None,
        Some("Die Beschlussfähigkeit wurde festgestellt."),
    )?;
    let fin_haushalt = item(
        &m_fin,
        "Ö 2",
        2,
        "Haushaltssatzung und Haushaltsplan 2027",
        Some(&p_haushalt),
        Some(
            "Der Ausschuss empfiehlt dem Rat, die Haushaltssatzung 2027 zu beschließen.\n\n\
             Ergebnis: 8 Ja, 2 Nein, 1 Enthaltung – mehrheitlich empfohlen.",
        ),
    )?;
    let fin_digital = item(
        &m_fin,
        "Ö 3",
        3,
        "Sachstand Digitalisierung der Ratsarbeit",
        Some(&p_digital),
        Some("Der Ausschuss nimmt den Bericht zur Kenntnis."),
    )?;
    let fin_personal = item(
        &m_fin,
        "N 1",
        4,
        "Personalangelegenheit: Besetzung der Stelle Leitung Fachbereich Finanzen",
        Some(&p_personal),
        Some(
            "Der Ausschuss stimmt der Besetzung zu.\n\nErgebnis: 11 Ja, 0 Nein, 0 Enthaltungen – einstimmig.",
        ),
    )?;
    item(&m_fin, "Ö 4", 5, "Anfragen und Mitteilungen", None, None)?;

    item(
        &m_rat2,
        "Ö 1",
        1,
        opening,
        None,
        Some("Die Beschlussfähigkeit wurde festgestellt (35 von 38 Mitgliedern anwesend)."),
    )?;
    item(&m_rat2, "Ö 2", 2, "Einwohnerfragestunde", None, None)?;
    let rat_klima = item(
        &m_rat2,
        "Ö 3",
        3,
        "Einrichtung eines Klimabeirats (Antrag der Fraktion Grüne Zukunft)",
        Some(&p_klima),
        Some(
            "Der Rat beschließt die Einrichtung eines Klimabeirats.\n\n\
             Ergebnis: 21 Ja, 12 Nein, 2 Enthaltungen – angenommen.",
        ),
    )?;
    let rat_radwege = item(
        &m_rat2,
        "Ö 4",
        4,
        "Anfrage: Zustand der Radwege in der Innenstadt",
        Some(&p_radwege),
        Some(
            "Die Verwaltung hat die Anfrage mündlich beantwortet; eine schriftliche Antwort folgt.",
        ),
    )?;
    let rat_grundstueck = item(
        &m_rat2,
        "N 1",
        5,
        "Verkauf des Grundstücks Gemarkung Musterstadt, Flur 3, Flurstück 112",
        Some(&p_grundstueck),
        Some(
            "Der Rat beschließt den Verkauf.\n\nErgebnis: 30 Ja, 3 Nein, 2 Enthaltungen – angenommen.",
        ),
    )?;

    item(&m_bau, "Ö 1", 1, opening, None, None)?;
    let bau_schule = item(
        &m_bau,
        "Ö 2",
        2,
        "Neubau der Grundschule Am Lindenhof – Vergabe der Planungsleistungen",
        Some(&p_schule),
        None,
    )?;
    item(
        &m_bau,
        "Ö 3",
        3,
        "Bebauungsplan Nr. 87 „Am Mühlenbach“ – frühzeitige Beteiligung",
        None,
        None,
    )?;
    item(&m_bau, "N 1", 4, "Grundstücksangelegenheiten", None, None)?;

    item(&m_rat3, "Ö 1", 1, opening, None, None)?;
    let rat_haushalt = item(
        &m_rat3,
        "Ö 2",
        2,
        "Haushaltssatzung und Haushaltsplan 2027",
        Some(&p_haushalt),
        None,
    )?;
    let rat_schule = item(
        &m_rat3,
        "Ö 3",
        3,
        "Neubau der Grundschule Am Lindenhof – Vergabe der Planungsleistungen",
        Some(&p_schule),
        None,
    )?;
    item(&m_rat3, "Ö 4", 4, "Anfragen und Mitteilungen", None, None)?;
    item(&m_rat3, "N 1", 5, "Vertragsangelegenheiten", None, None)?;

    // Beratungsfolge.
    let mut consultations = Vec::new();
    let mut consult = |paper: &Paper,
                       position: u32,
                       organization: &Organization,
                       meeting: Option<(&Meeting, AgendaItemId)>,
                       role: ConsultationRole| {
        consultations.push(Consultation {
            id: demo_id(&format!("consultation:{}:{position}", paper.id)),
            meta,
            paper_id: paper.id,
            organization_id: organization.id,
            meeting_id: meeting.map(|(m, _)| m.id),
            agenda_item_id: meeting.map(|(_, i)| i),
            role,
            position,
        });
    };
    consult(
        &p_haushalt,
        1,
        &fin,
        Some((&m_fin, fin_haushalt)),
        ConsultationRole::Advise,
    );
    consult(&p_haushalt, 2, &va, None, ConsultationRole::Advise);
    consult(
        &p_haushalt,
        3,
        &council,
        Some((&m_rat3, rat_haushalt)),
        ConsultationRole::Decide,
    );
    consult(&p_schule, 1, &schule, None, ConsultationRole::Advise);
    consult(
        &p_schule,
        2,
        &bau,
        Some((&m_bau, bau_schule)),
        ConsultationRole::Advise,
    );
    consult(
        &p_schule,
        3,
        &council,
        Some((&m_rat3, rat_schule)),
        ConsultationRole::Decide,
    );
    consult(
        &p_digital,
        1,
        &fin,
        Some((&m_fin, fin_digital)),
        ConsultationRole::Advise,
    );
    consult(
        &p_klima,
        1,
        &council,
        Some((&m_rat2, rat_klima)),
        ConsultationRole::Decide,
    );
    consult(
        &p_radwege,
        1,
        &council,
        Some((&m_rat2, rat_radwege)),
        ConsultationRole::Advise,
    );
    consult(&p_grundstueck, 1, &va, None, ConsultationRole::Advise);
    consult(
        &p_grundstueck,
        2,
        &council,
        Some((&m_rat2, rat_grundstueck)),
        ConsultationRole::Decide,
    );
    consult(
        &p_personal,
        1,
        &fin,
        Some((&m_fin, fin_personal)),
        ConsultationRole::Decide,
    );

    // Files: one PDF per paper, a draft budget, and the invitation of the next committee meeting.
    let mut files = Vec::new();
    let body_name = body.name.as_str().to_owned();
    let mut attach = |key: &str,
                      file_name: &str,
                      title: &str,
                      paragraphs: &[&str],
                      owner: (Option<PaperId>, Option<MeetingId>)|
     -> Result<(), BuildError> {
        let content = plenum_render::simple_pdf(&plenum_render::SimpleDocument {
            body_name: body_name.clone(),
            title: title.to_owned(),
            paragraphs: paragraphs.iter().map(|p| (*p).to_owned()).collect(),
            footer: "Musterstadt – Demo-Daten / demo data".to_owned(),
            // A fixed date: equal content, equal bytes, equal hashes on every load.
            date: demo_file_date(),
        })?;
        let blob = blobs.put(&content)?;
        files.push(File {
            id: demo_id(&format!("file:{key}")),
            meta,
            body_id,
            name: FileName::parse(file_name)?,
            media_type: MediaType::pdf(),
            size: blob.size,
            sha256: blob.sha256,
            sha512: Some(plenum_store::blob::sha512_hex(&content)),
            storage_key: blob.storage_key,
            paper_id: owner.0,
            meeting_id: owner.1,
            agenda_item_id: None,
            license: None,
        });
        Ok(())
    };
    for paper in [
        &p_haushalt,
        &p_schule,
        &p_digital,
        &p_klima,
        &p_grundstueck,
        &p_radwege,
        &p_personal,
    ] {
        let reference = paper.reference.as_str();
        let title = format!("{} {reference}: {}", paper.paper_type.german(), paper.title);
        attach(
            &format!("paper:{reference}"),
            &format!("{}.pdf", reference.replace('/', "-")),
            &title,
            &[paper.text.as_str()],
            (Some(paper.id), None),
        )?;
    }
    let budget_lines: Vec<String> = [
        ("Allgemeine Verwaltung", 31.4),
        ("Schulen", 27.9),
        ("Kultur und Wissenschaft", 8.2),
        ("Soziale Leistungen", 52.6),
        ("Kinder-, Jugend- und Familienhilfe", 38.1),
        ("Bauen und Wohnen", 12.7),
        ("Ver- und Entsorgung", 9.8),
        ("Verkehrsflächen und ÖPNV", 6.2),
    ]
    .iter()
    .map(|(area, millions)| format!("{area}: {millions:.1} Mio. € Aufwendungen"))
    .collect();
    let budget_refs: Vec<&str> = budget_lines.iter().map(String::as_str).collect();
    attach(
        "haushaltsplan-entwurf",
        "Haushaltsplan 2027 – Entwurf.pdf",
        "Haushaltsplan 2027 – Entwurf (Auszug)",
        &budget_refs,
        (Some(p_haushalt.id), None),
    )?;
    attach(
        "einladung-bau-1",
        "Einladung.pdf",
        &format!("Einladung: {}", m_bau.name),
        &[
            "Hiermit lade ich Sie zur Sitzung des Ausschusses für Bau und Umwelt ein.",
            "Ort: Rathaus Musterstadt, Sitzungszimmer 2, Marktplatz 1, 12345 Musterstadt.",
        ],
        (None, Some(m_bau.id)),
    )?;

    // The motion of Grüne Zukunft is signed by the fraction's chair and deputy.
    let originators = vec![(p_klima.id, fraction_members[2][..2].to_vec())];
    let mut organizations = vec![council, fin, bau, schule, va, admin_org];
    organizations.extend(fractions);
    Ok(DemoCouncil {
        body,
        terms,
        organizations,
        persons,
        users,
        memberships,
        locations: vec![ratssaal, zimmer],
        meetings: vec![m_fin, m_rat2, m_bau, m_rat3],
        papers: vec![
            p_haushalt,
            p_schule,
            p_digital,
            p_klima,
            p_grundstueck,
            p_radwege,
            p_personal,
        ],
        originators,
        agenda,
        consultations,
        files,
        second_factors: Vec::new(),
        now,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_spell_out_umlauts() {
        assert_eq!(username_of("Özlem", "Yıldız"), "oezlem.yildiz");
        assert_eq!(username_of("Jürgen", "Schäfer"), "juergen.schaefer");
        assert_eq!(username_of("Katharina", "Brandt"), "katharina.brandt");
    }

    #[test]
    fn the_council_has_38_seats_and_fractions_add_up() {
        let fraction_seats: usize = FRACTIONS.iter().map(|(_, _, seats)| seats).sum();
        assert_eq!(fraction_seats, MEMBERS.len());
        // mayor + fraction members + one independent member
        assert_eq!(1 + MEMBERS.len() + 1, 38);
        let names = all_usernames();
        let mut unique = names.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), names.len(), "usernames are unique");
        for login in demo_logins() {
            assert!(names.contains(&login.username), "{} exists", login.username);
        }
    }
}
