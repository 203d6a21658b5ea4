//! The SQLite store: WAL, `synchronous=NORMAL`, one writer connection taking `BEGIN IMMEDIATE`
//! with multi-row inserts, and a separate read pool for dashboards.

use std::collections::HashMap;
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};
use sqlx::{Connection, QueryBuilder, Row, Sqlite};
use tokio::sync::Mutex;

use super::rows::{bump, label_code, label_from, RollupKey};
use super::{minute_of, Batch, BatchOutcome, Counts, StoreError, LATEST_IN_EVENT};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

use super::mentions::ROWS_PER_INSERT;

#[derive(Clone)]
pub struct SqliteStore {
    writer: Arc<Mutex<SqliteConnection>>,
    read: SqlitePool,
}

impl SqliteStore {
    /// The read pool, for area modules' queries (src/store/<area>.rs).
    pub(crate) fn read_pool(&self) -> &SqlitePool {
        &self.read
    }

    /// The one writer connection; hold it only for one short transaction.
    /// Never fails on SQLite; a `Result` because the PostgreSQL store's pooled one can.
    pub(crate) async fn writer(
        &self,
    ) -> Result<tokio::sync::MutexGuard<'_, SqliteConnection>, sqlx::Error> {
        Ok(self.writer.lock().await)
    }

    pub async fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        let open_err = |source| StoreError::Open {
            path: path.to_path_buf(),
            source,
        };
        if let Some(dir) = path.parent() {
            if !dir.as_os_str().is_empty() && !dir.exists() {
                std::fs::create_dir_all(dir).map_err(|e| open_err(sqlx::Error::Io(e)))?;
            }
        }
        let opts = SqliteConnectOptions::from_str("sqlite:")
            .map_err(open_err)?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .pragma("cache_size", "-65536")
            .pragma("temp_store", "memory");
        let mut writer = SqliteConnection::connect_with(&opts)
            .await
            .map_err(open_err)?;
        // run_direct: `run(&mut conn)` goes through `Acquire`, whose future is not `Send` for every
        // lifetime, and this open runs inside Send futures (the sources registry).
        MIGRATOR.run_direct(&mut writer).await?;
        let read = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(opts.read_only(true))
            .await
            .map_err(open_err)?;
        Ok(SqliteStore {
            writer: Arc::new(Mutex::new(writer)),
            read,
        })
    }

    pub async fn write_batch(
        &self,
        batch: &Batch,
        now_ms: i64,
    ) -> Result<BatchOutcome, StoreError> {
        let mut out = BatchOutcome::default();
        let mut conn = self.writer.lock().await;
        // IMMEDIATE takes the write lock up front: no deadlock upgrade with other processes.
        sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await?;
        match Self::write_in_tx(&mut conn, batch, now_ms, &mut out).await {
            Ok(()) => {
                sqlx::query("COMMIT").execute(&mut *conn).await?;
                Ok(out)
            }
            Err(e) => {
                let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
                Err(e)
            }
        }
    }

    async fn write_in_tx(
        conn: &mut SqliteConnection,
        batch: &Batch,
        now_ms: i64,
        out: &mut BatchOutcome,
    ) -> Result<(), StoreError> {
        let mut rollup: HashMap<RollupKey, Counts> = HashMap::new();

        // We are the only writer (BEGIN IMMEDIATE), and rowids grow from the current maximum, so
        // every row this batch inserts has an id above `before`. Topic rows, rollup increments
        // and the live-event sample are then derived inside SQLite from that id range: no row
        // travels back through the driver, which was the bottleneck (see docs/performance.md).
        let before: i64 = sqlx::query("SELECT COALESCE(MAX(id), 0) FROM mentions")
            .fetch_one(&mut *conn)
            .await?
            .try_get(0)?;
        let mut stored = 0u64;
        for chunk in batch.mentions.chunks(ROWS_PER_INSERT) {
            let mut qb: QueryBuilder<Sqlite> = QueryBuilder::new(
                "INSERT INTO mentions (source, source_id, channel, created_at, text, author_handle, \
                 author_name, author_followers, author_verified, url, lang, in_reply_to, inbound, \
                 sentiment, label, influence, topics, ingested_at) ",
            );
            qb.push_values(chunk.iter(), |mut b, nm| {
                let m = &nm.mention;
                let e = &nm.enrichment;
                b.push_bind(&m.source)
                    .push_bind(&m.source_id)
                    .push_bind(&m.channel)
                    .push_bind(m.created_at)
                    .push_bind(&m.text)
                    .push_bind(&m.author.handle)
                    .push_bind(&m.author.name)
                    .push_bind(m.author.followers.map(|f| f.min(i64::MAX as u64) as i64))
                    .push_bind(m.author.verified)
                    .push_bind(&m.url)
                    .push_bind(&e.lang)
                    .push_bind(&m.in_reply_to)
                    .push_bind(m.inbound)
                    .push_bind(e.score)
                    .push_bind(label_code(e.label))
                    .push_bind(e.influence as i64)
                    .push_bind(topics_json(&e.topics))
                    .push_bind(now_ms);
            });
            // Duplicates, within the batch or against stored rows, are skipped by the identity index.
            qb.push(" ON CONFLICT (source, source_id) DO NOTHING");
            stored += qb.build().execute(&mut *conn).await?.rows_affected();
        }
        out.stored = stored;
        out.duplicates = batch.mentions.len() as u64 - stored;

        if stored > 0 {
            sqlx::query(
                "INSERT OR IGNORE INTO mention_topics (mention_id, topic, created_at) \
                 SELECT m.id, j.value, m.created_at FROM mentions m, json_each(m.topics) j \
                 WHERE m.id > ? AND m.topics <> '[]'",
            )
            .bind(before)
            .execute(&mut *conn)
            .await?;
            sqlx::query(
                "INSERT INTO rollup_minute (minute, channel, topic, total, negative, neutral, positive) \
                 SELECT minute, channel, topic, COUNT(*), SUM(label = 0), SUM(label = 1), SUM(label = 2) FROM ( \
                   SELECT (created_at / 60000) * 60000 - (CASE WHEN created_at < 0 AND created_at % 60000 <> 0 THEN 60000 ELSE 0 END) AS minute, \
                          channel, '' AS topic, label FROM mentions WHERE id > ?1 \
                   UNION ALL \
                   SELECT (m.created_at / 60000) * 60000 - (CASE WHEN m.created_at < 0 AND m.created_at % 60000 <> 0 THEN 60000 ELSE 0 END), \
                          m.channel, j.value, m.label FROM mentions m, json_each(m.topics) j WHERE m.id > ?1 AND m.topics <> '[]' \
                 ) GROUP BY minute, channel, topic \
                 ON CONFLICT (minute, channel, topic) DO UPDATE SET total = total + excluded.total, \
                 negative = negative + excluded.negative, neutral = neutral + excluded.neutral, \
                 positive = positive + excluded.positive",
            )
            .bind(before)
            .execute(&mut *conn)
            .await?;
            let rows = sqlx::query(&format!(
                "SELECT {MENTION_COLUMNS} FROM mentions m WHERE m.id > ? ORDER BY m.id DESC LIMIT {LATEST_IN_EVENT}"
            ))
            .bind(before)
            .fetch_all(&mut *conn)
            .await?;
            out.latest = rows
                .iter()
                .map(super::rows::sq::stored_mention)
                .collect::<Result<_, _>>()?;
        }

        for (source, source_id) in &batch.deletes {
            let row = sqlx::query(
                "DELETE FROM mentions WHERE source = ? AND source_id = ? \
                 RETURNING id, created_at, channel, label, topics",
            )
            .bind(source)
            .bind(source_id)
            .fetch_optional(&mut *conn)
            .await?;
            if let Some(row) = row {
                out.deleted += 1;
                let id: i64 = row.try_get(0)?;
                let minute = minute_of(row.try_get(1)?);
                let channel: String = row.try_get(2)?;
                let label = label_from(row.try_get(3)?);
                let topics: Vec<String> = serde_json::from_str(row.try_get(4)?).unwrap_or_default();
                bump(
                    rollup
                        .entry((minute, channel.clone(), String::new()))
                        .or_default(),
                    label,
                    -1,
                );
                for t in topics {
                    bump(
                        rollup.entry((minute, channel.clone(), t)).or_default(),
                        label,
                        -1,
                    );
                }
                sqlx::query("DELETE FROM mention_topics WHERE mention_id = ?")
                    .bind(id)
                    .execute(&mut *conn)
                    .await?;
            }
            sqlx::query(
                "INSERT OR IGNORE INTO tombstones (source, source_id, deleted_at) VALUES (?, ?, ?)",
            )
            .bind(source)
            .bind(source_id)
            .bind(now_ms)
            .execute(&mut *conn)
            .await?;
        }

        let rollup: Vec<(RollupKey, Counts)> =
            rollup.into_iter().filter(|(_, c)| c.total != 0).collect();
        super::mentions::sq::finish_batch(conn, batch, &rollup, now_ms).await?;
        Ok(())
    }
}

pub(super) const MENTION_COLUMNS: &str = "m.id, m.source, m.source_id, m.channel, m.created_at, m.text, m.author_handle, \
     m.author_name, m.author_followers, m.author_verified, m.url, m.lang, m.in_reply_to, m.inbound, \
     m.sentiment, m.label, m.influence, m.topics";

pub(super) fn topics_json(topics: &[String]) -> String {
    if topics.is_empty() {
        return "[]".to_string();
    }
    serde_json::to_string(topics).unwrap_or_else(|_| "[]".to_string())
}
