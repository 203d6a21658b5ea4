//! Persistence of the care workflow (src/care): playbook versions, agents, cases, notes,
//! replies and approvals, and the append-only audit log. Every state change is one short
//! transaction on the writer that also writes its audit row, so the log never misses a change
//! that happened, and never shows one that did not.

use std::collections::HashMap;

use serde::Serialize;
use serde_json::{json, Value};
use sqlx::Row;

use super::{Store, StoreError};
use crate::auth::{Principal, Role};
use crate::care::{Agent, CareError, Playbook, OPEN_STATUSES};

/// Advisory lock key of care writes on PostgreSQL ("care").
pub(crate) const CARE_LOCK: i64 = 0x63617265;

dual! {
    /// Starts a care transaction. On PostgreSQL several processes (sites) write at once, and
    /// care's read-then-write steps (next playbook version, capacity counts, approvals) must
    /// not interleave: care writes take one advisory lock, as SQLite's single writer does.
    pub(crate) async fn begin(c: &mut Conn) -> Result<(), sqlx::Error> {
        sqlx::query(BEGIN_SQL).execute(&mut *c).await?;
        if PG {
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(super::CARE_LOCK)
                .execute(&mut *c)
                .await?;
        }
        Ok(())
    }

    pub(crate) async fn end<T>(
        c: &mut Conn,
        r: Result<T, CareError>,
    ) -> Result<T, CareError> {
        match r {
            Ok(v) => {
                sqlx::query("COMMIT").execute(&mut *c).await?;
                Ok(v)
            }
            Err(e) => {
                let _ = sqlx::query("ROLLBACK").execute(&mut *c).await;
                Err(e)
            }
        }
    }

    /// Appends to the audit log (inside the caller's transaction).
    pub(crate) async fn audit(
        c: &mut Conn,
        at: i64,
        actor: &str,
        action: &str,
        case_id: Option<i64>,
        detail: Value,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO care_audit (at, actor, action, case_id, detail) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(at)
        .bind(actor)
        .bind(action)
        .bind(case_id)
        .bind(detail.to_string())
        .execute(&mut *c)
        .await?;
        Ok(())
    }

    pub(crate) fn case_row(r: &DbRow, now: i64) -> Result<CaseRow, sqlx::Error> {
        let status: String = r.try_get(1)?;
        let first_response_at: Option<i64> = r.try_get(18)?;
        let first_due: i64 = r.try_get(24)?;
        let next_due: Option<i64> = r.try_get(25)?;
        let warn_at: i64 = r.try_get(27)?;
        let sla = sla_state(
            &status,
            first_response_at,
            first_due,
            warn_at,
            next_due,
            now,
        )
        .to_string();
        Ok(CaseRow {
            id: r.try_get(0)?,
            status,
            track: r.try_get(2)?,
            site: r.try_get(3)?,
            owner: r.try_get(4)?,
            queue_reason: r.try_get(5)?,
            customer: r.try_get(6)?,
            channel: r.try_get(7)?,
            brand: r.try_get(8)?,
            topic: r.try_get(9)?,
            conversation: r.try_get(10)?,
            rule: r.try_get(11)?,
            playbook_version: r.try_get(12)?,
            drill: r.try_get::<i64, _>(13)? != 0,
            tags: json_list(&r.try_get::<String, _>(14)?),
            flags: json_list(&r.try_get::<String, _>(15)?),
            opened_at: r.try_get(16)?,
            assigned_at: r.try_get(17)?,
            first_response_at,
            last_response_at: r.try_get(19)?,
            last_customer_at: r.try_get(20)?,
            resolved_at: r.try_get(21)?,
            closed_at: r.try_get(22)?,
            follow_up_at: r.try_get(23)?,
            first_due,
            next_due,
            resolution_due: r.try_get(26)?,
            warn_at,
            sla,
        })
    }

    pub(crate) async fn get_case(
        c: &mut Conn,
        id: i64,
        now: i64,
    ) -> Result<CaseRow, CareError> {
        let row = sqlx::query(&format!(
            "SELECT {CASE_COLUMNS} FROM care_cases WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&mut *c)
        .await?
        .ok_or_else(|| CareError::NotFound(format!("no case {id}; see `sunward cases list`")))?;
        Ok(case_row(&row, now)?)
    }

    pub(crate) fn agent_row(r: &DbRow) -> Result<Agent, sqlx::Error> {
        Ok(Agent {
            name: r.try_get(0)?,
            role: r.try_get(1)?,
            skills: json_list(&r.try_get::<String, _>(2)?),
            capacity: r.try_get(3)?,
            presence: r.try_get(4)?,
            site: r.try_get(5)?,
            links: json_list(&r.try_get::<String, _>(6)?),
        })
    }

    pub(crate) async fn load_agents(c: &mut Conn) -> Result<Vec<Agent>, sqlx::Error> {
        sqlx::query(&format!(
            "SELECT {AGENT_COLUMNS} FROM care_agents ORDER BY name"
        ))
        .fetch_all(&mut *c)
        .await?
        .iter()
        .map(agent_row)
        .collect()
    }

    /// Open cases per owner.
    pub(crate) async fn open_counts(
        c: &mut Conn,
    ) -> Result<HashMap<String, i64>, sqlx::Error> {
        let rows = sqlx::query(&format!(
            "SELECT owner, COUNT(*) FROM care_cases WHERE owner IS NOT NULL AND status IN ({}) GROUP BY owner",
            open_list_sql()
        ))
        .fetch_all(&mut *c)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect()
    }

    /// Makes `agent` the owner of case `id` (status assigned unless already answered).
    pub(crate) async fn set_owner(
        c: &mut Conn,
        id: i64,
        agent: &str,
        now: i64,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE care_cases SET owner = $1, queue_reason = NULL, assigned_at = $2, updated_at = $2, \
             status = CASE WHEN status = 'new' THEN 'assigned' ELSE status END WHERE id = $3",
        )
        .bind(agent)
        .bind(now)
        .bind(id)
        .execute(&mut *c)
        .await?;
        Ok(())
    }

    pub(crate) fn reply_row(r: &DbRow) -> Result<ReplyRow, sqlx::Error> {
        Ok(ReplyRow {
            id: r.try_get(0)?,
            case_id: r.try_get(1)?,
            author: r.try_get(2)?,
            text: r.try_get(3)?,
            via: r.try_get(4)?,
            grant: r.try_get::<i64, _>(5)? as f64 / 100.0,
            status: r.try_get(6)?,
            needed: r.try_get(7)?,
            approvals: serde_json::from_str(&r.try_get::<String, _>(8)?).unwrap_or(json!([])),
            flags: json_list(&r.try_get::<String, _>(9)?),
            reason: r.try_get(10)?,
            external: r.try_get::<i64, _>(11)? != 0,
            created_at: r.try_get(12)?,
            sent_at: r.try_get(13)?,
        })
    }

    /// Mark a case's reply as sent: first/last response times, status, SLA of the next response.
    pub(crate) async fn mark_response(
        c: &mut Conn,
        case_id: i64,
        at: i64,
        now: i64,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE care_cases SET first_response_at = COALESCE(first_response_at, $1), last_response_at = $1, \
             next_due = NULL, updated_at = $2, \
             status = CASE WHEN status IN ('new', 'assigned') THEN 'responded' ELSE status END WHERE id = $3",
        )
        .bind(at)
        .bind(now)
        .bind(case_id)
        .execute(&mut *c)
        .await?;
        Ok(())
    }

    /// In one care transaction: the latest playbook, unless `keep(latest)` says to store
    /// `text` as the next version (audited). Returns the version and text now current.
    pub(crate) async fn store_playbook(
        w: &mut Conn,
        text: &str,
        by: &str,
        now: i64,
        keep: fn(&str, &str) -> bool,
    ) -> Result<(i64, String), StoreError> {
        begin(w).await?;
        let r: Result<(i64, String), CareError> = async {
            let last = sqlx::query(
                "SELECT version, text FROM care_playbooks ORDER BY version DESC LIMIT 1",
            )
            .fetch_optional(&mut *w)
            .await?;
            if let Some(r) = &last {
                let (v, current): (i64, String) = (r.try_get(0)?, r.try_get(1)?);
                if keep(&current, text) {
                    return Ok((v, current));
                }
            }
            let v: i64 = sqlx::query(
                "INSERT INTO care_playbooks (text, changed_by, changed_at) VALUES ($1, $2, $3) RETURNING version",
            )
            .bind(text)
            .bind(by)
            .bind(now)
            .fetch_one(&mut *w)
            .await?
            .try_get(0)?;
            audit(w, now, by, "playbook", None, json!({ "version": v, "bytes": text.len() }))
                .await?;
            Ok((v, text.to_string()))
        }
        .await;
        end(w, r).await.map_err(|e| match e {
            CareError::Store(e) => e,
            other => StoreError::Sql(sqlx::Error::Protocol(other.to_string())),
        })
    }
}

pub(crate) fn json_list(s: &str) -> Vec<String> {
    serde_json::from_str(s).unwrap_or_default()
}

pub(crate) fn open_list_sql() -> String {
    OPEN_STATUSES
        .iter()
        .map(|s| format!("'{s}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[derive(Debug, Clone, Serialize)]
pub struct CaseRow {
    pub id: i64,
    pub status: String,
    pub track: String,
    pub site: String,
    pub owner: Option<String>,
    pub queue_reason: Option<String>,
    pub customer: String,
    pub channel: String,
    pub brand: Option<String>,
    pub topic: Option<String>,
    pub conversation: String,
    pub rule: String,
    pub playbook_version: i64,
    pub drill: bool,
    pub tags: Vec<String>,
    pub flags: Vec<String>,
    pub opened_at: i64,
    pub assigned_at: Option<i64>,
    pub first_response_at: Option<i64>,
    pub last_response_at: Option<i64>,
    pub last_customer_at: i64,
    pub resolved_at: Option<i64>,
    pub closed_at: Option<i64>,
    pub follow_up_at: Option<i64>,
    pub first_due: i64,
    pub next_due: Option<i64>,
    pub resolution_due: i64,
    pub warn_at: i64,
    /// ok, warning, breached (first response still due), met or missed (answered).
    pub sla: String,
}

pub(crate) const CASE_COLUMNS: &str = "id, status, track, site, owner, queue_reason, customer, channel, brand, topic, \
    conversation, rule, playbook_version, drill, tags, flags, opened_at, assigned_at, first_response_at, \
    last_response_at, last_customer_at, resolved_at, closed_at, follow_up_at, first_due, next_due, \
    resolution_due, warn_at";

pub(crate) fn sla_state(
    status: &str,
    first_response_at: Option<i64>,
    first_due: i64,
    warn_at: i64,
    next_due: Option<i64>,
    now: i64,
) -> &'static str {
    let open = OPEN_STATUSES.contains(&status);
    match first_response_at {
        None if !open => "ok",
        None if now > first_due => "breached",
        None if now >= warn_at => "warning",
        None => "ok",
        Some(t) => match next_due {
            Some(d) if open && now > d => "breached",
            _ if t <= first_due => "met",
            _ => "missed",
        },
    }
}

pub(crate) const AGENT_COLUMNS: &str = "name, role, skills, capacity, presence, site, links";

#[derive(Debug, Clone, Serialize)]
pub struct ReplyRow {
    pub id: i64,
    pub case_id: i64,
    pub author: String,
    pub text: String,
    pub via: String,
    pub grant: f64,
    pub status: String,
    pub needed: i64,
    pub approvals: Value,
    pub flags: Vec<String>,
    pub reason: Option<String>,
    pub external: bool,
    pub created_at: i64,
    pub sent_at: Option<i64>,
}

const REPLY_COLUMNS: &str = "id, case_id, author, text, via, grant_cents, status, needed, approvals, flags, reason, external, created_at, sent_at";

#[derive(Debug, Clone, Serialize)]
pub struct AuditRow {
    pub id: i64,
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub case_id: Option<i64>,
    pub detail: Value,
}

/// A filter for `cases.list`.
#[derive(Debug, Clone, Default)]
pub struct CaseFilter {
    pub status: Option<String>,
    pub owner: Option<String>,
    /// Only unowned open cases (the queue).
    pub queue: bool,
    /// Open statuses only.
    pub open: bool,
    pub limit: i64,
}

/// A reply an agent writes.
#[derive(Debug, Clone)]
pub struct NewReply {
    pub case_id: i64,
    pub text: String,
    pub via: String,
    pub grant_cents: i64,
}

/// An approver's decision on a pending reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Approve,
    Edit,
    Reject,
}

const LABELS: [&str; 3] = ["negative", "neutral", "positive"];

fn is_lead(who: &Principal) -> bool {
    matches!(who.role, Role::Lead | Role::Admin)
}

impl Store {
    pub async fn care_playbook_current(&self) -> Result<Option<(i64, String)>, StoreError> {
        on_db!(self, s => {
            let row = sqlx::query(
                "SELECT version, text FROM care_playbooks ORDER BY version DESC LIMIT 1",
            )
            .fetch_optional(s.read_pool())
            .await?;
            Ok(match row {
                Some(r) => Some((r.try_get(0)?, r.try_get(1)?)),
                None => None,
            })
        })
    }

    /// Stores a checked playbook as the next version (and audits it). An unchanged text is not
    /// a new version.
    pub async fn care_playbook_save(
        &self,
        text: &str,
        by: &str,
        now: i64,
    ) -> Result<i64, StoreError> {
        on_db!(self, s => {
            let mut w = s.writer().await?;
            let unchanged = |current: &str, new: &str| current == new;
            Ok(store_playbook(&mut w, text, by, now, unchanged).await?.0)
        })
    }

    /// The current playbook, storing `text` first only if there is none yet, in one
    /// transaction: two tasks (or sites) starting at once never both store a default, and a
    /// playbook a lead set meanwhile is never buried under a late default.
    pub async fn care_playbook_init(
        &self,
        text: &str,
        by: &str,
        now: i64,
    ) -> Result<(i64, String), StoreError> {
        on_db!(self, s => {
            let mut w = s.writer().await?;
            let any = |_: &str, _: &str| true;
            store_playbook(&mut w, text, by, now, any).await
        })
    }

    pub async fn care_playbook_history(&self) -> Result<Vec<Value>, StoreError> {
        on_db!(self, s => {
            let rows = sqlx::query(
                "SELECT version, changed_by, changed_at, CAST(LENGTH(text) AS BIGINT) FROM care_playbooks ORDER BY version DESC",
            )
            .fetch_all(s.read_pool())
            .await?;
            Ok(rows
                .iter()
                .map(|r| {
                    json!({
                        "version": r.get::<i64, _>(0),
                        "changed_by": r.get::<String, _>(1),
                        "changed_at": r.get::<i64, _>(2),
                        "bytes": r.get::<i64, _>(3),
                    })
                })
                .collect())
        })
    }

    pub async fn care_agents(&self) -> Result<Vec<Agent>, StoreError> {
        on_db!(self, s => {
            let mut c = s.read_pool().acquire().await?;
            Ok(load_agents(&mut c).await?)
        })
    }

    /// The role of a person known to the care workflow (agents table).
    pub async fn care_agent_role(&self, name: &str) -> Result<Option<Role>, StoreError> {
        on_db!(self, s => {
            let r = sqlx::query("SELECT role FROM care_agents WHERE name = $1")
                .bind(name)
                .fetch_optional(s.read_pool())
                .await?;
            Ok(r.and_then(|r| r.get::<String, _>(0).parse().ok()))
        })
    }

    /// Adds or updates an agent (presence kept on update).
    pub async fn care_agent_upsert(&self, a: &Agent, by: &str, now: i64) -> Result<(), CareError> {
        on_db!(self, s => {
            let mut w = s.writer().await?;
            begin(&mut w).await?;
            let r = async {
                sqlx::query(
                    "INSERT INTO care_agents (name, role, skills, capacity, presence, site, links, created_at, presence_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) ON CONFLICT (name) DO UPDATE SET role = excluded.role, \
                     skills = excluded.skills, capacity = excluded.capacity, site = excluded.site, links = excluded.links",
                )
                .bind(&a.name)
                .bind(&a.role)
                .bind(serde_json::to_string(&a.skills).unwrap_or_else(|_| "[]".into()))
                .bind(a.capacity)
                .bind(&a.presence)
                .bind(&a.site)
                .bind(serde_json::to_string(&a.links).unwrap_or_else(|_| "[]".into()))
                .bind(now)
                .execute(&mut *w)
                .await?;
                audit(&mut w, now, by, "agent", None, json!({ "agent": a })).await?;
                Ok(())
            }
            .await;
            end(&mut w, r).await
        })
    }

    /// Sets presence. Agents set their own; leads and admins anyone's.
    pub async fn care_agent_presence(
        &self,
        who: &Principal,
        name: &str,
        presence: &str,
        now: i64,
    ) -> Result<(), CareError> {
        if name != who.name && !is_lead(who) {
            return Err(CareError::Forbidden(format!(
                "`{}` may set only their own presence; a lead can set `{name}`'s",
                who.name
            )));
        }
        on_db!(self, s => {
            let mut w = s.writer().await?;
            begin(&mut w).await?;
            let r = async {
                let n = sqlx::query(
                    "UPDATE care_agents SET presence = $1, presence_at = $2 WHERE name = $3",
                )
                .bind(presence)
                .bind(now)
                .bind(name)
                .execute(&mut *w)
                .await?
                .rows_affected();
                if n == 0 {
                    return Err(CareError::NotFound(format!(
                        "no agent `{name}`; add one with `sunward agents add`"
                    )));
                }
                audit(
                    &mut w,
                    now,
                    &who.name,
                    "presence",
                    None,
                    json!({ "agent": name, "presence": presence }),
                )
                .await?;
                Ok(())
            }
            .await;
            end(&mut w, r).await
        })
    }

    pub async fn care_cases(&self, f: &CaseFilter, now: i64) -> Result<Vec<CaseRow>, StoreError> {
        on_db!(self, s => {
            let mut sql = format!("SELECT {CASE_COLUMNS} FROM care_cases WHERE 1 = 1");
            if f.status.is_some() {
                sql.push_str(" AND status = $1");
            }
            if f.owner.is_some() {
                sql.push_str(" AND owner = $2");
            }
            if f.queue {
                sql.push_str(" AND owner IS NULL");
            }
            if f.queue || f.open {
                sql.push_str(&format!(" AND status IN ({})", open_list_sql()));
            }
            sql.push_str(" ORDER BY opened_at DESC, id DESC LIMIT $3");
            let rows = sqlx::query(&sql)
                .bind(f.status.clone().unwrap_or_default())
                .bind(f.owner.clone().unwrap_or_default())
                .bind(f.limit.clamp(1, 10_000))
                .fetch_all(s.read_pool())
                .await?;
            Ok(rows
                .iter()
                .map(|r| case_row(r, now))
                .collect::<Result<_, _>>()?)
        })
    }

    /// A case with its linked mentions, replies, notes, the customer's other cases and recent
    /// posts on any channel, and its audit trail.
    pub async fn care_case_detail(&self, id: i64, now: i64) -> Result<Value, CareError> {
        on_db!(self, s => {
            let mut c = s.read_pool().acquire().await.map_err(StoreError::Sql)?;
            let case = get_case(&mut c, id, now).await?;
            let mentions = sqlx::query(
                "SELECT m.id, m.source, m.source_id, m.channel, m.created_at, m.text, m.author_handle, m.label, t.outcome \
                 FROM care_triage t JOIN mentions m ON m.id = t.mention_id WHERE t.case_id = $1 ORDER BY m.created_at",
            )
            .bind(id)
            .fetch_all(&mut *c)
            .await?;
            let mention = |r: &DbRow| {
                json!({
                    "id": r.get::<i64, _>(0), "source": r.get::<String, _>(1), "source_id": r.get::<String, _>(2),
                    "channel": r.get::<String, _>(3), "created_at": r.get::<i64, _>(4), "text": r.get::<String, _>(5),
                    "author": r.get::<Option<String>, _>(6),
                    "label": LABELS[r.get::<i64, _>(7).clamp(0, 2) as usize],
                })
            };
            let linked: Vec<Value> = mentions
                .iter()
                .map(|r| {
                    let mut v = mention(r);
                    v["outcome"] = json!(r.get::<String, _>(8));
                    v
                })
                .collect();
            let history = sqlx::query(
                "SELECT id, source, source_id, channel, created_at, text, author_handle, label FROM mentions \
                 WHERE author_handle = $1 ORDER BY created_at DESC LIMIT 30",
            )
            .bind(&case.customer)
            .fetch_all(&mut *c)
            .await?;
            let history: Vec<Value> = history.iter().map(mention).collect();
            let replies = sqlx::query(&format!(
                "SELECT {REPLY_COLUMNS} FROM care_replies WHERE case_id = $1 ORDER BY id"
            ))
            .bind(id)
            .fetch_all(&mut *c)
            .await?
            .iter()
            .map(reply_row)
            .collect::<Result<Vec<_>, _>>()?;
            let notes = sqlx::query("SELECT id, author, text, at FROM care_notes WHERE case_id = $1 ORDER BY id")
                .bind(id)
                .fetch_all(&mut *c)
                .await?
                .iter()
                .map(|r| json!({"id": r.get::<i64, _>(0), "author": r.get::<String, _>(1), "text": r.get::<String, _>(2), "at": r.get::<i64, _>(3)}))
                .collect::<Vec<_>>();
            let others = sqlx::query(
                "SELECT id, status, track, opened_at, channel FROM care_cases WHERE customer = $1 AND id <> $2 ORDER BY opened_at DESC LIMIT 20",
            )
            .bind(&case.customer)
            .bind(id)
            .fetch_all(&mut *c)
            .await?
            .iter()
            .map(|r| json!({"id": r.get::<i64, _>(0), "status": r.get::<String, _>(1), "track": r.get::<String, _>(2), "opened_at": r.get::<i64, _>(3), "channel": r.get::<String, _>(4)}))
            .collect::<Vec<_>>();
            let audit = self.care_audit(Some(id), 0, 200).await?;
            Ok(json!({
                "case": case, "mentions": linked, "replies": replies, "notes": notes,
                "history": history, "other_cases": others, "audit": audit,
            }))
        })
    }

    /// Moves cases to `agent` (shift lead, single or bulk). All or nothing: an unknown agent, a
    /// closed case or going over the agent's capacity changes nothing.
    pub async fn care_assign(
        &self,
        who: &Principal,
        ids: &[i64],
        agent: &str,
        now: i64,
    ) -> Result<Vec<i64>, CareError> {
        on_db!(self, s => {
            let mut w = s.writer().await?;
            begin(&mut w).await?;
            let r = async {
                let agents = load_agents(&mut w).await?;
                let a = agents.iter().find(|a| a.name == agent).ok_or_else(|| {
                    CareError::NotFound(format!(
                        "no agent `{agent}`; see `sunward agents list`"
                    ))
                })?;
                let open = open_counts(&mut w).await?;
                let mut moving = Vec::new();
                for &id in ids {
                    let case = get_case(&mut w, id, now).await?;
                    if !OPEN_STATUSES.contains(&case.status.as_str()) {
                        return Err(CareError::Conflict(format!(
                            "case {id} is {}; only open cases can be moved",
                            case.status
                        )));
                    }
                    if case.owner.as_deref() != Some(agent) {
                        moving.push(case);
                    }
                }
                let have = open.get(agent).copied().unwrap_or(0);
                if have + moving.len() as i64 > a.capacity {
                    return Err(CareError::Conflict(format!(
                        "`{agent}` has {have} of {} open cases; {} more would exceed the capacity. Nothing was moved",
                        a.capacity,
                        moving.len()
                    )));
                }
                for case in &moving {
                    set_owner(&mut w, case.id, agent, now).await?;
                    audit(&mut w, now, &who.name, "reassign", Some(case.id), json!({ "from": case.owner, "to": agent }))
                        .await?;
                }
                Ok(moving.iter().map(|c| c.id).collect())
            }
            .await;
            end(&mut w, r).await
        })
    }

    /// An agent takes a case. One owner at a time: someone else's case is a conflict naming them.
    pub async fn care_claim(&self, who: &Principal, id: i64, now: i64) -> Result<(), CareError> {
        on_db!(self, s => {
            let mut w = s.writer().await?;
            begin(&mut w).await?;
            let r = async {
                let case = get_case(&mut w, id, now).await?;
                match &case.owner {
                    Some(o) if o == &who.name => return Ok(()),
                    Some(o) => {
                        return Err(CareError::Conflict(format!(
                            "case {id} is owned by `{o}`, who is on it; a lead can move it"
                        )))
                    }
                    None => {}
                }
                if !OPEN_STATUSES.contains(&case.status.as_str()) {
                    return Err(CareError::Conflict(format!("case {id} is {}", case.status)));
                }
                set_owner(&mut w, id, &who.name, now).await?;
                audit(&mut w, now, &who.name, "claim", Some(id), json!({})).await?;
                Ok(())
            }
            .await;
            end(&mut w, r).await
        })
    }

    /// Writes a reply. Tracks that need approval, grants above the playbook's limits and grants
    /// to a customer linked to the agent wait for approvers; anything else is sent at once.
    pub async fn care_reply(
        &self,
        pb: &Playbook,
        who: &Principal,
        r: &NewReply,
        now: i64,
    ) -> Result<ReplyRow, CareError> {
        on_db!(self, s => {
            let mut w = s.writer().await?;
            begin(&mut w).await?;
            let res = async {
                let case = get_case(&mut w, r.case_id, now).await?;
                match &case.owner {
                    Some(o) if o != &who.name && !is_lead(who) => {
                        return Err(CareError::Conflict(format!(
                            "case {} is owned by `{o}`; only the owner (or a lead) replies",
                            case.id
                        )))
                    }
                    None => {
                        set_owner(&mut w, case.id, &who.name, now).await?;
                        audit(&mut w, now, &who.name, "claim", Some(case.id), json!({ "by_reply": true })).await?;
                    }
                    _ => {}
                }
                if case.status == "closed" {
                    return Err(CareError::Conflict(format!("case {} is closed", case.id)));
                }
                let track = pb.track(&case.track);
                if track.is_some_and(|t| t.private_reply) && r.via == "public" {
                    return Err(CareError::BadArgs(format!(
                        "track `{}` moves the conversation off the public channel: reply via dm or email",
                        case.track
                    )));
                }
                let grant = r.grant_cents as f64 / 100.0;
                let linked = load_agents(&mut w)
                    .await?
                    .iter()
                    .find(|a| a.name == who.name)
                    .is_some_and(|a| {
                        a.links.iter().any(|l| l.trim_start_matches('@').eq_ignore_ascii_case(case.customer.trim_start_matches('@')))
                    })
                    || who.name.eq_ignore_ascii_case(case.customer.trim_start_matches('@'));
                let mut flags = Vec::new();
                let mut needed = 0;
                if track.is_some_and(|t| t.needs_approval) {
                    needed = 1;
                }
                if r.grant_cents > 0 {
                    if grant > pb.approval_above {
                        needed = needed.max(1);
                    }
                    if grant > pb.second_approval_above {
                        needed = 2;
                        flags.push("above_second_approval_limit".to_string());
                    }
                    if linked {
                        needed = 2;
                        flags.push("agent_customer_linked".to_string());
                    }
                }
                let status = if needed == 0 { "sent" } else { "pending" };
                let id: i64 = sqlx::query(
                    "INSERT INTO care_replies (case_id, author, text, via, grant_cents, status, needed, flags, created_at, sent_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
                )
                .bind(case.id)
                .bind(&who.name)
                .bind(&r.text)
                .bind(&r.via)
                .bind(r.grant_cents)
                .bind(status)
                .bind(needed)
                .bind(serde_json::to_string(&flags).unwrap_or_else(|_| "[]".into()))
                .bind(now)
                .bind((needed == 0).then_some(now))
                .fetch_one(&mut *w)
                .await?
                .try_get(0)?;
                let detail = json!({ "reply": id, "via": r.via, "grant": grant, "needed": needed, "flags": flags });
                audit(&mut w, now, &who.name, if needed == 0 { "reply" } else { "reply_for_approval" }, Some(case.id), detail.clone()).await?;
                if r.grant_cents > 0 {
                    audit(&mut w, now, &who.name, "grant", Some(case.id), detail).await?;
                }
                if needed == 0 {
                    mark_response(&mut w, case.id, now, now).await?;
                }
                let row = sqlx::query(&format!("SELECT {REPLY_COLUMNS} FROM care_replies WHERE id = $1"))
                    .bind(id)
                    .fetch_one(&mut *w)
                    .await?;
                Ok(reply_row(&row)?)
            }
            .await;
            end(&mut w, res).await
        })
    }

    /// Approve, edit (approve with a new text) or reject a pending reply. Nobody approves their
    /// own reply; a second approval must come from a different person; the approver's role
    /// must be one the track names (admins always may).
    #[allow(clippy::too_many_arguments)]
    pub async fn care_decide(
        &self,
        pb: &Playbook,
        who: &Principal,
        reply_id: i64,
        decision: Decision,
        text: Option<&str>,
        reason: Option<&str>,
        now: i64,
    ) -> Result<ReplyRow, CareError> {
        on_db!(self, s => {
            let mut w = s.writer().await?;
            begin(&mut w).await?;
            let res = async {
                let row = sqlx::query(&format!("SELECT {REPLY_COLUMNS} FROM care_replies WHERE id = $1"))
                    .bind(reply_id)
                    .fetch_optional(&mut *w)
                    .await?
                    .ok_or_else(|| CareError::NotFound(format!("no reply {reply_id}")))?;
                let reply = reply_row(&row)?;
                if reply.status != "pending" {
                    return Err(CareError::Conflict(format!(
                        "reply {reply_id} is {}, not waiting for approval",
                        reply.status
                    )));
                }
                if reply.author == who.name {
                    return Err(CareError::Forbidden(format!(
                        "`{}` wrote reply {reply_id}; nobody approves their own reply",
                        who.name
                    )));
                }
                let mut approvals: Vec<Value> = reply.approvals.as_array().cloned().unwrap_or_default();
                if approvals.iter().any(|a| a["name"] == json!(who.name)) {
                    return Err(CareError::Conflict(format!(
                        "`{}` already approved reply {reply_id}; it needs a different second approver",
                        who.name
                    )));
                }
                let case = get_case(&mut w, reply.case_id, now).await?;
                let roles: Vec<String> = match pb.track(&case.track) {
                    Some(t) if t.needs_approval => t.approver_roles.clone(),
                    _ => vec!["lead".into(), "exec".into()],
                };
                if who.role != Role::Admin && !roles.iter().any(|r| r == who.role.as_str()) {
                    return Err(CareError::Forbidden(format!(
                        "replies on track `{}` are approved by {}; `{}` is {}",
                        case.track,
                        roles.join(" or "),
                        who.name,
                        who.role
                    )));
                }
                match decision {
                    Decision::Reject => {
                        let reason = reason.filter(|r| !r.trim().is_empty()).ok_or_else(|| {
                            CareError::BadArgs("a rejection needs a reason the agent can act on".into())
                        })?;
                        sqlx::query("UPDATE care_replies SET status = 'rejected', reason = $1 WHERE id = $2")
                            .bind(reason)
                            .bind(reply_id)
                            .execute(&mut *w)
                            .await?;
                        audit(&mut w, now, &who.name, "reject", Some(case.id), json!({ "reply": reply_id, "reason": reason }))
                            .await?;
                    }
                    Decision::Approve | Decision::Edit => {
                        let edited = decision == Decision::Edit;
                        if edited {
                            let t = text.filter(|t| !t.trim().is_empty()).ok_or_else(|| {
                                CareError::BadArgs("edit needs the new text".into())
                            })?;
                            sqlx::query("UPDATE care_replies SET text = $1 WHERE id = $2")
                                .bind(t)
                                .bind(reply_id)
                                .execute(&mut *w)
                                .await?;
                        }
                        approvals.push(json!({ "name": who.name, "role": who.role, "at": now, "edited": edited }));
                        let done = approvals.len() as i64 >= reply.needed;
                        sqlx::query("UPDATE care_replies SET approvals = $1, status = $2, sent_at = $3, reason = $4 WHERE id = $5")
                            .bind(Value::Array(approvals.clone()).to_string())
                            .bind(if done { "sent" } else { "pending" })
                            .bind(done.then_some(now))
                            .bind(reason)
                            .bind(reply_id)
                            .execute(&mut *w)
                            .await?;
                        audit(
                            &mut w,
                            now,
                            &who.name,
                            if edited { "approve_edited" } else { "approve" },
                            Some(case.id),
                            json!({ "reply": reply_id, "approvals": approvals.len(), "needed": reply.needed, "grant": reply.grant, "reason": reason }),
                        )
                        .await?;
                        if done {
                            mark_response(&mut w, case.id, now, now).await?;
                        }
                    }
                }
                let row = sqlx::query(&format!("SELECT {REPLY_COLUMNS} FROM care_replies WHERE id = $1"))
                    .bind(reply_id)
                    .fetch_one(&mut *w)
                    .await?;
                Ok(reply_row(&row)?)
            }
            .await;
            end(&mut w, res).await
        })
    }

    /// Replies waiting for approval (newest first).
    pub async fn care_pending_replies(&self) -> Result<Vec<ReplyRow>, StoreError> {
        on_db!(self, s => {
            Ok(sqlx::query(&format!(
                "SELECT {REPLY_COLUMNS} FROM care_replies WHERE status = 'pending' ORDER BY id DESC LIMIT 200"
            ))
            .fetch_all(s.read_pool())
            .await?
            .iter()
            .map(reply_row)
            .collect::<Result<_, _>>()?)
        })
    }

    /// Internal note, tags or a status change (waiting, resolved, closed) by the owner or a lead.
    pub async fn care_update(
        &self,
        pb: &Playbook,
        who: &Principal,
        id: i64,
        change: CaseChange,
        now: i64,
    ) -> Result<CaseRow, CareError> {
        on_db!(self, s => {
            let mut w = s.writer().await?;
            begin(&mut w).await?;
            let res = async {
                let case = get_case(&mut w, id, now).await?;
                if let Some(o) = &case.owner {
                    if o != &who.name && !is_lead(who) && !matches!(change, CaseChange::Note(_)) {
                        return Err(CareError::Conflict(format!(
                            "case {id} is owned by `{o}`; only the owner (or a lead) changes it"
                        )));
                    }
                }
                match &change {
                    CaseChange::Note(text) => {
                        sqlx::query("INSERT INTO care_notes (case_id, author, text, at) VALUES ($1, $2, $3, $4)")
                            .bind(id)
                            .bind(&who.name)
                            .bind(text)
                            .bind(now)
                            .execute(&mut *w)
                            .await?;
                    }
                    CaseChange::Tags { add, remove } => {
                        let mut tags = case.tags.clone();
                        for t in add {
                            if !tags.contains(t) {
                                tags.push(t.clone());
                            }
                        }
                        tags.retain(|t| !remove.contains(t));
                        sqlx::query("UPDATE care_cases SET tags = $1, updated_at = $2 WHERE id = $3")
                            .bind(serde_json::to_string(&tags).unwrap_or_else(|_| "[]".into()))
                            .bind(now)
                            .bind(id)
                            .execute(&mut *w)
                            .await?;
                    }
                    CaseChange::Status(st) => {
                        let follow = (st == "resolved").then_some(now + pb.follow_up_after_ms);
                        if case.status == "closed" {
                            return Err(CareError::Conflict(format!("case {id} is closed")));
                        }
                        sqlx::query(
                            "UPDATE care_cases SET status = $1, updated_at = $2, \
                             resolved_at = CASE WHEN $1 = 'resolved' THEN $2 ELSE resolved_at END, \
                             closed_at = CASE WHEN $1 = 'closed' THEN $2 ELSE closed_at END, \
                             follow_up_at = COALESCE($3, follow_up_at) WHERE id = $4",
                        )
                        .bind(st)
                        .bind(now)
                        .bind(follow)
                        .bind(id)
                        .execute(&mut *w)
                        .await?;
                        audit(&mut w, now, &who.name, st, Some(id), json!({ "from": case.status })).await?;
                    }
                }
                get_case(&mut w, id, now).await
            }
            .await;
            end(&mut w, res).await
        })
    }

    /// The audit log, oldest first, optionally of one case.
    pub async fn care_audit(
        &self,
        case_id: Option<i64>,
        since: i64,
        limit: i64,
    ) -> Result<Vec<AuditRow>, StoreError> {
        on_db!(self, s => {
            let rows = sqlx::query(
                "SELECT id, at, actor, action, case_id, detail FROM care_audit \
                 WHERE ($1 IS NULL OR case_id = $1) AND at >= $2 ORDER BY id LIMIT $3",
            )
            .bind(case_id)
            .bind(since)
            .bind(limit.clamp(1, 1_000_000))
            .fetch_all(s.read_pool())
            .await?;
            Ok(rows
                .iter()
                .map(|r| AuditRow {
                    id: r.get(0),
                    at: r.get(1),
                    actor: r.get(2),
                    action: r.get(3),
                    case_id: r.get(4),
                    detail: serde_json::from_str(&r.get::<String, _>(5)).unwrap_or(Value::Null),
                })
                .collect())
        })
    }

    /// Drill hook (issue 6): see [`crate::care::first_approved_response_after`].
    pub async fn care_first_response_after(
        &self,
        source_prefix: &str,
        since: i64,
    ) -> Result<Option<i64>, StoreError> {
        on_db!(self, s => {
            let r = sqlx::query(
                "SELECT MIN(r.sent_at) FROM care_replies r JOIN care_cases c ON c.id = r.case_id \
                 WHERE r.status = 'sent' AND r.sent_at >= $1 AND c.drill = 1 AND EXISTS ( \
                   SELECT 1 FROM care_triage t WHERE t.case_id = c.id AND t.outcome = 'open' AND SUBSTR(t.source, 1, LENGTH($2)) = $2)",
            )
            .bind(since)
            .bind(source_prefix)
            .fetch_one(s.read_pool())
            .await?;
            Ok(r.try_get(0)?)
        })
    }
}

/// A change to a case other than routing and replies.
#[derive(Debug, Clone)]
pub enum CaseChange {
    Note(String),
    Tags {
        add: Vec<String>,
        remove: Vec<String>,
    },
    /// waiting, resolved or closed.
    Status(String),
}
