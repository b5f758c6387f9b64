//! The benchmark's world: a fresh data directory and database, Plenum started in-process, and a
//! committee whose members have a password and an enabled second factor, as real users do.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use chrono::Utc;
use plenum_domain::*;
use plenum_server::RunningServer;
use plenum_server::config::Config;
use plenum_store::Backend;
use plenum_store::auth::totp as totp_store;
use plenum_store::repo;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, TransactionTrait};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::VoteOptions;
use crate::child::ServerProcess;

/// Every benchmark user's password.
pub const PASSWORD: &str = "Benchmark-Passwort-2026";

/// Someone who logs in.
pub struct Participant {
    pub username: String,
    pub secret: Vec<u8>,
    /// The person (nil where the benchmark does not know it).
    pub person: Uuid,
}

/// A running Plenum with its committee.
pub struct World {
    /// One node, or several sharing the PostgreSQL database and the data directory: in this
    /// process, or (`--processes`) each in a process of its own.
    servers: Vec<RunningServer>,
    pub processes: Vec<ServerProcess>,
    addrs: Vec<std::net::SocketAddr>,
    db: DatabaseConnection,
    /// (admin URL, database name) of a PostgreSQL database to drop at the end.
    pg: Option<(String, String)>,
    _data_dir: tempfile::TempDir,
    /// Chair first, then the voters, then the advisory members.
    pub people: Vec<Participant>,
    /// Anonymous room displays.
    pub displays: usize,
    pub body: Uuid,
    pub meeting: Uuid,
    pub item: Uuid,
    /// A meeting with 40 agenda items (30 public, 10 non-public), 20 papers and 100 files: the
    /// member's meeting page of the `read` run.
    pub agenda_meeting: Uuid,
}

fn web_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../web")
}

/// The configuration of every benchmark node: the shared data directory and database, a free
/// port, and login limits that let thousands of logins come from one address.
pub fn node_config(data_dir: &Path, database_url: &str) -> Result<Config> {
    Ok(Config {
        data_dir: data_dir.to_owned(),
        database_url: Some(secrecy::SecretString::from(database_url.to_owned())),
        bind: "127.0.0.1:0".parse()?,
        web_dir: web_dir(),
        login_burst_per_account: 1_000,
        login_burst_per_address: 1_000_000,
        ..Config::default()
    })
}

impl World {
    pub async fn create(options: &VoteOptions) -> Result<World> {
        let data_dir = tempfile::tempdir()?;
        let (url, pg) = match options.backend {
            Backend::Sqlite => (
                format!(
                    "sqlite://{}?mode=rwc",
                    data_dir.path().join("plenum.sqlite3").display()
                ),
                None,
            ),
            Backend::Postgres => {
                let name = format!("plenum_bench_{}", Uuid::new_v4().simple());
                let admin = Database::connect(options.pg_url.as_str())
                    .await
                    .with_context(|| format!("PostgreSQL at {}", options.pg_url))?;
                admin
                    .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                    .await?;
                let _ = admin.close().await;
                (
                    plenum_store::testing::with_database(&options.pg_url, &name),
                    Some((options.pg_url.clone(), name)),
                )
            }
        };
        let config = node_config(data_dir.path(), &url)?;
        let (mut servers, mut processes, mut addrs) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..options.nodes.max(1) {
            // One after the other: the first node migrates the database and creates the keys.
            match &options.processes {
                Some(exe) => {
                    let node = ServerProcess::spawn_node(exe, data_dir.path(), &url)?;
                    addrs.push(node.base().trim_start_matches("http://").parse()?);
                    processes.push(node);
                }
                None => {
                    let server = plenum_server::start(&config, false).await?;
                    addrs.push(server.addr);
                    servers.push(server);
                }
            }
        }
        let db = plenum_store::connect(&url).await?;
        let keys = plenum_server::keys::Keys::load_or_create(&config.data_dir)?;
        let cipher = plenum_server::demo_cipher(&keys)?;
        let password_hash = plenum_api::auth::password::hash_password(PASSWORD.to_owned())
            .await
            .map_err(|e| anyhow!("{e}"))?;

        let txn = db.begin().await?;
        let body = repo::bodies::insert(
            &txn,
            Body {
                id: BodyId::new(),
                meta: Meta::default(),
                name: Name::parse("Stadt Lasttest")?,
                short_name: None,
                website: None,
                contact_email: None,
                ags: None,
                rgs: None,
                classification: None,
            },
        )
        .await?;
        let voters = options.voters;
        let advisory = options.watchers / 2;
        let org = repo::organizations::insert(
            &txn,
            Organization {
                id: OrganizationId::new(),
                meta: Meta::default(),
                body_id: body.id,
                name: Name::parse("Rat der Stadt Lasttest")?,
                short_name: None,
                kind: OrganizationKind::Council,
                statutory_seats: Some(voters as u32 + 1),
                parent_id: None,
                start_date: None,
                end_date: None,
            },
        )
        .await?;
        let now = Utc::now();
        let tag = &Uuid::new_v4().simple().to_string()[..6];
        let mut people = Vec::new();
        for i in 0..=voters + advisory {
            let (role, voting_right) = match i {
                0 => (MembershipRole::Chair, true),
                i if i <= voters => (MembershipRole::Member, true),
                _ => (MembershipRole::Advisory, false),
            };
            let person = repo::persons::insert(
                &txn,
                Person {
                    id: PersonId::new(),
                    meta: Meta::default(),
                    body_id: body.id,
                    family_name: Name::parse(&format!("Mitglied{i:04}"))?,
                    given_name: Name::parse("Last")?,
                    title: None,
                    form_of_address: None,
                    email: None,
                    published: true,
                    status: Vec::new(),
                    affix: None,
                    gender: None,
                },
            )
            .await?;
            repo::memberships::insert(
                &txn,
                Membership {
                    id: MembershipId::new(),
                    meta: Meta::default(),
                    person_id: person.id,
                    organization_id: org.id,
                    role,
                    voting_right,
                    start_date: None,
                    end_date: None,
                },
            )
            .await?;
            let username = format!("last{i:04}-{tag}");
            let user = repo::users::insert(
                &txn,
                User {
                    id: UserId::new(),
                    meta: Meta::default(),
                    username: Username::parse(&username)?,
                    display_name: Name::parse(&format!("Mitglied {i}"))?,
                    person_id: Some(person.id),
                    site_role: SiteRole::Member,
                    password_hash: Some(password_hash.clone()),
                },
            )
            .await?;
            let secret = plenum_api::auth::totp::generate_secret();
            totp_store::begin_enrolment(&txn, user.id, cipher.encrypt(user.id, &secret), now)
                .await?;
            totp_store::enable(&txn, user.id, now).await?;
            people.push(Participant {
                username,
                secret,
                person: person.id.as_uuid(),
            });
        }
        let meeting = repo::meetings::insert(
            &txn,
            Meeting {
                id: MeetingId::new(),
                meta: Meta::default(),
                organization_id: org.id,
                name: Name::parse("Ratssitzung unter Last")?,
                start: now,
                end: None,
                location_id: None,
                state: MeetingState::Invited,
                invited_at: None,
            },
        )
        .await?;
        let item = repo::agenda_items::insert(
            &txn,
            AgendaItem {
                id: AgendaItemId::new(),
                meta: Meta::default(),
                meeting_id: meeting.id,
                number: AgendaNumber::parse("Ö 1")?,
                position: 1,
                public: true,
                title: Title::parse("Haushaltssatzung 2027")?,
                paper_id: None,
                decision: None,
            },
        )
        .await?;
        let agenda_meeting = big_agenda_meeting(&txn, body.id, org.id).await?;
        txn.commit().await?;
        Ok(World {
            addrs,
            servers,
            processes,
            db,
            pg,
            _data_dir: data_dir,
            people,
            displays: options.watchers - advisory,
            body: body.id.as_uuid(),
            meeting: meeting.id.as_uuid(),
            item: item.id.as_uuid(),
            agenda_meeting: agenda_meeting.as_uuid(),
        })
    }

    pub fn base_url(&self) -> String {
        self.base_url_of(0)
    }

    /// The node that client `i` talks to (round robin over the nodes).
    pub fn base_url_of(&self, i: usize) -> String {
        format!("http://{}", self.addrs[i % self.addrs.len()])
    }

    /// Stops the server and drops a PostgreSQL database.
    pub async fn destroy(mut self) -> Result<()> {
        for server in self.servers.drain(..) {
            server.shutdown().await?;
        }
        for node in self.processes.drain(..) {
            node.stop()?;
        }
        let _ = self.db.clone().close().await;
        if let Some((admin_url, name)) = self.pg.take() {
            let admin = Database::connect(admin_url.as_str()).await?;
            admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                .await?;
            let _ = admin.close().await;
        }
        Ok(())
    }
}

/// Password step, then the TOTP step; the access token.
pub async fn login(http: &reqwest::Client, base: &str, p: &Participant) -> Result<String> {
    let step1: Value = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": p.username, "password": PASSWORD}))
        .send()
        .await?
        .error_for_status()
        .with_context(|| format!("password step for {}", p.username))?
        .json()
        .await?;
    if step1["next"] != "totp" {
        bail!("{}: expected the TOTP step, got {step1}", p.username);
    }
    let name = Username::parse(&p.username)?;
    let totp = plenum_api::auth::totp::totp_for(&p.secret, &name)
        .ok_or_else(|| anyhow!("bad TOTP secret"))?;
    let code = totp.generate(Utc::now().timestamp() as u64).to_string();
    let step2: Value = http
        .post(format!("{base}/api/v1/auth/totp"))
        .json(&json!({"mfa_token": step1["mfa_token"], "code": code, "device_name": "Lasttest-Tablet"}))
        .send()
        .await?
        .error_for_status()
        .with_context(|| format!("TOTP step for {}", p.username))?
        .json()
        .await?;
    step2["access_token"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| anyhow!("no access token in {step2}"))
}

/// A meeting as a busy council has it: 40 agenda items (Ö 1–30, N 1–10), the first 20 with a
/// paper each, and 5 files on each of items 16–35 (100 files, 75 of them on public items;
/// metadata only, the read run does not download).
async fn big_agenda_meeting(
    txn: &impl ConnectionTrait,
    body: BodyId,
    org: OrganizationId,
) -> Result<MeetingId> {
    let now = Utc::now();
    let meeting = repo::meetings::insert(
        txn,
        Meeting {
            id: MeetingId::new(),
            meta: Meta::default(),
            organization_id: org,
            name: Name::parse("Ratssitzung mit großer Tagesordnung")?,
            start: now + chrono::Duration::days(7),
            end: None,
            location_id: None,
            state: MeetingState::Invited,
            invited_at: Some(now),
        },
    )
    .await?;
    for i in 1..=40u32 {
        let public = i <= 30;
        let number = if public {
            format!("Ö {i}")
        } else {
            format!("N {}", i - 30)
        };
        let paper = if i <= 20 {
            let paper = repo::papers::insert(
                txn,
                Paper {
                    id: PaperId::new(),
                    meta: Meta::default(),
                    body_id: body,
                    reference: PaperReference::parse(&format!("VO/{:05}/26", 20_000 + i))?,
                    paper_type: PaperType::Resolution,
                    title: Title::parse(&format!("Beschlussvorlage Nummer {i} zur Tagesordnung"))?,
                    date: now.date_naive(),
                    originator_id: Some(org),
                    text: Markdown::parse(&format!(
                        "Der Rat beschließt die Vorlage {i}.\n\n**Begründung:** siehe Anlagen."
                    ))?,
                    public,
                    main_file_id: None,
                    under_direction_of_id: None,
                },
            )
            .await?;
            Some(paper.id)
        } else {
            None
        };
        let item = repo::agenda_items::insert(
            txn,
            AgendaItem {
                id: AgendaItemId::new(),
                meta: Meta::default(),
                meeting_id: meeting.id,
                number: AgendaNumber::parse(&number)?,
                position: i,
                public,
                title: Title::parse(&format!("Tagesordnungspunkt {i}: Beratung und Beschluss"))?,
                paper_id: paper,
                decision: None,
            },
        )
        .await?;
        if (16..=35).contains(&i) {
            for f in 1..=5u8 {
                let mut digest = [0u8; 32];
                digest[0] = i as u8;
                digest[1] = f;
                let sha256 = Sha256Digest::from_bytes(digest);
                repo::files::insert(
                    txn,
                    File {
                        id: FileId::new(),
                        meta: Meta::default(),
                        body_id: body,
                        name: FileName::parse(&format!("Anlage {f} zu TOP {i}.pdf"))?,
                        media_type: MediaType::pdf(),
                        size: 100_000,
                        sha256,
                        // No blob behind these: a made-up digest keeps the start-up SHA-512
                        // pass from trying to read them.
                        sha512: Some(sha256.to_hex().repeat(2)),
                        storage_key: format!("bench/{sha256}"),
                        paper_id: None,
                        meeting_id: None,
                        agenda_item_id: Some(item.id),
                        license: None,
                    },
                )
                .await?;
            }
        }
    }
    Ok(meeting.id)
}
