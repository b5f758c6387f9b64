//! Two-step login: password → `mfa_pending` token → TOTP code (or recovery code) → access token
//! plus a rotating refresh token bound to a device session; first-time enrolment; refresh;
//! logout; password setup links.
//!
//! The `mfa_pending` token stands for a pending-login row created by the password step and is
//! used once: the row is consumed in the transaction that opens the device session. Failed
//! second-factor attempts are budgeted per account and bucket (every new device together, or
//! one device that signed in before and holds its `plenum_device` cookie): waits that double
//! after three failures, and a lock of app codes after ten (see `docs/security.md`).

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use chrono::{DateTime, Duration, Utc};
use plenum_domain::{
    AuditEvent, DeviceSession, DeviceSessionId, SECOND_FACTOR_LOCK_AFTER, SecondFactorKind,
    SecondFactorVerdict, User, UserId, Username,
};
use plenum_store::auth::{
    PendingLogin, known_devices, pending_logins, recovery_codes, second_factor_guards, sessions,
    setup_links, totp as totp_store,
};
use plenum_store::{ConnectionTrait, DatabaseTransaction, StoreError, repo};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::password::{check_password_rules, verify_password};
use crate::auth::tokens::{ACCESS_TTL, Audience, LEEWAY_SECS, MFA_TTL, TokenError};
use crate::auth::totp::{self as totp, CodeRejected};
use crate::auth::{AuthUser, ClientInfo};
use crate::json::AppJson;
use crate::{ApiError, AppState, Result};

/// Name of the refresh cookie.
pub const REFRESH_COOKIE: &str = "plenum_refresh";
/// Idle lifetime of a device session: each refresh extends it.
pub const SESSION_IDLE: Duration = Duration::days(30);
/// Name of the known-device cookie: set at each successful sign-in, it gives the device its own
/// budget of second-factor attempts, so a stranger's guesses cannot lock it out.
pub const DEVICE_COOKIE: &str = "plenum_device";

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
    /// Failed second-factor attempts on this account since the last sign-in (present only when
    /// there were some): show them to the user.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub second_factor_failures: Option<SecondFactorNotice>,
}

/// Failed second-factor attempts the user has not been told about yet.
#[derive(Debug, Serialize, ToSchema)]
pub struct SecondFactorNotice {
    /// How many attempts failed (from any device).
    pub failed_attempts: u32,
    /// When the last of them was made.
    pub last_attempt: Option<DateTime<Utc>>,
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

/// Failed second-factor attempts on an account right now.
#[derive(Debug, Serialize, ToSchema)]
pub struct SecondFactorStatus {
    /// Failed attempts in a row, over all devices (each device that signed in before counts
    /// on its own; new devices together).
    pub failed_attempts: u32,
    /// Codes from the authenticator app are refused on devices that never signed in before,
    /// until a recovery code is used or an admin unlocks the account.
    pub locked: bool,
    /// Devices that signed in before and are locked themselves.
    pub locked_known_devices: u32,
    /// When the last failed attempt was made.
    pub last_failure: Option<DateTime<Utc>>,
}

impl SecondFactorStatus {
    /// The status from the account's guard rows.
    pub(crate) fn of<'a>(rows: impl IntoIterator<Item = &'a plenum_store::auth::GuardRow>) -> Self {
        let mut status = Self {
            failed_attempts: 0,
            locked: false,
            locked_known_devices: 0,
            last_failure: None,
        };
        for row in rows {
            if row.budget.failures == 0 {
                continue;
            }
            status.failed_attempts = status.failed_attempts.saturating_add(row.budget.failures);
            status.last_failure = status.last_failure.max(row.budget.last_attempt);
            if row.budget.is_locked() {
                if row.bucket == second_factor_guards::NEW_DEVICES {
                    status.locked = true;
                } else {
                    status.locked_known_devices += 1;
                }
            }
        }
        status
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
    /// At least 10 characters, at most 1024 bytes.
    #[schema(min_length = 10)]
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

async fn rate_limit(state: &AppState, account: Option<&str>, client: &ClientInfo) -> Result<()> {
    state
        .auth
        .limiter
        .check(account, client.address)
        .await
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
    headers: HeaderMap,
    AppJson(request): AppJson<LoginRequest>,
) -> Result<Json<LoginResponse>> {
    let username = Username::parse(&request.username).ok();
    let user = match &username {
        Some(name) => repo::users::find_by_username(&state.db, name).await?,
        None => None,
    };
    // A device that signed in before has a budget of its own, so a stranger burning the
    // account's attempts does not lock it out.
    let device = match &user {
        Some(user) => known_device(&state, &headers, user.id).await?,
        None => None,
    };
    let account_key = match (&user, device) {
        (Some(user), Some((device, _))) => format!("{}#{device}", user.username.as_str()),
        _ => request.username.trim().to_owned(),
    };
    rate_limit(&state, Some(&account_key), &client).await?;
    let hash = user
        .as_ref()
        .and_then(|u| u.password_hash.clone())
        .unwrap_or_else(|| state.auth.dummy_hash.clone());
    let password = request.password;
    let matches = verify_password(password, hash).await;
    // What was typed as the user name is recorded only when it names an account: people
    // type passwords into the wrong field.
    let (subject, reason) = match &user {
        Some(user) if user.password_hash.is_none() => {
            (Some(user.username.to_string()), "no password set")
        }
        Some(user) => (Some(user.username.to_string()), "wrong password"),
        None => (None, "unknown user"),
    };
    let Some(user) = user.filter(|u| matches && u.password_hash.is_some()) else {
        record(
            &state,
            None,
            "login.failure",
            subject,
            serde_json::json!({"step": "password", "reason": reason, "address": client.address.to_string()}),
        )
        .await;
        return Err(ApiError::InvalidCredentials);
    };
    let enrolled = totp_store::get(&state.db, user.id)
        .await?
        .is_some_and(|t| t.enabled);
    let now = state.now();
    // The row outlives the token's leeway, so an expired token is reported as expired.
    let leeway = Duration::seconds(i64::try_from(LEEWAY_SECS).unwrap_or(30));
    let pending =
        pending_logins::create(&state.db, user.id, !enrolled, now, now + MFA_TTL + leeway).await?;
    Ok(Json(LoginResponse {
        mfa_token: state
            .auth
            .tokens
            .mfa_pending(user.id, !enrolled, pending, now),
        expires_in: MFA_TTL.num_seconds(),
        next: if enrolled { "totp" } else { "enrol" },
    }))
}

/// The pending login an `mfa_token` stands for, and its user. A token whose pending login was
/// used already (or never existed) is invalid.
async fn pending_user(state: &AppState, mfa_token: &str) -> Result<(PendingLogin, User)> {
    let claims = state.auth.tokens.verify(mfa_token, Audience::MfaPending)?;
    let invalid = || ApiError::Token(TokenError::Invalid);
    let jti = claims.jti.ok_or_else(invalid)?;
    let pending = pending_logins::get_open(&state.db, jti, state.now())
        .await?
        .filter(|p| p.user_id == claims.user() && p.enrol == claims.enrol)
        .ok_or_else(invalid)?;
    let user = repo::users::get_live(&state.db, claims.user())
        .await
        .map_err(|_| ApiError::InvalidCredentials)?;
    Ok((pending, user))
}

/// Uses the pending login once, inside the sign-in transaction.
async fn consume_pending(
    txn: &DatabaseTransaction,
    pending: &PendingLogin,
    now: DateTime<Utc>,
) -> Result<()> {
    if pending_logins::consume(txn, pending.id, now).await? {
        Ok(())
    } else {
        Err(ApiError::Token(TokenError::Invalid))
    }
}

/// The known device this request comes from (and its cookie's value), if its `plenum_device`
/// cookie was issued to this device for `user`.
async fn known_device(
    state: &AppState,
    headers: &HeaderMap,
    user: UserId,
) -> Result<Option<(Uuid, String)>> {
    let Some(value) = cookie_value(headers, DEVICE_COOKIE) else {
        return Ok(None);
    };
    let Some((id, secret)) = value.split_once('.') else {
        return Ok(None);
    };
    let Ok(id) = id.parse::<Uuid>() else {
        return Ok(None);
    };
    let hash = sha256_hex(secret.as_bytes());
    Ok(known_devices::find(&state.db, id, user, &hash, state.now())
        .await?
        .map(|id| (id, value.clone())))
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
    check_totp_in(state, &state.db, user, code).await
}

/// [`check_totp`] on `db` (a transaction).
async fn check_totp_in(
    state: &AppState,
    db: &impl ConnectionTrait,
    user: &User,
    code: &str,
) -> Result<()> {
    let Some(stored) = totp_store::get(db, user.id).await? else {
        return Err(ApiError::InvalidCredentials);
    };
    let generator = decrypt_totp(state, user, &stored.secret_enc)?;
    let now = u64::try_from((state.clock)().timestamp()).unwrap_or(0);
    match totp::check_code(&generator, code, now, stored.last_step) {
        Ok(step) => {
            if totp_store::accept_step(db, user.id, step).await? {
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
    db: &impl ConnectionTrait,
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
    sessions::insert(db, &session, &sha256_hex(secret.as_bytes())).await?;
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

fn auth_cookie(state: &AppState, name: &str, value: &str, max_age: Duration) -> HeaderValue {
    let secure = if state.config.cookie_secure {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{name}={value}; Path=/api/v1/auth; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
        max_age.num_seconds().max(0)
    );
    HeaderValue::from_str(&cookie).unwrap_or_else(|_| HeaderValue::from_static(""))
}

fn refresh_cookie(state: &AppState, value: &str, max_age: Duration) -> HeaderValue {
    auth_cookie(state, REFRESH_COOKIE, value, max_age)
}

/// What a passed second step brings along into the sign-in.
struct SignIn {
    /// The budget bucket the attempt was counted in (none for enrolment).
    bucket: Option<String>,
    /// The known device the request came from, and its cookie's value.
    device: Option<(Uuid, String)>,
    /// Fresh recovery codes: the second factor was just enrolled.
    recovery_codes: Option<Vec<String>>,
    /// Codes left: a recovery code was just used.
    recovery_codes_left: Option<u64>,
}

/// Inside the sign-in transaction: opens the device session, starts the bucket afresh, takes
/// the notice of failed attempts and registers the device as known (or notes that a known one
/// signed in again). Returns the session, its refresh cookie, the notice and the value of the
/// known-device cookie.
async fn open_signed_in(
    state: &AppState,
    txn: &DatabaseTransaction,
    user: &User,
    client: &ClientInfo,
    device_name: Option<String>,
    sign_in: &SignIn,
) -> Result<(DeviceSession, String, Option<SecondFactorNotice>, String)> {
    let now = state.now();
    let (session, cookie) = open_session(state, txn, user, client, device_name).await?;
    if let Some(bucket) = &sign_in.bucket {
        second_factor_guards::passed(txn, user.id, bucket).await?;
    }
    let (unseen, last) = second_factor_guards::take_unseen(txn, user.id).await?;
    let notice = (unseen > 0).then_some(SecondFactorNotice {
        failed_attempts: unseen,
        last_attempt: last,
    });
    let device_cookie = match &sign_in.device {
        Some((device, value)) => {
            known_devices::touch(txn, *device, now).await?;
            value.clone()
        }
        None => {
            let secret = random_token();
            let id =
                known_devices::register(txn, user.id, &sha256_hex(secret.as_bytes()), now).await?;
            format!("{id}.{secret}")
        }
    };
    Ok((session, cookie, notice, device_cookie))
}

/// Finishes a passed second step: opens the device session in the transaction that already
/// consumed the pending login, commits, records the login, answers with tokens and cookies.
async fn sign_in(
    state: &AppState,
    txn: DatabaseTransaction,
    user: &User,
    client: &ClientInfo,
    device_name: Option<String>,
    sign_in: SignIn,
) -> Result<Response> {
    let (session, cookie, notice, device_cookie) =
        open_signed_in(state, &txn, user, client, device_name, &sign_in).await?;
    txn.commit().await.map_err(StoreError::from)?;
    if sign_in.recovery_codes.is_some() {
        record(
            state,
            Some(user.id),
            "totp.enrolled",
            Some(user.id.to_string()),
            serde_json::json!({}),
        )
        .await;
    }
    if let Some(left) = sign_in.recovery_codes_left {
        record(
            state,
            Some(user.id),
            "recovery_code.used",
            Some(user.id.to_string()),
            serde_json::json!({"left": left}),
        )
        .await;
    }
    record(
        state,
        Some(user.id),
        "login.success",
        Some(session.id.to_string()),
        serde_json::json!({
            "address": client.address.to_string(),
            "device": session.name,
            "known_device": sign_in.device.is_some(),
        }),
    )
    .await;
    let mut response = session_response(
        state,
        user,
        &session,
        &cookie,
        sign_in.recovery_codes,
        sign_in.recovery_codes_left,
        notice,
    );
    // Set again on every sign-in, so a device in use is never forgotten by the browser.
    response.headers_mut().append(
        header::SET_COOKIE,
        auth_cookie(state, DEVICE_COOKIE, &device_cookie, known_devices::KEEP),
    );
    Ok(response)
}

fn session_response(
    state: &AppState,
    user: &User,
    session: &DeviceSession,
    cookie: &str,
    recovery_codes: Option<Vec<String>>,
    recovery_codes_left: Option<u64>,
    second_factor_failures: Option<SecondFactorNotice>,
) -> Response {
    let body = SessionResponse {
        access_token: state.auth.tokens.access(user.id, session.id, state.now()),
        token_type: "Bearer",
        expires_in: ACCESS_TTL.num_seconds(),
        device_session_id: session.id.as_uuid(),
        user: MeResponse::from(user),
        recovery_codes,
        recovery_codes_left,
        second_factor_failures,
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
///
/// Failed attempts are counted per account, separately for every device that signed in before
/// (by its `plenum_device` cookie) and for all other devices together: after three failures in
/// a row each further attempt waits (15 s, doubling, up to 15 minutes); after ten, app codes are
/// refused (`second-factor-locked`) until a recovery code is used or an admin unlocks the
/// account. Each `mfa_token` signs in once.
#[utoipa::path(post, path = "/api/v1/auth/totp", tag = "auth", request_body = SecondFactorRequest,
    responses(
        (status = 200, description = "Signed in; the refresh token is set as an httpOnly cookie, the known-device cookie `plenum_device` too", body = SessionResponse),
        (status = 401, description = "Invalid code, replayed code (`totp-replayed`), expired step-1 token (`token-expired`) or one used already (`token-invalid`)", body = crate::Problem),
        (status = 403, description = "The account must enrol a second factor first", body = crate::Problem),
        (status = 423, description = "Too many wrong codes from this device, or from new devices (`second-factor-locked`): use a recovery code, a device that signed in before, or ask an admin", body = crate::Problem),
        (status = 429, description = "Too many attempts: wait `Retry-After` seconds", body = crate::Problem),
    ))]
pub async fn verify_second_factor(
    State(state): State<AppState>,
    client: ClientInfo,
    headers: HeaderMap,
    AppJson(request): AppJson<SecondFactorRequest>,
) -> Result<Response> {
    let (pending, user) = pending_user(&state, &request.mfa_token).await?;
    if pending.enrol {
        return Err(ApiError::Forbidden);
    }
    rate_limit(&state, None, &client).await?;
    let kind = match (&request.code, &request.recovery_code) {
        (Some(_), _) => SecondFactorKind::Code,
        (None, Some(_)) => SecondFactorKind::RecoveryCode,
        (None, None) => return Err(ApiError::InvalidCredentials),
    };
    let device = known_device(&state, &headers, user.id).await?;
    let bucket = device
        .as_ref()
        .map(|(id, _)| id.to_string())
        .unwrap_or_else(|| second_factor_guards::NEW_DEVICES.to_owned());
    let now = state.now();
    let budget = second_factor_guards::get(&state.db, user.id, &bucket).await?;
    match budget.verdict(kind, now) {
        SecondFactorVerdict::Allowed => {}
        SecondFactorVerdict::Wait(wait) => {
            return Err(ApiError::RateLimited(
                wait.to_std().unwrap_or(std::time::Duration::from_secs(1)),
            ));
        }
        SecondFactorVerdict::Locked => return Err(ApiError::SecondFactorLocked),
    }
    // The attempt counts as failed from here on until it passes, so parallel guesses cannot
    // slip past the budget.
    if !second_factor_guards::claim(&state.db, user.id, &bucket, budget.failures, now).await? {
        return Err(ApiError::RateLimited(std::time::Duration::from_secs(1)));
    }
    let txn = plenum_store::begin_write(&state.db).await?;
    consume_pending(&txn, &pending, now).await?;
    let outcome = match (&request.code, &request.recovery_code) {
        (Some(code), _) => check_totp_in(&state, &txn, &user, code)
            .await
            .map(|()| None),
        (None, Some(recovery)) => {
            let hash = totp::hash_recovery_code(recovery);
            if recovery_codes::consume(&txn, user.id, &hash, now).await? {
                // The owner: every lock of the account ends.
                second_factor_guards::reset_all(&txn, user.id).await?;
                Ok(Some(recovery_codes::remaining(&txn, user.id).await?))
            } else {
                Err(ApiError::InvalidCredentials)
            }
        }
        (None, None) => Err(ApiError::InvalidCredentials),
    };
    let left = match outcome {
        Ok(left) => left,
        Err(err) => {
            // Nothing of this attempt is kept but its count: the pending login stays open.
            drop(txn);
            second_factor_failed(&state, &user, &client, &bucket, budget.failures + 1, &err)
                .await?;
            return Err(err);
        }
    };
    sign_in(
        &state,
        txn,
        &user,
        &client,
        request.device_name,
        SignIn {
            bucket: Some(bucket),
            device,
            recovery_codes: None,
            recovery_codes_left: left,
        },
    )
    .await
}

/// Books a failed second-factor attempt (the `failures`-th in a row in `bucket`): the notice for
/// the user, the audit entry, and the lock's entry when this failure locked the bucket.
async fn second_factor_failed(
    state: &AppState,
    user: &User,
    client: &ClientInfo,
    bucket: &str,
    failures: u32,
    err: &ApiError,
) -> Result<()> {
    second_factor_guards::failed(&state.db, user.id, bucket).await?;
    let reason = if matches!(err, ApiError::TotpReplayed) {
        "replayed"
    } else {
        "invalid"
    };
    let device = if bucket == second_factor_guards::NEW_DEVICES {
        "new"
    } else {
        "known"
    };
    record(
        state,
        Some(user.id),
        "login.failure",
        Some(user.id.to_string()),
        serde_json::json!({
            "step": "second_factor",
            "reason": reason,
            "address": client.address.to_string(),
            "device": device,
            "failures_in_a_row": failures,
        }),
    )
    .await;
    if failures == SECOND_FACTOR_LOCK_AFTER {
        tracing::warn!(user = %user.id, device, "second factor locked after {failures} failures");
        record(
            state,
            None,
            "second_factor.locked",
            Some(user.id.to_string()),
            serde_json::json!({"device": device, "bucket": bucket, "failures_in_a_row": failures}),
        )
        .await;
    }
    Ok(())
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
    let (pending, user) = pending_user(&state, &request.mfa_token).await?;
    if !pending.enrol {
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
    headers: HeaderMap,
    AppJson(request): AppJson<SecondFactorRequest>,
) -> Result<Response> {
    let (pending, user) = pending_user(&state, &request.mfa_token).await?;
    if !pending.enrol {
        return Err(ApiError::Store(plenum_store::StoreError::Conflict(
            "a second factor is already set up".into(),
        )));
    }
    rate_limit(&state, Some(user.username.as_str()), &client).await?;
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
    let device = known_device(&state, &headers, user.id).await?;
    let codes = totp::generate_recovery_codes();
    let hashes: Vec<String> = codes.iter().map(|c| totp::hash_recovery_code(c)).collect();
    let now = state.now();
    // One transaction: the pending login is used, the factor enabled, the recovery codes
    // stored and the device signed in together, or none of it happens.
    let txn = plenum_store::begin_write(&state.db).await?;
    consume_pending(&txn, &pending, now).await?;
    check_totp_in(&state, &txn, &user, code).await?;
    totp_store::enable(&txn, user.id, now).await?;
    recovery_codes::replace(&txn, user.id, &hashes, now).await?;
    sign_in(
        &state,
        txn,
        &user,
        &client,
        request.device_name,
        SignIn {
            bucket: None,
            device,
            recovery_codes: Some(codes),
            recovery_codes_left: None,
        },
    )
    .await
}

fn cookie_value(headers: &HeaderMap, cookie: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == cookie)
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
    let value = cookie_value(&headers, REFRESH_COOKIE).ok_or(ApiError::RefreshInvalid)?;
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
    rate_limit(&state, None, &client).await?;
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
