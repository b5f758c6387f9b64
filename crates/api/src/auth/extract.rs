//! Extractors: the signed-in user (checked against the device session on every request), the
//! client's address and user agent, and JSON bodies whose errors are problem documents.

use std::net::IpAddr;

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use plenum_domain::{DeviceSessionId, User};
use plenum_store::auth::sessions;
use plenum_store::repo;

use crate::auth::tokens::Audience;
use crate::{ApiError, AppState};

/// A fully signed-in user (password and second factor) on a live device session.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub user: User,
    pub session: DeviceSessionId,
}

/// The bearer token of a request, if any.
pub fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer(parts).ok_or(ApiError::Unauthenticated)?;
        let claims = state.auth.tokens.verify(token, Audience::Access)?;
        let session_id = claims
            .session()
            .ok_or(ApiError::Token(crate::auth::tokens::TokenError::Invalid))?;
        let session = match sessions::get(&state.db, session_id).await {
            Ok(session) => session,
            Err(plenum_store::StoreError::NotFound { .. }) => return Err(ApiError::SessionRevoked),
            Err(err) => return Err(err.into()),
        };
        if session.user_id != claims.user() || !session.is_active(state.now()) {
            return Err(ApiError::SessionRevoked);
        }
        let user = match repo::users::get_live(&state.db, claims.user()).await {
            Ok(user) => user,
            Err(plenum_store::StoreError::NotFound { .. }) => return Err(ApiError::SessionRevoked),
            Err(err) => return Err(err.into()),
        };
        Ok(AuthUser {
            user,
            session: session_id,
        })
    }
}

/// Who is calling from where: for rate limits and the device list.
#[derive(Debug, Clone)]
pub struct ClientInfo {
    pub address: IpAddr,
    pub user_agent: String,
}

impl FromRequestParts<AppState> for ClientInfo {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        // Behind a trusted proxy: the client it names (see `crate::origin`).
        let address = state
            .config
            .origin
            .client_ip(parts)
            .unwrap_or(IpAddr::from([127, 0, 0, 1]));
        let user_agent = parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .chars()
            .take(300)
            .collect();
        Ok(ClientInfo {
            address,
            user_agent,
        })
    }
}
