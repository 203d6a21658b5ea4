//! `sunward drill run|list`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use serde_json::json;

use super::{print_json, DbArg, EXIT_UNUSABLE};
use crate::alerts::AlertsConfig;
use crate::config::Config;
use crate::drills::{self, runner};
use crate::enrich::Enricher;

#[derive(clap::Subcommand, Debug, Clone)]
pub enum DrillCmd {
    /// Run a drill scenario (a file, or a shipped one by name) and print the report's path
    Run {
        /// Scenario file (TOML) or shipped scenario name, e.g. storm-night
        file: String,
        /// Drill minutes per wall-clock minute
        #[arg(long, default_value_t = 60.0)]
        speed: f64,
        #[command(flatten)]
        db: DbArg,
        /// Listening config whose topics the scenario may use
        #[arg(long)]
        config: Option<PathBuf>,
        /// Folder for the report [default: drills/ beside the database]
        #[arg(long)]
        out: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// List the shipped scenarios and the drills run in the database
    List {
        #[command(flatten)]
        db: DbArg,
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(cmd: DrillCmd) -> anyhow::Result<ExitCode> {
    match cmd {
        DrillCmd::Run {
            file,
            speed,
            db,
            config,
            out,
            json,
        } => {
            if !(speed > 0.0 && speed <= 100_000.0) {
                eprintln!("error: --speed must be between 0 and 100000 (drill minutes per minute)");
                return Ok(ExitCode::from(EXIT_UNUSABLE));
            }
            let cfg = Config::load(config.as_deref())?;
            let topics: Vec<String> = cfg.topics.iter().map(|t| t.name.clone()).collect();
            let (scenario, steps, origin) = match drills::load(&file, &topics) {
                Ok(x) => x,
                Err(e) => {
                    eprintln!("error: {e}");
                    return Ok(ExitCode::from(EXIT_UNUSABLE));
                }
            };
            let store = db.open().await?;
            let out_dir = out.unwrap_or_else(|| runner::default_out_dir(&db.path()));
            eprintln!(
                "DRILL: {} ({} min at {speed}x); Ctrl-C stops it and still writes the report",
                scenario.name, scenario.duration_minutes
            );
            let opts = runner::Options {
                speed,
                bus: None,
                out_dir,
                alerts: AlertsConfig::load(None)?,
                enricher: Arc::new(Enricher::new(cfg.query_set())),
            };
            let job =
                tokio::spawn(
                    async move { runner::run(store, scenario, steps, &origin, opts).await },
                );
            // Ctrl-C stops the running drill (the report is still written).
            let stopper = tokio::spawn(async {
                if tokio::signal::ctrl_c().await.is_ok() {
                    for r in runner::running() {
                        runner::control(&r, runner::Control::Stopped);
                    }
                }
            });
            let res = job.await?;
            stopper.abort();
            let (outcome, path) = res?;
            if json {
                print_json(
                    &json!({ "run": outcome.run, "report": path, "stopped_early": outcome.stopped_early }),
                )?;
            } else {
                println!("{}", path.display());
            }
            Ok(ExitCode::SUCCESS)
        }
        DrillCmd::List { db, json } => {
            let shipped: Vec<_> = drills::SHIPPED
                .iter()
                .filter_map(|(f, text)| {
                    drills::parse(text, f, &[]).ok().map(|(s, _)| {
                        json!({ "name": f.trim_end_matches(".toml"), "title": s.name, "minutes": s.duration_minutes, "summary": s.summary })
                    })
                })
                .collect();
            let runs = if db.path().exists() {
                db.open().await?.drill_runs(50).await?
            } else {
                Vec::new()
            };
            if json {
                print_json(&json!({ "scenarios": shipped, "runs": runs }))?;
            } else {
                println!("scenarios (sunward drill run NAME):");
                for s in &shipped {
                    println!(
                        "  {:<24} {:>4} min  {}",
                        s["name"].as_str().unwrap_or(""),
                        s["minutes"],
                        s["title"].as_str().unwrap_or("")
                    );
                }
                if !runs.is_empty() {
                    println!("runs:");
                    for r in &runs {
                        println!(
                            "  {:<48} {:<9} {}",
                            r.run_key,
                            r.state,
                            r.report_path.as_deref().unwrap_or("")
                        );
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
