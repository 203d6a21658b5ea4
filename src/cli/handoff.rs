//! `sunward handoff create|show|edit|sign|ack|list|export|move|tick`: follow-the-sun handoff
//! briefs and load transfer (src/handoff), through the same commands as the operator panel.
//! Who acts: `--as NAME` (see src/cli/cases.rs); signing and acknowledging need a lead.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;
use serde_json::{json, Value};

use super::cases::{principal, Actor};
use super::{print_json, EXIT_UNUSABLE};
use crate::api::ApiError;
use crate::handoff::api::run_as;
use crate::handoff::model::{Brief, Watch};
use crate::handoff::Ctx;

#[derive(Subcommand, Debug)]
pub enum HandoffCmd {
    /// Generate the brief of the outgoing site for the incoming one (a draft until signed)
    Create {
        #[command(flatten)]
        actor: Actor,
        /// The outgoing site
        #[arg(long)]
        from: String,
        /// The incoming site (must have someone on shift)
        #[arg(long)]
        to: String,
        /// Move every case to this agent of the incoming site instead of routing
        #[arg(long)]
        agent: Option<String>,
        /// Notes for the incoming lead
        #[arg(long)]
        notes: Option<String>,
        /// A watch item as topic:VALUE or author:HANDLE (repeatable)
        #[arg(long)]
        watch: Vec<String>,
        /// Hours of volume and sentiment in the brief (default 8)
        #[arg(long)]
        hours: Option<i64>,
        /// Minutes between escalation steps when nobody acknowledges (default 15)
        #[arg(long, value_name = "MIN")]
        escalate_after: Option<i64>,
    },
    /// Show a brief (Markdown, or --json)
    Show {
        #[command(flatten)]
        actor: Actor,
        id: i64,
    },
    /// Edit a draft: notes, watch items, bulk agent (refused once signed)
    Edit {
        #[command(flatten)]
        actor: Actor,
        id: i64,
        #[arg(long)]
        notes: Option<String>,
        /// Replaces the watch items: topic:VALUE or author:HANDLE (repeatable)
        #[arg(long)]
        watch: Vec<String>,
        /// Remove every watch item
        #[arg(long, conflicts_with = "watch")]
        clear_watch: bool,
        /// Bulk agent of the incoming site ("" = route by the rules)
        #[arg(long)]
        agent: Option<String>,
    },
    /// Sign a brief as the outgoing lead: the open cases move to the incoming site
    Sign {
        #[command(flatten)]
        actor: Actor,
        id: i64,
    },
    /// Acknowledge a signed brief as the incoming lead, whole or one item
    Ack {
        #[command(flatten)]
        actor: Actor,
        id: i64,
        /// Only this item (numbers as in `handoff show`)
        #[arg(long)]
        item: Option<i64>,
    },
    /// List briefs, newest first
    List {
        #[command(flatten)]
        actor: Actor,
        /// Only briefs not yet acknowledged
        #[arg(long)]
        pending: bool,
    },
    /// Write brief-ID.md, .html, .svg and .png into a folder
    Export {
        #[command(flatten)]
        actor: Actor,
        id: i64,
        #[arg(long, value_name = "DIR", default_value = ".")]
        out: PathBuf,
    },
    /// Move load between sites now (surge): cases and/or agents
    Move {
        #[command(flatten)]
        actor: Actor,
        #[arg(long)]
        from: String,
        #[arg(long)]
        to: String,
        /// How many cases (soonest breach first)
        #[arg(long)]
        cases: Option<usize>,
        /// Exactly these cases, e.g. 12,15
        #[arg(long, value_delimiter = ',')]
        ids: Vec<i64>,
        /// Every moved case to this agent of the receiving site
        #[arg(long)]
        agent: Option<String>,
        /// Agents who go to work for the receiving site, e.g. ana,bo
        #[arg(long, value_delimiter = ',')]
        agents: Vec<String>,
    },
    /// Run the time-driven work now: escalations and re-routing of moved cases
    Tick {
        #[command(flatten)]
        actor: Actor,
    },
}

fn watch_items(specs: &[String]) -> Result<Vec<Watch>, String> {
    specs
        .iter()
        .map(|s| {
            let (kind, value) = s
                .split_once(':')
                .ok_or_else(|| format!("--watch `{s}`: write topic:VALUE or author:HANDLE"))?;
            Ok(Watch {
                kind: kind.trim().to_string(),
                value: value.trim().to_string(),
                note: String::new(),
            })
        })
        .collect()
}

async fn call(
    actor: &Actor,
    command: &str,
    args: Value,
    human: impl FnOnce(&Value, i64),
) -> anyhow::Result<ExitCode> {
    let store = actor.db.open().await?;
    let who = match principal(&store, &actor.as_name).await {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(EXIT_UNUSABLE));
        }
    };
    let now = chrono::Utc::now().timestamp_millis();
    let ctx = Ctx {
        store: &store,
        now,
        bus: None,
    };
    match run_as(&ctx, &who, command, args).await {
        Ok(v) => {
            if actor.json {
                print_json(&v)?;
            } else {
                human(&v, now);
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(ApiError::Internal(e)) => Err(anyhow::anyhow!(e)),
        Err(e @ ApiError::Forbidden(_)) => {
            eprintln!("error: {e}");
            Ok(ExitCode::from(3))
        }
        Err(e) => {
            eprintln!("error: {e}");
            Ok(ExitCode::from(EXIT_UNUSABLE))
        }
    }
}

fn brief_of(v: &Value) -> Option<Brief> {
    serde_json::from_value(v.get("brief")?.clone()).ok()
}

fn print_brief(v: &Value, now: i64) {
    match brief_of(v) {
        Some(b) => print!("{}", crate::handoff::export::markdown(&b, None, now)),
        None => println!("{v}"),
    }
}

fn print_line(b: &Brief) {
    let acked = b.items.iter().filter(|i| i.acked_by.is_some()).count();
    println!(
        "{:>5}  {:<10} -> {:<10} {:<12} cases {:>3}  items {}/{}  by {}",
        b.id,
        b.from_site,
        b.to_site,
        b.status,
        b.content.cases.len(),
        acked,
        b.items.len(),
        b.signed_by.as_deref().unwrap_or(&b.created_by)
    );
}

fn fail(msg: String) -> anyhow::Result<ExitCode> {
    eprintln!("error: {msg}");
    Ok(ExitCode::from(EXIT_UNUSABLE))
}

pub async fn run(cmd: HandoffCmd) -> anyhow::Result<ExitCode> {
    match cmd {
        HandoffCmd::Create {
            actor,
            from,
            to,
            agent,
            notes,
            watch,
            hours,
            escalate_after,
        } => {
            let watch = match watch_items(&watch) {
                Ok(w) => w,
                Err(e) => return fail(e),
            };
            let args = json!({ "from": from, "to": to, "agent": agent, "notes": notes, "watch": watch,
                "hours": hours, "escalate_after_minutes": escalate_after });
            call(&actor, "handoff.create", args, |v, now| {
                print_brief(v, now);
                if let Some(b) = brief_of(v) {
                    eprintln!("\nbrief {} is a draft: edit with `sunward handoff edit {}`, sign with `sunward handoff sign {}`", b.id, b.id, b.id);
                }
            })
            .await
        }
        HandoffCmd::Show { actor, id } => {
            call(&actor, "handoff.show", json!({ "id": id }), print_brief).await
        }
        HandoffCmd::Edit {
            actor,
            id,
            notes,
            watch,
            clear_watch,
            agent,
        } => {
            let mut args = json!({ "id": id, "notes": notes, "agent": agent });
            if clear_watch || !watch.is_empty() {
                match watch_items(&watch) {
                    Ok(w) => args["watch"] = json!(w),
                    Err(e) => return fail(e),
                }
            }
            call(&actor, "handoff.edit", args, print_brief).await
        }
        HandoffCmd::Sign { actor, id } => {
            call(&actor, "handoff.sign", json!({ "id": id }), |v, _| {
                let moved = v["transfer"]["moved"].as_array().cloned().unwrap_or_default();
                let kept = v["transfer"]["kept"].as_array().map_or(0, Vec::len);
                println!(
                    "brief {id} signed; {} case(s) moved to {}, {kept} kept by agents finishing then away",
                    moved.len(),
                    v["brief"]["to_site"].as_str().unwrap_or("?")
                );
                for m in moved {
                    println!(
                        "  case {:>5}  {} -> {}",
                        m["case_id"],
                        m["from"].as_str().unwrap_or("(queue)"),
                        m["to"].as_str().unwrap_or("?")
                    );
                }
            })
            .await
        }
        HandoffCmd::Ack { actor, id, item } => {
            call(&actor, "handoff.ack", json!({ "id": id, "item": item }), |v, _| {
                if let Some(b) = brief_of(v) {
                    let acked = b.items.iter().filter(|i| i.acked_by.is_some()).count();
                    println!("brief {id}: {} ({acked} of {} items acknowledged)", b.status, b.items.len());
                }
            })
            .await
        }
        HandoffCmd::List { actor, pending } => {
            call(&actor, "handoff.list", json!({ "pending": pending }), |v, _| {
                let briefs: Vec<Brief> =
                    serde_json::from_value(v["briefs"].clone()).unwrap_or_default();
                if briefs.is_empty() {
                    println!("no briefs{}", if pending { " pending" } else { "" });
                }
                for b in &briefs {
                    print_line(b);
                }
            })
            .await
        }
        HandoffCmd::Export { actor, id, out } => {
            let store = actor.db.open().await?;
            if let Err(e) = principal(&store, &actor.as_name).await {
                return fail(e);
            }
            let Some(b) = store.handoff_get(id).await? else {
                return fail(format!("id: no handoff brief {id}; see `sunward handoff list`"));
            };
            let now = chrono::Utc::now().timestamp_millis();
            let ctx = Ctx {
                store: &store,
                now,
                bus: None,
            };
            let offset = crate::handoff::api::offset_of(&ctx, &b.from_site).await;
            let files = crate::handoff::export::write_files(&b, &out, now, offset)?;
            if actor.json {
                print_json(&json!({ "files": files }))?;
            } else {
                for f in files {
                    println!("{}", f.display());
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        HandoffCmd::Move {
            actor,
            from,
            to,
            cases,
            ids,
            agent,
            agents,
        } => {
            let args = json!({ "from": from, "to": to, "cases": cases,
                "ids": if ids.is_empty() { None } else { Some(ids) }, "agent": agent, "agents": agents });
            call(&actor, "handoff.move", args, |v, _| {
                let moved = v["transfer"]["moved"].as_array().map_or(0, Vec::len);
                println!("{moved} case(s) moved from {from} to {to}");
            })
            .await
        }
        HandoffCmd::Tick { actor } => {
            call(&actor, "handoff.tick", json!({}), |v, _| println!("{v}")).await
        }
    }
}
