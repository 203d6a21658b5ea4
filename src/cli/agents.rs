//! `sunward agents list|add|presence|link` (see src/cli/cases.rs for `--as`).

use std::process::ExitCode;

use clap::Subcommand;
use serde_json::json;

use super::cases::{run_command, Actor};

#[derive(Subcommand, Debug)]
pub enum AgentsCmd {
    /// Agents with skills, capacity, presence and site
    List {
        #[command(flatten)]
        actor: Actor,
    },
    /// Add (or update) a person who works cases; their role is what `--as NAME` acts with
    Add {
        #[command(flatten)]
        actor: Actor,
        name: String,
        /// agent, lead, legal, exec or admin
        #[arg(long, default_value = "agent")]
        role: String,
        /// Comma-separated skills: products, languages, tiers (e.g. `en,pt,tier2,legal`)
        #[arg(long, value_delimiter = ',')]
        skills: Vec<String>,
        /// Most open cases at a time
        #[arg(long, default_value_t = 5)]
        capacity: i64,
        #[arg(long, default_value = "lisbon")]
        site: String,
        /// online, away, offline or finishing
        #[arg(long, default_value = "offline")]
        presence: String,
    },
    /// Set presence: online, away, offline, or finishing (finish current cases, then away)
    Presence {
        #[command(flatten)]
        actor: Actor,
        name: String,
        presence: String,
    },
    /// Record that an agent is linked to a customer handle (grants to them need two approvers)
    Link {
        #[command(flatten)]
        actor: Actor,
        agent: String,
        customer: String,
    },
}

pub async fn run(cmd: AgentsCmd) -> anyhow::Result<ExitCode> {
    match cmd {
        AgentsCmd::List { actor } => {
            run_command(&actor, "agents.list", json!({}), |v| {
                for a in v["agents"].as_array().into_iter().flatten() {
                    println!(
                        "{:<16} {:<6} {:<10} cap {:>3}  {:<10} skills {}",
                        a["name"].as_str().unwrap_or(""),
                        a["role"].as_str().unwrap_or(""),
                        a["presence"].as_str().unwrap_or(""),
                        a["capacity"],
                        a["site"].as_str().unwrap_or(""),
                        a["skills"]
                    );
                }
            })
            .await
        }
        AgentsCmd::Add {
            actor,
            name,
            role,
            skills,
            capacity,
            site,
            presence,
        } => {
            let args = json!({ "name": name, "role": role, "skills": skills, "capacity": capacity, "site": site, "presence": presence });
            run_command(&actor, "agents.add", args, |v| {
                println!(
                    "agent {} ({})",
                    v["name"].as_str().unwrap_or(""),
                    v["role"].as_str().unwrap_or("")
                )
            })
            .await
        }
        AgentsCmd::Presence {
            actor,
            name,
            presence,
        } => {
            run_command(
                &actor,
                "agents.presence",
                json!({ "name": name, "presence": presence }),
                |v| {
                    println!(
                        "{} is {}",
                        v["agent"].as_str().unwrap_or(""),
                        v["presence"].as_str().unwrap_or("")
                    )
                },
            )
            .await
        }
        AgentsCmd::Link {
            actor,
            agent,
            customer,
        } => {
            run_command(
                &actor,
                "agents.link",
                json!({ "agent": agent, "customer": customer }),
                |v| {
                    println!(
                        "{} linked to {}",
                        v["name"].as_str().unwrap_or(""),
                        v["links"]
                    )
                },
            )
            .await
        }
    }
}
