//! Showcase (visitor) mode: what a lobby wall may show. Everything happens on the server, so
//! unmasked data never leaves it for a showcase screen:
//!
//! - authors anonymized, and e-mail addresses, phone numbers, URLs with personal paths,
//!   order/account numbers and profanity masked in text ([`mask_text`]);
//! - a delay buffer (default 5 minutes): posts appear only once they are that old;
//! - an optional approval queue: only posts a lead approved;
//! - curated highlights (resolved cases, positive stories) and tour captions.
//!
//! When is data masked? When the call names a showcase screen (`profile` + `screen`), when it
//! asks for it (`showcase: true`), and always for a wall token listed in a profile's
//! `[showcase] tokens` (whatever screen it claims to be).

mod mask;

use serde::Deserialize;
use serde_json::{json, Value};

pub use mask::{mask_mention, mask_text};

use crate::api::{ApiError, App};
use crate::auth::{Principal, Role};
use crate::model::StoredMention;
use crate::store::{Filter, ShowcaseGate};
use crate::wall::ShowcaseSettings;

/// The showcase settings that apply to this call, or `None` for unmasked data.
pub fn settings_for(
    app: &App,
    who: &Principal,
    profile: Option<&str>,
    screen: Option<usize>,
    asked: Option<bool>,
) -> Option<ShowcaseSettings> {
    let walls = app.walls();
    let reg = walls.registry();
    if who.role == Role::Wall {
        for (_, c) in reg.all() {
            if c.profile.showcase.tokens.iter().any(|t| t == &who.name) {
                return Some(c.profile.showcase.clone());
            }
        }
    }
    let checked = match profile {
        Some(p) => reg.get(p),
        None => Some(&reg.primary),
    };
    let p = checked.map(|c| &c.profile);
    if let (Some(p), Some(k)) = (p, screen) {
        let now = chrono::DateTime::from_timestamp_millis(app.clock().now_ms()).unwrap_or_default();
        let at = p.at(now);
        if at.screens.get(k).is_some_and(|s| s.showcase) {
            return Some(p.showcase.clone());
        }
    }
    if asked == Some(true) {
        return Some(p.map(|p| p.showcase.clone()).unwrap_or_default());
    }
    None
}

/// The stream for a showcase screen: old enough, approved when approval is on, masked.
pub async fn stream(
    app: &App,
    s: &ShowcaseSettings,
    limit: i64,
    f: &Filter,
) -> Result<Vec<StoredMention>, ApiError> {
    let before = app.clock().now_ms() - i64::from(s.delay_minutes) * 60_000;
    let gate = if s.approval {
        ShowcaseGate::Approved
    } else {
        ShowcaseGate::NotRejected
    };
    let rows = app.store().showcase_latest(before, limit, f, gate).await?;
    Ok(rows.iter().map(mask_mention).collect())
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Args {
    ids: Option<Vec<i64>>,
    id: Option<i64>,
    note: Option<String>,
    limit: Option<i64>,
    profile: Option<String>,
    screen: Option<usize>,
    showcase: Option<bool>,
    minutes: Option<i64>,
}

fn args(v: Value) -> Result<Args, ApiError> {
    if v.is_null() {
        return Ok(Args::default());
    }
    serde_json::from_value(v).map_err(|e| ApiError::BadArgs(e.to_string()))
}

fn ids(a: &Args) -> Result<Vec<i64>, ApiError> {
    let mut out = a.ids.clone().unwrap_or_default();
    out.extend(a.id);
    if out.is_empty() {
        return Err(ApiError::BadArgs(
            "give `ids` (a list of mention ids) or `id`".into(),
        ));
    }
    if out.len() > 500 {
        return Err(ApiError::BadArgs(format!(
            "{} ids at once; decide at most 500 per call",
            out.len()
        )));
    }
    Ok(out)
}

pub async fn dispatch(
    app: &App,
    who: &Principal,
    command: &str,
    v: Value,
) -> Option<Result<Value, ApiError>> {
    let run = async {
        let a = args(v)?;
        let now = app.clock().now_ms();
        match command {
            "view.highlights" => {
                let rows = app.store().highlights(a.limit.unwrap_or(8)).await?;
                // Highlights are for visitors: always masked.
                let items: Vec<Value> = rows
                    .iter()
                    .map(|h| json!({ "note": mask_text(&h.note), "mention": mask_mention(&h.mention) }))
                    .collect();
                Ok(json!({ "highlights": items }))
            }
            "view.tour" => {
                let p = crate::wall::api::profile_now(app, a.profile.as_deref())?;
                let s = settings_for(app, who, a.profile.as_deref(), a.screen, a.showcase);
                Ok(json!({
                    "captions": p.showcase.captions,
                    "profile": p.name,
                    "masked": s.is_some(),
                }))
            }
            "showcase.queue" => {
                let minutes = a.minutes.unwrap_or(60).clamp(1, 1440);
                let pending = app
                    .store()
                    .showcase_pending(now - minutes * 60_000, a.limit.unwrap_or(50))
                    .await?;
                // The lead sees the post as the lobby would, beside the original.
                let rows: Vec<Value> = pending
                    .iter()
                    .map(|m| json!({ "id": m.id, "original": m, "masked": mask_mention(m) }))
                    .collect();
                Ok(json!({ "pending": rows }))
            }
            "showcase.approve" | "showcase.reject" => {
                let ids = ids(&a)?;
                let state = if command == "showcase.approve" {
                    "approved"
                } else {
                    "rejected"
                };
                let n = app
                    .store()
                    .showcase_decide(&ids, state, &who.name, now)
                    .await?;
                Ok(json!({ "decided": n, "state": state, "unknown": ids.len() as u64 - n }))
            }
            "showcase.highlight" => {
                let id = a.id.ok_or_else(|| {
                    ApiError::BadArgs("give `id`, the mention to highlight".into())
                })?;
                let note = a.note.clone().unwrap_or_default();
                if note.chars().count() > 280 {
                    return Err(ApiError::BadArgs(
                        "`note` is longer than 280 characters".into(),
                    ));
                }
                if !app
                    .store()
                    .highlight_add(id, note.trim(), &who.name, now)
                    .await?
                {
                    return Err(ApiError::NotFound(format!("no mention {id}")));
                }
                Ok(json!({ "highlighted": id }))
            }
            "showcase.unhighlight" => {
                let id = a.id.ok_or_else(|| ApiError::BadArgs("give `id`".into()))?;
                Ok(json!({ "removed": app.store().highlight_remove(id).await? }))
            }
            "showcase.list" => {
                let rows = app.store().highlights(a.limit.unwrap_or(50)).await?;
                Ok(json!({ "highlights": rows }))
            }
            _ => Err(ApiError::UnknownCommand(command.to_string())),
        }
    };
    match command {
        "view.highlights"
        | "view.tour"
        | "showcase.queue"
        | "showcase.approve"
        | "showcase.reject"
        | "showcase.highlight"
        | "showcase.unhighlight"
        | "showcase.list" => Some(run.await),
        _ => None,
    }
}
