//! `sunward kpi --from --to [--by brand|topic|agent] [--json|--csv]`.

use std::process::ExitCode;

use serde_json::{json, Value};

use super::cases::{run_command, unusable, Actor};

#[derive(clap::Args, Debug)]
pub struct KpiArgs {
    #[command(flatten)]
    actor: Actor,
    /// Start: a date (2017-10-01), an RFC 3339 time or epoch ms [default: 7 days before --to]
    #[arg(long)]
    from: Option<String>,
    /// End (exclusive) [default: now]
    #[arg(long)]
    to: Option<String>,
    /// Group case KPIs by brand, topic or agent
    #[arg(long)]
    by: Option<String>,
    /// Print CSV (groups and the real first-response times per brand)
    #[arg(long, conflicts_with = "json")]
    csv: bool,
    /// Write the KPI charts as SVG files (rendered by plotters) into DIR
    #[arg(long, value_name = "DIR", conflicts_with_all = ["json", "csv"])]
    svg: Option<std::path::PathBuf>,
}

/// A time argument as epoch milliseconds.
pub fn parse_time(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Ok(ms) = s.parse::<i64>() {
        return Some(ms);
    }
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Some(t.timestamp_millis());
    }
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc().timestamp_millis())
}

fn secs(v: &Value) -> String {
    v.as_i64()
        .map(|ms| format!("{:.1} min", ms as f64 / 60_000.0))
        .unwrap_or_else(|| "-".into())
}

pub async fn run(a: KpiArgs) -> anyhow::Result<ExitCode> {
    let mut args = json!({ "by": a.by });
    for (k, v) in [("from", &a.from), ("to", &a.to)] {
        if let Some(v) = v {
            match parse_time(v) {
                Some(t) => args[k] = json!(t),
                None => {
                    return unusable(format!(
                        "--{k} {v}: use a date like 2017-10-01, an RFC 3339 time or epoch ms"
                    ))
                }
            }
        }
    }
    if let Some(dir) = &a.svg {
        if let Err(e) = std::fs::create_dir_all(dir) {
            return unusable(format!("--svg {}: {e}", dir.display()));
        }
        for name in crate::care::kpi::CHARTS {
            let mut args = args.clone();
            args["chart"] = json!(name);
            let path = dir.join(format!("{name}.svg"));
            let code = run_command(&a.actor, "kpi.export", args, |v| {
                match std::fs::write(&path, v["svg"].as_str().unwrap_or("")) {
                    Ok(()) => println!("{}", path.display()),
                    Err(e) => eprintln!("error: cannot write {}: {e}", path.display()),
                }
            })
            .await?;
            if code != ExitCode::SUCCESS {
                return Ok(code);
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    if a.csv {
        return run_command(&a.actor, "kpi.export", args, |v| {
            print!("{}", v["csv"].as_str().unwrap_or(""))
        })
        .await;
    }
    run_command(&a.actor, "kpi.report", args, |v| {
        let row = |g: &Value| {
            println!(
                "{:<24} opened {:>6}  responded {:>6}  first response median {:>10}  p90 {:>10}  SLA met {}%  resolved {}",
                g["key"].as_str().unwrap_or(""),
                g["opened"],
                g["responded"],
                secs(&g["first_response_median_ms"]),
                secs(&g["first_response_p90_ms"]),
                g["sla_met_pct"],
                g["resolved"]
            )
        };
        row(&v["total"]);
        for g in v["groups"].as_array().into_iter().flatten() {
            row(g);
        }
        println!("backlog {}  do-not-respond {}", v["backlog"], v["do_not_respond"]);
        for r in v["responses_per_agent"].as_array().into_iter().flatten() {
            println!("responses by {:<20} {}", r["author"].as_str().unwrap_or(""), r["responses"]);
        }
        println!("real first response (customer's opening post to the brand's first reply):");
        for b in v["real_first_response"].as_array().into_iter().flatten() {
            println!(
                "  {:<20} answered {:>5}  median {:>10}  p90 {:>10}",
                b["brand"].as_str().unwrap_or(""),
                b["answered"],
                secs(&b["median_ms"]),
                secs(&b["p90_ms"])
            );
        }
    })
    .await
}
