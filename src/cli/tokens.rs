//! `sunward token add|list|revoke`: API tokens per person or wall PC (src/auth.rs).

use std::process::ExitCode;

use clap::Subcommand;
use serde_json::json;

use super::{print_json, DbArg, EXIT_UNUSABLE};
use crate::auth::{new_token, Role};

#[derive(Subcommand, Debug)]
pub enum TokenCmd {
    /// Issue a token for NAME with ROLE; it is printed once and only its hash is stored
    Add {
        #[command(flatten)]
        db: DbArg,
        /// Who holds it: a person's login or a wall PC's name
        name: String,
        /// agent, lead, legal, exec, admin or wall (read-only wall views)
        #[arg(long)]
        role: String,
        #[arg(long)]
        json: bool,
    },
    /// List issued tokens (names and roles; never the tokens)
    List {
        #[command(flatten)]
        db: DbArg,
        #[arg(long)]
        json: bool,
    },
    /// Revoke every token of NAME
    Revoke {
        #[command(flatten)]
        db: DbArg,
        name: String,
    },
}

pub async fn run(cmd: TokenCmd) -> anyhow::Result<ExitCode> {
    let now = chrono::Utc::now().timestamp_millis();
    match cmd {
        TokenCmd::Add {
            db,
            name,
            role,
            json,
        } => {
            let role: Role = match role.parse() {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("error: --role: {e}");
                    return Ok(ExitCode::from(EXIT_UNUSABLE));
                }
            };
            let name = name.trim();
            if name.is_empty() || name.len() > 100 {
                eprintln!("error: NAME must be 1 to 100 characters");
                return Ok(ExitCode::from(EXIT_UNUSABLE));
            }
            let store = db.open().await?;
            let token = new_token();
            let id = store.token_add(name, role, &token, now).await?;
            if json {
                print_json(&json!({ "id": id, "name": name, "role": role, "token": token }))?;
            } else {
                println!("{token}");
                eprintln!("token for {name} ({role}); shown once, keep it safe");
            }
            Ok(ExitCode::SUCCESS)
        }
        TokenCmd::List { db, json } => {
            let rows = db.open().await?.token_list().await?;
            if json {
                print_json(&rows)?;
            } else {
                for r in rows {
                    let state = if r.revoked_at.is_some() {
                        "revoked"
                    } else {
                        "live"
                    };
                    println!("{:>4}  {:<24} {:<6} {state}", r.id, r.name, r.role);
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        TokenCmd::Revoke { db, name } => {
            let n = db.open().await?.token_revoke(&name, now).await?;
            if n == 0 {
                eprintln!("error: no live token for `{name}`; see `sunward token list`");
                return Ok(ExitCode::from(EXIT_UNUSABLE));
            }
            println!("revoked {n} token(s) of {name}");
            Ok(ExitCode::SUCCESS)
        }
    }
}
