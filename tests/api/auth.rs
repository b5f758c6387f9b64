//! Login with password and TOTP, device sessions, refresh rotation, rate limits, enrolment,
//! setup links and admin resets — over real HTTP against the real server.

use plenum_store::Backend;
use plenum_store::audit;
use rstest::rstest;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, code_for, demo_code, refresh_cookie, spawn_app};

async fn problem_type(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    (status, body["type"].as_str().unwrap_or_default().to_owned())
}

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test]
async fn a_member_signs_in_with_password_and_code(#[case] backend: Backend) {
    let Some(app) = spawn_app(backend, true).await else {
        return;
    };
    let step1 = app.password_step("anna.hartmann", PASSWORD).await;
    assert_eq!(step1["next"], "totp");
    assert_eq!(step1["expires_in"], 300);
    let response = app
        .post_json(
            "/api/v1/auth/totp",
            json!({"mfa_token": step1["mfa_token"], "code": demo_code("anna.hartmann", 0)}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let set_cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(set_cookie.contains("HttpOnly"));
    assert!(set_cookie.contains("SameSite=Strict"));
    assert!(set_cookie.contains("Path=/api/v1/auth"));
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    assert_eq!(body["user"]["username"], "anna.hartmann");
    let me: Value = app
        .get_with("/api/v1/me", body["access_token"].as_str().unwrap())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["display_name"], "Anna Hartmann");
    assert_eq!(me["site_role"], "member");
    let entries = audit::list(&app.db.db).await.unwrap();
    assert!(entries.iter().any(|e| e.event.action == "login.success"));
    app.stop().await;
}

#[tokio::test]
async fn wrong_passwords_and_unknown_users_get_the_same_answer() {
    let app = spawn_app(Backend::Sqlite, true).await.unwrap();
    let wrong = app
        .post_json(
            "/api/v1/auth/login",
            json!({"username": "anna.hartmann", "password": "falsch-falsch"}),
        )
        .await;
    assert_eq!(wrong.status(), 401);
    assert!(wrong.headers().contains_key("www-authenticate"));
    let wrong: Value = wrong.json().await.unwrap();
    let unknown: Value = app
        .post_json(
            "/api/v1/auth/login",
            json!({"username": "niemand.da", "password": "falsch-falsch"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(wrong, unknown, "no hint which part was wrong");
    assert_eq!(wrong["type"], "/problems/invalid-credentials");
    let entries = audit::list(&app.db.db).await.unwrap();
    assert_eq!(
        entries
            .iter()
            .filter(|e| e.event.action == "login.failure")
            .count(),
        2
    );
    app.stop().await;
}

#[tokio::test]
async fn a_code_is_accepted_once_and_only_near_now() {
    let app = spawn_app(Backend::Sqlite, true).await.unwrap();
    let user = "heinz.ehrlich";
    let code = demo_code(user, 0);
    let first = app.password_step(user, PASSWORD).await;
    let ok = app
        .post_json(
            "/api/v1/auth/totp",
            json!({"mfa_token": first["mfa_token"], "code": code}),
        )
        .await;
    assert_eq!(ok.status(), 200);
    // The same code again (a new password step, same time step): a replay.
    let second = app.password_step(user, PASSWORD).await;
    let replay = app
        .post_json(
            "/api/v1/auth/totp",
            json!({"mfa_token": second["mfa_token"], "code": code}),
        )
        .await;
    assert_eq!(
        problem_type(replay).await,
        (401, "/problems/totp-replayed".into())
    );
    // Three steps away is outside the ±1 window.
    for offset in [3, -3] {
        let step = app.password_step(user, PASSWORD).await;
        let far = app
            .post_json(
                "/api/v1/auth/totp",
                json!({"mfa_token": step["mfa_token"], "code": demo_code(user, offset)}),
            )
            .await;
        assert_eq!(
            problem_type(far).await,
            (401, "/problems/invalid-credentials".into())
        );
    }
    // Garbage codes and missing codes are just invalid (another account: this one has used
    // most of its burst of guesses by now).
    let step = app.password_step("anna.hartmann", PASSWORD).await;
    for body in [
        json!({"mfa_token": step["mfa_token"], "code": "12ab56"}),
        json!({"mfa_token": step["mfa_token"]}),
    ] {
        let response = app.post_json("/api/v1/auth/totp", body).await;
        assert_eq!(
            problem_type(response).await,
            (401, "/problems/invalid-credentials".into())
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn token_kinds_cannot_stand_in_for_each_other() {
    let app = spawn_app(Backend::Sqlite, true).await.unwrap();
    let step1 = app.password_step("anna.hartmann", PASSWORD).await;
    let mfa = step1["mfa_token"].as_str().unwrap();
    let as_access = app.get_with("/api/v1/me", mfa).await;
    assert_eq!(
        problem_type(as_access).await,
        (401, "/problems/token-wrong-audience".into())
    );
    let session = app.login("thomas.schneider", 0).await;
    let as_mfa = app
        .post_json(
            "/api/v1/auth/totp",
            json!({"mfa_token": session.access, "code": "000000"}),
        )
        .await;
    assert_eq!(
        problem_type(as_mfa).await,
        (401, "/problems/token-wrong-audience".into())
    );
    let none = app.get("/api/v1/me").await;
    assert_eq!(
        problem_type(none).await,
        (401, "/problems/unauthenticated".into())
    );
    let garbage = app.get_with("/api/v1/me", "not.a.token").await;
    assert_eq!(
        problem_type(garbage).await,
        (401, "/problems/token-invalid".into())
    );
    app.stop().await;
}

#[tokio::test]
async fn an_expired_access_token_is_refused_with_its_own_problem() {
    let app = spawn_app(Backend::Sqlite, true).await.unwrap();
    let session = app.login("anna.hartmann", 0).await;
    let key = std::fs::read(app.config.data_dir.join("signing.key")).unwrap();
    let keys = plenum_api::auth::tokens::TokenKeys::new(&key);
    let user = plenum_domain::UserId::from_uuid(
        session.body["user"]["id"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap(),
    );
    let sid = plenum_domain::DeviceSessionId::from_uuid(session.session_id.parse().unwrap());
    let issued = chrono::Utc::now() - chrono::Duration::minutes(16);
    let expired = keys.access(user, sid, issued);
    let response = app.get_with("/api/v1/me", &expired).await;
    assert_eq!(
        problem_type(response).await,
        (401, "/problems/token-expired".into())
    );
    // The same claims, freshly issued by the server's key, work: only the expiry differed.
    let fresh = keys.access(user, sid, chrono::Utc::now());
    assert_eq!(app.get_with("/api/v1/me", &fresh).await.status(), 200);
    app.stop().await;
}

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test]
async fn refresh_rotates_and_a_reused_token_revokes_the_device(#[case] backend: Backend) {
    let Some(app) = spawn_app(backend, true).await else {
        return;
    };
    let session = app.login("anna.hartmann", 0).await;
    let refresh = |cookie: String| {
        let request = app
            .client
            .post(app.url("/api/v1/auth/refresh"))
            .header("cookie", cookie);
        async move { request.send().await.unwrap() }
    };
    let first = refresh(session.cookie.clone()).await;
    assert_eq!(first.status(), 200);
    let rotated = refresh_cookie(&first).unwrap();
    assert_ne!(rotated, session.cookie);
    let body: Value = first.json().await.unwrap();
    let new_access = body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(app.get_with("/api/v1/me", &new_access).await.status(), 200);

    // The old cookie again: someone has a copy. The device is signed out.
    let reused = refresh(session.cookie.clone()).await;
    assert_eq!(
        problem_type(reused).await,
        (401, "/problems/refresh-reused".into())
    );
    let after = refresh(rotated).await;
    assert_eq!(
        problem_type(after).await,
        (401, "/problems/refresh-invalid".into())
    );
    let revoked = app.get_with("/api/v1/me", &new_access).await;
    assert_eq!(
        problem_type(revoked).await,
        (401, "/problems/session-revoked".into())
    );
    let missing = app
        .client
        .post(app.url("/api/v1/auth/refresh"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        problem_type(missing).await,
        (401, "/problems/refresh-invalid".into())
    );
    app.stop().await;
}

#[tokio::test]
async fn devices_are_listed_and_revoked_and_logout_ends_the_session() {
    let app = spawn_app(Backend::Sqlite, true).await.unwrap();
    let tablet = app.login("thomas.schneider", 0).await;
    let laptop = app.login("thomas.schneider", 1).await;
    let devices: Value = app
        .get_with("/api/v1/me/devices", &tablet.access)
        .await
        .json()
        .await
        .unwrap();
    let devices = devices.as_array().unwrap();
    assert_eq!(devices.len(), 2);
    assert_eq!(devices.iter().filter(|d| d["current"] == true).count(), 1);
    assert!(devices.iter().all(|d| d["name"] == "Test-Tablet"));

    // Another user cannot see or revoke this user's device.
    let other = app.login("anna.hartmann", 0).await;
    let foreign = app
        .client
        .delete(app.url(&format!("/api/v1/me/devices/{}", laptop.session_id)))
        .bearer_auth(&other.access)
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), 404);

    let revoke = app
        .client
        .delete(app.url(&format!("/api/v1/me/devices/{}", laptop.session_id)))
        .bearer_auth(&tablet.access)
        .send()
        .await
        .unwrap();
    assert_eq!(revoke.status(), 204);
    let lost = app.get_with("/api/v1/me", &laptop.access).await;
    assert_eq!(
        problem_type(lost).await,
        (401, "/problems/session-revoked".into())
    );
    assert_eq!(
        app.get_with("/api/v1/me", &tablet.access).await.status(),
        200
    );

    let logout = app
        .client
        .post(app.url("/api/v1/auth/logout"))
        .bearer_auth(&tablet.access)
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), 204);
    assert!(
        logout.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    assert_eq!(
        app.get_with("/api/v1/me", &tablet.access).await.status(),
        401
    );
    let refresh = app
        .client
        .post(app.url("/api/v1/auth/refresh"))
        .header("cookie", &tablet.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(refresh.status(), 401);
    let actions: Vec<String> = audit::list(&app.db.db)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.event.action)
        .collect();
    assert_eq!(actions.iter().filter(|a| *a == "device.revoked").count(), 2);
    app.stop().await;
}

#[tokio::test]
async fn guessing_is_rate_limited_per_account_while_signed_in_devices_keep_working() {
    let app = spawn_app(Backend::Sqlite, true).await.unwrap();
    let user = "susanne.richter";
    let signed_in = app.login(user, 0).await;
    let mut limited = None;
    for _ in 0..15 {
        let response = app
            .post_json(
                "/api/v1/auth/login",
                json!({"username": user, "password": "rate-limit-me"}),
            )
            .await;
        if response.status() == 429 {
            limited = Some(response);
            break;
        }
        assert_eq!(response.status(), 401);
    }
    let limited = limited.expect("the account is rate limited");
    let retry: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry >= 1);
    assert_eq!(
        problem_type(limited).await,
        (429, "/problems/rate-limited".into())
    );
    // Even the right password waits now …
    let right = app
        .post_json(
            "/api/v1/auth/login",
            json!({"username": user, "password": PASSWORD}),
        )
        .await;
    assert_eq!(right.status(), 429);
    // … but the device that is already signed in keeps working, and so do other accounts.
    assert_eq!(
        app.get_with("/api/v1/me", &signed_in.access).await.status(),
        200
    );
    let refresh = app
        .client
        .post(app.url("/api/v1/auth/refresh"))
        .header("cookie", &signed_in.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(refresh.status(), 200);
    app.login("anna.hartmann", 0).await;
    app.stop().await;
}

#[tokio::test]
async fn malformed_requests_get_problem_documents() {
    let app = spawn_app(Backend::Sqlite, true).await.unwrap();
    let broken = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .header("content-type", "application/json")
        .body("{\"username\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(broken.headers()["content-type"], "application/problem+json");
    assert_eq!(
        problem_type(broken).await,
        (400, "/problems/invalid-body".into())
    );
    let missing = app
        .post_json("/api/v1/auth/login", json!({"username": "x"}))
        .await;
    assert_eq!(
        problem_type(missing).await,
        (422, "/problems/invalid-body".into())
    );
    let no_type = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(
        problem_type(no_type).await,
        (415, "/problems/invalid-body".into())
    );
    app.stop().await;
}

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test]
async fn a_new_user_sets_a_password_enrols_and_uses_recovery_codes(#[case] backend: Backend) {
    let Some(app) = spawn_app(backend, true).await else {
        return;
    };
    let admin = app.login("admin", 0).await;
    let created = app
        .client
        .post(app.url("/api/v1/admin/users"))
        .bearer_auth(&admin.access)
        .json(&json!({"username": "neu.mitglied", "display_name": "Neues Mitglied", "site_role": "member"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.unwrap();
    let token = created["setup_token"].as_str().unwrap().to_owned();
    assert!(created["setup_path"].as_str().unwrap().ends_with(&token));

    // No password yet: login fails like any wrong password.
    let early = app
        .post_json(
            "/api/v1/auth/login",
            json!({"username": "neu.mitglied", "password": "irgendwas-langes"}),
        )
        .await;
    assert_eq!(early.status(), 401);
    let short = app
        .post_json(
            "/api/v1/auth/setup",
            json!({"token": token, "password": "kurz"}),
        )
        .await;
    assert_eq!(
        problem_type(short).await,
        (422, "/problems/validation-failed".into())
    );
    let set = app
        .post_json(
            "/api/v1/auth/setup",
            json!({"token": token, "password": "ein-sicheres-passwort"}),
        )
        .await;
    assert_eq!(set.status(), 200);
    let again = app
        .post_json(
            "/api/v1/auth/setup",
            json!({"token": token, "password": "noch-ein-passwort"}),
        )
        .await;
    assert_eq!(
        problem_type(again).await,
        (400, "/problems/setup-link-invalid".into())
    );

    // First login: enrolment is the only way forward.
    let step1 = app
        .password_step("neu.mitglied", "ein-sicheres-passwort")
        .await;
    assert_eq!(step1["next"], "enrol");
    let mfa = step1["mfa_token"].clone();
    let shortcut = app
        .post_json(
            "/api/v1/auth/totp",
            json!({"mfa_token": mfa, "code": "123456"}),
        )
        .await;
    assert_eq!(shortcut.status(), 403);
    assert_eq!(
        app.get_with("/api/v1/me", mfa.as_str().unwrap())
            .await
            .status(),
        401
    );
    let enrol: Value = app
        .post_json("/api/v1/auth/totp/enrol", json!({"mfa_token": mfa}))
        .await
        .json()
        .await
        .unwrap();
    assert!(
        enrol["otpauth_uri"]
            .as_str()
            .unwrap()
            .starts_with("otpauth://totp/Plenum:neu.mitglied")
    );
    assert!(
        enrol["qr_svg"]
            .as_str()
            .unwrap()
            .starts_with("data:image/svg+xml;base64,")
    );
    let secret = totp_rs_secret(enrol["secret"].as_str().unwrap());
    let wrong = app
        .post_json(
            "/api/v1/auth/totp/confirm",
            json!({"mfa_token": mfa, "code": code_for(&secret, "neu.mitglied", 4)}),
        )
        .await;
    assert_eq!(wrong.status(), 401);
    let confirmed = app
        .post_json(
            "/api/v1/auth/totp/confirm",
            json!({"mfa_token": mfa, "code": code_for(&secret, "neu.mitglied", 0)}),
        )
        .await;
    assert_eq!(confirmed.status(), 200);
    let confirmed: Value = confirmed.json().await.unwrap();
    let codes: Vec<String> = confirmed["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(codes.len(), 10);
    let access = confirmed["access_token"].as_str().unwrap();
    let me: Value = app
        .get_with("/api/v1/me", access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["recovery_codes_left"], 10);

    // Next login: the recovery code instead of the app, once.
    let step = app
        .password_step("neu.mitglied", "ein-sicheres-passwort")
        .await;
    assert_eq!(step["next"], "totp");
    let again_enrol = app
        .post_json(
            "/api/v1/auth/totp/enrol",
            json!({"mfa_token": step["mfa_token"]}),
        )
        .await;
    assert_eq!(again_enrol.status(), 409);
    let recovered = app
        .post_json(
            "/api/v1/auth/totp",
            json!({"mfa_token": step["mfa_token"], "recovery_code": codes[0].to_lowercase()}),
        )
        .await;
    assert_eq!(recovered.status(), 200);
    let recovered: Value = recovered.json().await.unwrap();
    assert_eq!(recovered["recovery_codes_left"], 9);
    let step = app
        .password_step("neu.mitglied", "ein-sicheres-passwort")
        .await;
    let reuse = app
        .post_json(
            "/api/v1/auth/totp",
            json!({"mfa_token": step["mfa_token"], "recovery_code": codes[0]}),
        )
        .await;
    assert_eq!(
        problem_type(reuse).await,
        (401, "/problems/invalid-credentials".into())
    );
    let actions: Vec<String> = audit::list(&app.db.db)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.event.action)
        .collect();
    for expected in [
        "user.created",
        "password.set",
        "totp.enrolled",
        "recovery_code.used",
    ] {
        assert!(
            actions.iter().any(|a| a == expected),
            "{expected} in {actions:?}"
        );
    }
    assert!(app.verify_audit().await.is_ok());
    app.stop().await;
}

fn totp_rs_secret(base32: &str) -> Vec<u8> {
    let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut bits = 0u64;
    let mut count = 0;
    let mut out = Vec::new();
    for c in base32.trim_end_matches('=').chars() {
        bits = (bits << 5) | alphabet.find(c).unwrap() as u64;
        count += 5;
        if count >= 8 {
            out.push((bits >> (count - 8)) as u8);
            count -= 8;
        }
    }
    out
}

#[tokio::test]
async fn admins_reset_a_lost_second_factor_and_revoke_sessions() {
    let app = spawn_app(Backend::Sqlite, true).await.unwrap();
    let admin = app.login("admin", 0).await;
    let member = app.login("anna.hartmann", 0).await;
    let member_id = member.body["user"]["id"].as_str().unwrap().to_owned();

    // Members cannot use the admin endpoints; they do not even learn about other accounts.
    let denied = app.get_with("/api/v1/admin/users", &member.access).await;
    assert_eq!(denied.status(), 404);
    let denied = app
        .client
        .post(app.url(&format!(
            "/api/v1/admin/users/{}/reset-second-factor",
            admin.body["user"]["id"].as_str().unwrap()
        )))
        .bearer_auth(&member.access)
        .send()
        .await
        .unwrap();
    assert_eq!(denied.status(), 404);
    let clerk = app.login("martina.sommer", 0).await;
    let users: Value = app
        .get_with("/api/v1/admin/users", &clerk.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        users.as_array().unwrap().len(),
        41,
        "clerks may list accounts"
    );
    let clerk_create = app
        .client
        .post(app.url("/api/v1/admin/users"))
        .bearer_auth(&clerk.access)
        .json(&json!({"username": "x.y", "display_name": "X"}))
        .send()
        .await
        .unwrap();
    assert_eq!(clerk_create.status(), 403, "… but not create them");

    let reset = app
        .client
        .post(app.url(&format!(
            "/api/v1/admin/users/{member_id}/reset-second-factor"
        )))
        .bearer_auth(&admin.access)
        .send()
        .await
        .unwrap();
    assert_eq!(reset.status(), 204);
    assert_eq!(
        app.get_with("/api/v1/me", &member.access).await.status(),
        401
    );
    let step = app.password_step("anna.hartmann", PASSWORD).await;
    assert_eq!(step["next"], "enrol", "the member enrols again");

    let another = app.login("thomas.schneider", 0).await;
    let revoked: Value = app
        .client
        .post(app.url(&format!(
            "/api/v1/admin/users/{}/revoke-sessions",
            another.body["user"]["id"].as_str().unwrap()
        )))
        .bearer_auth(&admin.access)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(revoked["revoked"], 1);
    assert_eq!(
        app.get_with("/api/v1/me", &another.access).await.status(),
        401
    );
    let actions: Vec<String> = audit::list(&app.db.db)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.event.action)
        .collect();
    assert!(actions.iter().any(|a| a == "totp.reset"));
    assert!(actions.iter().any(|a| a == "sessions.revoked_all"));
    app.stop().await;
}

#[tokio::test]
async fn changing_the_password_needs_the_old_one_and_a_code() {
    let app = spawn_app(Backend::Sqlite, true).await.unwrap();
    let user = "anna.hartmann";
    crate::helpers::fresh_totp_step().await;
    let here = app.login(user, -1).await;
    let there = app.login(user, 0).await;
    let change = |body: Value| {
        let request = app
            .client
            .post(app.url("/api/v1/me/password"))
            .bearer_auth(&here.access)
            .json(&body);
        async move { request.send().await.unwrap() }
    };
    let wrong_password = change(json!({"current_password": "falsch-falsch", "new_password": "neues-passwort-1", "code": demo_code(user, 1)})).await;
    assert_eq!(
        problem_type(wrong_password).await,
        (401, "/problems/invalid-credentials".into())
    );
    let replayed = change(json!({"current_password": PASSWORD, "new_password": "neues-passwort-1", "code": demo_code(user, 0)})).await;
    assert_eq!(
        problem_type(replayed).await,
        (401, "/problems/totp-replayed".into())
    );
    let too_short = change(
        json!({"current_password": PASSWORD, "new_password": "kurz", "code": demo_code(user, 1)}),
    )
    .await;
    assert_eq!(
        problem_type(too_short).await,
        (422, "/problems/validation-failed".into())
    );
    let changed = change(json!({"current_password": PASSWORD, "new_password": "neues-passwort-1", "code": demo_code(user, 1)})).await;
    assert_eq!(changed.status(), 204);
    assert_eq!(
        app.get_with("/api/v1/me", &here.access).await.status(),
        200,
        "this device stays"
    );
    assert_eq!(
        app.get_with("/api/v1/me", &there.access).await.status(),
        401,
        "others are signed out"
    );
    let old = app
        .post_json(
            "/api/v1/auth/login",
            json!({"username": user, "password": PASSWORD}),
        )
        .await;
    assert_eq!(old.status(), 401);
    assert_eq!(
        app.password_step(user, "neues-passwort-1").await["next"],
        "totp"
    );
    app.stop().await;
}

/// The `plenum_device=…` part of a response's known-device cookie.
fn device_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("plenum_device="))
        .map(|v| v.split(';').next().unwrap().to_owned())
}

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test]
async fn an_mfa_token_signs_in_once(#[case] backend: Backend) {
    let Some(app) = spawn_app(backend, true).await else {
        return;
    };
    crate::helpers::fresh_totp_step().await;
    let user = "anna.hartmann";
    let step1 = app.password_step(user, PASSWORD).await;
    let first = app
        .post_json(
            "/api/v1/auth/totp",
            json!({"mfa_token": step1["mfa_token"], "code": demo_code(user, 0)}),
        )
        .await;
    assert_eq!(first.status(), 200);
    let access = first.json::<Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    // The same token with the next step's code: no second device session.
    let again = app
        .post_json(
            "/api/v1/auth/totp",
            json!({"mfa_token": step1["mfa_token"], "code": demo_code(user, 1)}),
        )
        .await;
    assert_eq!(
        problem_type(again).await,
        (401, "/problems/token-invalid".into())
    );
    let devices: Value = app
        .get_with("/api/v1/me/devices", &access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(devices.as_array().unwrap().len(), 1);

    // The enrolment's token, too, signs in once.
    let admin = app.login("admin", 0).await;
    let created: Value = app
        .client
        .post(app.url("/api/v1/admin/users"))
        .bearer_auth(&admin.access)
        .json(&json!({"username": "neu.einmal", "display_name": "Neu Einmal"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let set = app
        .post_json(
            "/api/v1/auth/setup",
            json!({"token": created["setup_token"], "password": "ein-sicheres-passwort"}),
        )
        .await;
    assert_eq!(set.status(), 200);
    let step1 = app
        .password_step("neu.einmal", "ein-sicheres-passwort")
        .await;
    let mfa = step1["mfa_token"].clone();
    let enrol: Value = app
        .post_json("/api/v1/auth/totp/enrol", json!({"mfa_token": mfa}))
        .await
        .json()
        .await
        .unwrap();
    let secret = totp_rs_secret(enrol["secret"].as_str().unwrap());
    let confirmed = app
        .post_json(
            "/api/v1/auth/totp/confirm",
            json!({"mfa_token": mfa, "code": code_for(&secret, "neu.einmal", 0)}),
        )
        .await;
    assert_eq!(confirmed.status(), 200);
    for path in ["/api/v1/auth/totp/confirm", "/api/v1/auth/totp"] {
        let reuse = app
            .post_json(
                path,
                json!({"mfa_token": mfa, "code": code_for(&secret, "neu.einmal", 1)}),
            )
            .await;
        assert_eq!(
            problem_type(reuse).await,
            (401, "/problems/token-invalid".into()),
            "{path}"
        );
    }
    app.stop().await;
}

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test]
async fn a_failed_login_records_only_names_of_accounts(#[case] backend: Backend) {
    let Some(app) = spawn_app(backend, true).await else {
        return;
    };
    for username in ["mein-geheimes-passwort", "anna.hartmann"] {
        let response = app
            .post_json(
                "/api/v1/auth/login",
                json!({"username": username, "password": "falsch-falsch"}),
            )
            .await;
        assert_eq!(response.status(), 401);
    }
    let failures: Vec<_> = audit::list(&app.db.db)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.event.action == "login.failure")
        .collect();
    assert_eq!(failures.len(), 2);
    assert_eq!(failures[0].event.subject, None);
    assert!(failures[0].event.detail.contains("unknown user"));
    assert!(!failures[0].event.detail.contains("geheim"));
    assert_eq!(failures[1].event.subject.as_deref(), Some("anna.hartmann"));
    assert!(failures[1].event.detail.contains("wrong password"));
    app.stop().await;
}

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test]
async fn wrong_codes_lock_new_devices_but_not_a_device_that_signed_in_before(
    #[case] backend: Backend,
) {
    use plenum_store::auth::second_factor_guards;
    let Some(app) = spawn_app(backend, true).await else {
        return;
    };
    crate::helpers::fresh_totp_step().await;
    let user = "susanne.richter";
    // The owner signs in on her tablet: it gets a known-device cookie.
    let step1 = app.password_step(user, PASSWORD).await;
    let owner = app
        .post_json(
            "/api/v1/auth/totp",
            json!({"mfa_token": step1["mfa_token"], "code": demo_code(user, -1)}),
        )
        .await;
    assert_eq!(owner.status(), 200);
    let tablet = device_cookie(&owner).expect("a known-device cookie");
    let user_id: plenum_domain::UserId = plenum_domain::UserId::from_uuid(
        owner.json::<Value>().await.unwrap()["user"]["id"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap(),
    );

    // A stranger with the password: three wrong codes, then even the right one waits.
    let stranger = app.password_step(user, PASSWORD).await;
    let guess = |code: String| {
        app.post_json(
            "/api/v1/auth/totp",
            json!({"mfa_token": stranger["mfa_token"], "code": code}),
        )
    };
    for wrong in ["000000", "111111", "222222"] {
        let code = if demo_code(user, 0) == wrong {
            "333333".to_owned()
        } else {
            wrong.to_owned()
        };
        assert_eq!(guess(code).await.status(), 401);
    }
    let waits = guess(demo_code(user, 0)).await;
    let retry: u64 = waits.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((10..=15).contains(&retry), "retry after {retry}");
    assert_eq!(
        problem_type(waits).await,
        (429, "/problems/rate-limited".into())
    );
    // Half an hour of waiting later (the clock is the database's): the tenth failure locks.
    let db = &app.db.db;
    let earlier = chrono::Utc::now() - chrono::Duration::hours(1);
    for seen in 3..9 {
        assert!(
            second_factor_guards::claim(
                db,
                user_id,
                second_factor_guards::NEW_DEVICES,
                seen,
                earlier
            )
            .await
            .unwrap()
        );
    }
    let wrong = if demo_code(user, 0) == "444444" {
        "555555"
    } else {
        "444444"
    };
    assert_eq!(guess(wrong.to_owned()).await.status(), 401);
    let locked = guess(demo_code(user, 0)).await;
    assert_eq!(
        problem_type(locked).await,
        (423, "/problems/second-factor-locked".into())
    );

    // The owner's tablet keeps its own budget and learns of the failed attempts.
    let step1 = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .header("cookie", &tablet)
        .json(&json!({"username": user, "password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    let signed_in = app
        .client
        .post(app.url("/api/v1/auth/totp"))
        .header("cookie", &tablet)
        .json(&json!({"mfa_token": step1["mfa_token"], "code": demo_code(user, 0)}))
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), 200);
    let signed_in: Value = signed_in.json().await.unwrap();
    assert_eq!(signed_in["second_factor_failures"]["failed_attempts"], 4);
    let me: Value = app
        .get_with("/api/v1/me", signed_in["access_token"].as_str().unwrap())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["second_factor"]["locked"], true);
    assert_eq!(me["second_factor"]["failed_attempts"], 10);

    // Admins see the lock and lift it.
    let admin = app.login("admin", 0).await;
    let listed = |access: String| {
        let request = app
            .client
            .get(app.url("/api/v1/admin/users"))
            .bearer_auth(access);
        async move {
            let users: Value = request.send().await.unwrap().json().await.unwrap();
            users
                .as_array()
                .unwrap()
                .iter()
                .find(|u| u["username"] == user)
                .unwrap()["second_factor"]
                .clone()
        }
    };
    assert_eq!(listed(admin.access.clone()).await["locked"], true);
    let unlock = app
        .client
        .post(app.url(&format!(
            "/api/v1/admin/users/{user_id}/unlock-second-factor"
        )))
        .bearer_auth(&admin.access)
        .send()
        .await
        .unwrap();
    assert_eq!(unlock.status(), 204);
    assert_eq!(listed(admin.access.clone()).await["locked"], false);
    let fresh = app.password_step(user, PASSWORD).await;
    let after = app
        .post_json(
            "/api/v1/auth/totp",
            json!({"mfa_token": fresh["mfa_token"], "code": wrong}),
        )
        .await;
    assert_eq!(after.status(), 401, "codes are checked again");
    let actions: Vec<String> = audit::list(db)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.event.action)
        .collect();
    assert!(actions.iter().any(|a| a == "second_factor.locked"));
    assert!(actions.iter().any(|a| a == "second_factor.unlocked"));
    app.stop().await;
}
