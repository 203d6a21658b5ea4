//! The PostgreSQL store, for several sites on one database (docs/follow-the-sun.md).
//!
//! Same tables and the same methods as the SQLite store (src/store/sqlite.rs). Two things
//! differ because several Sunward processes write at once:
//! - mention batches take a transaction-scoped advisory lock, so mention ids are committed in
//!   increasing order and the care triage cursor ("last mention id seen") never skips a row
//!   that another site committed late;
//! - rollup increments are computed from the rows the INSERT returned (not from an id range).

use std::collections::{BTreeMap, HashMap};
use std::str::FromStr;
use std::time::Duration;

use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{Connection, Postgres, QueryBuilder, Row};

use super::rows::{bump, label_code, label_from, RollupKey};
use super::{minute_of, Batch, BatchOutcome, Counts, StoreError, LATEST_IN_EVENT};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

use super::mentions::ROWS_PER_INSERT;

/// Advisory lock key serializing mention writes across processes ("sunward" in ASCII).
const MENTION_WRITE_LOCK: i64 = 0x73756e77617264;

#[derive(Clone)]
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    pub(crate) fn read_pool(&self) -> &PgPool {
        &self.pool
    }

    /// A pooled connection for one short transaction.
    pub(crate) async fn writer(&self) -> Result<PoolConnection<Postgres>, sqlx::Error> {
        self.pool.acquire().await
    }

    pub async fn open(url: &str) -> Result<PgStore, StoreError> {
        let open_err = |e: sqlx::Error| StoreError::OpenPostgres {
            url: super::redact_url(url),
            reason: e.to_string(),
        };
        let options = PgConnectOptions::from_str(url).map_err(open_err)?;
        // One direct connection first: a refused or unknown server fails at once with the
        // server's own reason, not after the pool's acquire timeout.
        sqlx::PgConnection::connect_with(&options)
            .await
            .map_err(open_err)?
            .close()
            .await
            .map_err(open_err)?;
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await
            .map_err(open_err)?;
        // Through the pool, not a `&mut PgConnection`: that future is not `Send` (sqlx).
        // Migrations take their own advisory lock: two sites starting at once are safe.
        MIGRATOR.run(&pool).await?;
        Ok(PgStore { pool })
    }

    pub async fn write_batch(
        &self,
        batch: &Batch,
        now_ms: i64,
    ) -> Result<BatchOutcome, StoreError> {
        let mut tx = self.pool.begin().await?;
        let mut out = BatchOutcome::default();
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(MENTION_WRITE_LOCK)
            .execute(&mut *tx)
            .await?;
        let mut rollup: BTreeMap<RollupKey, Counts> = BTreeMap::new();
        let mut ids: Vec<i64> = Vec::new();
        let mut topic_rows: Vec<(i64, String, i64)> = Vec::new();
        for chunk in batch.mentions.chunks(ROWS_PER_INSERT) {
            let mut qb: QueryBuilder<Postgres> = QueryBuilder::new(
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
                    .push_bind(e.score as f64)
                    .push_bind(label_code(e.label))
                    .push_bind(e.influence as i64)
                    .push_bind(super::sqlite::topics_json(&e.topics))
                    .push_bind(now_ms);
            });
            qb.push(
                " ON CONFLICT (source, source_id) DO NOTHING \
                 RETURNING id, source, source_id, created_at, channel, label",
            );
            let rows = qb.build().fetch_all(&mut *tx).await?;
            let mut inserted: HashMap<(String, String), (i64, i64, String, i64)> =
                HashMap::with_capacity(rows.len());
            for r in &rows {
                inserted.insert(
                    (r.try_get(1)?, r.try_get(2)?),
                    (r.try_get(0)?, r.try_get(3)?, r.try_get(4)?, r.try_get(5)?),
                );
            }
            for nm in chunk {
                // A duplicate inside the batch is inserted once: count it once.
                let key = (nm.mention.source.clone(), nm.mention.source_id.clone());
                let Some((id, created, channel, label)) = inserted.remove(&key) else {
                    continue;
                };
                let (created, channel, label) = (&created, &channel, &label);
                let minute = minute_of(*created);
                let label = label_from(*label);
                bump(
                    rollup
                        .entry((minute, channel.clone(), String::new()))
                        .or_default(),
                    label,
                    1,
                );
                for t in &nm.enrichment.topics {
                    bump(
                        rollup
                            .entry((minute, channel.clone(), t.clone()))
                            .or_default(),
                        label,
                        1,
                    );
                    topic_rows.push((id, t.clone(), *created));
                }
                ids.push(id);
            }
        }
        out.stored = ids.len() as u64;
        out.duplicates = batch.mentions.len() as u64 - out.stored;

        for chunk in topic_rows.chunks(ROWS_PER_INSERT) {
            let mut qb: QueryBuilder<Postgres> =
                QueryBuilder::new("INSERT INTO mention_topics (mention_id, topic, created_at) ");
            qb.push_values(chunk.iter(), |mut b, (id, t, at)| {
                b.push_bind(*id).push_bind(t).push_bind(*at);
            });
            qb.push(" ON CONFLICT DO NOTHING");
            qb.build().execute(&mut *tx).await?;
        }

        for (source, source_id) in &batch.deletes {
            let row = sqlx::query(
                "DELETE FROM mentions WHERE source = $1 AND source_id = $2 \
                 RETURNING id, created_at, channel, label, topics",
            )
            .bind(source)
            .bind(source_id)
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(row) = row {
                out.deleted += 1;
                let id: i64 = row.try_get(0)?;
                let minute = minute_of(row.try_get(1)?);
                let channel: String = row.try_get(2)?;
                let label = label_from(row.try_get(3)?);
                let topics: Vec<String> =
                    serde_json::from_str(&row.try_get::<String, _>(4)?).unwrap_or_default();
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
                sqlx::query("DELETE FROM mention_topics WHERE mention_id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
            sqlx::query(
                "INSERT INTO tombstones (source, source_id, deleted_at) VALUES ($1, $2, $3) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(source)
            .bind(source_id)
            .bind(now_ms)
            .execute(&mut *tx)
            .await?;
        }

        // BTreeMap order: every process upserts rollup rows in the same order, no deadlocks.
        let rollup: Vec<(RollupKey, Counts)> =
            rollup.into_iter().filter(|(_, c)| c.total != 0).collect();
        super::mentions::pg::finish_batch(&mut tx, batch, &rollup, now_ms).await?;

        if !ids.is_empty() {
            let rows = sqlx::query(&format!(
                "SELECT {} FROM mentions m WHERE m.id = ANY($1) ORDER BY m.id DESC LIMIT {LATEST_IN_EVENT}",
                super::sqlite::MENTION_COLUMNS
            ))
            .bind(&ids)
            .fetch_all(&mut *tx)
            .await?;
            out.latest = rows
                .iter()
                .map(super::rows::pg::stored_mention)
                .collect::<Result<_, _>>()?;
        }
        tx.commit().await?;
        Ok(out)
    }
}
