//! Account administration: create users (with a password setup link), revoke all sessions of a
//! user, reset a lost second factor, unlock a second factor locked by wrong codes. Admins only;
//! the policy decides.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use plenum_domain::{
    AccessDecision, Action, Actor, Meta, Name, PersonId, Resource, SiteRole, User, UserId,
    Username, authorize,
};
use plenum_store::auth::{
    calendar_feeds, known_devices, second_factor_guards, sessions, totp as totp_store,
};
use plenum_store::repo;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::auth::{MeResponse, SecondFactorStatus, new_setup_link, record};
use crate::auth::AuthUser;
use crate::json::{AppJson, AppPath};
use crate::{ApiError, AppState, Result};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/users", get(list_users).post(create_user))
        .route("/admin/users/{id}/setup-link", post(create_setup_link))
        .route("/admin/users/{id}/revoke-sessions", post(revoke_sessions))
        .route(
            "/admin/users/{id}/reset-second-factor",
            post(reset_second_factor),
        )
        .route(
            "/admin/users/{id}/unlock-second-factor",
            post(unlock_second_factor),
        )
}

/// The policy's view of a signed-in user (memberships are not needed for account actions).
fn actor(auth: &AuthUser) -> Actor {
    let actor = Actor::signed_in(auth.user.id, auth.user.site_role).with_second_factor(true);
    match auth.user.person_id {
        Some(person) => actor.with_person(person),
        None => actor,
    }
}

fn require(auth: &AuthUser, action: Action, resource: Resource) -> Result<()> {
    match authorize(&actor(auth), action, &resource) {
        AccessDecision::Allow => Ok(()),
        AccessDecision::Forbidden => Err(ApiError::Forbidden),
        AccessDecision::NotFound => Err(ApiError::NotFound),
    }
}

/// Closes the live connections of every device of the user.
async fn kick_user(state: &AppState, user: UserId) -> Result<()> {
    for session in sessions::list_by_user(&state.db, user).await? {
        state.live.kick_session(session.id);
    }
    Ok(())
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateUserRequest {
    pub username: String,
    pub display_name: String,
    /// `member`, `clerk` or `admin`.
    #[serde(default = "default_role")]
    pub site_role: String,
    pub person_id: Option<Uuid>,
}

fn default_role() -> String {
    "member".into()
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedUserResponse {
    pub user: MeResponse,
    /// One-time token for `POST /api/v1/auth/setup`; give the user the link.
    pub setup_token: String,
    /// Path of the web app's setup page with the token.
    pub setup_path: String,
    pub setup_expires_at: DateTime<Utc>,
}

/// An account as admins see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdminUserResponse {
    #[serde(flatten)]
    pub user: MeResponse,
    /// Failed second-factor attempts right now; `locked` accounts need an unlock (or the
    /// owner's recovery code) before codes from new devices are accepted again.
    pub second_factor: SecondFactorStatus,
}

/// All accounts, with their failed second-factor attempts.
#[utoipa::path(get, path = "/api/v1/admin/users", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = Vec<AdminUserResponse>), (status = 401, body = crate::Problem), (status = 404, body = crate::Problem)))]
pub async fn list_users(
    State(state): State<AppState>,
    auth: AuthUser,
) -> Result<Json<Vec<AdminUserResponse>>> {
    // Viewing other people's accounts (any id but one's own) is what admins and clerks may do.
    require(&auth, Action::View, Resource::User { id: UserId::new() })?;
    let users = repo::users::list(&state.db).await?;
    let failing = second_factor_guards::list_failing(&state.db).await?;
    Ok(Json(
        users
            .iter()
            .map(|user| AdminUserResponse {
                user: MeResponse::from(user),
                second_factor: SecondFactorStatus::of(
                    failing.iter().filter(|row| row.user_id == user.id),
                ),
            })
            .collect(),
    ))
}

/// Creates an account and a password setup link (valid 72 hours by default).
#[utoipa::path(post, path = "/api/v1/admin/users", tag = "admin", security(("bearer" = [])),
    request_body = CreateUserRequest,
    responses(
        (status = 201, body = CreatedUserResponse),
        (status = 404, description = "Not an admin", body = crate::Problem),
        (status = 409, description = "User name taken", body = crate::Problem),
        (status = 422, description = "Invalid values", body = crate::Problem),
    ))]
pub async fn create_user(
    State(state): State<AppState>,
    auth: AuthUser,
    AppJson(request): AppJson<CreateUserRequest>,
) -> Result<(StatusCode, Json<CreatedUserResponse>)> {
    let id = UserId::new();
    require(&auth, Action::Create, Resource::User { id })?;
    let person_id = request.person_id.map(PersonId::from_uuid);
    if let Some(person) = person_id {
        repo::persons::get_live(&state.db, person).await?;
    }
    let user = repo::users::insert(
        &state.db,
        User {
            id,
            meta: Meta::default(),
            username: Username::parse(&request.username)?,
            display_name: Name::parse(&request.display_name)?,
            person_id,
            site_role: SiteRole::parse(&request.site_role)?,
            password_hash: None,
        },
    )
    .await?;
    let (token, expires) = new_setup_link(&state, user.id).await?;
    record(&state, Some(auth.user.id), "user.created", Some(user.id.to_string()),
        serde_json::json!({"username": user.username.as_str(), "site_role": user.site_role.as_str()})).await;
    Ok((
        StatusCode::CREATED,
        Json(CreatedUserResponse {
            user: MeResponse::from(&user),
            setup_path: format!("/setup#{token}"),
            setup_token: token,
            setup_expires_at: expires,
        }),
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SetupLinkResponse {
    pub setup_token: String,
    pub setup_path: String,
    pub setup_expires_at: DateTime<Utc>,
}

/// A new setup link (for a user who lost theirs or forgot the password); older links end.
#[utoipa::path(post, path = "/api/v1/admin/users/{id}/setup-link", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = SetupLinkResponse), (status = 404, body = crate::Problem)))]
pub async fn create_setup_link(
    State(state): State<AppState>,
    auth: AuthUser,
    AppPath(id): AppPath<Uuid>,
) -> Result<Json<SetupLinkResponse>> {
    let id = UserId::from_uuid(id);
    require(&auth, Action::Update, Resource::User { id })?;
    repo::users::get_live(&state.db, id).await?;
    let (token, expires) = new_setup_link(&state, id).await?;
    record(
        &state,
        Some(auth.user.id),
        "user.setup_link",
        Some(id.to_string()),
        serde_json::json!({}),
    )
    .await;
    Ok(Json(SetupLinkResponse {
        setup_path: format!("/setup#{token}"),
        setup_token: token,
        setup_expires_at: expires,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RevokedResponse {
    /// How many device sessions were signed out.
    pub revoked: u64,
}

/// Signs every device of the user out and revokes their personal calendar feed.
#[utoipa::path(post, path = "/api/v1/admin/users/{id}/revoke-sessions", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = RevokedResponse), (status = 403, body = crate::Problem),
        (status = 404, body = crate::Problem)))]
pub async fn revoke_sessions(
    State(state): State<AppState>,
    auth: AuthUser,
    AppPath(id): AppPath<Uuid>,
) -> Result<Json<RevokedResponse>> {
    let id = UserId::from_uuid(id);
    require(&auth, Action::RevokeSessions, Resource::User { id })?;
    repo::users::get_live(&state.db, id).await?;
    kick_user(&state, id).await?;
    let revoked = sessions::revoke_all(&state.db, id, "revoked by admin", state.now()).await?;
    let feeds = calendar_feeds::revoke(&state.db, id, state.now()).await?;
    record(
        &state,
        Some(auth.user.id),
        "sessions.revoked_all",
        Some(id.to_string()),
        serde_json::json!({"revoked": revoked, "calendar_feeds_revoked": feeds}),
    )
    .await;
    Ok(Json(RevokedResponse { revoked }))
}

/// Removes a lost second factor (and its recovery codes) and signs every device out; the user
/// enrols again at the next login.
#[utoipa::path(post, path = "/api/v1/admin/users/{id}/reset-second-factor", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 204), (status = 403, body = crate::Problem), (status = 404, body = crate::Problem)))]
pub async fn reset_second_factor(
    State(state): State<AppState>,
    auth: AuthUser,
    AppPath(id): AppPath<Uuid>,
) -> Result<StatusCode> {
    let id = UserId::from_uuid(id);
    require(&auth, Action::ResetSecondFactor, Resource::User { id })?;
    repo::users::get_live(&state.db, id).await?;
    totp_store::remove(&state.db, id).await?;
    second_factor_guards::clear(&state.db, id).await?;
    known_devices::forget_all(&state.db, id).await?;
    kick_user(&state, id).await?;
    let revoked = sessions::revoke_all(&state.db, id, "second factor reset", state.now()).await?;
    record(
        &state,
        Some(auth.user.id),
        "totp.reset",
        Some(id.to_string()),
        serde_json::json!({"sessions_revoked": revoked}),
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}

/// Unlocks a second factor locked by wrong codes: every count of failed attempts of the user
/// starts afresh. The factor itself and the signed-in devices stay.
#[utoipa::path(post, path = "/api/v1/admin/users/{id}/unlock-second-factor", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 204, description = "Unlocked"), (status = 403, body = crate::Problem),
        (status = 404, body = crate::Problem)))]
pub async fn unlock_second_factor(
    State(state): State<AppState>,
    auth: AuthUser,
    AppPath(id): AppPath<Uuid>,
) -> Result<StatusCode> {
    let id = UserId::from_uuid(id);
    require(&auth, Action::ResetSecondFactor, Resource::User { id })?;
    repo::users::get_live(&state.db, id).await?;
    let before = second_factor_guards::list_by_user(&state.db, id).await?;
    let status = SecondFactorStatus::of(&before);
    second_factor_guards::clear(&state.db, id).await?;
    record(
        &state,
        Some(auth.user.id),
        "second_factor.unlocked",
        Some(id.to_string()),
        serde_json::json!({"failed_attempts": status.failed_attempts, "was_locked": status.locked}),
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}
