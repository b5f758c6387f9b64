//! What an admin sets per body: for now the notice period of invitations (Ladungsfrist). A body
//! without its own value uses the server's `invitation_notice_days`. Signed-in users read the
//! settings; admins change them (others 403). Every change is audited.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use plenum_domain::{Action, BodyId, MAX_NOTICE_DAYS, OrganizationId, Resource};
use plenum_store::ConnectionTrait;
use plenum_store::body_settings::{self, BodySettings};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use super::attendance::{BodyQuery, body_of};
use super::clerk::{audit, begin, commit, invalid};
use super::documents::Viewer;
use crate::auth::AuthUser;
use crate::json::{AppJson, AppQuery};
use crate::{AppState, Result, access};

pub fn router() -> Router<AppState> {
    Router::new().route("/body-settings", get(get_settings).put(put_settings))
}

/// A body's settings: its own values and what applies.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct BodySettingsView {
    pub body_id: Uuid,
    /// The body's own notice period of invitations (Ladungsfrist) in days; `null`: the server's
    /// default applies.
    pub invitation_notice_days: Option<u32>,
    /// The server's default (`invitation_notice_days` in the configuration).
    pub default_invitation_notice_days: u32,
    /// What applies to the body's meetings: its own value, else the default.
    pub effective_invitation_notice_days: u32,
}

impl BodySettingsView {
    fn new(state: &AppState, body: BodyId, settings: BodySettings) -> Self {
        Self {
            body_id: body.as_uuid(),
            invitation_notice_days: settings.invitation_notice_days,
            default_invitation_notice_days: state.config.notice_days,
            effective_invitation_notice_days: settings
                .invitation_notice_days
                .unwrap_or(state.config.notice_days),
        }
    }
}

/// The new settings (all of them: a value left out or `null` goes back to the server's default).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BodySettingsUpdate {
    /// The notice period of invitations in days, a whole number from 0 to 60; `null`: the
    /// server's default.
    #[schema(value_type = Option<u32>, minimum = 0, maximum = 60)]
    pub invitation_notice_days: Option<Value>,
}

/// Whole days from 0 to [`MAX_NOTICE_DAYS`] (`3.0` counts as 3), else a 422 naming the field.
fn notice_days(value: Option<&Value>) -> Result<Option<u32>> {
    let Some(value) = value.filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    let days = value
        .as_u64()
        .or_else(|| {
            value
                .as_f64()
                .filter(|f| f.fract() == 0.0 && (0.0..=f64::from(MAX_NOTICE_DAYS)).contains(f))
                .map(|f| f as u64)
        })
        .and_then(|d| u32::try_from(d).ok())
        .filter(|d| *d <= MAX_NOTICE_DAYS);
    days.map(Some).ok_or_else(|| {
        invalid(
            "invitation_notice_days",
            format!(
                "must be a whole number of days from 0 to {MAX_NOTICE_DAYS} (or null for the \
                 server's default), not {value}"
            ),
        )
    })
}

/// The notice period (Ladungsfrist) in days for meetings of this organization: its body's
/// own value, else the server's `invitation_notice_days`.
pub(crate) async fn notice_days_for(
    db: &impl ConnectionTrait,
    state: &AppState,
    organization: OrganizationId,
) -> Result<u32> {
    Ok(body_settings::of_organization(db, organization)
        .await?
        .invitation_notice_days
        .unwrap_or(state.config.notice_days))
}

/// The body's settings. Signed-in users (the notice period is no secret: members read it in
/// every invitation).
#[utoipa::path(get, path = "/api/v1/body-settings", tag = "admin",
    security(("bearer" = [])), params(BodyQuery),
    responses((status = 200, body = BodySettingsView), (status = 401, body = crate::Problem),
        (status = 404, body = crate::Problem), (status = 422, body = crate::Problem)))]
pub async fn get_settings(
    State(state): State<AppState>,
    auth: AuthUser,
    AppQuery(query): AppQuery<BodyQuery>,
) -> Result<Json<BodySettingsView>> {
    let viewer = Viewer::member(&state, &auth.user).await?;
    access::require(&viewer.actor, Action::View, &Resource::BodySettings)?;
    let body = body_of(&state, query.body_id).await?;
    let settings = body_settings::get(&state.db, body).await?;
    Ok(Json(BodySettingsView::new(&state, body, settings)))
}

/// Sets the body's settings: the notice period of invitations in days (0 to 60; `null` for the
/// server's default). Admins only (clerks and members 403); 422 for anything else than whole
/// days in that range. Audited as `body.settings_set` with the old and new values. Invitations
/// already issued keep the deadline they were issued with.
#[utoipa::path(put, path = "/api/v1/body-settings", tag = "admin",
    security(("bearer" = [])), params(BodyQuery), request_body = BodySettingsUpdate,
    responses((status = 200, body = BodySettingsView), (status = 400, body = crate::Problem),
        (status = 401, body = crate::Problem), (status = 403, body = crate::Problem),
        (status = 404, body = crate::Problem), (status = 422, body = crate::Problem)))]
pub async fn put_settings(
    State(state): State<AppState>,
    auth: AuthUser,
    AppQuery(query): AppQuery<BodyQuery>,
    AppJson(request): AppJson<BodySettingsUpdate>,
) -> Result<Json<BodySettingsView>> {
    let viewer = Viewer::member(&state, &auth.user).await?;
    access::require(&viewer.actor, Action::Update, &Resource::BodySettings)?;
    let after = BodySettings {
        invitation_notice_days: notice_days(request.invitation_notice_days.as_ref())?,
    };
    let body = body_of(&state, query.body_id).await?;
    let txn = begin(&state).await?;
    let before = body_settings::get(&txn, body).await?;
    if before != after {
        body_settings::set(&txn, body, after, state.now()).await?;
        audit(
            &txn,
            &state,
            &auth,
            "body.settings_set",
            ("body", body.as_uuid()),
            serde_json::json!({
                "before": {"invitation_notice_days": before.invitation_notice_days},
                "after": {"invitation_notice_days": after.invitation_notice_days},
            }),
        )
        .await?;
    }
    commit(&state, txn).await?;
    Ok(Json(BodySettingsView::new(&state, body, after)))
}
