//! Follow-the-sun sites through the one API: define sites, ask who is on duty at instants
//! around the world, the wall strip's view, and the roles.

mod common;

use serde_json::{json, Value};
use sunward::api::{ApiError, App, AppOptions};
use sunward::auth::{Principal, Role};

async fn app(dir: &std::path::Path) -> App {
    App::start(AppOptions {
        db: Some(common::test_db(dir, "s.db").await),
        ..AppOptions::default()
    })
    .await
    .expect("app")
}

fn ms(rfc3339: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .expect("time")
        .timestamp_millis()
}

fn three_centers() -> Value {
    let day = |name: &str, tz: &str, next: &str, start: &str, end: &str| {
        json!({"name": name, "tz": tz, "next": next, "holidays": ["2026-12-25"],
               "shift": [{"name": "day", "days": ["mon","tue","wed","thu","fri"], "start": start, "end": end,
                          "lead": format!("lead@{name}.example")}]})
    };
    json!({"sites": [
        day("austin", "America/Chicago", "singapore", "08:00", "17:00"),
        day("singapore", "Asia/Singapore", "bengaluru", "08:00", "17:00"),
        day("bengaluru", "Asia/Kolkata", "austin", "13:00", "22:00"),
    ]})
}

#[tokio::test]
async fn who_is_on_duty_follows_the_sun() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = app(dir.path()).await;
    let r = app
        .dispatch("sites.put", three_centers())
        .await
        .expect("put");
    assert_eq!(r["saved"], json!(["austin", "singapore", "bengaluru"]));
    assert_eq!(r["warnings"], json!([]));

    // Monday 2026-11-23 03:00 UTC: 11:00 in Singapore, 08:30 in Bengaluru (before 13:00), 21:00
    // Sunday in Austin.
    let v = app
        .dispatch("shifts.now", json!({"at": ms("2026-11-23T03:00:00Z")}))
        .await
        .expect("now");
    let on: Vec<&str> = v["on_duty"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|d| d["site"].as_str())
        .collect();
    assert_eq!(on, ["singapore"]);
    let bengaluru = v["sites"]
        .as_array()
        .expect("sites")
        .iter()
        .find(|s| s["name"] == "bengaluru")
        .expect("bengaluru")
        .clone();
    assert_eq!(bengaluru["local_time"], "08:30");
    assert_eq!(bengaluru["utc_offset"], "+05:30");
    assert_eq!(bengaluru["on_duty"], false);
    assert_eq!(bengaluru["next_start"], ms("2026-11-23T07:30:00Z"));

    // Christmas is a holiday in every site: nobody is on duty, the strip says so.
    let v = app
        .dispatch(
            "view.follow_the_sun",
            json!({"at": ms("2026-12-25T15:00:00Z")}),
        )
        .await
        .expect("view");
    assert_eq!(v["on_duty"], json!([]));
    assert!(!v["coverage"]["gaps"].as_array().expect("gaps").is_empty());

    // A wall may read the strip, not change sites; an agent may read who is on duty.
    let wall = Principal::new("lobby", Role::Wall);
    assert!(app
        .dispatch_as(&wall, "view.follow_the_sun", Value::Null)
        .await
        .is_ok());
    for cmd in ["shifts.now", "sites.list"] {
        let e = app
            .dispatch_as(&wall, cmd, Value::Null)
            .await
            .expect_err("wall");
        assert!(matches!(e, ApiError::Forbidden(_)), "{cmd}: {e}");
    }
    let agent = Principal::new("ana", Role::Agent);
    assert!(app
        .dispatch_as(&agent, "shifts.now", Value::Null)
        .await
        .is_ok());
    let e = app
        .dispatch_as(&agent, "sites.put", three_centers())
        .await
        .expect_err("agent");
    assert!(matches!(e, ApiError::Forbidden(_)), "{e}");
}

#[tokio::test]
async fn bad_sites_are_refused_whole_with_the_field_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = app(dir.path()).await;
    let mut bad = three_centers();
    bad["sites"][2]["tz"] = json!("Asia/Bangalore");
    let e = app.dispatch("sites.put", bad).await.expect_err("bad tz");
    assert!(e.to_string().contains("site `bengaluru`, tz"), "{e}");
    // Nothing of the batch was written: one transaction.
    let v = app.dispatch("sites.list", Value::Null).await.expect("list");
    assert_eq!(v["sites"], json!([]));

    let mut overlapping = three_centers();
    overlapping["sites"][0]["shift"]
        .as_array_mut()
        .expect("shifts")
        .push(json!({"name": "late", "days": ["fri"], "start": "16:00", "end": "23:00"}));
    let e = app
        .dispatch("sites.put", overlapping)
        .await
        .expect_err("overlap");
    assert!(e.to_string().contains("overlaps shift `day` on fri"), "{e}");

    app.dispatch("sites.put", three_centers())
        .await
        .expect("put");
    let e = app
        .dispatch("sites.remove", json!({"name": "singapore"}))
        .await
        .expect_err("still the next of austin");
    assert!(matches!(e, ApiError::Conflict(_)), "{e}");
    let e = app
        .dispatch("shifts.now", json!({"hours": 0}))
        .await
        .expect_err("hours");
    assert!(
        e.to_string().contains("hours must be between 1 and 168"),
        "{e}"
    );
}
