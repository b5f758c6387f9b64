//! The clerk's notes for the minutes (Protokollnotiz): one row per agenda item with its Markdown
//! text and who wrote it when. The minutes themselves are not stored: they are drafted on read
//! from the event log, the live state, the decisions and these notes.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use plenum_domain::{AgendaItemId, MeetingId, MinutesNote, MinutesNoteText, UserId};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::Result;
use crate::entity::minutes_note;

fn from_row(row: minutes_note::Model) -> (AgendaItemId, MinutesNote) {
    (
        AgendaItemId::from_uuid(row.agenda_item_id),
        MinutesNote {
            text: row.text,
            updated_at: row.updated_at,
        },
    )
}

/// The notes on these items, by item.
pub async fn notes_of_items(
    db: &impl ConnectionTrait,
    items: &[AgendaItemId],
) -> Result<HashMap<AgendaItemId, MinutesNote>> {
    if items.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(minutes_note::Entity::find()
        .filter(minutes_note::Column::AgendaItemId.is_in(items.iter().map(|i| i.as_uuid())))
        .all(db)
        .await?
        .into_iter()
        .map(from_row)
        .collect())
}

/// Writes (or replaces) the note on `item`.
pub async fn put_note(
    db: &impl ConnectionTrait,
    item: AgendaItemId,
    meeting: MeetingId,
    text: &MinutesNoteText,
    by: UserId,
    at: DateTime<Utc>,
) -> Result<()> {
    let row = minutes_note::ActiveModel {
        agenda_item_id: Set(item.as_uuid()),
        meeting_id: Set(meeting.as_uuid()),
        text: Set(text.as_str().to_owned()),
        updated_at: Set(at),
        updated_by: Set(Some(by.as_uuid())),
    };
    minutes_note::Entity::insert(row)
        .on_conflict(
            OnConflict::column(minutes_note::Column::AgendaItemId)
                .update_columns([
                    minutes_note::Column::Text,
                    minutes_note::Column::UpdatedAt,
                    minutes_note::Column::UpdatedBy,
                ])
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Removes the note on `item`; `true` if there was one.
pub async fn remove_note(db: &impl ConnectionTrait, item: AgendaItemId) -> Result<bool> {
    let done = minutes_note::Entity::delete_many()
        .filter(minutes_note::Column::AgendaItemId.eq(item.as_uuid()))
        .exec(db)
        .await?;
    Ok(done.rows_affected > 0)
}
