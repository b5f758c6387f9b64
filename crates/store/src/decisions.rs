//! Decisions (Beschlüsse) on agenda items: one row per item with the outcome's kind, the vote
//! result as recorded (JSON of [`plenum_domain::VoteRecord`]), the poll it rests on and who
//! recorded it. The decision's text is the item's `decision` column.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use plenum_domain::{AgendaItemId, DecisionKind, MeetingId, PersonId, PollId, VoteRecord};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::entity::decision;
use crate::{Result, StoreError};

/// A recorded decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub item: AgendaItemId,
    pub meeting: MeetingId,
    pub kind: DecisionKind,
    /// For `referred`: to whom (e.g. "Ausschuss für Finanzen").
    pub referred_to: Option<String>,
    pub vote: Option<VoteRecord>,
    pub poll: Option<PollId>,
    pub recorded_by: Option<PersonId>,
    pub recorded_at: DateTime<Utc>,
}

fn from_row(row: decision::Model) -> Result<Decision> {
    let kind = DecisionKind::parse(&row.kind).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let vote = row
        .vote
        .as_deref()
        .map(serde_json::from_str::<VoteRecord>)
        .transpose()
        .map_err(|e| StoreError::Corrupt(format!("decision vote: {e}")))?;
    Ok(Decision {
        item: AgendaItemId::from_uuid(row.agenda_item_id),
        meeting: MeetingId::from_uuid(row.meeting_id),
        kind,
        referred_to: row.referred_to,
        vote,
        poll: row.poll_id.map(PollId::from_uuid),
        recorded_by: row.recorded_by.map(PersonId::from_uuid),
        recorded_at: row.recorded_at,
    })
}

/// The decision on `item`, if one was recorded.
pub async fn get(db: &impl ConnectionTrait, item: AgendaItemId) -> Result<Option<Decision>> {
    decision::Entity::find_by_id(item.as_uuid())
        .one(db)
        .await?
        .map(from_row)
        .transpose()
}

/// The decisions on these items, by item.
pub async fn of_items(
    db: &impl ConnectionTrait,
    items: &[AgendaItemId],
) -> Result<HashMap<AgendaItemId, Decision>> {
    if items.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = decision::Entity::find()
        .filter(decision::Column::AgendaItemId.is_in(items.iter().map(|i| i.as_uuid())))
        .all(db)
        .await?;
    rows.into_iter()
        .map(|row| from_row(row).map(|d| (d.item, d)))
        .collect()
}

/// Records (or replaces) the decision on its item; the item, its meeting and the papers
/// consulted on it count as modified (OParl shows the decision).
pub async fn put(db: &impl ConnectionTrait, decision: &Decision) -> Result<()> {
    let vote = decision
        .vote
        .as_ref()
        .map(serde_json::to_string)
        .transpose()
        .map_err(|e| StoreError::Corrupt(format!("decision vote: {e}")))?;
    let row = decision::ActiveModel {
        agenda_item_id: Set(decision.item.as_uuid()),
        meeting_id: Set(decision.meeting.as_uuid()),
        kind: Set(decision.kind.as_str().to_owned()),
        referred_to: Set(decision.referred_to.clone()),
        vote: Set(vote),
        poll_id: Set(decision.poll.map(|p| p.as_uuid())),
        recorded_by: Set(decision.recorded_by.map(|p| p.as_uuid())),
        recorded_at: Set(decision.recorded_at),
    };
    decision::Entity::insert(row)
        .on_conflict(
            OnConflict::column(decision::Column::AgendaItemId)
                .update_columns([
                    decision::Column::Kind,
                    decision::Column::ReferredTo,
                    decision::Column::Vote,
                    decision::Column::PollId,
                    decision::Column::RecordedBy,
                    decision::Column::RecordedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    let at = crate::record::now();
    crate::visibility::touch_decided(db, decision.item.as_uuid(), at).await?;
    crate::announcements::touch_if_announced(db, decision.item, at).await
}

/// Removes the decision on `item` (recorded by mistake); `true` if there was one. Like
/// [`put`], marks the item, its meeting and its papers modified.
pub async fn remove(db: &impl ConnectionTrait, item: AgendaItemId) -> Result<bool> {
    let done = decision::Entity::delete_many()
        .filter(decision::Column::AgendaItemId.eq(item.as_uuid()))
        .exec(db)
        .await?;
    if done.rows_affected == 0 {
        return Ok(false);
    }
    let at = crate::record::now();
    crate::visibility::touch_decided(db, item.as_uuid(), at).await?;
    crate::announcements::touch_if_announced(db, item, at).await?;
    Ok(true)
}

/// The live session of `meeting` started or ended. The public reads a decision only while the
/// session is not running, so the recorded decisions of the meeting disappear from the public
/// view now or are published now: their items, the meeting and the papers consulted on them
/// count as modified.
pub async fn session_changed(db: &impl ConnectionTrait, meeting: MeetingId) -> Result<()> {
    let rows = decision::Entity::find()
        .filter(decision::Column::MeetingId.eq(meeting.as_uuid()))
        .all(db)
        .await?;
    let at = crate::record::now();
    for row in rows {
        crate::visibility::touch_decided(db, row.agenda_item_id, at).await?;
    }
    Ok(())
}
