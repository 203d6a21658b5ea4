//! `drills.*` commands: the operator panel lists scenarios and runs, starts a shipped scenario in
//! the running server (through the real ingest, detectors, alerts and walls), pauses, resumes and
//! stops it, and opens its report.
//!
//! | command | args | result | role |
//! |---|---|---|---|
//! | `drills.list` | `{}` | `{scenarios:[{name, title, minutes, summary}], runs:[run + control]}` | read |
//! | `drills.start` | `{scenario, speed?}` | `{run, scenario, speed}` | lead |
//! | `drills.pause` / `drills.resume` / `drills.stop` | `{run}` | `{run, control}`; 404 not running | lead |
//! | `drills.report` | `{run}` | `{run, report, svg}`; 409 while it runs | read |
//!
//! Only shipped scenarios (`assets/drills/`) start over the API: a caller never names a file on
//! the server's disk.

use serde::Deserialize;
use serde_json::{json, Value};

use super::runner::{self, Control};
use crate::api::{ApiError, App};
use crate::auth::Principal;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StartArgs {
    scenario: String,
    #[serde(default)]
    speed: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RunArgs {
    run: String,
}

fn parse<T: for<'de> Deserialize<'de>>(args: Value, hint: &str) -> Result<T, ApiError> {
    serde_json::from_value(args).map_err(|e| ApiError::BadArgs(format!("{e}; pass {hint}")))
}

pub async fn dispatch(
    app: &App,
    who: &Principal,
    command: &str,
    args: Value,
) -> Option<Result<Value, ApiError>> {
    let r = match command {
        "drills.list" => list(app).await,
        "drills.start" => start(app, who, args).await,
        "drills.pause" => control(app, args, Control::Paused).await,
        "drills.resume" => control(app, args, Control::Running).await,
        "drills.stop" => control(app, args, Control::Stopped).await,
        "drills.report" => report(app, args).await,
        _ => return None,
    };
    Some(r)
}

/// The shipped scenarios, for lists.
pub fn scenarios() -> Vec<Value> {
    super::SHIPPED
        .iter()
        .filter_map(|(f, text)| {
            super::parse(text, f, &[]).ok().map(|(s, _)| {
                json!({
                    "name": f.trim_end_matches(".toml"), "title": s.name,
                    "minutes": s.duration_minutes, "summary": s.summary,
                    "targets": {
                        "detect_minutes": s.targets.detect_minutes,
                        "ack_minutes": s.targets.ack_minutes,
                        "first_response_minutes": s.targets.first_response_minutes,
                    },
                })
            })
        })
        .collect()
}

async fn list(app: &App) -> Result<Value, ApiError> {
    let runs = app.store().drill_runs(30).await?;
    let runs: Vec<Value> = runs
        .into_iter()
        .map(|r| {
            let control = runner::control_of(&r.run_key);
            // A run the database calls running that this process does not run was cut off by
            // a restart: say so instead of offering controls that cannot work.
            let state = match (&control, r.state.as_str()) {
                (None, "running" | "paused") => "interrupted".to_string(),
                _ => r.state.clone(),
            };
            let mut v = serde_json::to_value(&r).unwrap_or(Value::Null);
            v["state"] = json!(state);
            v["control"] = json!(control);
            v["has_report"] = json!(r.report_path.is_some());
            v
        })
        .collect();
    Ok(json!({ "scenarios": scenarios(), "runs": runs }))
}

async fn start(app: &App, who: &Principal, args: Value) -> Result<Value, ApiError> {
    let a: StartArgs = parse(args, "{\"scenario\": \"storm-night\", \"speed\": 60}")?;
    let speed = a.speed.unwrap_or(60.0);
    if !(speed > 0.0 && speed <= 100_000.0) {
        return Err(ApiError::BadArgs(format!(
            "speed {speed} is out of range: pass drill minutes per wall minute, 0 < speed <= 100000 (60 = a drill minute per second)"
        )));
    }
    let name = a.scenario.trim().trim_end_matches(".toml");
    if !super::SHIPPED
        .iter()
        .any(|(f, _)| f.trim_end_matches(".toml") == name)
    {
        let names: Vec<&str> = super::SHIPPED
            .iter()
            .map(|(f, _)| f.trim_end_matches(".toml"))
            .collect();
        return Err(ApiError::NotFound(format!(
            "no shipped scenario `{name}`; one of: {}",
            names.join(", ")
        )));
    }
    let (scenario, steps, file) =
        super::load(name, &[]).map_err(|e| ApiError::BadArgs(e.to_string()))?;
    let store = app.store().clone();
    let started = runner::begin(&store, &scenario, &file)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let run = started.run.clone();
    let opts = runner::Options {
        speed,
        bus: Some(app.bus().clone()),
        out_dir: runner::default_out_dir(&app.db_path()),
        alerts: app.alerts().config().clone(),
        enricher: app.ingestor().enricher.clone(),
    };
    tracing::info!(%run, by = %who.name, speed, "drill started");
    let title = scenario.name.clone();
    tokio::spawn(async move {
        match runner::run_started(started, store, scenario, steps, &file, opts).await {
            Ok((o, path)) => tracing::info!(run = %o.run, report = %path.display(), "drill ended"),
            Err(e) => tracing::warn!(error = %e, "drill failed"),
        }
    });
    Ok(json!({ "run": run, "scenario": name, "title": title, "speed": speed }))
}

async fn control(app: &App, args: Value, c: Control) -> Result<Value, ApiError> {
    let a: RunArgs = parse(args, "{\"run\": \"<run key from drills.list>\"}")?;
    if !runner::control(&a.run, c) {
        return Err(ApiError::NotFound(format!(
            "drill {} is not running; see drills.list",
            a.run
        )));
    }
    match c {
        Control::Paused => {
            app.store().drill_set_state(&a.run, "paused").await?;
        }
        Control::Running => {
            app.store().drill_set_state(&a.run, "running").await?;
        }
        // The runner records `stopped` with the report once it has written it.
        Control::Stopped => {}
    }
    Ok(json!({ "run": a.run, "control": c }))
}

async fn report(app: &App, args: Value) -> Result<Value, ApiError> {
    let a: RunArgs = parse(args, "{\"run\": \"<run key from drills.list>\"}")?;
    let row = app
        .store()
        .drill_run(&a.run)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no drill run {}", a.run)))?;
    let Some(html) = row.report_path.clone() else {
        return Err(ApiError::Conflict(format!(
            "drill {} has no report yet ({}); a report is written when the drill ends",
            a.run, row.state
        )));
    };
    let dir = std::path::Path::new(&html)
        .parent()
        .map(std::path::Path::to_path_buf)
        .unwrap_or_default();
    let report: Value = match tokio::fs::read_to_string(dir.join("report.json")).await {
        Ok(t) => serde_json::from_str(&t).map_err(|e| {
            ApiError::Internal(format!("{}: {e}", dir.join("report.json").display()))
        })?,
        Err(e) => {
            return Err(ApiError::NotFound(format!(
                "the report of drill {} is gone ({}: {e}); run the drill again",
                a.run,
                dir.display()
            )))
        }
    };
    // The chart is our own SVG (plotters, escaped text); the panel shows it as an image.
    let svg = tokio::fs::read_to_string(dir.join("volume.svg")).await.ok();
    Ok(json!({ "run": row, "report": report, "svg": svg, "html_path": html }))
}
