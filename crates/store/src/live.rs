//! Persistence of live sessions. One batch of commands is one transaction: the new events with
//! their gap-free sequence numbers, the state snapshot (guarded by the previous `seq`, so two
//! writers can never both append), participations (a primary key makes each vote count once)
//! and the command ids for idempotent retries. Secret ballots are never written here: they live
//! in the ballot boxes of `plenum-api` (see `live/ballot_box.rs`); the `secret_ballot` table is
//! only read to convert polls left open by older versions.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use plenum_domain::{
    AgendaItemId, Attendance, CommandId, Event, LiveState, MeetingId, PersonId, PollId, UserId,
};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Statement,
};

use crate::entity::{live_command, live_session, meeting_event, poll_participation, secret_ballot};
use crate::{Result, StoreError};

/// A stored event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    pub seq: u64,
    pub at: DateTime<Utc>,
    /// Whether anonymous viewers may see it.
    pub public: bool,
    /// The event as JSON.
    pub payload: String,
}

/// A meeting's live state as stored. The roster's members and the attendance are kept apart
/// from the rest (`state`): every batch of commands writes `state` again, but those two parts
/// only when they changed. At a convention they are most of the state (the roster is fixed
/// when the session starts; the attendance does not change while a poll runs), so a batch of
/// ballots no longer writes a megabyte that did not change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateParts {
    /// The state as JSON; where a part is kept apart, that part is empty here.
    pub state: String,
    /// The roster's members (a JSON array), kept apart. Loaded: `None` if inside `state` (as
    /// versions before kept it). Written: `None` leaves the stored column as it is.
    pub members: Option<String>,
    /// The attendance (a JSON object), kept apart; `None` as for `members`.
    pub attendance: Option<String>,
}

impl StateParts {
    /// `state` split for writing. A part is written only where `write_members` or
    /// `write_attendance` says so (it changed, or it is not yet kept apart); else its column
    /// stays as it is. `state` is as before when this returns.
    pub fn split(
        state: &mut LiveState,
        write_members: bool,
        write_attendance: bool,
    ) -> serde_json::Result<StateParts> {
        let members = std::mem::take(&mut state.roster.members);
        let attendance = std::mem::take(&mut state.attendance);
        let parts = (|| {
            Ok(StateParts {
                state: serde_json::to_string(&*state)?,
                members: write_members
                    .then(|| serde_json::to_string(&members))
                    .transpose()?,
                attendance: write_attendance
                    .then(|| serde_json::to_string(&attendance))
                    .transpose()?,
            })
        })();
        state.roster.members = members;
        state.attendance = attendance;
        parts
    }

    /// The whole state, its parts put back.
    pub fn into_state(self) -> serde_json::Result<LiveState> {
        let mut state: LiveState = serde_json::from_str(&self.state)?;
        if let Some(members) = &self.members {
            state.roster.members = serde_json::from_str(members)?;
        }
        if let Some(attendance) = &self.attendance {
            state.attendance = serde_json::from_str(attendance)?;
        }
        Ok(state)
    }

    /// Only the attendance, without reading the rest of the state.
    pub fn attendance(&self) -> serde_json::Result<BTreeMap<PersonId, Attendance>> {
        #[derive(serde::Deserialize)]
        struct Inside {
            attendance: BTreeMap<PersonId, Attendance>,
        }
        match &self.attendance {
            Some(apart) => serde_json::from_str(apart),
            None => Ok(serde_json::from_str::<Inside>(&self.state)?.attendance),
        }
    }

    /// Whether both parts are kept apart (else the next write must write them).
    pub fn apart(&self) -> bool {
        self.members.is_some() && self.attendance.is_some()
    }
}

impl From<live_session::Model> for StateParts {
    fn from(m: live_session::Model) -> Self {
        StateParts {
            state: m.state,
            members: m.members,
            attendance: m.attendance,
        }
    }
}

/// The stored snapshot of a meeting's live state, as stored (see [`load`] for the whole state).
pub async fn load_parts(
    db: &impl ConnectionTrait,
    meeting: MeetingId,
) -> Result<Option<(u64, StateParts)>> {
    Ok(live_session::Entity::find_by_id(meeting.as_uuid())
        .one(db)
        .await?
        .map(|m| (u64::try_from(m.seq).unwrap_or(0), StateParts::from(m))))
}

/// The snapshot of a meeting's live state, whole.
pub async fn load(
    db: &impl ConnectionTrait,
    meeting: MeetingId,
) -> Result<Option<(u64, LiveState)>> {
    let Some((seq, parts)) = load_parts(db, meeting).await? else {
        return Ok(None);
    };
    let state = parts
        .into_state()
        .map_err(|err| StoreError::Corrupt(format!("live state of {meeting}: {err}")))?;
    Ok(Some((seq, state)))
}

/// The seq of the meeting's stored snapshot (`None`: nothing stored yet), without the state.
pub async fn stored_seq(db: &impl ConnectionTrait, meeting: MeetingId) -> Result<Option<u64>> {
    Ok(live_session::Entity::find_by_id(meeting.as_uuid())
        .select_only()
        .column(live_session::Column::Seq)
        .into_tuple::<i64>()
        .one(db)
        .await?
        .map(|seq| u64::try_from(seq).unwrap_or(0)))
}

/// The stored live states of these meetings, as stored, for those that have one.
pub async fn load_many(
    db: &impl ConnectionTrait,
    meetings: &[MeetingId],
) -> Result<Vec<(MeetingId, StateParts)>> {
    if meetings.is_empty() {
        return Ok(Vec::new());
    }
    Ok(live_session::Entity::find()
        .filter(live_session::Column::MeetingId.is_in(meetings.iter().map(|m| m.as_uuid())))
        .all(db)
        .await?
        .into_iter()
        .map(|m| (m.meeting_id.into(), StateParts::from(m)))
        .collect())
}

/// When each agenda item of these meetings was discussed, from their event logs: from the first
/// time the chair made it the current item to the last time the session moved on from it (to
/// another item, or closed). Only for closed meetings: while a session runs the times are not
/// final. Items never made current are missing.
pub async fn item_times(
    db: &impl ConnectionTrait,
    meetings: &[MeetingId],
) -> Result<std::collections::HashMap<AgendaItemId, (DateTime<Utc>, DateTime<Utc>)>> {
    use crate::entity::meeting;
    use std::collections::HashMap;
    let mut times: HashMap<AgendaItemId, (DateTime<Utc>, DateTime<Utc>)> = HashMap::new();
    if meetings.is_empty() {
        return Ok(times);
    }
    let closed: Vec<uuid::Uuid> = meeting::Entity::find()
        .select_only()
        .column(meeting::Column::Id)
        .filter(meeting::Column::Id.is_in(meetings.iter().map(|m| m.as_uuid())))
        .filter(meeting::Column::State.eq("closed"))
        .into_tuple()
        .all(db)
        .await?;
    if closed.is_empty() {
        return Ok(times);
    }
    // Payloads are the events' JSON with the tag first (`{"type":"…",`).
    let rows = meeting_event::Entity::find()
        .filter(meeting_event::Column::MeetingId.is_in(closed))
        .filter(
            sea_orm::Condition::any()
                .add(
                    meeting_event::Column::Payload
                        .starts_with("{\"type\":\"current_item_changed\""),
                )
                .add(meeting_event::Column::Payload.starts_with("{\"type\":\"meeting_closed\"")),
        )
        .order_by_asc(meeting_event::Column::MeetingId)
        .order_by_asc(meeting_event::Column::Seq)
        .all(db)
        .await?;
    let mut current: Option<(uuid::Uuid, AgendaItemId)> = None;
    for row in rows {
        let Ok(event) = serde_json::from_str::<Event>(&row.payload) else {
            continue;
        };
        // The item that was current in this meeting ends here.
        if let Some((meeting, item)) = current
            && meeting == row.meeting_id
            && let Some(entry) = times.get_mut(&item)
        {
            entry.1 = row.at;
        }
        current = match event {
            Event::CurrentItemChanged { item: Some(item) } => {
                times.entry(item).or_insert((row.at, row.at));
                Some((row.meeting_id, item))
            }
            _ => None,
        };
    }
    Ok(times)
}

/// Events after `after` (exclusive), oldest first, at most `limit`.
pub async fn events_since(
    db: &impl ConnectionTrait,
    meeting: MeetingId,
    after: u64,
    limit: u64,
) -> Result<Vec<StoredEvent>> {
    Ok(meeting_event::Entity::find()
        .filter(meeting_event::Column::MeetingId.eq(meeting.as_uuid()))
        .filter(meeting_event::Column::Seq.gt(i64::try_from(after).unwrap_or(i64::MAX)))
        .order_by_asc(meeting_event::Column::Seq)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(|m| StoredEvent {
            seq: u64::try_from(m.seq).unwrap_or(0),
            at: m.at,
            public: m.public,
            payload: m.payload,
        })
        .collect())
}

/// The stored response of a command already applied, for an idempotent retry.
pub async fn find_command(
    db: &impl ConnectionTrait,
    meeting: MeetingId,
    command: CommandId,
) -> Result<Option<(UserId, String)>> {
    Ok(
        live_command::Entity::find_by_id((meeting.as_uuid(), command.as_uuid()))
            .one(db)
            .await?
            .map(|m| (m.user_id.into(), m.response)),
    )
}

/// Every command applied in the meeting, with who sent it and the stored response: the live
/// actor keeps them in memory to answer retries without a query per batch.
pub async fn commands_of(
    db: &impl ConnectionTrait,
    meeting: MeetingId,
) -> Result<Vec<(CommandId, UserId, String)>> {
    Ok(live_command::Entity::find()
        .filter(live_command::Column::MeetingId.eq(meeting.as_uuid()))
        .all(db)
        .await?
        .into_iter()
        .map(|m| (m.command_id.into(), m.user_id.into(), m.response))
        .collect())
}

/// Everything one batch of commands writes.
#[derive(Debug, Default)]
pub struct Batch {
    pub events: Vec<StoredEvent>,
    pub participations: Vec<(PollId, PersonId)>,
    pub commands: Vec<(CommandId, UserId, String)>,
}

/// Writes a batch and the new snapshot (of its parts, those given). `previous_seq` is the seq of the snapshot the batch was
/// computed from (`None`: there was none). Fails with `Conflict` if someone else wrote first or a
/// voter already took part.
pub async fn commit(
    db: &impl ConnectionTrait,
    meeting: MeetingId,
    previous_seq: Option<u64>,
    new_seq: u64,
    state: StateParts,
    batch: Batch,
    now: DateTime<Utc>,
) -> Result<()> {
    let seq = i64::try_from(new_seq).map_err(|_| StoreError::Conflict("seq overflow".into()))?;
    let started = std::time::Instant::now();
    let state_bytes = state.state.len()
        + state.members.as_ref().map_or(0, String::len)
        + state.attendance.as_ref().map_or(0, String::len);
    let (events, participations, commands) = (
        batch.events.len(),
        batch.participations.len(),
        batch.commands.len(),
    );
    match previous_seq {
        None => {
            live_session::Entity::insert(live_session::ActiveModel {
                meeting_id: Set(meeting.as_uuid()),
                seq: Set(seq),
                state: Set(state.state),
                members: Set(state.members),
                attendance: Set(state.attendance),
                updated: Set(now),
            })
            .exec_without_returning(db)
            .await?;
        }
        Some(previous) => {
            let previous = i64::try_from(previous).unwrap_or(i64::MAX);
            let mut update = live_session::Entity::update_many()
                .col_expr(live_session::Column::Seq, Expr::value(seq))
                .col_expr(live_session::Column::State, Expr::value(state.state))
                .col_expr(live_session::Column::Updated, Expr::value(now));
            if let Some(members) = state.members {
                update = update.col_expr(live_session::Column::Members, Expr::value(members));
            }
            if let Some(attendance) = state.attendance {
                update = update.col_expr(live_session::Column::Attendance, Expr::value(attendance));
            }
            let result = update
                .filter(live_session::Column::MeetingId.eq(meeting.as_uuid()))
                .filter(live_session::Column::Seq.eq(previous))
                .exec(db)
                .await?;
            if result.rows_affected != 1 {
                return Err(StoreError::Conflict(
                    "the live state changed meanwhile".into(),
                ));
            }
        }
    }
    let state_written = started.elapsed();
    if !batch.events.is_empty() {
        meeting_event::Entity::insert_many(batch.events.into_iter().map(|e| {
            meeting_event::ActiveModel {
                meeting_id: Set(meeting.as_uuid()),
                seq: Set(i64::try_from(e.seq).unwrap_or(i64::MAX)),
                at: Set(e.at),
                public: Set(e.public),
                payload: Set(e.payload),
            }
        }))
        .exec_without_returning(db)
        .await?;
    }
    let events_written = started.elapsed();
    let postgres = db.get_database_backend() == DatabaseBackend::Postgres;
    if postgres && batch.participations.len() > 1 {
        // A crowd's batch is a thousand rows: one JSON parameter instead of two per row (a
        // statement with thousands of parameters costs PostgreSQL far more to parse and bind).
        let rows: Vec<serde_json::Value> = batch
            .participations
            .iter()
            .map(|(poll, person)| serde_json::json!({"poll_id": poll, "person_id": person}))
            .collect();
        db.execute_raw(Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            "INSERT INTO poll_participation (poll_id, person_id) \
             SELECT poll_id, person_id FROM json_to_recordset($1::json) AS t(poll_id uuid, person_id uuid)",
            [serde_json::Value::Array(rows).to_string().into()],
        ))
        .await?;
    } else if !batch.participations.is_empty() {
        poll_participation::Entity::insert_many(batch.participations.into_iter().map(
            |(poll, person)| poll_participation::ActiveModel {
                poll_id: Set(poll.as_uuid()),
                person_id: Set(person.as_uuid()),
            },
        ))
        .exec_without_returning(db)
        .await?;
    }
    let participations_written = started.elapsed();
    if postgres && batch.commands.len() > 1 {
        let rows: Vec<serde_json::Value> = batch
            .commands
            .iter()
            .map(|(command, user, response)| {
                serde_json::json!({"command_id": command, "user_id": user, "response": response})
            })
            .collect();
        db.execute_raw(Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            "INSERT INTO live_command (meeting_id, command_id, user_id, response) \
             SELECT $1, command_id, user_id, response \
             FROM json_to_recordset($2::json) AS t(command_id uuid, user_id uuid, response text) \
             ON CONFLICT (meeting_id, command_id) DO NOTHING",
            [
                meeting.as_uuid().into(),
                serde_json::Value::Array(rows).to_string().into(),
            ],
        ))
        .await?;
    } else if !batch.commands.is_empty() {
        live_command::Entity::insert_many(batch.commands.into_iter().map(
            |(command, user, response)| live_command::ActiveModel {
                meeting_id: Set(meeting.as_uuid()),
                command_id: Set(command.as_uuid()),
                user_id: Set(user.as_uuid()),
                response: Set(response),
            },
        ))
        .on_conflict(
            OnConflict::columns([
                live_command::Column::MeetingId,
                live_command::Column::CommandId,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    }
    tracing::debug!(
        target: "plenum::live::commit",
        state_bytes,
        events,
        participations,
        commands,
        state_us = state_written.as_micros() as u64,
        events_us = (events_written - state_written).as_micros() as u64,
        participations_us = (participations_written - events_written).as_micros() as u64,
        commands_us = (started.elapsed() - participations_written).as_micros() as u64,
        "live batch written"
    );
    Ok(())
}

/// Deletes the sealed ballots an older version stored for a poll (after their conversion).
pub async fn purge_sealed_ballots(db: &impl ConnectionTrait, poll: PollId) -> Result<()> {
    secret_ballot::Entity::delete_many()
        .filter(secret_ballot::Column::PollId.eq(poll.as_uuid()))
        .exec(db)
        .await?;
    Ok(())
}

/// The sealed ballots an older version stored for a poll (in no meaningful order).
pub async fn sealed_ballots(db: &impl ConnectionTrait, poll: PollId) -> Result<Vec<String>> {
    Ok(secret_ballot::Entity::find()
        .filter(secret_ballot::Column::PollId.eq(poll.as_uuid()))
        .all(db)
        .await?
        .into_iter()
        .map(|m| m.sealed)
        .collect())
}

/// Who took part in a poll.
pub async fn participants(db: &impl ConnectionTrait, poll: PollId) -> Result<Vec<PersonId>> {
    Ok(poll_participation::Entity::find()
        .filter(poll_participation::Column::PollId.eq(poll.as_uuid()))
        .all(db)
        .await?
        .into_iter()
        .map(|m| m.person_id.into())
        .collect())
}
