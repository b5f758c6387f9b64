//! What the attendance register reads and writes besides the live sessions: meetings of
//! fractions (and groups) as their chair records them afterwards, and the attendance allowance
//! (Sitzungsgeld) per body and kind of organization.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use plenum_domain::{BodyId, MeetingState, OrganizationId, PersonId, UserId};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
};
use uuid::Uuid;

use crate::Result;
use crate::entity::{attendance_allowance, fraction_meeting, fraction_meeting_attendee, meeting};

/// A fraction's meeting as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FractionMeeting {
    pub id: Uuid,
    pub organization_id: OrganizationId,
    pub date: NaiveDate,
    pub title: String,
    pub created: DateTime<Utc>,
    pub created_by: UserId,
    /// Who attended, by id.
    pub attendees: Vec<PersonId>,
}

/// Stores a fraction meeting with its attendees (the caller checked them).
pub async fn record_fraction_meeting(
    db: &impl ConnectionTrait,
    meeting: &FractionMeeting,
) -> Result<()> {
    fraction_meeting::Entity::insert(fraction_meeting::ActiveModel {
        id: Set(meeting.id),
        organization_id: Set(meeting.organization_id.as_uuid()),
        date: Set(meeting.date),
        title: Set(meeting.title.clone()),
        created: Set(meeting.created),
        created_by: Set(meeting.created_by.as_uuid()),
    })
    .exec_without_returning(db)
    .await?;
    for person in &meeting.attendees {
        fraction_meeting_attendee::Entity::insert(fraction_meeting_attendee::ActiveModel {
            fraction_meeting_id: Set(meeting.id),
            person_id: Set(person.as_uuid()),
        })
        .exec_without_returning(db)
        .await?;
    }
    Ok(())
}

/// The fraction meetings from `from` to `to` (both included), by date.
pub async fn fraction_meetings(
    db: &impl ConnectionTrait,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<FractionMeeting>> {
    let rows = fraction_meeting::Entity::find()
        .filter(fraction_meeting::Column::Date.gte(from))
        .filter(fraction_meeting::Column::Date.lte(to))
        .order_by_asc(fraction_meeting::Column::Date)
        .order_by_asc(fraction_meeting::Column::Id)
        .all(db)
        .await?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let mut attendees: HashMap<Uuid, Vec<PersonId>> = HashMap::new();
    for a in fraction_meeting_attendee::Entity::find()
        .filter(
            fraction_meeting_attendee::Column::FractionMeetingId.is_in(rows.iter().map(|r| r.id)),
        )
        .all(db)
        .await?
    {
        attendees
            .entry(a.fraction_meeting_id)
            .or_default()
            .push(a.person_id.into());
    }
    Ok(rows
        .into_iter()
        .map(|r| FractionMeeting {
            id: r.id,
            organization_id: r.organization_id.into(),
            date: r.date,
            title: r.title,
            created: r.created,
            created_by: r.created_by.into(),
            attendees: attendees.remove(&r.id).unwrap_or_default(),
        })
        .collect())
}

/// A closed meeting run in Plenum whose attendance the live session recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClosedMeeting {
    pub id: Uuid,
    pub organization_id: OrganizationId,
    pub name: String,
    pub start: DateTime<Utc>,
    /// The stored live state, if the meeting ran in Plenum.
    pub state: Option<crate::live::StateParts>,
}

/// The live, closed meetings that started between `from` and `to` (excluded), by start.
pub async fn closed_meetings(
    db: &impl ConnectionTrait,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<ClosedMeeting>> {
    let rows = meeting::Entity::find()
        .filter(meeting::Column::State.eq(MeetingState::Closed.as_str()))
        .filter(meeting::Column::Deleted.is_null())
        .filter(meeting::Column::Start.gte(from))
        .filter(meeting::Column::Start.lt(to))
        .order_by_asc(meeting::Column::Start)
        .order_by_asc(meeting::Column::Id)
        .all(db)
        .await?;
    let ids: Vec<plenum_domain::MeetingId> = rows.iter().map(|r| r.id.into()).collect();
    let mut states: HashMap<plenum_domain::MeetingId, crate::live::StateParts> =
        crate::live::load_many(db, &ids)
            .await?
            .into_iter()
            .collect();
    Ok(rows
        .into_iter()
        .map(|r| ClosedMeeting {
            id: r.id,
            organization_id: r.organization_id.into(),
            name: r.name,
            start: r.start,
            state: states.remove(&r.id.into()),
        })
        .collect())
}

/// The allowance per attended meeting, in cents, by kind of organization (`council`,
/// `committee`, `fraction`); kinds never set are missing.
pub async fn allowances(db: &impl ConnectionTrait, body: BodyId) -> Result<HashMap<String, i64>> {
    Ok(attendance_allowance::Entity::find()
        .filter(attendance_allowance::Column::BodyId.eq(body.as_uuid()))
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.kind, r.amount_cents))
        .collect())
}

/// Sets the allowance of one kind of organization.
pub async fn set_allowance(
    db: &impl ConnectionTrait,
    body: BodyId,
    kind: &str,
    amount_cents: i64,
    at: DateTime<Utc>,
) -> Result<()> {
    attendance_allowance::Entity::insert(attendance_allowance::ActiveModel {
        body_id: Set(body.as_uuid()),
        kind: Set(kind.to_owned()),
        amount_cents: Set(amount_cents),
        modified: Set(at),
    })
    .on_conflict(
        OnConflict::columns([
            attendance_allowance::Column::BodyId,
            attendance_allowance::Column::Kind,
        ])
        .update_columns([
            attendance_allowance::Column::AmountCents,
            attendance_allowance::Column::Modified,
        ])
        .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}
