//! Two-step login: password → `mfa_pending` token → TOTP code (or recovery code) → access token
//! plus a rotating refresh token bound to a device session; first-time enrolment; refresh;
//! logout; password setup links.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use chrono::{DateTime, Duration, Utc};
use plenum_domain::{AuditEvent, DeviceSession, DeviceSessionId, User, UserId, Username};
use plenum_store::auth::{recovery_codes, sessions, setup_links, totp as totp_store};
use plenum_store::repo;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::password::{check_password_rules, verify_password_sync};
use crate::auth::tokens::{ACCESS_TTL, Audience, Claims, MFA_TTL};
use crate::auth::totp::{self as totp, CodeRejected};
use crate::auth::{AuthUser, ClientInfo};
use crate::json::AppJson;
use crate::{ApiError, AppState, Result};

/// Name of the refresh cookie.
pub const REFRESH_COOKIE: &str = "plenum_refresh";
/// Idle lifetime of a device session: each refresh extends it.
pub const SESSION_IDLE: Duration = Duration::days(30);

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/login", post(login))
        .route("/auth/totp", post(verify_second_factor))
        .route("/auth/totp/enrol", post(begin_enrolment))
        .route("/auth/totp/confirm", post(confirm_enrolment))
        .route("/auth/refresh", post(refresh))
        .route("/auth/logout", post(logout))
        .route("/auth/setup", post(set_up_password))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LoginResponse {
    /// Present this with the second factor. Valid for 5 minutes, for nothing else.
    pub mfa_token: String,
    pub expires_in: i64,
    /// `totp`: enter the code from your app; `enrol`: set up the app first.
    pub next: &'static str,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SecondFactorRequest {
    pub mfa_token: String,
    /// The 6-digit code from the authenticator app.
    #[serde(default)]
    pub code: Option<String>,
    /// Or one of the recovery codes.
    #[serde(default)]
    pub recovery_code: Option<String>,
    /// Name for this device in the device list, e.g. "Tablet Ratssaal".
    #[serde(default)]
    pub device_name: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SessionResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    pub device_session_id: Uuid,
    pub user: MeResponse,
    /// Only right after enrolment: shown once, store them safely.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recovery_codes: Option<Vec<String>>,
    /// Unused recovery codes left (after a recovery code was used).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recovery_codes_left: Option<u64>,
}

/// The signed-in user, as the app shows them.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeResponse {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    pub site_role: String,
    pub person_id: Option<Uuid>,
}

impl From<&User> for MeResponse {
    fn from(user: &User) -> Self {
        Self {
            id: user.id.as_uuid(),
            username: user.username.to_string(),
            display_name: user.display_name.to_string(),
            site_role: user.site_role.to_string(),
            person_id: user.person_id.map(|p| p.as_uuid()),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct EnrolRequest {
    pub mfa_token: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EnrolResponse {
    /// The secret in Base32, for typing into the app by hand.
    pub secret: String,
    /// `otpauth://` URI (what the QR code contains).
    pub otpauth_uri: String,
    /// The QR code as an SVG data URI.
    pub qr_svg: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SetupRequest {
    /// The token from the setup link.
    pub token: String,
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SetupResponse {
    pub username: String,
}

pub(crate) async fn record(
    state: &AppState,
    actor: Option<UserId>,
    action: &str,
    subject: Option<String>,
    detail: serde_json::Value,
) {
    let event = AuditEvent {
        actor,
        action: action.to_owned(),
        subject,
        detail: detail.to_string(),
    };
    if let Err(err) = state.audit.append(&state.db, event, state.now()).await {
        tracing::error!(error = %err, action, "could not write the audit log");
    }
}

pub(crate) fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

fn rate_limit(state: &AppState, account: Option<&str>, client: &ClientInfo) -> Result<()> {
    state
        .auth
        .limiter
        .check(account, client.address)
        .map_err(ApiError::RateLimited)
}

/// Step 1: user name and password.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses(
        (status = 200, description = "Password correct; continue with the second factor", body = LoginResponse),
        (status = 401, description = "Invalid credentials", body = crate::Problem),
        (status = 429, description = "Too many attempts", body = crate::Problem),
    ))]
pub async fn login(
    State(state): State<AppState>,
    client: ClientInfo,
    AppJson(request): AppJson<LoginRequest>,
) -> Result<Json<LoginResponse>> {
    let username = Username::parse(&request.username).ok();
    rate_limit(&state, Some(request.username.trim()), &client)?;
    let user = match &username {
        Some(name) => repo::users::find_by_username(&state.db, name).await?,
        None => None,
    };
    let hash = user
        .as_ref()
        .and_then(|u| u.password_hash.clone())
        .unwrap_or_else(|| state.auth.dummy_hash.clone());
    let password = request.password;
    let matches = tokio::task::spawn_blocking(move || verify_password_sync(&password, &hash))
        .await
        .unwrap_or(false);
    let Some(user) = user.filter(|u| matches && u.password_hash.is_some()) else {
        record(
            &state,
            None,
            "login.failure",
            Some(request.username.chars().take(64).collect()),
            serde_json::json!({"step": "password", "address": client.address.to_string()}),
        )
        .await;
        return Err(ApiError::InvalidCredentials);
    };
    let enrolled = totp_store::get(&state.db, user.id)
        .await?
        .is_some_and(|t| t.enabled);
    let now = state.now();
    Ok(Json(LoginResponse {
        mfa_token: state.auth.tokens.mfa_pending(user.id, !enrolled, now),
        expires_in: MFA_TTL.num_seconds(),
        next: if enrolled { "totp" } else { "enrol" },
    }))
}

async fn pending_user(state: &AppState, mfa_token: &str) -> Result<(Claims, User)> {
    let claims = state.auth.tokens.verify(mfa_token, Audience::MfaPending)?;
    let user = repo::users::get_live(&state.db, claims.user())
        .await
        .map_err(|_| ApiError::InvalidCredentials)?;
    Ok((claims, user))
}

fn decrypt_totp(state: &AppState, user: &User, secret_enc: &str) -> Result<totp_rs::Totp> {
    let secret = state
        .auth
        .cipher
        .decrypt(user.id, secret_enc)
        .map_err(|err| ApiError::Store(plenum_store::StoreError::Corrupt(err.to_string())))?;
    totp::totp_for(&secret, &user.username).ok_or_else(|| {
        ApiError::Store(plenum_store::StoreError::Corrupt(
            "TOTP secret too short".into(),
        ))
    })
}

/// Checks a TOTP code against the user's stored secret and records its step (replay guard).
pub(crate) async fn check_totp(state: &AppState, user: &User, code: &str) -> Result<()> {
    let Some(stored) = totp_store::get(&state.db, user.id).await? else {
        return Err(ApiError::InvalidCredentials);
    };
    let generator = decrypt_totp(state, user, &stored.secret_enc)?;
    let now = u64::try_from((state.clock)().timestamp()).unwrap_or(0);
    match totp::check_code(&generator, code, now, stored.last_step) {
        Ok(step) => {
            if totp_store::accept_step(&state.db, user.id, step).await? {
                Ok(())
            } else {
                Err(ApiError::TotpReplayed)
            }
        }
        Err(CodeRejected::Replayed) => Err(ApiError::TotpReplayed),
        Err(CodeRejected::Invalid) => Err(ApiError::InvalidCredentials),
    }
}

/// A new device session with a fresh refresh token; returns the cookie value.
async fn open_session(
    state: &AppState,
    user: &User,
    client: &ClientInfo,
    device_name: Option<String>,
) -> Result<(DeviceSession, String)> {
    let now = state.now();
    let name = device_name
        .map(|n| n.trim().chars().take(100).collect::<String>())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| device_label(&client.user_agent));
    let session = DeviceSession {
        id: DeviceSessionId::new(),
        user_id: user.id,
        name,
        user_agent: client.user_agent.clone(),
        created: now,
        last_used: now,
        expires_at: now + SESSION_IDLE,
        revoked_at: None,
        revoked_reason: None,
    };
    let secret = random_token();
    sessions::insert(&state.db, &session, &sha256_hex(secret.as_bytes())).await?;
    let cookie = format!("{}.{}", session.id, secret);
    Ok((session, cookie))
}

/// A short label from a user agent: "Chrome auf Android", or the agent itself.
fn device_label(user_agent: &str) -> String {
    let browser = ["Firefox", "Edg", "Chrome", "Safari"]
        .into_iter()
        .find(|b| user_agent.contains(b))
        .map(|b| if b == "Edg" { "Edge" } else { b });
    let system = ["Android", "iPad", "iPhone", "Windows", "Mac OS", "Linux"]
        .into_iter()
        .find(|s| user_agent.contains(s));
    match (browser, system) {
        (Some(b), Some(s)) => format!("{b} / {s}"),
        (Some(b), None) => b.to_owned(),
        _ if user_agent.is_empty() => "Unbekanntes Gerät / unknown device".to_owned(),
        _ => user_agent.chars().take(60).collect(),
    }
}

/// 256 random bits, URL-safe.
pub(crate) fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    B64URL.encode(bytes)
}

fn refresh_cookie(state: &AppState, value: &str, max_age: Duration) -> HeaderValue {
    let secure = if state.config.cookie_secure {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{REFRESH_COOKIE}={value}; Path=/api/v1/auth; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
        max_age.num_seconds().max(0)
    );
    HeaderValue::from_str(&cookie).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// Opens a device session after a passed second factor, records the login, answers with tokens.
async fn sign_in(
    state: &AppState,
    user: &User,
    client: &ClientInfo,
    device_name: Option<String>,
    recovery_codes: Option<Vec<String>>,
    recovery_codes_left: Option<u64>,
) -> Result<Response> {
    let (session, cookie) = open_session(state, user, client, device_name).await?;
    record(
        state,
        Some(user.id),
        "login.success",
        Some(session.id.to_string()),
        serde_json::json!({"address": client.address.to_string(), "device": session.name}),
    )
    .await;
    Ok(session_response(
        state,
        user,
        &session,
        &cookie,
        recovery_codes,
        recovery_codes_left,
    ))
}

fn session_response(
    state: &AppState,
    user: &User,
    session: &DeviceSession,
    cookie: &str,
    recovery_codes: Option<Vec<String>>,
    recovery_codes_left: Option<u64>,
) -> Response {
    let body = SessionResponse {
        access_token: state.auth.tokens.access(user.id, session.id, state.now()),
        token_type: "Bearer",
        expires_in: ACCESS_TTL.num_seconds(),
        device_session_id: session.id.as_uuid(),
        user: MeResponse::from(user),
        recovery_codes,
        recovery_codes_left,
    };
    let mut response = Json(body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::SET_COOKIE,
        refresh_cookie(state, cookie, SESSION_IDLE),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Step 2: the code from the authenticator app, or a recovery code.
#[utoipa::path(post, path = "/api/v1/auth/totp", tag = "auth", request_body = SecondFactorRequest,
    responses(
        (status = 200, description = "Signed in; the refresh token is set as an httpOnly cookie", body = SessionResponse),
        (status = 401, description = "Invalid code, replayed code (`totp-replayed`) or expired step-1 token", body = crate::Problem),
        (status = 429, description = "Too many attempts", body = crate::Problem),
    ))]
pub async fn verify_second_factor(
    State(state): State<AppState>,
    client: ClientInfo,
    AppJson(request): AppJson<SecondFactorRequest>,
) -> Result<Response> {
    let (claims, user) = pending_user(&state, &request.mfa_token).await?;
    if claims.enrol {
        return Err(ApiError::Forbidden);
    }
    rate_limit(&state, Some(user.username.as_str()), &client)?;
    let mut left = None;
    let outcome = match (&request.code, &request.recovery_code) {
        (Some(code), _) => check_totp(&state, &user, code).await,
        (None, Some(recovery)) => {
            let hash = totp::hash_recovery_code(recovery);
            if recovery_codes::consume(&state.db, user.id, &hash, state.now()).await? {
                left = Some(recovery_codes::remaining(&state.db, user.id).await?);
                record(
                    &state,
                    Some(user.id),
                    "recovery_code.used",
                    Some(user.id.to_string()),
                    serde_json::json!({"left": left}),
                )
                .await;
                Ok(())
            } else {
                Err(ApiError::InvalidCredentials)
            }
        }
        (None, None) => Err(ApiError::InvalidCredentials),
    };
    if let Err(err) = outcome {
        let reason = if matches!(err, ApiError::TotpReplayed) {
            "replayed"
        } else {
            "invalid"
        };
        record(&state, Some(user.id), "login.failure", Some(user.id.to_string()),
            serde_json::json!({"step": "second_factor", "reason": reason, "address": client.address.to_string()})).await;
        return Err(err);
    }
    sign_in(&state, &user, &client, request.device_name, None, left).await
}

/// First login: creates a TOTP secret and returns it with its QR code. Not active until
/// confirmed with a valid code.
#[utoipa::path(post, path = "/api/v1/auth/totp/enrol", tag = "auth", request_body = EnrolRequest,
    responses(
        (status = 200, description = "Secret and QR code for the authenticator app", body = EnrolResponse),
        (status = 401, description = "Invalid or expired step-1 token", body = crate::Problem),
        (status = 409, description = "A second factor is already set up", body = crate::Problem),
    ))]
pub async fn begin_enrolment(
    State(state): State<AppState>,
    AppJson(request): AppJson<EnrolRequest>,
) -> Result<Json<EnrolResponse>> {
    let (claims, user) = pending_user(&state, &request.mfa_token).await?;
    if !claims.enrol {
        return Err(ApiError::Store(plenum_store::StoreError::Conflict(
            "a second factor is already set up".into(),
        )));
    }
    let secret = totp::generate_secret();
    let sealed = state.auth.cipher.encrypt(user.id, &secret);
    totp_store::begin_enrolment(&state.db, user.id, sealed, state.now()).await?;
    let generator = totp::totp_for(&secret, &user.username)
        .ok_or_else(|| ApiError::Store(plenum_store::StoreError::Corrupt("secret".into())))?;
    let otpauth_uri = generator
        .to_url()
        .map_err(|err| ApiError::Store(plenum_store::StoreError::Corrupt(err.to_string())))?;
    let qr_svg = totp::qr_svg_data_uri(&otpauth_uri).unwrap_or_default();
    Ok(Json(EnrolResponse {
        secret: totp::secret_base32(&secret),
        otpauth_uri,
        qr_svg,
    }))
}

/// First login, continued: a valid code activates the second factor, issues ten recovery codes
/// (shown once) and signs the device in.
#[utoipa::path(post, path = "/api/v1/auth/totp/confirm", tag = "auth", request_body = SecondFactorRequest,
    responses(
        (status = 200, description = "Second factor active; signed in; recovery codes shown once", body = SessionResponse),
        (status = 401, description = "Invalid code or expired step-1 token", body = crate::Problem),
        (status = 409, description = "No enrolment in progress", body = crate::Problem),
    ))]
pub async fn confirm_enrolment(
    State(state): State<AppState>,
    client: ClientInfo,
    AppJson(request): AppJson<SecondFactorRequest>,
) -> Result<Response> {
    let (claims, user) = pending_user(&state, &request.mfa_token).await?;
    if !claims.enrol {
        return Err(ApiError::Store(plenum_store::StoreError::Conflict(
            "a second factor is already set up".into(),
        )));
    }
    rate_limit(&state, Some(user.username.as_str()), &client)?;
    let code = request
        .code
        .as_deref()
        .ok_or(ApiError::InvalidCredentials)?;
    match totp_store::get(&state.db, user.id).await? {
        Some(stored) if !stored.enabled => {}
        _ => {
            return Err(ApiError::Store(plenum_store::StoreError::Conflict(
                "no enrolment in progress".into(),
            )));
        }
    }
    check_totp(&state, &user, code).await?;
    let codes = totp::generate_recovery_codes();
    let hashes: Vec<String> = codes.iter().map(|c| totp::hash_recovery_code(c)).collect();
    let now = state.now();
    totp_store::enable(&state.db, user.id, now).await?;
    recovery_codes::replace(&state.db, user.id, &hashes, now).await?;
    record(
        &state,
        Some(user.id),
        "totp.enrolled",
        Some(user.id.to_string()),
        serde_json::json!({}),
    )
    .await;
    sign_in(
        &state,
        &user,
        &client,
        request.device_name,
        Some(codes),
        None,
    )
    .await
}

fn cookie_value(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == REFRESH_COOKIE)
        .map(|(_, value)| value.to_owned())
}

/// A new access token for the refresh cookie, which is rotated. Presenting a refresh token that
/// was already rotated revokes the device session (someone else has a copy).
#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "auth",
    responses(
        (status = 200, description = "New access token; the cookie is rotated", body = SessionResponse),
        (status = 401, description = "Missing, expired or reused refresh token", body = crate::Problem),
    ))]
pub async fn refresh(State(state): State<AppState>, headers: HeaderMap) -> Result<Response> {
    let value = cookie_value(&headers).ok_or(ApiError::RefreshInvalid)?;
    let (id, secret) = value.split_once('.').ok_or(ApiError::RefreshInvalid)?;
    let id: DeviceSessionId = id.parse().map_err(|_| ApiError::RefreshInvalid)?;
    let session = sessions::get(&state.db, id)
        .await
        .map_err(|_| ApiError::RefreshInvalid)?;
    let now = state.now();
    if !session.is_active(now) {
        return Err(ApiError::RefreshInvalid);
    }
    let presented = sha256_hex(secret.as_bytes());
    let new_secret = random_token();
    let rotated = sessions::rotate(
        &state.db,
        id,
        &presented,
        &sha256_hex(new_secret.as_bytes()),
        now,
        now + SESSION_IDLE,
    )
    .await?;
    if !rotated {
        // Not the current token of a live session: an old copy. Treat as theft.
        state.live.kick_session(id);
        if sessions::revoke(&state.db, id, "refresh token reused", now).await? {
            record(
                &state,
                Some(session.user_id),
                "device.revoked",
                Some(id.to_string()),
                serde_json::json!({"reason": "refresh token reused"}),
            )
            .await;
        }
        return Err(ApiError::RefreshReused);
    }
    let user = repo::users::get_live(&state.db, session.user_id)
        .await
        .map_err(|_| ApiError::RefreshInvalid)?;
    Ok(session_response(
        &state,
        &user,
        &session,
        &format!("{id}.{new_secret}"),
        None,
        None,
    ))
}

/// Signs this device out: revokes its session and clears the cookie.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", security(("bearer" = [])),
    responses((status = 204, description = "Signed out")))]
pub async fn logout(State(state): State<AppState>, auth: AuthUser) -> Result<Response> {
    state.live.kick_session(auth.session);
    if sessions::revoke(&state.db, auth.session, "logout", state.now()).await? {
        record(
            &state,
            Some(auth.user.id),
            "device.revoked",
            Some(auth.session.to_string()),
            serde_json::json!({"reason": "logout"}),
        )
        .await;
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        refresh_cookie(&state, "", Duration::zero()),
    );
    Ok(response)
}

/// Sets the first password through a one-time setup link (created by an admin).
#[utoipa::path(post, path = "/api/v1/auth/setup", tag = "auth", request_body = SetupRequest,
    responses(
        (status = 200, description = "Password set; sign in next", body = SetupResponse),
        (status = 400, description = "Unknown, used or expired link", body = crate::Problem),
        (status = 422, description = "Password too short or too long", body = crate::Problem),
        (status = 429, description = "Too many attempts", body = crate::Problem),
    ))]
pub async fn set_up_password(
    State(state): State<AppState>,
    client: ClientInfo,
    AppJson(request): AppJson<SetupRequest>,
) -> Result<Json<SetupResponse>> {
    rate_limit(&state, None, &client)?;
    check_password_rules(&request.password)?;
    let hash = crate::auth::password::hash_password(request.password).await?;
    let token_hash = sha256_hex(request.token.trim().as_bytes());
    let user_id = setup_links::consume(&state.db, &token_hash, state.now())
        .await?
        .ok_or(ApiError::SetupLinkInvalid)?;
    let mut user = repo::users::get_live(&state.db, user_id).await?;
    user.password_hash = Some(hash);
    let user = repo::users::update(&state.db, user).await?;
    record(
        &state,
        Some(user.id),
        "password.set",
        Some(user.id.to_string()),
        serde_json::json!({"via": "setup link"}),
    )
    .await;
    Ok(Json(SetupResponse {
        username: user.username.to_string(),
    }))
}

/// Creates a setup link token for a user (hash stored); returns the token and its expiry.
pub(crate) async fn new_setup_link(
    state: &AppState,
    user: UserId,
) -> Result<(String, DateTime<Utc>)> {
    let token = random_token();
    let now = state.now();
    let expires = now + state.config.setup_link_ttl;
    setup_links::insert(&state.db, user, &sha256_hex(token.as_bytes()), now, expires).await?;
    Ok((token, expires))
}
