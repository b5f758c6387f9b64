//! Signed tokens (RFC 8725): HS256 pinned, a 256-bit key, `aud` per purpose so one kind can
//! never stand in for another, `exp`/`nbf` checked with 30 s leeway.

use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use plenum_domain::{DeviceSessionId, UserId};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Issuer of every token.
pub const ISSUER: &str = "plenum";
/// Lifetime of an access token.
pub const ACCESS_TTL: Duration = Duration::minutes(15);
/// Lifetime of the token between password and second factor.
pub const MFA_TTL: Duration = Duration::minutes(5);
/// Clock leeway for `exp` and `nbf`.
pub const LEEWAY_SECS: u64 = 30;

/// What a token is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Audience {
    /// Calls the API as a fully signed-in user.
    #[serde(rename = "access")]
    Access,
    /// Only for the second login step (or enrolment).
    #[serde(rename = "mfa_pending")]
    MfaPending,
}

impl Audience {
    pub const fn as_str(&self) -> &'static str {
        match self {
            Audience::Access => "access",
            Audience::MfaPending => "mfa_pending",
        }
    }
}

/// The claims of every token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub sub: Uuid,
    pub aud: String,
    pub iss: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    /// The device session (access tokens).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<Uuid>,
    /// The user must enrol a second factor first (mfa_pending tokens).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub enrol: bool,
    /// The pending login this token stands for (mfa_pending tokens): used once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<Uuid>,
}

impl Claims {
    pub fn user(&self) -> UserId {
        UserId::from_uuid(self.sub)
    }

    pub fn session(&self) -> Option<DeviceSessionId> {
        self.sid.map(DeviceSessionId::from_uuid)
    }
}

/// Why a token was refused; each has its own problem type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the token has expired")]
    Expired,
    #[error("the token is not meant for this purpose")]
    WrongAudience,
    #[error("the token is invalid")]
    Invalid,
}

/// Signs and checks tokens with the server's signing key.
#[derive(Clone)]
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl TokenKeys {
    pub fn new(secret: &[u8]) -> Self {
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
        }
    }

    fn sign(&self, claims: &Claims) -> String {
        // HS256 over serialisable claims cannot fail.
        encode(&Header::new(Algorithm::HS256), claims, &self.encoding).unwrap_or_default()
    }

    /// A short-lived access token for a device session.
    pub fn access(&self, user: UserId, session: DeviceSessionId, now: DateTime<Utc>) -> String {
        self.sign(&Claims {
            sub: user.as_uuid(),
            aud: Audience::Access.as_str().into(),
            iss: ISSUER.into(),
            iat: now.timestamp(),
            nbf: now.timestamp(),
            exp: (now + ACCESS_TTL).timestamp(),
            sid: Some(session.as_uuid()),
            enrol: false,
            jti: None,
        })
    }

    /// The token between password and second factor, for the pending login `jti`.
    pub fn mfa_pending(&self, user: UserId, enrol: bool, jti: Uuid, now: DateTime<Utc>) -> String {
        self.sign(&Claims {
            sub: user.as_uuid(),
            aud: Audience::MfaPending.as_str().into(),
            iss: ISSUER.into(),
            iat: now.timestamp(),
            nbf: now.timestamp(),
            exp: (now + MFA_TTL).timestamp(),
            sid: None,
            enrol,
            jti: Some(jti),
        })
    }

    /// Checks signature, algorithm, issuer, audience, expiry and not-before.
    pub fn verify(&self, token: &str, audience: Audience) -> Result<Claims, TokenError> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = LEEWAY_SECS;
        validation.validate_nbf = true;
        validation.set_audience(&[audience.as_str()]);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "nbf", "aud", "iss", "sub"]);
        match decode::<Claims>(token, &self.decoding, &validation) {
            Ok(data) => Ok(data.claims),
            Err(err) => Err(match err.kind() {
                ErrorKind::ExpiredSignature => TokenError::Expired,
                ErrorKind::InvalidAudience => TokenError::WrongAudience,
                _ => TokenError::Invalid,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> TokenKeys {
        TokenKeys::new(&[42u8; 32])
    }

    #[test]
    fn access_tokens_verify_as_access_only() {
        let (user, session) = (UserId::new(), DeviceSessionId::new());
        let token = keys().access(user, session, Utc::now());
        let claims = keys().verify(&token, Audience::Access).unwrap();
        assert_eq!(claims.user(), user);
        assert_eq!(claims.session(), Some(session));
        assert_eq!(
            keys().verify(&token, Audience::MfaPending),
            Err(TokenError::WrongAudience)
        );
    }

    #[test]
    fn mfa_pending_cannot_be_used_as_access() {
        let token = keys().mfa_pending(UserId::new(), false, Uuid::now_v7(), Utc::now());
        assert_eq!(
            keys().verify(&token, Audience::Access),
            Err(TokenError::WrongAudience)
        );
        assert!(keys().verify(&token, Audience::MfaPending).is_ok());
    }

    #[test]
    fn expiry_has_30_seconds_of_leeway() {
        let issued = Utc::now() - ACCESS_TTL - Duration::seconds(20);
        let token = keys().access(UserId::new(), DeviceSessionId::new(), issued);
        assert!(
            keys().verify(&token, Audience::Access).is_ok(),
            "within leeway"
        );
        let issued = Utc::now() - ACCESS_TTL - Duration::seconds(40);
        let token = keys().access(UserId::new(), DeviceSessionId::new(), issued);
        assert_eq!(
            keys().verify(&token, Audience::Access),
            Err(TokenError::Expired)
        );
    }

    #[test]
    fn tokens_from_the_future_are_refused() {
        let token = keys().access(
            UserId::new(),
            DeviceSessionId::new(),
            Utc::now() + Duration::minutes(5),
        );
        assert_eq!(
            keys().verify(&token, Audience::Access),
            Err(TokenError::Invalid)
        );
    }

    #[test]
    fn other_keys_and_algorithms_are_refused() {
        let token =
            TokenKeys::new(&[1u8; 32]).access(UserId::new(), DeviceSessionId::new(), Utc::now());
        assert_eq!(
            keys().verify(&token, Audience::Access),
            Err(TokenError::Invalid)
        );
        // alg "none" with the same claims.
        let claims = keys()
            .verify(
                &keys().access(UserId::new(), DeviceSessionId::new(), Utc::now()),
                Audience::Access,
            )
            .unwrap();
        use base64::Engine;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let forged = format!(
            "{}.{}.",
            b64.encode(br#"{"alg":"none","typ":"JWT"}"#),
            b64.encode(serde_json::to_vec(&claims).unwrap())
        );
        assert_eq!(
            keys().verify(&forged, Audience::Access),
            Err(TokenError::Invalid)
        );
        assert_eq!(
            keys().verify("garbage", Audience::Access),
            Err(TokenError::Invalid)
        );
    }
}
