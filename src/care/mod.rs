//! Social care workflow (issue 4): a triage playbook puts every new mention on a track (or
//! records why it is not answered), cases carry SLA clocks in the business hours of their
//! site, routing hands them to qualified online agents, replies that need it go through
//! approval, and everything that decides about a case lands in an append-only audit log.
//! See docs/care.md.
//!
//! Pure logic lives here (calendar, playbook, routing, KPIs); persistence in
//! src/store/care*.rs; the commands (`cases.*`, `agents.*`, `playbook.*`, `kpi.*`, `audit.*`,
//! `view.agent_load`) in [`api`], shared by HTTP, Tauri IPC and the CLI.

pub mod api;
pub mod calendar;
pub mod demo;
pub mod kpi;
pub mod playbook;
pub mod routing;

use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use crate::api::ApiError;
use crate::clock::Clock;
use crate::events::{Bus, Event};
use crate::store::{Store, StoreError};
pub use playbook::Playbook;

#[derive(Debug, thiserror::Error)]
pub enum CareError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    BadArgs(String),
    #[error("{0}")]
    Forbidden(String),
}

impl From<sqlx::Error> for CareError {
    fn from(e: sqlx::Error) -> Self {
        CareError::Store(StoreError::Sql(e))
    }
}

impl From<CareError> for ApiError {
    fn from(e: CareError) -> Self {
        match e {
            CareError::Store(e) => ApiError::Internal(e.to_string()),
            CareError::NotFound(m) => ApiError::NotFound(m),
            CareError::Conflict(m) => ApiError::Conflict(m),
            CareError::BadArgs(m) => ApiError::BadArgs(m),
            CareError::Forbidden(m) => ApiError::Forbidden(m),
        }
    }
}

/// Case statuses, in the order a case usually moves through them.
pub const STATUSES: [&str; 7] = [
    "new",
    "assigned",
    "responded",
    "waiting",
    "resolved",
    "follow_up_due",
    "closed",
];
/// Statuses that count against an agent's capacity and in the backlog.
pub const OPEN_STATUSES: [&str; 4] = ["new", "assigned", "responded", "waiting"];

/// Agent presence. `finishing` = finishing current cases, then away: no new cases.
pub const PRESENCES: [&str; 4] = ["online", "away", "offline", "finishing"];

/// A mention is part of a drill (issue 6) when its source starts with this: such mentions open
/// cases marked `drill`, which never count in KPIs.
pub const DRILL_PREFIX: &str = "drill";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Agent {
    pub name: String,
    pub role: String,
    pub skills: Vec<String>,
    pub capacity: i64,
    pub presence: String,
    pub site: String,
    /// Customer handles the agent is linked to (family, friends, own accounts): grants to them
    /// are flagged and need a second approver.
    #[serde(default)]
    pub links: Vec<String>,
}

/// The playbook in force, parsed once per text.
static PARSED: Mutex<Vec<(String, Arc<Playbook>)>> = Mutex::new(Vec::new());

fn parsed(text: &str) -> Result<Arc<Playbook>, Vec<playbook::Problem>> {
    if let Ok(cache) = PARSED.lock() {
        if let Some((_, pb)) = cache.iter().find(|(t, _)| t == text) {
            return Ok(pb.clone());
        }
    }
    let pb = Arc::new(playbook::check(text)?);
    if let Ok(mut cache) = PARSED.lock() {
        if cache.len() > 8 {
            cache.remove(0);
        }
        cache.push((text.to_string(), pb.clone()));
    }
    Ok(pb)
}

/// The playbook in force and its version. A database without one gets the built-in default
/// as version 1.
pub async fn current_playbook(store: &Store, now: i64) -> Result<(i64, Arc<Playbook>), CareError> {
    let (version, text) = match store.care_playbook_current().await? {
        Some(v) => v,
        // Atomic: a playbook set meanwhile (by a lead, another task or site) wins.
        None => {
            store
                .care_playbook_init(playbook::DEFAULT, "system", now)
                .await?
        }
    };
    // A stored playbook was checked before it was stored; if a newer Sunward rejects it, the
    // built-in default keeps triage running and the log says why.
    match parsed(&text) {
        Ok(pb) => Ok((version, pb)),
        Err(p) => {
            tracing::error!(version, problems = %playbook::describe(&p), "care: the stored playbook no longer checks; using the built-in default");
            let pb = parsed(playbook::DEFAULT).map_err(|p| {
                CareError::BadArgs(format!("built-in playbook: {}", playbook::describe(&p)))
            })?;
            Ok((version, pb))
        }
    }
}

/// What a triage or tick pass changed.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Pass {
    pub triaged: u64,
    pub opened: u64,
    pub attached: u64,
    pub responses: u64,
    pub do_not_respond: u64,
    pub watched: u64,
    pub routed: u64,
    pub queued: u64,
    pub rerouted: u64,
    pub warned: u64,
    pub follow_ups: u64,
    /// Cases whose state changed, for live events.
    #[serde(skip)]
    pub changed: Vec<i64>,
}

impl Pass {
    pub fn add(&mut self, o: Pass) {
        self.triaged += o.triaged;
        self.opened += o.opened;
        self.attached += o.attached;
        self.responses += o.responses;
        self.do_not_respond += o.do_not_respond;
        self.watched += o.watched;
        self.routed += o.routed;
        self.queued += o.queued;
        self.rerouted += o.rerouted;
        self.warned += o.warned;
        self.follow_ups += o.follow_ups;
        self.changed.extend(o.changed);
    }
}

/// Mentions per triage transaction: one ingest batch. Replies are matched to their case in
/// event-time order inside a chunk.
const TRIAGE_CHUNK: i64 = 5_000;

/// Triages every mention stored since the last pass (the ingest hook calls this after each
/// run). Safe to call concurrently: each chunk is one transaction on the writer.
pub async fn triage_pending(store: &Store, now: i64) -> Result<Pass, CareError> {
    let (version, pb) = current_playbook(store, now).await?;
    let mut total = Pass::default();
    loop {
        let p = store.care_triage(&pb, version, now, TRIAGE_CHUNK).await?;
        let done = p.triaged < TRIAGE_CHUNK as u64;
        total.add(p);
        if done {
            break;
        }
    }
    Ok(total)
}

/// Time-driven work: queued cases to agents who came free, re-routing silent assignees,
/// pre-breach warnings, follow-up reminders, "finishing then away".
pub async fn tick(store: &Store, now: i64) -> Result<Pass, CareError> {
    let (_, pb) = current_playbook(store, now).await?;
    store.care_tick(&pb, now).await
}

pub fn publish(bus: Option<&Bus>, what: &str, ids: Vec<i64>) {
    if let (Some(bus), false) = (bus, ids.is_empty() && what == "tick") {
        bus.publish(Event::Cases {
            what: what.to_string(),
            ids,
        });
    }
}

/// The ingest hook (src/ingest.rs): triage what was just stored. Never fails an ingest: the
/// mentions are stored; a triage error is logged and retried by the next pass.
pub async fn after_ingest(store: &Store, clock: &Clock, bus: Option<&Bus>) {
    match triage_pending(store, clock.now_ms()).await {
        Ok(p) if p.triaged > 0 => {
            tracing::debug!(triaged = p.triaged, opened = p.opened, "care: triage pass");
            publish(bus, "triage", p.changed);
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "care: triage failed; the next ingest retries"),
    }
}

/// Runs [`tick`] every 15 seconds for a serving app.
pub fn spawn_ticker(store: Store, clock: Clock, bus: Bus) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(15));
        loop {
            every.tick().await;
            match tick(&store, clock.now_ms()).await {
                Ok(p) => publish(Some(&bus), "tick", p.changed),
                Err(e) => tracing::warn!(error = %e, "care: tick failed"),
            }
        }
    });
}

/// For drills (issue 6): event time of the first approved (or sent) reply on a drill case
/// whose opening mention's source starts with `source_prefix`, sent at or after `since`.
pub async fn first_approved_response_after(
    store: &Store,
    source_prefix: &str,
    since: i64,
) -> Result<Option<i64>, CareError> {
    Ok(store
        .care_first_response_after(source_prefix, since)
        .await?)
}
