//! What the live session writes beyond its event log: the session settings the clerk sets
//! (repeat meeting, speaking time) and the meeting's state (running, closed with its end time),
//! so that the member app, the public portal, OParl and the chair console agree on it. Called
//! inside the live batch's transaction.

use chrono::{DateTime, Utc};
use plenum_domain::{MeetingId, MeetingState, SessionSettings};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait};

use crate::entity::meeting_session_setting as row;
use crate::{Result, repo};

/// The stored settings of a meeting; `None` if nobody set any.
pub async fn settings(
    db: &impl ConnectionTrait,
    meeting: MeetingId,
) -> Result<Option<SessionSettings>> {
    Ok(row::Entity::find_by_id(meeting.as_uuid())
        .one(db)
        .await?
        .map(|m| SessionSettings {
            repeat_meeting: m.repeat_meeting,
            speaking_time_secs: u32::try_from(m.speaking_time_secs)
                .unwrap_or(plenum_domain::DEFAULT_SPEAKING_TIME_SECS),
        }))
}

/// Writes the settings of a meeting (insert or replace).
pub async fn save_settings(
    db: &impl ConnectionTrait,
    meeting: MeetingId,
    settings: &SessionSettings,
    now: DateTime<Utc>,
) -> Result<()> {
    row::Entity::insert(row::ActiveModel {
        meeting_id: Set(meeting.as_uuid()),
        repeat_meeting: Set(settings.repeat_meeting),
        speaking_time_secs: Set(i32::try_from(settings.speaking_time_secs).unwrap_or(i32::MAX)),
        updated: Set(now),
    })
    .on_conflict(
        OnConflict::column(row::Column::MeetingId)
            .update_columns([
                row::Column::RepeatMeeting,
                row::Column::SpeakingTimeSecs,
                row::Column::Updated,
            ])
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// The live session started: a planned or invited meeting is now running.
pub async fn meeting_started(db: &impl ConnectionTrait, meeting: MeetingId) -> Result<()> {
    let mut m = repo::meetings::get_live(db, meeting).await?;
    if matches!(m.state, MeetingState::Planned | MeetingState::Invited) {
        m.state = MeetingState::Running;
        repo::meetings::update(db, m).await?;
    }
    // Decisions recorded before the session are not public while it runs.
    crate::decisions::session_changed(db, meeting).await
}

/// The live session closed: the meeting is closed, ending `at` (kept as scheduled when the
/// session closed before the scheduled start, which an end must follow).
pub async fn meeting_closed(
    db: &impl ConnectionTrait,
    meeting: MeetingId,
    at: DateTime<Utc>,
) -> Result<()> {
    let mut m = repo::meetings::get_live(db, meeting).await?;
    if m.state == MeetingState::Cancelled {
        return Ok(());
    }
    m.state = MeetingState::Closed;
    if at > m.start {
        m.end = Some(at);
    }
    repo::meetings::update(db, m).await?;
    // Its agenda items now show when they were discussed (OParl `start`/`end`).
    crate::visibility::touch_agenda_of(db, meeting.as_uuid(), crate::record::now()).await?;
    // Decisions recorded during the session become public now.
    crate::decisions::session_changed(db, meeting).await
}
