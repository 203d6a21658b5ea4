//! Sources declared in the config file (`[[sources]]`). At start the config's sources are
//! written to the registry: new ones added, changed ones updated, and ones that left the config
//! disabled (not deleted: their cursor stays, so putting them back resumes where they were).
//! Sources added from the CLI or the operator panel are not touched.

use serde::Deserialize;
use serde_json::{json, Value};

use super::registry::{self, Kind, Registry, SourceConfig};
use super::xrules::{self, WantedRule};
use super::{Secret, SecretStore, SourceSecrets, DEFAULT_INTERVAL_MS};

/// Marks a registry row as owned by the config file.
const ORIGIN_CONFIG: &str = "config";

/// One `[[sources]]` table.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SourceDef {
    pub kind: String,
    pub name: String,
    #[serde(default)]
    pub url: Option<String>,
    /// `60s`, `5m`, ...
    #[serde(default)]
    pub interval: Option<String>,
    /// Env var holding the API token (never the token itself: config files get shared).
    #[serde(default)]
    pub token_env: Option<String>,
    /// Env var holding the webhook signing secret.
    #[serde(default)]
    pub secret_env: Option<String>,
    #[serde(default = "yes")]
    pub enabled: bool,
    /// X filtered-stream rules Sunward keeps on X for this source.
    #[serde(default)]
    pub rules: Option<Vec<WantedRule>>,
}

fn yes() -> bool {
    true
}

/// A source definition checked and turned into a registry row.
#[derive(Debug, Clone)]
pub struct CheckedDef {
    pub config: SourceConfig,
    pub token_env: Option<String>,
    pub secret_env: Option<String>,
}

impl SourceDef {
    /// Everything that can be checked without the environment: kind, name, URL, interval,
    /// rules. The message names the source and says what to write.
    pub fn check(&self) -> Result<CheckedDef, String> {
        let at = |e: String| format!("[[sources]] `{}`: {e}", self.name);
        registry::validate_name(&self.name).map_err(at)?;
        let kind: Kind = self.kind.parse().map_err(at)?;
        let url = self.url.clone().unwrap_or_default().trim().to_string();
        if kind.needs_url() {
            if url.is_empty() {
                return Err(at(format!(
                    "a {} source needs url = \"...\"",
                    kind.as_str()
                )));
            }
            registry::validate_url(kind, &url).map_err(at)?;
        }
        let interval_ms = match &self.interval {
            Some(i) => registry::parse_interval(i).map_err(at)?,
            None => DEFAULT_INTERVAL_MS,
        };
        if kind == Kind::Webhook && self.secret_env.is_none() {
            return Err(at(
                "a webhook source needs secret_env = \"VAR\" (the env var holding its signing secret)"
                    .into(),
            ));
        }
        if kind == Kind::X && self.token_env.is_none() {
            return Err(at(
                "an x source needs token_env = \"VAR\" (the env var holding the bearer token)"
                    .into(),
            ));
        }
        let mut options = json!({
            "origin": ORIGIN_CONFIG,
            "token_env": self.token_env,
            "secret_env": self.secret_env,
        });
        if let Some(rules) = &self.rules {
            if kind != Kind::X {
                return Err(at("`rules` are for x sources only".into()));
            }
            for r in rules {
                xrules::validate(r).map_err(at)?;
            }
            options["rules"] = serde_json::to_value(rules).unwrap_or(Value::Null);
        }
        Ok(CheckedDef {
            config: SourceConfig {
                name: self.name.clone(),
                kind,
                url,
                interval_ms,
                options,
                enabled: self.enabled,
                created_at: 0,
            },
            token_env: self.token_env.clone(),
            secret_env: self.secret_env.clone(),
        })
    }
}

/// What a sync did, for the log.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct SyncOutcome {
    pub added: Vec<String>,
    pub updated: Vec<String>,
    pub disabled: Vec<String>,
    /// Problems that did not stop the others (an env var that is not set).
    pub problems: Vec<String>,
}

fn env_secret(var: &Option<String>) -> Result<Option<Secret>, String> {
    let Some(var) = var else { return Ok(None) };
    match std::env::var(var) {
        Ok(v) if !v.trim().is_empty() => Ok(Some(Secret::new(v.trim()))),
        _ => Err(format!(
            "the environment variable {var} is not set or empty; export it before starting Sunward"
        )),
    }
}

/// Writes the config's sources into the registry of `db` (schema migrated: open the store
/// first). A name already used by a CLI-added source is left alone and reported.
pub async fn sync(
    db: impl Into<crate::store::DbTarget>,
    defs: &[SourceDef],
    now_ms: i64,
) -> anyhow::Result<SyncOutcome> {
    let db: crate::store::DbTarget = db.into();
    let registry = Registry::open(db.clone()).await?;
    let secrets = SecretStore::for_db(db);
    let mut out = SyncOutcome::default();
    let mut named = Vec::new();
    for def in defs {
        let checked = match def.check() {
            Ok(c) => c,
            Err(e) => {
                out.problems.push(e);
                continue;
            }
        };
        let mut cfg = checked.config;
        named.push(cfg.name.clone());
        // Secrets: the env var's value now, else what an earlier start stored.
        let mut sec = secrets.get(&cfg.name).await.unwrap_or_default();
        for (var, slot) in [
            (&checked.token_env, &mut sec.token),
            (&checked.secret_env, &mut sec.secret),
        ] {
            match env_secret(var) {
                Ok(Some(v)) => *slot = Some(v),
                Ok(None) => {}
                Err(e) if slot.is_none() => out
                    .problems
                    .push(format!("[[sources]] `{}`: {e}", cfg.name)),
                Err(_) => {}
            }
        }
        match registry.get(&cfg.name).await? {
            None => {
                cfg.created_at = now_ms;
                registry.add(&cfg).await?;
                out.added.push(cfg.name.clone());
            }
            Some(old)
                if old.options.get("origin").and_then(Value::as_str) != Some(ORIGIN_CONFIG) =>
            {
                out.problems.push(format!(
                    "[[sources]] `{}`: a source of that name was added from the CLI or the panel; rename one of them",
                    cfg.name
                ));
                continue;
            }
            Some(old) => {
                cfg.created_at = old.created_at;
                if old.kind != cfg.kind {
                    out.problems.push(format!(
                        "[[sources]] `{}`: its kind changed from {} to {}; remove it with `sunward source remove {}` first",
                        cfg.name,
                        old.kind.as_str(),
                        cfg.kind.as_str(),
                        cfg.name
                    ));
                    continue;
                }
                if (old.url.as_str(), old.interval_ms, &old.options, old.enabled)
                    != (cfg.url.as_str(), cfg.interval_ms, &cfg.options, cfg.enabled)
                {
                    registry.update(&cfg).await?;
                    out.updated.push(cfg.name.clone());
                }
            }
        }
        let stored = secrets.get(&cfg.name).await.unwrap_or_default();
        let same = |a: &Option<Secret>, b: &Option<Secret>| {
            a.as_ref().map(Secret::expose) == b.as_ref().map(Secret::expose)
        };
        if !same(&stored.token, &sec.token) || !same(&stored.secret, &sec.secret) {
            secrets
                .set(
                    &cfg.name,
                    &SourceSecrets {
                        token: sec.token,
                        secret: sec.secret,
                    },
                )
                .await?;
        }
    }
    for old in registry.list().await? {
        let from_config = old.options.get("origin").and_then(Value::as_str) == Some(ORIGIN_CONFIG);
        if from_config && old.enabled && !named.contains(&old.name) {
            let mut cfg = old;
            cfg.enabled = false;
            registry.update(&cfg).await?;
            out.disabled.push(cfg.name);
        }
    }
    Ok(out)
}
