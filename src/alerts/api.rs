//! `alerts.*` commands and the `view.alerts` / `view.crisis` wall views.
//!
//! | command | args | result |
//! |---|---|---|
//! | `alerts.list` | `{state?, drill?, limit?}` | `{alerts:[AlertRow]}` newest first |
//! | `alerts.show` | `{id}` | `{alert, log:[{at, who, action, detail}]}` |
//! | `alerts.ack` | `{id}` | `{alert}` (409 if resolved or already acknowledged) |
//! | `alerts.resolve` | `{id, note?}` | `{alert}` |
//! | `alerts.escalate` | `{id, note?}` | `{alert}` |
//! | `view.alerts` | `{limit?}` | `{active:[AlertRow], recent:[AlertRow], counts:{open, acknowledged, escalated, crisis}}` |
//! | `view.crisis` | `{id?}` | `{alert, owner, curve:[{t,total,negative,neutral,positive}], shares, stories, posts, evidence_posts, now}` (without `id`: the alert the walls take over for, else the most severe live active alert; `alert: null` when there is none) |

use serde::Deserialize;
use serde_json::{json, Value};

use super::LifecycleError;
use crate::api::{ApiError, App};
use crate::auth::Principal;
use crate::store::{AlertQuery, AlertRow, Counts, Filter};

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ListArgs {
    state: Option<String>,
    drill: Option<bool>,
    limit: Option<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IdArgs {
    id: i64,
    #[serde(default)]
    note: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ViewArgs {
    id: Option<i64>,
    limit: Option<i64>,
    // The screen asking (sent with every wall view call); alerts are the same on every screen,
    // and showcase screens never take over (src/wall).
    #[allow(dead_code)]
    profile: Option<String>,
    #[allow(dead_code)]
    screen: Option<i64>,
    showcase: Option<bool>,
}

fn parse<T: for<'de> Deserialize<'de> + Default>(args: Value) -> Result<T, ApiError> {
    if args.is_null() {
        return Ok(T::default());
    }
    serde_json::from_value(args).map_err(|e| ApiError::BadArgs(e.to_string()))
}

fn parse_id(args: Value) -> Result<IdArgs, ApiError> {
    serde_json::from_value(args)
        .map_err(|e| ApiError::BadArgs(format!("{e}; pass {{\"id\": <alert id>}}")))
}

impl From<LifecycleError> for ApiError {
    fn from(e: LifecycleError) -> Self {
        match e {
            LifecycleError::NotFound(_) => ApiError::NotFound(e.to_string()),
            LifecycleError::NotAllowed { .. } => ApiError::Conflict(e.to_string()),
            LifecycleError::Store(s) => ApiError::Internal(s.to_string()),
        }
    }
}

const STATES: [&str; 4] = ["open", "acknowledged", "escalated", "resolved"];

pub async fn dispatch(
    app: &App,
    who: &Principal,
    command: &str,
    args: Value,
) -> Option<Result<Value, ApiError>> {
    let r = match command {
        "alerts.list" => list(app, args).await,
        "alerts.show" => show(app, args).await,
        "alerts.ack" => {
            async {
                let a = parse_id(args)?;
                Ok(json!({ "alert": app.alerts().ack(a.id, &who.name).await? }))
            }
            .await
        }
        "alerts.resolve" => {
            async {
                let a = parse_id(args)?;
                let note = a.note.unwrap_or_default();
                Ok(json!({ "alert": app.alerts().resolve(a.id, &who.name, &note).await? }))
            }
            .await
        }
        "alerts.escalate" => {
            async {
                let a = parse_id(args)?;
                let note = a.note.unwrap_or_default();
                Ok(json!({ "alert": app.alerts().escalate(a.id, &who.name, &note).await? }))
            }
            .await
        }
        "view.alerts" => view_alerts(app, args).await,
        "view.crisis" => view_crisis(app, args).await,
        _ => return None,
    };
    Some(r)
}

async fn list(app: &App, args: Value) -> Result<Value, ApiError> {
    let a: ListArgs = parse(args)?;
    if let Some(s) = &a.state {
        if !STATES.contains(&s.as_str()) {
            return Err(ApiError::BadArgs(format!(
                "state `{s}` is not one of open, acknowledged, escalated, resolved"
            )));
        }
    }
    let alerts = app
        .store()
        .alerts_list(&AlertQuery {
            state: a.state,
            drill: a.drill,
            drill_run: None,
            limit: a.limit.unwrap_or(200).clamp(1, 5000),
        })
        .await?;
    Ok(json!({ "alerts": alerts }))
}

async fn show(app: &App, args: Value) -> Result<Value, ApiError> {
    let a = parse_id(args)?;
    let alert = app
        .store()
        .alert_get(a.id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("alert {} does not exist", a.id)))?;
    let log = app.store().alert_log(a.id).await?;
    Ok(json!({ "alert": alert, "log": log }))
}

fn severity_rank(s: &str) -> u8 {
    match s {
        "crisis" => 3,
        "warning" => 2,
        _ => 1,
    }
}

/// Active alerts for a board: live ones first (most severe, newest), backfilled ones last.
fn board_order(x: &AlertRow, y: &AlertRow) -> std::cmp::Ordering {
    x.backfill
        .cmp(&y.backfill)
        .then(severity_rank(&y.severity).cmp(&severity_rank(&x.severity)))
        .then(y.fired_at.cmp(&x.fired_at))
}

async fn view_alerts(app: &App, args: Value) -> Result<Value, ApiError> {
    let a: ViewArgs = parse(args)?;
    if a.showcase == Some(true) {
        // Visitors never see incidents.
        return Ok(
            json!({ "active": [], "recent": [], "counts": {}, "now": app.clock().now_ms(), "showcase": true }),
        );
    }
    let mut active = app.store().alerts_active().await?;
    active.sort_by(board_order);
    let recent: Vec<AlertRow> = app
        .store()
        .alerts_list(&AlertQuery {
            state: Some("resolved".into()),
            limit: a.limit.unwrap_or(8).clamp(1, 50),
            ..AlertQuery::default()
        })
        .await?;
    let count = |st: &str| active.iter().filter(|x| x.state == st).count();
    let counts = json!({
        "open": count("open"), "acknowledged": count("acknowledged"), "escalated": count("escalated"),
        "crisis": active.iter().filter(|x| x.severity == "crisis").count(),
        "backfill": active.iter().filter(|x| x.backfill).count(),
        "drill": active.iter().filter(|x| x.drill).count(),
    });
    Ok(json!({ "active": active, "recent": recent, "counts": counts, "now": app.clock().now_ms() }))
}

/// A takeover drill started from the walls panel (`wall.drill`, negative id) has no row: it is
/// shown from its notice.
fn wall_drill_alert(n: &crate::events::AlertNotice) -> Value {
    json!({
        "id": n.id, "kind": n.kind, "kinds": [n.kind], "topic": n.topic, "channel": n.channel,
        "severity": n.severity, "state": n.state, "title": n.title, "fired_at": n.fired_at,
        "last_at": n.fired_at, "signals": 1, "evidence": {}, "stories": [], "drill": n.drill,
        "drill_run": null, "site": "default", "created_at": n.fired_at, "acked_by": null,
        "acked_at": null, "escalated_at": null, "escalation_step": 0, "resolved_by": null,
        "resolved_at": null, "backfill": false,
    })
}

async fn view_crisis(app: &App, args: Value) -> Result<Value, ApiError> {
    let a: ViewArgs = parse(args)?;
    if a.showcase == Some(true) {
        return Ok(json!({ "alert": null, "showcase": true }));
    }
    // Without an id: the alert the walls take over for (what every screen pins), else the most
    // severe live alert, else any active one.
    let id =
        a.id.or_else(|| app.walls().open_alerts().first().map(|n| n.id));
    if let Some(n) = id.filter(|i| *i < 0).and_then(|i| app.walls().alert(i)) {
        let filter = Filter {
            topic: n.topic.clone(),
            channel: n.channel.clone(),
        };
        let from = crate::store::minute_of(n.fired_at - 60 * 60_000);
        let to = crate::store::minute_of(app.clock().now_ms().max(n.fired_at) + 60_000)
            .min(from + 24 * 60 * 60_000);
        let curve = app.store().minutes(from, to, &filter).await?;
        return Ok(json!({
            "alert": wall_drill_alert(&n), "owner": null, "curve": curve,
            "shares": { "total": 0, "negative": 0.0, "neutral": 0.0, "positive": 0.0 },
            "stories": [], "posts": [], "evidence_posts": [], "now": app.clock().now_ms(),
        }));
    }
    let alert = match id {
        Some(id) => Some(
            app.store()
                .alert_get(id)
                .await?
                .ok_or_else(|| ApiError::NotFound(format!("alert {id} does not exist")))?,
        ),
        None => {
            let mut act = app.store().alerts_active().await?;
            act.sort_by(board_order);
            act.into_iter().next()
        }
    };
    let Some(alert) = alert else {
        return Ok(json!({ "alert": null }));
    };
    let filter = Filter {
        topic: alert.topic.clone(),
        channel: alert.channel.clone(),
    };
    // The growth curve: an hour before the alert to now, or to a quarter of an hour after its
    // latest signal when that is long past (or to the latest signal when a drill's clock runs
    // ahead of the wall clock), at most a day.
    let last = alert.last_at.max(alert.fired_at);
    let now = app.clock().now_ms();
    let from = crate::store::minute_of(alert.fired_at - 60 * 60_000);
    let to = crate::store::minute_of(last.max(now.min(last + 15 * 60_000)) + 60_000)
        .min(from + 24 * 60 * 60_000);
    let curve = app.store().minutes(from, to, &filter).await?;
    let since_fire: Vec<_> = curve
        .iter()
        .filter(|m| m.t >= crate::store::minute_of(alert.fired_at - 30 * 60_000))
        .cloned()
        .collect();
    let c: Counts = Counts::sum(&since_fire);
    let share = |x: i64| {
        if c.total == 0 {
            0.0
        } else {
            (x as f64 / c.total as f64 * 1000.0).round() / 1000.0
        }
    };
    let posts = app.store().latest(12, &filter).await?;
    let posts: Vec<Value> = posts
        .into_iter()
        .map(|p| {
            let drill = crate::detect::is_drill_source(&p.mention.source);
            json!({
                "text": p.mention.text, "author": p.mention.author.handle,
                "followers": p.mention.author.followers, "channel": p.mention.channel,
                "created_at": p.mention.created_at, "label": p.label, "drill": drill,
            })
        })
        .collect();
    let owner = alert.acked_by.clone();
    // Influencer complaints merged into the alert, newest first (the posts that made it).
    let evidence_posts: Vec<Value> = alert.evidence["influencer"]["posts"]
        .as_array()
        .map(|p| p.iter().rev().take(6).cloned().collect())
        .unwrap_or_default();
    Ok(json!({
        "alert": alert,
        "owner": owner,
        "curve": curve,
        "shares": { "total": c.total, "negative": share(c.negative), "neutral": share(c.neutral), "positive": share(c.positive) },
        "stories": alert.stories,
        "posts": posts,
        "evidence_posts": evidence_posts,
        "now": app.clock().now_ms(),
    }))
}
