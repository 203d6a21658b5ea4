//! `sunward wall check PATH [--monitors "DUMMY0:1920x1080+0+0,..."] [--json]`: validates a wall
//! profile and prints what would go on which monitor.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;

use super::{print_json, EXIT_UNUSABLE};
use crate::wall::api::{check_report, parse_monitors};

/// The virtual wall's three monitors, used when `--monitors` is not given.
pub const DEFAULT_MONITORS: &str =
    "DUMMY0:1920x1080+0+0,DUMMY1:1920x1080+1920+0,DUMMY2:1920x1080+3840+0";

#[derive(Subcommand, Debug)]
pub enum WallCmd {
    /// Validate a wall profile and print the window plan for a set of monitors
    Check {
        /// The profile (TOML)
        path: PathBuf,
        /// Monitors as NAME:WIDTHxHEIGHT+X+Y, comma separated [default: three 1920x1080 side by side]
        #[arg(long, default_value = DEFAULT_MONITORS)]
        monitors: String,
        /// Print the report as JSON
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(cmd: WallCmd) -> anyhow::Result<ExitCode> {
    match cmd {
        WallCmd::Check {
            path,
            monitors,
            json,
        } => {
            let text = match std::fs::read_to_string(&path) {
                Ok(t) => t,
                Err(e) => {
                    eprintln!(
                        "sunward wall check: cannot read {}: {e}; pass the path of a profile TOML (see assets/walls/)",
                        path.display()
                    );
                    return Ok(ExitCode::from(EXIT_UNUSABLE));
                }
            };
            let monitors = match parse_monitors(&monitors) {
                Ok(m) if !m.is_empty() => m,
                Ok(_) => {
                    eprintln!("sunward wall check: --monitors lists no monitor; e.g. --monitors \"{DEFAULT_MONITORS}\"");
                    return Ok(ExitCode::from(EXIT_UNUSABLE));
                }
                Err(e) => {
                    eprintln!("sunward wall check: {e}");
                    return Ok(ExitCode::from(EXIT_UNUSABLE));
                }
            };
            let report = check_report(&text, &monitors);
            let ok = report["ok"] == true;
            if json {
                print_json(&report)?;
            } else {
                print_human(&path, &report);
            }
            Ok(if ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(EXIT_UNUSABLE)
            })
        }
    }
}

fn print_human(path: &std::path::Path, r: &serde_json::Value) {
    let file = path.display();
    for p in r["problems"].as_array().into_iter().flatten() {
        let kind = if p["warning"] == true {
            "warning"
        } else {
            "error"
        };
        let line = p["line"].as_u64().unwrap_or(0);
        let field = p["field"].as_str().unwrap_or("");
        let field = if field.is_empty() {
            String::new()
        } else {
            format!(" `{field}`:")
        };
        println!(
            "{file}:{line}: {kind}:{field} {}\n    fix: {}",
            p["message"].as_str().unwrap_or(""),
            p["fix"].as_str().unwrap_or("")
        );
    }
    if r["fallback"] == true {
        println!("{file}: NOT usable; a wall started with it shows the safe default layout:");
    } else {
        println!(
            "{file}: profile `{}` is valid",
            r["name"].as_str().unwrap_or("")
        );
    }
    for w in r["plan"].as_array().into_iter().flatten() {
        let items: Vec<String> = w["items"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|i| {
                let mut s = i["view"].as_str().unwrap_or("?").to_string();
                if let Some(t) = i["topic"].as_str() {
                    s.push_str(&format!("[topic={t}]"));
                }
                if w["items"].as_array().map_or(0, Vec::len) > 1 {
                    s.push_str(&format!(" {}s", i["dwell"]));
                }
                s
            })
            .collect();
        println!(
            "  {} on {} ({}x{}+{}+{}): {}{}{}",
            w["label"].as_str().unwrap_or(""),
            w["monitor_name"].as_str().unwrap_or(""),
            w["width"],
            w["height"],
            w["x"],
            w["y"],
            items.join(", "),
            if w["showcase"] == true {
                " [showcase]"
            } else {
                ""
            },
            match w["zoom"].as_f64() {
                Some(z) if (z - 1.0).abs() > 1e-9 => format!(" zoom {z}"),
                _ => String::new(),
            }
        );
    }
}
