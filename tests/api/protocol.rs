//! Edge cases of the live protocol: far-behind reconnects, commands the server does not
//! understand, frames it does not take.

use plenum_store::Backend;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use uuid::Uuid;

use crate::helpers::spawn_app;
use crate::live::{LiveClient, committee};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_client_far_behind_gets_a_snapshot_and_a_near_one_the_missed_events() {
    let Some(app) = spawn_app(Backend::Sqlite, false).await else {
        return;
    };
    let c = committee(&app, 2).await;
    let url = app.url(&format!("/api/v1/meetings/{}/live/commands", c.meeting));
    let chair = &c.members[0].1;
    let post = |command: Value| {
        let (client, url) = (app.client.clone(), url.clone());
        async move {
            let response = client
                .post(url)
                .bearer_auth(chair)
                .json(&json!({"command_id": Uuid::new_v4(), "command": command}))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
        }
    };
    post(json!({"type": "start_meeting"})).await;
    // More events than a reconnect replays (256).
    for i in 0..300 {
        let item = if i % 2 == 0 {
            c.public_item
        } else {
            c.secret_item
        };
        post(json!({"type": "set_current_item", "item": item})).await;
    }
    let mut far = LiveClient::connect(&app, Some(chair), c.meeting, Some(1)).await;
    let first = far.wait_for(|m| m["type"] != "hello").await;
    assert_eq!(
        first["type"], "snapshot",
        "a fresh snapshot, not a replay: {first}"
    );
    let head = first["seq"].as_u64().unwrap();
    assert!(head > 300, "{head}");
    assert!(
        far.inbox.iter().all(|m| m["type"] == "hello"),
        "no event before the snapshot: {:?}",
        far.inbox
    );

    let mut near = LiveClient::connect(&app, Some(chair), c.meeting, Some(head - 5)).await;
    let caught_up = near.wait_for(|m| m["type"] == "caught_up").await;
    assert_eq!(caught_up["seq"], head);
    let replayed: Vec<u64> = near
        .inbox
        .iter()
        .filter(|m| m["type"] == "event")
        .map(|m| m["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(replayed, (head - 4..=head).collect::<Vec<_>>());

    // The REST replay stops at the same limit and says it is incomplete.
    let events: Value = app
        .client
        .get(app.url(&format!(
            "/api/v1/meetings/{}/live/events?after=1",
            c.meeting
        )))
        .bearer_auth(chair)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(events["complete"], false);
    assert!(events["events"].as_array().unwrap().len() <= 256);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn unknown_commands_are_answered_by_id_and_bad_frames_get_their_close_code() {
    let Some(app) = spawn_app(Backend::Sqlite, false).await else {
        return;
    };
    let c = committee(&app, 2).await;
    let mut member = LiveClient::connect(&app, Some(&c.members[1].1), c.meeting, None).await;
    member.wait_for(|m| m["type"] == "snapshot").await;

    // A valid envelope around a command this server does not know: answered with its id, so a
    // client that resends unanswered commands stops.
    let id = Uuid::new_v4();
    member
        .send_raw(Message::Text(
            json!({"type": "command", "command_id": id, "command": {"type": "fly_to_the_moon"}})
                .to_string()
                .into(),
        ))
        .await;
    let reply = member.reply(id).await;
    assert_eq!(reply["type"], "error");
    assert_eq!(
        reply["problem"]["type"], "/problems/invalid-message",
        "{reply}"
    );

    // A binary frame gets an error and the connection stays.
    member.send_raw(Message::Binary(vec![1, 2, 3].into())).await;
    let error = member.wait_for(|m| m["type"] == "error").await;
    assert_eq!(
        error["problem"]["type"], "/problems/invalid-message",
        "{error}"
    );
    member
        .send_raw(Message::Text(json!({"type": "ping"}).to_string().into()))
        .await;
    member.wait_for(|m| m["type"] == "pong").await;

    // A message over 64 KiB closes the connection with 1009 (message too big).
    let big = json!({"type": "ping", "padding": "x".repeat(70 * 1024)}).to_string();
    member.send_raw(Message::Text(big.into())).await;
    let mut close = None;
    while let Some(message) = member.next_raw().await {
        if let Message::Close(frame) = message {
            close = frame;
            break;
        }
    }
    let close = close.expect("a close frame with a code");
    assert_eq!(close.code, CloseCode::Size, "{close:?}");
    app.stop().await;
}
