//! Walls (src/wall, src/showcase): showcase decisions and highlights, and the reads the wall
//! views need beyond the rollups (top posts by reach, the delayed showcase stream, last data
//! per source).

use serde::Serialize;
use sqlx::{QueryBuilder, Row};

use super::sqlite::MENTION_COLUMNS;
use super::{Filter, Store, StoreError};
use crate::model::StoredMention;

/// A curated highlight with its mention.
#[derive(Debug, Clone, Serialize)]
pub struct HighlightRow {
    pub note: String,
    pub added_by: String,
    pub added_at: i64,
    pub mention: StoredMention,
}

/// Which posts a showcase stream may show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShowcaseGate {
    /// Everything old enough that no lead rejected.
    NotRejected,
    /// Only what a lead approved.
    Approved,
}

impl Store {
    /// Mentions written at or before `before_ms`, newest first, through `gate`.
    pub async fn showcase_latest(
        &self,
        before_ms: i64,
        limit: i64,
        f: &Filter,
        gate: ShowcaseGate,
    ) -> Result<Vec<StoredMention>, StoreError> {
        on_db!(self, s => {
            let mut qb: QueryBuilder<DB> =
                QueryBuilder::new(format!("SELECT {MENTION_COLUMNS} FROM mentions m"));
            if let Some(t) = &f.topic {
                qb.push(" JOIN mention_topics mt ON mt.mention_id = m.id AND mt.topic = ")
                    .push_bind(t.clone());
            }
            match gate {
                ShowcaseGate::Approved => {
                    qb.push(" JOIN showcase_decisions d ON d.mention_id = m.id AND d.state = 'approved'");
                }
                ShowcaseGate::NotRejected => {
                    qb.push(" LEFT JOIN showcase_decisions d ON d.mention_id = m.id");
                }
            }
            qb.push(" WHERE m.created_at <= ").push_bind(before_ms);
            if gate == ShowcaseGate::NotRejected {
                qb.push(" AND (d.state IS NULL OR d.state <> 'rejected')");
            }
            if let Some(c) = &f.channel {
                qb.push(" AND m.channel = ").push_bind(c.clone());
            }
            qb.push(" ORDER BY m.created_at DESC, m.id DESC LIMIT ")
                .push_bind(limit.clamp(1, 500));
            let rows = qb.build().fetch_all(s.read_pool()).await?;
            rows.iter().map(stored_mention).collect()
        })
    }

    /// Posts of the window `[from, to)` with the widest reach (influence, then followers).
    pub async fn top_by_reach(
        &self,
        from: i64,
        to: i64,
        limit: i64,
        f: &Filter,
    ) -> Result<Vec<StoredMention>, StoreError> {
        on_db!(self, s => {
            let mut qb: QueryBuilder<DB> =
                QueryBuilder::new(format!("SELECT {MENTION_COLUMNS} FROM mentions m"));
            if let Some(t) = &f.topic {
                qb.push(" JOIN mention_topics mt ON mt.mention_id = m.id AND mt.topic = ")
                    .push_bind(t.clone());
            }
            qb.push(" WHERE m.created_at >= ")
                .push_bind(from)
                .push(" AND m.created_at < ")
                .push_bind(to);
            if let Some(c) = &f.channel {
                qb.push(" AND m.channel = ").push_bind(c.clone());
            }
            qb.push(" ORDER BY m.influence DESC, COALESCE(m.author_followers, 0) DESC, m.created_at DESC LIMIT ")
                .push_bind(limit.clamp(1, 100));
            let rows = qb.build().fetch_all(s.read_pool()).await?;
            rows.iter().map(stored_mention).collect()
        })
    }

    /// Newest ingest time per source: `(source, ingested_at ms)`.
    pub async fn last_ingest_by_source(&self) -> Result<Vec<(String, i64)>, StoreError> {
        on_db!(self, s => {
            let rows =
                sqlx::query("SELECT source, MAX(ingested_at) FROM mentions GROUP BY source")
                    .fetch_all(s.read_pool())
                    .await?;
            rows.iter()
                .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
                .collect::<Result<Vec<_>, sqlx::Error>>()
                .map_err(Into::into)
        })
    }

    /// Records a lead's showcase decision (`approved` / `rejected`) for each existing id;
    /// returns how many were recorded.
    pub async fn showcase_decide(
        &self,
        ids: &[i64],
        state: &str,
        by: &str,
        now_ms: i64,
    ) -> Result<u64, StoreError> {
        on_db!(self, s => {
            let mut w = s.writer().await?;
            let mut tx = sqlx::Connection::begin(&mut *w).await?;
            let mut n = 0;
            for id in ids {
                let r = sqlx::query(
                    "INSERT INTO showcase_decisions (mention_id, state, decided_by, decided_at) \
                     SELECT id, $2, $3, $4 FROM mentions WHERE id = $1 \
                     ON CONFLICT (mention_id) DO UPDATE SET state = excluded.state, \
                     decided_by = excluded.decided_by, decided_at = excluded.decided_at",
                )
                .bind(id)
                .bind(state)
                .bind(by)
                .bind(now_ms)
                .execute(&mut *tx)
                .await?;
                n += r.rows_affected();
            }
            tx.commit().await?;
            Ok(n)
        })
    }

    /// Posts waiting for a decision: not decided, newest first, written after `since_ms`.
    pub async fn showcase_pending(
        &self,
        since_ms: i64,
        limit: i64,
    ) -> Result<Vec<StoredMention>, StoreError> {
        on_db!(self, s => {
            let rows = sqlx::query(&format!(
                "SELECT {MENTION_COLUMNS} FROM mentions m LEFT JOIN showcase_decisions d ON d.mention_id = m.id \
                 WHERE d.mention_id IS NULL AND m.created_at >= $1 ORDER BY m.created_at DESC, m.id DESC LIMIT $2"
            ))
            .bind(since_ms)
            .bind(limit.clamp(1, 500))
            .fetch_all(s.read_pool())
            .await?;
            rows.iter().map(stored_mention).collect()
        })
    }

    /// Adds (or re-notes) a highlight; false when the mention does not exist.
    pub async fn highlight_add(
        &self,
        id: i64,
        note: &str,
        by: &str,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        on_db!(self, s => {
            let mut w = s.writer().await?;
            let r = sqlx::query(
                "INSERT INTO showcase_highlights (mention_id, note, added_by, added_at) \
                 SELECT id, $2, $3, $4 FROM mentions WHERE id = $1 \
                 ON CONFLICT (mention_id) DO UPDATE SET note = excluded.note",
            )
            .bind(id)
            .bind(note)
            .bind(by)
            .bind(now_ms)
            .execute(&mut *w)
            .await?;
            Ok(r.rows_affected() > 0)
        })
    }

    pub async fn highlight_remove(&self, id: i64) -> Result<bool, StoreError> {
        on_db!(self, s => {
            let mut w = s.writer().await?;
            let r = sqlx::query("DELETE FROM showcase_highlights WHERE mention_id = $1")
                .bind(id)
                .execute(&mut *w)
                .await?;
            Ok(r.rows_affected() > 0)
        })
    }

    /// Highlights, newest first.
    pub async fn highlights(&self, limit: i64) -> Result<Vec<HighlightRow>, StoreError> {
        on_db!(self, s => {
            let rows = sqlx::query(&format!(
                "SELECT {MENTION_COLUMNS}, h.note, h.added_by, h.added_at FROM showcase_highlights h \
                 JOIN mentions m ON m.id = h.mention_id ORDER BY h.added_at DESC LIMIT $1"
            ))
            .bind(limit.clamp(1, 200))
            .fetch_all(s.read_pool())
            .await?;
            rows.iter()
                .map(|r| {
                    let n = r.len();
                    Ok(HighlightRow {
                        note: r.try_get(n - 3)?,
                        added_by: r.try_get(n - 2)?,
                        added_at: r.try_get(n - 1)?,
                        mention: stored_mention(r)?,
                    })
                })
                .collect()
        })
    }
}

dual! {
    @import crate::store::rows;
}
