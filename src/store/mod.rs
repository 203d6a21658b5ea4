//! Storage. SQLite by default (embedded, zero set-up); the PostgreSQL store joins it behind the
//! same [`Store`] type for multi-site centers.

#[macro_use]
mod dual;
mod alerts;
mod care;
mod care_kpi;
mod care_triage;
mod handoff;
mod mentions;
mod model;
mod pg;
mod rows;
mod sites;
mod sqlite;
mod tokens;
mod walls;

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::model::{Enrichment, Mention, StoredMention};
pub use alerts::{
    AlertGrowth, AlertLogRow, AlertQuery, AlertRow, DrillRunRow, NewAlert, Transition,
};
pub use care::{AuditRow, CaseChange, CaseFilter, CaseRow, Decision, NewReply, ReplyRow};
pub use care_kpi::{KpiCase, KpiData, RealResponse};
pub use handoff::{brief_alert, MovePlan, NewBrief, Transfer};
pub use model::{CorrectionRow, MentionLabel, ModelInfo, ModelOrigin, HOLD_BACK_EVERY};
pub use pg::PgStore;
pub use sqlite::SqliteStore;
pub use tokens::TokenRow;
pub use walls::{HighlightRow, ShowcaseGate};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the database at {path}: {source}. Check that the folder exists and is writable, or pass --db PATH")]
    Open { path: PathBuf, source: sqlx::Error },
    #[error("cannot connect to the PostgreSQL database {url}: {reason}. Check that the server is running and that the URL's host, port, user, password and database name are right (postgres://USER:PASSWORD@HOST:PORT/DATABASE)")]
    OpenPostgres { url: String, reason: String },
    #[error("the database schema could not be migrated: {0}. Is this file a Sunward database of a newer version?")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database error: {0}")]
    Sql(#[from] sqlx::Error),
}

/// A mention ready to be written, with its enrichment and where it came from.
#[derive(Debug, Clone)]
pub struct NewMention {
    pub mention: Mention,
    pub enrichment: Enrichment,
}

#[derive(Debug, Clone)]
pub struct NewReject {
    pub line: u64,
    pub reason: &'static str,
    pub detail: String,
}

/// Everything one transaction writes: mentions, retractions, dead letters and a cursor.
#[derive(Debug, Clone, Default)]
pub struct Batch {
    /// File path or `api:<run>`; dead letters are keyed by it.
    pub origin: String,
    pub mentions: Vec<NewMention>,
    pub deletes: Vec<(String, String)>,
    pub rejects: Vec<NewReject>,
    /// `(source, cursor)` to persist atomically with this batch.
    pub cursor: Option<(String, String)>,
}

impl Batch {
    pub fn is_empty(&self) -> bool {
        self.mentions.is_empty()
            && self.deletes.is_empty()
            && self.rejects.is_empty()
            && self.cursor.is_none()
    }
}

#[derive(Debug, Clone, Default)]
pub struct BatchOutcome {
    pub stored: u64,
    pub duplicates: u64,
    pub deleted: u64,
    /// The newest stored mentions of the batch (at most [`LATEST_IN_EVENT`]), for live events.
    pub latest: Vec<StoredMention>,
}

/// How many stored mentions a `mentions` event carries.
pub const LATEST_IN_EVENT: usize = 20;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub total: i64,
    pub negative: i64,
    pub neutral: i64,
    pub positive: i64,
}

impl Counts {
    /// The counts of several minutes added up.
    pub fn sum(minutes: &[MinuteCounts]) -> Counts {
        minutes.iter().fold(Counts::default(), |a, m| Counts {
            total: a.total + m.counts.total,
            negative: a.negative + m.counts.negative,
            neutral: a.neutral + m.counts.neutral,
            positive: a.positive + m.counts.positive,
        })
    }

    /// Stacked spans `(from, to, label colour index)`: negative at the bottom because it matters
    /// most, then neutral, then positive; empty spans left out.
    pub fn stacked(&self) -> impl Iterator<Item = (i64, i64, usize)> {
        let (n, u) = (self.negative, self.neutral);
        [(0, n, 0), (n, n + u, 1), (n + u, self.total, 2)]
            .into_iter()
            .filter(|(a, b, _)| b > a)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct MinuteCounts {
    pub t: i64,
    #[serde(flatten)]
    pub counts: Counts,
}

#[derive(Debug, Clone, Serialize)]
pub struct RejectRow {
    pub id: i64,
    pub origin: String,
    pub line: i64,
    pub reason: String,
    pub detail: String,
    pub at: i64,
    pub seen: i64,
}

/// A filter on rollups and streams.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub topic: Option<String>,
    pub channel: Option<String>,
}

/// Where the data lives: a SQLite file (one center) or a PostgreSQL URL (several sites).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbTarget {
    Sqlite(PathBuf),
    Postgres(String),
}

impl DbTarget {
    /// `postgres://` or `postgresql://` URLs are PostgreSQL; anything else is a SQLite path.
    pub fn parse(s: &str) -> DbTarget {
        if s.starts_with("postgres://") || s.starts_with("postgresql://") {
            DbTarget::Postgres(s.to_string())
        } else {
            DbTarget::Sqlite(PathBuf::from(s))
        }
    }

    /// The SQLite file, if this is one.
    pub fn sqlite_path(&self) -> Option<&Path> {
        match self {
            DbTarget::Sqlite(p) => Some(p),
            DbTarget::Postgres(_) => None,
        }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, DbTarget::Postgres(_))
    }

    /// A stable name for this database (keyring items, logs), without a password.
    pub fn identity(&self) -> String {
        match self {
            DbTarget::Sqlite(p) => std::path::absolute(p)
                .unwrap_or_else(|_| p.clone())
                .display()
                .to_string(),
            DbTarget::Postgres(u) => redact_url(u),
        }
    }
}

impl std::fmt::Display for DbTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DbTarget::Sqlite(p) => write!(f, "{}", p.display()),
            DbTarget::Postgres(u) => f.write_str(&redact_url(u)),
        }
    }
}

impl From<PathBuf> for DbTarget {
    fn from(p: PathBuf) -> DbTarget {
        DbTarget::Sqlite(p)
    }
}

impl From<&PathBuf> for DbTarget {
    fn from(p: &PathBuf) -> DbTarget {
        DbTarget::Sqlite(p.clone())
    }
}

impl From<&DbTarget> for DbTarget {
    fn from(t: &DbTarget) -> DbTarget {
        t.clone()
    }
}

impl From<&Path> for DbTarget {
    fn from(p: &Path) -> DbTarget {
        DbTarget::Sqlite(p.to_path_buf())
    }
}

/// `postgres://user:secret@host/db` shown as `postgres://user:***@host/db`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let Some((auth, host)) = rest.rsplit_once('@') else {
        return url.to_string();
    };
    match auth.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_string(),
    }
}

/// The store the rest of the core talks to.
#[derive(Clone)]
pub enum Store {
    Sqlite(SqliteStore),
    Postgres(PgStore),
}

impl Store {
    /// Opens (creating if needed) the SQLite database at `path` and migrates it.
    pub async fn open_sqlite(path: &Path) -> Result<Store, StoreError> {
        Ok(Store::Sqlite(SqliteStore::open(path).await?))
    }

    /// Opens and migrates the database `target` names.
    pub async fn open(target: &DbTarget) -> Result<Store, StoreError> {
        match target {
            DbTarget::Sqlite(p) => Store::open_sqlite(p).await,
            DbTarget::Postgres(u) => Ok(Store::Postgres(PgStore::open(u).await?)),
        }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, Store::Postgres(_))
    }

    pub async fn write_batch(
        &self,
        batch: &Batch,
        now_ms: i64,
    ) -> Result<BatchOutcome, StoreError> {
        match self {
            Store::Sqlite(s) => s.write_batch(batch, now_ms).await,
            Store::Postgres(s) => s.write_batch(batch, now_ms).await,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    Channel,
    Topic,
}

/// Start of the minute containing `ms`.
pub fn minute_of(ms: i64) -> i64 {
    ms.div_euclid(60_000) * 60_000
}

/// Groups per-minute counts into buckets of `bucket` minutes (the 24-hour chart uses 15).
pub fn bucketize_counts(series: &[MinuteCounts], bucket: usize) -> Vec<MinuteCounts> {
    series
        .chunks(bucket.max(1))
        .map(|c| MinuteCounts {
            t: c[0].t,
            counts: Counts::sum(c),
        })
        .collect()
}
