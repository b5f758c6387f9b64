//! Live sessions and voting against the real server: WebSocket and REST, every poll kind,
//! exactly-once ballots, reconnection, secret ballots.

use std::collections::HashMap;
use std::time::Duration;

use chrono::Utc;
use futures_util::{SinkExt, StreamExt};
use plenum_domain::*;
use plenum_store::Backend;
use plenum_store::repo;
use rstest::rstest;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use uuid::Uuid;

use crate::helpers::{TestApp, spawn_app};

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A live client: one WebSocket, with messages buffered until asked for.
pub struct LiveClient {
    socket: Socket,
    pub inbox: Vec<Value>,
    /// Commands sent and not yet answered, for a resend after a rate-limit refusal.
    sent: std::collections::HashMap<Uuid, Value>,
}

impl LiveClient {
    pub async fn connect(
        app: &TestApp,
        token: Option<&str>,
        meeting: MeetingId,
        last_seq: Option<u64>,
    ) -> LiveClient {
        let mut url = format!("ws://{}/api/v1/live?meeting={meeting}", app.addr);
        if let Some(token) = token {
            let ticket: Value = app
                .client
                .post(app.url("/api/v1/live/ticket"))
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            url.push_str(&format!("&ticket={}", ticket["ticket"].as_str().unwrap()));
        }
        if let Some(seq) = last_seq {
            url.push_str(&format!("&last_seq={seq}"));
        }
        let (socket, _) = tokio_tungstenite::connect_async(url).await.unwrap();
        LiveClient {
            socket,
            inbox: Vec::new(),
            sent: std::collections::HashMap::new(),
        }
    }

    async fn receive(&mut self, deadline: tokio::time::Instant) -> Option<Value> {
        loop {
            let next = tokio::time::timeout_at(deadline, self.socket.next())
                .await
                .ok()??;
            match next.ok()? {
                Message::Text(text) => return serde_json::from_str(text.as_str()).ok(),
                Message::Close(_) => return None,
                _ => continue,
            }
        }
    }

    /// The first message (buffered or new) matching `pred`; others stay buffered.
    pub async fn wait_for(&mut self, pred: impl Fn(&Value) -> bool) -> Value {
        if let Some(i) = self.inbox.iter().position(&pred) {
            return self.inbox.remove(i);
        }
        // One deadline for the whole wait: pings every 15 s must not keep it waiting forever.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let Some(message) = self.receive(deadline).await else {
                panic!(
                    "connection ended or nothing matched within 20 s; inbox: {:?}",
                    self.inbox
                );
            };
            if pred(&message) {
                return message;
            }
            self.inbox.push(message);
        }
    }

    pub async fn send(&mut self, command: Value) -> Uuid {
        let id = Uuid::new_v4();
        self.send_with_id(id, command).await;
        id
    }

    pub async fn send_with_id(&mut self, id: Uuid, command: Value) {
        self.sent.insert(id, command.clone());
        let message = json!({"type": "command", "command_id": id, "command": command});
        self.socket
            .send(Message::Text(message.to_string().into()))
            .await
            .unwrap();
    }

    /// The ack or error for a command. A command refused unread by the rate limit is sent
    /// again with the same id after the server's `retry_after`, as the web app does.
    pub async fn reply(&mut self, id: Uuid) -> Value {
        let key = id.to_string();
        loop {
            let key = key.clone();
            let reply = self
                .wait_for(move |m| {
                    m["command_id"] == key.as_str() && (m["type"] == "ack" || m["type"] == "error")
                })
                .await;
            if reply["problem"]["type"] != "/problems/rate-limited" {
                self.sent.remove(&id);
                return reply;
            }
            let seconds = reply["problem"]["retry_after"].as_u64().unwrap_or(1);
            tokio::time::sleep(Duration::from_secs(seconds)).await;
            let command = self.sent[&id].clone();
            self.send_with_id(id, command).await;
        }
    }

    /// Sends and waits for an ack (panics on an error).
    pub async fn command(&mut self, command: Value) -> Value {
        let id = self.send(command.clone()).await;
        let reply = self.reply(id).await;
        assert_eq!(reply["type"], "ack", "{command} → {reply}");
        reply
    }

    pub async fn event(&mut self, kind: &str) -> Value {
        let kind = kind.to_owned();
        self.wait_for(move |m| m["type"] == "event" && m["event"]["type"] == kind.as_str())
            .await
    }

    pub async fn close(mut self) {
        let _ = self.socket.close(None).await;
    }

    /// Sends a frame as it is (for protocol tests).
    pub async fn send_raw(&mut self, message: Message) {
        self.socket.send(message).await.unwrap();
    }

    /// The next frame as it is, pings skipped; `None` once the connection is gone.
    pub async fn next_raw(&mut self) -> Option<Message> {
        loop {
            let next = tokio::time::timeout(Duration::from_secs(20), self.socket.next())
                .await
                .ok()??;
            match next.ok()? {
                Message::Ping(_) | Message::Pong(_) => continue,
                other => return Some(other),
            }
        }
    }
}

/// A committee of `n` voting members (the first chairs it), one advisory member, a meeting with
/// a public and a non-public item, and an access token for everyone.
pub struct Committee {
    pub meeting: MeetingId,
    pub public_item: AgendaItemId,
    pub secret_item: AgendaItemId,
    /// (person, access token); index 0 is the chair.
    pub members: Vec<(PersonId, String)>,
    pub advisory: (PersonId, String),
}

/// The events of type `kind` that `GET …/live/events?after=0` replays to the holder of `token`
/// (to the public without one).
async fn replayed(
    app: &TestApp,
    meeting: MeetingId,
    token: Option<&str>,
    kind: &str,
) -> Vec<Value> {
    let mut request = app
        .client
        .get(app.url(&format!("/api/v1/meetings/{meeting}/live/events?after=0")));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), 200);
    let replay: Value = response.json().await.unwrap();
    replay["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event"]["type"] == kind)
        .cloned()
        .collect()
}

pub async fn committee(app: &TestApp, n: usize) -> Committee {
    let db = &app.db.db;
    let body = repo::bodies::insert(
        db,
        Body {
            id: BodyId::new(),
            meta: Meta::default(),
            name: Name::parse("Stadt Prüfstadt").unwrap(),
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
    let org = repo::organizations::insert(
        db,
        Organization {
            id: OrganizationId::new(),
            meta: Meta::default(),
            body_id: body.id,
            name: Name::parse("Großer Prüfausschuss").unwrap(),
            short_name: None,
            kind: OrganizationKind::Committee,
            statutory_seats: Some(n as u32),
            parent_id: None,
            start_date: None,
            end_date: None,
        },
    )
    .await
    .unwrap();
    let key = std::fs::read(app.config.data_dir.join("signing.key")).unwrap();
    let tag = &Uuid::new_v4().simple().to_string()[..8];
    let keys = plenum_api::auth::tokens::TokenKeys::new(&key);
    let mut tokens = Vec::new();
    for i in 0..=n {
        let advisory = i == n;
        let person = repo::persons::insert(
            db,
            Person {
                id: PersonId::new(),
                meta: Meta::default(),
                body_id: body.id,
                family_name: Name::parse(&format!("Mitglied{i:03}")).unwrap(),
                given_name: Name::parse("Test").unwrap(),
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
        let role = match (i, advisory) {
            (_, true) => MembershipRole::Advisory,
            (0, _) => MembershipRole::Chair,
            _ => MembershipRole::Member,
        };
        repo::memberships::insert(
            db,
            Membership {
                id: MembershipId::new(),
                meta: Meta::default(),
                person_id: person.id,
                organization_id: org.id,
                role,
                voting_right: !advisory,
                start_date: None,
                end_date: None,
            },
        )
        .await
        .unwrap();
        let user = repo::users::insert(
            db,
            User {
                id: UserId::new(),
                meta: Meta::default(),
                username: Username::parse(&format!("pruef{i:03}-{tag}")).unwrap(),
                display_name: Name::parse(&format!("Mitglied {i}")).unwrap(),
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
        tokens.push((person.id, keys.access(user.id, session.id, Utc::now())));
    }
    let start = Utc::now();
    let meeting = repo::meetings::insert(
        db,
        Meeting {
            id: MeetingId::new(),
            meta: Meta::default(),
            organization_id: org.id,
            name: Name::parse("Prüfsitzung").unwrap(),
            start,
            end: None,
            location_id: None,
            state: MeetingState::Invited,
            invited_at: None,
        },
    )
    .await
    .unwrap();
    let item = |number: &str, position: u32, public: bool, title: &str| AgendaItem {
        id: AgendaItemId::new(),
        meta: Meta::default(),
        meeting_id: meeting.id,
        number: AgendaNumber::parse(number).unwrap(),
        position,
        public,
        title: Title::parse(title).unwrap(),
        paper_id: None,
        decision: None,
    };
    let public_item = repo::agenda_items::insert(db, item("Ö 1", 1, true, "Neubau Feuerwache"))
        .await
        .unwrap();
    let secret_item = repo::agenda_items::insert(
        db,
        item("N 1", 2, false, "Geheimes Grundstücksgeschäft Flur 9"),
    )
    .await
    .unwrap();
    let advisory = tokens.pop().unwrap();
    Committee {
        meeting: meeting.id,
        public_item: public_item.id,
        secret_item: secret_item.id,
        members: tokens,
        advisory,
    }
}

/// Starts the meeting and checks everyone in (chair over `chair`, members over REST).
pub async fn start_and_check_in(
    app: &TestApp,
    c: &Committee,
    chair: &mut LiveClient,
    who: &[usize],
) {
    chair.command(json!({"type": "start_meeting"})).await;
    let mut tasks = Vec::new();
    for &i in who {
        let (client, url, token) = (
            app.client.clone(),
            app.url(&format!("/api/v1/meetings/{}/live/commands", c.meeting)),
            c.members[i].1.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let response = client
                .post(url)
                .bearer_auth(token)
                .json(&json!({"command_id": Uuid::new_v4(), "command": {"type": "check_in", "remote": false}}))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
}

pub async fn create_and_open(
    chair: &mut LiveClient,
    item: AgendaItemId,
    kind: &str,
    rule: &str,
    options: &[&str],
) -> PollId {
    let poll = PollId::new();
    chair
        .command(json!({"type": "create_poll", "poll": poll, "item": item, "title": format!("Abstimmung {kind}"), "kind": kind, "rule": rule, "options": options}))
        .await;
    chair
        .command(json!({"type": "open_poll", "poll": poll}))
        .await;
    poll
}

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_members_vote_concurrently_in_every_poll_kind(#[case] backend: Backend) {
    let Some(app) = spawn_app(backend, false).await else {
        return;
    };
    let c = committee(&app, 50).await;
    let mut chair = LiveClient::connect(&app, Some(&c.members[0].1), c.meeting, None).await;
    chair.wait_for(|m| m["type"] == "snapshot").await;
    let everyone: Vec<usize> = (0..50).collect();
    start_and_check_in(&app, &c, &mut chair, &everyone).await;
    let mut clients = Vec::new();
    for (_, token) in &c.members {
        let mut client = LiveClient::connect(&app, Some(token), c.meeting, None).await;
        client.wait_for(|m| m["type"] == "snapshot").await;
        clients.push(client);
    }
    for kind in ["open", "named", "secret"] {
        let poll = create_and_open(&mut chair, c.public_item, kind, "simple", &[]).await;
        // Everyone votes at the same instant, each over their own connection.
        let mut expected = HashMap::new();
        let votes = clients.iter_mut().enumerate().map(|(i, client)| {
            let choice = if i < 26 {
                "yes"
            } else if i < 40 {
                "no"
            } else {
                "abstain"
            };
            *expected.entry(choice).or_insert(0u32) += 1;
            async move {
                let id = client
                    .send(
                        json!({"type": "cast_ballot", "poll": poll, "choice": {"choice": choice}}),
                    )
                    .await;
                client.reply(id).await
            }
        });
        let replies = futures_util::future::join_all(votes).await;
        assert!(
            replies.iter().all(|r| r["type"] == "ack"),
            "all acknowledged: {:?}",
            replies.iter().find(|r| r["type"] != "ack")
        );
        chair
            .command(json!({"type": "close_poll", "poll": poll}))
            .await;
        for client in clients.iter_mut().chain(std::iter::once(&mut chair)) {
            let closed = client.event("poll_closed").await;
            let result = &closed["event"]["result"];
            assert_eq!(result["tally"]["yes"], expected["yes"], "{kind}");
            assert_eq!(result["tally"]["no"], expected["no"], "{kind}");
            assert_eq!(result["tally"]["abstain"], expected["abstain"], "{kind}");
            assert_eq!(result["voted"], 50);
            assert_eq!(result["outcome"], "adopted", "26 yes, 14 no, 10 abstain");
            if kind == "named" {
                // Who voted what, one character per eligible member (ids ascending).
                let roll = result["roll"].as_str().unwrap();
                assert_eq!(roll.chars().filter(|c| *c == 'y').count(), 26, "{roll}");
                assert_eq!(roll.chars().filter(|c| *c == 'n').count(), 14, "{roll}");
                assert_eq!(roll.chars().filter(|c| *c == 'a').count(), 10, "{roll}");
                assert_eq!(result["named"], json!([]), "the roll replaces the list");
                let mut ids: Vec<String> = c.members.iter().map(|(p, _)| p.to_string()).collect();
                ids.sort();
                for (i, (person, _)) in c.members.iter().enumerate() {
                    let at = ids.iter().position(|id| *id == person.to_string()).unwrap();
                    let expected = if i < 26 {
                        'y'
                    } else if i < 40 {
                        'n'
                    } else {
                        'a'
                    };
                    assert_eq!(roll.chars().nth(at), Some(expected), "member {i}: {roll}");
                }
            } else {
                assert!(result.get("roll").is_none(), "{kind} polls have no roll");
                assert!(
                    result["named"].as_array().unwrap().is_empty(),
                    "{kind} polls record no names"
                );
            }
        }
    }
    // An election with three candidates: a clear winner in round one.
    let poll = create_and_open(
        &mut chair,
        c.public_item,
        "election",
        "simple",
        &["Anna", "Bernd", "Clara"],
    )
    .await;
    let votes = clients
        .iter_mut()
        .enumerate()
        .map(|(i, client)| async move {
            let choice = if i < 30 {
                json!({"candidate": 0})
            } else if i < 45 {
                json!({"candidate": 1})
            } else {
                json!({"choice": "abstain"})
            };
            let id = client
                .send(json!({"type": "cast_ballot", "poll": poll, "choice": choice}))
                .await;
            client.reply(id).await
        });
    let replies = futures_util::future::join_all(votes).await;
    assert!(replies.iter().all(|r| r["type"] == "ack"));
    chair
        .command(json!({"type": "close_poll", "poll": poll}))
        .await;
    let closed = chair.event("poll_closed").await;
    assert_eq!(
        closed["event"]["result"]["election"]["candidates"],
        json!([30, 15, 0])
    );
    assert_eq!(
        closed["event"]["result"]["election_outcome"],
        json!({"elected": 0})
    );
    // A manual poll: the chair enters the hand count, validated against the present voters.
    let poll = create_and_open(&mut chair, c.public_item, "manual", "two_thirds_cast", &[]).await;
    let too_many = chair.send(json!({"type": "enter_manual_tally", "poll": poll, "tally": {"yes": 40, "no": 20, "abstain": 0, "invalid": 0}})).await;
    assert_eq!(
        chair.reply(too_many).await["problem"]["type"],
        "/problems/validation-failed"
    );
    chair.command(json!({"type": "enter_manual_tally", "poll": poll, "tally": {"yes": 34, "no": 16, "abstain": 0, "invalid": 0}})).await;
    let closed = chair.event("poll_closed").await;
    assert_eq!(
        closed["event"]["result"]["outcome"], "adopted",
        "34 of 50 is two thirds"
    );
    for client in clients {
        client.close().await;
    }
    app.stop().await;
}

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_same_member_racing_on_two_connections_counts_once(#[case] backend: Backend) {
    let Some(app) = spawn_app(backend, false).await else {
        return;
    };
    let c = committee(&app, 3).await;
    let mut chair = LiveClient::connect(&app, Some(&c.members[0].1), c.meeting, None).await;
    start_and_check_in(&app, &c, &mut chair, &[0, 1, 2]).await;
    let token = &c.members[1].1;
    let mut a = LiveClient::connect(&app, Some(token), c.meeting, None).await;
    let mut b = LiveClient::connect(&app, Some(token), c.meeting, None).await;
    for round in 0..100 {
        let poll = create_and_open(&mut chair, c.public_item, "secret", "simple", &[]).await;
        let vote = json!({"type": "cast_ballot", "poll": poll, "choice": {"choice": "yes"}});
        let (ra, rb) = tokio::join!(
            async {
                let id = a.send(vote.clone()).await;
                a.reply(id).await
            },
            async {
                let id = b.send(vote.clone()).await;
                b.reply(id).await
            },
        );
        let acks = [&ra, &rb].iter().filter(|r| r["type"] == "ack").count();
        assert_eq!(acks, 1, "round {round}: {ra} / {rb}");
        let refused = if ra["type"] == "ack" { &rb } else { &ra };
        assert_eq!(refused["problem"]["type"], "/problems/already-voted");
        chair
            .command(json!({"type": "close_poll", "poll": poll}))
            .await;
        let closed = chair.event("poll_closed").await;
        assert_eq!(
            closed["event"]["result"]["tally"]["yes"], 1,
            "round {round}"
        );
        assert_eq!(
            plenum_store::live::participants(&app.db.db, poll)
                .await
                .unwrap()
                .len(),
            1
        );
    }
    app.stop().await;
}

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ineligible_and_late_votes_are_refused_with_distinct_problems(#[case] backend: Backend) {
    let Some(app) = spawn_app(backend, false).await else {
        return;
    };
    let c = committee(&app, 4).await;
    let mut chair = LiveClient::connect(&app, Some(&c.members[0].1), c.meeting, None).await;
    // Member 3 stays absent; member 2 declares a conflict on the item; the advisory member is present.
    start_and_check_in(&app, &c, &mut chair, &[0, 1, 2]).await;
    let mut advisory = LiveClient::connect(&app, Some(&c.advisory.1), c.meeting, None).await;
    advisory
        .command(json!({"type": "check_in", "remote": false}))
        .await;
    let mut conflicted = LiveClient::connect(&app, Some(&c.members[2].1), c.meeting, None).await;
    conflicted
        .command(json!({"type": "declare_conflict", "item": c.public_item, "person": null}))
        .await;
    let mut absent = LiveClient::connect(&app, Some(&c.members[3].1), c.meeting, None).await;
    let mut voter = LiveClient::connect(&app, Some(&c.members[1].1), c.meeting, None).await;

    let poll = create_and_open(&mut chair, c.public_item, "open", "simple", &[]).await;
    let opened = chair.event("poll_opened").await;
    assert_eq!(
        opened["event"]["eligible"].as_array().unwrap().len(),
        2,
        "chair and member 1"
    );
    let vote = json!({"type": "cast_ballot", "poll": poll, "choice": {"choice": "yes"}});
    for (client, expected) in [
        (&mut absent, "/problems/voter-absent"),
        (&mut conflicted, "/problems/voter-conflicted"),
        (&mut advisory, "/problems/voter-advisory"),
    ] {
        let id = client.send(vote.clone()).await;
        assert_eq!(client.reply(id).await["problem"]["type"], expected);
    }
    // A poll id of another meeting is unknown here.
    let other = committee_meeting_poll(&app).await;
    let id = voter
        .send(json!({"type": "cast_ballot", "poll": other, "choice": {"choice": "yes"}}))
        .await;
    assert_eq!(
        voter.reply(id).await["problem"]["type"],
        "/problems/poll-not-found"
    );
    let bad = voter
        .send(json!({"type": "cast_ballot", "poll": poll, "choice": {"candidate": 1}}))
        .await;
    assert_eq!(
        voter.reply(bad).await["problem"]["type"],
        "/problems/invalid-choice"
    );
    let not_chair = voter
        .send(json!({"type": "close_poll", "poll": poll}))
        .await;
    assert_eq!(
        voter.reply(not_chair).await["problem"]["type"],
        "/problems/not-chair"
    );
    voter.command(vote.clone()).await;
    chair
        .command(json!({"type": "close_poll", "poll": poll}))
        .await;
    let late = voter.send(vote.clone()).await;
    assert_eq!(
        voter.reply(late).await["problem"]["type"],
        "/problems/poll-closed"
    );
    let snapshot: Value = app
        .get_with(
            &format!("/api/v1/meetings/{}/live", c.meeting),
            &c.members[0].1,
        )
        .await
        .json()
        .await
        .unwrap();
    let p = snapshot["state"]["polls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == poll.to_string())
        .unwrap()
        .clone();
    assert_eq!(p["voted_count"], 1, "refused votes changed nothing");
    assert_eq!(p["result"]["tally"]["yes"], 1);
    // A closed result is final: a correction is a new poll, and both stay on record.
    let cancel = chair
        .send(json!({"type": "cancel_poll", "poll": poll}))
        .await;
    assert_eq!(
        chair.reply(cancel).await["problem"]["type"],
        "/problems/validation-failed"
    );
    let correction = PollId::new();
    chair.command(json!({"type": "create_poll", "poll": correction, "item": c.public_item, "title": "Korrektur", "kind": "open", "rule": "simple", "corrects": poll})).await;
    let snapshot: Value = app
        .get_with(
            &format!("/api/v1/meetings/{}/live", c.meeting),
            &c.members[0].1,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(snapshot["state"]["polls"].as_array().unwrap().len(), 2);
    app.stop().await;
}

/// A poll in a different meeting.
async fn committee_meeting_poll(app: &TestApp) -> PollId {
    let other = committee(app, 1).await;
    let mut chair = LiveClient::connect(app, Some(&other.members[0].1), other.meeting, None).await;
    chair.command(json!({"type": "start_meeting"})).await;
    let poll = PollId::new();
    chair.command(json!({"type": "create_poll", "poll": poll, "item": other.public_item, "title": "Fremd", "kind": "open", "rule": "simple"})).await;
    poll
}

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_reconnecting_client_gets_exactly_the_missed_events(#[case] backend: Backend) {
    let Some(app) = spawn_app(backend, false).await else {
        return;
    };
    let c = committee(&app, 3).await;
    let mut chair = LiveClient::connect(&app, Some(&c.members[0].1), c.meeting, None).await;
    chair.command(json!({"type": "start_meeting"})).await;
    let mut member = LiveClient::connect(&app, Some(&c.members[1].1), c.meeting, None).await;
    let snapshot = member.wait_for(|m| m["type"] == "snapshot").await;
    let seen = snapshot["seq"].as_u64().unwrap();
    member.close().await;
    chair
        .command(json!({"type": "set_current_item", "item": c.public_item}))
        .await;
    chair
        .command(json!({"type": "set_attendance", "person": c.members[2].0, "status": "excused"}))
        .await;
    let poll = PollId::new();
    chair.command(json!({"type": "create_poll", "poll": poll, "item": c.public_item, "title": "T", "kind": "open", "rule": "simple"})).await;
    let last = chair
        .command(json!({"type": "set_current_item", "item": c.secret_item}))
        .await;
    let last_seq = last["result"]["seq"].as_u64().unwrap();
    // Four commands, five events: moving to a non-public item also says the non-public part began.
    assert_eq!(last_seq, seen + 5);

    let mut back = LiveClient::connect(&app, Some(&c.members[1].1), c.meeting, Some(seen)).await;
    let mut seqs = Vec::new();
    loop {
        let m = back
            .wait_for(|m| {
                m["type"] == "event" || m["type"] == "caught_up" || m["type"] == "snapshot"
            })
            .await;
        assert_ne!(m["type"], "snapshot", "the missed events, not a snapshot");
        if m["type"] == "caught_up" {
            assert_eq!(m["seq"].as_u64().unwrap(), last_seq);
            break;
        }
        seqs.push(m["seq"].as_u64().unwrap());
    }
    assert_eq!(
        seqs,
        (seen + 1..=last_seq).collect::<Vec<_>>(),
        "in order, none twice, none missing"
    );
    // Live events continue after the replay.
    chair
        .command(json!({"type": "set_current_item", "item": null}))
        .await;
    let next = back.event("current_item_changed").await;
    assert_eq!(next["seq"].as_u64().unwrap(), last_seq + 1);
    // The public sees neither the non-public item nor its events.
    let mut public = LiveClient::connect(&app, None, c.meeting, Some(seen)).await;
    let caught_up = public.wait_for(|m| m["type"] == "caught_up").await;
    assert!(
        public
            .inbox
            .iter()
            .all(|m| m["event"]["item"] != c.secret_item.to_string()),
        "{:?}",
        public.inbox
    );
    assert_eq!(caught_up["seq"].as_u64().unwrap(), last_seq + 1);
    // …but learns that the non-public part began (the room display says so), without the item.
    assert!(
        public
            .inbox
            .iter()
            .any(|m| m["event"]["type"] == "non_public_part_started"),
        "{:?}",
        public.inbox
    );
    // Snapshots say who is looking, so a client offers the chair console only to the chair.
    let mut fresh = LiveClient::connect(&app, None, c.meeting, None).await;
    let anonymous = fresh.wait_for(|m| m["type"] == "snapshot").await;
    assert_eq!(anonymous["state"]["viewer"]["chair"], false);
    assert_eq!(anonymous["state"]["viewer"]["entitled"], false);
    assert_eq!(anonymous["state"]["current_item"], Value::Null);
    assert_eq!(anonymous["state"]["non_public_part"], false);
    let mut chair_again = LiveClient::connect(&app, Some(&c.members[0].1), c.meeting, None).await;
    let as_chair = chair_again.wait_for(|m| m["type"] == "snapshot").await;
    assert_eq!(as_chair["state"]["viewer"]["chair"], true);
    assert_eq!(as_chair["state"]["viewer"]["person"], json!(c.members[0].0));
    let mut member_again = LiveClient::connect(&app, Some(&c.members[1].1), c.meeting, None).await;
    let as_member = member_again.wait_for(|m| m["type"] == "snapshot").await;
    assert_eq!(as_member["state"]["viewer"]["chair"], false);
    assert_eq!(as_member["state"]["viewer"]["entitled"], true);
    app.stop().await;
}

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_secret_poll_leaves_nothing_that_links_a_voter_to_a_choice(#[case] backend: Backend) {
    let Some(app) = spawn_app(backend, false).await else {
        return;
    };
    let c = committee(&app, 6).await;
    let mut chair = LiveClient::connect(&app, Some(&c.members[0].1), c.meeting, None).await;
    start_and_check_in(&app, &c, &mut chair, &[0, 1, 2, 3, 4, 5]).await;
    let poll = create_and_open(&mut chair, c.public_item, "secret", "simple", &[]).await;
    let box_file = app.config.ballot_dir().join(format!("{poll}.box"));
    assert!(
        box_file.is_file(),
        "the ballot box lives outside the database"
    );
    let mut public = LiveClient::connect(&app, None, c.meeting, None).await;
    public.wait_for(|m| m["type"] == "snapshot").await;
    let mut member = LiveClient::connect(&app, Some(&c.members[1].1), c.meeting, None).await;
    member.wait_for(|m| m["type"] == "snapshot").await;
    let choices = ["yes", "no", "yes", "abstain", "yes", "no"];
    for (i, (_, token)) in c.members.iter().enumerate() {
        let response = app
            .client
            .post(app.url(&format!("/api/v1/meetings/{}/live/commands", c.meeting)))
            .bearer_auth(token)
            .json(&json!({"command_id": Uuid::new_v4(), "command": {"type": "cast_ballot", "poll": poll, "choice": {"choice": choices[i]}}}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let ack = response.text().await.unwrap();
        for word in ["yes", "\"no\"", "abstain"] {
            assert!(!ack.contains(word), "the ack carries no choice: {ack}");
        }
    }
    // While open: the chair learns who and how many voted, never what — one event per
    // committed batch, listing that batch's voters. The room display learns only how many.
    let mut voters = std::collections::BTreeSet::new();
    while voters.len() < 6 {
        let cast = chair.event("ballots_cast").await;
        assert!(cast["event"]["interim"].is_null());
        for voter in cast["event"]["voters"].as_array().unwrap() {
            assert!(voters.insert(voter.to_string()), "each voter once: {cast}");
        }
        assert_eq!(cast["event"]["voted"], voters.len());
        assert!(!cast.to_string().contains("\"choice\""), "{cast}");
    }
    let mut counted = 0;
    while counted < 6 {
        let cast = public.event("ballots_cast").await;
        assert_eq!(cast["event"]["voters"], json!([]), "{cast}");
        assert!(cast["event"]["voted"].as_u64().unwrap() > counted);
        counted = cast["event"]["voted"].as_u64().unwrap();
    }
    // A member learns how many voted and that their own vote counted, not who else voted:
    // live, in a replay and in a snapshot.
    let me = json!(c.members[1].0);
    let mut counted = 0;
    let mut mine = 0;
    while counted < 6 {
        let cast = member.event("ballots_cast").await;
        let voters = cast["event"]["voters"].as_array().unwrap();
        assert!(voters.iter().all(|v| *v == me), "{cast}");
        mine += voters.len();
        counted = cast["event"]["voted"].as_u64().unwrap();
    }
    assert_eq!(mine, 1, "the member's own vote is named to them once");
    let replay = replayed(&app, c.meeting, Some(&c.members[1].1), "ballots_cast").await;
    let named: Vec<&Value> = replay
        .iter()
        .flat_map(|e| e["event"]["voters"].as_array().unwrap())
        .collect();
    assert_eq!(named, vec![&me], "{replay:?}");
    let mut rejoined = LiveClient::connect(&app, Some(&c.members[1].1), c.meeting, None).await;
    let snapshot = rejoined.wait_for(|m| m["type"] == "snapshot").await;
    let open = &snapshot["state"]["polls"][0];
    assert_eq!(open["voted_count"], 6, "{open}");
    assert_eq!(open["i_voted"], true, "{open}");
    assert_eq!(open["voted"], Value::Null, "{open}");
    let mut chair_again = LiveClient::connect(&app, Some(&c.members[0].1), c.meeting, None).await;
    let snapshot = chair_again.wait_for(|m| m["type"] == "snapshot").await;
    assert_eq!(
        snapshot["state"]["polls"][0]["voted"]
            .as_array()
            .map(Vec::len),
        Some(6)
    );
    // A display that reconnects and replays gets the same redacted events.
    let replay = replayed(&app, c.meeting, None, "ballots_cast").await;
    assert!(!replay.is_empty());
    for e in replay {
        assert_eq!(e["event"]["voters"], json!([]), "{e}");
    }
    let mut late = LiveClient::connect(&app, None, c.meeting, Some(0)).await;
    let cast = late.event("ballots_cast").await;
    assert_eq!(cast["event"]["voters"], json!([]), "{cast}");
    let show = chair
        .send(json!({"type": "show_interim", "poll": poll, "show": true}))
        .await;
    assert_eq!(
        chair.reply(show).await["problem"]["type"],
        "/problems/validation-failed"
    );
    chair
        .command(json!({"type": "close_poll", "poll": poll}))
        .await;
    let closed = public.event("poll_closed").await;
    assert_eq!(
        closed["event"]["result"]["tally"],
        json!({"yes": 3, "no": 2, "abstain": 1, "invalid": 0})
    );
    assert!(!box_file.exists(), "the box is removed at close");

    // The audit log records the poll's life and who voted (never what), written just after
    // each batch; the chain stays intact.
    let poll_text = poll.to_string();
    let mut entries = Vec::new();
    for _ in 0..100 {
        entries = plenum_store::audit::list(&app.db.db).await.unwrap();
        if entries
            .iter()
            .any(|e| e.event.action == "poll.closed" && e.event.detail.contains(&poll_text))
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let of_poll = |action: &str| {
        entries
            .iter()
            .filter(|e| e.event.action == action && e.event.detail.contains(&poll_text))
            .collect::<Vec<_>>()
    };
    assert_eq!(of_poll("poll.opened").len(), 1);
    assert_eq!(of_poll("poll.closed").len(), 1, "{entries:?}");
    let audited_voters: std::collections::BTreeSet<String> = of_poll("poll.voted")
        .iter()
        .flat_map(|e| {
            let detail: Value = serde_json::from_str(&e.event.detail).unwrap();
            detail["voters"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        })
        .collect();
    let expected_voters: std::collections::BTreeSet<String> =
        c.members.iter().map(|(p, _)| p.to_string()).collect();
    assert_eq!(audited_voters, expected_voters);
    for e in of_poll("poll.voted") {
        assert!(!e.event.detail.contains("choice"), "{:?}", e.event);
    }
    assert!(app.verify_audit().await.is_ok());

    // Read every table as someone holding the database would.
    let backend_kind = app.db.db.get_database_backend();
    use sea_orm::{ConnectionTrait, Statement};
    let tables_sql = match backend_kind {
        sea_orm::DbBackend::Postgres => {
            "SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public'"
        }
        _ => {
            "SELECT name AS t FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        }
    };
    let tables: Vec<String> = app
        .db
        .db
        .query_all_raw(Statement::from_string(backend_kind, tables_sql))
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.try_get::<String>("", "t").unwrap())
        .collect();
    // A voter id as text (PostgreSQL) or as the bytes of a BLOB (SQLite's debug form).
    let voters: Vec<(String, String)> = c
        .members
        .iter()
        .map(|(p, _)| {
            let hex: String = p
                .as_uuid()
                .as_bytes()
                .iter()
                .map(|b| format!("{b:02X}"))
                .collect();
            (p.to_string(), format!("X'{hex}'"))
        })
        .collect();
    let mut rows_mentioning_voters = 0;
    for table in &tables {
        let sql = match backend_kind {
            sea_orm::DbBackend::Postgres => {
                format!("SELECT row_to_json(x)::text AS r FROM \"{table}\" x")
            }
            _ => {
                // Every column rendered by quote(): text quoted, BLOBs as X'…'.
                let columns_sql = format!("SELECT name AS t FROM pragma_table_info('{table}')");
                let columns: Vec<String> = app
                    .db
                    .db
                    .query_all_raw(Statement::from_string(backend_kind, columns_sql))
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|r| r.try_get::<String>("", "t").unwrap())
                    .collect();
                let quoted: Vec<String> =
                    columns.iter().map(|c| format!("quote(\"{c}\")")).collect();
                format!(
                    "SELECT {} AS r FROM \"{table}\"",
                    quoted.join(" || ',' || ")
                )
            }
        };
        let rows = app
            .db
            .db
            .query_all_raw(Statement::from_string(backend_kind, sql))
            .await
            .unwrap();
        for row in rows {
            let text = row.try_get::<String>("", "r").unwrap();
            if voters
                .iter()
                .any(|(id, bytes)| text.contains(id.as_str()) || text.contains(bytes.as_str()))
            {
                rows_mentioning_voters += 1;
                // A stored choice looks like {"choice":"yes"} (escaped inside JSON text).
                for pattern in [
                    "\"choice\":",
                    "\\\"choice\\\":",
                    "\"candidate\":",
                    "\\\"candidate\\\":",
                ] {
                    assert!(
                        !text.contains(pattern),
                        "{table} links a voter to a choice: {text}"
                    );
                }
            }
        }
        if table == "secret_ballot" {
            let count = app
                .db
                .db
                .query_all_raw(Statement::from_string(
                    backend_kind,
                    "SELECT * FROM secret_ballot",
                ))
                .await
                .unwrap()
                .len();
            assert_eq!(count, 0, "no ballot is ever stored in the database");
        }
    }
    // The stored live state keeps who voted, never what.
    let (_, stored) = plenum_store::live::load_parts(&app.db.db, c.meeting)
        .await
        .unwrap()
        .unwrap();
    let state: Value = serde_json::from_str(&stored.state).unwrap();
    let stored = state["polls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == poll.to_string())
        .unwrap();
    assert_eq!(stored["choices"], json!({}));
    assert_eq!(stored["voted"].as_array().unwrap().len(), 6);
    assert!(
        rows_mentioning_voters > 0,
        "the scan saw the participation rows"
    );
    // The event log has who voted, never what.
    let events = plenum_store::live::events_since(&app.db.db, c.meeting, 0, 10_000)
        .await
        .unwrap();
    for e in events.iter().filter(|e| e.payload.contains("ballots_cast")) {
        assert!(!e.payload.contains("\"choice\""), "{}", e.payload);
    }
    app.stop().await;
}

#[tokio::test]
async fn a_revoked_device_loses_its_live_connection_within_seconds() {
    let app = spawn_app(Backend::Sqlite, true).await.unwrap();
    let session = app.login("thomas.schneider", 0).await;
    let meeting: MeetingId = plenum_server::demo::demo_id("meeting:rat-3");
    let mut live = LiveClient::connect(&app, Some(&session.access), meeting, None).await;
    live.wait_for(|m| m["type"] == "snapshot").await;
    let other = app.login("thomas.schneider", 1).await;
    let started = std::time::Instant::now();
    let revoke = app
        .client
        .delete(app.url(&format!("/api/v1/me/devices/{}", session.session_id)))
        .bearer_auth(&other.access)
        .send()
        .await
        .unwrap();
    assert_eq!(revoke.status(), 204);
    loop {
        match tokio::time::timeout(Duration::from_secs(5), live.socket.next()).await {
            Ok(Some(Ok(Message::Close(frame)))) => {
                assert_eq!(frame.unwrap().reason.as_str(), "session revoked");
                break;
            }
            Ok(Some(Ok(_))) => continue,
            Ok(None) | Ok(Some(Err(_))) => break,
            Err(_) => panic!("the connection stayed open"),
        }
    }
    assert!(started.elapsed() < Duration::from_secs(5));
    app.stop().await;
}

#[tokio::test]
async fn the_websocket_checks_origin_and_tickets() {
    let app = spawn_app(Backend::Sqlite, true).await.unwrap();
    let session = app.login("anna.hartmann", 0).await;
    let meeting: MeetingId = plenum_server::demo::demo_id("meeting:rat-3");
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut request = format!("ws://{}/api/v1/live?meeting={meeting}", app.addr)
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert("origin", "https://evil.example".parse().unwrap());
    let refused = tokio_tungstenite::connect_async(request).await;
    assert!(refused.is_err(), "a foreign origin is refused");
    let mut request = format!("ws://{}/api/v1/live?meeting={meeting}", app.addr)
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert("origin", format!("http://{}", app.addr).parse().unwrap());
    assert!(
        tokio_tungstenite::connect_async(request).await.is_ok(),
        "the own origin is fine"
    );
    let ticket: Value = app
        .client
        .post(app.url("/api/v1/live/ticket"))
        .bearer_auth(&session.access)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let url = format!(
        "ws://{}/api/v1/live?meeting={meeting}&ticket={}",
        app.addr,
        ticket["ticket"].as_str().unwrap()
    );
    assert!(tokio_tungstenite::connect_async(url.clone()).await.is_ok());
    assert!(
        tokio_tungstenite::connect_async(url).await.is_err(),
        "a ticket works once"
    );
    let no_ticket = app
        .client
        .post(app.url("/api/v1/live/ticket"))
        .send()
        .await
        .unwrap();
    assert_eq!(no_ticket.status(), 401);
    // Anonymous viewers may watch but not act.
    let mut public = LiveClient::connect(&app, None, meeting, None).await;
    public.wait_for(|m| m["type"] == "snapshot").await;
    let id = public
        .send(json!({"type": "check_in", "remote": false}))
        .await;
    assert_eq!(
        public.reply(id).await["problem"]["type"],
        "/problems/unauthenticated"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_command_refused_by_the_rate_limit_is_named_and_can_be_sent_again() {
    let Some(app) = spawn_app(Backend::Sqlite, false).await else {
        return;
    };
    let c = committee(&app, 2).await;
    let mut member = LiveClient::connect(&app, Some(&c.members[1].1), c.meeting, None).await;
    member.wait_for(|m| m["type"] == "snapshot").await;
    // Far more than the burst allowance, as fast as the socket takes them.
    let vote = json!({"type": "cast_ballot", "poll": Uuid::new_v4(), "choice": {"choice": "yes"}});
    let mut ids = Vec::new();
    for _ in 0..80 {
        ids.push(member.send(vote.clone()).await);
    }
    let mut refused = Vec::new();
    let mut answered = std::collections::BTreeSet::new();
    for id in &ids {
        let key = id.to_string();
        let reply = member
            .wait_for(move |m| m["command_id"] == key.as_str())
            .await;
        assert_eq!(reply["type"], "error", "{reply}");
        match reply["problem"]["type"].as_str() {
            Some("/problems/rate-limited") => {
                assert_eq!(reply["problem"]["retry_after"], 1);
                refused.push(*id);
            }
            Some(kind) => {
                answered.insert(kind.to_owned());
            }
            None => panic!("no problem type: {reply}"),
        }
    }
    assert!(!refused.is_empty(), "80 messages at once exceed the limit");
    assert!(
        refused.len() < ids.len(),
        "the burst allowance goes through"
    );
    // After the wait the same command id is processed.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    member.send_with_id(refused[0], vote).await;
    let reply = member.reply(refused[0]).await;
    assert_eq!(
        answered.len(),
        1,
        "the same rule refuses every copy: {answered:?}"
    );
    assert!(
        answered.contains(reply["problem"]["type"].as_str().unwrap()),
        "{reply}"
    );
    app.stop().await;
}

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_retried_command_id_gets_the_first_answer_and_counts_once(#[case] backend: Backend) {
    let Some(app) = spawn_app(backend, false).await else {
        return;
    };
    let c = committee(&app, 3).await;
    let mut chair = LiveClient::connect(&app, Some(&c.members[0].1), c.meeting, None).await;
    start_and_check_in(&app, &c, &mut chair, &[0, 1, 2]).await;
    let poll = create_and_open(&mut chair, c.public_item, "named", "simple", &[]).await;
    let vote = json!({"type": "cast_ballot", "poll": poll, "choice": {"choice": "yes"}});
    let id = Uuid::new_v4();
    let mut member = LiveClient::connect(&app, Some(&c.members[1].1), c.meeting, None).await;
    member.send_with_id(id, vote.clone()).await;
    let first = member.reply(id).await;
    assert_eq!(first["type"], "ack", "{first}");
    // One ack only (the actor queues it on the connection itself; the task that waits for the
    // command must not send it again).
    tokio::time::sleep(Duration::from_millis(300)).await;
    member
        .send_raw(Message::Text(json!({"type": "ping"}).to_string().into()))
        .await;
    member.wait_for(|m| m["type"] == "pong").await;
    let key = id.to_string();
    assert!(
        !member.inbox.iter().any(|m| m["command_id"] == key.as_str()),
        "a second answer: {:?}",
        member.inbox
    );
    // The same id again, on a new connection as after a lost ack: the same answer.
    let mut again = LiveClient::connect(&app, Some(&c.members[1].1), c.meeting, None).await;
    again.send_with_id(id, vote.clone()).await;
    let second = again.reply(id).await;
    assert_eq!(second, first);
    // Over REST too.
    let response = app
        .client
        .post(app.url(&format!("/api/v1/meetings/{}/live/commands", c.meeting)))
        .bearer_auth(&c.members[1].1)
        .json(&json!({"command_id": id, "command": vote}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    // Someone else using that id is refused, and their vote is not cast under it.
    let mut other = LiveClient::connect(&app, Some(&c.members[2].1), c.meeting, None).await;
    other.send_with_id(id, vote.clone()).await;
    let taken = other.reply(id).await;
    assert_eq!(
        taken["problem"]["type"], "/problems/command-id-taken",
        "{taken}"
    );
    chair
        .command(json!({"type": "close_poll", "poll": poll}))
        .await;
    let closed = chair.event("poll_closed").await;
    assert_eq!(closed["event"]["result"]["voted"], 1, "{closed}");
    assert_eq!(closed["event"]["result"]["tally"]["yes"], 1);
    app.stop().await;
}

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_chair_sets_everyone_present_at_once_audited_once(#[case] backend: Backend) {
    let Some(app) = spawn_app(backend, false).await else {
        return;
    };
    let c = committee(&app, 5).await;
    let everyone: Vec<_> = c.members.iter().map(|(p, _)| *p).collect();
    let bulk = json!({"type": "set_attendance_bulk", "persons": everyone, "status": "present"});
    let mut chair = LiveClient::connect(&app, Some(&c.members[0].1), c.meeting, None).await;
    let early = chair.send(bulk.clone()).await;
    assert_eq!(
        chair.reply(early).await["problem"]["type"],
        "/problems/meeting-not-running"
    );
    chair.command(json!({"type": "start_meeting"})).await;
    let mut member = LiveClient::connect(&app, Some(&c.members[1].1), c.meeting, None).await;
    let not_chair = member.send(bulk.clone()).await;
    assert_eq!(
        member.reply(not_chair).await["problem"]["type"],
        "/problems/not-chair"
    );
    let stranger = chair
        .send(json!({"type": "set_attendance_bulk", "persons": [c.members[2].0, uuid::Uuid::new_v4()], "status": "present"}))
        .await;
    assert_eq!(
        chair.reply(stranger).await["problem"]["type"],
        "/problems/not-member"
    );
    member
        .command(json!({"type": "check_in", "remote": false}))
        .await;
    chair.command(bulk).await;
    let event = member.event("attendance_bulk_changed").await;
    assert_eq!(event["event"]["persons"].as_array().unwrap().len(), 4);
    assert_eq!(event["event"]["quorum"]["reached"], true);
    let snapshot: Value = app
        .get_with(
            &format!("/api/v1/meetings/{}/live", c.meeting),
            &c.members[0].1,
        )
        .await
        .json()
        .await
        .unwrap();
    // Everyone named (the committee's advisory member was not).
    let rows: Vec<&Value> = snapshot["state"]["attendance"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["role"] != "advisory")
        .collect();
    assert_eq!(rows.len(), 5);
    assert!(rows.iter().all(|r| r["status"] == "present"), "{rows:?}");
    assert!(rows.iter().all(|r| r["arrived_at"].is_string()), "{rows:?}");

    let mut entries = Vec::new();
    for _ in 0..100 {
        entries = plenum_store::audit::list(&app.db.db).await.unwrap();
        if entries
            .iter()
            .any(|e| e.event.action == "live.attendance_bulk")
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let bulk_entries: Vec<_> = entries
        .iter()
        .filter(|e| e.event.action == "live.attendance_bulk")
        .collect();
    assert_eq!(bulk_entries.len(), 1, "audited once");
    let detail: Value = serde_json::from_str(&bulk_entries[0].event.detail).unwrap();
    assert_eq!(detail["count"], 4);
    assert!(app.verify_audit().await.is_ok());
    app.stop().await;
}

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn members_checking_in_at_once_each_count_once_and_are_audited_each(
    #[case] backend: Backend,
) {
    let Some(app) = spawn_app(backend, false).await else {
        return;
    };
    let c = committee(&app, 40).await;
    let mut chair = LiveClient::connect(&app, Some(&c.members[0].1), c.meeting, None).await;
    chair.wait_for(|m| m["type"] == "snapshot").await;
    chair.command(json!({"type": "start_meeting"})).await;
    let mut clients = Vec::new();
    for (_, token) in &c.members[1..] {
        let mut client = LiveClient::connect(&app, Some(token), c.meeting, None).await;
        client.wait_for(|m| m["type"] == "snapshot").await;
        clients.push(client);
    }
    // 39 members check in at the same instant, and the chair creates a poll amid them. Changes
    // that land in one batch reach every client as one event; each member still appears exactly
    // once, and each ack names the event holding that member.
    let (first, second) = clients.split_at_mut(20);
    fn check_ins(part: &mut [LiveClient]) -> Vec<impl std::future::Future<Output = Value> + '_> {
        part.iter_mut()
            .map(|client| async move {
                let id = client
                    .send(json!({"type": "check_in", "remote": false}))
                    .await;
                client.reply(id).await
            })
            .collect()
    }
    let (before, second_half) = (check_ins(first), check_ins(second));
    let poll = PollId::new();
    let create = async {
        let id = chair
            .send(json!({"type": "create_poll", "poll": poll, "title": "Mittendrin", "kind": "open", "rule": "simple"}))
            .await;
        chair.reply(id).await
    };
    let (mut replies, created, after) = futures_util::future::join3(
        futures_util::future::join_all(before),
        create,
        futures_util::future::join_all(second_half),
    )
    .await;
    replies.extend(after);
    assert!(replies.iter().all(|r| r["type"] == "ack"), "{replies:?}");
    assert_eq!(created["type"], "ack", "{created}");
    let mut seen: HashMap<String, u64> = HashMap::new();
    let mut events = 0;
    while seen.len() < 39 {
        let event = chair
            .wait_for(|m| {
                m["type"] == "event"
                    && matches!(
                        m["event"]["type"].as_str(),
                        Some("attendance_changed" | "attendance_bulk_changed")
                    )
            })
            .await;
        events += 1;
        let seq = event["seq"].as_u64().unwrap();
        let persons = match event["event"]["persons"].as_array() {
            Some(persons) => persons.clone(),
            None => vec![event["event"]["person"].clone()],
        };
        assert_eq!(event["event"]["status"], "present");
        for person in persons {
            let person = person.as_str().unwrap().to_owned();
            assert!(seen.insert(person, seq).is_none(), "counted once");
        }
        if seen.len() == 39 {
            assert_eq!(event["event"]["quorum"]["present_voting"], 39);
        }
    }
    assert!(events <= 39, "{events} events");
    for ((person, _), reply) in c.members[1..].iter().zip(&replies) {
        assert_eq!(
            reply["result"]["seq"].as_u64(),
            seen.get(&person.to_string()).copied(),
            "the ack names the event with the member"
        );
    }
    let snapshot: Value = app
        .get_with(
            &format!("/api/v1/meetings/{}/live", c.meeting),
            &c.members[0].1,
        )
        .await
        .json()
        .await
        .unwrap();
    let present = snapshot["state"]["attendance"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] == "present")
        .count();
    assert_eq!(present, 39);
    // The audit log names each arrival on its own, with who checked in.
    let mut audited = Vec::new();
    for _ in 0..100 {
        audited = plenum_store::audit::list(&app.db.db)
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.event.action == "live.attendance")
            .collect();
        if audited.len() >= 39 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(audited.len(), 39);
    assert!(
        !plenum_store::audit::list(&app.db.db)
            .await
            .unwrap()
            .iter()
            .any(|e| e.event.action == "live.attendance_bulk"),
        "self check-ins are not a chair's bulk entry"
    );
    let persons: std::collections::HashSet<String> = audited
        .iter()
        .map(|e| {
            let detail: Value = serde_json::from_str(&e.event.detail).unwrap();
            detail["person"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(persons.len(), 39);
    assert!(audited.iter().all(|e| e.event.actor.is_some()));
    // The audit log keeps the order the commands were decided in: as many arrivals before the
    // poll's creation as the events say, even where both landed in one batch.
    let created_seq = created["result"]["seq"].as_u64().unwrap();
    let arrived_before = replies
        .iter()
        .filter(|r| r["result"]["seq"].as_u64().unwrap() < created_seq)
        .count();
    crate::chair::audited(&app, "poll.created", 1).await;
    let order: Vec<String> = plenum_store::audit::list(&app.db.db)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.event.action)
        .filter(|a| a == "live.attendance" || a == "poll.created")
        .collect();
    assert_eq!(
        order.iter().position(|a| a == "poll.created"),
        Some(arrived_before),
        "{order:?}"
    );
    assert!(app.verify_audit().await.is_ok());
    println!(
        "39 check-ins reached the chair as {events} events; {arrived_before} arrived before the poll"
    );
    for client in clients {
        client.close().await;
    }
    app.stop().await;
}

/// A room display or citizen learns who may vote but not why the others may not: at a
/// convention, that list names thousands of advisory members for every display. Members get
/// the reasons; the public's snapshot agrees with the public's event.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_public_learns_who_may_vote_not_why_others_may_not() {
    let Some(app) = spawn_app(Backend::Sqlite, false).await else {
        return;
    };
    let c = committee(&app, 4).await;
    let mut chair = LiveClient::connect(&app, Some(&c.members[0].1), c.meeting, None).await;
    start_and_check_in(&app, &c, &mut chair, &[0, 1, 2]).await;
    let mut public = LiveClient::connect(&app, None, c.meeting, None).await;
    public.wait_for(|m| m["type"] == "snapshot").await;
    let mut member = LiveClient::connect(&app, Some(&c.members[1].1), c.meeting, None).await;
    member.wait_for(|m| m["type"] == "snapshot").await;
    let poll = create_and_open(&mut chair, c.public_item, "named", "simple", &[]).await;

    let full = member.event("poll_opened").await;
    let eligible = full["event"]["eligible"].as_array().unwrap().clone();
    assert_eq!(eligible.len(), 3);
    assert!(eligible.contains(&json!(c.members[1].0)));
    let reasons = full["event"]["ineligible"].as_array().unwrap();
    assert!(
        reasons.contains(&json!([c.members[3].0, "absent"])),
        "{full}"
    );
    assert!(
        reasons.contains(&json!([c.advisory.0, "advisory"])),
        "{full}"
    );

    let opened = public.event("poll_opened").await;
    assert_eq!(opened["seq"], full["seq"], "the same event");
    assert_eq!(opened["event"]["poll"], json!(poll));
    assert_eq!(opened["event"]["eligible"], json!(eligible), "{opened}");
    assert_eq!(opened["event"]["ineligible"], json!([]), "{opened}");
    // A display that catches up from the event table (over HTTP, or the WebSocket's
    // `last_seq`) gets the same.
    let replay = replayed(&app, c.meeting, None, "poll_opened").await;
    assert_eq!(replay.len(), 1, "{replay:?}");
    assert_eq!(
        replay[0]["event"]["eligible"],
        json!(eligible),
        "{replay:?}"
    );
    assert_eq!(replay[0]["event"]["ineligible"], json!([]), "{replay:?}");
    let mut resumed = LiveClient::connect(&app, None, c.meeting, Some(0)).await;
    let again = resumed.event("poll_opened").await;
    assert_eq!(again["event"]["ineligible"], json!([]), "{again}");

    let mut fresh = LiveClient::connect(&app, None, c.meeting, None).await;
    let snapshot = fresh.wait_for(|m| m["type"] == "snapshot").await;
    let p = crate::chair::poll_of(&snapshot["state"], poll);
    assert_eq!(p["eligible_count"], 3);
    assert_eq!(p["ineligible_at_open"], json!([]));
    assert_eq!(p["ineligible"], json!([]));
    app.stop().await;
}
