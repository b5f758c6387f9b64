//! The signed-in user: profile, password change, device sessions, the personal calendar feed.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use plenum_domain::DeviceSessionId;
use plenum_store::auth::{calendar_feeds, recovery_codes, second_factor_guards, sessions};
use plenum_store::repo;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::auth::{MeResponse, SecondFactorStatus, check_totp, random_token, record, sha256_hex};
use super::oparl::{OparlError, Origin};
use crate::auth::password::{check_password_rules, hash_password, verify_password};
use crate::auth::{AuthUser, ClientInfo};
use crate::json::{AppJson, AppPath};
use crate::{ApiError, AppState, Result};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/me", get(get_me))
        .route("/me/password", post(change_password))
        .route("/me/devices", get(list_devices))
        .route("/me/devices/{id}", delete(revoke_device))
        .route(
            "/me/calendar",
            get(get_calendar)
                .post(create_calendar)
                .delete(revoke_calendar),
        )
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProfileResponse {
    #[serde(flatten)]
    pub user: MeResponse,
    pub recovery_codes_left: u64,
    /// Failed second-factor attempts on this account right now, and whether it is locked.
    pub second_factor: SecondFactorStatus,
}

/// The signed-in user.
#[utoipa::path(get, path = "/api/v1/me", tag = "me", security(("bearer" = [])),
    responses((status = 200, body = ProfileResponse), (status = 401, body = crate::Problem)))]
pub async fn get_me(
    State(state): State<AppState>,
    auth: AuthUser,
) -> Result<Json<ProfileResponse>> {
    let guards = second_factor_guards::list_by_user(&state.db, auth.user.id).await?;
    Ok(Json(ProfileResponse {
        user: MeResponse::from(&auth.user),
        recovery_codes_left: recovery_codes::remaining(&state.db, auth.user.id).await?,
        second_factor: SecondFactorStatus::of(&guards),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PasswordChangeRequest {
    pub current_password: String,
    /// At least 10 characters, at most 1024 bytes.
    #[schema(min_length = 10)]
    pub new_password: String,
    /// A current code from the authenticator app.
    pub code: String,
}

/// Changes the password; needs the current password and a second-factor code. Every other
/// device is signed out.
#[utoipa::path(post, path = "/api/v1/me/password", tag = "me", security(("bearer" = [])),
    request_body = PasswordChangeRequest,
    responses(
        (status = 204, description = "Password changed; other devices signed out"),
        (status = 401, description = "Wrong password or code", body = crate::Problem),
        (status = 422, description = "New password too short or too long", body = crate::Problem),
        (status = 429, description = "Too many wrong passwords or codes (`rate-limited`)", body = crate::Problem),
    ))]
pub async fn change_password(
    State(state): State<AppState>,
    auth: AuthUser,
    client: ClientInfo,
    AppJson(request): AppJson<PasswordChangeRequest>,
) -> Result<StatusCode> {
    state
        .auth
        .limiter
        .check(Some(auth.user.username.as_str()), client.address)
        .await
        .map_err(ApiError::RateLimited)?;
    check_password_rules(&request.new_password)?;
    let current = auth
        .user
        .password_hash
        .clone()
        .ok_or(ApiError::InvalidCredentials)?;
    let given = request.current_password;
    let ok = verify_password(given, current).await;
    if !ok {
        return Err(ApiError::InvalidCredentials);
    }
    check_totp(&state, &auth.user, &request.code).await?;
    let mut user = auth.user.clone();
    user.password_hash = Some(hash_password(request.new_password).await?);
    repo::users::update(&state.db, user).await?;
    let now = state.now();
    let mut signed_out = 0;
    for session in sessions::list_by_user(&state.db, auth.user.id).await? {
        if session.id != auth.session
            && sessions::revoke(&state.db, session.id, "password changed", now).await?
        {
            state.live.kick_session(session.id);
            signed_out += 1;
        }
    }
    record(
        &state,
        Some(auth.user.id),
        "password.changed",
        Some(auth.user.id.to_string()),
        serde_json::json!({"other_devices_signed_out": signed_out}),
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeviceResponse {
    pub id: Uuid,
    pub name: String,
    pub user_agent: String,
    pub created: DateTime<Utc>,
    pub last_used: DateTime<Utc>,
    /// The device this request comes from.
    pub current: bool,
}

/// The user's signed-in devices.
#[utoipa::path(get, path = "/api/v1/me/devices", tag = "me", security(("bearer" = [])),
    responses((status = 200, body = Vec<DeviceResponse>), (status = 401, body = crate::Problem)))]
pub async fn list_devices(
    State(state): State<AppState>,
    auth: AuthUser,
) -> Result<Json<Vec<DeviceResponse>>> {
    let now = state.now();
    let devices = sessions::list_by_user(&state.db, auth.user.id)
        .await?
        .into_iter()
        .filter(|s| s.is_active(now))
        .map(|s| DeviceResponse {
            id: s.id.as_uuid(),
            current: s.id == auth.session,
            name: s.name,
            user_agent: s.user_agent,
            created: s.created,
            last_used: s.last_used,
        })
        .collect();
    Ok(Json(devices))
}

/// Signs one of the user's devices out (a lost tablet). Other users' devices are not found.
#[utoipa::path(delete, path = "/api/v1/me/devices/{id}", tag = "me", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Device session id")),
    responses((status = 204, description = "Signed out"), (status = 404, body = crate::Problem)))]
pub async fn revoke_device(
    State(state): State<AppState>,
    auth: AuthUser,
    AppPath(id): AppPath<Uuid>,
) -> Result<StatusCode> {
    let id = DeviceSessionId::from_uuid(id);
    let session = sessions::get(&state.db, id)
        .await
        .map_err(|_| ApiError::NotFound)?;
    if session.user_id != auth.user.id || !session.is_active(state.now()) {
        return Err(ApiError::NotFound);
    }
    sessions::revoke(&state.db, id, "revoked by user", state.now()).await?;
    state.live.kick_session(id);
    record(
        &state,
        Some(auth.user.id),
        "device.revoked",
        Some(id.to_string()),
        serde_json::json!({"reason": "revoked by user"}),
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CalendarFeedCreatedResponse {
    /// The feed's address for a calendar app. Shown once: only its hash is stored.
    pub url: String,
    /// The secret part of `url`.
    pub token: String,
    pub created: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CalendarFeedResponse {
    /// Whether a feed is active (its URL cannot be shown again).
    pub active: bool,
    pub created: Option<DateTime<Utc>>,
    /// The last fetch by a calendar app (recorded at most once a minute).
    pub last_used: Option<DateTime<Utc>>,
}

/// Whether the user has an active personal calendar feed (never its URL).
#[utoipa::path(get, path = "/api/v1/me/calendar", tag = "me", security(("bearer" = [])),
    responses((status = 200, body = CalendarFeedResponse), (status = 401, body = crate::Problem)))]
pub async fn get_calendar(
    State(state): State<AppState>,
    auth: AuthUser,
) -> Result<Json<CalendarFeedResponse>> {
    let feed = calendar_feeds::active(&state.db, auth.user.id).await?;
    Ok(Json(CalendarFeedResponse {
        active: feed.is_some(),
        created: feed.as_ref().map(|f| f.created),
        last_used: feed.and_then(|f| f.last_used),
    }))
}

/// Creates the personal calendar feed (`GET /api/v1/calendar/{token}.ics`) and returns its URL,
/// once. A feed created before stops working: one feed per user is active.
#[utoipa::path(post, path = "/api/v1/me/calendar", tag = "me", security(("bearer" = [])),
    responses(
        (status = 201, description = "Created; the URL is shown this once",
            body = CalendarFeedCreatedResponse),
        (status = 401, body = crate::Problem),
    ))]
pub async fn create_calendar(
    State(state): State<AppState>,
    auth: AuthUser,
    origin: std::result::Result<Origin, OparlError>,
) -> Result<Response> {
    let token = random_token();
    let now = state.now();
    let txn = plenum_store::begin_write(&state.db).await?;
    let feed =
        calendar_feeds::create(&txn, auth.user.id, &sha256_hex(token.as_bytes()), now).await?;
    txn.commit().await.map_err(plenum_store::StoreError::from)?;
    record(
        &state,
        Some(auth.user.id),
        "calendar.created",
        Some(feed.id.to_string()),
        serde_json::json!({}),
    )
    .await;
    let origin = origin.map(|Origin(o)| o).unwrap_or_default();
    let body = CalendarFeedCreatedResponse {
        url: format!("{origin}/api/v1/calendar/{token}.ics"),
        token,
        created: feed.created,
    };
    let mut response = (StatusCode::CREATED, Json(body)).into_response();
    response.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    Ok(response)
}

/// Revokes the personal calendar feed: its URL answers 404 from now on. 204 also when no feed
/// was active.
#[utoipa::path(delete, path = "/api/v1/me/calendar", tag = "me", security(("bearer" = [])),
    responses((status = 204, description = "No feed is active now"),
        (status = 401, body = crate::Problem)))]
pub async fn revoke_calendar(State(state): State<AppState>, auth: AuthUser) -> Result<StatusCode> {
    if calendar_feeds::revoke(&state.db, auth.user.id, state.now()).await? > 0 {
        record(
            &state,
            Some(auth.user.id),
            "calendar.revoked",
            Some(auth.user.id.to_string()),
            serde_json::json!({"reason": "revoked by user"}),
        )
        .await;
    }
    Ok(StatusCode::NO_CONTENT)
}
