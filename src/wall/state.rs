//! The walls' live state inside the core: the profiles, operator controls per screen (push,
//! freeze, blackout), alerts that take the walls over, when each source last delivered data,
//! and which desktop wall windows are alive.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

use serde::Serialize;
use tokio::sync::broadcast::error::RecvError;

use super::profile::{severity_rank, Item};
use super::registry::Registry;
use crate::clock::Clock;
use crate::events::{AlertNotice, Bus, Event};
use crate::store::Store;

/// An operator's override of a screen.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Control {
    /// `push`, `freeze` or `blackout`.
    pub action: String,
    /// The pushed view (`push` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item: Option<Item>,
    /// Profile and screen it applies to; `None` = every profile / every screen.
    pub profile: Option<String>,
    pub screen: Option<usize>,
    pub by: String,
    pub at: i64,
}

/// When a source last delivered data.
#[derive(Debug, Clone, Serialize)]
pub struct SourceFreshness {
    pub source: String,
    /// Ingest time of its newest data (ms), if any.
    pub last_at: Option<i64>,
    /// Expected to flow (a running connector, or the demo).
    pub expected: bool,
}

pub struct Walls {
    registry: RwLock<Registry>,
    /// Key: (profile or "*", screen or usize::MAX).
    controls: Mutex<BTreeMap<(String, usize), Control>>,
    /// Alerts that are open or escalated, by id.
    alerts: Mutex<BTreeMap<i64, AlertNotice>>,
    last_seen: Mutex<HashMap<String, i64>>,
    alive: Mutex<HashMap<String, Instant>>,
    /// Ids for drills started from the wall panel (negative: they never collide with alerts).
    next_drill: Mutex<i64>,
}

const ALL: usize = usize::MAX;

/// The expected-source name of the built-in demo generator.
pub const DEMO: &str = "demo";

impl Walls {
    pub fn new(primary: Option<&Path>) -> Walls {
        Walls::with_registry(Registry::load(primary))
    }

    pub fn with_registry(registry: Registry) -> Walls {
        Walls {
            registry: RwLock::new(registry),
            controls: Mutex::default(),
            alerts: Mutex::default(),
            last_seen: Mutex::default(),
            alive: Mutex::default(),
            next_drill: Mutex::new(-1),
        }
    }

    /// Starts following the bus (mentions -> freshness, alerts -> takeover) and reads the last
    /// ingest time of every source once.
    pub fn start_with(registry: Registry, bus: &Bus, store: Store, clock: Clock) -> Arc<Walls> {
        let walls = Arc::new(Walls::with_registry(registry));
        let mut rx = bus.subscribe();
        let w = walls.clone();
        tokio::spawn(async move {
            match store.last_ingest_by_source().await {
                Ok(rows) => {
                    let mut seen = w.lock_seen();
                    for (source, at) in rows {
                        let e = seen.entry(source).or_insert(at);
                        *e = (*e).max(at);
                    }
                }
                Err(e) => tracing::warn!("walls: cannot read the sources' last data: {e}"),
            }
            loop {
                match rx.recv().await {
                    Ok(Event::Mentions { latest, .. }) => {
                        let now = clock.now_ms();
                        let mut seen = w.lock_seen();
                        for m in latest {
                            seen.insert(m.mention.source.clone(), now);
                        }
                    }
                    Ok(Event::Alert(a)) => w.note_alert(a),
                    Ok(_) => {}
                    Err(RecvError::Lagged(_)) => {}
                    Err(RecvError::Closed) => break,
                }
            }
        });
        walls
    }

    fn lock_seen(&self) -> std::sync::MutexGuard<'_, HashMap<String, i64>> {
        self.last_seen.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn registry(&self) -> std::sync::RwLockReadGuard<'_, Registry> {
        self.registry.read().unwrap_or_else(|e| e.into_inner())
    }

    pub fn registry_mut(&self) -> std::sync::RwLockWriteGuard<'_, Registry> {
        self.registry.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Keeps the takeover set in step with alert changes.
    pub fn note_alert(&self, a: AlertNotice) {
        let mut alerts = self.alerts.lock().unwrap_or_else(|e| e.into_inner());
        if matches!(a.state.as_str(), "open" | "escalated") {
            alerts.insert(a.id, a);
        } else {
            alerts.remove(&a.id);
        }
    }

    /// Open alerts at or above `min_severity`, most severe then newest first.
    pub fn takeovers(&self, min_severity: Option<&str>) -> Vec<AlertNotice> {
        let Some(min) = min_severity.map(severity_rank) else {
            return Vec::new();
        };
        let alerts = self.alerts.lock().unwrap_or_else(|e| e.into_inner());
        let mut out: Vec<AlertNotice> = alerts
            .values()
            .filter(|a| severity_rank(&a.severity) >= min)
            .cloned()
            .collect();
        out.sort_by(|a, b| {
            severity_rank(&b.severity)
                .cmp(&severity_rank(&a.severity))
                .then(b.fired_at.cmp(&a.fired_at))
        });
        out
    }

    /// Every open alert the walls know of.
    pub fn open_alerts(&self) -> Vec<AlertNotice> {
        self.takeovers(Some("unknown-is-lowest"))
    }

    pub fn alert(&self, id: i64) -> Option<AlertNotice> {
        let alerts = self.alerts.lock().unwrap_or_else(|e| e.into_inner());
        alerts.get(&id).cloned()
    }

    pub fn next_drill_id(&self) -> i64 {
        let mut n = self.next_drill.lock().unwrap_or_else(|e| e.into_inner());
        let id = *n;
        *n -= 1;
        id
    }

    /// Sets a control; `release` removes the controls it names.
    pub fn set_control(&self, c: Control) {
        let key = (
            c.profile.clone().unwrap_or_else(|| "*".into()),
            c.screen.unwrap_or(ALL),
        );
        let mut controls = self.controls.lock().unwrap_or_else(|e| e.into_inner());
        if c.action == "release" {
            controls.remove(&key);
            // Releasing a whole profile (or everything) releases its single screens too.
            if key.1 == ALL {
                if key.0 == "*" {
                    controls.clear();
                } else {
                    controls.retain(|(p, _), _| p != &key.0);
                }
            }
        } else {
            controls.insert(key, c);
        }
    }

    /// The control in force on `screen` of `profile`: the screen's own, else the profile's,
    /// else the one for every wall.
    pub fn control_for(&self, profile: &str, screen: usize) -> Option<Control> {
        let controls = self.controls.lock().unwrap_or_else(|e| e.into_inner());
        [
            (profile.to_string(), screen),
            (profile.to_string(), ALL),
            ("*".to_string(), screen),
            ("*".to_string(), ALL),
        ]
        .iter()
        .find_map(|k| controls.get(k).cloned())
    }

    pub fn controls(&self) -> Vec<Control> {
        let controls = self.controls.lock().unwrap_or_else(|e| e.into_inner());
        controls.values().cloned().collect()
    }

    /// Freshness of every source seen or expected.
    pub fn freshness(&self, expected: &[String]) -> Vec<SourceFreshness> {
        let seen = self.lock_seen();
        // The demo stores its posts under the networks they imitate (`x`, `reddit`, ...), so
        // "the demo delivers" means "anything arrives".
        let newest = seen.values().copied().max();
        let mut out: Vec<SourceFreshness> = expected
            .iter()
            .map(|s| SourceFreshness {
                source: s.clone(),
                last_at: if s == DEMO {
                    newest
                } else {
                    seen.get(s).copied()
                },
                expected: true,
            })
            .collect();
        for (s, at) in seen.iter() {
            if !expected.contains(s) {
                out.push(SourceFreshness {
                    source: s.clone(),
                    last_at: Some(*at),
                    expected: false,
                });
            }
        }
        out.sort_by(|a, b| a.source.cmp(&b.source));
        out
    }

    /// A desktop wall window reported that its page runs.
    pub fn mark_alive(&self, label: &str) {
        let mut alive = self.alive.lock().unwrap_or_else(|e| e.into_inner());
        alive.insert(label.to_string(), Instant::now());
    }

    /// When the page of a wall window last reported (None = never).
    pub fn last_alive(&self, label: &str) -> Option<Instant> {
        let alive = self.alive.lock().unwrap_or_else(|e| e.into_inner());
        alive.get(label).copied()
    }

    pub fn forget_alive(&self, label: &str) {
        let mut alive = self.alive.lock().unwrap_or_else(|e| e.into_inner());
        alive.remove(label);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(id: i64, severity: &str, state: &str) -> AlertNotice {
        AlertNotice {
            id,
            kind: "volume_spike".into(),
            severity: severity.into(),
            state: state.into(),
            title: format!("alert {id}"),
            topic: None,
            channel: None,
            fired_at: id,
            drill: false,
        }
    }

    #[test]
    fn takeover_follows_severity_and_state() {
        let w = Walls::new(None);
        w.note_alert(alert(1, "watch", "open"));
        w.note_alert(alert(2, "warning", "open"));
        w.note_alert(alert(3, "crisis", "escalated"));
        let ids = |v: Vec<AlertNotice>| v.iter().map(|a| a.id).collect::<Vec<_>>();
        assert_eq!(ids(w.takeovers(Some("crisis"))), [3]);
        assert_eq!(ids(w.takeovers(Some("warning"))), [3, 2]);
        assert_eq!(ids(w.takeovers(Some("watch"))), [3, 2, 1]);
        assert!(w.takeovers(None).is_empty());
        w.note_alert(alert(3, "crisis", "acknowledged"));
        assert_eq!(ids(w.takeovers(Some("warning"))), [2]);
        assert_eq!(w.open_alerts().len(), 2);
    }

    #[test]
    fn the_demo_counts_as_fresh_when_anything_arrives() {
        let w = Walls::new(None);
        w.lock_seen().insert("x".into(), 500);
        w.lock_seen().insert("reddit".into(), 700);
        let f = w.freshness(&["demo".into(), "rss".into()]);
        let get = |n: &str| f.iter().find(|s| s.source == n).unwrap().clone();
        assert_eq!(get("demo").last_at, Some(700));
        assert!(get("demo").expected);
        assert_eq!(get("rss").last_at, None);
        assert!(!get("x").expected);
    }

    #[test]
    fn controls_resolve_screen_then_profile_then_all() {
        let w = Walls::new(None);
        let c = |action: &str, profile: Option<&str>, screen: Option<usize>| Control {
            action: action.into(),
            item: None,
            profile: profile.map(Into::into),
            screen,
            by: "lead".into(),
            at: 0,
        };
        w.set_control(c("blackout", None, None));
        w.set_control(c("freeze", Some("default"), Some(1)));
        assert_eq!(w.control_for("default", 1).unwrap().action, "freeze");
        assert_eq!(w.control_for("default", 0).unwrap().action, "blackout");
        w.set_control(c("release", Some("default"), Some(1)));
        assert_eq!(w.control_for("default", 1).unwrap().action, "blackout");
        w.set_control(c("release", None, None));
        assert_eq!(w.control_for("default", 0), None);
        assert!(w.controls().is_empty());
    }
}
