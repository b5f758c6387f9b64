//! Helpers shared by the tests that run the real `plenum` binary (`crash.rs`, `cluster.rs`).

#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use serde_json::{Value, json};

/// The demo council's password.
pub const PASSWORD: &str = plenum_server::demo::DEMO_PASSWORD;

/// Signs a demo user in (password, then the current TOTP code); the access token and the
/// user's person id.
pub async fn login(client: &reqwest::Client, base: &str, username: &str) -> (String, String) {
    let step: Value = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": username, "password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let name = plenum_domain::Username::parse(username).unwrap();
    let totp =
        plenum_api::auth::totp::totp_for(&plenum_server::demo::demo_totp_secret(username), &name)
            .unwrap();
    let code = totp
        .generate(chrono::Utc::now().timestamp() as u64)
        .to_string();
    let session: Value = client
        .post(format!("{base}/api/v1/auth/totp"))
        .json(&json!({"mfa_token": step["mfa_token"], "code": code}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    (
        session["access_token"]
            .as_str()
            .expect("signed in")
            .to_owned(),
        session["user"]["person_id"].as_str().unwrap().to_owned(),
    )
}

/// Asserts that the ballot box of a closed secret poll is gone from the ballot directory the
/// server derives from `data_dir` (once the tally is durable, nothing of the box remains).
pub fn assert_box_gone(data_dir: &std::path::Path, poll: uuid::Uuid) {
    let boxes = plenum_server::config::Config {
        data_dir: data_dir.to_owned(),
        ..Default::default()
    }
    .ballot_dir();
    assert!(
        !boxes.join(format!("{poll}.box")).exists(),
        "the box is gone once the tally is durable"
    );
}
