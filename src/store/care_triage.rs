//! Triage of stored mentions through the playbook, and the time-driven tick (queue, re-route on
//! silence, pre-breach warnings, follow-ups). One transaction per chunk: cases, routing and
//! their audit rows commit together with the cursor that says they were triaged.

use std::collections::{HashMap, HashSet};

use serde_json::json;
use sqlx::{QueryBuilder, Row};

use super::care::open_list_sql;
use super::Store;
use crate::care::playbook::{Facts, Then, Track};
use crate::care::{routing, Agent, CareError, Pass, Playbook, DRILL_PREFIX};
use crate::model::Label;

/// Advisory lock key serializing triage and ticks across sites sharing a PostgreSQL database.
const TRIAGE_LOCK: i64 = 0x7472696167;

/// A triage outcome waiting for the chunk's multi-row insert.
struct TriageRow {
    mention_id: i64,
    source: String,
    source_id: String,
    conversation: String,
    outcome: &'static str,
    reason: Option<String>,
    rule: Option<String>,
    case_id: Option<i64>,
    drill: i64,
    created_at: i64,
}

struct Pending {
    id: i64,
    source: String,
    source_id: String,
    channel: String,
    created_at: i64,
    text: String,
    handle: Option<String>,
    followers: Option<i64>,
    verified: bool,
    lang: String,
    in_reply_to: Option<String>,
    inbound: Option<bool>,
    score: f64,
    label: i64,
    influence: i64,
    topics: String,
}

/// A case that is not closed, as triage sees it: loaded once per chunk for the chunk's customers
/// and conversations, and kept in step with what the chunk does to it, so a mention that
/// attaches to a case costs no query (it was four round trips to SQLite's worker thread each).
#[derive(Debug, Clone)]
pub(crate) struct OpenCase {
    status: String,
    owner: Option<String>,
    track: String,
    conversation: String,
    customer: String,
    last_customer_at: i64,
    opened_at: i64,
}

/// An attach waiting for its case's single UPDATE (flushed before anything else touches the
/// case, and at the end of the chunk): the values the per-mention UPDATEs would have left.
#[derive(Debug, Clone)]
pub(crate) struct AttachUpdate {
    last_customer_at: i64,
    status: String,
    /// The first attach's next due time: the SQL keeps an existing one (COALESCE).
    next_due: Option<i64>,
}

/// Open cases of the chunk, with lookups by conversation and by customer.
#[derive(Default)]
pub(crate) struct OpenCases {
    cases: HashMap<i64, OpenCase>,
    by_conversation: HashMap<String, Vec<i64>>,
    by_customer: HashMap<String, Vec<i64>>,
    pending: HashMap<i64, AttachUpdate>,
}

impl OpenCases {
    fn put(&mut self, id: i64, case: OpenCase) {
        if !self.cases.contains_key(&id) {
            self.by_conversation
                .entry(case.conversation.clone())
                .or_default()
                .push(id);
            self.by_customer
                .entry(case.customer.clone())
                .or_default()
                .push(id);
        }
        self.cases.insert(id, case);
    }

    /// What `SELECT id FROM care_cases WHERE status <> 'closed' AND (conversation = $1 OR
    /// (customer = $2 AND <has handle> AND last_customer_at >= $since AND status IN (open)))
    /// ORDER BY id DESC LIMIT 1` returns.
    fn find(
        &self,
        conversation: &str,
        customer: &str,
        has_handle: bool,
        since: i64,
    ) -> Option<i64> {
        let by_conv = self.by_conversation.get(conversation).into_iter().flatten();
        let by_cust = self
            .by_customer
            .get(customer)
            .filter(|_| has_handle)
            .into_iter()
            .flatten();
        by_conv
            .chain(by_cust)
            .copied()
            .filter(|id| {
                self.cases.get(id).is_some_and(|c| {
                    c.status != "closed"
                        && (c.conversation == conversation
                            || (has_handle
                                && c.customer == customer
                                && c.last_customer_at >= since
                                && crate::care::OPEN_STATUSES.contains(&c.status.as_str())))
                })
            })
            .max()
    }
}

/// The first `@handle` addressed in a post: who it is about.
fn addressed(text: &str) -> Option<String> {
    let at = text.find('@')?;
    let h: String = text[at + 1..]
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    (!h.is_empty()).then_some(h)
}

dual! {
    @import crate::store::care;

    pub(crate) fn open_case_of(r: &DbRow) -> (i64, OpenCase) {
        (
            r.get(0),
            OpenCase {
                status: r.get(1),
                owner: r.get(2),
                track: r.get(3),
                conversation: r.get(4),
                customer: r.get(5),
                last_customer_at: r.get(6),
                opened_at: r.get(7),
            },
        )
    }

    pub(crate) const OPEN_CASE_COLUMNS: &str =
        "id, status, owner, track, conversation, customer, last_customer_at, opened_at";

    /// The rows of `select` (ending in `IN (`) for all of `values`, 500 binds per query.
    pub(crate) async fn fetch_in(
        c: &mut Conn,
        select: &str,
        values: &[&str],
    ) -> Result<Vec<DbRow>, sqlx::Error> {
        let mut rows = Vec::new();
        for part in values.chunks(500) {
            let mut qb: QueryBuilder<DB> = QueryBuilder::new(select);
            let mut sep = qb.separated(", ");
            for v in part {
                sep.push_bind(*v);
            }
            qb.push(")");
            rows.extend(qb.build().fetch_all(&mut *c).await?);
        }
        Ok(rows)
    }

    /// The chunk's open cases: those of its customers and of its conversations.
    pub(crate) async fn load_open_cases(
        c: &mut Conn,
        customers: &[&str],
        conversations: &[&str],
    ) -> Result<OpenCases, sqlx::Error> {
        let mut out = OpenCases::default();
        for (column, values) in [("customer", customers), ("conversation", conversations)] {
            let select = format!(
                "SELECT {OPEN_CASE_COLUMNS} FROM care_cases WHERE status <> 'closed' AND {column} IN ("
            );
            for r in fetch_in(c, &select, values).await? {
                let (id, case) = open_case_of(&r);
                out.put(id, case);
            }
        }
        Ok(out)
    }

    /// Re-reads one case after SQL changed it in ways triage does not mirror (routing).
    pub(crate) async fn reload_case(
        c: &mut Conn,
        cases: &mut OpenCases,
        id: i64,
    ) -> Result<(), sqlx::Error> {
        let row = sqlx::query(&format!("SELECT {OPEN_CASE_COLUMNS} FROM care_cases WHERE id = $1"))
            .bind(id)
            .fetch_optional(&mut *c)
            .await?;
        if let Some(r) = row {
            let (id, case) = open_case_of(&r);
            cases.put(id, case);
        }
        Ok(())
    }

    /// Writes a case's waiting attach, if any.
    pub(crate) async fn flush_attach(
        c: &mut Conn,
        cases: &mut OpenCases,
        id: i64,
        now: i64,
    ) -> Result<(), sqlx::Error> {
        let Some(u) = cases.pending.remove(&id) else {
            return Ok(());
        };
        sqlx::query(
            "UPDATE care_cases SET last_customer_at = CASE WHEN last_customer_at > $1 THEN last_customer_at ELSE $1 END, status = $2, updated_at = $3, \
             next_due = CASE WHEN first_response_at IS NOT NULL THEN COALESCE(next_due, $4) ELSE next_due END WHERE id = $5",
        )
        .bind(u.last_customer_at)
        .bind(&u.status)
        .bind(now)
        .bind(u.next_due)
        .bind(id)
        .execute(&mut *c)
        .await?;
        Ok(())
    }

    /// Routes case `id` on `track` (excluding `exclude`) inside the transaction; updates `open`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn route(
        c: &mut Conn,
        agents: &[Agent],
        open: &mut HashMap<String, i64>,
        track: &Track,
        id: i64,
        exclude: Option<&str>,
        action: &str,
        now: i64,
    ) -> Result<bool, sqlx::Error> {
        match routing::pick(agents, open, track, exclude) {
            Ok(agent) => {
                set_owner(c, id, &agent, now).await?;
                *open.entry(agent.clone()).or_default() += 1;
                if let Some(x) = exclude {
                    if let Some(n) = open.get_mut(x) {
                        *n -= 1;
                    }
                }
                audit(
                    c,
                    now,
                    "router",
                    action,
                    Some(id),
                    json!({ "to": agent, "from": exclude, "track": track.name }),
                )
                .await?;
                Ok(true)
            }
            Err(reason) => {
                if exclude.is_none() {
                    sqlx::query("UPDATE care_cases SET queue_reason = $1 WHERE id = $2")
                        .bind(&reason)
                        .bind(id)
                        .execute(&mut *c)
                        .await?;
                    if action == "route" {
                        audit(
                            c,
                            now,
                            "router",
                            "queue",
                            Some(id),
                            json!({ "reason": reason, "track": track.name }),
                        )
                        .await?;
                    }
                }
                Ok(false)
            }
        }
    }

    pub(crate) async fn triage_chunk(
        c: &mut Conn,
        pb: &Playbook,
        version: i64,
        now: i64,
        limit: i64,
    ) -> Result<Pass, CareError> {
        let mut pass = Pass::default();
        if PG {
            // Sites sharing a database triage one at a time: no mention is triaged twice.
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(TRIAGE_LOCK)
                .execute(&mut *c)
                .await?;
        }
        let cursor: i64 = sqlx::query("SELECT value FROM care_state WHERE key = 'triage_cursor'")
            .fetch_optional(&mut *c)
            .await?
            .map(|r| r.get(0))
            .unwrap_or(0);
        let rows = sqlx::query(
            "SELECT id, source, source_id, channel, created_at, text, author_handle, author_followers, author_verified, \
             lang, in_reply_to, inbound, sentiment, label, influence, topics FROM mentions WHERE id > $1 ORDER BY id LIMIT $2",
        )
        .bind(cursor)
        .bind(limit)
        .fetch_all(&mut *c)
        .await?;
        let Some(last) = rows.last().map(|r| r.get::<i64, _>(0)) else {
            return Ok(pass);
        };
        let mut ms: Vec<Pending> = rows
            .iter()
            .map(|r| Pending {
                id: r.get(0),
                source: r.get(1),
                source_id: r.get(2),
                channel: r.get(3),
                created_at: r.get(4),
                text: r.get(5),
                handle: r.get(6),
                followers: r.get(7),
                verified: r.get(8),
                lang: r.get(9),
                in_reply_to: r.get(10),
                inbound: r.get(11),
                score: r.get(12),
                label: r.get(13),
                influence: r.get(14),
                topics: r.get(15),
            })
            .collect();
        // Event-time order, so a reply is matched after the post it answers.
        ms.sort_by_key(|m| (m.created_at, m.id));
        let agents = load_agents(c).await?;
        let mut open = open_counts(c).await?;
        // Customers who already have a case (any status): one query per chunk, kept up to
        // date as this chunk opens cases.
        let handles = distinct(ms.iter().filter_map(|m| m.handle.as_deref()));
        let mut known: HashSet<String> = HashSet::new();
        let select = "SELECT DISTINCT customer FROM care_cases WHERE customer IN (";
        for r in fetch_in(c, select, &handles).await? {
            known.insert(r.get(0));
        }
        // The parents of the chunk's replies, and the chunk's open cases (of its customers and
        // of every conversation its mentions can belong to): a few queries per chunk instead
        // of several per mention.
        let replied = distinct(ms.iter().filter_map(|m| m.in_reply_to.as_deref()));
        let select =
            "SELECT source, source_id, conversation, case_id FROM care_triage WHERE source_id IN (";
        let mut parents: HashMap<(String, String), (String, Option<i64>)> = HashMap::new();
        for r in fetch_in(c, select, &replied).await? {
            parents
                .entry((r.get(0), r.get(1)))
                .or_insert_with(|| (r.get(2), r.get(3)));
        }
        let mut cases = {
            let mut convs: HashSet<String> = HashSet::new();
            for m in &ms {
                convs.insert(format!("{}:{}", m.source, m.source_id));
                if let Some(p) = &m.in_reply_to {
                    convs.insert(format!("{}:{p}", m.source));
                    if let Some((conv, _)) = parents.get(&(m.source.clone(), p.clone())) {
                        convs.insert(conv.clone());
                    }
                }
            }
            let convs: Vec<&str> = convs.iter().map(String::as_str).collect();
            load_open_cases(c, &handles, &convs).await?
        };
        let mut records: Vec<TriageRow> = Vec::with_capacity(ms.len());
        let mut local: HashMap<(String, String), (String, Option<i64>)> = HashMap::new();

        for m in &ms {
            pass.triaged += 1;
            let drill = m.source.starts_with(DRILL_PREFIX);
            let parent = m.in_reply_to.as_ref().and_then(|p| {
                let k = (m.source.clone(), p.clone());
                local.get(&k).or_else(|| parents.get(&k)).cloned()
            });
            let conversation = match (&parent, &m.in_reply_to) {
                (Some((conv, _)), _) => conv.clone(),
                (None, Some(p)) => format!("{}:{p}", m.source),
                (None, None) => format!("{}:{}", m.source, m.source_id),
            };
            // Triage rows are written in one multi-row insert at the end of the chunk; replies
            // later in the chunk find their parent in `local` meanwhile.
            macro_rules! record {
                ($outcome:expr, $reason:expr, $rule:expr, $case:expr $(,)?) => {{
                    let case: Option<i64> = $case;
                    local.insert(
                        (m.source.clone(), m.source_id.clone()),
                        (conversation.clone(), case),
                    );
                    records.push(TriageRow {
                        mention_id: m.id,
                        source: m.source.clone(),
                        source_id: m.source_id.clone(),
                        conversation: conversation.clone(),
                        outcome: $outcome,
                        reason: $reason,
                        rule: $rule,
                        case_id: case,
                        drill: drill as i64,
                        created_at: m.created_at,
                    });
                }};
            }

            // The brand's own post: a reply to a case's mention is that case's response.
            if m.inbound == Some(false) {
                let case = parent.as_ref().and_then(|(_, case)| *case);
                if let Some(case_id) = case {
                    let opened: Option<i64> = match cases.cases.get(&case_id) {
                        Some(oc) => Some(oc.opened_at),
                        None => sqlx::query("SELECT opened_at FROM care_cases WHERE id = $1")
                            .bind(case_id)
                            .fetch_optional(&mut *c)
                            .await?
                            .map(|r| r.get(0)),
                    };
                    if opened.is_some_and(|o| m.created_at >= o) {
                        flush_attach(c, &mut cases, case_id, now).await?;
                        let author = m.handle.clone().unwrap_or_else(|| "brand".into());
                        sqlx::query(
                            "INSERT INTO care_replies (case_id, author, text, via, status, external, created_at, sent_at) \
                             VALUES ($1, $2, $3, 'public', 'sent', 1, $4, $4)",
                        )
                        .bind(case_id)
                        .bind(&author)
                        .bind(&m.text)
                        .bind(m.created_at)
                        .execute(&mut *c)
                        .await?;
                        // The brand that answered is the brand the case is about.
                        sqlx::query("UPDATE care_cases SET brand = CASE WHEN first_response_at IS NULL THEN $1 ELSE brand END WHERE id = $2")
                            .bind(&author)
                            .bind(case_id)
                            .execute(&mut *c)
                            .await?;
                        mark_response(c, case_id, m.created_at, now).await?;
                        if let Some(oc) = cases.cases.get_mut(&case_id) {
                            if oc.status == "new" || oc.status == "assigned" {
                                oc.status = "responded".into();
                            }
                        }
                        pass.responses += 1;
                        pass.changed.push(case_id);
                    }
                }
                record!("response", None, None, case);
                continue;
            }

            let customer = m
                .handle
                .clone()
                .unwrap_or_else(|| format!("{}:anonymous", m.channel));
            // An open case of this conversation, or of this author lately.
            let existing: Option<(i64, String, Option<String>)> = cases
                .find(
                    &conversation,
                    &customer,
                    m.handle.is_some(),
                    m.created_at - pb.attach_within_ms,
                )
                .and_then(|id| {
                    cases
                        .cases
                        .get(&id)
                        .map(|oc| (id, oc.status.clone(), oc.owner.clone()))
                });
            let known_customer = m.handle.is_some() && known.contains(&customer);
            let topics: Vec<String> = serde_json::from_str(&m.topics).unwrap_or_default();
            let facts = Facts {
                text: m.text.clone(),
                label: Some(match m.label {
                    0 => Label::Negative,
                    2 => Label::Positive,
                    _ => Label::Neutral,
                }),
                score: m.score as f32,
                lang: m.lang.clone(),
                channel: m.channel.clone(),
                topics: topics.clone(),
                followers: m.followers.unwrap_or(0).max(0) as u64,
                influence: m.influence.clamp(0, 100) as u8,
                verified: m.verified,
                known_customer,
                is_reply: m.in_reply_to.is_some(),
                age_ms: now - m.created_at,
                sample: crate::care::playbook::sample_bucket(&format!("{}:{}", m.source, m.source_id)),
            };
            let Some(rule) = pb.decide(&facts, existing.is_some()) else {
                pass.watched += 1;
                record!("watch", None, None, None);
                continue;
            };
            match rule.then {
                Then::Attach => {
                    let Some((case_id, status, owner)) = existing else {
                        continue;
                    };
                    let back = match status.as_str() {
                        "responded" | "waiting" | "resolved" | "follow_up_due" if owner.is_some() => {
                            "assigned"
                        }
                        "responded" | "waiting" | "resolved" | "follow_up_due" => "new",
                        s => {
                            if s == "new" {
                                "new"
                            } else {
                                "assigned"
                            }
                        }
                    };
                    let track = cases
                        .cases
                        .get(&case_id)
                        .map(|oc| oc.track.clone())
                        .unwrap_or_default();
                    let next_due = pb
                        .track(&track)
                        .and_then(|t| pb.site_of(t).add_business(m.created_at, t.next_response_ms));
                    let u = cases.pending.entry(case_id).or_insert(AttachUpdate {
                        last_customer_at: m.created_at,
                        status: back.to_string(),
                        next_due,
                    });
                    u.last_customer_at = u.last_customer_at.max(m.created_at);
                    u.status = back.to_string();
                    u.next_due = u.next_due.or(next_due);
                    if let Some(oc) = cases.cases.get_mut(&case_id) {
                        oc.status = back.to_string();
                        oc.last_customer_at = oc.last_customer_at.max(m.created_at);
                    }
                    record!("attach", None, Some(rule.name.clone()), Some(case_id));
                    pass.attached += 1;
                    pass.changed.push(case_id);
                }
                Then::DoNotRespond => {
                    record!(
                        "do_not_respond",
                        rule.reason.clone(),
                        Some(rule.name.clone()),
                        None,
                    );
                    audit(
                        c,
                        now,
                        "triage",
                        "do_not_respond",
                        None,
                        json!({
                            "mention": m.id, "source": m.source, "source_id": m.source_id,
                            "reason": rule.reason, "rule": rule.name, "drill": drill,
                        }),
                    )
                    .await?;
                    pass.do_not_respond += 1;
                }
                Then::Watch => {
                    record!("watch", None, Some(rule.name.clone()), None);
                    pass.watched += 1;
                }
                Then::Open => {
                    let Some(track) = rule.track.as_deref().and_then(|t| pb.track(t)) else {
                        continue;
                    };
                    let site = pb.site_of(track);
                    let at = m.created_at;
                    let far = at + 10 * 366 * 86_400_000;
                    let first_due = site
                        .add_business(at, track.first_response_ms)
                        .unwrap_or(far);
                    let resolution_due = site.add_business(at, track.resolution_ms).unwrap_or(far);
                    let warn_at = first_due - track.warn_before_ms;
                    let mut flags: Vec<&str> = Vec::new();
                    if track.private_reply {
                        flags.push("move_off_public");
                    }
                    if track.needs_approval {
                        flags.push("needs_approval");
                    }
                    if drill {
                        flags.push("drill");
                    }
                    let case_id: i64 = sqlx::query(
                        "INSERT INTO care_cases (status, track, site, customer, channel, brand, topic, conversation, rule, \
                         playbook_version, drill, tags, flags, opened_at, last_customer_at, first_due, resolution_due, warn_at, updated_at) \
                         VALUES ('new', $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13, $14, $15, $16, $17) RETURNING id",
                    )
                    .bind(&track.name)
                    .bind(&track.site)
                    .bind(&customer)
                    .bind(&m.channel)
                    .bind(addressed(&m.text))
                    .bind(topics.first())
                    .bind(&conversation)
                    .bind(&rule.name)
                    .bind(version)
                    .bind(drill as i64)
                    .bind(serde_json::to_string(&rule.tags).unwrap_or_else(|_| "[]".into()))
                    .bind(serde_json::to_string(&flags).unwrap_or_else(|_| "[]".into()))
                    .bind(at)
                    .bind(first_due)
                    .bind(resolution_due)
                    .bind(warn_at)
                    .bind(now)
                    .fetch_one(&mut *c)
                    .await?
                    .get(0);
                    record!("open", None, Some(rule.name.clone()), Some(case_id));
                    cases.put(
                        case_id,
                        OpenCase {
                            status: "new".into(),
                            owner: None,
                            track: track.name.clone(),
                            conversation: conversation.clone(),
                            customer: customer.clone(),
                            last_customer_at: at,
                            opened_at: at,
                        },
                    );
                    known.insert(customer.clone());
                    pass.opened += 1;
                    pass.changed.push(case_id);
                    if route(c, &agents, &mut open, track, case_id, None, "route", now).await? {
                        pass.routed += 1;
                    } else {
                        pass.queued += 1;
                    }
                    reload_case(c, &mut cases, case_id).await?;
                }
            }
        }
        let mut waiting: Vec<i64> = cases.pending.keys().copied().collect();
        waiting.sort_unstable();
        for id in waiting {
            flush_attach(c, &mut cases, id, now).await?;
        }
        for part in records.chunks(500) {
            let mut qb: QueryBuilder<DB> = QueryBuilder::new(
                "INSERT INTO care_triage (mention_id, source, source_id, conversation, outcome, reason, rule, case_id, drill, created_at) ",
            );
            qb.push_values(part, |mut b, r| {
                b.push_bind(r.mention_id)
                    .push_bind(&r.source)
                    .push_bind(&r.source_id)
                    .push_bind(&r.conversation)
                    .push_bind(r.outcome)
                    .push_bind(&r.reason)
                    .push_bind(&r.rule)
                    .push_bind(r.case_id)
                    .push_bind(r.drill)
                    .push_bind(r.created_at);
            });
            qb.push(" ON CONFLICT DO NOTHING");
            qb.build().execute(&mut *c).await?;
        }
        sqlx::query(
            "INSERT INTO care_state (key, value) VALUES ('triage_cursor', $1) \
             ON CONFLICT (key) DO UPDATE SET value = CASE WHEN care_state.value > excluded.value THEN care_state.value ELSE excluded.value END",
        )
        .bind(last)
        .execute(&mut *c)
        .await?;
        Ok(pass)
    }

    pub(crate) async fn tick_in(c: &mut Conn, pb: &Playbook, now: i64) -> Result<Pass, CareError> {
        let mut pass = Pass::default();
        if PG {
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(TRIAGE_LOCK)
                .execute(&mut *c)
                .await?;
        }
        let mut agents = load_agents(c).await?;
        let mut open = open_counts(c).await?;

        // Finishing then away: once the last open case is done.
        for a in agents.iter_mut().filter(|a| a.presence == "finishing") {
            if open.get(&a.name).copied().unwrap_or(0) == 0 {
                sqlx::query(
                    "UPDATE care_agents SET presence = 'away', presence_at = $1 WHERE name = $2",
                )
                .bind(now)
                .bind(&a.name)
                .execute(&mut *c)
                .await?;
                audit(
                    c,
                    now,
                    "router",
                    "presence",
                    None,
                    json!({ "agent": a.name, "presence": "away", "why": "finished open cases" }),
                )
                .await?;
                a.presence = "away".into();
            }
        }

        // Silent assignees: re-route to another qualified agent (logged), keep it if nobody is free.
        let silent = sqlx::query(
            "SELECT id, track, owner, assigned_at FROM care_cases WHERE status = 'assigned' AND first_response_at IS NULL \
             AND owner IS NOT NULL AND assigned_at IS NOT NULL ORDER BY assigned_at",
        )
        .fetch_all(&mut *c)
        .await?;
        for r in &silent {
            let (id, track, owner, assigned_at): (i64, String, String, i64) =
                (r.get(0), r.get(1), r.get(2), r.get(3));
            let Some(t) = pb.track(&track) else { continue };
            if now - assigned_at <= t.reroute_after_ms {
                continue;
            }
            // Within the owner's follow-the-sun site: a case handed over to Singapore must not
            // go back to an Austin agent who is still online (src/handoff).
            let site = agents.iter().find(|a| a.name == owner).map(|a| a.site.as_str());
            let candidates: Vec<Agent> = agents
                .iter()
                .filter(|a| site.map_or(true, |s| a.site == s))
                .cloned()
                .collect();
            if route(c, &candidates, &mut open, t, id, Some(&owner), "reroute", now).await?
            {
                pass.rerouted += 1;
                pass.changed.push(id);
            }
        }

        // The queue, oldest first.
        let queued = sqlx::query("SELECT id, track FROM care_cases WHERE status = 'new' AND owner IS NULL ORDER BY opened_at, id")
            .fetch_all(&mut *c)
            .await?;
        for r in &queued {
            let (id, track): (i64, String) = (r.get(0), r.get(1));
            let Some(t) = pb.track(&track) else { continue };
            if route(c, &agents, &mut open, t, id, None, "route_from_queue", now).await? {
                pass.routed += 1;
                pass.changed.push(id);
            }
        }

        // Pre-breach warnings, once per case.
        let warn = sqlx::query(&format!(
            "SELECT id, owner, first_due FROM care_cases WHERE warned = 0 AND first_response_at IS NULL AND warn_at <= $1 \
             AND drill = 0 AND status IN ({})",
            open_list_sql()
        ))
        .bind(now)
        .fetch_all(&mut *c)
        .await?;
        for r in &warn {
            let (id, owner, due): (i64, Option<String>, i64) = (r.get(0), r.get(1), r.get(2));
            sqlx::query("UPDATE care_cases SET warned = 1 WHERE id = $1")
                .bind(id)
                .execute(&mut *c)
                .await?;
            audit(
                c,
                now,
                "sla",
                if now > due {
                    "sla_breach"
                } else {
                    "sla_warning"
                },
                Some(id),
                json!({ "owner": owner, "first_due": due }),
            )
            .await?;
            pass.warned += 1;
            pass.changed.push(id);
        }

        // Follow-up reminders after resolution.
        let n = sqlx::query(
            "UPDATE care_cases SET status = 'follow_up_due', updated_at = $1 WHERE status = 'resolved' AND follow_up_at <= $1",
        )
        .bind(now)
        .execute(&mut *c)
        .await?
        .rows_affected();
        pass.follow_ups = n;
        Ok(pass)
    }
}

impl Store {
    /// Triages up to `limit` mentions stored since the last pass.
    pub async fn care_triage(
        &self,
        pb: &Playbook,
        version: i64,
        now: i64,
        limit: i64,
    ) -> Result<Pass, CareError> {
        on_db!(self, s => {
            let mut w = s.writer().await?;
            begin(&mut w).await?;
            let r = triage_chunk(&mut w, pb, version, now, limit).await;
            end(&mut w, r).await
        })
    }

    pub async fn care_tick(&self, pb: &Playbook, now: i64) -> Result<Pass, CareError> {
        on_db!(self, s => {
            let mut w = s.writer().await?;
            begin(&mut w).await?;
            let r = tick_in(&mut w, pb, now).await;
            end(&mut w, r).await
        })
    }
}

/// Each value once (for the chunked `IN (...)` queries).
fn distinct<'a>(values: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    values.collect::<HashSet<_>>().into_iter().collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn addressed_handle() {
        assert_eq!(
            super::addressed("@sprintcare hi").as_deref(),
            Some("sprintcare")
        );
        assert_eq!(super::addressed("no handle"), None);
    }
}
