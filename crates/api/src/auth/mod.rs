//! Authentication: passwords, TOTP second factor, tokens, device sessions, rate limits.

pub mod crypto;
mod extract;
pub mod password;
pub mod ratelimit;
pub mod tokens;
pub mod totp;

pub use extract::{AuthUser, ClientInfo};
