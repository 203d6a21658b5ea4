//! The `sources` table: which live sources exist, of what kind, where and how often.

use std::str::FromStr;

use serde::Serialize;
use serde_json::Value;
use sqlx::Row;

use crate::store::{DbTarget, Store};

/// Kinds of live source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Rss,
    Mastodon,
    Jetstream,
    X,
    Reddit,
    Webhook,
}

impl Kind {
    pub const ALL: [Kind; 6] = [
        Kind::Rss,
        Kind::Mastodon,
        Kind::Jetstream,
        Kind::X,
        Kind::Reddit,
        Kind::Webhook,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Rss => "rss",
            Kind::Mastodon => "mastodon",
            Kind::Jetstream => "jetstream",
            Kind::X => "x",
            Kind::Reddit => "reddit",
            Kind::Webhook => "webhook",
        }
    }
    /// Kinds that fetch a URL; a webhook is pushed to and has none.
    pub fn needs_url(self) -> bool {
        self != Kind::Webhook
    }
    fn url_schemes(self) -> &'static [&'static str] {
        match self {
            Kind::Jetstream => &["ws", "wss"],
            _ => &["http", "https"],
        }
    }
}

impl FromStr for Kind {
    type Err = String;
    fn from_str(s: &str) -> Result<Kind, String> {
        Kind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                format!("unknown source kind `{s}`; use one of rss, mastodon, jetstream, x, reddit, webhook")
            })
    }
}

/// One configured source.
#[derive(Debug, Clone, Serialize)]
pub struct SourceConfig {
    pub name: String,
    pub kind: Kind,
    pub url: String,
    pub interval_ms: i64,
    /// Kind options and the names (never the values) of the env vars secrets came from.
    pub options: Value,
    pub enabled: bool,
    pub created_at: i64,
}

impl SourceConfig {
    /// The key of this source's resume point in the `cursors` table.
    pub fn cursor_key(&self) -> String {
        cursor_key(&self.name)
    }
}

pub fn cursor_key(name: &str) -> String {
    format!("source:{name}")
}

/// Smallest polling interval accepted from the command line: be polite to feeds.
pub const MIN_INTERVAL_MS: i64 = 1_000;
/// Largest: one day.
pub const MAX_INTERVAL_MS: i64 = 86_400_000;

/// `500ms`, `30s`, `5m`, `1h`, or a bare number of seconds.
pub fn parse_interval(s: &str) -> Result<i64, String> {
    let t = s.trim();
    let err = || {
        format!("bad interval `{s}`: write a number with a unit, e.g. 30s, 5m or 1h (between 1s and 24h)")
    };
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: i64 = num.parse().map_err(|_| err())?;
    let mult = match unit.trim() {
        "ms" => 1,
        "" | "s" => 1_000,
        "m" | "min" => 60_000,
        "h" => 3_600_000,
        _ => return Err(err()),
    };
    let ms = n.checked_mul(mult).ok_or_else(err)?;
    if !(MIN_INTERVAL_MS..=MAX_INTERVAL_MS).contains(&ms) {
        return Err(err());
    }
    Ok(ms)
}

/// Names appear in URLs (`/api/v1/sources/{name}/events`) and cursor keys.
pub fn validate_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "bad source name `{name}`: use 1-64 lowercase letters, digits, `-` or `_`"
        ))
    }
}

pub fn validate_url(kind: Kind, url: &str) -> Result<(), String> {
    if !kind.needs_url() {
        return Ok(());
    }
    let schemes = kind.url_schemes();
    let parsed = reqwest::Url::parse(url).map_err(|e| {
        format!(
            "bad URL `{url}` for a {} source: {e}; write a full URL such as {}://example.com/feed",
            kind.as_str(),
            schemes[1]
        )
    })?;
    if !schemes.contains(&parsed.scheme()) || parsed.host_str().is_none() {
        return Err(format!(
            "bad URL `{url}` for a {} source: it must be {} with a host",
            kind.as_str(),
            schemes.join(" or ")
        ));
    }
    Ok(())
}

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("a source named `{0}` already exists; remove it first or pick another name")]
    Exists(String),
    #[error("database error: {0}")]
    Sql(#[from] sqlx::Error),
}

/// Access to the `sources` and `webhook_signatures` tables (migration 0002), on either store.
#[derive(Clone)]
pub struct Registry {
    store: Store,
}

impl Registry {
    /// Opens (and migrates) the database `db` names: a SQLite path or a `postgres://` URL.
    pub async fn open(db: impl Into<DbTarget>) -> Result<Registry, RegistryError> {
        let store = Store::open(&db.into()).await.map_err(|e| match e {
            crate::store::StoreError::Sql(e) => RegistryError::Sql(e),
            other => RegistryError::Sql(sqlx::Error::Configuration(other.to_string().into())),
        })?;
        Ok(Registry { store })
    }

    pub fn from_store(store: Store) -> Registry {
        Registry { store }
    }

    pub async fn add(&self, s: &SourceConfig) -> Result<(), RegistryError> {
        let store = &self.store;
        on_db!(store, db => {
            let mut w = db.writer().await?;
        let r = sqlx::query(
            "INSERT INTO sources (name, kind, url, interval_ms, options, enabled, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (name) DO NOTHING",
        )
        .bind(&s.name)
        .bind(s.kind.as_str())
        .bind(&s.url)
        .bind(s.interval_ms)
        .bind(s.options.to_string())
        .bind(s.enabled)
        .bind(s.created_at)
        .execute(&mut *w)
        .await?;
        if r.rows_affected() == 0 {
            return Err(RegistryError::Exists(s.name.clone()));
        }
        Ok(())
        })
    }

    /// Rewrites a source's URL, interval, options and enabled flag (its name and kind stay);
    /// `false` when there is no such source. A running server relaunches it within seconds.
    pub async fn update(&self, s: &SourceConfig) -> Result<bool, RegistryError> {
        let store = &self.store;
        on_db!(store, db => {
            let mut w = db.writer().await?;
        let r = sqlx::query(
            "UPDATE sources SET url = $1, interval_ms = $2, options = $3, enabled = $4 WHERE name = $5",
        )
        .bind(&s.url)
        .bind(s.interval_ms)
        .bind(s.options.to_string())
        .bind(s.enabled)
        .bind(&s.name)
        .execute(&mut *w)
        .await?;
        Ok(r.rows_affected() > 0)
        })
    }

    /// Removes the source and its resume point; `false` when there was none.
    pub async fn remove(&self, name: &str) -> Result<bool, RegistryError> {
        let store = &self.store;
        on_db!(store, db => {
            let mut w = db.writer().await?;
        let mut tx = sqlx::Connection::begin(&mut *w).await?;
        let r = sqlx::query("DELETE FROM sources WHERE name = $1")
            .bind(name)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM cursors WHERE source = $1")
            .bind(cursor_key(name))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(r.rows_affected() > 0)
        })
    }

    pub async fn list(&self) -> Result<Vec<SourceConfig>, RegistryError> {
        let store = &self.store;
        on_db!(store, db => {
        let rows = sqlx::query(
            "SELECT name, kind, url, interval_ms, options, enabled, created_at FROM sources ORDER BY name",
        )
        .fetch_all(db.read_pool())
        .await?;
        Ok(rows.iter().filter_map(row_to_config).collect())
        })
    }

    pub async fn get(&self, name: &str) -> Result<Option<SourceConfig>, RegistryError> {
        let store = &self.store;
        on_db!(store, db => {
        let row = sqlx::query(
            "SELECT name, kind, url, interval_ms, options, enabled, created_at FROM sources WHERE name = $1",
        )
        .bind(name)
        .fetch_optional(db.read_pool())
        .await?;
        Ok(row.as_ref().and_then(row_to_config))
        })
    }

    /// Last health recorded by a running server (for `sunward source list` in another process).
    pub async fn health(&self, name: &str) -> Result<Option<(Value, i64)>, RegistryError> {
        let store = &self.store;
        on_db!(store, db => {
        let row = sqlx::query("SELECT health, at FROM source_health WHERE name = $1")
            .bind(name)
            .fetch_optional(db.read_pool())
            .await?;
        Ok(row.map(|r| {
            let h: String = r.get(0);
            (
                serde_json::from_str(&h).unwrap_or(Value::Null),
                r.get::<i64, _>(1),
            )
        }))
        })
    }

    pub async fn set_health(
        &self,
        name: &str,
        health: &Value,
        at: i64,
    ) -> Result<(), RegistryError> {
        let store = &self.store;
        on_db!(store, db => {
            let mut w = db.writer().await?;
        sqlx::query(
            "INSERT INTO source_health (name, health, at) VALUES (?, ?, ?) \
             ON CONFLICT (name) DO UPDATE SET health = excluded.health, at = excluded.at",
        )
        .bind(name)
        .bind(health.to_string())
        .bind(at)
        .execute(&mut *w)
        .await?;
        Ok(())
        })
    }

    pub async fn cursor(&self, name: &str) -> Result<Option<String>, RegistryError> {
        let store = &self.store;
        on_db!(store, db => {
        let row = sqlx::query("SELECT cursor FROM cursors WHERE source = $1")
            .bind(cursor_key(name))
            .fetch_optional(db.read_pool())
            .await?;
        Ok(row.map(|r| r.get(0)))
        })
    }

    /// Records a webhook signature; `false` when it was already there (a replay).
    pub async fn claim_signature(
        &self,
        signature: &str,
        source: &str,
        now_ms: i64,
        forget_before_ms: i64,
    ) -> Result<bool, RegistryError> {
        let store = &self.store;
        on_db!(store, db => {
            let mut w = db.writer().await?;
        sqlx::query("DELETE FROM webhook_signatures WHERE seen_at < $1")
            .bind(forget_before_ms)
            .execute(&mut *w)
            .await?;
        let r = sqlx::query(
            "INSERT INTO webhook_signatures (signature, source, seen_at) VALUES (?, ?, ?) \
             ON CONFLICT (signature) DO NOTHING",
        )
        .bind(signature)
        .bind(source)
        .bind(now_ms)
        .execute(&mut *w)
        .await?;
        Ok(r.rows_affected() == 1)
        })
    }

    pub async fn release_signature(&self, signature: &str) -> Result<(), RegistryError> {
        let store = &self.store;
        on_db!(store, db => {
            let mut w = db.writer().await?;
        sqlx::query("DELETE FROM webhook_signatures WHERE signature = $1")
            .bind(signature)
            .execute(&mut *w)
            .await?;
        Ok(())
        })
    }
}

dual! {
    pub(crate) fn row_to_config(r: &DbRow) -> Option<SourceConfig> {
    let kind: String = r.get(1);
    let options: String = r.get(4);
    Some(SourceConfig {
        name: r.get(0),
        kind: kind.parse().ok()?,
        url: r.get(2),
        interval_ms: r.get(3),
        options: serde_json::from_str(&options).unwrap_or(Value::Null),
        enabled: r.get::<bool, _>(5),
        created_at: r.get(6),
    })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals() {
        assert_eq!(parse_interval("60s"), Ok(60_000));
        assert_eq!(parse_interval("5m"), Ok(300_000));
        assert_eq!(parse_interval("1h"), Ok(3_600_000));
        assert_eq!(parse_interval("90"), Ok(90_000));
        assert_eq!(parse_interval("1500ms"), Ok(1_500));
        for bad in [
            "",
            "s",
            "10x",
            "-5s",
            "0s",
            "200ms",
            "2d",
            "25h",
            "99999999999999999h",
        ] {
            assert!(parse_interval(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn names_and_urls() {
        assert!(validate_name("status-page_1").is_ok());
        for bad in ["", "Has Caps", "a/b", "x y", &"a".repeat(65)] {
            assert!(validate_name(bad).is_err(), "{bad}");
        }
        assert!(validate_url(Kind::Rss, "https://example.com/feed.xml").is_ok());
        assert!(validate_url(Kind::Rss, "ftp://example.com/feed").is_err());
        assert!(validate_url(Kind::Rss, "example.com/feed").is_err());
        assert!(validate_url(
            Kind::Jetstream,
            "wss://jetstream1.us-east.bsky.network/subscribe"
        )
        .is_ok());
        assert!(validate_url(Kind::Jetstream, "https://x").is_err());
        assert!(validate_url(Kind::Webhook, "").is_ok());
    }
}
