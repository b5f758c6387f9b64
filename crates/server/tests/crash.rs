//! Durability of the vote path: ballots are cast against the real `plenum` binary, which is
//! SIGKILLed after some acknowledgements; after a restart every acknowledged ballot is there,
//! retries with the same command ids never count twice, and the poll can continue.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};
use uuid::Uuid;

const BIN: &str = env!("CARGO_BIN_EXE_plenum");
mod common;
use common::login;

fn start(data_dir: &std::path::Path, demo: bool) -> (Child, String) {
    let (child, addr, _) = start_logged(data_dir, demo, "plenum=info");
    (child, addr)
}

/// Starts `plenum serve`; every line it logs is collected in the returned buffer.
fn start_logged(
    data_dir: &std::path::Path,
    demo: bool,
    log: &str,
) -> (Child, String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    let mut args = vec!["serve", "--bind", "127.0.0.1:0"];
    if demo {
        args.push("--demo");
    }
    let mut child = Command::new(BIN)
        .args(&args)
        .env_remove("PLENUM_DATABASE_URL")
        .env("PLENUM_DATA_DIR", data_dir)
        .env(
            "PLENUM_WEB_DIR",
            format!("{}/../../web", env!("CARGO_MANIFEST_DIR")),
        )
        .env("RUST_LOG", log)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let collected = lines.clone();
    std::thread::spawn(move || {
        let mut sent = false;
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            collected.lock().unwrap().push(line.clone());
            if !sent && let Some(rest) = line.split("listening on http://").nth(1) {
                let _ = tx.send(rest.split('/').next().unwrap().to_owned());
                sent = true;
            }
        }
    });
    let addr = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("server did not start");
    (child, format!("http://{addr}"), lines)
}

async fn command(
    client: &reqwest::Client,
    base: &str,
    meeting: &str,
    token: &str,
    id: Uuid,
    command: Value,
) -> reqwest::Result<reqwest::Response> {
    client
        .post(format!("{base}/api/v1/meetings/{meeting}/live/commands"))
        .bearer_auth(token)
        .json(&json!({"command_id": id, "command": command}))
        .send()
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_ballots_survive_a_sigkill() {
    ballots_survive_a_sigkill("named").await;
}

/// The same with a secret poll: its ballot box (on tmpfs) outlives the process.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_secret_ballots_survive_a_sigkill() {
    ballots_survive_a_sigkill("secret").await;
}

async fn ballots_survive_a_sigkill(kind: &str) {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, base) = start(dir.path(), true);
    let client = reqwest::Client::new();
    let meeting: plenum_domain::MeetingId = plenum_server::demo::demo_id("meeting:rat-3");
    let meeting = meeting.to_string();
    let (chair, _) = login(&client, &base, "katharina.brandt").await;
    let names = [
        "thomas.schneider",
        "sabine.fischer",
        "michael.weber",
        "petra.meyer",
        "andreas.wagner",
        "monika.becker",
        "frank.schulz",
        "birgit.hoffmann",
        "juergen.schaefer",
        "karin.koch",
        "markus.bauer",
        "susanne.richter",
    ];
    let mut members = Vec::new();
    for name in names {
        members.push(login(&client, &base, name).await);
    }
    let ok = |r: reqwest::Response| async move {
        let status = r.status();
        assert_eq!(status, 200, "{}", r.text().await.unwrap());
    };
    ok(command(
        &client,
        &base,
        &meeting,
        &chair,
        Uuid::new_v4(),
        json!({"type": "start_meeting", "confirm_other_day": true}),
    )
    .await
    .unwrap())
    .await;
    for (token, _) in &members {
        ok(command(
            &client,
            &base,
            &meeting,
            token,
            Uuid::new_v4(),
            json!({"type": "check_in", "remote": false}),
        )
        .await
        .unwrap())
        .await;
    }
    let poll = Uuid::new_v4();
    ok(command(&client, &base, &meeting, &chair, Uuid::new_v4(),
        json!({"type": "create_poll", "poll": poll, "title": "Haushalt", "kind": kind, "rule": "simple"})).await.unwrap()).await;
    ok(command(
        &client,
        &base,
        &meeting,
        &chair,
        Uuid::new_v4(),
        json!({"type": "open_poll", "poll": poll, "confirm_below_quorum": true}),
    )
    .await
    .unwrap())
    .await;

    // Everyone votes at once; the server is killed as soon as five votes are acknowledged.
    let ids: Vec<Uuid> = members.iter().map(|_| Uuid::new_v4()).collect();
    let (acked_tx, mut acked_rx) = tokio::sync::mpsc::unbounded_channel();
    for (i, (token, person)) in members.iter().enumerate() {
        let (client, base, meeting, token, person, id, tx) = (
            client.clone(),
            base.clone(),
            meeting.clone(),
            token.clone(),
            person.clone(),
            ids[i],
            acked_tx.clone(),
        );
        tokio::spawn(async move {
            let vote = json!({"type": "cast_ballot", "poll": poll, "choice": {"choice": "yes"}});
            if let Ok(response) = command(&client, &base, &meeting, &token, id, vote).await
                && response.status() == 200
            {
                let _ = tx.send(person);
            }
        });
    }
    drop(acked_tx);
    let mut acked = Vec::new();
    while acked.len() < 5 {
        acked.push(
            tokio::time::timeout(Duration::from_secs(30), acked_rx.recv())
                .await
                .unwrap()
                .unwrap(),
        );
    }
    Command::new("kill")
        .args(["-KILL", &child.id().to_string()])
        .status()
        .unwrap();
    child.wait().unwrap();
    // Acks that raced the kill were sent before it: they count as acknowledged too.
    while let Ok(Some(person)) =
        tokio::time::timeout(Duration::from_millis(200), acked_rx.recv()).await
    {
        acked.push(person);
    }

    let (mut child, base) = start(dir.path(), false);
    let live: Value = client
        .get(format!("{base}/api/v1/meetings/{meeting}/live"))
        .bearer_auth(&chair)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let state = &live["state"];
    assert_eq!(state["status"], "running");
    let p = state["polls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == poll.to_string())
        .unwrap();
    assert_eq!(p["state"], "open", "the poll can continue");
    let voted: Vec<String> = p["voted"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    for person in &acked {
        assert!(
            voted.contains(person),
            "acknowledged ballot of {person} survived: {voted:?}"
        );
    }

    // Everyone retries with the same command ids: durable ones answer as before, the rest apply.
    // A secret ballot whose box was written but whose commit the kill cut off was rolled
    // forward at the restart: its retry meets "already voted", and that ballot counts.
    for (i, (token, _)) in members.iter().enumerate() {
        let vote = json!({"type": "cast_ballot", "poll": poll, "choice": {"choice": "yes"}});
        let response = command(&client, &base, &meeting, token, ids[i], vote)
            .await
            .unwrap();
        let status = response.status();
        let body = response.text().await.unwrap();
        let rolled_forward = kind == "secret" && status == 409 && body.contains("already-voted");
        assert!(
            status == 200 || rolled_forward,
            "retry {i}: {status} {body}"
        );
    }
    ok(command(
        &client,
        &base,
        &meeting,
        &chair,
        Uuid::new_v4(),
        json!({"type": "close_poll", "poll": poll}),
    )
    .await
    .unwrap())
    .await;
    let live: Value = client
        .get(format!("{base}/api/v1/meetings/{meeting}/live"))
        .bearer_auth(&chair)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let p = live["state"]["polls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == poll.to_string())
        .unwrap()
        .clone();
    assert_eq!(
        p["result"]["tally"]["yes"],
        names.len(),
        "each ballot exactly once"
    );
    if kind == "named" {
        assert_eq!(p["result"]["named"].as_array().unwrap().len(), names.len());
    } else {
        assert_eq!(
            p["result"]["named"],
            json!([]),
            "a secret result names nobody"
        );
        common::assert_box_gone(dir.path(), poll);
    }
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    child.wait().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_secret_poll_leaves_no_choice_in_the_logs_and_the_audit_chain_verifies() {
    let dir = tempfile::tempdir().unwrap();
    // The most verbose logging Plenum has.
    let (mut child, base, logs) = start_logged(dir.path(), true, "trace");
    let client = reqwest::Client::new();
    let meeting: plenum_domain::MeetingId = plenum_server::demo::demo_id("meeting:rat-3");
    let meeting = meeting.to_string();
    let (chair, _) = login(&client, &base, "katharina.brandt").await;
    let mut members = Vec::new();
    for name in [
        "anna.hartmann",
        "heinz.ehrlich",
        "lea.schmitz",
        "jan.krause",
    ] {
        members.push(login(&client, &base, name).await);
    }
    let ok = |r: reqwest::Response| async move {
        let status = r.status();
        assert_eq!(status, 200, "{}", r.text().await.unwrap());
    };
    ok(command(
        &client,
        &base,
        &meeting,
        &chair,
        Uuid::new_v4(),
        json!({"type": "start_meeting", "confirm_other_day": true}),
    )
    .await
    .unwrap())
    .await;
    for (token, _) in &members {
        ok(command(
            &client,
            &base,
            &meeting,
            token,
            Uuid::new_v4(),
            json!({"type": "check_in", "remote": false}),
        )
        .await
        .unwrap())
        .await;
    }
    let poll = Uuid::new_v4();
    ok(command(&client, &base, &meeting, &chair, Uuid::new_v4(),
        json!({"type": "create_poll", "poll": poll, "title": "Geheime Wahl", "kind": "secret", "rule": "simple"})).await.unwrap()).await;
    ok(command(
        &client,
        &base,
        &meeting,
        &chair,
        Uuid::new_v4(),
        json!({"type": "open_poll", "poll": poll, "confirm_below_quorum": true}),
    )
    .await
    .unwrap())
    .await;
    for (i, (token, _)) in members.iter().enumerate() {
        let choice = ["yes", "no", "abstain", "yes"][i];
        ok(command(
            &client,
            &base,
            &meeting,
            token,
            Uuid::new_v4(),
            json!({"type": "cast_ballot", "poll": poll, "choice": {"choice": choice}}),
        )
        .await
        .unwrap())
        .await;
    }
    ok(command(
        &client,
        &base,
        &meeting,
        &chair,
        Uuid::new_v4(),
        json!({"type": "close_poll", "poll": poll}),
    )
    .await
    .unwrap())
    .await;
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    child.wait().unwrap();
    let logs = logs.lock().unwrap().clone();
    assert!(
        logs.len() > 20,
        "trace logging was on: {} lines",
        logs.len()
    );
    for line in &logs {
        let lower = line.to_lowercase();
        for (_, person) in &members {
            if lower.contains(person.as_str()) {
                for word in ["yes", "abstain", "\"no\"", "choice"] {
                    assert!(
                        !lower.contains(word),
                        "a log line links a voter to a choice: {line}"
                    );
                }
            }
        }
        assert!(
            !lower.contains("\"choice\""),
            "no ballot choice is ever logged: {line}"
        );
    }
    // The audit chain of the whole session verifies.
    let verify = Command::new(BIN)
        .args(["audit", "verify"])
        .env("PLENUM_DATA_DIR", dir.path())
        .env_remove("PLENUM_DATABASE_URL")
        .output()
        .unwrap();
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stderr)
    );
    let out = String::from_utf8_lossy(&verify.stdout).into_owned();
    assert!(out.contains("audit log intact"), "{out}");
}

/// One `plenum serve` per SQLite database: a second one on the same file is refused with a clear
/// error naming the first, and starts once the first is gone (also after a SIGKILL, which leaves
/// no lock behind).
#[test]
fn a_second_server_on_the_same_sqlite_database_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (mut first, _) = start(dir.path(), false);
    let second = Command::new(BIN)
        .args(["serve", "--bind", "127.0.0.1:0"])
        .env_remove("PLENUM_DATABASE_URL")
        .env("PLENUM_DATA_DIR", dir.path())
        .env(
            "PLENUM_WEB_DIR",
            format!("{}/../../web", env!("CARGO_MANIFEST_DIR")),
        )
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert!(!second.status.success());
    let said = String::from_utf8_lossy(&second.stderr);
    assert!(
        said.contains("already serves the SQLite database")
            && said.contains(&format!("process {}", first.id()))
            && said.contains("PostgreSQL"),
        "{said}"
    );
    Command::new("kill")
        .args(["-KILL", &first.id().to_string()])
        .status()
        .unwrap();
    first.wait().unwrap();
    let (mut again, _) = start(dir.path(), false);
    again.kill().unwrap();
    again.wait().unwrap();
}
