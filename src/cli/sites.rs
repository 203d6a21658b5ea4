//! `sunward sites list|add|remove` and `sunward shifts now`: follow-the-sun sites (src/sites).

use std::path::PathBuf;
use std::process::ExitCode;

use chrono::{DateTime, Utc};
use clap::Subcommand;
use serde_json::json;

use super::{print_json, DbArg, EXIT_UNUSABLE};
use crate::sites::api::{load, put, sites_now};
use crate::sites::coverage::{coverage, on_duty};
use crate::sites::spec::{ShiftSpec, SiteSpec, SitesFile, DAYS};

#[derive(Subcommand, Debug)]
pub enum SitesCmd {
    /// List sites with their local time and whether they are on duty
    List {
        #[command(flatten)]
        db: DbArg,
        #[arg(long)]
        json: bool,
    },
    /// Add or replace sites: from a TOML file of [[site]] tables, or one site from flags
    Add {
        #[command(flatten)]
        db: DbArg,
        /// A TOML file with [[site]] tables (docs/follow-the-sun.md)
        #[arg(long, value_name = "FILE", conflicts_with_all = ["name", "tz", "shift"])]
        file: Option<PathBuf>,
        /// The site's name, e.g. austin
        name: Option<String>,
        /// IANA time zone, e.g. America/Chicago
        #[arg(long)]
        tz: Option<String>,
        /// A shift as NAME:DAYS:START-END, e.g. day:mon-fri:08:00-17:00 or night:sat,sun:22:00-06:00 (repeatable)
        #[arg(long)]
        shift: Vec<String>,
        /// The site that takes over when this one's day ends
        #[arg(long)]
        next: Option<String>,
        /// A local date the site is closed, e.g. 2026-12-25 (repeatable)
        #[arg(long)]
        holiday: Vec<String>,
        /// On-call lead for these shifts
        #[arg(long)]
        lead: Option<String>,
        /// On-call legal contact
        #[arg(long)]
        legal: Option<String>,
        /// On-call executive
        #[arg(long)]
        exec: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Remove a site (refused while another site hands over to it)
    Remove {
        #[command(flatten)]
        db: DbArg,
        name: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum ShiftsCmd {
    /// Who is on duty now (or --at TIME), every site's local time, and the next 24 h's gaps and overlaps
    Now {
        #[command(flatten)]
        db: DbArg,
        /// An instant, RFC 3339 (2026-11-23T14:00:00Z or 2026-11-23T08:00:00-06:00)
        #[arg(long)]
        at: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

fn fail(msg: impl std::fmt::Display) -> anyhow::Result<ExitCode> {
    eprintln!("error: {msg}");
    Ok(ExitCode::from(EXIT_UNUSABLE))
}

/// `mon-fri`, `sat,sun`, `mon,wed-fri`.
fn parse_days(s: &str) -> Result<Vec<String>, String> {
    let idx = |d: &str| {
        DAYS.iter()
            .position(|x| x.eq_ignore_ascii_case(d.trim()))
            .ok_or_else(|| format!("unknown day `{d}`; use mon, tue, wed, thu, fri, sat, sun"))
    };
    let mut out = Vec::new();
    for part in s.split(',') {
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (idx(a)?, idx(b)?);
                let mut i = a;
                loop {
                    out.push(DAYS[i].to_string());
                    if i == b {
                        break;
                    }
                    i = (i + 1) % 7;
                }
            }
            None => out.push(DAYS[idx(part)?].to_string()),
        }
    }
    Ok(out)
}

/// `day:mon-fri:08:00-17:00`.
fn parse_shift(s: &str) -> Result<ShiftSpec, String> {
    let bad = || format!("--shift `{s}`: write NAME:DAYS:START-END, e.g. day:mon-fri:08:00-17:00");
    let (name, rest) = s.split_once(':').ok_or_else(bad)?;
    let (days, times) = rest.split_once(':').ok_or_else(bad)?;
    let (start, end) = times.rsplit_once('-').ok_or_else(bad)?;
    Ok(ShiftSpec {
        name: name.trim().to_string(),
        days: parse_days(days).map_err(|e| format!("--shift `{s}`: {e}"))?,
        start: start.trim().to_string(),
        end: end.trim().to_string(),
        handover: None,
        lead: None,
        legal: None,
        exec: None,
    })
}

fn fmt_utc(ms: i64) -> String {
    DateTime::from_timestamp_millis(ms)
        .map(|d| d.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default()
}

pub async fn run_sites(cmd: SitesCmd) -> anyhow::Result<ExitCode> {
    let now = Utc::now().timestamp_millis();
    match cmd {
        SitesCmd::List { db, json } => {
            let store = db.open().await?;
            let specs = store.sites_list().await?;
            let sites = load(&store).await?;
            let now_rows = sites_now(&sites, now);
            if json {
                print_json(&json!({ "sites": specs, "now": now_rows }))?;
            } else if now_rows.is_empty() {
                println!("No sites yet. Add one: sunward sites add austin --tz America/Chicago --shift day:mon-fri:08:00-17:00");
            } else {
                for s in now_rows {
                    println!(
                        "{:<14} {:<22} {} {:>6}  {:<9} {}",
                        s.name,
                        s.tz,
                        s.local_day,
                        s.local_time,
                        if s.on_duty { "ON DUTY" } else { "off" },
                        match (&s.shift, s.shift_ends, s.next_start) {
                            (Some(sh), Some(end), _) => format!("{sh} until {}", fmt_utc(end)),
                            (_, _, Some(next)) => format!("next shift {}", fmt_utc(next)),
                            _ => String::new(),
                        }
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        SitesCmd::Add {
            db,
            file,
            name,
            tz,
            shift,
            next,
            holiday,
            lead,
            legal,
            exec,
            json,
        } => {
            let specs = match (file, name) {
                (Some(f), _) => {
                    let text = match std::fs::read_to_string(&f) {
                        Ok(t) => t,
                        Err(e) => return fail(format!("cannot read {}: {e}", f.display())),
                    };
                    match toml::from_str::<SitesFile>(&text) {
                        Ok(sf) if sf.site.is_empty() => {
                            return fail(format!("{} has no [[site]] tables", f.display()))
                        }
                        Ok(sf) => sf.site,
                        Err(e) => return fail(format!("{}: {e}", f.display())),
                    }
                }
                (None, Some(name)) => {
                    let Some(tz) = tz else {
                        return fail("--tz is needed, e.g. --tz America/Chicago");
                    };
                    if shift.is_empty() {
                        return fail(
                            "give at least one --shift, e.g. --shift day:mon-fri:08:00-17:00",
                        );
                    }
                    let mut shifts = Vec::new();
                    for s in &shift {
                        match parse_shift(s) {
                            Ok(mut sh) => {
                                sh.lead = lead.clone();
                                sh.legal = legal.clone();
                                sh.exec = exec.clone();
                                shifts.push(sh);
                            }
                            Err(e) => return fail(e),
                        }
                    }
                    vec![SiteSpec {
                        name,
                        tz,
                        next,
                        holidays: holiday,
                        shifts,
                    }]
                }
                (None, None) => {
                    return fail("give a site NAME with --tz and --shift, or --file FILE")
                }
            };
            let store = db.open().await?;
            match put(&store, specs, now).await {
                Ok(saved) => {
                    if json {
                        print_json(&saved)?;
                    } else {
                        println!("saved site(s): {}", saved.saved.join(", "));
                        for w in &saved.warnings {
                            eprintln!("warning: {w}; handoffs to it fail until it is added");
                        }
                    }
                    Ok(ExitCode::SUCCESS)
                }
                Err(crate::api::ApiError::BadArgs(e)) => fail(e),
                Err(e) => Err(e.into()),
            }
        }
        SitesCmd::Remove { db, name } => {
            let store = db.open().await?;
            let others = store.sites_list().await?;
            if let Some(o) = others.iter().find(|o| o.next.as_deref() == Some(&name)) {
                return fail(format!(
                    "site `{}` hands over to `{name}`; change its next first",
                    o.name
                ));
            }
            if store.sites_remove(&name).await? {
                println!("removed site `{name}`");
                Ok(ExitCode::SUCCESS)
            } else {
                fail(format!("no site named `{name}`; see `sunward sites list`"))
            }
        }
    }
}

pub async fn run_shifts(cmd: ShiftsCmd) -> anyhow::Result<ExitCode> {
    match cmd {
        ShiftsCmd::Now { db, at, json } => {
            let at = match at {
                None => Utc::now().timestamp_millis(),
                Some(t) => match DateTime::parse_from_rfc3339(t.trim()) {
                    Ok(d) => d.timestamp_millis(),
                    Err(e) => {
                        return fail(format!(
                            "--at `{t}`: {e}; write RFC 3339, e.g. 2026-11-23T14:00:00Z"
                        ))
                    }
                },
            };
            let store = db.open().await?;
            let sites = load(&store).await?;
            let duty = on_duty(&sites, at);
            let cov = coverage(&sites, at, at + 24 * 3_600_000);
            if json {
                print_json(&json!({
                    "at": at,
                    "on_duty": duty,
                    "sites": sites_now(&sites, at),
                    "coverage": cov,
                }))?;
                return Ok(ExitCode::SUCCESS);
            }
            println!("At {}:", fmt_utc(at));
            if sites.is_empty() {
                println!("  no sites; add them with `sunward sites add`");
            }
            for s in sites_now(&sites, at) {
                println!(
                    "  {:<14} {} {:>6} ({})  {}",
                    s.name,
                    s.local_day,
                    s.local_time,
                    s.utc_offset,
                    match (&s.shift, s.shift_ends) {
                        (Some(sh), Some(end)) => format!(
                            "ON DUTY: {sh} until {}{}",
                            fmt_utc(end),
                            s.lead.map(|l| format!(", lead {l}")).unwrap_or_default()
                        ),
                        _ => "off duty".into(),
                    }
                );
            }
            if duty.is_empty() && !sites.is_empty() {
                println!("  NOBODY IS ON DUTY");
            }
            for g in &cov.gaps {
                println!("  gap:     {} to {}", fmt_utc(g.from), fmt_utc(g.to));
            }
            for o in &cov.overlaps {
                println!(
                    "  overlap: {} to {} ({})",
                    fmt_utc(o.from),
                    fmt_utc(o.to),
                    o.sites.join(" + ")
                );
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shift_flags() {
        let s = parse_shift("day:mon-fri:08:00-17:00").unwrap();
        assert_eq!(s.days, ["mon", "tue", "wed", "thu", "fri"]);
        assert_eq!((s.start.as_str(), s.end.as_str()), ("08:00", "17:00"));
        let s = parse_shift("night:fri-mon:22:00-06:00").unwrap();
        assert_eq!(s.days, ["fri", "sat", "sun", "mon"]);
        assert!(parse_shift("day").is_err());
        assert!(parse_shift("day:moon:08:00-17:00")
            .unwrap_err()
            .contains("unknown day"));
    }
}
