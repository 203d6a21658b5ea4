//! Reads behind the care KPIs and the agent-load view. Drill cases and mentions never count in
//! KPIs; on the load view they are shown (they occupy agents) and marked.

use serde::Serialize;
use serde_json::{json, Value};
use sqlx::Row;

use super::care::{open_list_sql, CASE_COLUMNS};
use super::{Store, StoreError};
use crate::care::DRILL_PREFIX;

/// One case as the KPIs see it.
#[derive(Debug, Clone, Serialize)]
pub struct KpiCase {
    pub id: i64,
    pub status: String,
    pub owner: Option<String>,
    pub brand: Option<String>,
    pub topic: Option<String>,
    pub opened_at: i64,
    pub first_response_at: Option<i64>,
    pub first_due: i64,
    pub resolved_at: Option<i64>,
}

/// A customer's opening post and the brand's first reply to it, rebuilt from the mentions.
#[derive(Debug, Clone, Serialize)]
pub struct RealResponse {
    pub mention_id: i64,
    pub brand: String,
    pub asked_at: i64,
    pub answered_at: i64,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct KpiData {
    pub cases: Vec<KpiCase>,
    /// Open non-drill cases now.
    pub backlog: i64,
    pub do_not_respond: Vec<(String, i64)>,
    /// `(author, external, count)` of replies sent in the window.
    pub responses: Vec<(String, bool, i64)>,
    pub real: Vec<RealResponse>,
    /// Inbound opening posts in the window (answered or not).
    pub openers: i64,
}

impl Store {
    pub async fn care_kpi_data(&self, from: i64, to: i64) -> Result<KpiData, StoreError> {
        on_db!(self, s => {
            let pool = s.read_pool();
            let cases = sqlx::query(
                "SELECT id, status, owner, brand, topic, opened_at, first_response_at, first_due, resolved_at \
                 FROM care_cases WHERE drill = 0 AND opened_at >= $1 AND opened_at < $2 ORDER BY id",
            )
            .bind(from)
            .bind(to)
            .fetch_all(pool)
            .await?
            .iter()
            .map(|r| KpiCase {
                id: r.get(0),
                status: r.get(1),
                owner: r.get(2),
                brand: r.get(3),
                topic: r.get(4),
                opened_at: r.get(5),
                first_response_at: r.get(6),
                first_due: r.get(7),
                resolved_at: r.get(8),
            })
            .collect();
            let backlog: i64 = sqlx::query(&format!(
                "SELECT COUNT(*) FROM care_cases WHERE drill = 0 AND status IN ({})",
                open_list_sql()
            ))
            .fetch_one(pool)
            .await?
            .get(0);
            let do_not_respond = sqlx::query(
                "SELECT COALESCE(reason, ''), COUNT(*) FROM care_triage WHERE outcome = 'do_not_respond' AND drill = 0 \
                 AND created_at >= $1 AND created_at < $2 GROUP BY reason ORDER BY 2 DESC",
            )
            .bind(from)
            .bind(to)
            .fetch_all(pool)
            .await?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
            let responses = sqlx::query(
                "SELECT r.author, r.external, COUNT(*) FROM care_replies r JOIN care_cases c ON c.id = r.case_id \
                 WHERE r.status = 'sent' AND c.drill = 0 AND r.sent_at >= $1 AND r.sent_at < $2 \
                 GROUP BY r.author, r.external ORDER BY 3 DESC",
            )
            .bind(from)
            .bind(to)
            .fetch_all(pool)
            .await?
            .iter()
            .map(|r| (r.get(0), r.get::<i64, _>(1) != 0, r.get(2)))
            .collect();
            // Every brand reply to an inbound opening post; the earliest per post is its
            // first response. Joined through the identity index, no extra index needed.
            let rows = sqlx::query(
                "SELECT p.id, p.created_at, r.created_at, COALESCE(r.author_handle, '') FROM mentions r \
                 JOIN mentions p ON p.source = r.source AND p.source_id = r.in_reply_to \
                 WHERE r.inbound = FALSE AND r.in_reply_to IS NOT NULL AND p.inbound = TRUE AND p.in_reply_to IS NULL \
                 AND p.created_at >= $1 AND p.created_at < $2 AND SUBSTR(p.source, 1, LENGTH($3)) <> $3 \
                 ORDER BY p.id, r.created_at, r.id",
            )
            .bind(from)
            .bind(to)
            .bind(DRILL_PREFIX)
            .fetch_all(pool)
            .await?;
            let mut real: Vec<RealResponse> = Vec::new();
            for r in &rows {
                let id: i64 = r.get(0);
                if real.last().is_some_and(|x| x.mention_id == id) {
                    continue;
                }
                real.push(RealResponse {
                    mention_id: id,
                    asked_at: r.get(1),
                    answered_at: r.get(2),
                    brand: r.get(3),
                });
            }
            let openers: i64 = sqlx::query(
                "SELECT COUNT(*) FROM mentions WHERE inbound = TRUE AND in_reply_to IS NULL AND created_at >= $1 \
                 AND created_at < $2 AND SUBSTR(source, 1, LENGTH($3)) <> $3",
            )
            .bind(from)
            .bind(to)
            .bind(DRILL_PREFIX)
            .fetch_one(pool)
            .await?
            .get(0);
            Ok(KpiData {
                cases,
                backlog,
                do_not_respond,
                responses,
                real,
                openers,
            })
        })
    }

    /// The agent-load view: per agent and site open cases vs capacity and SLA at risk, the
    /// queue's depth and age, the oldest mention still waiting for a first response.
    pub async fn care_load(&self, now: i64) -> Result<Value, StoreError> {
        on_db!(self, s => {
            let pool = s.read_pool();
            let mut conn = pool.acquire().await?;
            let agents = load_agents(&mut conn).await?;
            let open = sqlx::query(&format!(
                "SELECT {CASE_COLUMNS} FROM care_cases WHERE status IN ({}) ORDER BY opened_at",
                open_list_sql()
            ))
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|r| case_row(r, now))
            .collect::<Result<Vec<_>, _>>()?;
            let at_risk = |c: &super::care::CaseRow| c.sla == "warning" || c.sla == "breached";
            let mut rows = Vec::new();
            let mut sites: std::collections::BTreeMap<String, (i64, i64, i64, i64)> =
                Default::default();
            for a in &agents {
                let mine: Vec<_> = open
                    .iter()
                    .filter(|c| c.owner.as_deref() == Some(&a.name))
                    .collect();
                let risk = mine.iter().filter(|c| at_risk(c)).count() as i64;
                let e = sites.entry(a.site.clone()).or_default();
                e.0 += mine.len() as i64;
                e.1 += a.capacity;
                e.2 += risk;
                e.3 += (a.presence == "online") as i64;
                rows.push(json!({
                    "name": a.name, "role": a.role, "site": a.site, "presence": a.presence,
                    "skills": a.skills, "capacity": a.capacity, "open": mine.len(), "at_risk": risk,
                    "cases": mine.iter().take(50).map(|c| json!({
                        "id": c.id, "status": c.status, "sla": c.sla, "track": c.track,
                        "customer": c.customer, "opened_at": c.opened_at, "first_due": c.first_due, "drill": c.drill,
                    })).collect::<Vec<_>>(),
                }));
            }
            let queue: Vec<_> = open.iter().filter(|c| c.owner.is_none()).collect();
            let mut reasons: std::collections::BTreeMap<String, i64> = Default::default();
            for c in &queue {
                *reasons
                    .entry(c.queue_reason.clone().unwrap_or_default())
                    .or_default() += 1;
            }
            let waiting = open
                .iter()
                .filter(|c| c.first_response_at.is_none())
                .min_by_key(|c| (c.opened_at, c.id));
            let oldest = match waiting {
                Some(c) => {
                    let m = sqlx::query(
                        "SELECT m.text, m.channel, m.author_handle, m.created_at FROM care_triage t JOIN mentions m ON m.id = t.mention_id \
                         WHERE t.case_id = $1 AND t.outcome = 'open' LIMIT 1",
                    )
                    .bind(c.id)
                    .fetch_optional(&mut *conn)
                    .await?;
                    m.map(|m| json!({
                        "case_id": c.id, "text": m.get::<String, _>(0), "channel": m.get::<String, _>(1),
                        "author": m.get::<Option<String>, _>(2), "at": m.get::<i64, _>(3),
                        "waiting_ms": now - m.get::<i64, _>(3), "owner": c.owner,
                    }))
                }
                None => None,
            };
            Ok(json!({
                "now": now,
                "agents": rows,
                "sites": sites.iter().map(|(name, (open, cap, risk, online))| json!({
                    "name": name, "open": open, "capacity": cap, "at_risk": risk, "online": online,
                })).collect::<Vec<_>>(),
                "queue": {
                    "depth": queue.len(),
                    "oldest_at": queue.iter().map(|c| c.opened_at).min(),
                    "age_ms": queue.iter().map(|c| c.opened_at).min().map(|t| now - t),
                    "at_risk": queue.iter().filter(|c| at_risk(c)).count(),
                    "reasons": reasons.iter().map(|(r, n)| json!({"reason": r, "count": n})).collect::<Vec<_>>(),
                    "cases": queue.iter().take(50).map(|c| json!({
                        "id": c.id, "status": c.status, "sla": c.sla, "track": c.track, "customer": c.customer,
                        "opened_at": c.opened_at, "queue_reason": c.queue_reason, "drill": c.drill,
                    })).collect::<Vec<_>>(),
                },
                "open": open.len(),
                "at_risk": open.iter().filter(|c| at_risk(c)).count(),
                "oldest_waiting": oldest,
            }))
        })
    }
}

dual! {
    @import crate::store::care;
}
