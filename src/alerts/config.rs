//! `assets/alerts.toml`: detector thresholds, crisis terms, merging, escalation chains, webhooks.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::detect::{DetectConfig, Severity, TermsConfig};

const DEFAULT_ALERTS: &str = include_str!("../../assets/alerts.toml");

#[derive(Debug, Clone, Deserialize, Serialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct AlertsConfig {
    pub detect: DetectConfig,
    pub terms: TermsConfig,
    pub alerts: MergeConfig,
    pub escalation: Vec<Chain>,
    pub webhooks: Vec<WebhookDef>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct MergeConfig {
    /// Signals of one key within this many minutes (event time) merge into one alert.
    pub cooldown_minutes: i64,
    /// The site this center escalates for.
    pub site: String,
    /// An alert whose latest signal is older than this (event time against the clock) when it is
    /// written was fired while backfilling history: listed, but no wall takeover, escalation or
    /// webhook. 0 = every alert is live.
    pub backfill_minutes: i64,
}

impl Default for MergeConfig {
    fn default() -> Self {
        MergeConfig {
            cooldown_minutes: 60,
            site: "default".into(),
            backfill_minutes: 120,
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Chain {
    pub severity: String,
    #[serde(default = "default_site")]
    pub site: String,
    pub steps: Vec<Step>,
}

fn default_site() -> String {
    "default".into()
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Step {
    pub who: String,
    /// `desktop` or `webhook:<name>`.
    pub channel: String,
    /// Minutes after the alert opened (wall clock) while it is not acknowledged.
    pub after_minutes: i64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookDef {
    pub name: String,
    pub url: String,
    /// Environment variable holding the HMAC key (kept out of the file).
    #[serde(default)]
    pub secret_env: Option<String>,
    #[serde(default = "default_min")]
    pub min_severity: String,
}

fn default_min() -> String {
    "warning".into()
}

#[derive(Debug, thiserror::Error)]
pub enum AlertsConfigError {
    #[error("cannot read the alerts config {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the alerts config {path} is not valid: {detail}")]
    Invalid { path: PathBuf, detail: String },
}

impl AlertsConfig {
    /// Reads `path`, else `~/.config/sunward/alerts.toml` if present, else the built-in defaults.
    pub fn load(path: Option<&Path>) -> Result<AlertsConfig, AlertsConfigError> {
        let user = dirs::config_dir().map(|d| d.join("sunward").join("alerts.toml"));
        let (text, origin) = match (path, user) {
            (Some(p), _) => (read(p)?, p.to_path_buf()),
            (None, Some(u)) if u.exists() => (read(&u)?, u),
            _ => (
                DEFAULT_ALERTS.to_string(),
                PathBuf::from("<built-in assets/alerts.toml>"),
            ),
        };
        Self::parse(&text, &origin)
    }

    pub fn builtin() -> AlertsConfig {
        // The built-in file is tested (`builtin_config_parses`); defaults are the fallback.
        Self::parse(DEFAULT_ALERTS, Path::new("<built-in>")).unwrap_or_default()
    }

    pub fn parse(text: &str, origin: &Path) -> Result<AlertsConfig, AlertsConfigError> {
        let invalid = |detail: String| AlertsConfigError::Invalid {
            path: origin.to_path_buf(),
            detail,
        };
        let cfg: AlertsConfig = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
        for c in &cfg.escalation {
            if Severity::parse(&c.severity).is_none() {
                return Err(invalid(format!(
                    "escalation severity `{}` is not one of watch, warning, crisis",
                    c.severity
                )));
            }
            let mut last = i64::MIN;
            for s in &c.steps {
                if s.after_minutes < last {
                    return Err(invalid(format!(
                        "escalation steps for {} must be in order of after_minutes ({} after {})",
                        c.severity, s.after_minutes, last
                    )));
                }
                last = s.after_minutes;
                let ok = s.channel == "desktop"
                    || s.channel
                        .strip_prefix("webhook:")
                        .is_some_and(|n| cfg.webhooks.iter().any(|w| w.name == n));
                if !ok {
                    return Err(invalid(format!(
                        "escalation step for `{}` uses channel `{}`; use `desktop` or `webhook:<name>` of a [[webhooks]] entry",
                        s.who, s.channel
                    )));
                }
            }
        }
        for w in &cfg.webhooks {
            if !(w.url.starts_with("https://") || w.url.starts_with("http://")) {
                return Err(invalid(format!(
                    "webhook `{}` needs an http(s) url, got `{}`",
                    w.name, w.url
                )));
            }
            if Severity::parse(&w.min_severity).is_none() {
                return Err(invalid(format!(
                    "webhook `{}` min_severity `{}` is not one of watch, warning, crisis",
                    w.name, w.min_severity
                )));
            }
        }
        if cfg.detect.windows_minutes.is_empty()
            || cfg
                .detect
                .windows_minutes
                .iter()
                .any(|w| *w < 1 || *w > 180)
        {
            return Err(invalid(
                "detect.windows_minutes needs 1 to 180 minute windows".into(),
            ));
        }
        Ok(cfg)
    }

    /// The chain for `severity` at `site` (falls back to the `default` site).
    pub fn chain(&self, severity: &str, site: &str) -> Option<&Chain> {
        self.escalation
            .iter()
            .find(|c| c.severity == severity && c.site == site)
            .or_else(|| {
                self.escalation
                    .iter()
                    .find(|c| c.severity == severity && c.site == "default")
            })
    }
}

fn read(p: &Path) -> Result<String, AlertsConfigError> {
    std::fs::read_to_string(p).map_err(|source| AlertsConfigError::Read {
        path: p.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_config_parses() {
        let c = AlertsConfig::parse(DEFAULT_ALERTS, Path::new("x")).unwrap();
        assert_eq!(c.chain("crisis", "paris").unwrap().steps.len(), 3);
        assert!(c.terms.default.iter().any(|t| t == "recall"));
    }

    #[test]
    fn bad_chain_is_rejected() {
        let e = AlertsConfig::parse(
            "[[escalation]]\nseverity = \"crisis\"\nsteps = [{ who = \"x\", channel = \"webhook:nope\", after_minutes = 0 }]",
            Path::new("x"),
        )
        .unwrap_err();
        assert!(e.to_string().contains("webhook:<name>"), "{e}");
    }
}
