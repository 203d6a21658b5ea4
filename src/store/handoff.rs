//! Follow-the-sun handoffs (src/handoff): briefs, their numbered items, and the cases moved
//! between sites. Signing a brief moves the outgoing site's open cases in the same transaction
//! as the signature: every case moves or none does. SLA columns (first_due, next_due,
//! resolution_due, warn_at) are never written here: a handoff does not reset a clock.
//!
//! Which site holds a case: its owner's site (`care_agents.site`) when it has an owner, else
//! `care_cases.center` (set by a move), else the case's track calendar site.

use std::collections::HashMap;

use serde_json::json;
use sqlx::Row;

use super::care::{open_list_sql, CaseRow, CASE_COLUMNS};
use super::{Store, StoreError};
use crate::care::{routing, Agent, CareError, Playbook};
use crate::handoff::model::{
    self, sort_cases, Brief, BriefAlert, BriefCase, Contact, Content, Item, Moved, Watch,
};

/// When a track is not in the playbook any more (bulk moves still need an act-by limit).
const DEFAULT_ACT_MS: i64 = 30 * 60_000;

/// A brief to insert (a draft).
#[derive(Debug, Clone)]
pub struct NewBrief {
    pub from_site: String,
    pub to_site: String,
    pub from_shift: Option<String>,
    pub to_shift: Option<String>,
    pub shift_end: Option<i64>,
    pub content: Content,
    pub notes: String,
    pub watch: Vec<Watch>,
    pub bulk_agent: Option<String>,
    pub contacts: Vec<Contact>,
    pub escalate_after_ms: i64,
    pub created_by: String,
}

/// What to move and where.
#[derive(Debug, Clone, Default)]
pub struct MovePlan {
    pub from: String,
    pub to: String,
    /// Every case to this agent of `to` instead of routing.
    pub agent: Option<String>,
    /// Only these cases (they must be open cases held by `from`).
    pub ids: Option<Vec<i64>>,
    /// At most this many (the soonest breaching first).
    pub limit: Option<usize>,
    pub by: String,
    pub brief_id: Option<i64>,
}

/// What a move did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Transfer {
    pub moved: Vec<Moved>,
    /// Cases that stayed with an agent who is finishing then away.
    pub kept: Vec<i64>,
    /// The moved and kept cases after the move.
    #[serde(skip)]
    pub cases: Vec<CaseRow>,
}

const BRIEF_COLUMNS: &str = "id, from_site, to_site, from_shift, to_shift, shift_end, status, content, notes, watch, \
    bulk_agent, contacts, escalate_after, escalation_step, escalated_at, created_by, created_at, updated_by, \
    updated_at, signed_by, signed_at, acked_by, acked_at";

/// Runs `body` (a future of `Result<T, E>`) in a transaction on `conn`: committed on `Ok`,
/// rolled back otherwise.
macro_rules! tx {
    ($conn:ident, $begin:expr, $body:expr) => {{
        sqlx::query($begin).execute(&mut *$conn).await?;
        if $begin == "BEGIN" {
            // PostgreSQL, several sites: handoffs move cases that care's routing also assigns,
            // so they take care's lock (src/store/care.rs `begin`).
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(crate::store::care::CARE_LOCK)
                .execute(&mut *$conn)
                .await?;
        }
        let r = $body.await;
        match r {
            Ok(v) => {
                sqlx::query("COMMIT").execute(&mut *$conn).await?;
                Ok(v)
            }
            Err(e) => {
                let _ = sqlx::query("ROLLBACK").execute(&mut *$conn).await;
                Err(e)
            }
        }
    }};
}

dual! {
    @import crate::store::care;










pub(crate) fn parse_json<T: serde::de::DeserializeOwned + Default>(s: &str, what: &str, id: i64) -> T {
    serde_json::from_str(s)
        .map_err(|e| tracing::warn!(brief = id, error = %e, "handoff: unreadable {what}"))
        .unwrap_or_default()
}

pub(crate) fn brief_row(r: &DbRow) -> Result<Brief, sqlx::Error> {
    let id: i64 = r.try_get(0)?;
    Ok(Brief {
        id,
        from_site: r.try_get(1)?,
        to_site: r.try_get(2)?,
        from_shift: r.try_get(3)?,
        to_shift: r.try_get(4)?,
        shift_end: r.try_get(5)?,
        status: r.try_get(6)?,
        content: parse_json(&r.try_get::<String, _>(7)?, "content", id),
        notes: r.try_get(8)?,
        watch: parse_json(&r.try_get::<String, _>(9)?, "watch", id),
        bulk_agent: r.try_get(10)?,
        contacts: parse_json(&r.try_get::<String, _>(11)?, "contacts", id),
        escalate_after_ms: r.try_get(12)?,
        escalation_step: r.try_get(13)?,
        escalated_at: r.try_get(14)?,
        created_by: r.try_get(15)?,
        created_at: r.try_get(16)?,
        updated_by: r.try_get(17)?,
        updated_at: r.try_get(18)?,
        signed_by: r.try_get(19)?,
        signed_at: r.try_get(20)?,
        acked_by: r.try_get(21)?,
        acked_at: r.try_get(22)?,
        items: Vec::new(),
    })
}

pub(crate) fn item_row(r: &DbRow) -> Result<Item, sqlx::Error> {
    Ok(Item {
        n: r.try_get(0)?,
        kind: r.try_get(1)?,
        r#ref: r.try_get(2)?,
        label: r.try_get(3)?,
        acked_by: r.try_get(4)?,
        acked_at: r.try_get(5)?,
    })
}

pub(crate) fn to_text<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".into())
}

/// `c.id, c.status, ...`: the care case columns, qualified for a join with the agents.
pub(crate) fn qualified_case_columns() -> String {
    CASE_COLUMNS
        .split(',')
        .map(|c| format!("c.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Open cases held by `site` (see the module doc), soonest deadline first.
pub(crate) async fn held_cases(
    c: &mut Conn,
    site: &str,
    now: i64,
) -> Result<Vec<CaseRow>, sqlx::Error> {
    let rows = sqlx::query(&format!(
        "SELECT {} FROM care_cases c LEFT JOIN care_agents a ON a.name = c.owner \
         WHERE c.status IN ({}) AND COALESCE(a.site, c.center, c.site) = $1 ORDER BY c.id",
        qualified_case_columns(),
        open_list_sql()
    ))
    .bind(site)
    .fetch_all(&mut *c)
    .await?;
    rows.iter()
        .map(|r| case_row(r, now))
        .collect()
}

pub(crate) async fn brief_in(c: &mut Conn, id: i64) -> Result<Option<Brief>, sqlx::Error> {
    let Some(row) = sqlx::query(&format!(
        "SELECT {BRIEF_COLUMNS} FROM handoff_briefs WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut *c)
    .await?
    else {
        return Ok(None);
    };
    let mut b = brief_row(&row)?;
    b.items = sqlx::query(
        "SELECT n, kind, ref, label, acked_by, acked_at FROM handoff_items WHERE brief_id = $1 ORDER BY n",
    )
    .bind(id)
    .fetch_all(&mut *c)
    .await?
    .iter()
    .map(item_row)
    .collect::<Result<_, _>>()?;
    Ok(Some(b))
}

pub(crate) fn not_found(id: i64) -> CareError {
    CareError::NotFound(format!(
        "id: no handoff brief {id}; see `sunward handoff list`"
    ))
}

/// Who may take cases: roles that reply (legal and exec review, they do not work cases).
pub(crate) fn works_cases(a: &Agent) -> bool {
    matches!(a.role.as_str(), "agent" | "lead" | "admin")
}

/// Moves cases held by `plan.from` to agents of `plan.to` inside the caller's transaction.
/// Every refusal is an error naming the field, and the caller rolls the whole move back.
pub(crate) async fn transfer_in(
    c: &mut Conn,
    pb: &Playbook,
    plan: &MovePlan,
    now: i64,
) -> Result<Transfer, CareError> {
    let agents = load_agents(c).await?;
    let site_of: HashMap<&str, &Agent> = agents.iter().map(|a| (a.name.as_str(), a)).collect();
    let takers: Vec<Agent> = agents
        .iter()
        .filter(|a| a.site == plan.to && works_cases(a))
        .cloned()
        .collect();
    if takers.is_empty() {
        return Err(CareError::BadArgs(format!(
            "to: site `{}` has no agents to take cases; add them with `sunward agents add NAME --site {}`",
            plan.to, plan.to
        )));
    }
    if let Some(name) = &plan.agent {
        let a = site_of.get(name.as_str()).ok_or_else(|| {
            CareError::NotFound(format!(
                "agent: no agent `{name}`; see `sunward agents list`"
            ))
        })?;
        if a.site != plan.to {
            return Err(CareError::BadArgs(format!(
                "agent: `{name}` works at site `{}`, not `{}`; pick an agent of `{}`",
                a.site, plan.to, plan.to
            )));
        }
        if !works_cases(a) {
            return Err(CareError::BadArgs(format!(
                "agent: `{name}` is {} and does not work cases",
                a.role
            )));
        }
    }

    let mut held = held_cases(c, &plan.from, now).await?;
    if let Some(ids) = &plan.ids {
        for id in ids {
            if !held.iter().any(|h| h.id == *id) {
                return Err(CareError::BadArgs(format!(
                    "ids: case {id} is not an open case held by site `{}`",
                    plan.from
                )));
            }
        }
        held.retain(|h| ids.contains(&h.id));
    }
    let mut ordered: Vec<(i64, CaseRow)> = held
        .into_iter()
        .map(|h| (BriefCase::from_row(&h).due, h))
        .collect();
    ordered.sort_by_key(|(due, h)| (*due, h.id));
    // Someone must be there to take what has to move (an empty handoff needs nobody online).
    let must_route = ordered.iter().any(|(_, h)| {
        !h.owner
            .as_deref()
            .and_then(|o| site_of.get(o))
            .is_some_and(|a| a.presence == "finishing")
    });
    if plan.agent.is_none() && must_route && !takers.iter().any(|a| a.presence == "online") {
        return Err(CareError::BadArgs(format!(
            "to: nobody at site `{}` is online to take cases ({}); set presence with `sunward agents presence NAME online` or name one agent",
            plan.to,
            takers
                .iter()
                .take(5)
                .map(|a| format!("{} {}", a.name, a.presence))
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }

    let mut open = open_counts(c).await?;
    let mut out = Transfer::default();
    let mut plan_moves: Vec<(CaseRow, String, i64)> = Vec::new();
    for (_, case) in ordered {
        if plan.limit.is_some_and(|n| plan_moves.len() >= n) {
            break;
        }
        let owner = case.owner.as_deref().and_then(|o| site_of.get(o));
        if owner.is_some_and(|a| a.presence == "finishing") {
            out.kept.push(case.id);
            continue;
        }
        let track = pb.track(&case.track);
        let act_ms = track.map(|t| t.reroute_after_ms).unwrap_or(DEFAULT_ACT_MS);
        let to = match (&plan.agent, track) {
            (Some(a), _) => a.clone(),
            (None, Some(t)) => routing::pick(&takers, &open, t, None).map_err(|reason| {
                CareError::BadArgs(format!(
                    "to: case {} (track `{}`) cannot go to site `{}`: {reason}. Nothing was moved; name one agent with --agent NAME",
                    case.id, case.track, plan.to
                ))
            })?,
            (None, None) => {
                return Err(CareError::BadArgs(format!(
                    "to: case {} is on track `{}`, which the playbook in force no longer has, so it cannot be routed. Nothing was moved; name one agent with --agent NAME",
                    case.id, case.track
                )))
            }
        };
        *open.entry(to.clone()).or_default() += 1;
        if let Some(n) = case.owner.as_ref().and_then(|o| open.get_mut(o)) {
            *n -= 1;
        }
        plan_moves.push((case, to, act_ms));
    }

    let action = if plan.brief_id.is_some() {
        "handoff"
    } else {
        "surge_move"
    };
    for (case, to, act_ms) in &plan_moves {
        set_owner(c, case.id, to, now).await?;
        sqlx::query("UPDATE care_cases SET center = $1 WHERE id = $2")
            .bind(&plan.to)
            .bind(case.id)
            .execute(&mut *c)
            .await?;
        audit(
            c,
            now,
            &plan.by,
            action,
            Some(case.id),
            json!({ "from": case.owner, "to": to, "from_site": plan.from, "to_site": plan.to, "brief": plan.brief_id }),
        )
        .await?;
        let act_by = now + act_ms;
        sqlx::query(
            "INSERT INTO handoff_moves (brief_id, case_id, from_site, to_site, from_owner, to_owner, moved_by, moved_at, act_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(plan.brief_id)
        .bind(case.id)
        .bind(&plan.from)
        .bind(&plan.to)
        .bind(&case.owner)
        .bind(to)
        .bind(&plan.by)
        .bind(now)
        .bind(act_by)
        .execute(&mut *c)
        .await?;
        out.moved.push(Moved {
            case_id: case.id,
            from: case.owner.clone(),
            to: to.clone(),
            act_by,
        });
    }
    for id in out
        .moved
        .iter()
        .map(|m| m.case_id)
        .chain(out.kept.iter().copied())
        .collect::<Vec<_>>()
    {
        out.cases.push(get_case(c, id, now).await?);
    }
    Ok(out)
}

/// Has `owner` done anything on the case since `since` (a reply, a note, any audited action)?
pub(crate) async fn acted(
    c: &mut Conn,
    case_id: i64,
    owner: &str,
    since: i64,
) -> Result<bool, sqlx::Error> {
    let n: i64 = sqlx::query(
        "SELECT (SELECT COUNT(*) FROM care_replies WHERE case_id = $1 AND author = $2 AND created_at >= $3) \
         + (SELECT COUNT(*) FROM care_notes WHERE case_id = $1 AND author = $2 AND at >= $3) \
         + (SELECT COUNT(*) FROM care_audit WHERE case_id = $1 AND actor = $2 AND at >= $3)",
    )
    .bind(case_id)
    .bind(owner)
    .bind(since)
    .fetch_one(&mut *c)
    .await?
    .try_get(0)?;
    Ok(n > 0)
}

pub(crate) async fn set_outcome(
    c: &mut Conn,
    id: i64,
    outcome: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE handoff_moves SET outcome = $1, outcome_at = $2 WHERE id = $3")
        .bind(outcome)
        .bind(now)
        .bind(id)
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// Moves whose new owner had to act by now: acted, re-routed within the site, or overdue.
pub(crate) async fn tick_moves_in(
    c: &mut Conn,
    pb: &Playbook,
    now: i64,
) -> Result<Vec<i64>, CareError> {
    let due = sqlx::query(
        "SELECT id, brief_id, case_id, to_site, to_owner, moved_at, moved_by FROM handoff_moves \
         WHERE outcome = 'pending' AND act_by <= $1 ORDER BY act_by, id",
    )
    .bind(now)
    .fetch_all(&mut *c)
    .await?;
    let mut changed = Vec::new();
    if due.is_empty() {
        return Ok(changed);
    }
    let agents = load_agents(c).await?;
    let mut open = open_counts(c).await?;
    for r in &due {
        let (id, brief_id, case_id, site, owner, moved_at): (
            i64,
            Option<i64>,
            i64,
            String,
            String,
            i64,
        ) = (
            r.try_get(0)?,
            r.try_get(1)?,
            r.try_get(2)?,
            r.try_get(3)?,
            r.try_get(4)?,
            r.try_get(5)?,
        );
        let case = get_case(c, case_id, now).await?;
        if !crate::care::OPEN_STATUSES.contains(&case.status.as_str()) {
            set_outcome(c, id, "acted", now).await?;
            continue;
        }
        if case.owner.as_deref() != Some(owner.as_str()) {
            // Someone (a lead, care's own re-route of silent assignees) moved it since.
            set_outcome(c, id, "superseded", now).await?;
            continue;
        }
        if acted(c, case_id, &owner, moved_at).await? {
            set_outcome(c, id, "acted", now).await?;
            continue;
        }
        let takers: Vec<Agent> = agents
            .iter()
            .filter(|a| a.site == site && works_cases(a))
            .cloned()
            .collect();
        let track = pb.track(&case.track);
        let picked = match track {
            Some(t) => routing::pick(&takers, &open, t, Some(&owner)),
            None => Err(format!("track `{}` is not in the playbook", case.track)),
        };
        match picked {
            Ok(to) => {
                set_owner(c, case_id, &to, now).await?;
                *open.entry(to.clone()).or_default() += 1;
                if let Some(n) = open.get_mut(&owner) {
                    *n -= 1;
                }
                audit(
                    c,
                    now,
                    "router",
                    "handoff_reroute",
                    Some(case_id),
                    json!({ "from": owner, "to": to, "site": site, "why": "no action within the track's limit after a handoff" }),
                )
                .await?;
                set_outcome(c, id, "rerouted", now).await?;
                let act_ms = track.map(|t| t.reroute_after_ms).unwrap_or(DEFAULT_ACT_MS);
                sqlx::query(
                    "INSERT INTO handoff_moves (brief_id, case_id, from_site, to_site, from_owner, to_owner, moved_by, moved_at, act_by) \
                     VALUES ($1, $2, $3, $3, $4, $5, 'router', $6, $7)",
                )
                .bind(brief_id)
                .bind(case_id)
                .bind(&site)
                .bind(&owner)
                .bind(&to)
                .bind(now)
                .bind(now + act_ms)
                .execute(&mut *c)
                .await?;
                changed.push(case_id);
            }
            Err(reason) => {
                audit(
                    c,
                    now,
                    "router",
                    "handoff_overdue",
                    Some(case_id),
                    json!({ "owner": owner, "site": site, "reason": reason }),
                )
                .await?;
                set_outcome(c, id, "overdue", now).await?;
                changed.push(case_id);
            }
        }
    }
    Ok(changed)
}


pub(crate) async fn items_in(c: &mut Conn, id: i64) -> Result<Vec<Item>, sqlx::Error> {
    sqlx::query("SELECT n, kind, ref, label, acked_by, acked_at FROM handoff_items WHERE brief_id = $1 ORDER BY n")
        .bind(id)
        .fetch_all(&mut *c)
        .await?
        .iter()
        .map(item_row)
        .collect()
}

pub(crate) async fn get_brief(s: &Backend, id: i64) -> Result<Option<Brief>, StoreError> {
    let mut c = s.read_pool().acquire().await?;
    Ok(brief_in(&mut c, id).await?)
}

pub(crate) async fn site_cases(s: &Backend, site: &str, now: i64) -> Result<Vec<CaseRow>, StoreError> {
    let mut c = s.read_pool().acquire().await?;
    Ok(held_cases(&mut c, site, now).await?)
}

pub(crate) async fn insert(s: &Backend, b: &NewBrief, now: i64) -> Result<i64, StoreError> {
    let mut w = s.writer().await?;
    let id: i64 = sqlx::query(
        "INSERT INTO handoff_briefs (from_site, to_site, from_shift, to_shift, shift_end, status, content, notes, \
         watch, bulk_agent, contacts, escalate_after, created_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, 'draft', $6, $7, $8, $9, $10, $11, $12, $13, $13) RETURNING id",
    )
    .bind(&b.from_site)
    .bind(&b.to_site)
    .bind(&b.from_shift)
    .bind(&b.to_shift)
    .bind(b.shift_end)
    .bind(to_text(&b.content))
    .bind(&b.notes)
    .bind(to_text(&b.watch))
    .bind(&b.bulk_agent)
    .bind(to_text(&b.contacts))
    .bind(b.escalate_after_ms)
    .bind(&b.created_by)
    .bind(now)
    .fetch_one(&mut *w)
    .await?
    .try_get(0)?;
    Ok(id)
}

pub(crate) async fn list(s: &Backend, pending: bool, limit: i64) -> Result<Vec<Brief>, StoreError> {
    let sql = format!(
        "SELECT {BRIEF_COLUMNS} FROM handoff_briefs {} ORDER BY id DESC LIMIT $1",
        if pending { "WHERE status <> 'acknowledged'" } else { "" }
    );
    let mut c = s.read_pool().acquire().await?;
    let rows = sqlx::query(&sql).bind(limit).fetch_all(&mut *c).await?;
    let mut out: Vec<Brief> = rows.iter().map(brief_row).collect::<Result<_, _>>()?;
    for b in &mut out {
        b.items = items_in(&mut c, b.id).await?;
    }
    Ok(out)
}

pub(crate) async fn edit(
    s: &Backend,
    id: i64,
    notes: Option<&str>,
    watch: Option<&[Watch]>,
    bulk_agent: Option<Option<&str>>,
    by: &str,
    now: i64,
) -> Result<Brief, CareError> {
    let mut w = s.writer().await?;
    let r: Result<(), CareError> = tx!(w, BEGIN_SQL, async {
        let b = brief_in(&mut w, id).await?.ok_or_else(|| not_found(id))?;
        if !b.is_draft() {
            return Err(signed_conflict(&b));
        }
        sqlx::query(
            "UPDATE handoff_briefs SET notes = $1, watch = $2, bulk_agent = $3, updated_by = $4, updated_at = $5 \
             WHERE id = $6 AND status = 'draft'",
        )
        .bind(notes.unwrap_or(&b.notes))
        .bind(to_text(&watch.map(|w| w.to_vec()).unwrap_or(b.watch.clone())))
        .bind(match bulk_agent {
            Some(a) => a.map(str::to_string),
            None => b.bulk_agent.clone(),
        })
        .bind(by)
        .bind(now)
        .bind(id)
        .execute(&mut *w)
        .await?;
        Ok(())
    });
    r?;
    drop(w);
    get_brief(s, id).await?.ok_or_else(|| not_found(id))
}

pub(crate) async fn sign(
    s: &Backend,
    id: i64,
    by: &str,
    pb: &Playbook,
    mut content: Content,
    now: i64,
) -> Result<(Brief, Transfer), CareError> {
    let mut w = s.writer().await?;
    let r: Result<Transfer, CareError> = tx!(w, BEGIN_SQL, async {
        let b = brief_in(&mut w, id).await?.ok_or_else(|| not_found(id))?;
        if !b.is_draft() {
            return Err(signed_conflict(&b));
        }
        let plan = MovePlan {
            from: b.from_site.clone(),
            to: b.to_site.clone(),
            agent: b.bulk_agent.clone(),
            by: by.to_string(),
            brief_id: Some(id),
            ..Default::default()
        };
        let t = transfer_in(&mut w, pb, &plan, now).await?;
        content.cases = t
            .cases
            .iter()
            .map(|c| {
                let mut bc = BriefCase::from_row(c);
                bc.kept = t.kept.contains(&c.id);
                bc
            })
            .collect();
        sort_cases(&mut content.cases);
        content.moved = t.moved.clone();
        let items = model::items_of(&content, &b.watch, &b.notes);
        let n = sqlx::query(
            "UPDATE handoff_briefs SET status = 'signed', content = $1, signed_by = $2, signed_at = $3, \
             updated_at = $3 WHERE id = $4 AND status = 'draft'",
        )
        .bind(to_text(&content))
        .bind(by)
        .bind(now)
        .bind(id)
        .execute(&mut *w)
        .await?
        .rows_affected();
        if n != 1 {
            return Err(CareError::Conflict(format!("id: brief {id} changed while signing; try again")));
        }
        for it in &items {
            sqlx::query("INSERT INTO handoff_items (brief_id, n, kind, ref, label) VALUES ($1, $2, $3, $4, $5)")
                .bind(id)
                .bind(it.n)
                .bind(&it.kind)
                .bind(&it.r#ref)
                .bind(&it.label)
                .execute(&mut *w)
                .await?;
        }
        Ok(t)
    });
    let t = r?;
    drop(w);
    let b = get_brief(s, id).await?.ok_or_else(|| not_found(id))?;
    Ok((b, t))
}

pub(crate) async fn ack(s: &Backend, id: i64, item: Option<i64>, by: &str, now: i64) -> Result<Brief, CareError> {
    let mut w = s.writer().await?;
    let r: Result<(), CareError> = tx!(w, BEGIN_SQL, async {
        let b = brief_in(&mut w, id).await?.ok_or_else(|| not_found(id))?;
        if b.is_draft() {
            return Err(CareError::Conflict(format!(
                "id: brief {id} is not signed yet; the outgoing lead signs it first (`sunward handoff sign {id}`)"
            )));
        }
        if b.status == model::ACKNOWLEDGED {
            return Err(CareError::Conflict(format!(
                "id: brief {id} was already acknowledged by {}",
                b.acked_by.as_deref().unwrap_or("someone")
            )));
        }
        match item {
            Some(n) => {
                let it = b.items.iter().find(|i| i.n == n).ok_or_else(|| {
                    CareError::NotFound(format!(
                        "item: brief {id} has no item {n}; its items are 1 to {}",
                        b.items.len()
                    ))
                })?;
                if let Some(who) = &it.acked_by {
                    return Err(CareError::Conflict(format!(
                        "item: item {n} of brief {id} was already acknowledged by {who}"
                    )));
                }
                sqlx::query("UPDATE handoff_items SET acked_by = $1, acked_at = $2 WHERE brief_id = $3 AND n = $4 AND acked_by IS NULL")
                    .bind(by).bind(now).bind(id).bind(n)
                    .execute(&mut *w).await?;
            }
            None => {
                sqlx::query("UPDATE handoff_items SET acked_by = $1, acked_at = $2 WHERE brief_id = $3 AND acked_by IS NULL")
                    .bind(by).bind(now).bind(id)
                    .execute(&mut *w).await?;
            }
        }
        let left: i64 = sqlx::query("SELECT COUNT(*) FROM handoff_items WHERE brief_id = $1 AND acked_by IS NULL")
            .bind(id)
            .fetch_one(&mut *w)
            .await?
            .try_get(0)?;
        if left == 0 {
            sqlx::query("UPDATE handoff_briefs SET status = 'acknowledged', acked_by = $1, acked_at = $2, updated_at = $2 WHERE id = $3")
                .bind(by).bind(now).bind(id)
                .execute(&mut *w).await?;
        }
        Ok(())
    });
    r?;
    drop(w);
    get_brief(s, id).await?.ok_or_else(|| not_found(id))
}

pub(crate) async fn escalate(s: &Backend, id: i64, step: i64, now: i64) -> Result<bool, StoreError> {
    let mut w = s.writer().await?;
    let n = sqlx::query(
        "UPDATE handoff_briefs SET escalation_step = $1, status = 'escalated', escalated_at = $2, updated_at = $2 \
         WHERE id = $3 AND escalation_step = $4 AND status IN ('signed', 'escalated')",
    )
    .bind(step)
    .bind(now)
    .bind(id)
    .bind(step - 1)
    .execute(&mut *w)
    .await?
    .rows_affected();
    Ok(n == 1)
}

pub(crate) async fn unacknowledged(s: &Backend) -> Result<Vec<Brief>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT {BRIEF_COLUMNS} FROM handoff_briefs WHERE status IN ('signed', 'escalated') ORDER BY id"
    ))
    .fetch_all(s.read_pool())
    .await?;
    Ok(rows.iter().map(brief_row).collect::<Result<_, _>>()?)
}

pub(crate) async fn surge(s: &Backend, plan: &MovePlan, agents: &[String], pb: &Playbook, now: i64) -> Result<Transfer, CareError> {
    let mut w = s.writer().await?;
    tx!(w, BEGIN_SQL, async {
        for name in agents {
            let n = sqlx::query("UPDATE care_agents SET site = $1 WHERE name = $2 AND site = $3")
                .bind(&plan.to)
                .bind(name)
                .bind(&plan.from)
                .execute(&mut *w)
                .await?
                .rows_affected();
            if n == 0 {
                return Err(CareError::BadArgs(format!(
                    "agents: `{name}` is not an agent of site `{}`; see `sunward agents list`",
                    plan.from
                )));
            }
            audit(&mut w, now, &plan.by, "surge_agent", None, json!({ "agent": name, "from_site": plan.from, "to_site": plan.to })).await?;
        }
        if plan.ids.is_some() || plan.limit.is_some() {
            transfer_in(&mut w, pb, plan, now).await
        } else {
            Ok(Transfer::default())
        }
    })
}

pub(crate) async fn tick_moves(s: &Backend, pb: &Playbook, now: i64) -> Result<Vec<i64>, CareError> {
    let mut w = s.writer().await?;
    tx!(w, BEGIN_SQL, tick_moves_in(&mut w, pb, now))
}

pub(crate) async fn moves(s: &Backend, case_id: Option<i64>, brief_id: Option<i64>) -> Result<Vec<serde_json::Value>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, brief_id, case_id, from_site, to_site, from_owner, to_owner, moved_by, moved_at, act_by, outcome, outcome_at \
         FROM handoff_moves WHERE ($1 IS NULL OR case_id = $1) AND ($2 IS NULL OR brief_id = $2) ORDER BY id",
    )
    .bind(case_id)
    .bind(brief_id)
    .fetch_all(s.read_pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(json!({
                "id": r.try_get::<i64, _>(0)?, "brief_id": r.try_get::<Option<i64>, _>(1)?,
                "case_id": r.try_get::<i64, _>(2)?, "from_site": r.try_get::<String, _>(3)?,
                "to_site": r.try_get::<String, _>(4)?, "from_owner": r.try_get::<Option<String>, _>(5)?,
                "to_owner": r.try_get::<String, _>(6)?, "moved_by": r.try_get::<String, _>(7)?,
                "moved_at": r.try_get::<i64, _>(8)?, "act_by": r.try_get::<i64, _>(9)?,
                "outcome": r.try_get::<String, _>(10)?, "outcome_at": r.try_get::<Option<i64>, _>(11)?,
            }))
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(StoreError::from)
}
}

impl Store {
    /// Open cases held by `site`, soonest deadline first.
    pub async fn handoff_site_cases(
        &self,
        site: &str,
        now: i64,
    ) -> Result<Vec<CaseRow>, StoreError> {
        match self {
            Store::Sqlite(s) => sq::site_cases(s, site, now).await,
            Store::Postgres(s) => pg::site_cases(s, site, now).await,
        }
    }

    /// Inserts a draft brief; returns its id.
    pub async fn handoff_insert(&self, b: &NewBrief, now: i64) -> Result<i64, StoreError> {
        match self {
            Store::Sqlite(s) => sq::insert(s, b, now).await,
            Store::Postgres(s) => pg::insert(s, b, now).await,
        }
    }

    pub async fn handoff_get(&self, id: i64) -> Result<Option<Brief>, StoreError> {
        match self {
            Store::Sqlite(s) => sq::get_brief(s, id).await,
            Store::Postgres(s) => pg::get_brief(s, id).await,
        }
    }

    /// Briefs newest first; `pending` = not yet acknowledged.
    pub async fn handoff_list(&self, pending: bool, limit: i64) -> Result<Vec<Brief>, StoreError> {
        match self {
            Store::Sqlite(s) => sq::list(s, pending, limit).await,
            Store::Postgres(s) => pg::list(s, pending, limit).await,
        }
    }

    /// Edits a draft. `None` leaves a part as it is; `bulk_agent: Some(None)` clears it.
    pub async fn handoff_edit(
        &self,
        id: i64,
        notes: Option<&str>,
        watch: Option<&[Watch]>,
        bulk_agent: Option<Option<&str>>,
        by: &str,
        now: i64,
    ) -> Result<Brief, CareError> {
        match self {
            Store::Sqlite(s) => sq::edit(s, id, notes, watch, bulk_agent, by, now).await,
            Store::Postgres(s) => pg::edit(s, id, notes, watch, bulk_agent, by, now).await,
        }
    }

    /// Signs a draft and moves the outgoing site's open cases, all in one transaction.
    pub async fn handoff_sign(
        &self,
        id: i64,
        by: &str,
        pb: &Playbook,
        content: Content,
        now: i64,
    ) -> Result<(Brief, Transfer), CareError> {
        match self {
            Store::Sqlite(s) => sq::sign(s, id, by, pb, content, now).await,
            Store::Postgres(s) => pg::sign(s, id, by, pb, content, now).await,
        }
    }

    /// Acknowledges one item (`Some(n)`) or every remaining item; the brief is acknowledged
    /// when no item is left.
    pub async fn handoff_ack(
        &self,
        id: i64,
        item: Option<i64>,
        by: &str,
        now: i64,
    ) -> Result<Brief, CareError> {
        match self {
            Store::Sqlite(s) => sq::ack(s, id, item, by, now).await,
            Store::Postgres(s) => pg::ack(s, id, item, by, now).await,
        }
    }

    /// Takes escalation step `step` (1-based); `false` when another instance took it already
    /// or the brief was acknowledged meanwhile.
    pub async fn handoff_escalate(&self, id: i64, step: i64, now: i64) -> Result<bool, StoreError> {
        match self {
            Store::Sqlite(s) => sq::escalate(s, id, step, now).await,
            Store::Postgres(s) => pg::escalate(s, id, step, now).await,
        }
    }

    /// Signed briefs not yet acknowledged (the escalation tick's work list).
    pub async fn handoff_unacknowledged(&self) -> Result<Vec<Brief>, StoreError> {
        match self {
            Store::Sqlite(s) => sq::unacknowledged(s).await,
            Store::Postgres(s) => pg::unacknowledged(s).await,
        }
    }

    /// A lead moves load between sites at any time (surge): cases (routed or to one agent)
    /// and/or agents (their cases follow them). One transaction.
    pub async fn handoff_surge(
        &self,
        plan: &MovePlan,
        agents: &[String],
        pb: &Playbook,
        now: i64,
    ) -> Result<Transfer, CareError> {
        match self {
            Store::Sqlite(s) => sq::surge(s, plan, agents, pb, now).await,
            Store::Postgres(s) => pg::surge(s, plan, agents, pb, now).await,
        }
    }

    /// Re-routes moved cases whose new owner did not act within the track's limit.
    pub async fn handoff_tick_moves(&self, pb: &Playbook, now: i64) -> Result<Vec<i64>, CareError> {
        match self {
            Store::Sqlite(s) => sq::tick_moves(s, pb, now).await,
            Store::Postgres(s) => pg::tick_moves(s, pb, now).await,
        }
    }

    /// Moves of a case or a brief, oldest first.
    pub async fn handoff_moves(
        &self,
        case_id: Option<i64>,
        brief_id: Option<i64>,
    ) -> Result<Vec<serde_json::Value>, StoreError> {
        match self {
            Store::Sqlite(s) => sq::moves(s, case_id, brief_id).await,
            Store::Postgres(s) => pg::moves(s, case_id, brief_id).await,
        }
    }
}

fn signed_conflict(b: &Brief) -> CareError {
    CareError::Conflict(format!(
        "id: brief {} is {} (signed by {}); a signed brief can no longer be edited or signed",
        b.id,
        b.status,
        b.signed_by.as_deref().unwrap_or("someone")
    ))
}

/// Alerts as the brief lists them.
pub fn brief_alert(a: &super::AlertRow) -> BriefAlert {
    BriefAlert {
        id: a.id,
        kind: a.kind.clone(),
        severity: a.severity.clone(),
        state: a.state.clone(),
        title: a.title.clone(),
        topic: a.topic.clone(),
        fired_at: a.fired_at,
        acked_by: a.acked_by.clone(),
        drill: a.drill,
    }
}
