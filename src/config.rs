//! Configuration: listening topics and where the database lives.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::enrich::query::{QueryError, QuerySet};

const DEFAULT_CONFIG: &str = include_str!("../assets/config.toml");

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub topics: Vec<TopicDef>,
    /// Live sources declared in the file (docs/sources.md); synced into the registry at start.
    #[serde(default)]
    pub sources: Vec<crate::connectors::config_sync::SourceDef>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TopicDef {
    pub name: String,
    pub query: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the config file {path} is not valid: {source}")]
    Parse {
        path: PathBuf,
        source: Box<toml::de::Error>,
    },
    #[error("{path}: {message}")]
    Source { path: PathBuf, message: String },
    #[error("topic `{topic}` in {path} has a bad query: {source}")]
    Query {
        path: PathBuf,
        topic: String,
        source: Box<QueryError>,
    },
}

impl Config {
    /// Reads `path`, else `~/.config/sunward/config.toml` if present, else the built-in defaults.
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        let user = dirs::config_dir().map(|d| d.join("sunward").join("config.toml"));
        let (text, origin) = match (path, user) {
            (Some(p), _) => (read(p)?, p.to_path_buf()),
            (None, Some(u)) if u.exists() => (read(&u)?, u),
            _ => (
                DEFAULT_CONFIG.to_string(),
                PathBuf::from("<built-in assets/config.toml>"),
            ),
        };
        Self::parse(&text, &origin)
    }

    pub fn parse(text: &str, origin: &Path) -> Result<Config, ConfigError> {
        let cfg: Config = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: origin.to_path_buf(),
            source: Box::new(e),
        })?;
        // Validate queries now so a typo fails at start, not silently at match time.
        for t in &cfg.topics {
            QuerySet::new(&[(t.name.clone(), t.query.clone())]).map_err(|source| {
                ConfigError::Query {
                    path: origin.to_path_buf(),
                    topic: t.name.clone(),
                    source: Box::new(source),
                }
            })?;
        }
        let mut names = std::collections::HashSet::new();
        for src in &cfg.sources {
            src.check().map_err(|message| ConfigError::Source {
                path: origin.to_path_buf(),
                message,
            })?;
            if !names.insert(src.name.as_str()) {
                return Err(ConfigError::Source {
                    path: origin.to_path_buf(),
                    message: format!(
                        "two [[sources]] are named `{}`; names must be unique",
                        src.name
                    ),
                });
            }
        }
        Ok(cfg)
    }

    pub fn query_set(&self) -> QuerySet {
        let defs: Vec<(String, String)> = self
            .topics
            .iter()
            .map(|t| (t.name.clone(), t.query.clone()))
            .collect();
        // Every query was validated in `parse`.
        QuerySet::new(&defs).unwrap_or_default()
    }
}

fn read(p: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(p).map_err(|source| ConfigError::Read {
        path: p.to_path_buf(),
        source,
    })
}

/// The database used when no `--db` is given: `$SUNWARD_DB` (a path or a `postgres://` URL),
/// else `sunward.db` in the user's data directory.
pub fn default_db() -> crate::store::DbTarget {
    match std::env::var("SUNWARD_DB") {
        Ok(u) if u.starts_with("postgres://") || u.starts_with("postgresql://") => {
            crate::store::DbTarget::Postgres(u)
        }
        _ => default_db_path().into(),
    }
}

/// The SQLite file used when no `--db` is given: `$SUNWARD_DB`, else the user's data directory.
pub fn default_db_path() -> PathBuf {
    if let Some(p) = std::env::var_os("SUNWARD_DB") {
        return PathBuf::from(p);
    }
    dirs::data_dir()
        .unwrap_or_else(|| PathBuf::from("."))
        .join("sunward")
        .join("sunward.db")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_config_parses() {
        let c = Config::parse(DEFAULT_CONFIG, Path::new("default")).expect("default config");
        assert!(c.topics.len() >= 5);
    }

    #[test]
    fn unknown_keys_are_errors_that_name_the_file() {
        let e = Config::parse(
            "[[topics]]\nname='a'\nquery='b'\ncolour='red'\n",
            Path::new("x.toml"),
        )
        .unwrap_err();
        assert!(e.to_string().contains("x.toml"), "{e}");
    }
}
