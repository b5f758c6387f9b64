//! The meeting actor: group commit of live commands.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::ws::Utf8Bytes;
use chrono::{DateTime, SubsecRound, Utc};
use plenum_domain::{
    AgendaEntry, Applied, AuditEvent, BallotChoice, Command, CommandId, Event, LiveError,
    LiveState, MeetingId, PollId, Roster, RosterMember, RuleSet, UserId,
};
use plenum_store::live::{self as store, Batch, StoredEvent};
use plenum_store::{DatabaseConnection, StoreError, TransactionTrait, repo};
use rand::RngCore;
use tokio::sync::{broadcast, mpsc};

use super::keys::PollKeys;
use super::{Broadcast, MeetingHandle, Msg, SUBSCRIBER_BUFFER};

/// How many queued commands go into one transaction at most.
const MAX_BATCH: usize = 512;

/// Why a live command failed.
#[derive(Debug, thiserror::Error)]
pub enum LiveFailure {
    #[error(transparent)]
    Rule(#[from] LiveError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("this command id was used by someone else")]
    CommandIdTaken,
    #[error("the live session stopped")]
    Stopped,
    #[error("secret ballot storage failed: {0}")]
    Sealing(String),
}

/// Pads a secret choice to a fixed length, so ciphertext lengths say nothing about the choice.
fn padded(choice: &BallotChoice) -> Vec<u8> {
    let mut text = serde_json::to_string(choice).unwrap_or_default();
    while text.len() < 48 {
        text.push(' ');
    }
    text.into_bytes()
}

async fn fresh_state(
    db: &DatabaseConnection,
    meeting: MeetingId,
    rule_set: RuleSet,
) -> Result<LiveState, StoreError> {
    let m = repo::meetings::get_live(db, meeting).await?;
    let organization = repo::organizations::get_live(db, m.organization_id).await?;
    let day = m.start.date_naive();
    let mut members = Vec::new();
    for membership in repo::memberships::list_by_organization(db, organization.id, false).await? {
        if !membership.is_active_on(day) {
            continue;
        }
        let person = repo::persons::get(db, membership.person_id).await?;
        members.push(RosterMember {
            person: person.id,
            name: person.full_name(),
            role: membership.role,
            voting_right: membership.voting_right,
        });
    }
    members.sort_by(|a, b| a.name.cmp(&b.name));
    let agenda = repo::agenda_items::list_by_meeting(db, meeting, false)
        .await?
        .into_iter()
        .map(|item| AgendaEntry {
            id: item.id,
            number: item.number.to_string(),
            title: item.title.to_string(),
            public: item.public,
        })
        .collect();
    Ok(LiveState::new(
        meeting,
        Roster {
            organization: organization.id,
            organization_kind: organization.kind,
            statutory_seats: organization.statutory_seats.unwrap_or(members.len() as u32),
            rule_set,
            members,
        },
        agenda,
    ))
}

async fn load_state(
    db: &DatabaseConnection,
    meeting: MeetingId,
    rule_set: RuleSet,
) -> Result<(LiveState, Option<u64>), LiveFailure> {
    match store::load(db, meeting).await? {
        Some((seq, json)) => {
            let state = serde_json::from_str(&json)
                .map_err(|err| StoreError::Corrupt(format!("live state of {meeting}: {err}")))?;
            Ok((state, Some(seq)))
        }
        None => Ok((fresh_state(db, meeting, rule_set).await?, None)),
    }
}

pub(super) async fn start(
    db: DatabaseConnection,
    keys: PollKeys,
    audit: Arc<plenum_store::audit::AuditLog>,
    meeting: MeetingId,
    rule_set: RuleSet,
) -> Result<Arc<MeetingHandle>, LiveFailure> {
    let (state, stored_seq) = load_state(&db, meeting, rule_set).await?;
    let applied = applied_commands(&db, meeting).await?;
    let (tx, rx) = mpsc::channel(4096);
    let (events, _) = broadcast::channel(SUBSCRIBER_BUFFER);
    let db_for_audit = db.clone();
    let actor = Actor {
        db,
        keys,
        meeting,
        rule_set,
        seq: stored_seq.unwrap_or(0),
        stored_seq,
        state: Arc::new(state),
        events: events.clone(),
        audit: audit_writer(db_for_audit, audit),
        applied,
    };
    tokio::spawn(actor.run(rx));
    Ok(Arc::new(MeetingHandle { tx, events }))
}

struct Actor {
    db: DatabaseConnection,
    keys: PollKeys,
    meeting: MeetingId,
    rule_set: RuleSet,
    /// The seq of the last event in `state`.
    seq: u64,
    /// The seq of the stored snapshot (`None`: nothing stored yet).
    stored_seq: Option<u64>,
    state: Arc<LiveState>,
    events: broadcast::Sender<Arc<Broadcast>>,
    /// The audit entries of committed batches, on their way to the audit writer.
    audit: mpsc::UnboundedSender<Vec<(DateTime<Utc>, AuditEvent)>>,
    /// Every command applied in this meeting (who sent it, the stored response), as in the
    /// database: a retry is answered from here, without a query per batch.
    applied: AppliedCommands,
}

type AppliedCommands = HashMap<CommandId, (UserId, String)>;

async fn applied_commands(
    db: &DatabaseConnection,
    meeting: MeetingId,
) -> Result<AppliedCommands, StoreError> {
    Ok(store::commands_of(db, meeting)
        .await?
        .into_iter()
        .map(|(id, user, response)| (id, (user, response)))
        .collect())
}

/// Writes the audit entries of committed batches, in order, off the vote path: the next batch
/// need not wait for them. Entries that queued up meanwhile share one transaction. The task ends
/// once the actor is gone and the queue is empty.
fn audit_writer(
    db: DatabaseConnection,
    audit: Arc<plenum_store::audit::AuditLog>,
) -> mpsc::UnboundedSender<Vec<(DateTime<Utc>, AuditEvent)>> {
    let (tx, mut rx) = mpsc::unbounded_channel::<Vec<(DateTime<Utc>, AuditEvent)>>();
    tokio::spawn(async move {
        while let Some(mut entries) = rx.recv().await {
            while let Ok(more) = rx.try_recv() {
                entries.extend(more);
            }
            if let Err(err) = audit.append_all(&db, &entries).await {
                tracing::error!(error = %err, entries = entries.len(), "could not write the audit log");
            }
        }
    });
    tx
}

/// An event of the batch being built, serialized once the batch is complete.
struct Emitted {
    seq: u64,
    public: bool,
    user: UserId,
    event: Event,
}

struct Pending {
    job: super::Job,
    outcome: Option<Result<serde_json::Value, LiveFailure>>,
}

impl Actor {
    async fn run(mut self, mut rx: mpsc::Receiver<Msg>) {
        while let Some(first) = rx.recv().await {
            let mut jobs = Vec::new();
            let mut msg = Some(first);
            while let Some(m) = msg.take() {
                match m {
                    Msg::Snapshot(reply) => {
                        let _ = reply.send((self.seq, self.state.clone()));
                    }
                    Msg::Job(job) => jobs.push(job),
                }
                if jobs.len() < MAX_BATCH {
                    msg = rx.try_recv().ok();
                }
            }
            if !jobs.is_empty() {
                self.process(jobs).await;
            }
        }
    }

    async fn process(&mut self, jobs: Vec<super::Job>) {
        let started = std::time::Instant::now();
        let size = jobs.len();
        // Retries of commands applied before get their stored answer, nothing else.
        let known = &self.applied;
        let looked_up = started.elapsed();
        let mut pending: Vec<Pending> = jobs
            .into_iter()
            .map(|job| Pending { job, outcome: None })
            .collect();
        let mut state = (*self.state).clone();
        let mut seq = self.seq;
        let mut batch = Batch::default();
        let mut emitted: Vec<Emitted> = Vec::new();
        // Per poll, the index in `emitted` of this batch's ballots event still open for more.
        let mut open_ballots: HashMap<PollId, usize> = HashMap::new();
        let mut destroy_keys = Vec::new();
        let now = Utc::now().trunc_subsecs(6);
        let mut in_batch: HashMap<CommandId, usize> = HashMap::new();

        for index in 0..pending.len() {
            let job = &pending[index].job;
            if let Some((user, response)) = known.get(&job.command_id) {
                let outcome = if *user == job.user {
                    Ok(serde_json::from_str(response).unwrap_or(serde_json::Value::Null))
                } else {
                    Err(LiveFailure::CommandIdTaken)
                };
                pending[index].outcome = Some(outcome);
                continue;
            }
            if let Some(first) = in_batch.get(&job.command_id).copied() {
                // The same command twice in one batch: answer like the first.
                let same_user = pending[first].job.user == job.user;
                let outcome = match &pending[first].outcome {
                    Some(Ok(value)) if same_user => Ok(value.clone()),
                    Some(Err(LiveFailure::Rule(err))) if same_user => {
                        Err(LiveFailure::Rule(err.clone()))
                    }
                    _ => Err(LiveFailure::CommandIdTaken),
                };
                pending[index].outcome = Some(outcome);
                continue;
            }
            in_batch.insert(job.command_id, index);
            let decided = state.decide(&job.actor, &job.command, now, rand::rngs::OsRng.next_u64());
            let mut applied: Applied = match decided {
                Ok(applied) => applied,
                Err(err) => {
                    pending[index].outcome = Some(Err(LiveFailure::Rule(err)));
                    continue;
                }
            };
            // Secret polls: seal the ballot; close with the decrypted tally.
            if let Some(ballot) = applied.secret_ballot {
                match self.keys.load(ballot.poll) {
                    Ok(Some(cipher)) => batch.sealed_ballots.push((
                        ballot.poll,
                        cipher.seal(ballot.poll.as_uuid().as_bytes(), &padded(&ballot.choice)),
                    )),
                    Ok(None) => {
                        pending[index].outcome = Some(Err(LiveFailure::Sealing(format!(
                            "no key for poll {}",
                            ballot.poll
                        ))));
                        continue;
                    }
                    Err(err) => {
                        pending[index].outcome = Some(Err(LiveFailure::Sealing(err.to_string())));
                        continue;
                    }
                }
            }
            if let Some(poll) = applied.needs_secret_tally {
                match self.close_secret(&state, poll, &batch, now).await {
                    Ok(event) => {
                        applied.events.push(event);
                        batch.purge_ballots_of.push(poll);
                        destroy_keys.push(poll);
                    }
                    Err(err) => {
                        pending[index].outcome = Some(Err(err));
                        continue;
                    }
                }
            }
            if let Command::OpenPoll { poll } = &job.command
                && state.poll(*poll).is_some_and(|p| p.is_secret())
                && let Err(err) = self.keys.create(*poll)
            {
                pending[index].outcome = Some(Err(LiveFailure::Sealing(err.to_string())));
                continue;
            }
            if let Some(participation) = applied.participation {
                batch.participations.push(participation);
            }
            state.apply_all(&applied);
            let mut first_seq = seq + 1;
            let mut last_seq = self.seq.max(seq);
            let mut count = 0;
            for event in applied.events {
                // A ballot joins the batch's pending ballots event of its poll.
                if let Some(&at) = event.poll().and_then(|poll| open_ballots.get(&poll))
                    && emitted[at].event.absorb(&event)
                {
                    if count == 0 {
                        first_seq = emitted[at].seq;
                    }
                    last_seq = emitted[at].seq;
                    count += 1;
                    continue;
                }
                if let Some(poll) = event.poll() {
                    if matches!(event, Event::BallotsCast { .. }) {
                        open_ballots.insert(poll, emitted.len());
                    } else {
                        // Whatever happens to the poll next comes after its ballots so far.
                        open_ballots.remove(&poll);
                    }
                }
                seq += 1;
                last_seq = seq;
                count += 1;
                emitted.push(Emitted {
                    seq,
                    public: state.event_is_public(&event),
                    user: job.user,
                    event,
                });
            }
            let response = serde_json::json!({
                "seq": last_seq,
                "first_seq": first_seq,
                "events": count,
            });
            batch
                .commands
                .push((job.command_id, job.user, response.to_string()));
            pending[index].outcome = Some(Ok(response));
        }

        let decided = started.elapsed();
        let mut broadcasts = Vec::with_capacity(emitted.len());
        let mut audit = Vec::new();
        for e in emitted {
            let payload = serde_json::to_string(&e.event).unwrap_or_default();
            let json = Utf8Bytes::from(super::event_frame(e.seq, &payload));
            let public_json = e.public.then(|| match e.event.for_public() {
                Some(public) => Utf8Bytes::from(super::event_frame(
                    e.seq,
                    &serde_json::to_string(&public).unwrap_or_default(),
                )),
                None => json.clone(),
            });
            broadcasts.push(Arc::new(Broadcast {
                seq: e.seq,
                public_json,
                json,
            }));
            audit.extend(audit_event(e.user, &e.event));
            batch.events.push(StoredEvent {
                seq: e.seq,
                at: now,
                public: e.public,
                payload,
            });
        }
        let state_json = match serde_json::to_string(&state) {
            Ok(json) => json,
            Err(err) => {
                for p in pending {
                    let _ = p.job.reply.send(Err(LiveFailure::Store(StoreError::Corrupt(
                        err.to_string(),
                    ))));
                }
                return;
            }
        };
        let serialized = started.elapsed();
        let commands_written = !batch.commands.is_empty();
        let new_commands = batch.commands.clone();
        let result = if commands_written {
            self.commit(seq, state_json, batch, now).await
        } else {
            Ok(())
        };
        let committed = started.elapsed();
        match result {
            Ok(()) => {
                if commands_written {
                    self.stored_seq = Some(seq);
                }
                self.applied.extend(
                    new_commands
                        .into_iter()
                        .map(|(id, user, response)| (id, (user, response))),
                );
                self.seq = seq;
                self.state = Arc::new(state);
                // The tally is durable: the key of a closed secret poll goes before anyone hears.
                for poll in destroy_keys {
                    if let Err(err) = self.keys.destroy(poll) {
                        tracing::error!(%poll, error = %err, "could not destroy a poll key");
                    }
                }
                for p in pending {
                    let outcome = p.outcome.unwrap_or(Err(LiveFailure::Stopped));
                    let _ = p.job.reply.send(outcome);
                }
                for b in broadcasts {
                    let _ = self.events.send(b);
                }
                let sent = started.elapsed();
                if !audit.is_empty() {
                    let _ = self
                        .audit
                        .send(audit.into_iter().map(|e| (now, e)).collect());
                }
                tracing::debug!(
                    target: "plenum::live::batch",
                    size,
                    lookup_us = looked_up.as_micros() as u64,
                    decide_us = (decided - looked_up).as_micros() as u64,
                    serialize_us = (serialized - decided).as_micros() as u64,
                    commit_us = (committed - serialized).as_micros() as u64,
                    reply_us = (sent - committed).as_micros() as u64,
                    queue_us = (started.elapsed() - sent).as_micros() as u64,
                    "live batch"
                );
            }
            Err(err) => {
                tracing::error!(meeting = %self.meeting, error = %err, "live batch not committed");
                // Nothing was acknowledged; reload what is durable.
                if let Ok((state, stored)) = load_state(&self.db, self.meeting, self.rule_set).await
                {
                    self.state = Arc::new(state);
                    self.stored_seq = stored;
                    self.seq = stored.unwrap_or(0);
                }
                // The commit may have happened after all (a connection lost at the commit).
                if let Ok(applied) = applied_commands(&self.db, self.meeting).await {
                    self.applied = applied;
                }
                for p in pending {
                    let outcome = match p.outcome {
                        Some(Err(LiveFailure::Rule(rule))) => Err(LiveFailure::Rule(rule)),
                        _ => Err(LiveFailure::Store(StoreError::Unreachable(format!(
                            "the live batch was not committed: {err}"
                        )))),
                    };
                    let _ = p.job.reply.send(outcome);
                }
            }
        }
    }

    async fn commit(
        &self,
        seq: u64,
        state: String,
        batch: Batch,
        now: chrono::DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let txn = self.db.begin().await?;
        store::commit(&txn, self.meeting, self.stored_seq, seq, state, batch, now).await?;
        txn.commit().await?;
        Ok(())
    }

    /// Decrypts the poll's sealed ballots (stored and in this batch) and closes it.
    async fn close_secret(
        &self,
        state: &LiveState,
        poll: PollId,
        batch: &Batch,
        now: chrono::DateTime<Utc>,
    ) -> Result<Event, LiveFailure> {
        let p = state.poll(poll).ok_or(LiveError::PollNotFound)?;
        let cipher = self
            .keys
            .load(poll)
            .map_err(|e| LiveFailure::Sealing(e.to_string()))?
            .ok_or_else(|| LiveFailure::Sealing(format!("the key of poll {poll} is missing")))?;
        let mut sealed = store::sealed_ballots(&self.db, poll).await?;
        sealed.extend(
            batch
                .sealed_ballots
                .iter()
                .filter(|(id, _)| *id == poll)
                .map(|(_, s)| s.clone()),
        );
        let mut choices = Vec::with_capacity(sealed.len());
        for s in &sealed {
            let plain = cipher
                .open(poll.as_uuid().as_bytes(), s)
                .map_err(|e| LiveFailure::Sealing(e.to_string()))?;
            let text = String::from_utf8_lossy(&plain);
            let choice: BallotChoice = serde_json::from_str(text.trim())
                .map_err(|e| LiveFailure::Sealing(e.to_string()))?;
            choices.push(choice);
        }
        if choices.len() != p.voted.len() {
            return Err(LiveFailure::Sealing(format!(
                "{} sealed ballots but {} participations",
                choices.len(),
                p.voted.len()
            )));
        }
        let result = state.result_of(p, choices.iter().copied())?;
        Ok(Event::PollClosed {
            poll,
            result,
            at: now,
        })
    }
}

/// The audit entry of an event: every poll action, attendance change and declaration. For
/// ballots only "X voted", never what.
fn audit_event(user: UserId, event: &Event) -> Option<AuditEvent> {
    let (action, detail) = match event {
        Event::AttendanceChanged { person, status, .. } => (
            "live.attendance",
            serde_json::json!({"person": person, "status": status}),
        ),
        Event::ConflictDeclared { item, person, .. } => (
            "live.conflict_declared",
            serde_json::json!({"item": item, "person": person}),
        ),
        Event::PollCreated { poll } => (
            "poll.created",
            serde_json::json!({"poll": poll.id, "kind": poll.kind, "title": poll.title}),
        ),
        Event::PollOpened { poll, eligible, .. } => (
            "poll.opened",
            serde_json::json!({"poll": poll, "eligible": eligible.len()}),
        ),
        // One entry per poll and batch ("these members voted"), never what.
        Event::BallotsCast { poll, voters, .. } => (
            "poll.voted",
            serde_json::json!({"poll": poll, "voters": voters}),
        ),
        Event::BallotChanged { poll, voter, .. } => (
            "poll.vote_changed",
            serde_json::json!({"poll": poll, "voter": voter}),
        ),
        Event::PollClosed { poll, result, .. } => (
            "poll.closed",
            serde_json::json!({"poll": poll, "result": result}),
        ),
        Event::PollCancelled { poll, .. } => ("poll.cancelled", serde_json::json!({"poll": poll})),
        Event::LotDrawn { poll, lot } => (
            "poll.lot_drawn",
            serde_json::json!({"poll": poll, "lot": lot}),
        ),
        Event::MeetingStarted { .. } => ("live.started", serde_json::json!({})),
        Event::MeetingClosed { .. } => ("live.closed", serde_json::json!({})),
        _ => return None,
    };
    Some(AuditEvent {
        actor: Some(user),
        action: action.to_owned(),
        subject: match event {
            Event::BallotsCast { poll, .. } => Some(poll.to_string()),
            _ => None,
        },
        detail: detail.to_string(),
    })
}
