//! Drills from the operator panel: `drills.*` over the one dispatcher. A lead starts a shipped
//! scenario in the running app, pauses, resumes and stops it; the drill's alert reaches the walls
//! marked DRILL; acknowledging it is recorded; the report opens. Agents may not start drills and
//! nobody can start a file from the server's disk.

use std::time::Duration;

use serde_json::{json, Value};
use sunward::api::{ApiError, App, AppOptions};
use sunward::auth::{Principal, Role};

async fn app(dir: &tempfile::TempDir) -> App {
    App::start(AppOptions {
        db: Some(dir.path().join("d.db").into()),
        ..AppOptions::default()
    })
    .await
    .expect("app")
}

async fn run_of(app: &App, run: &str) -> Value {
    let list = app.dispatch("drills.list", json!({})).await.expect("list");
    list["runs"]
        .as_array()
        .and_then(|r| r.iter().find(|x| x["run_key"] == run).cloned())
        .unwrap_or(Value::Null)
}

async fn wait_for(app: &App, run: &str, what: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..600 {
        let r = run_of(app, run).await;
        if what(&r) {
            return r;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("drill {run} never got there: {}", run_of(app, run).await);
}

#[tokio::test]
async fn a_lead_runs_a_drill_from_the_panel_and_opens_its_report() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = app(&dir).await;
    let lead = Principal::new("dana", Role::Lead);
    let agent = Principal::new("ari", Role::Agent);

    let list = app.dispatch("drills.list", json!({})).await.expect("list");
    assert_eq!(
        list["scenarios"].as_array().map(Vec::len),
        Some(4),
        "{list}"
    );

    // Agents cannot start drills; unknown scenarios and paths are refused.
    let r = app
        .dispatch_as(
            &agent,
            "drills.start",
            json!({"scenario": "executive-arrested"}),
        )
        .await;
    assert!(matches!(r, Err(ApiError::Forbidden(_))), "{r:?}");
    let r = app
        .dispatch_as(&lead, "drills.start", json!({"scenario": "/etc/passwd"}))
        .await;
    assert!(matches!(r, Err(ApiError::NotFound(_))), "{r:?}");
    let r = app
        .dispatch_as(
            &lead,
            "drills.start",
            json!({"scenario": "storm-night", "speed": 0}),
        )
        .await;
    assert!(matches!(r, Err(ApiError::BadArgs(_))), "{r:?}");

    // Start slowly, pause at once: nothing moves while paused.
    let started = app
        .dispatch_as(
            &lead,
            "drills.start",
            json!({"scenario": "executive-arrested", "speed": 600}),
        )
        .await
        .expect("start");
    let run = started["run"].as_str().expect("run key").to_string();
    app.dispatch_as(&lead, "drills.pause", json!({"run": run}))
        .await
        .expect("pause");
    let r = run_of(&app, &run).await;
    assert_eq!(
        (r["state"].as_str(), r["control"].as_str()),
        (Some("paused"), Some("paused")),
        "{r}"
    );
    let r = app
        .dispatch_as(&lead, "drills.report", json!({"run": run}))
        .await;
    assert!(
        matches!(r, Err(ApiError::Conflict(_))),
        "no report while it runs: {r:?}"
    );

    // Resume; once the drill's alert is a crisis it takes the walls over, marked DRILL, and
    // the crisis view pins it.
    app.dispatch_as(&lead, "drills.resume", json!({"run": run}))
        .await
        .expect("resume");
    let mut screen = Value::Null;
    for _ in 0..600 {
        screen = app
            .dispatch("view.screen", json!({"screen": 0}))
            .await
            .expect("screen");
        if !screen["takeover"].is_null() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(screen["takeover"]["drill"], true, "{screen}");
    let alert = app
        .dispatch("view.crisis", json!({}))
        .await
        .expect("crisis view")["alert"]
        .clone();
    assert_eq!(alert["id"], screen["takeover"]["id"]);
    assert_eq!(alert["drill"], true, "{alert}");
    assert_eq!(alert["drill_run"], run.as_str());
    let id = alert["id"].as_i64().expect("id");
    let acked = app
        .dispatch_as(&lead, "alerts.ack", json!({"id": id}))
        .await
        .expect("ack");
    assert_eq!(acked["alert"]["acked_by"], "dana");

    app.dispatch_as(&lead, "drills.stop", json!({"run": run}))
        .await
        .expect("stop");
    let r = wait_for(&app, &run, |r| r["has_report"] == true).await;
    assert_eq!(r["state"], "stopped", "{r}");
    let rep = app
        .dispatch_as(&agent, "drills.report", json!({"run": run}))
        .await
        .expect("report");
    assert_eq!(rep["report"]["drill"], true);
    assert_eq!(rep["report"]["stopped_early"], true);
    assert_eq!(rep["report"]["timeline"][1]["what"], "detection");
    assert!(rep["svg"].as_str().is_some_and(|s| s.contains("<svg")));
    // Controls on a finished drill: 404.
    let r = app
        .dispatch_as(&lead, "drills.resume", json!({"run": run}))
        .await;
    assert!(matches!(r, Err(ApiError::NotFound(_))), "{r:?}");
    app.connectors().shutdown();
}
