//! The broadcast bus: the core publishes, the Tauri shell and the SSE endpoint forward.

use std::sync::{Arc, OnceLock};

use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, mpsc};

use crate::model::StoredMention;

/// Events also cross sites sharing a PostgreSQL database (src/site_relay.rs), hence
/// `Deserialize`; wall controls stay with the site that gave them.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// A batch of mentions was stored; `latest` holds the newest few (not all of them).
    Mentions {
        count: u64,
        latest: Vec<StoredMention>,
    },
    Heartbeat {
        now: i64,
    },
    /// The subscriber missed events and must re-read its state.
    Resync {},
    /// An alert was opened, grew, or changed state (src/alerts, issue 6). Walls take over for
    /// alerts at or above their profile's takeover severity while `state` is `open` or
    /// `escalated`, and resume rotation when it becomes `acknowledged` or `resolved`.
    Alert(AlertNotice),
    /// An alert fired while backfilling history changed (src/alerts, issue 6): for lists and
    /// panels only; walls never take over for it (an `alert` event follows if it becomes live).
    AlertBackfill(AlertNotice),
    /// An operator pushed a view to, froze, blacked out or released wall screens (src/wall);
    /// `profile`/`screen` absent = every profile / every screen. Never sent to other sites.
    #[serde(skip_deserializing)]
    WallControl(crate::wall::Control),
    /// Care cases changed (src/care): `what` = triage, assign, reply, approve, tick, ...;
    /// `ids` = the cases. Panels and the agent-load wall re-read.
    Cases {
        what: String,
        ids: Vec<i64>,
    },
    /// A follow-the-sun handoff brief changed (src/handoff): created, edited, signed,
    /// acknowledged, item_acknowledged or escalated (with who the step calls).
    Handoff(crate::handoff::generate::HandoffNotice),
}

/// What walls and panels need to know about an alert change, without a database read.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct AlertNotice {
    pub id: i64,
    /// volume_spike, negative_shift, influencer, crisis_terms, ...
    pub kind: String,
    /// watch, warning or crisis.
    pub severity: String,
    /// open, acknowledged, escalated or resolved.
    pub state: String,
    /// One line for a wall, e.g. "Volume spike on #outage: 412/h vs 60/h expected".
    pub title: String,
    pub topic: Option<String>,
    pub channel: Option<String>,
    /// Event time the alert fired (ms).
    pub fired_at: i64,
    /// Part of a drill: shown with a DRILL mark, never counted as real.
    pub drill: bool,
}

impl Event {
    pub fn name(&self) -> &'static str {
        match self {
            Event::Mentions { .. } => "mentions",
            Event::Heartbeat { .. } => "heartbeat",
            Event::Resync {} => "resync",
            Event::Alert(_) => "alert",
            Event::AlertBackfill(_) => "alert_backfill",
            Event::WallControl(_) => "wall_control",
            Event::Cases { .. } => "cases",
            Event::Handoff(_) => "handoff",
        }
    }
}

impl Event {
    /// Whether other sites on the same database should see it (src/site_relay.rs).
    pub fn crosses_sites(&self) -> bool {
        matches!(
            self,
            Event::Mentions { .. }
                | Event::Alert(_)
                | Event::AlertBackfill(_)
                | Event::Cases { .. }
                | Event::Handoff(_)
        )
    }
}

#[derive(Debug, Clone)]
pub struct Bus {
    tx: broadcast::Sender<Event>,
    /// Set when this process shares its database with other sites: local events that
    /// [`Event::crosses_sites`] also go there.
    outbox: Arc<OnceLock<mpsc::Sender<Event>>>,
}

impl Bus {
    pub fn new(capacity: usize) -> Self {
        let (tx, _) = broadcast::channel(capacity);
        Bus {
            tx,
            outbox: Arc::new(OnceLock::new()),
        }
    }

    pub fn publish(&self, event: Event) {
        if let Some(out) = self.outbox.get() {
            if event.crosses_sites() {
                if let Err(e) = out.try_send(event.clone()) {
                    // The other sites resync on their next event; the loss is logged.
                    tracing::warn!("event not relayed to other sites: {e}");
                }
            }
        }
        // No subscriber is fine: nobody is watching.
        let _ = self.tx.send(event);
    }

    /// An event that came from another site: shown here, never relayed back.
    pub fn publish_remote(&self, event: Event) {
        let _ = self.tx.send(event);
    }

    /// Starts relaying; returns the receiving end, `None` if a relay is already attached.
    pub fn attach_outbox(&self, capacity: usize) -> Option<mpsc::Receiver<Event>> {
        let (tx, rx) = mpsc::channel(capacity);
        self.outbox.set(tx).ok().map(|_| rx)
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.tx.subscribe()
    }
}

impl Default for Bus {
    fn default() -> Self {
        Bus::new(1024)
    }
}
