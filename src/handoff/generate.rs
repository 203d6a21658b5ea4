//! Building a brief and running its lifecycle: create (draft), edit, sign (moves the cases),
//! acknowledge (whole or per item), escalate when nobody acknowledges, surge moves, and the
//! act-by check of moved cases. The API ([`super::api`]) and the CLI call these.

use chrono::{SecondsFormat, TimeZone, Utc};
use serde::Serialize;

use super::model::{self, sort_cases, Brief, BriefCase, Contact, Content, Point, Watch};
use crate::api::ApiError;
use crate::auth::{Principal, Role};
use crate::care::CareError;
use crate::clock::Clock;
use crate::events::{Bus, Event};
use crate::sites::coverage::{duties, Duty};
use crate::sites::Site;
use crate::store::{brief_alert, Filter, MovePlan, NewBrief, Store, Transfer};

/// An incoming site whose shift starts within this long still counts as on shift (the
/// outgoing handover is usually 30 minutes before the end).
pub const ARRIVAL_WINDOW_MS: i64 = 2 * 3_600_000;
/// Default time between escalation steps of an unacknowledged brief; `SUNWARD_HANDOFF_ESCALATE_MINUTES`
/// or a brief's own `escalate_after_minutes` override it.
pub const DEFAULT_ESCALATE_MINUTES: i64 = 15;
/// Default volume/sentiment window of a brief.
pub const DEFAULT_HOURS: i64 = 8;

/// What a handoff command needs: the store, "now" and (when serving) the event bus; the same
/// as a care command's.
pub use crate::care::api::Ctx;

/// What walls and panels learn about a brief change.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct HandoffNotice {
    pub id: i64,
    /// created, edited, signed, acknowledged, item_acknowledged, escalated, moved.
    pub what: String,
    pub from_site: String,
    pub to_site: String,
    pub status: String,
    /// Escalation step (1 = the first contact).
    pub step: i64,
    /// Who an escalation step calls, and in which role (lead, legal, exec).
    pub notify: Option<String>,
    pub role: Option<String>,
    pub cases: usize,
}

fn publish(bus: Option<&Bus>, b: &Brief, what: &str, notify: Option<&Contact>) {
    if let Some(bus) = bus {
        bus.publish(Event::Handoff(HandoffNotice {
            id: b.id,
            what: what.into(),
            from_site: b.from_site.clone(),
            to_site: b.to_site.clone(),
            status: b.status.clone(),
            step: b.escalation_step,
            notify: notify.map(|c| c.who.clone()),
            role: notify.map(|c| c.role.clone()),
            cases: b.content.cases.len(),
        }));
    }
}

fn iso(ms: i64) -> String {
    Utc.timestamp_millis_opt(ms)
        .single()
        .map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true))
        .unwrap_or_else(|| ms.to_string())
}

fn site<'a>(sites: &'a [Site], name: &str, field: &str) -> Result<&'a Site, ApiError> {
    sites.iter().find(|s| s.name == name).ok_or_else(|| {
        let known: Vec<&str> = sites.iter().map(|s| s.name.as_str()).collect();
        ApiError::BadArgs(format!(
            "{field}: unknown site `{name}`; known sites: {}",
            if known.is_empty() {
                "none yet (add them with `sunward sites add`)".to_string()
            } else {
                known.join(", ")
            }
        ))
    })
}

/// The shift of `site` running at `at`, else the one starting within `within` after it.
pub fn current_or_next(site: &Site, at: i64, within: i64) -> Option<Duty> {
    let all = duties(site, at, at + within + 1);
    all.iter()
        .find(|d| d.start <= at && at < d.end)
        .or_else(|| all.iter().find(|d| d.start > at && d.start <= at + within))
        .cloned()
}

/// The incoming site must be on shift (or about to be): a handoff to nobody is refused.
fn incoming_duty(s: &Site, now: i64) -> Result<Duty, ApiError> {
    current_or_next(s, now, ARRIVAL_WINDOW_MS).ok_or_else(|| {
        let next = duties(s, now, now + 8 * 86_400_000)
            .into_iter()
            .find(|d| d.start > now)
            .map(|d| format!(" (its next shift `{}` starts {})", d.shift, iso(d.start)))
            .unwrap_or_default();
        ApiError::BadArgs(format!(
            "to: site `{}` has nobody on shift at {}{next}; hand off to a site on duty (`sunward shifts now`)",
            s.name,
            iso(now)
        ))
    })
}

fn chain(d: &Duty) -> Vec<Contact> {
    [
        ("lead", &d.contacts.lead),
        ("legal", &d.contacts.legal),
        ("exec", &d.contacts.exec),
    ]
    .into_iter()
    .filter_map(|(role, who)| {
        who.as_ref().map(|w| Contact {
            role: role.into(),
            who: w.clone(),
        })
    })
    .collect()
}

fn escalate_default_ms() -> i64 {
    std::env::var("SUNWARD_HANDOFF_ESCALATE_MINUTES")
        .ok()
        .and_then(|v| v.trim().parse::<i64>().ok())
        .filter(|m| (1..=24 * 60).contains(m))
        .unwrap_or(DEFAULT_ESCALATE_MINUTES)
        * 60_000
}

/// The generated part: the site's open cases (soonest breach first), active alerts, and the
/// last `hours` of volume and sentiment in about 32 buckets.
pub async fn build_content(
    store: &Store,
    site: &str,
    now: i64,
    hours: i64,
) -> Result<Content, ApiError> {
    let mut cases: Vec<BriefCase> = store
        .handoff_site_cases(site, now)
        .await?
        .iter()
        .map(BriefCase::from_row)
        .collect();
    sort_cases(&mut cases);
    let alerts = store
        .alerts_active()
        .await?
        .iter()
        .map(brief_alert)
        .collect();
    let minutes = hours * 60;
    let (from, to) = crate::rollup::window(now, minutes);
    let series = store.minutes(from, to, &Filter::default()).await?;
    let bucket = (minutes / 32).max(1) as usize;
    let points: Vec<Point> = crate::store::bucketize_counts(&series, bucket)
        .iter()
        .map(|m| Point {
            t: m.t,
            total: m.counts.total,
            negative: m.counts.negative,
            neutral: m.counts.neutral,
            positive: m.counts.positive,
            net: crate::rollup::net(&m.counts),
        })
        .collect();
    let total = crate::store::Counts::sum(&series);
    Ok(Content {
        generated_at: now,
        window_from: from,
        window_to: to,
        cases,
        alerts,
        series: points,
        total: total.total,
        negative: total.negative,
        positive: total.positive,
        net: crate::rollup::net(&total),
        moved: Vec::new(),
    })
}

/// May `who` act as the lead of `site`? Admins may; a lead who is a care agent must belong
/// to the site (or be its on-call lead); legal, exec and agents only read.
async fn check_lead(
    store: &Store,
    who: &Principal,
    site: &str,
    contact: Option<&str>,
    what: &str,
) -> Result<(), ApiError> {
    match who.role {
        Role::Admin => Ok(()),
        Role::Lead => {
            let agents = store.care_agents().await?;
            match agents.iter().find(|a| a.name == who.name) {
                Some(a) if a.site != site && contact != Some(who.name.as_str()) => {
                    Err(ApiError::Forbidden(format!(
                        "`{}` leads site `{}`; only a lead of `{site}` may {what}",
                        who.name, a.site
                    )))
                }
                _ => Ok(()),
            }
        }
        r => Err(ApiError::Forbidden(format!(
            "the {r} role may read briefs; only a lead may {what}"
        ))),
    }
}

fn check_watch(watch: &[Watch]) -> Result<(), ApiError> {
    if watch.len() > 100 {
        return Err(ApiError::BadArgs("watch: at most 100 items".into()));
    }
    for (i, w) in watch.iter().enumerate() {
        w.check(i).map_err(ApiError::BadArgs)?;
    }
    Ok(())
}

fn check_notes(notes: &str) -> Result<(), ApiError> {
    if notes.len() > 20_000 {
        return Err(ApiError::BadArgs(
            "notes: at most 20000 characters; link a document for more".into(),
        ));
    }
    Ok(())
}

/// Options of `handoff create`.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateArgs {
    pub from: String,
    pub to: String,
    /// Bulk: every case to this agent of `to` instead of routing.
    #[serde(default)]
    pub agent: Option<String>,
    #[serde(default)]
    pub notes: Option<String>,
    #[serde(default)]
    pub watch: Option<Vec<Watch>>,
    /// Volume/sentiment window (default 8, at most 48).
    #[serde(default)]
    pub hours: Option<i64>,
    /// Minutes between escalation steps (default 15 or SUNWARD_HANDOFF_ESCALATE_MINUTES).
    #[serde(default)]
    pub escalate_after_minutes: Option<i64>,
}

pub async fn create(ctx: &Ctx<'_>, who: &Principal, a: CreateArgs) -> Result<Brief, ApiError> {
    let sites = crate::sites::api::load(ctx.store).await?;
    let from = site(&sites, a.from.trim(), "from")?;
    let to = site(&sites, a.to.trim(), "to")?;
    if from.name == to.name {
        return Err(ApiError::BadArgs(format!(
            "to: a site cannot hand off to itself (`{}`); its next site is {}",
            from.name,
            from.next.as_deref().unwrap_or("not set")
        )));
    }
    let hours = a.hours.unwrap_or(DEFAULT_HOURS);
    if !(1..=48).contains(&hours) {
        return Err(ApiError::BadArgs(format!(
            "hours: {hours} is out of range; use 1 to 48"
        )));
    }
    let escalate_after_ms = match a.escalate_after_minutes {
        None => escalate_default_ms(),
        Some(m) if (1..=24 * 60).contains(&m) => m * 60_000,
        Some(m) => {
            return Err(ApiError::BadArgs(format!(
                "escalate_after_minutes: {m} is out of range; use 1 to 1440"
            )))
        }
    };
    let watch = a.watch.unwrap_or_default();
    check_watch(&watch)?;
    let notes = a.notes.unwrap_or_default();
    check_notes(&notes)?;
    let out_duty = current_or_next(from, ctx.now, 0);
    check_lead(
        ctx.store,
        who,
        &from.name,
        out_duty.as_ref().and_then(|d| d.contacts.lead.as_deref()),
        "create its handoff",
    )
    .await?;
    let in_duty = incoming_duty(to, ctx.now)?;
    let agents = ctx.store.care_agents().await?;
    if !agents.iter().any(|x| x.site == to.name) {
        return Err(ApiError::BadArgs(format!(
            "to: site `{}` has no agents to take the cases; add them with `sunward agents add NAME --site {}`",
            to.name, to.name
        )));
    }
    if let Some(ag) = &a.agent {
        check_bulk_agent(&agents, ag, &to.name)?;
    }
    let content = build_content(ctx.store, &from.name, ctx.now, hours).await?;
    let nb = NewBrief {
        from_site: from.name.clone(),
        to_site: to.name.clone(),
        from_shift: out_duty.as_ref().map(|d| d.shift.clone()),
        to_shift: Some(in_duty.shift.clone()),
        shift_end: out_duty.as_ref().map(|d| d.end),
        content,
        notes,
        watch,
        bulk_agent: a.agent.clone(),
        contacts: chain(&in_duty),
        escalate_after_ms,
        created_by: who.name.clone(),
    };
    let id = ctx.store.handoff_insert(&nb, ctx.now).await?;
    let b = get(ctx.store, id).await?;
    publish(ctx.bus, &b, "created", None);
    Ok(b)
}

fn check_bulk_agent(agents: &[crate::care::Agent], name: &str, to: &str) -> Result<(), ApiError> {
    match agents.iter().find(|x| x.name == name) {
        None => Err(ApiError::BadArgs(format!(
            "agent: no agent `{name}`; see `sunward agents list`"
        ))),
        Some(x) if x.site != to => Err(ApiError::BadArgs(format!(
            "agent: `{name}` works at site `{}`, not `{to}`",
            x.site
        ))),
        Some(_) => Ok(()),
    }
}

pub async fn get(store: &Store, id: i64) -> Result<Brief, ApiError> {
    store.handoff_get(id).await?.ok_or_else(|| {
        ApiError::NotFound(format!(
            "id: no handoff brief {id}; see `sunward handoff list`"
        ))
    })
}

/// Edits of a draft: `None` leaves a part unchanged; `agent: Some("")` clears the bulk agent.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EditArgs {
    pub id: i64,
    #[serde(default)]
    pub notes: Option<String>,
    #[serde(default)]
    pub watch: Option<Vec<Watch>>,
    #[serde(default)]
    pub agent: Option<String>,
}

pub async fn edit(ctx: &Ctx<'_>, who: &Principal, a: EditArgs) -> Result<Brief, ApiError> {
    let b = get(ctx.store, a.id).await?;
    check_lead(ctx.store, who, &b.from_site, None, "edit its brief").await?;
    if let Some(w) = &a.watch {
        check_watch(w)?;
    }
    if let Some(n) = &a.notes {
        check_notes(n)?;
    }
    let agent = match a.agent.as_deref().map(str::trim) {
        None => None,
        Some("") => Some(None),
        Some(name) => {
            check_bulk_agent(&ctx.store.care_agents().await?, name, &b.to_site)?;
            Some(Some(name))
        }
    };
    let b = ctx
        .store
        .handoff_edit(
            a.id,
            a.notes.as_deref(),
            a.watch.as_deref(),
            agent,
            &who.name,
            ctx.now,
        )
        .await?;
    publish(ctx.bus, &b, "edited", None);
    Ok(b)
}

/// Signs a draft: the outgoing site's open cases move to the incoming site (one transaction).
pub async fn sign(ctx: &Ctx<'_>, who: &Principal, id: i64) -> Result<(Brief, Transfer), ApiError> {
    let b = get(ctx.store, id).await?;
    check_lead(ctx.store, who, &b.from_site, None, "sign its brief").await?;
    if !b.is_draft() {
        return Err(ApiError::Conflict(format!(
            "id: brief {id} is already {} (by {}); a signed brief can no longer be edited or signed",
            b.status,
            b.signed_by.as_deref().unwrap_or("someone")
        )));
    }
    let sites = crate::sites::api::load(ctx.store).await?;
    let to = site(&sites, &b.to_site, "to")?;
    incoming_duty(to, ctx.now)?;
    let hours = ((b.content.window_to - b.content.window_from) / 3_600_000).clamp(1, 48);
    let content = build_content(ctx.store, &b.from_site, ctx.now, hours).await?;
    let (_, pb) = crate::care::current_playbook(ctx.store, ctx.now).await?;
    let (b, t) = ctx
        .store
        .handoff_sign(id, &who.name, &pb, content, ctx.now)
        .await?;
    publish(ctx.bus, &b, "signed", None);
    crate::care::publish(
        ctx.bus,
        "handoff",
        t.moved.iter().map(|m| m.case_id).collect(),
    );
    Ok((b, t))
}

pub async fn ack(
    ctx: &Ctx<'_>,
    who: &Principal,
    id: i64,
    item: Option<i64>,
) -> Result<Brief, ApiError> {
    let b = get(ctx.store, id).await?;
    let lead = b
        .contacts
        .iter()
        .find(|c| c.role == "lead")
        .map(|c| c.who.as_str());
    check_lead(ctx.store, who, &b.to_site, lead, "acknowledge its brief").await?;
    let b = ctx.store.handoff_ack(id, item, &who.name, ctx.now).await?;
    let what = if b.status == model::ACKNOWLEDGED {
        "acknowledged"
    } else {
        "item_acknowledged"
    };
    publish(ctx.bus, &b, what, None);
    Ok(b)
}

/// A surge move: a lead moves cases and/or agents between sites at any time.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SurgeArgs {
    pub from: String,
    pub to: String,
    /// Move this many cases (soonest breach first).
    #[serde(default)]
    pub cases: Option<usize>,
    /// Or exactly these cases.
    #[serde(default)]
    pub ids: Option<Vec<i64>>,
    /// Every moved case to this agent of `to` instead of routing.
    #[serde(default)]
    pub agent: Option<String>,
    /// Agents of `from` who go to work for `to` (their own cases go with them).
    #[serde(default)]
    pub agents: Vec<String>,
}

pub async fn surge(ctx: &Ctx<'_>, who: &Principal, a: SurgeArgs) -> Result<Transfer, ApiError> {
    let sites = crate::sites::api::load(ctx.store).await?;
    let from = site(&sites, a.from.trim(), "from")?;
    let to = site(&sites, a.to.trim(), "to")?;
    if from.name == to.name {
        return Err(ApiError::BadArgs(
            "to: moving load needs two different sites".into(),
        ));
    }
    if a.cases.is_none() && a.ids.is_none() && a.agents.is_empty() {
        return Err(ApiError::BadArgs(
            "cases: say what to move: `cases` (a number), `ids` (case ids) or `agents` (names)"
                .into(),
        ));
    }
    if a.cases == Some(0) {
        return Err(ApiError::BadArgs("cases: move at least 1 case".into()));
    }
    if !matches!(who.role, Role::Admin | Role::Lead) {
        return Err(ApiError::Forbidden(format!(
            "the {} role may not move load between sites; a lead may",
            who.role
        )));
    }
    let (_, pb) = crate::care::current_playbook(ctx.store, ctx.now).await?;
    let plan = MovePlan {
        from: from.name.clone(),
        to: to.name.clone(),
        agent: a.agent.clone(),
        ids: a.ids.clone(),
        limit: a.cases,
        by: who.name.clone(),
        brief_id: None,
    };
    let t = ctx
        .store
        .handoff_surge(&plan, &a.agents, &pb, ctx.now)
        .await?;
    crate::care::publish(
        ctx.bus,
        "surge",
        t.moved.iter().map(|m| m.case_id).collect(),
    );
    Ok(t)
}

/// What one tick did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TickReport {
    pub escalated: Vec<(i64, i64)>,
    pub moves_checked: Vec<i64>,
    /// Briefs drafted because a shift reached its handover time.
    pub drafted: Vec<i64>,
}

/// Who drafts briefs at handover time (the outgoing lead edits and signs them).
pub const DRAFTER: &str = "sunward";

/// Drafts the brief of every shift whose handover time has come and that has none yet, for
/// the outgoing lead to edit and sign: nobody has to remember to start it. With several
/// sites on one database each instance drafts only for its own site (`SUNWARD_SITE`), so a
/// brief is drafted once. A draft that cannot be made (say the next site has nobody on
/// shift) is logged once per shift and left to the lead.
async fn draft_due(store: &Store, now: i64, bus: Option<&Bus>, rep: &mut TickReport) {
    use std::collections::HashSet;
    use std::sync::{Mutex, OnceLock};
    static REPORTED: OnceLock<Mutex<HashSet<(String, i64)>>> = OnceLock::new();
    let own = std::env::var("SUNWARD_SITE")
        .ok()
        .filter(|s| !s.trim().is_empty());
    let Ok(sites) = crate::sites::api::load(store).await else {
        return;
    };
    let Ok(existing) = store.handoff_list(false, 500).await else {
        return;
    };
    for site in &sites {
        let Some(next) = site.next.clone() else {
            continue;
        };
        if own.as_deref().is_some_and(|o| o != site.name) {
            continue;
        }
        for d in duties(site, now - 86_400_000, now + 1) {
            if !(d.handover <= now && now < d.end) {
                continue;
            }
            // Any brief of this site during this shift (the lead's own, or an earlier draft).
            if existing.iter().any(|b| {
                b.from_site == site.name && (b.shift_end == Some(d.end) || b.created_at >= d.start)
            }) {
                continue;
            }
            let ctx = Ctx { store, now, bus };
            let who = Principal::new(DRAFTER, Role::Admin);
            let args = CreateArgs {
                from: site.name.clone(),
                to: next.clone(),
                ..CreateArgs::default()
            };
            match create(&ctx, &who, args).await {
                Ok(b) => {
                    tracing::info!(brief = b.id, site = %site.name, shift = %d.shift, "handoff: brief drafted at handover time");
                    rep.drafted.push(b.id);
                }
                Err(e) => {
                    let key = (site.name.clone(), d.end);
                    let first = REPORTED
                        .get_or_init(|| Mutex::new(HashSet::new()))
                        .lock()
                        .map(|mut r| r.insert(key))
                        .unwrap_or(true);
                    if first {
                        tracing::warn!(site = %site.name, shift = %d.shift, "handoff: cannot draft the brief at handover time: {e}; the lead can create it");
                    }
                }
            }
        }
    }
}

/// Time-driven work: escalation steps of unacknowledged briefs, and re-routing moved cases
/// whose new owner did not act in time. Safe with several instances on one database: each
/// step is taken by a compare-and-set.
pub async fn tick(store: &Store, now: i64, bus: Option<&Bus>) -> Result<TickReport, CareError> {
    let mut rep = TickReport::default();
    draft_due(store, now, bus, &mut rep).await;
    for b in store.handoff_unacknowledged().await? {
        let Some(signed_at) = b.signed_at else {
            continue;
        };
        let steps = b.contacts.len().max(1) as i64;
        let next = b.escalation_step + 1;
        if next > steps || now < signed_at + next * b.escalate_after_ms.max(60_000) {
            continue;
        }
        if store.handoff_escalate(b.id, next, now).await? {
            let contact = b.contacts.get((next - 1) as usize).cloned();
            tracing::warn!(brief = b.id, step = next, notify = ?contact, "handoff: brief not acknowledged; escalating");
            let mut nb = b.clone();
            nb.escalation_step = next;
            nb.status = model::ESCALATED.into();
            publish(bus, &nb, "escalated", contact.as_ref());
            rep.escalated.push((b.id, next));
        }
    }
    let (_, pb) = crate::care::current_playbook(store, now).await?;
    rep.moves_checked = store.handoff_tick_moves(&pb, now).await?;
    if !rep.moves_checked.is_empty() {
        crate::care::publish(bus, "handoff_reroute", rep.moves_checked.clone());
    }
    Ok(rep)
}

/// Runs [`tick`] every 15 seconds for a serving app.
pub fn spawn_ticker(store: Store, clock: Clock, bus: Bus) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(15));
        loop {
            every.tick().await;
            if let Err(e) = tick(&store, clock.now_ms(), Some(&bus)).await {
                tracing::warn!(error = %e, "handoff: tick failed; retrying in 15 s");
            }
        }
    });
}
