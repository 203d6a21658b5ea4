//! Sentiment model storage (src/enrich/learn.rs): versioned model snapshots, the agents'
//! corrections (who, when, held back or learned), and relabeling a mention with its rollups.

use serde::Serialize;
use sqlx::Row;

use super::{minute_of, Store, StoreError};
use crate::enrich::learn::{class, label_of, Learner};
use crate::model::Label;

/// Why a model version was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelOrigin {
    Correct,
    Train,
    Import,
    Reset,
}

impl ModelOrigin {
    pub fn as_str(self) -> &'static str {
        match self {
            ModelOrigin::Correct => "correct",
            ModelOrigin::Train => "train",
            ModelOrigin::Import => "import",
            ModelOrigin::Reset => "reset",
        }
    }
}

/// The current model version's metadata.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ModelInfo {
    pub version: i64,
    pub created_at: i64,
    pub origin: String,
    pub learned: i64,
    pub last_correction: i64,
    pub bytes: i64,
}

/// One stored correction.
#[derive(Debug, Clone, Serialize)]
pub struct CorrectionRow {
    pub id: i64,
    pub mention_id: Option<i64>,
    pub text: String,
    pub old_label: Label,
    pub label: Label,
    pub by: String,
    pub at: i64,
    pub held_back: bool,
}

/// A mention's text and label, for correcting it.
#[derive(Debug, Clone)]
pub struct MentionLabel {
    pub id: i64,
    pub text: String,
    pub label: Label,
}

fn code(l: Label) -> i64 {
    class(l) as i64
}

fn from_code(c: i64) -> Label {
    label_of(c.clamp(0, 2) as usize)
}

/// Every how many corrections one is held back for measuring (the 5th, 10th, ...).
pub const HOLD_BACK_EVERY: i64 = 5;

impl Store {
    /// Stores `learner` as a new model version; returns the version.
    pub async fn model_save(
        &self,
        learner: &Learner,
        origin: ModelOrigin,
        last_correction: Option<i64>,
        now_ms: i64,
    ) -> Result<i64, StoreError> {
        let blob = learner.to_bytes();
        on_db!(self, s => {
            let mut w = s.writer().await?;
            let last = match last_correction {
                Some(l) => l,
                None => sqlx::query("SELECT COALESCE(MAX(id), 0) FROM sentiment_corrections")
                    .fetch_one(&mut *w)
                    .await?
                    .try_get(0)?,
            };
            let r = sqlx::query(
                "INSERT INTO sentiment_models (created_at, origin, learned, last_correction, model) \
                 VALUES ($1, $2, $3, $4, $5) RETURNING version",
            )
            .bind(now_ms)
            .bind(origin.as_str())
            .bind(learner.learned.min(i64::MAX as u64) as i64)
            .bind(last)
            .bind(blob)
            .fetch_one(&mut *w)
            .await?;
            let version: i64 = r.try_get(0)?;
            // Keep the last 20 versions: each is a full snapshot.
            sqlx::query("DELETE FROM sentiment_models WHERE version <= $1")
                .bind(version - 20)
                .execute(&mut *w)
                .await?;
            Ok(version)
        })
    }

    /// Metadata of the current model version, if any was stored.
    pub async fn model_info(&self) -> Result<Option<ModelInfo>, StoreError> {
        on_db!(self, s => {
            let row = sqlx::query(
                "SELECT version, created_at, origin, learned, last_correction, CAST(LENGTH(model) AS BIGINT) \
                 FROM sentiment_models ORDER BY version DESC LIMIT 1",
            )
            .fetch_optional(s.read_pool())
            .await?;
            Ok(row.map(|r| ModelInfo {
                version: r.get(0),
                created_at: r.get(1),
                origin: r.get(2),
                learned: r.get(3),
                last_correction: r.get(4),
                bytes: r.get(5),
            }))
        })
    }

    /// The current model: the newest snapshot plus the corrections learned after it.
    /// `None` when no model was ever stored. A corrupt snapshot is an error (not ignored).
    pub async fn model_load(&self) -> Result<Option<Learner>, StoreError> {
        let (blob, last): (Vec<u8>, i64) = on_db!(self, s => {
            let row = sqlx::query(
                "SELECT model, last_correction FROM sentiment_models ORDER BY version DESC LIMIT 1",
            )
            .fetch_optional(s.read_pool())
            .await?;
            match row {
                Some(r) => (r.get(0), r.get(1)),
                None => {
                    // Corrections made without a snapshot (should not happen): learn them.
                    (Learner::new().to_bytes(), 0)
                }
            }
        });
        let mut l = Learner::from_bytes(&blob)
            .map_err(|e| StoreError::Sql(sqlx::Error::Decode(Box::new(e))))?;
        let pending = self.corrections_after(last).await?;
        let a = crate::enrich::sentiment::Analyzer::shared();
        for c in &pending {
            if !c.held_back {
                l.learn(a, &c.text, c.label);
            }
        }
        if l.learned == 0 && self.model_info().await?.is_none() {
            return Ok(None);
        }
        Ok(Some(l))
    }

    async fn corrections_after(&self, after: i64) -> Result<Vec<CorrectionRow>, StoreError> {
        self.corrections_query(
            "SELECT id, mention_id, text, old_label, label, by_name, at, held_back \
             FROM sentiment_corrections WHERE id > $1 ORDER BY id",
            after,
        )
        .await
    }

    /// The newest `limit` corrections, newest first.
    pub async fn corrections_recent(&self, limit: i64) -> Result<Vec<CorrectionRow>, StoreError> {
        self.corrections_query(
            "SELECT id, mention_id, text, old_label, label, by_name, at, held_back \
             FROM sentiment_corrections ORDER BY id DESC LIMIT $1",
            limit,
        )
        .await
    }

    /// The newest `limit` held-back corrections (the measuring slice).
    pub async fn corrections_held_back(
        &self,
        limit: i64,
    ) -> Result<Vec<CorrectionRow>, StoreError> {
        self.corrections_query(
            "SELECT id, mention_id, text, old_label, label, by_name, at, held_back \
             FROM sentiment_corrections WHERE held_back = 1 ORDER BY id DESC LIMIT $1",
            limit,
        )
        .await
    }

    async fn corrections_query(
        &self,
        sql: &str,
        arg: i64,
    ) -> Result<Vec<CorrectionRow>, StoreError> {
        on_db!(self, s => {
            let rows = sqlx::query(sql).bind(arg).fetch_all(s.read_pool()).await?;
            Ok(rows
                .into_iter()
                .map(|r| CorrectionRow {
                    id: r.get(0),
                    mention_id: r.get(1),
                    text: r.get(2),
                    old_label: from_code(r.get(3)),
                    label: from_code(r.get(4)),
                    by: r.get(5),
                    at: r.get(6),
                    held_back: r.get::<i64, _>(7) != 0,
                })
                .collect())
        })
    }

    /// (all corrections, held back ones).
    pub async fn correction_counts(&self) -> Result<(i64, i64), StoreError> {
        on_db!(self, s => {
            let r = sqlx::query(
                "SELECT COUNT(*), CAST(COALESCE(SUM(held_back), 0) AS BIGINT) FROM sentiment_corrections",
            )
            .fetch_one(s.read_pool())
            .await?;
            Ok((r.get(0), r.get(1)))
        })
    }

    /// The store id of mention `(source, source_id)`.
    pub async fn mention_id(
        &self,
        source: &str,
        source_id: &str,
    ) -> Result<Option<i64>, StoreError> {
        on_db!(self, s => {
            let r = sqlx::query("SELECT id FROM mentions WHERE source = $1 AND source_id = $2")
                .bind(source)
                .bind(source_id)
                .fetch_optional(s.read_pool())
                .await?;
            Ok(r.map(|r| r.get(0)))
        })
    }

    pub async fn mention_label(&self, id: i64) -> Result<Option<MentionLabel>, StoreError> {
        on_db!(self, s => {
            let r = sqlx::query("SELECT id, text, label FROM mentions WHERE id = $1")
                .bind(id)
                .fetch_optional(s.read_pool())
                .await?;
            Ok(r.map(|r| MentionLabel {
                id: r.get(0),
                text: r.get(1),
                label: from_code(r.get(2)),
            }))
        })
    }

    /// Records a correction and relabels the mention (rollups follow) in one transaction.
    /// The correction is held back when its number is a multiple of [`HOLD_BACK_EVERY`].
    /// Returns `(correction id, held back, label before)`; `None` if the mention is gone.
    pub async fn correction_add(
        &self,
        mention_id: i64,
        label: Label,
        score: f32,
        by: &str,
        now_ms: i64,
    ) -> Result<Option<(i64, bool, Label)>, StoreError> {
        on_db!(self, s => {
            let mut w = s.writer().await?;
            let mut tx = sqlx::Connection::begin(&mut *w).await?;
            let Some(row) = sqlx::query(
                "SELECT text, label, created_at, channel, topics FROM mentions WHERE id = $1",
            )
            .bind(mention_id)
            .fetch_optional(&mut *tx)
            .await?
            else {
                return Ok(None);
            };
            let text: String = row.try_get(0)?;
            let old = from_code(row.try_get(1)?);
            let minute = minute_of(row.try_get(2)?);
            let channel: String = row.try_get(3)?;
            let topics: Vec<String> =
                serde_json::from_str(row.try_get::<&str, _>(4)?).unwrap_or_default();
            let count: i64 = sqlx::query("SELECT COUNT(*) FROM sentiment_corrections")
                .fetch_one(&mut *tx)
                .await?
                .try_get(0)?;
            let held_back = (count + 1) % HOLD_BACK_EVERY == 0;
            let id = sqlx::query(
                "INSERT INTO sentiment_corrections (mention_id, text, old_label, label, by_name, at, held_back) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            )
            .bind(mention_id)
            .bind(&text)
            .bind(code(old))
            .bind(code(label))
            .bind(by)
            .bind(now_ms)
            .bind(held_back as i64)
            .fetch_one(&mut *tx)
            .await?
            .try_get::<i64, _>(0)?;
            if old != label {
                sqlx::query("UPDATE mentions SET label = $1, sentiment = $2 WHERE id = $3")
                    .bind(code(label))
                    .bind(score)
                    .bind(mention_id)
                    .execute(&mut *tx)
                    .await?;
                let col = |l: Label| match l {
                    Label::Negative => "negative",
                    Label::Neutral => "neutral",
                    Label::Positive => "positive",
                };
                let sql = format!(
                    "UPDATE rollup_minute SET {o} = {o} - 1, {n} = {n} + 1 \
                     WHERE minute = $1 AND channel = $2 AND topic = $3 AND {o} > 0",
                    o = col(old),
                    n = col(label)
                );
                for topic in std::iter::once(String::new()).chain(topics) {
                    sqlx::query(&sql)
                        .bind(minute)
                        .bind(&channel)
                        .bind(&topic)
                        .execute(&mut *tx)
                        .await?;
                }
            }
            tx.commit().await?;
            Ok(Some((id, held_back, old)))
        })
    }
}

dual! {}
