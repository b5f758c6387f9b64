//! Settings an admin keeps per body (`body_setting`): for now the notice period of invitations
//! (Ladungsfrist). No row, or `None`, means the server's default.

use chrono::{DateTime, Utc};
use plenum_domain::{BodyId, OrganizationId};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait};

use crate::Result;
use crate::entity::body_setting;
use crate::repo;

/// A body's own settings; `None`: the server's default applies.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BodySettings {
    /// The notice period of invitations (Ladungsfrist) in days.
    pub invitation_notice_days: Option<u32>,
}

/// The body's own settings (all `None` when none were set).
pub async fn get(db: &impl ConnectionTrait, body: BodyId) -> Result<BodySettings> {
    let row = body_setting::Entity::find_by_id(body.as_uuid())
        .one(db)
        .await?;
    Ok(row.map_or_else(BodySettings::default, |row| BodySettings {
        invitation_notice_days: row
            .invitation_notice_days
            .and_then(|days| u32::try_from(days).ok()),
    }))
}

/// Stores the body's settings (the caller validated them).
pub async fn set(
    db: &impl ConnectionTrait,
    body: BodyId,
    settings: BodySettings,
    at: DateTime<Utc>,
) -> Result<()> {
    body_setting::Entity::insert(body_setting::ActiveModel {
        body_id: Set(body.as_uuid()),
        invitation_notice_days: Set(settings
            .invitation_notice_days
            .map(|days| i32::try_from(days).unwrap_or(i32::MAX))),
        modified: Set(at),
    })
    .on_conflict(
        OnConflict::column(body_setting::Column::BodyId)
            .update_columns([
                body_setting::Column::InvitationNoticeDays,
                body_setting::Column::Modified,
            ])
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// The settings of the body an organization (and so its meetings) belongs to.
pub async fn of_organization(
    db: &impl ConnectionTrait,
    organization: OrganizationId,
) -> Result<BodySettings> {
    let organization = repo::organizations::get(db, organization).await?;
    get(db, organization.body_id).await
}
