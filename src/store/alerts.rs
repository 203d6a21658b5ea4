//! Alerts, their log, dead-lettered webhooks and drill runs (src/alerts, src/drills).

use serde::Serialize;
use serde_json::Value;
use sqlx::Row;

use super::{Store, StoreError};

/// An alert as stored and served.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AlertRow {
    pub id: i64,
    pub kind: String,
    pub kinds: Vec<String>,
    pub topic: Option<String>,
    pub channel: Option<String>,
    pub severity: String,
    pub state: String,
    pub title: String,
    /// Event time the alert fired (ms).
    pub fired_at: i64,
    /// Event time of the latest signal merged in (ms).
    pub last_at: i64,
    pub signals: i64,
    pub evidence: Value,
    pub stories: Value,
    pub drill: bool,
    pub drill_run: Option<String>,
    pub site: String,
    pub created_at: i64,
    pub acked_by: Option<String>,
    pub acked_at: Option<i64>,
    pub escalated_at: Option<i64>,
    pub escalation_step: i64,
    pub resolved_by: Option<String>,
    pub resolved_at: Option<i64>,
    /// Fired while backfilling history (its latest signal was already old when written): listed,
    /// but no wall takeover, escalation or webhook (see `alerts.backfill_minutes`).
    pub backfill: bool,
    #[serde(skip)]
    pub merge_key: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AlertLogRow {
    pub at: i64,
    pub who: String,
    pub action: String,
    pub detail: String,
}

/// A new alert to insert.
#[derive(Debug, Clone)]
pub struct NewAlert<'a> {
    pub merge_key: &'a str,
    pub kind: &'a str,
    pub kinds: &'a [String],
    pub topic: Option<&'a str>,
    pub channel: Option<&'a str>,
    pub severity: &'a str,
    pub title: &'a str,
    pub fired_at: i64,
    pub evidence: &'a Value,
    pub stories: &'a Value,
    pub drill: bool,
    pub drill_run: Option<&'a str>,
    pub site: &'a str,
    pub backfill: bool,
}

/// An alert's growth (another signal merged in).
#[derive(Debug, Clone)]
pub struct AlertGrowth<'a> {
    pub id: i64,
    pub kinds: &'a [String],
    pub severity: &'a str,
    pub title: &'a str,
    pub last_at: i64,
    pub signals: i64,
    pub evidence: &'a Value,
    pub stories: &'a Value,
    /// A recent signal merged in: the alert is live from now on (backfill cleared).
    pub live: bool,
}

#[derive(Debug, Clone, Default)]
pub struct AlertQuery {
    pub state: Option<String>,
    pub drill: Option<bool>,
    pub drill_run: Option<String>,
    pub limit: i64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DrillRunRow {
    pub id: i64,
    pub run_key: String,
    pub name: String,
    pub file: String,
    pub state: String,
    pub started_at: i64,
    pub finished_at: Option<i64>,
    pub report_path: Option<String>,
    pub summary: Value,
}

const ALERT_COLUMNS: &str = "id, kind, kinds, topic, channel, severity, state, title, fired_at, \
    last_at, signals, evidence, stories, drill, drill_run, site, created_at, acked_by, acked_at, \
    escalated_at, escalation_step, resolved_by, resolved_at, merge_key, backfill";

impl Store {
    pub async fn alert_insert(&self, a: &NewAlert<'_>, now_ms: i64) -> Result<i64, StoreError> {
        on_db!(self, s => {
            let mut w = s.writer().await?;
            let mut tx = sqlx::Connection::begin(&mut *w).await?;
            let id: i64 = sqlx::query(
                "INSERT INTO alerts (merge_key, kind, kinds, topic, channel, severity, state, \
                 title, fired_at, last_at, evidence, stories, drill, drill_run, site, created_at, backfill) \
                 VALUES ($1, $2, $3, $4, $5, $6, 'open', $7, $8, $8, $9, $10, $11, $12, $13, $14, $15) \
                 RETURNING id",
            )
            .bind(a.merge_key)
            .bind(a.kind)
            .bind(serde_json::to_string(a.kinds).unwrap_or_else(|_| "[]".into()))
            .bind(a.topic)
            .bind(a.channel)
            .bind(a.severity)
            .bind(a.title)
            .bind(a.fired_at)
            .bind(a.evidence.to_string())
            .bind(a.stories.to_string())
            .bind(a.drill as i64)
            .bind(a.drill_run)
            .bind(a.site)
            .bind(now_ms)
            .bind(a.backfill as i64)
            .fetch_one(&mut *tx)
            .await?
            .try_get(0)?;
            sqlx::query(
                "INSERT INTO alert_log (alert_id, at, who, action, detail) VALUES ($1, $2, 'detector', 'opened', $3)",
            )
            .bind(id)
            .bind(now_ms)
            .bind(a.title)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(id)
        })
    }

    /// Merges growth into an alert; false if the alert is resolved (or gone) and was left alone.
    pub async fn alert_grow(&self, g: &AlertGrowth<'_>) -> Result<bool, StoreError> {
        on_db!(self, s => {
            let mut w = s.writer().await?;
            let r = sqlx::query(
                "UPDATE alerts SET kinds = $1, severity = $2, title = $3, last_at = $4, \
                 signals = $5, evidence = $6, stories = $7, \
                 backfill = CASE WHEN $9 = 1 THEN 0 ELSE backfill END \
                 WHERE id = $8 AND state <> 'resolved'",
            )
            .bind(serde_json::to_string(g.kinds).unwrap_or_else(|_| "[]".into()))
            .bind(g.severity)
            .bind(g.title)
            .bind(g.last_at)
            .bind(g.signals)
            .bind(g.evidence.to_string())
            .bind(g.stories.to_string())
            .bind(g.id)
            .bind(g.live as i64)
            .execute(&mut *w)
            .await?;
            Ok(r.rows_affected() == 1)
        })
    }

    /// Moves an alert to `to` if its state is one of `from`, logging who and when (see
    /// [`Transition`]). A manual escalation counts as one more escalation step.
    pub async fn alert_transition(
        &self,
        id: i64,
        from: &[&str],
        to: &str,
        who: &str,
        detail: &str,
        now_ms: i64,
    ) -> Result<Transition, StoreError> {
        on_db!(self, s => {
            let mut w = s.writer().await?;
            let mut tx = sqlx::Connection::begin(&mut *w).await?;
            let cur: Option<String> = sqlx::query("SELECT state FROM alerts WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?
                .map(|r| r.try_get(0))
                .transpose()?;
            let Some(cur) = cur else {
                return Ok(Transition::NotFound);
            };
            if !from.contains(&cur.as_str()) {
                return Ok(Transition::NotAllowed(cur));
            }
            let set = match to {
                "acknowledged" => "acked_by = $2, acked_at = $3",
                "resolved" => "resolved_by = $2, resolved_at = $3",
                // Escalation keeps the first time; `who` is the step's target, in the log.
                _ => "escalated_at = COALESCE(escalated_at, $3), escalation_step = escalation_step + CASE WHEN $2 <> '' THEN 1 ELSE 0 END",
            };
            sqlx::query(&format!(
                "UPDATE alerts SET state = $1, {set} WHERE id = $4"
            ))
            .bind(to)
            .bind(who)
            .bind(now_ms)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            log_in(&mut tx, id, now_ms, who, to, detail).await?;
            tx.commit().await?;
            drop(w);
            Ok(match self.alert_get(id).await? {
                Some(a) => Transition::Done(Box::new(a)),
                None => Transition::NotFound,
            })
        })
    }

    /// Records an escalation step taken (and notified) without changing an acknowledged state.
    pub async fn alert_escalation_step(
        &self,
        id: i64,
        step: i64,
        who: &str,
        detail: &str,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        on_db!(self, s => {
            let mut w = s.writer().await?;
            let mut tx = sqlx::Connection::begin(&mut *w).await?;
            sqlx::query(
                "UPDATE alerts SET escalation_step = $1, \
                 state = CASE WHEN state = 'open' AND $1 > 1 THEN 'escalated' ELSE state END, \
                 escalated_at = CASE WHEN $1 > 1 THEN COALESCE(escalated_at, $2) ELSE escalated_at END \
                 WHERE id = $3",
            )
            .bind(step)
            .bind(now_ms)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            log_in(&mut tx, id, now_ms, who, "notified", detail).await?;
            tx.commit().await?;
            Ok(())
        })
    }

    pub async fn alert_log_add(
        &self,
        id: i64,
        who: &str,
        action: &str,
        detail: &str,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        on_db!(self, s => {
            let mut w = s.writer().await?;
            let mut tx = sqlx::Connection::begin(&mut *w).await?;
            log_in(&mut tx, id, now_ms, who, action, detail).await?;
            tx.commit().await?;
            Ok(())
        })
    }

    pub async fn alert_get(&self, id: i64) -> Result<Option<AlertRow>, StoreError> {
        on_db!(self, s => {
            let r = sqlx::query(&format!("SELECT {ALERT_COLUMNS} FROM alerts WHERE id = $1"))
                .bind(id)
                .fetch_optional(s.read_pool())
                .await?;
            Ok(r.as_ref().map(alert_row).transpose()?)
        })
    }

    /// Alerts, newest first (by event time).
    pub async fn alerts_list(&self, q: &AlertQuery) -> Result<Vec<AlertRow>, StoreError> {
        on_db!(self, s => {
            let rows = sqlx::query(&format!(
                "SELECT {ALERT_COLUMNS} FROM alerts WHERE ($1 IS NULL OR state = $1) \
                 AND ($2 IS NULL OR drill = $2) AND ($3 IS NULL OR drill_run = $3) \
                 ORDER BY fired_at DESC, id DESC LIMIT $4"
            ))
            .bind(&q.state)
            .bind(q.drill.map(|d| d as i64))
            .bind(&q.drill_run)
            .bind(if q.limit <= 0 { 1000 } else { q.limit })
            .fetch_all(s.read_pool())
            .await?;
            Ok(rows.iter().map(alert_row).collect::<Result<_, _>>()?)
        })
    }

    /// Alerts not resolved, oldest first: the merger's and the escalation's working set.
    pub async fn alerts_active(&self) -> Result<Vec<AlertRow>, StoreError> {
        on_db!(self, s => {
            let rows = sqlx::query(&format!(
                "SELECT {ALERT_COLUMNS} FROM alerts WHERE state <> 'resolved' ORDER BY id"
            ))
            .fetch_all(s.read_pool())
            .await?;
            Ok(rows.iter().map(alert_row).collect::<Result<_, _>>()?)
        })
    }

    pub async fn alert_log(&self, id: i64) -> Result<Vec<AlertLogRow>, StoreError> {
        on_db!(self, s => {
            let rows = sqlx::query(
                "SELECT at, who, action, detail FROM alert_log WHERE alert_id = $1 ORDER BY id",
            )
            .bind(id)
            .fetch_all(s.read_pool())
            .await?;
            Ok(rows
                .iter()
                .map(|r| {
                    Ok(AlertLogRow {
                        at: r.try_get(0)?,
                        who: r.try_get(1)?,
                        action: r.try_get(2)?,
                        detail: r.try_get(3)?,
                    })
                })
                .collect::<Result<_, sqlx::Error>>()?)
        })
    }

    /// Hourly sums of the per-minute rollups in `[from, to)`: `(hour, channel, topic, total,
    /// negative)` with hour = ms / 3,600,000 (warms the detector's baseline at start).
    pub async fn rollup_hours(
        &self,
        from: i64,
        to: i64,
    ) -> Result<Vec<(i64, String, String, i64, i64)>, StoreError> {
        on_db!(self, s => {
            let rows = sqlx::query(
                "SELECT minute / 3600000 AS h, channel, topic, CAST(SUM(total) AS BIGINT), CAST(SUM(negative) AS BIGINT)                      FROM rollup_minute WHERE minute >= $1 AND minute < $2                      GROUP BY h, channel, topic",
            )
            .bind(from)
            .bind(to)
            .fetch_all(s.read_pool())
            .await?;
            Ok(rows
                .iter()
                .map(|r| {
                    Ok((
                        r.try_get(0)?,
                        r.try_get(1)?,
                        r.try_get(2)?,
                        r.try_get(3)?,
                        r.try_get(4)?,
                    ))
                })
                .collect::<Result<_, sqlx::Error>>()?)
        })
    }

    pub async fn webhook_dead_add(
        &self,
        target: &str,
        alert_id: Option<i64>,
        body: &str,
        error: &str,
        attempts: i64,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        on_db!(self, s => {
            let mut w = s.writer().await?;
            sqlx::query(
                "INSERT INTO webhook_dead (target, alert_id, body, error, attempts, at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(target)
            .bind(alert_id)
            .bind(body)
            .bind(error)
            .bind(attempts)
            .bind(now_ms)
            .execute(&mut *w)
            .await?;
            Ok(())
        })
    }

    pub async fn webhook_dead_count(&self) -> Result<i64, StoreError> {
        on_db!(self, s => {
            Ok(sqlx::query("SELECT COUNT(*) FROM webhook_dead")
                .fetch_one(s.read_pool())
                .await?
                .try_get(0)?)
        })
    }

    pub async fn drill_start(
        &self,
        run_key: &str,
        name: &str,
        file: &str,
        now_ms: i64,
    ) -> Result<i64, StoreError> {
        on_db!(self, s => {
            let mut w = s.writer().await?;
            Ok(sqlx::query(
                "INSERT INTO drill_runs (run_key, name, file, state, started_at) \
                 VALUES ($1, $2, $3, 'running', $4) RETURNING id",
            )
            .bind(run_key)
            .bind(name)
            .bind(file)
            .bind(now_ms)
            .fetch_one(&mut *w)
            .await?
            .try_get(0)?)
        })
    }

    pub async fn drill_update(
        &self,
        run_key: &str,
        state: &str,
        finished_at: Option<i64>,
        report_path: Option<&str>,
        summary: &Value,
    ) -> Result<(), StoreError> {
        on_db!(self, s => {
            let mut w = s.writer().await?;
            sqlx::query(
                "UPDATE drill_runs SET state = $1, finished_at = COALESCE($2, finished_at), \
                 report_path = COALESCE($3, report_path), summary = $4 WHERE run_key = $5",
            )
            .bind(state)
            .bind(finished_at)
            .bind(report_path)
            .bind(summary.to_string())
            .bind(run_key)
            .execute(&mut *w)
            .await?;
            Ok(())
        })
    }

    pub async fn drill_runs(&self, limit: i64) -> Result<Vec<DrillRunRow>, StoreError> {
        on_db!(self, s => {
            let rows = sqlx::query(
                "SELECT id, run_key, name, file, state, started_at, finished_at, report_path, summary \
                 FROM drill_runs ORDER BY id DESC LIMIT $1",
            )
            .bind(limit.max(1))
            .fetch_all(s.read_pool())
            .await?;
            Ok(rows.iter().map(drill_row).collect::<Result<_, _>>()?)
        })
    }

    pub async fn drill_run(&self, run_key: &str) -> Result<Option<DrillRunRow>, StoreError> {
        on_db!(self, s => {
            let row = sqlx::query(
                "SELECT id, run_key, name, file, state, started_at, finished_at, report_path, summary \
                 FROM drill_runs WHERE run_key = $1",
            )
            .bind(run_key)
            .fetch_optional(s.read_pool())
            .await?;
            Ok(row.as_ref().map(drill_row).transpose()?)
        })
    }

    /// Sets a running drill's state (running, paused) while it runs; false if it is not running
    /// or paused any more (finished, stopped, failed).
    pub async fn drill_set_state(&self, run_key: &str, state: &str) -> Result<bool, StoreError> {
        on_db!(self, s => {
            let mut w = s.writer().await?;
            let r = sqlx::query(
                "UPDATE drill_runs SET state = $1 WHERE run_key = $2 \
                 AND state IN ('running', 'paused')",
            )
            .bind(state)
            .bind(run_key)
            .execute(&mut *w)
            .await?;
            Ok(r.rows_affected() == 1)
        })
    }
}

/// The outcome of [`Store::alert_transition`].
#[derive(Debug)]
pub enum Transition {
    Done(Box<AlertRow>),
    NotFound,
    /// The alert is in this state, from which the move is not allowed.
    NotAllowed(String),
}

dual! {
    pub(crate) fn alert_row(r: &DbRow) -> Result<AlertRow, sqlx::Error> {
        let json = |s: String| serde_json::from_str(&s).unwrap_or(Value::Null);
        Ok(AlertRow {
            id: r.try_get(0)?,
            kind: r.try_get(1)?,
            kinds: serde_json::from_str(&r.try_get::<String, _>(2)?).unwrap_or_default(),
            topic: r.try_get(3)?,
            channel: r.try_get(4)?,
            severity: r.try_get(5)?,
            state: r.try_get(6)?,
            title: r.try_get(7)?,
            fired_at: r.try_get(8)?,
            last_at: r.try_get(9)?,
            signals: r.try_get(10)?,
            evidence: json(r.try_get(11)?),
            stories: json(r.try_get(12)?),
            drill: r.try_get::<i64, _>(13)? != 0,
            drill_run: r.try_get(14)?,
            site: r.try_get(15)?,
            created_at: r.try_get(16)?,
            acked_by: r.try_get(17)?,
            acked_at: r.try_get(18)?,
            escalated_at: r.try_get(19)?,
            escalation_step: r.try_get(20)?,
            resolved_by: r.try_get(21)?,
            resolved_at: r.try_get(22)?,
            merge_key: r.try_get(23)?,
            backfill: r.try_get::<i64, _>(24)? != 0,
        })
    }

    pub(crate) fn drill_row(r: &DbRow) -> Result<DrillRunRow, sqlx::Error> {
        Ok(DrillRunRow {
            id: r.try_get(0)?,
            run_key: r.try_get(1)?,
            name: r.try_get(2)?,
            file: r.try_get(3)?,
            state: r.try_get(4)?,
            started_at: r.try_get(5)?,
            finished_at: r.try_get(6)?,
            report_path: r.try_get(7)?,
            summary: serde_json::from_str(&r.try_get::<String, _>(8)?).unwrap_or(Value::Null),
        })
    }

    pub(crate) async fn log_in(
        tx: &mut sqlx::Transaction<'_, DB>,
        id: i64,
        at: i64,
        who: &str,
        action: &str,
        detail: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO alert_log (alert_id, at, who, action, detail) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id)
        .bind(at)
        .bind(who)
        .bind(action)
        .bind(detail)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }
}
