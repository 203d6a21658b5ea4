//! Mentions, rollups, ingest runs, rejects and cursors: the reads (and small writes) both
//! stores share. The bulk write path is per store (src/store/sqlite.rs, src/store/pg.rs).

use std::collections::HashMap;

use sqlx::{QueryBuilder, Row};

use super::rows::RollupKey;
use super::{
    minute_of, Batch, Counts, Filter, GroupBy, MinuteCounts, RejectRow, Store, StoreError,
};
use crate::model::StoredMention;

/// Rows per multi-row INSERT: 18 columns x 400 rows stays below SQLite's 32766 variables
/// (and PostgreSQL's 65535).
pub(super) const ROWS_PER_INSERT: usize = 400;

impl Store {
    pub async fn start_run(
        &self,
        origin: &str,
        format: &str,
        now_ms: i64,
    ) -> Result<i64, StoreError> {
        on_db!(self, s => {
                let mut w = s.writer().await?;
            let row = sqlx::query(
                "INSERT INTO ingest_runs (origin, format, started_at) VALUES ($1, $2, $3) RETURNING id",
            )
            .bind(origin)
            .bind(format)
            .bind(now_ms)
            .fetch_one(&mut *w)
            .await?;
            Ok(row.try_get(0)?)
        })
    }

    pub async fn finish_run(
        &self,
        run: i64,
        r: &crate::ingest::Report,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        on_db!(self, s => {
                let mut w = s.writer().await?;
            sqlx::query(
                "UPDATE ingest_runs SET finished_at = $1, read = $2, stored = $3, duplicates = $4, \
                 rejected = $5, deleted = $6, skipped = $7 WHERE id = $8",
            )
            .bind(now_ms)
            .bind(r.read as i64)
            .bind(r.stored as i64)
            .bind(r.duplicates as i64)
            .bind(r.rejected as i64)
            .bind(r.deleted as i64)
            .bind(r.skipped as i64)
            .bind(run)
            .execute(&mut *w)
            .await?;
            Ok(())
        })
    }

    pub async fn minutes(
        &self,
        from: i64,
        to: i64,
        f: &Filter,
    ) -> Result<Vec<MinuteCounts>, StoreError> {
        on_db!(self, s => {
            let from = minute_of(from);
            let mut qb: QueryBuilder<DB> = QueryBuilder::new(
                "SELECT minute, CAST(SUM(total) AS BIGINT), CAST(SUM(negative) AS BIGINT), \
                 CAST(SUM(neutral) AS BIGINT), CAST(SUM(positive) AS BIGINT) FROM rollup_minute WHERE minute >= ",
            );
            qb.push_bind(from)
                .push(" AND minute < ")
                .push_bind(to)
                .push(" AND topic = ");
            qb.push_bind(f.topic.clone().unwrap_or_default());
            if let Some(c) = &f.channel {
                qb.push(" AND channel = ").push_bind(c.clone());
            }
            qb.push(" GROUP BY minute");
            let rows = qb.build().fetch_all(s.read_pool()).await?;
            let mut by_minute: HashMap<i64, Counts> = HashMap::with_capacity(rows.len());
            for row in rows {
                by_minute.insert(row.try_get(0)?, counts_at(&row, 1)?);
            }
            let mut out = Vec::new();
            let mut t = from;
            while t < to {
                out.push(MinuteCounts {
                    t,
                    counts: by_minute.get(&t).copied().unwrap_or_default(),
                });
                t += 60_000;
            }
            Ok(out)
        })
    }

    pub async fn totals_by(
        &self,
        by: GroupBy,
        from: i64,
        to: i64,
        f: &Filter,
    ) -> Result<Vec<(String, Counts)>, StoreError> {
        on_db!(self, s => {
            let from = minute_of(from);
            let key = match by {
                GroupBy::Channel => "channel",
                GroupBy::Topic => "topic",
            };
            let mut qb: QueryBuilder<DB> = QueryBuilder::new(format!(
                "SELECT {key}, CAST(SUM(total) AS BIGINT), CAST(SUM(negative) AS BIGINT), \
                 CAST(SUM(neutral) AS BIGINT), CAST(SUM(positive) AS BIGINT) FROM rollup_minute WHERE minute >= "
            ));
            qb.push_bind(from).push(" AND minute < ").push_bind(to);
            match by {
                GroupBy::Channel => {
                    qb.push(" AND topic = ")
                        .push_bind(f.topic.clone().unwrap_or_default());
                }
                GroupBy::Topic => {
                    qb.push(" AND topic <> ''");
                }
            }
            if let Some(c) = &f.channel {
                qb.push(" AND channel = ").push_bind(c.clone());
            }
            qb.push(format!(
                " GROUP BY {key} HAVING SUM(total) > 0 ORDER BY SUM(total) DESC, {key} LIMIT 50"
            ));
            let rows = qb.build().fetch_all(s.read_pool()).await?;
            rows.iter()
                .map(|row| Ok((row.try_get(0)?, counts_at(row, 1)?)))
                .collect()
        })
    }

    pub async fn latest(&self, limit: i64, f: &Filter) -> Result<Vec<StoredMention>, StoreError> {
        on_db!(self, s => {
            let mut qb: QueryBuilder<DB> = QueryBuilder::new(format!(
                "SELECT {} FROM mentions m",
                super::sqlite::MENTION_COLUMNS
            ));
            if let Some(t) = &f.topic {
                qb.push(" JOIN mention_topics mt ON mt.mention_id = m.id AND mt.topic = ")
                    .push_bind(t.clone());
            }
            qb.push(" WHERE 1 = 1");
            if let Some(c) = &f.channel {
                qb.push(" AND m.channel = ").push_bind(c.clone());
            }
            qb.push(" ORDER BY m.created_at DESC, m.id DESC LIMIT ")
                .push_bind(limit.clamp(1, 500));
            let rows = qb.build().fetch_all(s.read_pool()).await?;
            rows.iter().map(stored_mention).collect()
        })
    }

    pub async fn mention_count(&self) -> Result<i64, StoreError> {
        on_db!(self, s => {
            let row = sqlx::query("SELECT COUNT(*) FROM mentions")
                .fetch_one(s.read_pool())
                .await?;
            Ok(row.try_get(0)?)
        })
    }

    pub async fn rejects(&self, limit: i64) -> Result<(i64, Vec<RejectRow>), StoreError> {
        on_db!(self, s => {
            let total: i64 = sqlx::query("SELECT COUNT(*) FROM rejects")
                .fetch_one(s.read_pool())
                .await?
                .try_get(0)?;
            let rows = sqlx::query(
                "SELECT id, origin, line, reason, detail, at, seen FROM rejects ORDER BY id DESC LIMIT $1",
            )
            .bind(limit.clamp(1, 10_000))
            .fetch_all(s.read_pool())
            .await?;
            let rows = rows
                .iter()
                .map(|r| {
                    Ok(RejectRow {
                        id: r.try_get(0)?,
                        origin: r.try_get(1)?,
                        line: r.try_get(2)?,
                        reason: r.try_get(3)?,
                        detail: r.try_get(4)?,
                        at: r.try_get(5)?,
                        seen: r.try_get(6)?,
                    })
                })
                .collect::<Result<Vec<_>, sqlx::Error>>()?;
            Ok((total, rows))
        })
    }

    pub async fn latest_time(&self, source: &str) -> Result<Option<i64>, StoreError> {
        on_db!(self, s => {
            let row = sqlx::query("SELECT MAX(created_at) FROM mentions WHERE source = $1")
                .bind(source)
                .fetch_one(s.read_pool())
                .await?;
            Ok(row.try_get(0)?)
        })
    }

    pub async fn cursor(&self, source: &str) -> Result<Option<String>, StoreError> {
        on_db!(self, s => {
            let row = sqlx::query("SELECT cursor FROM cursors WHERE source = $1")
                .bind(source)
                .fetch_optional(s.read_pool())
                .await?;
            Ok(match row {
                Some(r) => Some(r.try_get(0)?),
                None => None,
            })
        })
    }
}

dual! {
    @import crate::store::rows;

    /// The end of a mention batch, the same on both stores: rollup increments (`rollup`,
    /// zero rows left out), dead letters, and the source's cursor, in the caller's transaction.
    pub(crate) async fn finish_batch(
        c: &mut Conn,
        batch: &Batch,
        rollup: &[(RollupKey, Counts)],
        now_ms: i64,
    ) -> Result<(), sqlx::Error> {
        for chunk in rollup.chunks(ROWS_PER_INSERT) {
            let mut qb: QueryBuilder<DB> = QueryBuilder::new(
                "INSERT INTO rollup_minute (minute, channel, topic, total, negative, neutral, positive) ",
            );
            qb.push_values(chunk.iter(), |mut b, ((minute, channel, topic), c)| {
                b.push_bind(*minute)
                    .push_bind(channel)
                    .push_bind(topic)
                    .push_bind(c.total)
                    .push_bind(c.negative)
                    .push_bind(c.neutral)
                    .push_bind(c.positive);
            });
            qb.push(
                " ON CONFLICT (minute, channel, topic) DO UPDATE SET \
                 total = rollup_minute.total + excluded.total, \
                 negative = rollup_minute.negative + excluded.negative, \
                 neutral = rollup_minute.neutral + excluded.neutral, \
                 positive = rollup_minute.positive + excluded.positive",
            );
            qb.build().execute(&mut *c).await?;
        }
        for chunk in batch.rejects.chunks(ROWS_PER_INSERT) {
            let mut qb: QueryBuilder<DB> =
                QueryBuilder::new("INSERT INTO rejects (origin, line, reason, detail, at) ");
            qb.push_values(chunk.iter(), |mut b, r| {
                b.push_bind(&batch.origin)
                    .push_bind(r.line.min(i64::MAX as u64) as i64)
                    .push_bind(r.reason)
                    .push_bind(&r.detail)
                    .push_bind(now_ms);
            });
            qb.push(
                " ON CONFLICT (origin, line, reason) DO UPDATE SET seen = rejects.seen + 1, \
                 at = excluded.at, detail = excluded.detail",
            );
            qb.build().execute(&mut *c).await?;
        }
        if let Some((source, cursor)) = &batch.cursor {
            sqlx::query(
                "INSERT INTO cursors (source, cursor, updated_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (source) DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at",
            )
            .bind(source)
            .bind(cursor)
            .bind(now_ms)
            .execute(&mut *c)
            .await?;
        }
        Ok(())
    }

    pub(crate) fn counts_at(row: &DbRow, i: usize) -> Result<Counts, sqlx::Error> {
        Ok(Counts {
            total: row.try_get(i)?,
            negative: row.try_get(i + 1)?,
            neutral: row.try_get(i + 2)?,
            positive: row.try_get(i + 3)?,
        })
    }
}
