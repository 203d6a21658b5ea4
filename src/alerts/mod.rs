//! Alerts: detector signals become alerts (merged, with cooldown), stored with their evidence,
//! with a lifecycle open -> acknowledged -> escalated -> resolved (who and when), an escalation
//! chain per severity and site, and outbound webhooks. Every change is published as
//! `Event::Alert` for walls (takeover) and panels.
//!
//! Wiring: [`pipeline::spawn`] runs a [`crate::detect::Detector`] in its own task fed by the
//! ingest pipeline through a bounded channel ([`pipeline::Feed`]), so detection stays off the
//! write lock.

pub mod api;
pub mod config;
pub mod escalate;
pub mod merge;
pub mod pipeline;
pub mod webhook;

use std::sync::Arc;

use tokio::sync::Mutex;

use crate::clock::Clock;
use crate::detect::{Severity, Signal};
use crate::events::{AlertNotice, Bus, Event};
use crate::store::{AlertGrowth, AlertRow, NewAlert, Store, StoreError, Transition};
pub use config::AlertsConfig;
use merge::{Active, Change, Merger};

/// Lifecycle states.
pub const OPEN: &str = "open";
pub const ACKNOWLEDGED: &str = "acknowledged";
pub const ESCALATED: &str = "escalated";
pub const RESOLVED: &str = "resolved";

#[derive(Debug, thiserror::Error)]
pub enum LifecycleError {
    #[error("alert {0} does not exist; see `sunward alerts list`")]
    NotFound(i64),
    #[error("alert {id} is {state}; it cannot be {action}")]
    NotAllowed {
        id: i64,
        state: String,
        action: &'static str,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

struct Inner {
    store: Store,
    bus: Option<Bus>,
    clock: Clock,
    cfg: AlertsConfig,
    merger: Mutex<Merger>,
    webhooks: Option<webhook::Sender>,
    /// Drill run key for signals marked drill (set by a running drill).
    drill_run: std::sync::Mutex<Option<String>>,
    /// An engine that only ever sees a drill's generated world (src/drills/runner.rs): every
    /// alert it opens is a drill alert, including ones its generated background would fire.
    drill_only: std::sync::atomic::AtomicBool,
}

/// The alert service. Cheap to clone.
#[derive(Clone)]
pub struct Alerts {
    inner: Arc<Inner>,
}

pub fn notice(a: &AlertRow) -> AlertNotice {
    AlertNotice {
        id: a.id,
        kind: a.kind.clone(),
        severity: a.severity.clone(),
        state: a.state.clone(),
        title: a.title.clone(),
        topic: a.topic.clone(),
        channel: a.channel.clone(),
        fired_at: a.fired_at,
        drill: a.drill,
    }
}

fn active_of(a: &AlertRow) -> Active {
    Active {
        id: a.id,
        key: a.merge_key.clone(),
        kind: a.kind.clone(),
        kinds: a.kinds.iter().cloned().collect(),
        topic: a.topic.clone(),
        channel: a.channel.clone(),
        severity: Severity::parse(&a.severity).unwrap_or(Severity::Watch),
        resolved: a.state == RESOLVED,
        title: a.title.clone(),
        fired_at: a.fired_at,
        last_at: a.last_at,
        signals: a.signals,
        drill: a.drill,
        evidence: serde_json::from_value(a.evidence.clone()).unwrap_or_default(),
        stories: serde_json::from_value(a.stories.clone()).unwrap_or_default(),
        story_ids: Vec::new(),
        written_at: a.last_at,
    }
}

impl Alerts {
    /// Starts the service: reads the alerts still active (so merging survives a restart) and,
    /// when webhooks are configured, starts their delivery worker.
    pub async fn start(
        store: Store,
        bus: Option<Bus>,
        clock: Clock,
        cfg: AlertsConfig,
    ) -> Result<Alerts, StoreError> {
        let mut merger = Merger::new(cfg.alerts.cooldown_minutes);
        for a in store.alerts_active().await? {
            merger.seed(active_of(&a));
        }
        let webhooks = if cfg.webhooks.is_empty() {
            None
        } else {
            Some(webhook::Sender::start(
                store.clone(),
                clock.clone(),
                cfg.webhooks.clone(),
            ))
        };
        Ok(Alerts {
            inner: Arc::new(Inner {
                store,
                bus,
                clock,
                cfg,
                merger: Mutex::new(merger),
                webhooks,
                drill_run: std::sync::Mutex::new(None),
                drill_only: std::sync::atomic::AtomicBool::new(false),
            }),
        })
    }

    pub fn config(&self) -> &AlertsConfig {
        &self.inner.cfg
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    pub fn clock(&self) -> &Clock {
        &self.inner.clock
    }

    /// Marks drill alerts opened from now on as belonging to `run` (None when no drill runs).
    pub fn set_drill_run(&self, run: Option<String>) {
        if let Ok(mut g) = self.inner.drill_run.lock() {
            *g = run;
        }
    }

    /// See `drill_only`: for the drill runner's own engine, never for the live one.
    pub fn set_drill_only(&self, on: bool) {
        self.inner
            .drill_only
            .store(on, std::sync::atomic::Ordering::Relaxed);
    }

    fn drill_run(&self) -> Option<String> {
        self.inner.drill_run.lock().ok().and_then(|g| g.clone())
    }

    /// Tells walls and panels. Alerts from a backfill go out as `alert_backfill`, which walls
    /// ignore: a spike of last Tuesday found while importing history is no emergency now.
    fn publish(&self, a: &AlertRow) {
        if let Some(bus) = &self.inner.bus {
            if a.backfill {
                bus.publish(Event::AlertBackfill(notice(a)));
            } else {
                bus.publish(Event::Alert(notice(a)));
            }
        }
    }

    /// Is a signal at event time `at` live at wall time `now` (not history being backfilled)?
    fn live_at(&self, at: i64, now: i64) -> bool {
        let m = self.inner.cfg.alerts.backfill_minutes;
        m <= 0 || now - at <= m * 60_000
    }

    /// Merges signals into alerts, stores the changes and publishes them. Returns the alerts
    /// opened or changed.
    pub async fn apply(&self, signals: Vec<Signal>) -> Result<Vec<AlertRow>, StoreError> {
        if signals.is_empty() {
            return Ok(Vec::new());
        }
        let now = self.inner.clock.now_ms();
        let mut changed = Vec::new();
        let mut merger = self.inner.merger.lock().await;
        let drill_only = self
            .inner
            .drill_only
            .load(std::sync::atomic::Ordering::Relaxed);
        for mut s in signals {
            s.drill |= drill_only;
            let Some(change) = merger.apply(s) else {
                continue;
            };
            match change {
                Change::Opened(key) => {
                    let Some(a) = merger.get(&key) else { continue };
                    let kinds = a.kinds_vec();
                    let drill_run = if a.drill { self.drill_run() } else { None };
                    let id = self
                        .inner
                        .store
                        .alert_insert(
                            &NewAlert {
                                merge_key: &a.key,
                                kind: &a.kind,
                                kinds: &kinds,
                                topic: a.topic.as_deref(),
                                channel: a.channel.as_deref(),
                                severity: a.severity.as_str(),
                                title: &a.title,
                                fired_at: a.fired_at,
                                evidence: &a.evidence_json(),
                                stories: &a.stories_json(),
                                drill: a.drill,
                                drill_run: drill_run.as_deref(),
                                site: &self.inner.cfg.alerts.site,
                                backfill: !a.drill && !self.live_at(a.last_at, now),
                            },
                            now,
                        )
                        .await?;
                    if let Some(a) = merger.get_mut(&key) {
                        a.id = id;
                    }
                    if let Some(row) = self.inner.store.alert_get(id).await? {
                        tracing::info!(id, title = %row.title, drill = row.drill, backfill = row.backfill, "alert opened");
                        self.publish(&row);
                        self.escalate_one(&row, now).await?;
                        changed.push(row);
                    }
                }
                Change::Grew(key) => {
                    let Some(a) = merger.get(&key) else { continue };
                    if a.id == 0 {
                        continue;
                    }
                    let kinds = a.kinds_vec();
                    let id = a.id;
                    let still = self
                        .inner
                        .store
                        .alert_grow(&AlertGrowth {
                            id,
                            kinds: &kinds,
                            severity: a.severity.as_str(),
                            title: &a.title,
                            last_at: a.last_at,
                            signals: a.signals,
                            evidence: &a.evidence_json(),
                            stories: &a.stories_json(),
                            live: a.drill || self.live_at(a.last_at, now),
                        })
                        .await?;
                    if !still {
                        // Resolved elsewhere (another process, the CLI).
                        merger.resolved(id);
                        continue;
                    }
                    if let Some(row) = self.inner.store.alert_get(id).await? {
                        self.publish(&row);
                        if !row.backfill && row.escalation_step == 0 {
                            // A backfilled alert that grew into the present starts its chain.
                            self.escalate_one(&row, now).await?;
                        }
                        changed.push(row);
                    }
                }
            }
        }
        Ok(changed)
    }

    async fn transition(
        &self,
        id: i64,
        from: &[&str],
        to: &str,
        action: &'static str,
        who: &str,
        detail: &str,
    ) -> Result<AlertRow, LifecycleError> {
        let now = self.inner.clock.now_ms();
        match self
            .inner
            .store
            .alert_transition(id, from, to, who, detail, now)
            .await?
        {
            Transition::Done(a) => {
                if to == RESOLVED {
                    self.inner.merger.lock().await.resolved(id);
                }
                self.publish(&a);
                Ok(*a)
            }
            Transition::NotFound => Err(LifecycleError::NotFound(id)),
            Transition::NotAllowed(state) => Err(LifecycleError::NotAllowed { id, state, action }),
        }
    }

    /// open/escalated -> acknowledged: someone owns the response; escalation stops.
    pub async fn ack(&self, id: i64, who: &str) -> Result<AlertRow, LifecycleError> {
        self.transition(
            id,
            &[OPEN, ESCALATED],
            ACKNOWLEDGED,
            "acknowledged",
            who,
            "",
        )
        .await
    }

    /// Any state but resolved -> resolved.
    pub async fn resolve(
        &self,
        id: i64,
        who: &str,
        note: &str,
    ) -> Result<AlertRow, LifecycleError> {
        self.transition(
            id,
            &[OPEN, ACKNOWLEDGED, ESCALATED],
            RESOLVED,
            "resolved",
            who,
            note,
        )
        .await
    }

    /// open/acknowledged -> escalated by hand (a lead pulls in the next level).
    pub async fn escalate(
        &self,
        id: i64,
        who: &str,
        note: &str,
    ) -> Result<AlertRow, LifecycleError> {
        self.transition(id, &[OPEN, ACKNOWLEDGED], ESCALATED, "escalated", who, note)
            .await
    }
}
