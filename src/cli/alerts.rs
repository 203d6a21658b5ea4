//! `sunward alerts list|show|ack|resolve`.

use std::process::ExitCode;

use serde_json::{json, Value};

use super::{print_json, DbArg, EXIT_UNUSABLE};
use crate::alerts::{Alerts, AlertsConfig, LifecycleError};
use crate::clock::Clock;
use crate::store::{AlertQuery, AlertRow};

#[derive(clap::Subcommand, Debug, Clone)]
pub enum AlertsCmd {
    /// List alerts, newest first (event time)
    List {
        #[command(flatten)]
        db: DbArg,
        /// Only alerts in this state: open, acknowledged, escalated, resolved
        #[arg(long)]
        state: Option<String>,
        /// Only drill alerts (true) or only real ones (false)
        #[arg(long)]
        drill: Option<bool>,
        #[arg(long, default_value_t = 200)]
        limit: i64,
        /// Print a JSON array
        #[arg(long)]
        json: bool,
    },
    /// One alert with its evidence and its log (who did what, when)
    Show {
        id: i64,
        #[command(flatten)]
        db: DbArg,
        #[arg(long)]
        json: bool,
    },
    /// Acknowledge: you own the response, escalation stops
    Ack {
        id: i64,
        #[command(flatten)]
        db: DbArg,
        /// Who acknowledges [default: $USER]
        #[arg(long = "as", value_name = "NAME")]
        who: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Resolve an alert
    Resolve {
        id: i64,
        #[command(flatten)]
        db: DbArg,
        #[arg(long = "as", value_name = "NAME")]
        who: Option<String>,
        /// What was done
        #[arg(long, default_value = "")]
        note: String,
        #[arg(long)]
        json: bool,
    },
}

/// The `alerts list --json` shape: event time as RFC 3339 beside the raw fields.
pub fn list_item(a: &AlertRow) -> Value {
    json!({
        "id": a.id, "kind": a.kind, "kinds": a.kinds, "topic": a.topic, "channel": a.channel,
        "severity": a.severity, "fired_at": rfc3339(a.fired_at), "last_at": rfc3339(a.last_at),
        "state": a.state, "title": a.title, "drill": a.drill, "drill_run": a.drill_run,
        "signals": a.signals, "acked_by": a.acked_by, "resolved_by": a.resolved_by,
        "backfill": a.backfill,
    })
}

pub fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_else(|| ms.to_string())
}

fn user(who: Option<String>) -> String {
    who.or_else(|| std::env::var("USER").ok())
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| "cli".into())
}

async fn service(db: &DbArg) -> anyhow::Result<Alerts> {
    let store = db.open().await?;
    Ok(Alerts::start(store, None, Clock::System, AlertsConfig::load(None)?).await?)
}

pub async fn run(cmd: AlertsCmd) -> anyhow::Result<ExitCode> {
    match cmd {
        AlertsCmd::List {
            db,
            state,
            drill,
            limit,
            json,
        } => {
            if let Some(s) = &state {
                if !["open", "acknowledged", "escalated", "resolved"].contains(&s.as_str()) {
                    eprintln!("error: --state {s}: use open, acknowledged, escalated or resolved");
                    return Ok(ExitCode::from(EXIT_UNUSABLE));
                }
            }
            let store = db.open().await?;
            let rows = store
                .alerts_list(&AlertQuery {
                    state,
                    drill,
                    drill_run: None,
                    limit,
                })
                .await?;
            if json {
                print_json(&rows.iter().map(list_item).collect::<Vec<_>>())?;
            } else if rows.is_empty() {
                println!("no alerts");
            } else {
                for a in &rows {
                    println!(
                        "{:>5}  {:<20} {:<8} {:<12} {}{}",
                        a.id,
                        rfc3339(a.fired_at),
                        a.severity,
                        a.state,
                        if a.drill { "[DRILL] " } else { "" },
                        a.title
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        AlertsCmd::Show { id, db, json } => {
            let store = db.open().await?;
            let Some(a) = store.alert_get(id).await? else {
                eprintln!("error: alert {id} does not exist; see `sunward alerts list`");
                return Ok(ExitCode::from(EXIT_UNUSABLE));
            };
            let log = store.alert_log(id).await?;
            if json {
                print_json(&json!({ "alert": a, "log": log }))?;
            } else {
                println!("{}", list_item(&a));
                println!("evidence: {}", a.evidence);
                for l in log {
                    println!(
                        "{}  {:<12} {:<16} {}",
                        rfc3339(l.at),
                        l.action,
                        l.who,
                        l.detail
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        AlertsCmd::Ack { id, db, who, json } => {
            let s = service(&db).await?;
            done(s.ack(id, &user(who)).await, json)
        }
        AlertsCmd::Resolve {
            id,
            db,
            who,
            note,
            json,
        } => {
            let s = service(&db).await?;
            done(s.resolve(id, &user(who), &note).await, json)
        }
    }
}

fn done(r: Result<AlertRow, LifecycleError>, json: bool) -> anyhow::Result<ExitCode> {
    match r {
        Ok(a) => {
            if json {
                print_json(&list_item(&a))?;
            } else {
                println!("alert {} is {}", a.id, a.state);
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(LifecycleError::Store(e)) => Err(e.into()),
        Err(e) => {
            eprintln!("error: {e}");
            Ok(ExitCode::from(EXIT_UNUSABLE))
        }
    }
}
