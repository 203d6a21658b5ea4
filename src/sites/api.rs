//! `sites.*`, `shifts.now` and `view.follow_the_sun` of the one API.

use chrono::TimeZone;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::coverage::{coverage, on_duty, Duty};
use super::spec::{check_all_lenient, Site, SiteSpec};
use crate::api::{ApiError, App};
use crate::auth::Principal;
use crate::store::Store;

/// A site as the follow-the-sun strip and `shifts now` show it.
#[derive(Debug, Clone, Serialize)]
pub struct SiteNow {
    pub name: String,
    pub tz: String,
    /// Local wall-clock time, `HH:MM`.
    pub local_time: String,
    /// Local date and weekday, e.g. `Mon 23 Nov`.
    pub local_day: String,
    /// `+05:30`.
    pub utc_offset: String,
    pub on_duty: bool,
    /// The running shift, if any, with its end (UTC ms).
    pub shift: Option<String>,
    pub shift_ends: Option<i64>,
    /// The next shift start of this site (UTC ms) when it is off duty.
    pub next_start: Option<i64>,
    pub next: Option<String>,
    pub lead: Option<String>,
}

/// The checked sites of the database (a definition that no longer checks is skipped).
pub async fn load(store: &Store) -> Result<Vec<Site>, ApiError> {
    let specs = store.sites_list().await?;
    Ok(specs
        .iter()
        .filter_map(|s| {
            s.check()
                .map_err(|e| tracing::warn!(error = %e, "stored site does not check"))
                .ok()
        })
        .collect())
}

/// Every site's local time and duty at `at`.
pub fn sites_now(sites: &[Site], at: i64) -> Vec<SiteNow> {
    let duty = on_duty(sites, at);
    sites
        .iter()
        .map(|s| {
            let local = s.tz.timestamp_millis_opt(at).single();
            let mine: Option<&Duty> = duty.iter().find(|d| d.site == s.name);
            let next_start = if mine.is_none() {
                super::coverage::duties(s, at, at + 8 * 86_400_000)
                    .into_iter()
                    .find(|d| d.start > at)
                    .map(|d| d.start)
            } else {
                None
            };
            SiteNow {
                name: s.name.clone(),
                tz: s.tz.name().to_string(),
                local_time: local
                    .map(|l| l.format("%H:%M").to_string())
                    .unwrap_or_default(),
                local_day: local
                    .map(|l| l.format("%a %-d %b").to_string())
                    .unwrap_or_default(),
                utc_offset: local
                    .map(|l| l.format("%:z").to_string())
                    .unwrap_or_default(),
                on_duty: mine.is_some(),
                shift: mine.map(|d| d.shift.clone()),
                shift_ends: mine.map(|d| d.end),
                next_start,
                next: s.next.clone(),
                lead: mine.and_then(|d| d.contacts.lead.clone()),
            }
        })
        .collect()
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct AtArgs {
    /// UTC ms; default now.
    at: Option<i64>,
    /// Coverage window in hours (default 24, at most 168).
    hours: Option<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PutArgs {
    sites: Vec<SiteSpec>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NameArgs {
    name: String,
}

fn parse<T: serde::de::DeserializeOwned + Default>(command: &str, v: Value) -> Result<T, ApiError> {
    if v.is_null() || v.as_object().is_some_and(|o| o.is_empty()) {
        return Ok(T::default());
    }
    serde_json::from_value(v).map_err(|e| ApiError::BadArgs(format!("{command}: {e}")))
}

/// Checks `new` together with the sites already stored (a `next` may name either) and stores
/// them in one transaction; nothing is written when any of them is wrong.
/// A `next` naming a site that does not exist yet is allowed (sites are added one at a time)
/// and comes back as a warning; handoffs to it fail until it is added.
pub async fn put(store: &Store, new: Vec<SiteSpec>, now: i64) -> Result<Saved, ApiError> {
    let mut all = store.sites_list().await?;
    for n in &new {
        all.retain(|o| o.name != n.name);
    }
    all.extend(new.iter().cloned());
    let (_, missing) = check_all_lenient(&all).map_err(|e| ApiError::BadArgs(e.to_string()))?;
    store.sites_put(&new, now).await?;
    let names: Vec<String> = new.into_iter().map(|s| s.name).collect();
    Ok(Saved {
        warnings: missing
            .into_iter()
            .filter(|e| names.contains(&e.site))
            .map(|e| e.to_string())
            .collect(),
        saved: names,
    })
}

#[derive(Debug, Clone, Serialize)]
pub struct Saved {
    pub saved: Vec<String>,
    pub warnings: Vec<String>,
}

pub async fn dispatch(
    app: &App,
    who: &Principal,
    command: &str,
    args: Value,
) -> Option<Result<Value, ApiError>> {
    if !matches!(
        command,
        "sites.list" | "sites.put" | "sites.remove" | "shifts.now" | "view.follow_the_sun"
    ) {
        return None;
    }
    let now = app.clock().now_ms();
    let store = app.store();
    Some(
        async {
            match command {
                "sites.list" => {
                    let specs = store.sites_list().await?;
                    let sites = load(store).await?;
                    Ok(json!({ "sites": specs, "now": sites_now(&sites, now) }))
                }
                "sites.put" => {
                    let a: PutArgs = serde_json::from_value(args)
                        .map_err(|e| ApiError::BadArgs(format!("sites.put: {e}")))?;
                    let saved = put(store, a.sites, now).await?;
                    tracing::info!(sites = ?saved.saved, by = %who.name, "sites changed");
                    Ok(serde_json::to_value(saved).unwrap_or(Value::Null))
                }
                "sites.remove" => {
                    let a: NameArgs = serde_json::from_value(args)
                        .map_err(|e| ApiError::BadArgs(format!("sites.remove: {e}")))?;
                    let others = store.sites_list().await?;
                    if let Some(o) = others.iter().find(|o| o.next.as_deref() == Some(&a.name)) {
                        return Err(ApiError::Conflict(format!(
                            "site `{}` hands over to `{}`; change its `next` first",
                            o.name, a.name
                        )));
                    }
                    if !store.sites_remove(&a.name).await? {
                        return Err(ApiError::NotFound(format!("no site named `{}`", a.name)));
                    }
                    Ok(json!({ "removed": a.name }))
                }
                "shifts.now" | "view.follow_the_sun" => {
                    let a: AtArgs = parse(command, args)?;
                    let at = a.at.unwrap_or(now);
                    let hours = a.hours.unwrap_or(24);
                    if !(1..=168).contains(&hours) {
                        return Err(ApiError::BadArgs(format!(
                            "hours must be between 1 and 168, got {hours}"
                        )));
                    }
                    let sites = load(store).await?;
                    let cov = coverage(&sites, at, at + hours * 3_600_000);
                    Ok(json!({
                        "at": at,
                        "on_duty": on_duty(&sites, at),
                        "sites": sites_now(&sites, at),
                        "coverage": cov,
                    }))
                }
                _ => Err(ApiError::UnknownCommand(command.to_string())),
            }
        }
        .await,
    )
}
