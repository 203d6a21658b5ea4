//! `sunward cases|agents|playbook|kpi`: the care workflow from the command line, on the same
//! database and through the same commands as the operator panel (src/care/api.rs).
//!
//! Who acts: `--as NAME` (default `admin`, the local administrator). NAME is looked up in the
//! care agents (`sunward agents add NAME --role ROLE`), then in the API tokens (`sunward token
//! add NAME --role ROLE`); the role found is checked against the command like an API call.

use std::process::ExitCode;

use clap::Subcommand;
use serde_json::{json, Value};

use super::{print_json, DbArg, EXIT_UNUSABLE};
use crate::api::ApiError;
use crate::auth::Principal;
use crate::care::api::{run_as, Ctx};
use crate::store::Store;

/// The care commands; flattened into the binary's top level.
#[derive(Subcommand, Debug)]
pub enum CareCmd {
    /// Social care cases: list, show, claim, assign, reply, approve, resolve ...
    Cases {
        #[command(subcommand)]
        what: CasesCmd,
    },
    /// People who work cases: skills, capacity, presence, site
    Agents {
        #[command(subcommand)]
        what: super::agents::AgentsCmd,
    },
    /// The triage playbook: check a file, put it in force, show it
    Playbook {
        #[command(subcommand)]
        what: super::playbook::PlaybookCmd,
    },
    /// Care KPIs over a window: first response (median, p90), SLA met %, backlog, ...
    Kpi(super::kpi::KpiArgs),
}

/// Who runs a CLI command, and where.
#[derive(clap::Args, Debug, Clone)]
pub struct Actor {
    #[command(flatten)]
    pub db: DbArg,
    /// Act as this person (an agent or a token holder); default: the local admin
    #[arg(long = "as", value_name = "NAME", default_value = "admin")]
    pub as_name: String,
    /// Print JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Subcommand, Debug)]
pub enum CasesCmd {
    /// List cases (newest first)
    List {
        #[command(flatten)]
        actor: Actor,
        /// new, assigned, responded, waiting, resolved, follow_up_due or closed
        #[arg(long)]
        status: Option<String>,
        #[arg(long)]
        owner: Option<String>,
        /// Only unowned open cases (the queue)
        #[arg(long)]
        queue: bool,
        /// Only open cases
        #[arg(long)]
        open: bool,
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
    /// A case with its mentions, replies, notes, the customer's history and the audit trail
    Show {
        #[command(flatten)]
        actor: Actor,
        id: i64,
    },
    /// Take an unowned case (as --as NAME)
    Claim {
        #[command(flatten)]
        actor: Actor,
        id: i64,
    },
    /// Move cases to an agent (shift lead; all or nothing)
    Assign {
        #[command(flatten)]
        actor: Actor,
        #[arg(required = true)]
        ids: Vec<i64>,
        #[arg(long)]
        to: String,
    },
    /// Reply on a case (waits for approval when the track or the grant needs it)
    Reply {
        #[command(flatten)]
        actor: Actor,
        id: i64,
        #[arg(long)]
        text: String,
        /// public, dm or email
        #[arg(long)]
        via: Option<String>,
        /// Goodwill/compensation granted (currency units)
        #[arg(long)]
        grant: Option<f64>,
    },
    /// Replies waiting for approval
    Pending {
        #[command(flatten)]
        actor: Actor,
    },
    /// Approve a pending reply, or approve it with an edited text, or reject it with a reason
    Approve {
        #[command(flatten)]
        actor: Actor,
        /// The reply's id (see `sunward cases pending`)
        reply: i64,
        #[arg(long, conflicts_with = "reject")]
        edit: Option<String>,
        #[arg(long, value_name = "REASON")]
        reject: Option<String>,
    },
    /// Internal note on a case
    Note {
        #[command(flatten)]
        actor: Actor,
        id: i64,
        #[arg(long)]
        text: String,
    },
    /// Mark a case resolved (a follow-up comes due later)
    Resolve {
        #[command(flatten)]
        actor: Actor,
        id: i64,
    },
    /// Close a case
    Close {
        #[command(flatten)]
        actor: Actor,
        id: i64,
    },
    /// Run the time-driven work now: queue, re-route silent assignees, SLA warnings, follow-ups
    Tick {
        #[command(flatten)]
        actor: Actor,
    },
}

/// Resolves `--as NAME` to a person and role.
pub async fn principal(store: &Store, name: &str) -> Result<Principal, String> {
    if name == "admin" {
        return Ok(Principal::admin());
    }
    if let Some(role) = store
        .care_agent_role(name)
        .await
        .map_err(|e| e.to_string())?
    {
        return Ok(Principal::new(name, role));
    }
    let tokens = store.token_list().await.map_err(|e| e.to_string())?;
    if let Some(t) = tokens
        .iter()
        .rev()
        .find(|t| t.name == name && t.revoked_at.is_none())
    {
        return Ok(Principal::new(name, t.role));
    }
    Err(format!(
        "--as {name}: nobody of that name; add them with `sunward agents add {name} --role ROLE` or `sunward token add {name} --role ROLE`"
    ))
}

/// Runs one care command as `--as`, printing JSON or `human(result)`. Refusals exit 2 (bad
/// input, unknown things, conflicts) or 3 (not allowed for the role).
pub async fn run_command(
    actor: &Actor,
    command: &str,
    args: Value,
    human: impl FnOnce(&Value),
) -> anyhow::Result<ExitCode> {
    let store = actor.db.open().await?;
    let who = match principal(&store, &actor.as_name).await {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(EXIT_UNUSABLE));
        }
    };
    let ctx = Ctx {
        store: &store,
        now: chrono::Utc::now().timestamp_millis(),
        bus: None,
    };
    match run_as(&ctx, &who, command, args).await {
        Ok(v) => {
            if actor.json {
                print_json(&v)?;
            } else {
                human(&v);
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

fn ts(ms: Option<i64>) -> String {
    ms.and_then(chrono::DateTime::from_timestamp_millis)
        .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|| "-".into())
}

fn print_case_line(c: &Value) {
    println!(
        "{:>6}  {:<13} {:<9} {:<10} {:<14} {:<9} opened {}  due {}",
        c["id"],
        c["status"].as_str().unwrap_or(""),
        c["track"].as_str().unwrap_or(""),
        c["owner"].as_str().unwrap_or("(queue)"),
        c["customer"].as_str().unwrap_or(""),
        c["sla"].as_str().unwrap_or(""),
        ts(c["opened_at"].as_i64()),
        ts(c["first_due"].as_i64()),
    );
}

fn print_reply(r: &Value) {
    println!(
        "reply {}  on case {}  by {}  {}  ({} of {} approvals){}",
        r["id"],
        r["case_id"],
        r["author"].as_str().unwrap_or(""),
        r["status"].as_str().unwrap_or(""),
        r["approvals"].as_array().map_or(0, Vec::len),
        r["needed"],
        r["flags"]
            .as_array()
            .filter(|f| !f.is_empty())
            .map(|f| format!("  flags: {}", Value::Array(f.clone())))
            .unwrap_or_default()
    );
}

pub async fn run(cmd: CareCmd) -> anyhow::Result<ExitCode> {
    match cmd {
        CareCmd::Cases { what } => cases(what).await,
        CareCmd::Agents { what } => super::agents::run(what).await,
        CareCmd::Playbook { what } => super::playbook::run(what).await,
        CareCmd::Kpi(a) => super::kpi::run(a).await,
    }
}

async fn cases(cmd: CasesCmd) -> anyhow::Result<ExitCode> {
    match cmd {
        CasesCmd::List {
            actor,
            status,
            owner,
            queue,
            open,
            limit,
        } => {
            let args = json!({ "status": status, "owner": owner, "queue": queue, "open": open, "limit": limit });
            run_command(&actor, "cases.list", args, |v| {
                for c in v["cases"].as_array().into_iter().flatten() {
                    print_case_line(c);
                }
            })
            .await
        }
        CasesCmd::Show { actor, id } => {
            run_command(&actor, "cases.show", json!({ "id": id }), |v| {
                print_case_line(&v["case"]);
                if let Some(r) = v["case"]["queue_reason"].as_str() {
                    println!("        queued: {r}");
                }
                for m in v["mentions"].as_array().into_iter().flatten() {
                    println!(
                        "  {} {:<8} {} @{}: {}",
                        ts(m["created_at"].as_i64()),
                        m["outcome"].as_str().unwrap_or(""),
                        m["channel"].as_str().unwrap_or(""),
                        m["author"].as_str().unwrap_or(""),
                        m["text"].as_str().unwrap_or("").replace(['\n', '\r'], " ")
                    );
                }
                for r in v["replies"].as_array().into_iter().flatten() {
                    print_reply(r);
                }
                for n in v["notes"].as_array().into_iter().flatten() {
                    println!(
                        "  note by {}: {}",
                        n["author"].as_str().unwrap_or(""),
                        n["text"].as_str().unwrap_or("")
                    );
                }
            })
            .await
        }
        CasesCmd::Claim { actor, id } => {
            run_command(&actor, "cases.claim", json!({ "id": id }), |v| {
                println!(
                    "case {} is now {}'s",
                    v["case"],
                    v["owner"].as_str().unwrap_or("")
                )
            })
            .await
        }
        CasesCmd::Assign { actor, ids, to } => {
            run_command(
                &actor,
                "cases.assign",
                json!({ "ids": ids, "agent": to }),
                |v| {
                    println!(
                        "moved {} to {}",
                        v["moved"],
                        v["agent"].as_str().unwrap_or("")
                    )
                },
            )
            .await
        }
        CasesCmd::Reply {
            actor,
            id,
            text,
            via,
            grant,
        } => {
            let args = json!({ "id": id, "text": text, "via": via, "grant": grant });
            run_command(&actor, "cases.reply", args, print_reply).await
        }
        CasesCmd::Pending { actor } => {
            run_command(&actor, "cases.pending", json!({}), |v| {
                for r in v["replies"].as_array().into_iter().flatten() {
                    print_reply(r);
                }
            })
            .await
        }
        CasesCmd::Approve {
            actor,
            reply,
            edit,
            reject,
        } => {
            let args = match (&edit, &reject) {
                (Some(t), _) => json!({ "reply": reply, "decision": "edit", "text": t }),
                (_, Some(r)) => json!({ "reply": reply, "decision": "reject", "reason": r }),
                _ => json!({ "reply": reply, "decision": "approve" }),
            };
            run_command(&actor, "cases.approve", args, print_reply).await
        }
        CasesCmd::Note { actor, id, text } => {
            run_command(
                &actor,
                "cases.note",
                json!({ "id": id, "text": text }),
                |_| println!("noted on case {id}"),
            )
            .await
        }
        CasesCmd::Resolve { actor, id } => {
            run_command(&actor, "cases.resolve", json!({ "id": id }), |v| {
                print_case_line(&v["case"])
            })
            .await
        }
        CasesCmd::Close { actor, id } => {
            run_command(&actor, "cases.close", json!({ "id": id }), |v| {
                print_case_line(&v["case"])
            })
            .await
        }
        CasesCmd::Tick { actor } => {
            run_command(&actor, "cases.tick", json!({}), |v| println!("{v}")).await
        }
    }
}

/// `Ok(ExitCode)` for unusable input, printed.
pub fn unusable(msg: impl std::fmt::Display) -> anyhow::Result<ExitCode> {
    eprintln!("error: {msg}");
    Ok(ExitCode::from(EXIT_UNUSABLE))
}
