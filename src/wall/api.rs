//! Wall commands. `view.*` are wall-readable (a wall token may run them): what a screen shows
//! and the data of the wall's own views. `wall.*` are the operator's: push, freeze, blackout,
//! release (lead), drills and acks of takeovers (lead), profiles (read, save = admin).

use chrono::{TimeZone, Timelike, Utc};
use serde::Deserialize;
use serde_json::{json, Value};

use super::profile::{check, severity_rank, Item, WallProfile, SEVERITIES};
use super::scenes::parse_hhmm;
use super::state::Control;
use super::{layout, views::is_known_view, Monitor};
use crate::api::{ApiError, App};
use crate::auth::{Principal, Role};
use crate::events::{AlertNotice, Event};
use crate::rollup;
use crate::store::{Filter, GroupBy};

fn args<T: for<'de> Deserialize<'de> + Default>(v: Value) -> Result<T, ApiError> {
    if v.is_null() {
        return Ok(T::default());
    }
    serde_json::from_value(v).map_err(|e| ApiError::BadArgs(e.to_string()))
}

fn to_json<T: serde::Serialize>(v: &T) -> Result<Value, ApiError> {
    serde_json::to_value(v).map_err(|e| ApiError::Internal(e.to_string()))
}

/// Which screen a view call is for (so the server can apply the screen's showcase mode).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScreenArgs {
    profile: Option<String>,
    screen: Option<usize>,
    showcase: Option<bool>,
    minutes: Option<i64>,
    limit: Option<i64>,
    topic: Option<String>,
    channel: Option<String>,
    /// Desktop window label (`wall.alive`).
    label: Option<String>,
}

impl ScreenArgs {
    fn filter(&self) -> Filter {
        let clean = |s: &Option<String>| {
            s.as_ref()
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        Filter {
            topic: clean(&self.topic),
            channel: clean(&self.channel),
        }
    }
    fn minutes(&self, default: i64) -> Result<i64, ApiError> {
        match self.minutes.unwrap_or(default) {
            m @ 1..=10_080 => Ok(m),
            m => Err(ApiError::BadArgs(format!(
                "minutes must be between 1 and 10080, got {m}"
            ))),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ControlArgs {
    profile: Option<String>,
    screen: Option<usize>,
    view: Option<String>,
    topic: Option<String>,
    channel: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileArgs {
    name: Option<String>,
    toml: Option<String>,
    /// `"DP-1:1920x1080+0+0,..."` (as `sunward wall check --monitors`).
    monitors: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct AlertArgs {
    id: Option<i64>,
    severity: Option<String>,
    title: Option<String>,
}

/// The profile as it stands now (scene resolved), by name; the primary when no name is given.
pub(crate) fn profile_now(app: &App, name: Option<&str>) -> Result<WallProfile, ApiError> {
    let walls = app.walls();
    let reg = walls.registry();
    let checked = match name {
        None => &reg.primary,
        Some(n) => reg.get(n).ok_or_else(|| {
            ApiError::NotFound(format!(
                "no wall profile `{n}`; known: {}",
                reg.names().join(", ")
            ))
        })?,
    };
    let now = Utc
        .timestamp_millis_opt(app.clock().now_ms())
        .single()
        .unwrap_or_else(Utc::now);
    Ok(checked.profile.at(now))
}

/// The names of the sources that are expected to deliver: running connectors (not disabled,
/// not idle webhooks) and the demo while it runs.
async fn expected_sources(app: &App) -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(v) = Box::pin(app.dispatch("health", Value::Null)).await {
        if v["demo"] == true {
            out.push("demo".to_string());
        }
    }
    if let Ok(v) = Box::pin(app.dispatch("sources", Value::Null)).await {
        for s in v["sources"].as_array().into_iter().flatten() {
            let state = s["health"]["state"].as_str().unwrap_or("");
            let enabled = s["enabled"].as_bool().unwrap_or(false);
            if enabled && state != "disabled" && state != "idle" {
                if let Some(n) = s["name"].as_str() {
                    out.push(n.to_string());
                }
            }
        }
    }
    out
}

/// Parses `"NAME:WxH+X+Y,..."`.
pub fn parse_monitors(spec: &str) -> Result<Vec<Monitor>, String> {
    let mut out = Vec::new();
    for (i, part) in spec
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .enumerate()
    {
        let (name, geo) = match part.rsplit_once(':') {
            Some((n, g)) => (n.trim().to_string(), g.trim()),
            None => (format!("monitor-{i}"), part),
        };
        let bad = || {
            format!("cannot read monitor {part:?}; write NAME:WIDTHxHEIGHT+X+Y, e.g. DUMMY0:1920x1080+0+0")
        };
        let cut = geo.find(['+', '-']).ok_or_else(bad)?;
        let (size, offsets) = geo.split_at(cut);
        let (w, h) = size.split_once('x').ok_or_else(bad)?;
        // Offsets are signed: "+0+0", "-1280+56", "+-1280+0" (xrandr's form of a negative).
        let mut nums: Vec<String> = Vec::new();
        let mut prev = ' ';
        for c in offsets.chars() {
            if (c == '+' || c == '-') && prev != '+' {
                nums.push(String::new());
            }
            if c != '+' {
                if let Some(last) = nums.last_mut() {
                    last.push(c);
                }
            }
            prev = c;
        }
        if nums.len() != 2 {
            return Err(bad());
        }
        let m = Monitor::new(
            &name,
            nums[0].parse().map_err(|_| bad())?,
            nums[1].parse().map_err(|_| bad())?,
            w.parse().map_err(|_| bad())?,
            h.parse().map_err(|_| bad())?,
        );
        out.push(m);
    }
    Ok(out)
}

pub async fn dispatch(
    app: &App,
    who: &Principal,
    command: &str,
    args_v: Value,
) -> Option<Result<Value, ApiError>> {
    let r = match command {
        "view.screen" => screen(app, who, args(args_v)).await,
        "view.freshness" => freshness(app, args(args_v)).await,
        "view.topics" => topics(app, args(args_v)).await,
        "view.top_posts" => top_posts(app, who, args(args_v)).await,
        "view.kpi" => kpi(app, args(args_v)).await,
        "view.sites" => sites(app, args(args_v)).await,
        "view.health" => health(app, args(args_v)).await,
        "wall.alive" => match args::<ScreenArgs>(args_v) {
            Ok(a) => {
                app.walls()
                    .mark_alive(a.label.as_deref().unwrap_or("browser"));
                Ok(json!({"ok": true}))
            }
            Err(e) => Err(e),
        },
        "wall.push" | "wall.freeze" | "wall.blackout" | "wall.release" => {
            control(app, who, command, args(args_v)).await
        }
        "wall.status" => status(app).await,
        "wall.list" => list(app),
        "wall.show" => show(app, args(args_v)),
        "wall.check" => check_cmd(args(args_v)),
        "wall.save" => save(app, args(args_v)),
        "wall.drill" => drill(app, args(args_v)),
        "wall.ack" => ack(app, who, args(args_v)).await,
        _ => return None,
    };
    Some(r)
}

// ---- what a screen shows ---------------------------------------------------------------------

async fn screen(
    app: &App,
    who: &Principal,
    a: Result<ScreenArgs, ApiError>,
) -> Result<Value, ApiError> {
    let a = a?;
    let p = profile_now(app, a.profile.as_deref())?;
    let k = a.screen.unwrap_or(0);
    let walls = app.walls();
    let (fallback, problems) = {
        let reg = walls.registry();
        let c = match a.profile.as_deref() {
            None => Some(&reg.primary),
            Some(n) => reg.get(n),
        };
        c.map(|c| (c.fallback, c.problems.clone()))
            .unwrap_or_default()
    };
    let s = p.screens.get(k);
    let items: Vec<Item> = match s {
        Some(s) => s.items(p.rotate_seconds),
        // A screen past the profile's (a surplus monitor): everything in turn.
        None => p.all_items(),
    };
    let showcase = s.is_some_and(|s| s.showcase)
        || crate::showcase::settings_for(app, who, a.profile.as_deref(), Some(k), a.showcase)
            .is_some();
    let mut takeover = walls.takeovers(p.takeover.severity.as_deref());
    if showcase {
        // Visitors never see incidents, whatever the profile says.
        takeover.clear();
    }
    Ok(json!({
        "profile": p.name,
        "scene": p.active_scene,
        "screen": k,
        "screens": p.screens.len(),
        "title": s.map(|s| s.title.clone()).unwrap_or_else(|| "All views".into()),
        "items": items,
        "theme": s.and_then(|s| s.theme).unwrap_or(p.theme),
        "zoom": s.and_then(|s| s.zoom).unwrap_or(p.zoom),
        "showcase": showcase,
        "captions": if showcase { p.showcase.captions.clone() } else { Vec::new() },
        "stale_after_seconds": p.stale_after_seconds,
        "takeover_severity": p.takeover.severity,
        "sound": p.takeover.sound,
        "takeover": takeover.first(),
        "control": walls.control_for(&p.name, k),
        "fallback": fallback,
        "problems": problems,
        "sites": p.sites.len(),
    }))
}

async fn freshness(app: &App, a: Result<ScreenArgs, ApiError>) -> Result<Value, ApiError> {
    let a = a?;
    let p = profile_now(app, a.profile.as_deref())?;
    let now = app.clock().now_ms();
    let expected = expected_sources(app).await;
    let sources = app.walls().freshness(&expected);
    let limit = i64::from(p.stale_after_seconds) * 1000;
    let silent: Vec<&str> = sources
        .iter()
        .filter(|s| s.expected && s.last_at.map_or(true, |t| now - t > limit))
        .map(|s| s.source.as_str())
        .collect();
    let newest = sources.iter().filter_map(|s| s.last_at).max();
    Ok(json!({
        "now": now,
        "stale_after_seconds": p.stale_after_seconds,
        "newest_at": newest,
        "silent": silent,
        "sources": sources,
    }))
}

// ---- view data --------------------------------------------------------------------------------

async fn topics(app: &App, a: Result<ScreenArgs, ApiError>) -> Result<Value, ApiError> {
    let a = a?;
    let minutes = a.minutes(60)?;
    let limit = a.limit.unwrap_or(10).clamp(1, 50) as usize;
    let now = app.clock().now_ms();
    let (from, to) = rollup::window(now, minutes);
    let f = a.filter();
    let store = app.store();
    let cur = store.totals_by(GroupBy::Topic, from, to, &f).await?;
    let prev = store
        .totals_by(GroupBy::Topic, from - (to - from), from, &f)
        .await?;
    let rows: Vec<Value> = cur
        .iter()
        .take(limit)
        .map(|(name, c)| {
            let before = prev
                .iter()
                .find(|(n, _)| n == name)
                .map_or(0, |(_, p)| p.total);
            json!({
                "name": name,
                "total": c.total,
                "negative": c.negative,
                "neutral": c.neutral,
                "positive": c.positive,
                "previous": before,
                "net": rollup::net(c),
            })
        })
        .collect();
    Ok(json!({ "from": from, "to": to, "minutes": minutes, "topics": rows }))
}

async fn top_posts(
    app: &App,
    who: &Principal,
    a: Result<ScreenArgs, ApiError>,
) -> Result<Value, ApiError> {
    let a = a?;
    let minutes = a.minutes(240)?;
    let limit = a.limit.unwrap_or(6).clamp(1, 30);
    let now = app.clock().now_ms();
    let (from, to) = rollup::window(now, minutes);
    let sc = crate::showcase::settings_for(app, who, a.profile.as_deref(), a.screen, a.showcase);
    let to = match &sc {
        Some(s) => to.min(now - i64::from(s.delay_minutes) * 60_000),
        None => to,
    };
    let mut posts = app
        .store()
        .top_by_reach(from, to, limit, &a.filter())
        .await?;
    if sc.is_some() {
        posts = posts.iter().map(crate::showcase::mask_mention).collect();
    }
    Ok(
        json!({ "from": from, "to": to, "minutes": minutes, "posts": posts, "masked": sc.is_some() }),
    )
}

async fn kpi(app: &App, a: Result<ScreenArgs, ApiError>) -> Result<Value, ApiError> {
    let a = a?;
    let now = app.clock().now_ms();
    let f = a.filter();
    let store = app.store();
    let hour = rollup::volume(store, now, 60, &f).await?;
    let prev_hour = rollup::volume(store, now - 3_600_000, 60, &f).await?;
    let day = rollup::volume(store, now, 1440, &f).await?;
    let senti = rollup::sentiment(store, now, 60, &f).await?;
    let hv = serde_json::to_value(&hour).map_err(|e| ApiError::Internal(e.to_string()))?;
    let pv = serde_json::to_value(&prev_hour).map_err(|e| ApiError::Internal(e.to_string()))?;
    let dv = serde_json::to_value(&day).map_err(|e| ApiError::Internal(e.to_string()))?;
    let sv = serde_json::to_value(&senti).map_err(|e| ApiError::Internal(e.to_string()))?;
    let total = |v: &Value| v["total"]["total"].as_i64().unwrap_or(0);
    let peak = hv["series"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["total"].as_i64())
        .max()
        .unwrap_or(0);
    let negative = hv["total"]["negative"].as_i64().unwrap_or(0);
    let neg_share = if total(&hv) > 0 {
        negative as f64 / total(&hv) as f64
    } else {
        0.0
    };
    let p = profile_now(app, a.profile.as_deref())?;
    let open_alerts = app.walls().open_alerts().len();
    let expected = expected_sources(app).await;
    let fresh = app.walls().freshness(&expected);
    let limit = i64::from(p.stale_after_seconds) * 1000;
    let healthy = fresh
        .iter()
        .filter(|s| s.expected && s.last_at.is_some_and(|t| now - t <= limit))
        .count();
    let expected_n = fresh.iter().filter(|s| s.expected).count();
    Ok(json!({
        "now": now,
        "tiles": [
            {"key": "mentions_60m", "label": "Mentions · 60 min", "value": total(&hv), "previous": total(&pv)},
            {"key": "mentions_24h", "label": "Mentions · 24 h", "value": total(&dv)},
            {"key": "peak_per_min", "label": "Peak / min", "value": peak},
            {"key": "negative_share", "label": "Negative · 60 min", "value": (neg_share * 1000.0).round() / 10.0, "unit": "%"},
            {"key": "net_sentiment", "label": "Net sentiment", "value": sv["net"].clone()},
            {"key": "open_alerts", "label": "Open alerts", "value": open_alerts},
            {"key": "sources_flowing", "label": "Sources flowing", "value": healthy, "of": expected_n},
        ],
    }))
}

/// Is local minute `m` inside the shift "HH:MM-HH:MM" (which may cross midnight)?
fn on_shift(shift: &str, m: u32) -> Option<bool> {
    let (a, b) = shift.split_once('-')?;
    let (a, b) = (parse_hhmm(a)?, parse_hhmm(b)?);
    Some(if a <= b {
        m >= a && m < b
    } else {
        m >= a || m < b
    })
}

async fn sites(app: &App, a: Result<ScreenArgs, ApiError>) -> Result<Value, ApiError> {
    let a = a?;
    let p = profile_now(app, a.profile.as_deref())?;
    let now_ms = app.clock().now_ms();
    let now = Utc
        .timestamp_millis_opt(now_ms)
        .single()
        .unwrap_or_else(Utc::now);
    let rows: Vec<Value> = p
        .sites
        .iter()
        .map(|s| {
            let tz: chrono_tz::Tz = s.timezone.parse().unwrap_or(chrono_tz::UTC);
            let local = now.with_timezone(&tz);
            let minute = local.hour() * 60 + local.minute();
            let offset_min = {
                use chrono::Offset;
                local.offset().fix().local_minus_utc() / 60
            };
            json!({
                "name": s.name,
                "timezone": s.timezone,
                "team": s.team,
                "shift": s.shift,
                "local_time": local.format("%H:%M").to_string(),
                "local_day": local.format("%a").to_string(),
                "utc_offset_minutes": offset_min,
                "on_shift": s.shift.as_deref().and_then(|sh| on_shift(sh, minute)),
            })
        })
        .collect();
    Ok(json!({ "now": now_ms, "sites": rows }))
}

async fn health(app: &App, a: Result<ScreenArgs, ApiError>) -> Result<Value, ApiError> {
    let a = a?;
    let p = profile_now(app, a.profile.as_deref())?;
    let now = app.clock().now_ms();
    let h = Box::pin(app.dispatch("health", Value::Null)).await?;
    // Source health for walls: names and states only (no URLs, cursors, env var names or error
    // texts, which may quote URLs).
    let mut sources: Vec<Value> = Vec::new();
    if let Ok(v) = Box::pin(app.dispatch("sources", Value::Null)).await {
        for s in v["sources"].as_array().into_iter().flatten() {
            sources.push(json!({
                "name": s["name"],
                "kind": s["kind"],
                "enabled": s["enabled"],
                "state": s["health"]["state"],
            }));
        }
    }
    let expected = expected_sources(app).await;
    let fresh = app.walls().freshness(&expected);
    let limit = i64::from(p.stale_after_seconds) * 1000;
    let silent: Vec<&str> = fresh
        .iter()
        .filter(|s| s.expected && s.last_at.map_or(true, |t| now - t > limit))
        .map(|s| s.source.as_str())
        .collect();
    let (fallback, problems) = {
        let reg = app.walls().registry();
        let c = match a.profile.as_deref() {
            None => Some(&reg.primary),
            Some(n) => reg.get(n),
        };
        c.map(|c| (c.fallback, c.problems.len()))
            .unwrap_or_default()
    };
    Ok(json!({
        "now": now,
        "ok": h["ok"],
        "version": h["version"],
        "demo": h["demo"],
        "mentions": h["mentions"],
        "sources": sources,
        "freshness": fresh,
        "silent": silent,
        "profile": p.name,
        "scene": p.active_scene,
        "profile_fallback": fallback,
        "profile_problems": problems,
        "open_alerts": app.walls().open_alerts().len(),
        "controls": app.walls().controls().len(),
    }))
}

// ---- operator controls ------------------------------------------------------------------------

async fn control(
    app: &App,
    who: &Principal,
    command: &str,
    a: Result<ControlArgs, ApiError>,
) -> Result<Value, ApiError> {
    let a = a?;
    let action = command.trim_start_matches("wall.").to_string();
    if let Some(p) = &a.profile {
        if app.walls().registry().get(p).is_none() {
            return Err(ApiError::NotFound(format!(
                "no wall profile `{p}`; see `wall.list`"
            )));
        }
    }
    let item = if action == "push" {
        let view = a.view.as_deref().map(str::trim).unwrap_or("");
        if !is_known_view(view) {
            return Err(ApiError::BadArgs(format!(
                "wall.push needs `view`, one of: {}",
                super::views::KNOWN_VIEWS.join(", ")
            )));
        }
        Some(Item {
            view: view.to_string(),
            dwell: 0,
            topic: a.topic.clone().filter(|t| !t.trim().is_empty()),
            channel: a.channel.clone().filter(|t| !t.trim().is_empty()),
            caption: None,
        })
    } else {
        None
    };
    let c = Control {
        action,
        item,
        profile: a.profile,
        screen: a.screen,
        by: who.name.clone(),
        at: app.clock().now_ms(),
    };
    tracing::info!(action = %c.action, profile = ?c.profile, screen = ?c.screen, by = %c.by, "wall control");
    app.walls().set_control(c.clone());
    app.bus().publish(Event::WallControl(c.clone()));
    to_json(&c)
}

async fn status(app: &App) -> Result<Value, ApiError> {
    let walls = app.walls();
    let profiles: Vec<Value> = {
        let reg = walls.registry();
        reg.all()
            .into_iter()
            .map(|(name, c)| {
                json!({
                    "name": name,
                    "screens": c.profile.screens.len(),
                    "fallback": c.fallback,
                    "problems": c.problems.len(),
                    "path": reg.path_of(name).map(|p| p.display().to_string()),
                })
            })
            .collect()
    };
    let primary = profile_now(app, None)?;
    Ok(json!({
        "primary": primary.name,
        "scene": primary.active_scene,
        "screens": primary.screens.iter().map(|s| json!({"index": s.index, "title": s.title, "views": s.views, "showcase": s.showcase})).collect::<Vec<_>>(),
        "profiles": profiles,
        "controls": walls.controls(),
        "alerts": walls.open_alerts(),
        "takeover_severity": primary.takeover.severity,
        "severities": SEVERITIES,
    }))
}

fn list(app: &App) -> Result<Value, ApiError> {
    Ok(json!({ "profiles": app.walls().registry().names() }))
}

fn show(app: &App, a: Result<ProfileArgs, ApiError>) -> Result<Value, ApiError> {
    let a = a?;
    let reg = app.walls().registry();
    let name = a.name.unwrap_or_else(|| reg.primary.profile.name.clone());
    let c = reg
        .get(&name)
        .ok_or_else(|| ApiError::NotFound(format!("no wall profile `{name}`")))?;
    let text = match reg.path_of(&name) {
        Some(p) => std::fs::read_to_string(p).ok(),
        None => super::registry::BUILT_IN
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, t)| t.to_string()),
    };
    Ok(json!({
        "name": name,
        "path": reg.path_of(&name).map(|p| p.display().to_string()),
        "toml": text,
        "profile": c.profile,
        "problems": c.problems,
        "fallback": c.fallback,
    }))
}

/// What `wall check` prints: problems, and the plan for the given monitors.
pub fn check_report(text: &str, monitors: &[Monitor]) -> Value {
    let c = check(text);
    let mut problems = c.problems.clone();
    for (screen, name) in layout::missing_monitors(monitors, &c.profile) {
        if c.fallback || monitors.is_empty() {
            break;
        }
        let line = text
            .lines()
            .position(|l| {
                l.trim_start().starts_with("monitor") && l.contains(&format!("\"{name}\""))
            })
            .map_or(0, |i| i + 1);
        problems.push(super::profile::Problem {
            line,
            field: format!("screens[{screen}].monitor"),
            message: format!(
                "monitor {name:?} is not connected; screen {screen} goes to a monitor by index"
            ),
            fix: format!(
                "name one of: {}",
                monitors
                    .iter()
                    .map(|m| m.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            warning: true,
        });
    }
    let plan = layout::plan(monitors, &c.profile);
    json!({
        "ok": !c.fallback,
        "fallback": c.fallback,
        "name": c.profile.name,
        "problems": problems,
        "plan": plan,
    })
}

fn check_cmd(a: Result<ProfileArgs, ApiError>) -> Result<Value, ApiError> {
    let a = a?;
    let text = a
        .toml
        .ok_or_else(|| ApiError::BadArgs("wall.check needs `toml`, the profile text".into()))?;
    let monitors = parse_monitors(
        a.monitors
            .as_deref()
            .unwrap_or("DUMMY0:1920x1080+0+0,DUMMY1:1920x1080+1920+0,DUMMY2:1920x1080+3840+0"),
    )
    .map_err(ApiError::BadArgs)?;
    Ok(check_report(&text, &monitors))
}

fn save(app: &App, a: Result<ProfileArgs, ApiError>) -> Result<Value, ApiError> {
    let a = a?;
    let text = a
        .toml
        .ok_or_else(|| ApiError::BadArgs("wall.save needs `toml`, the profile text".into()))?;
    let c = check(&text);
    if !c.is_ok() {
        return Err(ApiError::BadArgs(format!(
            "the profile was not saved: {}",
            c.errors()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ")
        )));
    }
    let name = c.profile.name.clone();
    if let Some(n) = &a.name {
        if n != &name {
            return Err(ApiError::BadArgs(format!(
                "the text names the profile `{name}` but `name` says `{n}`; make them match"
            )));
        }
    }
    if !name
        .chars()
        .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_')
    {
        return Err(ApiError::BadArgs(format!(
            "profile name `{name}` may only use letters, digits, - and _ (it names the file)"
        )));
    }
    let walls = app.walls();
    let path = {
        let reg = walls.registry();
        match reg.path_of(&name) {
            Some(p) => p.to_path_buf(),
            None => {
                let dir = reg
                    .primary_path
                    .as_deref()
                    .and_then(|p| p.parent())
                    .filter(|d| !d.as_os_str().is_empty())
                    .map(std::path::Path::to_path_buf)
                    .unwrap_or_else(|| {
                        dirs::config_dir()
                            .unwrap_or_else(std::env::temp_dir)
                            .join("sunward")
                            .join("walls")
                    });
                dir.join(format!("{name}.toml"))
            }
        }
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| ApiError::Internal(format!("cannot create {}: {e}", dir.display())))?;
    }
    // Write beside and rename: a wall reading the file never sees half a profile.
    let tmp = path.with_extension("toml.tmp");
    std::fs::write(&tmp, &text)
        .and_then(|()| std::fs::rename(&tmp, &path))
        .map_err(|e| ApiError::Internal(format!("cannot write {}: {e}", path.display())))?;
    walls
        .registry_mut()
        .put(&name, c.clone(), Some(path.clone()));
    app.bus().publish(Event::Resync {});
    tracing::info!(profile = %name, path = %path.display(), "wall profile saved");
    Ok(json!({ "saved": path.display().to_string(), "name": name, "problems": c.problems }))
}

fn drill(app: &App, a: Result<AlertArgs, ApiError>) -> Result<Value, ApiError> {
    let a = a?;
    let severity = a.severity.unwrap_or_else(|| "crisis".into());
    if severity_rank(&severity) < 0 {
        return Err(ApiError::BadArgs(format!(
            "severity `{severity}`: use watch, warning or crisis"
        )));
    }
    let notice = AlertNotice {
        id: app.walls().next_drill_id(),
        kind: "drill".into(),
        severity: severity.to_lowercase(),
        state: "open".into(),
        title: a
            .title
            .filter(|t| !t.trim().is_empty())
            .unwrap_or_else(|| "Wall takeover drill".into()),
        topic: None,
        channel: None,
        fired_at: app.clock().now_ms(),
        drill: true,
    };
    app.walls().note_alert(notice.clone());
    app.bus().publish(Event::Alert(notice.clone()));
    to_json(&notice)
}

/// Acknowledges a takeover: real alerts through `alerts.ack` (src/alerts), wall drills here.
async fn ack(
    app: &App,
    who: &Principal,
    a: Result<AlertArgs, ApiError>,
) -> Result<Value, ApiError> {
    let a = a?;
    let id =
        a.id.ok_or_else(|| ApiError::BadArgs("wall.ack needs `id`, the alert's id".into()))?;
    if id > 0 {
        match Box::pin(app.dispatch_as(who, "alerts.ack", json!({ "id": id }))).await {
            Err(ApiError::UnknownCommand(_)) => {}
            other => return other,
        }
    }
    let Some(mut notice) = app.walls().alert(id) else {
        return Err(ApiError::NotFound(format!(
            "no open alert {id} on the walls"
        )));
    };
    notice.state = "acknowledged".into();
    app.walls().note_alert(notice.clone());
    app.bus().publish(Event::Alert(notice.clone()));
    to_json(&notice)
}

/// Wall tokens may read wall views; leads and admins operate the walls.
pub fn may_operate(who: &Principal) -> bool {
    matches!(who.role, Role::Lead | Role::Admin)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn monitors_parse_from_the_cli_form() {
        let m = parse_monitors("DUMMY0:1920x1080+0+0, DUMMY1:1920x1080+1920+0").unwrap();
        assert_eq!(m.len(), 2);
        assert_eq!(
            (m[1].name.as_str(), m[1].x, m[1].width),
            ("DUMMY1", 1920, 1920)
        );
        let m = parse_monitors("left:1280x1024-1280+56").unwrap();
        assert_eq!((m[0].x, m[0].y), (-1280, 56));
        let m = parse_monitors("2560x1440+0+0").unwrap();
        assert_eq!(m[0].name, "monitor-0");
        assert!(parse_monitors("DUMMY0:1920by1080")
            .unwrap_err()
            .contains("NAME:WIDTHxHEIGHT+X+Y"));
    }

    #[test]
    fn shifts_cross_midnight() {
        assert_eq!(on_shift("08:00-20:00", 8 * 60), Some(true));
        assert_eq!(on_shift("08:00-20:00", 20 * 60), Some(false));
        assert_eq!(on_shift("22:00-06:00", 23 * 60), Some(true));
        assert_eq!(on_shift("22:00-06:00", 5 * 60), Some(true));
        assert_eq!(on_shift("22:00-06:00", 12 * 60), Some(false));
        assert_eq!(on_shift("nope", 0), None);
    }

    #[test]
    fn check_report_warns_about_monitors_that_are_not_there() {
        let text =
            "name = \"x\"\n[[screens]]\nindex = 0\nmonitor = \"HDMI-7\"\nviews = [\"volume\"]\n";
        let r = check_report(text, &parse_monitors("DUMMY0:1920x1080+0+0").unwrap());
        assert_eq!(r["ok"], true);
        assert_eq!(r["problems"][0]["line"], 4);
        assert_eq!(r["problems"][0]["warning"], true);
        assert_eq!(r["plan"][0]["monitor_name"], "DUMMY0");
    }
}
