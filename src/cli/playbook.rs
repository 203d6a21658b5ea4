//! `sunward playbook check|set|show|history`: the triage playbook (docs/care.md).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;
use serde_json::json;

use super::cases::{run_command, unusable, Actor};
use super::print_json;
use crate::care::playbook;

#[derive(Subcommand, Debug)]
pub enum PlaybookCmd {
    /// Check a playbook file: syntax, unknown fields, tracks without SLA, unreachable rules
    /// (exit 2 with every problem and its line). Needs no database.
    Check {
        file: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Check a file and put it in force as the next version (admin); a file that does not
    /// check changes nothing
    Set {
        #[command(flatten)]
        actor: Actor,
        file: PathBuf,
    },
    /// Print the playbook in force
    Show {
        #[command(flatten)]
        actor: Actor,
    },
    /// Versions put in force: who and when
    History {
        #[command(flatten)]
        actor: Actor,
    },
}

fn read(file: &PathBuf) -> Result<String, String> {
    std::fs::read_to_string(file).map_err(|e| format!("cannot read {}: {e}", file.display()))
}

pub async fn run(cmd: PlaybookCmd) -> anyhow::Result<ExitCode> {
    match cmd {
        PlaybookCmd::Check { file, json } => {
            let text = match read(&file) {
                Ok(t) => t,
                Err(e) => return unusable(e),
            };
            match playbook::check(&text) {
                Ok(pb) => {
                    let tracks: Vec<&str> = pb.tracks.iter().map(|t| t.name.as_str()).collect();
                    if json {
                        print_json(
                            &json!({ "ok": true, "problems": [], "tracks": tracks, "rules": pb.rules.len() }),
                        )?;
                    } else {
                        println!(
                            "{}: ok ({} rules, tracks {})",
                            file.display(),
                            pb.rules.len(),
                            tracks.join(", ")
                        );
                    }
                    Ok(ExitCode::SUCCESS)
                }
                Err(problems) => {
                    if json {
                        print_json(&json!({ "ok": false, "problems": problems }))?;
                    }
                    for p in &problems {
                        eprintln!("{}:{}: {}", file.display(), p.line, p.message);
                    }
                    Ok(ExitCode::from(super::EXIT_UNUSABLE))
                }
            }
        }
        PlaybookCmd::Set { actor, file } => {
            let text = match read(&file) {
                Ok(t) => t,
                Err(e) => return unusable(e),
            };
            run_command(&actor, "playbook.set", json!({ "text": text }), |v| {
                println!("playbook version {} in force", v["version"])
            })
            .await
        }
        PlaybookCmd::Show { actor } => {
            run_command(&actor, "playbook.get", json!({}), |v| {
                print!("{}", v["text"].as_str().unwrap_or(""))
            })
            .await
        }
        PlaybookCmd::History { actor } => {
            run_command(&actor, "playbook.history", json!({}), |v| {
                for h in v["versions"].as_array().into_iter().flatten() {
                    println!(
                        "v{}  by {}  at {}",
                        h["version"],
                        h["changed_by"].as_str().unwrap_or(""),
                        h["changed_at"]
                    );
                }
            })
            .await
        }
    }
}
