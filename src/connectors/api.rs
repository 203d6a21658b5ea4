//! `sources.*` commands of the one API: what the operator panel uses to manage live sources.
//! Secrets come in (a token typed into the panel) but never go out: replies show only
//! `has_token` / `has_secret`.

use serde::Deserialize;
use serde_json::{json, Value};

use super::xrules::{self, WantedRule};
use super::{registry, Kind, NewSource, Secret, SourceSecrets};
use crate::api::{ApiError, App};
use crate::auth::Principal;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AddArgs {
    kind: String,
    name: String,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    interval: Option<String>,
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    secret: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NameArgs {
    name: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesArgs {
    name: String,
    rules: Vec<WantedRule>,
}

fn args<T: serde::de::DeserializeOwned>(command: &str, v: Value) -> Result<T, ApiError> {
    serde_json::from_value(v).map_err(|e| ApiError::BadArgs(format!("{command}: {e}")))
}

fn secret(v: Option<String>) -> Option<Secret> {
    v.map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .map(Secret::new)
}

pub async fn dispatch(
    app: &App,
    who: &Principal,
    command: &str,
    a: Value,
) -> Option<Result<Value, ApiError>> {
    let c = app.connectors();
    let now = app.clock().now_ms();
    let r = async {
        match command {
            "sources.list" => Ok(json!({ "sources": c.statuses().await.map_err(internal)? })),
            "sources.add" => {
                let a: AddArgs = args(command, a)?;
                let kind: Kind = a.kind.parse().map_err(ApiError::BadArgs)?;
                let interval_ms = a
                    .interval
                    .as_deref()
                    .map(registry::parse_interval)
                    .transpose()
                    .map_err(ApiError::BadArgs)?;
                let new = NewSource {
                    kind,
                    name: a.name.trim().to_string(),
                    url: a.url.filter(|u| !u.trim().is_empty()),
                    interval_ms,
                    token_env: None,
                    secret_env: None,
                };
                let secrets = SourceSecrets {
                    token: secret(a.token),
                    secret: secret(a.secret),
                };
                let cfg = c
                    .add(new, secrets, now)
                    .await
                    .map_err(|e| ApiError::BadArgs(e.to_string()))?;
                tracing::info!(source = %cfg.name, by = %who.name, "source added");
                Ok(json!({ "added": cfg.name }))
            }
            "sources.remove" => {
                let a: NameArgs = args(command, a)?;
                if !c.remove(&a.name).await.map_err(internal)? {
                    return Err(not_found(&a.name));
                }
                tracing::info!(source = %a.name, by = %who.name, "source removed");
                Ok(json!({ "removed": a.name }))
            }
            "sources.enable" | "sources.disable" => {
                let a: NameArgs = args(command, a)?;
                let on = command == "sources.enable";
                if !c.set_enabled(&a.name, on).await.map_err(internal)? {
                    return Err(not_found(&a.name));
                }
                Ok(json!({ "name": a.name, "enabled": on }))
            }
            "sources.rules" => {
                let a: RulesArgs = args(command, a)?;
                for r in &a.rules {
                    xrules::validate(r).map_err(ApiError::BadArgs)?;
                }
                match c.set_rules(&a.name, &a.rules).await.map_err(internal)? {
                    RulesOutcome::Set => Ok(json!({ "name": a.name, "rules": a.rules })),
                    RulesOutcome::NoSuchSource => Err(not_found(&a.name)),
                    RulesOutcome::NotX(kind) => Err(ApiError::BadArgs(format!(
                        "`{}` is a {} source; stream rules are for x sources",
                        a.name,
                        kind.as_str()
                    ))),
                }
            }
            _ => Err(ApiError::UnknownCommand(command.to_string())),
        }
    };
    if !command.starts_with("sources.") {
        return None;
    }
    Some(r.await)
}

pub enum RulesOutcome {
    Set,
    NoSuchSource,
    NotX(Kind),
}

fn internal(e: anyhow::Error) -> ApiError {
    ApiError::Internal(e.to_string())
}

fn not_found(name: &str) -> ApiError {
    ApiError::NotFound(format!(
        "no source named `{name}`; see `sources.list` or `sunward source list`"
    ))
}
