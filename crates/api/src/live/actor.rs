//! The meeting actor: group commit of live commands.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, SubsecRound, Utc};
use plenum_domain::{
    AgendaEntry, Applied, AuditEvent, BallotChoice, Command, CommandId, Event, LiveError,
    LiveState, MeetingId, Organization, OrganizationId, OrganizationKind, Person, PersonId, PollId,
    PollState, Roster, RosterMember, RuleSet, UserId,
};
use plenum_store::live::{self as store, Batch, StateParts, StoredEvent};
use plenum_store::{DatabaseConnection, StoreError, TransactionTrait, repo};
use rand::RngCore;
use tokio::sync::mpsc;

use super::ballot_box::{BallotBox, BallotBoxes};
use super::keys::PollKeys;
use super::{Broadcast, LeaseClock, Msg, Relay, Shared};

/// How many queued commands go into one transaction at most. Every batch writes the meeting's
/// whole state once (about 1.5 MB at a convention of 6,000), so a crowd voting at once is
/// better served by few large batches: 2,048 ballots are 8,192 bound values in the largest
/// insert, well below the limits of SQLite (32,766) and PostgreSQL (65,535).
pub(crate) const MAX_BATCH: usize = 2048;

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
    /// The ballot box of an open secret poll is gone (the machine restarted during the poll):
    /// the poll cannot be counted and must be cancelled and repeated.
    #[error("the ballots of this secret poll were lost when the server restarted")]
    BallotsLost,
    /// Several nodes: this node does not (or no longer) hold the meeting's lease.
    #[error("this node does not run the meeting's live session")]
    NotLeader,
    /// Several nodes: the node that runs the meeting refused the command with this problem.
    #[error("{}", .0.title)]
    Remote(Box<crate::Problem>),
}

impl LiveFailure {
    /// Several nodes: whether a forwarded command failed because the meeting may have moved to
    /// another node (rather than being refused by the rules).
    pub(crate) fn may_have_moved(&self) -> bool {
        match self {
            LiveFailure::NotLeader | LiveFailure::Stopped | LiveFailure::Store(_) => true,
            LiveFailure::Remote(problem) => problem.status == 503,
            _ => false,
        }
    }
}

pub(super) async fn fresh_state(
    db: &DatabaseConnection,
    meeting: MeetingId,
    rule_set: RuleSet,
    speaking_time_secs: u32,
) -> Result<LiveState, StoreError> {
    let m = repo::meetings::get_live(db, meeting).await?;
    let organization = repo::organizations::get_live(db, m.organization_id).await?;
    let day = m.start.date_naive();
    // A handful of queries however large the body (a convention's thousands of delegates).
    let seats: Vec<_> = repo::memberships::list_by_organization(db, organization.id, false)
        .await?
        .into_iter()
        .filter(|membership| membership.is_active_on(day))
        .collect();
    let ids: Vec<PersonId> = seats.iter().map(|s| s.person_id).collect();
    let persons: HashMap<PersonId, Person> = repo::persons::list_by_ids(db, &ids)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    let fractions = fractions_of(db, &ids, day).await?;
    let mut members = Vec::new();
    for membership in seats {
        let person = persons
            .get(&membership.person_id)
            .ok_or_else(|| StoreError::NotFound {
                entity: "person",
                id: membership.person_id.to_string(),
            })?;
        members.push(RosterMember {
            person: person.id,
            name: person.full_name(),
            role: membership.role,
            voting_right: membership.voting_right,
            fraction: fractions.get(&person.id).cloned(),
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
    let mut state = LiveState::new(
        meeting,
        Roster {
            organization: organization.id,
            organization_kind: organization.kind,
            statutory_seats: organization.statutory_seats.unwrap_or(members.len() as u32),
            rule_set,
            members,
        },
        agenda,
    );
    state.scheduled = Some(m.start);
    state.settings.speaking_time_secs = speaking_time_secs;
    if let Some(settings) = plenum_store::chair::settings(db, meeting).await? {
        state.settings = settings;
    }
    Ok(state)
}

/// Per person: the short name (else the name) of the fraction they belong to on `day`, else of
/// their group, for the roll call of named polls. Persons in neither are left out.
async fn fractions_of(
    db: &DatabaseConnection,
    persons: &[PersonId],
    day: chrono::NaiveDate,
) -> Result<HashMap<PersonId, String>, StoreError> {
    let memberships: Vec<_> = repo::memberships::list_by_persons(db, persons, false)
        .await?
        .into_iter()
        .filter(|m| m.is_active_on(day))
        .collect();
    let mut org_ids: Vec<OrganizationId> = memberships.iter().map(|m| m.organization_id).collect();
    org_ids.sort_by_key(|id| id.as_uuid());
    org_ids.dedup();
    let organizations: HashMap<OrganizationId, Organization> =
        repo::organizations::list_by_ids(db, &org_ids)
            .await?
            .into_iter()
            .map(|o| (o.id, o))
            .collect();
    let mut found: HashMap<PersonId, (bool, String)> = HashMap::new();
    for membership in memberships {
        let Some(org) = organizations.get(&membership.organization_id) else {
            continue;
        };
        if org.meta.is_deleted() {
            continue;
        }
        let is_fraction = match org.kind {
            OrganizationKind::Fraction => true,
            OrganizationKind::Group => false,
            _ => continue,
        };
        let entry = found.get(&membership.person_id);
        if entry.is_none_or(|(f, _)| is_fraction && !f) {
            let label = org.short_name.as_ref().unwrap_or(&org.name).to_string();
            found.insert(membership.person_id, (is_fraction, label));
        }
    }
    Ok(found
        .into_iter()
        .map(|(person, (_, label))| (person, label))
        .collect())
}

/// What a batch writes besides its events: the meeting's state and settings.
#[derive(Debug, Default)]
struct MeetingWrites {
    started: bool,
    closed: Option<DateTime<Utc>>,
    settings: Option<plenum_domain::SessionSettings>,
}

impl MeetingWrites {
    fn note(&mut self, event: &Event) {
        match event {
            Event::MeetingStarted { .. } => self.started = true,
            Event::MeetingClosed { at } => self.closed = Some(*at),
            Event::SessionSettingsChanged { settings } => self.settings = Some(*settings),
            _ => {}
        }
    }
}

async fn load_state(
    db: &DatabaseConnection,
    meeting: MeetingId,
    rule_set: RuleSet,
    speaking_time_secs: u32,
) -> Result<Loaded, LiveFailure> {
    match store::load_parts(db, meeting).await? {
        Some((seq, parts)) => {
            let apart = parts.apart();
            let state = parts
                .into_state()
                .map_err(|err| StoreError::Corrupt(format!("live state of {meeting}: {err}")))?;
            Ok(Loaded {
                state,
                stored_seq: Some(seq),
                apart,
            })
        }
        None => Ok(Loaded {
            state: fresh_state(db, meeting, rule_set, speaking_time_secs).await?,
            stored_seq: None,
            apart: false,
        }),
    }
}

/// A live state as loaded.
struct Loaded {
    state: LiveState,
    /// The seq of the stored snapshot (`None`: nothing stored yet).
    stored_seq: Option<u64>,
    /// Whether the stored snapshot keeps its parts apart (see [`StateParts`]).
    apart: bool,
}

/// Starts the meeting's actor from the stored state. `lease`: several nodes, the lease this
/// node holds (the actor stops writing when it no longer holds).
pub(super) async fn start(
    shared: &Shared,
    meeting: MeetingId,
    rule_set: RuleSet,
    speaking_time_secs: u32,
    relay: Arc<Relay>,
    lease: Option<Arc<LeaseClock>>,
) -> Result<mpsc::Sender<Msg>, LiveFailure> {
    let db = shared.db.clone();
    let Loaded {
        state,
        stored_seq,
        apart,
    } = load_state(&db, meeting, rule_set, speaking_time_secs).await?;
    let applied = applied_commands(&db, meeting).await?;
    let (tx, rx) = mpsc::channel(4096);
    let db_for_audit = db.clone();
    let seq = stored_seq.unwrap_or(0);
    if lease.is_none() {
        // One node: nobody else writes, and the relay's subscribers are this actor's.
        relay.skip_to(seq);
    }
    let mut actor = Actor {
        db,
        boxes: shared.boxes.clone(),
        legacy_keys: shared.legacy_keys.clone(),
        ballot_boxes: HashMap::new(),
        meeting,
        rule_set,
        speaking_time_secs,
        seq,
        stored_seq,
        parts_apart: apart,
        state: Arc::new(state),
        relay,
        audit: audit_writer(db_for_audit, shared.audit.clone()),
        applied,
        lease,
        stopped: false,
    };
    actor.recover_boxes(&HashMap::new()).await?;
    tokio::spawn(actor.run(rx));
    Ok(tx)
}

struct Actor {
    db: DatabaseConnection,
    boxes: BallotBoxes,
    /// Where versions before the ballot boxes kept a key per secret poll (converted at start).
    legacy_keys: PollKeys,
    /// The committed ballot box of every open secret poll that has one (a poll whose box was
    /// lost has none here).
    ballot_boxes: HashMap<PollId, BallotBox>,
    meeting: MeetingId,
    rule_set: RuleSet,
    /// The body's default speaking time (configuration).
    speaking_time_secs: u32,
    /// The seq of the last event in `state`.
    seq: u64,
    /// The seq of the stored snapshot (`None`: nothing stored yet).
    stored_seq: Option<u64>,
    /// Whether the stored snapshot keeps the roster's members and the attendance apart (see
    /// [`StateParts`]); until it does, every write writes them.
    parts_apart: bool,
    /// The state as last committed, which is also what the last write wrote.
    state: Arc<LiveState>,
    /// Where committed events go to subscribers.
    relay: Arc<Relay>,
    /// Several nodes: the lease of this node; nothing is written once it no longer holds.
    lease: Option<Arc<LeaseClock>>,
    /// Set when the lease was lost: the actor ends.
    stopped: bool,
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

/// An audit entry of the batch being built: written out when its command is decided, or, for
/// ballots (which later commands of the batch may join), the entry of the combined event at
/// this index of `emitted`.
enum AuditSlot {
    Entry(AuditEvent),
    Ballots(usize),
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
                    Msg::Job(job) => jobs.push(*job),
                }
                if jobs.len() < MAX_BATCH {
                    msg = rx.try_recv().ok();
                }
            }
            if !jobs.is_empty() {
                self.process(jobs).await;
            }
            if self.stopped {
                break;
            }
        }
    }

    /// Whether this actor may write (one node: always; several: while the lease holds).
    fn holds_lease(&self) -> bool {
        self.lease.as_ref().is_none_or(|lease| lease.holds())
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
        // The ballot boxes this batch changes (written as a whole before the commit), and the
        // boxes of polls that close or are cancelled in it (removed after the commit).
        let mut staged: HashMap<PollId, BallotBox> = HashMap::new();
        let mut finished_boxes: Vec<PollId> = Vec::new();
        let now = Utc::now().trunc_subsecs(6);
        let mut in_batch: HashMap<CommandId, usize> = HashMap::new();
        // The batch's audit entries in the order its commands were decided.
        let mut audit: Vec<AuditSlot> = Vec::new();

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
            // The clerk may have moved the meeting since the state was built: a start is checked
            // against the scheduled day as stored now.
            if matches!(job.command, Command::StartMeeting { .. })
                && let Ok(meeting) = repo::meetings::get_live(&self.db, self.meeting).await
            {
                state.scheduled = Some(meeting.start);
            }
            let decided = state.decide(&job.actor, &job.command, now, rand::rngs::OsRng.next_u64());
            let mut applied: Applied = match decided {
                Ok(applied) => applied,
                Err(err) => {
                    pending[index].outcome = Some(Err(LiveFailure::Rule(err)));
                    continue;
                }
            };
            // Secret polls: the ballot goes into the poll's box, never into the database.
            if let Some(ballot) = applied.secret_ballot {
                let Some((_, voter)) = applied.participation else {
                    pending[index].outcome = Some(Err(LiveFailure::Sealing(
                        "a secret ballot without its voter".into(),
                    )));
                    continue;
                };
                let Some(ballot_box) = self.staged_box(&mut staged, ballot.poll) else {
                    pending[index].outcome = Some(Err(LiveFailure::BallotsLost));
                    continue;
                };
                ballot_box.cast(voter, &ballot.choice);
            }
            if let Some(poll) = applied.needs_secret_tally {
                let tallied = match self.staged_box(&mut staged, poll) {
                    Some(ballot_box) => close_secret(&state, poll, ballot_box, now),
                    None => Err(LiveFailure::BallotsLost),
                };
                match tallied {
                    Ok(event) => {
                        applied.events.push(event);
                        finished_boxes.push(poll);
                    }
                    Err(err) => {
                        pending[index].outcome = Some(Err(err));
                        continue;
                    }
                }
            }
            if let Command::OpenPoll { poll, .. } = &job.command
                && state.poll(*poll).is_some_and(|p| p.is_secret())
            {
                // An empty box from the start: a box missing later means it was lost.
                staged.insert(*poll, BallotBox::default());
            }
            for event in &applied.events {
                if let Event::PollCancelled { poll, .. } = event
                    && state.poll(*poll).is_some_and(|p| p.is_secret())
                {
                    finished_boxes.push(*poll);
                }
            }
            if let Some(participation) = applied.participation {
                batch.participations.push(participation);
            }
            state.apply_all(&applied);
            let mut first_seq = seq + 1;
            let mut last_seq = self.seq.max(seq);
            let mut count = 0;
            for event in applied.events {
                // Audited per command, in the order decided (attendance too: who checked in,
                // who entered it, before it may join a combined event below). Ballots are
                // audited as the batch's combined event, where that event first appears.
                if !matches!(event, Event::BallotsCast { .. }) {
                    audit.extend(audit_event(Some(job.user), &event).map(AuditSlot::Entry));
                }
                // A ballot joins the batch's pending ballots event of its poll; an attendance
                // change joins the one just before it (a crowd checking in at once becomes one
                // event, not one per member for every client).
                let joins = match event.poll() {
                    Some(poll) => open_ballots.get(&poll).copied(),
                    None if event.is_attendance() => emitted
                        .len()
                        .checked_sub(1)
                        .filter(|&last| emitted[last].event.is_attendance()),
                    None => None,
                };
                if let Some(at) = joins
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
                if matches!(event, Event::BallotsCast { .. }) {
                    audit.push(AuditSlot::Ballots(emitted.len()));
                }
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
        let mut writes = MeetingWrites::default();
        let mut ballots_audited: HashMap<usize, AuditEvent> = HashMap::new();
        for (index, e) in emitted.into_iter().enumerate() {
            writes.note(&e.event);
            // Stored and sent as short as it goes (a named result as its roll).
            let payload = match e.event.compact(&state) {
                Some(compact) => serde_json::to_string(&compact),
                None => serde_json::to_string(&e.event),
            }
            .unwrap_or_default();
            broadcasts.push(Arc::new(Broadcast::new(
                e.seq,
                &payload,
                Some(&e.event),
                e.public,
            )));
            if matches!(e.event, Event::BallotsCast { .. })
                && let Some(entry) = audit_event(Some(e.user), &e.event)
            {
                ballots_audited.insert(index, entry);
            }
            batch.events.push(StoredEvent {
                seq: e.seq,
                at: now,
                public: e.public,
                payload,
            });
        }
        let state_json = match self.parts(&mut state) {
            Ok(parts) => parts,
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
        if !self.holds_lease() {
            // Several nodes: another node may run the meeting now. Nothing is written (not
            // even a ballot box); the forwarding node sends the commands again to whoever
            // holds the lease.
            self.stopped = true;
            for p in pending {
                let _ = p.job.reply.send(Err(LiveFailure::NotLeader));
            }
            return;
        }
        // The boxes first, then the participations: a crash in between leaves voters in a box
        // that the database does not know yet, and `recover_boxes` rolls them forward.
        let result = match self.store_boxes(&staged) {
            Err(err) => Err(StoreError::Unreachable(format!(
                "the ballot box could not be written: {err}"
            ))),
            Ok(()) if commands_written => self.commit(seq, state_json, batch, writes, now).await,
            Ok(()) => Ok(()),
        };
        let committed = started.elapsed();
        match result {
            Ok(()) => {
                if commands_written {
                    self.stored_seq = Some(seq);
                    self.parts_apart = true;
                }
                self.applied.extend(
                    new_commands
                        .into_iter()
                        .map(|(id, user, response)| (id, (user, response))),
                );
                self.seq = seq;
                self.state = Arc::new(state);
                self.ballot_boxes.extend(staged);
                // The tally is durable: the box of a closed secret poll goes before anyone hears.
                for poll in finished_boxes {
                    self.ballot_boxes.remove(&poll);
                    if let Err(err) = self.boxes.remove(poll) {
                        tracing::error!(%poll, error = %err, "could not remove a ballot box");
                    }
                }
                // The acks first, straight into the connections' queues where they can: they
                // must not wait behind the fan-out of the batch's events.
                for p in pending {
                    let outcome = p.outcome.unwrap_or(Err(LiveFailure::Stopped));
                    if let (Ok(result), Some(ack)) = (&outcome, &p.job.ack) {
                        ack.send(result);
                    }
                    let _ = p.job.reply.send(outcome);
                }
                for b in broadcasts {
                    self.relay.publish(b);
                }
                let sent = started.elapsed();
                let audit: Vec<(DateTime<Utc>, AuditEvent)> = audit
                    .into_iter()
                    .filter_map(|slot| match slot {
                        AuditSlot::Entry(entry) => Some(entry),
                        AuditSlot::Ballots(index) => ballots_audited.remove(&index),
                    })
                    .map(|entry| (now, entry))
                    .collect();
                if !audit.is_empty() {
                    let _ = self.audit.send(audit);
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
            Err(err) if !self.holds_lease() => {
                // Several nodes: the lease went while the batch was committing (the fence
                // refused it, or the database is gone). Another node takes over from what is
                // durable; this actor ends without touching the boxes again.
                tracing::warn!(meeting = %self.meeting, error = %err, "live batch not committed; the lease is gone");
                self.stopped = true;
                for p in pending {
                    let _ = p.job.reply.send(Err(LiveFailure::NotLeader));
                }
            }
            Err(err) => {
                tracing::error!(meeting = %self.meeting, error = %err, "live batch not committed");
                // Nothing was acknowledged; reload what is durable.
                if let Ok(loaded) = load_state(
                    &self.db,
                    self.meeting,
                    self.rule_set,
                    self.speaking_time_secs,
                )
                .await
                {
                    self.state = Arc::new(loaded.state);
                    self.stored_seq = loaded.stored_seq;
                    self.parts_apart = loaded.apart;
                    self.seq = loaded.stored_seq.unwrap_or(0);
                }
                // The commit may have happened after all (a connection lost at the commit).
                if let Ok(applied) = applied_commands(&self.db, self.meeting).await {
                    self.applied = applied;
                }
                // Put back the boxes that match what is durable.
                let before = std::mem::take(&mut self.ballot_boxes);
                if let Err(err) = self.recover_boxes(&before).await {
                    tracing::error!(meeting = %self.meeting, error = %err, "ballot boxes not recovered");
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

    /// The state split for writing: a part goes along when it changed since the last write
    /// (`self.state`) or is not yet kept apart. Comparing costs far less than writing: at a
    /// convention the two parts are about a megabyte that a batch of ballots does not change.
    fn parts(&self, state: &mut LiveState) -> serde_json::Result<StateParts> {
        let members = !self.parts_apart || state.roster.members != self.state.roster.members;
        let attendance = !self.parts_apart || state.attendance != self.state.attendance;
        StateParts::split(state, members, attendance)
    }

    async fn commit(
        &self,
        seq: u64,
        state: StateParts,
        batch: Batch,
        writes: MeetingWrites,
        now: chrono::DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let txn = self.db.begin().await?;
        store::commit(&txn, self.meeting, self.stored_seq, seq, state, batch, now).await?;
        // The meeting row follows the session in the same transaction.
        if let Some(settings) = &writes.settings {
            plenum_store::chair::save_settings(&txn, self.meeting, settings, now).await?;
        }
        if writes.started {
            plenum_store::chair::meeting_started(&txn, self.meeting).await?;
        }
        if let Some(at) = writes.closed {
            plenum_store::chair::meeting_closed(&txn, self.meeting, at).await?;
        }
        if self.lease.is_some() {
            // Several nodes: the others read the new events once this commits.
            plenum_store::lease::notify(
                &txn,
                plenum_store::lease::LIVE_CHANNEL,
                &format!("{} {seq}", self.meeting),
            )
            .await?;
        }
        let commit = std::time::Instant::now();
        txn.commit().await?;
        tracing::debug!(
            target: "plenum::live::commit",
            commit_us = commit.elapsed().as_micros() as u64,
            "live batch committed"
        );
        Ok(())
    }

    /// The box of `poll` as this batch changes it: staged already, or a copy of the committed
    /// one. `None` when the poll has no box (lost).
    fn staged_box<'a>(
        &self,
        staged: &'a mut HashMap<PollId, BallotBox>,
        poll: PollId,
    ) -> Option<&'a mut BallotBox> {
        match staged.entry(poll) {
            std::collections::hash_map::Entry::Occupied(entry) => Some(entry.into_mut()),
            std::collections::hash_map::Entry::Vacant(entry) => {
                Some(entry.insert(self.ballot_boxes.get(&poll)?.clone()))
            }
        }
    }

    /// Writes the boxes a batch changed. If one fails, those written before it are put back.
    fn store_boxes(&self, staged: &HashMap<PollId, BallotBox>) -> std::io::Result<()> {
        let mut written = Vec::new();
        for (poll, ballot_box) in staged {
            if let Err(err) = self.boxes.store(*poll, ballot_box) {
                for poll in written {
                    let restored = match self.ballot_boxes.get(&poll) {
                        Some(before) => self.boxes.store(poll, before),
                        None => self.boxes.remove(poll),
                    };
                    if let Err(err) = restored {
                        tracing::error!(%poll, error = %err, "could not restore a ballot box");
                    }
                }
                return Err(err);
            }
            written.push(*poll);
        }
        Ok(())
    }

    /// Brings the ballot boxes in line with the durable state, at start and after a failed
    /// commit. For every open secret poll the box must hold exactly the voters the database
    /// records: `before` (the boxes as this actor had them) or the file on disk. A file with
    /// more voters is what a crash between writing the box and committing leaves: those
    /// ballots were cast, so their participations are rolled forward. Boxes of polls that are
    /// no longer open are removed. A poll whose box is gone (the machine restarted) keeps none,
    /// so it cannot be counted and the chair has to repeat it.
    async fn recover_boxes(
        &mut self,
        before: &HashMap<PollId, BallotBox>,
    ) -> Result<(), LiveFailure> {
        let secret: Vec<(PollId, PollState)> = self
            .state
            .polls
            .iter()
            .filter(|p| p.is_secret())
            .map(|p| (p.id, p.state))
            .collect();
        self.ballot_boxes.clear();
        for (poll, poll_state) in secret {
            if poll_state != PollState::Open {
                self.boxes
                    .remove(poll)
                    .map_err(|e| LiveFailure::Sealing(e.to_string()))?;
                continue;
            }
            let voted = self
                .state
                .poll(poll)
                .map(|p| p.voted.clone())
                .unwrap_or_default();
            if let Some(kept) = before.get(&poll).filter(|b| b.voters == voted) {
                self.boxes
                    .store(poll, kept)
                    .map_err(|e| LiveFailure::Sealing(e.to_string()))?;
                self.ballot_boxes.insert(poll, kept.clone());
                continue;
            }
            let on_disk = match self.boxes.load(poll) {
                Ok(Some(found)) => Some(found),
                Ok(None) => self.convert_legacy(poll, &voted).await?,
                Err(err) => {
                    tracing::error!(%poll, error = %err, "unreadable ballot box");
                    None
                }
            };
            match on_disk {
                Some(found) if found.voters == voted => {
                    self.ballot_boxes.insert(poll, found);
                }
                Some(found) if found.voters.is_superset(&voted) => {
                    let missing: Vec<PersonId> = found.voters.difference(&voted).copied().collect();
                    self.roll_forward(poll, missing, found.voters.len() as u32)
                        .await?;
                    self.ballot_boxes.insert(poll, found);
                }
                None if voted.is_empty() => {
                    let empty = BallotBox::default();
                    self.boxes
                        .store(poll, &empty)
                        .map_err(|e| LiveFailure::Sealing(e.to_string()))?;
                    self.ballot_boxes.insert(poll, empty);
                }
                _ => {
                    tracing::error!(
                        meeting = %self.meeting, %poll,
                        "the ballot box of an open secret poll is lost; the poll must be repeated"
                    );
                }
            }
        }
        Ok(())
    }

    /// Records the participations of voters whose ballots are in the box but whose batch was
    /// not committed (the process stopped in between): one `ballots_cast` event, as if the
    /// batch had committed.
    async fn roll_forward(
        &mut self,
        poll: PollId,
        voters: Vec<PersonId>,
        voted: u32,
    ) -> Result<(), LiveFailure> {
        let Some(p) = self.state.poll(poll) else {
            return Ok(());
        };
        let event = Event::BallotsCast {
            poll,
            voters: voters.clone(),
            voted,
            eligible: p.eligible.len() as u32,
            interim: None,
        };
        let public = self.state.event_is_public(&event);
        let mut state = (*self.state).clone();
        state.apply(&event);
        let seq = self.seq + 1;
        let now = Utc::now().trunc_subsecs(6);
        let payload = serde_json::to_string(&event).unwrap_or_default();
        let state_json = self
            .parts(&mut state)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let batch = Batch {
            events: vec![StoredEvent {
                seq,
                at: now,
                public,
                payload: payload.clone(),
            }],
            participations: voters.iter().map(|v| (poll, *v)).collect(),
            ..Batch::default()
        };
        self.commit(seq, state_json, batch, MeetingWrites::default(), now)
            .await?;
        tracing::warn!(
            meeting = %self.meeting, %poll, voters = voters.len(),
            "ballots whose commit was interrupted were rolled forward"
        );
        self.stored_seq = Some(seq);
        self.parts_apart = true;
        self.seq = seq;
        self.state = Arc::new(state);
        self.relay.publish(Arc::new(Broadcast::new(
            seq,
            &payload,
            Some(&event),
            public,
        )));
        if let Some(entry) = audit_event(None, &event) {
            let _ = self.audit.send(vec![(now, entry)]);
        }
        Ok(())
    }

    /// A secret poll that was open when a version before the ballot boxes stopped: its sealed
    /// ballots and key file become a box (when they match the participations), and both go.
    async fn convert_legacy(
        &self,
        poll: PollId,
        voted: &std::collections::BTreeSet<PersonId>,
    ) -> Result<Option<BallotBox>, LiveFailure> {
        let Some(cipher) = self
            .legacy_keys
            .load(poll)
            .map_err(|e| LiveFailure::Sealing(e.to_string()))?
        else {
            return Ok(None);
        };
        let sealed = store::sealed_ballots(&self.db, poll).await?;
        if sealed.len() != voted.len() {
            return Ok(None);
        }
        let mut converted = BallotBox {
            voters: voted.clone(),
            ..BallotBox::default()
        };
        for s in &sealed {
            let plain = cipher
                .open(poll.as_uuid().as_bytes(), s)
                .map_err(|e| LiveFailure::Sealing(e.to_string()))?;
            let choice: BallotChoice = serde_json::from_str(String::from_utf8_lossy(&plain).trim())
                .map_err(|e| LiveFailure::Sealing(e.to_string()))?;
            let key = serde_json::to_string(&choice).unwrap_or_default();
            *converted.counts.entry(key).or_insert(0) += 1;
        }
        self.boxes
            .store(poll, &converted)
            .map_err(|e| LiveFailure::Sealing(e.to_string()))?;
        store::purge_sealed_ballots(&self.db, poll).await?;
        if let Err(err) = self.legacy_keys.destroy(poll) {
            tracing::error!(%poll, error = %err, "could not destroy a legacy poll key");
        }
        Ok(Some(converted))
    }
}

/// Closes a secret poll with the tally of its box, which must hold exactly its voters.
fn close_secret(
    state: &LiveState,
    poll: PollId,
    ballot_box: &BallotBox,
    now: chrono::DateTime<Utc>,
) -> Result<Event, LiveFailure> {
    let p = state.poll(poll).ok_or(LiveError::PollNotFound)?;
    if ballot_box.voters != p.voted || ballot_box.len() != p.voted.len() {
        return Err(LiveFailure::Sealing(format!(
            "{} ballots in the box but {} participations",
            ballot_box.len(),
            p.voted.len()
        )));
    }
    let ballots = ballot_box
        .ballots()
        .map_err(|e| LiveFailure::Sealing(e.to_string()))?;
    let result = state.result_of(p, ballots.into_iter())?;
    Ok(Event::PollClosed {
        poll,
        result,
        at: now,
    })
}

/// The audit entry of an event: every poll action, attendance change and declaration. For
/// ballots only "X voted", never what.
fn audit_event(user: Option<UserId>, event: &Event) -> Option<AuditEvent> {
    let (action, detail) = match event {
        // With the time it happened (the chair may enter it after the fact).
        Event::AttendanceChanged {
            person, status, at, ..
        } => (
            "live.attendance",
            serde_json::json!({"person": person, "status": status, "at": at}),
        ),
        // One entry for "alle als anwesend", with the count and who.
        Event::AttendanceBulkChanged {
            persons,
            status,
            at,
            ..
        } => (
            "live.attendance_bulk",
            serde_json::json!({"count": persons.len(), "persons": persons, "status": status, "at": at}),
        ),
        Event::ConflictDeclared { item, person, .. } => (
            "live.conflict_declared",
            serde_json::json!({"item": item, "person": person}),
        ),
        Event::PollCreated { poll } => (
            "poll.created",
            serde_json::json!({"poll": poll.id, "kind": poll.kind, "title": poll.title, "motion": poll.motion}),
        ),
        Event::PollOpened {
            poll,
            eligible,
            ineligible,
            below_quorum,
            ..
        } => (
            "poll.opened",
            // Who could not vote and why, fixed at opening (conflicts of interest, absence, …).
            serde_json::json!({
                "poll": poll,
                "eligible": eligible.len(),
                "ineligible": ineligible.iter().map(|(person, reason)| serde_json::json!({"person": person, "reason": reason})).collect::<Vec<_>>(),
                "below_quorum": below_quorum,
            }),
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
        // The member's own open vote, which the minutes will record.
        Event::VoteRecordRequested {
            poll,
            person,
            choice,
            ..
        } => (
            "poll.vote_record_requested",
            serde_json::json!({"poll": poll, "person": person, "choice": choice}),
        ),
        Event::PollClosed { poll, result, .. } => (
            "poll.closed",
            serde_json::json!({"poll": poll, "result": result}),
        ),
        Event::PollCancelled { poll, reason, .. } => (
            "poll.cancelled",
            serde_json::json!({"poll": poll, "reason": reason}),
        ),
        Event::QuorumDeclared { declaration } => (
            "live.quorum_declared",
            serde_json::json!({
                "quorate": declaration.quorate,
                "present": declaration.count.present_voting,
                "required": declaration.count.required,
                "statutory": declaration.count.statutory,
            }),
        ),
        Event::QuorumDoubted { doubt } => (
            "live.quorum_doubted",
            serde_json::json!({
                "person": doubt.person,
                "present": doubt.count.present_voting,
                "required": doubt.count.required,
                "statutory": doubt.count.statutory,
            }),
        ),
        Event::AmendmentFiled { amendment } => (
            "amendment.filed",
            serde_json::json!({
                "amendment": amendment.id,
                "item": amendment.item,
                "kind": amendment.kind,
                // No title: an amendment to a non-public item is non-public text.
                "filed_by": amendment.filed_by,
                "on_behalf_of": amendment.on_behalf_of,
            }),
        ),
        Event::AmendmentWithdrawn { amendment, .. } => (
            "amendment.withdrawn",
            serde_json::json!({"amendment": amendment}),
        ),
        Event::AmendmentsOrdered { item, order } => (
            "amendment.ordered",
            serde_json::json!({"item": item, "order": order.order, "reason": order.reason}),
        ),
        Event::SessionSettingsChanged { settings } => (
            "live.settings_changed",
            serde_json::json!({
                "repeat_meeting": settings.repeat_meeting,
                "speaking_time_secs": settings.speaking_time_secs,
            }),
        ),
        Event::LotDrawn { poll, lot } => (
            "poll.lot_drawn",
            serde_json::json!({"poll": poll, "lot": lot}),
        ),
        Event::StandInSet { stand_in, .. } => (
            "live.stand_in_set",
            serde_json::json!({"member": stand_in.member, "substitute": stand_in.substitute}),
        ),
        Event::StandInEnded {
            member,
            substitute,
            reason,
            ..
        } => (
            "live.stand_in_ended",
            serde_json::json!({"member": member, "substitute": substitute, "reason": reason}),
        ),
        Event::MeetingStarted { .. } => ("live.started", serde_json::json!({})),
        Event::MeetingClosed { .. } => ("live.closed", serde_json::json!({})),
        _ => return None,
    };
    Some(AuditEvent {
        actor: user,
        action: action.to_owned(),
        subject: match event {
            Event::BallotsCast { poll, .. } => Some(poll.to_string()),
            _ => None,
        },
        detail: detail.to_string(),
    })
}
