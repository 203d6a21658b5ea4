//! `handoff.*` of the one API (HTTP, Tauri IPC, CLI). Leads create, edit, sign, acknowledge
//! and move load; everyone else who may read (agents, legal, exec) reads briefs.

use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};

use super::export;
use super::generate::{self, CreateArgs, Ctx, EditArgs, SurgeArgs};
use crate::api::{ApiError, App};
use crate::auth::Principal;

/// Every handoff command (the role-matrix test runs each one as each role).
pub const COMMANDS: [&str; 10] = [
    "handoff.list",
    "handoff.show",
    "handoff.export",
    "handoff.moves",
    "handoff.create",
    "handoff.edit",
    "handoff.sign",
    "handoff.ack",
    "handoff.move",
    "handoff.tick",
];

pub async fn dispatch(
    app: &App,
    who: &Principal,
    command: &str,
    args: Value,
) -> Option<Result<Value, ApiError>> {
    if !COMMANDS.contains(&command) {
        return None;
    }
    let ctx = Ctx {
        store: app.store(),
        now: app.clock().now_ms(),
        bus: Some(app.bus()),
    };
    Some(run(&ctx, who, command, args).await)
}

/// Runs a command after checking `who`'s role (the CLI's entry).
pub async fn run_as(
    ctx: &Ctx<'_>,
    who: &Principal,
    command: &str,
    args: Value,
) -> Result<Value, ApiError> {
    if !crate::auth::allowed(who.role, command) {
        return Err(ApiError::Forbidden(format!(
            "`{command}` is not allowed for the {} role of `{}`",
            who.role, who.name
        )));
    }
    run(ctx, who, command, args).await
}

fn parse<T: DeserializeOwned>(command: &str, v: Value) -> Result<T, ApiError> {
    let v = if v.is_null() { json!({}) } else { v };
    serde_json::from_value(v).map_err(|e| ApiError::BadArgs(format!("{command}: {e}")))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ListArgs {
    #[serde(default)]
    pending: bool,
    #[serde(default)]
    limit: Option<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IdArgs {
    id: i64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AckArgs {
    id: i64,
    #[serde(default)]
    item: Option<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExportArgs {
    id: i64,
    /// md, html or svg (default md)
    #[serde(default)]
    format: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct MovesArgs {
    #[serde(default)]
    case: Option<i64>,
    #[serde(default)]
    brief: Option<i64>,
}

async fn run(
    ctx: &Ctx<'_>,
    who: &Principal,
    command: &str,
    args: Value,
) -> Result<Value, ApiError> {
    match command {
        "handoff.list" => {
            let a: ListArgs = parse(command, args)?;
            let limit = a.limit.unwrap_or(50);
            if !(1..=500).contains(&limit) {
                return Err(ApiError::BadArgs(format!(
                    "limit: {limit} is out of range; use 1 to 500"
                )));
            }
            let briefs = ctx.store.handoff_list(a.pending, limit).await?;
            Ok(json!({ "briefs": briefs }))
        }
        "handoff.show" => {
            let a: IdArgs = parse(command, args)?;
            let b = generate::get(ctx.store, a.id).await?;
            let svg = super::chart::svg(
                &b.content.series,
                900,
                320,
                offset_of(ctx, &b.from_site).await,
            )
            .ok();
            Ok(json!({ "brief": b, "chart_svg": svg }))
        }
        "handoff.export" => {
            let a: ExportArgs = parse(command, args)?;
            let b = generate::get(ctx.store, a.id).await?;
            let svg = super::chart::svg(
                &b.content.series,
                1200,
                420,
                offset_of(ctx, &b.from_site).await,
            )
            .map_err(|e| ApiError::Internal(e.to_string()))?;
            let (format, text) = match a.format.as_deref().unwrap_or("md") {
                "md" | "markdown" => ("md", export::markdown(&b, None, ctx.now)),
                "html" => ("html", export::html(&b, Some(&svg), ctx.now)),
                "svg" => ("svg", svg),
                other => {
                    return Err(ApiError::BadArgs(format!(
                        "format: `{other}` is not a format; use md, html or svg (PNG: `sunward handoff export ID --out DIR`)"
                    )))
                }
            };
            Ok(json!({ "id": b.id, "format": format, "text": text }))
        }
        "handoff.moves" => {
            let a: MovesArgs = parse(command, args)?;
            Ok(json!({ "moves": ctx.store.handoff_moves(a.case, a.brief).await? }))
        }
        "handoff.create" => {
            let a: CreateArgs = parse(command, args)?;
            brief_json(&generate::create(ctx, who, a).await?)
        }
        "handoff.edit" => {
            let a: EditArgs = parse(command, args)?;
            brief_json(&generate::edit(ctx, who, a).await?)
        }
        "handoff.sign" => {
            let a: IdArgs = parse(command, args)?;
            let (b, t) = generate::sign(ctx, who, a.id).await?;
            Ok(json!({ "brief": b, "transfer": t }))
        }
        "handoff.ack" => {
            let a: AckArgs = parse(command, args)?;
            brief_json(&generate::ack(ctx, who, a.id, a.item).await?)
        }
        "handoff.move" => {
            let a: SurgeArgs = parse(command, args)?;
            let t = generate::surge(ctx, who, a).await?;
            Ok(json!({ "transfer": t }))
        }
        "handoff.tick" => {
            let r = generate::tick(ctx.store, ctx.now, ctx.bus).await?;
            Ok(serde_json::to_value(r).map_err(|e| ApiError::Internal(e.to_string()))?)
        }
        other => Err(ApiError::NotFound(format!("unknown command `{other}`"))),
    }
}

/// The outgoing site's UTC offset (seconds) at the end of the brief's window: its chart is
/// labelled in the local time of the people who wrote it. 0 when the site is gone.
pub async fn offset_of(ctx: &Ctx<'_>, site: &str) -> i32 {
    use chrono::{Offset, TimeZone};
    match crate::sites::api::load(ctx.store).await {
        Ok(sites) => sites
            .iter()
            .find(|s| s.name == site)
            .and_then(|s| s.tz.timestamp_millis_opt(ctx.now).single())
            .map(|t| t.offset().fix().local_minus_utc())
            .unwrap_or(0),
        Err(_) => 0,
    }
}

/// `{"brief": ...}` for the brief-returning commands.
fn brief_json(b: &super::model::Brief) -> Result<Value, ApiError> {
    Ok(json!({ "brief": b }))
}
