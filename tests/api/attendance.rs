//! Late arrivals and early departures through the API (issue 14): the chair enters an
//! attendance change with the time it happened (`at`), within the session; the snapshot marks
//! `late` and `left_early`; the audit entry keeps the time.

use chrono::{DateTime, Duration, Utc};
use plenum_store::Backend;
use rstest::rstest;
use serde_json::{Value, json};

use crate::chair::{audited, command, ok};
use crate::helpers::spawn_app;
use crate::live::committee;

#[rstest]
#[case::sqlite(Backend::Sqlite)]
#[case::postgres(Backend::Postgres)]
#[tokio::test(flavor = "multi_thread")]
async fn the_chair_enters_an_early_departure_with_its_time(#[case] backend: Backend) {
    let Some(app) = spawn_app(backend, false).await else {
        return;
    };
    let c = committee(&app, 3).await;
    let member = c.members[1].0;
    let set = |status: &str, at: DateTime<Utc>| json!({"type": "set_attendance", "person": member, "status": status, "at": at});
    // Before the session began there is no time to give.
    let (status, body) = command(&app, &c, 0, set("present", Utc::now())).await;
    assert_eq!(
        (status, body["type"].as_str()),
        (422, Some("/problems/validation-failed")),
        "{body}"
    );
    ok(&app, &c, 0, json!({"type": "start_meeting"})).await;
    ok(&app, &c, 1, json!({"type": "check_in", "remote": false})).await;
    tokio::time::sleep(std::time::Duration::from_millis(1_200)).await;
    let left = Utc::now() - Duration::milliseconds(500);
    for (at, why) in [
        (Utc::now() + Duration::minutes(5), "in the future"),
        (Utc::now() - Duration::hours(1), "before the session began"),
    ] {
        let (status, body) = command(&app, &c, 0, set("left_early", at)).await;
        assert_eq!(
            (status, body["type"].as_str()),
            (422, Some("/problems/validation-failed")),
            "{why}: {body}"
        );
        assert!(body["detail"].as_str().unwrap().contains(why), "{body}");
    }
    // Only the chair.
    let (status, _) = command(&app, &c, 2, set("left_early", left)).await;
    assert_eq!(status, 403);
    ok(&app, &c, 0, set("left_early", left)).await;

    let snapshot: Value = app
        .get_with(
            &format!("/api/v1/meetings/{}/live", c.meeting),
            &c.members[0].1,
        )
        .await
        .json()
        .await
        .unwrap();
    let row = snapshot["state"]["attendance"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["person"] == json!(member))
        .unwrap()
        .clone();
    assert_eq!(row["status"], "left_early");
    assert_eq!(row["left_early"], true);
    assert_eq!(row["late"], false, "arrived at the opening");
    let left_at: DateTime<Utc> = row["left_at"].as_str().unwrap().parse().unwrap();
    assert!(
        (left_at - left).num_milliseconds().abs() < 5,
        "{left_at} vs {left}"
    );
    let entries = audited(&app, "live.attendance", 2).await;
    let entry = entries
        .iter()
        .find(|e| e["status"] == "left_early")
        .unwrap();
    let at: DateTime<Utc> = entry["at"].as_str().unwrap().parse().unwrap();
    assert_eq!(at, left_at, "the audit keeps the time it happened");
    app.stop().await;
}
