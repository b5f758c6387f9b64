//! The Bekanntgabe of a non-public decision: once the reason for secrecy has gone, the clerk
//! publishes one non-public item's decision on its own — under a public title the clerk gives
//! it (the internal title may name persons), with an optional note. The portal and OParl then
//! show that decision (text, kind, vote totals) and nothing else of the non-public part.
//!
//! One row per announced item; there is no revocation. Announcing raises the meeting's
//! `modified` (OParl embeds the announced item in its meeting), and so does recording or
//! removing the decision of an announced item later ([`touch_if_announced`]).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use plenum_domain::{AgendaItemId, MeetingId, UserId};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
};

use crate::Result;
use crate::entity::decision_announcement as row;

/// An announced non-public decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Announcement {
    pub item: AgendaItemId,
    pub meeting: MeetingId,
    /// The title the public reads (never the item's internal title).
    pub title: String,
    /// E.g. "bekanntgegeben in der Sitzung am 12.03.2027".
    pub note: Option<String>,
    pub announced_at: DateTime<Utc>,
    pub announced_by: Option<UserId>,
}

fn from_row(r: row::Model) -> Announcement {
    Announcement {
        item: AgendaItemId::from_uuid(r.agenda_item_id),
        meeting: MeetingId::from_uuid(r.meeting_id),
        title: r.title,
        note: r.note,
        announced_at: r.announced_at,
        announced_by: r.announced_by.map(UserId::from_uuid),
    }
}

/// The announcement of `item`, if it was announced.
pub async fn get(db: &impl ConnectionTrait, item: AgendaItemId) -> Result<Option<Announcement>> {
    Ok(row::Entity::find_by_id(item.as_uuid())
        .one(db)
        .await?
        .map(from_row))
}

/// The announcements of these items, by item.
pub async fn of_items(
    db: &impl ConnectionTrait,
    items: &[AgendaItemId],
) -> Result<HashMap<AgendaItemId, Announcement>> {
    if items.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(row::Entity::find()
        .filter(row::Column::AgendaItemId.is_in(items.iter().map(|i| i.as_uuid())))
        .all(db)
        .await?
        .into_iter()
        .map(|r| (AgendaItemId::from_uuid(r.agenda_item_id), from_row(r)))
        .collect())
}

/// The announcements made in these meetings, in the order they were made.
pub async fn of_meetings(
    db: &impl ConnectionTrait,
    meetings: &[MeetingId],
) -> Result<Vec<Announcement>> {
    if meetings.is_empty() {
        return Ok(Vec::new());
    }
    Ok(row::Entity::find()
        .filter(row::Column::MeetingId.is_in(meetings.iter().map(|m| m.as_uuid())))
        .order_by_asc(row::Column::AnnouncedAt)
        .order_by_asc(row::Column::AgendaItemId)
        .all(db)
        .await?
        .into_iter()
        .map(from_row)
        .collect())
}

/// Records an announcement (once per item: a second one is a conflict) and raises the stored
/// `modified` of the item and its meeting. Call inside the caller's write transaction.
pub async fn announce(db: &impl ConnectionTrait, a: &Announcement) -> Result<()> {
    row::Entity::insert(row::ActiveModel {
        agenda_item_id: Set(a.item.as_uuid()),
        meeting_id: Set(a.meeting.as_uuid()),
        title: Set(a.title.clone()),
        note: Set(a.note.clone()),
        announced_at: Set(a.announced_at),
        announced_by: Set(a.announced_by.map(|u| u.as_uuid())),
    })
    .exec_without_returning(db)
    .await?;
    crate::visibility::touch_decided(db, a.item.as_uuid(), a.announced_at).await?;
    crate::visibility::touch_meeting(db, a.meeting.as_uuid(), a.announced_at).await
}

/// The decision of `item` changed: if the item is announced, its meeting counts as modified
/// (the public reads the decision there).
pub(crate) async fn touch_if_announced(
    db: &impl ConnectionTrait,
    item: AgendaItemId,
    at: DateTime<Utc>,
) -> Result<()> {
    if let Some(a) = get(db, item).await? {
        crate::visibility::touch_meeting(db, a.meeting.as_uuid(), at).await?;
    }
    Ok(())
}
